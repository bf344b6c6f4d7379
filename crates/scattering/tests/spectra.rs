//! Scattering spectra: pullback vs central differences, oracles for S2 (power spectrum in the
//! band) and S3/S4 (direct spatial averages), normalisation, errors.

use ndarray::{Array2, Array3, Axis};
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
use rustfft::num_complex::Complex64;
use wcrg_scattering::spectra::{Kind, ScatteringSpectra, SpectraWorkspace};

fn noise(shape: (usize, usize, usize), seed: u64) -> Array3<f64> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    Array3::from_shape_simple_fn(shape, || StandardNormal.sample(&mut rng))
}

/// A non-Gaussian field: exp of a smoothed Gaussian field.
fn lognormal(n: usize, seed: u64) -> Array3<f64> {
    let g = noise((1, n, n), seed);
    let mut s = Array3::zeros((1, n, n));
    for i in 0..n {
        for j in 0..n {
            let mut acc = 0.0;
            for di in 0..3 {
                for dj in 0..3 {
                    acc += g[[0, (i + di) % n, (j + dj) % n]];
                }
            }
            s[[0, i, j]] = (0.4 * acc).exp();
        }
    }
    s
}

#[test]
fn pullback_matches_central_differences() {
    let n = 16;
    let sp = ScatteringSpectra::new((n, n), 3, 4).unwrap();
    let x = lognormal(n, 1);
    let norm = sp.normalization(x.view()).unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2);
    let v: Vec<f64> = (0..sp.len())
        .map(|_| StandardNormal.sample(&mut rng))
        .collect();
    let x0 = x.index_axis(Axis(0), 0).to_owned();
    let mut ws = SpectraWorkspace::default();
    let mut grad = Array2::zeros((n, n));
    sp.pullback(x0.view(), &v, &norm, &mut ws, grad.view_mut());
    let f = |y: &Array2<f64>, ws: &mut SpectraWorkspace| -> f64 {
        sp.values(y.view(), &norm, ws)
            .iter()
            .zip(&v)
            .map(|(a, b)| a * b)
            .sum()
    };
    let h = 1e-5;
    let scale = grad.iter().fold(0.0f64, |a, g| a.max(g.abs()));
    let mut worst = 0.0f64;
    for i in 0..n {
        for j in 0..n {
            let mut p = x0.clone();
            p[[i, j]] += h;
            let mut m = x0.clone();
            m[[i, j]] -= h;
            let fd = (f(&p, &mut ws) - f(&m, &mut ws)) / (2.0 * h);
            worst = worst.max((fd - grad[[i, j]]).abs());
        }
    }
    assert!(
        worst < 1e-6 * scale,
        "max |fd - adjoint| = {worst:.3e} (scale {scale:.3e})"
    );
}

/// Direct spatial oracles: W = x * psi by the DFT of the filter (dense), then averages.
#[test]
fn statistics_match_direct_spatial_averages() {
    let n = 16;
    let (jn, ln) = (2, 3);
    let sp = ScatteringSpectra::new((n, n), jn, ln).unwrap();
    let x = lognormal(n, 3);
    let norm = sp.normalization(x.view()).unwrap();
    let mut ws = SpectraWorkspace::default();
    let phi = sp.values(x.index_axis(Axis(0), 0), &norm, &mut ws);
    let bank = wcrg_scattering::filters::MorletBank2d::kymatio_full(n, n, jn, ln);
    // Dense DFT helpers.
    let dft = |a: &Vec<Complex64>, sign: f64| -> Vec<Complex64> {
        let mut out = vec![Complex64::new(0.0, 0.0); n * n];
        for k1 in 0..n {
            for k2 in 0..n {
                let mut acc = Complex64::new(0.0, 0.0);
                for u1 in 0..n {
                    for u2 in 0..n {
                        let ph = sign * 2.0 * std::f64::consts::PI * ((k1 * u1 + k2 * u2) as f64)
                            / n as f64;
                        acc += a[u1 * n + u2] * Complex64::from_polar(1.0, ph);
                    }
                }
                out[k1 * n + k2] = acc;
            }
        }
        out
    };
    let conv = |a: &Vec<Complex64>, f: &Array2<f64>| -> Vec<Complex64> {
        let ah = dft(a, -1.0);
        let prod: Vec<Complex64> = ah.iter().zip(f.iter()).map(|(p, q)| p * q).collect();
        dft(&prod, 1.0).iter().map(|z| z / (n * n) as f64).collect()
    };
    let xc: Vec<Complex64> = x.iter().map(|&v| Complex64::new(v, 0.0)).collect();
    let nb = jn * ln;
    let w: Vec<Vec<Complex64>> = (0..nb).map(|b| conv(&xc, &bank.psi[b].levels[0])).collect();
    let m: Vec<Vec<Complex64>> = w
        .iter()
        .map(|wb| wb.iter().map(|z| Complex64::new(z.norm(), 0.0)).collect())
        .collect();
    let mean = |a: &Vec<Complex64>, b: &Vec<Complex64>| -> Complex64 {
        a.iter()
            .zip(b)
            .map(|(p, q)| p * q.conj())
            .sum::<Complex64>()
            / (n * n) as f64
    };
    let mut checked = [0usize; 4];
    for (idx, c) in sp.coefficients().iter().enumerate() {
        let band = |t: usize| c.j[t] * ln + c.l[t];
        let want = match c.kind {
            Kind::S1 => Complex64::new(
                m[band(0)].iter().map(|z| z.re).sum::<f64>()
                    / (n * n) as f64
                    / norm.s2[band(0)].sqrt(),
                0.0,
            ),
            Kind::S2 => mean(&w[band(0)], &w[band(0)]) / norm.s2[band(0)],
            Kind::S3 => {
                let (a, b) = (band(0), band(1));
                let mb = conv(&m[b], &bank.psi[a].levels[0]);
                mean(&w[a], &mb) / (norm.s2[a] * norm.s2[b]).sqrt()
            }
            Kind::S4 => {
                let (a, b, cc) = (band(0), band(1), band(2));
                let m1 = conv(&m[b], &bank.psi[a].levels[0]);
                let m2 = conv(&m[cc], &bank.psi[a].levels[0]);
                mean(&m1, &m2) / (norm.s2[b] * norm.s2[cc]).sqrt()
            }
            _ => continue,
        };
        let want = if c.imag { want.im } else { want.re };
        assert!(
            (phi[idx] - want).abs() < 1e-10 * (1.0 + want.abs()),
            "{c:?}: {} vs {want}",
            phi[idx]
        );
        checked[match c.kind {
            Kind::S1 => 0,
            Kind::S2 => 1,
            Kind::S3 => 2,
            _ => 3,
        }] += 1;
    }
    assert!(checked.iter().all(|&k| k > 0), "{checked:?}");
    // S2 of the reference is 1 by construction of the normalisation.
    for (idx, c) in sp.coefficients().iter().enumerate() {
        if c.kind == Kind::S2 {
            assert!((phi[idx] - 1.0).abs() < 1e-12);
        }
    }
}

#[test]
fn bad_input_is_a_clear_error() {
    assert!(ScatteringSpectra::new((24, 32), 4, 4).is_err());
    assert!(ScatteringSpectra::new((32, 32), 0, 4).is_err());
    assert!(ScatteringSpectra::new((32, 32), 3, 0).is_err());
    let sp = ScatteringSpectra::new((16, 16), 2, 4).unwrap();
    assert!(sp.normalization(Array3::zeros((0, 16, 16)).view()).is_err());
    assert!(sp.normalization(Array3::zeros((1, 16, 8)).view()).is_err());
    let e = sp
        .normalization(Array3::from_elem((2, 16, 16), 1.0).view())
        .unwrap_err();
    assert!(e.to_string().contains("zero variance"), "{e}");
    let mut x = noise((1, 16, 16), 5);
    x[[0, 2, 2]] = f64::NAN;
    assert!(sp.normalization(x.view()).is_err());
}
