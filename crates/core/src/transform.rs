//! The [`Transform`] trait: linear invertible maps of fields.

use ndarray::{ArrayD, ArrayViewD, ArrayViewMutD, IxDyn};

use crate::Workspace;

/// A linear, invertible transform $y = W x$ of fields of a fixed shape, computed in place.
///
/// The coefficients are stored in an array of the same shape as the field (for an orthogonal
/// wavelet transform: the packed Mallat layout), so that the transform can run in place.
/// For orthogonal transforms $W^{-1} = W^\top$, and [`Transform::inverse_inplace`] is also the
/// adjoint, which is what gradients need: $\nabla_x f(Wx) = W^\top \nabla_y f$.
///
/// # Panics
/// The in-place methods panic when the array's shape is not [`Transform::shape`], naming both.
pub trait Transform: Send + Sync {
    /// Shape of the field and of its coefficient array.
    fn shape(&self) -> &[usize];

    /// Replaces the field `data` by its coefficients $W x$.
    fn forward_inplace(&self, data: ArrayViewMutD<'_, f64>, ws: &mut Workspace);

    /// Replaces the coefficients `data` by the field $W^{-1} y$.
    fn inverse_inplace(&self, data: ArrayViewMutD<'_, f64>, ws: &mut Workspace);

    /// Allocating wrapper of [`Transform::forward_inplace`].
    fn forward(&self, x: ArrayViewD<'_, f64>) -> ArrayD<f64> {
        let mut y = x
            .to_owned()
            .into_shape_with_order(IxDyn(x.shape()))
            .expect("same size");
        self.forward_inplace(y.view_mut(), &mut Workspace::new());
        y
    }

    /// Allocating wrapper of [`Transform::inverse_inplace`].
    fn inverse(&self, y: ArrayViewD<'_, f64>) -> ArrayD<f64> {
        let mut x = y.to_owned();
        self.inverse_inplace(x.view_mut(), &mut Workspace::new());
        x
    }
}
