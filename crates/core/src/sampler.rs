//! The [`Sampler`] trait: Markov kernels over an explicit state.

use rand_chacha::ChaCha8Rng;

use crate::Workspace;

/// What one transition did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepInfo {
    /// Whether the proposal was accepted.
    pub accepted: bool,
    /// The Metropolis acceptance probability $\min(1, e^{-\Delta H})$ of the proposal (1 for
    /// unadjusted kernels; the mean over sites for sweeps of single-site moves).
    pub acceptance_probability: f64,
    /// Whether the proposal's energy was NaN or infinite (the move is then rejected).
    pub divergent: bool,
    /// The energy of the state after the transition.
    pub energy: f64,
}

/// A Markov kernel leaving $p \propto e^{-U}$ invariant (or approximately so, for unadjusted
/// kernels), as an `init` and a `step` over an explicit state.
///
/// All randomness comes from the `rng` argument: with one ChaCha stream per chain
/// ([`crate::rng::Streams`]), a run is bit-identical for any number of threads.
pub trait Sampler: Send + Sync {
    /// The chain state (position plus whatever the kernel caches, e.g. energy and gradient).
    type State: Clone + Send;

    /// Builds a state at position `x0`.
    ///
    /// # Errors
    /// When `x0` has the wrong shape or non-finite values, or its energy is not finite.
    fn init(&self, x0: ndarray::ArrayD<f64>, ws: &mut Workspace) -> crate::Result<Self::State>;

    /// One transition of the chain.
    fn step(&self, state: &mut Self::State, rng: &mut ChaCha8Rng, ws: &mut Workspace) -> StepInfo;

    /// The current position of a state.
    fn position<'a>(&self, state: &'a Self::State) -> ndarray::ArrayViewD<'a, f64>;
}
