//! Wall time of score matching for a conditional model of the size the RG uses: 3 free detail
//! channels and 1 conditioning channel of 64², couplings over a 13×13 window (1269 features)
//! plus 30 Gaussian bumps of the reconstructed 128² finer field $x_{j-1}$ (db4 RG split), on
//! 1000 fields.
//!
//! ```text
//! cargo run --release -p wcrg-estimators --example conditional_timing -- [N]
//! ```

use ndarray::{ArrayD, IxDyn};
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
use std::sync::Arc;
use std::time::Instant;
use wcrg_core::Features;
use wcrg_energy_models::features::{Basis, ChannelCouplings, Concat, ImagePotential};
use wcrg_estimators::{ScoreMatching, ScoreStats};
use wcrg_wavelets::{RgReconstruction, RgSplit, Wavelet};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000);
    let shape = [4, 64, 64];
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    let data =
        ArrayD::from_shape_simple_fn(IxDyn(&[n, 4, 64, 64]), || StandardNormal.sample(&mut rng));
    let centres: Vec<f64> = (0..30).map(|i| -3.0 + 6.0 * i as f64 / 29.0).collect();
    let f = Concat::new(vec![
        Box::new(ChannelCouplings::window(
            &shape,
            vec![true, true, true, false],
            6,
        )?),
        Box::new(ImagePotential::new(
            Arc::new(RgReconstruction::new(RgSplit::new(
                &Wavelet::new("db4")?,
                &[128, 128],
                1.0,
            )?)),
            Basis::Bumps {
                centres,
                width: 0.25,
            },
        )?),
    ])?;
    let t = Instant::now();
    let stats = ScoreStats::from_data(&f, data.view())?;
    let t_stats = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let fit = ScoreMatching::default().ridge(1e-10).fit(&stats)?;
    let t_solve = t.elapsed().as_secs_f64();
    println!(
        "{} parameters, {n} fields of 4×64²: statistics {t_stats:.1} s, solve {t_solve:.2} s on {} threads (condition number {:.2e})",
        f.len(),
        rayon::current_num_threads(),
        fit.condition_number
    );
    Ok(())
}
