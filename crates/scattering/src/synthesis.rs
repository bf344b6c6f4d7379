//! Field synthesis by moment matching: minimise $\|R\Phi(x) - R\bar\Phi\|^2$ (plus optional
//! power-spectrum and histogram terms) with L-BFGS from white noise.

use crate::error::{ScatteringError, invalid};
use crate::features::ScatteringFeatures;
use crate::fourier::Fft2;
use crate::lbfgs::{LbfgsSettings, minimize};
use crate::reduction::Reduction;
use crate::spectra::{ScatteringSpectra, SpectraWorkspace};
use ndarray::{Array1, Array2, Array3, ArrayView2, ArrayView3, Axis};
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;
use rustfft::FftPlanner;
use rustfft::num_complex::Complex64;

/// Settings of a [`Synthesis`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SynthesisConfig {
    /// Maximum L-BFGS iterations per field (default 3000).
    pub max_iterations: usize,
    /// L-BFGS memory (default 50).
    pub memory: usize,
    /// Stop when $\sqrt{\text{loss}} / \|R\bar\Phi\|$ falls below this value (default 2e-4).
    pub tolerance: f64,
    /// Weight of the radial power-spectrum term $\sum_{b \ge 1} (P_b(x)/\bar P_b - 1)^2$ over
    /// the integer shells $b = \mathrm{round}(|k|)$ (default 0).
    pub power_spectrum_weight: f64,
    /// Weight of the histogram term $\frac1n\sum_i (x_{(i)} - \bar q_i)^2/\bar\sigma^2$, the
    /// squared Wasserstein-2 distance between the marginals (default 0).
    pub histogram_weight: f64,
    /// Seed; field `f` starts from white noise drawn from stream `f` (default 0).
    pub seed: u64,
}

impl Default for SynthesisConfig {
    fn default() -> Self {
        Self {
            max_iterations: 3000,
            memory: 50,
            tolerance: 2e-4,
            power_spectrum_weight: 0.0,
            histogram_weight: 0.0,
            seed: 0,
        }
    }
}

impl SynthesisConfig {
    /// Sets `max_iterations`.
    pub fn max_iterations(mut self, v: usize) -> Self {
        self.max_iterations = v;
        self
    }
    /// Sets `power_spectrum_weight`.
    pub fn power_spectrum_weight(mut self, v: f64) -> Self {
        self.power_spectrum_weight = v;
        self
    }
    /// Sets `histogram_weight`.
    pub fn histogram_weight(mut self, v: f64) -> Self {
        self.histogram_weight = v;
        self
    }
    /// Sets `seed`.
    pub fn seed(mut self, v: u64) -> Self {
        self.seed = v;
        self
    }
    /// Sets `tolerance`.
    pub fn tolerance(mut self, v: f64) -> Self {
        self.tolerance = v;
        self
    }
}

/// Per-field outcome of [`Synthesis::generate`].
#[derive(Debug, Clone, PartialEq)]
pub struct SynthesisReport {
    /// L-BFGS iterations.
    pub iterations: usize,
    /// Loss evaluations.
    pub evaluations: usize,
    /// Final loss.
    pub loss: f64,
    /// $\|R\Phi(x) - R\bar\Phi\| / \|R\bar\Phi\|$ at the end.
    pub relative_error: f64,
}

/// A synthesis problem: target statistics measured on one or several fields.
#[derive(Debug, Clone)]
pub struct Synthesis {
    features: ScatteringFeatures,
    target: Array1<f64>,
    shape: (usize, usize),
    mean: f64,
    sd: f64,
    /// Radial bin of each Fourier index, and the target's power per bin.
    bins: Vec<usize>,
    bin_counts: Vec<f64>,
    target_power: Vec<f64>,
    /// Target quantiles at the ranks of an `M N`-point sample.
    quantiles: Vec<f64>,
    /// Preconditioner: $x = A y$ with $\hat A(k) = \sqrt{\bar P(k)/\langle\bar P\rangle}$, the
    /// square root of the targets' 2-D power spectrum (floored at 1e-3 of its peak).
    precond: Vec<f64>,
    fft: Fft2,
    config: SynthesisConfig,
}

impl Synthesis {
    /// Targets `(B, M, N)` (periodic fields), $J$ scales, $L$ orientations, and either the
    /// isotropic reduction with an orientation-averaged normalisation (the usual choice for
    /// statistically isotropic fields) or the full statistics (`isotropic = false`).
    ///
    /// # Errors
    /// See [`ScatteringSpectra::new`] and [`ScatteringSpectra::normalization`].
    pub fn new(
        targets: ArrayView3<'_, f64>,
        j: usize,
        l: usize,
        isotropic: bool,
        config: SynthesisConfig,
    ) -> Result<Self, ScatteringError> {
        let (_, m, n) = targets.dim();
        let spectra = ScatteringSpectra::new((m, n), j, l)?;
        let reduction = if isotropic {
            Reduction::isotropic(&spectra)
        } else {
            Reduction::identity(&spectra)
        };
        let norm = spectra.normalization(targets)?;
        let norm = if isotropic { norm.isotropized(l) } else { norm };
        Self::with_features(
            targets,
            ScatteringFeatures::new(spectra, norm, reduction)?,
            config,
        )
    }

    /// Targets and a prepared feature map (any normalisation and reduction).
    ///
    /// # Errors
    /// Empty or mis-shaped targets, non-finite values, negative weights, zero iterations.
    pub fn with_features(
        targets: ArrayView3<'_, f64>,
        features: ScatteringFeatures,
        config: SynthesisConfig,
    ) -> Result<Self, ScatteringError> {
        let shape = features.spectra().shape();
        let (b, m, n) = targets.dim();
        if b == 0 {
            return Err(wcrg_core::Error::Empty {
                what: "synthesis targets".into(),
            }
            .into());
        }
        if (m, n) != shape {
            return Err(wcrg_core::Error::ShapeMismatch {
                what: "synthesis targets (B, M, N)".into(),
                expected: vec![b, shape.0, shape.1],
                actual: vec![b, m, n],
            }
            .into());
        }
        crate::error::check_finite("synthesis targets", targets.iter())?;
        if config.tolerance.is_nan() || config.tolerance < 0.0 {
            return Err(invalid(
                "tolerance",
                config.tolerance,
                "must be non-negative",
            ));
        }
        if config.max_iterations == 0 {
            return Err(invalid("max_iterations", 0, "must be at least 1"));
        }
        if [config.power_spectrum_weight, config.histogram_weight]
            .iter()
            .any(|w| w.is_nan() || *w < 0.0)
        {
            return Err(invalid(
                "weights",
                format!(
                    "{}, {}",
                    config.power_spectrum_weight, config.histogram_weight
                ),
                "must be non-negative",
            ));
        }
        let mut ws = SpectraWorkspace::default();
        let mut target = Array1::zeros(features.reduction().len());
        for x in targets.axis_iter(Axis(0)) {
            let full = features
                .spectra()
                .values(x, features.normalization(), &mut ws);
            target += &features.reduction().apply(full.view());
        }
        target /= b as f64;
        let npts = m * n;
        let all: Vec<f64> = targets.iter().copied().collect();
        let mean = all.iter().sum::<f64>() / all.len() as f64;
        let sd = (all.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / all.len() as f64).sqrt();
        if sd == 0.0 {
            return Err(invalid("synthesis targets", 0.0, "are constant"));
        }
        let mut sorted = all;
        sorted.sort_by(f64::total_cmp);
        let quantiles = (0..npts)
            .map(|i| sorted[((i as f64 + 0.5) / npts as f64 * sorted.len() as f64) as usize])
            .collect();
        let freq = |i: usize, len: usize| {
            if i <= len / 2 {
                i as f64
            } else {
                i as f64 - len as f64
            }
        };
        let bins: Vec<usize> = (0..npts)
            .map(|i| {
                (freq(i / n, m).powi(2) + freq(i % n, n).powi(2))
                    .sqrt()
                    .round() as usize
            })
            .collect();
        let nbins = bins.iter().max().map_or(1, |b| b + 1);
        let mut bin_counts = vec![0.0; nbins];
        for &bi in &bins {
            bin_counts[bi] += 1.0;
        }
        let mut planner = FftPlanner::new();
        let fft = Fft2::new(&mut planner, m, n);
        let mut target_power = vec![0.0; nbins];
        let mut power2d = vec![0.0; npts];
        let mut buf = Vec::new();
        let mut scratch = Vec::new();
        for x in targets.axis_iter(Axis(0)) {
            buf.clear();
            buf.extend(x.iter().map(|&v| Complex64::new(v, 0.0)));
            fft.run(&mut buf, false, &mut scratch);
            for ((z, &bi), p2) in buf.iter().zip(&bins).zip(power2d.iter_mut()) {
                target_power[bi] += z.norm_sqr() / npts as f64 / bin_counts[bi] / b as f64;
                *p2 += z.norm_sqr() / b as f64;
            }
        }
        // Isotropise the preconditioner (average over each shell) and take its square root.
        let mut shell = vec![0.0; nbins];
        for (p2, &bi) in power2d.iter().zip(&bins) {
            shell[bi] += p2 / bin_counts[bi];
        }
        let mean_power = shell
            .iter()
            .zip(&bin_counts)
            .map(|(p, c)| p * c)
            .sum::<f64>()
            / npts as f64;
        let peak = shell.iter().fold(0.0f64, |a, &v| a.max(v));
        let precond = bins
            .iter()
            .map(|&bi| (shell[bi].max(1e-6 * peak) / mean_power).sqrt())
            .collect();
        Ok(Self {
            features,
            target,
            shape,
            mean,
            sd,
            bins,
            bin_counts,
            target_power,
            quantiles,
            precond,
            fft,
            config,
        })
    }

    /// The target statistics $R\bar\Phi$ (averaged over the targets).
    pub fn target(&self) -> &Array1<f64> {
        &self.target
    }

    /// The feature map.
    pub fn features(&self) -> &ScatteringFeatures {
        &self.features
    }

    /// $\|R\Phi(x) - R\bar\Phi\| / \|R\bar\Phi\|$ for one field.
    ///
    /// # Panics
    /// When `x` does not have the target shape.
    pub fn relative_error(&self, x: ArrayView2<'_, f64>) -> f64 {
        let mut ws = SpectraWorkspace::default();
        let full = self
            .features
            .spectra()
            .values(x, self.features.normalization(), &mut ws);
        let v = self.features.reduction().apply(full.view());
        let num: f64 = v
            .iter()
            .zip(&self.target)
            .map(|(a, b)| (a - b).powi(2))
            .sum();
        let den: f64 = self.target.iter().map(|a| a * a).sum();
        (num / den).sqrt()
    }

    /// The loss at `x` (a flattened field), writing its gradient into `grad`.
    ///
    /// # Panics
    /// When `x` or `grad` does not have `M N` entries.
    pub fn loss_and_gradient(&self, x: &[f64], grad: &mut [f64], ws: &mut SpectraWorkspace) -> f64 {
        let (m, n) = self.shape;
        let npts = m * n;
        assert_eq!(x.len(), npts, "field length (expected, actual)");
        let xv = ArrayView2::from_shape((m, n), x).expect("shape");
        let mut g = Array2::zeros((m, n));
        let mut loss = 0.0;
        self.features.value_and_pullback(
            xv.into_dyn(),
            |value| {
                let diff = &value - &self.target;
                loss = diff.iter().map(|d| d * d).sum();
                diff * 2.0
            },
            g.view_mut().into_dyn(),
            ws,
        );
        grad.copy_from_slice(g.as_slice().expect("contiguous"));
        let w = self.config.power_spectrum_weight;
        if w > 0.0 {
            let fft = &self.fft;
            let mut buf: Vec<Complex64> = x.iter().map(|&v| Complex64::new(v, 0.0)).collect();
            let mut scratch = Vec::new();
            fft.run(&mut buf, false, &mut scratch);
            let mut power = vec![0.0; self.target_power.len()];
            for (z, &bi) in buf.iter().zip(&self.bins) {
                power[bi] += z.norm_sqr() / npts as f64 / self.bin_counts[bi];
            }
            // dL/dP_b, then x̄ = 2 Re(ifft(g_b / n_b X)).
            // Bin 0 (the mean) is left to the mean statistic.
            let floor = 1e-12 * self.target_power.iter().fold(0.0f64, |a, &v| a.max(v));
            let gb: Vec<f64> = power
                .iter()
                .zip(&self.target_power)
                .zip(&self.bin_counts)
                .enumerate()
                .map(|(b, ((p, t), c))| {
                    if b > 0 && *t > floor {
                        loss += w * (p / t - 1.0).powi(2);
                        2.0 * w * (p / t - 1.0) / t / c
                    } else {
                        0.0
                    }
                })
                .collect();
            for (z, &bi) in buf.iter_mut().zip(&self.bins) {
                *z *= gb[bi];
            }
            fft.run(&mut buf, true, &mut scratch);
            for (gv, z) in grad.iter_mut().zip(&buf) {
                *gv += 2.0 * z.re;
            }
        }
        let w = self.config.histogram_weight;
        if w > 0.0 {
            let mut order: Vec<usize> = (0..npts).collect();
            order.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
            let s2 = self.sd * self.sd;
            for (rank, &i) in order.iter().enumerate() {
                let d = x[i] - self.quantiles[rank];
                loss += w * d * d / (npts as f64 * s2);
                grad[i] += 2.0 * w * d / (npts as f64 * s2);
            }
        }
        loss
    }

    /// `out = A v`: the convolution with the preconditioner (symmetric, so also its adjoint).
    fn apply_precond(
        &self,
        v: &[f64],
        out: &mut [f64],
        buf: &mut Vec<Complex64>,
        scratch: &mut Vec<Complex64>,
    ) {
        buf.clear();
        buf.extend(v.iter().map(|&a| Complex64::new(a, 0.0)));
        let fft = &self.fft;
        fft.run(buf, false, scratch);
        for (z, p) in buf.iter_mut().zip(&self.precond) {
            *z *= p;
        }
        fft.run(buf, true, scratch);
        for (o, z) in out.iter_mut().zip(buf.iter()) {
            *o = z.re;
        }
    }

    /// Generates `count` fields in parallel, field `f` from a Gaussian field with the targets'
    /// mean and isotropised power spectrum drawn from stream `f` of the configured seed; results
    /// do not depend on the number of threads. L-BFGS runs on the whitened variable $y$ of
    /// $x = \bar x + A y$ ($A$: square root of the targets' spectrum), which equalises the
    /// curvature of the spectral terms across frequencies.
    ///
    /// # Errors
    /// `count = 0`.
    pub fn generate(
        &self,
        count: usize,
    ) -> Result<(Array3<f64>, Vec<SynthesisReport>), ScatteringError> {
        if count == 0 {
            return Err(invalid("count", 0, "must be at least 1"));
        }
        let (m, n) = self.shape;
        let streams = wcrg_core::rng::Streams::new(self.config.seed);
        let results: Vec<(Vec<f64>, SynthesisReport)> = (0..count)
            .into_par_iter()
            .map(|f| {
                let mut rng = streams.rng(f as u64);
                // Start from a Gaussian field with the targets' spectrum (white noise through
                // the preconditioner), and optimise the white variable y of x = A y.
                let mut y: Vec<f64> = (0..m * n)
                    .map(|_| {
                        let z: f64 = StandardNormal.sample(&mut rng);
                        self.sd * z
                    })
                    .collect();
                let mut ws = SpectraWorkspace::default();
                let settings = LbfgsSettings {
                    memory: self.config.memory,
                    max_iterations: self.config.max_iterations,
                    loss_tol: self.config.tolerance.powi(2)
                        * self.target.iter().map(|t| t * t).sum::<f64>(),
                    stall_tol: 1e-9,
                };
                let mut xbuf = vec![0.0; m * n];
                let mut gx = vec![0.0; m * n];
                let mut cbuf = Vec::new();
                let mut scratch = Vec::new();
                let r = minimize(&mut y, settings, |y, gy| {
                    self.apply_precond(y, &mut xbuf, &mut cbuf, &mut scratch);
                    for v in xbuf.iter_mut() {
                        *v += self.mean;
                    }
                    let loss = self.loss_and_gradient(&xbuf, &mut gx, &mut ws);
                    self.apply_precond(&gx, gy, &mut cbuf, &mut scratch);
                    loss
                });
                let mut x = vec![0.0; m * n];
                self.apply_precond(&y, &mut x, &mut cbuf, &mut scratch);
                for v in x.iter_mut() {
                    *v += self.mean;
                }
                let rel = self.relative_error(ArrayView2::from_shape((m, n), &x).expect("shape"));
                (
                    x,
                    SynthesisReport {
                        iterations: r.iterations,
                        evaluations: r.evaluations,
                        loss: r.loss,
                        relative_error: rel,
                    },
                )
            })
            .collect();
        let mut out = Array3::zeros((count, m, n));
        let mut reports = Vec::with_capacity(count);
        for (f, (x, r)) in results.into_iter().enumerate() {
            out.index_axis_mut(Axis(0), f)
                .assign(&ArrayView2::from_shape((m, n), &x).expect("shape"));
            reports.push(r);
        }
        Ok((out, reports))
    }
}
