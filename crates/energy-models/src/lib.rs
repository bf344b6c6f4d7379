//! # wcrg-energy-models: energies of physical fields
//!
//! ## The math
//!
//! A field $\varphi$ on a periodic lattice has the law $p(\varphi) = e^{-U(\varphi)}/Z$. This
//! crate provides the energies wcrg learns and tests against:
//!
//! * [`Phi4`]: lattice $\varphi^4$ theory,
//!   $U(\varphi) = \frac\beta2 \sum_x\sum_\mu (\varphi(x+e_\mu)-\varphi(x))^2 + \sum_x V(\varphi(x))$,
//!   $V(\varphi) = \lambda(\varphi^2-1)^2$ by default or any confining [`Polynomial`], in 1-D,
//!   2-D and 3-D, with the gradient
//!   $\partial_{\varphi(x)} U = \beta\sum_\mu\big(2\varphi(x) - \varphi(x+e_\mu) - \varphi(x-e_\mu)\big) + V'(\varphi(x))$
//!   and the $O(1)$ energy change of a single-site move ([`wcrg_core::LocalEnergy`]).
//!   In 2-D with $\lambda = 1$ the model orders for $\beta$ above $\beta_c = 0.922(2)$, measured
//!   from Binder-cumulant crossings (see `wcrg-samplers`).
//! * [`GaussianField`]: stationary Gaussian fields with power spectrum $P(k)$,
//!   $U(x) = \frac1{2N}\sum_k |\hat x(k)|^2/P(k)$, with exact i.i.d. sampling by FFT — the
//!   reference with known answers for samplers and estimators.
//! * [`LinearEnergy`]: $U_\theta = \theta^\top\Phi$ for any [`wcrg_core::Features`], and the
//!   feature blocks of [`features`] (quadratic couplings, scalar potentials, concatenation) with
//!   exact pullbacks and Laplacians.
//!
//! ## Conventions
//!
//! $p \propto e^{-U}$, gradients are $\nabla U$; `f64` row-major fields of the model's shape;
//! periodic boundaries; constructors validate and return `Result`, hot-path methods panic on a
//! wrong shape, naming both shapes.
//!
//! ## Example
//!
//! ```
//! use ndarray::{ArrayD, IxDyn};
//! use wcrg_core::{Energy, LocalEnergy, Workspace};
//! use wcrg_energy_models::Phi4;
//!
//! let model = Phi4::new(&[8, 8], 0.922, 1.0)?;
//! let mut ws = Workspace::new();
//! let x = ArrayD::from_elem(IxDyn(&[8, 8]), 1.0);     // an ordered configuration
//! assert_eq!(model.energy(x.view(), &mut ws), 0.0);   // both terms vanish at φ = ±1
//! // Flipping one site costs (β/2)·4 bonds·4 + 0 (V(−1) = V(1)) = 8β.
//! let du = model.local_energy_change(x.view(), 10, -1.0);
//! assert!((du - 8.0 * 0.922).abs() < 1e-12);
//! # Ok::<(), wcrg_core::Error>(())
//! ```
#![deny(missing_docs)]

pub mod features;
mod gaussian;
mod lattice;
mod linear;
mod phi4;
mod polynomial;

pub use gaussian::GaussianField;
pub use lattice::Lattice;
pub use linear::LinearEnergy;
pub use phi4::Phi4;
pub use polynomial::Polynomial;
