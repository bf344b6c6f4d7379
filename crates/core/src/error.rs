//! Error kinds shared by every wcrg crate.

/// The result type of fallible wcrg operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Broken invariants that every crate can meet: shapes, sizes, non-finite data, bad parameters.
///
/// Crate-specific errors wrap this type (`#[from]`), so that `?` works across crates.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An array does not have the shape the operation needs.
    #[error("shape mismatch in {what}: expected {expected:?}, got {actual:?}")]
    ShapeMismatch {
        /// What was being checked (argument name).
        what: String,
        /// The expected shape.
        expected: Vec<usize>,
        /// The shape that was supplied.
        actual: Vec<usize>,
    },
    /// An array has a number of dimensions the operation does not support.
    #[error("{what}: {ndim}-dimensional input is not supported (supported: {supported})")]
    UnsupportedDimension {
        /// What was being checked.
        what: String,
        /// The number of dimensions supplied.
        ndim: usize,
        /// The supported numbers of dimensions, in words.
        supported: String,
    },
    /// A size is not divisible by what the operation requires (e.g. `2^levels` for a wavelet
    /// transform).
    #[error("{what}: size {size} along axis {axis} is not divisible by {divisor}")]
    NotDivisible {
        /// What was being checked.
        what: String,
        /// The axis.
        axis: usize,
        /// The size along that axis.
        size: usize,
        /// The required divisor.
        divisor: usize,
    },
    /// The data contain NaN or an infinity.
    #[error("{what} contains a non-finite value ({value}) at flat index {index}")]
    NonFinite {
        /// What was being checked.
        what: String,
        /// Flat (row-major) index of the first offending value.
        index: usize,
        /// The offending value.
        value: f64,
    },
    /// The data are empty where at least one element or sample is needed.
    #[error("{what} is empty")]
    Empty {
        /// What was empty.
        what: String,
    },
    /// A parameter is outside its valid range.
    #[error("invalid parameter `{name}` = {value}: {reason}")]
    InvalidParameter {
        /// Parameter name.
        name: String,
        /// The offending value, formatted.
        value: String,
        /// Why it is invalid.
        reason: String,
    },
    /// A linear system is singular or not positive definite.
    #[error("singular system in {what}: {detail}")]
    Singular {
        /// The system.
        what: String,
        /// What failed, and what may help.
        detail: String,
    },
    /// Reading or writing a file failed, or its content is malformed.
    #[error("i/o error on {path}: {detail}")]
    Io {
        /// The file.
        path: String,
        /// What went wrong.
        detail: String,
    },
}
