//! The unadjusted Langevin algorithm.

use ndarray::{ArrayD, ArrayViewD, Zip};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use wcrg_core::{Energy, Result, Sampler, StepInfo, Workspace};

use super::{Tunable, fill_normal};
use crate::state::{LangevinState, positive};

/// The unadjusted Langevin algorithm (ULA):
/// $$x' = x - \varepsilon \nabla U(x) + \sqrt{2\varepsilon}\, z,\qquad z \sim \mathcal N(0, I).$$
/// Every finite move is taken; the chain samples $e^{-U}$ only up to an $O(\varepsilon)$ bias
/// (for a Gaussian with precision $K$, exactly $\mathcal N(0, (K - \varepsilon K^2/2)^{-1})$).
/// A proposal with a non-finite energy or gradient is refused and flagged `divergent`.
#[derive(Debug, Clone)]
pub struct Ula<E> {
    energy: E,
    step: f64,
}

impl<E: Energy> Ula<E> {
    /// ULA on `energy` with step size `step`.
    ///
    /// # Errors
    /// When `step` is not finite and positive.
    pub fn new(energy: E, step: f64) -> Result<Self> {
        Ok(Self {
            energy,
            step: positive("step size", step)?,
        })
    }
}

/// Draws the Langevin proposal into `state.y` and evaluates it into `state.gy`. Returns the
/// proposal's energy, or `None` when it or its gradient is not finite.
pub(crate) fn langevin_proposal<E: Energy + ?Sized>(
    energy: &E,
    step: f64,
    state: &mut LangevinState,
    rng: &mut ChaCha8Rng,
    ws: &mut Workspace,
) -> Option<f64> {
    fill_normal(&mut state.p, rng);
    let noise = (2.0 * step).sqrt();
    Zip::from(&mut state.y)
        .and(&state.x)
        .and(&state.grad)
        .and(&state.p)
        .for_each(|y, &x, &g, &z| *y = x - step * g + noise * z);
    let u = energy.energy_and_gradient(state.y.view(), state.gy.view_mut(), ws);
    (u.is_finite() && state.gy.iter().all(|g| g.is_finite())).then_some(u)
}

/// Makes the proposal the current state.
pub(crate) fn accept(state: &mut LangevinState, energy: f64) {
    std::mem::swap(&mut state.x, &mut state.y);
    std::mem::swap(&mut state.grad, &mut state.gy);
    state.energy = energy;
}

impl<E: Energy> Sampler for Ula<E> {
    type State = LangevinState;

    fn init(&self, x0: ArrayD<f64>, ws: &mut Workspace) -> Result<LangevinState> {
        LangevinState::new(&self.energy, x0, ws)
    }

    fn step(
        &self,
        state: &mut LangevinState,
        rng: &mut ChaCha8Rng,
        ws: &mut Workspace,
    ) -> StepInfo {
        match langevin_proposal(&self.energy, self.step, state, rng, ws) {
            Some(u) => {
                accept(state, u);
                StepInfo {
                    accepted: true,
                    acceptance_probability: 1.0,
                    divergent: false,
                    energy: u,
                }
            }
            None => {
                // Keep the stream aligned with MALA's (one uniform per step).
                let _: f64 = rng.random();
                StepInfo {
                    accepted: false,
                    acceptance_probability: 0.0,
                    divergent: true,
                    energy: state.energy,
                }
            }
        }
    }

    fn position<'a>(&self, state: &'a LangevinState) -> ArrayViewD<'a, f64> {
        state.x.view()
    }
}

impl<E: Energy + Clone> Tunable for Ula<E> {
    fn step_size(&self) -> f64 {
        self.step
    }
    fn with_step_size(&self, step: f64) -> Result<Self> {
        Self::new(self.energy.clone(), step)
    }
}
