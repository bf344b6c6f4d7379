//! Timings of the cases in `benches/scattering_vs_kymatio.sh` (same inputs as the Python side):
//! prints `case threads best_ms` lines, the fastest of REPEATS runs, on 1 thread and on all.
//!
//! ```text
//! cargo run --release -p wcrg-scattering --example scattering_timing -- 5
//! ```

use ndarray::{Array2, Array3};
use std::time::Instant;
use wcrg_scattering::{Scattering1d, Scattering2d};

fn best(repeats: usize, mut f: impl FnMut()) -> f64 {
    (0..repeats)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1e3
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() {
    let repeats: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    // Same deterministic inputs as benches/scattering_vs_kymatio.py.
    let x2 = Array3::from_shape_fn((16, 128, 128), |(b, i, j)| {
        (((i * 31 + j * 17 + b * 7) % 97) as f64) / 97.0 - 0.5
    });
    let x1 = Array2::from_shape_fn((16, 4096), |(b, i)| {
        (((i * 31 + b * 7) % 97) as f64) / 97.0 - 0.5
    });
    let s2 = Scattering2d::new((128, 128), 4, 8).expect("valid plan");
    let s1 = Scattering1d::new(4096, 8, 8).expect("valid plan");
    println!("case threads best_ms");
    let all = rayon::current_num_threads();
    for threads in [1, all] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("pool");
        pool.install(|| {
            let t = best(repeats, || {
                std::hint::black_box(s2.forward(x2.view()).expect("ok"));
            });
            println!("scattering2d_J4_L8_16x128x128 {threads} {t:.3}");
            let t = best(repeats, || {
                std::hint::black_box(s1.forward(x1.view()).expect("ok"));
            });
            println!("scattering1d_J8_Q8_16x4096 {threads} {t:.3}");
        });
        if all == 1 {
            break;
        }
    }
}
