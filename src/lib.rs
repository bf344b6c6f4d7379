//! # wcrg: the wavelet conditional renormalisation group
//!
//! The umbrella crate: it re-exports every crate of the workspace, so that a user who wants
//! everything depends on `wcrg` alone. Each crate can also be used on its own.
//!
//! | module | crate | what it holds |
//! |---|---|---|
//! | [`core`] | `wcrg-core` | the traits `Transform`, `Features`, `Energy`, `Sampler`; RNG streams; errors |
//! | [`wavelets`] | `wcrg-wavelets` | orthogonal wavelets (PyWavelets' filters and layout), packets, the RG split |
//! | [`scattering`] | `wcrg-scattering` | scattering transforms and spectra |
//! | [`energy_models`] | `wcrg-energy-models` | energy ansätze |
//! | [`estimators`] | `wcrg-estimators` | score matching and maximum likelihood |
//! | [`samplers`] | `wcrg-samplers` | MCMC kernels and diagnostics |
//! | [`rg`] | `wcrg-rg` | the WCRG pipeline |
//!
//! ## Example
//!
//! ```
//! use wcrg::core::Transform;
//! use wcrg::wavelets::{Dwt, Wavelet};
//! use wcrg::core::ndarray::{Array2, Ix2};
//!
//! let w = Wavelet::new("db4").unwrap();
//! let x = Array2::from_shape_fn((16, 16), |(i, j)| ((i * 7 + j * 3) % 5) as f64);
//! let plan = Dwt::new(&w, &[16, 16], 2).unwrap();
//! let y = plan.forward(x.view().into_dyn());
//! let back = plan.inverse(y.view());
//! assert!((back.into_dimensionality::<Ix2>().unwrap() - &x).iter().all(|d| d.abs() < 1e-12));
//! ```
#![deny(missing_docs)]

pub use wcrg_core as core;
pub use wcrg_energy_models as energy_models;
pub use wcrg_estimators as estimators;
pub use wcrg_rg as rg;
pub use wcrg_samplers as samplers;
pub use wcrg_scattering as scattering;
pub use wcrg_wavelets as wavelets;
