//! The WCRG on φ⁴ field theory, end to end: ground truth, fit, coarse-to-fine sampling, report.
//!
//! ```text
//! cargo run --release --example phi4_wcrg -- [--L 64] [--beta 0.92] [--n 1000] [--samples 1000]
//!     [--seed 0] [--fit-seed 0] [--sample-seed 17] [--steps 50] [--kernel local|mala]
//!     [--out wcrg-output] [--data FILE.npy] [--reference FILE.npy] [--model FILE.json]
//!     [--wavelet db2] [--coarsest L/8] [--window 2] [--bumps 20] [--symmetric true|false]
//!     [--coarse-ml-iterations 30] [--coarse-ml-steps 8000] [--difference-bumps 12]
//!     [--conditional-difference-bumps 0] [--conditional-difference-from 2]
//!     [--conditional-ml-iterations 0] [--conditional-ml-from 2]
//!     [--marginal-ml-iterations 0] [--marginal-ml-from 1]
//! ```
//!
//! With no arguments: generates 1000 training and 1000 reference fields of 2-D φ⁴ ($\lambda = 1$)
//! on a 64² lattice at $\beta = 0.92$ (the critical point of this parametrisation) by
//! cluster + Metropolis MCMC (cached under `OUT/cache/`), fits a WCRG model (saved as
//! `OUT/model.json`), generates 1000 fields coarse to fine (`OUT/generated.npy`) and writes the
//! report comparing them with the reference fields (`OUT/report.json`, `OUT/*.png`).
//!
//! `--data FILE.npy` trains on your own fields `(N, L, L)` instead; `--reference FILE.npy`
//! compares with your fields (default: the generated ground truth, or the training data when
//! `--data` is given). The Pearson correlation of the learned and true energies is reported
//! when the data are φ⁴ ground truth. With an independent reference the training fields are also
//! compared with it (`OUT/report_training_vs_reference.json`): the noise floor of the report,
//! the deviations a model fitted to that training set must be expected to show. When the model
//! is fitted here, the generated fields are also compared with the training fields
//! (`OUT/report_generated_vs_training.json`): whether the model reproduces the law it learned,
//! free of the training set's own fluctuation.
//!
//! `--model FILE.json` samples from a model saved before (such as an earlier run's
//! `OUT/model.json`) instead of fitting one; the fit flags are then ignored, and the data (or
//! the generated ground truth) serve only for the field size, the report's reference and the
//! noise floor. A model fitted to another field size is an error.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use wcrg::core::ndarray;
use wcrg::energy_models::Phi4;
use wcrg::rg::io::{read_fields, write_fields};
use wcrg::rg::{CoarseModel, DetailKernel, Report, SamplingConfig, WcrgConfig, WcrgModel};
use wcrg::samplers::Phi4GroundTruth;

type Res<T> = Result<T, Box<dyn std::error::Error>>;

struct Args(HashMap<String, String>);

impl Args {
    fn parse() -> Res<Self> {
        let mut map = HashMap::new();
        let mut it = std::env::args().skip(1);
        while let Some(k) = it.next() {
            let key = k
                .strip_prefix("--")
                .ok_or_else(|| format!("expected --flag, got `{k}`"))?;
            if key == "help" {
                return Err("see the documentation at the top of examples/phi4_wcrg.rs".into());
            }
            let v = it.next().ok_or_else(|| format!("--{key} needs a value"))?;
            map.insert(key.to_string(), v);
        }
        Ok(Self(map))
    }
    fn get<T: std::str::FromStr>(&self, key: &str, default: T) -> Res<T> {
        match self.0.get(key) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| format!("--{key}: cannot parse `{v}`").into()),
        }
    }
    fn path(&self, key: &str) -> Option<PathBuf> {
        self.0.get(key).map(PathBuf::from)
    }
}

fn bar(len: u64, what: &str) -> ProgressBar {
    let b = ProgressBar::new(len);
    b.set_style(
        ProgressStyle::with_template("{msg:>12} [{elapsed_precise}] {wide_bar} {pos}/{len}")
            .expect("template"),
    );
    b.set_message(what.to_string());
    b
}

fn ground_truth(out: &Path, l: usize, beta: f64, n: usize, seed: u64) -> Res<ndarray::Array3<f64>> {
    let cache = out
        .join("cache")
        .join(format!("phi4_L{l}_beta{beta}_n{n}_seed{seed}.npy"));
    if cache.exists() {
        println!("ground truth: {} (cached)", cache.display());
        return Ok(read_fields(&cache)?);
    }
    let t = Instant::now();
    let pb = bar(1, "MCMC");
    let report = |done: usize, total: usize| {
        pb.set_length(total as u64);
        pb.set_position(done as u64);
    };
    let truth = Phi4GroundTruth::new(l, beta)
        .samples(n)
        .seed(seed)
        .generate(Some(&report))?;
    pb.finish_and_clear();
    let fields = truth.samples.into_dimensionality::<ndarray::Ix3>()?;
    std::fs::create_dir_all(cache.parent().expect("has a parent"))?;
    write_fields(&cache, fields.view())?;
    println!(
        "ground truth: {n} fields {l}² at β = {beta} in {:.1} s (τ_int(|m|) = {:.1} sweeps, thinning {}) → {}",
        t.elapsed().as_secs_f64(),
        truth.tau_abs_m,
        truth.thin,
        cache.display()
    );
    Ok(fields)
}

fn run() -> Res<()> {
    let args = Args::parse()?;
    let l: usize = args.get("L", 64)?;
    let beta: f64 = args.get("beta", 0.92)?;
    let n: usize = args.get("n", 1000)?;
    let seed: u64 = args.get("seed", 0)?;
    let out = args
        .path("out")
        .unwrap_or_else(|| PathBuf::from("wcrg-output"));
    std::fs::create_dir_all(&out)?;
    let t0 = Instant::now();

    // Data.
    let (data, phi4) = match args.path("data") {
        Some(p) => {
            let d = read_fields(&p)?;
            println!(
                "training data: {} fields {:?} from {}",
                d.shape()[0],
                &d.shape()[1..],
                p.display()
            );
            (d, None)
        }
        None => (
            ground_truth(&out, l, beta, n, 2 * seed)?,
            Some(Phi4::new(&[l, l], beta, 1.0)?),
        ),
    };
    let side = data.shape()[1];
    let independent_reference = args.path("reference").is_some() || phi4.is_some();
    let reference = match args.path("reference") {
        Some(p) => read_fields(&p)?,
        None if phi4.is_some() => ground_truth(&out, l, beta, n, 2 * seed + 1)?,
        None => data.clone(),
    };

    // Fit.
    let defaults = WcrgConfig::default();
    let config = WcrgConfig::default()
        .wavelet(&args.get("wavelet", defaults.wavelet.clone())?)
        .coarsest(args.get("coarsest", (side / 8).max(4))?)
        .window(args.get("window", defaults.window)?)
        .bumps(args.get("bumps", defaults.bumps)?)
        .symmetric(args.get("symmetric", args.path("data").is_none())?);
    let mut config = config;
    config.seed = args.get("fit-seed", config.seed)?;
    config.coarse_ml_iterations = args.get("coarse-ml-iterations", config.coarse_ml_iterations)?;
    config.coarse_ml_steps = args.get("coarse-ml-steps", config.coarse_ml_steps)?;
    // The coarsest field's two-site potential: `--difference-bumps 0` leaves it out.
    if let CoarseModel::TwoSite {
        bumps,
        difference_bumps,
    } = config.coarse_model
    {
        let difference_bumps: usize = args.get("difference-bumps", difference_bumps)?;
        config = config.coarse_model(if difference_bumps == 0 {
            CoarseModel::Potential { bumps }
        } else {
            CoarseModel::TwoSite {
                bumps,
                difference_bumps,
            }
        });
    }
    // The conditional energies' two-site potential and maximum-likelihood refinement (opt-in).
    config.difference_bumps = args.get("conditional-difference-bumps", config.difference_bumps)?;
    config.difference_from = args.get("conditional-difference-from", config.difference_from)?;
    config.conditional_ml_iterations = args.get(
        "conditional-ml-iterations",
        config.conditional_ml_iterations,
    )?;
    config.conditional_ml_from = args.get("conditional-ml-from", config.conditional_ml_from)?;
    // The refinement given generated coarse fields (opt-in).
    config.marginal_ml_iterations =
        args.get("marginal-ml-iterations", config.marginal_ml_iterations)?;
    config.marginal_ml_from = args.get("marginal-ml-from", config.marginal_ml_from)?;
    let t = Instant::now();
    let model = match args.path("model") {
        // A model fitted before (by this example or by `WcrgModel::save`): no fit, and the
        // fit flags are ignored.
        Some(p) => {
            let model = WcrgModel::load(&p)?;
            let shape = model.field_shape();
            if shape != [side, data.shape()[2]] {
                return Err(format!(
                    "--model {}: fitted to {}×{} fields, the data are {}×{}",
                    p.display(),
                    shape[0],
                    shape[1],
                    side,
                    data.shape()[2]
                )
                .into());
            }
            println!("model: {} scales from {}", model.levels(), p.display());
            model
        }
        None => {
            let pb = bar(1, "fit");
            let report = |_: &str, done: usize, total: usize| {
                pb.set_length(total as u64);
                pb.set_position(done as u64);
            };
            let model = WcrgModel::fit_with_progress(&config, data.view(), Some(&report))?;
            pb.finish_and_clear();
            println!(
                "fit: {} scales in {:.1} s",
                model.levels(),
                t.elapsed().as_secs_f64()
            );
            model
        }
    };
    println!("| j | size | γ_j | parameters | cond(H) | free-energy R² |");
    println!("|---|---|---|---|---|---|");
    for s in model.scales() {
        let f = &s.fit;
        println!(
            "| {} | {} | {:.4} | {} | {:.2e} | {:.4} |",
            f.level, f.size, f.gamma, f.parameters, f.condition_number, f.free_energy_r2
        );
    }
    for s in model.scales() {
        for (what, r) in [
            ("maximum-likelihood refinement", &s.fit.refinement),
            (
                "refinement given generated coarse fields",
                &s.fit.marginal_refinement,
            ),
        ] {
            if let Some(r) = r {
                println!(
                    "scale {}: {what}, {} iterations, final moment mismatch {:.3} sd",
                    s.fit.level, r.iterations, r.max_mismatch
                );
            }
        }
    }
    let cf = model.coarsest_fit();
    println!(
        "| coarsest | {} | | {} | {:.2e} | |",
        cf.size, cf.parameters, cf.condition_number
    );
    model.save(out.join("model.json"))?;
    // Conditioning: Hessian spectra of the conditionals at a reference field (small scales only:
    // the dense eigensolver costs O(d³)), and the flow of two couplings across scales.
    let x = reference.index_axis(ndarray::Axis(0), 0);
    for j in 1..=model.levels() {
        let d = 3 * (side >> j) * (side >> j);
        if d <= 1024 {
            let s = model.hessian_spectrum(j, x)?;
            println!(
                "scale {j}: conditional Hessian eigenvalues in [{:.3}, {:.3}]",
                s.eigenvalues[0],
                s.eigenvalues[d - 1]
            );
        }
    }
    let flow = model.coupling_flow();
    for name in ["0-0 (0, 0)", "0-3 (0, 0)"] {
        let values: Vec<String> = flow
            .iter()
            .filter(|f| f.name == name)
            .map(|f| format!("j={}: {:+.3}", f.level, f.theta))
            .collect();
        println!("RG flow of coupling {name}: {}", values.join(", "));
    }

    // Sample.
    let samples: usize = args.get("samples", n)?;
    let kernel = match args.get("kernel", "local".to_string())?.as_str() {
        "local" => DetailKernel::LocalSweeps,
        "mala" => DetailKernel::Mala,
        k => return Err(format!("--kernel {k}: expected local or mala").into()),
    };
    let default_steps = match kernel {
        DetailKernel::Mala => 300,
        _ => SamplingConfig::default().steps,
    };
    let cfg = SamplingConfig::new(samples, args.get("sample-seed", seed + 17)?)
        .kernel(kernel)
        .steps(args.get("steps", default_steps)?);
    let t = Instant::now();
    let pb = bar(1, "sample");
    let report = |_: &str, done: usize, total: usize| {
        pb.set_length(total as u64);
        pb.set_position(done as u64);
    };
    let generated = model.sample_with_progress(&cfg, Some(&report))?;
    pb.finish_and_clear();
    println!(
        "sampling: {samples} fields {side}² in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    for s in &generated.scales {
        println!(
            "  {} {}: step {:.3e}, acceptance {:.3}, support rejections {:.2e}, unconfined samples {}",
            if s.coarsest { "coarsest" } else { "scale" },
            s.level,
            s.step_size,
            s.acceptance,
            s.support_rejections,
            s.unconfined_samples
        );
    }
    write_fields(out.join("generated.npy"), generated.fields.view())?;

    // Report.
    let truth: Option<&dyn wcrg::core::Energy> =
        phi4.as_ref().map(|p| p as &dyn wcrg::core::Energy);
    let rep = Report::compare(&model, generated.fields.view(), reference.view(), truth)?;
    std::fs::write(out.join("report.json"), rep.to_json())?;
    wcrg::rg::plots::write_all(&out, &rep, generated.fields.view(), reference.view())?;
    print!("{}", rep.summary());
    if independent_reference {
        // The noise floor: the training fields against the reference fields, no model involved.
        // A model can only learn the law up to its training set's own fluctuation, so deviations
        // of this size between generated and reference fields are expected.
        let floor = Report::compare(&model, data.view(), reference.view(), None)?;
        write_side_report(
            &out,
            "report_training_vs_reference.json",
            "noise floor (training vs reference fields)",
            &floor,
        )?;
        if args.path("model").is_none() {
            // The generated fields against the fields the model was fitted to: whether the model
            // reproduces the law it learned, without the training set's own fluctuation.
            let own = Report::compare(&model, generated.fields.view(), data.view(), None)?;
            write_side_report(
                &out,
                "report_generated_vs_training.json",
                "generated vs training fields",
                &own,
            )?;
        }
    }
    println!(
        "wrote {} in {:.1} s total",
        out.display(),
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Writes a comparison besides the main report as `OUT/file` and prints its one-line summary.
fn write_side_report(out: &Path, file: &str, label: &str, r: &Report) -> Res<()> {
    std::fs::write(out.join(file), r.to_json())?;
    println!(
        "{label}: power spectrum max rel. err {:.2}% (max {:.1} SE), Binder {:.4} ± {:.4} vs {:.4} ± {:.4}",
        100.0 * r.power_spectrum_max_rel_err,
        r.power_spectrum_max_z,
        r.binder_generated,
        r.binder_generated_err,
        r.binder_reference,
        r.binder_reference_err
    );
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("phi4_wcrg: {e}");
            ExitCode::from(2)
        }
    }
}
