//! Coefficient layouts: packed (Mallat) arrays and PyWavelets' lists.

use ndarray::{ArrayD, ArrayViewD, IxDyn, Slice, SliceInfoElem};

/// Detail keys of one level in PyWavelets' order: a letter per axis, `a` for low-pass and `d`
/// for high-pass. 1-D: `d`; 2-D: `da`, `ad`, `dd` (PyWavelets' `cH`, `cV`, `cD`); 3-D: the
/// `wavedecn` keys `aad`, `ada`, `add`, `daa`, `dad`, `dda`, `ddd`.
///
/// # Panics
/// Outside 1–3 axes.
pub fn detail_keys(ndim: usize) -> &'static [&'static str] {
    match ndim {
        1 => &["d"],
        2 => &["da", "ad", "dd"],
        3 => &["aad", "ada", "add", "daa", "dad", "dda", "ddd"],
        _ => panic!("detail_keys: {ndim} axes; supported 1, 2 or 3"),
    }
}

/// The name PyWavelets users give a detail array: `cD3` (1-D), `cH2`/`cV2`/`cD2` (2-D), or the
/// `wavedecn` key with the level, `dad1` (3-D).
pub fn pywt_detail_name(key: &str, level: usize) -> String {
    match key {
        "d" | "dd" => format!("cD{level}"),
        "da" => format!("cH{level}"),
        "ad" => format!("cV{level}"),
        other => format!("{other}{level}"),
    }
}

/// Shape of the block transformed at level `l + 1` (the approximation after `l` levels).
pub(crate) fn block_shape(shape: &[usize], l: usize) -> Vec<usize> {
    shape.iter().map(|s| s >> l).collect()
}

/// Copies the origin block of shape `dims` of the compact array `data` (shape `full`) into the
/// compact `block` (`gather = true`), or back (`gather = false`).
pub(crate) fn copy_block(
    full: &[usize],
    dims: &[usize],
    data: &mut [f64],
    block: &mut [f64],
    gather: bool,
) {
    let d = full.len();
    let row = dims[d - 1];
    let rows: usize = dims[..d - 1].iter().product();
    let mut idx = vec![0usize; d.saturating_sub(1)];
    for r in 0..rows {
        // Row-major offset of (idx…, 0) in the full array.
        let mut full_off = 0;
        for a in 0..d - 1 {
            full_off = full_off * full[a] + idx[a];
        }
        full_off *= full[d - 1];
        let (src, dst) = (full_off..full_off + row, r * row..(r + 1) * row);
        if gather {
            block[dst].copy_from_slice(&data[src]);
        } else {
            data[src].copy_from_slice(&block[dst]);
        }
        for a in (0..d - 1).rev() {
            idx[a] += 1;
            if idx[a] < dims[a] {
                break;
            }
            idx[a] = 0;
        }
    }
}

/// Index ranges of the detail `key` at level `level` within a packed array of shape `shape`.
pub(crate) fn detail_slices(shape: &[usize], key: &str, level: usize) -> Vec<SliceInfoElem> {
    shape
        .iter()
        .zip(key.chars())
        .map(|(&s, c)| {
            let m = (s >> level) as isize;
            let start = if c == 'd' { m } else { 0 };
            SliceInfoElem::from(Slice::from(start..start + m))
        })
        .collect()
}

/// Coefficients in PyWavelets' list layout.
///
/// `approx` is `cA_J`; `details[i]` holds level `J - i` (coarsest first, as in `wavedec`), as
/// `(key, array)` pairs in [`detail_keys`] order.
#[derive(Debug, Clone, PartialEq)]
pub struct Coefficients {
    /// The approximation $c_{A,J}$.
    pub approx: ArrayD<f64>,
    /// Details per level, coarsest first.
    pub details: Vec<Vec<(String, ArrayD<f64>)>>,
}

impl Coefficients {
    /// Number of levels $J$.
    pub fn levels(&self) -> usize {
        self.details.len()
    }

    /// The arrays with PyWavelets users' names, coarsest first: `cA3`, then per level `cD3`
    /// (1-D), `cH3`, `cV3`, `cD3` (2-D) or `aad3`, …, `ddd3` (3-D, `wavedecn` keys).
    pub fn to_named(&self) -> Vec<(String, ArrayD<f64>)> {
        let levels = self.levels();
        let mut out = vec![(format!("cA{levels}"), self.approx.clone())];
        for (i, level) in self.details.iter().enumerate() {
            for (key, arr) in level {
                out.push((pywt_detail_name(key, levels - i), arr.clone()));
            }
        }
        out
    }

    /// Coefficients from arrays named as in [`Coefficients::to_named`]; `get(name)` returns the
    /// array of that name, if any. The number of levels is read from the `cA{J}` name.
    ///
    /// # Errors
    /// [`wcrg_core::Error::InvalidParameter`] when `cA{J}` or a detail is missing;
    /// [`wcrg_core::Error::UnsupportedDimension`] outside 1–3 axes.
    pub fn from_named(
        names: &[String],
        mut get: impl FnMut(&str) -> Option<ArrayD<f64>>,
    ) -> wcrg_core::Result<Self> {
        let missing = |what: &str| wcrg_core::Error::InvalidParameter {
            name: what.to_owned(),
            value: "missing".into(),
            reason: format!("coefficient arrays present: {names:?}"),
        };
        let levels: usize = names
            .iter()
            .filter_map(|n| n.strip_prefix("cA").and_then(|l| l.parse().ok()))
            .max()
            .ok_or_else(|| missing("cA{J}"))?;
        let approx = get(&format!("cA{levels}")).ok_or_else(|| missing("cA{J}"))?;
        let ndim = approx.ndim();
        if !(1..=3).contains(&ndim) {
            return Err(wcrg_core::Error::UnsupportedDimension {
                what: "wavelet coefficients".into(),
                ndim,
                supported: "1, 2 or 3".into(),
            });
        }
        let mut details = Vec::with_capacity(levels);
        for l in (1..=levels).rev() {
            let mut level = Vec::new();
            for key in detail_keys(ndim) {
                let name = pywt_detail_name(key, l);
                level.push((key.to_string(), get(&name).ok_or_else(|| missing(&name))?));
            }
            details.push(level);
        }
        Ok(Self { approx, details })
    }

    pub(crate) fn from_packed(packed: ArrayViewD<'_, f64>, levels: usize) -> Self {
        let shape = packed.shape().to_vec();
        let approx_slices: Vec<SliceInfoElem> = shape
            .iter()
            .map(|&s| SliceInfoElem::from(Slice::from(0..(s >> levels) as isize)))
            .collect();
        let approx = packed.slice(approx_slices.as_slice()).to_owned();
        let details = (1..=levels)
            .rev()
            .map(|l| {
                detail_keys(shape.len())
                    .iter()
                    .map(|k| {
                        let sl = detail_slices(&shape, k, l);
                        (k.to_string(), packed.slice(sl.as_slice()).to_owned())
                    })
                    .collect()
            })
            .collect();
        Self { approx, details }
    }

    pub(crate) fn to_packed(
        &self,
        shape: &[usize],
        levels: usize,
    ) -> wcrg_core::Result<ArrayD<f64>> {
        let mut out = ArrayD::zeros(IxDyn(shape));
        let coarse: Vec<usize> = shape.iter().map(|s| s >> levels).collect();
        wcrg_core::validate::shape("approximation coefficients", &coarse, self.approx.shape())?;
        if self.details.len() != levels {
            return Err(wcrg_core::Error::ShapeMismatch {
                what: "number of detail levels".into(),
                expected: vec![levels],
                actual: vec![self.details.len()],
            });
        }
        let approx_slices: Vec<SliceInfoElem> = coarse
            .iter()
            .map(|&m| SliceInfoElem::from(Slice::from(0..m as isize)))
            .collect();
        out.slice_mut(approx_slices.as_slice()).assign(&self.approx);
        for (i, level) in self.details.iter().enumerate() {
            let l = levels - i;
            let keys = detail_keys(shape.len());
            let got: Vec<&str> = level.iter().map(|(k, _)| k.as_str()).collect();
            if got != keys {
                return Err(wcrg_core::Error::InvalidParameter {
                    name: format!("detail keys of level {l}"),
                    value: format!("{got:?}"),
                    reason: format!("expected {keys:?}"),
                });
            }
            let m: Vec<usize> = shape.iter().map(|s| s >> l).collect();
            for (k, arr) in level {
                wcrg_core::validate::shape(&format!("detail {k} of level {l}"), &m, arr.shape())?;
                out.slice_mut(detail_slices(shape, k, l).as_slice())
                    .assign(arr);
            }
        }
        Ok(out)
    }
}
