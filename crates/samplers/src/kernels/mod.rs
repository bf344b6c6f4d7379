//! Markov kernels. Each is a [`wcrg_core::Sampler`]: `init` builds an explicit state, `step`
//! makes one transition with the caller's random stream and returns a [`wcrg_core::StepInfo`].

mod cycle;
mod hmc;
mod mala;
mod metropolis;
mod ula;
mod wolff;

pub use cycle::{Cycle, Repeat};
pub use hmc::Hmc;
pub use mala::Mala;
pub use metropolis::CheckerboardMetropolis;
pub use ula::Ula;
pub use wolff::Wolff;

use ndarray::ArrayD;
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};

/// Fills `z` with independent standard normal draws.
pub(crate) fn fill_normal<R: Rng + ?Sized>(z: &mut ArrayD<f64>, rng: &mut R) {
    z.iter_mut()
        .for_each(|v| *v = StandardNormal.sample(&mut *rng));
}

/// Kernels with a step size (or proposal width) that adaptation may tune.
pub trait Tunable: Sized {
    /// The current step size.
    fn step_size(&self) -> f64;
    /// The same kernel with another step size.
    ///
    /// # Errors
    /// When `step` is not finite and positive.
    fn with_step_size(&self, step: f64) -> wcrg_core::Result<Self>;
}
