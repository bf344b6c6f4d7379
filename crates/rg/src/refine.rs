//! Maximum-likelihood refinement by moment matching: of the coarsest field's energy, and of
//! the conditional energies given the data's coarse fields.

use faer::prelude::*;
use faer::{Mat, Side};
use ndarray::{Array1, Array2, ArrayD, ArrayView3, ArrayView4, ArrayViewD, Axis};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use wcrg_core::rng::Streams;
use wcrg_core::{Energy, Features, Sampler, Workspace};

use crate::coarse::{CoarseKernel, CoarseMoves};
use crate::energies::{ConditionalEnergy, Conditioned, FieldEnergy};
use crate::error::{Result, RgError};
use crate::local::LocalMala;

/// A chain's final state, its draws and its mean acceptance probability.
type ChainDraws = Result<(ArrayD<f64>, Vec<ArrayD<f64>>, f64)>;

/// A conditional chain's final state, its mean features over the draws, its last features and
/// its mean acceptance probability.
type ConditionalDraws = Result<(ArrayD<f64>, Array1<f64>, Array1<f64>, f64)>;

/// What the maximum-likelihood refinement of the coarsest energy measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Refinement {
    /// Newton iterations run.
    pub iterations: usize,
    /// Largest standardised moment mismatch $|\langle\Phi_k\rangle_\theta -
    /// \langle\Phi_k\rangle_{\rm data}| / \mathrm{sd}_\theta(\Phi_k)$ over features, at the end.
    pub max_mismatch: f64,
    /// Newton steps shortened to the trust region (the coarsest field's refinement only; 0 in
    /// files written before it existed).
    #[serde(default)]
    pub shortened_steps: usize,
}

/// A refinement of the coarsest field whose MALA step (on fields at unit variance; 0.1–0.4
/// when it converges) ends below this has chains that no longer move: an error.
const FROZEN_STEP: f64 = 1e-3;

/// The coarsest refinement's trust region, per square root of the field's sites: a Newton step
/// $\Delta\theta$ that changes the log-density by more than this times $\sqrt{m^2}$ (an $m
/// \times m$ field), in standard deviations under the current model
/// ($\sqrt{\Delta\theta^\top C_\theta\,\Delta\theta}$, nats), is shortened to it. The energy is
/// a sum over sites, so the radius grows as the square root of their number. Measured steps of
/// fits that converge: at most 0.2 on a 4 × 4 coarsest field (radius 0.5), 0.42 on 8 × 8
/// (radius 1), 0.78 on 16 × 16 (radius 2); the first, from the score-matching estimate, is
/// usually the largest, the later ones are the moments' sampling noise (about
/// $\tfrac12\sqrt{k/\text{draws}}$ for $k$ features). From a poor estimate (40 training fields
/// at 16², a 4 × 4 coarsest field) the steps are 1.2, then 3 to 24: taken whole, they stiffen
/// the energy faster than the chains' step adapts, the acceptance collapses, and the next
/// moments, hence the next step, say nothing. Within the radius that fit converges; with 0.7
/// instead of 0.5 on 4 × 4 it does not.
const TRUST_RADIUS_PER_SITE: f64 = 0.125;

/// Newton's method for the likelihood of $p_\theta \propto e^{-\theta^\top\Phi}$:
/// $\theta \leftarrow \theta + \eta\,C_\theta^{-1}\big(\langle\Phi\rangle_\theta -
/// \langle\Phi\rangle_{\rm data}\big)$ with $C_\theta$ the covariance of $\Phi$ under
/// $p_\theta$ (the Hessian of the negative log-likelihood), $\langle\cdot\rangle_\theta$ from
/// persistent MALA chains with sign flips, started at data; the result averages $\theta$ over the
/// second half of the iterations. Each step is kept within the trust region
/// [`TRUST_RADIUS_PER_SITE`].
///
/// # Errors
/// Besides a failed Newton step: chains whose adapted step ends below [`FROZEN_STEP`]. The
/// refinement then diverged (a Newton step from a poor initial estimate made the energy too
/// stiff to sample, and its moments stopped saying anything), and the model it would give
/// samples frozen chains. Before the trust region this happened with 40 training fields at 16²;
/// since, no fit we ran has diverged, and the check is a backstop.
#[allow(clippy::too_many_arguments)]
pub(crate) fn refine<F: Features + ?Sized>(
    features: &F,
    theta0: Array1<f64>,
    build: &(dyn Fn(&[f64]) -> Result<FieldEnergy> + Sync),
    data: ArrayView3<'_, f64>,
    (iterations, gradients): (usize, usize),
    kind: CoarseKernel,
    seed: u64,
) -> Result<(Array1<f64>, Refinement, Vec<Vec<f64>>)> {
    // Moves per chain and iteration: MALA steps, or HMC trajectories of the same gradient
    // evaluations in all.
    let steps = kind.moves(gradients);
    let target = kind.target_acceptance(0.6);
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
        mean_and_covariance(&rows)
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
    let radius = TRUST_RADIUS_PER_SITE * ((data.shape()[1] * data.shape()[2]) as f64).sqrt();
    let mut theta = theta0;
    let mut history: Vec<Array1<f64>> = Vec::new();
    let mut step = match kind {
        CoarseKernel::Mala => 0.1,
        _ => 2.0 * kind.initial_step(),
    };
    let mut mismatch = f64::INFINITY;
    let mut shortened_steps = 0;
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
                let kernel = CoarseMoves::new(&energy, kind, step)?;
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
        // Keep the acceptance near its target (0.6 for MALA).
        step *= (1.0 + (acc - target)).clamp(0.5, 1.5);
        let (model_mean, cov) = mean_phi(&draws);
        let diff = &model_mean - &data_mean;
        mismatch = max_mismatch(&diff, &cov);
        let shortened = newton_step(
            &mut theta,
            &diff,
            &cov,
            radius,
            "maximum-likelihood refinement of the coarsest field",
        )?;
        shortened_steps += usize::from(shortened);
        history.push(theta.clone());
    }
    if iterations > 0 && step < FROZEN_STEP {
        return Err(RgError::Sampling {
            stage: "maximum-likelihood refinement of the coarsest field".into(),
            detail: format!(
                "it diverged: the chains' MALA step fell to {step:.1e}, the refined energy is \
                 too stiff to sample. Likely causes: too few training fields; or a law whose \
                 coarse fields have separated modes (near a phase transition, ordered either \
                 way) fitted without its symmetry: if the law is symmetric under x -> -x, fit \
                 with symmetric(true) (--symmetric true). Otherwise fit with more fields or \
                 without the refinement (coarse_ml_iterations = 0)"
            ),
        });
    }
    let avg = tail_average(&history).unwrap_or(theta);
    // The chains' final states: where the sampler's coarsest chains start.
    let starts = states.iter().map(|x| x.iter().copied().collect()).collect();
    Ok((
        avg,
        Refinement {
            iterations,
            max_mismatch: mismatch,
            shortened_steps,
        },
        starts,
    ))
}

/// The mean of `rows` and their sample covariance.
fn mean_and_covariance(rows: &[Array1<f64>]) -> (Array1<f64>, Array2<f64>) {
    let k = rows.first().map_or(0, Array1::len);
    let m = rows.iter().fold(Array1::zeros(k), |a, r| a + r) / rows.len() as f64;
    let mut c = Array2::<f64>::zeros((k, k));
    for r in rows {
        let d = r - &m;
        for a in 0..k {
            for b in 0..k {
                c[[a, b]] += d[a] * d[b];
            }
        }
    }
    (m, c / (rows.len().max(2) - 1) as f64)
}

/// The largest moment mismatch $|\text{diff}_k| / \sqrt{C_{kk}}$ over features.
fn max_mismatch(diff: &Array1<f64>, cov: &Array2<f64>) -> f64 {
    (0..diff.len())
        .map(|a| diff[a].abs() / cov[[a, a]].sqrt().max(1e-300))
        .fold(0.0, f64::max)
}

/// The mean of the second half of `history` (`None` when it is empty).
fn tail_average(history: &[Array1<f64>]) -> Option<Array1<f64>> {
    let tail = &history[history.len() / 2..];
    let first = tail.first()?;
    Some(tail.iter().fold(Array1::zeros(first.len()), |a, t| a + t) / tail.len() as f64)
}

/// Half a Newton step for the likelihood of $e^{-\theta^\top\Phi}$: $\theta \leftarrow \theta +
/// \Delta\theta$, $\Delta\theta = \tfrac12 C^{-1}\,$`diff` with $C$ = `cov` (the features'
/// covariance under the model), solved in standardised features with a relative ridge of
/// $10^{-3}$, and shortened to $\sqrt{\Delta\theta^\top C\,\Delta\theta}$ = `radius` when it is
/// longer (returns whether it was). A feature without variance under the model (variance below
/// [`FROZEN_VARIANCE`], e.g. a potential bump no chain reaches) carries no information on its
/// coefficient, which is left as it is.
///
/// # Errors
/// Non-finite moments (a chain that diverged), or a covariance that is not positive definite.
fn newton_step(
    theta: &mut Array1<f64>,
    diff: &Array1<f64>,
    cov: &Array2<f64>,
    radius: f64,
    what: &str,
) -> Result<bool> {
    let k = theta.len();
    if diff.iter().chain(cov.iter()).any(|v| !v.is_finite()) {
        return Err(RgError::Sampling {
            stage: what.into(),
            detail: "non-finite feature moments under the model (a chain diverged)".into(),
        });
    }
    let scale: Vec<f64> = (0..k)
        .map(|a| {
            if cov[[a, a]] > FROZEN_VARIANCE {
                1.0 / cov[[a, a]].sqrt()
            } else {
                0.0
            }
        })
        .collect();
    let p = Mat::<f64>::from_fn(k, k, |a, b| {
        cov[[a, b]] * scale[a] * scale[b] + if a == b { 1e-3 } else { 0.0 }
    });
    let llt = p.llt(Side::Lower).map_err(|_| RgError::Sampling {
        stage: what.into(),
        detail: "the feature covariance under the model is singular".into(),
    })?;
    let rhs = Mat::<f64>::from_fn(k, 1, |a, _| diff[a] * scale[a]);
    let sol = llt.solve(&rhs);
    // Δθ in standardised features is sol / 2, and Δθᵀ C Δθ ≈ (sol / 2)ᵀ P (sol / 2) = rhsᵀ sol / 4.
    let length = 0.5
        * (0..k)
            .map(|a| rhs[(a, 0)] * sol[(a, 0)])
            .sum::<f64>()
            .sqrt();
    let shrink = if length > radius {
        radius / length
    } else {
        1.0
    };
    for a in 0..k {
        theta[a] += shrink * 0.5 * sol[(a, 0)] * scale[a];
    }
    Ok(shrink < 1.0)
}

/// Feature variances under the model at or below this are treated as zero by [`newton_step`]
/// (their inverse square roots would overflow when squared).
const FROZEN_VARIANCE: f64 = 1e-200;

/// The features of details `d` `(3, m, m)` stacked with their coarse field `c` `(m, m)`.
fn stacked_values<F: Features + ?Sized>(
    features: &F,
    d: ArrayViewD<'_, f64>,
    c: ArrayViewD<'_, f64>,
    ws: &mut Workspace,
) -> Array1<f64> {
    let m = c.shape()[0];
    let mut x = ndarray::Array3::<f64>::zeros((4, m, m));
    x.slice_mut(ndarray::s![..3, .., ..])
        .assign(&d.into_dimensionality::<ndarray::Ix3>().expect("(3, m, m)"));
    x.slice_mut(ndarray::s![3, .., ..])
        .assign(&c.into_dimensionality::<ndarray::Ix2>().expect("(m, m)"));
    let mut v = Array1::zeros(features.len());
    features.values_into(x.view().into_dyn(), v.view_mut(), ws);
    v
}

/// Maximum likelihood of a conditional energy $\bar E_j = \theta^\top\Phi(\bar x_j, x_j)$ given the
/// data's coarse fields, by Newton's method: $\theta \leftarrow \theta + \tfrac12
/// C^{-1}\big(\mathbb E_{x_j}\langle\Phi\rangle_{\theta\mid x_j} - \langle\Phi\rangle_{\rm
/// data}\big)$, where the conditional expectations come from one persistent [`LocalMala`] chain per
/// data field (at most `chains`, evenly spaced; with fewer fields than [`CHAINS_PER_FEATURE`] per
/// feature, that many chains, several per field, up to `chains`), started at that field's details
/// and run `sweeps` sweeps per iteration (the last half give the moments), and the data moments are
/// those of the same fields. $C$, the mean conditional covariance of $\Phi$, is half the covariance
/// over chains of $\Phi(\text{chain}) - \Phi(\text{data})$ (two draws given the same coarse field).
/// The result averages $\theta$ over the second half of the iterations.
///
/// With `given` = `(details, coarse)` generated by the model itself, the chains are conditioned
/// on those coarse fields instead (and start at their details), while the data moments are
/// those of every data field: the generated fields' moments then match the data's, whatever
/// errors the generated coarse fields carry. $C$ is then the covariance over chains of $\Phi$,
/// an upper bound of the mean conditional covariance (smaller steps).
#[allow(clippy::too_many_arguments)]
pub(crate) fn refine_conditional<F: Features + ?Sized>(
    features: &F,
    theta0: Array1<f64>,
    build: &(dyn Fn(&[f64]) -> Result<ConditionalEnergy> + Sync),
    details: ArrayView4<'_, f64>,
    coarse: ArrayView3<'_, f64>,
    (iterations, sweeps, chains): (usize, usize, usize),
    seed: u64,
    level: usize,
    given: Option<(ArrayView4<'_, f64>, ArrayView3<'_, f64>)>,
) -> Result<(Array1<f64>, Refinement)> {
    let k = features.len();
    let n = details.shape()[0];
    // The chains' coarse fields and starting details: the data's, or the generated ones.
    let (start_details, conditioning) = given.unwrap_or((details, coarse));
    // Given the data's coarse fields: one chain per field, or several per field when there are
    // fewer fields than `CHAINS_PER_FEATURE` per feature, so that `C` has full rank.
    let chains = match given {
        None => chains.min(conditioning.shape()[0].max(CHAINS_PER_FEATURE * k)),
        Some(_) => chains,
    };
    let what = match given {
        None => format!("maximum-likelihood refinement of scale {level}"),
        Some(_) => format!("refinement of scale {level} given generated coarse fields"),
    };
    let pick: Vec<usize> = (0..chains)
        .map(|c| (c * conditioning.shape()[0]) / chains)
        .collect();
    let data_rows: Vec<usize> = match given {
        None => pick.clone(),
        Some(_) => (0..n).collect(),
    };
    let data_phi: Vec<Array1<f64>> = data_rows
        .par_iter()
        .map_init(Workspace::new, |ws, &i| {
            stacked_values(
                features,
                details.index_axis(Axis(0), i).into_dyn(),
                coarse.index_axis(Axis(0), i).into_dyn(),
                ws,
            )
        })
        .collect();
    let data_mean =
        data_phi.iter().fold(Array1::<f64>::zeros(k), |a, r| a + r) / data_rows.len() as f64;
    let mut states: Vec<ArrayD<f64>> = pick
        .iter()
        .map(|&i| start_details.index_axis(Axis(0), i).to_owned().into_dyn())
        .collect();
    let streams = Streams::new(seed);
    let mut theta = theta0;
    let mut history: Vec<Array1<f64>> = Vec::new();
    let mut step = 0.3;
    let mut mismatch = f64::INFINITY;
    for it in 0..iterations {
        let energy = build(theta.as_slice().expect("contiguous"))?;
        let runs: Vec<ConditionalDraws> = states
            .par_iter()
            .zip(pick.par_iter())
            .enumerate()
            .map(|(c, (x0, &i))| {
                let mut ws = Workspace::new();
                let mut rng = streams.rng((it * chains + c) as u64);
                let xc = conditioning.index_axis(Axis(0), i).into_dyn();
                let mut target = Conditioned::new(&energy, xc.clone())?;
                // A generated field sampled beyond the fitted range (the sampler's unconfined
                // samples) keeps the extended energy.
                if given.is_some() && !target.energy(x0.view(), &mut ws).is_finite() {
                    target = target.with_support(crate::Support::Extended);
                }
                let kernel = LocalMala::new(target, step)?;
                let mut state = kernel.init(x0.clone(), &mut ws)?;
                let mut sum = Array1::zeros(k);
                let mut acc = 0.0;
                let mut draws = 0.0;
                // The features of the last draw, which is also the chain's final state (the
                // features cost as much as a sweep: evaluate them once).
                let mut last = None;
                for t in 0..sweeps {
                    acc += kernel
                        .step(&mut state, &mut rng, &mut ws)
                        .acceptance_probability;
                    if t >= sweeps / 2 {
                        let v =
                            stacked_values(features, kernel.position(&state), xc.clone(), &mut ws);
                        sum += &v;
                        draws += 1.0;
                        last = Some(v);
                    }
                }
                let last = last.unwrap_or_else(|| {
                    stacked_values(features, kernel.position(&state), xc.clone(), &mut ws)
                });
                Ok((
                    kernel.position(&state).to_owned(),
                    sum / draws,
                    last,
                    acc / sweeps as f64,
                ))
            })
            .collect();
        let mut model_mean = Array1::<f64>::zeros(k);
        let mut pairs = Vec::with_capacity(chains);
        let mut acc = 0.0;
        for (c, r) in runs.into_iter().enumerate() {
            let (x, mean, last, a) = r?;
            states[c] = x;
            model_mean += &(mean / chains as f64);
            pairs.push(match given {
                None => last - &data_phi[c],
                Some(_) => last,
            });
            acc += a / chains as f64;
        }
        step *= (1.0 + (acc - 0.574)).clamp(0.5, 1.5);
        let cov = match given {
            // Two draws given the same coarse field: their difference has twice the covariance.
            None => mean_and_covariance(&pairs).1 * 0.5,
            Some(_) => mean_and_covariance(&pairs).1,
        };
        let diff = &model_mean - &data_mean;
        mismatch = max_mismatch(&diff, &cov);
        newton_step(&mut theta, &diff, &cov, f64::INFINITY, &what)?;
        history.push(theta.clone());
    }
    if mismatch > MAX_CONDITIONAL_MISMATCH {
        let advice = if chains < CHAINS_PER_FEATURE * k {
            format!(
                "{chains} chains are too few for {k} features: raise conditional_ml_chains to \
                 at least {}",
                CHAINS_PER_FEATURE * k
            )
        } else {
            "too few training fields for this refinement: fit more fields or leave it off".into()
        };
        return Err(RgError::Sampling {
            stage: what,
            detail: format!(
                "did not converge: after {iterations} Newton iterations the model's moments of \
                 its {k} features are up to {mismatch:.2} standard deviations from the data's \
                 (the limit is {MAX_CONDITIONAL_MISMATCH}; fits that converge end at 0.06-0.35); \
                 {advice}"
            ),
        });
    }
    Ok((
        tail_average(&history).unwrap_or(theta),
        Refinement {
            iterations,
            max_mismatch: mismatch,
            shortened_steps: 0,
        },
    ))
}

/// A conditional refinement ([`refine_conditional`]) whose last moments are further than this
/// from the data's, in standard deviations of the worst feature
/// ([`Refinement::max_mismatch`]), did not converge: an error, not a model. Fits that converge
/// end at 0.06–0.1 (φ⁴ at 64², 1000 fields, and the conditional tests) and 0.28 where the
/// refinement given generated coarse fields compensates a coarsest model that cannot make the
/// data's bimodal coarse field; 0.05–0.35 on 40 fields at 16², β_c.
///
/// Refinements diverge when $C$ is estimated from too few chains for its features: on those 40
/// fields, with one chain per field (40 chains for scale 2's 89 features) or 256 generated
/// fields (for scale 1's 209), the first Newton step (3.2 nats) dropped the chains' acceptance
/// from 0.74 to 0.02, later steps grew to 16–19, and the refinements ended 4.2 and 4.6 standard
/// deviations off (a trust region as the coarsest field's kept the acceptance up but did not
/// make them converge). Hence [`CHAINS_PER_FEATURE`].
const MAX_CONDITIONAL_MISMATCH: f64 = 1.0;

/// Chains per feature below which a conditional refinement's covariance $C$ is too noisy for
/// its Newton steps (a sample covariance of $n$ draws in $k$ dimensions has its smallest
/// eigenvalues near $(1 - \sqrt{k/n})^2$ of the true ones, so $n = 4k$ keeps them above a
/// quarter). Given the data's coarse fields, fewer fields than this get several chains each
/// (up to `conditional_ml_chains`); a refinement that does not converge with fewer chains says
/// so in its error.
const CHAINS_PER_FEATURE: usize = 4;

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    /// The Newton step against the closed form: $\theta + \tfrac12 (C + 10^{-3}D)^{-1}$`diff`
    /// with $D$ the diagonal of $C$ (the ridge in standardised features).
    #[test]
    fn newton_step_solves_the_ridged_system() {
        let cov = array![[4.0, 1.0], [1.0, 2.0]];
        let diff = array![1.0, -2.0];
        let mut theta = array![0.5, 0.25];
        newton_step(&mut theta, &diff, &cov, f64::INFINITY, "test").unwrap();
        let (a, b, d) = (4.0 * 1.001, 1.0, 2.0 * 1.001);
        let det = a * d - b * b;
        let x = [(d * 1.0 - b * -2.0) / det, (a * -2.0 - b * 1.0) / det];
        approx::assert_relative_eq!(theta[0], 0.5 + 0.5 * x[0], max_relative = 1e-12);
        approx::assert_relative_eq!(theta[1], 0.25 + 0.5 * x[1], max_relative = 1e-12);
    }

    /// A feature no chain moves (zero variance) keeps its coefficient; the others take the
    /// step of the system without it.
    #[test]
    fn newton_step_freezes_features_without_variance() {
        let cov = array![[4.0, 0.0, 1.0], [0.0, 0.0, 0.0], [1.0, 0.0, 2.0]];
        let diff = array![1.0, 3.0, -2.0];
        let mut theta = array![0.5, 7.0, 0.25];
        newton_step(&mut theta, &diff, &cov, f64::INFINITY, "test").unwrap();
        let mut reduced = array![0.5, 0.25];
        newton_step(
            &mut reduced,
            &array![1.0, -2.0],
            &array![[4.0, 1.0], [1.0, 2.0]],
            f64::INFINITY,
            "test",
        )
        .unwrap();
        assert_eq!(theta[1], 7.0);
        approx::assert_relative_eq!(theta[0], reduced[0], max_relative = 1e-12);
        approx::assert_relative_eq!(theta[2], reduced[1], max_relative = 1e-12);
    }

    /// Non-finite moments (a diverged chain) are an error naming the stage, not a step.
    #[test]
    fn newton_step_rejects_non_finite_moments() {
        let cov = array![[4.0, f64::NAN], [f64::NAN, 2.0]];
        let mut theta = array![0.5, 0.25];
        let err = newton_step(
            &mut theta,
            &array![1.0, 1.0],
            &cov,
            f64::INFINITY,
            "stage X",
        )
        .unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("stage X") && msg.contains("diverged"), "{msg}");
        assert_eq!(theta, array![0.5, 0.25]);
        let err = newton_step(
            &mut theta,
            &array![f64::INFINITY, 1.0],
            &array![[1.0, 0.0], [0.0, 1.0]],
            f64::INFINITY,
            "stage Y",
        )
        .unwrap_err();
        assert!(err.to_string().contains("stage Y"), "{err}");
    }

    /// A step longer than the trust region keeps its direction and is shortened to
    /// $\Delta\theta^\top C_{\rm ridged}\,\Delta\theta$ = radius² exactly; a shorter one is
    /// taken whole, bit for bit as without a trust region.
    #[test]
    fn newton_step_shortens_long_steps_to_the_trust_region() {
        let cov = array![[4.0, 1.0], [1.0, 2.0]];
        let ridged = array![[4.0 * 1.001, 1.0], [1.0, 2.0 * 1.001]];
        let diff = array![3.0, -6.0];
        let start = array![0.5, 0.25];
        let mut full = start.clone();
        assert!(!newton_step(&mut full, &diff, &cov, f64::INFINITY, "test").unwrap());
        let full_step = &full - &start;
        let length = full_step.dot(&ridged.dot(&full_step)).sqrt();
        assert!(length > 1.0, "the test needs a long step: {length}");
        let mut short = start.clone();
        assert!(newton_step(&mut short, &diff, &cov, 0.5, "test").unwrap());
        let step = &short - &start;
        approx::assert_relative_eq!(step.dot(&ridged.dot(&step)), 0.25, max_relative = 1e-12);
        for a in 0..2 {
            approx::assert_relative_eq!(step[a], full_step[a] * 0.5 / length, max_relative = 1e-12);
        }
        let mut within = start.clone();
        assert!(!newton_step(&mut within, &diff, &cov, 1.01 * length, "test").unwrap());
        assert_eq!(within, full);
    }

    /// A refinement whose energy is too stiff for its chains to move (every coupling 10⁸ times
    /// the estimate's, whatever the Newton steps do) ends with the chains' step below
    /// [`FROZEN_STEP`]: an error naming the divergence, not a model.
    #[test]
    fn a_refinement_whose_chains_freeze_is_an_error() {
        use rand::SeedableRng;
        use rand_distr::{Distribution, StandardNormal};
        let m = 4;
        let shifts = crate::fit::all_shifts(m);
        let features =
            wcrg_energy_models::features::QuadraticCouplings::new(&[m, m], shifts.clone()).unwrap();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let data =
            ndarray::Array3::from_shape_simple_fn((20, m, m), || StandardNormal.sample(&mut rng));
        let build = |theta: &[f64]| {
            let stiff: Vec<f64> = theta.iter().map(|t| 1e8 * t).collect();
            crate::fit::field_energy(m, &shifts, &stiff, None)
        };
        let mut theta0 = Array1::zeros(shifts.len());
        theta0[0] = 1.0;
        let err = refine(
            &features,
            theta0,
            &build,
            data.view(),
            (20, 200),
            CoarseKernel::Mala,
            1,
        )
        .unwrap_err();
        let msg = err.to_string();
        assert!(
            matches!(err, RgError::Sampling { .. })
                && msg.contains("coarsest field")
                && msg.contains("diverged"),
            "{msg}"
        );
    }
}
