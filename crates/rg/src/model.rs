//! The fitted WCRG model: scales, microscopic energy, persistence.

use std::path::Path;

use ndarray::{Array3, ArrayD, ArrayView3, ArrayViewD, ArrayViewMutD, Axis, IxDyn};
use serde::{Deserialize, Serialize};
use wcrg_core::{Energy, Workspace};

use crate::energies::{ConditionalEnergy, FieldEnergy, Support};
use crate::error::{Result, RgError};
use crate::fit::{CoarseFit, ScaleFit, WcrgConfig, check_data, fit_coarsest, fit_scale};
use crate::sample::SamplingConfig;

/// Version of the model file format written by [`WcrgModel::save`].
pub const FORMAT_VERSION: u32 = 1;
const FORMAT_NAME: &str = "wcrg-rg model";

/// The fields $x_0, \dots, x_J$ `(N, side, side)` and details $\bar x_1, \dots, \bar x_J$
/// `(N, 3, side, side)` of a batch: `(fields, details)`.
pub type Pyramid = (Vec<ArrayD<f64>>, Vec<ArrayD<f64>>);

/// One scale $j$ of a fitted model.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Scale {
    /// $\bar E_j(\bar x_j \mid x_j)$.
    pub conditional: ConditionalEnergy,
    /// $\tilde F_j(x_j)$, the fitted free energy $-\log\bar Z_j(x_j)$ up to a constant.
    pub free_energy: FieldEnergy,
    /// What the fit measured.
    pub fit: ScaleFit,
}

/// A fitted WCRG model of 2-D fields of side $L$:
/// $p(x_0) = p(x_J)\prod_{j=1}^{J} p(\bar x_j\mid x_j)$ with
/// $p(\bar x_j\mid x_j) \propto e^{-\bar E_j(\bar x_j\mid x_j)}$ and $p(x_J)\propto e^{-U_J(x_J)}$.
///
/// As an [`Energy`] it is the microscopic energy
/// $$U_0(x_0) = U_J(x_J) + \sum_{j=1}^{J}\big(\bar E_j(\bar x_j\mid x_j) - \tilde F_j(x_j)\big)$$
/// (up to an additive constant), with gradient by back-propagation through the orthogonal
/// splits; potentials are evaluated beyond their support there (see
/// [`crate::Support::Extended`]), so held-out fields always get a finite energy.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WcrgModel {
    config: WcrgConfig,
    shape: [usize; 2],
    /// Scales, finest ($j = 1$) first.
    scales: Vec<Scale>,
    coarsest: FieldEnergy,
    coarsest_fit: CoarseFit,
    /// Final states of the maximum-likelihood chains (samples of the fitted coarsest law), where
    /// the coarsest-field sampler starts; empty without refinement (start at 0).
    #[serde(default)]
    coarse_starts: Vec<Vec<f64>>,
    #[serde(skip)]
    shape_vec: Vec<usize>,
}

#[derive(Serialize, Deserialize)]
struct ModelFile {
    format: String,
    version: u32,
    model: serde_json::Value,
}

impl WcrgModel {
    /// Fits a model to `data` `(N, L, L)`: for $j = 1..J$ the split with $\gamma_j$ chosen so
    /// that the details have unit variance, the conditional energy by score matching and the
    /// free energy by regression of $\nabla_{x_j}\bar E_j$; then the coarsest field's energy.
    ///
    /// # Errors
    /// Fewer than 2 fields, non-finite values, a side that is not `coarsest · 2^J`, windows
    /// that do not fit, singular score-matching systems (add a ridge), an unknown wavelet.
    pub fn fit(config: &WcrgConfig, data: ArrayView3<'_, f64>) -> Result<Self> {
        Self::fit_with_progress(config, data, None)
    }

    /// [`WcrgModel::fit`] reporting `(stage, done, total)` after each scale.
    ///
    /// # Errors
    /// As [`WcrgModel::fit`].
    pub fn fit_with_progress(
        config: &WcrgConfig,
        data: ArrayView3<'_, f64>,
        progress: crate::Progress<'_>,
    ) -> Result<Self> {
        check_data(data)?;
        let shape = [data.shape()[1], data.shape()[2]];
        let levels = config.levels(shape)?;
        let mut scales = Vec::with_capacity(levels);
        let mut x: Array3<f64> = if config.symmetric {
            ndarray::concatenate(Axis(0), &[data, data.mapv(|v| -v).view()]).expect("same shapes")
        } else {
            data.to_owned()
        };
        let marginal = config.marginal_ml_iterations > 0;
        let stages = levels + 1 + if marginal { levels } else { 0 };
        // The data's x_{j-1} of every level, kept for the refinement given generated fields.
        let mut inputs = Vec::new();
        let mut thetas = Vec::new();
        for level in 1..=levels {
            let (fitted, coarse) = fit_scale(config, level, x.view(), None)?;
            thetas.push(fitted.theta);
            scales.push(Scale {
                conditional: fitted.conditional,
                free_energy: fitted.free_energy,
                fit: fitted.fit,
            });
            if marginal {
                inputs.push(x);
            }
            x = coarse;
            if let Some(p) = progress {
                p("fit", level, stages);
            }
        }
        let (coarsest, coarsest_fit, coarse_starts) = fit_coarsest(config, x.view())?;
        if let Some(p) = progress {
            p("fit", levels + 1, stages);
        }
        let mut model = Self {
            config: config.clone(),
            shape,
            scales,
            coarsest,
            coarsest_fit,
            coarse_starts,
            shape_vec: shape.to_vec(),
        };
        if marginal {
            // Coarse to fine: each scale given coarse fields generated by the model as refined
            // so far. The coarsest fields are generated once (the refinement leaves U_J as it
            // is), then for each scale j only the scales down to x_{j-1}.
            let cfg =
                SamplingConfig::new(config.conditional_ml_chains, config.seed.wrapping_add(200))
                    .coarse_kernel(config.coarse_kernel);
            let coarsest = model.sample_down_to(&cfg, levels + 1, None)?.fields;
            for level in (config.marginal_ml_from.max(1)..=levels).rev() {
                let generated = model.sample_from_coarsest(coarsest.view(), &cfg, level)?;
                let (gc, gd) = model.scales[level - 1]
                    .conditional
                    .split()
                    .split_batch(generated.view().into_dyn())?;
                let gc = gc.into_dimensionality::<ndarray::Ix3>().expect("(N, m, m)");
                let gd = gd
                    .into_dimensionality::<ndarray::Ix4>()
                    .expect("(N, 3, m, m)");
                let (fitted, _) = fit_scale(
                    config,
                    level,
                    inputs[level - 1].view(),
                    Some((
                        &thetas[level - 1],
                        &model.scales[level - 1].fit,
                        gd.view(),
                        gc.view(),
                    )),
                )?;
                model.scales[level - 1] = Scale {
                    conditional: fitted.conditional,
                    free_energy: fitted.free_energy,
                    fit: fitted.fit,
                };
                if let Some(p) = progress {
                    p("fit", 2 * levels + 2 - level, stages);
                }
            }
        }
        Ok(model)
    }

    /// The configuration it was fitted with.
    pub fn config(&self) -> &WcrgConfig {
        &self.config
    }

    /// Field shape `(L, L)`.
    pub fn field_shape(&self) -> [usize; 2] {
        self.shape
    }

    /// Number of scales $J$.
    pub fn levels(&self) -> usize {
        self.scales.len()
    }

    /// The scales, finest ($j = 1$) first.
    pub fn scales(&self) -> &[Scale] {
        &self.scales
    }

    /// The energy $U_J$ of the coarsest field.
    pub fn coarsest(&self) -> &FieldEnergy {
        &self.coarsest
    }

    /// Starting state of coarsest-field chain `c`.
    pub(crate) fn coarse_start(&self, c: usize) -> ArrayD<f64> {
        let shape = self.coarsest.field_shape().to_vec();
        match self.coarse_starts.get(c % self.coarse_starts.len().max(1)) {
            Some(v) if v.len() == shape.iter().product::<usize>() => {
                ArrayD::from_shape_vec(IxDyn(&shape), v.clone()).expect("sized")
            }
            _ => ArrayD::zeros(IxDyn(&shape)),
        }
    }

    /// What the coarsest fit measured.
    pub fn coarsest_fit(&self) -> &CoarseFit {
        &self.coarsest_fit
    }

    /// The fields $x_0, x_1, \dots, x_J$ and details $\bar x_1,\dots,\bar x_J$ of a batch
    /// `(N, L, L)`, with this model's normalisations.
    ///
    /// # Errors
    /// Wrong shape or non-finite values.
    pub fn decompose(&self, batch: ArrayView3<'_, f64>) -> Result<Pyramid> {
        wcrg_core::validate::shape(
            "fields",
            &[batch.shape()[0], self.shape[0], self.shape[1]],
            batch.shape(),
        )?;
        wcrg_core::validate::finite("fields", batch.iter())?;
        let mut fields = vec![batch.to_owned().into_dyn()];
        let mut details = Vec::new();
        for sc in &self.scales {
            let (c, d) = sc
                .conditional
                .split()
                .split_batch(fields.last().expect("x_0").view())?;
            fields.push(c);
            details.push(d);
        }
        Ok((fields, details))
    }

    /// $U_0$ and its parts of one field: `(total, [U_J, Ē_1 − F̃_1, …, Ē_J − F̃_J])`.
    ///
    /// # Panics
    /// When `x` is not `(L, L)`.
    pub fn energy_parts(&self, x: ArrayViewD<'_, f64>, ws: &mut Workspace) -> (f64, Vec<f64>) {
        let mut g = ArrayD::zeros(IxDyn(&self.shape));
        self.evaluate(x, g.view_mut(), ws)
    }

    fn evaluate(
        &self,
        x: ArrayViewD<'_, f64>,
        mut grad: ArrayViewMutD<'_, f64>,
        ws: &mut Workspace,
    ) -> (f64, Vec<f64>) {
        wcrg_core::validate::assert_shape("microscopic field", &self.shape, x.shape());
        // Forward: the pyramid.
        let mut coarse: Vec<ArrayD<f64>> = Vec::with_capacity(self.scales.len());
        let mut details: Vec<ArrayD<f64>> = Vec::with_capacity(self.scales.len());
        let mut cur = x.to_owned();
        for sc in &self.scales {
            let split = sc.conditional.split();
            let mut c = ArrayD::zeros(IxDyn(split.coarse_shape()));
            let mut d = ArrayD::zeros(IxDyn(&split.details_shape()));
            split.split_into(cur.view(), c.view_mut(), d.view_mut(), ws);
            cur = c.clone();
            coarse.push(c);
            details.push(d);
        }
        // Coarsest.
        let xj = coarse.last().expect("at least one scale");
        let mut g = ArrayD::zeros(xj.raw_dim());
        let uj = self.coarsest.evaluate(
            xj.as_slice().expect("contiguous"),
            g.as_slice_mut().expect("contiguous"),
            Support::Extended,
            ws,
        );
        let mut parts = vec![uj];
        let mut total = uj;
        // Backward: j = J..1.
        for (j, sc) in self.scales.iter().enumerate().rev() {
            let c = &coarse[j];
            let d = &details[j];
            let mut gd = ArrayD::zeros(d.raw_dim());
            let mut gc = ArrayD::zeros(c.raw_dim());
            let e = sc.conditional.evaluate(
                d.view(),
                c.view(),
                gd.view_mut(),
                Some(gc.view_mut()),
                Support::Extended,
                ws,
            );
            let mut gf = ArrayD::zeros(c.raw_dim());
            let f = sc.free_energy.evaluate(
                c.as_slice().expect("contiguous"),
                gf.as_slice_mut().expect("contiguous"),
                Support::Extended,
                ws,
            );
            parts.push(e - f);
            total += e - f;
            // ∂/∂x_j: from the coarser scale (g) + Ē_j − F̃_j.
            g = g + gc - gf;
            // x_j = γ⁻¹Gx_{j−1}, x̄_j = γ⁻¹Ḡx_{j−1}: ∇x_{j−1} = γ⁻¹(Gᵀg + Ḡᵀgd) = merge(g, gd)/γ².
            let split = sc.conditional.split();
            let mut up = ArrayD::zeros(IxDyn(split.fine_shape()));
            split.merge_into(g.view(), gd.view(), up.view_mut(), ws);
            let inv = 1.0 / (split.gamma() * split.gamma());
            up.mapv_inplace(|v| v * inv);
            g = up;
        }
        grad.zip_mut_with(&g, |o, v| *o = *v);
        // parts: [U_J, then scales J..1] → [U_J, scale 1..J].
        parts[1..].reverse();
        (total, parts)
    }

    /// $U_0$ of every field of a batch `(N, L, L)`, in parallel.
    ///
    /// # Errors
    /// Wrong shape or non-finite values.
    pub fn energies(&self, batch: ArrayView3<'_, f64>) -> Result<Vec<f64>> {
        use rayon::prelude::*;
        wcrg_core::validate::shape(
            "fields",
            &[batch.shape()[0], self.shape[0], self.shape[1]],
            batch.shape(),
        )?;
        wcrg_core::validate::finite("fields", batch.iter())?;
        Ok(batch
            .axis_iter(Axis(0))
            .into_par_iter()
            .map_init(Workspace::new, |ws, x| {
                self.energy_parts(x.into_dyn(), ws).0
            })
            .collect())
    }

    /// Writes the model as JSON (`{"format": "wcrg-rg model", "version": 1, "model": …}`).
    ///
    /// # Errors
    /// I/O failures.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let io = |detail: String| RgError::ModelFile {
            path: path.display().to_string(),
            detail,
        };
        let file = ModelFile {
            format: FORMAT_NAME.into(),
            version: FORMAT_VERSION,
            model: serde_json::to_value(self).map_err(|e| io(e.to_string()))?,
        };
        let text = serde_json::to_string_pretty(&file).map_err(|e| io(e.to_string()))?;
        std::fs::write(path, text).map_err(|e| io(e.to_string()))
    }

    /// Reads a model written by [`WcrgModel::save`].
    ///
    /// # Errors
    /// [`RgError::ModelFile`] when the file is missing, is not JSON, is not a WCRG model or is
    /// inconsistent (wrong shapes, coefficients); [`RgError::Version`] for another format
    /// version.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let bad = |detail: String| RgError::ModelFile {
            path: path.display().to_string(),
            detail,
        };
        let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
        let file: ModelFile =
            serde_json::from_str(&text).map_err(|e| bad(format!("not a WCRG model file: {e}")))?;
        if file.format != FORMAT_NAME {
            return Err(bad(format!(
                "format `{}`, expected `{FORMAT_NAME}`",
                file.format
            )));
        }
        if file.version != FORMAT_VERSION {
            return Err(RgError::Version {
                path: path.display().to_string(),
                found: file.version,
                expected: FORMAT_VERSION,
            });
        }
        let mut model: Self =
            serde_json::from_value(file.model).map_err(|e| bad(format!("malformed model: {e}")))?;
        model.check().map_err(|e| bad(e.to_string()))?;
        model.shape_vec = model.shape.to_vec();
        Ok(model)
    }

    /// Consistency of the scales' shapes.
    fn check(&self) -> Result<()> {
        let mut side = self.shape[0];
        if self.shape[0] != self.shape[1] || self.scales.is_empty() {
            return Err(RgError::Mismatch(format!(
                "field shape {:?} with {} scales",
                self.shape,
                self.scales.len()
            )));
        }
        for (j, sc) in self.scales.iter().enumerate() {
            let split = sc.conditional.split();
            if split.fine_shape() != [side, side]
                || sc.free_energy.field_shape() != [side / 2, side / 2]
            {
                return Err(RgError::Mismatch(format!(
                    "scale {} expects fields of {:?}, the previous scale gives {side}x{side}",
                    j + 1,
                    split.fine_shape()
                )));
            }
            side /= 2;
        }
        if self.coarsest.field_shape() != [side, side] {
            return Err(RgError::Mismatch(format!(
                "coarsest energy on {:?}, the scales give {side}x{side}",
                self.coarsest.field_shape()
            )));
        }
        Ok(())
    }
}

impl Energy for WcrgModel {
    fn shape(&self) -> &[usize] {
        &self.shape_vec
    }

    fn energy(&self, x: ArrayViewD<'_, f64>, ws: &mut Workspace) -> f64 {
        self.energy_parts(x, ws).0
    }

    fn energy_and_gradient(
        &self,
        x: ArrayViewD<'_, f64>,
        grad: ArrayViewMutD<'_, f64>,
        ws: &mut Workspace,
    ) -> f64 {
        wcrg_core::validate::assert_shape("microscopic gradient", &self.shape, grad.shape());
        self.evaluate(x, grad, ws).0
    }
}
