//! # wcrg-scattering
//!
//! Wavelet scattering transforms with the numbers of kymatio 0.3, much faster.
//!
//! ## The math
//!
//! A Morlet wavelet $\psi_\lambda$ (scale $2^j$, orientation $\theta$ in 2-D, or central
//! frequency $\xi$ in 1-D) is a Gaussian envelope times a plane wave, minus a Gaussian that
//! cancels its mean; $\phi_J$ is a Gaussian low-pass of width $2^J$. The scattering transform
//! cascades wavelet convolutions and moduli and averages with $\phi_J$:
//! $$ S_0x = x\star\phi_J,\quad S_1x(\lambda_1) = |x\star\psi_{\lambda_1}|\star\phi_J,\quad
//!    S_2x(\lambda_1,\lambda_2) = \big||x\star\psi_{\lambda_1}|\star\psi_{\lambda_2}\big|\star\phi_J
//!    \ (j_2 > j_1), $$
//! each subsampled by $2^J$. The modulus keeps the envelope of each band; the second layer
//! measures how those envelopes vary — the non-Gaussian, intermittent structure a power
//! spectrum does not see — with a few hundred stable (Lipschitz to deformations) coefficients.
//!
//! ## Conventions
//!
//! - Filters are built in Fourier exactly as kymatio 0.3 builds them ([`filters`]); outputs use
//!   kymatio's layout: a batch `(B, M, N)` gives `(B, C, M/2^J, N/2^J)` with channels ordered
//!   order 0, order 1 by $n_1 = j_1 L + \theta_1$, order 2 by $(n_1, n_2)$, $j_2 > j_1$
//!   ([`Scattering2d::paths`]); a batch `(B, T)` gives `(B, C, T/2^J)` ([`Scattering1d::paths`]).
//! - Borders: kymatio's reflect padding by default; [`Boundary::Periodic`] for periodic fields.
//! - `f64` throughout; NumPy FFT conventions (the inverse divided by the number of points).
//! - Every transform is computed in Fourier, each modulus at the coarsest resolution its band
//!   allows (frequency cropping), batches in parallel with results independent of the thread
//!   count.
//!
//! ## Example
//!
//! ```
//! use ndarray::Array3;
//! use wcrg_scattering::Scattering2d;
//!
//! let s = Scattering2d::new((32, 32), 3, 8).unwrap();
//! let x = Array3::from_shape_fn((2, 32, 32), |(b, i, j)| ((i * j + b) as f64 * 0.1).sin());
//! let sx = s.forward(x.view()).unwrap();
//! assert_eq!(sx.dim(), (2, 1 + 3 * 8 + 8 * 8 * 3, 4, 4));
//! // Order 0 is a local average: a constant field gives its constant value, times kymatio's
//! // normalisation of phi (it divides by 2 * 3.1415 sigma^2 instead of 2 pi sigma^2).
//! let c = Array3::from_elem((1, 32, 32), 2.5);
//! let sc = s.forward(c.view()).unwrap();
//! assert!((sc[[0, 0, 1, 1]] - 2.5 * std::f64::consts::PI / 3.1415).abs() < 1e-9);
//! ```
#![deny(missing_docs)]

mod error;
mod features;
pub mod filters;
mod fourier;
mod lbfgs;
mod reduction;
mod scattering1d;
mod scattering2d;
pub mod spectra;
mod synthesis;

pub use error::{Result, ScatteringError};
pub use features::ScatteringFeatures;
pub use reduction::{Reduced, Reduction};
pub use scattering1d::{Path1d, Scattering1d, Workspace1d};
pub use scattering2d::{Boundary, Path2d, Scattering2d, Workspace2d};
pub use spectra::{Normalization, ScatteringSpectra, SpectraWorkspace};
pub use synthesis::{Synthesis, SynthesisConfig, SynthesisReport};
pub use wcrg_core;
