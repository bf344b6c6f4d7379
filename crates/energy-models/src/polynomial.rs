//! Polynomial on-site potentials $V(\varphi) = \sum_k c_k \varphi^k$.

use wcrg_core::{Error, Result};

/// A polynomial $V(\varphi) = \sum_{k} c_k \varphi^k$ (coefficients in increasing degree).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Polynomial {
    coeffs: Vec<f64>,
}

impl Polynomial {
    /// A polynomial from its coefficients $c_0, c_1, \ldots$ (trailing zeros are dropped).
    ///
    /// # Errors
    /// [`Error::NonFinite`] for NaN/Inf coefficients.
    pub fn new(mut coeffs: Vec<f64>) -> Result<Self> {
        wcrg_core::validate::finite("polynomial coefficients", &coeffs)?;
        while coeffs.last() == Some(&0.0) {
            coeffs.pop();
        }
        Ok(Self { coeffs })
    }

    /// The double well $\lambda(\varphi^2 - 1)^2$.
    pub fn double_well(lambda: f64) -> Result<Self> {
        Self::new(vec![lambda, 0.0, -2.0 * lambda, 0.0, lambda])
    }

    /// Coefficients, increasing degree.
    pub fn coeffs(&self) -> &[f64] {
        &self.coeffs
    }

    /// Degree (0 for the zero polynomial).
    pub fn degree(&self) -> usize {
        self.coeffs.len().saturating_sub(1)
    }

    /// Whether $V(-\varphi) = V(\varphi)$.
    pub fn is_even(&self) -> bool {
        self.coeffs.iter().skip(1).step_by(2).all(|&c| c == 0.0)
    }

    /// Whether $e^{-V}$ is integrable: even degree at least 2 and a positive leading coefficient.
    pub fn is_confining(&self) -> bool {
        let d = self.degree();
        d >= 2 && d.is_multiple_of(2) && self.coeffs[d] > 0.0
    }

    /// $V(\varphi)$ (Horner).
    #[inline]
    pub fn value(&self, x: f64) -> f64 {
        self.coeffs.iter().rev().fold(0.0, |acc, &c| acc * x + c)
    }

    /// $V'(\varphi)$.
    #[inline]
    pub fn derivative(&self, x: f64) -> f64 {
        self.coeffs
            .iter()
            .enumerate()
            .skip(1)
            .rev()
            .fold(0.0, |acc, (k, &c)| acc * x + k as f64 * c)
    }

    /// $V''(\varphi)$.
    #[inline]
    pub fn second_derivative(&self, x: f64) -> f64 {
        self.coeffs
            .iter()
            .enumerate()
            .skip(2)
            .rev()
            .fold(0.0, |acc, (k, &c)| acc * x + (k * (k - 1)) as f64 * c)
    }

    /// Checks that $e^{-V}$ is integrable.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] otherwise.
    pub fn require_confining(&self, what: &str) -> Result<()> {
        if self.is_confining() {
            Ok(())
        } else {
            Err(Error::InvalidParameter {
                name: what.into(),
                value: format!("{:?}", self.coeffs),
                reason: "the potential must have even degree >= 2 and a positive leading \
                         coefficient, otherwise exp(-U) is not normalisable"
                    .into(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_and_derivatives() {
        let p = Polynomial::double_well(2.0).unwrap();
        for x in [-1.7, -0.3, 0.0, 0.8, 2.5] {
            assert!((p.value(x) - 2.0 * (x * x - 1.0f64).powi(2)).abs() < 1e-12);
            assert!((p.derivative(x) - 8.0 * x * (x * x - 1.0)).abs() < 1e-12);
            assert!((p.second_derivative(x) - (24.0 * x * x - 8.0)).abs() < 1e-12);
        }
        assert!(p.is_even() && p.is_confining());
        assert!(!Polynomial::new(vec![0.0, 1.0, 1.0]).unwrap().is_even());
        assert!(
            !Polynomial::new(vec![0.0, 0.0, 0.0, 1.0])
                .unwrap()
                .is_confining()
        );
        assert!(
            !Polynomial::new(vec![0.0, 0.0, -1.0])
                .unwrap()
                .is_confining()
        );
        assert_eq!(Polynomial::new(vec![1.0, 0.0, 0.0]).unwrap().degree(), 0);
        assert!(Polynomial::new(vec![f64::NAN]).is_err());
    }
}
