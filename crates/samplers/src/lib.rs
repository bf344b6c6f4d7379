//! # wcrg-samplers
//!
//! This crate will hold ULA, MALA, HMC, single-site Metropolis and cluster kernels with step-size adaptation and chain diagnostics.
//! It is reserved in the workspace and has no public API yet; see the workspace README for the
//! crates that are available today ([`wcrg_core`] and `wcrg-wavelets`).
#![deny(missing_docs)]

pub use wcrg_core;
