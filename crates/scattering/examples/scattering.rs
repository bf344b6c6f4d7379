//! Scattering transform of a batch of fields stored as `.npy`, written in kymatio's layout.
//!
//! ```text
//! cargo run --release -p wcrg-scattering --example scattering -- --dim 2 --J 3 --L 8 IN.npy OUT.npy
//! cargo run --release -p wcrg-scattering --example scattering -- --dim 1 --J 5 --Q 1 IN.npy OUT.npy
//! ```
//!
//! 2-D input `(B, M, N)` (or one `(M, N)` field) gives `(B, C, M/2^J, N/2^J)`; 1-D input `(B, T)`
//! (or one `(T,)` signal) gives `(B, C, T/2^J)`. Options: `--max-order 1|2`, `--periodic`
//! (2-D, periodic fields without padding), `--Q2` (1-D second-order wavelets per octave).

use ndarray::{ArrayD, Axis, Ix2, Ix3};
use ndarray_npy::{read_npy, write_npy};
use std::process::ExitCode;
use wcrg_scattering::{Boundary, Scattering1d, Scattering2d};

struct Args {
    dim: usize,
    j: usize,
    l: usize,
    q: usize,
    q2: usize,
    max_order: usize,
    periodic: bool,
    input: String,
    output: String,
}

fn parse() -> Result<Args, String> {
    let mut a = Args {
        dim: 2,
        j: 3,
        l: 8,
        q: 1,
        q2: 1,
        max_order: 2,
        periodic: false,
        input: String::new(),
        output: String::new(),
    };
    let mut files = Vec::new();
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut num = |name: &str| -> Result<usize, String> {
            it.next()
                .ok_or(format!("{name} needs a value"))?
                .parse()
                .map_err(|e| format!("{name}: {e}"))
        };
        match arg.as_str() {
            "--dim" => a.dim = num("--dim")?,
            "--J" | "-J" => a.j = num("--J")?,
            "--L" | "-L" => a.l = num("--L")?,
            "--Q" | "-Q" => a.q = num("--Q")?,
            "--Q2" => a.q2 = num("--Q2")?,
            "--max-order" => a.max_order = num("--max-order")?,
            "--periodic" => a.periodic = true,
            "-h" | "--help" => return Err(String::new()),
            s if s.starts_with('-') => return Err(format!("unknown option {s}")),
            s => files.push(s.to_string()),
        }
    }
    if files.len() != 2 {
        return Err("expected IN.npy and OUT.npy".into());
    }
    a.output = files.pop().expect("two files");
    a.input = files.pop().expect("two files");
    Ok(a)
}

fn run(a: &Args) -> Result<(), String> {
    let x: ArrayD<f64> = read_npy(&a.input).map_err(|e| format!("reading {}: {e}", a.input))?;
    let t0 = std::time::Instant::now();
    let (out, channels) = match a.dim {
        2 => {
            let x = match x.ndim() {
                2 => x.insert_axis(Axis(0)),
                3 => x,
                d => {
                    return Err(format!(
                        "2-D scattering needs (B, M, N) or (M, N), got {d} axes"
                    ));
                }
            };
            let x = x.into_dimensionality::<Ix3>().map_err(|e| e.to_string())?;
            let boundary = if a.periodic {
                Boundary::Periodic
            } else {
                Boundary::Reflect
            };
            let (_, m, n) = x.dim();
            let s = Scattering2d::with_options((m, n), a.j, a.l, a.max_order, boundary)
                .map_err(|e| e.to_string())?;
            let out = s.forward(x.view()).map_err(|e| e.to_string())?;
            (out.into_dyn(), s.n_channels())
        }
        1 => {
            let x = match x.ndim() {
                1 => x.insert_axis(Axis(0)),
                2 => x,
                d => return Err(format!("1-D scattering needs (B, T) or (T,), got {d} axes")),
            };
            let x = x.into_dimensionality::<Ix2>().map_err(|e| e.to_string())?;
            let s = Scattering1d::with_options(x.ncols(), a.j, (a.q, a.q2), None, a.max_order)
                .map_err(|e| e.to_string())?;
            let out = s.forward(x.view()).map_err(|e| e.to_string())?;
            (out.into_dyn(), s.n_channels())
        }
        d => return Err(format!("--dim must be 1 or 2, got {d}")),
    };
    let dt = t0.elapsed();
    write_npy(&a.output, &out).map_err(|e| format!("writing {}: {e}", a.output))?;
    println!(
        "{} -> {}: {:?} ({} channels) in {:.1} ms",
        a.input,
        a.output,
        out.shape(),
        channels,
        dt.as_secs_f64() * 1e3
    );
    Ok(())
}

fn main() -> ExitCode {
    match parse().and_then(|a| run(&a)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("error: {e}");
            }
            eprintln!(
                "usage: scattering [--dim 2 --J 3 --L 8 | --dim 1 --J 5 --Q 1] [--max-order 1|2] [--periodic] [--Q2 N] IN.npy OUT.npy"
            );
            ExitCode::FAILURE
        }
    }
}
