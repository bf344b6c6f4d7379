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

    /// The transform of a real field.
    fn transform(&mut self, x: &[f64], shape: &[usize]) -> Vec<Complex64> {
        self.plan(shape);
        let GramScratch { fft, lane, .. } = self;
        let mut out: Vec<Complex64> = x.iter().map(|&v| Complex64::new(v, 0.0)).collect();
        fft.as_ref().expect("planned").run(&mut out, false, lane);
        out
    }

    /// The real part of the normalised inverse transform.
    fn inverse_real(&mut self, mut z: Vec<Complex64>, shape: &[usize]) -> Vec<f64> {
        self.plan(shape);
        let GramScratch { fft, lane, .. } = self;
        fft.as_ref().expect("planned").run(&mut z, true, lane);
        let n = z.len() as f64;
        z.iter().map(|c| c.re / n).collect()
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
        JacobianBlock::ChannelShifts { features, .. } => features.len(),
        _ => unreachable!("estimators handle every JacobianBlock of wcrg-core"),
    }
}

/// The free parts of a channel-coupling row: `(channel e, field channel p, shift σ)`, each with
/// weight ½: the row is Σ ½ e_e ⊗ x_p(· − σ).
fn terms(free: &[bool], (c, d, s): &(usize, usize, Vec<isize>)) -> Vec<(usize, usize, Vec<isize>)> {
    let neg: Vec<isize> = s.iter().map(|v| -v).collect();
    [(*c, *d, s.clone()), (*d, *c, neg)]
        .into_iter()
        .filter(|(e, _, _)| free[*e])
        .collect()
}

/// FFTs of every channel of a `(C, spatial…)` field and their pairwise correlations.
struct Channels {
    spatial: Vec<usize>,
    hats: Vec<Vec<Complex64>>,
    pairs: Vec<Option<Vec<f64>>>,
}

impl Channels {
    fn new(x: &[f64], shape: &[usize], sc: &mut GramScratch) -> Self {
        let spatial = shape[1..].to_vec();
        let n: usize = spatial.iter().product();
        let hats = x
            .chunks(n)
            .map(|ch| sc.transform(ch, &spatial))
            .collect::<Vec<_>>();
        let c = shape[0];
        Self {
            spatial,
            hats,
            pairs: vec![None; c * c],
        }
    }

    /// Correlation of channel `p` of x with the field whose transform is `w_hat`.
    fn correlate(&self, p: usize, w_hat: &[Complex64], sc: &mut GramScratch) -> Vec<f64> {
        let z: Vec<Complex64> = self.hats[p]
            .iter()
            .zip(w_hat)
            .map(|(x, w)| x.conj() * w)
            .collect();
        sc.inverse_real(z, &self.spatial)
    }

    /// $C_{pq}(r) = \sum_u x_p(u) x_q(u + r)$.
    fn pair(&mut self, p: usize, q: usize, sc: &mut GramScratch) -> &[f64] {
        let c = self.hats.len();
        if self.pairs[p * c + q].is_none() {
            let w = self.hats[q].clone();
            self.pairs[p * c + q] = Some(self.correlate(p, &w, sc));
        }
        self.pairs[p * c + q].as_deref().expect("computed")
    }
}

/// Flat index of the periodic shift `a - b`, without allocating.
fn index_diff(shape: &[usize], a: &[isize], b: &[isize]) -> usize {
    shape
        .iter()
        .zip(a.iter().zip(b))
        .fold(0, |acc, (&n, (&u, &w))| {
            acc * n + (u - w).rem_euclid(n as isize) as usize
        })
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
    let mut channels: Option<Channels> = None;
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
                (
                    JacobianBlock::ChannelShifts { free, features: fa },
                    JacobianBlock::ChannelShifts { features: fb, .. },
                ) => {
                    let ch = channels.get_or_insert_with(|| Channels::new(x, shape, sc));
                    let spatial = shape[1..].to_vec();
                    let ta: Vec<_> = fa.iter().map(|f| terms(free, f)).collect();
                    let tb: Vec<_> = if i == j {
                        ta.clone()
                    } else {
                        fb.iter().map(|f| terms(free, f)).collect()
                    };
                    // Every channel pair's correlation, computed once.
                    let c = shape[0];
                    let pairs: Vec<Vec<f64>> = (0..c * c)
                        .map(|pq| ch.pair(pq / c, pq % c, sc).to_vec())
                        .collect();
                    for (r, tr) in ta.iter().enumerate() {
                        for (q, tq) in tb.iter().enumerate() {
                            if i == j && q < r {
                                continue;
                            }
                            let mut v = 0.0;
                            for (e, p, sa) in tr {
                                for (e2, p2, sb) in tq {
                                    if e == e2 {
                                        v += 0.25 * pairs[p * c + p2][index_diff(&spatial, sa, sb)];
                                    }
                                }
                            }
                            put(oi + r, oj + q, v);
                        }
                    }
                }
                (JacobianBlock::ChannelShifts { free, features }, JacobianBlock::Dense(a))
                | (JacobianBlock::Dense(a), JacobianBlock::ChannelShifts { free, features }) => {
                    let shifts_first = matches!(bi, JacobianBlock::ChannelShifts { .. });
                    let ch = channels.get_or_insert_with(|| Channels::new(x, shape, sc));
                    let spatial = shape[1..].to_vec();
                    let n: usize = spatial.iter().product();
                    for (q, row) in a.outer_iter().enumerate() {
                        let w: Vec<f64> = row.iter().copied().collect();
                        let w_hats: Vec<Vec<Complex64>> =
                            w.chunks(n).map(|c| sc.transform(c, &spatial)).collect();
                        let mut corr: Vec<Option<Vec<f64>>> = vec![None; shape[0] * shape[0]];
                        for (r, f) in features.iter().enumerate() {
                            let mut v = 0.0;
                            for (e, p, sg) in terms(free, f) {
                                let c = corr[p * shape[0] + e]
                                    .get_or_insert_with(|| ch.correlate(p, &w_hats[e], sc));
                                v += 0.5 * c[index(&spatial, &sg, 1)];
                            }
                            if shifts_first {
                                put(oi + r, oj + q, v)
                            } else {
                                put(oi + q, oj + r, v)
                            }
                        }
                    }
                }
                _ => panic!(
                    "Jacobian blocks of different field layouts (single-channel shifts with channel couplings) cannot be combined"
                ),
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
            JacobianBlock::ChannelShifts { free, features } => {
                let ch = Channels::new(x, shape, sc);
                let spatial = shape[1..].to_vec();
                let n: usize = spatial.iter().product();
                let g_hats: Vec<Vec<Complex64>> =
                    g.chunks(n).map(|c| sc.transform(c, &spatial)).collect();
                let mut corr: Vec<Option<Vec<f64>>> = vec![None; shape[0] * shape[0]];
                for f in features {
                    let mut v = 0.0;
                    for (e, p, sg) in terms(free, f) {
                        let c = corr[p * shape[0] + e]
                            .get_or_insert_with(|| ch.correlate(p, &g_hats[e], sc));
                        v += 0.5 * c[index(&spatial, &sg, 1)];
                    }
                    out.push(v);
                }
            }
            _ => unreachable!("estimators handle every JacobianBlock of wcrg-core"),
        }
    }
    out
}

fn as_faer(a: &Array2<f64>) -> MatRef<'_, f64> {
    MatRef::from_row_major_slice(a.as_slice().expect("standard layout"), a.nrows(), a.ncols())
}
