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
//! ## Scattering spectra
//!
//! For stationary fields, [`ScatteringSpectra`] measures spatial averages of the wavelet
//! coefficients $W_\lambda = x\star\psi_\lambda$ and of their moduli $M_\lambda = |W_\lambda|$
//! (periodic fields, filters on the field's own grid):
//! $$ S_1(\lambda) = \langle M_\lambda\rangle,\quad S_2(\lambda) = \langle M_\lambda^2\rangle,\quad
//!    S_3(\lambda,\lambda_1) = \langle W_\lambda\,\overline{M_{\lambda_1}\star\psi_\lambda}\rangle,\quad
//!    S_4(\lambda,\lambda_1,\lambda_2) = \langle (M_{\lambda_1}\star\psi_\lambda)\,
//!    \overline{M_{\lambda_2}\star\psi_\lambda}\rangle, $$
//! with $j_1 \le j$ for $S_3$ (phase–modulus correlations: the sign and skewness of the field)
//! and $j_1 \le j_2 \le j$ for $S_4$ (modulus cross-spectra: intermittency, long-range
//! dependence of the envelopes), plus the mean and variance of $x$. By Parseval each average is
//! a sum over the support of $|\hat\psi_\lambda|^2$ in Fourier. The statistics are normalised by
//! reference band powers $\bar S_2$ ([`Normalization`], orientation-averaged with
//! [`Normalization::isotropized`] for isotropic models) and reduced by linear maps
//! ([`Reduction`]): average over global rotations, Fourier transform over angle differences,
//! cosine transform over scales, keep-by-SNR. [`ScatteringSpectra::new_1d`] gives the 1-D
//! spectra $\Phi_1\dots\Phi_4$ of time series.
//!
//! Every statistic has an exact adjoint ([`ScatteringSpectra::pullback`]): back through the
//! Parseval sums, the Fourier transforms, the modulus ($\partial |W| = \mathrm{Re}(\bar W
//! \partial W)/|W|$) and the wavelet convolutions — no automatic differentiation. Hence
//! [`ScatteringFeatures`] (a [`wcrg_core::Features`] for energies $\theta^\top R\Phi(x)$) and
//! [`Synthesis`]: new fields with the statistics of one or several targets, by L-BFGS on
//! $\|R\Phi(x) - R\bar\Phi\|^2$ (optionally plus a power-spectrum and a histogram term), from
//! Gaussian fields with the targets' spectrum, in the whitened variable $y$ of $x = \bar x + Ay$
//! ($A$: square root of the targets' spectrum), each field with its own seed, in parallel.
//!
//! ## Conventions
//!
//! - Filters are built in Fourier exactly as kymatio 0.3 builds them ([`filters`]); outputs use
//!   kymatio's layout: a batch `(B, M, N)` gives `(B, C, M/2^J, N/2^J)` with channels ordered
//!   order 0, order 1 by $n_1 = j_1 L + \theta_1$, order 2 by $(n_1, n_2)$, $j_2 > j_1$
//!   ([`Scattering2d::paths`]); a batch `(B, T)` gives `(B, C, T/2^J)` ([`Scattering1d::paths`]).
//!   Agreement with kymatio's numpy frontend: 5e-7 relative per channel in 2-D (kymatio keeps
//!   its 2-D filters in single precision), 3e-15 in 1-D.
//! - Borders: kymatio's reflect padding by default; [`Boundary::Periodic`] for periodic fields.
//!   The scattering spectra and the synthesis are periodic.
//! - `f64` throughout; NumPy FFT conventions (the inverse divided by the number of points).
//! - Transforms are computed in Fourier, each modulus at the coarsest resolution its band
//!   allows (frequency cropping), batches in parallel with results independent of the thread
//!   count; synthesis results depend only on the seed. In 2-D the final low-pass
//!   $\star\phi_J$ and subsampling are done in space, as two small products with the
//!   separable Gaussian kernel at the kept output points only (equal to kymatio's "FFT,
//!   multiply, periodise, inverse FFT" to rounding, tested). Hot loops have AVX-512 and AVX2
//!   builds chosen at run time that give the same bits as the baseline build.
//!
//! ## Example
//!
//! ```
//! use ndarray::Array3;
//! use wcrg_scattering::{Reduction, ScatteringSpectra, Scattering2d, Synthesis, SynthesisConfig};
//!
//! // kymatio's Scattering2D(J=3, shape=(32, 32), L=8).
//! let s = Scattering2d::new((32, 32), 3, 8).unwrap();
//! let x = Array3::from_shape_fn((2, 32, 32), |(b, i, j)| ((i * j + b) as f64 * 0.1).sin());
//! let sx = s.forward(x.view()).unwrap();
//! assert_eq!(sx.dim(), (2, 1 + 3 * 8 + 8 * 8 * 3, 4, 4));
//! // Order 0 is a local average: a constant field gives its constant value, times kymatio's
//! // normalisation of phi (it divides by 2 * 3.1415 sigma^2 instead of 2 pi sigma^2).
//! let c = Array3::from_elem((1, 32, 32), 2.5);
//! let sc = s.forward(c.view()).unwrap();
//! assert!((sc[[0, 0, 1, 1]] - 2.5 * std::f64::consts::PI / 3.1415).abs() < 1e-9);
//!
//! // Scattering spectra of a periodic field, reduced over rotations.
//! let y = Array3::from_shape_fn((1, 16, 16), |(_, i, j)| ((i * 3 + j * 5) as f64 * 0.4).sin().exp());
//! let sp = ScatteringSpectra::new((16, 16), 2, 4).unwrap();
//! let norm = sp.normalization(y.view()).unwrap().isotropized(4);
//! let stats = sp.compute(y.view(), &norm).unwrap();
//! let iso = Reduction::isotropic(&sp).apply(stats.row(0));
//! assert!(iso.len() < sp.len());
//!
//! // A new field with (nearly) the same statistics.
//! let config = SynthesisConfig::default().max_iterations(50).seed(1);
//! let syn = Synthesis::new(y.view(), 2, 4, true, config).unwrap();
//! let (fields, reports) = syn.generate(1).unwrap();
//! assert_eq!(fields.dim(), (1, 16, 16));
//! assert!(reports[0].relative_error < 0.5);
//! ```
//!
//! ## Measured (2-core x86-64 VM with AVX-512, 24 GiB)
//!
//! Side by side with kymatio 0.3.0's numpy frontend (NumPy 2.2.6, SciPy 1.14.1;
//! `bash benches/scattering_vs_kymatio.sh 7`, fastest of 7 runs, same inputs; kymatio on one
//! core as it runs):
//!
//! | case | kymatio | wcrg, 1 thread | wcrg, 2 threads |
//! |---|---|---|---|
//! | `Scattering2D` J=4, L=8, 16 × 128² | 403 ms | 69 ms (5.9×) | 35–37 ms (10.9–11.4×) |
//! | `Scattering1D` J=8, Q=8, 16 × 4096 | 79 ms | 20 ms (3.9×) | 11 ms (7.2×) |
//!
//! The same machine before the 2-D low-pass moved to space ran the 2-D case in 127 ms and
//! 65 ms (6×). kymatio's time varies between machines (718 ms on an earlier VM without
//! AVX-512); compare ratios measured in one run.
//!
//! Synthesis (`cargo run --release -p wcrg-scattering --example synthesis`): one 128² field
//! from a lognormal target, J = 5, L = 4 (1252 isotropic statistics), statistics matched to
//! 1e-3 relative in 1407 L-BFGS iterations, 52 s on 2 cores (30 s for another target of the
//! same process). Lognormal targets on 64² (J = 4, 4 targets, 4 fields; release test): statistics
//! within 5e-4, power spectrum within 0.1 % per bin, marginal KL 0.017, while Gaussian fields with
//! the targets' spectra have KL 0.43.
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
