//! The FFT-structured Gram matrix equals the dense-Jacobian one; so do the standard errors.

use ndarray::{Array1, Array2, ArrayD, IxDyn};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use wcrg_core::{FeatureLaplacian, Workspace, dense_jacobian};
use wcrg_energy_models::features::{Basis, Concat, QuadraticCouplings, ScalarPotential};
use wcrg_estimators::{ScoreMatching, ScoreStats};

fn normal(shape: &[usize], seed: u64) -> ArrayD<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    ArrayD::from_shape_simple_fn(IxDyn(shape), || StandardNormal.sample(&mut rng))
}

/// Σ_i J_i J_iᵀ / N from dense Jacobians (pullbacks of unit vectors), the oracle.
fn dense_h(f: &dyn FeatureLaplacian, data: &ArrayD<f64>) -> Array2<f64> {
    let mut ws = Workspace::new();
    let k = f.len();
    let mut h = Array2::zeros((k, k));
    for x in data.outer_iter() {
        let j = dense_jacobian(f, x.view(), &mut ws);
        h = h + j.dot(&j.t());
    }
    h / data.shape()[0] as f64
}

fn models(spatial: &[usize]) -> Concat {
    let window = if spatial.len() == 3 { 1 } else { 2 };
    Concat::new(vec![
        Box::new(ScalarPotential::new(spatial, Basis::Powers(vec![2, 3])).unwrap()),
        Box::new(QuadraticCouplings::window(spatial, window).unwrap()),
        Box::new(
            ScalarPotential::new(
                spatial,
                Basis::Bumps {
                    centres: vec![-0.5, 0.5],
                    width: 0.7,
                },
            )
            .unwrap(),
        ),
        Box::new(
            QuadraticCouplings::new(
                spatial,
                vec![
                    vec![0; spatial.len()]
                        .iter()
                        .enumerate()
                        .map(|(a, _)| if a == 0 { 3 } else { 0 })
                        .collect(),
                ],
            )
            .unwrap(),
        ),
    ])
    .unwrap()
}

#[test]
fn structured_h_equals_dense_h() {
    for (spatial, seed) in [
        (vec![13], 1u64),
        (vec![8, 7], 2),
        (vec![6, 8], 3),
        (vec![4, 6, 8], 4),
    ] {
        let f = models(&spatial);
        let mut shape = vec![5];
        shape.extend(&spatial);
        let data = normal(&shape, seed);
        let fast = ScoreStats::from_data(&f, data.view()).unwrap().hessian();
        let slow = dense_h(&f, &data);
        let scale = slow.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let err = (&fast - &slow).iter().fold(0.0f64, |m, v| m.max(v.abs())) / scale;
        assert!(err < 1e-10, "{spatial:?}: relative error {err:e}");
        // Symmetric by construction.
        assert!((&fast - &fast.t()).iter().all(|v| *v == 0.0));
    }
}

#[test]
fn structured_standard_errors_equal_dense_ones() {
    // No linearly dependent features here, so H is well conditioned and no ridge is needed.
    let f = Concat::new(vec![
        Box::new(QuadraticCouplings::window(&[8, 8], 1).unwrap()),
        Box::new(ScalarPotential::new(&[8, 8], Basis::Powers(vec![3, 4])).unwrap()),
    ])
    .unwrap();
    let data = normal(&[40, 8, 8], 5).mapv(|v| v * 0.8);
    let (fit, se) = ScoreMatching::default().fit_data(&f, data.view()).unwrap();
    assert_sandwich_matches_dense(&f, &data, &fit.theta, &se);
}

/// The reported standard errors equal the dense oracle of the sandwich
/// Cov = H⁻¹ V H⁻¹ / N with psi_i = J_i J_iᵀ θ − ΔΦ_i, to 1e-8.
fn assert_sandwich_matches_dense(
    f: &dyn FeatureLaplacian,
    data: &ArrayD<f64>,
    theta: &Array1<f64>,
    se: &Array1<f64>,
) {
    let mut ws = Workspace::new();
    let k = f.len();
    let n = data.shape()[0] as f64;
    let (mut v, mut h) = (Array2::<f64>::zeros((k, k)), Array2::<f64>::zeros((k, k)));
    for x in data.outer_iter() {
        let j = dense_jacobian(f, x.view(), &mut ws);
        let mut lap = Array1::zeros(k);
        f.laplacian_into(x.view(), lap.view_mut(), &mut ws);
        let psi = j.dot(&j.t().dot(theta)) - &lap;
        v = v + psi
            .view()
            .insert_axis(ndarray::Axis(1))
            .dot(&psi.view().insert_axis(ndarray::Axis(0)));
        h = h + j.dot(&j.t());
    }
    let hinv = inverse(&(h / n));
    let cov = hinv.dot(&(v / n)).dot(&hinv) / n;
    for a in 0..k {
        let dense = cov[[a, a]].sqrt();
        assert!(
            (se[a] - dense).abs() <= 1e-8 * dense,
            "feature {a}: {} vs {dense}",
            se[a]
        );
    }
}

/// Inverse of a symmetric positive-definite matrix by Gauss–Jordan (small K).
fn inverse(a: &Array2<f64>) -> Array2<f64> {
    let k = a.nrows();
    let mut m = a.clone();
    let mut inv = Array2::<f64>::eye(k);
    for c in 0..k {
        let p = (c..k)
            .max_by(|&i, &j| m[[i, c]].abs().total_cmp(&m[[j, c]].abs()))
            .unwrap();
        for col in 0..k {
            m.swap([c, col], [p, col]);
            inv.swap([c, col], [p, col]);
        }
        let d = m[[c, c]];
        for col in 0..k {
            m[[c, col]] /= d;
            inv[[c, col]] /= d;
        }
        for r in 0..k {
            if r != c {
                let f = m[[r, c]];
                for col in 0..k {
                    m[[r, col]] -= f * m[[c, col]];
                    inv[[r, col]] -= f * inv[[c, col]];
                }
            }
        }
    }
    inv
}

#[test]
fn structured_h_equals_dense_h_for_channel_couplings() {
    use wcrg_energy_models::features::ChannelCouplings;
    let cases: Vec<(Vec<usize>, Vec<bool>, usize)> = vec![
        (vec![3, 8, 7], vec![true, false, true], 2),
        (vec![4, 6, 6], vec![true, true, true, false], 1),
        (vec![2, 11], vec![true, false], 3),
    ];
    for (k, (shape, free, r)) in cases.into_iter().enumerate() {
        let f = Concat::new(vec![
            Box::new(ChannelCouplings::window(&shape, free, r).unwrap()),
            Box::new(ScalarPotential::new(&shape, Basis::Powers(vec![3, 4])).unwrap()),
        ])
        .unwrap();
        let mut bs = vec![4];
        bs.extend(&shape);
        let data = normal(&bs, 30 + k as u64);
        let fast = ScoreStats::from_data(&f, data.view()).unwrap().hessian();
        let slow = dense_h(&f, &data);
        let scale = slow.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let err = (&fast - &slow).iter().fold(0.0f64, |m, v| m.max(v.abs())) / scale;
        assert!(err < 1e-10, "{shape:?}: relative error {err:e}");
    }
}

#[test]
fn channel_coupling_standard_errors_equal_dense_ones() {
    use wcrg_energy_models::features::ChannelCouplings;
    let f = ChannelCouplings::window(&[2, 6, 6], vec![true, false], 1).unwrap();
    let data = normal(&[60, 2, 6, 6], 41);
    let (fit, se) = ScoreMatching::default().fit_data(&f, data.view()).unwrap();
    assert_sandwich_matches_dense(&f, &data, &fit.theta, &se);
}
