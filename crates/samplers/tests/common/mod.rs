#![allow(dead_code)]
use ndarray::{ArrayD, ArrayViewD, IxDyn};
use wcrg_samplers::Chain;
use wcrg_samplers::diagnostics::MeanEstimate;

pub fn zeros(shape: &[usize], chains: usize) -> Vec<ArrayD<f64>> {
    vec![ArrayD::zeros(IxDyn(shape)); chains]
}

/// Chains of a scalar observable of the draws.
pub fn observe(chains: &[Chain], f: impl Fn(ArrayViewD<'_, f64>) -> f64) -> Vec<Vec<f64>> {
    chains
        .iter()
        .map(|c| c.draws.iter().map(|d| f(d.view())).collect())
        .collect()
}

pub fn estimate(chains: &[Chain], f: impl Fn(ArrayViewD<'_, f64>) -> f64) -> MeanEstimate {
    MeanEstimate::from_chains(&observe(chains, f)).unwrap()
}

/// Site average of x(u) x(u + e_1) on a 2-D field (periodic).
pub fn neighbour_product(x: ArrayViewD<'_, f64>) -> f64 {
    let (a, b) = (x.shape()[0], x.shape()[1]);
    let mut s = 0.0;
    for i in 0..a {
        for j in 0..b {
            s += x[[i, j]] * x[[i, (j + 1) % b]];
        }
    }
    s / (a * b) as f64
}

pub fn mean_square(x: ArrayViewD<'_, f64>) -> f64 {
    x.iter().map(|v| v * v).sum::<f64>() / x.len() as f64
}
