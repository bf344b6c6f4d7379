//! Helpers shared by the integration tests.
#![allow(dead_code)]

use ndarray::{ArrayD, IxDyn};
use ndarray_npy::NpzReader;
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
use std::fs::File;

/// An `.npz` file of `tests/data`.
pub struct Npz(NpzReader<File>);

impl Npz {
    pub fn open(name: &str) -> Self {
        let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
        Self(NpzReader::new(File::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"))).unwrap())
    }

    pub fn get(&mut self, key: &str) -> ArrayD<f64> {
        self.0
            .by_name(&format!("{key}.npy"))
            .unwrap_or_else(|e| panic!("{key}: {e}"))
    }
}

/// A seeded standard normal field.
pub fn normal(shape: &[usize], seed: u64) -> ArrayD<f64> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    ArrayD::from_shape_simple_fn(IxDyn(shape), || StandardNormal.sample(&mut rng))
}

pub fn max_abs_diff(a: &ArrayD<f64>, b: &ArrayD<f64>) -> f64 {
    assert_eq!(a.shape(), b.shape());
    a.iter()
        .zip(b.iter())
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}
