//! The coarsest field's Markov kernel.

use ndarray::{ArrayD, ArrayViewD};
use rand::RngExt;
use wcrg_core::{Energy, Sampler, StepInfo, Workspace};
use wcrg_samplers::{LangevinState, Mala, Tunable};

use crate::sample::FLIP_EVERY;

/// The coarsest field's kernel: MALA, and every [`FLIP_EVERY`] steps the global sign flip (each
/// exact, so their cycle is).
#[derive(Debug, Clone)]
pub(crate) struct CoarseKernel<E: Energy> {
    mala: Mala<E>,
}

/// A [`CoarseKernel`]'s state: the Langevin state and the step count.
#[derive(Debug, Clone)]
pub(crate) struct CoarseState {
    inner: LangevinState,
    t: usize,
}

impl<E: Energy> CoarseKernel<E> {
    /// The kernel on `energy` with MALA step `step`.
    ///
    /// # Errors
    /// A step that is not finite and positive.
    pub(crate) fn new(energy: E, step: f64) -> wcrg_core::Result<Self> {
        Ok(Self {
            mala: Mala::new(energy, step)?,
        })
    }
}

impl<E: Energy> Sampler for CoarseKernel<E> {
    type State = CoarseState;

    fn init(&self, x0: ArrayD<f64>, ws: &mut Workspace) -> wcrg_core::Result<CoarseState> {
        Ok(CoarseState {
            inner: self.mala.init(x0, ws)?,
            t: 0,
        })
    }

    fn step(
        &self,
        state: &mut CoarseState,
        rng: &mut wcrg_core::rng::Rng,
        ws: &mut Workspace,
    ) -> StepInfo {
        let mut info = self.mala.step(&mut state.inner, rng, ws);
        state.t += 1;
        if state.t.is_multiple_of(FLIP_EVERY) {
            // The sign flip: a symmetric involution, accepted with min(1, e^{U(x) - U(-x)}).
            let flipped = state.inner.position().mapv(|v| -v);
            let u_new = self.mala.energy().energy(flipped.view(), ws);
            let u: f64 = rng.random();
            if u_new.is_finite()
                && u < (state.inner.energy() - u_new).min(0.0).exp()
                && let Ok(s) = self.mala.init(flipped, ws)
            {
                state.inner = s;
            }
            info.energy = state.inner.energy();
        }
        info
    }

    fn position<'s>(&self, state: &'s CoarseState) -> ArrayViewD<'s, f64> {
        state.inner.position()
    }
}

impl<E: Energy + Clone> Tunable for CoarseKernel<E> {
    fn step_size(&self) -> f64 {
        self.mala.step_size()
    }
    fn with_step_size(&self, step: f64) -> wcrg_core::Result<Self> {
        Ok(Self {
            mala: self.mala.with_step_size(step)?,
        })
    }
}
