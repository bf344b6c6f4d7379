//! Energies linear in their parameters, $U_\theta = \theta^\top\Phi$.

use ndarray::{Array1, ArrayView1, ArrayViewD, ArrayViewMutD};
use wcrg_core::{Energy, Features, LinearAnsatz, Result, Workspace, validate};

/// $U_\theta(x) = \theta^\top \Phi(x)$ for any feature map $\Phi$, with gradient
/// $\nabla_x U_\theta = J_\Phi(x)^\top \theta$ (the feature map's pullback of $\theta$).
#[derive(Debug, Clone)]
pub struct LinearEnergy<F> {
    features: F,
    theta: Array1<f64>,
}

#[derive(Default)]
struct Scratch {
    phi: Vec<f64>,
}

impl<F: Features> LinearEnergy<F> {
    /// The energy with parameters `theta`.
    ///
    /// # Errors
    /// [`wcrg_core::Error::ShapeMismatch`] unless `theta` has one entry per feature;
    /// [`wcrg_core::Error::NonFinite`] for NaN/Inf parameters.
    pub fn new(features: F, theta: Array1<f64>) -> Result<Self> {
        validate::shape("theta", &[features.len()], theta.shape())?;
        validate::finite("theta", theta.iter())?;
        Ok(Self { features, theta })
    }

    /// Replaces the parameters.
    ///
    /// # Errors
    /// As [`LinearEnergy::new`].
    pub fn set_theta(&mut self, theta: Array1<f64>) -> Result<()> {
        validate::shape("theta", &[self.features.len()], theta.shape())?;
        validate::finite("theta", theta.iter())?;
        self.theta = theta;
        Ok(())
    }

    /// The parameters with their feature names.
    pub fn named_theta(&self) -> Vec<(String, f64)> {
        self.features
            .names()
            .into_iter()
            .zip(self.theta.iter().copied())
            .collect()
    }
}

impl<F: Features> Energy for LinearEnergy<F> {
    fn shape(&self) -> &[usize] {
        self.features.field_shape()
    }

    fn energy(&self, x: ArrayViewD<'_, f64>, ws: &mut Workspace) -> f64 {
        let mut phi = std::mem::take(&mut ws.get::<Scratch>().phi);
        phi.clear();
        phi.resize(self.features.len(), 0.0);
        self.features.values_into(
            x,
            ArrayViewMutD::from_shape(vec![phi.len()], &mut phi)
                .expect("sized")
                .into_dimensionality()
                .expect("1-D"),
            ws,
        );
        let e = phi.iter().zip(self.theta.iter()).map(|(p, t)| p * t).sum();
        ws.get::<Scratch>().phi = phi;
        e
    }

    fn energy_and_gradient(
        &self,
        x: ArrayViewD<'_, f64>,
        grad: ArrayViewMutD<'_, f64>,
        ws: &mut Workspace,
    ) -> f64 {
        self.features
            .pullback_into(x.view(), self.theta.view(), grad, ws);
        self.energy(x, ws)
    }
}

impl<F: Features> LinearAnsatz for LinearEnergy<F> {
    type Features = F;

    fn features(&self) -> &F {
        &self.features
    }

    fn theta(&self) -> ArrayView1<'_, f64> {
        self.theta.view()
    }
}
