//! Feature blocks $\Phi$ of linear ansätze $U_\theta = \theta^\top\Phi$, each with its pullback
//! $J_\Phi^\top v$ and its exact Laplacian $\Delta_x\Phi$ (for score matching), and a name per
//! feature.
//!
//! * [`QuadraticCouplings`]: $\Phi_s = \frac12\sum_u x(u)\,x(u - s)$ over a set of shifts;
//! * [`ScalarPotential`]: $\Phi_k = \sum_u \rho_k(x(u))$ over a 1-D [`Basis`];
//! * [`ChannelCouplings`]: couplings between the channels of a `(C, spatial…)` field, with
//!   conditioning channels held fixed (conditional models);
//! * [`ImagePotential`]: $\sum_u\rho_k(y(u))$ on a linear image $y = Ax$ of the free
//!   variables ([`wcrg_core::LinearMap`]), e.g. the reconstructed finer field of the RG;
//! * [`NeighbourDifferences`]: the linear map $x \mapsto (x(u + e_a) - x(u))_a$, for two-site
//!   potentials as an [`ImagePotential`];
//! * [`Composed`]: the composition $B\circ C$ of two linear maps with its exact free Gram
//!   diagonal, e.g. the neighbour differences of the RG's reconstructed finer field;
//! * [`ModulatedStiffness`]: $\frac12\sum_u x_c(u)^2\rho_k(g(u))$, stiffnesses of the free
//!   channels that depend on a local function $g$ of the conditioning channels ([`Modulator`]);
//! * [`Concat`]: the features of several blocks side by side.
//!
//! Blocks act on periodic fields with 1–3 spatial axes ([`ChannelCouplings`] adds a leading
//! channel axis).

mod channels;
mod composed;
mod concat;
mod differences;
mod image_potential;
mod modulated;
mod potential;
mod quadratic;

pub use channels::ChannelCouplings;
pub use composed::Composed;
pub use concat::Concat;
pub use differences::NeighbourDifferences;
pub use image_potential::ImagePotential;
pub use modulated::{ModulatedStiffness, Modulator};
pub use potential::{Basis, ScalarPotential, quantiles};
pub use quadratic::QuadraticCouplings;
