//! # wcrg-wavelets: orthogonal wavelets for fields, exact to PyWavelets
//!
//! ## The math
//!
//! An orthogonal wavelet is a low-pass filter $h$ (length $F$) with
//! $\sum_k h_k h_{k+2m} = \delta_{m0}$ and $\sum_k h_k = \sqrt2$, and its high-pass mirror
//! $g_k = (-1)^{F-1-k} h_{F-1-k}$. One level of the periodic transform of a signal of even
//! length $n$ is
//! $$a_o = \sum_{j} h_j\, x_{(2o + F/2 - j) \bmod n},\qquad d_o = \sum_j g_j\, x_{(2o + F/2 - j) \bmod n},\qquad 0 \le o < n/2,$$
//! an orthogonal map $x \mapsto (a, d)$, so the inverse is the transpose. In $D$ dimensions the
//! transform is applied along every axis, giving one approximation and $2^D - 1$ details; the
//! multilevel transform repeats on the approximation.
//!
//! The **renormalisation-group split** ([`RgSplit`]) of the WCRG writes one level as
//! $$x_j = \gamma_j^{-1} G\, x_{j-1},\qquad \bar x_j = \gamma_j^{-1} \bar G\, x_{j-1},\qquad x_{j-1} = \gamma_j\,(G^\top x_j + \bar G^\top \bar x_j),$$
//! with the low-pass operator $G$, the $2^D - 1$ detail operators stacked in $\bar G$ and a
//! normalisation $\gamma_j$. It also provides the exact diagonal $(\bar G^\top \bar G)_{uu}$ that
//! score-matching Laplacians of potentials on $x_{j-1}$ need.
//!
//! [`WaveletPacket2d`] splits every band, not only the approximation, into a
//! frequency-ordered tiling of the plane.
//!
//! ## Conventions
//!
//! * **PyWavelets-exact.** Filters ([`Wavelet`]) are PyWavelets' taps for `haar`, `db1`–`db20`,
//!   `sym2`–`sym20`, `coif1`–`coif5`; the transform is its `periodization` mode; detail order is
//!   (H, V, D) = (`da`, `ad`, `dd`) in 2-D and the `wavedecn` keys in 3-D ([`detail_keys`]); the packed
//!   layout is `pywt.coeffs_to_array`. Agreement is tested to $10^{-12}$ on every family.
//! * **Periodic boundaries**; sizes must be divisible by $2^{\text{levels}}$ (a clear error
//!   otherwise). Filters longer than the signal wrap around.
//! * **Plans.** [`Dwt::new`] validates once; [`Transform::forward_inplace`] and
//!   [`Transform::inverse_inplace`] run in place with a caller-owned [`Workspace`](wcrg_core::Workspace)
//!   and panic, naming both shapes, on a wrong shape. Batches put the sample index on axis 0 and
//!   run in parallel; results are bit-identical for any number of threads.
//! * `f64`, row-major `ndarray` arrays.
//!
//! ## Example
//!
//! ```
//! use ndarray::{Array2, IxDyn};
//! use wcrg_core::{Transform, Workspace};
//! use wcrg_wavelets::{Dwt, Wavelet};
//!
//! let w = Wavelet::new("db4")?;
//! let plan = Dwt::new(&w, &[32, 32], 3)?;
//! let x = Array2::from_shape_fn((32, 32), |(i, j)| (0.3 * i as f64).sin() + (0.2 * j as f64).cos());
//!
//! // In place, packed (Mallat) layout, reusing a workspace.
//! let mut y = x.clone().into_dyn();
//! let mut ws = Workspace::new();
//! plan.forward_inplace(y.view_mut(), &mut ws);
//! // Orthogonal: the energy is preserved (Parseval).
//! let e = |a: &ndarray::ArrayD<f64>| a.iter().map(|v| v * v).sum::<f64>();
//! assert!((e(&y) - e(&x.clone().into_dyn())).abs() < 1e-9);
//!
//! // PyWavelets' list layout: cA3, then (cH, cV, cD) for levels 3, 2, 1.
//! let c = plan.to_pywt(y.view());
//! assert_eq!(c.approx.shape(), &[4, 4]);
//! assert_eq!(c.details[0][0].0, "da"); // cH3
//!
//! plan.inverse_inplace(y.view_mut(), &mut ws);
//! assert!(y.iter().zip(x.iter()).all(|(a, b)| (a - b).abs() < 1e-12));
//! # Ok::<(), wcrg_wavelets::WaveletError>(())
//! ```
#![deny(missing_docs)]

mod dwt;
mod error;
mod filters;
mod kernels;
mod layout;
mod packets;
mod rg_map;
mod rg_split;

pub use dwt::Dwt;
pub use error::{Result, WaveletError};
pub use filters::{ORTHONORMALITY_TOLERANCE, Wavelet};
pub use layout::{Coefficients, detail_keys, pywt_detail_name};
pub use packets::WaveletPacket2d;
pub use rg_map::RgReconstruction;
pub use rg_split::{Normalisation, RgSplit};
pub use wcrg_core::Transform;
