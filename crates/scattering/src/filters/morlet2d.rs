//! 2-D Morlet filter banks in Fourier, as kymatio 0.3 builds them.

use crate::fourier::{Fft2, ZERO};
use ndarray::Array2;
use rayon::prelude::*;
use rustfft::FftPlanner;
use rustfft::num_complex::Complex64;
use std::f64::consts::PI;

/// One 2-D wavelet $\hat\psi_{j,\theta}$ of a [`MorletBank2d`], with its metadata.
#[derive(Debug, Clone)]
pub struct Morlet2d {
    /// Scale index $j$ (`0..J`): the envelope's width is $\sigma = 0.8\cdot 2^j$ pixels.
    pub j: usize,
    /// Orientation index $\theta$ (`0..L`).
    pub theta: usize,
    /// Orientation angle in radians, $(\lfloor L/2\rfloor - 1 - \theta)\pi/L$ (kymatio's).
    pub angle: f64,
    /// Central frequency $\xi = \tfrac{3\pi}{4} 2^{-j}$ in radians per pixel.
    pub xi: f64,
    /// Envelope width $\sigma$ in pixels.
    pub sigma: f64,
    /// The filter in Fourier at resolutions `0..levels.len()`: level `r` is the $(M/2^r) \times
    /// (N/2^r)$ crop of the full-resolution filter to its low frequencies (used after the signal
    /// was subsampled by $2^r$). Real-valued: the filters are real in Fourier.
    pub levels: Vec<Array2<f64>>,
}

/// A bank of $J \times L$ Morlet wavelets and one Gaussian low-pass $\hat\phi_J$ in Fourier on
/// an $M \times N$ grid, numerically identical to kymatio 0.3's `filter_bank(M, N, J, L)` (up to
/// kymatio's single-precision rounding, ~1e-7 relative).
///
/// In space, with the rotation $R_\theta$ and the slant $s = 4/L$,
/// $$ g_{\sigma,\theta,\xi}(u) = \frac{s}{2\pi\sigma^2} \sum_{e \in \{-2..2\}^2}
///   e^{-\frac{(u + eM)^\top R_\theta D R_\theta^{-1} (u+eM)}{2\sigma^2} + i\xi (u+eM)\cdot
///   (\cos\theta, \sin\theta)}, \qquad D = \mathrm{diag}(1, s^2), $$
/// $\psi = g_{\sigma,\theta,\xi} - K g_{\sigma,\theta,0}$ with $K$ such that $\sum_u \psi(u) = 0$,
/// and $\phi = g_{0.8\cdot 2^{J-1}, 0, 0}$ with $s = 1$. As in kymatio, the normalisation uses
/// $2\pi \approx 3.1415 \cdot 2$ and the Fourier filters keep only the real part of the DFT.
#[derive(Debug, Clone)]
pub struct MorletBank2d {
    /// Grid rows $M$.
    pub m: usize,
    /// Grid columns $N$.
    pub n: usize,
    /// Number of scales $J$.
    pub j: usize,
    /// Number of orientations $L$.
    pub l: usize,
    /// Wavelets in kymatio's order: index $n = jL + \theta$.
    pub psi: Vec<Morlet2d>,
    /// The low-pass filter $\hat\phi_J$ at resolutions `0..J` (crops as for the wavelets), plus
    /// the full-size filter at level 0.
    pub phi: Vec<Array2<f64>>,
}

impl MorletBank2d {
    /// Builds the bank on an `m × n` grid with kymatio's resolutions: wavelet $j$ at levels
    /// `0..min(j+1, max(J-1, 1))`, the low-pass at levels `0..J`.
    ///
    /// The caller checks the sizes (`m`, `n` multiples of $2^J$, $J \ge 1$, $L \ge 1$).
    pub fn kymatio(m: usize, n: usize, j: usize, l: usize) -> Self {
        Self::build(m, n, j, l, |jj| (jj + 1).min((j.max(2)) - 1), j)
    }

    /// Builds the bank with only the full-resolution filters (level 0 of every wavelet and of
    /// the low-pass), for statistics computed without subsampling.
    pub fn kymatio_full(m: usize, n: usize, j: usize, l: usize) -> Self {
        Self::build(m, n, j, l, |_| 1, 1)
    }

    /// Builds the bank with every wavelet at every level `0..=j_scale` it may need and the
    /// low-pass at levels `0..=J` (used by the periodic transform and by the scattering spectra).
    pub fn all_levels(m: usize, n: usize, j: usize, l: usize) -> Self {
        Self::build(m, n, j, l, |_| j, j + 1)
    }

    fn build(
        m: usize,
        n: usize,
        j: usize,
        l: usize,
        psi_levels: impl Fn(usize) -> usize + Sync,
        phi_levels: usize,
    ) -> Self {
        let mut planner = FftPlanner::new();
        let fft = Fft2::new(&mut planner, m, n);
        let specs: Vec<(usize, usize)> =
            (0..j).flat_map(|jj| (0..l).map(move |t| (jj, t))).collect();
        let psi: Vec<Morlet2d> = specs
            .par_iter()
            .map(|&(jj, t)| {
                let sigma = 0.8 * 2f64.powi(jj as i32);
                let angle =
                    ((l as f64 - l as f64 / 2.0 - 1.0) as i64 - t as i64) as f64 * PI / l as f64;
                let xi = 0.75 * PI / 2f64.powi(jj as i32);
                let space = morlet_2d(m, n, sigma, angle, xi, 4.0 / l as f64);
                let full = real_fft2(&fft, space);
                let levels = (0..psi_levels(jj)).map(|r| crop_low(&full, r)).collect();
                Morlet2d {
                    j: jj,
                    theta: t,
                    angle,
                    xi,
                    sigma,
                    levels,
                }
            })
            .collect();
        let sigma_phi = 0.8 * 2f64.powi(j as i32 - 1);
        let phi_full = real_fft2(&fft, gabor_2d(m, n, sigma_phi, 0.0, 0.0, 1.0));
        let phi = (0..phi_levels).map(|r| crop_low(&phi_full, r)).collect();
        Self {
            m,
            n,
            j,
            l,
            psi,
            phi,
        }
    }
}

fn real_fft2(fft: &Fft2, mut space: Vec<Complex64>) -> Array2<f64> {
    let mut scratch = Vec::new();
    fft.run(&mut space, false, &mut scratch);
    Array2::from_shape_vec((fft.m, fft.n), space.iter().map(|c| c.re).collect())
        .expect("shape matches the buffer")
}

/// kymatio's `periodize_filter_fft`: keep the frequencies of the lowest $M/2^r \times N/2^r$
/// band (zero the others) and fold.
pub(crate) fn crop_low(x: &Array2<f64>, r: usize) -> Array2<f64> {
    let (m, n) = x.dim();
    let k = 1usize << r;
    let (mo, no) = (m / k, n / k);
    let keep = |i: usize, len: usize| {
        let start = len >> (r + 1);
        let width = len - len / k;
        !(i >= start && i < start + width)
    };
    let mut out = Array2::zeros((mo, no));
    for a in 0..m {
        if r > 0 && !keep(a, m) {
            continue;
        }
        for b in 0..n {
            if r > 0 && !keep(b, n) {
                continue;
            }
            out[[a % mo, b % no]] += x[[a, b]];
        }
    }
    out
}

/// A Morlet wavelet in space (kymatio's `morlet_2d`, slant `s`).
pub(crate) fn morlet_2d(
    m: usize,
    n: usize,
    sigma: f64,
    theta: f64,
    xi: f64,
    slant: f64,
) -> Vec<Complex64> {
    let wv = gabor_2d(m, n, sigma, theta, xi, slant);
    let env = gabor_2d(m, n, sigma, theta, 0.0, slant);
    let sw: Complex64 = wv.iter().sum();
    let se: Complex64 = env.iter().sum();
    let k = sw / se;
    wv.iter().zip(&env).map(|(a, b)| a - k * b).collect()
}

/// A Gabor filter in space, periodised over 5 × 5 periods (kymatio's `gabor_2d`).
pub(crate) fn gabor_2d(
    m: usize,
    n: usize,
    sigma: f64,
    theta: f64,
    xi: f64,
    slant: f64,
) -> Vec<Complex64> {
    // kymatio builds the rotation in single precision.
    let (c, s) = ((theta.cos() as f32) as f64, (theta.sin() as f32) as f64);
    // curv = R D R^{-1} / (2 sigma^2), R = [[c, -s], [s, c]], R^{-1} = [[c, s], [-s, c]].
    let d1 = slant * slant;
    let r = [[c, -s], [s, c]];
    let rinv = [[c, s], [-s, c]];
    let dm = [[1.0, 0.0], [0.0, d1]];
    let mut curv = [[0.0; 2]; 2];
    for (i, row) in curv.iter_mut().enumerate() {
        for (jj, v) in row.iter_mut().enumerate() {
            let mut acc = 0.0;
            for a in 0..2 {
                for b in 0..2 {
                    acc += r[i][a] * dm[a][b] * rinv[b][jj];
                }
            }
            *v = acc / (2.0 * sigma * sigma);
        }
    }
    let (kx, ky) = (xi * theta.cos(), xi * theta.sin());
    let mut out = vec![ZERO; m * n];
    for ex in -2i64..=2 {
        for ey in -2i64..=2 {
            for i in 0..m {
                let xx = (ex * m as i64 + i as i64) as f64;
                for jj in 0..n {
                    let yy = (ey * n as i64 + jj as i64) as f64;
                    let re = -(curv[0][0] * xx * xx
                        + (curv[0][1] + curv[1][0]) * xx * yy
                        + curv[1][1] * yy * yy);
                    if re < -745.0 {
                        continue;
                    }
                    let im = xx * kx + yy * ky;
                    out[i * n + jj] += Complex64::from_polar(re.exp(), im);
                }
            }
        }
    }
    // kymatio's normalisation uses 3.1415, not pi; kept for identical numbers.
    #[allow(clippy::approx_constant)]
    let kymatio_pi = 3.1415;
    let norm = 2.0 * kymatio_pi * sigma * sigma / slant;
    for v in out.iter_mut() {
        *v /= norm;
    }
    out
}
