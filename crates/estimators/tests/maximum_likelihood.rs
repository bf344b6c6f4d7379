//! Maximum likelihood agrees with score matching and with the truth; its diagnostics and errors.

use ndarray::{Array1, ArrayD, IxDyn};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use wcrg_energy_models::GaussianField;
use wcrg_energy_models::features::{Basis, Concat, QuadraticCouplings, ScalarPotential};
use wcrg_estimators::{MaximumLikelihood, ScoreMatching};
use wcrg_samplers::Phi4GroundTruth;

fn compare(name: &str, ml: &Array1<f64>, sm: &Array1<f64>, se: &Array1<f64>, exact: &[f64]) {
    for k in 0..exact.len() {
        eprintln!(
            "{name} θ[{k}]: ML {:.4}, SM {:.4} ± {:.4}, exact {}",
            ml[k], sm[k], se[k], exact[k]
        );
        // ML and SM are both consistent: they differ by about one standard error.
        assert!(
            (ml[k] - sm[k]).abs() < 3.0 * se[k],
            "{name} θ[{k}]: ML {} vs SM {} ± {}",
            ml[k],
            sm[k],
            se[k]
        );
        assert!(
            (ml[k] - exact[k]).abs() < 4.0 * se[k],
            "{name} θ[{k}]: ML {} vs exact {}",
            ml[k],
            exact[k]
        );
    }
}

#[test]
fn ml_agrees_with_score_matching_on_a_gaussian_field() {
    let (m2, beta) = (1.0, 0.5);
    let g = GaussianField::free_field(&[8, 8], m2, beta).unwrap();
    let data = g.sample_batch(500, &mut ChaCha8Rng::seed_from_u64(1));
    let phi = QuadraticCouplings::new(&[8, 8], vec![vec![0, 0], vec![0, 1], vec![1, 0]]).unwrap();
    let (sm, se) = ScoreMatching::default()
        .fit_data(&phi, data.view())
        .unwrap();
    let ml = MaximumLikelihood::default()
        .seed(3)
        .fit(&phi, data.view(), sm.theta.clone())
        .unwrap();
    compare(
        "Gaussian",
        &ml.theta,
        &sm.theta,
        &se,
        &[m2 + 4.0 * beta, -2.0 * beta, -2.0 * beta],
    );
    assert!(
        ml.gradient_z.iter().all(|z| z.abs() < 4.0),
        "moments not matched: {}",
        ml.gradient_z
    );
    assert_eq!(ml.history.len(), 300);
}

#[test]
#[ignore = "slow: run in release by CI"]
fn ml_agrees_with_score_matching_on_phi4() {
    let (l, beta) = (16, 0.8);
    let truth = Phi4GroundTruth::new(l, beta)
        .samples(1000)
        .seed(5)
        .generate(None)
        .unwrap();
    let phi = Concat::new(vec![
        Box::new(
            QuadraticCouplings::new(&[l, l], vec![vec![0, 0], vec![1, 0], vec![0, 1]]).unwrap(),
        ),
        Box::new(ScalarPotential::new(&[l, l], Basis::Powers(vec![4])).unwrap()),
    ])
    .unwrap();
    let (sm, se) = ScoreMatching::default()
        .fit_data(&phi, truth.samples.view())
        .unwrap();
    let ml = MaximumLikelihood::default()
        .iterations(600, 200)
        .chains(32, 10)
        .learning_rate(0.005)
        .seed(6)
        .fit(&phi, truth.samples.view(), sm.theta.clone())
        .unwrap();
    compare(
        "phi4",
        &ml.theta,
        &sm.theta,
        &se,
        &[4.0 * beta - 4.0, -2.0 * beta, -2.0 * beta, 1.0],
    );
}

#[test]
fn ml_rejects_bad_settings_and_data() {
    let phi = QuadraticCouplings::new(&[4, 4], vec![vec![0, 0]]).unwrap();
    let data = ArrayD::from_elem(IxDyn(&[5, 4, 4]), 0.3);
    let t = Array1::from(vec![1.0]);
    assert!(
        MaximumLikelihood::default()
            .iterations(0, 0)
            .fit(&phi, data.view(), t.clone())
            .is_err()
    );
    assert!(
        MaximumLikelihood::default()
            .iterations(10, 20)
            .fit(&phi, data.view(), t.clone())
            .is_err()
    );
    assert!(
        MaximumLikelihood::default()
            .learning_rate(-1.0)
            .fit(&phi, data.view(), t.clone())
            .is_err()
    );
    assert!(
        MaximumLikelihood::default()
            .fit(&phi, data.view(), Array1::from(vec![1.0, 2.0]))
            .is_err()
    );
    assert!(
        MaximumLikelihood::default()
            .fit(&phi, data.view(), Array1::from(vec![f64::NAN]))
            .is_err()
    );
    assert!(
        MaximumLikelihood::default()
            .fit(&phi, ArrayD::zeros(IxDyn(&[0, 4, 4])).view(), t.clone())
            .is_err()
    );
    let mut nan = data.clone();
    nan[[0, 0, 0]] = f64::NAN;
    assert!(
        MaximumLikelihood::default()
            .fit(&phi, nan.view(), t)
            .is_err()
    );
}
