//! One-level, one-axis periodic filter-bank kernels on compact row-major buffers.
//!
//! Analysis along an axis of length $n$ (PyWavelets' `periodization` mode), with $F$ taps and
//! shift $s = F/2$:
//! $$a_o = \sum_{j<F} h_j\, x_{(2o + s - j) \bmod n}, \qquad d_o = \sum_{j<F} g_j\, x_{(2o + s - j) \bmod n},$$
//! for $o < n/2$, stored as $[a \mid d]$ along the axis. Synthesis is the exact transpose. Filters
//! longer than the signal wrap around (the modulo above).
//!
//! Every output value is a sum over taps in increasing `j`, whatever the thread count, so that
//! parallel and serial runs are bit-identical.

use rayon::prelude::*;

use crate::Wavelet;

/// Blocks smaller than this many values are transformed on the calling thread.
pub(crate) const PARALLEL_THRESHOLD: usize = 1 << 15;

/// Column chunk of the strided kernels (fits the rows involved in L1).
const CHUNK: usize = 256;

/// The analysis filters with their periodic shift.
#[derive(Debug, Clone)]
pub(crate) struct Bank {
    lo: Vec<f64>,
    hi: Vec<f64>,
    shift: usize,
}

impl Bank {
    pub(crate) fn new(w: &Wavelet) -> Self {
        Self { lo: w.dec_lo().to_vec(), hi: w.dec_hi().to_vec(), shift: w.len() / 2 }
    }

    fn taps(&self) -> usize {
        self.lo.len()
    }

    /// Signal index read by output `o`, tap `j`, for an axis of length `n`.
    #[inline]
    fn source(&self, o: usize, j: usize, n: usize) -> usize {
        (2 * o + self.shift + self.taps() * n - j) % n
    }
}

/// Analysis along the last axis: `src` and `dst` are `rows × n`; each row becomes `[a | d]`.
pub(crate) fn analysis_rows(bank: &Bank, src: &[f64], dst: &mut [f64], n: usize, ext: &mut Vec<f64>) {
    if src.len() >= PARALLEL_THRESHOLD && src.len() > n {
        dst.par_chunks_mut(n)
            .zip(src.par_chunks(n))
            .for_each_init(Vec::new, |ext, (d, s)| analysis_row(bank, s, d, ext));
    } else {
        for (d, s) in dst.chunks_mut(n).zip(src.chunks(n)) {
            analysis_row(bank, s, d, ext);
        }
    }
}

/// Synthesis along the last axis, the transpose of [`analysis_rows`].
pub(crate) fn synthesis_rows(
    bank: &Bank,
    src: &[f64],
    dst: &mut [f64],
    n: usize,
    ext: &mut Vec<f64>,
) {
    if src.len() >= PARALLEL_THRESHOLD && src.len() > n {
        dst.par_chunks_mut(n)
            .zip(src.par_chunks(n))
            .for_each_init(Vec::new, |ext, (d, s)| synthesis_row(bank, s, d, ext));
    } else {
        for (d, s) in dst.chunks_mut(n).zip(src.chunks(n)) {
            synthesis_row(bank, s, d, ext);
        }
    }
}

/// Polyphase analysis of one contiguous signal.
fn analysis_row(bank: &Bank, x: &[f64], out: &mut [f64], ext: &mut Vec<f64>) {
    let n = x.len();
    let f = bank.taps();
    let s = bank.shift;
    let half = n / 2;
    // e[q] = x[(2q - f) mod n], o[q] = x[(2q + 1 - f) mod n]; tap j of output k reads
    // x[2k + s - j] = ext[2k + c], c = s + f - j.
    let le = half + (s + f) / 2 + 1;
    ext.clear();
    ext.resize(2 * le, 0.0);
    let (even, odd) = ext.split_at_mut(le);
    let base = f * (n - 1);
    for q in 0..le {
        even[q] = x[(2 * q + base) % n];
        odd[q] = x[(2 * q + 1 + base) % n];
    }
    let (lo, hi) = out.split_at_mut(half);
    lo.fill(0.0);
    hi.fill(0.0);
    for j in 0..f {
        let c = s + f - j;
        let src = if c % 2 == 0 { &even[c / 2..c / 2 + half] } else { &odd[c / 2..c / 2 + half] };
        let (hj, gj) = (bank.lo[j], bank.hi[j]);
        for ((l, h), &v) in lo.iter_mut().zip(hi.iter_mut()).zip(src) {
            *l += hj * v;
            *h += gj * v;
        }
    }
}

/// Polyphase synthesis of one contiguous coefficient row `[a | d]`.
fn synthesis_row(bank: &Bank, y: &[f64], out: &mut [f64], ext: &mut Vec<f64>) {
    let n = y.len();
    let f = bank.taps();
    let s = bank.shift;
    let half = n / 2;
    // x[2q + p] = sum_{j: p + j - s even} h_j a[q + (p + j - s)/2] + g_j d[...]; with a periodic
    // extension ae[r] = a[(r - r0) mod half], r0 = s/2 + 1, the index is q + (p + j + 2 r0 - s)/2.
    let r0 = s / 2 + 1;
    let le = half + f + 2;
    ext.clear();
    ext.resize(4 * le, 0.0);
    let (ae, rest) = ext.split_at_mut(le);
    let (de, rest) = rest.split_at_mut(le);
    let (xe, xo) = rest.split_at_mut(le);
    let (a, d) = y.split_at(half);
    let base = half * (r0 / half + 1) - r0;
    for r in 0..le {
        ae[r] = a[(r + base) % half];
        de[r] = d[(r + base) % half];
    }
    for (p, xp) in [(0usize, &mut xe[..half]), (1, &mut xo[..half])] {
        xp.fill(0.0);
        for j in 0..f {
            let k = p + j + 2 * r0 - s;
            if k % 2 != 0 {
                continue;
            }
            let off = k / 2;
            let (hj, gj) = (bank.lo[j], bank.hi[j]);
            for ((x, &av), &dv) in xp.iter_mut().zip(&ae[off..off + half]).zip(&de[off..off + half]) {
                *x += hj * av + gj * dv;
            }
        }
    }
    for (q, pair) in out.chunks_exact_mut(2).enumerate() {
        pair[0] = xe[q];
        pair[1] = xo[q];
    }
}

/// Analysis along a non-last axis: `src`, `dst` are `outer × n × inner` (inner > 1).
pub(crate) fn analysis_cols(bank: &Bank, src: &[f64], dst: &mut [f64], n: usize, inner: usize) {
    let half = n / 2;
    let block = n * inner;
    let one = |o: usize, lo: &mut [f64], hi: &mut [f64], s_blk: &[f64]| {
        for c0 in (0..inner).step_by(CHUNK) {
            let c1 = (c0 + CHUNK).min(inner);
            let (l, h) = (&mut lo[c0..c1], &mut hi[c0..c1]);
            l.fill(0.0);
            h.fill(0.0);
            for j in 0..bank.taps() {
                let i = bank.source(o, j, n);
                let row = &s_blk[i * inner + c0..i * inner + c1];
                let (hj, gj) = (bank.lo[j], bank.hi[j]);
                for ((lv, hv), &v) in l.iter_mut().zip(h.iter_mut()).zip(row) {
                    *lv += hj * v;
                    *hv += gj * v;
                }
            }
        }
    };
    let parallel = src.len() >= PARALLEL_THRESHOLD;
    for (d_blk, s_blk) in dst.chunks_mut(block).zip(src.chunks(block)) {
        let (lo, hi) = d_blk.split_at_mut(half * inner);
        if parallel {
            lo.par_chunks_mut(inner)
                .zip(hi.par_chunks_mut(inner))
                .enumerate()
                .for_each(|(o, (l, h))| one(o, l, h, s_blk));
        } else {
            for (o, (l, h)) in lo.chunks_mut(inner).zip(hi.chunks_mut(inner)).enumerate() {
                one(o, l, h, s_blk);
            }
        }
    }
}

/// Synthesis along a non-last axis, the transpose of [`analysis_cols`].
pub(crate) fn synthesis_cols(bank: &Bank, src: &[f64], dst: &mut [f64], n: usize, inner: usize) {
    let half = n / 2;
    let block = n * inner;
    let f = bank.taps();
    let s = bank.shift;
    let one = |t: usize, out: &mut [f64], s_blk: &[f64]| {
        let (a, d) = s_blk.split_at(half * inner);
        for c0 in (0..inner).step_by(CHUNK) {
            let c1 = (c0 + CHUNK).min(inner);
            let x = &mut out[c0..c1];
            x.fill(0.0);
            for j in 0..f {
                let k = t + j + f * n - s;
                if k % 2 != 0 {
                    continue;
                }
                let o = (k / 2) % half;
                let (ar, dr) = (&a[o * inner + c0..o * inner + c1], &d[o * inner + c0..o * inner + c1]);
                let (hj, gj) = (bank.lo[j], bank.hi[j]);
                for ((xv, &av), &dv) in x.iter_mut().zip(ar).zip(dr) {
                    *xv += hj * av + gj * dv;
                }
            }
        }
    };
    let parallel = src.len() >= PARALLEL_THRESHOLD;
    for (d_blk, s_blk) in dst.chunks_mut(block).zip(src.chunks(block)) {
        if parallel {
            d_blk.par_chunks_mut(inner).enumerate().for_each(|(t, out)| one(t, out, s_blk));
        } else {
            for (t, out) in d_blk.chunks_mut(inner).enumerate() {
                one(t, out, s_blk);
            }
        }
    }
}

/// Analysis or synthesis of one axis of a compact block of shape `dims`.
pub(crate) fn pass(
    bank: &Bank,
    inverse: bool,
    axis: usize,
    dims: &[usize],
    src: &[f64],
    dst: &mut [f64],
    ext: &mut Vec<f64>,
) {
    let n = dims[axis];
    let inner: usize = dims[axis + 1..].iter().product();
    match (inverse, inner) {
        (false, 1) => analysis_rows(bank, src, dst, n, ext),
        (true, 1) => synthesis_rows(bank, src, dst, n, ext),
        (false, _) => analysis_cols(bank, src, dst, n, inner),
        (true, _) => synthesis_cols(bank, src, dst, n, inner),
    }
}

/// One level of the separable transform of the compact block `x` of shape `dims`, in place:
/// analysis along the last axis first, then the others; synthesis in the reverse order.
pub(crate) fn level(
    bank: &Bank,
    inverse: bool,
    dims: &[usize],
    x: &mut [f64],
    a: &mut Vec<f64>,
    b: &mut Vec<f64>,
    ext: &mut Vec<f64>,
) {
    let len = x.len();
    a.resize(len, 0.0);
    b.resize(len, 0.0);
    let d = dims.len();
    let axes: Vec<usize> = if inverse { (0..d).collect() } else { (0..d).rev().collect() };
    match d {
        1 => {
            pass(bank, inverse, axes[0], dims, x, a, ext);
            x.copy_from_slice(a);
        }
        2 => {
            pass(bank, inverse, axes[0], dims, x, a, ext);
            pass(bank, inverse, axes[1], dims, a, x, ext);
        }
        3 => {
            pass(bank, inverse, axes[0], dims, x, a, ext);
            pass(bank, inverse, axes[1], dims, a, b, ext);
            pass(bank, inverse, axes[2], dims, b, x, ext);
        }
        _ => unreachable!("plans are validated to 1-3 dimensions"),
    }
}
