//! Stationary preconditioning: an energy in whitened coordinates.

use ndarray::{ArrayD, ArrayView, ArrayViewD, ArrayViewMutD, Axis, IxDyn};
use wcrg_core::fft::{Complex64, FftNd};
use wcrg_core::{Energy, Error, Result, Workspace};
use wcrg_energy_models::GaussianField;

/// The energy of the whitened variable $y$ of a periodic field $x = C^{1/2} y$:
/// $$\tilde U(y) = U(C^{1/2} y), \qquad \nabla \tilde U(y) = C^{1/2}\,\nabla U(C^{1/2} y),$$
/// where $C$ is a stationary covariance, circulant with eigenvalues $P(k)$ (a power spectrum,
/// even and positive: the covariance of the [`GaussianField`] of spectrum $P$) and
/// $C^{1/2} = \mathcal F^{-1}\operatorname{diag}\sqrt{P}\,\mathcal F$ its real symmetric square
/// root.
///
/// Any sampler run on $\tilde U$ and mapped back by [`Whitened::color`] samples $e^{-U}$ exactly
/// (a linear change of variables has a constant Jacobian). With $P$ the power spectrum of the
/// target, every Fourier mode of $y$ has unit variance, so [`crate::Mala`] on $\tilde U$ is
/// Langevin dynamics with mass matrix $C^{-1}$: the soft long-wavelength modes of a near-critical
/// field, which plain MALA moves by steps of the size of the stiffest mode, move as fast as the
/// others. The change of variables costs four FFTs per gradient.
///
/// It helps when the slow modes are soft Gaussian-like directions (tested: τ_int of the mean of a
/// nearly massless 8 × 8 free field drops from about 1700 steps to 8). It does not help when the
/// slowness is non-linear: on the 8 × 8 coarsest field of a φ⁴ WCRG model at β_c, whose
/// magnetisation changes by domain motion, τ_int was 860 ± 220 steps whitened (the data's
/// spectrum capped by the inverse spectrum of the score) against 1080 ± 140 unwhitened (8
/// chains of 50 000 steps, too short for such τ); whitened by the data's periodogram
/// ([`Whitened::from_fields`]) and measured with 16 chains of 200 000 steps, 5434 ± 537
/// against 2501 ± 153 at 64² (the adapted step falls 50×: the potential's curvature, not the
/// spectrum, sets it).
///
/// ```
/// use ndarray::{ArrayD, IxDyn};
/// use wcrg_core::{Energy, Workspace};
/// use wcrg_energy_models::GaussianField;
/// use wcrg_samplers::Whitened;
///
/// let target = GaussianField::free_field(&[4, 4], 1.0, 0.5)?;
/// let white = Whitened::new(&target, ArrayD::from_elem(IxDyn(&[4, 4]), 2.0))?;
/// let y = ArrayD::from_elem(IxDyn(&[4, 4]), 0.5);
/// // C = 2 I here, so x = sqrt(2) y and the whitened energy is U(sqrt(2) y).
/// let x = white.color(y.view())?;
/// let mut ws = Workspace::new();
/// let e = white.energy(y.view(), &mut ws);
/// assert!((e - target.energy(x.view(), &mut ws)).abs() < 1e-12);
/// assert!((white.whiten(x.view())? - &y).iter().all(|d| d.abs() < 1e-12));
/// # Ok::<(), wcrg_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Whitened<E> {
    energy: E,
    reference: GaussianField,
}

#[derive(Default)]
struct Scratch {
    x: Option<ArrayD<f64>>,
    grad: Option<ArrayD<f64>>,
}

/// The periodogram of periodic fields `(N, field shape...)`:
/// $P(k) = \frac1N\sum_n |\hat x_n(k)|^2 / |\Lambda|$ ($|\Lambda|$ sites, NumPy's `fftn` order),
/// the eigenvalues of their stationary second-moment matrix.
///
/// # Errors
/// No fields, fewer than two axes, a non-finite value, or all values zero.
pub fn periodogram(fields: ArrayView<'_, f64, IxDyn>) -> Result<ArrayD<f64>> {
    if fields.ndim() < 2 || fields.shape()[0] == 0 {
        return Err(Error::Empty {
            what: format!(
                "fields for a periodogram (N, field shape...), got shape {:?}",
                fields.shape()
            ),
        });
    }
    wcrg_core::validate::finite("fields for a periodogram", fields.iter())?;
    let shape = fields.shape()[1..].to_vec();
    let fft = FftNd::new(&shape);
    let sites: usize = shape.iter().product();
    let mut p = vec![0.0; sites];
    let mut buf = vec![Complex64::new(0.0, 0.0); sites];
    let mut lane = Vec::new();
    for f in fields.axis_iter(Axis(0)) {
        for (b, v) in buf.iter_mut().zip(f.iter()) {
            *b = Complex64::new(*v, 0.0);
        }
        fft.run(&mut buf, false, &mut lane);
        for (pk, b) in p.iter_mut().zip(&buf) {
            *pk += b.norm_sqr();
        }
    }
    if p.iter().all(|v| *v == 0.0) {
        return Err(Error::InvalidParameter {
            name: "fields for a periodogram".into(),
            value: "all zero".into(),
            reason: "no power".into(),
        });
    }
    let norm = (fields.shape()[0] * sites) as f64;
    Ok(
        ArrayD::from_shape_vec(IxDyn(&shape), p.into_iter().map(|v| v / norm).collect())
            .expect("sized"),
    )
}

impl<E: Energy> Whitened<E> {
    /// `energy` in the whitened coordinates of the stationary covariance with power spectrum
    /// `spectrum` ($P(k)$ at the FFT frequencies of the field's grid, NumPy's `fftn` order).
    ///
    /// # Errors
    /// A spectrum whose shape is not the energy's, or that [`GaussianField::from_spectrum`]
    /// rejects (a non-finite or non-positive value, $P(k) \ne P(-k)$).
    pub fn new(energy: E, spectrum: ArrayD<f64>) -> Result<Self> {
        wcrg_core::validate::shape("power spectrum", energy.shape(), spectrum.shape())?;
        Ok(Self {
            reference: GaussianField::from_spectrum(spectrum.view())?,
            energy,
        })
    }

    /// `energy` whitened by the power spectrum of `fields` ([`periodogram`]), floored at
    /// $10^{-9}$ of its largest value so that modes absent from the data still move.
    ///
    /// # Errors
    /// As [`periodogram`], and fields of another shape than the energy's.
    pub fn from_fields(energy: E, fields: ArrayView<'_, f64, IxDyn>) -> Result<Self> {
        let p = periodogram(fields)?;
        wcrg_core::validate::shape("fields for the power spectrum", energy.shape(), p.shape())?;
        let max = p.iter().copied().fold(0.0, f64::max);
        Self::new(energy, p.mapv(|v| v.max(1e-9 * max)))
    }

    /// The power spectrum $P(k)$ (the eigenvalues of $C$), NumPy's `fftn` order.
    pub fn spectrum(&self) -> ArrayD<f64> {
        self.reference.spectrum()
    }

    /// The energy $U$ of the field $x$.
    pub fn inner(&self) -> &E {
        &self.energy
    }

    /// $x = C^{1/2} y$.
    ///
    /// # Errors
    /// `y` of the wrong shape.
    pub fn color(&self, y: ArrayViewD<'_, f64>) -> Result<ArrayD<f64>> {
        self.power(y, 0.5, "whitened field")
    }

    /// $y = C^{-1/2} x$.
    ///
    /// # Errors
    /// `x` of the wrong shape.
    pub fn whiten(&self, x: ArrayViewD<'_, f64>) -> Result<ArrayD<f64>> {
        self.power(x, -0.5, "field")
    }

    fn power(&self, v: ArrayViewD<'_, f64>, a: f64, what: &str) -> Result<ArrayD<f64>> {
        wcrg_core::validate::shape(what, self.energy.shape(), v.shape())?;
        let mut out = ArrayD::zeros(v.raw_dim());
        self.reference
            .covariance_power(v, a, out.view_mut(), &mut Workspace::new());
        Ok(out)
    }

    /// $x = C^{1/2} y$ into the scratch's field buffer, which is returned.
    fn colored(&self, y: ArrayViewD<'_, f64>, s: &mut Scratch, ws: &mut Workspace) -> ArrayD<f64> {
        let mut x =
            s.x.take()
                .filter(|x| x.shape() == y.shape())
                .unwrap_or_else(|| ArrayD::zeros(y.raw_dim()));
        self.reference.covariance_power(y, 0.5, x.view_mut(), ws);
        x
    }
}

impl<E: Energy> Energy for Whitened<E> {
    fn shape(&self) -> &[usize] {
        self.energy.shape()
    }

    fn energy(&self, y: ArrayViewD<'_, f64>, ws: &mut Workspace) -> f64 {
        let mut s = std::mem::take(ws.get::<Scratch>());
        let x = self.colored(y, &mut s, ws);
        let e = self.energy.energy(x.view(), ws);
        s.x = Some(x);
        *ws.get::<Scratch>() = s;
        e
    }

    fn energy_and_gradient(
        &self,
        y: ArrayViewD<'_, f64>,
        grad: ArrayViewMutD<'_, f64>,
        ws: &mut Workspace,
    ) -> f64 {
        let mut s = std::mem::take(ws.get::<Scratch>());
        let x = self.colored(y, &mut s, ws);
        let mut gx = s
            .grad
            .take()
            .filter(|g| g.shape() == x.shape())
            .unwrap_or_else(|| ArrayD::zeros(x.raw_dim()));
        let e = self.energy.energy_and_gradient(x.view(), gx.view_mut(), ws);
        self.reference.covariance_power(gx.view(), 0.5, grad, ws);
        s.x = Some(x);
        s.grad = Some(gx);
        *ws.get::<Scratch>() = s;
        e
    }
}
