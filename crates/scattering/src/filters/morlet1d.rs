//! 1-D Morlet filter banks in Fourier, as kymatio 0.3 builds them (constant-Q wavelets above an
//! elbow, constant bandwidth below it).

use crate::fourier::{Fft1, ZERO};
use rustfft::FftPlanner;
use rustfft::num_complex::Complex64;

/// kymatio's constants: the low-pass width at $T$ is $\sigma_0/T$, wavelets' widths at the
/// bandwidth ratio $r_\psi$, subsampling margin $\alpha$.
pub(crate) const SIGMA0: f64 = 0.1;
pub(crate) const ALPHA: f64 = 5.0;
pub(crate) const R_PSI: f64 = std::f64::consts::FRAC_1_SQRT_2;

/// One 1-D wavelet $\hat\psi_\lambda$ with its metadata.
#[derive(Debug, Clone)]
pub struct Morlet1d {
    /// Central frequency $\xi$ in cycles per sample (`0 < ξ < 1/2`).
    pub xi: f64,
    /// Bandwidth $\sigma$ in cycles per sample.
    pub sigma: f64,
    /// Largest dyadic subsampling $j$ its output tolerates (kymatio's `j`).
    pub j: usize,
    /// The filter in Fourier: level `r` is its periodisation to length $N/2^r$.
    pub levels: Vec<Vec<f64>>,
}

/// The filter bank of a 1-D scattering transform: first-order wavelets ($Q_1$ per octave),
/// second-order wavelets ($Q_2$ per octave) and the low-pass $\hat\phi$ of width $\sigma_0/T$ —
/// kymatio 0.3's `scattering_filter_factory(N, J, (Q1, Q2), T)`.
///
/// Each Morlet filter is built in Fourier, periodised over $2P-1$ periods
/// ($P = \min(\lceil\sqrt{-2\sigma^2\ln 10^{-7}} + 1\rceil, 5)$):
/// $\hat\psi(\omega) = \hat g_\sigma(\omega-\xi) - \kappa\, \hat g_\sigma(\omega)$ with
/// $\hat g_\sigma(\omega) = e^{-\omega^2/2\sigma^2}$ and $\kappa$ cancelling the mean, then
/// normalised so that $\|\psi\|_{\ell^1} = 1$ in space.
#[derive(Debug, Clone)]
pub struct MorletBank1d {
    /// Filter length $N$ (the padded signal length).
    pub n: usize,
    /// First-order wavelets.
    pub psi1: Vec<Morlet1d>,
    /// Second-order wavelets.
    pub psi2: Vec<Morlet1d>,
    /// The low-pass filter at levels `0..`: level `r` has length $N/2^r$.
    pub phi: Vec<Vec<f64>>,
    /// $\lfloor\log_2 T\rfloor$.
    pub log2_t: usize,
    /// Bandwidth of the low-pass, $\sigma_0/T$.
    pub sigma_low: f64,
}

/// kymatio's `adaptive_choice_P`.
fn periods(sigma: f64) -> usize {
    let val = (-2.0 * sigma * sigma * 1e-7f64.ln()).sqrt();
    (val + 1.0).ceil() as usize
}

/// Mean over `nperiods` consecutive blocks (kymatio's `periodize_filter_fourier`).
pub(crate) fn periodize(h: &[f64], nperiods: usize) -> Vec<f64> {
    let n = h.len() / nperiods;
    let mut v = vec![0.0; n];
    for p in 0..nperiods {
        for (o, x) in v.iter_mut().zip(&h[p * n..(p + 1) * n]) {
            *o += x;
        }
    }
    for o in v.iter_mut() {
        *o /= nperiods as f64;
    }
    v
}

/// kymatio's `morlet_1d(N, xi, sigma)` (`xi = None` gives the Gaussian low-pass).
pub(crate) fn morlet_1d(
    n: usize,
    xi: Option<f64>,
    sigma: f64,
    planner: &mut FftPlanner<f64>,
) -> Vec<f64> {
    let p = periods(sigma).min(5);
    let np = 2 * p - 1;
    let freqs: Vec<f64> = (0..np * n)
        .map(|i| ((1 - p as i64) * n as i64 + i as i64) as f64 / n as f64)
        .collect();
    let freqs_low: Vec<f64> = if p == 1 {
        (0..n)
            .map(|i| {
                let k = if i < n.div_ceil(2) {
                    i as i64
                } else {
                    i as i64 - n as i64
                };
                k as f64 / n as f64
            })
            .collect()
    } else {
        freqs.clone()
    };
    let two_s2 = 2.0 * sigma * sigma;
    let low: Vec<f64> = freqs_low
        .iter()
        .map(|f| (-(f * f) / two_s2).exp())
        .collect();
    let low = periodize(&low, np);
    let mut filt = match xi {
        Some(xi) => {
            let gab: Vec<f64> = freqs
                .iter()
                .map(|f| (-(f - xi) * (f - xi) / two_s2).exp())
                .collect();
            let gab = periodize(&gab, np);
            let kappa = gab[0] / low[0];
            gab.iter()
                .zip(&low)
                .map(|(g, l)| g - kappa * l)
                .collect::<Vec<f64>>()
        }
        None => low,
    };
    let fft = Fft1::new(planner, n);
    let mut buf: Vec<Complex64> = filt.iter().map(|&v| Complex64::new(v, 0.0)).collect();
    let mut scratch = vec![ZERO; 0];
    fft.run(&mut buf, true, &mut scratch);
    let l1: f64 = buf.iter().map(|c| c.norm()).sum();
    for v in filt.iter_mut() {
        *v /= l1;
    }
    filt
}

/// kymatio's `compute_sigma_psi`.
fn sigma_psi(xi: f64, q: usize) -> f64 {
    let factor = 1.0 / 2f64.powf(1.0 / q as f64);
    let term1 = (1.0 - factor) / (1.0 + factor);
    let term2 = 1.0 / (2.0 * (1.0 / R_PSI).ln()).sqrt();
    xi * term1 * term2
}

/// kymatio's `get_max_dyadic_subsampling`.
fn max_dyadic_subsampling(xi: f64, sigma: f64) -> usize {
    let upper = (xi + ALPHA * sigma).min(0.5);
    let j = (-upper.log2()).floor() as i64 - 1;
    j.max(0) as usize
}

/// kymatio's `compute_params_filterbank`: `(xi, sigma, j)` of every wavelet.
pub(crate) fn filterbank_params(sigma_min: f64, q: usize) -> Vec<(f64, f64, usize)> {
    let xi_max = (1.0 / (1.0 + 2f64.powf(3.0 / q as f64))).max(0.35);
    let sigma_max = sigma_psi(xi_max, q);
    let mut xis = Vec::new();
    let mut sigmas = Vec::new();
    let elbow_xi = if sigma_max <= sigma_min {
        sigma_max
    } else {
        xis.push(xi_max);
        sigmas.push(sigma_max);
        let step = 2f64.powf(1.0 / q as f64);
        while *sigmas.last().expect("non-empty") > sigma_min * step {
            let (x, s) = (
                *xis.last().expect("non-empty"),
                *sigmas.last().expect("non-empty"),
            );
            xis.push(x / step);
            sigmas.push(s / step);
        }
        *xis.last().expect("non-empty")
    };
    for qq in 1..q {
        xis.push(elbow_xi - qq as f64 / q as f64 * elbow_xi);
        sigmas.push(sigma_min);
    }
    xis.iter()
        .zip(&sigmas)
        .map(|(&x, &s)| (x, s, max_dyadic_subsampling(x, s)))
        .collect()
}

impl MorletBank1d {
    /// The low-pass alone at length `n` (kymatio's `gauss_1d(N, sigma0 / T)`), used to size the
    /// padding.
    pub(crate) fn low_pass_only(n: usize, t: usize, planner: &mut FftPlanner<f64>) -> Vec<f64> {
        morlet_1d(n, None, SIGMA0 / t as f64, planner)
    }

    /// Builds the bank for padded length `n`, `J` octaves, `Q = (Q1, Q2)` wavelets per octave
    /// and averaging support `t` (kymatio's default is $T = 2^J$).
    pub fn kymatio(n: usize, j: usize, q: (usize, usize), t: usize) -> Self {
        let mut planner = FftPlanner::new();
        let sigma_min = SIGMA0 / 2f64.powi(j as i32);
        let p1 = filterbank_params(sigma_min, q.0);
        let p2 = filterbank_params(sigma_min, q.1);
        let sigma_low = SIGMA0 / t as f64;
        let j1s: Vec<usize> = p1.iter().map(|p| p.2).collect();
        let psi2 = p2
            .iter()
            .map(|&(xi, sigma, j2)| {
                let max_sub = j1s.iter().copied().filter(|&j1| j2 > j1).max().unwrap_or(0);
                let base = morlet_1d(n, Some(xi), sigma, &mut planner);
                let mut levels = vec![base];
                for level in 1..=max_sub {
                    levels.push(periodize(&levels[0], 1 << level));
                }
                Morlet1d {
                    xi,
                    sigma,
                    j: j2,
                    levels,
                }
            })
            .collect();
        let psi1 = p1
            .iter()
            .map(|&(xi, sigma, j1)| Morlet1d {
                xi,
                sigma,
                j: j1,
                levels: vec![morlet_1d(n, Some(xi), sigma, &mut planner)],
            })
            .collect();
        let log2_t = (t as f64).log2().floor() as usize;
        let max_j1 = p1.iter().map(|p| p.2).max().unwrap_or(0);
        let max_j2 = p2.iter().map(|p| p.2).max().unwrap_or(0);
        let max_sub_phi = max_j1.max(max_j2).min(log2_t);
        let base = morlet_1d(n, None, sigma_low, &mut planner);
        let mut phi = vec![base];
        for level in 1..=max_sub_phi {
            phi.push(periodize(&phi[0], 1 << level));
        }
        Self {
            n,
            psi1,
            psi2,
            phi,
            log2_t,
            sigma_low,
        }
    }
}

/// kymatio's `compute_temporal_support`: the smallest half-width beyond which the $\ell^1$ mass
/// of the filter's impulse response is below `criterion` (or half the length).
pub(crate) fn temporal_support(
    h_f: &[f64],
    criterion: f64,
    planner: &mut FftPlanner<f64>,
) -> usize {
    let n = h_f.len();
    let fft = Fft1::new(planner, n);
    let mut buf: Vec<Complex64> = h_f.iter().map(|&v| Complex64::new(v, 0.0)).collect();
    let mut scratch = Vec::new();
    fft.run(&mut buf, true, &mut scratch);
    let half = n / 2;
    let mut residual = vec![0.0; half];
    let mut acc = 0.0;
    for i in (0..half).rev() {
        acc += buf[i].norm();
        residual[i] = acc;
    }
    residual
        .iter()
        .position(|&r| r <= criterion)
        .map(|k| k + 1)
        .unwrap_or(half)
}
