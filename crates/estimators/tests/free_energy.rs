//! Gradient regression: exact on noise-free targets, unbiased under zero-mean noise, mergeable.

use ndarray::{Array1, ArrayD, IxDyn, s};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use wcrg_core::{Features, Workspace};
use wcrg_energy_models::features::{Basis, Concat, QuadraticCouplings, ScalarPotential};
use wcrg_estimators::GradientRegression;

fn normal(shape: &[usize], seed: u64) -> ArrayD<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    ArrayD::from_shape_simple_fn(IxDyn(shape), || StandardNormal.sample(&mut rng))
}

fn features() -> Concat {
    Concat::new(vec![
        Box::new(QuadraticCouplings::window(&[6, 6], 1).unwrap()),
        Box::new(ScalarPotential::new(&[6, 6], Basis::Powers(vec![3, 4])).unwrap()),
    ])
    .unwrap()
}

/// Gradients of θ·Φ at every field, plus `noise` times white noise.
fn targets(f: &Concat, x: &ArrayD<f64>, theta: &Array1<f64>, noise: f64) -> ArrayD<f64> {
    let mut g = ArrayD::zeros(x.raw_dim());
    let eps = normal(x.shape(), 99);
    let mut ws = Workspace::new();
    for ((xi, mut gi), ei) in x.outer_iter().zip(g.outer_iter_mut()).zip(eps.outer_iter()) {
        f.pullback_into(xi, theta.view(), gi.view_mut(), &mut ws);
        gi.zip_mut_with(&ei, |a, &b| *a += noise * b);
    }
    g
}

#[test]
fn exact_targets_are_fitted_exactly_and_noise_averages_out() {
    let f = features();
    let theta = Array1::from(vec![1.3, -0.4, -0.4, 0.1, 0.05, 0.2, 0.7]);
    assert_eq!(f.len(), theta.len());
    let x = normal(&[40, 6, 6], 1);
    let g = targets(&f, &x, &theta, 0.0);
    let (fit, r2) = GradientRegression::from_data(&f, x.view(), g.view())
        .unwrap()
        .fit(0.0)
        .unwrap();
    assert!((&fit - &theta).iter().all(|d| d.abs() < 1e-9), "{fit}");
    assert!((r2 - 1.0).abs() < 1e-9);
    // Zero-mean noise: unbiased, and R² is the share of the targets' power that is not noise.
    let x = normal(&[400, 6, 6], 2);
    let g = targets(&f, &x, &theta, 2.0);
    let (fit, r2) = GradientRegression::from_data(&f, x.view(), g.view())
        .unwrap()
        .fit(0.0)
        .unwrap();
    assert!((&fit - &theta).iter().all(|d| d.abs() < 0.05), "{fit}");
    let noise = &g - &targets(&f, &x, &theta, 0.0);
    let expected =
        1.0 - noise.iter().map(|v| v * v).sum::<f64>() / g.iter().map(|v| v * v).sum::<f64>();
    assert!(
        (r2 - expected).abs() < 0.005 && expected < 0.99,
        "R² {r2} vs {expected}"
    );
}

#[test]
fn regression_statistics_merge_and_reject_bad_input() {
    let f = features();
    let theta = Array1::from(vec![1.0, -0.5, -0.5, 0.0, 0.0, 0.1, 0.3]);
    let x = normal(&[30, 6, 6], 3);
    let g = targets(&f, &x, &theta, 0.5);
    let whole = GradientRegression::from_data(&f, x.view(), g.view()).unwrap();
    let mut a = GradientRegression::from_data(
        &f,
        x.slice(s![..11, .., ..]).into_dyn(),
        g.slice(s![..11, .., ..]).into_dyn(),
    )
    .unwrap();
    let b = GradientRegression::from_data(
        &f,
        x.slice(s![11.., .., ..]).into_dyn(),
        g.slice(s![11.., .., ..]).into_dyn(),
    )
    .unwrap();
    a.merge(&b).unwrap();
    let (ta, _) = a.fit(0.0).unwrap();
    let (tw, _) = whole.fit(0.0).unwrap();
    assert!((&ta - &tw).iter().all(|d| d.abs() < 1e-10));
    assert!(
        GradientRegression::from_data(&f, x.view(), g.slice(s![..3, .., ..]).into_dyn()).is_err()
    );
    let mut bad = g.clone();
    bad[[0, 0, 0]] = f64::INFINITY;
    assert!(GradientRegression::from_data(&f, x.view(), bad.view()).is_err());
    assert!(
        GradientRegression::from_data(
            &f,
            ArrayD::zeros(IxDyn(&[0, 6, 6])).view(),
            ArrayD::zeros(IxDyn(&[0, 6, 6])).view()
        )
        .is_err()
    );
}
