//! 2-D wavelet packets: every band split at every depth, bands in frequency order.

use ndarray::{Array2, Array3, ArrayView2, ArrayView3, Axis, s};
use rayon::prelude::*;

use crate::Wavelet;
use crate::error::{Result, WaveletError};
use crate::kernels::{Bank, Rows, analysis_rows, synthesis_rows};
use wcrg_core::validate;

/// A plan for the depth-`d` 2-D periodic wavelet packet transform.
///
/// Each of the two axes is split by a full binary tree of depth `d`, giving $4^d$ bands of shape
/// `(n0 / 2^d, n1 / 2^d)`. Bands are returned in **frequency order** along each axis (the
/// natural tree order permuted by the Gray code, as PyWavelets' `get_level(d, order="freq")`),
/// row-major over the `2^d × 2^d` grid: band `k0 * 2^d + k1` has frequency index `k0` along
/// axis 0 and `k1` along axis 1. The transform is orthogonal and [`WaveletPacket2d::inverse`] is
/// exact.
#[derive(Debug, Clone)]
pub struct WaveletPacket2d {
    bank: Bank,
    shape: [usize; 2],
    depth: usize,
}

/// Natural-order index of the band with frequency index `k` (the Gray code of `k`).
fn gray(k: usize) -> usize {
    k ^ (k >> 1)
}

impl WaveletPacket2d {
    /// Plans the depth-`depth` packet transform of `(n0, n1)` fields.
    ///
    /// # Errors
    /// [`WaveletError::ZeroLevels`] for depth 0; [`wcrg_core::Error::NotDivisible`] unless both
    /// sizes are divisible by `2^depth`.
    pub fn new(wavelet: &Wavelet, shape: [usize; 2], depth: usize) -> Result<Self> {
        if depth == 0 {
            return Err(WaveletError::ZeroLevels);
        }
        let divisor = 1usize.checked_shl(depth as u32).unwrap_or(0);
        if divisor == 0 {
            return Err(wcrg_core::Error::InvalidParameter {
                name: "depth".into(),
                value: depth.to_string(),
                reason: "2^depth overflows".into(),
            }
            .into());
        }
        validate::divisible("wavelet packet input", &shape, divisor)?;
        Ok(Self {
            bank: Bank::new(wavelet),
            shape,
            depth,
        })
    }

    /// Number of bands, $4^d$.
    pub fn n_bands(&self) -> usize {
        1 << (2 * self.depth)
    }

    /// Shape of one band.
    pub fn band_shape(&self) -> [usize; 2] {
        [self.shape[0] >> self.depth, self.shape[1] >> self.depth]
    }

    /// Filter path of band `band` along each axis, `a` (low-pass) or `d` (high-pass) per depth,
    /// coarsest split first.
    ///
    /// # Panics
    /// When `band >= n_bands()`.
    pub fn band_paths(&self, band: usize) -> (String, String) {
        assert!(band < self.n_bands(), "band {band} of {}", self.n_bands());
        let side = 1 << self.depth;
        let path = |k: usize| {
            let b = gray(k);
            (0..self.depth)
                .rev()
                .map(|bit| if (b >> bit) & 1 == 1 { 'd' } else { 'a' })
                .collect::<String>()
        };
        (path(band / side), path(band % side))
    }

    /// PyWavelets' `WaveletPacket2D` node path of band `band` (letters `a`, `h`, `v`, `d`).
    ///
    /// # Panics
    /// When `band >= n_bands()`.
    pub fn pywt_path(&self, band: usize) -> String {
        let (p0, p1) = self.band_paths(band);
        p0.chars()
            .zip(p1.chars())
            .map(|pair| match pair {
                ('a', 'a') => 'a',
                ('d', 'a') => 'h',
                ('a', 'd') => 'v',
                _ => 'd',
            })
            .collect()
    }

    fn packet_1d(&self, x: &mut [f64], inverse: bool, tmp: &mut Vec<f64>, ext: &mut Vec<f64>) {
        let n = x.len();
        tmp.resize(n, 0.0);
        let levels: Vec<usize> = if inverse {
            (0..self.depth).rev().collect()
        } else {
            (0..self.depth).collect()
        };
        for l in levels {
            let seg = n >> l;
            let one = Rows {
                count: 1,
                src_stride: seg,
                dst_stride: seg,
            };
            for (xs, ts) in x.chunks_mut(seg).zip(tmp.chunks_mut(seg)) {
                if inverse {
                    synthesis_rows(&self.bank, xs, ts, seg, one, ext);
                } else {
                    analysis_rows(&self.bank, xs, ts, seg, one, ext);
                }
                xs.copy_from_slice(ts);
            }
        }
    }

    /// Applies the 1-D packet transform to every row, then to every column (or the reverse).
    fn separable(&self, a: &mut Array2<f64>, inverse: bool) {
        let by_rows = |a: &mut Array2<f64>| {
            a.axis_iter_mut(Axis(0)).into_par_iter().for_each_init(
                || (Vec::new(), Vec::new(), Vec::new()),
                |(row, tmp, ext), mut r| {
                    row.clear();
                    row.extend(r.iter().copied());
                    self.packet_1d(row, inverse, tmp, ext);
                    r.iter_mut().zip(row.iter()).for_each(|(d, v)| *d = *v);
                },
            );
        };
        let mut t = a.t().to_owned();
        if inverse {
            by_rows(&mut t);
            a.assign(&t.t());
            by_rows(a);
        } else {
            by_rows(a);
            t.assign(&a.t());
            by_rows(&mut t);
            a.assign(&t.t());
        }
    }

    /// The $4^d$ frequency-ordered bands of `x`, shape `(4^d, n0/2^d, n1/2^d)`.
    ///
    /// # Panics
    /// When `x` does not have the planned shape.
    pub fn forward(&self, x: ArrayView2<'_, f64>) -> Array3<f64> {
        validate::assert_shape("wavelet packet input", &self.shape, x.shape());
        let mut a = x.to_owned();
        self.separable(&mut a, false);
        let [m0, m1] = self.band_shape();
        let side = 1 << self.depth;
        let mut out = Array3::zeros((self.n_bands(), m0, m1));
        for (band, mut o) in out.axis_iter_mut(Axis(0)).enumerate() {
            let (b0, b1) = (gray(band / side), gray(band % side));
            o.assign(&a.slice(s![b0 * m0..(b0 + 1) * m0, b1 * m1..(b1 + 1) * m1]));
        }
        out
    }

    /// The field with frequency-ordered bands `bands` (exact inverse of [`Self::forward`]).
    ///
    /// # Panics
    /// When `bands` does not have shape `(4^d, n0/2^d, n1/2^d)`.
    pub fn inverse(&self, bands: ArrayView3<'_, f64>) -> Array2<f64> {
        let [m0, m1] = self.band_shape();
        validate::assert_shape(
            "wavelet packet bands",
            &[self.n_bands(), m0, m1],
            bands.shape(),
        );
        let side = 1 << self.depth;
        let mut a = Array2::zeros((self.shape[0], self.shape[1]));
        for (band, b) in bands.axis_iter(Axis(0)).enumerate() {
            let (b0, b1) = (gray(band / side), gray(band % side));
            a.slice_mut(s![b0 * m0..(b0 + 1) * m0, b1 * m1..(b1 + 1) * m1])
                .assign(&b);
        }
        self.separable(&mut a, true);
        a
    }
}
