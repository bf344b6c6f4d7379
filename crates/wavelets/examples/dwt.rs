//! Multilevel periodic wavelet transform of a `.npy` array, written as `.npz` with PyWavelets'
//! names, and back.
//!
//! ```text
//! cargo run --release -p wcrg-wavelets --example dwt -- --wavelet db4 --level 3 IN.npy OUT.npz
//! cargo run --release -p wcrg-wavelets --example dwt -- --wavelet db4 --inverse IN.npz OUT.npy
//! ```
//! 1-D input gives `cA3`, `cD3`, `cD2`, `cD1`; 2-D gives `cA3`, `cH3`, `cV3`, `cD3`, …, `cD1`;
//! 3-D gives `cA3` and the `wavedecn` keys with their level (`aad3`, …, `ddd1`). In Python,
//! `np.load("OUT.npz")["cH3"]` equals `pywt.wavedec2(x, "db4", "periodization", level=3)[1][0]`.

use ndarray::ArrayD;
use ndarray_npy::{NpzReader, NpzWriter, ReadNpyExt, WriteNpyExt};
use std::fs::File;
use std::process::ExitCode;
use wcrg_wavelets::{Coefficients, Dwt, Wavelet};

struct Args {
    wavelet: String,
    level: Option<usize>,
    inverse: bool,
    input: String,
    output: String,
}

const USAGE: &str = "usage: dwt [--wavelet NAME] [--level L] [--inverse] IN OUT
  forward: IN.npy (1-D, 2-D or 3-D float64) -> OUT.npz with PyWavelets' coefficient names
  inverse: IN.npz (as written by the forward mode) -> OUT.npy
  --wavelet  haar, db1-db20, sym2-sym20, coif1-coif5 (default db4)
  --level    levels of the forward transform (default: the deepest the shape allows)";

fn parse() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let (mut wavelet, mut level, mut inverse, mut files) = ("db4".to_owned(), None, false, vec![]);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--wavelet" => wavelet = it.next().ok_or("--wavelet needs a name")?,
            "--level" => {
                let v = it.next().ok_or("--level needs a number")?;
                level = Some(
                    v.parse()
                        .map_err(|_| format!("--level: `{v}` is not a number"))?,
                );
            }
            "--inverse" => inverse = true,
            "-h" | "--help" => return Err(USAGE.to_owned()),
            f if f.starts_with("--") => return Err(format!("unknown option {f}\n{USAGE}")),
            f => files.push(f.to_owned()),
        }
    }
    let [input, output]: [String; 2] = files
        .try_into()
        .map_err(|_| format!("expected IN and OUT\n{USAGE}"))?;
    Ok(Args {
        wavelet,
        level,
        inverse,
        input,
        output,
    })
}

fn read_npy(path: &str) -> Result<ArrayD<f64>, String> {
    let open = || File::open(path).map_err(|e| format!("{path}: {e}"));
    match ArrayD::<f64>::read_npy(open()?) {
        Ok(a) => Ok(a),
        Err(_) => ArrayD::<f32>::read_npy(open()?)
            .map(|a| a.mapv(f64::from))
            .map_err(|e| format!("{path}: not a float64/float32 .npy array ({e})")),
    }
}

fn run(args: Args) -> Result<(), String> {
    let w = Wavelet::new(&args.wavelet).map_err(|e| e.to_string())?;
    if args.inverse {
        let file = File::open(&args.input).map_err(|e| format!("{}: {e}", args.input))?;
        let mut npz = NpzReader::new(file).map_err(|e| format!("{}: {e}", args.input))?;
        let names: Vec<String> = npz
            .names()
            .map_err(|e| e.to_string())?
            .into_iter()
            .map(|n| n.trim_end_matches(".npy").to_owned())
            .collect();
        let c = Coefficients::from_named(&names, |n| npz.by_name(&format!("{n}.npy")).ok())
            .map_err(|e| format!("{}: {e}", args.input))?;
        let shape: Vec<usize> = c.approx.shape().iter().map(|s| s << c.levels()).collect();
        let plan = Dwt::new(&w, &shape, c.levels()).map_err(|e| e.to_string())?;
        let x = plan.waverec(&c).map_err(|e| e.to_string())?;
        let out = File::create(&args.output).map_err(|e| format!("{}: {e}", args.output))?;
        x.write_npy(out)
            .map_err(|e| format!("{}: {e}", args.output))?;
        eprintln!("wrote {} {:?}", args.output, x.shape());
    } else {
        let x = read_npy(&args.input)?;
        let levels = args.level.unwrap_or_else(|| Dwt::max_levels(x.shape()));
        let plan = Dwt::new(&w, x.shape(), levels).map_err(|e| format!("{}: {e}", args.input))?;
        let c = plan
            .wavedec(x.view())
            .map_err(|e| format!("{}: {e}", args.input))?;
        let out = File::create(&args.output).map_err(|e| format!("{}: {e}", args.output))?;
        let mut npz = NpzWriter::new(out);
        for (name, arr) in c.to_named() {
            npz.add_array(name.as_str(), &arr)
                .map_err(|e| e.to_string())?;
        }
        npz.finish().map_err(|e| e.to_string())?;
        eprintln!(
            "wrote {} ({} levels of {})",
            args.output, levels, args.wavelet
        );
    }
    Ok(())
}

fn main() -> ExitCode {
    match parse().and_then(run) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dwt: {e}");
            ExitCode::from(2)
        }
    }
}
