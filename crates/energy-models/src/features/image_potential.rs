//! Scalar potentials on a linear image of the free variables.

use ndarray::{Array2, ArrayD, ArrayView1, ArrayViewD, ArrayViewMut1, ArrayViewMutD, IxDyn};
use std::sync::Arc;
use wcrg_core::{
    Error, FeatureLaplacian, Features, JacobianBlock, LinearMap, Result, Workspace, validate,
};

use super::Basis;

/// $\Phi_k(x) = \sum_u \rho_k\big(y(u)\big)$ with $y = Ax$ a [`LinearMap`] of the field:
/// $\nabla_x\Phi_k = A_{\rm free}^\top\rho_k'(y)$ and
/// $\Delta_x\Phi_k = \sum_u \rho_k''(y(u))\,(A_{\rm free}A_{\rm free}^\top)_{uu}$ (exact, one pass).
///
/// In the WCRG, $A$ reconstructs the finer field $x_{j-1}$ from the stacked details and coarse
/// field, so the potential acts where the physics lives while the free variables are the details.
pub struct ImagePotential {
    map: Arc<dyn LinearMap>,
    basis: Basis,
    gram_diagonal: ArrayD<f64>,
}

impl std::fmt::Debug for ImagePotential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImagePotential")
            .field("input_shape", &self.map.input_shape())
            .field("output_shape", &self.map.output_shape())
            .field("basis", &self.basis)
            .finish()
    }
}

impl ImagePotential {
    /// A potential with basis `basis` on the image of `map`.
    ///
    /// # Errors
    /// An empty basis; a Gram diagonal of the wrong shape or with non-finite values.
    pub fn new(map: Arc<dyn LinearMap>, basis: Basis) -> Result<Self> {
        if basis.is_empty() {
            return Err(Error::Empty {
                what: "basis".into(),
            });
        }
        // Validates the basis like `ScalarPotential` does.
        super::ScalarPotential::new(map.output_shape(), basis.clone())?;
        let gram_diagonal = map.free_gram_diagonal();
        validate::shape(
            "free Gram diagonal",
            map.output_shape(),
            gram_diagonal.shape(),
        )?;
        validate::finite("free Gram diagonal", gram_diagonal.iter())?;
        Ok(Self {
            map,
            basis,
            gram_diagonal,
        })
    }

    fn image(&self, x: ArrayViewD<'_, f64>, ws: &mut Workspace) -> ArrayD<f64> {
        validate::assert_shape("image potential field", self.map.input_shape(), x.shape());
        let mut y = ArrayD::zeros(IxDyn(self.map.output_shape()));
        self.map.apply(x, y.view_mut(), ws);
        y
    }
}

impl Features for ImagePotential {
    fn field_shape(&self) -> &[usize] {
        self.map.input_shape()
    }

    fn len(&self) -> usize {
        self.basis.len()
    }

    fn names(&self) -> Vec<String> {
        (0..self.len())
            .map(|k| format!("{} on the linear image", self.basis.name(k)))
            .collect()
    }

    fn values_into(
        &self,
        x: ArrayViewD<'_, f64>,
        mut out: ArrayViewMut1<'_, f64>,
        ws: &mut Workspace,
    ) {
        validate::assert_shape("image potential output", &[self.len()], out.shape());
        let y = self.image(x, ws);
        for (k, o) in out.iter_mut().enumerate() {
            *o = y.iter().map(|&t| self.basis.eval(k, t).0).sum();
        }
    }

    fn pullback_into(
        &self,
        x: ArrayViewD<'_, f64>,
        v: ArrayView1<'_, f64>,
        out: ArrayViewMutD<'_, f64>,
        ws: &mut Workspace,
    ) {
        validate::assert_shape("image potential weights", &[self.len()], v.shape());
        let y = self.image(x, ws);
        let dy = y.mapv(|t| {
            (0..v.len())
                .map(|k| v[k] * self.basis.eval(k, t).1)
                .sum::<f64>()
        });
        self.map.adjoint_free(dy.view(), out, ws);
    }
}

impl FeatureLaplacian for ImagePotential {
    fn laplacian_into(
        &self,
        x: ArrayViewD<'_, f64>,
        mut out: ArrayViewMut1<'_, f64>,
        ws: &mut Workspace,
    ) {
        validate::assert_shape("image potential output", &[self.len()], out.shape());
        let y = self.image(x, ws);
        for (k, o) in out.iter_mut().enumerate() {
            *o = y
                .iter()
                .zip(self.gram_diagonal.iter())
                .map(|(&t, &g)| self.basis.eval(k, t).2 * g)
                .sum();
        }
    }

    fn jacobian_blocks(&self, x: ArrayViewD<'_, f64>, ws: &mut Workspace) -> Vec<JacobianBlock> {
        let y = self.image(x.view(), ws);
        let d: usize = self.map.input_shape().iter().product();
        let mut rows = Array2::zeros((self.len(), d));
        for (k, mut row) in rows.outer_iter_mut().enumerate() {
            let dy = y.mapv(|t| self.basis.eval(k, t).1);
            let out = ArrayViewMutD::from_shape(
                IxDyn(self.map.input_shape()),
                row.as_slice_mut().expect("contiguous"),
            )
            .expect("sized");
            self.map.adjoint_free(dy.view(), out, ws);
        }
        vec![JacobianBlock::Dense(rows)]
    }
}
