//! Compositions of kernels over the same state.

use ndarray::{ArrayD, ArrayViewD};
use rand_chacha::ChaCha8Rng;
use wcrg_core::{Error, Result, Sampler, StepInfo, Workspace};

/// One step of `first` then one step of `second` (both leave the same law invariant, hence so
/// does the cycle). The info is the second kernel's, `divergent` if either diverged, `accepted`
/// if either accepted.
#[derive(Debug, Clone)]
pub struct Cycle<A, B> {
    first: A,
    second: B,
}

impl<A, B> Cycle<A, B> {
    /// The cycle `first`, `second`.
    pub fn new(first: A, second: B) -> Self {
        Self { first, second }
    }
}

impl<A: Sampler, B: Sampler<State = A::State>> Sampler for Cycle<A, B> {
    type State = A::State;

    fn init(&self, x0: ArrayD<f64>, ws: &mut Workspace) -> Result<A::State> {
        self.first.init(x0, ws)
    }

    fn step(&self, s: &mut A::State, rng: &mut ChaCha8Rng, ws: &mut Workspace) -> StepInfo {
        let a = self.first.step(s, rng, ws);
        let b = self.second.step(s, rng, ws);
        StepInfo {
            accepted: a.accepted || b.accepted,
            divergent: a.divergent || b.divergent,
            ..b
        }
    }

    fn position<'a>(&self, state: &'a A::State) -> ArrayViewD<'a, f64> {
        self.first.position(state)
    }
}

/// `times` steps of a kernel as one step; the info averages acceptance probabilities.
#[derive(Debug, Clone)]
pub struct Repeat<K> {
    kernel: K,
    times: usize,
}

impl<K> Repeat<K> {
    /// `times` steps of `kernel`.
    ///
    /// # Errors
    /// When `times` is zero.
    pub fn new(kernel: K, times: usize) -> Result<Self> {
        if times == 0 {
            return Err(Error::InvalidParameter {
                name: "times".into(),
                value: "0".into(),
                reason: "at least one step".into(),
            });
        }
        Ok(Self { kernel, times })
    }
}

impl<K: Sampler> Sampler for Repeat<K> {
    type State = K::State;

    fn init(&self, x0: ArrayD<f64>, ws: &mut Workspace) -> Result<K::State> {
        self.kernel.init(x0, ws)
    }

    fn step(&self, s: &mut K::State, rng: &mut ChaCha8Rng, ws: &mut Workspace) -> StepInfo {
        let mut out = StepInfo {
            accepted: false,
            acceptance_probability: 0.0,
            divergent: false,
            energy: 0.0,
        };
        for _ in 0..self.times {
            let i = self.kernel.step(s, rng, ws);
            out.accepted |= i.accepted;
            out.divergent |= i.divergent;
            out.acceptance_probability += i.acceptance_probability / self.times as f64;
            out.energy = i.energy;
        }
        out
    }

    fn position<'a>(&self, state: &'a K::State) -> ArrayViewD<'a, f64> {
        self.kernel.position(state)
    }
}
