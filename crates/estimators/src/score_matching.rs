//! Score matching in closed form for linear energies.

use faer::linalg::solvers::DenseSolveCore;
use faer::prelude::*;
use faer::{Mat, Side};
use ndarray::{Array1, Array2, ArrayD, ArrayView1, ArrayViewD, ArrayViewMut1, Axis, IxDyn};
use rayon::prelude::*;
use wcrg_core::{Error, FeatureLaplacian, Result, Workspace, validate};

use crate::gram::{GramScratch, add_gram, apply};

/// Samples per unit of parallel work; chunks are merged in order, so results do not depend on
/// the thread count.
const CHUNK: usize = 8;

/// Mergeable sufficient statistics of score matching: $\sum_i J_i J_i^\top$ and
/// $\sum_i \Delta_x\Phi(x_i)$ over samples $x_i$, with $J_i = \nabla_x\Phi(x_i)$ ($K\times d$).
///
/// Statistics of disjoint parts of a dataset [`ScoreStats::merge`] into those of the whole, so a
/// dataset can be streamed, split over threads or reduced across machines.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ScoreStats {
    k: usize,
    n: u64,
    /// $\sum_i J_iJ_i^\top$, row-major $K\times K$.
    h: Vec<f64>,
    /// $\sum_i \Delta\Phi(x_i)$.
    b: Vec<f64>,
}

#[derive(Default)]
struct Scratch {
    gram: GramScratch,
    lap: Vec<f64>,
    x: Vec<f64>,
}

impl ScoreStats {
    /// Empty statistics for `k` features.
    pub fn new(k: usize) -> Self {
        Self {
            k,
            n: 0,
            h: vec![0.0; k * k],
            b: vec![0.0; k],
        }
    }

    /// Adds one sample.
    ///
    /// # Panics
    /// When `x` does not have the features' field shape or `f` has another number of features.
    pub fn add<F: FeatureLaplacian + ?Sized>(
        &mut self,
        f: &F,
        x: ArrayViewD<'_, f64>,
        ws: &mut Workspace,
    ) {
        validate::assert_shape("score matching sample", f.field_shape(), x.shape());
        assert_eq!(
            f.len(),
            self.k,
            "score statistics for {} features, block has {}",
            self.k,
            f.len()
        );
        let blocks = f.jacobian_blocks(x.view(), ws);
        let Scratch {
            mut gram,
            mut lap,
            x: mut xs,
        } = std::mem::take(ws.get::<Scratch>());
        lap.resize(self.k, 0.0);
        f.laplacian_into(x.view(), ArrayViewMut1::from(&mut lap[..]), ws);
        xs.clear();
        xs.extend(x.iter().copied());
        add_gram(&blocks, &xs, f.field_shape(), &mut self.h, &mut gram);
        self.b.iter_mut().zip(&lap).for_each(|(b, l)| *b += l);
        *ws.get::<Scratch>() = Scratch { gram, lap, x: xs };
        self.n += 1;
    }

    /// Statistics of a dataset `(N, field…)`, in parallel over fixed chunks merged in order.
    ///
    /// # Errors
    /// An empty dataset, non-finite values, or fields of the wrong shape.
    pub fn from_data<F: FeatureLaplacian + ?Sized>(
        f: &F,
        data: ArrayViewD<'_, f64>,
    ) -> Result<Self> {
        check_data(f.field_shape(), &data)?;
        let parts: Vec<ScoreStats> = data
            .axis_chunks_iter(Axis(0), CHUNK)
            .into_par_iter()
            .map(|chunk| {
                let mut s = ScoreStats::new(f.len());
                let mut ws = Workspace::new();
                chunk.outer_iter().for_each(|x| s.add(f, x, &mut ws));
                s
            })
            .collect();
        let mut all = ScoreStats::new(f.len());
        for p in &parts {
            all.merge(p)?;
        }
        Ok(all)
    }

    /// Adds the statistics of another part of the data.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when the numbers of features differ.
    pub fn merge(&mut self, other: &Self) -> Result<()> {
        validate::shape("merged score statistics", &[self.k], &[other.k])?;
        self.h.iter_mut().zip(&other.h).for_each(|(a, b)| *a += b);
        self.b.iter_mut().zip(&other.b).for_each(|(a, b)| *a += b);
        self.n += other.n;
        Ok(())
    }

    /// Statistics from sums: `h` $= \sum_i J_iJ_i^\top$ and `b` $= \sum_i\Delta\Phi(x_i)$ over `n` samples.
    pub(crate) fn from_parts(k: usize, n: u64, h: Array2<f64>, b: Array1<f64>) -> Self {
        Self {
            k,
            n,
            h: h.iter().copied().collect(),
            b: b.to_vec(),
        }
    }

    /// Number of samples.
    pub fn count(&self) -> u64 {
        self.n
    }

    /// Number of features $K$.
    pub fn features(&self) -> usize {
        self.k
    }

    /// $H = \frac1N\sum_i J_iJ_i^\top$.
    pub fn hessian(&self) -> Array2<f64> {
        let n = self.n.max(1) as f64;
        Array2::from_shape_fn((self.k, self.k), |(a, c)| self.h[a * self.k + c] / n)
    }

    /// $b = \frac1N\sum_i \Delta\Phi(x_i)$.
    pub fn b(&self) -> Array1<f64> {
        let n = self.n.max(1) as f64;
        self.b.iter().map(|v| v / n).collect()
    }

    /// The score-matching loss $\frac12\theta^\top H\theta - \theta^\top b$ (up to a constant,
    /// the Fisher divergence between the data and $e^{-\theta^\top\Phi}$).
    ///
    /// # Panics
    /// When `theta` does not have $K$ entries.
    pub fn loss(&self, theta: ArrayView1<'_, f64>) -> f64 {
        assert_eq!(
            theta.len(),
            self.k,
            "theta has {} entries, expected {}",
            theta.len(),
            self.k
        );
        let h = self.hessian();
        0.5 * theta.dot(&h.dot(&theta)) - theta.dot(&self.b())
    }
}

fn check_data(shape: &[usize], data: &ArrayViewD<'_, f64>) -> Result<()> {
    if data.ndim() == 0 || data.shape()[0] == 0 {
        return Err(Error::Empty {
            what: "dataset".into(),
        });
    }
    validate::shape("dataset fields", shape, &data.shape()[1..])?;
    validate::finite("dataset", data.iter())
}

/// Settings of the score-matching solve.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct ScoreMatching {
    /// Relative ridge $\lambda$: solves $(P + \lambda I)\tilde\theta = \tilde b$ for the
    /// Jacobi-preconditioned $P = D^{-1/2} H D^{-1/2}$, $D = \operatorname{diag} H$.
    pub ridge: f64,
}

impl Default for ScoreMatching {
    fn default() -> Self {
        Self { ridge: 0.0 }
    }
}

/// A score-matching fit.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreFit {
    /// $\hat\theta$.
    pub theta: Array1<f64>,
    /// Condition number of $H$.
    pub condition_number: f64,
    /// Condition number of the Jacobi-preconditioned (and ridged) system actually solved.
    pub preconditioned_condition_number: f64,
    /// Score-matching loss on the fitted data.
    pub train_loss: f64,
    /// $(H + \lambda D)^{-1}$, for standard errors.
    h_inv: Array2<f64>,
}

impl ScoreMatching {
    /// Sets the relative ridge.
    pub fn ridge(mut self, ridge: f64) -> Self {
        self.ridge = ridge;
        self
    }

    /// $\hat\theta = H^{-1} b$ from the statistics.
    ///
    /// # Errors
    /// No samples; a negative or non-finite ridge; a feature with zero gradient on the data
    /// (zero diagonal of $H$); an $H$ that is not positive definite ([`Error::Singular`], with a
    /// suggestion to add a ridge).
    pub fn fit(&self, stats: &ScoreStats) -> Result<ScoreFit> {
        if stats.count() == 0 {
            return Err(Error::Empty {
                what: "score statistics (no samples)".into(),
            });
        }
        if !(self.ridge.is_finite() && self.ridge >= 0.0) {
            return Err(Error::InvalidParameter {
                name: "ridge".into(),
                value: self.ridge.to_string(),
                reason: "must be finite and non-negative".into(),
            });
        }
        let (theta, solve) =
            solve_preconditioned(&stats.hessian(), &stats.b(), self.ridge, "score matching")?;
        let train_loss = stats.loss(theta.view());
        Ok(ScoreFit {
            theta,
            condition_number: solve.condition_number,
            preconditioned_condition_number: solve.preconditioned_condition_number,
            train_loss,
            h_inv: solve.h_inv,
        })
    }

    /// Statistics, fit and standard errors of a dataset `(N, field…)` in two passes.
    ///
    /// # Errors
    /// As [`ScoreStats::from_data`] and [`ScoreMatching::fit`].
    pub fn fit_data<F: FeatureLaplacian + ?Sized>(
        &self,
        f: &F,
        data: ArrayViewD<'_, f64>,
    ) -> Result<(ScoreFit, Array1<f64>)> {
        let stats = ScoreStats::from_data(f, data.view())?;
        let fit = self.fit(&stats)?;
        let se = fit.standard_errors(f, data)?;
        Ok((fit, se))
    }
}

/// What a preconditioned solve reports besides the solution.
pub(crate) struct SolveReport {
    pub(crate) condition_number: f64,
    pub(crate) preconditioned_condition_number: f64,
    pub(crate) h_inv: Array2<f64>,
}

/// Solves $H\theta = b$ with Jacobi preconditioning, a relative ridge and Cholesky.
pub(crate) fn solve_preconditioned(
    h: &Array2<f64>,
    b: &Array1<f64>,
    ridge: f64,
    what: &str,
) -> Result<(Array1<f64>, SolveReport)> {
    let k = b.len();
    validate::finite(&format!("{what} matrix"), h.iter())?;
    validate::finite(&format!("{what} right-hand side"), b.iter())?;
    if let Some(a) = (0..k).find(|&a| h[[a, a]] <= 0.0) {
        return Err(Error::Singular {
            what: what.into(),
            detail: format!(
                "feature {a} has zero gradient on the data (H[{a},{a}] = 0); remove it"
            ),
        });
    }
    let scale: Vec<f64> = (0..k).map(|a| 1.0 / h[[a, a]].sqrt()).collect();
    let p = Mat::<f64>::from_fn(k, k, |a, c| {
        h[[a, c]] * scale[a] * scale[c] + if a == c { ridge } else { 0.0 }
    });
    let raw = Mat::<f64>::from_fn(k, k, |a, c| h[[a, c]]);
    let cond = |m: &Mat<f64>| -> f64 {
        match m.self_adjoint_eigenvalues(Side::Lower) {
            Ok(ev) => {
                let (lo, hi) = ev.iter().fold((f64::INFINITY, 0.0f64), |(l, u), &e| {
                    (l.min(e), u.max(e.abs()))
                });
                if lo > 0.0 { hi / lo } else { f64::INFINITY }
            }
            Err(_) => f64::NAN,
        }
    };
    let (condition_number, preconditioned_condition_number) = (cond(&raw), cond(&p));
    let llt = p.llt(Side::Lower).map_err(|_| Error::Singular {
        what: what.into(),
        detail: format!(
            "the matrix is not positive definite (condition number {condition_number:.3e}): features are \
             linearly dependent on these data; add a ridge (e.g. 1e-8)"
        ),
    })?;
    let rhs = Mat::<f64>::from_fn(k, 1, |a, _| b[a] * scale[a]);
    let sol = llt.solve(&rhs);
    let theta: Array1<f64> = (0..k).map(|a| sol[(a, 0)] * scale[a]).collect();
    let pinv = llt.inverse();
    let h_inv = Array2::from_shape_fn((k, k), |(a, c)| pinv[(a, c)] * scale[a] * scale[c]);
    Ok((
        theta,
        SolveReport {
            condition_number,
            preconditioned_condition_number,
            h_inv,
        },
    ))
}

impl ScoreFit {
    /// Sandwich standard errors of $\hat\theta$ over independent samples:
    /// $\operatorname{Cov}\hat\theta \approx H^{-1} V H^{-1}/N$ with $V = \frac1N\sum_i\psi_i\psi_i^\top$,
    /// $\psi_i = J_iJ_i^\top\hat\theta - \Delta\Phi(x_i)$ (a second pass over the data).
    ///
    /// # Errors
    /// As [`ScoreStats::from_data`]; fewer than 2 samples.
    pub fn standard_errors<F: FeatureLaplacian + ?Sized>(
        &self,
        f: &F,
        data: ArrayViewD<'_, f64>,
    ) -> Result<Array1<f64>> {
        check_data(f.field_shape(), &data)?;
        let n = data.shape()[0];
        if n < 2 {
            return Err(Error::Empty {
                what: "dataset of fewer than 2 samples".into(),
            });
        }
        let k = self.theta.len();
        let parts: Vec<Array2<f64>> = data
            .axis_chunks_iter(Axis(0), CHUNK)
            .into_par_iter()
            .map(|chunk| {
                let mut ws = Workspace::new();
                let mut v = Array2::zeros((k, k));
                let mut sc = GramScratch::default();
                let mut g = ArrayD::zeros(IxDyn(f.field_shape()));
                let mut lap = Array1::zeros(k);
                for x in chunk.outer_iter() {
                    // psi = J (Jᵀθ) − ΔΦ, with Jᵀθ the pullback of θ.
                    f.pullback_into(x.view(), self.theta.view(), g.view_mut(), &mut ws);
                    f.laplacian_into(x.view(), lap.view_mut(), &mut ws);
                    let blocks = f.jacobian_blocks(x.view(), &mut ws);
                    let xs: Vec<f64> = x.iter().copied().collect();
                    let gs: Vec<f64> = g.iter().copied().collect();
                    let jg = apply(&blocks, &xs, f.field_shape(), &gs, &mut sc);
                    let psi: Vec<f64> = jg.iter().zip(lap.iter()).map(|(a, b)| a - b).collect();
                    for a in 0..k {
                        for c in 0..k {
                            v[[a, c]] += psi[a] * psi[c];
                        }
                    }
                }
                v
            })
            .collect();
        let v = parts
            .into_iter()
            .fold(Array2::zeros((k, k)), |acc, p| acc + p)
            / n as f64;
        let cov = self.h_inv.dot(&v).dot(&self.h_inv) / n as f64;
        Ok(cov.diag().mapv(|c| c.max(0.0).sqrt()))
    }

    /// The score-matching loss of the fit on other (held-out) statistics.
    ///
    /// # Panics
    /// When `held_out` has another number of features.
    pub fn held_out_loss(&self, held_out: &ScoreStats) -> f64 {
        held_out.loss(self.theta.view())
    }
}
