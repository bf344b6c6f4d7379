//! Fourier-domain helpers: 1-D and 2-D complex FFT plans (NumPy conventions, the inverse divided
//! by the number of points like `numpy.fft.ifft2`), and the "multiply by a filter, then
//! periodise" step that subsamples a signal while it is in Fourier.

use rustfft::num_complex::Complex64;
use rustfft::{Fft, FftPlanner};
use std::sync::Arc;

/// Zero.
pub(crate) const ZERO: Complex64 = Complex64 { re: 0.0, im: 0.0 };

/// Forward and inverse 2-D FFT of an `m × n` row-major buffer.
#[derive(Clone)]
pub(crate) struct Fft2 {
    pub m: usize,
    pub n: usize,
    row_f: Arc<dyn Fft<f64>>,
    row_i: Arc<dyn Fft<f64>>,
    col_f: Arc<dyn Fft<f64>>,
    col_i: Arc<dyn Fft<f64>>,
}

impl std::fmt::Debug for Fft2 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Fft2({}x{})", self.m, self.n)
    }
}

impl Fft2 {
    pub fn new(planner: &mut FftPlanner<f64>, m: usize, n: usize) -> Self {
        Self {
            m,
            n,
            row_f: planner.plan_fft_forward(n),
            row_i: planner.plan_fft_inverse(n),
            col_f: planner.plan_fft_forward(m),
            col_i: planner.plan_fft_inverse(m),
        }
    }

    /// Scratch length needed by [`Fft2::run`].
    pub fn scratch_len(&self) -> usize {
        let s = [&self.row_f, &self.row_i, &self.col_f, &self.col_i]
            .iter()
            .map(|p| p.get_inplace_scratch_len())
            .max()
            .unwrap_or(0);
        s + self.m * self.n
    }

    /// In-place transform; the inverse is divided by `m n` (NumPy's `ifft2`).
    pub fn run(&self, data: &mut [Complex64], inverse: bool, scratch: &mut Vec<Complex64>) {
        let (m, n) = (self.m, self.n);
        debug_assert_eq!(data.len(), m * n);
        let need = self.scratch_len();
        if scratch.len() < need {
            scratch.resize(need, ZERO);
        }
        let (tmp, fft_scratch) = scratch.split_at_mut(m * n);
        let (row, col) = if inverse {
            (&self.row_i, &self.col_i)
        } else {
            (&self.row_f, &self.col_f)
        };
        if n > 1 {
            row.process_with_scratch(data, fft_scratch);
        }
        if m > 1 {
            transpose(data, tmp, m, n);
            col.process_with_scratch(tmp, fft_scratch);
            transpose(tmp, data, n, m);
        }
        if inverse {
            let s = 1.0 / (m * n) as f64;
            for v in data.iter_mut() {
                *v *= s;
            }
        }
    }
}

impl Fft2 {
    /// Forward transform of the `m × n` spatial buffer, leaving its Fourier transform
    /// *transposed* (`n × m`, frequency of the columns first): one transpose instead of two.
    pub fn forward_t(&self, data: &mut [Complex64], scratch: &mut Vec<Complex64>) {
        let (m, n) = (self.m, self.n);
        let need = self.scratch_len();
        if scratch.len() < need {
            scratch.resize(need, ZERO);
        }
        let (tmp, fft_scratch) = scratch.split_at_mut(m * n);
        if n > 1 {
            self.row_f.process_with_scratch(data, fft_scratch);
        }
        transpose(data, tmp, m, n);
        if m > 1 {
            self.col_f.process_with_scratch(tmp, fft_scratch);
        }
        data.copy_from_slice(tmp);
    }

    /// Inverse of [`Fft2::forward_t`]: from a transposed (`n × m`) Fourier buffer to the
    /// `m × n` spatial buffer, divided by `m n`.
    pub fn inverse_t(&self, data: &mut [Complex64], scratch: &mut Vec<Complex64>) {
        let (m, n) = (self.m, self.n);
        let need = self.scratch_len();
        if scratch.len() < need {
            scratch.resize(need, ZERO);
        }
        let (tmp, fft_scratch) = scratch.split_at_mut(m * n);
        if m > 1 {
            self.col_i.process_with_scratch(data, fft_scratch);
        }
        transpose(data, tmp, n, m);
        if n > 1 {
            self.row_i.process_with_scratch(tmp, fft_scratch);
        }
        let s = 1.0 / (m * n) as f64;
        for (d, t) in data.iter_mut().zip(tmp.iter()) {
            *d = t * s;
        }
    }
}

/// `dst (n × m) = srcᵀ` for `src` of shape `m × n`, by 16 × 16 tiles.
fn transpose(src: &[Complex64], dst: &mut [Complex64], m: usize, n: usize) {
    const T: usize = 16;
    for i0 in (0..m).step_by(T) {
        for j0 in (0..n).step_by(T) {
            for i in i0..(i0 + T).min(m) {
                for j in j0..(j0 + T).min(n) {
                    dst[j * m + i] = src[i * n + j];
                }
            }
        }
    }
}

/// Forward and inverse 1-D FFT of length `n`.
#[derive(Clone)]
pub(crate) struct Fft1 {
    pub n: usize,
    fwd: Arc<dyn Fft<f64>>,
    inv: Arc<dyn Fft<f64>>,
}

impl std::fmt::Debug for Fft1 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Fft1({})", self.n)
    }
}

impl Fft1 {
    pub fn new(planner: &mut FftPlanner<f64>, n: usize) -> Self {
        Self {
            n,
            fwd: planner.plan_fft_forward(n),
            inv: planner.plan_fft_inverse(n),
        }
    }

    /// In-place transform; the inverse is divided by `n`.
    pub fn run(&self, data: &mut [Complex64], inverse: bool, scratch: &mut Vec<Complex64>) {
        let plan = if inverse { &self.inv } else { &self.fwd };
        let need = plan.get_inplace_scratch_len();
        if scratch.len() < need {
            scratch.resize(need, ZERO);
        }
        plan.process_with_scratch(data, &mut scratch[..need]);
        if inverse {
            let s = 1.0 / self.n as f64;
            for v in data.iter_mut() {
                *v *= s;
            }
        }
    }
}

/// `out(a, b) = k⁻² Σ_{p,q<k} x(a + p m/k, b + q n/k) f(a + p m/k, b + q n/k)`: the Fourier
/// transform of the spatial subsampling by `k` of the filtered signal (kymatio's
/// `cdgmm` followed by `subsample_fourier`). `x`, `f` are `m × n`; `out` is `m/k × n/k`.
/// The dense oracle of [`SparseFilter::apply`].
#[cfg(test)]
pub(crate) fn filter_subsample_2d(
    x: &[Complex64],
    f: &[f64],
    m: usize,
    n: usize,
    k: usize,
    out: &mut [Complex64],
) {
    let (mo, no) = (m / k, n / k);
    debug_assert_eq!(out.len(), mo * no);
    if k == 1 {
        for ((o, a), b) in out.iter_mut().zip(x).zip(f) {
            *o = a * b;
        }
        return;
    }
    out.fill(ZERO);
    for p in 0..k {
        for a in 0..mo {
            let r = (a + p * mo) * n;
            let orow = &mut out[a * no..(a + 1) * no];
            for q in 0..k {
                let base = r + q * no;
                let xs = &x[base..base + no];
                let fs = &f[base..base + no];
                for ((o, xv), fv) in orow.iter_mut().zip(xs).zip(fs) {
                    if *fv != 0.0 {
                        *o += xv * fv;
                    }
                }
            }
        }
    }
    let s = 1.0 / (k * k) as f64;
    for o in out.iter_mut() {
        *o *= s;
    }
}

/// 1-D version of [`filter_subsample_2d`]: `out(a) = k⁻¹ Σ_{p<k} x(a + p n/k) f(a + p n/k)`.
#[cfg(test)]
pub(crate) fn filter_subsample_1d(x: &[Complex64], f: &[f64], k: usize, out: &mut [Complex64]) {
    let n = x.len();
    let no = n / k;
    debug_assert_eq!(out.len(), no);
    out.fill(ZERO);
    for p in 0..k {
        let xs = &x[p * no..(p + 1) * no];
        let fs = &f[p * no..(p + 1) * no];
        for ((o, xv), fv) in out.iter_mut().zip(xs).zip(fs) {
            *o += xv * fv;
        }
    }
    if k > 1 {
        let s = 1.0 / k as f64;
        for o in out.iter_mut() {
            *o *= s;
        }
    }
}

/// Replaces every value by its modulus (imaginary part zero).
pub(crate) fn modulus(x: &mut [Complex64]) {
    for v in x.iter_mut() {
        *v = Complex64::new((v.re * v.re + v.im * v.im).sqrt(), 0.0);
    }
}

/// Relative magnitude below which a Fourier filter's entries are skipped: their contribution is
/// below double-precision rounding of the largest one.
pub(crate) const FILTER_TOL: f64 = 1e-16;

/// A real Fourier filter on an `m × n` grid stored as runs of significant entries, each run
/// inside one row and one aliasing block, for [`SparseFilter::apply`] with a fixed subsampling.
#[derive(Debug, Clone)]
pub(crate) struct SparseFilter {
    m: usize,
    n: usize,
    km: usize,
    kn: usize,
    /// `(source offset r n + c, destination offset (r mod m/k)(n/k) + c mod n/k, length, value offset)`.
    runs: Vec<(usize, usize, usize, usize)>,
    vals: Vec<f64>,
}

impl SparseFilter {
    /// Keeps the entries of the `m × n` filter `f` above `FILTER_TOL` times the largest
    /// magnitude, in runs that do not cross a row or an aliasing block of the subsampling by
    /// `km` rows and `kn` columns (1-D filters: `m = km = 1`).
    pub fn new(f: &[f64], (m, n): (usize, usize), (km, kn): (usize, usize)) -> Self {
        debug_assert_eq!(f.len(), m * n);
        let tol = FILTER_TOL * f.iter().fold(0.0f64, |a, v| a.max(v.abs()));
        let (mo, no) = (m / km, n / kn);
        let mut runs = Vec::new();
        let mut vals = Vec::new();
        for r in 0..m {
            for q in 0..kn {
                let row = &f[r * n + q * no..r * n + (q + 1) * no];
                let first = row.iter().position(|v| v.abs() > tol);
                let Some(first) = first else { continue };
                let last = row.iter().rposition(|v| v.abs() > tol).expect("non-empty");
                runs.push((
                    r * n + q * no + first,
                    (r % mo) * no + first,
                    last + 1 - first,
                    vals.len(),
                ));
                vals.extend_from_slice(&row[first..=last]);
            }
        }
        Self {
            m,
            n,
            km,
            kn,
            runs,
            vals,
        }
    }

    /// `out = subsample_k(x · f)` in Fourier: see [`filter_subsample_2d`] (1-D filters use
    /// `m = 1`).
    pub fn apply(&self, x: &[Complex64], out: &mut [Complex64]) {
        debug_assert_eq!(x.len(), self.m * self.n);
        debug_assert_eq!(out.len(), (self.m / self.km) * (self.n / self.kn));
        out.fill(ZERO);
        for &(src, dst, len, off) in &self.runs {
            let xs = &x[src..src + len];
            let fs = &self.vals[off..off + len];
            let os = &mut out[dst..dst + len];
            for ((o, xv), fv) in os.iter_mut().zip(xs).zip(fs) {
                o.re += xv.re * fv;
                o.im += xv.im * fv;
            }
        }
        let kk = self.km * self.kn;
        if kk > 1 {
            let s = 1.0 / kk as f64;
            for o in out.iter_mut() {
                *o *= s;
            }
        }
    }
}

/// NumPy's `mode='reflect'` index for position `i` (may be negative or beyond `n`), `n ≥ 2`.
pub(crate) fn reflect(i: isize, n: usize) -> usize {
    let n = n as isize;
    let period = 2 * (n - 1);
    let mut r = i.rem_euclid(period);
    if r >= n {
        r = period - r;
    }
    r as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signal(len: usize) -> Vec<Complex64> {
        (0..len)
            .map(|i| Complex64::new((i as f64 * 0.37).sin(), (i as f64 * 0.11).cos()))
            .collect()
    }

    #[test]
    fn sparse_filter_matches_dense_product_and_periodisation() {
        let (m, n) = (24, 16);
        let x = signal(m * n);
        // A Gaussian bump that wraps around the borders, with exact zeros and tiny tails.
        let f: Vec<f64> = (0..m * n)
            .map(|i| {
                let (a, b) = ((i / n) as f64, (i % n) as f64);
                let da = (a - 20.0).abs().min(24.0 - (a - 20.0).abs());
                let db = (b - 3.0).abs().min(16.0 - (b - 3.0).abs());
                if da > 9.0 {
                    0.0
                } else {
                    (-(da * da + 2.0 * db * db) / 6.0).exp()
                }
            })
            .collect();
        for k in [1, 2, 4, 8] {
            let mut dense = vec![ZERO; (m / k) * (n / k)];
            filter_subsample_2d(&x, &f, m, n, k, &mut dense);
            let mut sparse = vec![Complex64::new(9.0, 9.0); dense.len()];
            SparseFilter::new(&f, (m, n), (k, k)).apply(&x, &mut sparse);
            for (a, b) in dense.iter().zip(&sparse) {
                assert!((a - b).norm() < 1e-14, "k = {k}: {a} vs {b}");
            }
        }
        let x1 = signal(64);
        let f1: Vec<f64> = (0..64)
            .map(|i| (-((i as f64 - 10.0).powi(2)) / 20.0).exp())
            .collect();
        for k in [1, 2, 16] {
            let mut dense = vec![ZERO; 64 / k];
            filter_subsample_1d(&x1, &f1, k, &mut dense);
            let mut sparse = vec![ZERO; 64 / k];
            SparseFilter::new(&f1, (1, 64), (1, k)).apply(&x1, &mut sparse);
            for (a, b) in dense.iter().zip(&sparse) {
                assert!((a - b).norm() < 1e-14, "1-D k = {k}: {a} vs {b}");
            }
        }
    }

    #[test]
    fn fft2_matches_dense_dft() {
        let (m, n) = (6, 10);
        let x = signal(m * n);
        let mut planner = FftPlanner::new();
        let fft = Fft2::new(&mut planner, m, n);
        let mut y = x.clone();
        let mut scratch = Vec::new();
        fft.run(&mut y, false, &mut scratch);
        for a in 0..m {
            for b in 0..n {
                let mut acc = ZERO;
                for u in 0..m {
                    for v in 0..n {
                        let ph = -2.0
                            * std::f64::consts::PI
                            * ((a * u) as f64 / m as f64 + (b * v) as f64 / n as f64);
                        acc += x[u * n + v] * Complex64::from_polar(1.0, ph);
                    }
                }
                assert!((acc - y[a * n + b]).norm() < 1e-12);
            }
        }
        fft.run(&mut y, true, &mut scratch);
        for (a, b) in x.iter().zip(&y) {
            assert!((a - b).norm() < 1e-14);
        }
        // Transposed layout: forward_t gives the transpose of the forward transform.
        let mut t = x.clone();
        fft.forward_t(&mut t, &mut scratch);
        let mut f = x.clone();
        fft.run(&mut f, false, &mut scratch);
        for a in 0..m {
            for b in 0..n {
                assert!((t[b * m + a] - f[a * n + b]).norm() < 1e-12);
            }
        }
        fft.inverse_t(&mut t, &mut scratch);
        for (a, b) in x.iter().zip(&t) {
            assert!((a - b).norm() < 1e-14);
        }
    }

    #[test]
    fn reflect_matches_numpy() {
        // numpy.pad(arange(4), 5, mode='reflect') = [1 2 3 2 1 | 0 1 2 3 | 2 1 0 1 2]
        let got: Vec<usize> = (-5..9).map(|i| reflect(i, 4)).collect();
        assert_eq!(got, vec![1, 2, 3, 2, 1, 0, 1, 2, 3, 2, 1, 0, 1, 2]);
    }
}
