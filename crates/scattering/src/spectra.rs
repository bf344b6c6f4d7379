//! Scattering spectra (scattering covariance) of 2-D periodic fields, with their adjoint.

use crate::error::{ScatteringError, check_finite, invalid};
use crate::filters::MorletBank2d;
use crate::fourier::{Fft2, ZERO};
use ndarray::{Array1, ArrayView2, ArrayView3, ArrayViewMut2, Axis};
use rayon::prelude::*;
use rustfft::FftPlanner;
use rustfft::num_complex::Complex64;

/// What one entry of the full statistics vector of [`ScatteringSpectra`] measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// $\langle x\rangle / \sigma$.
    Mean,
    /// $\mathrm{Var}(x) / \sigma^2$.
    Variance,
    /// $S_1(\lambda) = \langle|x\star\psi_\lambda|\rangle / \sqrt{\bar S_2(\lambda)}$.
    S1,
    /// $S_2(\lambda) = \langle|x\star\psi_\lambda|^2\rangle / \bar S_2(\lambda)$.
    S2,
    /// $S_3(\lambda, \lambda_1) = \langle (x\star\psi_\lambda)\,\overline{(|x\star\psi_{\lambda_1}|\star
    /// \psi_\lambda)}\rangle / \sqrt{\bar S_2(\lambda)\bar S_2(\lambda_1)}$, $j_1 \le j$.
    S3,
    /// $S_4(\lambda, \lambda_1, \lambda_2) = \langle (|x\star\psi_{\lambda_1}|\star\psi_\lambda)\,
    /// \overline{(|x\star\psi_{\lambda_2}|\star\psi_\lambda)}\rangle / \sqrt{\bar S_2(\lambda_1)
    /// \bar S_2(\lambda_2)}$, $j_1 \le j_2 \le j$.
    S4,
}

/// Metadata of one real coefficient: its kind, the wavelets $(j, \ell)$ involved (outer band
/// $\lambda$ first, then $\lambda_1$, $\lambda_2$) and, for complex statistics, which part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coefficient {
    /// The statistic.
    pub kind: Kind,
    /// Scales of $\lambda, \lambda_1, \lambda_2$ (as many as the statistic has).
    pub j: Vec<usize>,
    /// Orientation indices of $\lambda, \lambda_1, \lambda_2$.
    pub l: Vec<usize>,
    /// `false` for the real part (or a real statistic), `true` for the imaginary part.
    pub imag: bool,
}

/// The normalisation of the statistics: the variance $\sigma^2$ and the band powers
/// $\bar S_2(\lambda)$ of reference fields (usually the synthesis targets).
#[derive(Debug, Clone, PartialEq)]
pub struct Normalization {
    /// Variance of the reference fields.
    pub variance: f64,
    /// $\bar S_2(\lambda)$, $\lambda = jL + \ell$.
    pub s2: Vec<f64>,
}

impl Normalization {
    /// The same normalisation averaged over the $L$ orientations of each scale, so that
    /// normalised statistics of a rotated field are the rotated statistics (the choice for
    /// isotropic models).
    ///
    /// # Panics
    /// When the number of bands is not a multiple of `l`.
    pub fn isotropized(&self, l: usize) -> Self {
        assert!(
            l > 0 && self.s2.len().is_multiple_of(l),
            "bands not a multiple of L"
        );
        let s2 = self
            .s2
            .chunks(l)
            .flat_map(|c| {
                let m = c.iter().sum::<f64>() / l as f64;
                std::iter::repeat_n(m, l)
            })
            .collect();
        Self {
            variance: self.variance,
            s2,
        }
    }
}

/// Scattering spectra of periodic `M × N` fields with $J$ scales and $L$ orientations
/// (kymatio's Morlet wavelets built on the field's own grid, no padding).
///
/// With $W_\lambda = x\star\psi_\lambda$ and $M_\lambda = |W_\lambda|$, all averages are
/// spatial means, computed in Fourier by Parseval:
/// $\langle a\,\bar b\rangle = \frac{1}{(MN)^2}\sum_k \hat a(k)\overline{\hat b(k)}$, so
/// $S_3$ and $S_4$ cost one sum over the support of $|\hat\psi_\lambda|^2$ each. The statistics
/// vector is real: mean, variance, $S_1$, $S_2$, then real and imaginary parts of $S_3$ and
/// $S_4$, each normalised by a fixed [`Normalization`] so that the map $x \mapsto \Phi(x)$ is
/// smooth (away from $W_\lambda = 0$) and its adjoint ([`ScatteringSpectra::pullback`]) exact.
#[derive(Debug, Clone)]
pub struct ScatteringSpectra {
    shape: (usize, usize),
    j: usize,
    l: usize,
    fft: Fft2,
    /// Full-resolution Fourier filters, $\lambda = jL + \ell$.
    psi: Vec<Vec<f64>>,
    /// Support of $|\hat\psi_\lambda|^2$ (entries above 1e-15 of its peak) and
    /// $|\hat\psi_\lambda|$ there.
    power: Vec<(Vec<usize>, Vec<f64>)>,
    /// $(\lambda, \lambda_1)$ of each $S_3$.
    s3: Vec<(usize, usize)>,
    /// $(\lambda, \lambda_1, \lambda_2)$ of each $S_4$.
    s4: Vec<(usize, usize, usize)>,
    /// For $S_4(\lambda, \lambda_1, \lambda_2)$ with $j_1 = j_2$, $\lambda_1 \ne \lambda_2$: the
    /// index of $S_4(\lambda, \lambda_2, \lambda_1)$, its complex conjugate (computed once).
    s4_mirror: Vec<Option<usize>>,
    coefficients: Vec<Coefficient>,
}

/// Intermediate quantities of one field, kept for the adjoint.
#[derive(Debug, Default, Clone)]
pub struct SpectraWorkspace {
    xhat: Vec<Complex64>,
    /// $W_\lambda$ in space, per band.
    w: Vec<Vec<Complex64>>,
    /// $\hat M_\lambda$, per band.
    mhat: Vec<Vec<Complex64>>,
    /// Adjoint accumulators.
    gx: Vec<Complex64>,
    gm: Vec<Vec<Complex64>>,
    /// Per outer band: gathered rows (X, then M_b) on its support.
    gathered: Vec<Vec<Complex64>>,
    hgrad: Vec<Vec<Complex64>>,
    scratch: Vec<Complex64>,
    mean: f64,
}

/// Raw (unnormalised) statistics of one field.
#[derive(Debug, Clone, PartialEq)]
struct Raw {
    mean: f64,
    var: f64,
    s1: Vec<f64>,
    s2: Vec<f64>,
    s3: Vec<Complex64>,
    s4: Vec<Complex64>,
}

impl ScatteringSpectra {
    /// Plans the statistics for `M × N` periodic fields, $J$ scales, $L$ orientations.
    ///
    /// # Errors
    /// `J = 0`, `L = 0`, or sides that are not positive multiples of $2^J$.
    pub fn new(shape: (usize, usize), j: usize, l: usize) -> Result<Self, ScatteringError> {
        if j == 0 || j > 16 {
            return Err(invalid("J", j, "the number of scales must be in 1..=16"));
        }
        if l == 0 {
            return Err(invalid(
                "L",
                l,
                "the number of orientations must be at least 1",
            ));
        }
        for (axis, size) in [shape.0, shape.1].into_iter().enumerate() {
            if size == 0 || size % (1 << j) != 0 {
                return Err(ScatteringError::SizeIncompatibleWithJ {
                    axis,
                    size,
                    j,
                    reason: format!(
                        "periodic filters need a positive multiple of 2^J = {}",
                        1 << j
                    ),
                });
            }
        }
        let bank = MorletBank2d::kymatio_full(shape.0, shape.1, j, l);
        let psi: Vec<Vec<f64>> = bank
            .psi
            .iter()
            .map(|p| p.levels[0].iter().copied().collect())
            .collect();
        Ok(Self::from_filters(shape, j, l, psi))
    }

    /// The 1-D scattering spectra $\Phi_1 \dots \Phi_4$ of periodic signals of length `n`:
    /// the same statistics with kymatio's $Q = 1$ Morlet wavelets built on the periodic length
    /// (one orientation, $\ell = 0$; scale $j$ = filter index, from the highest frequency
    /// $\xi = 0.35$ down by octaves until the width reaches $\sigma_0 2^{-J}$). Signals are
    /// passed as `(B, 1, n)` / `(1, n)` arrays.
    ///
    /// # Errors
    /// `J = 0` or `n` not a positive multiple of $2^J$.
    pub fn new_1d(n: usize, j: usize) -> Result<Self, ScatteringError> {
        if j == 0 || j > 24 {
            return Err(invalid("J", j, "the number of octaves must be in 1..=24"));
        }
        if n == 0 || !n.is_multiple_of(1 << j) {
            return Err(ScatteringError::SizeIncompatibleWithJ {
                axis: 0,
                size: n,
                j,
                reason: format!(
                    "periodic filters need a positive multiple of 2^J = {}",
                    1 << j
                ),
            });
        }
        let mut planner = FftPlanner::new();
        let sigma_min = crate::filters::SIGMA0 / 2f64.powi(j as i32);
        let psi: Vec<Vec<f64>> = crate::filters::filterbank_params(sigma_min, 1)
            .iter()
            .map(|&(xi, sigma, _)| crate::filters::morlet_1d(n, Some(xi), sigma, &mut planner))
            .collect();
        let nj = psi.len();
        Ok(Self::from_filters((1, n), nj, 1, psi))
    }

    fn from_filters(shape: (usize, usize), j: usize, l: usize, psi: Vec<Vec<f64>>) -> Self {
        let power = psi
            .iter()
            .map(|f| {
                let peak = f.iter().fold(0.0f64, |a, v| a.max(v * v));
                f.iter()
                    .enumerate()
                    .filter(|(_, v)| *v * *v > 1e-15 * peak)
                    .map(|(i, v)| (i, v.abs()))
                    .unzip()
            })
            .collect();
        let nb = j * l;
        let scale = |b: usize| b / l;
        let mut s3 = Vec::new();
        let mut s4 = Vec::new();
        for lam in 0..nb {
            for l1 in 0..nb {
                if scale(l1) <= scale(lam) {
                    s3.push((lam, l1));
                }
            }
        }
        for lam in 0..nb {
            for l1 in 0..nb {
                for l2 in 0..nb {
                    if scale(l1) <= scale(l2) && scale(l2) <= scale(lam) {
                        s4.push((lam, l1, l2));
                    }
                }
            }
        }
        let s4_index: std::collections::HashMap<(usize, usize, usize), usize> =
            s4.iter().enumerate().map(|(t, &k)| (k, t)).collect();
        let s4_mirror = s4
            .iter()
            .map(|&(a, b, c)| {
                if b != c && scale(b) == scale(c) {
                    s4_index.get(&(a, c, b)).copied()
                } else {
                    None
                }
            })
            .collect();
        let jl = |b: usize| (b / l, b % l);
        let mut coefficients = vec![
            Coefficient {
                kind: Kind::Mean,
                j: vec![],
                l: vec![],
                imag: false,
            },
            Coefficient {
                kind: Kind::Variance,
                j: vec![],
                l: vec![],
                imag: false,
            },
        ];
        for kind in [Kind::S1, Kind::S2] {
            for b in 0..nb {
                coefficients.push(Coefficient {
                    kind,
                    j: vec![jl(b).0],
                    l: vec![jl(b).1],
                    imag: false,
                });
            }
        }
        for imag in [false, true] {
            for &(a, b) in &s3 {
                coefficients.push(Coefficient {
                    kind: Kind::S3,
                    j: vec![jl(a).0, jl(b).0],
                    l: vec![jl(a).1, jl(b).1],
                    imag,
                });
            }
        }
        for imag in [false, true] {
            for &(a, b, c) in &s4 {
                coefficients.push(Coefficient {
                    kind: Kind::S4,
                    j: vec![jl(a).0, jl(b).0, jl(c).0],
                    l: vec![jl(a).1, jl(b).1, jl(c).1],
                    imag,
                });
            }
        }
        let mut planner = FftPlanner::new();
        Self {
            shape,
            j,
            l,
            fft: Fft2::new(&mut planner, shape.0, shape.1),
            psi,
            power,
            s3,
            s4_mirror,
            s4,
            coefficients,
        }
    }

    /// Field shape.
    pub fn shape(&self) -> (usize, usize) {
        self.shape
    }

    /// Number of scales $J$.
    pub fn j(&self) -> usize {
        self.j
    }

    /// Number of orientations $L$.
    pub fn l(&self) -> usize {
        self.l
    }

    /// Bands $b$ with $j_b \le j_a$ (the first ones: bands are ordered by scale).
    fn rows_of(&self, a: usize) -> usize {
        (a / self.l + 1) * self.l
    }

    /// Number of wavelet bands $\lambda$ (the length of [`Normalization::s2`]).
    pub fn n_bands(&self) -> usize {
        self.psi.len()
    }

    /// Metadata of every entry of the full statistics vector, in order.
    pub fn coefficients(&self) -> &[Coefficient] {
        &self.coefficients
    }

    /// Length of the full statistics vector.
    pub fn len(&self) -> usize {
        self.coefficients.len()
    }

    /// Whether the statistics vector is empty (never: mean and variance are always there).
    pub fn is_empty(&self) -> bool {
        self.coefficients.is_empty()
    }

    /// The normalisation measured on reference fields `(B, M, N)`: their mean variance and
    /// mean band powers.
    ///
    /// # Errors
    /// Empty batch, wrong shape, non-finite values, or a constant field (zero variance or a
    /// band with no power).
    pub fn normalization(
        &self,
        fields: ArrayView3<'_, f64>,
    ) -> Result<Normalization, ScatteringError> {
        self.check_batch(fields)?;
        let raws: Vec<Raw> = fields
            .axis_iter(Axis(0))
            .into_par_iter()
            .map_init(SpectraWorkspace::default, |ws, x| self.raw(x, ws))
            .collect();
        let b = raws.len() as f64;
        let variance = raws.iter().map(|r| r.var).sum::<f64>() / b;
        let s2: Vec<f64> = (0..self.psi.len())
            .map(|k| raws.iter().map(|r| r.s2[k]).sum::<f64>() / b)
            .collect();
        if variance <= 0.0 || !variance.is_finite() {
            return Err(invalid("reference fields", variance, "have zero variance"));
        }
        if let Some(k) = s2.iter().position(|&v| v <= 0.0) {
            return Err(invalid(
                "reference fields",
                k,
                "have no power in this wavelet band",
            ));
        }
        Ok(Normalization { variance, s2 })
    }

    fn check_batch(&self, fields: ArrayView3<'_, f64>) -> Result<(), ScatteringError> {
        let (b, m, n) = fields.dim();
        if b == 0 {
            return Err(wcrg_core::Error::Empty {
                what: "fields".into(),
            }
            .into());
        }
        if (m, n) != self.shape {
            return Err(wcrg_core::Error::ShapeMismatch {
                what: "fields (B, M, N)".into(),
                expected: vec![b, self.shape.0, self.shape.1],
                actual: vec![b, m, n],
            }
            .into());
        }
        check_finite("fields", fields.iter())
    }

    /// The full normalised statistics vector of each field, `(B, len())`, and their mean.
    ///
    /// # Errors
    /// Empty batch, wrong shape, non-finite values.
    pub fn compute(
        &self,
        fields: ArrayView3<'_, f64>,
        norm: &Normalization,
    ) -> Result<ndarray::Array2<f64>, ScatteringError> {
        self.check_batch(fields)?;
        let mut out = ndarray::Array2::zeros((fields.dim().0, self.len()));
        out.axis_iter_mut(Axis(0))
            .into_par_iter()
            .zip(fields.axis_iter(Axis(0)))
            .for_each_init(SpectraWorkspace::default, |ws, (mut o, x)| {
                o.assign(&self.values(x, norm, ws));
            });
        Ok(out)
    }

    /// The normalised statistics of one field (keeps the intermediates in `ws` for
    /// [`ScatteringSpectra::pullback`]).
    ///
    /// # Panics
    /// When `x` does not have the planned shape or `norm` the planned number of bands.
    pub fn values(
        &self,
        x: ArrayView2<'_, f64>,
        norm: &Normalization,
        ws: &mut SpectraWorkspace,
    ) -> Array1<f64> {
        assert_eq!(
            norm.s2.len(),
            self.psi.len(),
            "normalisation bands (expected, actual)"
        );
        let raw = self.raw(x, ws);
        let sd = norm.variance.sqrt();
        let mut v = Vec::with_capacity(self.len());
        v.push(raw.mean / sd);
        v.push(raw.var / norm.variance);
        v.extend(raw.s1.iter().zip(&norm.s2).map(|(a, s)| a / s.sqrt()));
        v.extend(raw.s2.iter().zip(&norm.s2).map(|(a, s)| a / s));
        let c3: Vec<f64> = self
            .s3
            .iter()
            .map(|&(a, b)| 1.0 / (norm.s2[a] * norm.s2[b]).sqrt())
            .collect();
        v.extend(raw.s3.iter().zip(&c3).map(|(z, c)| z.re * c));
        v.extend(raw.s3.iter().zip(&c3).map(|(z, c)| z.im * c));
        let c4: Vec<f64> = self
            .s4
            .iter()
            .map(|&(_, b, c)| 1.0 / (norm.s2[b] * norm.s2[c]).sqrt())
            .collect();
        v.extend(raw.s4.iter().zip(&c4).map(|(z, c)| z.re * c));
        v.extend(raw.s4.iter().zip(&c4).map(|(z, c)| z.im * c));
        Array1::from(v)
    }

    fn raw(&self, x: ArrayView2<'_, f64>, ws: &mut SpectraWorkspace) -> Raw {
        assert_eq!(x.dim(), self.shape, "field shape (expected, actual)");
        let npts = self.shape.0 * self.shape.1;
        let nf = npts as f64;
        let fft = &self.fft;
        ws.xhat.clear();
        ws.xhat.extend(x.iter().map(|&v| Complex64::new(v, 0.0)));
        let mean = x.iter().sum::<f64>() / nf;
        let var = x.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / nf;
        ws.mean = mean;
        fft.run(&mut ws.xhat, false, &mut ws.scratch);
        let nb = self.psi.len();
        ws.w.resize(nb, Vec::new());
        ws.mhat.resize(nb, Vec::new());
        // Bands in parallel; each writes only its own buffers.
        let xhat = &ws.xhat;
        let moments: Vec<(f64, f64)> =
            ws.w.par_iter_mut()
                .zip(ws.mhat.par_iter_mut())
                .zip(self.psi.par_iter())
                .map_init(Vec::new, |scratch, ((w, m), f)| {
                    w.clear();
                    w.extend(xhat.iter().zip(f).map(|(a, f)| a * f));
                    fft.run(w, true, scratch);
                    m.clear();
                    let (mut a1, mut a2) = (0.0, 0.0);
                    for z in w.iter() {
                        let r2 = z.re * z.re + z.im * z.im;
                        let r = r2.sqrt();
                        a1 += r;
                        a2 += r2;
                        m.push(Complex64::new(r, 0.0));
                    }
                    fft.run(m, false, scratch);
                    (a1 / nf, a2 / nf)
                })
                .collect();
        let s1: Vec<f64> = moments.iter().map(|m| m.0).collect();
        let s2: Vec<f64> = moments.iter().map(|m| m.1).collect();
        let k = 1.0 / (nf * nf);
        // Gather, for each outer band a, |psi_a| times X and every M_b with j_b <= j_a on the
        // support of psi_a: rows of contiguous vectors whose inner products are S3 and S4.
        ws.gathered.resize(nb, Vec::new());
        let mhat = &ws.mhat;
        ws.gathered.par_iter_mut().enumerate().for_each(|(a, g)| {
            let (idx, sq) = &self.power[a];
            g.clear();
            g.extend(idx.iter().zip(sq).map(|(&i, &q)| xhat[i] * q));
            for m in &mhat[..self.rows_of(a)] {
                g.extend(idx.iter().zip(sq).map(|(&i, &q)| m[i] * q));
            }
        });
        let row = |a: usize, r: usize| {
            let ns = self.power[a].0.len();
            &ws.gathered[a][r * ns..(r + 1) * ns]
        };
        let dotc = |u: &[Complex64], w: &[Complex64]| -> Complex64 {
            let (mut re, mut im) = (0.0, 0.0);
            for (p, q) in u.iter().zip(w) {
                re += p.re * q.re + p.im * q.im;
                im += p.im * q.re - p.re * q.im;
            }
            Complex64::new(re, im)
        };
        let s3 = self
            .s3
            .par_iter()
            .map(|&(a, b)| dotc(row(a, 0), row(a, b + 1)) * k)
            .collect();
        // S4(a, c, b) = conj S4(a, b, c): compute b < c (equal scales) once.
        let mut s4: Vec<Complex64> = self
            .s4
            .par_iter()
            .zip(self.s4_mirror.par_iter())
            .map(|(&(a, b, c), mirror)| match mirror {
                Some(_) if b > c => ZERO,
                _ => dotc(row(a, b + 1), row(a, c + 1)) * k,
            })
            .collect();
        for (t, mirror) in self.s4_mirror.iter().enumerate() {
            if let Some(m) = *mirror
                && self.s4[t].1 > self.s4[t].2
            {
                s4[t] = s4[m].conj();
            }
        }
        Raw {
            mean,
            var,
            s1,
            s2,
            s3,
            s4,
        }
    }

    /// The adjoint: writes $J_\Phi(x)^\top v$ into `out` (the gradient of $v\cdot\Phi$ at `x`).
    ///
    /// The modulus is differentiated as $\partial|W| = \mathrm{Re}(\bar W\,\partial W)/|W|$
    /// (zero where $W = 0$).
    ///
    /// # Panics
    /// When `x`, `v` or `out` do not have the planned sizes.
    pub fn pullback(
        &self,
        x: ArrayView2<'_, f64>,
        v: &[f64],
        norm: &Normalization,
        ws: &mut SpectraWorkspace,
        out: ArrayViewMut2<'_, f64>,
    ) {
        self.raw(x, ws);
        self.pullback_after_values(x, v, norm, ws, out);
    }

    /// [`ScatteringSpectra::pullback`] reusing the intermediates that the last call of
    /// [`ScatteringSpectra::values`] on the same `x` left in `ws`.
    pub(crate) fn pullback_after_values(
        &self,
        x: ArrayView2<'_, f64>,
        v: &[f64],
        norm: &Normalization,
        ws: &mut SpectraWorkspace,
        mut out: ArrayViewMut2<'_, f64>,
    ) {
        assert_eq!(v.len(), self.len(), "cotangent length (expected, actual)");
        assert_eq!(out.dim(), self.shape, "output shape (expected, actual)");
        let npts = self.shape.0 * self.shape.1;
        assert_eq!(
            ws.xhat.len(),
            npts,
            "workspace holds no statistics of this shape"
        );
        let nf = npts as f64;
        let nb = self.psi.len();
        let fft = &self.fft;
        let sd = norm.variance.sqrt();
        let k = 1.0 / (nf * nf);
        ws.gx.clear();
        ws.gx.resize(npts, ZERO);
        ws.gm.resize(nb, Vec::new());
        for g in ws.gm.iter_mut() {
            g.clear();
            g.resize(npts, ZERO);
        }
        // Offsets of each block in v.
        let o_s1 = 2;
        let o_s2 = o_s1 + nb;
        let o_s3 = o_s2 + nb;
        let n3 = self.s3.len();
        let o_s4 = o_s3 + 2 * n3;
        let n4 = self.s4.len();
        // Adjoint of the gathered inner products, per outer band in parallel, then scattered
        // back in a fixed order.
        let s3_start: Vec<usize> = (0..=nb)
            .map(|a| self.s3.partition_point(|t| t.0 < a))
            .collect();
        let s4_start: Vec<usize> = (0..=nb)
            .map(|a| self.s4.partition_point(|t| t.0 < a))
            .collect();
        ws.hgrad.resize(nb, Vec::new());
        let gathered = &ws.gathered;
        ws.hgrad.par_iter_mut().enumerate().for_each(|(a, h)| {
            let ns = self.power[a].0.len();
            let rows = self.rows_of(a);
            let g = &gathered[a];
            h.clear();
            h.resize((rows + 1) * ns, ZERO);
            let axpy = |h: &mut [Complex64], z: Complex64, w: &[Complex64]| {
                for (o, q) in h.iter_mut().zip(w) {
                    o.re += z.re * q.re - z.im * q.im;
                    o.im += z.re * q.im + z.im * q.re;
                }
            };
            for t in s3_start[a]..s3_start[a + 1] {
                let b = self.s3[t].1;
                let c = 1.0 / (norm.s2[a] * norm.s2[b]).sqrt();
                let zbar = Complex64::new(v[o_s3 + t], v[o_s3 + n3 + t]) * (c * k);
                if zbar == ZERO {
                    continue;
                }
                // z = <g_x, g_b>: d/d g_x += zbar g_b, d/d g_b += conj(zbar) g_x.
                axpy(&mut h[..ns], zbar, &g[(b + 1) * ns..(b + 2) * ns]);
                axpy(&mut h[(b + 1) * ns..(b + 2) * ns], zbar.conj(), &g[..ns]);
            }
            for t in s4_start[a]..s4_start[a + 1] {
                let (_, b, c) = self.s4[t];
                let cn = 1.0 / (norm.s2[b] * norm.s2[c]).sqrt();
                let mut zbar = Complex64::new(v[o_s4 + t], v[o_s4 + n4 + t]) * (cn * k);
                if let Some(m) = self.s4_mirror[t] {
                    if b > c {
                        continue;
                    }
                    // z_cb = conj(z_bc): its cotangent joins z_bc's, conjugated.
                    zbar += Complex64::new(v[o_s4 + m], v[o_s4 + n4 + m]).conj() * (cn * k);
                }
                if zbar == ZERO {
                    continue;
                }
                axpy(
                    &mut h[(b + 1) * ns..(b + 2) * ns],
                    zbar,
                    &g[(c + 1) * ns..(c + 2) * ns],
                );
                axpy(
                    &mut h[(c + 1) * ns..(c + 2) * ns],
                    zbar.conj(),
                    &g[(b + 1) * ns..(b + 2) * ns],
                );
            }
        });
        for a in 0..nb {
            let (idx, sq) = &self.power[a];
            for ((&i, &q), hv) in idx.iter().zip(sq).zip(&ws.hgrad[a]) {
                ws.gx[i] += hv * q;
            }
        }
        // Back through M = |W|, W = F^{-1}(X psi), band by band in parallel; each band's
        // contribution to the gradient in Fourier is left in its own buffer.
        let hgrad = &ws.hgrad;
        ws.gm
            .par_iter_mut()
            .zip(ws.w.par_iter())
            .enumerate()
            .for_each_init(Vec::new, |scratch, (b, (gm, w))| {
                for (a, ha) in hgrad.iter().enumerate() {
                    if self.rows_of(a) <= b {
                        continue;
                    }
                    let (idx, sq) = &self.power[a];
                    let ns = idx.len();
                    for ((&i, &q), hv) in idx.iter().zip(sq).zip(&ha[(b + 1) * ns..(b + 2) * ns]) {
                        gm[i] += hv * q;
                    }
                }
                // Unnormalised inverse DFT: F^{-1} times the number of points.
                fft.run(gm, true, scratch);
                let g1 = v[o_s1 + b] / (norm.s2[b].sqrt() * nf);
                let g2 = 2.0 * v[o_s2 + b] / (norm.s2[b] * nf);
                for (g, z) in gm.iter_mut().zip(w) {
                    let r = (z.re * z.re + z.im * z.im).sqrt();
                    *g = if r == 0.0 {
                        ZERO
                    } else {
                        let mbar = g.re * nf + g1 + g2 * r;
                        z * (mbar / r)
                    };
                }
                fft.run(gm, false, scratch);
            });
        for (gm, f) in ws.gm.iter().zip(&self.psi) {
            for ((gx, wb), f) in ws.gx.iter_mut().zip(gm).zip(f) {
                *gx += wb * (f / nf);
            }
        }
        fft.run(&mut ws.gx, true, &mut ws.scratch);
        let gmean = v[0] / (sd * nf);
        let gvar = 2.0 * v[1] / (norm.variance * nf);
        let mean = ws.mean;
        let n = self.shape.1;
        for ((r, c), o) in out.indexed_iter_mut() {
            *o = ws.gx[r * n + c].re * nf + gmean + gvar * (x[[r, c]] - mean);
        }
    }
}
