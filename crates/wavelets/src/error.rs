//! Errors of the wavelets crate.

/// What can go wrong when building a wavelet, a plan or a split.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum WaveletError {
    /// The name is not one of the built-in families.
    #[error("unknown wavelet `{name}`; known: haar, db1-db20, sym2-sym20, coif1-coif5")]
    UnknownWavelet {
        /// The name asked for.
        name: String,
    },
    /// A user-supplied filter has an odd or zero length.
    #[error("filter `{name}` has length {len}; an orthogonal filter has a positive even length")]
    BadFilterLength {
        /// The filter's name.
        name: String,
        /// Its length.
        len: usize,
    },
    /// A user-supplied low-pass filter is not orthonormal to its even shifts:
    /// $\sum_k h_k h_{k+2m} \neq \delta_{m0}$.
    #[error(
        "filter `{name}` is not orthonormal: sum_k h[k] h[k+2*{shift}] = {value:.3e}, expected {expected}"
    )]
    NotOrthonormal {
        /// The filter's name.
        name: String,
        /// The even shift $m$ at which the condition fails.
        shift: usize,
        /// The computed sum.
        value: f64,
        /// The expected value (1 at shift 0, else 0).
        expected: f64,
    },
    /// A user-supplied low-pass filter does not sum to $\sqrt 2$.
    #[error("filter `{name}` sums to {sum}; a low-pass orthogonal filter sums to sqrt(2)")]
    NotLowPass {
        /// The filter's name.
        name: String,
        /// Its sum.
        sum: f64,
    },
    /// The number of levels is zero.
    #[error("the number of levels must be at least 1")]
    ZeroLevels,
    /// An error shared with the other crates (shapes, sizes, non-finite data).
    #[error(transparent)]
    Core(#[from] wcrg_core::Error),
}

/// Result alias of this crate.
pub type Result<T, E = WaveletError> = std::result::Result<T, E>;
