//! Free-energy regression: fit $\tilde F = \tilde\theta^\top\tilde\Phi(x)$ from gradient targets.

use ndarray::{Array1, Array2, ArrayViewD, Axis};
use rayon::prelude::*;
use wcrg_core::{Error, Features, Result, Workspace, dense_jacobian, validate};

use crate::score_matching::{ScoreStats, solve_preconditioned};

/// Least squares $\min_{\tilde\theta}\sum_i\|\nabla_x\tilde F(x_i) - g_i\|^2$ for
/// $\tilde F = \tilde\theta^\top\tilde\Phi$: the normal equations
/// $\big(\sum_i J_iJ_i^\top\big)\tilde\theta = \sum_i J_i g_i$.
///
/// In the WCRG, $g_i = \nabla_{x_j}\bar E_j(\bar x_j \mid x_j)$ on data, whose conditional mean
/// is $\nabla\bar F_j(x_j)$, so the regression estimates the free energy without sampling.
/// The statistics merge like [`ScoreStats`].
#[derive(Debug, Clone, PartialEq)]
pub struct GradientRegression {
    gram: ScoreStats,
    rhs: Vec<f64>,
    targets_sq: f64,
}

impl GradientRegression {
    /// Statistics of fields `x` `(N, field…)` with gradient targets `g` of the same shape.
    ///
    /// # Errors
    /// Empty or non-finite data; shapes that differ from the features' field shape or from
    /// each other.
    pub fn from_data<F: Features + ?Sized>(
        f: &F,
        x: ArrayViewD<'_, f64>,
        g: ArrayViewD<'_, f64>,
    ) -> Result<Self> {
        if x.ndim() == 0 || x.shape()[0] == 0 {
            return Err(Error::Empty {
                what: "dataset".into(),
            });
        }
        validate::shape("dataset fields", f.field_shape(), &x.shape()[1..])?;
        validate::shape("gradient targets", x.shape(), g.shape())?;
        validate::finite("dataset", x.iter())?;
        validate::finite("gradient targets", g.iter())?;
        let k = f.len();
        let parts: Vec<(Array2<f64>, Array1<f64>, f64, u64)> = x
            .axis_chunks_iter(Axis(0), 8)
            .into_par_iter()
            .zip(g.axis_chunks_iter(Axis(0), 8).into_par_iter())
            .map(|(xc, gc)| {
                let mut ws = Workspace::new();
                let (mut h, mut r, mut sq) = (Array2::zeros((k, k)), Array1::zeros(k), 0.0);
                for (xi, gi) in xc.outer_iter().zip(gc.outer_iter()) {
                    let jac = dense_jacobian(f, xi.view(), &mut ws);
                    let gv: Array1<f64> = gi.iter().copied().collect();
                    h = h + jac.dot(&jac.t());
                    r = r + jac.dot(&gv);
                    sq += gv.dot(&gv);
                }
                (h, r, sq, xc.shape()[0] as u64)
            })
            .collect();
        let (mut h, mut r, mut sq, mut n) = (Array2::zeros((k, k)), Array1::zeros(k), 0.0, 0u64);
        for (ph, pr, ps, pn) in parts {
            h = h + ph;
            r = r + pr;
            sq += ps;
            n += pn;
        }
        Ok(Self {
            gram: ScoreStats::from_parts(k, n, h, Array1::zeros(k)),
            rhs: r.to_vec(),
            targets_sq: sq,
        })
    }

    /// Adds the statistics of another part of the data.
    ///
    /// # Errors
    /// Different numbers of features.
    pub fn merge(&mut self, other: &Self) -> Result<()> {
        self.gram.merge(&other.gram)?;
        self.rhs
            .iter_mut()
            .zip(&other.rhs)
            .for_each(|(a, b)| *a += b);
        self.targets_sq += other.targets_sq;
        Ok(())
    }

    /// $\tilde\theta$ and the fraction of the targets' squared norm it explains, $R^2$.
    ///
    /// # Errors
    /// As [`crate::ScoreMatching::fit`] (singular normal equations suggest a ridge).
    pub fn fit(&self, ridge: f64) -> Result<(Array1<f64>, f64)> {
        let n = self.gram.count().max(1) as f64;
        let b: Array1<f64> = self.rhs.iter().map(|v| v / n).collect();
        let h = self.gram.hessian();
        let (theta, _) = solve_preconditioned(&h, &b, ridge, "free-energy regression")?;
        // Residual: |g|² - 2θ·r + θᵀHθ (per sample).
        let resid = self.targets_sq / n - 2.0 * theta.dot(&b) + theta.dot(&h.dot(&theta));
        let r2 = 1.0 - resid / (self.targets_sq / n).max(f64::MIN_POSITIVE);
        Ok((theta, r2))
    }
}
