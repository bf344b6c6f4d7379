//! φ⁴ ground truth: decorrelated samples, the critical coupling, and autocorrelation times.
//!
//! ```text
//! # 1000 decorrelated 64² samples at β = 0.922 (β_c), λ = 1, written as (1000, 64, 64) float64
//! cargo run --release -p wcrg-samplers --example phi4_ground_truth -- sample --L 64 --beta 0.922 --n 1000 --out phi4.npy
//! # β_c from Binder-cumulant crossings of L = 16, 32, 64 on a grid of couplings
//! cargo run --release -p wcrg-samplers --example phi4_ground_truth -- beta-c --sizes 16,32,64 --betas 0.905,0.91,0.915,0.92,0.925,0.93 --n 1000
//! # τ_int of |m| at β for Metropolis, HMC and cluster+Metropolis
//! cargo run --release -p wcrg-samplers --example phi4_ground_truth -- tau --sizes 16,32,64 --beta 0.922 --steps 100000
//! ```

use ndarray::{ArrayD, IxDyn};
use ndarray_npy::WriteNpyExt;
use std::process::ExitCode;
use std::time::Instant;
use wcrg_core::cli::Flags;
use wcrg_core::rng::Streams;
use wcrg_core::{Sampler, Workspace};
use wcrg_energy_models::Phi4;
use wcrg_samplers::diagnostics::integrated_time;
use wcrg_samplers::observables::{Phi4Observables, magnetisation};
use wcrg_samplers::{
    BinderScan, CheckerboardMetropolis, Cycle, Hmc, Phi4GroundTruth, RunConfig, Tunable, Wolff,
    run_chains_adapted,
};

fn sample(f: &Flags) -> Result<(), String> {
    let (l, beta, lambda): (usize, f64, f64) = (
        f.get("L", 64)?,
        f.get("beta", 0.922)?,
        f.get("lambda", 1.0)?,
    );
    let n: usize = f.get("n", 1000)?;
    let out: String = f.get("out", "phi4.npy".to_owned())?;
    let t = Instant::now();
    let gt = Phi4GroundTruth::new(l, beta)
        .lambda(lambda)
        .samples(n)
        .chains(f.get("chains", 4)?)
        .seed(f.get("seed", 0)?)
        .wolff_per_sweep(f.get("wolff", 1)?)
        .generate(Some(&|d, t| eprint!("\r  phases {d}/{t}")))
        .map_err(|e| e.to_string())?;
    eprintln!();
    let obs = Phi4Observables::from_batch(gt.samples.view()).map_err(|e| e.to_string())?;
    let file = std::fs::File::create(&out).map_err(|e| format!("{out}: {e}"))?;
    gt.samples
        .write_npy(file)
        .map_err(|e| format!("{out}: {e}"))?;
    println!(
        "wrote {out} {:?}: tau_int(|m|) = {:.1} sweeps, thin = {}, {} sweeps, width {:.3}, {:.1} s",
        gt.samples.shape(),
        gt.tau_abs_m,
        gt.thin,
        gt.sweeps,
        gt.width,
        t.elapsed().as_secs_f64()
    );
    println!(
        "  <|m|> = {:.4} ± {:.4}, <m²> = {:.4} ± {:.4}, U4 = {:.4} ± {:.4}",
        obs.abs_m.0, obs.abs_m.1, obs.m2.0, obs.m2.1, obs.binder.0, obs.binder.1
    );
    Ok(())
}

fn beta_c(f: &Flags) -> Result<(), String> {
    let sizes: Vec<usize> = f.list("sizes", "16,32,64")?;
    let betas: Vec<f64> = f.list("betas", "0.905,0.91,0.915,0.92,0.925,0.93")?;
    let t = Instant::now();
    let scan = BinderScan::measure(
        &sizes,
        &betas,
        f.get("lambda", 1.0)?,
        f.get("n", 400)?,
        f.get("seed", 0)?,
    )
    .map_err(|e| e.to_string())?;
    println!(
        "| β | {} |",
        sizes
            .iter()
            .map(|l| format!("U4 (L={l})"))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    println!("|---|{}", "---|".repeat(sizes.len()));
    for (k, b) in betas.iter().enumerate() {
        let cells: Vec<String> = scan
            .binder
            .iter()
            .map(|r| format!("{:.4} ± {:.4}", r[k].0, r[k].1))
            .collect();
        println!("| {b:.3} | {} |", cells.join(" | "));
    }
    for c in scan.crossings().map_err(|e| e.to_string())? {
        println!(
            "crossing L = {} / {}: β = {:.4} ± {:.4}, U4* = {:.3}",
            c.sizes.0, c.sizes.1, c.beta, c.error, c.binder
        );
    }
    println!("({:.0} s)", t.elapsed().as_secs_f64());
    Ok(())
}

/// |m| after each of `steps` steps (after `steps / 5` discarded ones), streamed.
fn abs_m_series<K: Sampler>(
    k: &K,
    x0: ArrayD<f64>,
    steps: usize,
    seed: u64,
) -> Result<Vec<f64>, String> {
    let mut rng = Streams::new(seed).rng(0);
    let mut ws = Workspace::new();
    let mut s = k.init(x0, &mut ws).map_err(|e| e.to_string())?;
    for _ in 0..steps / 5 {
        k.step(&mut s, &mut rng, &mut ws);
    }
    Ok((0..steps)
        .map(|_| {
            k.step(&mut s, &mut rng, &mut ws);
            magnetisation(k.position(&s)).abs()
        })
        .collect())
}

fn tau(f: &Flags) -> Result<(), String> {
    let sizes: Vec<usize> = f.list("sizes", "16,32,64")?;
    let beta: f64 = f.get("beta", 0.922)?;
    let steps: usize = f.get("steps", 20000)?;
    println!(
        "| L | Metropolis τ (sweeps) | HMC τ (trajectories) | cluster+Metropolis τ (sweeps) |"
    );
    println!("|---|---|---|---|");
    for &l in &sizes {
        let m = Phi4::new(&[l, l], beta, 1.0).map_err(|e| e.to_string())?;
        let zero = || ArrayD::zeros(IxDyn(&[l, l]));
        let metro = CheckerboardMetropolis::new(&m, 1.0).map_err(|e| e.to_string())?;
        let cluster = Cycle::new(
            metro.clone(),
            Wolff::new(m.clone()).map_err(|e| e.to_string())?,
        );
        // HMC: 10 leapfrog steps with a step adapted to acceptance 0.8 on a short run.
        let cfg = RunConfig::default()
            .warmup(2000)
            .draws(1)
            .seed(l as u64)
            .target_acceptance(0.8);
        let hmc = Hmc::new(&m, 0.1, 10).map_err(|e| e.to_string())?;
        let step = run_chains_adapted(&hmc, vec![zero()], &cfg, None).map_err(|e| e.to_string())?
            [0]
        .step_size
        .unwrap_or(0.1);
        let hmc = hmc.with_step_size(step).map_err(|e| e.to_string())?;
        let t = |s: Vec<f64>| integrated_time(&s).map_err(|e| e.to_string());
        let t_metro = t(abs_m_series(&metro, zero(), steps, l as u64)?)?;
        let t_hmc = t(abs_m_series(&hmc, zero(), steps, l as u64)?)?;
        let t_cluster = t(abs_m_series(&cluster, zero(), steps, l as u64)?)?;
        println!("| {l} | {t_metro:.1} | {t_hmc:.1} | {t_cluster:.2} |");
    }
    Ok(())
}

/// A subcommand's body.
type Command = fn(&Flags) -> Result<(), String>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // Each subcommand with the flags it reads.
    let command: Option<(Command, &[&str])> = match args.first().map(String::as_str) {
        Some("sample") => Some((
            sample,
            &["L", "beta", "lambda", "n", "out", "chains", "seed", "wolff"],
        )),
        Some("beta-c") => Some((beta_c, &["sizes", "betas", "lambda", "n", "seed"])),
        Some("tau") => Some((tau, &["sizes", "beta", "steps"])),
        _ => None,
    };
    let run = match command {
        Some((command, known)) => match Flags::parse(args[1..].to_vec(), known) {
            Ok(Some(f)) => command(&f),
            Ok(None) => {
                println!("flags of {}: --{}", args[0], known.join(" --"));
                Ok(())
            }
            Err(e) => Err(e.into()),
        },
        None => Err(
            "usage: phi4_ground_truth (sample|beta-c|tau) [--flag value]…; see the file's docs"
                .into(),
        ),
    };
    match run {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("phi4_ground_truth: {e}");
            ExitCode::from(2)
        }
    }
}
