//! Errors of the scattering crate.

/// What can go wrong when building a filter bank or a scattering plan, or when transforming data.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ScatteringError {
    /// The field is smaller than the largest wavelet scale $2^J$ (or, for periodic filters, not
    /// divisible by it).
    #[error("size {size} along axis {axis} is incompatible with J = {j}: {reason}")]
    SizeIncompatibleWithJ {
        /// The axis.
        axis: usize,
        /// The size along that axis.
        size: usize,
        /// The number of scales.
        j: usize,
        /// What is needed.
        reason: String,
    },
    /// An error shared with the other crates (shapes, non-finite data, empty batches, settings).
    #[error(transparent)]
    Core(#[from] wcrg_core::Error),
}

/// Result alias of this crate.
pub type Result<T, E = ScatteringError> = std::result::Result<T, E>;

pub(crate) fn invalid(name: &str, value: impl std::fmt::Display, reason: &str) -> ScatteringError {
    ScatteringError::Core(wcrg_core::Error::InvalidParameter {
        name: name.to_string(),
        value: value.to_string(),
        reason: reason.to_string(),
    })
}

/// Checks that every value is finite.
pub(crate) fn check_finite<'a>(what: &str, data: impl IntoIterator<Item = &'a f64>) -> Result<()> {
    for (index, &value) in data.into_iter().enumerate() {
        if !value.is_finite() {
            return Err(wcrg_core::Error::NonFinite {
                what: what.to_string(),
                index,
                value,
            }
            .into());
        }
    }
    Ok(())
}
