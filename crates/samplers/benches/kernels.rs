//! Criterion benches: checkerboard Metropolis sweeps (site updates per second, 1 and 2 threads),
//! Wolff flips and MALA steps on 2-D φ⁴ at β = 0.922 (β_c).

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ndarray::{ArrayD, IxDyn};
use wcrg_core::rng::Streams;
use wcrg_core::{Sampler, Workspace};
use wcrg_energy_models::Phi4;
use wcrg_samplers::{CheckerboardMetropolis, Mala, Wolff};

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("phi4");
    g.sample_size(20);
    for l in [64usize, 256] {
        let m = Phi4::new(&[l, l], 0.922, 1.0).unwrap();
        let x0 = ArrayD::from_elem(IxDyn(&[l, l]), 0.5);
        let metro = CheckerboardMetropolis::new(&m, 1.0).unwrap();
        g.throughput(Throughput::Elements((l * l) as u64));
        for threads in [1, 2] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let mut ws = Workspace::new();
            let mut s = metro.init(x0.clone(), &mut ws).unwrap();
            let mut rng = Streams::new(0).rng(0);
            g.bench_function(
                BenchmarkId::new(format!("metropolis_sweep/{threads}threads"), l),
                |b| b.iter(|| pool.install(|| metro.step(&mut s, &mut rng, &mut ws))),
            );
        }
        let wolff = Wolff::new(m.clone()).unwrap();
        let mut ws = Workspace::new();
        let mut s = wolff.init(x0.clone(), &mut ws).unwrap();
        let mut rng = Streams::new(0).rng(1);
        g.bench_function(BenchmarkId::new("wolff_flip", l), |b| {
            b.iter(|| wolff.step(&mut s, &mut rng, &mut ws))
        });
        let mala = Mala::new(&m, 0.05).unwrap();
        let mut s = mala.init(x0.clone(), &mut ws).unwrap();
        g.bench_function(BenchmarkId::new("mala_step", l), |b| {
            b.iter(|| mala.step(&mut s, &mut rng, &mut ws))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
