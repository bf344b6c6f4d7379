//! Fastest-of-N wall-clock time of batched φ⁴ samplers, for the side-by-side comparison with
//! PyTorch in `benches/sampling_vs_torch.sh`: `chains` independent chains of 2-D φ⁴ at β_c
//! (β = 0.922, λ = 1), each advanced `steps` transitions, chains in parallel, one RNG stream
//! per chain.
//!
//! ```text
//! cargo run --release -p wcrg-samplers --example sampling_timing -- [REPEATS]
//! ```
//! Prints one line per case: `kernel size chains threads us_per_chain_step acceptance`, the
//! time per transition of one chain (a MALA step, or a checkerboard Metropolis sweep of every
//! site) and the mean acceptance probability (per site for Metropolis).

use rayon::prelude::*;
use std::time::Instant;
use wcrg_core::rng::Streams;
use wcrg_core::{Sampler, Workspace};
use wcrg_energy_models::Phi4;
use wcrg_samplers::{CheckerboardMetropolis, Mala};

/// Advances `chains` chains of `kernel` by `steps` transitions from a smooth start; returns
/// the mean acceptance probability.
fn run<K: Sampler + Sync>(kernel: &K, l: usize, chains: usize, steps: usize) -> f64 {
    let streams = Streams::new(7);
    let acc: f64 = (0..chains)
        .into_par_iter()
        .map(|c| {
            let mut ws = Workspace::new();
            let mut rng = streams.rng(c as u64);
            let x0 = ndarray::ArrayD::from_shape_fn(ndarray::IxDyn(&[l, l]), |ix| {
                0.3 * (((ix[0] * 7 + ix[1] * 3 + c) % 11) as f64 / 11.0 - 0.5)
            });
            let mut s = kernel.init(x0, &mut ws).expect("a valid start");
            (0..steps)
                .map(|_| {
                    kernel
                        .step(&mut s, &mut rng, &mut ws)
                        .acceptance_probability
                })
                .sum::<f64>()
        })
        .sum();
    acc / (chains * steps) as f64
}

fn main() {
    let repeats: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let all = rayon::current_num_threads();
    println!("kernel size chains threads us_per_chain_step acceptance");
    for (l, chains, steps) in [(32usize, 128usize, 200usize), (64, 128, 100), (256, 16, 50)] {
        let phi4 = Phi4::new(&[l, l], 0.922, 1.0).expect("valid coupling");
        // MALA's step gives an acceptance of 0.65–0.85 from these starts, Metropolis's width
        // about 0.5 (the same as in the PyTorch script).
        let mala = Mala::new(&phi4, 0.01).expect("valid step");
        let metro = CheckerboardMetropolis::new(&phi4, 1.4).expect("valid width");
        for threads in [1, all] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("thread pool");
            for name in ["mala", "metropolis"] {
                let mut best = f64::INFINITY;
                let mut acceptance = 0.0;
                for _ in 0..repeats {
                    let t = Instant::now();
                    acceptance = pool.install(|| match name {
                        "mala" => run(&mala, l, chains, steps),
                        _ => run(&metro, l, chains, steps),
                    });
                    best = best.min(t.elapsed().as_secs_f64());
                }
                println!(
                    "{name} {l} {chains} {threads} {:.3} {acceptance:.3}",
                    1e6 * best / (chains * steps) as f64
                );
            }
        }
    }
}
