//! Coarse-to-fine sampling: $x_J$, then each $\bar x_j \mid x_j$ by MALA, then reconstruction.

use ndarray::{Array3, ArrayD, ArrayView3, ArrayViewD, Axis, IxDyn};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use wcrg_core::rng::Streams;
use wcrg_core::{Energy, Sampler, Workspace};
use wcrg_samplers::{DualAveraging, Mala, Tunable, diagnostics::integrated_time};

use crate::coarse::{CoarseKernel, CoarseMoves};
use crate::energies::Conditioned;
use crate::error::{Result, RgError};
use crate::gaussian::exact_gaussian;
use crate::local::LocalMala;
use crate::model::WcrgModel;

/// Settings of [`WcrgModel::sample`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SamplingConfig {
    /// Number of fields to generate.
    pub samples: usize,
    /// Seed: sample `i` at scale `j` uses its own stream, so results do not depend on threads.
    pub seed: u64,
    /// How each conditional scale's details are sampled.
    #[serde(default)]
    pub kernel: DetailKernel,
    /// Transitions per sample at each conditional scale: sweeps for
    /// [`DetailKernel::LocalSweeps`], MALA steps for [`DetailKernel::Mala`].
    pub steps: usize,
    /// Number of Markov chains of the coarsest field; sample `i` comes from chain
    /// `i % coarse_chains`. (A Gaussian coarsest model is drawn exactly, without chains, and
    /// ignores this, [`SamplingConfig::coarse_warmup`] and [`SamplingConfig::coarse_steps`]:
    /// [`ScaleSampling::exact`].)
    pub coarse_chains: usize,
    /// The coarsest-field chains' Markov kernel (MALA by default; files written before this
    /// field existed read as MALA).
    #[serde(default)]
    pub coarse_kernel: CoarseKernel,
    /// Warm-up of each coarsest-field chain, in gradient evaluations (MALA steps; HMC runs
    /// `coarse_warmup / leapfrog_steps` trajectories).
    pub coarse_warmup: usize,
    /// Gradient evaluations (MALA steps; HMC runs `coarse_steps / leapfrog_steps`
    /// trajectories) between two samples of a coarsest-field chain, per 64 sites of the coarsest
    /// field (a 16 × 16 field takes 4 times as many, a 4 × 4 one as many as 8 × 8;
    /// [`SamplingConfig::coarse_thinning`]). The default, 3000, is about the integrated
    /// autocorrelation time of an 8 × 8 coarsest field at β_c, the largest over its energy, its
    /// squared mean and its mean square: 2884 ± 276 MALA steps for the default fit of 500
    /// fields at 64² ([`WcrgModel::coarsest_mixing_time`], 32 chains of 200 000 steps); 225 ± 6
    /// and 335 ± 12 on the 4 × 4 coarsest fields at 16² and 32², 9050 ± 657 on 16 × 16 at 128².
    /// The thinning is thus 13, 9.0, 1.04 and 1.33 τ_int at these sizes, so consecutive samples
    /// of a chain are correlated by about $e^{-2\,\mathrm{thin}/\tau_{\mathrm{int}}}$: 0.12 on
    /// 8 × 8, 0.07 on 16 × 16. Measured directly on the demo's own model (16 chains of 10⁵
    /// steps), consecutive samples of a chain are correlated by 0.12 in $m^2$ (0.08 in the
    /// energy; 0.02 and 0.01 at lag 6000). With 8 samples per chain, standard errors of $m^2$-like
    /// statistics (the Binder cumulant, the lowest modes) that took the fields as independent
    /// would be about 12 % too small; [`Generated::chains`] labels each field's chain, and
    /// [`crate::Report::compare_grouped`] uses it (on the demo the Binder cumulant's error
    /// grows from 0.0028 to 0.0038). Every generation measures it on its own chains
    /// ([`ScaleSampling::consecutive_correlation`]; the demo's 1000 fields from 128 chains give
    /// 0.154 ± 0.034, in agreement). Raise the thinning with
    /// [`SamplingConfig::coarse`].
    /// A longer thinning does not move the law sampled: on the slow test's 64² model below
    /// β_c (β = 0.8, 1000 fields, refined), $\langle m^2\rangle$ of 1000 generated fields was
    /// 8.33, 7.38 and 8.18 · 10⁻³ (± 0.35 · 10⁻³) with thinnings 3000, 6000 and 12 000, and
    /// 8.13 · 10⁻³ with 3000 after a warm-up of 50 000 steps: within 1.7 standard errors of
    /// a difference of each other. The three others are 4–6 % below the training fields'
    /// 8.67 · 10⁻³.
    pub coarse_steps: usize,
    /// MALA steps of step-size adaptation (dual averaging) per adaptation chain and phase,
    /// before sampling (the coarsest field, and the conditional scales under
    /// [`DetailKernel::Mala`]).
    pub adapt_steps: usize,
    /// Sweeps of step-size adaptation per adaptation chain and phase under
    /// [`DetailKernel::LocalSweeps`] (one scalar step settles within a few sweeps, each of
    /// which averages the acceptance over every site).
    #[serde(default = "default_adapt_sweeps")]
    pub adapt_sweeps: usize,
    /// Number of adaptation chains per scale (their final step sizes are averaged).
    pub adapt_chains: usize,
    /// Target acceptance of the adaptation.
    pub target_acceptance: f64,
    /// Steps at a quarter of the adapted step size run before the `steps` at each conditional
    /// scale (MALA from a white-noise start accepts little until it nears the typical set;
    /// [`DetailKernel::Mala`] only).
    pub burn_in: usize,
}

/// The Markov kernel of the conditional scales $\bar x_j \mid x_j$.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub enum DetailKernel {
    /// Sweeps of single-site Langevin moves ([`LocalMala`]): the step size and the number of
    /// sweeps to mix do not depend on the lattice size.
    #[default]
    LocalSweeps,
    /// Global MALA moves of all details at once ([`Mala`]): the step size falls like
    /// $d^{-1/3}$ with the number of sites $d$, so the steps to mix grow like $d^{1/3}$.
    Mala,
}

impl DetailKernel {
    /// The initial step size before adaptation.
    fn initial_step(self) -> f64 {
        match self {
            Self::LocalSweeps => 0.3,
            Self::Mala => 0.05,
        }
    }
}

impl Default for SamplingConfig {
    fn default() -> Self {
        Self {
            samples: 100,
            seed: 0,
            kernel: DetailKernel::LocalSweeps,
            steps: 50,
            coarse_chains: 128,
            coarse_kernel: CoarseKernel::Mala,
            coarse_warmup: 5000,
            coarse_steps: 3000,
            adapt_steps: 300,
            adapt_sweeps: default_adapt_sweeps(),
            adapt_chains: 4,
            target_acceptance: 0.574,
            burn_in: 100,
        }
    }
}

fn default_adapt_sweeps() -> usize {
    30
}

impl SamplingConfig {
    /// `n` samples from `seed` with default steps.
    pub fn new(samples: usize, seed: u64) -> Self {
        Self {
            samples,
            seed,
            ..Self::default()
        }
    }
    /// Sets the transitions (sweeps or MALA steps, by the kernel) per conditional scale.
    pub fn steps(mut self, n: usize) -> Self {
        self.steps = n;
        self
    }
    /// Sets the kernel of the conditional scales.
    pub fn kernel(mut self, kernel: DetailKernel) -> Self {
        self.kernel = kernel;
        self
    }
    /// Sets the chains, warm-up and thinning of the coarsest field.
    pub fn coarse(mut self, chains: usize, warmup: usize, thin: usize) -> Self {
        self.coarse_chains = chains;
        self.coarse_warmup = warmup;
        self.coarse_steps = thin;
        self
    }
    /// Sets the coarsest-field chains' Markov kernel. The thinning and warm-up count gradient
    /// evaluations whatever the kernel: with [`CoarseKernel::hmc`], whose chains mix in about
    /// a quarter of MALA's gradient evaluations on a critical 8 × 8 coarsest field and half on
    /// 16 × 16, that much shorter a thinning keeps consecutive samples as independent (see the
    /// crate docs).
    pub fn coarse_kernel(mut self, kernel: CoarseKernel) -> Self {
        self.coarse_kernel = kernel;
        self
    }
    /// Sets the adaptation steps.
    pub fn adapt_steps(mut self, n: usize) -> Self {
        self.adapt_steps = n;
        self
    }
    /// Gradient evaluations (MALA steps) between two samples of a coarsest-field chain on a
    /// coarsest field of `sites` sites: [`SamplingConfig::coarse_steps`] per 64 sites, at least
    /// `coarse_steps`.
    pub fn coarse_thinning(&self, sites: usize) -> usize {
        self.coarse_steps * (sites / 64).max(1)
    }
}

/// What sampling one scale measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScaleSampling {
    /// Scale: $J$ for the coarsest field (`coarsest` true), else $j$.
    pub level: usize,
    /// Whether this is the coarsest field.
    pub coarsest: bool,
    /// Adapted step size (of each site move for sweeps, of the global move for MALA).
    pub step_size: f64,
    /// Mean acceptance probability over all samples (per site move for sweeps).
    pub acceptance: f64,
    /// Fraction of proposals (site moves for sweeps) rejected for leaving the potential's
    /// support (or non-finite).
    pub support_rejections: f64,
    /// Samples whose coarse field put every starting point outside the support (white noise,
    /// zero, alternating projections and a short chain on the extended energy): their details
    /// were sampled with the potential extended beyond its support
    /// ([`crate::Support::Extended`]). Should be 0 or a handful in thousands.
    pub unconfined_samples: usize,
    /// For the coarsest field, how correlated a chain's consecutive samples are: the
    /// correlation of the squared mean $\bar x_J^2$ (the squared magnetisation up to a factor,
    /// the slowest statistic near a critical point) between samples $k$ and $k + 1$ of the same
    /// coarsest chain, over every such pair of the batch (lag-one autocorrelation about the
    /// batch's mean and variance). With a thinning of $t$ MALA steps it is about
    /// $e^{-2t/\tau_{\text{int}}}$; its standard error is about $1/\sqrt{\text{pairs}}$
    /// (`samples − coarse_chains` pairs). Near 0 the fields are as good as independent in
    /// $m^2$-like statistics; if it is large, raise [`SamplingConfig::coarse_steps`] (the
    /// report's standard errors, which group the fields by chain, count it either way). `None`
    /// for the conditional scales (every field's details come from a chain of its own), with
    /// one sample per chain, or when the statistic is constant.
    #[serde(default)]
    pub consecutive_correlation: Option<f64>,
    /// Whether the coarsest field was drawn exactly rather than by Markov chains: a Gaussian
    /// coarsest model ([`crate::CoarseModel::Gaussian`]) is a stationary Gaussian field, drawn
    /// by FFT with every field independent (no chain, no thinning, no critical slowing down).
    /// The step size is then 0 and the acceptance 1. Always false for the conditional scales.
    #[serde(default)]
    pub exact: bool,
}

/// Generated fields and per-scale sampling statistics.
#[derive(Debug, Clone)]
pub struct Generated {
    /// Fields `(N, L, L)`.
    pub fields: Array3<f64>,
    /// Coarsest first, then $j = J, \dots, 1$.
    pub scales: Vec<ScaleSampling>,
    /// The independence groups of the fields, for standard errors: `chains[i]` labels the
    /// Markov chain of the coarsest field that field `i` descends from ($i \bmod$
    /// [`SamplingConfig::coarse_chains`] for [`WcrgModel::sample`]; $i$ for
    /// [`WcrgModel::sample_given`], where every field has its own chains, and for a Gaussian
    /// coarsest field, drawn exactly field by field). Fields of different
    /// chains are independent; fields of one chain are correlated through their coarsest
    /// fields. Pass it to [`crate::Report::compare_grouped`].
    pub chains: Vec<usize>,
}

/// Runs `steps` transitions of `sampler` from `x0`; returns (final state, summed acceptance
/// probabilities, summed fractions of moves rejected for leaving the support (`outside`, per
/// transition), trace of (energy, squared mean, mean square) if `trace`).
pub(crate) fn run_chain<S: Sampler>(
    sampler: &S,
    x0: ArrayD<f64>,
    steps: usize,
    rng: &mut wcrg_core::rng::Rng,
    ws: &mut Workspace,
    trace: bool,
    outside: impl Fn(&S::State, &wcrg_core::StepInfo) -> f64,
) -> Run {
    let mut state = sampler.init(x0, ws)?;
    let (mut acc, mut div) = (0.0, 0.0);
    let mut energies = Vec::with_capacity(if trace { steps } else { 0 });
    for _ in 0..steps {
        let info = sampler.step(&mut state, rng, ws);
        acc += info.acceptance_probability;
        div += outside(&state, &info);
        if trace {
            let x = sampler.position(&state);
            let n = x.len() as f64;
            let mean = x.sum() / n;
            energies.push([
                info.energy,
                mean * mean,
                x.iter().map(|v| v * v).sum::<f64>() / n,
            ]);
        }
    }
    Ok((sampler.position(&state).to_owned(), acc, div, energies))
}

/// Runs `steps` MALA steps on `energy` from `x0` (as [`run_chain`]).
pub(crate) fn run_mala<E: Energy>(
    energy: E,
    step: f64,
    x0: ArrayD<f64>,
    steps: usize,
    rng: &mut wcrg_core::rng::Rng,
    ws: &mut Workspace,
    trace: bool,
) -> Run {
    let divergent = |_: &_, i: &wcrg_core::StepInfo| f64::from(u8::from(i.divergent));
    run_chain(
        &Mala::new(energy, step)?,
        x0,
        steps,
        rng,
        ws,
        trace,
        divergent,
    )
}

/// Runs the kernel `kernel` on a conditional law: `burn_in` MALA steps at a quarter of `step`
/// then `steps` MALA steps, or `steps` sweeps.
#[allow(clippy::too_many_arguments)]
fn run_details(
    kernel: DetailKernel,
    energy: Conditioned<'_>,
    step: f64,
    x0: ArrayD<f64>,
    burn_in: usize,
    steps: usize,
    rng: &mut wcrg_core::rng::Rng,
    ws: &mut Workspace,
    trace: bool,
) -> Run {
    match kernel {
        DetailKernel::LocalSweeps => {
            let outside = |s: &crate::LocalState, _: &_| s.outside_fraction();
            run_chain(
                &LocalMala::new(energy, step)?,
                x0,
                steps,
                rng,
                ws,
                trace,
                outside,
            )
        }
        DetailKernel::Mala => {
            let x0 = if burn_in > 0 {
                run_mala(energy.clone(), 0.25 * step, x0, burn_in, rng, ws, false)?.0
            } else {
                x0
            };
            run_mala(energy, step, x0, steps, rng, ws, trace)
        }
    }
}

/// Dual-averaging adaptation on `chains` chains, in two phases of `steps` steps (the second
/// restarted from the first's step, on the burnt-in chain); returns the geometric mean of the
/// final steps. `make(c)` gives chain `c`'s kernel (at its initial step) and start.
fn adapt<S: Sampler + Tunable, F: Fn(usize) -> Result<(S, ArrayD<f64>)> + Sync>(
    make: F,
    chains: usize,
    steps: usize,
    target: f64,
    streams: Streams,
) -> Result<f64> {
    let finals: Vec<Result<f64>> = (0..chains)
        .into_par_iter()
        .map(|c| {
            let (mut kernel, x0) = make(c)?;
            let mut ws = Workspace::new();
            let mut rng = streams.rng(c as u64);
            let mut state = kernel.init(x0, &mut ws)?;
            // Two phases: the first also burns the chain in, the second adapts at equilibrium.
            let mut eps = kernel.step_size();
            for _ in 0..2 {
                let mut da = DualAveraging::new(eps, target)?;
                kernel = kernel.with_step_size(eps)?;
                for _ in 0..steps {
                    let info = kernel.step(&mut state, &mut rng, &mut ws);
                    let e = da.update(info.acceptance_probability);
                    kernel = kernel.with_step_size(e)?;
                }
                eps = da.final_step();
            }
            Ok(eps)
        })
        .collect();
    let mut log_sum = 0.0;
    for f in &finals {
        log_sum += f.clone()?.ln();
    }
    Ok((log_sum / chains as f64).exp())
}

/// The coarsest chains' step size: [`adapt`] of MALA (without the sign flips) to
/// `cfg.target_acceptance`, or of HMC to [`crate::HMC_TARGET_ACCEPTANCE`], over `cfg.adapt_steps`
/// moves per phase.
fn adapt_coarse(
    energy: &crate::FieldEnergy,
    cfg: &SamplingConfig,
    start: &(dyn Fn(usize) -> ArrayD<f64> + Sync),
    streams: Streams,
) -> Result<f64> {
    let kind = cfg.coarse_kernel;
    match kind {
        CoarseKernel::Mala => adapt(
            |c| Ok((Mala::new(energy, kind.initial_step())?, start(c))),
            cfg.adapt_chains,
            cfg.adapt_steps,
            cfg.target_acceptance,
            streams,
        ),
        _ => adapt(
            |c| {
                Ok((
                    CoarseMoves::new(energy, kind, kind.initial_step())?,
                    start(c),
                ))
            },
            cfg.adapt_chains,
            cfg.adapt_steps,
            kind.target_acceptance(cfg.target_acceptance),
            streams,
        ),
    }
}

/// [`adapt`] for a conditional law under `kernel`, chains started from `start(c)`.
/// `steps` MALA steps or `sweeps` sweeps per phase, by the kernel.
fn adapt_details<'a, F: Fn(usize) -> Result<(Conditioned<'a>, ArrayD<f64>)> + Sync>(
    kernel: DetailKernel,
    start: F,
    chains: usize,
    (steps, sweeps): (usize, usize),
    target: f64,
    streams: Streams,
) -> Result<f64> {
    let step0 = kernel.initial_step();
    let steps = match kernel {
        DetailKernel::LocalSweeps => sweeps,
        _ => steps,
    };
    match kernel {
        DetailKernel::LocalSweeps => adapt(
            |c| {
                let (e, x0) = start(c)?;
                Ok((LocalMala::new(e, step0)?, x0))
            },
            chains,
            steps,
            target,
            streams,
        ),
        DetailKernel::Mala => adapt(
            |c| {
                let (e, x0) = start(c)?;
                Ok((Mala::new(e, step0)?, x0))
            },
            chains,
            steps,
            target,
            streams,
        ),
    }
}

impl WcrgModel {
    /// Generates fields coarse to fine: $x_J$ by MALA on $U_J$ (with sign flips; a Gaussian
    /// $U_J$ is drawn exactly instead, every field independent: [`ScaleSampling::exact`]), then
    /// for $j = J, \dots, 1$ each $\bar x_j \mid x_j$ by MALA on $\bar E_j$ from unit white noise
    /// and $x_{j-1} = \gamma_j(G^\top x_j + \bar G^\top\bar x_j)$. Each scale's step size is
    /// adapted first on `adapt_chains` chains; every sample has its own random stream.
    ///
    /// # Errors
    /// Zero samples or steps, an adaptation or sampling failure (e.g. every move rejected), a
    /// Gaussian coarsest energy that is not positive definite ([`RgError::Sampling`], naming
    /// its smallest eigenvalue).
    pub fn sample(&self, cfg: &SamplingConfig) -> Result<Generated> {
        self.sample_with_progress(cfg, None)
    }

    /// [`WcrgModel::sample`] reporting `(stage, done, total)` as samples finish.
    ///
    /// # Errors
    /// As [`WcrgModel::sample`].
    pub fn sample_with_progress(
        &self,
        cfg: &SamplingConfig,
        progress: crate::Progress<'_>,
    ) -> Result<Generated> {
        self.sample_down_to(cfg, 1, progress)
    }

    /// [`WcrgModel::sample_with_progress`] stopped after scale `to` ($1 \le$ `to` $\le J + 1$):
    /// the generated $x_{\text{to}-1}$ (the coarsest fields for $J + 1$), identical (same
    /// streams) to what the full generation passes on from that scale.
    pub(crate) fn sample_down_to(
        &self,
        cfg: &SamplingConfig,
        to: usize,
        progress: crate::Progress<'_>,
    ) -> Result<Generated> {
        check_config(cfg)?;
        let streams = Streams::new(cfg.seed);
        let n = cfg.samples;
        let levels = self.levels();
        let mut report = Vec::new();
        let done = std::sync::atomic::AtomicUsize::new(0);
        let total = n * (levels + 2 - to);
        let tick = || {
            let d = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            if let Some(p) = progress
                && (d.is_multiple_of(16) || d == total)
            {
                p("sample", d, total);
            }
        };

        // Coarsest field: exact independent draws for a Gaussian model, else MALA chains.
        let shape = self.coarsest().field_shape().to_vec();
        let st = streams.child(1000);
        let (x, chains) = if let Some(gaussian) = exact_gaussian(self.coarsest())? {
            let draws = st.child(2);
            let fields: Vec<ArrayD<f64>> = (0..n)
                .into_par_iter()
                .map(|i| {
                    let f = gaussian.sample(&mut draws.rng(i as u64));
                    tick();
                    f
                })
                .collect();
            let views: Vec<_> = fields.iter().map(|f| f.view()).collect();
            let x = ndarray::stack(Axis(0), &views).expect("one shape");
            report.push(ScaleSampling {
                level: levels,
                coarsest: true,
                step_size: 0.0,
                acceptance: 1.0,
                support_rejections: 0.0,
                unconfined_samples: 0,
                consecutive_correlation: None,
                exact: true,
            });
            (x, n)
        } else {
            let start = |c: usize| self.coarse_start(c);
            let step = adapt_coarse(self.coarsest(), cfg, &start, st.child(1))?;
            let (x, acc, div) =
                coarse_chains(self.coarsest(), step, cfg, &st, &shape, &start, &tick)?;
            let chains = cfg.coarse_chains.min(n);
            report.push(ScaleSampling {
                level: levels,
                coarsest: true,
                step_size: step,
                acceptance: acc,
                support_rejections: div,
                unconfined_samples: 0,
                consecutive_correlation: consecutive_correlation(x.view(), chains),
                exact: false,
            });
            check_moves(&report, "the coarsest field")?;
            (x, chains)
        };
        let fields = self.generate_details(x, (levels, to), cfg, &streams, &mut report, &tick)?;
        Ok(Generated {
            fields,
            scales: report,
            chains: (0..n).map(|i| i % chains).collect(),
        })
    }

    /// Scales $J, \dots,$ `to` of [`WcrgModel::sample`] from its coarsest fields `coarsest`
    /// (from [`WcrgModel::sample_down_to`] with `to` = $J + 1$ and the same `cfg`): the same
    /// $x_{\text{to}-1}$ as `sample_down_to(cfg, to)`, without generating the coarsest fields again.
    pub(crate) fn sample_from_coarsest(
        &self,
        coarsest: ArrayView3<'_, f64>,
        cfg: &SamplingConfig,
        to: usize,
    ) -> Result<Array3<f64>> {
        self.generate_details(
            coarsest.to_owned().into_dyn(),
            (self.levels(), to),
            cfg,
            &Streams::new(cfg.seed),
            &mut Vec::new(),
            &|| {},
        )
    }

    /// Generates fields from given coarse fields $x_j$ `(N, L/2^j, L/2^j)` (e.g. the data's,
    /// from [`WcrgModel::decompose`]): for $j' = j, \dots, 1$ each $\bar x_{j'} \mid x_{j'}$ as
    /// in [`WcrgModel::sample`], with the same random streams per scale and sample. Conditional
    /// generation: it tests the conditional models apart from the coarser ones, and adds
    /// small-scale detail to coarse fields. `cfg.samples` is ignored (one field per coarse
    /// field).
    ///
    /// # Errors
    /// A level outside $1..J$, coarse fields of the wrong shape, empty or non-finite, the
    /// errors of [`WcrgModel::sample`].
    pub fn sample_given(
        &self,
        coarse: ArrayView3<'_, f64>,
        level: usize,
        cfg: &SamplingConfig,
    ) -> Result<Generated> {
        let mut cfg = cfg.clone();
        cfg.samples = coarse.shape()[0];
        check_config(&cfg)?;
        if level == 0 || level > self.levels() {
            return Err(wcrg_core::Error::InvalidParameter {
                name: "level".into(),
                value: level.to_string(),
                reason: format!("the model has scales 1..={}", self.levels()),
            }
            .into());
        }
        let side = self.field_shape()[0] >> level;
        wcrg_core::validate::shape("coarse fields", &[cfg.samples, side, side], coarse.shape())?;
        wcrg_core::validate::finite("coarse fields", coarse.iter())?;
        let mut report = Vec::new();
        let fields = self.generate_details(
            coarse.to_owned().into_dyn(),
            (level, 1),
            &cfg,
            &Streams::new(cfg.seed),
            &mut report,
            &|| {},
        )?;
        Ok(Generated {
            fields,
            scales: report,
            chains: (0..cfg.samples).collect(),
        })
    }

    /// Scales `from`, ..., `to` of [`WcrgModel::sample`] from the coarse fields `x` of scale
    /// `from`: the fields $x_{\text{to}-1}$.
    fn generate_details(
        &self,
        mut x: ArrayD<f64>,
        (from, to): (usize, usize),
        cfg: &SamplingConfig,
        streams: &Streams,
        report: &mut Vec<ScaleSampling>,
        tick: &(dyn Fn() + Sync),
    ) -> Result<Array3<f64>> {
        let n = cfg.samples;
        for (j, sc) in self.scales()[..from].iter().enumerate().skip(to - 1).rev() {
            let cond = &sc.conditional;
            let dshape = cond.details_shape().to_vec();
            let st = streams.child(j as u64 + 1);
            let xv = x.view();
            let step = adapt_details(
                cfg.kernel,
                |c| {
                    // Start inside the support (or on the extended energy if the coarse field
                    // alone leaves it), as the sampling chains do.
                    let energy = Conditioned::new(cond, xv.index_axis(Axis(0), c % n))?;
                    let mut rng = st.child(2).rng(c as u64);
                    let mut ws = Workspace::new();
                    let step0 = cfg.kernel.initial_step();
                    Ok(
                        match start_inside(&energy, cfg.kernel, step0, &dshape, &mut rng, &mut ws) {
                            Some(x0) => (energy, x0),
                            None => (
                                energy.with_support(crate::Support::Extended),
                                ArrayD::zeros(IxDyn(&dshape)),
                            ),
                        },
                    )
                },
                cfg.adapt_chains,
                (cfg.adapt_steps, cfg.adapt_sweeps),
                cfg.target_acceptance,
                st.child(1),
            )?;
            let unconfined = std::sync::atomic::AtomicUsize::new(0);
            let runs: Vec<Run> = (0..n)
                .into_par_iter()
                .map_init(Workspace::new, |ws, i| {
                    let mut rng = st.rng(i as u64);
                    let energy = Conditioned::new(cond, xv.index_axis(Axis(0), i))?;
                    let (kernel, burn) = (cfg.kernel, cfg.burn_in);
                    let r = match start_inside(&energy, kernel, step, &dshape, &mut rng, ws) {
                        Some(x0) => run_details(
                            kernel, energy, step, x0, burn, cfg.steps, &mut rng, ws, false,
                        ),
                        None => {
                            // The coarse field alone puts x_{j-1} outside the fitted range:
                            // sample this field with the potential extended beyond it.
                            unconfined.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            let extended = energy.with_support(crate::Support::Extended);
                            let x0 = ArrayD::zeros(IxDyn(&dshape));
                            run_details(
                                kernel, extended, step, x0, 0, cfg.steps, &mut rng, ws, false,
                            )
                        }
                    };
                    tick();
                    r
                })
                .collect();
            let (details, stats) = gather(runs, &dshape, cfg.steps)?;
            report.push(ScaleSampling {
                level: j + 1,
                coarsest: false,
                step_size: step,
                acceptance: stats.0,
                support_rejections: stats.1,
                unconfined_samples: unconfined.into_inner(),
                consecutive_correlation: None,
                exact: false,
            });
            check_moves(report, &format!("scale {}", j + 1))?;
            x = cond.split().merge_batch(x.view(), details.view())?;
        }
        let fields = x.into_dimensionality::<ndarray::Ix3>().expect("(N, m, m)");
        wcrg_core::validate::finite("generated fields", fields.iter())?;
        Ok(fields)
    }

    /// Integrated autocorrelation times of each scale's sampler, measured on chains started at
    /// data: for $j = 1..J$, `chains` chains of `steps` transitions of `kernel` (sweeps or MALA
    /// steps) on $\bar x_j \mid x_j$ with $(\bar x_j, x_j)$ from `data`, and for $x_J$ chains of
    /// MALA steps from the data's coarsest fields. Returns a [`MixingTime`] per scale,
    /// $j = 1..J$ then the coarsest ($J$). Step sizes are adapted as in sampling. τ_int is the
    /// largest over three observables of the chain: its energy, the squared mean and the mean
    /// square of its state.
    ///
    /// # Errors
    /// As [`WcrgModel::decompose`]; fewer chains than data fields.
    pub fn mixing_times(
        &self,
        data: ArrayView3<'_, f64>,
        chains: usize,
        steps: usize,
        seed: u64,
        kernel: DetailKernel,
    ) -> Result<Vec<MixingTime>> {
        check_mixing(data, chains, steps)?;
        let (fields, details) = self.decompose(data)?;
        let streams = Streams::new(seed);
        let cfg = SamplingConfig::default().kernel(kernel);
        let mut out = Vec::new();
        for (j, sc) in self.scales().iter().enumerate() {
            let cond = &sc.conditional;
            let coarse = &fields[j + 1];
            let st = streams.child(j as u64 + 1);
            let start = |c: usize| {
                Ok((
                    Conditioned::new(cond, coarse.index_axis(Axis(0), c))?,
                    details[j].index_axis(Axis(0), c).to_owned(),
                ))
            };
            let step = adapt_details(
                kernel,
                start,
                cfg.adapt_chains.min(chains),
                (cfg.adapt_steps, cfg.adapt_sweeps),
                cfg.target_acceptance,
                st.child(1),
            )?;
            let run = |c: usize| -> Result<(f64, f64)> {
                let (energy, x0) = start(c)?;
                let mut ws = Workspace::new();
                let mut rng = st.rng(c as u64);
                let r = run_details(kernel, energy, step, x0, 0, steps, &mut rng, &mut ws, true);
                tau_of(r, steps)
            };
            out.push(measure(run, chains, step, j + 1, false)?);
        }
        let xj = fields.last().expect("coarsest");
        out.push(self.coarsest_tau(xj.view(), chains, steps, &streams, CoarseKernel::Mala)?);
        Ok(out)
    }

    /// The integrated autocorrelation time of the coarsest field's sampler alone: as the last
    /// entry of [`WcrgModel::mixing_times`] with the same arguments (the same chains, bit for
    /// bit), without the conditional scales' chains. The coarsest field's MALA steps are much
    /// cheaper than a conditional scale's sweeps and its τ is much longer, so it is worth
    /// measuring with many more steps: each chain should cover several tens of τ, or Sokal's
    /// window underestimates it. At β_c, on an 8 × 8 coarsest field whose τ is about 3000
    /// steps, 8 chains of 50 000 steps gave 1549 ± 339 where 32 chains of 200 000 give
    /// 2884 ± 276 (the crate docs' critical-slowing table). For a Gaussian coarsest model it
    /// still measures MALA, which [`WcrgModel::sample`] does not use there: its draws are exact
    /// and independent ([`ScaleSampling::exact`]).
    ///
    /// # Errors
    /// As [`WcrgModel::mixing_times`].
    pub fn coarsest_mixing_time(
        &self,
        data: ArrayView3<'_, f64>,
        chains: usize,
        steps: usize,
        seed: u64,
    ) -> Result<MixingTime> {
        check_mixing(data, chains, steps)?;
        let (fields, _) = self.decompose(data)?;
        let xj = fields.last().expect("coarsest");
        self.coarsest_tau(
            xj.view(),
            chains,
            steps,
            &Streams::new(seed),
            CoarseKernel::Mala,
        )
    }

    /// [`WcrgModel::coarsest_mixing_time`] of the coarsest-field kernel `kernel`, run for
    /// `gradients` gradient evaluations per chain (`gradients / leapfrog_steps` trajectories
    /// under HMC), τ_int in gradient evaluations, so that kernels compare at equal cost.
    /// Every 10 moves the chains propose the sign flip, as the generation's and the
    /// refinement's do; none of the three observables changes under it on an even energy. MALA
    /// ([`CoarseKernel::Mala`]) is [`WcrgModel::coarsest_mixing_time`] itself: the same chains,
    /// without the flips.
    ///
    /// # Errors
    /// As [`WcrgModel::mixing_times`]; HMC without leapfrog steps.
    pub fn coarsest_mixing_time_with(
        &self,
        data: ArrayView3<'_, f64>,
        chains: usize,
        gradients: usize,
        seed: u64,
        kernel: CoarseKernel,
    ) -> Result<MixingTime> {
        kernel.check()?;
        check_mixing(data, chains, kernel.moves(gradients))?;
        let (fields, _) = self.decompose(data)?;
        let xj = fields.last().expect("coarsest");
        self.coarsest_tau(xj.view(), chains, gradients, &Streams::new(seed), kernel)
    }

    /// τ_int (gradient evaluations) of `kernel` on the coarsest energy, `chains` chains of
    /// `gradients` gradient evaluations started at the fields `xj`.
    fn coarsest_tau(
        &self,
        xj: ArrayViewD<'_, f64>,
        chains: usize,
        gradients: usize,
        streams: &Streams,
        kernel: CoarseKernel,
    ) -> Result<MixingTime> {
        let mut cfg = SamplingConfig::default().coarse_kernel(kernel);
        cfg.adapt_chains = cfg.adapt_chains.min(chains);
        let st = streams.child(1000);
        let start = |c: usize| xj.index_axis(Axis(0), c).to_owned();
        let step = adapt_coarse(self.coarsest(), &cfg, &start, st.child(1))?;
        let per_move = kernel.gradients_per_move() as f64;
        let moves = kernel.moves(gradients);
        let run = |c: usize| -> Result<(f64, f64)> {
            let mut ws = Workspace::new();
            let mut rng = st.rng(c as u64);
            let r = match kernel {
                CoarseKernel::Mala => run_mala(
                    self.coarsest(),
                    step,
                    start(c),
                    moves,
                    &mut rng,
                    &mut ws,
                    true,
                ),
                _ => run_chain(
                    &CoarseMoves::new(self.coarsest(), kernel, step)?,
                    start(c),
                    moves,
                    &mut rng,
                    &mut ws,
                    true,
                    |_, i| f64::from(u8::from(i.divergent)),
                ),
            };
            tau_of(r, moves).map(|(tau, acc)| (tau * per_move, acc))
        };
        measure(run, chains, step, self.levels(), true)
    }
}

/// Chains and steps of a mixing-time measurement on `data`.
fn check_mixing(data: ArrayView3<'_, f64>, chains: usize, steps: usize) -> Result<()> {
    if chains == 0 || chains > data.shape()[0] || steps < 100 {
        return Err(wcrg_core::Error::InvalidParameter {
            name: "chains/steps".into(),
            value: format!("{chains}/{steps}"),
            reason: "need 1 <= chains <= number of fields and at least 100 steps".into(),
        }
        .into());
    }
    Ok(())
}

/// τ_int of a traced run (largest over its three observables) and its mean acceptance.
fn tau_of(run: Run, steps: usize) -> Result<(f64, f64)> {
    let (_, acc, _, trace) = run?;
    let mut tau = 0.0f64;
    for k in 0..3 {
        let series: Vec<f64> = trace.iter().map(|t| t[k]).collect();
        tau = tau.max(integrated_time(&series)?);
    }
    Ok((tau, acc / steps as f64))
}

/// Integrated autocorrelation time of one scale's sampler.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MixingTime {
    /// Scale $j$ ($J$ for the coarsest field).
    pub level: usize,
    /// Whether this is the coarsest field.
    pub coarsest: bool,
    /// Mean τ_int over chains, in transitions of the scale's kernel (sweeps or MALA steps); in
    /// gradient evaluations for [`WcrgModel::coarsest_mixing_time_with`].
    pub tau: f64,
    /// Standard error of the mean over chains.
    pub tau_err: f64,
    /// Mean acceptance probability (per site move for sweeps).
    pub acceptance: f64,
    /// Step size.
    pub step_size: f64,
}

fn measure<F: Fn(usize) -> Result<(f64, f64)> + Send + Sync>(
    run: F,
    chains: usize,
    step: f64,
    level: usize,
    coarsest: bool,
) -> Result<MixingTime> {
    let runs: Vec<Result<(f64, f64)>> = (0..chains).into_par_iter().map(run).collect();
    let mut taus = Vec::new();
    let mut acc = 0.0;
    for r in runs {
        let (t, a) = r?;
        taus.push(t);
        acc += a;
    }
    let m = taus.iter().sum::<f64>() / chains as f64;
    let var = taus.iter().map(|t| (t - m).powi(2)).sum::<f64>() / (chains.max(2) - 1) as f64;
    Ok(MixingTime {
        level,
        coarsest,
        tau: m,
        tau_err: (var / chains as f64).sqrt(),
        acceptance: acc / chains as f64,
        step_size: step,
    })
}

type Run = Result<(ArrayD<f64>, f64, f64, Vec<[f64; 3]>)>;
type ChainRun = Result<(Vec<ArrayD<f64>>, usize, usize, usize)>;

fn gather(runs: Vec<Run>, shape: &[usize], steps: usize) -> Result<(ArrayD<f64>, (f64, f64))> {
    let n = runs.len();
    let full: Vec<usize> = std::iter::once(n).chain(shape.iter().copied()).collect();
    let mut out = ArrayD::zeros(IxDyn(&full));
    let (mut acc, mut div) = (0.0, 0.0);
    for (mut o, r) in out.outer_iter_mut().zip(runs) {
        let (x, a, d, _) = r?;
        o.assign(&x);
        acc += a;
        div += d;
    }
    let total = (n * steps) as f64;
    Ok((out, (acc / total, div / total)))
}

/// Positive counts in a sampling configuration.
fn check_config(cfg: &SamplingConfig) -> Result<()> {
    if cfg.samples == 0
        || cfg.steps == 0
        || cfg.coarse_steps == 0
        || cfg.coarse_chains == 0
        || cfg.adapt_chains == 0
    {
        return Err(wcrg_core::Error::InvalidParameter {
            name: "sampling config".into(),
            value: format!("{cfg:?}"),
            reason: "samples, steps, coarse chains and steps, adapt_chains must be positive".into(),
        }
        .into());
    }
    cfg.coarse_kernel.check()?;
    Ok(())
}

fn check_moves(report: &[ScaleSampling], stage: &str) -> Result<()> {
    let last = report.last().expect("pushed");
    if last.acceptance == 0.0 {
        return Err(RgError::Sampling {
            stage: stage.into(),
            detail: format!(
                "no move was accepted (step {:.3e}, {:.0}% of proposals left the support of the potential)",
                last.step_size,
                100.0 * last.support_rejections
            ),
        });
    }
    Ok(())
}

/// Every `FLIP_EVERY` MALA steps the coarsest-field chains propose the global sign flip
/// $x \to -x$, accepted with probability $\min(1, e^{U(x) - U(-x)})$: an exact Metropolis move
/// for any energy (the proposal is a symmetric involution), which lets chains cross between the
/// two ordered phases of a nearly $\mathbb Z_2$-symmetric energy.
pub const FLIP_EVERY: usize = 10;

/// Lag-one autocorrelation of the squared mean of fields `x` `(N, ...)` laid out chain by chain
/// as [`coarse_chains`] writes them (sample `k` of chain `c` at `c + k * chains`): over the pairs
/// `(i, i + chains)`, about the mean and variance of all `N`. `None` without pairs or variance.
pub(crate) fn consecutive_correlation(x: ArrayViewD<'_, f64>, chains: usize) -> Option<f64> {
    let n = x.shape()[0];
    if chains == 0 || n <= chains {
        return None;
    }
    let s: Vec<f64> = x
        .outer_iter()
        .map(|f| f.mean().unwrap_or(0.0).powi(2))
        .collect();
    let mean = s.iter().sum::<f64>() / n as f64;
    let var = s.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n as f64;
    let pairs = n - chains;
    let cov = (0..pairs)
        .map(|i| (s[i] - mean) * (s[i + chains] - mean))
        .sum::<f64>()
        / pairs as f64;
    (var > 0.0 && var.is_finite()).then(|| cov / var)
}

fn coarse_chains(
    energy: &crate::FieldEnergy,
    step: f64,
    cfg: &SamplingConfig,
    streams: &Streams,
    shape: &[usize],
    start: &(dyn Fn(usize) -> ArrayD<f64> + Sync),
    tick: &(dyn Fn() + Sync),
) -> Result<(ArrayD<f64>, f64, f64)> {
    let n = cfg.samples;
    let chains = cfg.coarse_chains.min(n);
    let per_chain: Vec<usize> = (0..chains).map(|c| (n - c).div_ceil(chains)).collect();
    let sites: usize = shape.iter().product();
    let (thin, warmup) = (
        cfg.coarse_kernel.moves(cfg.coarse_thinning(sites)),
        cfg.coarse_kernel.moves(cfg.coarse_warmup),
    );
    let runs: Vec<ChainRun> = (0..chains)
        .into_par_iter()
        .map(|c| {
            let mut ws = Workspace::new();
            let mut rng = streams.rng(c as u64);
            let kernel = CoarseMoves::new(energy, cfg.coarse_kernel, step)?;
            let mut state = kernel.init(start(c), &mut ws)?;
            let (mut acc, mut div, mut total) = (0, 0, 0);
            let mut step_once = |state: &mut _, count: bool, ws: &mut Workspace, rng: &mut _| {
                let info = kernel.step(state, rng, ws);
                if count {
                    acc += info.accepted as usize;
                    div += info.divergent as usize;
                    total += 1;
                }
            };
            for _ in 0..warmup {
                step_once(&mut state, false, &mut ws, &mut rng);
            }
            let mut out = Vec::with_capacity(per_chain[c]);
            for _ in 0..per_chain[c] {
                for _ in 0..thin {
                    step_once(&mut state, true, &mut ws, &mut rng);
                }
                out.push(kernel.position(&state).to_owned());
                tick();
            }
            Ok((out, acc, div, total))
        })
        .collect();
    let full: Vec<usize> = std::iter::once(n).chain(shape.iter().copied()).collect();
    let mut x = ArrayD::zeros(IxDyn(&full));
    let (mut acc, mut div, mut total) = (0, 0, 0);
    for (c, r) in runs.into_iter().enumerate() {
        let (fields, a, d, t) = r?;
        for (k, f) in fields.into_iter().enumerate() {
            x.index_axis_mut(Axis(0), c + k * chains).assign(&f);
        }
        acc += a;
        div += d;
        total += t;
    }
    let total = total.max(1) as f64;
    Ok((x, acc as f64 / total, div as f64 / total))
}

/// A starting point of the details inside the potential's support: unit white noise or
/// $\bar x = 0$ if one of them is; else white noise brought inside by alternating projections
/// ([`project_inside`]); else the first state inside of at most [`EXTENDED_START`] transitions
/// of `kernel` on the energy extended beyond the support (a burn-in choice; it does not change
/// the law being sampled afterwards).
fn start_inside(
    energy: &Conditioned<'_>,
    kernel: DetailKernel,
    step: f64,
    shape: &[usize],
    rng: &mut wcrg_core::rng::Rng,
    ws: &mut Workspace,
) -> Option<ArrayD<f64>> {
    // White noise of unit variance: the details' variance on the data, by the choice of γ_j.
    let noise = ArrayD::from_shape_simple_fn(IxDyn(shape), || {
        rand_distr::Distribution::<f64>::sample(&rand_distr::StandardNormal, rng)
    });
    if energy.energy(noise.view(), ws).is_finite() {
        return Some(noise);
    }
    let zero = ArrayD::zeros(IxDyn(shape));
    if energy.energy(zero.view(), ws).is_finite() {
        return Some(zero);
    }
    if let Some(x) = project_inside(energy, noise.view(), ws) {
        return Some(x);
    }
    let extended = energy.clone().with_support(crate::Support::Extended);
    match kernel {
        DetailKernel::LocalSweeps => {
            first_inside(&LocalMala::new(extended, step).ok()?, energy, zero, rng, ws)
        }
        DetailKernel::Mala => first_inside(&Mala::new(extended, step).ok()?, energy, zero, rng, ws),
    }
}

/// Transitions of the extended-energy chain that looks for a start inside the support.
const EXTENDED_START: usize = 100;

/// Rounds of alternating projections in [`project_inside`].
const PROJECTION_ROUNDS: usize = 50;

/// Details $\bar x$ given the coarse field of `energy` whose reconstruction
/// $x_{j-1} = \gamma(G^\top x_j + \bar G^\top\bar x)$ lies inside the potential's support
/// $[a, b]$, by alternating projections from the details `start`: clip $x_{j-1}$ to the middle
/// $[a + w/8, b - w/8]$ ($w = b - a$), then project it back onto the fields whose coarse part is
/// $x_j$ (keep its details; the split is orthogonal up to $\gamma$); at most
/// [`PROJECTION_ROUNDS`] rounds, each two one-level wavelet transforms. Both sets are convex, so
/// the rounds converge to a field in both when there is one. Returns the first details with a
/// finite energy (which also checks any two-site potential), or `None`.
fn project_inside(
    energy: &Conditioned<'_>,
    start: ndarray::ArrayViewD<'_, f64>,
    ws: &mut Workspace,
) -> Option<ArrayD<f64>> {
    let model = energy.model();
    let split = model.split();
    let [a, b] = model.potential().support();
    let margin = 0.125 * (b - a);
    let (lo, hi) = (a + margin, b - margin);
    let coarse = energy.coarse();
    let mut fine = ArrayD::zeros(IxDyn(split.fine_shape()));
    let mut details = start.to_owned();
    let mut dropped = ArrayD::zeros(IxDyn(split.coarse_shape()));
    for _ in 0..PROJECTION_ROUNDS {
        split.merge_into(coarse.view(), details.view(), fine.view_mut(), ws);
        fine.mapv_inplace(|v| v.clamp(lo, hi));
        split.split_into(fine.view(), dropped.view_mut(), details.view_mut(), ws);
        if energy.energy(details.view(), ws).is_finite() {
            return Some(details);
        }
    }
    None
}

/// The first state of at most [`EXTENDED_START`] transitions of `sampler` from `x0` where
/// `energy` is finite.
fn first_inside<S: Sampler>(
    sampler: &S,
    energy: &Conditioned<'_>,
    x0: ArrayD<f64>,
    rng: &mut wcrg_core::rng::Rng,
    ws: &mut Workspace,
) -> Option<ArrayD<f64>> {
    let mut state = sampler.init(x0, ws).ok()?;
    for _ in 0..EXTENDED_START {
        sampler.step(&mut state, rng, ws);
        let x = sampler.position(&state);
        if energy.energy(x.view(), ws).is_finite() {
            return Some(x.to_owned());
        }
    }
    None
}

impl WcrgModel {
    /// The free-energy difference $\bar F_j(x_b) - \bar F_j(x_a)$ of scale `level` ($1..J$) by
    /// thermodynamic integration along $x(t) = x_a + t(x_b - x_a)$:
    /// $$\bar F_j(x_b) - \bar F_j(x_a) = \int_0^1 \mathbb E_{\bar x\sim p(\cdot\mid x(t))}
    /// \big[\langle\nabla_{x_j}\bar E_j(\bar x\mid x(t)),\, x_b - x_a\rangle\big]\,dt,$$
    /// with the midpoint rule on `points` nodes and, at each node, a MALA chain of `steps`
    /// steps (the first half discarded). Returns the estimate and its standard error (batch
    /// means; the quadrature error is not included). An independent check of the regression
    /// $\tilde F_j$, which needs no sampling.
    ///
    /// # Errors
    /// A level outside $1..J$, coarse fields of the wrong shape or non-finite, `points == 0`,
    /// fewer than 200 steps, a chain that cannot start inside the potential's support.
    pub fn free_energy_difference(
        &self,
        level: usize,
        xa: ndarray::ArrayView2<'_, f64>,
        xb: ndarray::ArrayView2<'_, f64>,
        points: usize,
        steps: usize,
        seed: u64,
    ) -> Result<(f64, f64)> {
        if level == 0 || level > self.levels() || points == 0 || steps < 200 {
            return Err(wcrg_core::Error::InvalidParameter {
                name: "level/points/steps".into(),
                value: format!("{level}/{points}/{steps}"),
                reason: format!(
                    "need 1 <= level <= {}, points >= 1, steps >= 200",
                    self.levels()
                ),
            }
            .into());
        }
        let cond = &self.scales()[level - 1].conditional;
        for (name, x) in [("x_a", &xa), ("x_b", &xb)] {
            wcrg_core::validate::shape(name, cond.coarse_shape(), x.shape())?;
            wcrg_core::validate::finite(name, x.iter())?;
        }
        let delta = (&xb - &xa).into_dyn();
        let dshape = cond.details_shape().to_vec();
        let streams = Streams::new(seed);
        // Step size adapted at the midpoint.
        let mid = (&xa + &xb).mapv(|v| 0.5 * v).into_dyn();
        let step = adapt(
            |_| {
                Ok((
                    Mala::new(Conditioned::new(cond, mid.view())?, 0.05)?,
                    ArrayD::zeros(IxDyn(&dshape)),
                ))
            },
            2,
            300,
            0.574,
            streams.child(1),
        )?;
        let nodes: Vec<Result<(f64, f64)>> = (0..points)
            .into_par_iter()
            .map(|k| {
                let t = (k as f64 + 0.5) / points as f64;
                let x = (&xa
                    + &(&delta
                        .view()
                        .into_dimensionality::<ndarray::Ix2>()
                        .expect("2-D")
                        * t))
                    .into_dyn();
                let energy = Conditioned::new(cond, x.view())?;
                let mut ws = Workspace::new();
                let mut rng = streams.rng(k as u64);
                let x0 = start_inside(
                    &energy,
                    DetailKernel::Mala,
                    step,
                    &dshape,
                    &mut rng,
                    &mut ws,
                )
                .ok_or_else(|| RgError::Sampling {
                    stage: format!("thermodynamic integration node {k}"),
                    detail: "no starting point inside the support".into(),
                })?;
                let mala = Mala::new(energy, step)?;
                let mut state = mala.init(x0, &mut ws)?;
                let mut gd = ArrayD::zeros(IxDyn(&dshape));
                let mut gc = ArrayD::zeros(x.raw_dim());
                let mut values = Vec::with_capacity(steps / 2);
                for s in 0..steps {
                    mala.step(&mut state, &mut rng, &mut ws);
                    if s >= steps / 2 {
                        cond.evaluate(
                            mala.position(&state),
                            x.view(),
                            gd.view_mut(),
                            Some(gc.view_mut()),
                            crate::Support::Extended,
                            &mut ws,
                        );
                        values.push(gc.iter().zip(delta.iter()).map(|(a, b)| a * b).sum::<f64>());
                    }
                }
                // Batch means over 10 batches.
                let b = values.len() / 10;
                let means: Vec<f64> = values
                    .chunks(b.max(1))
                    .take(10)
                    .map(|c| c.iter().sum::<f64>() / c.len() as f64)
                    .collect();
                let m = values.iter().sum::<f64>() / values.len() as f64;
                let var = means.iter().map(|v| (v - m).powi(2)).sum::<f64>()
                    / (means.len().max(2) - 1) as f64;
                Ok((m, var / means.len() as f64))
            })
            .collect();
        let (mut total, mut var) = (0.0, 0.0);
        let w = 1.0 / points as f64;
        for r in nodes {
            let (m, v) = r?;
            total += w * m;
            var += w * w * v;
        }
        Ok((total, var.sqrt()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ConditionalEnergy, ConditionalSpec, Coupling, Couplings, Potential};
    use wcrg_energy_models::features::Basis;

    /// Unit self-couplings of the details and $t^2/2 + t^4/4$ on $x_{j-1}$ with support
    /// $[-2, 2]$.
    fn confined(n: usize) -> ConditionalEnergy {
        let list = (0..3)
            .map(|c| Coupling {
                c,
                d: c,
                shift: [0, 0],
                theta: 1.0,
            })
            .collect();
        ConditionalEnergy::new(ConditionalSpec {
            wavelet: "db2".into(),
            fine: [2 * n, 2 * n],
            gamma: 0.7,
            couplings: Couplings::new(vec![true, true, true, false], [n, n], list).unwrap(),
            potential: Potential::new(Basis::Powers(vec![2, 4]), vec![0.5, 0.25], [-2.0, 2.0])
                .unwrap(),
            stiffness: None,
            differences: None,
        })
        .unwrap()
    }

    fn noise(shape: &[usize], scale: f64, seed: u64) -> ArrayD<f64> {
        let mut rng = Streams::new(seed).rng(0);
        ArrayD::from_shape_simple_fn(IxDyn(shape), || {
            scale * rand_distr::Distribution::<f64>::sample(&rand_distr::StandardNormal, &mut rng)
        })
    }

    /// From details far outside the support, the projections find details whose
    /// reconstruction lies inside it, with the coarse field unchanged.
    #[test]
    fn projection_brings_the_details_inside_and_keeps_the_coarse_field() {
        let model = confined(8);
        let coarse = noise(&[8, 8], 0.5, 1);
        let energy = Conditioned::new(&model, coarse.view()).unwrap();
        let mut ws = Workspace::new();
        let start = noise(model.details_shape(), 4.0, 2);
        assert!(!energy.energy(start.view(), &mut ws).is_finite());
        let inside = project_inside(&energy, start.view(), &mut ws).expect("a field inside");
        assert!(energy.energy(inside.view(), &mut ws).is_finite());
        let split = model.split();
        let mut fine = ArrayD::zeros(IxDyn(split.fine_shape()));
        split.merge_into(coarse.view(), inside.view(), fine.view_mut(), &mut ws);
        assert!(fine.iter().all(|v| v.abs() <= 2.0), "{fine:?}");
        let mut c = ArrayD::zeros(IxDyn(split.coarse_shape()));
        let mut d = ArrayD::zeros(IxDyn(model.details_shape()));
        split.split_into(fine.view(), c.view_mut(), d.view_mut(), &mut ws);
        for (a, b) in c.iter().zip(&coarse) {
            assert!((a - b).abs() < 1e-12, "coarse part {a} against {b}");
        }
    }

    /// A coarse field that no details can bring inside the support: `None`, after the
    /// bounded number of rounds.
    #[test]
    fn projection_gives_up_when_the_coarse_field_alone_leaves_the_support() {
        let model = confined(8);
        let mut coarse = noise(&[8, 8], 0.5, 3);
        coarse[[3, 4]] = 50.0;
        let energy = Conditioned::new(&model, coarse.view()).unwrap();
        let mut ws = Workspace::new();
        let start = noise(model.details_shape(), 1.0, 4);
        assert!(project_inside(&energy, start.view(), &mut ws).is_none());
    }
}
