//! Feature blocks $\Phi$ of linear ansätze $U_\theta = \theta^\top\Phi$, each with its pullback
//! $J_\Phi^\top v$ and its exact Laplacian $\Delta_x\Phi$ (for score matching), and a name per
//! feature.
//!
//! * [`QuadraticCouplings`]: $\Phi_s = \frac12\sum_u x(u)\,x(u - s)$ over a set of shifts;
//! * [`ScalarPotential`]: $\Phi_k = \sum_u \rho_k(x(u))$ over a 1-D [`Basis`];
//! * [`Concat`]: the features of several blocks side by side.
//!
//! Blocks act on single-channel fields of any shape with 1–3 axes, periodic.

mod concat;
mod potential;
mod quadratic;

pub use concat::Concat;
pub use potential::{Basis, ScalarPotential, quantiles};
pub use quadratic::QuadraticCouplings;
