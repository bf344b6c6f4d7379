//! The 2-D scattering transform, orders 0–2, in kymatio's layout.

use crate::error::{ScatteringError, check_finite, invalid};
use crate::filters::MorletBank2d;
use crate::fourier::{Fft2, SeparableLowPass, SparseFilter, ZERO, reflect};
use ndarray::{Array4, ArrayView2, ArrayView3, ArrayViewMut3, Axis};
use rayon::prelude::*;
use rustfft::FftPlanner;
use rustfft::num_complex::Complex64;

/// How the field's borders are handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Boundary {
    /// kymatio's: reflect-pad to $(\lfloor (M+2^J)/2^J\rfloor + 1) 2^J$ per axis, transform,
    /// crop one coarse pixel on each side. Output $\lfloor M/2^J\rfloor \times \lfloor
    /// N/2^J\rfloor$.
    #[default]
    Reflect,
    /// Periodic fields (lattices, simulations in a periodic box): no padding, filters built on
    /// the field's own grid. $M$ and $N$ must be multiples of $2^J$; output $M/2^J \times N/2^J$.
    Periodic,
}

/// Metadata of one output channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path2d {
    /// Scattering order, 0, 1 or 2.
    pub order: usize,
    /// Wavelet indices $n = jL + \theta$ along the path (`order` entries).
    pub n: Vec<usize>,
    /// Scales along the path.
    pub j: Vec<usize>,
    /// Orientation indices along the path.
    pub theta: Vec<usize>,
}

/// A 2-D scattering plan: filters and FFT plans for one input size.
///
/// $S_0 x = x\star\phi_J$, $S_1 x = |x\star\psi_{\lambda_1}|\star\phi_J$,
/// $S_2 x = ||x\star\psi_{\lambda_1}|\star\psi_{\lambda_2}|\star\phi_J$ for $j_2 > j_1$, each
/// subsampled by $2^J$; computed in Fourier, each modulus at the coarsest resolution its band
/// allows ($2^{j}$), exactly like kymatio 0.3's numpy frontend.
#[derive(Debug, Clone)]
pub struct Scattering2d {
    shape: (usize, usize),
    padded: (usize, usize),
    j: usize,
    max_order: usize,
    boundary: Boundary,
    bank: MorletBank2d,
    /// `psi_sparse[n][r]`: wavelet `n` at level `r`, for subsampling by $2^{j-r}$.
    psi_sparse: Vec<Vec<SparseFilter>>,
    /// Source row and column of every padded pixel.
    pad_rows: Vec<usize>,
    pad_cols: Vec<usize>,
    /// `low[r]`: the low-pass at level `r`, subsampled by $2^{J-r}$ and cropped, in space.
    low: Vec<SeparableLowPass>,
    plans: Vec<Fft2>,
    paths: Vec<Path2d>,
}

/// Reusable buffers of [`Scattering2d::forward_one`]; any content is overwritten.
#[derive(Debug, Default, Clone)]
pub struct Workspace2d {
    u0: Vec<Complex64>,
    u1: Vec<Complex64>,
    u2: Vec<Complex64>,
    /// Real spatial fields: the padded input, then the modulus of order 1 or 2.
    re0: Vec<f64>,
    re1: Vec<f64>,
    tmp: Vec<f64>,
    scratch: Vec<Complex64>,
}

impl Scattering2d {
    /// kymatio's `Scattering2D(J, shape=(M, N), L, max_order=2)`.
    ///
    /// # Errors
    /// `J = 0`, `L = 0`, or a side smaller than $2^J$.
    pub fn new(shape: (usize, usize), j: usize, l: usize) -> Result<Self, ScatteringError> {
        Self::with_options(shape, j, l, 2, Boundary::Reflect)
    }

    /// Full set of options: `max_order` 1 or 2 and the [`Boundary`] handling.
    ///
    /// # Errors
    /// `J = 0`, `L = 0`, `max_order` not 1 or 2, a side smaller than $2^J$ (reflect) or not a
    /// multiple of $2^J$ (periodic).
    pub fn with_options(
        shape: (usize, usize),
        j: usize,
        l: usize,
        max_order: usize,
        boundary: Boundary,
    ) -> Result<Self, ScatteringError> {
        if j == 0 || j > 20 {
            return Err(invalid("J", j, "the number of scales must be in 1..=20"));
        }
        if l == 0 {
            return Err(invalid(
                "L",
                l,
                "the number of orientations must be at least 1",
            ));
        }
        if !(1..=2).contains(&max_order) {
            return Err(invalid("max_order", max_order, "must be 1 or 2"));
        }
        let scale = 1usize << j;
        for (axis, size) in [shape.0, shape.1].into_iter().enumerate() {
            match boundary {
                Boundary::Reflect if size < scale => {
                    return Err(ScatteringError::SizeIncompatibleWithJ {
                        axis,
                        size,
                        j,
                        reason: format!("the side must be at least 2^J = {scale}"),
                    });
                }
                Boundary::Periodic if size % scale != 0 || size == 0 => {
                    return Err(ScatteringError::SizeIncompatibleWithJ {
                        axis,
                        size,
                        j,
                        reason: format!(
                            "periodic filters need a positive multiple of 2^J = {scale}"
                        ),
                    });
                }
                _ => {}
            }
        }
        let (padded, pad, bank) = match boundary {
            Boundary::Reflect => {
                let p = |m: usize| ((m + scale) / scale + 1) * scale;
                let (mp, np) = (p(shape.0), p(shape.1));
                // numpy.pad(mode='reflect') needs the padding smaller than the side.
                for (axis, (size, padded)) in [(shape.0, mp), (shape.1, np)].into_iter().enumerate()
                {
                    if padded - size > 2 * (size - 1) {
                        return Err(ScatteringError::SizeIncompatibleWithJ {
                            axis,
                            size,
                            j,
                            reason: format!(
                                "reflect padding to {padded} needs a side of at least {}",
                                (padded - size).div_ceil(2) + 1
                            ),
                        });
                    }
                }
                (
                    (mp, np),
                    ((mp - shape.0) / 2, (np - shape.1) / 2),
                    MorletBank2d::kymatio(mp, np, j, l),
                )
            }
            Boundary::Periodic => (
                shape,
                (0, 0),
                MorletBank2d::all_levels(shape.0, shape.1, j, l),
            ),
        };
        // Fourier buffers are kept transposed (see `Fft2::forward_t`), so are the filters.
        let sparse = |f: &ndarray::Array2<f64>, k: usize| {
            let ft: Vec<f64> = f.t().iter().copied().collect();
            SparseFilter::new(&ft, (f.ncols(), f.nrows()), (k, k))
        };
        let psi_sparse = bank
            .psi
            .iter()
            .map(|p| {
                p.levels
                    .iter()
                    .enumerate()
                    .map(|(r, f)| sparse(f, 1 << (p.j - r.min(p.j))))
                    .collect()
            })
            .collect();
        let out_shape = output_shape(boundary, padded, j);
        let offset = usize::from(boundary == Boundary::Reflect);
        let low = bank
            .phi
            .iter()
            .take(j)
            .enumerate()
            .map(|(r, f)| SeparableLowPass::new(f, 1 << (j - r), offset, out_shape))
            .collect();
        let mut planner = FftPlanner::new();
        let plans = (0..=j)
            .map(|r| Fft2::new(&mut planner, padded.0 >> r, padded.1 >> r))
            .collect();
        let mut paths = vec![Path2d {
            order: 0,
            n: vec![],
            j: vec![],
            theta: vec![],
        }];
        for (n1, p) in bank.psi.iter().enumerate() {
            paths.push(Path2d {
                order: 1,
                n: vec![n1],
                j: vec![p.j],
                theta: vec![p.theta],
            });
        }
        if max_order == 2 {
            for (n1, p1) in bank.psi.iter().enumerate() {
                for (n2, p2) in bank.psi.iter().enumerate() {
                    if p2.j > p1.j {
                        paths.push(Path2d {
                            order: 2,
                            n: vec![n1, n2],
                            j: vec![p1.j, p2.j],
                            theta: vec![p1.theta, p2.theta],
                        });
                    }
                }
            }
        }
        let index = |len: usize, pad: usize, size: usize| -> Vec<usize> {
            (0..len)
                .map(|i| match boundary {
                    Boundary::Periodic => i,
                    _ => reflect(i as isize - pad as isize, size),
                })
                .collect()
        };
        let pad_rows = index(padded.0, pad.0, shape.0);
        let pad_cols = index(padded.1, pad.1, shape.1);
        Ok(Self {
            shape,
            padded,
            pad_rows,
            pad_cols,
            j,
            max_order,
            boundary,
            bank,
            psi_sparse,
            low,
            plans,
            paths,
        })
    }

    /// Input shape $(M, N)$.
    pub fn shape(&self) -> (usize, usize) {
        self.shape
    }

    /// Number of scales $J$.
    pub fn j(&self) -> usize {
        self.j
    }

    /// Number of orientations $L$.
    pub fn l(&self) -> usize {
        self.bank.l
    }

    /// The filter bank (on the padded grid for [`Boundary::Reflect`]).
    pub fn filters(&self) -> &MorletBank2d {
        &self.bank
    }

    /// Metadata of every output channel, in output order: order 0, then order 1 by $n_1$, then
    /// order 2 by $(n_1, n_2)$ with $j_2 > j_1$ — kymatio's order.
    pub fn paths(&self) -> &[Path2d] {
        &self.paths
    }

    /// Number of output channels $1 + JL + L^2 J(J-1)/2$ (or $1 + JL$ at order 1).
    pub fn n_channels(&self) -> usize {
        self.paths.len()
    }

    /// Spatial shape of each output channel.
    pub fn output_shape(&self) -> (usize, usize) {
        output_shape(self.boundary, self.padded, self.j)
    }

    /// Transforms a batch `(B, M, N)` into `(B, C, M', N')`, in parallel over the batch; the
    /// result does not depend on the number of threads.
    ///
    /// # Errors
    /// An empty batch, a wrong spatial shape, or a non-finite value.
    pub fn forward(&self, x: ArrayView3<'_, f64>) -> Result<Array4<f64>, ScatteringError> {
        let (b, m, n) = x.dim();
        if b == 0 {
            return Err(wcrg_core::Error::Empty {
                what: "scattering input batch".into(),
            }
            .into());
        }
        if (m, n) != self.shape {
            return Err(wcrg_core::Error::ShapeMismatch {
                what: "scattering input (B, M, N)".into(),
                expected: vec![b, self.shape.0, self.shape.1],
                actual: vec![b, m, n],
            }
            .into());
        }
        check_finite("scattering input", x.iter())?;
        let (mo, no) = self.output_shape();
        let mut out = Array4::zeros((b, self.n_channels(), mo, no));
        out.axis_iter_mut(Axis(0))
            .into_par_iter()
            .zip(x.axis_iter(Axis(0)))
            .for_each_init(Workspace2d::default, |ws, (o, xi)| {
                self.forward_one(xi, o, ws)
            });
        Ok(out)
    }

    /// Transforms one field into `out` of shape `(C, M', N')`.
    ///
    /// # Panics
    /// When `x` is not `(M, N)` or `out` not `(C, M', N')`.
    pub fn forward_one(
        &self,
        x: ArrayView2<'_, f64>,
        mut out: ArrayViewMut3<'_, f64>,
        ws: &mut Workspace2d,
    ) {
        let (mo, no) = self.output_shape();
        assert_eq!(x.dim(), self.shape, "input shape (expected, actual)");
        assert_eq!(
            out.dim(),
            (self.n_channels(), mo, no),
            "output shape (expected, actual)"
        );
        let (mp, np) = self.padded;
        let Workspace2d {
            u0,
            u1,
            u2,
            re0,
            re1,
            tmp,
            scratch,
        } = ws;
        re0.clear();
        for &sr in &self.pad_rows {
            let row = x.row(sr);
            re0.extend(self.pad_cols.iter().map(|&sc| row[sc]));
        }
        self.low[0].apply(re0, tmp, out.index_axis_mut(Axis(0), 0));
        self.plans[0].forward_t_real(re0, u0, scratch);
        let psi = &self.bank.psi;
        let mut channel2 = 1 + psi.len();
        for (n1, p1) in psi.iter().enumerate() {
            let j1 = p1.j;
            u1.resize((mp >> j1) * (np >> j1), ZERO);
            self.psi_sparse[n1][0].apply(u0, u1);
            self.plans[j1].inverse_t_modulus(u1, scratch, re1);
            self.low[j1].apply(re1, tmp, out.index_axis_mut(Axis(0), 1 + n1));
            // The second order starts from this path only if a coarser wavelet exists.
            if self.max_order < 2 || j1 + 1 >= self.j {
                continue;
            }
            self.plans[j1].forward_t_real(re1, u1, scratch);
            for (n2, p2) in psi.iter().enumerate() {
                let j2 = p2.j;
                if j2 <= j1 {
                    continue;
                }
                u2.resize((mp >> j2) * (np >> j2), ZERO);
                self.psi_sparse[n2][j1].apply(u1, u2);
                // The first-order modulus is no longer needed: its buffer takes this one.
                self.plans[j2].inverse_t_modulus(u2, scratch, re1);
                self.low[j2].apply(re1, tmp, out.index_axis_mut(Axis(0), channel2));
                channel2 += 1;
            }
        }
    }
}

/// Output side of each channel from the padded (or, periodic, the field's own) shape:
/// subsampled by $2^J$, then one coarse pixel cropped on each side under [`Boundary::Reflect`].
fn output_shape(boundary: Boundary, padded: (usize, usize), j: usize) -> (usize, usize) {
    let crop = if boundary == Boundary::Reflect { 2 } else { 0 };
    ((padded.0 >> j) - crop, (padded.1 >> j) - crop)
}
