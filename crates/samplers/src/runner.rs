//! Multi-chain runs: warm-up (optionally adapting the step size), thinning, parallel chains.

use ndarray::ArrayD;
use rayon::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use wcrg_core::rng::Streams;
use wcrg_core::{Error, Result, Sampler, Workspace};

use crate::adapt::DualAveraging;
use crate::kernels::Tunable;

/// What a run does. Chain `c` uses the stream `Streams::new(seed).rng(c)`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RunConfig {
    /// Steps discarded before recording (and used for adaptation, if any).
    pub warmup: usize,
    /// Number of recorded draws per chain.
    pub draws: usize,
    /// Steps between recorded draws (1 = every step).
    pub thin: usize,
    /// The run's seed.
    pub seed: u64,
    /// Target acceptance probability of step-size adaptation (used by [`run_chains_adapted`]).
    pub target_acceptance: f64,
}

impl Default for RunConfig {
    fn default() -> Self {
        Self {
            warmup: 1000,
            draws: 1000,
            thin: 1,
            seed: 0,
            target_acceptance: 0.574,
        }
    }
}

impl RunConfig {
    /// Sets the warm-up length.
    pub fn warmup(mut self, n: usize) -> Self {
        self.warmup = n;
        self
    }
    /// Sets the number of recorded draws per chain.
    pub fn draws(mut self, n: usize) -> Self {
        self.draws = n;
        self
    }
    /// Sets the thinning.
    pub fn thin(mut self, n: usize) -> Self {
        self.thin = n;
        self
    }
    /// Sets the seed.
    pub fn seed(mut self, s: u64) -> Self {
        self.seed = s;
        self
    }
    /// Sets the adaptation target.
    pub fn target_acceptance(mut self, a: f64) -> Self {
        self.target_acceptance = a;
        self
    }

    fn validate(&self) -> Result<()> {
        if self.draws == 0 || self.thin == 0 {
            return Err(Error::InvalidParameter {
                name: "draws, thin".into(),
                value: format!("{}, {}", self.draws, self.thin),
                reason: "both must be at least 1".into(),
            });
        }
        Ok(())
    }
}

/// The output of one chain.
#[derive(Debug, Clone)]
pub struct Chain {
    /// Recorded positions.
    pub draws: Vec<ArrayD<f64>>,
    /// Energies of the recorded positions.
    pub energies: Vec<f64>,
    /// Mean acceptance probability after warm-up.
    pub mean_acceptance: f64,
    /// Number of divergent steps after warm-up.
    pub divergences: usize,
    /// The step size used after warm-up (adapted runs).
    pub step_size: Option<f64>,
}

/// Progress reports: `(steps done over all chains, total steps)`.
pub type Progress<'a> = Option<&'a (dyn Fn(usize, usize) + Sync)>;

fn sample<K: Sampler>(
    kernel: &K,
    mut state: K::State,
    rng: &mut wcrg_core::rng::Rng,
    cfg: &RunConfig,
    tick: &dyn Fn(),
    step_size: Option<f64>,
) -> Chain {
    let mut ws = Workspace::new();
    let mut out = Chain {
        draws: Vec::with_capacity(cfg.draws),
        energies: Vec::with_capacity(cfg.draws),
        mean_acceptance: 0.0,
        divergences: 0,
        step_size,
    };
    let steps = cfg.draws * cfg.thin;
    for i in 0..steps {
        let info = kernel.step(&mut state, rng, &mut ws);
        out.mean_acceptance += info.acceptance_probability / steps as f64;
        out.divergences += info.divergent as usize;
        if (i + 1) % cfg.thin == 0 {
            out.draws.push(kernel.position(&state).to_owned());
            out.energies.push(info.energy);
        }
        tick();
    }
    out
}

fn counter<'a>(
    progress: Progress<'a>,
    total: usize,
) -> (AtomicUsize, impl Fn(&AtomicUsize) + Sync + 'a) {
    (AtomicUsize::new(0), move |c: &AtomicUsize| {
        let done = c.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(p) = progress
            && (done.is_multiple_of(64) || done == total)
        {
            p(done, total);
        }
    })
}

/// Runs `chain(c, x0, rng, tick)` for every initial state in parallel, chain `c` with the
/// stream `Streams::new(cfg.seed).rng(c)` and `tick` reporting one step of progress.
fn each_chain<F>(
    inits: Vec<ArrayD<f64>>,
    cfg: &RunConfig,
    progress: Progress<'_>,
    chain: F,
) -> Result<Vec<Chain>>
where
    F: Fn(ArrayD<f64>, &mut wcrg_core::rng::Rng, &(dyn Fn() + Sync)) -> Result<Chain> + Sync,
{
    cfg.validate()?;
    let total = inits.len() * (cfg.warmup + cfg.draws * cfg.thin);
    let (count, tick) = counter(progress, total);
    inits
        .into_par_iter()
        .enumerate()
        .map(|(c, x0)| {
            chain(x0, &mut Streams::new(cfg.seed).rng(c as u64), &|| {
                tick(&count)
            })
        })
        .collect()
}

/// Runs one chain per initial state, in parallel, with a fixed kernel.
///
/// # Errors
/// An invalid configuration, or an initial state the kernel refuses.
pub fn run_chains<K: Sampler>(
    kernel: &K,
    inits: Vec<ArrayD<f64>>,
    cfg: &RunConfig,
    progress: Progress<'_>,
) -> Result<Vec<Chain>> {
    each_chain(inits, cfg, progress, |x0, rng, tick| {
        let mut ws = Workspace::new();
        let mut state = kernel.init(x0, &mut ws)?;
        for _ in 0..cfg.warmup {
            kernel.step(&mut state, rng, &mut ws);
            tick();
        }
        Ok(sample(kernel, state, rng, cfg, tick, None))
    })
}

/// Like [`run_chains`], but each chain adapts its step size by [`DualAveraging`] toward
/// `cfg.target_acceptance` during warm-up, then samples with the averaged step size.
///
/// # Errors
/// An invalid configuration, or an initial state the kernel refuses.
pub fn run_chains_adapted<K: Sampler + Tunable>(
    kernel: &K,
    inits: Vec<ArrayD<f64>>,
    cfg: &RunConfig,
    progress: Progress<'_>,
) -> Result<Vec<Chain>> {
    each_chain(inits, cfg, progress, |x0, rng, tick| {
        let mut ws = Workspace::new();
        let mut state = kernel.init(x0, &mut ws)?;
        let mut adapt = DualAveraging::new(kernel.step_size(), cfg.target_acceptance)?;
        let mut k = kernel.with_step_size(kernel.step_size())?;
        for _ in 0..cfg.warmup {
            let info = k.step(&mut state, rng, &mut ws);
            k = k.with_step_size(adapt.update(info.acceptance_probability))?;
            tick();
        }
        let k = k.with_step_size(adapt.final_step())?;
        let step = k.step_size();
        Ok(sample(&k, state, rng, cfg, tick, Some(step)))
    })
}
