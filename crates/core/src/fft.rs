//! Multidimensional complex FFT on compact row-major buffers (rustfft along every axis), shared
//! by the crates that need spectra, correlations or Fourier-space energies.
//!
//! Conventions are NumPy's `fftn`/`ifftn` without normalisation:
//! $\hat x(k) = \sum_u x(u) e^{-2\pi i k\cdot u/L}$ and `inverse(forward(x)) = N x`.

pub use rustfft::num_complex::Complex64;
use rustfft::{Fft, FftPlanner};
use std::sync::Arc;

/// Forward and inverse plans for every axis of one shape. Unnormalised, like NumPy's `fftn`:
/// `inverse(forward(x)) = N x`.
#[derive(Clone)]
pub struct FftNd {
    shape: Vec<usize>,
    fwd: Vec<Arc<dyn Fft<f64>>>,
    inv: Vec<Arc<dyn Fft<f64>>>,
}

impl std::fmt::Debug for FftNd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FftNd").field("shape", &self.shape).finish()
    }
}

impl FftNd {
    /// The planned shape.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Plans for fields of shape `shape` (any number of axes, non-zero sizes).
    pub fn new(shape: &[usize]) -> Self {
        let mut planner = FftPlanner::new();
        Self {
            shape: shape.to_vec(),
            fwd: shape.iter().map(|&n| planner.plan_fft_forward(n)).collect(),
            inv: shape.iter().map(|&n| planner.plan_fft_inverse(n)).collect(),
        }
    }

    /// Transforms the compact row-major `data` in place (`inverse` selects the sign of the
    /// exponent); `lane` is scratch.
    ///
    /// # Panics
    /// When `data` does not have as many values as the planned shape.
    pub fn run(&self, data: &mut [Complex64], inverse: bool, lane: &mut Vec<Complex64>) {
        let d = self.shape.len();
        for axis in 0..d {
            let n = self.shape[axis];
            let inner: usize = self.shape[axis + 1..].iter().product();
            let plan = if inverse {
                &self.inv[axis]
            } else {
                &self.fwd[axis]
            };
            if inner == 1 {
                plan.process(data);
                continue;
            }
            lane.resize(n, Complex64::new(0.0, 0.0));
            for block in data.chunks_mut(n * inner) {
                for c in 0..inner {
                    for (i, l) in lane.iter_mut().enumerate() {
                        *l = block[i * inner + c];
                    }
                    plan.process(lane);
                    for (i, l) in lane.iter().enumerate() {
                        block[i * inner + c] = *l;
                    }
                }
            }
        }
    }
}

/// Integer frequency of index `i` on an axis of length `n` (NumPy's `fftfreq * n`).
pub fn frequency(i: usize, n: usize) -> f64 {
    if i <= n / 2 {
        i as f64
    } else {
        i as f64 - n as f64
    }
}
