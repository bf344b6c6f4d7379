//! Criterion benches: score-matching statistics and solve for a 115-parameter model (13×13 window
//! of shift couplings = 85 features, plus 30 Gaussian bumps) on 64² fields, and for a
//! 1299-parameter conditional model on 1000 fields of 4×64².

use criterion::{Criterion, criterion_group, criterion_main};
use ndarray::{ArrayD, IxDyn};
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
use std::hint::black_box;
use wcrg_energy_models::features::{
    Basis, ChannelCouplings, Concat, QuadraticCouplings, ScalarPotential,
};
use wcrg_estimators::{ScoreMatching, ScoreStats};

fn bench(c: &mut Criterion) {
    let shape = [64, 64];
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    let n = 100;
    let data =
        ArrayD::from_shape_simple_fn(IxDyn(&[n, 64, 64]), || StandardNormal.sample(&mut rng));
    let centres: Vec<f64> = (0..30).map(|i| -3.0 + 6.0 * i as f64 / 29.0).collect();
    let f = Concat::new(vec![
        Box::new(QuadraticCouplings::window(&shape, 6).unwrap()),
        Box::new(
            ScalarPotential::new(
                &shape,
                Basis::Bumps {
                    centres,
                    width: 0.25,
                },
            )
            .unwrap(),
        ),
    ])
    .unwrap();
    let mut g = c.benchmark_group("score_matching");
    g.sample_size(10);
    g.bench_function("stats+solve/115 params/100 x 64²", |b| {
        b.iter(|| {
            let stats = ScoreStats::from_data(&f, data.view()).unwrap();
            black_box(ScoreMatching::default().ridge(1e-10).fit(&stats).unwrap())
        })
    });
    g.finish();

    // The size of an RG conditional model: 3 free detail channels + 1 conditioning channel of
    // 64², 13×13 window (1269 couplings) + 30 bumps = 1299 parameters, on 1000 fields
    // (one iteration takes about half a minute on 2 cores).
    let n = 1000;
    let data =
        ArrayD::from_shape_simple_fn(IxDyn(&[n, 4, 64, 64]), || StandardNormal.sample(&mut rng));
    let centres: Vec<f64> = (0..30).map(|i| -3.0 + 6.0 * i as f64 / 29.0).collect();
    let f = Concat::new(vec![
        Box::new(ChannelCouplings::window(&[4, 64, 64], vec![true, true, true, false], 6).unwrap()),
        Box::new(
            ScalarPotential::new(
                &[4, 64, 64],
                Basis::Bumps {
                    centres,
                    width: 0.25,
                },
            )
            .unwrap(),
        ),
    ])
    .unwrap();
    let mut g = c.benchmark_group("score_matching_conditional");
    g.sample_size(10);
    g.bench_function("stats+solve/1299 params/1000 x 4x64²", |b| {
        b.iter(|| {
            let stats = ScoreStats::from_data(&f, data.view()).unwrap();
            black_box(ScoreMatching::default().ridge(1e-10).fit(&stats).unwrap())
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
