//! The [`Features`] trait: feature maps $\Phi$ of linear energy ansätze.

use ndarray::{Array1, Array2, ArrayView1, ArrayViewD, ArrayViewMut1, ArrayViewMutD, IxDyn};

use crate::Workspace;

/// A feature map $\Phi: \mathbb{R}^{d} \to \mathbb{R}^K$ of a field of fixed shape, with its
/// pullback (vector–Jacobian product) $J_\Phi(x)^\top v = \nabla_x \big(v^\top \Phi(x)\big)$.
///
/// With a linear ansatz $U_\theta = \theta^\top \Phi$, the energy gradient is the pullback of
/// $\theta$, so one implementation serves energies, score matching and maximum likelihood.
///
/// # Panics
/// Hot-path methods panic when a buffer has the wrong shape, naming expected and actual shapes.
pub trait Features: Send + Sync {
    /// Shape of the field $x$ the features are computed on.
    fn field_shape(&self) -> &[usize];

    /// Number of features $K$.
    fn len(&self) -> usize;

    /// Whether there are no features.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A human-readable name per feature (parameter metadata), `len()` entries.
    fn names(&self) -> Vec<String>;

    /// Writes $\Phi(x)$ into `out` (length `len()`).
    fn values_into(&self, x: ArrayViewD<'_, f64>, out: ArrayViewMut1<'_, f64>, ws: &mut Workspace);

    /// Writes $J_\Phi(x)^\top v$ into `out` (shape `field_shape()`), overwriting it.
    fn pullback_into(
        &self,
        x: ArrayViewD<'_, f64>,
        v: ArrayView1<'_, f64>,
        out: ArrayViewMutD<'_, f64>,
        ws: &mut Workspace,
    );
}

/// Exact Laplacians $\Delta_x \Phi_k(x) = \sum_u \partial^2 \Phi_k / \partial x_u^2$, the
/// ingredient of score matching's $b = \mathbb{E}[\Delta_x \Phi]$.
///
/// Derivatives are taken with respect to the *free* variables of the feature map only (a
/// conditional model holds its conditioning variables fixed).
pub trait FeatureLaplacian: Features {
    /// Writes $\Delta_x \Phi(x)$ into `out` (length `len()`).
    fn laplacian_into(
        &self,
        x: ArrayViewD<'_, f64>,
        out: ArrayViewMut1<'_, f64>,
        ws: &mut Workspace,
    );

    /// The Jacobian $J_\Phi(x)$ as blocks of rows, in feature order, for Gram matrices
    /// $JJ^\top$ (score matching). The provided version is one dense block from `len()`
    /// pullbacks of unit vectors; blocks with translation-invariant rows return
    /// [`JacobianBlock::Shifts`] so that estimators use FFT correlations instead.
    fn jacobian_blocks(&self, x: ArrayViewD<'_, f64>, ws: &mut Workspace) -> Vec<JacobianBlock> {
        vec![JacobianBlock::Dense(dense_jacobian(self, x, ws))]
    }
}

/// A block of rows of a feature Jacobian ($K_b \times d$, $d$ = number of field values).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum JacobianBlock {
    /// Dense rows, $K_b \times d$, each row in the field's row-major order.
    Dense(Array2<f64>),
    /// Symmetrised shift rows of a periodic field: the row of shift $s$ is
    /// $\tfrac12\big(x(\cdot - s) + x(\cdot + s)\big)$, the gradient of
    /// $\tfrac12\sum_u x(u)\,x(u - s)$.
    Shifts(Vec<Vec<isize>>),
    /// Rows of channel couplings on a `(C, spatial…)` field: for feature `(c, d, s)` the row is
    /// $\tfrac12\big(e_c \otimes x_d(\cdot - s) + e_d \otimes x_c(\cdot + s)\big)$, with the
    /// parts on channels where `free` is false removed (conditioning channels are held fixed).
    ChannelShifts {
        /// Which channels are free.
        free: Vec<bool>,
        /// `(c, d, s)` per row.
        features: Vec<(usize, usize, Vec<isize>)>,
    },
}

/// The dense Jacobian $J_\Phi(x)$ ($K \times d$) by $K$ pullbacks of unit vectors.
///
/// # Panics
/// When `x` does not have the feature map's field shape.
pub fn dense_jacobian<F: Features + ?Sized>(
    f: &F,
    x: ArrayViewD<'_, f64>,
    ws: &mut Workspace,
) -> Array2<f64> {
    let k = f.len();
    let d: usize = f.field_shape().iter().product();
    let mut jac = Array2::zeros((k, d));
    let mut e = Array1::zeros(k);
    for (a, mut row) in jac.outer_iter_mut().enumerate() {
        e[a] = 1.0;
        let out = ArrayViewMutD::from_shape(
            IxDyn(f.field_shape()),
            row.as_slice_mut().expect("rows are contiguous"),
        )
        .expect("sized");
        f.pullback_into(x.view(), e.view(), out, ws);
        e[a] = 0.0;
    }
    jac
}

macro_rules! forward_features {
    ($($ty:ty),*) => {$(
        impl<F: Features + ?Sized> Features for $ty {
            fn field_shape(&self) -> &[usize] {
                (**self).field_shape()
            }
            fn len(&self) -> usize {
                (**self).len()
            }
            fn names(&self) -> Vec<String> {
                (**self).names()
            }
            fn values_into(&self, x: ArrayViewD<'_, f64>, out: ArrayViewMut1<'_, f64>, ws: &mut Workspace) {
                (**self).values_into(x, out, ws)
            }
            fn pullback_into(
                &self,
                x: ArrayViewD<'_, f64>,
                v: ArrayView1<'_, f64>,
                out: ArrayViewMutD<'_, f64>,
                ws: &mut Workspace,
            ) {
                (**self).pullback_into(x, v, out, ws)
            }
        }
        impl<F: FeatureLaplacian + ?Sized> FeatureLaplacian for $ty {
            fn laplacian_into(&self, x: ArrayViewD<'_, f64>, out: ArrayViewMut1<'_, f64>, ws: &mut Workspace) {
                (**self).laplacian_into(x, out, ws)
            }
            fn jacobian_blocks(&self, x: ArrayViewD<'_, f64>, ws: &mut Workspace) -> Vec<JacobianBlock> {
                (**self).jacobian_blocks(x, ws)
            }
        }
    )*};
}

forward_features!(&F, Box<F>, std::sync::Arc<F>);
