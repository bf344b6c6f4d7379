//! The [`LinearMap`] trait: linear images of the free variables of a field.

use ndarray::{ArrayD, ArrayViewD, ArrayViewMutD};

use crate::Workspace;

/// A linear map $y = Ax$ from a field $x$ (shape [`LinearMap::input_shape`]) to a field $y$
/// (shape [`LinearMap::output_shape`]), with its adjoint restricted to the *free* entries of $x$.
///
/// In the WCRG, $x$ stacks the free details $\bar x_j$ and the conditioning coarse field $x_j$,
/// and $y = x_{j-1} = \gamma(G^\top x_j + \bar G^\top\bar x_j)$ is the reconstructed finer field;
/// a potential $\sum_u\rho(y(u))$ then has gradient $A_{\rm free}^\top\rho'(y)$ and Laplacian
/// $\sum_u\rho''(y(u))\,(A_{\rm free}A_{\rm free}^\top)_{uu}$.
///
/// # Panics
/// The methods panic when a buffer has the wrong shape, naming both shapes.
pub trait LinearMap: Send + Sync {
    /// Shape of $x$.
    fn input_shape(&self) -> &[usize];
    /// Shape of $y$.
    fn output_shape(&self) -> &[usize];
    /// Writes $y = Ax$ into `y`.
    fn apply(&self, x: ArrayViewD<'_, f64>, y: ArrayViewMutD<'_, f64>, ws: &mut Workspace);
    /// Writes $A_{\rm free}^\top v$ into `out` (input shape; zero on the fixed entries).
    fn adjoint_free(&self, v: ArrayViewD<'_, f64>, out: ArrayViewMutD<'_, f64>, ws: &mut Workspace);
    /// The diagonal $(A_{\rm free}A_{\rm free}^\top)_{uu}$ (output shape).
    fn free_gram_diagonal(&self) -> ArrayD<f64>;
}
