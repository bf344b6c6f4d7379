//! # wcrg-samplers: Markov chain Monte Carlo for fields, and the diagnostics to trust it
//!
//! ## The math
//!
//! A Markov kernel $k(x' \mid x)$ with $\int p(x) k(x' \mid x)\,dx = p(x')$ for
//! $p \propto e^{-U}$ turns a chain into samples of $p$. The kernels here:
//!
//! * [`Ula`]: $x' = x - \varepsilon\nabla U(x) + \sqrt{2\varepsilon}z$ (biased by $O(\varepsilon)$);
//! * [`Mala`]: the same proposal with a Metropolis–Hastings correction (exact);
//! * [`Hmc`]: leapfrog Hamiltonian dynamics with a Metropolis test (exact);
//! * [`CheckerboardMetropolis`]: single-site random-walk Metropolis sweeps, parallel over the
//!   two checkerboard colours, for energies with a [`wcrg_core::LocalEnergy`];
//! * [`Wolff`]: embedded-Ising cluster flips for $\varphi^4$, which remove most of the critical
//!   slowing down of local updates; [`Cycle`] and [`Repeat`] compose kernels.
//!
//! Mixing is measured by the integrated autocorrelation time
//! $\tau_{\rm int} = 1 + 2\sum_{t\ge1}\rho(t)$ ([`diagnostics::integrated_time`]); a chain of $n$
//! steps is worth $n/\tau_{\rm int}$ independent draws, and the Monte-Carlo standard error of a mean
//! is $\sigma/\sqrt{\mathrm{ESS}}$ ([`diagnostics::MeanEstimate`]). Split-$\hat R$ compares chains.
//!
//! ## Conventions
//!
//! * Samplers are `init` + `step` over an explicit state ([`wcrg_core::Sampler`]); a step returns a
//!   [`wcrg_core::StepInfo`]. A NaN/Inf energy is a rejected move flagged `divergent`, never a panic.
//! * Step-size adaptation ([`DualAveraging`]) is an object of its own, used by
//!   [`run_chains_adapted`] during warm-up only.
//! * Chain $c$ of a run seeded $s$ uses `Streams::new(s).rng(c)`; inside a Metropolis sweep each
//!   fixed chunk of rows has its own stream. Results are bit-identical for any thread count.
//! * $p \propto e^{-U}$, gradients are $\nabla U$, `f64` row-major fields, periodic lattices.
//!
//! ## Example
//!
//! ```
//! use ndarray::{ArrayD, IxDyn};
//! use wcrg_energy_models::GaussianField;
//! use wcrg_samplers::{Mala, RunConfig, run_chains_adapted, diagnostics::MeanEstimate};
//!
//! // A correlated Gaussian field whose variance is known exactly.
//! let target = GaussianField::free_field(&[4, 4], 1.0, 0.5)?;
//! let exact = target.covariance()[[0, 0]];
//! let mala = Mala::new(&target, 0.1)?;
//! let inits = vec![ArrayD::zeros(IxDyn(&[4, 4])); 4];
//! let cfg = RunConfig::default().warmup(500).draws(2000).seed(7);
//! let chains = run_chains_adapted(&mala, inits, &cfg, None)?;
//! let x00: Vec<Vec<f64>> = chains.iter().map(|c| c.draws.iter().map(|d| d[[0, 0]].powi(2)).collect()).collect();
//! let est = MeanEstimate::from_chains(&x00)?;
//! assert!(est.z_exact(exact).abs() < 4.0);
//! # Ok::<(), wcrg_core::Error>(())
//! ```
#![deny(missing_docs)]

mod adapt;
pub mod diagnostics;
mod ground_truth;
pub mod kernels;
pub mod observables;
mod runner;
mod state;

pub use adapt::DualAveraging;
pub use ground_truth::{BinderScan, Crossing, GroundTruth, Phi4GroundTruth};
pub use kernels::{CheckerboardMetropolis, Cycle, Hmc, Mala, Repeat, Tunable, Ula, Wolff};
pub use runner::{Chain, Progress, RunConfig, run_chains, run_chains_adapted};
pub use state::{FieldState, LangevinState};
