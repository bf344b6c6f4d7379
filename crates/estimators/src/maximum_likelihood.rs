//! Maximum likelihood by moment matching with persistent chains.

use ndarray::{Array1, ArrayD, ArrayViewD, Axis};
use rayon::prelude::*;
use wcrg_core::rng::Streams;
use wcrg_core::{Error, Features, Result, Sampler, Workspace, validate};
use wcrg_energy_models::LinearEnergy;
use wcrg_samplers::{Mala, RunConfig, run_chains_adapted};

/// Settings of maximum likelihood for $p_\theta \propto e^{-\theta^\top\Phi}$ by moment matching:
/// $$\nabla_\theta\,\mathbb E_{\rm data}[\log p_\theta] = \mathbb E_{p_\theta}[\Phi] - \mathbb E_{\rm data}[\Phi],$$
/// with $\mathbb E_{p_\theta}$ estimated by persistent MALA chains (started from data samples,
/// step size adapted once at $\theta_0$) and Adam steps on $\theta$. The estimate is the mean of
/// $\theta$ over the last `average_last` iterations (Polyak averaging).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct MaximumLikelihood {
    /// Number of gradient steps.
    pub iterations: usize,
    /// Number of persistent chains.
    pub chains: usize,
    /// MALA steps per chain between gradient steps.
    pub steps: usize,
    /// Adam learning rate.
    pub learning_rate: f64,
    /// Adaptive MALA warm-up at $\theta_0$.
    pub warmup: usize,
    /// Iterations averaged at the end.
    pub average_last: usize,
    /// Seed of the chains.
    pub seed: u64,
}

impl Default for MaximumLikelihood {
    fn default() -> Self {
        Self {
            iterations: 300,
            chains: 16,
            steps: 5,
            learning_rate: 0.01,
            warmup: 500,
            average_last: 100,
            seed: 0,
        }
    }
}

/// A maximum-likelihood fit.
#[derive(Debug, Clone, PartialEq)]
pub struct MlFit {
    /// $\hat\theta$ (averaged over the last iterations).
    pub theta: Array1<f64>,
    /// $\mathbb E_{\rm data}[\Phi]$.
    pub data_moments: Array1<f64>,
    /// $\mathbb E_{p_\theta}[\Phi]$ averaged over the last iterations.
    pub model_moments: Array1<f64>,
    /// Convergence diagnostic: the moment mismatch of each feature over the last iterations,
    /// divided by its standard error there. $|z| \lesssim 3$ means the moments match within the
    /// Monte-Carlo noise.
    pub gradient_z: Array1<f64>,
    /// $\theta$ after every iteration.
    pub history: Vec<Array1<f64>>,
    /// The MALA step size used.
    pub step_size: f64,
}

impl MaximumLikelihood {
    /// Sets the number of iterations and the averaging window.
    pub fn iterations(mut self, iterations: usize, average_last: usize) -> Self {
        self.iterations = iterations;
        self.average_last = average_last;
        self
    }
    /// Sets the number of chains and MALA steps per iteration.
    pub fn chains(mut self, chains: usize, steps: usize) -> Self {
        self.chains = chains;
        self.steps = steps;
        self
    }
    /// Sets the learning rate.
    pub fn learning_rate(mut self, lr: f64) -> Self {
        self.learning_rate = lr;
        self
    }
    /// Sets the seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Fits $\theta$ from data `(N, field…)`, starting at `theta0` (e.g. the score-matching fit).
    ///
    /// # Errors
    /// Invalid settings; empty, non-finite or mis-shaped data; `theta0` of the wrong length or
    /// non-finite; chains that diverge (NaN energies), with a suggestion to lower the learning rate.
    pub fn fit<F: Features + ?Sized>(
        &self,
        features: &F,
        data: ArrayViewD<'_, f64>,
        theta0: Array1<f64>,
    ) -> Result<MlFit> {
        if self.iterations == 0
            || self.chains == 0
            || self.steps == 0
            || self.average_last == 0
            || self.average_last > self.iterations
        {
            return Err(Error::InvalidParameter {
                name: "iterations, chains, steps, average_last".into(),
                value: format!(
                    "{}, {}, {}, {}",
                    self.iterations, self.chains, self.steps, self.average_last
                ),
                reason: "all positive, average_last <= iterations".into(),
            });
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return Err(Error::InvalidParameter {
                name: "learning_rate".into(),
                value: self.learning_rate.to_string(),
                reason: "must be finite and positive".into(),
            });
        }
        if data.ndim() == 0 || data.shape()[0] == 0 {
            return Err(Error::Empty {
                what: "dataset".into(),
            });
        }
        validate::shape("dataset fields", features.field_shape(), &data.shape()[1..])?;
        validate::finite("dataset", data.iter())?;
        let k = features.len();
        validate::shape("theta0", &[k], theta0.shape())?;
        validate::finite("theta0", theta0.iter())?;
        let data_moments = mean_features(features, data.axis_iter(Axis(0)).collect());
        // Adapt the step size at theta0 with chains started on data samples.
        let inits: Vec<ArrayD<f64>> = (0..self.chains)
            .map(|c| data.index_axis(Axis(0), c % data.shape()[0]).to_owned())
            .collect();
        let energy0 = LinearEnergy::new(features, theta0.clone())?;
        let cfg = RunConfig::default()
            .warmup(self.warmup)
            .draws(1)
            .seed(Streams::new(self.seed).child(0).seed());
        let warm = run_chains_adapted(&Mala::new(&energy0, 0.01)?, inits, &cfg, None)?;
        let mut steps: Vec<f64> = warm.iter().filter_map(|c| c.step_size).collect();
        steps.sort_by(f64::total_cmp);
        let step_size = steps[steps.len() / 2];
        let mut positions: Vec<ArrayD<f64>> = warm
            .into_iter()
            .map(|c| c.draws.into_iter().next().expect("one draw"))
            .collect();
        let (b1, b2, eps) = (0.9, 0.999, 1e-8);
        let (mut m, mut v) = (Array1::<f64>::zeros(k), Array1::<f64>::zeros(k));
        let mut theta = theta0;
        let mut history = Vec::with_capacity(self.iterations);
        let mut grads = Vec::with_capacity(self.iterations);
        let streams = Streams::new(self.seed).child(1);
        for it in 0..self.iterations {
            let energy = LinearEnergy::new(features, theta.clone())?;
            let kernel = Mala::new(&energy, step_size)?;
            let iter_streams = streams.child(it as u64);
            let moved: Vec<Result<ArrayD<f64>>> = positions
                .into_par_iter()
                .enumerate()
                .map(|(c, x)| {
                    let mut ws = Workspace::new();
                    let mut rng = iter_streams.rng(c as u64);
                    let mut s = kernel.init(x, &mut ws).map_err(|e| diverged(it, e))?;
                    for _ in 0..self.steps {
                        kernel.step(&mut s, &mut rng, &mut ws);
                    }
                    Ok(kernel.position(&s).to_owned())
                })
                .collect();
            positions = moved.into_iter().collect::<Result<_>>()?;
            let model = mean_features(features, positions.iter().map(|p| p.view()).collect());
            let g = &model - &data_moments;
            if g.iter().any(|x| !x.is_finite()) {
                return Err(diverged(
                    it,
                    Error::NonFinite {
                        what: "model moments".into(),
                        index: 0,
                        value: f64::NAN,
                    },
                ));
            }
            m = b1 * &m + (1.0 - b1) * &g;
            v = b2 * &v + (1.0 - b2) * &g.mapv(|x| x * x);
            let t = (it + 1) as i32;
            let mh = &m / (1.0 - b1.powi(t));
            let vh = &v / (1.0 - b2.powi(t));
            theta = theta + self.learning_rate * &mh / &(vh.mapv(f64::sqrt) + eps);
            history.push(theta.clone());
            grads.push((model, g));
        }
        let w = self.average_last;
        let last = &history[history.len() - w..];
        let theta_hat: Array1<f64> = last.iter().fold(Array1::zeros(k), |a, t| a + t) / w as f64;
        let window = &grads[grads.len() - w..];
        let model_moments: Array1<f64> =
            window.iter().fold(Array1::zeros(k), |a, (mm, _)| a + mm) / w as f64;
        let gmean: Array1<f64> = window.iter().fold(Array1::zeros(k), |a, (_, g)| a + g) / w as f64;
        let gvar: Array1<f64> = window.iter().fold(Array1::zeros(k), |a, (_, g)| {
            a + (g - &gmean).mapv(|x| x * x)
        }) / (w.max(2) - 1) as f64;
        let gradient_z = &gmean / &(gvar / w as f64).mapv(|x| x.sqrt().max(f64::MIN_POSITIVE));
        Ok(MlFit {
            theta: theta_hat,
            data_moments,
            model_moments,
            gradient_z,
            history,
            step_size,
        })
    }
}

fn diverged(iteration: usize, cause: Error) -> Error {
    Error::Singular {
        what: "maximum likelihood".into(),
        detail: format!(
            "the chains diverged at iteration {iteration} ({cause}); lower the learning rate"
        ),
    }
}

/// $\frac1N\sum_i\Phi(x_i)$, in parallel with a fixed reduction order.
fn mean_features<F: Features + ?Sized>(f: &F, xs: Vec<ArrayViewD<'_, f64>>) -> Array1<f64> {
    let k = f.len();
    let n = xs.len();
    let parts: Vec<Array1<f64>> = xs
        .par_chunks(8)
        .map(|chunk| {
            let mut ws = Workspace::new();
            let mut acc = Array1::zeros(k);
            let mut phi = Array1::zeros(k);
            for x in chunk {
                f.values_into(x.view(), phi.view_mut(), &mut ws);
                acc += &phi;
            }
            acc
        })
        .collect();
    parts.into_iter().fold(Array1::zeros(k), |a, p| a + p) / n as f64
}
