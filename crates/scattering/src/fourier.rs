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
    /// Real-to-complex transform of one row.
    row_r: Arc<dyn realfft::RealToComplex<f64>>,
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
            row_r: realfft::RealFftPlanner::new().plan_fft_forward(n),
        }
    }

    /// Scratch length needed by [`Fft2::run`].
    pub fn scratch_len(&self) -> usize {
        let s = [&self.row_f, &self.row_i, &self.col_f, &self.col_i]
            .iter()
            .map(|p| p.get_inplace_scratch_len())
            .chain([self.row_r.get_scratch_len()])
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
    /// Forward transform of the real `m × n` field `real` (overwritten), written *transposed*
    /// into `data` (`n × m`, frequency of the columns first, as [`Fft2::forward_t`]): real
    /// row transforms, column transforms of the `n/2 + 1` non-negative column frequencies only,
    /// and the others from the Hermitian symmetry $X(-u, -v) = \overline{X(u, v)}$.
    pub fn forward_t_real(
        &self,
        real: &mut [f64],
        data: &mut Vec<Complex64>,
        scratch: &mut Vec<Complex64>,
    ) {
        let (m, n) = (self.m, self.n);
        debug_assert_eq!(real.len(), m * n);
        let h = n / 2 + 1;
        let need = self.scratch_len();
        if scratch.len() < need {
            scratch.resize(need, ZERO);
        }
        data.resize(m * n, ZERO);
        let (tmp, fft_scratch) = scratch.split_at_mut(m * n);
        for (row, out) in real.chunks_exact_mut(n).zip(tmp.chunks_exact_mut(h)) {
            self.row_r
                .process_with_scratch(row, out, fft_scratch)
                .expect("buffer lengths match the plan");
        }
        let (half, rest) = data.split_at_mut(h * m);
        transpose(&tmp[..m * h], half, m, h);
        if m > 1 {
            self.col_f.process_with_scratch(half, fft_scratch);
        }
        for (i, row) in rest.chunks_exact_mut(m).enumerate() {
            let mirror = &half[(n - h - i) * m..(n - h - i + 1) * m];
            row[0] = mirror[0].conj();
            for (u, v) in row[1..].iter_mut().zip(mirror[1..].iter().rev()) {
                *u = v.conj();
            }
        }
    }

    /// Forward transform of the `m × n` spatial buffer, leaving its Fourier transform
    /// *transposed* (`n × m`, frequency of the columns first): one transpose instead of two.
    /// The oracle of [`Fft2::forward_t_real`].
    #[cfg(test)]
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

    /// Inverse of [`Fft2::forward_t`] (the oracle of [`Fft2::inverse_t_modulus`]): from a
    /// transposed (`n × m`) Fourier buffer to the `m × n` spatial buffer, divided by `m n`.
    #[cfg(test)]
    pub fn inverse_t(&self, data: &mut [Complex64], scratch: &mut Vec<Complex64>) {
        let s = 1.0 / (self.m * self.n) as f64;
        let tmp = self.inverse_t_unscaled(data, scratch);
        for (d, t) in data.iter_mut().zip(tmp.iter()) {
            *d = t * s;
        }
    }

    /// The inverse transform of the transposed Fourier buffer `data` (overwritten), not yet
    /// divided by `m n`, in the returned part of `scratch` (`m × n`).
    fn inverse_t_unscaled<'s>(
        &self,
        data: &mut [Complex64],
        scratch: &'s mut Vec<Complex64>,
    ) -> &'s [Complex64] {
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
        tmp
    }

    /// [`Fft2::inverse_t`] followed by the modulus, written into the real `m × n` buffer `out`
    /// (`data` is left in an unspecified state): one pass fewer than the two steps.
    pub fn inverse_t_modulus(
        &self,
        data: &mut [Complex64],
        scratch: &mut Vec<Complex64>,
        out: &mut Vec<f64>,
    ) {
        let mn = self.m * self.n;
        let tmp = self.inverse_t_unscaled(data, scratch);
        out.resize(mn, 0.0);
        scaled_modulus(tmp, 1.0 / mn as f64, out);
    }
}

/// `out[i] = |s x[i]|`.
fn scaled_modulus(x: &[Complex64], s: f64, out: &mut [f64]) {
    simd_dispatch!(scaled_modulus_impl(x: &[Complex64], s: f64, out: &mut [f64]))
}

#[inline(always)]
fn scaled_modulus_impl(x: &[Complex64], s: f64, out: &mut [f64]) {
    for (o, t) in out.iter_mut().zip(x) {
        let (re, im) = (t.re * s, t.im * s);
        *o = (re * re + im * im).sqrt();
    }
}

/// The low-pass step of a scattering path done in space: the circular convolution
/// $(h \star u)(y) = \sum_x h(y - x)\, u(x)$ of a real `m × n` field with the kernel
/// $h = \mathrm{ifft2}(\hat\phi)$ of a real, separable Fourier filter, $h(x, y) = r(x)\,c(y)$,
/// evaluated only at the output points $((a + o)k, (b + o)k)$, $a <$ `mo`, $b <$ `no`.
///
/// This equals "FFT, multiply by $\hat\phi$, periodise by `k`, inverse FFT, crop `o`" (kymatio's
/// low-pass) to rounding, at a fraction of the cost: two small dense products instead of a
/// forward FFT of the whole field, and no inverse FFT.
#[derive(Debug, Clone)]
pub(crate) struct SeparableLowPass {
    m: usize,
    n: usize,
    mo: usize,
    no: usize,
    /// `mo × m`: `rows[a m + x] = r(((a + o) k - x) mod m)`.
    rows: Vec<f64>,
    /// `no × n`: `cols[b n + y] = c(((b + o) k - y) mod n)`.
    cols: Vec<f64>,
    /// `max |h - r cᵀ| / max |h|`: how far the filter is from separable.
    #[cfg_attr(not(test), allow(dead_code))]
    residual: f64,
}

impl SeparableLowPass {
    /// From the real Fourier filter `phi` (`m × n`, NumPy's layout, not transposed), the
    /// subsampling `k` and the crop offset `o`, keeping `mo × no` output points.
    pub fn new(
        phi: &ndarray::Array2<f64>,
        k: usize,
        offset: usize,
        (mo, no): (usize, usize),
    ) -> Self {
        let (m, n) = phi.dim();
        let mut planner = rustfft::FftPlanner::new();
        let fft = Fft2::new(&mut planner, m, n);
        let mut h: Vec<Complex64> = phi.iter().map(|&v| Complex64::new(v, 0.0)).collect();
        fft.run(&mut h, true, &mut Vec::new());
        let h: Vec<f64> = h.iter().map(|v| v.re).collect();
        // The kernel peaks at the origin (a periodised Gaussian): h(x, y) = h(x, 0) h(0, y) / h(0, 0).
        let h00 = h[0];
        let scale = h00.abs().sqrt();
        let r: Vec<f64> = (0..m).map(|x| h[x * n] / scale).collect();
        let c: Vec<f64> = (0..n).map(|y| h[y] / h00 * scale).collect();
        let hmax = h.iter().fold(0.0f64, |a, v| a.max(v.abs()));
        let residual = (0..m * n)
            .map(|i| (h[i] - r[i / n] * c[i % n]).abs())
            .fold(0.0f64, f64::max)
            / hmax;
        debug_assert!(
            residual < 1e-12,
            "the low-pass is not separable: {residual}"
        );
        let tol = FILTER_TOL * hmax.sqrt();
        let circulant = |f: &[f64], len: usize, count: usize| -> Vec<f64> {
            let mut out = Vec::with_capacity(count * len);
            for a in 0..count {
                let pos = (a + offset) * k;
                out.extend((0..len).map(|x| {
                    let v = f[(pos % len + len - x) % len];
                    if v.abs() > tol { v } else { 0.0 }
                }));
            }
            out
        };
        Self {
            m,
            n,
            mo,
            no,
            rows: circulant(&r, m, mo),
            cols: circulant(&c, n, no),
            residual,
        }
    }

    /// `max |h - r cᵀ| / max |h|` of the kernel this was built from.
    #[cfg(test)]
    pub fn residual(&self) -> f64 {
        self.residual
    }

    /// `out(a, b) = (h ⋆ u)((a + o)k, (b + o)k)` for the real `m × n` field `u`; `tmp` is a
    /// scratch buffer.
    pub fn apply(&self, u: &[f64], tmp: &mut Vec<f64>, out: ndarray::ArrayViewMut2<'_, f64>) {
        let lp = self;
        simd_dispatch!(low_pass_impl(
            lp: &SeparableLowPass,
            u: &[f64],
            tmp: &mut Vec<f64>,
            out: ndarray::ArrayViewMut2<'_, f64>
        ))
    }
}

#[inline(always)]
fn low_pass_impl(
    lp: &SeparableLowPass,
    u: &[f64],
    tmp: &mut Vec<f64>,
    mut out: ndarray::ArrayViewMut2<'_, f64>,
) {
    {
        let (m, n, mo) = (lp.m, lp.n, lp.mo);
        debug_assert_eq!(u.len(), m * n);
        debug_assert_eq!(out.dim(), (mo, lp.no));
        tmp.clear();
        tmp.resize(mo * n, 0.0);
        // tmp = rows · u, eight output rows and eight columns at a time, kept in registers; each
        // entry is the sum over x in increasing order, whatever the blocking.
        const RB: usize = 8;
        const CB: usize = 8;
        let full = n - n % CB;
        let mut a0 = 0;
        while a0 < mo {
            let rb = RB.min(mo - a0);
            let w = &lp.rows[a0 * m..(a0 + rb) * m];
            if rb == RB {
                for c0 in (0..full).step_by(CB) {
                    let mut acc = [[0.0f64; CB]; RB];
                    for x in 0..m {
                        let ux: &[f64; CB] = u[x * n + c0..x * n + c0 + CB]
                            .try_into()
                            .expect("a chunk of CB");
                        for (r, accr) in acc.iter_mut().enumerate() {
                            let wx = w[r * m + x];
                            for (av, uv) in accr.iter_mut().zip(ux) {
                                *av += wx * uv;
                            }
                        }
                    }
                    for (r, accr) in acc.iter().enumerate() {
                        tmp[(a0 + r) * n + c0..(a0 + r) * n + c0 + CB].copy_from_slice(accr);
                    }
                }
            }
            // Remaining rows of the block (all columns) or remaining columns.
            for r in 0..rb {
                let wr = &w[r * m..(r + 1) * m];
                let t = &mut tmp[(a0 + r) * n..(a0 + r + 1) * n];
                let start = if rb == RB { full } else { 0 };
                for (&wx, ux) in wr.iter().zip(u.chunks_exact(n)) {
                    for (tv, uv) in t[start..].iter_mut().zip(&ux[start..]) {
                        *tv += wx * uv;
                    }
                }
            }
            a0 += rb;
        }
        for (a, t) in tmp.chunks_exact(n).enumerate() {
            for (b, c) in lp.cols.chunks_exact(n).enumerate() {
                out[[a, b]] = dot(t, c);
            }
        }
    }
}

/// The widest vector extension the CPU has, detected once.
#[cfg(target_arch = "x86_64")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Simd {
    Avx512,
    Avx2,
    Baseline,
}

#[cfg(target_arch = "x86_64")]
pub(crate) fn simd() -> Simd {
    if std::is_x86_feature_detected!("avx512f") {
        Simd::Avx512
    } else if std::is_x86_feature_detected!("avx2") {
        Simd::Avx2
    } else {
        Simd::Baseline
    }
}

/// Calls the `#[inline(always)]` function `imp` compiled for AVX-512 or AVX2 when the CPU has
/// them (checked at run time), else for the baseline target. Every build performs the same
/// floating-point operations in the same order (Rust neither fuses nor reorders them), so the
/// results are bit-identical; only the vector width changes.
macro_rules! simd_dispatch {
    ($imp:ident($($arg:ident : $ty:ty),* $(,)?)) => {{
        #[cfg(target_arch = "x86_64")]
        {
            #[target_feature(enable = "avx512f")]
            fn avx512($($arg: $ty),*) {
                $imp($($arg),*)
            }
            #[target_feature(enable = "avx2")]
            fn avx2($($arg: $ty),*) {
                $imp($($arg),*)
            }
            match $crate::fourier::simd() {
                // SAFETY: the CPU has the extension (checked at run time).
                $crate::fourier::Simd::Avx512 => return unsafe { avx512($($arg),*) },
                // SAFETY: as above.
                $crate::fourier::Simd::Avx2 => return unsafe { avx2($($arg),*) },
                $crate::fourier::Simd::Baseline => {}
            }
        }
        $imp($($arg),*)
    }};
}
pub(crate) use simd_dispatch;

/// `Σ a_i b_i` with four partial sums (vectorises; the order is fixed, so results are
/// reproducible).
#[inline(always)]
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0f64; 4];
    let (ac, ar) = a.split_at(a.len() - a.len() % 4);
    let (bc, br) = b.split_at(ac.len());
    for (x, y) in ac.chunks_exact(4).zip(bc.chunks_exact(4)) {
        for i in 0..4 {
            acc[i] += x[i] * y[i];
        }
    }
    let tail: f64 = ar.iter().zip(br).map(|(x, y)| x * y).sum();
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// `dst (n × m) = srcᵀ` for `src` of shape `m × n`, by 16 × 16 tiles.
fn transpose(src: &[Complex64], dst: &mut [Complex64], m: usize, n: usize) {
    assert!(
        src.len() >= m * n && dst.len() >= m * n,
        "transpose buffers"
    );
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx") {
        return transpose_avx(src, dst, m, n);
    }
    transpose_impl(src, dst, m, n);
}

/// [`transpose_impl`] by 2 × 2 blocks of complex numbers, each block two 256-bit loads, two
/// lane shuffles and two 256-bit stores (half the memory operations of element moves).
#[cfg(target_arch = "x86_64")]
fn transpose_avx(src: &[Complex64], dst: &mut [Complex64], m: usize, n: usize) {
    #[target_feature(enable = "avx")]
    fn blocks(src: &[Complex64], dst: &mut [Complex64], m: usize, n: usize) {
        use std::arch::x86_64::{_mm256_loadu_pd, _mm256_permute2f128_pd, _mm256_storeu_pd};
        const T: usize = 16;
        let (m2, n2) = (m & !1, n & !1);
        let s = src.as_ptr().cast::<f64>();
        let d = dst.as_mut_ptr().cast::<f64>();
        for i0 in (0..m2).step_by(T) {
            for j0 in (0..n2).step_by(T) {
                for i in (i0..(i0 + T).min(m2)).step_by(2) {
                    for j in (j0..(j0 + T).min(n2)).step_by(2) {
                        // SAFETY: i + 1 < m and j + 1 < n, and both buffers hold m n complex
                        // numbers (asserted by the caller), so every access is in bounds.
                        unsafe {
                            let a = _mm256_loadu_pd(s.add(2 * (i * n + j)));
                            let b = _mm256_loadu_pd(s.add(2 * ((i + 1) * n + j)));
                            _mm256_storeu_pd(
                                d.add(2 * (j * m + i)),
                                _mm256_permute2f128_pd(a, b, 0x20),
                            );
                            _mm256_storeu_pd(
                                d.add(2 * ((j + 1) * m + i)),
                                _mm256_permute2f128_pd(a, b, 0x31),
                            );
                        }
                    }
                }
            }
        }
        // The odd last row and column, if any.
        if m2 < m {
            for j in 0..n {
                dst[j * m + m - 1] = src[(m - 1) * n + j];
            }
        }
        if n2 < n {
            for i in 0..m {
                dst[(n - 1) * m + i] = src[i * n + n - 1];
            }
        }
    }
    // SAFETY: the CPU supports AVX (checked by the caller).
    unsafe { blocks(src, dst, m, n) }
}

#[inline(always)]
fn transpose_impl(src: &[Complex64], dst: &mut [Complex64], m: usize, n: usize) {
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
    /// The kept values, divided by the periodisation's count.
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
        // The periodisation's mean, folded into the values: a power of two, so exact.
        let s = 1.0 / (km * kn) as f64;
        for v in vals.iter_mut() {
            *v *= s;
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
        let f = self;
        simd_dispatch!(sparse_apply_impl(f: &SparseFilter, x: &[Complex64], out: &mut [Complex64]))
    }
}

#[inline(always)]
fn sparse_apply_impl(f: &SparseFilter, x: &[Complex64], out: &mut [Complex64]) {
    {
        debug_assert_eq!(x.len(), f.m * f.n);
        debug_assert_eq!(out.len(), (f.m / f.km) * (f.n / f.kn));
        out.fill(ZERO);
        for &(src, dst, len, off) in &f.runs {
            let xs = &x[src..src + len];
            let fs = &f.vals[off..off + len];
            let os = &mut out[dst..dst + len];
            for ((o, xv), fv) in os.iter_mut().zip(xs).zip(fs) {
                o.re += xv.re * fv;
                o.im += xv.im * fv;
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
    fn separable_low_pass_matches_the_fourier_route() {
        // A non-square grid, so that swapping the row and column kernels fails.
        let (m, n, j) = (48, 80, 3);
        let bank = crate::filters::MorletBank2d::all_levels(m, n, j, 4);
        let mut planner = FftPlanner::new();
        let mut scratch = Vec::new();
        for r in 0..j {
            let (ml, nl) = (m >> r, n >> r);
            let k = 1 << (j - r);
            let phi = &bank.phi[r];
            assert_eq!(phi.dim(), (ml, nl));
            let u: Vec<f64> = (0..ml * nl)
                .map(|i| (i as f64 * 0.37).sin() + 0.1 * (i % 7) as f64)
                .collect();
            // kymatio's route: FFT, product, periodisation, inverse FFT, crop.
            let mut uf: Vec<Complex64> = u.iter().map(|&v| Complex64::new(v, 0.0)).collect();
            Fft2::new(&mut planner, ml, nl).run(&mut uf, false, &mut scratch);
            let phiv: Vec<f64> = phi.iter().copied().collect();
            let (ms, ns) = (ml / k, nl / k);
            let mut small = vec![ZERO; ms * ns];
            filter_subsample_2d(&uf, &phiv, ml, nl, k, &mut small);
            Fft2::new(&mut planner, ms, ns).run(&mut small, true, &mut scratch);
            let peak = small.iter().fold(0.0f64, |a, v| a.max(v.norm()));
            for offset in [0, 1] {
                let (mo, no) = (ms - 2 * offset, ns - 2 * offset);
                let lp = SeparableLowPass::new(phi, k, offset, (mo, no));
                assert!(lp.residual() < 1e-13, "level {r}: {}", lp.residual());
                let mut out = ndarray::Array2::from_elem((mo, no), f64::NAN);
                let mut tmp = vec![7.0; 3];
                lp.apply(&u, &mut tmp, out.view_mut());
                for a in 0..mo {
                    for b in 0..no {
                        let want = small[(a + offset) * ns + b + offset].re;
                        let got = out[[a, b]];
                        assert!(
                            (got - want).abs() < 1e-13 * peak,
                            "level {r}, offset {offset}, ({a}, {b}): {got} vs {want}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn vector_builds_agree_bit_for_bit_with_the_baseline_build() {
        // The dispatched calls (AVX-512 or AVX2 where the CPU has them) against the baseline
        // functions called directly.
        let (m, n) = (40, 24);
        let x = signal(m * n);
        let f: Vec<f64> = (0..m * n)
            .map(|i| ((i * 7 % 13) as f64 - 6.0) / 7.0)
            .collect();
        let sf = SparseFilter::new(&f, (m, n), (2, 4));
        let (mut a, mut b) = (vec![ZERO; m * n / 8], vec![ZERO; m * n / 8]);
        sf.apply(&x, &mut a);
        sparse_apply_impl(&sf, &x, &mut b);
        assert!(
            a.iter()
                .zip(&b)
                .all(|(p, q)| p.re.to_bits() == q.re.to_bits() && p.im.to_bits() == q.im.to_bits())
        );
        for (mm, nn) in [(m, n), (7, 10), (6, 5), (1, 9), (9, 1), (13, 22)] {
            let mut b = vec![ZERO; mm * nn];
            transpose_impl(&x[..mm * nn], &mut b, mm, nn);
            assert!((0..mm * nn).all(|k| b[(k % nn) * mm + k / nn] == x[k]));
            let mut a = vec![ZERO; mm * nn];
            transpose(&x[..mm * nn], &mut a, mm, nn);
            assert_eq!(a, b, "{mm} x {nn}");
        }
        let (mut a, mut b) = (vec![0.0; m * n], vec![0.0; m * n]);
        scaled_modulus(&x, 0.3, &mut a);
        scaled_modulus_impl(&x, 0.3, &mut b);
        assert!(a.iter().zip(&b).all(|(p, q)| p.to_bits() == q.to_bits()));
        let bank = crate::filters::MorletBank2d::all_levels(m, n, 3, 2);
        let lp = SeparableLowPass::new(&bank.phi[0], 8, 0, (m / 8, n / 8));
        let u: Vec<f64> = x.iter().map(|v| v.re).collect();
        let mut oa = ndarray::Array2::zeros((m / 8, n / 8));
        let mut ob = oa.clone();
        lp.apply(&u, &mut Vec::new(), oa.view_mut());
        low_pass_impl(&lp, &u, &mut Vec::new(), ob.view_mut());
        assert!(oa.iter().zip(&ob).all(|(p, q)| p.to_bits() == q.to_bits()));
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
        // Real input: the real transform equals the complex one, odd and even sizes.
        for (m, n) in [(6, 10), (5, 7), (8, 1), (1, 6), (10, 5)] {
            let fft = Fft2::new(&mut planner, m, n);
            let mut re: Vec<f64> = signal(m * n).iter().map(|v| v.re).collect();
            let mut want: Vec<Complex64> = re.iter().map(|&v| Complex64::new(v, 0.0)).collect();
            fft.forward_t(&mut want, &mut scratch);
            let mut got = vec![Complex64::new(f64::NAN, 0.0); 3];
            fft.forward_t_real(&mut re, &mut got, &mut scratch);
            assert_eq!(got.len(), m * n);
            for (a, b) in want.iter().zip(&got) {
                assert!((a - b).norm() < 1e-12, "{m} x {n}: {a} vs {b}");
            }
        }
    }

    #[test]
    fn reflect_matches_numpy() {
        // numpy.pad(arange(4), 5, mode='reflect') = [1 2 3 2 1 | 0 1 2 3 | 2 1 0 1 2]
        let got: Vec<usize> = (-5..9).map(|i| reflect(i, 4)).collect();
        assert_eq!(got, vec![1, 2, 3, 2, 1, 0, 1, 2, 3, 2, 1, 0, 1, 2]);
    }
}
