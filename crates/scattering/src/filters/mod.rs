//! Morlet filter banks in Fourier (pure functions of the sizes and settings; the transforms
//! apply them).

mod morlet1d;
mod morlet2d;

pub use morlet1d::{Morlet1d, MorletBank1d};
pub(crate) use morlet1d::{SIGMA0, filterbank_params, morlet_1d, temporal_support};
pub use morlet2d::{Morlet2d, MorletBank2d};
