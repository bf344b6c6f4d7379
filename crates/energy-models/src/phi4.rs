//! Lattice $\varphi^4$ field theory.

use ndarray::{ArrayViewD, ArrayViewMutD};
use wcrg_core::{Energy, Error, LocalEnergy, Result, Workspace, validate};

use crate::{Lattice, Polynomial};

/// The lattice field theory
/// $$U(\varphi) = \frac\beta2 \sum_x \sum_{\mu} \big(\varphi(x+e_\mu) - \varphi(x)\big)^2 + \sum_x V(\varphi(x)),$$
/// periodic in 1, 2 or 3 dimensions, with $V(\varphi) = \lambda(\varphi^2-1)^2$ by default or
/// any confining polynomial.
#[derive(Debug, Clone)]
pub struct Phi4 {
    lattice: Lattice,
    beta: f64,
    potential: Polynomial,
}

impl Phi4 {
    /// $\varphi^4$ with the double well $\lambda(\varphi^2 - 1)^2$.
    ///
    /// # Errors
    /// Invalid lattice shape; non-finite or negative `beta`; `lambda <= 0`.
    pub fn new(shape: &[usize], beta: f64, lambda: f64) -> Result<Self> {
        if !(lambda.is_finite() && lambda > 0.0) {
            return Err(Error::InvalidParameter {
                name: "lambda".into(),
                value: lambda.to_string(),
                reason: "must be finite and positive".into(),
            });
        }
        Self::with_potential(shape, beta, Polynomial::double_well(lambda)?)
    }

    /// A lattice field with on-site potential `potential`.
    ///
    /// # Errors
    /// Invalid lattice shape; non-finite or negative `beta`; a potential that does not confine.
    pub fn with_potential(shape: &[usize], beta: f64, potential: Polynomial) -> Result<Self> {
        if !(beta.is_finite() && beta >= 0.0) {
            return Err(Error::InvalidParameter {
                name: "beta".into(),
                value: beta.to_string(),
                reason: "must be finite and non-negative".into(),
            });
        }
        potential.require_confining("potential")?;
        Ok(Self {
            lattice: Lattice::new(shape)?,
            beta,
            potential,
        })
    }

    /// The coupling $\beta$.
    pub fn beta(&self) -> f64 {
        self.beta
    }

    /// The on-site potential $V$.
    pub fn potential(&self) -> &Polynomial {
        &self.potential
    }

    /// The lattice.
    pub fn lattice(&self) -> &Lattice {
        &self.lattice
    }

    fn slice<'a>(&self, x: &'a ArrayViewD<'_, f64>) -> std::borrow::Cow<'a, [f64]> {
        validate::assert_shape("phi4 field", self.lattice.shape(), x.shape());
        match x.as_slice() {
            Some(s) => std::borrow::Cow::Borrowed(s),
            None => std::borrow::Cow::Owned(x.iter().copied().collect()),
        }
    }

    /// The kinetic part $\frac12\sum_x\sum_\mu(\varphi(x+e_\mu)-\varphi(x))^2$ (without $\beta$).
    ///
    /// # Panics
    /// On a wrong shape.
    pub fn gradient_term(&self, x: ArrayViewD<'_, f64>) -> f64 {
        let phi = self.slice(&x);
        let d = self.lattice.ndim();
        let mut k = 0.0;
        for (s, &p) in phi.iter().enumerate() {
            for mu in 0..d {
                let diff = phi[self.lattice.forward(s, mu)] - p;
                k += diff * diff;
            }
        }
        0.5 * k
    }
}

impl Energy for Phi4 {
    fn shape(&self) -> &[usize] {
        self.lattice.shape()
    }

    fn energy(&self, x: ArrayViewD<'_, f64>, _ws: &mut Workspace) -> f64 {
        let v: f64 = self
            .slice(&x)
            .iter()
            .map(|&p| self.potential.value(p))
            .sum();
        self.beta * self.gradient_term(x) + v
    }

    fn energy_and_gradient(
        &self,
        x: ArrayViewD<'_, f64>,
        mut grad: ArrayViewMutD<'_, f64>,
        _ws: &mut Workspace,
    ) -> f64 {
        validate::assert_shape("phi4 gradient", self.lattice.shape(), grad.shape());
        let phi = self.slice(&x);
        let d = self.lattice.ndim();
        let (mut kin, mut pot) = (0.0, 0.0);
        for ((s, &p), g) in phi.iter().enumerate().zip(grad.iter_mut()) {
            let mut lap = 0.0;
            for mu in 0..d {
                let f = phi[self.lattice.forward(s, mu)];
                let b = phi[self.lattice.backward(s, mu)];
                kin += (f - p) * (f - p);
                lap += 2.0 * p - f - b;
            }
            pot += self.potential.value(p);
            *g = self.beta * lap + self.potential.derivative(p);
        }
        0.5 * self.beta * kin + pot
    }
}

impl LocalEnergy for Phi4 {
    fn local_energy_change(&self, x: ArrayViewD<'_, f64>, site: usize, new_value: f64) -> f64 {
        self.change_at(&self.slice(&x), site, new_value)
    }

    fn local_energy_change_flat(&self, x: &[f64], site: usize, new_value: f64) -> f64 {
        assert!(
            x.len() == self.lattice.sites(),
            "phi4 local energy change: expected shape {:?}, got a slice of shape [{}]",
            self.lattice.shape(),
            x.len()
        );
        self.change_at(x, site, new_value)
    }
}

impl Phi4 {
    /// The energy change of one site's move, on the field's values in row-major order.
    #[inline]
    fn change_at(&self, phi: &[f64], site: usize, new_value: f64) -> f64 {
        let old = phi[site];
        let mut dk = 0.0;
        for mu in 0..self.lattice.ndim() {
            let f = phi[self.lattice.forward(site, mu)];
            let b = phi[self.lattice.backward(site, mu)];
            dk += (f - new_value).powi(2) + (new_value - b).powi(2)
                - (f - old).powi(2)
                - (old - b).powi(2);
        }
        0.5 * self.beta * dk + self.potential.value(new_value) - self.potential.value(old)
    }
}
