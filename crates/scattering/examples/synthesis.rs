//! Field synthesis from scattering spectra.
//!
//! ```text
//! cargo run --release -p wcrg-scattering --example synthesis                 # built-in demo
//! cargo run --release -p wcrg-scattering --example synthesis -- TARGETS.npy OUT.npy \
//!     --J 5 --L 4 --count 2 --seed 0 --power-spectrum 0.01 --histogram 0 --tolerance 1e-3
//! ```
//!
//! `TARGETS.npy` holds one `(M, N)` periodic field or a batch `(B, M, N)`; `OUT.npy` receives
//! `(count, M, N)` fields matching their (isotropic) scattering spectra. Without files, the
//! demo synthesises one field from a 128 × 128 lognormal target (J = 5, L = 4) and writes
//! `synthesis-output/{target,generated}.npy`.

use ndarray::{Array2, Array3, ArrayD, Axis, Ix3};
use ndarray_npy::{read_npy, write_npy};
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
use rustfft::FftPlanner;
use rustfft::num_complex::Complex64;
use std::process::ExitCode;
use std::time::Instant;
use wcrg_scattering::{Synthesis, SynthesisConfig};

/// exp of a periodic Gaussian field with correlation length `ell` pixels, centred and scaled.
fn lognormal(n: usize, ell: f64, seed: u64) -> Array2<f64> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut buf: Vec<Complex64> = (0..n * n)
        .map(|_| Complex64::new(StandardNormal.sample(&mut rng), 0.0))
        .collect();
    let mut planner = FftPlanner::new();
    let fft2 = |b: &mut Vec<Complex64>, inverse: bool, planner: &mut FftPlanner<f64>| {
        let p = if inverse {
            planner.plan_fft_inverse(n)
        } else {
            planner.plan_fft_forward(n)
        };
        for _ in 0..2 {
            for r in b.chunks_mut(n) {
                p.process(r);
            }
            let t: Vec<Complex64> = (0..n * n).map(|i| b[(i % n) * n + i / n]).collect();
            b.copy_from_slice(&t);
        }
    };
    fft2(&mut buf, false, &mut planner);
    let fr = |k: usize| {
        if k <= n / 2 {
            k as f64
        } else {
            k as f64 - n as f64
        }
    };
    for (i, z) in buf.iter_mut().enumerate() {
        let w2 = (fr(i / n).powi(2) + fr(i % n).powi(2))
            * (2.0 * std::f64::consts::PI / n as f64).powi(2);
        *z *= (-w2 * ell * ell / 2.0).exp();
    }
    fft2(&mut buf, true, &mut planner);
    let sd = (buf.iter().map(|z| z.re * z.re).sum::<f64>() / (n * n) as f64).sqrt();
    let x = Array2::from_shape_fn((n, n), |(i, j)| (buf[i * n + j].re / sd).exp());
    let (m, s) = (x.mean().unwrap_or(0.0), x.std(0.0));
    x.mapv(|v| (v - m) / s)
}

struct Args {
    files: Vec<String>,
    j: usize,
    l: usize,
    count: usize,
    ell: f64,
    config: SynthesisConfig,
}

fn parse() -> Result<Args, String> {
    let mut a = Args {
        files: Vec::new(),
        j: 5,
        l: 4,
        count: 1,
        ell: 1.5,
        config: SynthesisConfig::default()
            .power_spectrum_weight(0.01)
            .tolerance(1e-3),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut val = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        let bad = |name: &str, e: String| format!("{name}: {e}");
        match arg.as_str() {
            "--J" => {
                a.j = val("--J")?
                    .parse()
                    .map_err(|e| bad("--J", format!("{e}")))?
            }
            "--L" => {
                a.l = val("--L")?
                    .parse()
                    .map_err(|e| bad("--L", format!("{e}")))?
            }
            "--count" => {
                a.count = val("--count")?
                    .parse()
                    .map_err(|e| bad("--count", format!("{e}")))?
            }
            "--ell" => {
                a.ell = val("--ell")?
                    .parse()
                    .map_err(|e| bad("--ell", format!("{e}")))?
            }
            "--seed" => {
                a.config = a.config.seed(
                    val("--seed")?
                        .parse()
                        .map_err(|e| bad("--seed", format!("{e}")))?,
                )
            }
            "--power-spectrum" => {
                a.config = a.config.power_spectrum_weight(
                    val("--power-spectrum")?
                        .parse()
                        .map_err(|e| bad("--power-spectrum", format!("{e}")))?,
                )
            }
            "--histogram" => {
                a.config = a.config.histogram_weight(
                    val("--histogram")?
                        .parse()
                        .map_err(|e| bad("--histogram", format!("{e}")))?,
                )
            }
            "--tolerance" => {
                a.config = a.config.tolerance(
                    val("--tolerance")?
                        .parse()
                        .map_err(|e| bad("--tolerance", format!("{e}")))?,
                )
            }
            "--max-iterations" => {
                a.config = a.config.max_iterations(
                    val("--max-iterations")?
                        .parse()
                        .map_err(|e| bad("--max-iterations", format!("{e}")))?,
                )
            }
            "-h" | "--help" => return Err(String::new()),
            s if s.starts_with('-') => return Err(format!("unknown option {s}")),
            s => a.files.push(s.to_string()),
        }
    }
    if !(a.files.is_empty() || a.files.len() == 2) {
        return Err("expected no files (demo) or TARGETS.npy OUT.npy".into());
    }
    Ok(a)
}

fn run(a: Args) -> Result<(), String> {
    let (targets, out) = if a.files.is_empty() {
        std::fs::create_dir_all("synthesis-output").map_err(|e| e.to_string())?;
        let t = lognormal(128, a.ell, 1).insert_axis(Axis(0));
        write_npy("synthesis-output/target.npy", &t).map_err(|e| e.to_string())?;
        (t, "synthesis-output/generated.npy".to_string())
    } else {
        let x: ArrayD<f64> =
            read_npy(&a.files[0]).map_err(|e| format!("reading {}: {e}", a.files[0]))?;
        let x = match x.ndim() {
            2 => x.insert_axis(Axis(0)),
            3 => x,
            d => return Err(format!("targets must be (M, N) or (B, M, N), got {d} axes")),
        };
        let x: Array3<f64> = x.into_dimensionality::<Ix3>().map_err(|e| e.to_string())?;
        (x, a.files[1].clone())
    };
    let t0 = Instant::now();
    let syn =
        Synthesis::new(targets.view(), a.j, a.l, true, a.config).map_err(|e| e.to_string())?;
    println!(
        "targets {:?}, J = {}, L = {}: {} isotropic statistics",
        targets.shape(),
        a.j,
        a.l,
        syn.target().len()
    );
    let (fields, reports) = syn.generate(a.count).map_err(|e| e.to_string())?;
    let dt = t0.elapsed().as_secs_f64();
    for (f, r) in reports.iter().enumerate() {
        println!(
            "field {f}: {} L-BFGS iterations, relative statistics error {:.2e}",
            r.iterations, r.relative_error
        );
    }
    write_npy(&out, &fields).map_err(|e| format!("writing {out}: {e}"))?;
    println!(
        "wrote {out} ({:?}) in {dt:.1} s on {} threads",
        fields.shape(),
        rayon::current_num_threads()
    );
    Ok(())
}

fn main() -> ExitCode {
    match parse().and_then(run) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("error: {e}");
            }
            eprintln!(
                "usage: synthesis [TARGETS.npy OUT.npy] [--J 5] [--L 4] [--count 1] [--seed 0] [--power-spectrum 0.01] [--histogram 0] [--tolerance 1e-3] [--max-iterations 3000] [--ell 1.5 (demo target's correlation length)]"
            );
            ExitCode::FAILURE
        }
    }
}
