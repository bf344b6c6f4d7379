//! Gram matrices $JJ^\top$ and products $Jg$ from Jacobian blocks, with FFT correlations for
//! translation-invariant blocks.
//!
//! For shift rows $\rho_s = \frac12(x(\cdot - s) + x(\cdot + s))$ and the correlation
//! $R_w(r) = \sum_u x(u)\,w(u + r)$: $\langle\rho_s, w\rangle = \frac12(R_w(s) + R_w(-s))$ and
//! $\langle\rho_s, \rho_{s'}\rangle = \frac12(C(s - s') + C(s + s'))$ with $C = R_x$.

use faer::MatRef;
use ndarray::Array2;
use wcrg_core::JacobianBlock;
use wcrg_core::fft::{Complex64, FftNd};

/// Reusable FFT plan and buffers.
#[derive(Default)]
pub(crate) struct GramScratch {
    fft: Option<FftNd>,
    x_hat: Vec<Complex64>,
    buf: Vec<Complex64>,
    lane: Vec<Complex64>,
}

impl GramScratch {
    fn plan(&mut self, shape: &[usize]) -> &FftNd {
        if self.fft.as_ref().is_none_or(|f| f.shape() != shape) {
            self.fft = Some(FftNd::new(shape));
        }
        self.fft.as_ref().expect("planned")
    }

    /// Prepares $\hat x$ for correlations with `x`.
    fn load(&mut self, x: &[f64], shape: &[usize]) {
        self.plan(shape);
        let GramScratch {
            fft, x_hat, lane, ..
        } = self;
        x_hat.clear();
        x_hat.extend(x.iter().map(|&v| Complex64::new(v, 0.0)));
        fft.as_ref().expect("planned").run(x_hat, false, lane);
    }

    /// $R_w(r)$ for every $r$ (row-major), after [`GramScratch::load`].
    fn correlate(&mut self, w: &[f64]) -> Vec<f64> {
        let GramScratch {
            fft,
            x_hat,
            buf,
            lane,
        } = self;
        let fft = fft.as_ref().expect("loaded");
        buf.clear();
        buf.extend(w.iter().map(|&v| Complex64::new(v, 0.0)));
        fft.run(buf, false, lane);
        buf.iter_mut()
            .zip(x_hat.iter())
            .for_each(|(b, x)| *b *= x.conj());
        fft.run(buf, true, lane);
        let n = buf.len() as f64;
        buf.iter().map(|c| c.re / n).collect()
    }
}

fn rows(b: &JacobianBlock) -> usize {
    match b {
        JacobianBlock::Dense(a) => a.nrows(),
        JacobianBlock::Shifts(s) => s.len(),
        _ => unreachable!("estimators handle every JacobianBlock of wcrg-core"),
    }
}

/// Flat index of the periodic shift `sign * s`.
fn index(shape: &[usize], s: &[isize], sign: isize) -> usize {
    s.iter().zip(shape).fold(0, |acc, (&v, &n)| {
        acc * n + (sign * v).rem_euclid(n as isize) as usize
    })
}

/// Adds $JJ^\top$ of one sample to the row-major $K\times K$ matrix `h`.
pub(crate) fn add_gram(
    blocks: &[JacobianBlock],
    x: &[f64],
    shape: &[usize],
    h: &mut [f64],
    sc: &mut GramScratch,
) {
    let k: usize = blocks.iter().map(rows).sum();
    let mut offsets = vec![0];
    blocks
        .iter()
        .for_each(|b| offsets.push(offsets.last().copied().unwrap_or(0) + rows(b)));
    let has_shifts = blocks.iter().any(|b| matches!(b, JacobianBlock::Shifts(_)));
    let auto = if has_shifts {
        sc.load(x, shape);
        Some(sc.correlate(x))
    } else {
        None
    };
    let mut put = |a: usize, b: usize, v: f64| {
        h[a * k + b] += v;
        if a != b {
            h[b * k + a] += v;
        }
    };
    for (i, bi) in blocks.iter().enumerate() {
        for (j, bj) in blocks.iter().enumerate().skip(i) {
            let (oi, oj) = (offsets[i], offsets[j]);
            match (bi, bj) {
                (JacobianBlock::Dense(a), JacobianBlock::Dense(b)) => {
                    let (a, b) = (as_faer(a), as_faer(b));
                    let g = a * b.transpose();
                    for r in 0..g.nrows() {
                        for c in 0..g.ncols() {
                            if i != j || c >= r {
                                put(oi + r, oj + c, g[(r, c)]);
                            }
                        }
                    }
                }
                (JacobianBlock::Shifts(s), JacobianBlock::Shifts(t)) => {
                    let c = auto.as_ref().expect("loaded");
                    for (r, sr) in s.iter().enumerate() {
                        for (q, tq) in t.iter().enumerate() {
                            if i == j && q < r {
                                continue;
                            }
                            let diff: Vec<isize> = sr.iter().zip(tq).map(|(a, b)| a - b).collect();
                            let sum: Vec<isize> = sr.iter().zip(tq).map(|(a, b)| a + b).collect();
                            put(
                                oi + r,
                                oj + q,
                                0.5 * (c[index(shape, &diff, 1)] + c[index(shape, &sum, 1)]),
                            );
                        }
                    }
                }
                (JacobianBlock::Shifts(s), JacobianBlock::Dense(a))
                | (JacobianBlock::Dense(a), JacobianBlock::Shifts(s)) => {
                    let shifts_first = matches!(bi, JacobianBlock::Shifts(_));
                    for (q, row) in a.outer_iter().enumerate() {
                        let w: Vec<f64> = row.iter().copied().collect();
                        let rw = sc.correlate(&w);
                        for (r, sr) in s.iter().enumerate() {
                            let v = 0.5 * (rw[index(shape, sr, 1)] + rw[index(shape, sr, -1)]);
                            if shifts_first {
                                put(oi + r, oj + q, v)
                            } else {
                                put(oi + q, oj + r, v)
                            }
                        }
                    }
                }
                _ => unreachable!("estimators handle every JacobianBlock of wcrg-core"),
            }
        }
    }
}

/// $Jg$ for one sample.
pub(crate) fn apply(
    blocks: &[JacobianBlock],
    x: &[f64],
    shape: &[usize],
    g: &[f64],
    sc: &mut GramScratch,
) -> Vec<f64> {
    let mut out = Vec::new();
    let mut rg = None;
    for b in blocks {
        match b {
            JacobianBlock::Dense(a) => out.extend(
                a.outer_iter()
                    .map(|row| row.iter().zip(g).map(|(p, q)| p * q).sum::<f64>()),
            ),
            JacobianBlock::Shifts(s) => {
                let r = rg.get_or_insert_with(|| {
                    sc.load(x, shape);
                    sc.correlate(g)
                });
                out.extend(
                    s.iter()
                        .map(|sr| 0.5 * (r[index(shape, sr, 1)] + r[index(shape, sr, -1)])),
                );
            }
            _ => unreachable!("estimators handle every JacobianBlock of wcrg-core"),
        }
    }
    out
}

fn as_faer(a: &Array2<f64>) -> MatRef<'_, f64> {
    MatRef::from_row_major_slice(a.as_slice().expect("standard layout"), a.nrows(), a.ncols())
}
