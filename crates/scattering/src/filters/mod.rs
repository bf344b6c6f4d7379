//! Morlet filter banks in Fourier (pure functions of the sizes and settings; the transforms
//! apply them).

mod morlet1d;
mod morlet2d;

pub(crate) use morlet1d::temporal_support;
pub use morlet1d::{Morlet1d, MorletBank1d};
pub use morlet2d::{Morlet2d, MorletBank2d};
