//! Cost of the conditional samplers at one scale of a 64² field (32 × 32 coarse sites, radius-2
//! windows, db2): one sweep of single-site Langevin moves against one global MALA step and one
//! full energy-and-gradient evaluation. `cargo bench -p wcrg-rg`.

use criterion::{Criterion, criterion_group, criterion_main};
use ndarray::{ArrayD, IxDyn};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use wcrg_core::{Energy, Sampler, Workspace};
use wcrg_energy_models::features::Basis;
use wcrg_rg::{
    ConditionalEnergy, ConditionalSpec, Conditioned, Coupling, Couplings, LocalMala, Potential,
};
use wcrg_samplers::Mala;

/// Random couplings (diagonal 1.2) over a radius-2 window and a quartic potential.
fn model(n: usize) -> ConditionalEnergy {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut list = Vec::new();
    for c in 0..4 {
        for d in c..4 {
            if c == 3 && d == 3 {
                continue;
            }
            for sy in -2isize..=2 {
                for sx in -2isize..=2 {
                    let theta = if c == d && sy == 0 && sx == 0 {
                        1.2
                    } else {
                        0.08 * (rng.random::<f64>() - 0.5)
                    };
                    list.push(Coupling {
                        c,
                        d,
                        shift: [sy, sx],
                        theta,
                    });
                }
            }
        }
    }
    ConditionalEnergy::new(ConditionalSpec {
        wavelet: "db2".into(),
        fine: [2 * n, 2 * n],
        gamma: 0.8,
        couplings: Couplings::new(vec![true, true, true, false], [n, n], list).unwrap(),
        potential: Potential::new(Basis::Powers(vec![2, 4]), vec![-0.6, 0.12], [-30.0, 30.0])
            .unwrap(),
    })
    .unwrap()
}

fn bench(c: &mut Criterion) {
    let n = 32;
    let m = model(n);
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let coarse = ArrayD::from_shape_simple_fn(IxDyn(&[n, n]), || rng.random::<f64>() - 0.5);
    let cond = Conditioned::new(&m, coarse.view()).unwrap();
    let x0 = ArrayD::from_shape_simple_fn(IxDyn(&[3, n, n]), || rng.random::<f64>() - 0.5);
    let mut ws = Workspace::new();
    let mut g = c.benchmark_group("conditional 64x64");
    let local = LocalMala::new(cond.clone(), 0.5).unwrap();
    let mut state = local.init(x0.clone(), &mut ws).unwrap();
    g.bench_function("LocalMala sweep", |b| {
        b.iter(|| local.step(&mut state, &mut rng, &mut ws))
    });
    let mala = Mala::new(cond.clone(), 0.05).unwrap();
    let mut state = mala.init(x0.clone(), &mut ws).unwrap();
    g.bench_function("global MALA step", |b| {
        b.iter(|| mala.step(&mut state, &mut rng, &mut ws))
    });
    let mut grad = ArrayD::zeros(IxDyn(&[3, n, n]));
    g.bench_function("energy and gradient", |b| {
        b.iter(|| cond.energy_and_gradient(x0.view(), grad.view_mut(), &mut ws))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
