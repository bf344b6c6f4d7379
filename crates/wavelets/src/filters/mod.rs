//! Orthogonal filter families: PyWavelets' `haar`, `db1`–`db20`, `sym2`–`sym20`, `coif1`–`coif5`,
//! and user-supplied orthonormal filters.
//!
//! A family member is given by its decomposition low-pass filter $h$ (`dec_lo`). The other three
//! filters follow PyWavelets' conventions exactly:
//! $g_k = (-1)^{F-1-k}\, h_{F-1-k}$ (`dec_hi`), `rec_lo` $= h$ reversed, `rec_hi` $= g$ reversed,
//! where $F$ is the filter length.

mod tables;

use crate::error::{Result, WaveletError};

/// An orthogonal wavelet: the four filters of its two-channel filter bank.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Wavelet {
    name: String,
    dec_lo: Vec<f64>,
    dec_hi: Vec<f64>,
}

/// Tolerance of the orthonormality check of user-supplied filters.
pub const ORTHONORMALITY_TOLERANCE: f64 = 1e-10;

impl Wavelet {
    /// A built-in family member by PyWavelets' name (`"haar"`, `"db4"`, `"sym8"`, `"coif3"`, …).
    ///
    /// # Errors
    /// [`WaveletError::UnknownWavelet`] for any other name.
    pub fn new(name: &str) -> Result<Self> {
        let taps = tables::TABLE
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, t)| t.to_vec())
            .ok_or_else(|| WaveletError::UnknownWavelet {
                name: name.to_owned(),
            })?;
        Ok(Self::from_valid_dec_lo(name, taps))
    }

    /// A wavelet from a user-supplied decomposition low-pass filter $h$.
    ///
    /// # Errors
    /// [`WaveletError::BadFilterLength`] for an odd or empty filter,
    /// [`wcrg_core::Error::NonFinite`] for NaN/Inf taps, [`WaveletError::NotOrthonormal`] unless
    /// $\sum_k h_k h_{k+2m} = \delta_{m0}$ to [`ORTHONORMALITY_TOLERANCE`], and
    /// [`WaveletError::NotLowPass`] unless $\sum_k h_k = \sqrt2$.
    pub fn from_dec_lo(name: &str, dec_lo: Vec<f64>) -> Result<Self> {
        let f = dec_lo.len();
        if f == 0 || f % 2 == 1 {
            return Err(WaveletError::BadFilterLength {
                name: name.to_owned(),
                len: f,
            });
        }
        wcrg_core::validate::finite(&format!("filter `{name}`"), &dec_lo)?;
        let (shift, value) = orthonormality_sums(&dec_lo)
            .enumerate()
            .max_by(|a, b| deviation(a).total_cmp(&deviation(b)))
            .expect("at least one shift");
        if deviation(&(shift, value)) > ORTHONORMALITY_TOLERANCE {
            let expected = if shift == 0 { 1.0 } else { 0.0 };
            return Err(WaveletError::NotOrthonormal {
                name: name.to_owned(),
                shift,
                value,
                expected,
            });
        }
        let sum: f64 = dec_lo.iter().sum();
        if (sum - std::f64::consts::SQRT_2).abs() > 1e-8 {
            return Err(WaveletError::NotLowPass {
                name: name.to_owned(),
                sum,
            });
        }
        Ok(Self::from_valid_dec_lo(name, dec_lo))
    }

    /// The largest deviation $\max_m |\sum_k h_k h_{k+2m} - \delta_{m0}|$ of the taps from
    /// orthonormality. PyWavelets' tables reach about `1.4e-11` (`sym20`), which bounds how
    /// exactly any implementation using them can reconstruct.
    pub fn orthonormality_defect(&self) -> f64 {
        orthonormality_sums(&self.dec_lo)
            .enumerate()
            .map(|p| deviation(&p))
            .fold(0.0, f64::max)
    }

    fn from_valid_dec_lo(name: &str, dec_lo: Vec<f64>) -> Self {
        let f = dec_lo.len();
        let dec_hi = (0..f)
            .map(|k| {
                let v = dec_lo[f - 1 - k];
                if (f - 1 - k) % 2 == 0 { v } else { -v }
            })
            .collect();
        Self {
            name: name.to_owned(),
            dec_lo,
            dec_hi,
        }
    }

    /// The names of the built-in wavelets, in PyWavelets' order within each family.
    pub fn builtin_names() -> impl Iterator<Item = &'static str> {
        tables::TABLE.iter().map(|(n, _)| *n)
    }

    /// The wavelet's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Filter length $F$.
    pub fn len(&self) -> usize {
        self.dec_lo.len()
    }

    /// Always `false`: a wavelet has at least two taps.
    pub fn is_empty(&self) -> bool {
        self.dec_lo.is_empty()
    }

    /// Decomposition low-pass filter $h$ (PyWavelets' `dec_lo`).
    pub fn dec_lo(&self) -> &[f64] {
        &self.dec_lo
    }

    /// Decomposition high-pass filter $g$ (PyWavelets' `dec_hi`).
    pub fn dec_hi(&self) -> &[f64] {
        &self.dec_hi
    }

    /// Reconstruction low-pass filter (PyWavelets' `rec_lo`, $h$ reversed).
    pub fn rec_lo(&self) -> Vec<f64> {
        self.dec_lo.iter().rev().copied().collect()
    }

    /// Reconstruction high-pass filter (PyWavelets' `rec_hi`, $g$ reversed).
    pub fn rec_hi(&self) -> Vec<f64> {
        self.dec_hi.iter().rev().copied().collect()
    }
}

/// $\sum_k h_k h_{k+2m}$ for $m = 0, 1, \ldots, F/2 - 1$.
fn orthonormality_sums(h: &[f64]) -> impl Iterator<Item = f64> + '_ {
    let f = h.len();
    (0..f / 2).map(move |m| (0..f - 2 * m).map(|k| h[k] * h[k + 2 * m]).sum())
}

/// Deviation of the sum at shift `m` from $\delta_{m0}$.
fn deviation(&(m, v): &(usize, f64)) -> f64 {
    if m == 0 { (v - 1.0).abs() } else { v.abs() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_are_orthonormal_low_pass() {
        let names: Vec<_> = Wavelet::builtin_names().collect();
        assert_eq!(names.len(), 45);
        let worst = names
            .iter()
            .map(|n| Wavelet::new(n).unwrap().orthonormality_defect())
            .fold(0.0, f64::max);
        assert!(worst > 0.0 && worst < 2e-11, "{worst:e}");
        for name in names {
            let w = Wavelet::new(name).unwrap();
            Wavelet::from_dec_lo(name, w.dec_lo().to_vec()).unwrap();
            // High-pass is orthogonal to low-pass at every even shift and has zero mean, up to
            // the precision of the tabulated taps.
            let tol = (4.0 * w.orthonormality_defect()).max(1e-12);
            let f = w.len();
            for m in 0..f / 2 {
                let c: f64 = (0..f - 2 * m)
                    .map(|k| w.dec_lo()[k] * w.dec_hi()[k + 2 * m])
                    .sum();
                let d: f64 = (0..f - 2 * m)
                    .map(|k| w.dec_hi()[k] * w.dec_lo()[k + 2 * m])
                    .sum();
                assert!(c.abs() < tol && d.abs() < tol, "{name} shift {m}: {c} {d}");
            }
            // PyWavelets' sym3/sym5 high-pass filters have zero mean only to about 3.4e-12.
            assert!(w.dec_hi().iter().sum::<f64>().abs() < 1e-11, "{name}");
        }
    }

    #[test]
    fn lengths_follow_the_families() {
        assert_eq!(Wavelet::new("haar").unwrap().len(), 2);
        assert_eq!(Wavelet::new("db20").unwrap().len(), 40);
        assert_eq!(Wavelet::new("sym7").unwrap().len(), 14);
        assert_eq!(Wavelet::new("coif5").unwrap().len(), 30);
    }

    #[test]
    fn bad_filters_are_rejected_with_the_reason() {
        assert!(matches!(
            Wavelet::new("db21"),
            Err(WaveletError::UnknownWavelet { .. })
        ));
        assert!(matches!(
            Wavelet::from_dec_lo("x", vec![1.0, 2.0, 3.0]),
            Err(WaveletError::BadFilterLength { len: 3, .. })
        ));
        assert!(matches!(
            Wavelet::from_dec_lo("x", vec![]),
            Err(WaveletError::BadFilterLength { len: 0, .. })
        ));
        assert!(matches!(
            Wavelet::from_dec_lo("x", vec![0.5, 0.5]),
            Err(WaveletError::NotOrthonormal { shift: 0, .. })
        ));
        let mut db2 = Wavelet::new("db2").unwrap().dec_lo().to_vec();
        db2[1] += 1e-3;
        assert!(matches!(
            Wavelet::from_dec_lo("x", db2),
            Err(WaveletError::NotOrthonormal { .. })
        ));
        let s = std::f64::consts::FRAC_1_SQRT_2;
        assert!(matches!(
            Wavelet::from_dec_lo("x", vec![-s, -s]),
            Err(WaveletError::NotLowPass { .. })
        ));
        assert!(matches!(
            Wavelet::from_dec_lo("x", vec![f64::NAN, s]),
            Err(WaveletError::Core(wcrg_core::Error::NonFinite { .. }))
        ));
        // A user filter that is orthonormal is accepted and transforms like the built-in one.
        let w = Wavelet::from_dec_lo("mine", vec![s, s]).unwrap();
        assert_eq!(w.dec_hi(), Wavelet::new("haar").unwrap().dec_hi());
    }
}
