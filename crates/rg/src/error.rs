//! Errors of the RG pipeline.

/// What can go wrong when fitting, sampling, saving or loading a WCRG model.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum RgError {
    /// A shape, size, data or solver error from the building blocks.
    #[error(transparent)]
    Core(#[from] wcrg_core::Error),
    /// A wavelet or split error.
    #[error(transparent)]
    Wavelet(#[from] wcrg_wavelets::WaveletError),
    /// A model file that cannot be read as a WCRG model.
    #[error("model file {path}: {detail}")]
    ModelFile {
        /// The file.
        path: String,
        /// What is wrong with it.
        detail: String,
    },
    /// A model file written by an incompatible version of the format.
    #[error("model file {path} has format version {found}; this build reads version {expected}")]
    Version {
        /// The file.
        path: String,
        /// The version in the file.
        found: u32,
        /// The version this build reads.
        expected: u32,
    },
    /// A model inconsistent with the data or fields it is applied to.
    #[error("model mismatch: {0}")]
    Mismatch(String),
    /// Every chain of a sampler diverged or never moved.
    #[error("sampling at {stage} failed: {detail}")]
    Sampling {
        /// Which scale.
        stage: String,
        /// What happened.
        detail: String,
    },
}

/// The result type of the RG pipeline.
pub type Result<T, E = RgError> = std::result::Result<T, E>;
