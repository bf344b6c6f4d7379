//! Critical slowing down, measured: integrated autocorrelation times of the WCRG's per-scale
//! samplers against direct MALA and HMC on the true φ⁴ energy at β_c, for growing lattices, and
//! the cost per effectively independent sample.
//!
//! ```text
//! cargo run --release -p wcrg-rg --example critical_slowing -- [--sizes 16,32,64,128]
//!     [--beta 0.922] [--n 500] [--steps 5000] [--direct-steps 100000] [--out wcrg-slowing]
//!     [--kernel local|mala] [--coarsest M] [--coarse-steps 200000] [--coarse-chains 32]
//!     [--tail-walls false] [--marginal-ml-iterations 0] [--coarse-kernel mala|hmc]
//! ```
//!
//! For each L: ground truth (cluster + Metropolis), a WCRG fit, how convex each scale's energy
//! is (the share of negative Hessian eigenvalues and the lowest one over 6 data fields, for
//! scales of up to 3072 values; the diagnostics at the first field in `diagnostics_L{L}.json`,
//! [`WcrgModel::diagnostics`]), τ_int of every scale's sampler
//! (`local`: sweeps of single-site Langevin moves, the default; `mala`: global MALA steps) started
//! at data (largest over the energy, the squared mean and the mean square of the state; 8 chains of
//! `--steps` transitions per conditional scale; `--coarse-chains` chains, at most `--n`, of
//! `--coarse-steps` gradient evaluations (MALA steps) for the coarsest field, whose τ is hundreds
//! to thousands of steps, each chain tens of τ long; `--coarsest M` fixes the coarsest side instead
//! of the default L/8), and τ_int of the squared magnetisation for MALA and HMC (10 leapfrog steps)
//! on the true energy started at a ground-truth field, with step sizes adapted to acceptance 0.574
//! and 0.8 (`--direct-steps 0` skips them). Times are single-threaded wall times; τ of the direct
//! samplers is a lower bound when the run is not much longer than τ. Writes a Markdown table and
//! `tau.png` (log–log; the crate docs embed `crates/rg/img/tau.png`, a copy of it from the run
//! the table there records). `--tail-walls` and `--marginal-ml-iterations` set the fit's
//! [`WcrgConfig::tail_walls`] and [`WcrgConfig::marginal_ml_iterations`] (1024 generated fields per
//! scale), so that the recommended configuration's samplers can be measured too. `--coarse-kernel
//! hmc` runs the coarsest field's chains (fit, τ and generation) by HMC with 10 leapfrog steps
//! ([`wcrg_rg::CoarseKernel::hmc`]); its τ is then counted in gradient evaluations (leapfrog
//! steps), as MALA's steps are, so the two compare at equal cost.

use std::time::Instant;

use ndarray::{ArrayD, Axis, Ix3};
use wcrg_core::cli::Flags;
use wcrg_core::rng::Streams;
use wcrg_core::{Sampler, Workspace};
use wcrg_energy_models::Phi4;
use wcrg_rg::plots::Series;
use wcrg_rg::{CoarseKernel, DetailKernel, SamplingConfig, WcrgConfig, WcrgModel};
use wcrg_samplers::diagnostics::integrated_time;
use wcrg_samplers::{Hmc, Mala, Phi4GroundTruth, RunConfig, Tunable, run_chains_adapted};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// L, per-scale times, MALA τ, HMC τ, WCRG s/sample, MALA and HMC s/independent sample.
type Row = (usize, Vec<wcrg_rg::MixingTime>, f64, f64, f64, f64, f64);

/// τ_int of m² and seconds per step of a kernel started at `x0`.
fn direct<K: Sampler>(k: &K, x0: ArrayD<f64>, steps: usize, seed: u64) -> Res<(f64, f64)> {
    let mut rng = Streams::new(seed).rng(0);
    let mut ws = Workspace::new();
    let mut s = k.init(x0, &mut ws)?;
    let t = Instant::now();
    let series: Vec<f64> = (0..steps)
        .map(|_| {
            k.step(&mut s, &mut rng, &mut ws);
            k.position(&s).mean().unwrap_or(0.0).powi(2)
        })
        .collect();
    Ok((
        integrated_time(&series)?,
        t.elapsed().as_secs_f64() / steps as f64,
    ))
}

/// How convex each scale's energy is: the share of negative eigenvalues of its Hessian and the
/// lowest one, over 6 data fields (dense spectra up to 3072 values; larger scales are skipped).
/// The diagnostics at the first of them go to `path`.
fn convexity(
    model: &WcrgModel,
    data: ndarray::ArrayView3<'_, f64>,
    path: &std::path::Path,
) -> Res<()> {
    let n = data.shape()[0];
    let mut per_entry: Vec<(String, usize, usize, f64)> = Vec::new();
    for i in 0..6 {
        let d = model.diagnostics(data.index_axis(Axis(0), i * n / 6), 3072)?;
        if i == 0 {
            std::fs::write(path, d.to_json())?;
        }
        let spectra = d.scales.iter().filter_map(|s| s.hessian.as_ref());
        for h in spectra.chain(d.coarsest.hessian.as_ref()) {
            let name = if h.coarsest {
                "coarsest".to_string()
            } else {
                format!("j = {}", h.level)
            };
            let negative = h.eigenvalues.iter().filter(|&&v| v < 0.0).count();
            match per_entry.iter_mut().find(|e| e.0 == name) {
                Some(e) => {
                    e.1 += negative;
                    e.2 += h.eigenvalues.len();
                    e.3 = e.3.min(h.eigenvalues[0]);
                }
                None => per_entry.push((name, negative, h.eigenvalues.len(), h.eigenvalues[0])),
            }
        }
    }
    let cells: Vec<String> = per_entry
        .iter()
        .map(|(name, neg, tot, lo)| {
            format!(
                "{name}: {:.1} % negative, lowest {lo:.2}",
                100.0 * *neg as f64 / *tot as f64
            )
        })
        .collect();
    println!(
        "L = {}: Hessians at 6 data fields: {}",
        model.field_shape()[0],
        cells.join("; ")
    );
    Ok(())
}

fn run() -> Res<()> {
    let known = [
        "sizes",
        "beta",
        "n",
        "steps",
        "direct-steps",
        "kernel",
        "coarsest",
        "coarse-steps",
        "coarse-chains",
        "tail-walls",
        "marginal-ml-iterations",
        "coarse-kernel",
        "out",
    ];
    let Some(f) = Flags::parse(std::env::args().skip(1), &known)? else {
        println!(
            "flags (see the top of crates/rg/examples/critical_slowing.rs): --{}",
            known.join(" --")
        );
        return Ok(());
    };
    let sizes: Vec<usize> = f.list("sizes", "16,32,64,128")?;
    let beta: f64 = f.get("beta", 0.922)?;
    let n: usize = f.get("n", 500)?;
    let steps: usize = f.get("steps", 5000)?;
    let direct_steps: usize = f.get("direct-steps", 100_000)?;
    let kernel = match f.get("kernel", "local".to_string())?.as_str() {
        "local" => DetailKernel::LocalSweeps,
        "mala" => DetailKernel::Mala,
        k => return Err(format!("--kernel {k}: expected local or mala").into()),
    };
    let unit = match kernel {
        DetailKernel::Mala => "MALA steps",
        _ => "sweeps",
    };
    // 0: the default coarsest side (L/8, at least 4), which grows with L.
    let coarsest: usize = f.get("coarsest", 0)?;
    // Gradient evaluations (MALA steps) of the coarsest field's chains (its τ is tens of times a
    // conditional scale's).
    // Each chain must cover tens of τ: 8 chains of 50 000 steps underestimate τ up to 3× on
    // 8 × 8 and 16 × 16 fields.
    let coarse_steps: usize = f.get("coarse-steps", 200_000)?;
    let coarse_chains: usize = f.get("coarse-chains", 32)?;
    let walls: bool = f.get("tail-walls", false)?;
    let marginal: usize = f.get("marginal-ml-iterations", 0)?;
    let coarse_kernel = match f.get("coarse-kernel", "mala".to_string())?.as_str() {
        "mala" => CoarseKernel::Mala,
        "hmc" => CoarseKernel::hmc(),
        k => return Err(format!("--coarse-kernel {k}: expected mala or hmc").into()),
    };
    let out: std::path::PathBuf = f.get("out", "wcrg-slowing".into())?;
    std::fs::create_dir_all(&out)?;
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build()?;
    let mut rows = Vec::new();
    for &l in &sizes {
        let data = Phi4GroundTruth::new(l, beta)
            .samples(n)
            .seed(l as u64)
            .generate(None)?
            .samples
            .into_dimensionality::<Ix3>()?;
        let mut config = WcrgConfig::default().symmetric(true).tail_walls(walls);
        config.marginal_ml_iterations = marginal;
        config = config.coarse_kernel(coarse_kernel);
        if coarsest > 0 {
            config = config.coarsest(coarsest);
        }
        let model = WcrgModel::fit(&config, data.view())?;
        convexity(
            &model,
            data.view(),
            &out.join(format!("diagnostics_L{l}.json")),
        )?;
        let mut taus = model.mixing_times(data.view(), 8, steps, 1, kernel)?;
        if let Some(last) = taus.last_mut() {
            *last = model.coarsest_mixing_time_with(
                data.view(),
                coarse_chains,
                coarse_steps,
                1,
                coarse_kernel,
            )?;
        }
        // WCRG cost per sample: single-threaded wall time of generating 16 fields.
        let t = Instant::now();
        pool.install(|| {
            model.sample(
                &SamplingConfig::new(16, 3)
                    .kernel(kernel)
                    .coarse_kernel(coarse_kernel),
            )
        })?;
        let wcrg_cost = t.elapsed().as_secs_f64() / 16.0;
        // Direct samplers on the true energy.
        let phi4 = Phi4::new(&[l, l], beta, 1.0)?;
        let x0 = data.index_axis(Axis(0), 0).to_owned().into_dyn();
        let adapt = |target: f64, k: &dyn Fn(f64) -> Res<f64>| -> Res<f64> { k(target) };
        let mala_step = adapt(0.574, &|target| {
            let cfg = RunConfig::default()
                .warmup(2000)
                .draws(1)
                .seed(1)
                .target_acceptance(target);
            let c = run_chains_adapted(&Mala::new(&phi4, 0.01)?, vec![x0.clone()], &cfg, None)?;
            Ok(c[0].step_size.unwrap_or(0.01))
        })?;
        let hmc_step = adapt(0.8, &|target| {
            let cfg = RunConfig::default()
                .warmup(1000)
                .draws(1)
                .seed(1)
                .target_acceptance(target);
            let c = run_chains_adapted(&Hmc::new(&phi4, 0.05, 10)?, vec![x0.clone()], &cfg, None)?;
            Ok(c[0].step_size.unwrap_or(0.05))
        })?;
        let ((tau_mala, t_mala), (tau_hmc, t_hmc)) = if direct_steps == 0 {
            ((f64::NAN, f64::NAN), (f64::NAN, f64::NAN))
        } else {
            let hmc = Hmc::new(&phi4, 0.05, 10)?.with_step_size(hmc_step)?;
            (
                direct(&Mala::new(&phi4, mala_step)?, x0.clone(), direct_steps, 5)?,
                direct(&hmc, x0, direct_steps / 10, 6)?,
            )
        };
        let line = format!(
            "| {l} | {} | {} | {tau_mala:.0} | {tau_hmc:.0} | {:.2e} | {:.2e} | {:.2e} |",
            taus.iter()
                .filter(|t| !t.coarsest)
                .map(|t| format!("{:.1}", t.tau))
                .collect::<Vec<_>>()
                .join(" / "),
            taus.iter()
                .find(|t| t.coarsest)
                .map_or(0.0, |t| t.tau)
                .round(),
            wcrg_cost,
            tau_mala * t_mala,
            tau_hmc * t_hmc
        );
        println!("{line}");
        rows.push((
            l,
            taus,
            tau_mala,
            tau_hmc,
            wcrg_cost,
            tau_mala * t_mala,
            tau_hmc * t_hmc,
        ));
    }
    println!(
        "\n| L | WCRG τ per scale j = 1…J ({unit}) | coarsest τ (gradient evaluations) | direct MALA τ(m²) (steps) | HMC τ(m²) (trajectories) | WCRG s/sample | MALA s/indep. sample | HMC s/indep. sample |\n|---|---|---|---|---|---|---|---|"
    );
    for r in &rows {
        println!(
            "| {} | {} | {} | {:.0} | {:.0} | {:.2e} | {:.2e} | {:.2e} |",
            r.0,
            r.1.iter()
                .filter(|t| !t.coarsest)
                .map(|t| format!("{:.1} ± {:.1}", t.tau, t.tau_err))
                .collect::<Vec<_>>()
                .join(" / "),
            r.1.iter()
                .find(|t| t.coarsest)
                .map_or(String::new(), |t| format!(
                    "{:.0} ± {:.0}",
                    t.tau, t.tau_err
                )),
            r.2,
            r.3,
            r.4,
            r.5,
            r.6
        );
    }
    fn series<'n>(rows: &[Row], name: &'n str, f: &dyn Fn(&Row) -> f64) -> Series<'n> {
        (
            name,
            rows.iter()
                .map(|r| (r.0 as f64, f(r), 0.0))
                .collect::<Vec<_>>(),
        )
    }
    let finest_name = format!("WCRG, finest scale ({unit})");
    let finest = series(&rows, &finest_name, &|r| r.1[0].tau);
    let worst = series(&rows, "WCRG, slowest conditional scale", &|r| {
        r.1.iter()
            .filter(|t| !t.coarsest)
            .map(|t| t.tau)
            .fold(0.0, f64::max)
    });
    let coarsest_tau = series(&rows, "WCRG, coarsest field (gradient evaluations)", &|r| {
        r.1.iter().find(|t| t.coarsest).map_or(f64::NAN, |t| t.tau)
    });
    let mala = series(&rows, "direct MALA, m² (steps)", &|r| r.2);
    let hmc = series(&rows, "direct HMC, m² (trajectories)", &|r| r.3);
    wcrg_rg::plots::line_plot(
        &out.join("tau.png"),
        "integrated autocorrelation time at β_c",
        ("L", "τ_int"),
        (true, true),
        &[finest, worst, coarsest_tau, mala, hmc],
    )?;
    println!("wrote {}", out.join("tau.png").display());
    Ok(())
}

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("critical_slowing: {e}");
            std::process::ExitCode::from(2)
        }
    }
}
