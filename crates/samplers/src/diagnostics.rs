//! Chain diagnostics: autocorrelation, integrated autocorrelation time, effective sample size,
//! split-$\hat R$ and Monte-Carlo standard errors.

use rustfft::FftPlanner;
use rustfft::num_complex::Complex64;
use wcrg_core::{Error, Result};

fn check(series: &[f64]) -> Result<()> {
    if series.len() < 4 {
        return Err(Error::Empty {
            what: format!("series of length {} (need >= 4)", series.len()),
        });
    }
    wcrg_core::validate::finite("series", series)
}

/// Normalised autocorrelation $\rho(t)$, $t = 0..n-1$, by FFT with zero padding.
///
/// # Errors
/// Fewer than 4 values, non-finite values, or a constant series.
pub fn autocorrelation(series: &[f64]) -> Result<Vec<f64>> {
    check(series)?;
    let n = series.len();
    let mean = series.iter().sum::<f64>() / n as f64;
    let m = (2 * n).next_power_of_two();
    let mut buf: Vec<Complex64> = series
        .iter()
        .map(|&v| Complex64::new(v - mean, 0.0))
        .chain(std::iter::repeat_n(Complex64::new(0.0, 0.0), m - n))
        .collect();
    let mut planner = FftPlanner::new();
    planner.plan_fft_forward(m).process(&mut buf);
    buf.iter_mut()
        .for_each(|c| *c = Complex64::new(c.norm_sqr(), 0.0));
    planner.plan_fft_inverse(m).process(&mut buf);
    let c0 = buf[0].re;
    if c0 <= 0.0 {
        return Err(Error::Singular {
            what: "autocorrelation".into(),
            detail: "the series is constant (a stuck chain?)".into(),
        });
    }
    Ok(buf[..n].iter().map(|c| c.re / c0).collect())
}

/// Integrated autocorrelation time $\tau = 1 + 2\sum_{t=1}^{M}\rho(t)$ with Sokal's automatic
/// window: the smallest $M$ with $M \ge 5\tau(M)$.
///
/// Antithetic chains (negative autocorrelations, e.g. HMC with some trajectory lengths) can
/// have $\tau < 1$, but its estimate is then unstable; like Stan, the result is floored at
/// $1/\log_{10} n$, i.e. the effective sample size is capped at $n\log_{10} n$.
///
/// # Errors
/// As [`autocorrelation`].
pub fn integrated_time(series: &[f64]) -> Result<f64> {
    let rho = autocorrelation(series)?;
    let floor = 1.0 / (series.len() as f64).log10().max(1.0);
    let mut tau = 1.0;
    for (m, r) in rho.iter().enumerate().skip(1) {
        tau += 2.0 * r;
        if m as f64 >= 5.0 * tau {
            return Ok(tau.max(floor));
        }
    }
    Ok(tau.max(floor))
}

/// A mean estimated from one or several chains.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MeanEstimate {
    /// The mean over all draws.
    pub mean: f64,
    /// Monte-Carlo standard error $\sqrt{\sigma^2/\mathrm{ESS}}$.
    pub mcse: f64,
    /// Effective sample size $\sum_c n_c / \tau_c$.
    pub ess: f64,
    /// The mean integrated autocorrelation time over chains.
    pub tau: f64,
}

impl MeanEstimate {
    /// Estimates the mean of a scalar from chains of it.
    ///
    /// # Errors
    /// No chain; a chain as refused by [`autocorrelation`].
    pub fn from_chains(chains: &[Vec<f64>]) -> Result<Self> {
        if chains.is_empty() {
            return Err(Error::Empty {
                what: "list of chains".into(),
            });
        }
        let all: Vec<f64> = chains.iter().flatten().copied().collect();
        let n = all.len() as f64;
        let mean = all.iter().sum::<f64>() / n;
        let var = all.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
        let mut ess = 0.0;
        let mut tau_sum = 0.0;
        for c in chains {
            let tau = integrated_time(c)?;
            ess += c.len() as f64 / tau;
            tau_sum += tau;
        }
        Ok(Self {
            mean,
            mcse: (var / ess).sqrt(),
            ess,
            tau: tau_sum / chains.len() as f64,
        })
    }

    /// $z$-score of the difference with another independent estimate.
    pub fn z_against(&self, other: &Self) -> f64 {
        (self.mean - other.mean) / (self.mcse.powi(2) + other.mcse.powi(2)).sqrt()
    }

    /// $z$-score against an exact value.
    pub fn z_exact(&self, exact: f64) -> f64 {
        (self.mean - exact) / self.mcse
    }
}

/// Split-$\hat R$ (Gelman et al., BDA3): each chain is cut in halves, and
/// $\hat R = \sqrt{\big(\tfrac{n-1}{n}W + \tfrac1n B\big)/W}$ over the $2m$ half-chains.
///
/// # Errors
/// No chain, chains shorter than 4 or of different lengths, or zero within-chain variance.
pub fn split_rhat(chains: &[Vec<f64>]) -> Result<f64> {
    let Some(first) = chains.first() else {
        return Err(Error::Empty {
            what: "list of chains".into(),
        });
    };
    let len = first.len();
    if len < 4 || chains.iter().any(|c| c.len() != len) {
        return Err(Error::InvalidParameter {
            name: "chains".into(),
            value: format!(
                "lengths {:?}",
                chains.iter().map(Vec::len).collect::<Vec<_>>()
            ),
            reason: "need equal lengths of at least 4".into(),
        });
    }
    let n = len / 2;
    let halves: Vec<&[f64]> = chains
        .iter()
        .flat_map(|c| [&c[..n], &c[n..2 * n]])
        .collect();
    let means: Vec<f64> = halves
        .iter()
        .map(|h| h.iter().sum::<f64>() / n as f64)
        .collect();
    let grand = means.iter().sum::<f64>() / means.len() as f64;
    let b = n as f64 * means.iter().map(|m| (m - grand).powi(2)).sum::<f64>()
        / (means.len() - 1) as f64;
    let w = halves
        .iter()
        .zip(&means)
        .map(|(h, m)| h.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (n - 1) as f64)
        .sum::<f64>()
        / means.len() as f64;
    if w <= 0.0 {
        return Err(Error::Singular {
            what: "split-Rhat".into(),
            detail: "zero within-chain variance".into(),
        });
    }
    Ok((((n as f64 - 1.0) / n as f64 * w + b / n as f64) / w).sqrt())
}
