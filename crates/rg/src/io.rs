//! Reading and writing batches of fields as `.npy`.

use std::path::Path;

use ndarray::{Array3, ArrayD, ArrayView3, Ix3};

use crate::error::{Result, RgError};

/// Reads a batch of 2-D fields `(N, L, L)` of `f64` (or `f32`, converted) from a `.npy` file.
///
/// # Errors
/// A missing or unreadable file, another dtype, a number of axes other than 3, non-finite
/// values.
pub fn read_fields(path: impl AsRef<Path>) -> Result<Array3<f64>> {
    let path = path.as_ref();
    let bad = |detail: String| -> RgError {
        wcrg_core::Error::Io {
            path: path.display().to_string(),
            detail,
        }
        .into()
    };
    let a: ArrayD<f64> = match ndarray_npy::read_npy::<_, ArrayD<f64>>(path) {
        Ok(a) => a,
        Err(e64) => match ndarray_npy::read_npy::<_, ArrayD<f32>>(path) {
            Ok(a) => a.mapv(f64::from),
            Err(_) => return Err(bad(format!("cannot read as a float64 .npy array: {e64}"))),
        },
    };
    if a.ndim() != 3 {
        return Err(bad(format!(
            "expected a batch of 2-D fields (N, L, L), got shape {:?}",
            a.shape()
        )));
    }
    wcrg_core::validate::finite(&format!("fields in {}", path.display()), a.iter())?;
    Ok(a.into_dimensionality::<Ix3>().expect("3 axes"))
}

/// Writes a batch `(N, L, L)` as a float64 `.npy` file.
///
/// # Errors
/// I/O failures.
pub fn write_fields(path: impl AsRef<Path>, fields: ArrayView3<'_, f64>) -> Result<()> {
    let path = path.as_ref();
    ndarray_npy::write_npy(path, &fields.as_standard_layout()).map_err(|e| {
        wcrg_core::Error::Io {
            path: path.display().to_string(),
            detail: e.to_string(),
        }
        .into()
    })
}
