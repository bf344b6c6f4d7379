//! # wcrg-energy-models
//!
//! This crate will hold linear energy ansätze θᵀΦ and their feature blocks, φ⁴ and stationary Gaussian energies.
//! It is reserved in the workspace and has no public API yet; see the workspace README for the
//! crates that are available today ([`wcrg_core`] and `wcrg-wavelets`).
#![deny(missing_docs)]

pub use wcrg_core;
