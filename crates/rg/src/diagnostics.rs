//! Diagnostics of a fitted model: the conditioning of each scale's learning system and of its
//! Hessian, and the RG flow of the couplings.

use ndarray::{ArrayD, ArrayView2, Axis, IxDyn};
use serde::{Deserialize, Serialize};
use wcrg_core::Workspace;

use crate::error::{Result, RgError};
use crate::fit::{CoarseFit, ScaleFit};
use crate::model::WcrgModel;

/// The largest Hessian (number of values) the dense eigensolver is given.
pub const MAX_DENSE_HESSIAN: usize = 12_288;

/// Eigenvalues of a Hessian of the model (a conditional energy's or the coarsest field's), and
/// what they say about MALA: its step is bounded by the largest curvature and its mixing time
/// grows with the condition number $\lambda_{\max}/\lambda_{\min}$.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HessianSpectrum {
    /// Scale $j$: the conditional $\bar E_j$, or $J$ for the coarsest field's energy $U_J$.
    pub level: usize,
    /// Whether this is the Hessian $\nabla^2 U_J$ of the coarsest field's energy rather than
    /// the conditional $\nabla^2_{\bar x}\bar E_j$ (absent in older files: `false`).
    #[serde(default)]
    pub coarsest: bool,
    /// Eigenvalues at the given field, ascending.
    pub eigenvalues: Vec<f64>,
    /// $\lambda_{\max}/\lambda_{\min}$; `None` (JSON `null`) when $\lambda_{\min} \le 0$: the
    /// energy is not convex at this field.
    pub condition_number: Option<f64>,
}

/// One coupling of the RG flow: scale, name and value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlowEntry {
    /// Scale $j$.
    pub level: usize,
    /// `"c-d (sy, sx)"` with channels 0–2 = H, V, D and 3 = the coarse field.
    pub name: String,
    /// $\theta$.
    pub theta: f64,
}

/// What [`WcrgModel::diagnostics`] measures of one conditional scale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScaleDiagnostics {
    /// The fit's own measurements: the condition numbers of the score-matching system (raw and
    /// as solved), the losses, the free-energy regression's $R^2$, the refinements.
    pub fit: ScaleFit,
    /// The conditional Hessian's spectrum at the given field; `None` for a scale with more
    /// detail values than the dense limit.
    pub hessian: Option<HessianSpectrum>,
}

/// What [`WcrgModel::diagnostics`] measures of the coarsest field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoarsestDiagnostics {
    /// The fit's own measurements (the score-matching system's condition number, the loss, the
    /// maximum-likelihood refinement).
    pub fit: CoarseFit,
    /// The Hessian of $U_J$ at the given field's coarsest field; `None` beyond the dense limit.
    pub hessian: Option<HessianSpectrum>,
}

/// The diagnostics of a fitted model at one field, for `diagnostics.json` and the pictures of
/// [`crate::plots::diagnostics`]: per scale, the conditioning of the learning system and of
/// the Hessian MALA sees, and the couplings' flow across scales.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Diagnostics {
    /// The conditional scales, finest ($j = 1$) first.
    pub scales: Vec<ScaleDiagnostics>,
    /// The coarsest field.
    pub coarsest: CoarsestDiagnostics,
    /// Every conditional coupling of every scale ([`WcrgModel::coupling_flow`]).
    pub coupling_flow: Vec<FlowEntry>,
}

impl Diagnostics {
    /// As pretty-printed JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("diagnostics serialise")
    }
}

/// A Hessian of `d` values is small enough for the dense eigensolver.
fn check_dense(d: usize) -> Result<()> {
    if d > MAX_DENSE_HESSIAN {
        return Err(RgError::Mismatch(format!(
            "a dense Hessian of {d} values is too large (at most {MAX_DENSE_HESSIAN}); use a \
             coarser scale"
        )));
    }
    Ok(())
}

/// The dense symmetric eigenvalues of the $d \times d$ operator `apply` (`out = H v`),
/// symmetrised.
fn dense_spectrum(
    d: usize,
    level: usize,
    coarsest: bool,
    mut apply: impl FnMut(&[f64], &mut [f64]),
) -> Result<HessianSpectrum> {
    use faer::{Mat, Side};
    check_dense(d)?;
    let mut h = Mat::<f64>::zeros(d, d);
    let (mut e, mut col) = (vec![0.0; d], vec![0.0; d]);
    for i in 0..d {
        e[i] = 1.0;
        apply(&e, &mut col);
        for (r, v) in col.iter().enumerate() {
            h[(r, i)] = *v;
        }
        e[i] = 0.0;
    }
    if !(0..d).all(|i| (0..d).all(|r| h[(r, i)].is_finite())) {
        return Err(RgError::Mismatch(
            "the Hessian has non-finite entries at this field".into(),
        ));
    }
    let sym = Mat::<f64>::from_fn(d, d, |a, b| 0.5 * (h[(a, b)] + h[(b, a)]));
    let ev = sym
        .self_adjoint_eigenvalues(Side::Lower)
        .map_err(|_| RgError::Mismatch("the eigensolver did not converge".into()))?;
    let mut eigenvalues: Vec<f64> = ev.to_vec();
    eigenvalues.sort_by(f64::total_cmp);
    let (lo, hi) = (eigenvalues[0], eigenvalues[d - 1]);
    Ok(HessianSpectrum {
        level,
        coarsest,
        condition_number: (lo > 0.0).then(|| hi / lo),
        eigenvalues,
    })
}

impl WcrgModel {
    /// The eigenvalue spectrum of the conditional Hessian $\nabla^2_{\bar x}\bar E_j$ of scale
    /// `level` at the field `x` `(L, L)` (its details and coarse field at that scale), by
    /// Hessian–vector products and a dense symmetric eigensolver: $O(d^2)$ memory and
    /// $O(d^3)$ time for $d = 3(L/2^j)^2$ detail values, so scales with
    /// $d \le$ [`MAX_DENSE_HESSIAN`] only.
    ///
    /// # Errors
    /// A level outside $1..J$, a field of the wrong shape or non-finite, too large a scale.
    pub fn hessian_spectrum(
        &self,
        level: usize,
        x: ArrayView2<'_, f64>,
    ) -> Result<HessianSpectrum> {
        if level == 0 || level > self.levels() {
            return Err(RgError::Mismatch(format!(
                "level {level} of a {}-scale model",
                self.levels()
            )));
        }
        let cond = &self.scales()[level - 1].conditional;
        let d_shape = cond.details_shape().to_vec();
        let d: usize = d_shape.iter().product();
        check_dense(d)?;
        let (fields, details) = self.decompose(x.insert_axis(Axis(0)))?;
        let det = details[level - 1].index_axis(Axis(0), 0).to_owned();
        let coarse = fields[level].index_axis(Axis(0), 0).to_owned();
        let mut ws = Workspace::new();
        dense_spectrum(d, level, false, |v, out| {
            let v = ndarray::ArrayViewD::from_shape(IxDyn(&d_shape), v).expect("sized");
            let hv: ArrayD<f64> = cond.hessian_apply(det.view(), coarse.view(), v, &mut ws);
            out.iter_mut().zip(hv.iter()).for_each(|(o, h)| *o = *h);
        })
    }

    /// The eigenvalue spectrum of the coarsest field's Hessian $\nabla^2 U_J$ at the coarsest
    /// field of `x` `(L, L)`, as [`WcrgModel::hessian_spectrum`] does for the conditionals.
    /// At a critical point its smallest eigenvalues are the soft long-wavelength modes that
    /// slow the coarsest field's chains down, where the conditionals' stay bounded away from 0.
    ///
    /// # Errors
    /// A field of the wrong shape or non-finite, a coarsest field of more than
    /// [`MAX_DENSE_HESSIAN`] sites.
    pub fn coarsest_hessian_spectrum(&self, x: ArrayView2<'_, f64>) -> Result<HessianSpectrum> {
        let energy = self.coarsest();
        let sites: usize = energy.field_shape().iter().product();
        let level = self.levels();
        check_dense(sites)?;
        let (fields, _) = self.decompose(x.insert_axis(Axis(0)))?;
        let xj = fields[level].index_axis(Axis(0), 0);
        let xj: Vec<f64> = xj.iter().copied().collect();
        dense_spectrum(sites, level, true, |v, out| {
            energy.hessian_apply(&xj, v, out);
        })
    }

    /// The RG flow of the couplings: every conditional coupling of every scale, named, so
    /// that the same coupling can be followed across scales.
    pub fn coupling_flow(&self) -> Vec<FlowEntry> {
        self.scales()
            .iter()
            .enumerate()
            .flat_map(|(j, sc)| {
                sc.conditional
                    .couplings()
                    .list()
                    .iter()
                    .map(move |c| FlowEntry {
                        level: j + 1,
                        name: format!("{}-{} ({}, {})", c.c, c.d, c.shift[0], c.shift[1]),
                        theta: c.theta,
                    })
            })
            .collect()
    }

    /// Everything a user checks before trusting a fit, at the field `x` `(L, L)` (a data
    /// field, say): for each conditional scale and the coarsest field, the fit's measurements
    /// (condition numbers of the score-matching systems, losses, refinements) and the
    /// Hessian's eigenvalue spectrum where it has at most `max_dense` values (capped at
    /// [`MAX_DENSE_HESSIAN`]; the dense eigensolver costs $O(d^3)$: 6.3 s for $d = 3072$ on
    /// one core, 5.1 s on two, 0.3 s for $d \le 768$), and the RG flow of the couplings.
    ///
    /// # Errors
    /// A field of the wrong shape or non-finite.
    pub fn diagnostics(&self, x: ArrayView2<'_, f64>, max_dense: usize) -> Result<Diagnostics> {
        // Check the field once, before any spectrum is computed.
        self.decompose(x.insert_axis(Axis(0)))?;
        let limit = max_dense.min(MAX_DENSE_HESSIAN);
        let scales = self
            .scales()
            .iter()
            .enumerate()
            .map(|(j, sc)| {
                let d: usize = sc.conditional.details_shape().iter().product();
                Ok(ScaleDiagnostics {
                    fit: sc.fit.clone(),
                    hessian: if d <= limit {
                        Some(self.hessian_spectrum(j + 1, x)?)
                    } else {
                        None
                    },
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let sites: usize = self.coarsest().field_shape().iter().product();
        Ok(Diagnostics {
            scales,
            coarsest: CoarsestDiagnostics {
                fit: self.coarsest_fit().clone(),
                hessian: if sites <= limit {
                    Some(self.coarsest_hessian_spectrum(x)?)
                } else {
                    None
                },
            },
            coupling_flow: self.coupling_flow(),
        })
    }
}
