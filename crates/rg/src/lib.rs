//! # wcrg-rg
//!
//! This crate will hold the wavelet conditional renormalisation group pipeline: fit, coarse-to-fine sampling, diagnostics and reports.
//! It is reserved in the workspace and has no public API yet; see the workspace README for the
//! crates that are available today ([`wcrg_core`] and `wcrg-wavelets`).
#![deny(missing_docs)]

pub use wcrg_core;
