//! The RG reconstruction as a [`LinearMap`] of the stacked details and coarse field.

use ndarray::{ArrayD, ArrayViewD, ArrayViewMutD, Axis, IxDyn};
use wcrg_core::{LinearMap, Workspace, validate};

use crate::RgSplit;

/// $x_{j-1} = \gamma(G^\top x_j + \bar G^\top\bar x_j)$ as a linear map of the stacked field
/// `[x̄_j channels…, x_j]` of shape `(channels + 1, coarse…)`, whose free variables are the
/// details: the adjoint is $\gamma\bar G v$ on the detail channels and 0 on the coarse one, and the
/// free Gram diagonal is $\gamma^2(\bar G^\top\bar G)_{uu}$.
#[derive(Debug, Clone)]
pub struct RgReconstruction {
    split: RgSplit,
    input: Vec<usize>,
    gram: ArrayD<f64>,
}

impl RgReconstruction {
    /// The reconstruction of `split`.
    pub fn new(split: RgSplit) -> Self {
        let input: Vec<usize> = std::iter::once(split.channels() + 1)
            .chain(split.coarse_shape().iter().copied())
            .collect();
        let g2 = split.gamma() * split.gamma();
        let gram = split.detail_gram_diagonal().mapv(|v| v * g2);
        Self { split, input, gram }
    }

    /// The split.
    pub fn split(&self) -> &RgSplit {
        &self.split
    }
}

impl LinearMap for RgReconstruction {
    fn input_shape(&self) -> &[usize] {
        &self.input
    }

    fn output_shape(&self) -> &[usize] {
        self.split.fine_shape()
    }

    fn apply(&self, x: ArrayViewD<'_, f64>, y: ArrayViewMutD<'_, f64>, ws: &mut Workspace) {
        validate::assert_shape("stacked details and coarse field", &self.input, x.shape());
        let c = self.split.channels();
        let details = x.slice_axis(Axis(0), (0..c).into());
        let coarse = x.index_axis(Axis(0), c);
        self.split.merge_into(coarse, details, y, ws);
    }

    fn adjoint_free(
        &self,
        v: ArrayViewD<'_, f64>,
        mut out: ArrayViewMutD<'_, f64>,
        ws: &mut Workspace,
    ) {
        validate::assert_shape("stacked details and coarse field", &self.input, out.shape());
        // split gives (γ⁻¹ G v, γ⁻¹ Ḡ v); the adjoint on the details is γ Ḡ v.
        let c = self.split.channels();
        let mut coarse = ArrayD::zeros(IxDyn(self.split.coarse_shape()));
        let mut details = ArrayD::zeros(IxDyn(&self.split.details_shape()));
        self.split
            .split_into(v, coarse.view_mut(), details.view_mut(), ws);
        let g2 = self.split.gamma() * self.split.gamma();
        out.slice_axis_mut(Axis(0), (0..c).into())
            .zip_mut_with(&details, |o, &d| *o = g2 * d);
        out.index_axis_mut(Axis(0), c).fill(0.0);
    }

    fn free_gram_diagonal(&self) -> ArrayD<f64> {
        self.gram.clone()
    }
}
