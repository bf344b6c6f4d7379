//! Field statistics shared by every crate: moments, φ⁴ observables with error bars, radially
//! averaged power spectra, histograms on a common binning, two-point correlations.

use ndarray::{ArrayD, ArrayViewD, Axis, Dimension, IxDyn};
use rustfft::FftPlanner;
use rustfft::num_complex::Complex64;
use wcrg_core::{Error, Result, validate};

/// The magnetisation $m = \frac1N\sum_x\varphi(x)$ of one field.
pub fn magnetisation(x: ArrayViewD<'_, f64>) -> f64 {
    x.mean().unwrap_or(0.0)
}

/// φ⁴ observables of a set of (decorrelated) fields, with jackknife error bars.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Phi4Observables {
    /// $\langle m^2\rangle$ and its standard error.
    pub m2: (f64, f64),
    /// $\langle |m|\rangle$ and its standard error.
    pub abs_m: (f64, f64),
    /// Susceptibility $\chi = N(\langle m^2\rangle - \langle|m|\rangle^2)$ and its error.
    pub susceptibility: (f64, f64),
    /// Binder cumulant $U_4 = 1 - \langle m^4\rangle / (3\langle m^2\rangle^2)$ and its error.
    pub binder: (f64, f64),
}

/// Dense group indices `0..G` of `groups` (labels in order of first appearance) and `G`.
///
/// # Errors
/// `groups` of a length other than `n`, or fewer than `min` distinct groups.
fn dense_groups(groups: &[usize], n: usize, min: usize) -> Result<(Vec<usize>, usize)> {
    if groups.len() != n {
        return Err(Error::ShapeMismatch {
            what: "groups".into(),
            expected: vec![n],
            actual: vec![groups.len()],
        });
    }
    let mut index = std::collections::HashMap::new();
    let dense: Vec<usize> = groups
        .iter()
        .map(|g| {
            let next = index.len();
            *index.entry(*g).or_insert(next)
        })
        .collect();
    if index.len() < min {
        return Err(Error::Empty {
            what: format!("{} independent groups (need >= {min})", index.len()),
        });
    }
    Ok((dense, index.len()))
}

/// The mean of `values` and its standard error when values are independent between groups but
/// may be correlated within one (`groups[i]` labels the group of value `i`): the cluster-robust
/// (batch-means) $\mathrm{SE}^2 = \frac{G}{G-1}\sum_g\big(\sum_{i\in g}(v_i-\bar v)\big)^2/n^2$
/// over the $G$ groups. With every value its own group it is the usual $s/\sqrt n$.
///
/// # Errors
/// `groups` of another length than `values`, fewer than 2 groups, non-finite values.
pub fn mean_and_stderr_grouped(values: &[f64], groups: &[usize]) -> Result<(f64, f64)> {
    validate::finite("values", values)?;
    let (dense, g) = dense_groups(groups, values.len(), 2)?;
    Ok(grouped_mean(values, &dense, g))
}

/// [`mean_and_stderr_grouped`] on dense group indices `0..g` (at least 2 groups).
fn grouped_mean(values: &[f64], dense: &[usize], g: usize) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let mut sums = vec![0.0; g];
    for (v, &gi) in values.iter().zip(dense) {
        sums[gi] += v - mean;
    }
    let var = g as f64 / (g - 1) as f64 * sums.iter().map(|v| v * v).sum::<f64>() / (n * n);
    (mean, var.sqrt())
}

/// Jackknife blocks of whole groups: for `groups[i]` labelling the group of value `i`, the block
/// of each value among $\min(G, 50)$ blocks ($G$ groups in order of first appearance, group $g$
/// in block $\lfloor g\,\mathrm{blocks}/G\rfloor$), and the number of blocks. Deleting one
/// block at a time gives jackknife errors that count correlations within groups; with every
/// value its own group, the blocks are 50 contiguous runs of values.
///
/// # Errors
/// Fewer than `min_groups` groups (and fewer than 2).
pub fn jackknife_blocks(groups: &[usize], min_groups: usize) -> Result<(Vec<usize>, usize)> {
    jackknife_blocks_of(groups, groups.len(), min_groups)
}

/// [`jackknife_blocks`] for `groups` that must label `n` values.
fn jackknife_blocks_of(
    groups: &[usize],
    n: usize,
    min_groups: usize,
) -> Result<(Vec<usize>, usize)> {
    let (dense, g) = dense_groups(groups, n, min_groups.max(2))?;
    let blocks = g.min(50);
    Ok((dense.iter().map(|&gi| gi * blocks / g).collect(), blocks))
}

/// The jackknife standard error of estimates `jack` obtained with one block deleted at a time.
pub fn jackknife_error(jack: &[f64]) -> f64 {
    let b = jack.len() as f64;
    let mean = jack.iter().sum::<f64>() / b;
    ((b - 1.0) / b * jack.iter().map(|j| (j - mean).powi(2)).sum::<f64>()).sqrt()
}

/// Group labels for batch means over `blocks` contiguous blocks of `n` values in order: value
/// `i` is in block $\lfloor i\,\mathrm{blocks}/n\rfloor$. For fields recorded one chain after
/// another (as [`crate::ground_truth::Phi4GroundTruth`] returns them), blocks much longer than
/// the chains' autocorrelation time give standard errors that account for it.
pub fn contiguous_blocks(n: usize, blocks: usize) -> Vec<usize> {
    let blocks = blocks.clamp(1, n.max(1));
    (0..n).map(|i| i * blocks / n).collect()
}

impl Phi4Observables {
    /// From the magnetisations of independent fields of `sites` sites each. The jackknife
    /// deletes one of $\min(n, 50)$ contiguous blocks at a time.
    ///
    /// # Errors
    /// Fewer than 10 values or non-finite values.
    pub fn from_magnetisations(m: &[f64], sites: usize) -> Result<Self> {
        let groups: Vec<usize> = (0..m.len()).collect();
        Self::from_magnetisations_grouped(m, sites, &groups)
    }

    /// From the magnetisations of fields that are independent between groups but may be
    /// correlated within one: `groups[i]` labels the group of value `i` (e.g. the Markov chain
    /// it was recorded on). The jackknife deletes one of $\min(G, 50)$ blocks of whole groups
    /// at a time ($G$ groups in order of first appearance), so correlations within a group
    /// widen the error bars as they should. With every value its own group this is
    /// [`Phi4Observables::from_magnetisations`].
    ///
    /// # Errors
    /// Fewer than 10 values or 10 groups, `groups` of the wrong length, non-finite values.
    pub fn from_magnetisations_grouped(m: &[f64], sites: usize, groups: &[usize]) -> Result<Self> {
        if m.len() < 10 {
            return Err(Error::Empty {
                what: format!("{} magnetisations (need >= 10)", m.len()),
            });
        }
        validate::finite("magnetisations", m)?;
        let (block, blocks) = jackknife_blocks_of(groups, m.len(), 10)?;
        let moments = |skip: Option<usize>| {
            let (mut s1, mut s2, mut s4, mut c) = (0.0, 0.0, 0.0, 0.0);
            for (&v, &bi) in m.iter().zip(&block) {
                if skip == Some(bi) {
                    continue;
                }
                s1 += v.abs();
                s2 += v * v;
                s4 += v.powi(4);
                c += 1.0;
            }
            let (a, b, d) = (s1 / c, s2 / c, s4 / c);
            [b, a, sites as f64 * (b - a * a), 1.0 - d / (3.0 * b * b)]
        };
        let full = moments(None);
        let jack: Vec<[f64; 4]> = (0..blocks).map(|b| moments(Some(b))).collect();
        let err = |k: usize| jackknife_error(&jack.iter().map(|j| j[k]).collect::<Vec<_>>());
        Ok(Self {
            m2: (full[0], err(0)),
            abs_m: (full[1], err(1)),
            susceptibility: (full[2], err(2)),
            binder: (full[3], err(3)),
        })
    }

    /// From a batch of fields `(B, …)`.
    ///
    /// # Errors
    /// As [`Phi4Observables::from_magnetisations`].
    pub fn from_batch(batch: ArrayViewD<'_, f64>) -> Result<Self> {
        let groups: Vec<usize> = (0..batch.shape().first().copied().unwrap_or(0)).collect();
        Self::from_batch_grouped(batch, &groups)
    }

    /// From a batch of fields `(B, …)` in groups, as
    /// [`Phi4Observables::from_magnetisations_grouped`].
    ///
    /// # Errors
    /// As [`Phi4Observables::from_magnetisations_grouped`].
    pub fn from_batch_grouped(batch: ArrayViewD<'_, f64>, groups: &[usize]) -> Result<Self> {
        let sites = batch.len() / batch.shape().first().copied().unwrap_or(1).max(1);
        let m: Vec<f64> = batch.outer_iter().map(magnetisation).collect();
        Self::from_magnetisations_grouped(&m, sites, groups)
    }
}

/// $|\hat x(k)|^2 / N$ of every field of a batch `(B, …)` (unnormalised DFT), in FFT order.
///
/// # Errors
/// An empty batch, fields outside 1–3 axes, non-finite values.
pub fn power_spectra(batch: ArrayViewD<'_, f64>) -> Result<ArrayD<f64>> {
    validate::non_empty("batch", batch.shape())?;
    validate::finite("batch", batch.iter())?;
    let shape = batch.shape()[1..].to_vec();
    if !(1..=3).contains(&shape.len()) {
        return Err(Error::UnsupportedDimension {
            what: "power spectrum".into(),
            ndim: shape.len(),
            supported: "1, 2 or 3".into(),
        });
    }
    let mut planner = FftPlanner::new();
    let plans: Vec<_> = shape.iter().map(|&n| planner.plan_fft_forward(n)).collect();
    let n_sites: usize = shape.iter().product();
    let mut out = ArrayD::zeros(batch.raw_dim());
    for (x, mut o) in batch.outer_iter().zip(out.outer_iter_mut()) {
        let mut c: ArrayD<Complex64> = x.mapv(|v| Complex64::new(v, 0.0));
        for (axis, plan) in plans.iter().enumerate() {
            for mut lane in c.lanes_mut(Axis(axis)) {
                let mut buf: Vec<Complex64> = lane.iter().copied().collect();
                plan.process(&mut buf);
                lane.iter_mut().zip(buf).for_each(|(l, b)| *l = b);
            }
        }
        o.zip_mut_with(&c, |p, z| *p = z.norm_sqr() / n_sites as f64);
    }
    Ok(out)
}

/// The radially averaged power spectrum of a batch with per-bin standard errors over samples.
#[derive(Debug, Clone, PartialEq)]
pub struct RadialSpectrum {
    /// Bin centres $|k|$ in lattice units $2\pi/L$ (bin $b$ holds $b - \frac12 \le |k| < b + \frac12$).
    pub k: Vec<f64>,
    /// Mean power per bin.
    pub power: Vec<f64>,
    /// Standard error of the mean over samples.
    pub stderr: Vec<f64>,
}

impl RadialSpectrum {
    /// From a batch `(B, …)` of independent fields; bin 0 holds $k = 0$ alone.
    ///
    /// # Errors
    /// As [`power_spectra`]; fewer than 2 samples.
    pub fn from_batch(batch: ArrayViewD<'_, f64>) -> Result<Self> {
        let groups: Vec<usize> = (0..batch.shape().first().copied().unwrap_or(0)).collect();
        Self::from_batch_grouped(batch, &groups)
    }

    /// From a batch `(B, …)` of fields that are independent between groups but may be
    /// correlated within one (`groups[i]` labels the group of field `i`, e.g. its Markov
    /// chain). The standard error of bin $k$ is the cluster-robust (batch-means) one,
    /// $\mathrm{SE}^2 = \frac{G}{G-1}\sum_g \big(\sum_{i\in g}(P_i(k) - \bar P(k))\big)^2 / B^2$
    /// over the $G$ groups; with every field its own group it is the usual
    /// $s/\sqrt{B}$ of [`RadialSpectrum::from_batch`].
    ///
    /// # Errors
    /// As [`power_spectra`]; `groups` of the wrong length; fewer than 2 groups.
    pub fn from_batch_grouped(batch: ArrayViewD<'_, f64>, groups: &[usize]) -> Result<Self> {
        let ps = power_spectra(batch)?;
        let b = ps.shape()[0];
        if b < 2 {
            return Err(Error::Empty {
                what: "batch of fewer than 2 fields".into(),
            });
        }
        let (dense, g) = dense_groups(groups, b, 2)?;
        let shape = ps.shape()[1..].to_vec();
        let freq = |i: usize, n: usize| {
            if i <= n / 2 {
                i as f64
            } else {
                i as f64 - n as f64
            }
        };
        let first = ps.index_axis(Axis(0), 0);
        let bins: Vec<usize> = first
            .indexed_iter()
            .map(|(ix, _)| {
                let k2: f64 = ix
                    .slice()
                    .iter()
                    .zip(&shape)
                    .map(|(&i, &n)| freq(i, n).powi(2))
                    .sum();
                k2.sqrt().round() as usize
            })
            .collect();
        let nb = bins.iter().max().copied().unwrap_or(0) + 1;
        let mut per_sample = vec![vec![0.0; nb]; b];
        let mut counts = vec![0usize; nb];
        bins.iter().for_each(|&k| counts[k] += 1);
        for (s, p) in ps.outer_iter().enumerate() {
            for (&k, &v) in bins.iter().zip(p.iter()) {
                per_sample[s][k] += v / counts[k] as f64;
            }
        }
        let (power, stderr) = (0..nb)
            .map(|k| {
                let v: Vec<f64> = per_sample.iter().map(|s| s[k]).collect();
                grouped_mean(&v, &dense, g)
            })
            .unzip();
        Ok(Self {
            k: (0..nb).map(|k| k as f64).collect(),
            power,
            stderr,
        })
    }
}

/// A histogram on a fixed binning, so that histograms of different data compare bin by bin.
#[derive(Debug, Clone, PartialEq)]
pub struct Histogram {
    lo: f64,
    hi: f64,
    counts: Vec<u64>,
    outside: u64,
}

impl Histogram {
    /// `bins` equal bins on `[lo, hi)`.
    ///
    /// # Errors
    /// `bins == 0` or a range that is empty or not finite.
    pub fn new(lo: f64, hi: f64, bins: usize) -> Result<Self> {
        if bins == 0 || !(lo.is_finite() && hi.is_finite() && lo < hi) {
            return Err(Error::InvalidParameter {
                name: "histogram range".into(),
                value: format!("[{lo}, {hi}) with {bins} bins"),
                reason: "need finite lo < hi and at least one bin".into(),
            });
        }
        Ok(Self {
            lo,
            hi,
            counts: vec![0; bins],
            outside: 0,
        })
    }

    /// Adds values (non-finite values and values outside the range count as outside).
    pub fn fill<'a>(&mut self, values: impl IntoIterator<Item = &'a f64>) {
        let nb = self.counts.len() as f64;
        for &v in values {
            let t = (v - self.lo) / (self.hi - self.lo) * nb;
            if t >= 0.0 && t < nb {
                self.counts[t as usize] += 1;
            } else {
                self.outside += 1;
            }
        }
    }

    /// Counts per bin.
    pub fn counts(&self) -> &[u64] {
        &self.counts
    }

    /// Values that fell outside the range.
    pub fn outside(&self) -> u64 {
        self.outside
    }

    /// Bin centres.
    pub fn centres(&self) -> Vec<f64> {
        let w = (self.hi - self.lo) / self.counts.len() as f64;
        (0..self.counts.len())
            .map(|i| self.lo + (i as f64 + 0.5) * w)
            .collect()
    }

    /// Probability per bin (counts over all values, outside included).
    pub fn probabilities(&self) -> Vec<f64> {
        let total = (self.counts.iter().sum::<u64>() + self.outside).max(1) as f64;
        self.counts.iter().map(|&c| c as f64 / total).collect()
    }

    /// $\mathrm{KL}(\text{self}\,\|\,\text{other}) = \sum_b p_b \log(p_b / q_b)$ over the bins,
    /// with $q_b$ floored at `1e-12`.
    ///
    /// # Errors
    /// Histograms with different binnings.
    pub fn kl_divergence(&self, other: &Self) -> Result<f64> {
        if self.counts.len() != other.counts.len() || self.lo != other.lo || self.hi != other.hi {
            return Err(Error::InvalidParameter {
                name: "histogram".into(),
                value: format!(
                    "[{}, {}) x {} vs [{}, {}) x {}",
                    self.lo,
                    self.hi,
                    self.counts.len(),
                    other.lo,
                    other.hi,
                    other.counts.len()
                ),
                reason: "KL needs the same binning".into(),
            });
        }
        Ok(self
            .probabilities()
            .iter()
            .zip(other.probabilities())
            .filter(|(p, _)| **p > 0.0)
            .map(|(p, q)| p * (p / q.max(1e-12)).ln())
            .sum())
    }
}

/// Two-point correlation $C(r) = \frac1N\sum_x\langle x(x)x(x+r)\rangle$ averaged over a batch,
/// computed as the inverse FFT of the mean power spectrum.
///
/// # Errors
/// As [`power_spectra`].
pub fn two_point_correlation(batch: ArrayViewD<'_, f64>) -> Result<ArrayD<f64>> {
    let ps = power_spectra(batch)?;
    let mean = ps.mean_axis(Axis(0)).expect("non-empty batch");
    let shape = mean.shape().to_vec();
    let n: usize = shape.iter().product();
    let mut planner = FftPlanner::new();
    let mut c: ArrayD<Complex64> = mean.mapv(|v| Complex64::new(v, 0.0));
    for (axis, &len) in shape.iter().enumerate() {
        let plan = planner.plan_fft_inverse(len);
        for mut lane in c.lanes_mut(Axis(axis)) {
            let mut buf: Vec<Complex64> = lane.iter().copied().collect();
            plan.process(&mut buf);
            lane.iter_mut().zip(buf).for_each(|(l, b)| *l = b);
        }
    }
    Ok(ArrayD::from_shape_fn(IxDyn(&shape), |ix| {
        c[ix].re / n as f64
    }))
}

/// Second-moment correlation length
/// $\xi = \sqrt{S(0)/S(k_{\min}) - 1}\,/\,(2\sin(\pi/L))$ from the mean power spectrum $S$,
/// with $k_{\min} = (1, 0, …)$ along axis 0 of length $L$.
///
/// # Errors
/// As [`power_spectra`]; a spectrum with $S(k_{\min}) \le 0$.
pub fn correlation_length(batch: ArrayViewD<'_, f64>) -> Result<f64> {
    let ps = power_spectra(batch)?;
    let mean = ps.mean_axis(Axis(0)).expect("non-empty batch");
    let l = mean.shape()[0];
    let mut kmin = vec![0usize; mean.ndim()];
    kmin[0] = 1;
    let (s0, s1) = (mean[IxDyn(&vec![0; mean.ndim()])], mean[IxDyn(&kmin)]);
    if s1 <= 0.0 {
        return Err(Error::Singular {
            what: "correlation length".into(),
            detail: "S(k_min) = 0".into(),
        });
    }
    Ok((s0 / s1 - 1.0).max(0.0).sqrt() / (2.0 * (std::f64::consts::PI / l as f64).sin()))
}

/// Mean, variance, skewness and excess kurtosis of all values of a batch (one-point marginal).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Moments {
    /// Mean.
    pub mean: f64,
    /// Variance.
    pub variance: f64,
    /// Skewness $\mathbb E[(x-\mu)^3]/\sigma^3$.
    pub skewness: f64,
    /// Excess kurtosis $\mathbb E[(x-\mu)^4]/\sigma^4 - 3$.
    pub excess_kurtosis: f64,
}

impl Moments {
    /// Moments of every value of `x`.
    ///
    /// # Errors
    /// Empty or non-finite data, or zero variance.
    pub fn of(x: ArrayViewD<'_, f64>) -> Result<Self> {
        validate::non_empty("data", x.shape())?;
        validate::finite("data", x.iter())?;
        let n = x.len() as f64;
        let mean = x.sum() / n;
        let (mut m2, mut m3, mut m4) = (0.0, 0.0, 0.0);
        for &v in x.iter() {
            let d = v - mean;
            m2 += d * d;
            m3 += d * d * d;
            m4 += d * d * d * d;
        }
        let (m2, m3, m4) = (m2 / n, m3 / n, m4 / n);
        if m2 <= 0.0 {
            return Err(Error::Singular {
                what: "moments".into(),
                detail: "zero variance".into(),
            });
        }
        Ok(Self {
            mean,
            variance: m2,
            skewness: m3 / m2.powf(1.5),
            excess_kurtosis: m4 / (m2 * m2) - 3.0,
        })
    }
}

/// Mean energy per site $\langle U \rangle / N$ of independent fields under `energy`, with its
/// standard error.
///
/// # Errors
/// Fewer than 2 fields; fields of the wrong shape; a non-finite energy.
pub fn energy_per_site<E: wcrg_core::Energy + ?Sized>(
    energy: &E,
    batch: ArrayViewD<'_, f64>,
) -> Result<(f64, f64)> {
    let b = batch.shape().first().copied().unwrap_or(0);
    if b < 2 {
        return Err(Error::Empty {
            what: "batch of fewer than 2 fields".into(),
        });
    }
    validate::shape("fields", energy.shape(), &batch.shape()[1..])?;
    let mut ws = wcrg_core::Workspace::new();
    let sites = batch.len() as f64 / b as f64;
    let e: Vec<f64> = batch
        .outer_iter()
        .map(|x| energy.energy(x, &mut ws) / sites)
        .collect();
    validate::finite("energies", &e)?;
    let mean = e.iter().sum::<f64>() / b as f64;
    let var = e.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (b - 1) as f64;
    Ok((mean, (var / b as f64).sqrt()))
}
