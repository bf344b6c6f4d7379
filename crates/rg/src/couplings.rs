//! Fitted quadratic couplings between the channels of a periodic 2-D field, as stencils.

use std::sync::Arc;

use rustfft::num_complex::Complex64;
use rustfft::{Fft, FftPlanner};
use serde::{Deserialize, Serialize};

use crate::error::{Result, RgError};

/// One fitted coupling $\theta\cdot\frac12\sum_u x_c(u)\,x_d(u - s)$ (periodic).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Coupling {
    /// First channel $c$.
    pub c: usize,
    /// Second channel $d$.
    pub d: usize,
    /// Shift $s = (s_y, s_x)$.
    pub shift: [isize; 2],
    /// Coefficient $\theta$.
    pub theta: f64,
}

/// The serialised form of [`Couplings`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CouplingsSpec {
    /// Which channels are free (the others condition).
    pub free: Vec<bool>,
    /// Spatial shape `(ny, nx)`.
    pub spatial: [usize; 2],
    /// The couplings.
    pub couplings: Vec<Coupling>,
}

/// One stencil term: `g_target(u) += w · x_source(u + shift)`.
#[derive(Debug, Clone, PartialEq)]
struct Term {
    target: usize,
    source: usize,
    dy: isize,
    dx: isize,
    w: f64,
}

/// The quadratic part $\sum\theta\cdot\frac12\sum_u x_c(u)x_d(u-s)$ of an energy on a
/// `(C, ny, nx)` field with some conditioning channels, evaluated as periodic stencils.
///
/// Pairs of two conditioning channels are constant for a conditional law and are not allowed.
/// The gradient with respect to the free channels splits into the part linear in the free
/// channels, $g^{ff}$, and the part linear in the conditioning ones, $g^{fc}$, and the energy is
/// $\sum_{t\ \text{free}}\langle x_t, \tfrac12 g^{ff}_t + g^{fc}_t\rangle$.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "CouplingsSpec", into = "CouplingsSpec")]
pub struct Couplings {
    spec: CouplingsSpec,
    terms: Vec<Term>,
    /// The free–free block as a dense symmetric matrix (column-major), where that is faster
    /// than the stencils: see [`dense_form`].
    dense: Option<Vec<f64>>,
    /// The free–free block as a circular convolution applied by FFT, where the dense matrix no
    /// longer fits a core's cache: see [`Circulant::of`].
    circulant: Option<Circulant>,
}

/// A one-channel, all-free quadratic form $K$ applied as a circular convolution by FFT:
/// $(Kx)(u) = \sum w\,x(u + \delta) = (\rho \circledast x)(u)$ with
/// $\rho(-\delta) = \sum w$ over the stencil terms of shift $\delta$, so
/// $\widehat{Kx} = \hat\rho\,\hat x$. Rows are transformed, the field transposed, and its rows
/// (the columns) transformed again; $\hat\rho$ is kept in that transposed layout.
#[derive(Clone)]
struct Circulant {
    ny: usize,
    nx: usize,
    /// $\hat\rho / (n_y n_x)$, transposed (`[kx][ky]`).
    spectrum: Vec<Complex64>,
    /// Forward and inverse transforms of the rows (`nx`) and of the columns (`ny`).
    plans: [Arc<dyn Fft<f64>>; 4],
}

impl std::fmt::Debug for Circulant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Circulant")
            .field("ny", &self.ny)
            .field("nx", &self.nx)
            .finish_non_exhaustive()
    }
}

impl PartialEq for Circulant {
    fn eq(&self, other: &Self) -> bool {
        self.ny == other.ny && self.nx == other.nx && self.spectrum == other.spectrum
    }
}

thread_local! {
    /// The field's spectrum, a transposition buffer and the transforms' scratch.
    static FFT_SCRATCH: std::cell::RefCell<[Vec<Complex64>; 3]> =
        const { std::cell::RefCell::new([Vec::new(), Vec::new(), Vec::new()]) };
}

impl Circulant {
    /// The FFT form of one free channel's couplings on at least [`DENSE_MAX`] sites (where the
    /// dense matrix spills out of a core's cache; measured by the crate's bench on 16 × 16
    /// fields), when there are at least a quarter as many stencil terms as sites.
    fn of(free: &[bool], spatial: [usize; 2], terms: &[Term]) -> Option<Self> {
        let [ny, nx] = spatial;
        let plane = ny * nx;
        if free != [true] || plane < DENSE_MAX || terms.len() * 4 < plane {
            return None;
        }
        let mut planner = FftPlanner::new();
        let plans = [
            planner.plan_fft_forward(nx),
            planner.plan_fft_inverse(nx),
            planner.plan_fft_forward(ny),
            planner.plan_fft_inverse(ny),
        ];
        let mut rho = vec![Complex64::new(0.0, 0.0); plane];
        for t in terms {
            // ρ(−δ) collects w of the term with shift δ.
            let (dy, dx) = (t.dy as usize, t.dx as usize);
            rho[((ny - dy) % ny) * nx + (nx - dx) % nx].re += t.w;
        }
        let mut c = Self {
            ny,
            nx,
            spectrum: Vec::new(),
            plans,
        };
        let mut spectrum = vec![Complex64::new(0.0, 0.0); plane];
        let mut scratch = Vec::new();
        c.forward(&mut rho, &mut spectrum, &mut scratch);
        let scale = 1.0 / plane as f64;
        spectrum.iter_mut().for_each(|v| *v *= scale);
        c.spectrum = spectrum;
        Some(c)
    }

    /// 2-D forward transform of `x` (`[y][x]`, overwritten) into `out` (`[kx][ky]`).
    fn forward(&self, x: &mut [Complex64], out: &mut [Complex64], scratch: &mut Vec<Complex64>) {
        self.pass([0, 2], [self.ny, self.nx], x, out, scratch);
    }

    /// A 2-D transform in two passes: the rows of the row-major `x` (`rows × cols`, overwritten)
    /// by `plans[first]`, then, transposed into `out`, its columns by `plans[second]`.
    fn pass(
        &self,
        [first, second]: [usize; 2],
        [rows, cols]: [usize; 2],
        x: &mut [Complex64],
        out: &mut [Complex64],
        scratch: &mut Vec<Complex64>,
    ) {
        let need = self.plans[first]
            .get_inplace_scratch_len()
            .max(self.plans[second].get_inplace_scratch_len());
        scratch.resize(need, Complex64::new(0.0, 0.0));
        self.plans[first].process_with_scratch(x, scratch);
        for i in 0..rows {
            for j in 0..cols {
                out[j * rows + i] = x[i * cols + j];
            }
        }
        self.plans[second].process_with_scratch(out, scratch);
    }

    /// `out = K x` for real `x` (both `ny · nx` values).
    fn apply(&self, x: &[f64], out: &mut [f64]) {
        let (ny, nx) = (self.ny, self.nx);
        let plane = ny * nx;
        FFT_SCRATCH.with(|cell| {
            let mut bufs = cell.borrow_mut();
            let [a, b, scratch] = &mut *bufs;
            a.clear();
            a.extend(x.iter().map(|&v| Complex64::new(v, 0.0)));
            b.resize(plane, Complex64::new(0.0, 0.0));
            self.forward(a, b, scratch);
            b.iter_mut().zip(&self.spectrum).for_each(|(v, s)| *v *= s);
            // The inverse: columns first (`b` is `[kx][ky]`), back to `[y][x]` in `a`.
            self.pass([3, 1], [nx, ny], b, a, scratch);
            out.iter_mut().zip(a.iter()).for_each(|(o, v)| *o = v.re);
        });
    }
}

/// Fields of at most this many values, with every channel free, whose couplings have at least
/// a quarter as many stencil terms as sites, apply their quadratic form as a dense
/// matrix–vector product (SIMD, 2.4–3 times faster than the stencils on the coarsest field's
/// all-pairs couplings of 8 × 8 sites, measured by the crate's bench). A single free channel of
/// this many sites or more (a 512 KiB matrix at 16 × 16, which no longer stays in a core's
/// cache) applies by FFT instead ([`Circulant`]): 3.8 µs against 24 µs dense for the energy and
/// gradient on 16 × 16 sites (the crate's bench, 2-core VM).
const DENSE_MAX: usize = 256;

/// The dense matrix $K$ of the quadratic form, $(Kx)_{t,u} = \sum w\,x_s(u + \delta)$ over the
/// stencil terms, when every channel is free and the form is dense enough to gain from it.
fn dense_form(free: &[bool], spatial: [usize; 2], terms: &[Term]) -> Option<Vec<f64>> {
    let [ny, nx] = spatial;
    let plane = ny * nx;
    let n = free.len() * plane;
    if !free.iter().all(|&f| f) || n > DENSE_MAX || terms.len() * 4 < plane {
        // (A single free channel of DENSE_MAX sites goes to `Circulant::of` first.)
        return None;
    }
    let mut k = vec![0.0; n * n];
    for t in terms {
        let (dy, dx) = (t.dy as usize, t.dx as usize);
        for i in 0..ny {
            for j in 0..nx {
                let row = t.target * plane + i * nx + j;
                let col = t.source * plane + ((i + dy) % ny) * nx + (j + dx) % nx;
                k[col * n + row] += t.w;
            }
        }
    }
    Some(k)
}

/// `out = K v` for the dense column-major `k` of [`dense_form`].
fn dense_apply(k: &[f64], v: &[f64], out: &mut [f64]) {
    let n = v.len();
    let lhs = faer::MatRef::from_column_major_slice(k, n, n);
    let rhs = faer::MatRef::from_column_major_slice(v, n, 1);
    let dst = faer::MatMut::from_column_major_slice_mut(out, n, 1);
    faer::linalg::matmul::matmul(dst, faer::Accum::Replace, lhs, rhs, 1.0, faer::Par::Seq);
}

impl TryFrom<CouplingsSpec> for Couplings {
    type Error = RgError;
    fn try_from(spec: CouplingsSpec) -> Result<Self> {
        Couplings::new(spec.free, spec.spatial, spec.couplings)
    }
}

impl From<Couplings> for CouplingsSpec {
    fn from(c: Couplings) -> Self {
        c.spec
    }
}

impl Couplings {
    /// Couplings on `(free.len(), spatial…)` fields.
    ///
    /// # Errors
    /// A channel index out of range, a coupling between two conditioning channels, a
    /// non-finite coefficient, an empty spatial size.
    pub fn new(free: Vec<bool>, spatial: [usize; 2], couplings: Vec<Coupling>) -> Result<Self> {
        if spatial.contains(&0) || free.is_empty() {
            return Err(RgError::Mismatch(format!(
                "couplings on {} channels of {spatial:?} sites",
                free.len()
            )));
        }
        let mut terms: Vec<Term> = Vec::new();
        for cp in &couplings {
            if cp.c >= free.len() || cp.d >= free.len() {
                return Err(RgError::Mismatch(format!(
                    "coupling between channels {} and {} of a {}-channel field",
                    cp.c,
                    cp.d,
                    free.len()
                )));
            }
            if !free[cp.c] && !free[cp.d] {
                return Err(RgError::Mismatch(format!(
                    "coupling between the conditioning channels {} and {}",
                    cp.c, cp.d
                )));
            }
            if !cp.theta.is_finite() {
                return Err(wcrg_core::Error::NonFinite {
                    what: "coupling coefficients".into(),
                    index: 0,
                    value: cp.theta,
                }
                .into());
            }
            // d/dx_c(u) = ½θ x_d(u − s); d/dx_d(u) = ½θ x_c(u + s).
            let [sy, sx] = cp.shift;
            let mut push = |target: usize, source: usize, dy: isize, dx: isize| {
                let (dy, dx) = (
                    dy.rem_euclid(spatial[0] as isize),
                    dx.rem_euclid(spatial[1] as isize),
                );
                match terms
                    .iter_mut()
                    .find(|t| t.target == target && t.source == source && t.dy == dy && t.dx == dx)
                {
                    Some(t) => t.w += 0.5 * cp.theta,
                    None => terms.push(Term {
                        target,
                        source,
                        dy,
                        dx,
                        w: 0.5 * cp.theta,
                    }),
                }
            };
            push(cp.c, cp.d, -sy, -sx);
            push(cp.d, cp.c, sy, sx);
        }
        terms.retain(|t| free[t.target] && t.w != 0.0);
        terms.sort_by_key(|t| (t.target, t.source, t.dy, t.dx));
        let circulant = Circulant::of(&free, spatial, &terms);
        let dense = match circulant {
            Some(_) => None,
            None => dense_form(&free, spatial, &terms),
        };
        Ok(Self {
            spec: CouplingsSpec {
                free,
                spatial,
                couplings,
            },
            terms,
            dense,
            circulant,
        })
    }

    /// The couplings.
    pub fn list(&self) -> &[Coupling] {
        &self.spec.couplings
    }

    /// Which channels are free.
    pub fn free(&self) -> &[bool] {
        &self.spec.free
    }

    /// Spatial shape.
    pub fn spatial(&self) -> [usize; 2] {
        self.spec.spatial
    }

    /// The stencil terms whose source channel is free, as `(target, source, dy, dx, w)`:
    /// the free–free block $K$ of the quadratic form acts as
    /// `(K x)_target(u) += w · x_source(u + (dy, dx))` (shifts reduced to `0 ≤ dy < ny`,
    /// `0 ≤ dx < nx`).
    pub(crate) fn free_terms(
        &self,
    ) -> impl Iterator<Item = (usize, usize, usize, usize, f64)> + '_ {
        self.terms
            .iter()
            .filter(|t| self.spec.free[t.source])
            .map(|t| (t.target, t.source, t.dy as usize, t.dx as usize, t.w))
    }

    /// Energy of the couplings and, into `grad` (same layout as `x`, `(C, ny, nx)` row-major),
    /// its gradient with respect to the free channels (conditioning channels of `grad` are set
    /// to 0). `scratch` is resized as needed.
    ///
    /// # Panics
    /// When `x` or `grad` do not have `C·ny·nx` values.
    pub fn energy_and_gradient(&self, x: &[f64], grad: &mut [f64], scratch: &mut Vec<f64>) -> f64 {
        let [ny, nx] = self.spec.spatial;
        let plane = ny * nx;
        let c = self.spec.free.len();
        assert_eq!(
            x.len(),
            c * plane,
            "couplings field: expected {c}x{ny}x{nx} values"
        );
        assert_eq!(
            grad.len(),
            c * plane,
            "couplings gradient: expected {c}x{ny}x{nx} values"
        );
        if self.apply_matrix(x, grad) {
            // Every channel is free: the energy is ½ xᵀKx.
            return 0.5 * x.iter().zip(grad.iter()).map(|(a, b)| a * b).sum::<f64>();
        }
        // grad holds g^{ff} (free sources), scratch g^{fc} (conditioning sources).
        grad.fill(0.0);
        scratch.clear();
        scratch.resize(c * plane, 0.0);
        for t in &self.terms {
            let src = &x[t.source * plane..(t.source + 1) * plane];
            let dst = if self.spec.free[t.source] {
                &mut grad[t.target * plane..(t.target + 1) * plane]
            } else {
                &mut scratch[t.target * plane..(t.target + 1) * plane]
            };
            shifted_axpy(dst, src, ny, nx, t.dy as usize, t.dx as usize, t.w);
        }
        let mut e = 0.0;
        for ch in (0..c).filter(|&ch| self.spec.free[ch]) {
            let r = ch * plane..(ch + 1) * plane;
            for ((&xv, g), &h) in x[r.clone()]
                .iter()
                .zip(&mut grad[r.clone()])
                .zip(&scratch[r])
            {
                e += xv * (0.5 * *g + h);
                *g += h;
            }
        }
        e
    }

    /// Gradient of the couplings with respect to every channel, conditioning ones included
    /// (what the free-energy regression and the microscopic energy need), into `grad`.
    ///
    /// # Panics
    /// When `x` or `grad` do not have `C·ny·nx` values.
    pub fn full_gradient(&self, x: &[f64], grad: &mut [f64]) {
        let [ny, nx] = self.spec.spatial;
        let plane = ny * nx;
        let c = self.spec.free.len();
        assert_eq!(
            x.len(),
            c * plane,
            "couplings field: expected {c}x{ny}x{nx} values"
        );
        assert_eq!(
            grad.len(),
            c * plane,
            "couplings gradient: expected {c}x{ny}x{nx} values"
        );
        grad.fill(0.0);
        for cp in &self.spec.couplings {
            let [sy, sx] = cp.shift;
            let (ry, rx) = (ny as isize, nx as isize);
            for (target, source, dy, dx) in [(cp.c, cp.d, -sy, -sx), (cp.d, cp.c, sy, sx)] {
                let src = &x[source * plane..(source + 1) * plane];
                let (dy, dx) = (dy.rem_euclid(ry) as usize, dx.rem_euclid(rx) as usize);
                let dst = &mut grad[target * plane..(target + 1) * plane];
                shifted_axpy(dst, src, ny, nx, dy, dx, 0.5 * cp.theta);
            }
        }
    }

    /// `out = K v` by the dense matrix or the FFT when one of them applies (every channel free);
    /// `false`, with `out` untouched, when the stencils must be used.
    fn apply_matrix(&self, v: &[f64], out: &mut [f64]) -> bool {
        if let Some(k) = &self.dense {
            dense_apply(k, v, out);
        } else if let Some(k) = &self.circulant {
            k.apply(v, out);
        } else {
            return false;
        }
        true
    }

    /// $\nabla^2$ of the couplings applied to `v` on the free channels: `out = K v`
    /// (conditioning channels of `v` are ignored and those of `out` set to 0).
    ///
    /// # Panics
    /// When `v` or `out` do not have `C·ny·nx` values.
    pub fn hessian_apply(&self, v: &[f64], out: &mut [f64]) {
        let [ny, nx] = self.spec.spatial;
        let plane = ny * nx;
        if self.apply_matrix(v, out) {
            return;
        }
        out.fill(0.0);
        for t in self.terms.iter().filter(|t| self.spec.free[t.source]) {
            let src = &v[t.source * plane..(t.source + 1) * plane];
            let dst = &mut out[t.target * plane..(t.target + 1) * plane];
            shifted_axpy(dst, src, ny, nx, t.dy as usize, t.dx as usize, t.w);
        }
    }
}

/// `dst(i, j) += w · src((i + dy) mod ny, (j + dx) mod nx)` with `0 ≤ dy < ny`, `0 ≤ dx < nx`.
fn shifted_axpy(dst: &mut [f64], src: &[f64], ny: usize, nx: usize, dy: usize, dx: usize, w: f64) {
    for i in 0..ny {
        let si = (i + dy) % ny;
        let s = &src[si * nx..(si + 1) * nx];
        let d = &mut dst[i * nx..(i + 1) * nx];
        let (head, tail) = d.split_at_mut(nx - dx);
        head.iter_mut().zip(&s[dx..]).for_each(|(o, v)| *o += w * v);
        tail.iter_mut().zip(&s[..dx]).for_each(|(o, v)| *o += w * v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The quadratic form $\sum\theta\frac12\sum_u x_c(u)x_d(u - s)$ by its definition.
    fn naive(spec: &CouplingsSpec, x: &[f64]) -> f64 {
        let [ny, nx] = spec.spatial;
        let at = |c: usize, i: isize, j: isize| {
            let (i, j) = (
                i.rem_euclid(ny as isize) as usize,
                j.rem_euclid(nx as isize) as usize,
            );
            x[c * ny * nx + i * nx + j]
        };
        let mut e = 0.0;
        for cp in &spec.couplings {
            for i in 0..ny as isize {
                for j in 0..nx as isize {
                    e += 0.5
                        * cp.theta
                        * at(cp.c, i, j)
                        * at(cp.d, i - cp.shift[0], j - cp.shift[1]);
                }
            }
        }
        e
    }

    /// Every shift (the coarsest field's all-pairs couplings) and a few shifts, on square and
    /// non-square grids: energy against the definition, gradient and Hessian against central
    /// differences of it.
    #[test]
    fn stencils_equal_the_definition() {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let mut next = || rng.random::<f64>() - 0.5;
        // (rows, columns, every shift)
        for (ny, nx, all) in [
            (16, 16, true),
            (12, 24, true),
            (16, 16, false),
            (6, 10, true),
            (32, 32, true),
            (15, 17, true),
        ] {
            let shifts: Vec<[isize; 2]> = if all {
                (0..ny as isize)
                    .flat_map(|a| (0..nx as isize).map(move |b| [a, b]))
                    .collect()
            } else {
                vec![[0, 0], [1, 0], [0, 1], [1, -1]]
            };
            let couplings: Vec<Coupling> = shifts
                .iter()
                .map(|&shift| Coupling {
                    c: 0,
                    d: 0,
                    shift,
                    theta: next(),
                })
                .collect();
            let cp = Couplings::new(vec![true], [ny, nx], couplings).unwrap();
            let x: Vec<f64> = (0..ny * nx).map(|_| next()).collect();
            let (mut g, mut s) = (vec![0.0; ny * nx], Vec::new());
            let e = cp.energy_and_gradient(&x, &mut g, &mut s);
            let want = naive(&cp.spec, &x);
            // The dense form or the FFT where they apply, and the stencils, agree to rounding.
            let mut stencil = cp.clone();
            assert_eq!(stencil.dense.is_some(), all && ny * nx < DENSE_MAX);
            assert_eq!(stencil.circulant.is_some(), all && ny * nx >= DENSE_MAX);
            stencil.dense = None;
            stencil.circulant = None;
            let (mut gs, mut hs, mut hd) =
                (vec![0.0; ny * nx], vec![0.0; ny * nx], vec![0.0; ny * nx]);
            let es = stencil.energy_and_gradient(&x, &mut gs, &mut s);
            stencil.hessian_apply(&x, &mut hs);
            cp.hessian_apply(&x, &mut hd);
            assert!((e - es).abs() < 1e-12 * es.abs().max(1.0), "{e} vs {es}");
            for u in 0..ny * nx {
                assert!((g[u] - gs[u]).abs() < 1e-12 && (hd[u] - hs[u]).abs() < 1e-12);
                assert_eq!(gs[u], hs[u], "the stencil gradient is K x");
            }
            assert!(
                (e - want).abs() < 1e-12 * want.abs().max(1.0),
                "{e} vs {want}"
            );
            let h = 1e-6;
            let mut hv = vec![0.0; ny * nx];
            let v: Vec<f64> = (0..ny * nx).map(|_| next()).collect();
            cp.hessian_apply(&v, &mut hv);
            for u in [0, 1, nx, ny * nx - 1] {
                let (mut xp, mut xm) = (x.clone(), x.clone());
                xp[u] += h;
                xm[u] -= h;
                let fd = (naive(&cp.spec, &xp) - naive(&cp.spec, &xm)) / (2.0 * h);
                assert!(
                    (fd - g[u]).abs() < 1e-7,
                    "{ny}x{nx} site {u}: {fd} vs {}",
                    g[u]
                );
                // (K v)_u as the derivative of the gradient along v.
                let xv: Vec<f64> = x.iter().zip(&v).map(|(a, b)| a + h * b).collect();
                let xw: Vec<f64> = x.iter().zip(&v).map(|(a, b)| a - h * b).collect();
                let (mut gp, mut gm) = (vec![0.0; ny * nx], vec![0.0; ny * nx]);
                cp.energy_and_gradient(&xv, &mut gp, &mut s);
                cp.energy_and_gradient(&xw, &mut gm, &mut s);
                let fd = (gp[u] - gm[u]) / (2.0 * h);
                assert!(
                    (fd - hv[u]).abs() < 1e-7,
                    "{ny}x{nx} Hv at {u}: {fd} vs {}",
                    hv[u]
                );
            }
        }
    }
}
