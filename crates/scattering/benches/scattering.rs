//! Criterion benches of the scattering transforms at the sizes of the kymatio comparison
//! (`benches/scattering_vs_kymatio.py` at the workspace root).

use criterion::{Criterion, criterion_group, criterion_main};
use ndarray::{Array2, Array3};
use std::hint::black_box;
use wcrg_scattering::{Scattering1d, Scattering2d, ScatteringSpectra, SpectraWorkspace};

fn field(b: usize, m: usize, n: usize) -> Array3<f64> {
    Array3::from_shape_fn((b, m, n), |(k, i, j)| {
        ((i as f64 * 0.37 + k as f64).sin() * (j as f64 * 0.21).cos() + (i * j % 7) as f64 * 0.1)
            .tanh()
    })
}

fn bench_2d(c: &mut Criterion) {
    let s = Scattering2d::new((128, 128), 4, 8).expect("valid plan");
    let x = field(16, 128, 128);
    let mut g = c.benchmark_group("scattering2d");
    g.sample_size(10);
    g.bench_function("J4_L8_16x128x128", |b| {
        b.iter(|| black_box(s.forward(x.view()).expect("ok")))
    });
    g.finish();
}

fn bench_1d(c: &mut Criterion) {
    let s = Scattering1d::new(4096, 8, 8).expect("valid plan");
    let x = Array2::from_shape_fn((16, 4096), |(k, i)| {
        ((i as f64 * 0.013 + k as f64).sin() * 3.0).tanh()
    });
    let mut g = c.benchmark_group("scattering1d");
    g.sample_size(10);
    g.bench_function("J8_Q8_16x4096", |b| {
        b.iter(|| black_box(s.forward(x.view()).expect("ok")))
    });
    g.finish();
}

/// One evaluation of the synthesis loss's statistics and their adjoint at the bar's size.
fn bench_spectra(c: &mut Criterion) {
    let sp = ScatteringSpectra::new((128, 128), 5, 4).expect("valid plan");
    let x = field(1, 128, 128);
    let norm = sp.normalization(x.view()).expect("non-constant field");
    let x0 = x.index_axis(ndarray::Axis(0), 0).to_owned();
    let v = vec![1e-3; sp.len()];
    let mut ws = SpectraWorkspace::default();
    let mut grad = Array2::zeros((128, 128));
    let mut g = c.benchmark_group("spectra");
    g.sample_size(10);
    g.bench_function("J5_L4_128x128_values", |b| {
        b.iter(|| black_box(sp.values(x0.view(), &norm, &mut ws)))
    });
    g.bench_function("J5_L4_128x128_values_and_pullback", |b| {
        b.iter(|| {
            sp.pullback(x0.view(), &v, &norm, &mut ws, grad.view_mut());
            black_box(grad[[0, 0]])
        })
    });
    g.finish();
}

criterion_group!(benches, bench_2d, bench_1d, bench_spectra);
criterion_main!(benches);
