//! Score matching recovers known couplings (Gaussian fields, φ⁴ ground truth), statistics merge
//! exactly, results do not depend on threads, and bad input is an error.

use ndarray::{Array1, ArrayD, Axis, IxDyn, s};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use wcrg_core::{FeatureLaplacian, Workspace};
use wcrg_energy_models::GaussianField;
use wcrg_energy_models::features::{Basis, Concat, QuadraticCouplings, ScalarPotential};
use wcrg_estimators::{ScoreMatching, ScoreStats};
use wcrg_samplers::Phi4GroundTruth;

fn assert_within(name: &str, theta: &Array1<f64>, se: &Array1<f64>, exact: &[f64], z_max: f64) {
    for (k, &e) in exact.iter().enumerate() {
        let z = (theta[k] - e) / se[k];
        eprintln!(
            "{name} θ[{k}] = {:.4} ± {:.4} (exact {e}, z = {z:.2})",
            theta[k], se[k]
        );
        assert!(
            z.abs() < z_max,
            "{name}: θ[{k}] = {} ± {} vs {e} (z = {z})",
            theta[k],
            se[k]
        );
        assert!(
            se[k] < 0.1 * e.abs().max(0.5),
            "{name}: standard error {} too large",
            se[k]
        );
    }
}

#[test]
fn gaussian_field_couplings_are_recovered() {
    // U = (m²/2) Σx² + (β/2) Σ(∇x)²  =  ½θ₀Σx² + Σ_s θ_s ½Σx(u)x(u−s),
    // θ₀ = m² + 4β, θ_(0,1) = θ_(1,0) = −2β, next-nearest θ_(1,±1) = 0.
    let (m2, beta) = (0.6, 0.8);
    let g = GaussianField::free_field(&[12, 12], m2, beta).unwrap();
    let data = g.sample_batch(600, &mut ChaCha8Rng::seed_from_u64(3));
    let phi = QuadraticCouplings::window(&[12, 12], 1).unwrap();
    let names: Vec<Vec<isize>> = phi.shifts().to_vec();
    assert_eq!(
        names,
        vec![vec![0, 0], vec![0, 1], vec![1, 0], vec![1, -1], vec![1, 1]]
    );
    let (fit, se) = ScoreMatching::default()
        .fit_data(&phi, data.view())
        .unwrap();
    assert_within(
        "Gaussian",
        &fit.theta,
        &se,
        &[m2 + 4.0 * beta, -2.0 * beta, -2.0 * beta, 0.0, 0.0],
        3.0,
    );
    assert!(
        fit.condition_number.is_finite()
            && fit.preconditioned_condition_number <= fit.condition_number * 1.0001
    );
    // Held-out loss is close to the training loss and larger than at a wrong theta.
    let test = g.sample_batch(300, &mut ChaCha8Rng::seed_from_u64(4));
    let held = ScoreStats::from_data(&phi, test.view()).unwrap();
    let l = fit.held_out_loss(&held);
    assert!((l - fit.train_loss).abs() < 0.05 * fit.train_loss.abs());
    assert!(held.loss((&fit.theta * 1.2).view()) > l);
}

/// Features {½Σφ², ½Σφφ_e0, ½Σφφ_e1, Σφ⁴} of φ⁴: θ = (4β − 4λ, −2β, −2β, λ).
fn phi4_features(l: usize) -> Concat {
    Concat::new(vec![
        Box::new(
            QuadraticCouplings::new(&[l, l], vec![vec![0, 0], vec![1, 0], vec![0, 1]]).unwrap(),
        ),
        Box::new(ScalarPotential::new(&[l, l], Basis::Powers(vec![4])).unwrap()),
    ])
    .unwrap()
}

fn phi4_recovery(l: usize, beta: f64, n: usize, seed: u64) {
    let truth = Phi4GroundTruth::new(l, beta)
        .samples(n)
        .seed(seed)
        .generate(None)
        .unwrap();
    let (fit, se) = ScoreMatching::default()
        .fit_data(&phi4_features(l), truth.samples.view())
        .unwrap();
    let lambda = 1.0;
    assert_within(
        &format!("phi4 L={l} beta={beta}"),
        &fit.theta,
        &se,
        &[4.0 * beta - 4.0 * lambda, -2.0 * beta, -2.0 * beta, lambda],
        3.0,
    );
}

#[test]
fn phi4_couplings_are_recovered_in_the_disordered_phase() {
    phi4_recovery(16, 0.8, 500, 1);
}

#[test]
#[ignore = "slow: run in release by CI"]
fn phi4_couplings_are_recovered_near_the_critical_point() {
    phi4_recovery(16, 0.92, 1000, 2);
    phi4_recovery(32, 0.8, 1000, 3);
    phi4_recovery(32, 0.92, 1000, 4);
}

#[test]
fn split_statistics_merge_to_one_pass_and_threads_do_not_matter() {
    let g = GaussianField::free_field(&[8, 8], 1.0, 0.5).unwrap();
    let data = g.sample_batch(50, &mut ChaCha8Rng::seed_from_u64(5));
    let phi = phi4_features(8);
    let mut one = ScoreStats::new(phi.len_features());
    let mut ws = Workspace::new();
    data.outer_iter().for_each(|x| one.add(&phi, x, &mut ws));
    let mut a = ScoreStats::from_data(&phi, data.slice(s![..20, .., ..]).into_dyn()).unwrap();
    let b = ScoreStats::from_data(&phi, data.slice(s![20.., .., ..]).into_dyn()).unwrap();
    a.merge(&b).unwrap();
    assert_eq!(a.count(), 50);
    let (ha, hb) = (a.hessian(), one.hessian());
    assert!(
        ha.iter()
            .zip(hb.iter())
            .all(|(x, y)| (x - y).abs() <= 1e-12 * y.abs().max(1.0))
    );
    assert!(
        a.b()
            .iter()
            .zip(one.b().iter())
            .all(|(x, y)| (x - y).abs() <= 1e-12 * y.abs().max(1.0))
    );
    let run = |t| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(t)
            .build()
            .unwrap()
            .install(|| ScoreStats::from_data(&phi, data.view()).unwrap())
    };
    assert_eq!(run(1), run(2));
    assert!(a.merge(&ScoreStats::new(2)).is_err());
}

/// Extension used by the test above.
trait LenFeatures {
    fn len_features(&self) -> usize;
}
impl<F: FeatureLaplacian> LenFeatures for F {
    fn len_features(&self) -> usize {
        self.len()
    }
}

#[test]
fn bad_input_and_singular_systems_are_errors() {
    let phi = QuadraticCouplings::new(&[4, 4], vec![vec![0, 0], vec![1, 0]]).unwrap();
    let empty = ArrayD::<f64>::zeros(IxDyn(&[0, 4, 4]));
    assert!(ScoreStats::from_data(&phi, empty.view()).is_err());
    let mut nan = ArrayD::<f64>::ones(IxDyn(&[3, 4, 4]));
    nan[[1, 2, 2]] = f64::NAN;
    assert!(matches!(
        ScoreStats::from_data(&phi, nan.view()),
        Err(wcrg_core::Error::NonFinite { .. })
    ));
    assert!(ScoreStats::from_data(&phi, ArrayD::<f64>::ones(IxDyn(&[3, 4, 5])).view()).is_err());
    assert!(ScoreMatching::default().fit(&ScoreStats::new(2)).is_err());
    // Two identical features: H is singular; a ridge makes it solvable.
    let twice = Concat::new(vec![
        Box::new(ScalarPotential::new(&[4, 4], Basis::Powers(vec![2])).unwrap()),
        Box::new(QuadraticCouplings::new(&[4, 4], vec![vec![0, 0]]).unwrap()),
    ])
    .unwrap();
    let g = GaussianField::free_field(&[4, 4], 1.0, 0.5).unwrap();
    let data = g.sample_batch(40, &mut ChaCha8Rng::seed_from_u64(6));
    let stats = ScoreStats::from_data(&twice, data.view()).unwrap();
    match ScoreMatching::default().fit(&stats) {
        Err(wcrg_core::Error::Singular { detail, .. }) => {
            assert!(detail.contains("ridge"), "{detail}")
        }
        other => panic!("expected a singular system, got {other:?}"),
    }
    let fit = ScoreMatching::default().ridge(1e-8).fit(&stats).unwrap();
    // Σx² = 2·(½Σx²): only 2θ_pot + θ_quad is identified; the ridge picks a finite solution.
    assert!(fit.theta.iter().all(|t| t.is_finite()));
    assert!(ScoreMatching::default().ridge(-1.0).fit(&stats).is_err());
    // A feature with no gradient on the data (all-zero fields).
    let zeros = ArrayD::<f64>::zeros(IxDyn(&[5, 4, 4]));
    let pot = ScalarPotential::new(&[4, 4], Basis::Powers(vec![4])).unwrap();
    assert!(matches!(
        ScoreMatching::default().fit(&ScoreStats::from_data(&pot, zeros.view()).unwrap()),
        Err(wcrg_core::Error::Singular { .. })
    ));
    let _ = data.index_axis(Axis(0), 0);
}

#[test]
fn conditional_couplings_are_recovered_with_the_conditioning_channel_fixed() {
    use wcrg_energy_models::features::ChannelCouplings;
    // x1 = a·x0 + σ·ε: p(x1 | x0) ∝ exp(−(1/2σ²) Σ (x1 − a x0)²), i.e. in the features
    // ½Σx1² and ½Σx0x1 (shift 0): θ = 1/σ² and −2a/σ²; every other coupling 0.
    let (a, sigma) = (0.7, 0.5);
    let n = 300;
    let x0 = GaussianField::free_field(&[8, 8], 1.0, 1.0)
        .unwrap()
        .sample_batch(n, &mut ChaCha8Rng::seed_from_u64(8));
    let eps = GaussianField::free_field(&[8, 8], 1.0, 0.0)
        .unwrap()
        .sample_batch(n, &mut ChaCha8Rng::seed_from_u64(9));
    let mut data = ArrayD::zeros(IxDyn(&[n, 2, 8, 8]));
    for i in 0..n {
        data.slice_mut(s![i, 1, .., ..])
            .assign(&x0.slice(s![i, .., ..]));
        let x1 = &x0.slice(s![i, .., ..]) * a + &eps.slice(s![i, .., ..]) * sigma;
        data.slice_mut(s![i, 0, .., ..]).assign(&x1);
    }
    // Channel 0 = x1 (free), channel 1 = x0 (conditioning).
    let f = ChannelCouplings::window(&[2, 8, 8], vec![true, false], 1).unwrap();
    let (fit, se) = ScoreMatching::default().fit_data(&f, data.view()).unwrap();
    for (k, (c, d, sh)) in f.features().iter().enumerate() {
        let zero = sh.iter().all(|&v| v == 0);
        let exact = match (c, d, zero) {
            (0, 0, true) => 1.0 / (sigma * sigma),
            (0, 1, true) => -2.0 * a / (sigma * sigma),
            _ => 0.0,
        };
        let z = (fit.theta[k] - exact) / se[k];
        assert!(
            z.abs() < 3.5,
            "({c},{d},{sh:?}): {} ± {} vs {exact}",
            fit.theta[k],
            se[k]
        );
    }
}

#[test]
fn next_nearest_couplings_are_recovered() {
    // K = a − b·(nearest neighbours) − c·(diagonal neighbours): P(k) = 1/(a − 2b(cos k0 + cos k1)
    // − 2c(cos(k0+k1) + cos(k0−k1))); in ½Σx(u)x(u−s): θ₀ = a, θ_e = −2b, θ_diag = −2c.
    let (a, b, c) = (2.5, 0.4, 0.15);
    let l = 12;
    let tau = 2.0 * std::f64::consts::PI / l as f64;
    let p = ArrayD::from_shape_fn(IxDyn(&[l, l]), |ix| {
        let (k0, k1) = (tau * ix[0] as f64, tau * ix[1] as f64);
        1.0 / (a - 2.0 * b * (k0.cos() + k1.cos()) - 2.0 * c * ((k0 + k1).cos() + (k0 - k1).cos()))
    });
    let g = GaussianField::from_spectrum(p.view()).unwrap();
    let data = g.sample_batch(600, &mut ChaCha8Rng::seed_from_u64(12));
    let phi = QuadraticCouplings::window(&[l, l], 1).unwrap();
    // Shifts: (0,0), (0,1), (1,0), (1,-1), (1,1).
    let (fit, se) = ScoreMatching::default()
        .fit_data(&phi, data.view())
        .unwrap();
    assert_within(
        "next-nearest",
        &fit.theta,
        &se,
        &[a, -2.0 * b, -2.0 * b, -2.0 * c, -2.0 * c],
        3.0,
    );
}
