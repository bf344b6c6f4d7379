//! Fitting: per-scale splits, conditional energies by score matching, free energies by
//! gradient regression, the coarsest field's energy.

use std::sync::Arc;

use ndarray::{Array3, Array4, ArrayD, ArrayView3, ArrayView4, Axis, IxDyn, s};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use wcrg_core::{FeatureLaplacian, Features, LinearMap, Workspace};
use wcrg_energy_models::features::{
    Basis, ChannelCouplings, Composed, Concat, ImagePotential, ModulatedStiffness, Modulator,
    NeighbourDifferences, QuadraticCouplings, ScalarPotential,
};
use wcrg_estimators::{GradientRegression, ScoreMatching, ScoreStats};
use wcrg_wavelets::{Normalisation, RgReconstruction, RgSplit, Wavelet};

use crate::couplings::{Coupling, Couplings};
use crate::energies::{ConditionalEnergy, ConditionalSpec, FieldEnergy, StiffnessSpec, Support};
use crate::error::{Result, RgError};
use crate::potential::Potential;

/// The ansatz of a WCRG model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct WcrgConfig {
    /// Orthogonal wavelet of the splits (a built-in family name, e.g. `"db4"`).
    pub wavelet: String,
    /// Side of the coarsest field $x_J$, $J = \log_2(L / \text{coarsest})$; `None` (the
    /// default) takes $L/8$, at least 4: three scales, whose coarsest field is then fitted with
    /// all-pairs couplings by maximum likelihood.
    pub coarsest: Option<usize>,
    /// Radius $r$ of the conditional couplings' shift window ($\|s\|_\infty \le r$); at scales
    /// whose side $m$ is smaller than $2r + 1$ the radius is $\lfloor (m-1)/2\rfloor$.
    /// Default 2. Fields with steep spectra need a wider window. On Gaussian fields of spectrum
    /// $|k|^{-3}$ at 64², the largest deviation of the generated spectrum from the training
    /// fields' is 7.1 standard errors with radius 2, 3.1 with 3 and 2.5 with 4; of spectrum
    /// $|k|^{-5/2}$, 4.6 with radius 2 and 2.6 with 3; of spectrum $|k|^{-7/4}$ (critical φ⁴'s
    /// slope), 3.0 and 2.5. The fit takes about as long with each. On φ⁴ at β_c, radius 3
    /// changes nothing measurable (`docs/rg.md`, section 3).
    pub window: usize,
    /// Number of bumps (on data quantiles) of each scale's potential on $x_{j-1}$.
    pub bumps: usize,
    /// Two one-sided quadratic walls beyond the outer bumps of each conditional energy's
    /// potential on $x_{j-1}$ ([`Basis::BumpsWithWalls`]; off by default; files written
    /// before this field existed read as `false`). Gaussian bumps vanish beyond their outer
    /// centres (the data's 2.5 % and 97.5 % quantiles with 20 bumps), so without the walls the
    /// potential is flat in the far tails and only the couplings and the support confine
    /// them. Measured on the φ⁴ demo (64², β_c, fit seeds 0, 1, 2): φ's worst histogram bin
    /// 4.1, 3.6, 4.2 standard errors from the reference instead of 5.8, 5.8, 5.7, KL
    /// 6.4, 1.2, 2.2·10⁻⁴ instead of 7.4, 2.3, 3.5·10⁻⁴, but the per-scale standard deviations
    /// 0.1–0.3 standard errors further off and, with one seed, the spectrum 4.3 instead of 3.3
    /// standard errors from the training fields. With the refinement given generated coarse
    /// fields ([`WcrgConfig::marginal_ml_iterations`], 8 iterations) the one-point law comes
    /// within its error bars: φ's worst bin 2.4–2.8 standard errors, every per-scale standard
    /// deviation within 2.0 (`docs/rg.md`, section 5).
    #[serde(default)]
    pub tail_walls: bool,
    /// Number of bumps of each function of the coarse field in the conditional energies'
    /// stiffness term $\frac12\sum_{c,u}\kappa_c(u)\bar x_c(u)^2$ ([`crate::StiffnessSpec`]):
    /// $\kappa_c(u)$ is fitted as a sum of bumps in the coarse value $x_j(u)$ and in its central
    /// differences along both axes, separately for each detail channel (0: no stiffness term;
    /// files written before this field existed read as 0).
    #[serde(default)]
    pub stiffness_bumps: usize,
    /// Number of bumps of the conditional energies' two-site potential
    /// $\sum_a\sum_u\psi\big(x_{j-1}(u + e_a) - x_{j-1}(u)\big)$ on the reconstructed finer
    /// field's nearest-neighbour differences ([`crate::ConditionalSpec::differences`]), at the
    /// scales $j \ge$ `difference_from` (0, the default: no such term; files written before
    /// this field existed read as 0). It fits the law of the finer field's local steps, which
    /// the couplings and the on-site potential leave free.
    #[serde(default)]
    pub difference_bumps: usize,
    /// Finest scale whose conditional energy gets the two-site potential.
    #[serde(default = "default_conditional_ml_from")]
    pub difference_from: usize,
    /// Model of the coarsest field (default: [`CoarseModel::TwoSite`] with 20 on-site and 12
    /// two-site bumps).
    pub coarse_model: CoarseModel,
    /// Radius of the free energies' quadratic couplings.
    pub free_energy_window: usize,
    /// Number of bumps of the free energies' potentials.
    pub free_energy_bumps: usize,
    /// Relative ridge of the score-matching solves.
    pub ridge: f64,
    /// Impose the symmetry $x \to -x$ (as in φ⁴ or Ising-like fields): the model is fitted on
    /// the data and their negatives, so every learned energy is even up to the basis'
    /// resolution and sampled fields populate both ordered phases equally.
    pub symmetric: bool,
    /// Newton iterations of maximum likelihood (moment matching) refining the coarsest field's
    /// score-matching fit (0: score matching only). The coarsest field carries the long-range
    /// order (the magnetisation), where the ansatz is least exact; matching its moments makes
    /// the coarsest covariance, hence the lowest modes of the power spectrum, exact. Each
    /// Newton step is kept within a trust region (it changes the log-density by at most
    /// 0.125·m standard deviations on an m × m field), which fits that converge never reach and
    /// which keeps fits on few fields from diverging (their count is
    /// [`Refinement::shortened_steps`](crate::Refinement::shortened_steps)). A refinement
    /// that diverges anyway (its chains' adapted MALA step ends below 10⁻³) makes
    /// [`WcrgModel::fit`](crate::WcrgModel::fit) an error. A Gaussian coarsest model
    /// ([`CoarseModel::Gaussian`]) skips it: its score-matching fit already is the
    /// maximum-likelihood one (within the all-pairs family both make the couplings the inverse
    /// of the data's stationary covariance).
    pub coarse_ml_iterations: usize,
    /// MALA steps of each of the refinement's 128 persistent chains per Newton iteration (the
    /// last three quarters give the moments). The chains' autocorrelation time on an 8 × 8
    /// coarsest field at β_c is about 3·10³ steps; with fewer steps than a few of those the
    /// moments lag behind the parameters and the lowest mode comes out too strong (measured in
    /// the crate docs: 400, 2000 and the default 8000 steps). The cost does not depend on the
    /// number of training fields (about 45 s at 8 × 8 on 2 cores).
    #[serde(default = "default_coarse_ml_steps")]
    pub coarse_ml_steps: usize,
    /// The Markov kernel of the coarsest-field chains in the fit: the refinement's persistent
    /// chains, whose [`WcrgConfig::coarse_ml_steps`] then count gradient evaluations (leapfrog
    /// steps under HMC), and the coarsest chains that generate coarse fields for
    /// [`WcrgConfig::marginal_ml_iterations`]. MALA by default (files written before this field
    /// existed read as MALA). With [`CoarseKernel::hmc`](crate::CoarseKernel::hmc), a quarter of
    /// the default `coarse_ml_steps` on an 8 × 8 coarsest field (half on 16 × 16) gives chains
    /// as many autocorrelation times long (measured in the crate docs).
    #[serde(default)]
    pub coarse_kernel: crate::CoarseKernel,
    /// Newton iterations of maximum likelihood refining the score-matching fit of each
    /// conditional energy $\bar E_j$ with $j \ge$ `conditional_ml_from`, given the data's coarse
    /// fields (0, the default: score matching only; files written before this field existed
    /// read as 0). Where the ansatz is not exact, score matching and maximum likelihood differ;
    /// maximum likelihood matches the moments of every feature (the detail covariances within the
    /// window, the potential's bumps) given the data's coarse fields. A refinement that does not
    /// converge (its final moments more than one standard deviation from the data's) makes
    /// [`WcrgModel::fit`](crate::WcrgModel::fit) an error; so does one given generated coarse
    /// fields (`marginal_ml_iterations`).
    #[serde(default)]
    pub conditional_ml_iterations: usize,
    /// Sweeps of each persistent chain of the conditional refinement per Newton iteration (the
    /// second half give the moments).
    #[serde(default = "default_conditional_ml_sweeps")]
    pub conditional_ml_sweeps: usize,
    /// Number of persistent chains of the conditional refinements (default 1024). Given the
    /// data's coarse fields, one per data field (evenly spaced), or several per field when there
    /// are fewer than 4 fields per feature of the scale (209 features with the defaults): 4 per
    /// feature in all, at most this number, so that 40 fields at 16² converge too. Given
    /// generated coarse fields, this many are generated. With fewer than 4 chains per feature
    /// the refinements' Newton steps can diverge (256 generated fields for 209 features did);
    /// the error then says so.
    #[serde(default = "default_conditional_ml_chains")]
    pub conditional_ml_chains: usize,
    /// Finest scale whose conditional energy is refined (scales `conditional_ml_from..=J`).
    #[serde(default = "default_conditional_ml_from")]
    pub conditional_ml_from: usize,
    /// Newton iterations of a second, opt-in refinement of each conditional energy $\bar E_j$
    /// with $j \ge$ `marginal_ml_from`, coarse to fine, given coarse fields generated by the
    /// model fitted so far instead of the data's (0, the default: none; files written before
    /// this field existed read as 0). It solves $\mathbb E_{x_j\sim q}\langle\Phi\rangle_{\theta\mid
    /// x_j} = \langle\Phi\rangle_{\rm data}$, with $q$ the model's own law of $x_j$: the
    /// generated $x_{j-1}$ then matches the data in every feature's moment (the covariances
    /// within the window, hence the spectrum at short range), compensating the errors of the
    /// generated coarse fields. This is not maximum likelihood of the conditional (which
    /// conditions on the data's $x_j$), so the learned $\bar E_j$ trades conditional accuracy for
    /// the generated fields' statistics. Uses `conditional_ml_sweeps` and
    /// `conditional_ml_chains` (that many fields are generated before each scale's refinement).
    /// Measured on φ⁴ at 64², β_c, 4000 fields (crate docs): 20 iterations take the spectrum
    /// from 12 bins beyond 3 standard errors to none, and the fit about three times as long;
    /// the slow tests at 64² (1000 fields) use 8.
    #[serde(default)]
    pub marginal_ml_iterations: usize,
    /// Finest scale refined given generated coarse fields (scales `marginal_ml_from..=J`).
    #[serde(default = "default_marginal_ml_from")]
    pub marginal_ml_from: usize,
    /// Seed of the refinement's chains.
    pub seed: u64,
}

fn default_marginal_ml_from() -> usize {
    1
}

fn default_conditional_ml_sweeps() -> usize {
    10
}

fn default_conditional_ml_chains() -> usize {
    1024
}

fn default_conditional_ml_from() -> usize {
    2
}

fn default_coarse_ml_steps() -> usize {
    8000
}

/// The energy of the coarsest field $x_J$.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum CoarseModel {
    /// Quadratic couplings of all pairs of sites: a stationary Gaussian field. Sampling draws
    /// it exactly by FFT, every field independent, instead of running chains
    /// ([`crate::ScaleSampling::exact`]): no critical slowing down at all, but no non-Gaussian
    /// law of the coarsest field either (near a critical point its magnetisation is not
    /// Gaussian, and the Binder cumulant shows it).
    Gaussian,
    /// All-pairs quadratic couplings plus a scalar potential of `bumps` bumps.
    Potential {
        /// Number of bumps.
        bumps: usize,
    },
    /// [`CoarseModel::Potential`] plus a two-site potential of `difference_bumps` bumps on the
    /// nearest-neighbour differences $x(u + e_a) - x(u)$ (both axes): it also fits the law of
    /// the coarsest field's local differences (how sharp its interfaces are).
    TwoSite {
        /// Number of bumps of the on-site potential.
        bumps: usize,
        /// Number of bumps of the two-site potential.
        difference_bumps: usize,
    },
}

impl Default for WcrgConfig {
    fn default() -> Self {
        Self {
            wavelet: "db2".into(),
            coarsest: None,
            window: 2,
            bumps: 20,
            tail_walls: false,
            stiffness_bumps: 0,
            difference_bumps: 0,
            difference_from: default_conditional_ml_from(),
            coarse_model: CoarseModel::TwoSite {
                bumps: 20,
                difference_bumps: 12,
            },
            free_energy_window: 2,
            free_energy_bumps: 12,
            ridge: 1e-8,
            symmetric: false,
            coarse_ml_iterations: 30,
            coarse_ml_steps: default_coarse_ml_steps(),
            coarse_kernel: crate::CoarseKernel::Mala,
            conditional_ml_iterations: 0,
            conditional_ml_sweeps: default_conditional_ml_sweeps(),
            conditional_ml_chains: default_conditional_ml_chains(),
            conditional_ml_from: default_conditional_ml_from(),
            marginal_ml_iterations: 0,
            marginal_ml_from: default_marginal_ml_from(),
            seed: 0,
        }
    }
}

impl WcrgConfig {
    /// Sets the wavelet.
    pub fn wavelet(mut self, name: &str) -> Self {
        self.wavelet = name.into();
        self
    }
    /// Sets the Markov kernel of the fit's coarsest-field chains
    /// ([`WcrgConfig::coarse_kernel`]).
    pub fn coarse_kernel(mut self, kernel: crate::CoarseKernel) -> Self {
        self.coarse_kernel = kernel;
        self
    }
    /// Sets the side of the coarsest field.
    pub fn coarsest(mut self, n: usize) -> Self {
        self.coarsest = Some(n);
        self
    }
    /// Sets the conditional couplings' window radius.
    pub fn window(mut self, r: usize) -> Self {
        self.window = r;
        self
    }
    /// Sets the number of potential bumps per scale.
    pub fn bumps(mut self, k: usize) -> Self {
        self.bumps = k;
        self
    }
    /// Sets whether the conditional potentials get tail walls ([`WcrgConfig::tail_walls`]).
    pub fn tail_walls(mut self, walls: bool) -> Self {
        self.tail_walls = walls;
        self
    }
    /// Sets the number of bumps per coarse function of the stiffness term (0: none).
    pub fn stiffness_bumps(mut self, k: usize) -> Self {
        self.stiffness_bumps = k;
        self
    }
    /// Sets the number of bumps of the conditional two-site potential (0: none).
    pub fn difference_bumps(mut self, k: usize) -> Self {
        self.difference_bumps = k;
        self
    }
    /// Sets the coarsest field's model.
    pub fn coarse_model(mut self, m: CoarseModel) -> Self {
        self.coarse_model = m;
        self
    }
    /// Imposes (or not) the symmetry $x \to -x$.
    pub fn symmetric(mut self, yes: bool) -> Self {
        self.symmetric = yes;
        self
    }
    /// Sets the relative ridge.
    pub fn ridge(mut self, r: f64) -> Self {
        self.ridge = r;
        self
    }

    /// Number of scales $J$ for fields of side `l`.
    ///
    /// # Errors
    /// When `l` is not `coarsest · 2^J` with $J \ge 1$, the windows do not fit, or a basis has
    /// fewer than 2 bumps (the stiffness term: 0 for none, else at least 2).
    pub fn levels(&self, shape: [usize; 2]) -> Result<usize> {
        let [ny, nx] = shape;
        let bad = |reason: String| -> RgError {
            wcrg_core::Error::InvalidParameter {
                name: "field shape".into(),
                value: format!("{ny}x{nx}"),
                reason,
            }
            .into()
        };
        if ny != nx {
            return Err(bad("the RG pipeline needs square fields".into()));
        }
        let coarsest = self.coarsest.unwrap_or((ny / 8).max(4));
        if coarsest < 2
            || ny % coarsest != 0
            || !(ny / coarsest).is_power_of_two()
            || ny == coarsest
        {
            return Err(bad(format!(
                "the side must be the coarsest side {coarsest} times a power of two >= 2"
            )));
        }
        if self.window == 0 || coarsest < 3 {
            return Err(wcrg_core::Error::InvalidParameter {
                name: "window / coarsest".into(),
                value: format!("{} / {coarsest}", self.window),
                reason: "need a window radius >= 1 and a coarsest side >= 3".into(),
            }
            .into());
        }
        if self.bumps < 2
            || self.free_energy_bumps < 2
            || self.stiffness_bumps == 1
            || self.difference_bumps == 1
        {
            return Err(wcrg_core::Error::InvalidParameter {
                name: "bumps / free_energy_bumps / stiffness_bumps / difference_bumps".into(),
                value: format!(
                    "{} / {} / {} / {}",
                    self.bumps, self.free_energy_bumps, self.stiffness_bumps, self.difference_bumps
                ),
                reason: "at least 2 bumps (0 stiffness or difference bumps: no such term)".into(),
            }
            .into());
        }
        if (self.conditional_ml_iterations > 0 || self.marginal_ml_iterations > 0)
            && (self.conditional_ml_sweeps < 2 || self.conditional_ml_chains < 2)
        {
            return Err(wcrg_core::Error::InvalidParameter {
                name: "conditional_ml_sweeps / conditional_ml_chains".into(),
                value: format!(
                    "{} / {}",
                    self.conditional_ml_sweeps, self.conditional_ml_chains
                ),
                reason: "the conditional refinement needs at least 2 sweeps and 2 chains".into(),
            }
            .into());
        }
        Ok((ny / coarsest).trailing_zeros() as usize)
    }
}

/// What the fit of one scale measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScaleFit {
    /// Scale $j$ (1 = finest).
    pub level: usize,
    /// Side of $x_j$ (and of each detail channel).
    pub size: usize,
    /// $\gamma_j$.
    pub gamma: f64,
    /// Number of parameters of $\bar E_j$.
    pub parameters: usize,
    /// Condition number of the score-matching matrix $H$.
    pub condition_number: f64,
    /// Condition number of the preconditioned system solved.
    pub preconditioned_condition_number: f64,
    /// Score-matching loss on the data.
    pub train_loss: f64,
    /// $R^2$ of the free-energy regression (fraction of $\|\nabla_{x_j}\bar E_j\|^2$ explained).
    pub free_energy_r2: f64,
    /// Standard deviation of the coarse field $x_j$ on the data.
    pub coarse_std: f64,
    /// Standard deviation of each detail channel on the data.
    pub detail_std: [f64; 3],
    /// The maximum-likelihood refinement, if any ([`WcrgConfig::conditional_ml_iterations`]).
    #[serde(default)]
    pub refinement: Option<crate::refine::Refinement>,
    /// The refinement given generated coarse fields, if any
    /// ([`WcrgConfig::marginal_ml_iterations`]).
    #[serde(default)]
    pub marginal_refinement: Option<crate::refine::Refinement>,
}

/// What the fit of the coarsest field measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoarseFit {
    /// Side of $x_J$.
    pub size: usize,
    /// Number of parameters.
    pub parameters: usize,
    /// Condition number of $H$.
    pub condition_number: f64,
    /// Score-matching loss on the data.
    pub train_loss: f64,
    /// The maximum-likelihood refinement, if any.
    pub refinement: Option<crate::refine::Refinement>,
}

pub(crate) struct FittedScale {
    pub conditional: ConditionalEnergy,
    pub free_energy: FieldEnergy,
    pub fit: ScaleFit,
    /// The fitted parameters in the order of the ansatz's features.
    pub theta: Vec<f64>,
}

fn min_max(x: &[f64]) -> (f64, f64) {
    x.iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        })
}

/// A thinned copy of the values (at most ~200 000) for quantiles.
fn thinned(x: &[f64]) -> Vec<f64> {
    let stride = (x.len() / 200_000).max(1);
    x.iter().step_by(stride).copied().collect()
}

/// `k` bumps on the quantiles of `values` and their support (the values' range widened by a
/// bump width, at least 10 % of the range on each side).
fn potential_basis(values: &[f64], k: usize) -> Result<(Basis, [f64; 2])> {
    potential_basis_walls(values, k, false)
}

/// As [`potential_basis`], with the walls of [`Basis::BumpsWithWalls`] when `walls`.
fn potential_basis_walls(values: &[f64], k: usize, walls: bool) -> Result<(Basis, [f64; 2])> {
    let mut basis = Basis::bumps_on_quantiles(&thinned(values), k)?;
    let width = match &basis {
        Basis::Bumps { width, .. } => *width,
        _ => unreachable!("bumps_on_quantiles returns bumps"),
    };
    if walls && let Basis::Bumps { centres, width } = basis {
        basis = Basis::BumpsWithWalls { centres, width };
    }
    let (lo, hi) = min_max(values);
    let margin = width.max(0.1 * (hi - lo));
    Ok((basis, [lo - margin, hi + margin]))
}

fn solve(
    features: &dyn FeatureLaplacian,
    data: ndarray::ArrayViewD<'_, f64>,
    ridge: f64,
    what: &str,
) -> Result<wcrg_estimators::ScoreFit> {
    let stats = ScoreStats::from_data(features, data)?;
    ScoreMatching::default()
        .ridge(ridge)
        .fit(&stats)
        .map_err(|e| match e {
            wcrg_core::Error::Singular { detail, .. } => wcrg_core::Error::Singular {
                what: what.into(),
                detail,
            }
            .into(),
            e => e.into(),
        })
}

/// Generated fields a scale's second refinement conditions on: the parameters to start from
/// with the first fit's diagnostics (its score-matching solve is not repeated), and the
/// generated details and coarse fields of that scale.
pub(crate) type Given<'a> = (
    &'a [f64],
    &'a ScaleFit,
    ArrayView4<'a, f64>,
    ArrayView3<'a, f64>,
);

/// Fits scale `level` to the data's `x_prev` `(N, n, n)` (= $x_{j-1}$); with `given`, refines the given
/// parameters instead, given the generated coarse fields
/// ([`WcrgConfig::marginal_ml_iterations`]).
pub(crate) fn fit_scale(
    cfg: &WcrgConfig,
    level: usize,
    x_prev: ArrayView3<'_, f64>,
    given: Option<Given<'_>>,
) -> Result<(FittedScale, Array3<f64>)> {
    let wavelet = Wavelet::new(&cfg.wavelet)?;
    let split = RgSplit::from_data(&wavelet, x_prev.into_dyn(), Normalisation::Details)?;
    let (coarse, details) = split.split_batch(x_prev.into_dyn())?;
    let coarse = coarse.into_dimensionality::<ndarray::Ix3>().expect("3-D");
    let details = details.into_dimensionality::<ndarray::Ix4>().expect("4-D");
    let (n, m) = (x_prev.shape()[0], coarse.shape()[1]);
    let mut stacked = Array4::zeros((n, 4, m, m));
    stacked.slice_mut(s![.., ..3, .., ..]).assign(&details);
    stacked.slice_mut(s![.., 3, .., ..]).assign(&coarse);

    let flat: Vec<f64> = x_prev.iter().copied().collect();
    let (basis, support) = potential_basis_walls(&flat, cfg.bumps, cfg.tail_walls)?;
    let cc = ChannelCouplings::window(
        &[4, m, m],
        vec![true, true, true, false],
        cfg.window.min((m - 1) / 2),
    )?;
    let pairs = cc.features().to_vec();
    let ip = ImagePotential::new(
        Arc::new(RgReconstruction::new(split.clone())),
        basis.clone(),
    )?;
    let mut blocks: Vec<Box<dyn FeatureLaplacian>> = vec![Box::new(cc), Box::new(ip)];
    let modulators = if cfg.stiffness_bumps > 0 {
        let modulators = stiffness_modulators(stacked.view(), cfg.stiffness_bumps)?;
        blocks.push(Box::new(ModulatedStiffness::new(
            &[4, m, m],
            vec![true, true, true, false],
            modulators.clone(),
        )?));
        Some(modulators)
    } else {
        None
    };
    let differences = if cfg.difference_bumps > 0 && level >= cfg.difference_from {
        let fine = [x_prev.shape()[1], x_prev.shape()[2]];
        let diffs = neighbour_differences(x_prev)?;
        let (dbasis, dsupport) = potential_basis(&diffs, cfg.difference_bumps)?;
        let map = Composed::periodic(
            Arc::new(NeighbourDifferences::new(&fine)?),
            Arc::new(RgReconstruction::new(split.clone())),
            &[2, 2],
        )?;
        blocks.push(Box::new(ImagePotential::new(
            Arc::new(map),
            dbasis.clone(),
        )?));
        Some((dbasis, dsupport))
    } else {
        None
    };
    let n_diff = differences.as_ref().map_or(0, |(b, _)| b.len());
    let features = Concat::new(blocks)?;
    // Score matching, or the first fit's diagnostics of it when refining that fit.
    let (sm_theta, sm_summary) = match given {
        Some((_, first, _, _)) => (
            None,
            (
                first.condition_number,
                first.preconditioned_condition_number,
                first.train_loss,
            ),
        ),
        None => {
            let sm = solve(
                &features,
                stacked.view().into_dyn(),
                cfg.ridge,
                &format!("conditional energy of scale {level}"),
            )?;
            (
                Some(sm.theta),
                (
                    sm.condition_number,
                    sm.preconditioned_condition_number,
                    sm.train_loss,
                ),
            )
        }
    };
    let build = |theta: &[f64]| -> Result<ConditionalEnergy> {
        let couplings: Vec<Coupling> = pairs
            .iter()
            .zip(theta)
            .map(|((c, d, sh), &t)| Coupling {
                c: *c,
                d: *d,
                shift: [sh[0], sh[1]],
                theta: t,
            })
            .collect();
        ConditionalEnergy::new(ConditionalSpec {
            wavelet: cfg.wavelet.clone(),
            fine: [x_prev.shape()[1], x_prev.shape()[2]],
            gamma: split.gamma(),
            couplings: Couplings::new(vec![true, true, true, false], [m, m], couplings)?,
            potential: Potential::new(
                basis.clone(),
                theta[pairs.len()..pairs.len() + basis.len()].to_vec(),
                support,
            )?,
            stiffness: modulators.clone().map(|modulators| StiffnessSpec {
                modulators,
                theta: theta[pairs.len() + basis.len()..theta.len() - n_diff].to_vec(),
            }),
            differences: match &differences {
                Some((b, support)) => Some(Potential::new(
                    b.clone(),
                    theta[theta.len() - n_diff..].to_vec(),
                    *support,
                )?),
                None => None,
            },
        })
    };
    let (theta, refinement, marginal_refinement) = if let Some((theta0, _, gd, gc)) = given {
        if theta0.len() != features.len() {
            return Err(RgError::Mismatch(format!(
                "scale {level}: {} parameters to refine, the ansatz has {}",
                theta0.len(),
                features.len()
            )));
        }
        let (t, r) = crate::refine::refine_conditional(
            &features,
            ndarray::Array1::from(theta0.to_vec()),
            &build,
            details.view(),
            coarse.view(),
            (
                cfg.marginal_ml_iterations,
                cfg.conditional_ml_sweeps,
                cfg.conditional_ml_chains,
            ),
            cfg.seed.wrapping_add(100 + level as u64),
            level,
            Some((gd, gc)),
        )?;
        (t, None, Some(r))
    } else if cfg.conditional_ml_iterations > 0 && level >= cfg.conditional_ml_from {
        let (t, r) = crate::refine::refine_conditional(
            &features,
            sm_theta.expect("score matching ran"),
            &build,
            details.view(),
            coarse.view(),
            (
                cfg.conditional_ml_iterations,
                cfg.conditional_ml_sweeps,
                cfg.conditional_ml_chains,
            ),
            cfg.seed.wrapping_add(level as u64),
            level,
            None,
        )?;
        (t, Some(r), None)
    } else {
        (sm_theta.expect("score matching ran"), None, None)
    };
    let conditional = build(theta.as_slice().expect("contiguous"))?;

    // Free energy: regression of ∇_{x_j} Ē_j on the data.
    let mut targets = Array3::zeros(coarse.raw_dim());
    targets
        .outer_iter_mut()
        .into_par_iter()
        .zip(details.outer_iter().into_par_iter())
        .zip(coarse.outer_iter().into_par_iter())
        .for_each_init(Workspace::new, |ws, ((mut g, d), c)| {
            let mut gd = ArrayD::zeros(IxDyn(&[3, m, m]));
            let gc = g.view_mut().into_dyn();
            conditional.evaluate(
                d.into_dyn(),
                c.into_dyn(),
                gd.view_mut(),
                Some(gc),
                Support::Extended,
                ws,
            );
        });
    wcrg_core::validate::finite("free-energy regression targets", targets.iter())?;
    let (free_energy, r2) = fit_free_energy(cfg, coarse.view(), targets.view(), level)?;

    let std = |a: ndarray::ArrayViewD<'_, f64>| {
        let n = a.len() as f64;
        let mean = a.sum() / n;
        (a.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt()
    };
    let fit = ScaleFit {
        level,
        size: m,
        gamma: split.gamma(),
        parameters: features.len(),
        condition_number: sm_summary.0,
        preconditioned_condition_number: sm_summary.1,
        train_loss: sm_summary.2,
        free_energy_r2: r2,
        coarse_std: std(coarse.view().into_dyn()),
        detail_std: [0, 1, 2].map(|c| std(details.index_axis(Axis(1), c).into_dyn())),
        refinement,
        marginal_refinement,
    };
    Ok((
        FittedScale {
            conditional,
            free_energy,
            fit,
            theta: theta.to_vec(),
        },
        coarse,
    ))
}

/// The stiffness term's functions of the coarse field: its value and its central differences
/// along both axes, each with `k` bumps on the quantiles of its values in the data, clamped to
/// the outermost centres (beyond them the stiffness keeps its value there).
fn stiffness_modulators(stacked: ArrayView4<'_, f64>, k: usize) -> Result<Vec<Modulator>> {
    let shapes = vec![
        Modulator::value(3, 2, Basis::Powers(vec![1])),
        Modulator::central_difference(3, 2, 0, Basis::Powers(vec![1])),
        Modulator::central_difference(3, 2, 1, Basis::Powers(vec![1])),
    ];
    let free = vec![true, true, true, false];
    let probe = ModulatedStiffness::new(&stacked.shape()[1..], free, shapes.clone())?;
    let mut values = vec![Vec::new(); shapes.len()];
    for f in stacked.outer_iter() {
        for (v, g) in values.iter_mut().zip(probe.modulations(f.into_dyn())) {
            v.extend(g);
        }
    }
    shapes
        .into_iter()
        .zip(values)
        .map(|(md, values)| {
            let basis = Basis::bumps_on_quantiles(&thinned(&values), k)?;
            let range = match &basis {
                Basis::Bumps { centres, .. } => [centres[0], centres[centres.len() - 1]],
                _ => unreachable!("bumps_on_quantiles returns bumps"),
            };
            Ok(Modulator { basis, ..md }.clamped(range))
        })
        .collect()
}

fn fit_free_energy(
    cfg: &WcrgConfig,
    coarse: ArrayView3<'_, f64>,
    targets: ArrayView3<'_, f64>,
    level: usize,
) -> Result<(FieldEnergy, f64)> {
    let m = coarse.shape()[1];
    let flat: Vec<f64> = coarse.iter().copied().collect();
    let (basis, support) = potential_basis(&flat, cfg.free_energy_bumps)?;
    let qc = QuadraticCouplings::window(&[m, m], cfg.free_energy_window.min((m - 1) / 2))?;
    let shifts = qc.shifts().to_vec();
    let sp = ScalarPotential::new(&[m, m], basis.clone())?;
    let features = Concat::new(vec![Box::new(qc), Box::new(sp)])?;
    let reg = GradientRegression::from_data(&features, coarse.into_dyn(), targets.into_dyn())?;
    let (theta, r2) = reg.fit(cfg.ridge.max(1e-10)).map_err(|e| match e {
        wcrg_core::Error::Singular { detail, .. } => RgError::from(wcrg_core::Error::Singular {
            what: format!("free-energy regression of scale {level}"),
            detail,
        }),
        e => e.into(),
    })?;
    let energy = field_energy(
        m,
        &shifts,
        theta.as_slice().expect("contiguous"),
        Some((basis, support)),
    )?;
    Ok((energy, r2))
}

pub(crate) fn field_energy(
    m: usize,
    shifts: &[Vec<isize>],
    theta: &[f64],
    potential: Option<(Basis, [f64; 2])>,
) -> Result<FieldEnergy> {
    let couplings = shifts
        .iter()
        .zip(theta)
        .map(|(sh, &t)| Coupling {
            c: 0,
            d: 0,
            shift: [sh[0], sh[1]],
            theta: t,
        })
        .collect();
    let potential = match potential {
        Some((basis, support)) => Some(Potential::new(
            basis,
            theta[shifts.len()..].to_vec(),
            support,
        )?),
        None => None,
    };
    FieldEnergy::new(Couplings::new(vec![true], [m, m], couplings)?, potential)
}

/// Every shift of an `m × m` torus once up to sign, components in $(-m/2, m/2]$.
pub(crate) fn all_shifts(m: usize) -> Vec<Vec<isize>> {
    let half = |v: usize| -> isize {
        if v <= m / 2 {
            v as isize
        } else {
            v as isize - m as isize
        }
    };
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for sy in 0..m {
        for sx in 0..m {
            let neg = ((m - sy) % m, (m - sx) % m);
            if seen.contains(&neg) {
                continue;
            }
            seen.insert((sy, sx));
            out.push(vec![half(sy), half(sx)]);
        }
    }
    out
}

/// The nearest-neighbour differences of fields `(N, ny, nx)`, both axes of a site side by side.
fn neighbour_differences(x: ArrayView3<'_, f64>) -> Result<Vec<f64>> {
    let (ny, nx) = (x.shape()[1], x.shape()[2]);
    let map = NeighbourDifferences::new(&[ny, nx])?;
    let mut y = ndarray::Array3::zeros((2, ny, nx));
    let mut ws = Workspace::new();
    let mut diffs = Vec::with_capacity(x.len() * 2);
    for f in x.outer_iter() {
        map.apply(f.into_dyn(), y.view_mut().into_dyn(), &mut ws);
        let (dy, dx) = (y.index_axis(Axis(0), 0), y.index_axis(Axis(0), 1));
        diffs.extend(dy.iter().zip(dx.iter()).flat_map(|(&a, &b)| [a, b]));
    }
    Ok(diffs)
}

/// Fits the coarsest field's energy by score matching (and maximum likelihood); also returns
/// the refinement chains' final states.
pub(crate) fn fit_coarsest(
    cfg: &WcrgConfig,
    x: ArrayView3<'_, f64>,
) -> Result<(FieldEnergy, CoarseFit, Vec<Vec<f64>>)> {
    let m = x.shape()[1];
    let shifts = all_shifts(m);
    let qc = QuadraticCouplings::new(&[m, m], shifts.clone())?;
    let flat: Vec<f64> = x.iter().copied().collect();
    let (features, potential, differences): (Box<dyn FeatureLaplacian>, _, _) =
        match cfg.coarse_model {
            CoarseModel::Gaussian => (Box::new(qc), None, None),
            CoarseModel::Potential { bumps } => {
                let (basis, support) = potential_basis(&flat, bumps)?;
                let sp = ScalarPotential::new(&[m, m], basis.clone())?;
                (
                    Box::new(Concat::new(vec![Box::new(qc), Box::new(sp)])?),
                    Some((basis, support)),
                    None,
                )
            }
            CoarseModel::TwoSite {
                bumps,
                difference_bumps,
            } => {
                let (basis, support) = potential_basis(&flat, bumps)?;
                let sp = ScalarPotential::new(&[m, m], basis.clone())?;
                let diffs = neighbour_differences(x)?;
                let (dbasis, dsupport) = potential_basis(&diffs, difference_bumps)?;
                let map = NeighbourDifferences::new(&[m, m])?;
                let dp = ImagePotential::new(Arc::new(map), dbasis.clone())?;
                (
                    Box::new(Concat::new(vec![Box::new(qc), Box::new(sp), Box::new(dp)])?),
                    Some((basis, support)),
                    Some((dbasis, dsupport)),
                )
            }
        };
    let sm = solve(&*features, x.into_dyn(), cfg.ridge, "coarsest field energy")?;
    let n_diff = differences
        .as_ref()
        .map_or(0, |(b, _): &(Basis, _)| b.len());
    let build = |theta: &[f64]| -> Result<FieldEnergy> {
        let (head, tail) = theta.split_at(theta.len() - n_diff);
        let energy = field_energy(m, &shifts, head, potential.clone())?;
        Ok(match &differences {
            Some((basis, support)) => {
                energy.with_differences(Potential::new(basis.clone(), tail.to_vec(), *support)?)
            }
            None => energy,
        })
    };
    cfg.coarse_kernel.check()?;
    if cfg.coarse_ml_iterations > 0 && cfg.coarse_ml_steps < 100 {
        return Err(wcrg_core::Error::InvalidParameter {
            name: "coarse_ml_steps".into(),
            value: cfg.coarse_ml_steps.to_string(),
            reason: "the refinement's chains need at least 100 steps per iteration".into(),
        }
        .into());
    }
    // A Gaussian model needs no refinement: within the all-pairs family, score matching and
    // maximum likelihood both make the couplings the inverse of the data's stationary
    // covariance (up to the ridge).
    let gaussian = matches!(cfg.coarse_model, CoarseModel::Gaussian);
    let (theta, refinement, starts) = if cfg.coarse_ml_iterations > 0 && !gaussian {
        let (t, r, starts) = crate::refine::refine(
            &*features,
            sm.theta.clone(),
            &build,
            x,
            (cfg.coarse_ml_iterations, cfg.coarse_ml_steps),
            cfg.coarse_kernel,
            cfg.seed,
        )?;
        (t, Some(r), starts)
    } else {
        (sm.theta.clone(), None, Vec::new())
    };
    let energy = build(theta.as_slice().expect("contiguous"))?;
    Ok((
        energy,
        CoarseFit {
            size: m,
            parameters: theta.len(),
            condition_number: sm.condition_number,
            train_loss: sm.train_loss,
            refinement,
        },
        starts,
    ))
}

/// Checks a dataset `(N, L, L)`.
pub(crate) fn check_data(data: ArrayView3<'_, f64>) -> Result<()> {
    wcrg_core::validate::non_empty("training fields", data.shape())?;
    if data.shape()[0] < 2 {
        return Err(wcrg_core::Error::Empty {
            what: "training set of fewer than 2 fields".into(),
        }
        .into());
    }
    wcrg_core::validate::finite("training fields", data.iter())?;
    fixed_mean(data)
}

/// Relative spread of the fields' means below which they count as fixed:
/// $L^2\operatorname{Var}(\bar x) / \operatorname{Var}(x)$, about 1 for white noise and the
/// correlation area for correlated fields; rounding leaves about $10^{-30}$ when the mean is
/// fixed by construction.
const FIXED_MEAN: f64 = 1e-10;

/// Fields that all have the same mean (density contrasts of a periodic box, fields normalised
/// one by one) have a law on a hyperplane, without a density on the fields: no energy
/// $e^{-U}$ fits it, as its constant mode would need an infinite stiffness. Score matching then
/// gives the coarsest field an enormous stiffness there, and its samplers freeze.
fn fixed_mean(data: ArrayView3<'_, f64>) -> Result<()> {
    let (n, sites) = (data.shape()[0], data.shape()[1] * data.shape()[2]);
    let means: Vec<f64> = data
        .outer_iter()
        .map(|x| x.iter().sum::<f64>() / sites as f64)
        .collect();
    let grand = means.iter().sum::<f64>() / n as f64;
    let var_values = data.iter().map(|v| (v - grand).powi(2)).sum::<f64>() / data.len() as f64;
    let var_means = means.iter().map(|m| (m - grand).powi(2)).sum::<f64>() / n as f64;
    // Constant data are left to the fit's own error (a basis without spread).
    if var_values > 0.0 && sites as f64 * var_means <= FIXED_MEAN * var_values {
        return Err(wcrg_core::Error::Singular {
            what: "training fields".into(),
            detail: format!(
                "every field has the same mean ({grand:.6e}; spread {:.1e} against a standard \
                 deviation of {:.3e} of the values): a law of fields with a fixed mean has no \
                 density on the fields, so no energy exp(-U) can be fitted to it (its constant \
                 mode would need an infinite stiffness). Fit fields whose mean varies, e.g. \
                 patches cut from larger fields, rather than fields normalised one by one or \
                 density contrasts of a whole periodic box",
                var_means.sqrt(),
                var_values.sqrt()
            ),
        }
        .into());
    }
    Ok(())
}
