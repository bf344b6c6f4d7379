//! Energies against naive formulas and finite differences; Gaussian fields against exact
//! covariances; every constructor error.

use ndarray::{Array1, ArrayD, ArrayView1, ArrayViewD, ArrayViewMut1, ArrayViewMutD, IxDyn};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use wcrg_core::{Energy, Features, LocalEnergy, Workspace};
use wcrg_energy_models::{GaussianField, LinearEnergy, Phi4, Polynomial};

fn normal(shape: &[usize], seed: u64) -> ArrayD<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    ArrayD::from_shape_simple_fn(IxDyn(shape), || StandardNormal.sample(&mut rng))
}

/// Relative central-difference check of the gradient at every site.
fn check_gradient(e: &dyn Energy, x: &ArrayD<f64>, tol: f64) {
    let mut ws = Workspace::new();
    let mut g = ArrayD::zeros(IxDyn(e.shape()));
    let u = e.energy_and_gradient(x.view(), g.view_mut(), &mut ws);
    assert!((u - e.energy(x.view(), &mut ws)).abs() <= 1e-12 * u.abs().max(1.0));
    let h = 1e-5;
    for i in 0..x.len() {
        let mut xp = x.clone();
        let mut xm = x.clone();
        xp.as_slice_mut().unwrap()[i] += h;
        xm.as_slice_mut().unwrap()[i] -= h;
        let fd = (e.energy(xp.view(), &mut ws) - e.energy(xm.view(), &mut ws)) / (2.0 * h);
        let gi = g.as_slice().unwrap()[i];
        assert!(
            (fd - gi).abs() <= tol * gi.abs().max(1.0),
            "site {i}: fd {fd} vs {gi}"
        );
    }
}

#[test]
fn phi4_energy_matches_the_explicit_2d_sum() {
    let (l, beta, lambda) = (6, 0.7, 1.3);
    let m = Phi4::new(&[l, l], beta, lambda).unwrap();
    for seed in 0..5 {
        let x = normal(&[l, l], seed);
        let mut naive = 0.0;
        for i in 0..l {
            for j in 0..l {
                let p = x[[i, j]];
                naive += 0.5
                    * beta
                    * ((x[[(i + 1) % l, j]] - p).powi(2) + (x[[i, (j + 1) % l]] - p).powi(2));
                naive += lambda * (p * p - 1.0).powi(2);
            }
        }
        let u = m.energy(x.view(), &mut Workspace::new());
        assert!((u - naive).abs() < 1e-12 * naive.abs(), "{u} vs {naive}");
        // A strided view gives the same energy.
        let t = x.t().as_standard_layout().to_owned();
        let tv = t.t();
        assert!(tv.as_slice().is_none());
        assert_eq!(m.energy(tv.into_dyn(), &mut Workspace::new()), u);
    }
}

#[test]
fn phi4_gradients_and_local_changes_in_1d_2d_3d() {
    let general = Polynomial::new(vec![0.3, 0.0, -1.1, 0.0, 0.4, 0.0, 0.05]).unwrap();
    let models = [
        Phi4::new(&[7], 0.9, 1.0).unwrap(),
        Phi4::new(&[4, 6], 0.68, 1.0).unwrap(),
        Phi4::new(&[2, 4], 1.1, 0.5).unwrap(),
        Phi4::with_potential(&[3, 4, 2], 0.4, general).unwrap(),
    ];
    for (k, m) in models.iter().enumerate() {
        for seed in 0..4 {
            let x = normal(m.shape(), 100 * k as u64 + seed);
            check_gradient(m, &x, 1e-7);
            let mut ws = Workspace::new();
            let u0 = m.energy(x.view(), &mut ws);
            for site in [0, x.len() / 2, x.len() - 1] {
                let new = x.as_slice().unwrap()[site] + 0.37 - seed as f64 * 0.2;
                let mut y = x.clone();
                y.as_slice_mut().unwrap()[site] = new;
                let full = m.energy(y.view(), &mut ws) - u0;
                let local = m.local_energy_change(x.view(), site, new);
                assert!(
                    (full - local).abs() < 1e-11 * full.abs().max(1.0),
                    "{full} vs {local}"
                );
                // The samplers' flat form is the same value, bit for bit, as is the trait's
                // provided version (through a wrapper that does not override it).
                let flat = m.local_energy_change_flat(x.as_slice().unwrap(), site, new);
                assert_eq!(flat.to_bits(), local.to_bits());
                let provided =
                    ViewsOnly(m).local_energy_change_flat(x.as_slice().unwrap(), site, new);
                assert_eq!(provided.to_bits(), local.to_bits());
            }
            // A slice of the wrong length is a panic naming the shape, never a read of another
            // lattice's values.
            let short = &x.as_slice().unwrap()[1..];
            for (what, e) in [("flat", m as &dyn LocalEnergy), ("provided", &ViewsOnly(m))] {
                wcrg_core::validate::assert_panics_naming_shapes(
                    what,
                    m.shape(),
                    &[short.len()],
                    || e.local_energy_change_flat(short, 0, 0.5),
                );
            }
        }
    }
}

/// A local energy that implements only the view form of the energy change, so that the trait's
/// provided `local_energy_change_flat` is the one called.
struct ViewsOnly<'a>(&'a Phi4);

impl Energy for ViewsOnly<'_> {
    fn shape(&self) -> &[usize] {
        self.0.shape()
    }
    fn energy(&self, x: ArrayViewD<'_, f64>, ws: &mut Workspace) -> f64 {
        self.0.energy(x, ws)
    }
    fn energy_and_gradient(
        &self,
        x: ArrayViewD<'_, f64>,
        grad: ArrayViewMutD<'_, f64>,
        ws: &mut Workspace,
    ) -> f64 {
        self.0.energy_and_gradient(x, grad, ws)
    }
}

impl LocalEnergy for ViewsOnly<'_> {
    fn local_energy_change(&self, x: ArrayViewD<'_, f64>, site: usize, v: f64) -> f64 {
        self.0.local_energy_change(x, site, v)
    }
}

#[test]
fn phi4_rejects_bad_parameters() {
    assert!(Phi4::new(&[4, 4], f64::NAN, 1.0).is_err());
    assert!(Phi4::new(&[4, 4], -0.1, 1.0).is_err());
    assert!(Phi4::new(&[4, 4], 0.5, 0.0).is_err());
    assert!(Phi4::new(&[4, 4], 0.5, f64::INFINITY).is_err());
    assert!(Phi4::new(&[1, 4], 0.5, 1.0).is_err());
    assert!(Phi4::new(&[2, 2, 2, 2], 0.5, 1.0).is_err());
    let upside_down = Polynomial::new(vec![0.0, 0.0, 1.0, 0.0, -1.0]).unwrap();
    assert!(Phi4::with_potential(&[4], 0.5, upside_down).is_err());
    let odd = Polynomial::new(vec![0.0, 0.0, 0.0, 1.0]).unwrap();
    assert!(Phi4::with_potential(&[4], 0.5, odd).is_err());
}

#[test]
#[should_panic(expected = "expected shape [4, 4], got [4, 5]")]
fn phi4_wrong_shape_panics_with_both_shapes() {
    let m = Phi4::new(&[4, 4], 0.5, 1.0).unwrap();
    m.energy(normal(&[4, 5], 0).view(), &mut Workspace::new());
}

#[test]
fn free_field_energy_is_the_lattice_quadratic_form() {
    let (mass2, beta) = (0.3, 0.8);
    let g = GaussianField::free_field(&[6, 8], mass2, beta).unwrap();
    // The same energy as phi^4 with V = m^2/2 phi^2.
    let quad = Polynomial::new(vec![0.0, 0.0, mass2 / 2.0]).unwrap();
    let p = Phi4::with_potential(&[6, 8], beta, quad).unwrap();
    for seed in 0..4 {
        let x = normal(&[6, 8], seed);
        let (a, b) = (
            g.energy(x.view(), &mut Workspace::new()),
            p.energy(x.view(), &mut Workspace::new()),
        );
        assert!((a - b).abs() < 1e-11 * b, "{a} vs {b}");
        check_gradient(&g, &x, 1e-7);
    }
}

#[test]
fn gaussian_samples_have_the_exact_covariance() {
    let g = GaussianField::free_field(&[8, 8], 0.5, 1.0).unwrap();
    let cov = g.covariance();
    // Exact: C(0,0) = (1/N) sum_k P(k).
    let p = g.spectrum();
    assert!((cov[[0, 0]] - p.sum() / 64.0).abs() < 1e-14);
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let n = 4000;
    let lags = [(0, 0), (0, 1), (1, 1), (0, 3), (4, 4)];
    let mut per_sample = vec![Vec::with_capacity(n); lags.len()];
    for _ in 0..n {
        let x = g.sample(&mut rng);
        for (k, &(a, b)) in lags.iter().enumerate() {
            let mut s = 0.0;
            for i in 0..8 {
                for j in 0..8 {
                    s += x[[i, j]] * x[[(i + a) % 8, (j + b) % 8]];
                }
            }
            per_sample[k].push(s / 64.0);
        }
    }
    for (k, &(a, b)) in lags.iter().enumerate() {
        let v = &per_sample[k];
        let mean = v.iter().sum::<f64>() / n as f64;
        let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        let z = (mean - cov[[a, b]]) / (var / n as f64).sqrt();
        assert!(
            z.abs() < 4.0,
            "lag ({a},{b}): {mean} vs exact {} (z = {z})",
            cov[[a, b]]
        );
    }
}

#[test]
fn gaussian_rejects_bad_spectra() {
    let mut p = ArrayD::from_elem(IxDyn(&[4, 4]), 1.0);
    p[[1, 0]] = 2.0; // P(1,0) != P(3,0)
    assert!(GaussianField::from_spectrum(p.view()).is_err());
    p[[3, 0]] = 2.0;
    assert!(GaussianField::from_spectrum(p.view()).is_ok());
    p[[2, 2]] = 0.0;
    assert!(GaussianField::from_spectrum(p.view()).is_err());
    p[[2, 2]] = f64::NAN;
    assert!(GaussianField::from_spectrum(p.view()).is_err());
    assert!(GaussianField::free_field(&[4], -1.0, 1.0).is_err());
    assert!(GaussianField::free_field(&[4], 1.0, -1.0).is_err());
}

/// Φ(x) = (Σ x², Σ x⁴), a feature map written against the public trait only.
struct Moments {
    shape: Vec<usize>,
}

impl Features for Moments {
    fn field_shape(&self) -> &[usize] {
        &self.shape
    }
    fn len(&self) -> usize {
        2
    }
    fn names(&self) -> Vec<String> {
        vec!["sum x^2".into(), "sum x^4".into()]
    }
    fn values_into(
        &self,
        x: ArrayViewD<'_, f64>,
        mut out: ArrayViewMut1<'_, f64>,
        _: &mut Workspace,
    ) {
        out[0] = x.iter().map(|v| v * v).sum();
        out[1] = x.iter().map(|v| v.powi(4)).sum();
    }
    fn pullback_into(
        &self,
        x: ArrayViewD<'_, f64>,
        v: ArrayView1<'_, f64>,
        mut out: ArrayViewMutD<'_, f64>,
        _: &mut Workspace,
    ) {
        out.zip_mut_with(&x, |o, &xi| *o = 2.0 * v[0] * xi + 4.0 * v[1] * xi.powi(3));
    }
}

#[test]
fn linear_energy_is_theta_dot_phi() {
    let e =
        LinearEnergy::new(Moments { shape: vec![3, 4] }, Array1::from(vec![-2.0, 1.0])).unwrap();
    let x = normal(&[3, 4], 3);
    // Equals the double well with lambda = 1 minus its constant: x^4 - 2x^2.
    let expected: f64 = x.iter().map(|v| v.powi(4) - 2.0 * v * v).sum();
    assert!((e.energy(x.view(), &mut Workspace::new()) - expected).abs() < 1e-12);
    check_gradient(&e, &x, 1e-7);
    assert_eq!(e.named_theta()[1], ("sum x^4".to_string(), 1.0));
    assert!(LinearEnergy::new(Moments { shape: vec![3] }, Array1::from(vec![1.0])).is_err());
    assert!(
        LinearEnergy::new(
            Moments { shape: vec![3] },
            Array1::from(vec![1.0, f64::NAN])
        )
        .is_err()
    );
}
