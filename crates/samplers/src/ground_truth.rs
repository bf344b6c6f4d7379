//! Ground-truth φ⁴ samples and the critical coupling from Binder-cumulant crossings.

use ndarray::{ArrayD, IxDyn};
use rayon::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use wcrg_core::rng::{Rng, Streams};
use wcrg_core::{Error, Result, Sampler, Workspace};
use wcrg_energy_models::Phi4;

use crate::diagnostics::integrated_time;
use crate::kernels::{CheckerboardMetropolis, Cycle, Repeat, Tunable, Wolff};
use crate::observables::{Phi4Observables, magnetisation};
use crate::{FieldState, RunConfig, run_chains_adapted};

/// Settings of the φ⁴ ground-truth generator.
///
/// The kernel is one checkerboard Metropolis sweep (width adapted to acceptance 0.5 during a
/// short pilot) followed by `wolff_per_sweep` Wolff cluster flips. After `warmup_sweeps`, a pilot
/// of `pilot_sweeps` measures the integrated autocorrelation time $\tau$ of $|m|$ on every chain;
/// samples are then recorded every $\lceil 2\tau_{\max}\rceil$ sweeps, so consecutive samples of
/// a chain are correlated by at most $e^{-2}$ in $|m|$.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Phi4GroundTruth {
    /// Lattice shape.
    pub shape: Vec<usize>,
    /// Coupling $\beta$.
    pub beta: f64,
    /// Quartic coupling $\lambda$ of $V = \lambda(\varphi^2-1)^2$.
    pub lambda: f64,
    /// Number of samples to return.
    pub samples: usize,
    /// Number of independent chains (fixed, so results do not depend on the thread count).
    pub chains: usize,
    /// Seed of the run.
    pub seed: u64,
    /// Sweeps discarded at the start of every chain.
    pub warmup_sweeps: usize,
    /// Sweeps of the pilot that measures $\tau$.
    pub pilot_sweeps: usize,
    /// Wolff cluster flips after each Metropolis sweep (0 for local updates only).
    pub wolff_per_sweep: usize,
}

/// Output of [`Phi4GroundTruth::generate`].
#[derive(Debug, Clone)]
pub struct GroundTruth {
    /// Samples `(samples, shape…)`.
    pub samples: ArrayD<f64>,
    /// Largest integrated autocorrelation time of $|m|$ over chains, in sweeps.
    pub tau_abs_m: f64,
    /// Sweeps between recorded samples.
    pub thin: usize,
    /// Total sweeps over all chains.
    pub sweeps: usize,
    /// The adapted Metropolis proposal width.
    pub width: f64,
}

impl Phi4GroundTruth {
    /// 2-D `l × l`, $\lambda = 1$, 1000 samples on 4 chains, seed 0, 1000 warm-up and 2000 pilot
    /// sweeps, one Wolff flip per sweep.
    pub fn new(l: usize, beta: f64) -> Self {
        Self {
            shape: vec![l, l],
            beta,
            lambda: 1.0,
            samples: 1000,
            chains: 4,
            seed: 0,
            warmup_sweeps: 1000,
            pilot_sweeps: 2000,
            wolff_per_sweep: 1,
        }
    }

    /// Sets the lattice shape (1–3 axes, even sizes).
    pub fn shape(mut self, shape: &[usize]) -> Self {
        self.shape = shape.to_vec();
        self
    }
    /// Sets $\lambda$.
    pub fn lambda(mut self, lambda: f64) -> Self {
        self.lambda = lambda;
        self
    }
    /// Sets the number of samples.
    pub fn samples(mut self, n: usize) -> Self {
        self.samples = n;
        self
    }
    /// Sets the number of chains.
    pub fn chains(mut self, n: usize) -> Self {
        self.chains = n;
        self
    }
    /// Sets the seed.
    pub fn seed(mut self, s: u64) -> Self {
        self.seed = s;
        self
    }
    /// Sets the warm-up and pilot lengths.
    pub fn sweeps(mut self, warmup: usize, pilot: usize) -> Self {
        self.warmup_sweeps = warmup;
        self.pilot_sweeps = pilot;
        self
    }
    /// Sets the number of Wolff flips per sweep.
    pub fn wolff_per_sweep(mut self, n: usize) -> Self {
        self.wolff_per_sweep = n;
        self
    }

    /// Generates the samples.
    ///
    /// # Errors
    /// Invalid model parameters (see [`Phi4::new`]), odd lattice sizes, zero samples or chains,
    /// a pilot shorter than 100 sweeps.
    pub fn generate(&self, progress: crate::Progress<'_>) -> Result<GroundTruth> {
        if self.samples == 0 || self.chains == 0 || self.pilot_sweeps < 100 {
            return Err(Error::InvalidParameter {
                name: "samples, chains, pilot_sweeps".into(),
                value: format!("{}, {}, {}", self.samples, self.chains, self.pilot_sweeps),
                reason: "need samples >= 1, chains >= 1 and pilot_sweeps >= 100".into(),
            });
        }
        let model = Phi4::new(&self.shape, self.beta, self.lambda)?;
        let streams = Streams::new(self.seed);
        // Proposal width: a short adaptive run of Metropolis alone, toward acceptance 0.5.
        let metro = CheckerboardMetropolis::new(&model, 1.0)?;
        let start = || ArrayD::zeros(IxDyn(&self.shape));
        let pilot_cfg = RunConfig::default()
            .warmup(200)
            .draws(1)
            .seed(streams.child(1).seed())
            .target_acceptance(0.5);
        let width = run_chains_adapted(&metro, vec![start()], &pilot_cfg, None)?[0]
            .step_size
            .expect("adapted runs report their step");
        let metro = metro.with_step_size(width)?;
        let cluster = Cycle::new(
            metro.clone(),
            Repeat::new(Wolff::new(model.clone())?, self.wolff_per_sweep.max(1))?,
        );
        let sweep = |s: &mut FieldState, rng: &mut Rng, ws: &mut Workspace| {
            if self.wolff_per_sweep == 0 {
                metro.step(s, rng, ws);
            } else {
                cluster.step(s, rng, ws);
            }
        };
        let per_chain = self.samples.div_ceil(self.chains);
        // Progress in chain phases: warm-up + pilot, then recording, for every chain.
        let done = AtomicUsize::new(0);
        let tick = || {
            let d = done.fetch_add(1, Ordering::Relaxed) + 1;
            if let Some(p) = progress {
                p(d, 2 * self.chains);
            }
        };
        // Warm-up and pilot on every chain, in parallel.
        let pilots: Vec<(FieldState, Rng, f64)> = (0..self.chains)
            .into_par_iter()
            .map(|c| {
                let mut rng = streams.rng(c as u64);
                let mut ws = Workspace::new();
                let mut s = metro.init(start(), &mut ws)?;
                for _ in 0..self.warmup_sweeps {
                    sweep(&mut s, &mut rng, &mut ws);
                }
                let mut series = Vec::with_capacity(self.pilot_sweeps);
                for _ in 0..self.pilot_sweeps {
                    sweep(&mut s, &mut rng, &mut ws);
                    series.push(magnetisation(s.position()).abs());
                }
                let tau = integrated_time(&series)?;
                tick();
                Ok((s, rng, tau))
            })
            .collect::<Result<_>>()?;
        let tau = pilots.iter().map(|p| p.2).fold(0.0, f64::max);
        let thin = (2.0 * tau).ceil().max(1.0) as usize;
        let chunks: Vec<Vec<ArrayD<f64>>> = pilots
            .into_par_iter()
            .map(|(mut s, mut rng, _)| {
                let mut ws = Workspace::new();
                let mut out = Vec::with_capacity(per_chain);
                for _ in 0..per_chain {
                    for _ in 0..thin {
                        sweep(&mut s, &mut rng, &mut ws);
                    }
                    out.push(s.position().to_owned());
                }
                tick();
                out
            })
            .collect();
        let mut shape = vec![self.samples];
        shape.extend(&self.shape);
        let mut samples = ArrayD::zeros(IxDyn(&shape));
        for (mut o, x) in samples.outer_iter_mut().zip(chunks.iter().flatten()) {
            o.assign(x);
        }
        let sweeps = self.chains * (self.warmup_sweeps + self.pilot_sweeps + per_chain * thin);
        Ok(GroundTruth {
            samples,
            tau_abs_m: tau,
            thin,
            sweeps,
            width,
        })
    }
}

/// Binder cumulants $U_4(\beta)$ with error bars on a grid of couplings, for several sizes.
#[derive(Debug, Clone, PartialEq)]
pub struct BinderScan {
    /// Lattice sizes $L$ (2-D, $L\times L$).
    pub sizes: Vec<usize>,
    /// Couplings.
    pub betas: Vec<f64>,
    /// `binder[i][k]`: $(U_4, \sigma)$ at size `sizes[i]` and coupling `betas[k]`.
    pub binder: Vec<Vec<(f64, f64)>>,
}

/// Where the Binder cumulants of two sizes cross.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Crossing {
    /// The two sizes.
    pub sizes: (usize, usize),
    /// Crossing coupling.
    pub beta: f64,
    /// Its standard error.
    pub error: f64,
    /// $U_4$ at the crossing.
    pub binder: f64,
}

impl BinderScan {
    /// Measures $U_4$ at every `(L, β)` from `samples` ground-truth samples each
    /// ([`Phi4GroundTruth`] with the given `lambda` and `seed`, one child stream per point).
    ///
    /// # Errors
    /// As [`Phi4GroundTruth::generate`]; fewer than two sizes or couplings.
    pub fn measure(
        sizes: &[usize],
        betas: &[f64],
        lambda: f64,
        samples: usize,
        seed: u64,
    ) -> Result<Self> {
        if sizes.len() < 2 || betas.len() < 2 {
            return Err(Error::InvalidParameter {
                name: "sizes, betas".into(),
                value: format!("{sizes:?}, {betas:?}"),
                reason: "need at least two sizes and two couplings".into(),
            });
        }
        let streams = Streams::new(seed);
        let mut binder = Vec::new();
        for (i, &l) in sizes.iter().enumerate() {
            let mut row = Vec::new();
            for (k, &beta) in betas.iter().enumerate() {
                let truth = Phi4GroundTruth::new(l, beta)
                    .lambda(lambda)
                    .samples(samples)
                    .seed(streams.child((i * betas.len() + k) as u64).seed())
                    .generate(None)?;
                row.push(Phi4Observables::from_batch(truth.samples.view())?.binder);
            }
            binder.push(row);
        }
        Ok(Self {
            sizes: sizes.to_vec(),
            betas: betas.to_vec(),
            binder,
        })
    }

    /// The crossing of each pair of consecutive sizes: with $D(\beta) = U_4(L_2) - U_4(L_1)$
    /// on the grid, the two neighbouring couplings where $D$ changes sign, linear interpolation
    /// $\beta^* = \beta_1 - D_1(\beta_2 - \beta_1)/(D_2 - D_1)$, and its error propagated from
    /// the four $U_4$ errors. $U_4$ at the crossing is interpolated on the larger size.
    ///
    /// # Errors
    /// [`Error::Singular`] when $D$ does not change sign on the grid (widen or move it).
    pub fn crossings(&self) -> Result<Vec<Crossing>> {
        let mut out = Vec::new();
        for i in 0..self.sizes.len() - 1 {
            let d: Vec<f64> = (0..self.betas.len())
                .map(|k| self.binder[i + 1][k].0 - self.binder[i][k].0)
                .collect();
            let Some(k) = (0..d.len() - 1).find(|&k| d[k] * d[k + 1] <= 0.0 && d[k] != d[k + 1])
            else {
                return Err(Error::Singular {
                    what: "Binder crossing".into(),
                    detail: format!(
                        "U4 of sizes {} and {} do not cross on the grid {:?}; widen or move it",
                        self.sizes[i],
                        self.sizes[i + 1],
                        self.betas
                    ),
                });
            };
            let (b1, b2) = (self.betas[k], self.betas[k + 1]);
            let (d1, d2) = (d[k], d[k + 1]);
            let w = b2 - b1;
            let beta = b1 - d1 * w / (d2 - d1);
            let var = |k: usize| self.binder[i][k].1.powi(2) + self.binder[i + 1][k].1.powi(2);
            let g1 = -w * d2 / (d2 - d1).powi(2);
            let g2 = w * d1 / (d2 - d1).powi(2);
            let error = (g1 * g1 * var(k) + g2 * g2 * var(k + 1)).sqrt();
            let t = (beta - b1) / w;
            let (u1, u2) = (self.binder[i + 1][k].0, self.binder[i + 1][k + 1].0);
            out.push(Crossing {
                sizes: (self.sizes[i], self.sizes[i + 1]),
                beta,
                error,
                binder: u1 + t * (u2 - u1),
            });
        }
        Ok(out)
    }
}
