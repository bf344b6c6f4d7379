//! Scalar potentials $\sum_u \rho_k(x(u))$ on a 1-D basis.

use ndarray::{Array2, ArrayView1, ArrayViewD, ArrayViewMut1, ArrayViewMutD};
use wcrg_core::{Error, FeatureLaplacian, Features, JacobianBlock, Result, Workspace, validate};

/// A 1-D basis $\{\rho_k\}$ of on-site functions.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub enum Basis {
    /// Monomials $\rho_k(t) = t^{p_k}$ for the listed powers $p_k \ge 1$.
    Powers(Vec<u32>),
    /// Gaussian bumps $\rho_k(t) = \exp\!\big(-(t - c_k)^2 / 2w^2\big)$ at centres $c_k$.
    Bumps {
        /// Centres $c_k$.
        centres: Vec<f64>,
        /// Common width $w > 0$.
        width: f64,
    },
    /// The bumps of [`Basis::Bumps`], then two one-sided quadratic walls beyond the outer
    /// centres, $\big((c_0 - t)_+/w\big)^2$ and $\big((t - c_{K-1})_+/w\big)^2$ ($K + 2$
    /// functions). Gaussian bumps vanish beyond the outer centres, so a potential of bumps alone
    /// is flat in the tails of the data; the walls let it confine them.
    BumpsWithWalls {
        /// Centres $c_k$, in increasing order.
        centres: Vec<f64>,
        /// Common width $w > 0$.
        width: f64,
    },
    /// Sigmoid windows $\rho_k(t) = \sigma\big((t - c_k)/w\big)$, $\sigma(z) = 1/(1+e^{-z})$.
    Sigmoids {
        /// Centres $c_k$.
        centres: Vec<f64>,
        /// Common width $w > 0$.
        width: f64,
    },
}

impl Basis {
    /// Bumps centred on the `k` quantiles $(i + \frac12)/k$ of `data`, with width the mean
    /// spacing of the centres.
    ///
    /// # Errors
    /// Empty or non-finite data, `k == 0`, or data without spread.
    pub fn bumps_on_quantiles(data: &[f64], k: usize) -> Result<Self> {
        let centres = quantiles(data, k)?;
        let width = (centres[k - 1] - centres[0]) / (k.max(2) - 1) as f64;
        if width.is_nan() || width <= 0.0 {
            return Err(Error::Singular {
                what: "quantile bumps".into(),
                detail: "the data have no spread".into(),
            });
        }
        Ok(Self::Bumps { centres, width })
    }

    /// Number of functions.
    pub fn len(&self) -> usize {
        match self {
            Self::Powers(p) => p.len(),
            Self::Bumps { centres, .. } | Self::Sigmoids { centres, .. } => centres.len(),
            Self::BumpsWithWalls { centres, .. } => centres.len() + 2,
        }
    }

    /// Whether the basis is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Checks the basis: powers of at least 1; finite centres and a finite positive width;
    /// for [`Basis::BumpsWithWalls`], at least one centre, in increasing order.
    ///
    /// # Errors
    /// The first violation, naming the parameter.
    pub fn validate(&self) -> Result<()> {
        match self {
            Self::Powers(p) if p.contains(&0) => Err(Error::InvalidParameter {
                name: "powers".into(),
                value: format!("{p:?}"),
                reason: "power 0 is a constant feature (no gradient)".into(),
            }),
            Self::Bumps { centres, width }
            | Self::Sigmoids { centres, width }
            | Self::BumpsWithWalls { centres, width } => {
                validate::finite("basis centres", centres)?;
                if matches!(self, Self::BumpsWithWalls { .. })
                    && (centres.is_empty() || centres.windows(2).any(|c| c[1] < c[0]))
                {
                    return Err(Error::InvalidParameter {
                        name: "centres".into(),
                        value: format!("{centres:?}"),
                        reason: "walls need at least one bump centre, in increasing order".into(),
                    });
                }
                if !(width.is_finite() && *width > 0.0) {
                    return Err(Error::InvalidParameter {
                        name: "width".into(),
                        value: width.to_string(),
                        reason: "must be finite and positive".into(),
                    });
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// $(\rho_k(t), \rho_k'(t), \rho_k''(t))$.
    #[inline]
    pub fn eval(&self, k: usize, t: f64) -> (f64, f64, f64) {
        match self {
            Self::Powers(p) => {
                let p = p[k] as i32;
                let pf = p as f64;
                let d1 = if p >= 1 { pf * t.powi(p - 1) } else { 0.0 };
                let d2 = if p >= 2 {
                    pf * (pf - 1.0) * t.powi(p - 2)
                } else {
                    0.0
                };
                (t.powi(p), d1, d2)
            }
            Self::BumpsWithWalls { centres, width } if k >= centres.len() => {
                // k = K: the left wall, k = K + 1: the right wall.
                let (z, sign) = if k == centres.len() {
                    ((centres[0] - t) / width, -1.0)
                } else {
                    ((t - centres[centres.len() - 1]) / width, 1.0)
                };
                if z > 0.0 {
                    (z * z, sign * 2.0 * z / width, 2.0 / (width * width))
                } else {
                    (0.0, 0.0, 0.0)
                }
            }
            Self::Bumps { centres, width } | Self::BumpsWithWalls { centres, width } => {
                let z = (t - centres[k]) / width;
                let a = -0.5 * z * z;
                // Below -746, `exp` is exactly 0, but libm reaches it by its slow underflow
                // path: answer at once (the same values, much faster far from a bump).
                if a < -746.0 {
                    return (0.0, 0.0, 0.0);
                }
                let e = a.exp();
                (e, -z / width * e, (z * z - 1.0) / (width * width) * e)
            }
            Self::Sigmoids { centres, width } => {
                let a = -(t - centres[k]) / width;
                // Where `exp` overflows to ∞ or underflows to 0 the sigmoid is exactly 0 or 1;
                // skip libm's slow paths.
                if a > 710.0 {
                    return (0.0, 0.0, 0.0);
                }
                if a < -746.0 {
                    return (1.0, 0.0, 0.0);
                }
                let s = 1.0 / (1.0 + a.exp());
                let d1 = s * (1.0 - s) / width;
                (s, d1, d1 * (1.0 - 2.0 * s) / width)
            }
        }
    }

    pub(crate) fn name(&self, k: usize) -> String {
        match self {
            Self::Powers(p) => format!("sum x^{}", p[k]),
            Self::BumpsWithWalls { centres, width } if k == centres.len() => {
                format!("sum wall(x < {:.4}; w={width:.4})", centres[0])
            }
            Self::BumpsWithWalls { centres, width } if k > centres.len() => {
                format!(
                    "sum wall(x > {:.4}; w={width:.4})",
                    centres[centres.len() - 1]
                )
            }
            Self::Bumps { centres, width } | Self::BumpsWithWalls { centres, width } => {
                format!("sum bump(x; c={:.4}, w={width:.4})", centres[k])
            }
            Self::Sigmoids { centres, width } => {
                format!("sum sigmoid(x; c={:.4}, w={width:.4})", centres[k])
            }
        }
    }
}

/// The `k` quantiles $(i + \frac12)/k$ of `data` (sorted copy, linear interpolation).
///
/// # Errors
/// Empty or non-finite data, `k == 0`.
pub fn quantiles(data: &[f64], k: usize) -> Result<Vec<f64>> {
    if data.is_empty() || k == 0 {
        return Err(Error::Empty {
            what: "data or number of quantiles".into(),
        });
    }
    validate::finite("data", data)?;
    let mut v = data.to_vec();
    v.sort_by(f64::total_cmp);
    Ok((0..k)
        .map(|i| {
            let p = (i as f64 + 0.5) / k as f64 * (v.len() - 1) as f64;
            let (lo, t) = (p.floor() as usize, p - p.floor());
            v[lo] + t * (v[(lo + 1).min(v.len() - 1)] - v[lo])
        })
        .collect())
}

/// $\Phi_k(x) = \sum_u \rho_k(x(u))$ with $\nabla\Phi_k = \rho_k'(x)$ and
/// $\Delta\Phi_k = \sum_u\rho_k''(x(u))$.
#[derive(Debug, Clone, PartialEq)]
pub struct ScalarPotential {
    shape: Vec<usize>,
    basis: Basis,
}

impl ScalarPotential {
    /// A potential on fields of shape `shape`.
    ///
    /// # Errors
    /// An empty shape or basis; an invalid basis (power 0, non-positive width, NaN centre).
    pub fn new(shape: &[usize], basis: Basis) -> Result<Self> {
        validate::non_empty("field shape", shape)?;
        if basis.is_empty() {
            return Err(Error::Empty {
                what: "basis".into(),
            });
        }
        basis.validate()?;
        Ok(Self {
            shape: shape.to_vec(),
            basis,
        })
    }

    /// The basis.
    pub fn basis(&self) -> &Basis {
        &self.basis
    }
}

impl Features for ScalarPotential {
    fn field_shape(&self) -> &[usize] {
        &self.shape
    }

    fn len(&self) -> usize {
        self.basis.len()
    }

    fn names(&self) -> Vec<String> {
        (0..self.len()).map(|k| self.basis.name(k)).collect()
    }

    fn values_into(
        &self,
        x: ArrayViewD<'_, f64>,
        mut out: ArrayViewMut1<'_, f64>,
        _ws: &mut Workspace,
    ) {
        validate::assert_shape("potential field", &self.shape, x.shape());
        validate::assert_shape("potential output", &[self.len()], out.shape());
        for (k, o) in out.iter_mut().enumerate() {
            *o = x.iter().map(|&t| self.basis.eval(k, t).0).sum();
        }
    }

    fn pullback_into(
        &self,
        x: ArrayViewD<'_, f64>,
        v: ArrayView1<'_, f64>,
        mut out: ArrayViewMutD<'_, f64>,
        _ws: &mut Workspace,
    ) {
        validate::assert_shape("potential field", &self.shape, x.shape());
        validate::assert_shape("potential pullback", &self.shape, out.shape());
        validate::assert_shape("potential weights", &[self.len()], v.shape());
        out.zip_mut_with(&x, |o, &t| {
            *o = (0..v.len()).map(|k| v[k] * self.basis.eval(k, t).1).sum()
        });
    }
}

impl FeatureLaplacian for ScalarPotential {
    fn laplacian_into(
        &self,
        x: ArrayViewD<'_, f64>,
        mut out: ArrayViewMut1<'_, f64>,
        _ws: &mut Workspace,
    ) {
        validate::assert_shape("potential field", &self.shape, x.shape());
        validate::assert_shape("potential output", &[self.len()], out.shape());
        for (k, o) in out.iter_mut().enumerate() {
            *o = x.iter().map(|&t| self.basis.eval(k, t).2).sum();
        }
    }

    fn jacobian_blocks(&self, x: ArrayViewD<'_, f64>, _ws: &mut Workspace) -> Vec<JacobianBlock> {
        validate::assert_shape("potential field", &self.shape, x.shape());
        let values: Vec<f64> = x.iter().copied().collect();
        let rows = Array2::from_shape_fn((self.len(), values.len()), |(k, u)| {
            self.basis.eval(k, values[u]).1
        });
        vec![JacobianBlock::Dense(rows)]
    }
}
