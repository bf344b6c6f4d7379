//! Criterion benches of the multilevel periodic DWT in 1-D, 2-D and 3-D, single-threaded and on
//! all threads, plus the RG split of a batch.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use ndarray::{ArrayD, IxDyn};
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
use std::hint::black_box;
use wcrg_core::{Transform, Workspace};
use wcrg_wavelets::{Dwt, RgSplit, Wavelet};

fn field(shape: &[usize], seed: u64) -> ArrayD<f64> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    ArrayD::from_shape_simple_fn(IxDyn(shape), || StandardNormal.sample(&mut rng))
}

fn bench_dwt(c: &mut Criterion) {
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let cases: &[(&str, &[usize], usize)] = &[
        ("db4", &[1 << 16], 3),
        ("db4", &[256, 256], 3),
        ("db4", &[1024, 1024], 3),
        ("db8", &[1024, 1024], 3),
        ("db4", &[64, 64, 64], 3),
    ];
    let mut g = c.benchmark_group("wavedec");
    g.sample_size(20);
    for &(name, shape, levels) in cases {
        let plan = Dwt::new(&Wavelet::new(name).unwrap(), shape, levels).unwrap();
        let x = field(shape, 1);
        let id = format!("{name}/{shape:?}/L{levels}");
        for (threads, pool) in [("1thread", Some(&one)), ("all", None)] {
            let mut y = x.clone();
            let mut ws = Workspace::new();
            let mut run = |inverse: bool| {
                let mut f = || {
                    if inverse {
                        plan.inverse_inplace(y.view_mut(), &mut ws)
                    } else {
                        plan.forward_inplace(y.view_mut(), &mut ws)
                    }
                };
                match pool {
                    Some(p) => p.install(f),
                    None => f(),
                }
            };
            g.bench_function(BenchmarkId::new(format!("forward/{threads}"), &id), |b| {
                b.iter(|| run(false))
            });
            g.bench_function(BenchmarkId::new(format!("inverse/{threads}"), &id), |b| {
                b.iter(|| run(true))
            });
        }
    }
    g.finish();

    let split = RgSplit::new(&Wavelet::new("db4").unwrap(), &[64, 64], 1.0).unwrap();
    let batch = field(&[256, 64, 64], 2);
    c.bench_function("rg_split/db4/256x64x64", |b| {
        b.iter(|| black_box(split.split_batch(batch.view()).unwrap()))
    });
}

criterion_group!(benches, bench_dwt);
criterion_main!(benches);
