//! PNG pictures of a report: power spectra, histograms, per-scale standard deviations, field
//! grids, and log–log line plots (feature `plots`; fonts are bundled, nothing is read from the
//! system).

use std::path::Path;
use std::sync::Once;

use ndarray::{ArrayView2, ArrayView3, Axis};
use plotters::prelude::*;
use plotters::style::FontStyle;

use crate::error::{Result, RgError};
use crate::report::Report;

fn fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The bundled DejaVu Sans is a valid font; registering it cannot fail.
        let _ = plotters::style::register_font(
            "sans-serif",
            FontStyle::Normal,
            dejavu::sans::regular(),
        );
        let _ = plotters::style::register_font("sans-serif", FontStyle::Bold, dejavu::sans::bold());
    });
}

fn err<E: std::fmt::Display>(path: &Path) -> impl Fn(E) -> RgError + '_ {
    move |e| {
        wcrg_core::Error::Io {
            path: path.display().to_string(),
            detail: e.to_string(),
        }
        .into()
    }
}

/// One curve of a line plot: name, points `(x, y, y error)`.
pub type Series<'a> = (&'a str, Vec<(f64, f64, f64)>);

/// Points `(x, y, y error)` of one curve.
type Points = Vec<(f64, f64, f64)>;

/// A log–log (or log-y / linear) line plot with error bars, written as PNG.
///
/// # Errors
/// I/O failures; no positive points on a log axis.
pub fn line_plot(
    path: &Path,
    title: &str,
    (x_label, y_label): (&str, &str),
    (log_x, log_y): (bool, bool),
    series: &[Series<'_>],
) -> Result<()> {
    fonts();
    let e = err(path);
    let pts = series.iter().flat_map(|s| s.1.iter());
    let ok = |v: f64, log: bool| v.is_finite() && (!log || v > 0.0);
    let (mut x0, mut x1, mut y0, mut y1) = (
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
    );
    for &(x, y, _) in pts {
        if ok(x, log_x) && ok(y, log_y) {
            x0 = x0.min(x);
            x1 = x1.max(x);
            y0 = y0.min(y);
            y1 = y1.max(y);
        }
    }
    if !(x0 <= x1 && y0 <= y1) {
        return Err(RgError::Mismatch(format!("{title}: nothing to plot")));
    }
    // A single abscissa (e.g. one lattice size) gets a range around it.
    if x0 == x1 {
        if log_x {
            (x0, x1) = (x0 / 2.0, x1 * 2.0);
        } else {
            (x0, x1) = (x0 - 1.0, x1 + 1.0);
        }
    }
    if y0 == y1 {
        y1 = y0 + 1.0;
    }
    let (ylo, yhi) = if log_y {
        (y0 / 1.5, y1 * 1.5)
    } else {
        (y0 - 0.05 * (y1 - y0), y1 + 0.05 * (y1 - y0))
    };
    let root = BitMapBackend::new(path, (800, 560)).into_drawing_area();
    root.fill(&WHITE).map_err(&e)?;
    let colors = [BLUE, RED, GREEN, MAGENTA, CYAN, BLACK];
    macro_rules! draw {
        ($xr:expr, $yr:expr) => {{
            let mut chart = ChartBuilder::on(&root)
                .caption(title, ("sans-serif", 22))
                .margin(12)
                .x_label_area_size(45)
                .y_label_area_size(70)
                .build_cartesian_2d($xr, $yr)
                .map_err(&e)?;
            let mut mesh = chart.configure_mesh();
            mesh.x_desc(x_label)
                .y_desc(y_label)
                .label_style(("sans-serif", 15));
            if log_x && x1 > 10.0 * x0 {
                mesh.x_label_formatter(&log_tick_label);
            }
            if log_y && yhi > 10.0 * ylo {
                mesh.y_label_formatter(&log_tick_label);
            }
            mesh.draw().map_err(&e)?;
            for (i, (name, points)) in series.iter().enumerate() {
                let c = colors[i % colors.len()];
                let good: Vec<(f64, f64, f64)> = points
                    .iter()
                    .copied()
                    .filter(|&(x, y, _)| ok(x, log_x) && ok(y, log_y))
                    .collect();
                chart
                    .draw_series(LineSeries::new(
                        good.iter().map(|&(x, y, _)| (x, y)),
                        c.stroke_width(2),
                    ))
                    .map_err(&e)?
                    .label(*name)
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2))
                    });
                chart
                    .draw_series(good.iter().filter(|p| p.2 > 0.0).map(|&(x, y, s)| {
                        let lo = if log_y { (y - s).max(y * 1e-3) } else { y - s };
                        ErrorBar::new_vertical(x, lo, y, y + s, c.filled(), 6)
                    }))
                    .map_err(&e)?;
                chart
                    .draw_series(
                        good.iter()
                            .map(|&(x, y, _)| Circle::new((x, y), 3, c.filled())),
                    )
                    .map_err(&e)?;
            }
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK)
                .label_font(("sans-serif", 16))
                .draw()
                .map_err(&e)?;
        }};
    }
    match (log_x, log_y) {
        (true, true) => draw!((x0 / 1.2..x1 * 1.2).log_scale(), (ylo..yhi).log_scale()),
        (false, true) => draw!(x0..x1, (ylo..yhi).log_scale()),
        (true, false) => draw!((x0 / 1.2..x1 * 1.2).log_scale(), ylo..yhi),
        (false, false) => draw!(x0..x1, ylo..yhi),
    }
    root.present().map_err(&e)?;
    Ok(())
}

/// The tick label of a log axis spanning more than a decade: only 1, 2 and 5 times a power of
/// ten are labelled (the other ticks keep their grid lines, unlabelled), so that the labels of
/// the axis' crowded upper decades do not run into each other.
fn log_tick_label(v: &f64) -> String {
    let v = *v;
    if !(v.is_finite() && v > 0.0) {
        return String::new();
    }
    let mantissa = v / 10f64.powf(v.log10().floor());
    if ![1.0, 2.0, 5.0, 10.0]
        .iter()
        .any(|&k| (mantissa - k).abs() < 1e-6 * k)
    {
        return String::new();
    }
    if (1e-3..1e6).contains(&v) {
        let s = format!("{v:.6}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        format!("{v:e}")
    }
}

/// Histograms of the report (φ and every detail channel), one panel each, log-y.
///
/// # Errors
/// I/O failures.
pub fn histograms(path: &Path, report: &Report) -> Result<()> {
    fonts();
    let e = err(path);
    let n = report.histograms.len();
    let cols = 4.min(n.max(1));
    let rows = n.div_ceil(cols);
    let root = BitMapBackend::new(path, (300 * cols as u32, 240 * rows as u32)).into_drawing_area();
    root.fill(&WHITE).map_err(&e)?;
    for (h, area) in report
        .histograms
        .iter()
        .zip(root.split_evenly((rows, cols)))
    {
        let (x0, x1) = (h.centres[0], h.centres[h.centres.len() - 1]);
        let ymax = h
            .reference
            .iter()
            .chain(&h.generated)
            .fold(0.0f64, |a, &b| a.max(b));
        let floor = ymax * 1e-4;
        let mut chart = ChartBuilder::on(&area)
            .caption(format!("{} (KL {:.1e})", h.name, h.kl), ("sans-serif", 16))
            .margin(6)
            .x_label_area_size(25)
            .y_label_area_size(45)
            .build_cartesian_2d(x0..x1, (floor..ymax * 1.5).log_scale())
            .map_err(&e)?;
        chart
            .configure_mesh()
            .label_style(("sans-serif", 11))
            .draw()
            .map_err(&e)?;
        for (probs, c) in [(&h.reference, BLACK), (&h.generated, RED)] {
            chart
                .draw_series(LineSeries::new(
                    h.centres
                        .iter()
                        .zip(probs.iter())
                        .map(|(&x, &p)| (x, p.max(floor))),
                    c.stroke_width(2),
                ))
                .map_err(&e)?;
        }
    }
    root.present().map_err(&e)?;
    Ok(())
}

/// A grid of fields `(N, L, L)` as a grayscale PNG: `rows` rows of `cols` fields, each scaled
/// to `pixels` pixels, on the common range of all fields shown.
///
/// # Errors
/// I/O failures; fewer fields than cells.
pub fn field_grid(
    path: &Path,
    fields: ArrayView3<'_, f64>,
    rows: usize,
    cols: usize,
    pixels: usize,
) -> Result<()> {
    let cells = rows * cols;
    if fields.shape()[0] < cells || pixels == 0 {
        return Err(RgError::Mismatch(format!(
            "a {rows}x{cols} grid needs {cells} fields, got {}",
            fields.shape()[0]
        )));
    }
    let shown: Vec<ArrayView2<'_, f64>> =
        (0..cells).map(|i| fields.index_axis(Axis(0), i)).collect();
    let (lo, hi) = shown
        .iter()
        .flat_map(|f| f.iter())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    let gap = 4;
    let (w, h) = (
        cols * pixels + (cols + 1) * gap,
        rows * pixels + (rows + 1) * gap,
    );
    let mut img = vec![255u8; w * h];
    for (i, f) in shown.iter().enumerate() {
        let (r, c) = (i / cols, i % cols);
        let (oy, ox) = (gap + r * (pixels + gap), gap + c * (pixels + gap));
        let (ny, nx) = (f.shape()[0], f.shape()[1]);
        for py in 0..pixels {
            for px in 0..pixels {
                let v = f[[py * ny / pixels, px * nx / pixels]];
                let t = if hi > lo { (v - lo) / (hi - lo) } else { 0.5 };
                img[(oy + py) * w + ox + px] = (255.0 * t).round() as u8;
            }
        }
    }
    write_gray(path, &img, w, h)
}

fn write_gray(path: &Path, img: &[u8], w: usize, h: usize) -> Result<()> {
    let e = err(path);
    let file = std::fs::File::create(path).map_err(&e)?;
    let mut enc = png::Encoder::new(std::io::BufWriter::new(file), w as u32, h as u32);
    enc.set_color(png::ColorType::Grayscale);
    enc.set_depth(png::BitDepth::Eight);
    let mut writer = enc.write_header().map_err(err(path))?;
    writer.write_image_data(img).map_err(err(path))?;
    Ok(())
}

/// Writes the report's pictures into `dir`: `power_spectrum.png`, `histograms.png`,
/// `per_scale_std.png`, `fields_generated.png` and `fields_reference.png` (4×4 grids).
///
/// # Errors
/// I/O failures.
pub fn write_all(
    dir: &Path,
    report: &Report,
    generated: ArrayView3<'_, f64>,
    reference: ArrayView3<'_, f64>,
) -> Result<()> {
    let ps = |f: fn(&crate::report::SpectrumBin) -> [f64; 2]| -> Vec<(f64, f64, f64)> {
        report
            .power_spectrum
            .iter()
            .filter(|b| b.k > 0.0)
            .map(|b| (b.k, f(b)[0], f(b)[1]))
            .collect()
    };
    line_plot(
        &dir.join("power_spectrum.png"),
        "radially averaged power spectrum",
        ("|k| (units of 2π/L)", "P(k)"),
        (true, true),
        &[
            ("reference", ps(|b| b.reference)),
            ("generated", ps(|b| b.generated)),
        ],
    )?;
    histograms(&dir.join("histograms.png"), report)?;
    let sd = |gen_: bool| -> Vec<(f64, f64, f64)> {
        report
            .per_scale_std
            .iter()
            .map(|s| {
                if gen_ {
                    (s.level as f64, s.generated, s.generated_err)
                } else {
                    (s.level as f64, s.reference, s.reference_err)
                }
            })
            .collect()
    };
    line_plot(
        &dir.join("per_scale_std.png"),
        "standard deviation of x_j",
        ("scale j", "std"),
        (false, false),
        &[("reference", sd(false)), ("generated", sd(true))],
    )?;
    let cells = 16.min(generated.shape()[0]).min(reference.shape()[0]);
    let side = (cells as f64).sqrt() as usize;
    if side > 0 {
        field_grid(
            &dir.join("fields_generated.png"),
            generated,
            side,
            side,
            128,
        )?;
        field_grid(
            &dir.join("fields_reference.png"),
            reference,
            side,
            side,
            128,
        )?;
    }
    Ok(())
}

/// Pictures of a model's [`Diagnostics`](crate::Diagnostics), written into `dir`:
/// - `hessian_spectra.png`: each Hessian's eigenvalues against their rank (a fraction of the
///   number of values), log-y, one curve per scale and one for the coarsest field; non-positive
///   eigenvalues cannot be drawn there and are in the JSON only. Not written when no spectrum
///   with a positive eigenvalue was computed.
/// - `coupling_flow.png`: the RG flow of the six couplings of largest magnitude among those
///   of more than one scale (all of them when the model has one scale), $\theta$ against $j$.
///
/// # Errors
/// I/O failures; nothing to draw in a picture that is written.
pub fn diagnostics(dir: &Path, d: &crate::Diagnostics) -> Result<()> {
    let spectra: Vec<(String, Points)> = d
        .scales
        .iter()
        .filter_map(|s| s.hessian.as_ref())
        .chain(d.coarsest.hessian.as_ref())
        // A log axis shows positive eigenvalues only.
        .filter(|h| h.eigenvalues.iter().any(|&v| v > 0.0))
        .map(|h| {
            let n = h.eigenvalues.len();
            // At most about 256 points a curve; the last (largest) always.
            let stride = n.div_ceil(256).max(1);
            let rank = |i: usize| {
                if n > 1 {
                    i as f64 / (n - 1) as f64
                } else {
                    0.0
                }
            };
            let mut pts: Vec<(f64, f64, f64)> = (0..n)
                .step_by(stride)
                .map(|i| (rank(i), h.eigenvalues[i], 0.0))
                .collect();
            if (n - 1) % stride != 0 {
                pts.push((1.0, h.eigenvalues[n - 1], 0.0));
            }
            let name = if h.coarsest {
                format!("coarsest U_{} ({n})", h.level)
            } else {
                format!("scale {} ({n})", h.level)
            };
            (name, pts)
        })
        .collect();
    if !spectra.is_empty() {
        let series: Vec<Series<'_>> = spectra
            .iter()
            .map(|(n, p)| (n.as_str(), p.clone()))
            .collect();
        line_plot(
            &dir.join("hessian_spectra.png"),
            "Hessian eigenvalues at a field (number of values)",
            ("rank / (number of values − 1)", "eigenvalue"),
            (false, true),
            &series,
        )?;
    }
    // The flow: couplings by name, those of more than one scale if any, largest first.
    let mut names: Vec<Series<'_>> = Vec::new();
    for f in &d.coupling_flow {
        let point = (f.level as f64, f.theta, 0.0);
        match names.iter_mut().find(|(n, _)| *n == f.name) {
            Some((_, pts)) => pts.push(point),
            None => names.push((&f.name, vec![point])),
        }
    }
    if names.iter().any(|(_, p)| p.len() > 1) {
        names.retain(|(_, p)| p.len() > 1);
    }
    let size = |p: &[(f64, f64, f64)]| p.iter().map(|q| q.1.abs()).fold(0.0, f64::max);
    names.sort_by(|a, b| size(&b.1).total_cmp(&size(&a.1)));
    names.truncate(6);
    line_plot(
        &dir.join("coupling_flow.png"),
        "RG flow of the largest couplings (channels 0-2 = H, V, D; 3 = x_j)",
        ("scale j", "θ"),
        (false, false),
        &names,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Labels at 1, 2 and 5 times a power of ten only, written plainly between 10⁻³ and 10⁶.
    #[test]
    fn log_ticks_are_labelled_at_one_two_and_five() {
        let cases = [
            (1.0, "1"),
            (2.0, "2"),
            (3.0, ""),
            (8.0, ""),
            (9.999, ""),
            (10.0, "10"),
            (50.0, "50"),
            (0.2, "0.2"),
            (0.002, "0.002"),
            (0.0005, "5e-4"),
            (2e7, "2e7"),
            (7e7, ""),
            (0.0, ""),
            (-1.0, ""),
            (f64::NAN, ""),
        ];
        for (v, label) in cases {
            assert_eq!(log_tick_label(&v), label, "{v}");
        }
    }

    /// One lattice size (a single abscissa) used to fail with "nothing to plot".
    #[test]
    fn a_single_abscissa_gets_a_range() {
        let dir = std::env::temp_dir().join(format!("wcrg-plot-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("one.png");
        let series = vec![("tau", vec![(32.0, 35.6, 0.0)])];
        line_plot(&path, "one size", ("L", "tau"), (true, true), &series).unwrap();
        let decoder =
            png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&path).unwrap()));
        let reader = decoder.read_info().unwrap();
        assert_eq!((reader.info().width, reader.info().height), (800, 560));
        // Nothing finite to plot is still an error.
        let empty = vec![("tau", vec![(f64::NAN, 1.0, 0.0)])];
        assert!(line_plot(&path, "none", ("L", "tau"), (true, true), &empty).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
