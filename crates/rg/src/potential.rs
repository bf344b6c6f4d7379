//! A fitted on-site potential $\rho_\theta(t) = \sum_k\theta_k\rho_k(t)$, tabulated for sampling.

use serde::{Deserialize, Serialize};
use wcrg_energy_models::features::Basis;

use crate::error::{Result, RgError};

/// Number of intervals of the interpolation table.
const NODES: usize = 4096;

/// The on-site potential $\rho_\theta(t) = \sum_k \theta_k\rho_k(t)$ of a fitted model on its
/// support $[a, b]$, and $+\infty$ outside it.
///
/// The support is the range of the data the basis was fitted on, widened by one basis width:
/// outside it the fitted potential says nothing, so a sampler move that leaves it is rejected.
/// Evaluation uses a cubic Hermite table of the exact values and slopes on 4096 intervals
/// (relative interpolation error below $10^{-10}$ for the bump bases the RG uses; with
/// [`Basis::BumpsWithWalls`], within $\theta h^2/8w^2$ in the interval of spacing $h$ around
/// each wall's kink, about $10^{-7}$ of the potential's scale), so one site
/// costs a few flops whatever the number of basis functions; [`Potential::exact`] evaluates
/// the sum itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "PotentialSpec", into = "PotentialSpec")]
pub struct Potential {
    spec: PotentialSpec,
    h: f64,
    values: Vec<f64>,
    slopes: Vec<f64>,
}

/// The serialised form of a [`Potential`]: basis, coefficients and support.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PotentialSpec {
    /// The 1-D basis $\{\rho_k\}$.
    pub basis: Basis,
    /// Coefficients $\theta_k$.
    pub theta: Vec<f64>,
    /// Support $[a, b]$.
    pub support: [f64; 2],
}

impl TryFrom<PotentialSpec> for Potential {
    type Error = RgError;
    fn try_from(spec: PotentialSpec) -> Result<Self> {
        Potential::new(spec.basis, spec.theta, spec.support)
    }
}

impl From<Potential> for PotentialSpec {
    fn from(p: Potential) -> Self {
        p.spec
    }
}

impl Potential {
    /// $\sum_k\theta_k\rho_k$ on `support`.
    ///
    /// # Errors
    /// An invalid basis ([`Basis::validate`]), a number of coefficients different from the
    /// basis size, non-finite coefficients, or a support that is not a finite interval $a < b$.
    pub fn new(basis: Basis, theta: Vec<f64>, support: [f64; 2]) -> Result<Self> {
        basis.validate()?;
        if theta.len() != basis.len() {
            return Err(RgError::Mismatch(format!(
                "{} potential coefficients for a basis of {} functions",
                theta.len(),
                basis.len()
            )));
        }
        wcrg_core::validate::finite("potential coefficients", &theta)?;
        let [a, b] = support;
        if !(a.is_finite() && b.is_finite() && a < b) {
            return Err(wcrg_core::Error::InvalidParameter {
                name: "support".into(),
                value: format!("[{a}, {b}]"),
                reason: "must be a finite interval a < b".into(),
            }
            .into());
        }
        let h = (b - a) / NODES as f64;
        let mut spec = PotentialSpec {
            basis,
            theta,
            support,
        };
        let (values, slopes) = (0..=NODES).map(|i| exact(&spec, a + i as f64 * h)).unzip();
        spec.support = [a, b];
        Ok(Self {
            spec,
            h,
            values,
            slopes,
        })
    }

    /// The basis.
    pub fn basis(&self) -> &Basis {
        &self.spec.basis
    }

    /// The coefficients $\theta_k$.
    pub fn theta(&self) -> &[f64] {
        &self.spec.theta
    }

    /// The support $[a, b]$.
    pub fn support(&self) -> [f64; 2] {
        self.spec.support
    }

    /// $(\rho_\theta(t), \rho_\theta'(t))$ summed over the basis (no table), on the whole line.
    pub fn exact(&self, t: f64) -> (f64, f64) {
        exact(&self.spec, t)
    }

    /// $\rho_\theta(t)$ and $\rho_\theta'(t)$ from the table, or `None` outside the support.
    #[inline]
    pub fn eval(&self, t: f64) -> Option<(f64, f64)> {
        let [a, _] = self.spec.support;
        let z = (t - a) / self.h;
        if !(z >= 0.0 && z <= NODES as f64) {
            return None;
        }
        let i = (z as usize).min(NODES - 1);
        let s = z - i as f64;
        let (v0, v1) = (self.values[i], self.values[i + 1]);
        let (d0, d1) = (self.slopes[i] * self.h, self.slopes[i + 1] * self.h);
        let s2 = s * s;
        let s3 = s2 * s;
        let value = (2.0 * s3 - 3.0 * s2 + 1.0) * v0
            + (s3 - 2.0 * s2 + s) * d0
            + (-2.0 * s3 + 3.0 * s2) * v1
            + (s3 - s2) * d1;
        let slope = ((6.0 * s2 - 6.0 * s) * v0
            + (3.0 * s2 - 4.0 * s + 1.0) * d0
            + (-6.0 * s2 + 6.0 * s) * v1
            + (3.0 * s2 - 2.0 * s) * d1)
            / self.h;
        Some((value, slope))
    }

    /// $\rho_\theta''(t)$ summed over the basis (for Hessians), on the whole line.
    pub fn curvature(&self, t: f64) -> f64 {
        (0..self.spec.basis.len())
            .map(|k| self.spec.theta[k] * self.spec.basis.eval(k, t).2)
            .sum()
    }
}

fn exact(spec: &PotentialSpec, t: f64) -> (f64, f64) {
    (0..spec.basis.len()).fold((0.0, 0.0), |(v, d), k| {
        let (r, r1, _) = spec.basis.eval(k, t);
        (v + spec.theta[k] * r, d + spec.theta[k] * r1)
    })
}
