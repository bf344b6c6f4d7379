//! Maximum-likelihood refinement of the coarsest field's energy by moment matching.

use faer::prelude::*;
use faer::{Mat, Side};
use ndarray::{Array1, Array2, ArrayD, ArrayView3, Axis};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use wcrg_core::rng::Streams;
use wcrg_core::{Features, Sampler, Workspace};

use crate::coarse::CoarseKernel;
use crate::energies::FieldEnergy;
use crate::error::{Result, RgError};

/// A chain's final state, its draws and its mean acceptance probability.
type ChainDraws = Result<(ArrayD<f64>, Vec<ArrayD<f64>>, f64)>;

/// What the maximum-likelihood refinement of the coarsest energy measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Refinement {
    /// Newton iterations run.
    pub iterations: usize,
    /// Largest standardised moment mismatch $|\langle\Phi_k\rangle_\theta -
    /// \langle\Phi_k\rangle_{\rm data}| / \mathrm{sd}_\theta(\Phi_k)$ over features, at the end.
    pub max_mismatch: f64,
}

/// Newton's method for the likelihood of $p_\theta \propto e^{-\theta^\top\Phi}$:
/// $\theta \leftarrow \theta + \eta\,C_\theta^{-1}\big(\langle\Phi\rangle_\theta -
/// \langle\Phi\rangle_{\rm data}\big)$ with $C_\theta$ the covariance of $\Phi$ under
/// $p_\theta$ (the Hessian of the negative log-likelihood), $\langle\cdot\rangle_\theta$ from
/// persistent MALA chains with sign flips, started at data; the result averages $\theta$ over the
/// second half of the iterations.
#[allow(clippy::too_many_arguments)]
pub(crate) fn refine<F: Features + ?Sized>(
    features: &F,
    theta0: Array1<f64>,
    build: &(dyn Fn(&[f64]) -> Result<FieldEnergy> + Sync),
    data: ArrayView3<'_, f64>,
    (iterations, steps): (usize, usize),
    seed: u64,
) -> Result<(Array1<f64>, Refinement, Vec<Vec<f64>>)> {
    let k = features.len();
    let n = data.shape()[0];
    let mean_phi = |fields: &[ArrayD<f64>]| -> (Array1<f64>, Array2<f64>) {
        let rows: Vec<Array1<f64>> = fields
            .par_iter()
            .map_init(Workspace::new, |ws, x| {
                let mut v = Array1::zeros(k);
                features.values_into(x.view(), v.view_mut(), ws);
                v
            })
            .collect();
        let m = rows.iter().fold(Array1::zeros(k), |a, r| a + r) / rows.len() as f64;
        let mut c = Array2::<f64>::zeros((k, k));
        for r in &rows {
            let d = r - &m;
            for a in 0..k {
                for b in 0..k {
                    c[[a, b]] += d[a] * d[b];
                }
            }
        }
        (m, c / (rows.len().max(2) - 1) as f64)
    };
    let data_fields: Vec<ArrayD<f64>> =
        data.outer_iter().map(|x| x.to_owned().into_dyn()).collect();
    let (data_mean, _) = mean_phi(&data_fields);
    let chains = 128.min(n.max(1));
    let streams = Streams::new(seed);
    let mut states: Vec<ArrayD<f64>> = (0..chains)
        .map(|c| {
            data.index_axis(Axis(0), (c * n) / chains)
                .to_owned()
                .into_dyn()
        })
        .collect();
    let mut theta = theta0;
    let mut history: Vec<Array1<f64>> = Vec::new();
    let mut step = 0.1;
    let mut mismatch = f64::INFINITY;
    for it in 0..iterations {
        let energy = build(theta.as_slice().expect("contiguous"))?;
        // Draws: 15 per chain, every `steps / 20` steps over the last three quarters.
        let (burn, every) = (steps / 4, (steps / 20).max(1));
        let runs: Vec<ChainDraws> = states
            .par_iter()
            .enumerate()
            .map(|(c, x0)| {
                let mut ws = Workspace::new();
                let mut rng = streams.rng((it * chains + c) as u64);
                let kernel = CoarseKernel::new(&energy, step)?;
                let mut state = kernel.init(x0.clone(), &mut ws)?;
                let mut draws = Vec::new();
                let mut acc = 0.0;
                for t in 0..steps {
                    acc += kernel
                        .step(&mut state, &mut rng, &mut ws)
                        .acceptance_probability;
                    if t >= burn && (t + 1) % every == 0 {
                        draws.push(kernel.position(&state).to_owned());
                    }
                }
                Ok((
                    kernel.position(&state).to_owned(),
                    draws,
                    acc / steps as f64,
                ))
            })
            .collect();
        let mut draws = Vec::new();
        let mut acc = 0.0;
        for (c, r) in runs.into_iter().enumerate() {
            let (x, d, a) = r?;
            states[c] = x;
            draws.extend(d);
            acc += a / chains as f64;
        }
        // Keep the MALA acceptance near 0.6.
        step *= (1.0 + (acc - 0.6)).clamp(0.5, 1.5);
        let (model_mean, cov) = mean_phi(&draws);
        let diff = &model_mean - &data_mean;
        mismatch = (0..k)
            .map(|a| diff[a].abs() / cov[[a, a]].sqrt().max(1e-300))
            .fold(0.0, f64::max);
        let scale: Vec<f64> = (0..k)
            .map(|a| 1.0 / cov[[a, a]].sqrt().max(1e-300))
            .collect();
        let p = Mat::<f64>::from_fn(k, k, |a, b| {
            cov[[a, b]] * scale[a] * scale[b] + if a == b { 1e-3 } else { 0.0 }
        });
        let llt = p.llt(Side::Lower).map_err(|_| RgError::Sampling {
            stage: "maximum-likelihood refinement of the coarsest field".into(),
            detail: "the feature covariance under the model is singular".into(),
        })?;
        let rhs = Mat::<f64>::from_fn(k, 1, |a, _| diff[a] * scale[a]);
        let sol = llt.solve(&rhs);
        for a in 0..k {
            theta[a] += 0.5 * sol[(a, 0)] * scale[a];
        }
        history.push(theta.clone());
    }
    let tail = &history[history.len() / 2..];
    let avg = tail.iter().fold(Array1::zeros(k), |a, t| a + t) / tail.len() as f64;
    // The chains' final states: where the sampler's coarsest chains start.
    let starts = states.iter().map(|x| x.iter().copied().collect()).collect();
    Ok((
        avg,
        Refinement {
            iterations,
            max_mismatch: mismatch,
        },
        starts,
    ))
}
