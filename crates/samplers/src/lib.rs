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
//! [`Whitened`] runs any of them in the whitened coordinates $y = C^{-1/2}x$ of a stationary
//! covariance $C$ (given by a power spectrum, e.g. the data's [`periodogram`]): MALA on
//! $U(C^{1/2}y)$ is Langevin dynamics with mass matrix $C^{-1}$, which moves soft long-wavelength
//! modes as fast as stiff ones. It is exact for any spectrum; a good one only makes it faster.
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
//! ## Measured: 2-D φ⁴ with $\lambda = 1$
//!
//! All figures from `cargo run --release -p wcrg-samplers --example phi4_ground_truth` on a
//! 2-core x86-64 virtual machine (24 GiB), fixed seeds.
//!
//! **Critical coupling** (`beta-c --sizes 16,32,64 --n 1000`): Binder cumulants $U_4$ with
//! jackknife errors,
//!
//! | β | U4 (L=16) | U4 (L=32) | U4 (L=64) |
//! |---|---|---|---|
//! | 0.905 | 0.5825 ± 0.0050 | 0.5724 ± 0.0051 | 0.5000 ± 0.0086 |
//! | 0.910 | 0.5917 ± 0.0032 | 0.5857 ± 0.0044 | 0.5430 ± 0.0058 |
//! | 0.915 | 0.5953 ± 0.0042 | 0.5948 ± 0.0038 | 0.5838 ± 0.0044 |
//! | 0.920 | 0.5971 ± 0.0032 | 0.6043 ± 0.0039 | 0.5997 ± 0.0036 |
//! | 0.925 | 0.6099 ± 0.0034 | 0.6152 ± 0.0025 | 0.6206 ± 0.0032 |
//! | 0.930 | 0.6115 ± 0.0033 | 0.6174 ± 0.0030 | 0.6284 ± 0.0026 |
//!
//! crossings: L = 16/32 at $\beta = 0.9153 \pm 0.0034$, L = 32/64 at
//! $\beta = 0.9223 \pm 0.0017$ with $U_4^* = 0.609$ (the 2-D Ising value is 0.611). So
//! $\beta_c = 0.922(2)$ for this parametrisation (the often-quoted 0.68 belongs to another
//! normalisation of the potential; at β = 0.68 an L = 64 lattice is deep in the disordered phase,
//! $U_4 \approx 0$).
//!
//! **Critical slowing down** (`tau --beta 0.922 --steps 100000`): integrated autocorrelation time
//! of $|m|$; Metropolis and cluster steps are sweeps (one Wolff flip per sweep), HMC steps are
//! trajectories of 10 leapfrog steps with the step adapted to acceptance 0.8. Values above about
//! 1000 are lower bounds (the run is then shorter than 100 τ).
//!
//! | L | Metropolis τ (sweeps) | HMC τ (trajectories) | cluster+Metropolis τ (sweeps) |
//! |---|---|---|---|
//! | 16 | 481.7 | 95.7 | 16.08 |
//! | 32 | 931.8 | 462.1 | 18.92 |
//! | 64 | 1754.2 | 3109.3 | 19.56 |
//! | 128 | 6444.8 | 13060.2 | 23.57 |
//!
//! The local kernels slow down as a power of $L$; the cluster move removes almost all of it.
//!
//! **Throughput** (`cargo bench -p wcrg-samplers --bench kernels`): checkerboard Metropolis at
//! $\beta_c$ updates 11.9 M sites/s on 1 thread and 17.9 M on 2 threads at 64² (14.3 M and
//! 26.1 M at 256²); a Wolff flip takes 21 µs and a MALA step 86 µs at 64².
//!
//! **Against PyTorch** (`bash benches/sampling_vs_torch.sh`, PyTorch 2.15 on the CPU, float64):
//! the same batched samplers written as research code writes them, the chains as one
//! `(B, L, L)` tensor, neighbours by `torch.roll`, the gradient written out, against
//! [`Mala`] and [`CheckerboardMetropolis`] with the chains in parallel. Time per chain and
//! transition (a MALA step, or a Metropolis sweep of every site), fastest of 5, one run of the
//! script; both sides accept alike (0.74, 0.67 and 0.84 for MALA, 0.48–0.51 for Metropolis,
//! the same to the third digit but for 0.671 against 0.675 and 0.838 against 0.833). The
//! shared VM's speed varies by up to a third from run to run, on both sides.
//!
//! | case | threads | PyTorch | wcrg | ratio |
//! |---|---|---|---|---|
//! | MALA, 128 chains of 32² | 1 / 2 | 50.9 / 36.2 µs | 20.2 / 11.7 µs | 2.5× / 3.1× |
//! | MALA, 128 chains of 64² | 1 / 2 | 286 / 161 µs | 80.1 / 40.6 µs | 3.6× / 4.0× |
//! | MALA, 16 chains of 256² | 1 / 2 | 4.38 / 2.68 ms | 1.26 / 0.68 ms | 3.5× / 4.0× |
//! | Metropolis, 128 chains of 32² | 1 / 2 | 75.2 / 50.4 µs | 46.2 / 23.4 µs | 1.6× / 2.2× |
//! | Metropolis, 128 chains of 64² | 1 / 2 | 357 / 227 µs | 185 / 93.7 µs | 1.9× / 2.4× |
//! | Metropolis, 16 chains of 256² | 1 / 2 | 6.41 / 4.04 ms | 3.04 / 1.52 ms | 2.1× / 2.7× |
//!
//! **Ground truth.** 1000 decorrelated 64² samples at $\beta_c$ (`sample --L 64 --beta 0.922
//! --n 1000`): measured $\tau = 14.9$ sweeps, thinning 30, 42 000 sweeps on 4 chains, **5.9 s**
//! wall time on 2 cores (7.1 s before the sweeps stopped building a view per site).
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
mod whitened;

pub use adapt::DualAveraging;
pub use ground_truth::{BinderScan, Crossing, GroundTruth, Phi4GroundTruth};
pub use kernels::{CheckerboardMetropolis, Cycle, Hmc, Mala, Repeat, Tunable, Ula, Wolff};
pub use runner::{Chain, Progress, RunConfig, run_chains, run_chains_adapted};
pub use state::{FieldState, LangevinState};
pub use whitened::{Whitened, periodogram};
