//! # wcrg-estimators
//!
//! This crate will hold score matching, maximum likelihood by moment matching and free-energy regression.
//! It is reserved in the workspace and has no public API yet; see the workspace README for the
//! crates that are available today ([`wcrg_core`] and `wcrg-wavelets`).
#![deny(missing_docs)]

pub use wcrg_core;
