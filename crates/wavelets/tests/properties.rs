//! Identities and oracles: explicit DWT matrices, perfect reconstruction, Parseval, batch = loop,
//! thread-count independence, dirty workspaces, strided views, and every error path.

mod common;

use common::{max_abs_diff, normal};
use ndarray::{Array2, ArrayD, Axis, Ix2, IxDyn};
use wcrg_core::{Transform, Workspace};
use wcrg_wavelets::{Dwt, Normalisation, RgSplit, Wavelet, WaveletError, WaveletPacket2d};

/// Naive one-level analysis matrix `[A; D]` of size n × n, written from the definition.
fn analysis_matrix(w: &Wavelet, n: usize) -> Array2<f64> {
    let f = w.len();
    let s = f / 2;
    let mut m = Array2::zeros((n, n));
    for o in 0..n / 2 {
        for j in 0..f {
            let i = ((2 * o + s) as isize - j as isize).rem_euclid(n as isize) as usize;
            m[[o, i]] += w.dec_lo()[j];
            m[[n / 2 + o, i]] += w.dec_hi()[j];
        }
    }
    m
}

/// Naive multilevel matrix: level l acts on the first n/2^(l-1) coefficients.
fn multilevel_matrix(w: &Wavelet, n: usize, levels: usize) -> Array2<f64> {
    let mut total = Array2::eye(n);
    for l in 0..levels {
        let m = n >> l;
        let mut step = Array2::eye(n);
        step.slice_mut(ndarray::s![..m, ..m])
            .assign(&analysis_matrix(w, m));
        total = step.dot(&total);
    }
    total
}

/// Reconstruction tolerance after `passes` one-axis filter passes: 1e-12, or what the taps' own
/// orthonormality defect allows (each pass errs by at most about F/2 times the defect per unit
/// input), whichever is larger. A wrong transform errs by O(1).
fn pr_tolerance(w: &Wavelet, passes: usize) -> f64 {
    (passes as f64 * w.len() as f64 * w.orthonormality_defect()).max(1e-12)
}

fn energy(a: &ArrayD<f64>) -> f64 {
    a.iter().map(|v| v * v).sum()
}

#[test]
fn explicit_matrix_is_orthogonal_and_matches_the_fast_transform() {
    for name in Wavelet::builtin_names() {
        let w = Wavelet::new(name).unwrap();
        for (n, levels) in [(8, 1), (16, 2), (64, 1), (64, 4)] {
            let m = multilevel_matrix(&w, n, levels);
            // Exact up to the taps' own defect (PyWavelets' sym20 is orthonormal to 1.4e-11).
            let tol = 4.0 * levels as f64 * w.orthonormality_defect() + 1e-14;
            let err = max_abs_diff(&m.dot(&m.t()).into_dyn(), &Array2::eye(n).into_dyn());
            assert!(err < tol, "{name} n={n}: W Wᵀ ≠ I by {err:e}");
            let plan = Dwt::new(&w, &[n], levels).unwrap();
            let x = normal(&[n], n as u64);
            let naive = m.dot(&x.view().into_dimensionality::<ndarray::Ix1>().unwrap());
            let err = max_abs_diff(&plan.forward(x.view()), &naive.into_dyn());
            assert!(err < 1e-12, "{name} n={n} L={levels}: {err:e}");
        }
    }
}

#[test]
fn two_d_level_matches_matrix_sandwich() {
    for name in ["haar", "db3", "sym5", "coif2", "db12"] {
        let w = Wavelet::new(name).unwrap();
        let (a, b) = (analysis_matrix(&w, 16), analysis_matrix(&w, 8));
        let x = normal(&[16, 8], 5).into_dimensionality::<Ix2>().unwrap();
        let naive = a.dot(&x).dot(&b.t());
        let plan = Dwt::new(&w, &[16, 8], 1).unwrap();
        let err = max_abs_diff(&plan.forward(x.view().into_dyn()), &naive.into_dyn());
        assert!(err < 1e-12, "{name}: {err:e}");
    }
}

#[test]
fn perfect_reconstruction_and_parseval() {
    let shapes: &[&[usize]] = &[&[128], &[2], &[32, 16], &[64, 64], &[16, 8, 4], &[8, 8, 8]];
    for name in Wavelet::builtin_names() {
        let w = Wavelet::new(name).unwrap();
        for shape in shapes {
            let levels = Dwt::max_levels(shape);
            let tol = pr_tolerance(&w, levels * shape.len());
            let plan = Dwt::new(&w, shape, levels).unwrap();
            let x = normal(shape, 11);
            let y = plan.forward(x.view());
            let rel = (energy(&y) - energy(&x)).abs() / energy(&x);
            assert!(rel < tol, "{name} {shape:?}: Parseval off by {rel:e}");
            let back = plan.inverse(y.view());
            let err = max_abs_diff(&back, &x);
            assert!(err < tol, "{name} {shape:?}: reconstruction error {err:e}");
        }
    }
}

#[test]
fn batch_equals_loop_and_threads_do_not_change_bits() {
    let w = Wavelet::new("db4").unwrap();
    for shape in [vec![256, 256], vec![4096], vec![32, 32, 32]] {
        let plan = Dwt::new(&w, &shape, 3).unwrap();
        let mut bshape = vec![5];
        bshape.extend(&shape);
        let batch = normal(&bshape, 3);
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                let mut b = batch.clone();
                plan.forward_batch_inplace(b.view_mut()).unwrap();
                let single = plan.forward(batch.index_axis(Axis(0), 2));
                let mut inv = b.clone();
                plan.inverse_batch_inplace(inv.view_mut()).unwrap();
                (b, single, inv)
            })
        };
        let (b1, s1, i1) = run(1);
        let (b2, s2, i2) = run(2);
        let (b3, _, _) = run(3);
        assert!(
            b1 == b2 && b1 == b3,
            "{shape:?}: batch depends on the thread count"
        );
        assert!(s1 == s2 && i1 == i2);
        for (k, xi) in batch.axis_iter(Axis(0)).enumerate() {
            assert_eq!(
                b1.index_axis(Axis(0), k),
                plan.forward(xi),
                "{shape:?} sample {k}"
            );
        }
        assert_eq!(b1.index_axis(Axis(0), 2), s1);
        assert!(max_abs_diff(&i1, &batch) < 1e-12);
    }
}

#[test]
fn dirty_workspace_and_strided_views_give_identical_bits() {
    let w = Wavelet::new("sym4").unwrap();
    let plan = Dwt::new(&w, &[64, 32], 3).unwrap();
    let other = Dwt::new(&Wavelet::new("coif5").unwrap(), &[16, 16, 16], 2).unwrap();
    let x = normal(&[64, 32], 9);
    let clean = plan.forward(x.view());

    let mut ws = Workspace::new();
    let mut junk = normal(&[16, 16, 16], 1);
    other.forward_inplace(junk.view_mut(), &mut ws);
    let mut y = x.clone();
    plan.forward_inplace(y.view_mut(), &mut ws);
    assert_eq!(y, clean);
    let mut y2 = x.clone();
    plan.forward_inplace(y2.view_mut(), &mut ws);
    assert_eq!(y2, clean);

    // A non-contiguous view (transpose of a 32 × 64 array) transforms like a contiguous one.
    let mut t = x.t().to_owned().as_standard_layout().to_owned();
    let mut tv = t.view_mut().reversed_axes();
    assert!(tv.as_slice_mut().is_none());
    plan.forward_inplace(tv.view_mut(), &mut ws);
    assert_eq!(tv.to_owned(), clean);
}

#[test]
fn invalid_inputs_are_errors() {
    let w = Wavelet::new("db2").unwrap();
    assert!(matches!(
        Dwt::new(&w, &[24], 4),
        Err(WaveletError::Core(wcrg_core::Error::NotDivisible {
            axis: 0,
            size: 24,
            divisor: 16,
            ..
        }))
    ));
    assert!(matches!(
        Dwt::new(&w, &[16, 12], 3),
        Err(WaveletError::Core(wcrg_core::Error::NotDivisible {
            axis: 1,
            ..
        }))
    ));
    assert!(matches!(
        Dwt::new(&w, &[4, 4, 4, 4], 1),
        Err(WaveletError::Core(wcrg_core::Error::UnsupportedDimension {
            ndim: 4,
            ..
        }))
    ));
    assert!(matches!(Dwt::new(&w, &[], 1), Err(WaveletError::Core(_))));
    assert!(matches!(
        Dwt::new(&w, &[8], 0),
        Err(WaveletError::ZeroLevels)
    ));
    assert!(matches!(Dwt::new(&w, &[0], 1), Err(WaveletError::Core(_))));
    assert!(Dwt::new(&w, &[8], 200).is_err());

    let plan = Dwt::new(&w, &[8, 8], 2).unwrap();
    let mut bad = normal(&[3, 8, 4], 1);
    assert!(matches!(
        plan.forward_batch_inplace(bad.view_mut()),
        Err(WaveletError::Core(wcrg_core::Error::ShapeMismatch { .. }))
    ));
    let mut x = normal(&[8, 8], 1);
    x[[2, 3]] = f64::NAN;
    assert!(matches!(
        plan.wavedec(x.view()),
        Err(WaveletError::Core(wcrg_core::Error::NonFinite {
            index: 19,
            ..
        }))
    ));
    assert!(plan.wavedec(normal(&[8, 4], 1).view()).is_err());

    let mut c = plan.wavedec(normal(&[8, 8], 2).view()).unwrap();
    c.details[1][2].1 = ArrayD::zeros(IxDyn(&[3, 4]));
    assert!(matches!(
        plan.waverec(&c),
        Err(WaveletError::Core(wcrg_core::Error::ShapeMismatch { .. }))
    ));
    c.details.pop();
    assert!(plan.waverec(&c).is_err());
    let mut c = plan.wavedec(normal(&[8, 8], 2).view()).unwrap();
    c.details[0].swap(0, 1);
    assert!(matches!(
        plan.waverec(&c),
        Err(WaveletError::Core(
            wcrg_core::Error::InvalidParameter { .. }
        ))
    ));
}

#[test]
#[should_panic(expected = "expected shape [8, 8], got [8, 4]")]
fn wrong_shape_on_the_hot_path_panics_naming_both_shapes() {
    let plan = Dwt::new(&Wavelet::new("db2").unwrap(), &[8, 8], 1).unwrap();
    let mut x = normal(&[8, 4], 1);
    plan.forward_inplace(x.view_mut(), &mut Workspace::new());
}

#[test]
fn rg_split_reconstructs_and_matches_the_dwt() {
    let w = Wavelet::new("db4").unwrap();
    for fine in [vec![32], vec![16, 16], vec![8, 8, 8]] {
        let split = RgSplit::new(&w, &fine, 0.7).unwrap();
        let mut bs = vec![4];
        bs.extend(&fine);
        let x = normal(&bs, 21);
        let (c, d) = split.split_batch(x.view()).unwrap();
        assert_eq!(d.shape()[1], (1 << fine.len()) - 1);
        let back = split.merge_batch(c.view(), d.view()).unwrap();
        assert!(max_abs_diff(&back, &x) < 1e-12, "{fine:?}");
        // Coarse and details are the one-level DWT blocks divided by gamma, in pywt key order.
        let coeffs = split.plan().wavedec(x.index_axis(Axis(0), 1)).unwrap();
        let c1 = c.index_axis(Axis(0), 1).to_owned();
        assert!(max_abs_diff(&c1, &coeffs.approx.mapv(|v| v / 0.7)) < 1e-13);
        for (ch, (_, arr)) in coeffs.details[0].iter().enumerate() {
            let dk = d.index_axis(Axis(0), 1).index_axis(Axis(0), ch).to_owned();
            assert!(max_abs_diff(&dk, &arr.mapv(|v| v / 0.7)) < 1e-13);
        }
    }
}

#[test]
fn rg_split_normalisation_and_gram_diagonal() {
    let w = Wavelet::new("sym3").unwrap();
    let x = normal(&[6, 16, 16], 4).mapv(|v| 3.0 * v);
    let s = RgSplit::from_data(&w, x.view(), Normalisation::Details).unwrap();
    let (_, d) = s.split_batch(x.view()).unwrap();
    let ms = d.iter().map(|v| v * v).sum::<f64>() / d.len() as f64;
    assert!((ms - 1.0).abs() < 1e-12, "details second moment {ms}");
    let s = RgSplit::from_data(&w, x.view(), Normalisation::Coarse).unwrap();
    let (c, _) = s.split_batch(x.view()).unwrap();
    let ms = c.iter().map(|v| v * v).sum::<f64>() / c.len() as f64;
    assert!((ms - 1.0).abs() < 1e-12, "coarse second moment {ms}");
    assert_eq!(
        RgSplit::from_data(&w, x.view(), Normalisation::Fixed(2.5))
            .unwrap()
            .gamma(),
        2.5
    );

    // (ḠᵀḠ)_uu from the explicit matrix: 1-D details are the rows n/2.. of the analysis matrix.
    for name in ["haar", "db2", "coif1", "db10"] {
        let w = Wavelet::new(name).unwrap();
        let n = 8;
        let m = analysis_matrix(&w, n);
        let dtd = m
            .slice(ndarray::s![n / 2.., ..])
            .t()
            .dot(&m.slice(ndarray::s![n / 2.., ..]));
        let diag = RgSplit::new(&w, &[n], 1.0).unwrap().detail_gram_diagonal();
        for u in 0..n {
            assert!((diag[[u]] - dtd[[u, u]]).abs() < 1e-13, "{name} u={u}");
        }
        // 2-D: 1 - (GᵀG)_uu with the separable low-pass diagonal.
        let gtg = m
            .slice(ndarray::s![..n / 2, ..])
            .t()
            .dot(&m.slice(ndarray::s![..n / 2, ..]));
        let diag2 = RgSplit::new(&w, &[n, n], 1.0)
            .unwrap()
            .detail_gram_diagonal();
        for (u, v) in [(0, 0), (1, 0), (3, 6), (5, 5)] {
            let expected = 1.0 - gtg[[u, u]] * gtg[[v, v]];
            assert!((diag2[[u, v]] - expected).abs() < 1e-13, "{name} ({u},{v})");
        }
    }
}

#[test]
fn rg_split_errors() {
    let w = Wavelet::new("db2").unwrap();
    for g in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        assert!(RgSplit::new(&w, &[8, 8], g).is_err(), "gamma {g}");
    }
    assert!(RgSplit::new(&w, &[7, 8], 1.0).is_err());
    let mut x = normal(&[2, 8, 8], 1);
    x[[1, 1, 1]] = f64::INFINITY;
    assert!(matches!(
        RgSplit::from_data(&w, x.view(), Normalisation::Details),
        Err(WaveletError::Core(wcrg_core::Error::NonFinite { .. }))
    ));
    let empty = ArrayD::<f64>::zeros(IxDyn(&[0, 8, 8]));
    assert!(matches!(
        RgSplit::from_data(&w, empty.view(), Normalisation::Details),
        Err(WaveletError::Core(wcrg_core::Error::Empty { .. }))
    ));
    let zero = ArrayD::<f64>::zeros(IxDyn(&[2, 8, 8]));
    assert!(matches!(
        RgSplit::from_data(&w, zero.view(), Normalisation::Details),
        Err(WaveletError::Core(wcrg_core::Error::Singular { .. }))
    ));
    let s = RgSplit::new(&w, &[8, 8], 1.0).unwrap();
    assert!(s.split_batch(normal(&[2, 8, 4], 1).view()).is_err());
    assert!(
        s.merge_batch(
            normal(&[2, 4, 4], 1).view(),
            normal(&[2, 2, 4, 4], 1).view()
        )
        .is_err()
    );
}

#[test]
fn packets_are_orthogonal_with_exact_inverse() {
    for (name, shape, depth) in [
        ("db3", [32, 64], 3),
        ("haar", [16, 16], 4),
        ("sym6", [8, 16], 1),
    ] {
        let wp = WaveletPacket2d::new(&Wavelet::new(name).unwrap(), shape, depth).unwrap();
        let x = normal(&shape, 8).into_dimensionality::<Ix2>().unwrap();
        let bands = wp.forward(x.view());
        assert_eq!(
            bands.shape(),
            &[1 << (2 * depth), shape[0] >> depth, shape[1] >> depth]
        );
        let ex: f64 = x.iter().map(|v| v * v).sum();
        let eb: f64 = bands.iter().map(|v| v * v).sum();
        let tol = pr_tolerance(&Wavelet::new(name).unwrap(), 2 * depth);
        assert!(
            (ex - eb).abs() / ex < tol,
            "{name}: {:e}",
            (ex - eb).abs() / ex
        );
        let back = wp.inverse(bands.view());
        assert!(max_abs_diff(&back.into_dyn(), &x.into_dyn()) < tol);
    }
    // The lowest band of a depth-1 packet is the level-1 approximation.
    let w = Wavelet::new("db2").unwrap();
    let x = normal(&[16, 16], 2);
    let wp = WaveletPacket2d::new(&w, [16, 16], 1).unwrap();
    let bands = wp.forward(x.view().into_dimensionality().unwrap());
    let c = Dwt::new(&w, &[16, 16], 1)
        .unwrap()
        .wavedec(x.view())
        .unwrap();
    assert!(
        max_abs_diff(
            &bands.index_axis(Axis(0), 0).to_owned().into_dyn(),
            &c.approx
        ) < 1e-14
    );
    assert!(WaveletPacket2d::new(&w, [12, 16], 3).is_err());
    assert!(WaveletPacket2d::new(&w, [16, 16], 0).is_err());
}

#[test]
fn rg_reconstruction_is_a_linear_map_with_free_details() {
    use wcrg_core::LinearMap;
    use wcrg_wavelets::RgReconstruction;
    for fine in [vec![16], vec![8, 8]] {
        let split = RgSplit::new(&Wavelet::new("db3").unwrap(), &fine, 0.8).unwrap();
        let map = RgReconstruction::new(split.clone());
        let input = map.input_shape().to_vec();
        let mut ws = Workspace::new();
        let x = normal(&input, 60);
        let v = normal(&fine, 61);
        // apply = merge of (details, coarse).
        let mut y = ArrayD::zeros(IxDyn(&fine));
        map.apply(x.view(), y.view_mut(), &mut ws);
        let c = split.channels();
        let mut merged = ArrayD::zeros(IxDyn(&fine));
        split.merge_into(
            x.index_axis(Axis(0), c),
            x.slice_axis(Axis(0), (0..c).into()),
            merged.view_mut(),
            &mut ws,
        );
        assert!(max_abs_diff(&y, &merged) < 1e-15);
        // Adjointness on the free part: <A x_free, v> = <x_free, A_freeᵀ v>, zero on the coarse.
        let mut xf = x.clone();
        xf.index_axis_mut(Axis(0), c).fill(0.0);
        let mut axf = ArrayD::zeros(IxDyn(&fine));
        map.apply(xf.view(), axf.view_mut(), &mut ws);
        let mut at = ArrayD::zeros(IxDyn(&input));
        map.adjoint_free(v.view(), at.view_mut(), &mut ws);
        assert!(at.index_axis(Axis(0), c).iter().all(|&t| t == 0.0));
        let lhs: f64 = axf.iter().zip(v.iter()).map(|(a, b)| a * b).sum();
        let rhs: f64 = xf.iter().zip(at.iter()).map(|(a, b)| a * b).sum();
        assert!(
            (lhs - rhs).abs() < 1e-12 * lhs.abs().max(1.0),
            "{lhs} vs {rhs}"
        );
        // Free Gram diagonal against columns of A on the detail entries.
        let mut diag = ArrayD::<f64>::zeros(IxDyn(&fine));
        let n_free = c * input[1..].iter().product::<usize>();
        for i in 0..n_free {
            let mut e = ArrayD::zeros(IxDyn(&input));
            e.as_slice_mut().unwrap()[i] = 1.0;
            let mut col = ArrayD::zeros(IxDyn(&fine));
            map.apply(e.view(), col.view_mut(), &mut ws);
            diag.zip_mut_with(&col, |d, &a| *d += a * a);
        }
        assert!(
            max_abs_diff(&diag, &map.free_gram_diagonal()) < 1e-13,
            "{fine:?}"
        );
    }
}
