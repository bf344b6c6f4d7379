//! The multilevel periodic discrete wavelet transform in 1-D, 2-D and 3-D.

use ndarray::{ArrayD, ArrayViewD, ArrayViewMutD, Axis};
use rayon::prelude::*;
use wcrg_core::{Transform, Workspace, validate};

use crate::Wavelet;
use crate::error::{Result, WaveletError};
use crate::kernels::{self, Bank};
use crate::layout::{Coefficients, block_shape, copy_block};

/// A validated plan for the `levels`-level orthogonal wavelet transform of fields of one shape.
///
/// The coefficients are stored in the **packed (Mallat) layout**: an array of the field's shape
/// whose origin block of shape `shape / 2^levels` holds the approximation, and where, at level
/// `l`, the block of shape `shape / 2^l` offset by `shape / 2^l` along the axes whose key letter
/// is `d` holds that detail. This is PyWavelets' `coeffs_to_array` layout; [`Dwt::to_pywt`] and
/// [`Dwt::from_pywt`] convert to and from `wavedec`/`wavedec2`/`wavedecn` lists.
///
/// The plan is immutable, `Send + Sync`, and its in-place methods take a [`Workspace`].
#[derive(Debug, Clone)]
pub struct Dwt {
    wavelet: Wavelet,
    bank: Bank,
    shape: Vec<usize>,
    levels: usize,
}

#[derive(Default)]
struct Scratch {
    block: Vec<f64>,
    bufs: kernels::Buffers,
    contiguous: Vec<f64>,
}

impl Dwt {
    /// Plans the `levels`-level transform of fields of shape `shape` (1, 2 or 3 axes).
    ///
    /// # Errors
    /// [`WaveletError::ZeroLevels`]; [`wcrg_core::Error::UnsupportedDimension`] outside 1–3 axes;
    /// [`wcrg_core::Error::NotDivisible`] when a size is not divisible by `2^levels`.
    pub fn new(wavelet: &Wavelet, shape: &[usize], levels: usize) -> Result<Self> {
        if levels == 0 {
            return Err(WaveletError::ZeroLevels);
        }
        if !(1..=3).contains(&shape.len()) {
            return Err(wcrg_core::Error::UnsupportedDimension {
                what: "wavelet transform".into(),
                ndim: shape.len(),
                supported: "1, 2 or 3".into(),
            }
            .into());
        }
        let divisor = 1usize
            .checked_shl(levels as u32)
            .filter(|d| *d != 0)
            .ok_or(wcrg_core::Error::InvalidParameter {
                name: "levels".into(),
                value: levels.to_string(),
                reason: "2^levels overflows".into(),
            })?;
        validate::divisible("wavelet transform input", shape, divisor)?;
        Ok(Self {
            bank: Bank::new(wavelet),
            wavelet: wavelet.clone(),
            shape: shape.to_vec(),
            levels,
        })
    }

    /// The deepest transform of `shape`: the largest `L` with every size divisible by `2^L`
    /// (0 when a size is odd).
    pub fn max_levels(shape: &[usize]) -> usize {
        shape
            .iter()
            .map(|&s| {
                if s == 0 {
                    0
                } else {
                    s.trailing_zeros() as usize
                }
            })
            .min()
            .unwrap_or(0)
    }

    /// The wavelet.
    pub fn wavelet(&self) -> &Wavelet {
        &self.wavelet
    }

    /// Number of levels.
    pub fn levels(&self) -> usize {
        self.levels
    }

    /// Number of axes of a field.
    pub fn ndim(&self) -> usize {
        self.shape.len()
    }

    /// Transforms a compact row-major buffer in place.
    fn run(&self, data: &mut [f64], inverse: bool, s: &mut Scratch) {
        let Scratch { block, bufs, .. } = s;
        let order: Vec<usize> = if inverse {
            (1..=self.levels).rev().collect()
        } else {
            (1..=self.levels).collect()
        };
        for l in order {
            let dims = block_shape(&self.shape, l - 1);
            let full_row = self.shape[self.shape.len() - 1];
            if l == 1 || self.shape.len() == 2 {
                // 2-D sub-blocks are addressed in place with the full row stride.
                kernels::level(&self.bank, inverse, &dims, data, full_row, bufs);
            } else {
                let len = dims.iter().product();
                if block.len() < len {
                    block.resize(len, 0.0);
                }
                let block = &mut block[..len];
                copy_block(&self.shape, &dims, data, block, true);
                let row = dims[dims.len() - 1];
                kernels::level(&self.bank, inverse, &dims, block, row, bufs);
                copy_block(&self.shape, &dims, data, block, false);
            }
        }
    }

    fn run_view(&self, mut data: ArrayViewMutD<'_, f64>, inverse: bool, ws: &mut Workspace) {
        validate::assert_shape("wavelet transform data", &self.shape, data.shape());
        let s = ws.get::<Scratch>();
        if let Some(slice) = data.as_slice_mut() {
            self.run(slice, inverse, s);
        } else {
            let mut buf = std::mem::take(&mut s.contiguous);
            buf.clear();
            buf.extend(data.iter().copied());
            self.run(&mut buf, inverse, s);
            data.iter_mut().zip(&buf).for_each(|(d, v)| *d = *v);
            s.contiguous = buf;
        }
    }

    fn run_batch(&self, mut data: ArrayViewMutD<'_, f64>, inverse: bool) -> Result<()> {
        let expected: Vec<usize> = std::iter::once(data.shape().first().copied().unwrap_or(0))
            .chain(self.shape.iter().copied())
            .collect();
        validate::shape("wavelet transform batch", &expected, data.shape())?;
        data.axis_iter_mut(Axis(0))
            .into_par_iter()
            .for_each_init(Workspace::new, |ws, x| self.run_view(x, inverse, ws));
        Ok(())
    }

    /// Transforms every field of a batch `(B, shape…)` in place, in parallel over the batch.
    ///
    /// # Errors
    /// [`wcrg_core::Error::ShapeMismatch`] when the trailing axes are not the plan's shape.
    pub fn forward_batch_inplace(&self, data: ArrayViewMutD<'_, f64>) -> Result<()> {
        self.run_batch(data, false)
    }

    /// Inverse of [`Dwt::forward_batch_inplace`].
    ///
    /// # Errors
    /// [`wcrg_core::Error::ShapeMismatch`] when the trailing axes are not the plan's shape.
    pub fn inverse_batch_inplace(&self, data: ArrayViewMutD<'_, f64>) -> Result<()> {
        self.run_batch(data, true)
    }

    /// PyWavelets' `wavedec`/`wavedec2`/`wavedecn` of a field, checking its shape and values.
    ///
    /// # Errors
    /// [`wcrg_core::Error::ShapeMismatch`] or [`wcrg_core::Error::NonFinite`].
    pub fn wavedec(&self, x: ArrayViewD<'_, f64>) -> Result<Coefficients> {
        validate::shape("wavedec input", &self.shape, x.shape())?;
        validate::finite("wavedec input", x.iter())?;
        Ok(self.to_pywt(self.forward(x).view()))
    }

    /// PyWavelets' `waverec`/`waverec2`/`waverecn`: the field with coefficients `c`.
    ///
    /// # Errors
    /// [`wcrg_core::Error::ShapeMismatch`] when `c` does not match the plan.
    pub fn waverec(&self, c: &Coefficients) -> Result<ArrayD<f64>> {
        let mut packed = self.from_pywt(c)?;
        self.inverse_inplace(packed.view_mut(), &mut Workspace::new());
        Ok(packed)
    }

    /// Splits a packed coefficient array into PyWavelets' list layout.
    ///
    /// # Panics
    /// When `packed` does not have the plan's shape.
    pub fn to_pywt(&self, packed: ArrayViewD<'_, f64>) -> Coefficients {
        validate::assert_shape("packed coefficients", &self.shape, packed.shape());
        Coefficients::from_packed(packed, self.levels)
    }

    /// Packs PyWavelets' list layout into a packed coefficient array.
    ///
    /// # Errors
    /// [`wcrg_core::Error::ShapeMismatch`] when a level or key does not match the plan.
    pub fn from_pywt(&self, c: &Coefficients) -> Result<ArrayD<f64>> {
        Ok(c.to_packed(&self.shape, self.levels)?)
    }
}

impl Transform for Dwt {
    fn shape(&self) -> &[usize] {
        &self.shape
    }

    fn forward_inplace(&self, data: ArrayViewMutD<'_, f64>, ws: &mut Workspace) {
        self.run_view(data, false, ws);
    }

    fn inverse_inplace(&self, data: ArrayViewMutD<'_, f64>, ws: &mut Workspace) {
        self.run_view(data, true, ws);
    }
}
