//! Exact, independent draws from a Gaussian coarsest field.
//!
//! A [`FieldEnergy`] without potentials is $U(x) = \frac12 x^\top K x$ with periodic couplings,
//! so $K$ is a circular convolution, $(Kx)(u) = \sum_v k(u - v)\,x(v)$ with $k = K\delta_0$. The
//! discrete Fourier transform diagonalises it: $\widehat{Kx}(q) = \lambda(q)\,\hat x(q)$ with
//! $\lambda = \hat k$, real because $K$ is symmetric. When every $\lambda(q) > 0$ the law
//! $N(0, K^{-1})$ is the stationary Gaussian field of power spectrum $P = 1/\lambda$, which
//! [`GaussianField`] draws exactly, $x = \mathcal F^{-1}\big(\sqrt P\,\mathcal F\xi\big)$
//! from white noise $\xi$: two FFTs of the field per draw, every draw independent.

use wcrg_core::Workspace;
use wcrg_core::fft::{Complex64, FftNd};
use wcrg_energy_models::GaussianField;

use crate::energies::{FieldEnergy, Support};
use crate::error::{Result, RgError};

/// Relative size, against the largest eigenvalue, below which an eigenvalue of $K$ counts as
/// zero or negative: the energy is then flat or unbounded below along that Fourier mode.
const EIGENVALUE_FLOOR: f64 = 1e-12;

/// The exact sampler of `energy` when it is Gaussian (no on-site or two-site potential): the
/// [`GaussianField`] of power spectrum $1/\lambda$. `None` for an energy with a potential.
///
/// # Errors
/// A quadratic form that is not positive definite (no normalisable law), naming the smallest
/// eigenvalue and its frequency.
pub(crate) fn exact_gaussian(energy: &FieldEnergy) -> Result<Option<GaussianField>> {
    if energy.potential().is_some() || energy.differences().is_some() {
        return Ok(None);
    }
    let shape = energy.field_shape().to_vec();
    let n: usize = shape.iter().product();
    // k = K δ_0: the gradient of ½ xᵀKx at the unit impulse on the first site.
    let mut impulse = vec![0.0; n];
    impulse[0] = 1.0;
    let mut k = vec![0.0; n];
    energy.evaluate(&impulse, &mut k, Support::Extended, &mut Workspace::new());
    let mut lambda: Vec<Complex64> = k.iter().map(|&v| Complex64::new(v, 0.0)).collect();
    FftNd::new(&shape).run(&mut lambda, false, &mut Vec::new());
    let largest = lambda.iter().map(|v| v.re.abs()).fold(0.0, f64::max);
    let (at, smallest) = lambda
        .iter()
        .map(|v| v.re)
        .enumerate()
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .expect("at least one site");
    if smallest.is_nan() || smallest <= EIGENVALUE_FLOOR * largest {
        let nx = shape[1];
        return Err(RgError::Sampling {
            stage: "the coarsest field".into(),
            detail: format!(
                "its Gaussian energy is not positive definite: its couplings have the \
                 eigenvalue {smallest:.3e} at frequency ({}, {}) (the largest is {largest:.3e}), \
                 so it has no normalisable law to draw from",
                at / nx,
                at % nx
            ),
        });
    }
    // P(q) = 1/λ(q), symmetrised: λ(q) and λ(-q) are equal but for rounding.
    let spectrum = ndarray::ArrayD::from_shape_fn(ndarray::IxDyn(&shape), |ix| {
        let (i, j) = (ix[0], ix[1]);
        let mirror = ((shape[0] - i) % shape[0]) * shape[1] + (shape[1] - j) % shape[1];
        2.0 / (lambda[i * shape[1] + j].re + lambda[mirror].re)
    });
    Ok(Some(GaussianField::from_spectrum(spectrum.view())?))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::{Coupling, Couplings, Potential};

    /// A Gaussian energy on a 4 × 6 field (not square, so that a swapped axis shows): a
    /// self-coupling and couplings along both axes and a diagonal.
    pub(crate) fn energy(diagonal: f64) -> FieldEnergy {
        let c = |shift: [isize; 2], theta: f64| Coupling {
            c: 0,
            d: 0,
            shift,
            theta,
        };
        let couplings = Couplings::new(
            vec![true],
            [4, 6],
            vec![
                c([0, 0], diagonal),
                c([0, 1], -0.6),
                c([1, 0], -0.4),
                c([1, 1], 0.15),
                c([0, 2], 0.1),
            ],
        )
        .unwrap();
        FieldEnergy::new(couplings, None).unwrap()
    }

    /// The dense $K$ from the energy's gradients at unit vectors (no Fourier transform).
    fn dense(e: &FieldEnergy) -> Vec<Vec<f64>> {
        let n = 24;
        (0..n)
            .map(|i| {
                let mut v = vec![0.0; n];
                v[i] = 1.0;
                let mut g = vec![0.0; n];
                e.evaluate(&v, &mut g, Support::Extended, &mut Workspace::new());
                g
            })
            .collect()
    }

    /// The matrix of the map $\xi \to x$ of the draws, $C^{1/2}$, column by column.
    fn map_matrix(g: &GaussianField) -> Vec<Vec<f64>> {
        (0..24)
            .map(|i| {
                let mut v = ndarray::ArrayD::zeros(ndarray::IxDyn(&[4, 6]));
                v.as_slice_mut().unwrap()[i] = 1.0;
                let mut out = v.clone();
                g.covariance_power(v.view(), 0.5, out.view_mut(), &mut Workspace::new());
                out.into_raw_vec_and_offset().0
            })
            .collect()
    }

    /// The draws' map is the symmetric square root of $K^{-1}$: $A = A^\top$ and $A K A = I$
    /// to rounding, with $K$ from the energy's gradients at unit vectors (no Fourier transform).
    /// (That [`GaussianField`] draws $A\xi$ exactly is its own crate's test.)
    #[test]
    fn the_draws_have_the_inverse_of_the_couplings_as_covariance() {
        let e = energy(2.0);
        let g = exact_gaussian(&e).unwrap().expect("Gaussian");
        let a = map_matrix(&g);
        let k = dense(&e);
        let n = 24;
        for i in 0..n {
            for j in 0..n {
                assert!(
                    (a[i][j] - a[j][i]).abs() < 1e-13,
                    "A not symmetric at {i},{j}"
                );
                // (A K A)_{ij}, a[c] being column c of A.
                let aka: f64 = (0..n)
                    .map(|p| (0..n).map(|q| a[i][p] * k[p][q] * a[q][j]).sum::<f64>())
                    .sum();
                let want = if i == j { 1.0 } else { 0.0 };
                assert!((aka - want).abs() < 1e-12, "AKA[{i}][{j}] = {aka}");
            }
        }
    }

    /// Energies with a potential are not Gaussian; a form with a zero or negative eigenvalue
    /// has no law, and saying so names the eigenvalue and its frequency.
    #[test]
    fn potentials_are_not_gaussian_and_indefinite_couplings_are_errors() {
        let e = energy(2.0);
        let quartic = wcrg_energy_models::features::Basis::Powers(vec![4]);
        let p = Potential::new(quartic, vec![0.1], [-3.0, 3.0]).unwrap();
        let with = FieldEnergy::new(e.couplings().clone(), Some(p)).unwrap();
        assert!(exact_gaussian(&with).unwrap().is_none());
        // The couplings' ferromagnetic part makes the uniform mode the softest: its eigenvalue
        // is a row sum of K, `diagonal + r`.
        let r: f64 = dense(&energy(0.0))[0].iter().sum();
        assert!(r < 0.0);
        for diagonal in [-r, -r - 0.5] {
            match exact_gaussian(&energy(diagonal)) {
                Err(RgError::Sampling { detail, .. }) => {
                    assert!(detail.contains("not positive definite"), "{detail}");
                    assert!(detail.contains("frequency (0, 0)"), "{detail}");
                }
                other => panic!("{diagonal}: {other:?}"),
            }
        }
        assert!(exact_gaussian(&energy(0.1 - r)).unwrap().is_some());
    }
}
