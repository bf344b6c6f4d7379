//! Fastest-of-N wall-clock time (the least noisy estimate for deterministic work on a shared
//! machine) of `wavedec2`/`waverec2`-equivalent transforms, for the side-by-side
//! comparison with PyWavelets in `benches/wavelets_vs_pywt.sh`.
//!
//! ```text
//! cargo run --release -p wcrg-wavelets --example timing -- [REPEATS]
//! ```
//! Prints one line per case: `wavelet size levels threads forward_ms inverse_ms`.

use ndarray::{ArrayD, IxDyn};
use std::time::Instant;
use wcrg_core::{Transform, Workspace};
use wcrg_wavelets::{Dwt, Wavelet};

fn fastest(v: Vec<f64>) -> f64 {
    v.into_iter().fold(f64::INFINITY, f64::min)
}

fn main() {
    let repeats: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let all = rayon::current_num_threads();
    println!("wavelet size levels threads forward_ms inverse_ms");
    for name in ["db4", "db8"] {
        for n in [256usize, 1024] {
            for levels in [3, Dwt::max_levels(&[n, n])] {
                let plan = Dwt::new(&Wavelet::new(name).expect("built-in"), &[n, n], levels)
                    .expect("valid plan");
                let x = ArrayD::from_shape_fn(IxDyn(&[n, n]), |ix| {
                    ((ix[0] * 31 + ix[1] * 17) % 97) as f64 / 97.0 - 0.5
                });
                for threads in [1, all] {
                    let pool = rayon::ThreadPoolBuilder::new()
                        .num_threads(threads)
                        .build()
                        .expect("thread pool");
                    let mut y = x.clone();
                    let mut ws = Workspace::new();
                    let (mut fw, mut inv) = (Vec::new(), Vec::new());
                    pool.install(|| {
                        for _ in 0..repeats {
                            let t = Instant::now();
                            plan.forward_inplace(y.view_mut(), &mut ws);
                            fw.push(t.elapsed().as_secs_f64() * 1e3);
                            let t = Instant::now();
                            plan.inverse_inplace(y.view_mut(), &mut ws);
                            inv.push(t.elapsed().as_secs_f64() * 1e3);
                        }
                    });
                    println!(
                        "{name} {n} {levels} {threads} {:.4} {:.4}",
                        fastest(fw),
                        fastest(inv)
                    );
                }
            }
        }
    }
}
