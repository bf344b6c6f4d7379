//! Chain states.

use ndarray::{ArrayD, ArrayViewD, IxDyn};
use wcrg_core::{Energy, Error, Result, Workspace, validate};

/// State of the gradient-based kernels: position, energy, gradient, and the proposal buffers
/// (so that a step allocates nothing).
#[derive(Debug, Clone)]
pub struct LangevinState {
    pub(crate) x: ArrayD<f64>,
    pub(crate) energy: f64,
    pub(crate) grad: ArrayD<f64>,
    pub(crate) y: ArrayD<f64>,
    pub(crate) gy: ArrayD<f64>,
    pub(crate) p: ArrayD<f64>,
}

impl LangevinState {
    /// Evaluates `energy` at `x0`.
    ///
    /// # Errors
    /// Wrong shape, non-finite values, or a non-finite energy or gradient at `x0`.
    pub fn new<E: Energy + ?Sized>(
        energy: &E,
        x0: ArrayD<f64>,
        ws: &mut Workspace,
    ) -> Result<Self> {
        check_start(energy.shape(), &x0)?;
        let mut grad = ArrayD::zeros(IxDyn(energy.shape()));
        let u = energy.energy_and_gradient(x0.view(), grad.view_mut(), ws);
        if !u.is_finite() || grad.iter().any(|g| !g.is_finite()) {
            return Err(Error::InvalidParameter {
                name: "initial state".into(),
                value: format!("energy {u}"),
                reason: "the energy or its gradient is not finite at the starting point".into(),
            });
        }
        Ok(Self {
            y: x0.clone(),
            gy: grad.clone(),
            p: grad.clone(),
            x: x0,
            energy: u,
            grad,
        })
    }

    /// Position.
    pub fn position(&self) -> ArrayViewD<'_, f64> {
        self.x.view()
    }

    /// Energy at the position.
    pub fn energy(&self) -> f64 {
        self.energy
    }

    /// Gradient at the position.
    pub fn gradient(&self) -> ArrayViewD<'_, f64> {
        self.grad.view()
    }
}

/// State of the gradient-free kernels: position and energy.
#[derive(Debug, Clone)]
pub struct FieldState {
    pub(crate) x: ArrayD<f64>,
    pub(crate) energy: f64,
}

impl FieldState {
    /// Evaluates `energy` at `x0`.
    ///
    /// # Errors
    /// Wrong shape, non-finite values, or a non-finite energy at `x0`.
    pub fn new<E: Energy + ?Sized>(
        energy: &E,
        x0: ArrayD<f64>,
        ws: &mut Workspace,
    ) -> Result<Self> {
        check_start(energy.shape(), &x0)?;
        let u = energy.energy(x0.view(), ws);
        if !u.is_finite() {
            return Err(Error::InvalidParameter {
                name: "initial state".into(),
                value: format!("energy {u}"),
                reason: "the energy is not finite at the starting point".into(),
            });
        }
        let x0 = x0.as_standard_layout().into_owned();
        Ok(Self { x: x0, energy: u })
    }

    /// Position.
    pub fn position(&self) -> ArrayViewD<'_, f64> {
        self.x.view()
    }

    /// Energy at the position.
    pub fn energy(&self) -> f64 {
        self.energy
    }
}

fn check_start(shape: &[usize], x0: &ArrayD<f64>) -> Result<()> {
    validate::shape("initial state", shape, x0.shape())?;
    validate::finite("initial state", x0.iter())
}

/// Validates a step size or proposal width.
pub(crate) fn positive(name: &str, v: f64) -> Result<f64> {
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        Err(Error::InvalidParameter {
            name: name.into(),
            value: v.to_string(),
            reason: "must be finite and positive".into(),
        })
    }
}
