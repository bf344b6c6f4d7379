//! Agreement with kymatio 0.3 (numpy frontend): reference outputs in `tests/data`, produced by
//! the seeded script `tests/data/gen_kymatio_reference.py`.

use ndarray::{Array1, Array2, Array3, Array4, ArrayD};
use ndarray_npy::read_npy;
use wcrg_scattering::{Scattering1d, Scattering2d};

fn data(name: &str) -> String {
    format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// Largest |a - b| / max|b| and the largest per-channel relative error.
fn rel_err(a: &ArrayD<f64>, b: &ArrayD<f64>) -> f64 {
    assert_eq!(a.shape(), b.shape());
    let scale = b.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    a.iter()
        .zip(b)
        .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()))
        / scale
}

/// Largest relative error channel by channel: max over channels of
/// max|a_c - b_c| / max|b_c| (small second-order channels count as much as large ones).
fn channel_rel_err(a: &ArrayD<f64>, b: &ArrayD<f64>, channel_axis: usize) -> f64 {
    let mut worst = 0.0f64;
    for c in 0..a.shape()[channel_axis] {
        let ac = a
            .index_axis(ndarray::Axis(channel_axis), c)
            .to_owned()
            .into_dyn();
        let bc = b
            .index_axis(ndarray::Axis(channel_axis), c)
            .to_owned()
            .into_dyn();
        worst = worst.max(rel_err(&ac, &bc));
    }
    worst
}

#[test]
fn scattering2d_matches_kymatio_j3_l8() {
    let x: Array3<f64> = read_npy(data("kymatio_2d_input.npy")).unwrap();
    let want: Array4<f64> = read_npy(data("kymatio_2d_J3_L8.npy")).unwrap();
    let s = Scattering2d::new((32, 32), 3, 8).unwrap();
    let got = s.forward(x.view()).unwrap();
    assert_eq!(got.dim(), want.dim());
    let e = channel_rel_err(&got.into_dyn(), &want.into_dyn(), 1);
    assert!(e <= 1e-6, "per-channel relative error {e:.3e}");
}

#[test]
fn filters2d_match_kymatio() {
    let s = Scattering2d::new((32, 32), 3, 8).unwrap();
    let bank = s.filters();
    assert_eq!((bank.m, bank.n), (48, 48));
    let phi: Array2<f64> = read_npy(data("kymatio_2d_phi0.npy")).unwrap();
    let e = rel_err(&bank.phi[0].clone().into_dyn(), &phi.into_dyn());
    assert!(e < 1e-6, "phi: {e:.3e}");
    let psi: Array2<f64> = read_npy(data("kymatio_2d_psi_j1_t3_level1.npy")).unwrap();
    let p = &bank.psi[8 + 3];
    assert_eq!((p.j, p.theta), (1, 3));
    let e = rel_err(&p.levels[1].clone().into_dyn(), &psi.into_dyn());
    assert!(e < 1e-6, "psi: {e:.3e}");
}

#[test]
fn scattering1d_matches_kymatio_j5_q1() {
    let x: Array2<f64> = read_npy(data("kymatio_1d_input.npy")).unwrap();
    let want: Array3<f64> = read_npy(data("kymatio_1d_J5_Q1.npy")).unwrap();
    let s = Scattering1d::new(256, 5, 1).unwrap();
    let got = s.forward(x.view()).unwrap();
    assert_eq!(got.dim(), want.dim());
    let e = channel_rel_err(&got.into_dyn(), &want.into_dyn(), 1);
    assert!(e <= 1e-6, "per-channel relative error {e:.3e}");
}

#[test]
fn scattering1d_meta_and_filters_match_kymatio() {
    let s = Scattering1d::new(256, 5, 1).unwrap();
    let xi: Array2<f64> = read_npy(data("kymatio_1d_J5_Q1_meta_xi.npy")).unwrap();
    let j: Array2<f64> = read_npy(data("kymatio_1d_J5_Q1_meta_j.npy")).unwrap();
    assert_eq!(s.paths().len(), xi.nrows());
    for (c, p) in s.paths().iter().enumerate() {
        for k in 0..2 {
            let (want_xi, want_j) = (xi[[c, k]], j[[c, k]]);
            if k < p.order {
                assert!((p.xi[k] - want_xi).abs() < 1e-15, "xi at {c},{k}");
                assert_eq!(p.j[k] as f64, want_j, "j at {c},{k}");
            } else {
                assert_eq!(want_j, -1.0);
            }
        }
    }
    let bank = s.filters();
    let phi: Array1<f64> = read_npy(data("kymatio_1d_phi0.npy")).unwrap();
    assert_eq!(bank.phi[0].len(), phi.len());
    let e = rel_err(
        &Array1::from(bank.phi[0].clone()).into_dyn(),
        &phi.into_dyn(),
    );
    assert!(e < 1e-12, "phi: {e:.3e}");
    let psi: Array1<f64> = read_npy(data("kymatio_1d_psi1_2.npy")).unwrap();
    let e = rel_err(
        &Array1::from(bank.psi1[2].levels[0].clone()).into_dyn(),
        &psi.into_dyn(),
    );
    assert!(e < 1e-12, "psi: {e:.3e}");
}

#[test]
fn scattering1d_matches_kymatio_j6_q8() {
    let x: Array2<f64> = read_npy(data("kymatio_1d_q8_input.npy")).unwrap();
    let want: Array3<f64> = read_npy(data("kymatio_1d_J6_Q8.npy")).unwrap();
    let s = Scattering1d::new(1024, 6, 8).unwrap();
    let got = s.forward(x.view()).unwrap();
    assert_eq!(got.dim(), want.dim());
    let e = channel_rel_err(&got.into_dyn(), &want.into_dyn(), 1);
    assert!(e <= 1e-6, "per-channel relative error {e:.3e}");
}
