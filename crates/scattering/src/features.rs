//! Scattering spectra as [`Features`]: value and pullback, for linear energies
//! $U_\theta(x) = \theta^\top R\,\Phi(x)$ (scattering-Gaussian and microcanonical models).

use crate::reduction::Reduction;
use crate::spectra::{Normalization, ScatteringSpectra, SpectraWorkspace};
use ndarray::{Array1, ArrayView1, ArrayViewD, ArrayViewMut1, ArrayViewMutD, Ix2};
use wcrg_core::{Features, Workspace, validate};

/// Reduced, normalised scattering spectra $x \mapsto R\,\Phi(x)$ as a feature map.
#[derive(Debug, Clone)]
pub struct ScatteringFeatures {
    spectra: ScatteringSpectra,
    norm: Normalization,
    reduction: Reduction,
    shape: Vec<usize>,
    names: Vec<String>,
}

impl ScatteringFeatures {
    /// Wraps the statistics with a fixed normalisation and reduction.
    ///
    /// # Errors
    /// A reduction built for another statistics vector, or a normalisation with another number
    /// of bands.
    pub fn new(
        spectra: ScatteringSpectra,
        norm: Normalization,
        reduction: Reduction,
    ) -> Result<Self, crate::ScatteringError> {
        if reduction.full_len() != spectra.len() {
            return Err(crate::error::invalid(
                "reduction",
                reduction.full_len(),
                &format!(
                    "built for another statistics vector (expected length {})",
                    spectra.len()
                ),
            ));
        }
        if norm.s2.len() != spectra.n_bands() {
            return Err(crate::error::invalid(
                "normalization",
                norm.s2.len(),
                "has another number of bands",
            ));
        }
        let (m, n) = spectra.shape();
        let shape = if m == 1 { vec![n] } else { vec![m, n] };
        let names = reduction.rows().iter().map(|r| r.name.clone()).collect();
        Ok(Self {
            spectra,
            norm,
            reduction,
            shape,
            names,
        })
    }

    /// The statistics.
    pub fn spectra(&self) -> &ScatteringSpectra {
        &self.spectra
    }

    /// The reduction.
    pub fn reduction(&self) -> &Reduction {
        &self.reduction
    }

    /// The normalisation.
    pub fn normalization(&self) -> &Normalization {
        &self.norm
    }

    fn as_2d<'a>(&self, x: ArrayViewD<'a, f64>) -> ndarray::ArrayView2<'a, f64> {
        let (m, n) = self.spectra.shape();
        validate::assert_shape("scattering field", &[m, n], x.shape());
        x.into_shape_with_order((m, n))
            .expect("field shape")
            .into_dimensionality::<Ix2>()
            .expect("2-D")
    }

    fn as_2d_mut<'a>(&self, out: ArrayViewMutD<'a, f64>) -> ndarray::ArrayViewMut2<'a, f64> {
        let (m, n) = self.spectra.shape();
        validate::assert_shape("scattering pullback", &[m, n], out.shape());
        out.into_shape_with_order((m, n))
            .expect("output shape")
            .into_dimensionality::<Ix2>()
            .expect("2-D")
    }

    /// Value and pullback in one pass: returns $R\Phi(x)$ and writes $J^\top v$ for the
    /// cotangent `v` that `cotangent` computes from the value.
    pub fn value_and_pullback(
        &self,
        x: ArrayViewD<'_, f64>,
        cotangent: impl FnOnce(ArrayView1<'_, f64>) -> Array1<f64>,
        out: ArrayViewMutD<'_, f64>,
        ws: &mut SpectraWorkspace,
    ) -> Array1<f64> {
        let x2 = self.as_2d(x);
        let full = self.spectra.values(x2, &self.norm, ws);
        let value = self.reduction.apply(full.view());
        let v = cotangent(value.view());
        let vf = self.reduction.pull(v.view());
        let out2 = self.as_2d_mut(out);
        self.spectra
            .pullback_after_values(x2, &vf, &self.norm, ws, out2);
        value
    }
}

impl Features for ScatteringFeatures {
    fn field_shape(&self) -> &[usize] {
        &self.shape
    }

    fn len(&self) -> usize {
        self.reduction.len()
    }

    fn names(&self) -> Vec<String> {
        self.names.clone()
    }

    fn values_into(
        &self,
        x: ArrayViewD<'_, f64>,
        mut out: ArrayViewMut1<'_, f64>,
        ws: &mut Workspace,
    ) {
        validate::assert_shape("scattering output", &[self.len()], out.shape());
        let sw = ws.get::<SpectraWorkspace>();
        let full = self.spectra.values(self.as_2d(x), &self.norm, sw);
        out.assign(&self.reduction.apply(full.view()));
    }

    fn pullback_into(
        &self,
        x: ArrayViewD<'_, f64>,
        v: ArrayView1<'_, f64>,
        out: ArrayViewMutD<'_, f64>,
        ws: &mut Workspace,
    ) {
        validate::assert_shape("scattering weights", &[self.len()], v.shape());
        let sw = ws.get::<SpectraWorkspace>();
        let vf = self.reduction.pull(v);
        let out2 = self.as_2d_mut(out);
        self.spectra
            .pullback(self.as_2d(x), &vf, &self.norm, sw, out2);
    }
}
