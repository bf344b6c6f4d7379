//! The normalised renormalisation-group split $x_{j-1} \leftrightarrow (x_j, \bar x_j)$.

use ndarray::{ArrayD, ArrayViewD, ArrayViewMutD, Axis, IxDyn, Slice, SliceInfoElem};
use rayon::prelude::*;
use wcrg_core::{Transform, Workspace, validate};

use crate::error::Result;
use crate::layout::{detail_keys, detail_slices};
use crate::{Dwt, Wavelet};

/// How the normalisation $\gamma_j$ of a split is chosen.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub enum Normalisation {
    /// $\gamma_j$ such that the details $\bar x_j$ have unit second moment over the data.
    Details,
    /// $\gamma_j$ such that the coarse field $x_j$ has unit second moment over the data.
    Coarse,
    /// A given $\gamma_j > 0$.
    Fixed(f64),
}

/// One normalised level of the RG: fields of shape `fine` (1–3 axes) split into a coarse field
/// of shape `fine / 2` and $2^D - 1$ detail channels stacked on a leading axis.
///
/// $$x_j = \gamma^{-1} G x_{j-1},\quad \bar x_j = \gamma^{-1} \bar G x_{j-1},\quad
/// x_{j-1} = \gamma (G^\top x_j + \bar G^\top \bar x_j).$$
/// Channels follow [`detail_keys`] (2-D: H, V, D).
#[derive(Debug, Clone)]
pub struct RgSplit {
    plan: Dwt,
    gamma: f64,
    coarse: Vec<usize>,
}

#[derive(Default)]
struct Scratch {
    buf: Vec<f64>,
}

impl RgSplit {
    /// A split of fields of shape `fine` with normalisation `gamma`.
    ///
    /// # Errors
    /// As [`Dwt::new`] with one level; [`wcrg_core::Error::InvalidParameter`] unless `gamma`
    /// is finite and positive.
    pub fn new(wavelet: &Wavelet, fine: &[usize], gamma: f64) -> Result<Self> {
        if !(gamma.is_finite() && gamma > 0.0) {
            return Err(wcrg_core::Error::InvalidParameter {
                name: "gamma".into(),
                value: gamma.to_string(),
                reason: "must be finite and positive".into(),
            }
            .into());
        }
        let plan = Dwt::new(wavelet, fine, 1)?;
        Ok(Self {
            coarse: fine.iter().map(|s| s / 2).collect(),
            plan,
            gamma,
        })
    }

    /// A split whose $\gamma$ is estimated from a batch `(B, fine…)` as `norm` says.
    ///
    /// # Errors
    /// Empty or non-finite data, shapes as in [`RgSplit::new`].
    pub fn from_data(
        wavelet: &Wavelet,
        batch: ArrayViewD<'_, f64>,
        norm: Normalisation,
    ) -> Result<Self> {
        validate::non_empty("RG split data", batch.shape())?;
        validate::finite("RG split data", batch.iter())?;
        let fine = batch.shape()[1..].to_vec();
        let fine = fine.as_slice();
        let unit = Self::new(wavelet, fine, 1.0)?;
        let gamma = match norm {
            Normalisation::Fixed(g) => g,
            Normalisation::Details | Normalisation::Coarse => {
                let (c, d) = unit.split_batch(batch)?;
                let a = if norm == Normalisation::Details { d } else { c };
                let ms = a.iter().map(|v| v * v).sum::<f64>() / a.len() as f64;
                if ms == 0.0 {
                    return Err(wcrg_core::Error::Singular {
                        what: "RG normalisation".into(),
                        detail: "the data have zero power at this scale; use Normalisation::Fixed"
                            .into(),
                    }
                    .into());
                }
                ms.sqrt()
            }
        };
        Self::new(wavelet, fine, gamma)
    }

    /// The normalisation $\gamma$.
    pub fn gamma(&self) -> f64 {
        self.gamma
    }

    /// Shape of the finer field $x_{j-1}$.
    pub fn fine_shape(&self) -> &[usize] {
        self.plan.shape()
    }

    /// Shape of the coarse field $x_j$.
    pub fn coarse_shape(&self) -> &[usize] {
        &self.coarse
    }

    /// Number of detail channels, $2^D - 1$.
    pub fn channels(&self) -> usize {
        (1 << self.coarse.len()) - 1
    }

    /// Shape of the details $\bar x_j$: `(channels, coarse…)`.
    pub fn details_shape(&self) -> Vec<usize> {
        std::iter::once(self.channels())
            .chain(self.coarse.iter().copied())
            .collect()
    }

    /// The wavelet plan (one level on the fine shape).
    pub fn plan(&self) -> &Dwt {
        &self.plan
    }

    fn approx_slices(&self) -> Vec<SliceInfoElem> {
        self.coarse
            .iter()
            .map(|&m| SliceInfoElem::from(Slice::from(0..m as isize)))
            .collect()
    }

    /// Splits `x` into `coarse` $= x_j$ and `details` $= \bar x_j$.
    ///
    /// # Panics
    /// On wrong shapes, naming them.
    pub fn split_into(
        &self,
        x: ArrayViewD<'_, f64>,
        mut coarse: ArrayViewMutD<'_, f64>,
        mut details: ArrayViewMutD<'_, f64>,
        ws: &mut Workspace,
    ) {
        validate::assert_shape("RG split input", self.fine_shape(), x.shape());
        validate::assert_shape("RG coarse output", &self.coarse, coarse.shape());
        validate::assert_shape("RG details output", &self.details_shape(), details.shape());
        let mut buf = std::mem::take(&mut ws.get::<Scratch>().buf);
        buf.clear();
        buf.extend(x.iter().copied());
        let mut y = ArrayViewMutD::from_shape(IxDyn(self.fine_shape()), &mut buf).expect("sized");
        self.plan.forward_inplace(y.view_mut(), ws);
        let inv = 1.0 / self.gamma;
        coarse.zip_mut_with(&y.slice(self.approx_slices().as_slice()), |c, v| {
            *c = v * inv
        });
        for (c, key) in detail_keys(self.coarse.len()).iter().enumerate() {
            let sl = detail_slices(self.fine_shape(), key, 1);
            details
                .index_axis_mut(Axis(0), c)
                .zip_mut_with(&y.slice(sl.as_slice()), |d, v| *d = v * inv);
        }
        ws.get::<Scratch>().buf = buf;
    }

    /// Reconstructs $x_{j-1} = \gamma (G^\top x_j + \bar G^\top \bar x_j)$ into `out`.
    ///
    /// # Panics
    /// On wrong shapes, naming them.
    pub fn merge_into(
        &self,
        coarse: ArrayViewD<'_, f64>,
        details: ArrayViewD<'_, f64>,
        mut out: ArrayViewMutD<'_, f64>,
        ws: &mut Workspace,
    ) {
        validate::assert_shape("RG coarse input", &self.coarse, coarse.shape());
        validate::assert_shape("RG details input", &self.details_shape(), details.shape());
        validate::assert_shape("RG merge output", self.fine_shape(), out.shape());
        let g = self.gamma;
        out.slice_mut(self.approx_slices().as_slice())
            .zip_mut_with(&coarse, |o, v| *o = v * g);
        for (c, key) in detail_keys(self.coarse.len()).iter().enumerate() {
            let sl = detail_slices(self.fine_shape(), key, 1);
            out.slice_mut(sl.as_slice())
                .zip_mut_with(&details.index_axis(Axis(0), c), |o, v| *o = v * g);
        }
        self.plan.inverse_inplace(out, ws);
    }

    /// Splits a batch `(B, fine…)` into `(B, coarse…)` and `(B, channels, coarse…)`, in parallel.
    ///
    /// # Errors
    /// [`wcrg_core::Error::ShapeMismatch`] when the trailing axes are not the fine shape.
    pub fn split_batch(&self, x: ArrayViewD<'_, f64>) -> Result<(ArrayD<f64>, ArrayD<f64>)> {
        let b = x.shape().first().copied().unwrap_or(0);
        let expected: Vec<usize> = std::iter::once(b)
            .chain(self.fine_shape().iter().copied())
            .collect();
        validate::shape("RG split batch", &expected, x.shape())?;
        let cs: Vec<usize> = std::iter::once(b)
            .chain(self.coarse.iter().copied())
            .collect();
        let ds: Vec<usize> = std::iter::once(b).chain(self.details_shape()).collect();
        let mut coarse = ArrayD::zeros(IxDyn(&cs));
        let mut details = ArrayD::zeros(IxDyn(&ds));
        x.axis_iter(Axis(0))
            .into_par_iter()
            .zip(coarse.axis_iter_mut(Axis(0)).into_par_iter())
            .zip(details.axis_iter_mut(Axis(0)).into_par_iter())
            .for_each_init(Workspace::new, |ws, ((xi, ci), di)| {
                self.split_into(xi, ci, di, ws)
            });
        Ok((coarse, details))
    }

    /// Reconstructs a batch from `(B, coarse…)` and `(B, channels, coarse…)`, in parallel.
    ///
    /// # Errors
    /// [`wcrg_core::Error::ShapeMismatch`] on inconsistent shapes.
    pub fn merge_batch(
        &self,
        coarse: ArrayViewD<'_, f64>,
        details: ArrayViewD<'_, f64>,
    ) -> Result<ArrayD<f64>> {
        let b = coarse.shape().first().copied().unwrap_or(0);
        let cs: Vec<usize> = std::iter::once(b)
            .chain(self.coarse.iter().copied())
            .collect();
        let ds: Vec<usize> = std::iter::once(b).chain(self.details_shape()).collect();
        validate::shape("RG coarse batch", &cs, coarse.shape())?;
        validate::shape("RG details batch", &ds, details.shape())?;
        let fs: Vec<usize> = std::iter::once(b)
            .chain(self.fine_shape().iter().copied())
            .collect();
        let mut out = ArrayD::zeros(IxDyn(&fs));
        out.axis_iter_mut(Axis(0))
            .into_par_iter()
            .zip(coarse.axis_iter(Axis(0)).into_par_iter())
            .zip(details.axis_iter(Axis(0)).into_par_iter())
            .for_each_init(Workspace::new, |ws, ((o, c), d)| {
                self.merge_into(c, d, o, ws)
            });
        Ok(out)
    }

    /// The exact diagonal $(\bar G^\top \bar G)_{uu}$ on the fine grid (without $\gamma$).
    ///
    /// $\bar G^\top \bar G = I - G^\top G$ is the projector on the detail space; it commutes
    /// with translations by 2, so its diagonal is periodic with period 2 along every axis.
    /// The Laplacian of $\sum_u \rho(x_{j-1}(u))$ with respect to $\bar x_j$ is
    /// $\gamma^2 \sum_u \rho''(x_{j-1}(u)) (\bar G^\top \bar G)_{uu}$.
    pub fn detail_gram_diagonal(&self) -> ArrayD<f64> {
        let fine = self.fine_shape();
        let d = fine.len();
        let mut ws = Workspace::new();
        let mut values = vec![0.0; 1 << d];
        for (parity, value) in values.iter_mut().enumerate() {
            let mut e = ArrayD::zeros(IxDyn(fine));
            let idx: Vec<usize> = (0..d).map(|a| (parity >> (d - 1 - a)) & 1).collect();
            e[IxDyn(&idx)] = 1.0;
            self.plan.forward_inplace(e.view_mut(), &mut ws);
            let approx: f64 = e
                .slice(self.approx_slices().as_slice())
                .iter()
                .map(|v| v * v)
                .sum();
            *value = e.iter().map(|v| v * v).sum::<f64>() - approx;
        }
        ArrayD::from_shape_fn(IxDyn(fine), |ix| {
            let parity = (0..d).fold(0, |p, a| (p << 1) | (ix[a] & 1));
            values[parity]
        })
    }
}
