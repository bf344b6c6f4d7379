//! Reductions and scattering features: linearity and adjointness, rotation invariance of the
//! isotropic reduction, harmonic 0 = isotropic average, keep-by-SNR, the `Features` pullback
//! through a reduction vs central differences, and the 1-D spectra.

use ndarray::{Array1, Array2, Array3, Axis};
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
use wcrg_core::{Features, Workspace};
use wcrg_scattering::spectra::Kind;
use wcrg_scattering::{Reduction, ScatteringFeatures, ScatteringSpectra, SpectraWorkspace};

fn field(n: usize, seed: u64) -> Array2<f64> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let g: Array2<f64> = Array2::from_shape_simple_fn((n, n), || StandardNormal.sample(&mut rng));
    // Smooth and exponentiate: anisotropic, non-Gaussian.
    Array2::from_shape_fn((n, n), |(i, j)| {
        let s: f64 = (0..3)
            .map(|d| g[[(i + d) % n, j]] + 0.5 * g[[i, (j + d) % n]])
            .sum();
        (0.4 * s).exp()
    })
}

fn random_vec(len: usize, seed: u64) -> Array1<f64> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    Array1::from_shape_simple_fn(len, || StandardNormal.sample(&mut rng))
}

/// Scattering features on `n × n` fields, J = 2, 4 angles, reduced to Fourier harmonics up to
/// 1, normalised on one field, which is returned with them.
fn features(n: usize) -> (ScatteringFeatures, Array2<f64>) {
    let sp = ScatteringSpectra::new((n, n), 2, 4).unwrap();
    let x = field(n, 5);
    let norm = sp.normalization(x.view().insert_axis(Axis(0))).unwrap();
    let red = Reduction::fourier_angles(&sp, Some(1));
    (ScatteringFeatures::new(sp, norm, red).unwrap(), x)
}

#[test]
fn reductions_are_linear_maps_with_their_adjoint() {
    let sp = ScatteringSpectra::new((16, 16), 2, 4).unwrap();
    for red in [
        Reduction::identity(&sp),
        Reduction::isotropic(&sp),
        Reduction::fourier_angles(&sp, Some(1)),
        Reduction::isotropic(&sp).cosine_scales(2),
    ] {
        let u = random_vec(sp.len(), 1);
        let v = random_vec(red.len(), 2);
        let lhs: f64 = red.apply(u.view()).dot(&v);
        let rhs: f64 = Array1::from(red.pull(v.view())).dot(&u);
        assert!(
            (lhs - rhs).abs() < 1e-10 * (1.0 + lhs.abs()),
            "{lhs} vs {rhs}"
        );
        assert_eq!(red.rows().len(), red.len());
    }
    assert_eq!(Reduction::identity(&sp).len(), sp.len());
}

#[test]
fn isotropic_statistics_are_invariant_under_a_quarter_turn() {
    let n = 32;
    let sp = ScatteringSpectra::new((n, n), 3, 4).unwrap();
    let x = field(n, 3);
    // Rotation by 90 degrees on the periodic grid: (i, j) -> (j, -i).
    let r = Array2::from_shape_fn((n, n), |(i, j)| x[[(n - j) % n, i]]);
    // The normalisation must not prefer an orientation either.
    let norm = sp
        .normalization(x.view().insert_axis(Axis(0)))
        .unwrap()
        .isotropized(4);
    let mut ws = SpectraWorkspace::default();
    let a = sp.values(x.view(), &norm, &mut ws);
    let b = sp.values(r.view(), &norm, &mut ws);
    let iso = Reduction::isotropic(&sp);
    let (ia, ib) = (iso.apply(a.view()), iso.apply(b.view()));
    let mut compared = 0;
    for (k, row) in iso.rows().iter().enumerate() {
        // S1 and S2 (moduli) are exactly invariant; S3 and S4 map to conjugates for the
        // orientations that a quarter turn sends beyond pi, so compare the real parts.
        if row.name.ends_with(" im") {
            continue;
        }
        assert!(
            (ia[k] - ib[k]).abs() < 1e-9 * (1.0 + ia[k].abs()),
            "{}: {} vs {}",
            row.name,
            ia[k],
            ib[k]
        );
        compared += 1;
    }
    assert!(compared > 20);
    // The full (non-reduced) statistics do change: the field is anisotropic.
    let d = a
        .iter()
        .zip(b.iter())
        .fold(0.0f64, |m, (p, q)| m.max((p - q).abs()));
    assert!(d > 1e-2, "{d}");
}

#[test]
fn harmonic_zero_is_the_isotropic_average() {
    let sp = ScatteringSpectra::new((16, 16), 2, 4).unwrap();
    let u = random_vec(sp.len(), 4);
    let iso = Reduction::isotropic(&sp);
    let four = Reduction::fourier_angles(&sp, Some(0));
    let (vi, vf) = (iso.apply(u.view()), four.apply(u.view()));
    // S3 at harmonic 0 = mean over the angle differences of the isotropic S3.
    for (k, row) in four.rows().iter().enumerate() {
        if row.kind != Kind::S3 {
            continue;
        }
        let prefix = row.name.split(" m=").next().unwrap().to_string();
        let im = row.name.ends_with(" im");
        let members: Vec<f64> = iso
            .rows()
            .iter()
            .enumerate()
            .filter(|(_, r)| {
                r.name.starts_with(&format!("{prefix} dl=")) && r.name.ends_with(" im") == im
            })
            .map(|(i, _)| vi[i])
            .collect();
        assert_eq!(members.len(), 4, "{}", row.name);
        let mean = members.iter().sum::<f64>() / 4.0;
        assert!((vf[k] - mean).abs() < 1e-12, "{}", row.name);
    }
}

#[test]
fn keep_by_snr_drops_noise_coefficients() {
    let n = 32;
    let sp = ScatteringSpectra::new((n, n), 2, 4).unwrap();
    // Mildly non-Gaussian fields: log of the heavy-tailed test field.
    let fields =
        Array3::from_shape_fn((12, n, n), |(b, i, j)| field(n, 10 + b as u64)[[i, j]].ln());
    let norm = sp.normalization(fields.view()).unwrap();
    let stats = sp.compute(fields.view(), &norm).unwrap();
    let iso = Reduction::isotropic(&sp);
    let kept = iso.keep_by_snr(stats.view(), 2.0).unwrap();
    assert!(
        kept.len() < iso.len() && kept.len() > 10,
        "{} of {}",
        kept.len(),
        iso.len()
    );
    // Imaginary parts of S4 with lambda_1 = lambda_2 are exactly zero: never kept.
    assert!(!kept.rows().iter().any(|r| r.name.starts_with("S4")
        && r.name.contains("dl=[0, 0]")
        && r.name.ends_with(" im")));
    // Every S2 row (mean 1 by normalisation, small spread) is kept.
    assert!(
        kept.rows().iter().filter(|r| r.kind == Kind::S2).count()
            == iso.rows().iter().filter(|r| r.kind == Kind::S2).count()
    );
    assert!(
        iso.keep_by_snr(stats.slice(ndarray::s![..1, ..]), 2.0)
            .is_err()
    );
    assert!(
        iso.keep_by_snr(stats.slice(ndarray::s![.., ..3]), 2.0)
            .is_err()
    );
}

#[test]
fn features_pullback_through_a_reduction_matches_central_differences() {
    let n = 16;
    let (feats, x) = features(n);
    assert_eq!(feats.field_shape(), &[n, n]);
    assert_eq!(feats.names().len(), feats.len());
    let v = random_vec(feats.len(), 6);
    let mut ws = Workspace::new();
    let mut grad = Array2::zeros((n, n));
    feats.pullback_into(
        x.view().into_dyn(),
        v.view(),
        grad.view_mut().into_dyn(),
        &mut ws,
    );
    let f = |y: &Array2<f64>, ws: &mut Workspace| {
        let mut out = Array1::zeros(feats.len());
        feats.values_into(y.view().into_dyn(), out.view_mut(), ws);
        out.dot(&v)
    };
    let h = 1e-5;
    let scale = grad.iter().fold(0.0f64, |a, g| a.max(g.abs()));
    for i in (0..n).step_by(3) {
        for j in (0..n).step_by(2) {
            let mut p = x.clone();
            p[[i, j]] += h;
            let mut m = x.clone();
            m[[i, j]] -= h;
            let fd = (f(&p, &mut ws) - f(&m, &mut ws)) / (2.0 * h);
            assert!(
                (fd - grad[[i, j]]).abs() < 1e-6 * scale,
                "({i}, {j}): {fd} vs {}",
                grad[[i, j]]
            );
        }
    }
    // A reduction built for other statistics is refused.
    let other = ScatteringSpectra::new((n, n), 3, 4).unwrap();
    let norm2 = other.normalization(x.view().insert_axis(Axis(0))).unwrap();
    assert!(ScatteringFeatures::new(other, norm2, Reduction::isotropic(feats.spectra())).is_err());
}

#[test]
fn spectra_1d_pullback_and_power() {
    let n = 128;
    let sp = ScatteringSpectra::new_1d(n, 4).unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(8);
    let steps: Vec<f64> = (0..n).map(|_| StandardNormal.sample(&mut rng)).collect();
    // A periodic signal with jumps.
    let x = Array2::from_shape_fn((1, n), |(_, t)| {
        steps[t] + if (t / 16) % 2 == 0 { 1.5 } else { -1.5 }
    });
    let norm = sp.normalization(x.view().insert_axis(Axis(0))).unwrap();
    let mut ws = SpectraWorkspace::default();
    let phi = sp.values(x.view(), &norm, &mut ws);
    // S2 normalised by itself is 1; the l1 of each band's modulus is below its l2 (Jensen).
    for (k, c) in sp.coefficients().iter().enumerate() {
        if c.kind == Kind::S2 {
            assert!((phi[k] - 1.0).abs() < 1e-12);
        }
        if c.kind == Kind::S1 {
            assert!(phi[k] > 0.0 && phi[k] <= 1.0 + 1e-12);
        }
    }
    let v = random_vec(sp.len(), 9);
    let mut grad = Array2::zeros((1, n));
    sp.pullback(
        x.view(),
        v.as_slice().unwrap(),
        &norm,
        &mut ws,
        grad.view_mut(),
    );
    let h = 1e-5;
    let scale = grad.iter().fold(0.0f64, |a, g| a.max(g.abs()));
    for t in (0..n).step_by(7) {
        let mut p = x.clone();
        p[[0, t]] += h;
        let mut m = x.clone();
        m[[0, t]] -= h;
        let fp = sp.values(p.view(), &norm, &mut ws).dot(&v);
        let fm = sp.values(m.view(), &norm, &mut ws).dot(&v);
        let fd = (fp - fm) / (2.0 * h);
        assert!(
            (fd - grad[[0, t]]).abs() < 1e-6 * scale,
            "t = {t}: {fd} vs {}",
            grad[[0, t]]
        );
    }
    assert!(ScatteringSpectra::new_1d(100, 4).is_err());
    assert!(ScatteringSpectra::new_1d(128, 0).is_err());
}

/// A scattering-spectra energy U(x) = theta . R Phi(x) as a `LinearEnergy`: its gradient is the
/// features' pullback of theta, checked against central differences of the energy.
#[test]
fn scattering_features_make_a_linear_energy() {
    use wcrg_core::Energy;
    use wcrg_energy_models::LinearEnergy;
    let n = 16;
    let sp = ScatteringSpectra::new((n, n), 2, 4).unwrap();
    let x = field(n, 12);
    let norm = sp
        .normalization(x.view().insert_axis(Axis(0)))
        .unwrap()
        .isotropized(4);
    let feats = ScatteringFeatures::new(sp.clone(), norm, Reduction::isotropic(&sp)).unwrap();
    let theta = random_vec(feats.len(), 13);
    let energy = LinearEnergy::new(feats, theta).unwrap();
    assert_eq!(energy.shape(), &[n, n]);
    let mut ws = Workspace::new();
    let mut grad = ndarray::ArrayD::zeros(ndarray::IxDyn(&[n, n]));
    let u = energy.energy_and_gradient(x.view().into_dyn(), grad.view_mut(), &mut ws);
    assert!((u - energy.energy(x.view().into_dyn(), &mut ws)).abs() < 1e-12 * (1.0 + u.abs()));
    let h = 1e-5;
    let scale = grad.iter().fold(0.0f64, |a, g| a.max(g.abs()));
    for (i, j) in [(0, 0), (3, 7), (15, 2), (8, 8)] {
        let mut p = x.clone();
        p[[i, j]] += h;
        let mut m = x.clone();
        m[[i, j]] -= h;
        let fd = (energy.energy(p.view().into_dyn(), &mut ws)
            - energy.energy(m.view().into_dyn(), &mut ws))
            / (2.0 * h);
        assert!(
            (fd - grad[[i, j]]).abs() < 1e-6 * scale,
            "({i}, {j}): {fd} vs {}",
            grad[[i, j]]
        );
    }
}

/// A field of another shape with as many values (8 × 32 for a 16 × 16 model) used to be
/// reshaped into the model's shape and its statistics computed as if it were one. Now each
/// wrong buffer is a panic naming the expected and the actual shape (the hot-path contract of
/// `wcrg_core`), as is an output or weight vector of the wrong length.
#[test]
fn features_name_both_shapes_on_a_wrong_buffer() {
    use wcrg_core::validate::assert_panics_naming_shapes as assert_names;
    let n = 16;
    let (feats, x) = features(n);
    let k = feats.len();
    let mut ws = Workspace::new();
    let wrong = Array2::<f64>::ones((8, 32));
    let (v, long_v) = (random_vec(k, 1), random_vec(k + 1, 2));
    let (mut out, mut long) = (Array1::zeros(k), Array1::zeros(k + 1));
    let (mut g, mut g_bad) = (Array2::zeros((n, n)), Array2::zeros((8, 32)));
    let (xd, wd) = (x.view().into_dyn(), wrong.view().into_dyn());
    assert_names("values", &[n, n], &[8, 32], || {
        feats.values_into(wd.clone(), out.view_mut(), &mut ws)
    });
    assert_names("pullback", &[n, n], &[8, 32], || {
        feats.pullback_into(wd.clone(), v.view(), g.view_mut().into_dyn(), &mut ws)
    });
    assert_names("pullback output", &[n, n], &[8, 32], || {
        feats.pullback_into(xd.clone(), v.view(), g_bad.view_mut().into_dyn(), &mut ws)
    });
    assert_names("values output", &[k], &[k + 1], || {
        feats.values_into(xd.clone(), long.view_mut(), &mut ws)
    });
    assert_names("pullback weights", &[k], &[k + 1], || {
        feats.pullback_into(xd.clone(), long_v.view(), g.view_mut().into_dyn(), &mut ws)
    });
}
