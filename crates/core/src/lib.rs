//! # wcrg-core: the narrow boundary between the wcrg crates
//!
//! wcrg learns the energy $U$ of a field $x$ from samples, $p(x) = e^{-U(x)}/Z$, and samples
//! new fields. Every crate of the workspace talks to the others only through the four traits
//! defined here:
//!
//! | trait | math | implemented by |
//! |---|---|---|
//! | [`Transform`] | a linear invertible map $x \mapsto Wx$ (orthogonal wavelets: $W^{-1} = W^\top$) | `wcrg-wavelets` |
//! | [`Features`] | $\Phi: \mathbb{R}^d \to \mathbb{R}^K$ with pullback $J_\Phi(x)^\top v$ | `wcrg-energy-models`, `wcrg-scattering` |
//! | [`Energy`] | $U: \mathbb{R}^d \to \mathbb{R}$ and $\nabla_x U$ | `wcrg-energy-models`, `wcrg-rg` |
//! | [`Sampler`] | a Markov kernel $x_{t+1} \sim k(\cdot \mid x_t)$ leaving $e^{-U}$ invariant | `wcrg-samplers` |
//!
//! Optional capabilities are extension traits, never `unimplemented!()` defaults:
//! [`LinearAnsatz`] ($U_\theta = \theta^\top \Phi$), [`FeatureLaplacian`] (exact $\Delta_x \Phi_k$
//! for score matching) and [`LocalEnergy`] (energy change of a single-site move, for Metropolis).
//!
//! The crate also owns the seeded random streams ([`rng`]), the type-erased scratch store
//! ([`Workspace`]), the error kinds shared by all crates ([`Error`]) and the command-line flags
//! of the examples ([`cli`]).
//!
//! ## Conventions (shared by every wcrg crate)
//!
//! * **Sign.** $p \propto e^{-U}$; every gradient in the API is $\nabla_x U$, never $\nabla \log p$.
//! * **Numbers.** `f64` throughout. Fields are row-major `ndarray` arrays; a batch puts the sample
//!   index on axis 0, and channels (wavelet details) on the axis after the batch.
//! * **Boundaries.** Periodic everywhere.
//! * **Set-up vs hot path.** Constructors validate and return `Result<_, Error>`; per-call methods
//!   take `&self`, caller-owned output buffers and a [`Workspace`]. A shape mismatch on the hot path
//!   is a documented panic naming the expected and actual shapes ([`validate::assert_shape`];
//!   [`validate::assert_panics_naming_shapes`] tests it, for your own blocks too); the content of
//!   a workspace never changes a result.
//! * **Randomness.** Every stochastic routine takes a seed or an RNG; one ChaCha stream per unit of
//!   work (chain, sample, scale), never per thread, so results are identical for any thread count.
//!
//! ## Example
//!
//! A quadratic energy $U(x) = \tfrac12 \|x\|^2$ written against the [`Energy`] trait, and a
//! reproducible random stream:
//!
//! ```
//! use ndarray::{ArrayViewD, ArrayViewMutD, ArrayD, IxDyn};
//! use wcrg_core::{Energy, Workspace, rng::Streams};
//! use rand::RngExt;
//!
//! struct Quadratic { shape: Vec<usize> }
//!
//! impl Energy for Quadratic {
//!     fn shape(&self) -> &[usize] { &self.shape }
//!     fn energy(&self, x: ArrayViewD<'_, f64>, _ws: &mut Workspace) -> f64 {
//!         0.5 * x.iter().map(|v| v * v).sum::<f64>()
//!     }
//!     fn energy_and_gradient(
//!         &self, x: ArrayViewD<'_, f64>, mut grad: ArrayViewMutD<'_, f64>, ws: &mut Workspace,
//!     ) -> f64 {
//!         grad.assign(&x);
//!         self.energy(x, ws)
//!     }
//! }
//!
//! let u = Quadratic { shape: vec![4, 4] };
//! let mut ws = Workspace::new();
//! let x = ArrayD::from_elem(IxDyn(&[4, 4]), 2.0);
//! let mut g = ArrayD::zeros(IxDyn(&[4, 4]));
//! let e = u.energy_and_gradient(x.view(), g.view_mut(), &mut ws);
//! assert_eq!(e, 32.0);
//! assert_eq!(g[[1, 2]], 2.0);
//!
//! // Chain 3 of the run seeded 42 draws the same numbers on any machine and thread count.
//! let mut a = Streams::new(42).rng(3);
//! let mut b = Streams::new(42).rng(3);
//! assert_eq!(a.random::<u64>(), b.random::<u64>());
//! ```
#![deny(missing_docs)]

pub mod cli;
mod energy;
mod error;
mod features;
pub mod fft;
mod linear_map;
pub mod rng;
mod sampler;
mod transform;
pub mod validate;
mod workspace;

pub use energy::{Energy, LinearAnsatz, LocalEnergy};
pub use error::{Error, Result};
pub use features::{FeatureLaplacian, Features, JacobianBlock, dense_jacobian};
pub use linear_map::LinearMap;
pub use sampler::{Sampler, StepInfo};
pub use transform::Transform;
pub use workspace::Workspace;

/// Re-export of the `ndarray` version every wcrg crate uses, so that users need not pin it.
pub use ndarray;
