//! Cost of the conditional samplers at one scale of a 64² field (32 × 32 coarse sites, radius-2
//! windows, db2): one sweep of single-site Langevin moves against one global MALA step and one
//! full energy-and-gradient evaluation; and the coarsest field's energy (couplings of every
//! shift) on 8 × 8 and 16 × 16 fields, the inner loop of its maximum-likelihood refinement.
//! `cargo bench -p wcrg-rg`.

use criterion::{Criterion, criterion_group, criterion_main};
use ndarray::{ArrayD, IxDyn};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use wcrg_core::{Energy, Sampler, Workspace};
use wcrg_rg::{ConditionalEnergy, Conditioned, Coupling, Couplings, FieldEnergy, LocalMala};
use wcrg_samplers::Mala;

#[path = "../tests/support/conditional.rs"]
mod conditional;

/// Random couplings (diagonal 1.2) over a radius-2 window and a quartic potential.
fn model(n: usize) -> ConditionalEnergy {
    conditional::model(n, 1.2, [-0.6, 0.12], 1)
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

    let mut g = c.benchmark_group("coarsest field, all shifts");
    for side in [8usize, 16] {
        let couplings: Vec<Coupling> = (0..side as isize)
            .flat_map(|a| (0..side as isize).map(move |b| [a, b]))
            .map(|shift| Coupling {
                c: 0,
                d: 0,
                shift,
                theta: if shift == [0, 0] { 4.0 } else { 0.01 },
            })
            .collect();
        let e = FieldEnergy::new(
            Couplings::new(vec![true], [side, side], couplings).unwrap(),
            None,
        )
        .unwrap();
        let x = ArrayD::from_shape_simple_fn(IxDyn(&[side, side]), || rng.random::<f64>() - 0.5);
        let mut grad = ArrayD::zeros(IxDyn(&[side, side]));
        g.bench_function(format!("energy and gradient {side}x{side}"), |b| {
            b.iter(|| e.energy_and_gradient(x.view(), grad.view_mut(), &mut ws))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
