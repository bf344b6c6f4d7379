//! Hamiltonian Monte Carlo with a leapfrog integrator.

use ndarray::{ArrayD, ArrayViewD, Zip};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use wcrg_core::{Energy, Error, Result, Sampler, StepInfo, Workspace};

use super::ula::accept;
use super::{Tunable, fill_normal};
use crate::state::{LangevinState, positive};

/// Energy errors above this are treated as a divergent trajectory.
const MAX_ENERGY_ERROR: f64 = 1000.0;

/// HMC with identity mass: momentum $p \sim \mathcal N(0, I)$, `leapfrog_steps` leapfrog steps
/// of size $\varepsilon$ for $H = U(x) + \frac12\|p\|^2$, and a Metropolis test
/// $\min(1, e^{H_0 - H_1})$. A trajectory reaching a non-finite energy, or an energy error above
/// 1000, is rejected and flagged `divergent`.
#[derive(Debug, Clone)]
pub struct Hmc<E> {
    energy: E,
    step: f64,
    leapfrog_steps: usize,
}

impl<E: Energy> Hmc<E> {
    /// HMC on `energy`.
    ///
    /// # Errors
    /// When `step` is not finite and positive or `leapfrog_steps` is zero.
    pub fn new(energy: E, step: f64, leapfrog_steps: usize) -> Result<Self> {
        if leapfrog_steps == 0 {
            return Err(Error::InvalidParameter {
                name: "leapfrog_steps".into(),
                value: "0".into(),
                reason: "at least one leapfrog step".into(),
            });
        }
        Ok(Self {
            energy,
            step: positive("step size", step)?,
            leapfrog_steps,
        })
    }
}

impl<E: Energy> Sampler for Hmc<E> {
    type State = LangevinState;

    fn init(&self, x0: ArrayD<f64>, ws: &mut Workspace) -> Result<LangevinState> {
        LangevinState::new(&self.energy, x0, ws)
    }

    fn step(&self, s: &mut LangevinState, rng: &mut ChaCha8Rng, ws: &mut Workspace) -> StepInfo {
        let eps = self.step;
        fill_normal(&mut s.p, rng);
        let u: f64 = rng.random();
        let kinetic = |p: &ArrayD<f64>| 0.5 * p.iter().map(|v| v * v).sum::<f64>();
        let h0 = s.energy + kinetic(&s.p);
        s.y.assign(&s.x);
        s.gy.assign(&s.grad);
        let mut uy = s.energy;
        for i in 0..self.leapfrog_steps {
            let half = if i == 0 { 0.5 * eps } else { eps };
            Zip::from(&mut s.p)
                .and(&s.gy)
                .for_each(|p, &g| *p -= half * g);
            Zip::from(&mut s.y)
                .and(&s.p)
                .for_each(|y, &p| *y += eps * p);
            uy = self
                .energy
                .energy_and_gradient(s.y.view(), s.gy.view_mut(), ws);
            if !uy.is_finite() {
                break;
            }
        }
        Zip::from(&mut s.p)
            .and(&s.gy)
            .for_each(|p, &g| *p -= 0.5 * eps * g);
        let h1 = uy + kinetic(&s.p);
        let divergent = !h1.is_finite() || h1 - h0 > MAX_ENERGY_ERROR;
        let alpha = if divergent {
            0.0
        } else {
            (h0 - h1).min(0.0).exp()
        };
        if !divergent && u < alpha {
            accept(s, uy);
            StepInfo {
                accepted: true,
                acceptance_probability: alpha,
                divergent,
                energy: uy,
            }
        } else {
            StepInfo {
                accepted: false,
                acceptance_probability: alpha,
                divergent,
                energy: s.energy,
            }
        }
    }

    fn position<'a>(&self, state: &'a LangevinState) -> ArrayViewD<'a, f64> {
        state.x.view()
    }
}

impl<E: Energy + Clone> Tunable for Hmc<E> {
    fn step_size(&self) -> f64 {
        self.step
    }
    fn with_step_size(&self, step: f64) -> Result<Self> {
        Self::new(self.energy.clone(), step, self.leapfrog_steps)
    }
}
