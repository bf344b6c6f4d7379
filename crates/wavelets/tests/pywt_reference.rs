//! Agreement with PyWavelets (`tests/data/gen_reference.py`, versions in `versions.txt`):
//! filters, multilevel transforms in 1-D/2-D/3-D for every family, inverse transforms, filters
//! longer than the signal, the list layout, and 2-D wavelet packets.

mod common;

use common::{Npz, max_abs_diff};
use ndarray::{Array3, Ix2, Ix3};
use wcrg_core::Transform;
use wcrg_wavelets::{Dwt, Wavelet, WaveletPacket2d, pywt_detail_name};

const TOL: f64 = 1e-12;

#[test]
fn filters_match_pywt() {
    let mut z = Npz::open("filters.npz");
    for name in Wavelet::builtin_names() {
        let w = Wavelet::new(name).unwrap();
        for (key, ours) in [
            ("dec_lo", w.dec_lo().to_vec()),
            ("dec_hi", w.dec_hi().to_vec()),
            ("rec_lo", w.rec_lo()),
            ("rec_hi", w.rec_hi()),
        ] {
            let theirs = z.get(&format!("{name}_{key}"));
            assert_eq!(theirs.len(), ours.len(), "{name} {key}");
            for (a, b) in ours.iter().zip(theirs.iter()) {
                assert_eq!(a, b, "{name} {key}");
            }
        }
    }
}

fn check_family(file: &str, shape: &[usize], levels: usize) {
    let mut z = Npz::open(file);
    for name in Wavelet::builtin_names() {
        let plan = Dwt::new(&Wavelet::new(name).unwrap(), shape, levels).unwrap();
        let x = z.get(&format!("{name}_x"));
        let ours = plan.forward(x.view());
        let err = max_abs_diff(&ours, &z.get(&format!("{name}_packed")));
        assert!(
            err <= TOL,
            "{file} {name}: forward differs from pywt by {err:e}"
        );
        let y = z.get(&format!("{name}_y"));
        let err = max_abs_diff(&plan.inverse(y.view()), &z.get(&format!("{name}_inv")));
        assert!(
            err <= TOL,
            "{file} {name}: inverse differs from pywt by {err:e}"
        );
    }
}

#[test]
fn every_family_1d_matches_wavedec() {
    check_family("dwt1.npz", &[64], 3);
}

#[test]
fn every_family_2d_matches_wavedec2() {
    check_family("dwt2.npz", &[32, 32], 2);
}

#[test]
fn every_family_3d_matches_wavedecn() {
    check_family("dwt3.npz", &[8, 8, 8], 2);
}

#[test]
fn filters_longer_than_the_signal_wrap_like_pywt() {
    let mut z = Npz::open("wrap.npz");
    for name in ["db10", "sym12", "coif5"] {
        let plan = Dwt::new(&Wavelet::new(name).unwrap(), &[16], 3).unwrap();
        let x = z.get(&format!("{name}_x"));
        let err = max_abs_diff(&plan.forward(x.view()), &z.get(&format!("{name}_packed")));
        assert!(err <= TOL, "{name}: {err:e}");
        let back = plan.inverse(plan.forward(x.view()).view());
        assert!(max_abs_diff(&back, &x) <= TOL);
    }
}

#[test]
fn list_layout_matches_wavedec2_and_wavedecn() {
    let mut z = Npz::open("layout.npz");
    let plan = Dwt::new(&Wavelet::new("db4").unwrap(), &[32, 32], 3).unwrap();
    let c = plan.wavedec(z.get("x").view()).unwrap();
    assert!(max_abs_diff(&c.approx, &z.get("cA3")) <= TOL);
    assert_eq!(c.details.len(), 3);
    for (i, level) in c.details.iter().enumerate() {
        let l = 3 - i;
        let names: Vec<String> = level.iter().map(|(k, _)| pywt_detail_name(k, l)).collect();
        assert_eq!(
            names,
            [format!("cH{l}"), format!("cV{l}"), format!("cD{l}")]
        );
        for ((k, arr), name) in level.iter().zip(&names) {
            assert!(max_abs_diff(arr, &z.get(name)) <= TOL, "{k} {name}");
        }
    }
    let back = plan.waverec(&c).unwrap();
    assert!(max_abs_diff(&back, &z.get("x")) <= TOL);
    // Named arrays (what the `dwt` example writes) use pywt's names and round-trip.
    let named = c.to_named();
    let names: Vec<String> = named.iter().map(|(n, _)| n.clone()).collect();
    assert_eq!(names[..4], ["cA3", "cH3", "cV3", "cD3"]);
    assert_eq!(names.len(), 10);
    for (n, arr) in &named {
        assert!(max_abs_diff(arr, &z.get(n)) <= TOL, "{n}");
    }
    let lookup = |n: &str| named.iter().find(|(k, _)| k == n).map(|(_, a)| a.clone());
    assert_eq!(
        wcrg_wavelets::Coefficients::from_named(&names, lookup).unwrap(),
        c
    );
    let partial: Vec<String> = names.iter().filter(|n| *n != "cV2").cloned().collect();
    assert!(
        wcrg_wavelets::Coefficients::from_named(&partial, |n| {
            if n == "cV2" { None } else { lookup(n) }
        })
        .is_err()
    );

    let plan3 = Dwt::new(&Wavelet::new("db2").unwrap(), &[8, 8, 8], 2).unwrap();
    let c3 = plan3.wavedec(z.get("x3").view()).unwrap();
    assert!(max_abs_diff(&c3.approx, &z.get("a2")) <= TOL);
    for (i, level) in c3.details.iter().enumerate() {
        let l = 2 - i;
        assert_eq!(level.len(), 7);
        for (k, arr) in level {
            assert!(
                max_abs_diff(arr, &z.get(&format!("{k}{l}"))) <= TOL,
                "{k}{l}"
            );
        }
    }
}

#[test]
fn packets_match_wavelet_packet_2d_in_frequency_order() {
    let mut z = Npz::open("packets.npz");
    let x = z.get("x").into_dimensionality::<Ix2>().unwrap();
    let wp = WaveletPacket2d::new(&Wavelet::new("db2").unwrap(), [32, 32], 2).unwrap();
    let bands = wp.forward(x.view());
    let theirs: Array3<f64> = z.get("bands").into_dimensionality::<Ix3>().unwrap();
    let err = max_abs_diff(&bands.clone().into_dyn(), &theirs.into_dyn());
    assert!(err <= TOL, "packets differ by {err:e}");
    // Node paths in pywt's frequency order (recorded in versions.txt).
    let paths: Vec<String> = (0..16).map(|b| wp.pywt_path(b)).collect();
    assert_eq!(
        paths.join(" "),
        "aa av vv va ah ad vd vh hh hd dd dh ha hv dv da"
    );
    let back = wp.inverse(bands.view());
    assert!(max_abs_diff(&back.into_dyn(), &x.into_dyn()) <= TOL);
}
