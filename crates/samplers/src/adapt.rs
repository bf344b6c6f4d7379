//! Step-size adaptation by dual averaging, kept apart from the kernels.

use wcrg_core::{Error, Result};

/// Nesterov dual averaging of $\log\varepsilon$ toward a target acceptance probability
/// $\delta$ (Hoffman & Gelman 2014, Algorithm 5):
/// $$\bar H_t = (1 - \tfrac1{t+t_0})\bar H_{t-1} + \tfrac1{t+t_0}(\delta - \alpha_t),\quad
/// \log\varepsilon_t = \mu - \tfrac{\sqrt t}{\gamma}\bar H_t,\quad
/// \log\bar\varepsilon_t = t^{-\kappa}\log\varepsilon_t + (1 - t^{-\kappa})\log\bar\varepsilon_{t-1},$$
/// with $\mu = \log(10\varepsilon_0)$, $\gamma = 0.05$, $t_0 = 10$, $\kappa = 0.75$. Use
/// [`DualAveraging::current`] during warm-up and [`DualAveraging::final_step`] afterwards.
#[derive(Debug, Clone, PartialEq)]
pub struct DualAveraging {
    target: f64,
    mu: f64,
    log_eps: f64,
    log_eps_bar: f64,
    h_bar: f64,
    t: f64,
}

impl DualAveraging {
    /// Adaptation from the initial step `step0` toward acceptance `target` in (0, 1).
    ///
    /// # Errors
    /// When `step0` is not finite and positive or `target` is outside (0, 1).
    pub fn new(step0: f64, target: f64) -> Result<Self> {
        crate::state::positive("initial step size", step0)?;
        if !(target > 0.0 && target < 1.0) {
            return Err(Error::InvalidParameter {
                name: "target acceptance".into(),
                value: target.to_string(),
                reason: "must lie in (0, 1)".into(),
            });
        }
        Ok(Self {
            target,
            mu: (10.0 * step0).ln(),
            log_eps: step0.ln(),
            log_eps_bar: 0.0,
            h_bar: 0.0,
            t: 0.0,
        })
    }

    /// Records the acceptance probability of the last step; returns the next step size.
    pub fn update(&mut self, acceptance_probability: f64) -> f64 {
        let alpha = if acceptance_probability.is_finite() {
            acceptance_probability.clamp(0.0, 1.0)
        } else {
            0.0
        };
        self.t += 1.0;
        let eta = 1.0 / (self.t + 10.0);
        self.h_bar = (1.0 - eta) * self.h_bar + eta * (self.target - alpha);
        self.log_eps = self.mu - self.t.sqrt() / 0.05 * self.h_bar;
        let w = self.t.powf(-0.75);
        self.log_eps_bar = w * self.log_eps + (1.0 - w) * self.log_eps_bar;
        self.current()
    }

    /// The step size to use for the next warm-up step.
    pub fn current(&self) -> f64 {
        self.log_eps.exp()
    }

    /// The averaged step size to use after warm-up.
    pub fn final_step(&self) -> f64 {
        if self.t == 0.0 {
            self.current()
        } else {
            self.log_eps_bar.exp()
        }
    }
}
