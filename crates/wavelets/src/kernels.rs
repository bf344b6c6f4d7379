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

/// Paired synthesis taps: indices, coefficients `(h_j, g_j, h_{j-1}, g_{j-1})`, and the
/// `(head, tail)` counts of taps that feed one output only.
type PairedTaps = (Indices, Vec<(f64, f64, f64, f64)>, (usize, usize));

/// The analysis filters with their periodic shift.
#[derive(Debug, Clone)]
pub(crate) struct Bank {
    lo: Vec<f64>,
    hi: Vec<f64>,
    shift: usize,
}

impl Bank {
    pub(crate) fn new(w: &Wavelet) -> Self {
        Self {
            lo: w.dec_lo().to_vec(),
            hi: w.dec_hi().to_vec(),
            shift: w.len() / 2,
        }
    }

    fn taps(&self) -> usize {
        self.lo.len()
    }

    /// Synthesis coefficients of the pair of outputs `(2q, 2q + 1)` fed by the coefficient at
    /// tap `j` (`h_j, g_j` for the even output, `h_{j-1}, g_{j-1}` for the odd one; zero outside
    /// the filter).
    #[inline]
    fn pair(&self, j: usize) -> (f64, f64, f64, f64) {
        let f = self.taps();
        let (ha, hd) = if j < f {
            (self.lo[j], self.hi[j])
        } else {
            (0.0, 0.0)
        };
        let (ka, kd) = if j >= 1 {
            (self.lo[j - 1], self.hi[j - 1])
        } else {
            (0.0, 0.0)
        };
        (ha, hd, ka, kd)
    }

    /// Taps `j` in `0..=F` of the parity of the shift (each feeds both outputs of a pair), and
    /// their coefficients [`Bank::pair`].
    ///
    /// The head and tail counts of `merge_fir2` are 1 when tap 0 (even output only) or tap `F`
    /// (odd output only) is in the list.
    fn paired_taps(&self) -> PairedTaps {
        let mut t = Indices::new(self.taps() + 1);
        (0..=self.taps())
            .filter(|j| (j + self.shift).is_multiple_of(2))
            .for_each(|j| t.push(j));
        let c = t.as_slice().iter().map(|&j| self.pair(j)).collect();
        let ends = (
            usize::from(t.as_slice().first() == Some(&0)),
            usize::from(t.as_slice().last() == Some(&self.taps())),
        );
        (t, c, ends)
    }

    /// Signal index read by output `o`, tap `j`, for an axis of length `n`.
    #[inline]
    fn source(&self, o: usize, j: usize, n: usize) -> usize {
        (2 * o + self.shift + self.taps() * n - j) % n
    }
}

/// Row layout of a pass: `count` rows, row `r` of the source at `src[r * src_stride..]` and of
/// the destination at `dst[r * dst_stride..]` (a stride larger than the row length addresses a
/// sub-block of a larger array).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rows {
    pub(crate) count: usize,
    pub(crate) src_stride: usize,
    pub(crate) dst_stride: usize,
}

/// Runs `f(src_row, dst_row, ext)` on every row, in parallel for large blocks.
fn for_rows(
    src: &[f64],
    dst: &mut [f64],
    n: usize,
    rows: Rows,
    ext: &mut Vec<f64>,
    f: impl Fn(&[f64], &mut [f64], &mut Vec<f64>) + Sync,
) {
    let src = src.chunks(rows.src_stride).take(rows.count);
    let dst = dst.chunks_mut(rows.dst_stride).take(rows.count);
    if rows.count * n >= PARALLEL_THRESHOLD && rows.count > 1 {
        let pairs: Vec<(&[f64], &mut [f64])> = src.zip(dst).collect();
        pairs
            .into_par_iter()
            .for_each_init(Vec::new, |ext, (s, d)| f(&s[..n], &mut d[..n], ext));
    } else {
        for (s, d) in src.zip(dst) {
            f(&s[..n], &mut d[..n], ext);
        }
    }
}

/// Analysis along the last axis: each row of length `n` becomes `[a | d]`.
pub(crate) fn analysis_rows(
    bank: &Bank,
    src: &[f64],
    dst: &mut [f64],
    n: usize,
    rows: Rows,
    ext: &mut Vec<f64>,
) {
    for_rows(src, dst, n, rows, ext, |s, d, e| {
        analysis_row(bank, s, d, e)
    });
}

/// Synthesis along the last axis, the transpose of [`analysis_rows`].
pub(crate) fn synthesis_rows(
    bank: &Bank,
    src: &[f64],
    dst: &mut [f64],
    n: usize,
    rows: Rows,
    ext: &mut Vec<f64>,
) {
    for_rows(src, dst, n, rows, ext, |s, d, e| {
        synthesis_row(bank, s, d, e)
    });
}

/// The first `len` values of `buf`, grown if needed. Callers overwrite every value they read,
/// so the buffer is not cleared (its previous content never reaches a result).
fn scratch(buf: &mut Vec<f64>, len: usize) -> &mut [f64] {
    if buf.len() < len {
        buf.resize(len, 0.0);
    }
    &mut buf[..len]
}

/// `out[q] = x[(start + 2q) mod n]`, without a division per element.
fn periodic_strided_copy(x: &[f64], start: usize, out: &mut [f64]) {
    let n = x.len();
    let mut i = start;
    for o in out.iter_mut() {
        *o = x[i];
        i += 2;
        while i >= n {
            i -= n;
        }
    }
}

/// `out[r] = x[(start + r) mod n]`, as contiguous runs.
fn periodic_copy(x: &[f64], start: usize, out: &mut [f64]) {
    let n = x.len();
    let mut done = 0;
    let mut i = start;
    while done < out.len() {
        let run = (n - i).min(out.len() - done);
        out[done..done + run].copy_from_slice(&x[i..i + run]);
        done += run;
        i = 0;
    }
}

/// Register-block width of the FIR helpers.
const W: usize = 8;

/// Largest number of taps of any filter the kernels see (db20 has 40; user filters may be longer
/// and fall back to heap storage).
const MAX_STACK_TAPS: usize = 64;

/// `lo[o] = Σ_t cl(t) src(t)[o]`, `hi[o] = Σ_t ch(t) src(t)[o]`, summed in increasing `t`,
/// with `W` accumulators per output kept in registers.
#[inline(always)]
fn split_fir<'a>(
    taps: usize,
    coef: impl Fn(usize) -> (f64, f64),
    src: impl Fn(usize) -> &'a [f64],
    lo: &mut [f64],
    hi: &mut [f64],
) {
    let len = lo.len();
    let mut o0 = 0;
    while o0 + W <= len {
        let (mut al, mut ah) = ([0.0; W], [0.0; W]);
        for t in 0..taps {
            let (cl, ch) = coef(t);
            let v: &[f64; W] = src(t)[o0..o0 + W].try_into().expect("block of W");
            for k in 0..W {
                al[k] += cl * v[k];
                ah[k] += ch * v[k];
            }
        }
        lo[o0..o0 + W].copy_from_slice(&al);
        hi[o0..o0 + W].copy_from_slice(&ah);
        o0 += W;
    }
    for o in o0..len {
        let (mut al, mut ah) = (0.0, 0.0);
        for t in 0..taps {
            let (cl, ch) = coef(t);
            let v = src(t)[o];
            al += cl * v;
            ah += ch * v;
        }
        lo[o] = al;
        hi[o] = ah;
    }
}

/// Register-block width of [`merge_fir2`] (two outputs and two sources per block).
const W2: usize = 8;

/// Two outputs from shared loads: `even[o] = Σ_t (c.0 a_t[o] + c.1 d_t[o])` and
/// `odd[o] = Σ_t (c.2 a_t[o] + c.3 d_t[o])` with `c = coef(t)`, summed in increasing `t`.
/// The first `head` taps feed only `even` and the last `tail` taps only `odd` (their other
/// coefficients are zero and are skipped). Results for outputs `o0..o0 + k` are handed to
/// `store(o0, even, odd)`, for `len` outputs in all.
#[inline(always)]
fn merge_fir2<'a>(
    taps: usize,
    (head, tail): (usize, usize),
    coef: impl Fn(usize) -> (f64, f64, f64, f64),
    src: impl Fn(usize) -> (&'a [f64], &'a [f64]),
    len: usize,
    mut store: impl FnMut(usize, &[f64], &[f64]),
) {
    let both = head..taps - tail;
    let mut o0 = 0;
    while o0 + W2 <= len {
        let (mut ae, mut ao) = ([0.0; W2], [0.0; W2]);
        let block = |t: usize| {
            let (a, d) = src(t);
            let a: &[f64; W2] = a[o0..o0 + W2].try_into().expect("block of W2");
            let d: &[f64; W2] = d[o0..o0 + W2].try_into().expect("block of W2");
            (a, d)
        };
        for t in 0..head {
            let (ha, hd, _, _) = coef(t);
            let (a, d) = block(t);
            for k in 0..W2 {
                ae[k] += ha * a[k] + hd * d[k];
            }
        }
        for t in both.clone() {
            let (ha, hd, ka, kd) = coef(t);
            let (a, d) = block(t);
            for k in 0..W2 {
                ae[k] += ha * a[k] + hd * d[k];
                ao[k] += ka * a[k] + kd * d[k];
            }
        }
        for t in taps - tail..taps {
            let (_, _, ka, kd) = coef(t);
            let (a, d) = block(t);
            for k in 0..W2 {
                ao[k] += ka * a[k] + kd * d[k];
            }
        }
        store(o0, &ae, &ao);
        o0 += W2;
    }
    for o in o0..len {
        let (mut ae, mut ao) = (0.0, 0.0);
        for t in 0..taps {
            let (ha, hd, ka, kd) = coef(t);
            let (a, d) = src(t);
            if t < taps - tail {
                ae += ha * a[o] + hd * d[o];
            }
            if t >= head {
                ao += ka * a[o] + kd * d[o];
            }
        }
        store(o, &[ae], &[ao]);
    }
}

/// Stores a block of results at `o0`: full register blocks as fixed-size copies (plain vector
/// moves; a variable-length copy would call `memmove` once per block).
#[inline(always)]
fn store_block(even: &mut [f64], odd: &mut [f64], o0: usize, xe: &[f64], xo: &[f64]) {
    if let (Ok(e), Ok(o)) = (<&[f64; W2]>::try_from(xe), <&[f64; W2]>::try_from(xo)) {
        let de: &mut [f64; W2] = (&mut even[o0..o0 + W2]).try_into().expect("block of W2");
        *de = *e;
        let dodd: &mut [f64; W2] = (&mut odd[o0..o0 + W2]).try_into().expect("block of W2");
        *dodd = *o;
    } else {
        even[o0..o0 + xe.len()].copy_from_slice(xe);
        odd[o0..o0 + xo.len()].copy_from_slice(xo);
    }
}

/// Small list of `usize` (tap indices, row offsets) on the stack for every built-in filter.
struct Indices {
    stack: [usize; MAX_STACK_TAPS],
    heap: Vec<usize>,
    len: usize,
}

impl Indices {
    fn new(capacity: usize) -> Self {
        let heap = if capacity > MAX_STACK_TAPS {
            Vec::with_capacity(capacity)
        } else {
            Vec::new()
        };
        Self {
            stack: [0; MAX_STACK_TAPS],
            heap,
            len: 0,
        }
    }

    fn push(&mut self, v: usize) {
        if self.heap.capacity() > 0 {
            self.heap.push(v);
        } else {
            self.stack[self.len] = v;
        }
        self.len += 1;
    }

    fn as_slice(&self) -> &[usize] {
        if self.heap.capacity() > 0 {
            &self.heap
        } else {
            &self.stack[..self.len]
        }
    }
}

/// Polyphase analysis of one contiguous signal.
fn analysis_row(bank: &Bank, x: &[f64], out: &mut [f64], ext: &mut Vec<f64>) {
    let n = x.len();
    let f = bank.taps();
    let s = bank.shift;
    let half = n / 2;
    // even[q] = x[(2q - f) mod n], odd[q] = x[(2q + 1 - f) mod n]; tap j of output k reads
    // x[2k + s - j] = ext[2k + c] with c = s + f - j, i.e. even[k + c/2] or odd[k + c/2].
    let le = half + (s + f) / 2 + 1;
    let (even, odd) = scratch(ext, 2 * le).split_at_mut(le);
    periodic_strided_copy(x, (f * (n - 1)) % n, even);
    periodic_strided_copy(x, (1 + f * (n - 1)) % n, odd);
    let (even, odd) = (&*even, &*odd);
    let (lo, hi) = out.split_at_mut(half);
    split_fir(
        f,
        |j| (bank.lo[j], bank.hi[j]),
        |j| {
            let c = s + f - j;
            if c.is_multiple_of(2) {
                &even[c / 2..]
            } else {
                &odd[c / 2..]
            }
        },
        lo,
        hi,
    );
}

/// Polyphase synthesis of one contiguous coefficient row `[a | d]`, compiled for AVX2 when the
/// CPU has it (see [`has_avx2`]).
fn synthesis_row(bank: &Bank, y: &[f64], out: &mut [f64], ext: &mut Vec<f64>) {
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: the CPU supports AVX2 (checked at run time).
        return unsafe { synthesis_row_avx2(bank, y, out, ext) };
    }
    synthesis_row_impl(bank, y, out, ext);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn synthesis_row_avx2(bank: &Bank, y: &[f64], out: &mut [f64], ext: &mut Vec<f64>) {
    synthesis_row_impl(bank, y, out, ext);
}

/// Whether the synthesis kernels run their AVX2 build. The two builds perform the same
/// floating-point operations in the same order (Rust neither fuses nor reorders them), so their
/// results are bit-identical; AVX2 only widens the vectors. Measured: the inverse 2-D transform
/// is about 15 % faster with it, the forward one is not, so only synthesis dispatches.
#[cfg(target_arch = "x86_64")]
fn has_avx2() -> bool {
    std::is_x86_feature_detected!("avx2")
}

#[inline(always)]
fn synthesis_row_impl(bank: &Bank, y: &[f64], out: &mut [f64], ext: &mut Vec<f64>) {
    let n = y.len();
    let f = bank.taps();
    let s = bank.shift;
    let half = n / 2;
    // x[2q + p] = Σ_{j: p + j - s even} h_j a[q + (p + j - s)/2] + g_j d[...]. With the periodic
    // extension ae[r] = a[(r - r0) mod half], r0 = s/2 + 1, tap j of the even output and tap
    // j - 1 of the odd output both read ae[q + (j + 2 r0 - s)/2].
    let r0 = s / 2 + 1;
    let le = half + f + 2;
    let (ae, de) = scratch(ext, 2 * le).split_at_mut(le);
    let (a, d) = y.split_at(half);
    let base = (half * (r0 / half + 1) - r0) % half;
    periodic_copy(a, base, ae);
    periodic_copy(d, base, de);
    let (ae, de) = (&*ae, &*de);
    let (taps, coefs, ends) = bank.paired_taps();
    let taps = taps.as_slice();
    merge_fir2(
        taps.len(),
        ends,
        |t| coefs[t],
        |t| {
            let off = (taps[t] + 2 * r0 - s) / 2;
            (&ae[off..], &de[off..])
        },
        half,
        |q0, xe, xo| {
            let pairs = out[2 * q0..2 * (q0 + xe.len())].chunks_exact_mut(2);
            for ((pair, &e), &o) in pairs.zip(xe).zip(xo) {
                pair[0] = e;
                pair[1] = o;
            }
        },
    );
}

/// Analysis along a non-last axis: `outer` blocks of `n` rows of length `inner`; row `i` of a
/// block at `i * stride` (`rows.src_stride`, `rows.dst_stride`), blocks `n * stride` apart.
pub(crate) fn analysis_cols(
    bank: &Bank,
    src: &[f64],
    dst: &mut [f64],
    n: usize,
    inner: usize,
    rows: Rows,
) {
    let half = n / 2;
    let (ss, ds) = (rows.src_stride, rows.dst_stride);
    let f = bank.taps();
    let one = |o: usize, lo: &mut [f64], hi: &mut [f64], s_blk: &[f64]| {
        let mut idx = Indices::new(f);
        (0..f).for_each(|j| idx.push(bank.source(o, j, n) * ss));
        let idx = idx.as_slice();
        split_fir(
            f,
            |j| (bank.lo[j], bank.hi[j]),
            |j| &s_blk[idx[j]..idx[j] + inner],
            &mut lo[..inner],
            &mut hi[..inner],
        );
    };
    let parallel = n * inner >= PARALLEL_THRESHOLD;
    for (d_blk, s_blk) in dst
        .chunks_mut(n * ds)
        .zip(src.chunks(n * ss))
        .take(rows.count)
    {
        let (lo, hi) = d_blk.split_at_mut(half * ds);
        if parallel {
            lo.par_chunks_mut(ds)
                .zip(hi.par_chunks_mut(ds))
                .enumerate()
                .for_each(|(o, (l, h))| one(o, l, h, s_blk));
        } else {
            for (o, (l, h)) in lo.chunks_mut(ds).zip(hi.chunks_mut(ds)).enumerate() {
                one(o, l, h, s_blk);
            }
        }
    }
}

/// Inputs of one output-row pair of the column synthesis.
struct PairJob<'a> {
    ends: (usize, usize),
    coefs: &'a [(f64, f64, f64, f64)],
    idx: &'a [usize],
    a: &'a [f64],
    d: &'a [f64],
    inner: usize,
}

#[inline(always)]
fn synthesis_pair(job: &PairJob<'_>, even: &mut [f64], odd: &mut [f64]) {
    let PairJob {
        ends,
        coefs,
        idx,
        a,
        d,
        inner,
    } = *job;
    merge_fir2(
        idx.len(),
        ends,
        |i| coefs[i],
        |i| (&a[idx[i]..idx[i] + inner], &d[idx[i]..idx[i] + inner]),
        inner,
        |o0, xe, xo| store_block(even, odd, o0, xe, xo),
    );
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn synthesis_pair_avx2(job: &PairJob<'_>, even: &mut [f64], odd: &mut [f64]) {
    synthesis_pair(job, even, odd);
}

/// Synthesis along a non-last axis, the transpose of [`analysis_cols`]. Output rows `t` and
/// `t + 1` (t even) are computed together: tap `j` of row `t` and tap `j - 1` of row `t + 1`
/// read the same coefficient rows.
pub(crate) fn synthesis_cols(
    bank: &Bank,
    src: &[f64],
    dst: &mut [f64],
    n: usize,
    inner: usize,
    rows: Rows,
) {
    let half = n / 2;
    let (ss, ds) = (rows.src_stride, rows.dst_stride);
    let f = bank.taps();
    let s = bank.shift;
    let (taps, coefs, ends) = bank.paired_taps();
    let taps = taps.as_slice();
    let one = |t: usize, pair: &mut [f64], s_blk: &[f64]| {
        let (a, d) = s_blk.split_at(half * ss);
        let mut idx = Indices::new(taps.len());
        taps.iter()
            .for_each(|&j| idx.push(((t + j + (f + 1) * n - s) / 2 % half) * ss));
        let (even, odd) = pair.split_at_mut(ds);
        let job = PairJob {
            ends,
            coefs: &coefs,
            idx: idx.as_slice(),
            a,
            d,
            inner,
        };
        #[cfg(target_arch = "x86_64")]
        if has_avx2() {
            // SAFETY: the CPU supports AVX2 (checked at run time).
            return unsafe { synthesis_pair_avx2(&job, even, odd) };
        }
        synthesis_pair(&job, even, odd);
    };
    let parallel = n * inner >= PARALLEL_THRESHOLD;
    for (d_blk, s_blk) in dst
        .chunks_mut(n * ds)
        .zip(src.chunks(n * ss))
        .take(rows.count)
    {
        if parallel {
            d_blk
                .par_chunks_mut(2 * ds)
                .enumerate()
                .for_each(|(p, out)| one(2 * p, out, s_blk));
        } else {
            for (p, out) in d_blk.chunks_mut(2 * ds).enumerate() {
                one(2 * p, out, s_blk);
            }
        }
    }
}

/// Analysis or synthesis of one axis of a block of shape `dims` whose rows (last axis) lie
/// `src_stride` / `dst_stride` apart in `src` / `dst` (the block's row length when compact).
#[allow(clippy::too_many_arguments)]
pub(crate) fn pass(
    bank: &Bank,
    inverse: bool,
    axis: usize,
    dims: &[usize],
    src: (&[f64], usize),
    dst: (&mut [f64], usize),
    ext: &mut Vec<f64>,
) {
    let n = dims[axis];
    let d = dims.len();
    let row = dims[d - 1];
    // Rows of the last axis in one "row" of the column kernel (1 in 2-D).
    let inner_rows: usize = dims[axis + 1..].iter().product::<usize>() / row;
    let outer: usize = dims[..axis].iter().product();
    if axis == d - 1 {
        let rows = Rows {
            count: dims[..d - 1].iter().product(),
            src_stride: src.1,
            dst_stride: dst.1,
        };
        if inverse {
            synthesis_rows(bank, src.0, dst.0, n, rows, ext);
        } else {
            analysis_rows(bank, src.0, dst.0, n, rows, ext);
        }
    } else {
        // A non-last axis: a "row" of the column kernel is everything after the axis, which is
        // contiguous only when the block is compact (checked by the callers).
        let inner = inner_rows * row;
        let (ss, ds) = if inner_rows == 1 {
            (src.1, dst.1)
        } else {
            (inner, inner)
        };
        let rows = Rows {
            count: outer,
            src_stride: ss,
            dst_stride: ds,
        };
        if inverse {
            synthesis_cols(bank, src.0, dst.0, n, inner, rows);
        } else {
            analysis_cols(bank, src.0, dst.0, n, inner, rows);
        }
    }
}

/// Scratch of [`level`]: two block-sized buffers and the per-row extension.
#[derive(Debug, Default)]
pub(crate) struct Buffers {
    a: Vec<f64>,
    b: Vec<f64>,
    ext: Vec<f64>,
}

/// One level of the separable transform of the block of shape `dims` at the start of `x`, in
/// place: analysis along the last axis first, then the others; synthesis in the reverse order.
/// In 2-D the block's rows may lie `stride` apart (a sub-block of a packed array); in 1-D and
/// 3-D the block must be compact (`stride == dims[last]`).
pub(crate) fn level(
    bank: &Bank,
    inverse: bool,
    dims: &[usize],
    x: &mut [f64],
    stride: usize,
    bufs: &mut Buffers,
) {
    let len: usize = dims.iter().product();
    let row = dims[dims.len() - 1];
    let Buffers { a, b, ext } = bufs;
    let (a, b) = (scratch(a, len), scratch(b, len));
    let d = dims.len();
    let axes: Vec<usize> = if inverse {
        (0..d).collect()
    } else {
        (0..d).rev().collect()
    };
    match d {
        1 => {
            pass(bank, inverse, axes[0], dims, (x, row), (a, row), ext);
            x[..len].copy_from_slice(a);
        }
        2 => {
            pass(bank, inverse, axes[0], dims, (x, stride), (a, row), ext);
            pass(bank, inverse, axes[1], dims, (a, row), (x, stride), ext);
        }
        3 => {
            debug_assert_eq!(stride, row, "3-D blocks are compact");
            pass(bank, inverse, axes[0], dims, (x, row), (a, row), ext);
            pass(bank, inverse, axes[1], dims, (a, row), (b, row), ext);
            pass(bank, inverse, axes[2], dims, (b, row), (x, row), ext);
        }
        _ => unreachable!("plans are validated to 1-3 dimensions"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The AVX2 and baseline builds of the synthesis kernels give bit-identical results.
    #[test]
    fn dispatched_synthesis_is_bit_identical_to_the_baseline() {
        for name in ["haar", "db4", "sym5", "coif3", "db20"] {
            let bank = Bank::new(&Wavelet::new(name).unwrap());
            let n = 64;
            let y: Vec<f64> = (0..n)
                .map(|i| ((i * 37 % 101) as f64 - 50.0) / 7.0)
                .collect();
            let (mut a, mut b) = (vec![0.0; n], vec![0.0; n]);
            synthesis_row(&bank, &y, &mut a, &mut Vec::new());
            synthesis_row_impl(&bank, &y, &mut b, &mut Vec::new());
            assert_eq!(a, b, "{name} rows");
            let inner = 24;
            let src: Vec<f64> = (0..n * inner)
                .map(|i| ((i * 53 % 97) as f64 - 48.0) / 5.0)
                .collect();
            let mut dispatched = vec![0.0; n * inner];
            let rows = Rows {
                count: 1,
                src_stride: inner,
                dst_stride: inner,
            };
            synthesis_cols(&bank, &src, &mut dispatched, n, inner, rows);
            // Baseline: the same pairs through the non-dispatched function.
            let (taps, coefs, ends) = bank.paired_taps();
            let (half, f, s) = (n / 2, bank.taps(), bank.shift);
            let mut baseline = vec![0.0; n * inner];
            let (a_rows, d_rows) = src.split_at(half * inner);
            for (p, pair) in baseline.chunks_mut(2 * inner).enumerate() {
                let idx: Vec<usize> = taps
                    .as_slice()
                    .iter()
                    .map(|&j| ((2 * p + j + (f + 1) * n - s) / 2 % half) * inner)
                    .collect();
                let (even, odd) = pair.split_at_mut(inner);
                let job = PairJob {
                    ends,
                    coefs: &coefs,
                    idx: &idx,
                    a: a_rows,
                    d: d_rows,
                    inner,
                };
                synthesis_pair(&job, even, odd);
            }
            assert_eq!(dispatched, baseline, "{name} columns");
        }
    }
}
