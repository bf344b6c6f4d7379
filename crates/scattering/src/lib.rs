//! # wcrg-scattering
//!
//! This crate will hold Morlet filter banks, the wavelet scattering transform, scattering spectra and synthesis from a single field.
//! It is reserved in the workspace and has no public API yet; see the workspace README for the
//! crates that are available today ([`wcrg_core`] and `wcrg-wavelets`).
#![deny(missing_docs)]

pub use wcrg_core;
