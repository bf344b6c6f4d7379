//! The 1-D scattering transform, orders 0–2, in kymatio's layout.

use crate::error::{ScatteringError, check_finite, invalid};
use crate::filters::{MorletBank1d, temporal_support};
use crate::fourier::{Fft1, SparseFilter, ZERO, modulus, reflect};
use ndarray::{Array3, ArrayView1, ArrayView2, ArrayViewMut2, Axis};
use rayon::prelude::*;
use rustfft::FftPlanner;
use rustfft::num_complex::Complex64;

/// Metadata of one output channel of [`Scattering1d`].
#[derive(Debug, Clone, PartialEq)]
pub struct Path1d {
    /// Scattering order, 0, 1 or 2.
    pub order: usize,
    /// Filter indices along the path (first-order index, then second-order index).
    pub n: Vec<usize>,
    /// Dyadic subsampling indices $j$ along the path.
    pub j: Vec<usize>,
    /// Central frequencies $\xi$ (cycles per sample) along the path.
    pub xi: Vec<f64>,
    /// Bandwidths $\sigma$ along the path.
    pub sigma: Vec<f64>,
}

/// A 1-D scattering plan, kymatio 0.3's `Scattering1D(J, shape=N, Q, T, max_order)` with
/// averaging (the default): reflect padding to a power of two, first-order wavelets $Q_1$ per
/// octave, second-order $Q_2$ per octave, low-pass of support $T$ (default $2^J$).
#[derive(Debug, Clone)]
pub struct Scattering1d {
    n_input: usize,
    n_padded: usize,
    pad_left: usize,
    ind_start: Vec<usize>,
    ind_end: Vec<usize>,
    max_order: usize,
    bank: MorletBank1d,
    /// First-order wavelets for subsampling by $2^{\min(j_1, \log_2 T)}$.
    psi1_sparse: Vec<SparseFilter>,
    /// `psi2_sparse[n2][k1]`: second-order wavelet at level `k1`, for subsampling by
    /// $2^{\min(j_2,\log_2 T) - k_1}$.
    psi2_sparse: Vec<Vec<SparseFilter>>,
    /// The low-pass at level `r`, for subsampling by $2^{\log_2 T - r}$.
    phi_sparse: Vec<SparseFilter>,
    plans: Vec<Fft1>,
    paths: Vec<Path1d>,
}

/// Reusable buffers of [`Scattering1d::forward_one`]; any content is overwritten.
#[derive(Debug, Default, Clone)]
pub struct Workspace1d {
    u0: Vec<Complex64>,
    u1: Vec<Complex64>,
    u2: Vec<Complex64>,
    low: Vec<Complex64>,
    scratch: Vec<Complex64>,
}

impl Scattering1d {
    /// kymatio's `Scattering1D(J, shape=n, Q=q)` (second order with $Q_2 = 1$, $T = 2^J$).
    ///
    /// # Errors
    /// See [`Scattering1d::with_options`].
    pub fn new(n: usize, j: usize, q: usize) -> Result<Self, ScatteringError> {
        Self::with_options(n, j, (q, 1), None, 2)
    }

    /// All options: `q = (Q1, Q2)`, averaging support `t` ($1 \le T \le N$, default $2^J$),
    /// `max_order` 1 or 2.
    ///
    /// # Errors
    /// `J = 0`, `Q1` or `Q2` zero, $T$ out of range, `max_order` not 1 or 2, or a length too
    /// short for the padding the low-pass needs (kymatio's "too large padding").
    pub fn with_options(
        n: usize,
        j: usize,
        q: (usize, usize),
        t: Option<usize>,
        max_order: usize,
    ) -> Result<Self, ScatteringError> {
        if j == 0 || j > 24 {
            return Err(invalid("J", j, "the number of octaves must be in 1..=24"));
        }
        if q.0 == 0 || q.1 == 0 {
            return Err(invalid(
                "Q",
                format!("{q:?}"),
                "wavelets per octave must be at least 1",
            ));
        }
        if !(1..=2).contains(&max_order) {
            return Err(invalid("max_order", max_order, "must be 1 or 2"));
        }
        if n < 2 {
            return Err(ScatteringError::SizeIncompatibleWithJ {
                axis: 0,
                size: n,
                j,
                reason: "a signal needs at least 2 samples".into(),
            });
        }
        let t = t.unwrap_or(1 << j);
        if t == 0 || t > n {
            return Err(invalid(
                "T",
                t,
                &format!("the averaging support must be in 1..={n}"),
            ));
        }
        let log2_t = (t as f64).log2().floor() as usize;
        let mut planner = FftPlanner::new();
        // kymatio's padding: three times the low-pass's temporal support on each side.
        let phi_in = crate::filters::MorletBank1d::low_pass_only(n, t, &mut planner);
        let min_to_pad = 3 * temporal_support(&phi_in, 1e-3, &mut planner);
        let j_max_support = ((3 * n - 2) as f64).log2().floor() as usize;
        let j_pad = (((n + 2 * min_to_pad) as f64).log2().ceil() as usize).min(j_max_support);
        let n_padded = 1usize << j_pad;
        if n_padded < n {
            return Err(ScatteringError::SizeIncompatibleWithJ {
                axis: 0,
                size: n,
                j,
                reason: format!("padded length {n_padded} is shorter than the signal"),
            });
        }
        let pad_left = (n_padded - n) / 2;
        let pad_right = n_padded - n - pad_left;
        if pad_left.max(pad_right) >= n {
            return Err(ScatteringError::SizeIncompatibleWithJ {
                axis: 0,
                size: n,
                j,
                reason: format!("reflect padding to {n_padded} needs a longer signal"),
            });
        }
        let levels = log2_t.max(j) + 1;
        let mut ind_start = vec![pad_left];
        let mut ind_end = vec![pad_left + n];
        for k in 1..levels {
            ind_start.push(ind_start[k - 1].div_ceil(2));
            ind_end.push(ind_end[k - 1].div_ceil(2));
        }
        let bank = MorletBank1d::kymatio(n_padded, j, q, t);
        if n_padded >> log2_t == 0 {
            return Err(invalid("T", t, "longer than the padded signal"));
        }
        let sparse = |f: &[f64], k: usize| SparseFilter::new(f, (1, f.len()), (1, k));
        let psi1_sparse = bank
            .psi1
            .iter()
            .map(|p| sparse(&p.levels[0], 1 << p.j.min(log2_t)))
            .collect();
        let psi2_sparse = bank
            .psi2
            .iter()
            .map(|p| {
                let top = p.j.min(log2_t);
                p.levels
                    .iter()
                    .enumerate()
                    .map(|(k1, f)| sparse(f, 1 << top.saturating_sub(k1)))
                    .collect()
            })
            .collect();
        let phi_sparse = bank
            .phi
            .iter()
            .enumerate()
            .map(|(r, f)| sparse(f, 1 << log2_t.saturating_sub(r)))
            .collect();
        let plans = (0..=j_pad)
            .map(|r| Fft1::new(&mut planner, n_padded >> r))
            .collect();
        let mut paths = vec![Path1d {
            order: 0,
            n: vec![],
            j: vec![],
            xi: vec![],
            sigma: vec![],
        }];
        let mut second = Vec::new();
        for (n1, p1) in bank.psi1.iter().enumerate() {
            paths.push(Path1d {
                order: 1,
                n: vec![n1],
                j: vec![p1.j],
                xi: vec![p1.xi],
                sigma: vec![p1.sigma],
            });
            if max_order == 2 {
                for (n2, p2) in bank.psi2.iter().enumerate() {
                    if p2.j > p1.j {
                        second.push(Path1d {
                            order: 2,
                            n: vec![n1, n2],
                            j: vec![p1.j, p2.j],
                            xi: vec![p1.xi, p2.xi],
                            sigma: vec![p1.sigma, p2.sigma],
                        });
                    }
                }
            }
        }
        paths.extend(second);
        Ok(Self {
            n_input: n,
            n_padded,
            pad_left,
            ind_start,
            ind_end,
            max_order,
            bank,
            psi1_sparse,
            psi2_sparse,
            phi_sparse,
            plans,
            paths,
        })
    }

    /// Input length $N$.
    pub fn len_input(&self) -> usize {
        self.n_input
    }

    /// The filter bank (on the padded length).
    pub fn filters(&self) -> &MorletBank1d {
        &self.bank
    }

    /// Metadata of every output channel in output order (kymatio's `meta()`).
    pub fn paths(&self) -> &[Path1d] {
        &self.paths
    }

    /// Number of output channels.
    pub fn n_channels(&self) -> usize {
        self.paths.len()
    }

    /// Length of each output channel.
    pub fn output_len(&self) -> usize {
        let l = self.bank.log2_t;
        self.ind_end[l] - self.ind_start[l]
    }

    /// Transforms a batch `(B, N)` into `(B, C, N')` in parallel over the batch (thread-count
    /// independent).
    ///
    /// # Errors
    /// An empty batch, a wrong length, or a non-finite value.
    pub fn forward(&self, x: ArrayView2<'_, f64>) -> Result<Array3<f64>, ScatteringError> {
        let (b, n) = x.dim();
        if b == 0 {
            return Err(wcrg_core::Error::Empty {
                what: "scattering input batch".into(),
            }
            .into());
        }
        if n != self.n_input {
            return Err(wcrg_core::Error::ShapeMismatch {
                what: "scattering input (B, N)".into(),
                expected: vec![b, self.n_input],
                actual: vec![b, n],
            }
            .into());
        }
        check_finite("scattering input", x.iter())?;
        let mut out = Array3::zeros((b, self.n_channels(), self.output_len()));
        out.axis_iter_mut(Axis(0))
            .into_par_iter()
            .zip(x.axis_iter(Axis(0)))
            .for_each_init(Workspace1d::default, |ws, (o, xi)| {
                self.forward_one(xi, o, ws)
            });
        Ok(out)
    }

    /// Transforms one signal into `out` of shape `(C, N')`.
    ///
    /// # Panics
    /// When `x` or `out` has the wrong shape.
    pub fn forward_one(
        &self,
        x: ArrayView1<'_, f64>,
        mut out: ArrayViewMut2<'_, f64>,
        ws: &mut Workspace1d,
    ) {
        assert_eq!(x.len(), self.n_input, "input length (expected, actual)");
        assert_eq!(
            out.dim(),
            (self.n_channels(), self.output_len()),
            "output shape (expected, actual)"
        );
        let np = self.n_padded;
        let log2_t = self.bank.log2_t;
        let Workspace1d {
            u0,
            u1,
            u2,
            low,
            scratch,
        } = ws;
        u0.resize(np, ZERO);
        for (i, u) in u0.iter_mut().enumerate() {
            *u = Complex64::new(
                x[reflect(i as isize - self.pad_left as isize, self.n_input)],
                0.0,
            );
        }
        self.plans[0].run(u0, false, scratch);
        self.low_pass(u0, 0, low, scratch, out.index_axis_mut(Axis(0), 0));
        let mut channel2 = 1 + self.bank.psi1.len();
        for (n1, p1) in self.bank.psi1.iter().enumerate() {
            let k1 = p1.j.min(log2_t);
            u1.resize(np >> k1, ZERO);
            self.psi1_sparse[n1].apply(u0, u1);
            self.plans[k1].run(u1, true, scratch);
            modulus(u1);
            self.plans[k1].run(u1, false, scratch);
            self.low_pass(u1, k1, low, scratch, out.index_axis_mut(Axis(0), 1 + n1));
            if self.max_order < 2 {
                continue;
            }
            for (n2, p2) in self.bank.psi2.iter().enumerate() {
                if p2.j <= p1.j {
                    continue;
                }
                let k2 = p2.j.min(log2_t) - k1;
                u2.resize(np >> (k1 + k2), ZERO);
                self.psi2_sparse[n2][k1].apply(u1, u2);
                self.plans[k1 + k2].run(u2, true, scratch);
                modulus(u2);
                self.plans[k1 + k2].run(u2, false, scratch);
                self.low_pass(
                    u2,
                    k1 + k2,
                    low,
                    scratch,
                    out.index_axis_mut(Axis(0), channel2),
                );
                channel2 += 1;
            }
        }
    }

    fn low_pass(
        &self,
        src: &[Complex64],
        level: usize,
        low: &mut Vec<Complex64>,
        scratch: &mut Vec<Complex64>,
        mut out: ndarray::ArrayViewMut1<'_, f64>,
    ) {
        let log2_t = self.bank.log2_t;
        let k = log2_t.saturating_sub(level);
        let final_level = level + k;
        low.resize(self.n_padded >> final_level, ZERO);
        self.phi_sparse[level].apply(src, low);
        self.plans[final_level].run(low, true, scratch);
        let start = self.ind_start[final_level];
        for (i, o) in out.iter_mut().enumerate() {
            *o = low[start + i].re;
        }
    }
}
