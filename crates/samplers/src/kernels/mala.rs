//! The Metropolis-adjusted Langevin algorithm.

use ndarray::{ArrayD, ArrayViewD, Zip};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use wcrg_core::{Energy, Result, Sampler, StepInfo, Workspace};

use super::Tunable;
use super::ula::{accept, langevin_proposal};
use crate::state::{LangevinState, positive};

/// MALA: the Langevin proposal $y = x - \varepsilon\nabla U(x) + \sqrt{2\varepsilon} z$ (as
/// [`super::Ula`]) followed by a Metropolis–Hastings correction with the Gaussian proposal
/// density $q(y \mid x) \propto \exp(-\|y - x + \varepsilon\nabla U(x)\|^2 / 4\varepsilon)$:
/// $$\alpha = \min\Big(1,\ e^{U(x) - U(y)}\, \frac{q(x\mid y)}{q(y \mid x)}\Big).$$
/// Exact for $e^{-U}$ at any step size; the optimal acceptance in high dimension is about 0.574.
/// A proposal with a non-finite energy or gradient is rejected and flagged `divergent`.
#[derive(Debug, Clone)]
pub struct Mala<E> {
    energy: E,
    step: f64,
}

impl<E: Energy> Mala<E> {
    /// MALA on `energy` with step size `step`.
    ///
    /// # Errors
    /// When `step` is not finite and positive.
    pub fn new(energy: E, step: f64) -> Result<Self> {
        Ok(Self {
            energy,
            step: positive("step size", step)?,
        })
    }

    /// The energy.
    pub fn energy(&self) -> &E {
        &self.energy
    }
}

impl<E: Energy> Sampler for Mala<E> {
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
        let eps = self.step;
        let proposal = langevin_proposal(&self.energy, eps, state, rng, ws);
        let u: f64 = rng.random();
        let reject = |state: &LangevinState, divergent| StepInfo {
            accepted: false,
            acceptance_probability: 0.0,
            divergent,
            energy: state.energy,
        };
        let Some(uy) = proposal else {
            return reject(state, true);
        };
        // log q(y|x) = -|z|^2/2 (z = state.p); log q(x|y) = -|x - y + eps grad U(y)|^2 / (4 eps).
        let fwd = -0.5 * state.p.iter().map(|z| z * z).sum::<f64>();
        let mut bwd = 0.0;
        Zip::from(&state.x)
            .and(&state.y)
            .and(&state.gy)
            .for_each(|&x, &y, &g| {
                let r = x - y + eps * g;
                bwd += r * r;
            });
        let log_alpha = state.energy - uy + (-bwd / (4.0 * eps)) - fwd;
        if !log_alpha.is_finite() && log_alpha != f64::NEG_INFINITY {
            return reject(state, true);
        }
        let alpha = log_alpha.min(0.0).exp();
        if u < alpha {
            accept(state, uy);
            StepInfo {
                accepted: true,
                acceptance_probability: alpha,
                divergent: false,
                energy: uy,
            }
        } else {
            StepInfo {
                acceptance_probability: alpha,
                ..reject(state, false)
            }
        }
    }

    fn position<'a>(&self, state: &'a LangevinState) -> ArrayViewD<'a, f64> {
        state.x.view()
    }
}

impl<E: Energy + Clone> Tunable for Mala<E> {
    fn step_size(&self) -> f64 {
        self.step
    }
    fn with_step_size(&self, step: f64) -> Result<Self> {
        Self::new(self.energy.clone(), step)
    }
}
