//! # wcrg: the wavelet conditional renormalisation group
//!
//! The umbrella crate: it re-exports every crate of the workspace, so that a user who wants
//! everything depends on `wcrg` alone. Each crate can also be used on its own.
//!
//! | module | crate | what it holds |
//! |---|---|---|
//! | [`core`] | `wcrg-core` | the traits `Transform`, `Features`, `Energy`, `Sampler`; RNG streams; errors |
//! | [`wavelets`] | `wcrg-wavelets` | orthogonal wavelets (PyWavelets' filters and layout), packets, the RG split |
//! | [`scattering`] | `wcrg-scattering` | kymatio-compatible scattering transforms, scattering spectra, synthesis |
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
//! ## The README's tour
//!
//! Compiled with the tests (not run: generating the samples takes a few seconds).
//!
//! ```no_run
//! use wcrg::core::{Transform, Workspace};
//! use wcrg::energy_models::features::{Basis, Concat, QuadraticCouplings, ScalarPotential};
//! use wcrg::estimators::ScoreMatching;
//! use wcrg::samplers::Phi4GroundTruth;
//! use wcrg::wavelets::{Dwt, Normalisation, RgSplit, Wavelet};
//!
//! // 1000 decorrelated φ⁴ fields (64², λ = 1) at the measured critical point β_c = 0.922:
//! // Metropolis + Wolff cluster moves, thinned by the measured τ_int (≈ 7 s on 2 cores).
//! let truth = Phi4GroundTruth::new(64, 0.922).generate(None)?;
//!
//! // Orthogonal wavelets, PyWavelets' taps and layout to the last digit; plans are built once.
//! let w = Wavelet::new("db4")?;
//! let plan = Dwt::new(&w, &[64, 64], 3)?;
//! let mut x = truth.samples.index_axis(wcrg::core::ndarray::Axis(0), 0).to_owned();
//! plan.forward_inplace(x.view_mut(), &mut Workspace::new()); // packed = pywt.coeffs_to_array
//! let coeffs = plan.to_pywt(x.view());                       // cA3, (cH3, cV3, cD3), … = wavedec2
//!
//! // One RG step of the whole batch: coarse field x_j and 3 detail channels x̄_j, unit variance.
//! let split = RgSplit::from_data(&w, truth.samples.view(), Normalisation::Details)?;
//! let (coarse, details) = split.split_batch(truth.samples.view())?;
//!
//! // Learn U_θ = θᵀΦ by score matching — a linear solve, no sampling — with standard errors.
//! let phi = Concat::new(vec![
//!     Box::new(QuadraticCouplings::window(&[64, 64], 1)?),
//!     Box::new(ScalarPotential::new(&[64, 64], Basis::Powers(vec![4]))?),
//! ])?;
//! let (fit, se) = ScoreMatching::default().fit_data(&phi, truth.samples.view())?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

pub use wcrg_core as core;
pub use wcrg_energy_models as energy_models;
pub use wcrg_estimators as estimators;
pub use wcrg_rg as rg;
pub use wcrg_samplers as samplers;
pub use wcrg_scattering as scattering;
pub use wcrg_wavelets as wavelets;

/// The guide's pages (`docs/*.md`), whose Rust blocks run as doctests so that they stay true.
#[cfg(doctest)]
mod guide {
    #[doc = include_str!("../docs/README.md")]
    struct Index;
    #[doc = include_str!("../docs/wavelets.md")]
    struct Wavelets;
    #[doc = include_str!("../docs/scattering.md")]
    struct Scattering;
    #[doc = include_str!("../docs/fitting.md")]
    struct Fitting;
    #[doc = include_str!("../docs/sampling.md")]
    struct Sampling;
    #[doc = include_str!("../docs/rg.md")]
    struct Rg;
}
