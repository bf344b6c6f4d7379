//! The [`Energy`] trait and its extension traits.

use ndarray::{ArrayView1, ArrayViewD, ArrayViewMutD, IxDyn};

use crate::{Features, Workspace};

/// An energy $U(x)$ of a field of fixed shape, $p(x) \propto e^{-U(x)}$.
///
/// Values may be `NaN` or infinite outside the support of a model; samplers treat such a value
/// as a rejected, divergent move, never as a panic.
///
/// # Panics
/// When `x` or `grad` does not have shape [`Energy::shape`], naming both shapes.
pub trait Energy: Send + Sync {
    /// Shape of the field.
    fn shape(&self) -> &[usize];

    /// $U(x)$.
    fn energy(&self, x: ArrayViewD<'_, f64>, ws: &mut Workspace) -> f64;

    /// $U(x)$, writing $\nabla_x U(x)$ into `grad` (overwritten).
    fn energy_and_gradient(
        &self,
        x: ArrayViewD<'_, f64>,
        grad: ArrayViewMutD<'_, f64>,
        ws: &mut Workspace,
    ) -> f64;
}

/// An energy linear in its parameters, $U_\theta(x) = \theta^\top \Phi(x)$.
pub trait LinearAnsatz: Energy {
    /// The feature map type.
    type Features: Features + ?Sized;
    /// The feature map $\Phi$.
    fn features(&self) -> &Self::Features;
    /// The parameters $\theta$.
    fn theta(&self) -> ArrayView1<'_, f64>;
}

/// Energy change of a single-site move, the capability single-site Metropolis needs:
/// $\Delta U = U(x + (v - x_u) e_u) - U(x)$, in $O(1)$ for local energies.
pub trait LocalEnergy: Energy {
    /// $\Delta U$ when the value at flat (row-major) index `site` changes from `x[site]` to
    /// `new_value`.
    fn local_energy_change(&self, x: ArrayViewD<'_, f64>, site: usize, new_value: f64) -> f64;

    /// [`LocalEnergy::local_energy_change`] of the field whose values `x` holds in row-major
    /// order: the same value, for the inner loops of single-site samplers, which call it once
    /// per site. The provided version builds and checks a view of `x` on every call;
    /// implementations override it to skip that work.
    ///
    /// # Panics
    /// When `x` does not have one value per site of [`Energy::shape`].
    fn local_energy_change_flat(&self, x: &[f64], site: usize, new_value: f64) -> f64 {
        let view = ArrayViewD::from_shape(IxDyn(self.shape()), x).unwrap_or_else(|_| {
            panic!(
                "local energy change: expected shape {:?}, got a slice of shape [{}]",
                self.shape(),
                x.len()
            )
        });
        self.local_energy_change(view, site, new_value)
    }
}

macro_rules! forward_energy {
    ($($ty:ty),*) => {$(
        impl<E: Energy + ?Sized> Energy for $ty {
            fn shape(&self) -> &[usize] {
                (**self).shape()
            }
            fn energy(&self, x: ArrayViewD<'_, f64>, ws: &mut Workspace) -> f64 {
                (**self).energy(x, ws)
            }
            fn energy_and_gradient(
                &self,
                x: ArrayViewD<'_, f64>,
                grad: ArrayViewMutD<'_, f64>,
                ws: &mut Workspace,
            ) -> f64 {
                (**self).energy_and_gradient(x, grad, ws)
            }
        }
        impl<E: LocalEnergy + ?Sized> LocalEnergy for $ty {
            fn local_energy_change(&self, x: ArrayViewD<'_, f64>, site: usize, new_value: f64) -> f64 {
                (**self).local_energy_change(x, site, new_value)
            }
            fn local_energy_change_flat(&self, x: &[f64], site: usize, new_value: f64) -> f64 {
                (**self).local_energy_change_flat(x, site, new_value)
            }
        }
    )*};
}

forward_energy!(&E, Box<E>, std::sync::Arc<E>);
