//! Stationary Gaussian fields with a given power spectrum.

use ndarray::{ArrayD, ArrayViewD, ArrayViewMutD, Dimension, IxDyn};
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use wcrg_core::{Energy, Error, Result, Workspace, validate};

use wcrg_core::fft::{Complex64, FftNd, frequency};

/// A stationary Gaussian field on a periodic grid: $p(x) \propto e^{-\frac12 x^\top C^{-1} x}$,
/// with circulant covariance $C = \mathcal F^{-1} \operatorname{diag}(P) \mathcal F$ given by
/// its power spectrum $P(k) > 0$, so that $\mathbb E|\hat x(k)|^2 = N P(k)$ with the
/// unnormalised DFT $\hat x$ and $N$ sites.
///
/// The energy $U(x) = \frac1{2N}\sum_k |\hat x(k)|^2 / P(k)$ and its gradient $C^{-1}x$ are
/// computed by FFT; [`GaussianField::sample`] draws exact i.i.d. samples
/// $x = \mathcal F^{-1}(\sqrt{P}\,\mathcal F w)$ from white noise $w$.
#[derive(Debug, Clone)]
pub struct GaussianField {
    shape: Vec<usize>,
    spectrum: Vec<f64>,
    fft: FftNd,
}

#[derive(Default)]
struct Scratch {
    buf: Vec<Complex64>,
    lane: Vec<Complex64>,
}

impl GaussianField {
    /// A field with power spectrum `spectrum` (an array of the field's shape, in FFT order).
    ///
    /// # Errors
    /// Shape outside 1–3 axes or empty; a non-finite or non-positive entry; a spectrum that is
    /// not symmetric, $P(k) \ne P(-k)$ (the field would not be real).
    pub fn from_spectrum(spectrum: ArrayViewD<'_, f64>) -> Result<Self> {
        let shape = spectrum.shape().to_vec();
        validate::non_empty("power spectrum", &shape)?;
        if shape.len() > 3 {
            return Err(Error::UnsupportedDimension {
                what: "Gaussian field".into(),
                ndim: shape.len(),
                supported: "1, 2 or 3".into(),
            });
        }
        validate::finite("power spectrum", spectrum.iter())?;
        if let Some((i, &v)) = spectrum.iter().enumerate().find(|(_, v)| **v <= 0.0) {
            return Err(Error::InvalidParameter {
                name: "power spectrum".into(),
                value: format!("{v} at flat index {i}"),
                reason: "every entry must be positive".into(),
            });
        }
        for (ix, &v) in spectrum.indexed_iter() {
            let neg: Vec<usize> = ix
                .slice()
                .iter()
                .zip(&shape)
                .map(|(&i, &n)| (n - i) % n)
                .collect();
            let w = spectrum[IxDyn(&neg)];
            if (v - w).abs() > 1e-12 * v.abs().max(w.abs()) {
                return Err(Error::InvalidParameter {
                    name: "power spectrum".into(),
                    value: format!("P{:?} = {v}, P{neg:?} = {w}", ix.slice()),
                    reason: "must satisfy P(k) = P(-k) for a real field".into(),
                });
            }
        }
        Ok(Self {
            fft: FftNd::new(&shape),
            spectrum: spectrum.iter().copied().collect(),
            shape,
        })
    }

    /// The lattice free field $U = \frac{m^2}2\sum_x x^2 + \frac\beta2\sum_{x,\mu}(x(x+e_\mu)-x(x))^2$,
    /// with $P(k) = 1/\big(m^2 + \beta\sum_\mu 4\sin^2(\pi k_\mu/L_\mu)\big)$.
    ///
    /// # Errors
    /// Non-positive `mass2`, negative `beta`, or an invalid shape.
    pub fn free_field(shape: &[usize], mass2: f64, beta: f64) -> Result<Self> {
        if !(mass2.is_finite() && mass2 > 0.0 && beta.is_finite() && beta >= 0.0) {
            return Err(Error::InvalidParameter {
                name: "mass2, beta".into(),
                value: format!("{mass2}, {beta}"),
                reason: "need mass2 > 0 and beta >= 0, both finite".into(),
            });
        }
        validate::non_empty("free field shape", shape)?;
        let p = ArrayD::from_shape_fn(IxDyn(shape), |ix| {
            let k2: f64 = ix
                .slice()
                .iter()
                .zip(shape)
                .map(|(&i, &n)| {
                    let s = (std::f64::consts::PI * frequency(i, n) / n as f64).sin();
                    4.0 * s * s
                })
                .sum();
            1.0 / (mass2 + beta * k2)
        });
        Self::from_spectrum(p.view())
    }

    /// The power spectrum $P$ in FFT order.
    pub fn spectrum(&self) -> ArrayD<f64> {
        ArrayD::from_shape_vec(IxDyn(&self.shape), self.spectrum.clone()).expect("sized")
    }

    /// The exact covariance $C_{0,r} = \mathbb E[x(0) x(r)] = \frac1N\sum_k P(k) e^{2\pi i k\cdot r/L}$.
    pub fn covariance(&self) -> ArrayD<f64> {
        let mut buf: Vec<Complex64> = self
            .spectrum
            .iter()
            .map(|&p| Complex64::new(p, 0.0))
            .collect();
        self.fft.run(&mut buf, true, &mut Vec::new());
        let n = buf.len() as f64;
        ArrayD::from_shape_vec(IxDyn(&self.shape), buf.iter().map(|c| c.re / n).collect())
            .expect("sized")
    }

    /// Applies $\mathcal F^{-1}\operatorname{diag}(m)\mathcal F$ to `x`, writing the real part.
    fn filter(&self, x: impl Iterator<Item = f64>, m: impl Fn(f64) -> f64, s: &mut Scratch) {
        s.buf.clear();
        s.buf.extend(x.map(|v| Complex64::new(v, 0.0)));
        self.fft.run(&mut s.buf, false, &mut s.lane);
        let n = s.buf.len() as f64;
        for (c, &p) in s.buf.iter_mut().zip(&self.spectrum) {
            *c *= m(p) / n;
        }
        self.fft.run(&mut s.buf, true, &mut s.lane);
    }

    /// Writes $C^{a} x = \mathcal F^{-1}\operatorname{diag}(P^{a})\,\mathcal F x$ into `out`: the
    /// covariance's powers, e.g. $a = 1/2$ colours white noise and $a = -1/2$ whitens a field.
    ///
    /// # Panics
    /// When `x` or `out` does not have the field's shape.
    pub fn covariance_power(
        &self,
        x: ArrayViewD<'_, f64>,
        a: f64,
        mut out: ArrayViewMutD<'_, f64>,
        ws: &mut Workspace,
    ) {
        validate::assert_shape("Gaussian field", &self.shape, x.shape());
        validate::assert_shape("Gaussian field output", &self.shape, out.shape());
        let s = ws.get::<Scratch>();
        if a == 0.5 {
            self.filter(x.iter().copied(), f64::sqrt, s);
        } else if a == -0.5 {
            self.filter(x.iter().copied(), |p| 1.0 / p.sqrt(), s);
        } else {
            self.filter(x.iter().copied(), |p| p.powf(a), s);
        }
        for (o, c) in out.iter_mut().zip(&s.buf) {
            *o = c.re;
        }
    }

    /// One exact sample.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> ArrayD<f64> {
        let mut s = Scratch::default();
        let n = self.spectrum.len();
        let white: Vec<f64> = (0..n).map(|_| StandardNormal.sample(&mut *rng)).collect();
        self.filter(white.into_iter(), f64::sqrt, &mut s);
        ArrayD::from_shape_vec(IxDyn(&self.shape), s.buf.iter().map(|c| c.re).collect())
            .expect("sized")
    }

    /// `n` exact samples stacked on axis 0.
    pub fn sample_batch<R: Rng + ?Sized>(&self, n: usize, rng: &mut R) -> ArrayD<f64> {
        let mut shape = vec![n];
        shape.extend(&self.shape);
        let mut out = ArrayD::zeros(IxDyn(&shape));
        for mut o in out.outer_iter_mut() {
            o.assign(&self.sample(rng));
        }
        out
    }
}

impl Energy for GaussianField {
    fn shape(&self) -> &[usize] {
        &self.shape
    }

    fn energy(&self, x: ArrayViewD<'_, f64>, ws: &mut Workspace) -> f64 {
        validate::assert_shape("Gaussian field", &self.shape, x.shape());
        let s = ws.get::<Scratch>();
        s.buf.clear();
        s.buf.extend(x.iter().map(|&v| Complex64::new(v, 0.0)));
        self.fft.run(&mut s.buf, false, &mut s.lane);
        let n = s.buf.len() as f64;
        0.5 * s
            .buf
            .iter()
            .zip(&self.spectrum)
            .map(|(c, p)| c.norm_sqr() / p)
            .sum::<f64>()
            / n
    }

    fn energy_and_gradient(
        &self,
        x: ArrayViewD<'_, f64>,
        mut grad: ArrayViewMutD<'_, f64>,
        ws: &mut Workspace,
    ) -> f64 {
        validate::assert_shape("Gaussian field", &self.shape, x.shape());
        validate::assert_shape("Gaussian field gradient", &self.shape, grad.shape());
        let s = ws.get::<Scratch>();
        self.filter(x.iter().copied(), |p| 1.0 / p, s);
        for (g, c) in grad.iter_mut().zip(&s.buf) {
            *g = c.re;
        }
        0.5 * x.iter().zip(grad.iter()).map(|(a, b)| a * b).sum::<f64>()
    }
}
