//! Properties of the filter banks and transforms that do not need reference data: filter
//! zero mean, peak frequency and Littlewood–Paley bounds; batch vs single field, dirty
//! workspaces, thread-count independence, translation equivariance of the periodic transform;
//! input errors.

use ndarray::{Array2, Array3, Axis, s};
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
use wcrg_scattering::filters::{MorletBank1d, MorletBank2d};
use wcrg_scattering::{Boundary, Scattering1d, Scattering2d, ScatteringError, Workspace2d};

fn noise(shape: (usize, usize, usize), seed: u64) -> Array3<f64> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    Array3::from_shape_simple_fn(shape, || StandardNormal.sample(&mut rng))
}

#[test]
fn morlet2d_zero_mean_peak_and_littlewood_paley() {
    let (m, j, l) = (64, 4, 8);
    let bank = MorletBank2d::kymatio(m, m, j, l);
    for p in &bank.psi {
        let f = &p.levels[0];
        let peak = f.iter().fold(0.0f64, |a, v| a.max(v.abs()));
        assert!(
            f[[0, 0]].abs() < 1e-12 * peak,
            "psi({}, {}) has mean {}",
            p.j,
            p.theta,
            f[[0, 0]]
        );
        // The peak sits at xi (cos angle, sin angle) in units of 2 pi / M (within a bin or so
        // for the largest wavelets, whose Gaussian is skewed by the mean correction).
        let (mut best, mut at) = (0.0, (0, 0));
        for ((a, b), v) in f.indexed_iter() {
            if v.abs() > best {
                best = v.abs();
                at = (a, b);
            }
        }
        let freq = |i: usize| {
            if i < m / 2 {
                i as f64
            } else {
                i as f64 - m as f64
            }
        };
        let want = (
            p.xi * p.angle.cos() * m as f64 / (2.0 * std::f64::consts::PI),
            p.xi * p.angle.sin() * m as f64 / (2.0 * std::f64::consts::PI),
        );
        let d = ((freq(at.0) - want.0).powi(2) + (freq(at.1) - want.1).powi(2)).sqrt();
        assert!(
            d < 1.5,
            "psi({}, {}): peak at {at:?}, expected near {want:?}",
            p.j,
            p.theta
        );
    }
    // Littlewood–Paley: |phi|^2 + sum of symmetrised |psi|^2 between the frame bounds of
    // kymatio's bank (0.123 and 1.035 for this bank).
    let mut lp = Array2::<f64>::zeros((m, m));
    for p in &bank.psi {
        lp += &p.levels[0].mapv(|v| v * v);
    }
    let sym = Array2::from_shape_fn((m, m), |(a, b)| {
        0.5 * (lp[[a, b]] + lp[[(m - a) % m, (m - b) % m]])
    });
    let total = &sym + &bank.phi[0].mapv(|v| v * v);
    let (lo, hi) = total.iter().fold((f64::INFINITY, 0.0f64), |(lo, hi), &v| {
        (lo.min(v), hi.max(v))
    });
    assert!(
        lo > 0.1 && hi < 1.05,
        "Littlewood–Paley sum in [{lo}, {hi}]"
    );
}

#[test]
fn morlet1d_zero_mean_peak_and_littlewood_paley() {
    let n = 1 << 13;
    for (j, q) in [(5, 1), (8, 8)] {
        let bank = MorletBank1d::kymatio(n, j, (q, 1), 1 << j);
        for p in &bank.psi1 {
            let f = &p.levels[0];
            let peak = f.iter().fold(0.0f64, |a, v| a.max(v.abs()));
            assert!(f[0].abs() < 1e-12 * peak);
            let at = f
                .iter()
                .enumerate()
                .fold((0, 0.0), |b, (i, v)| if *v > b.1 { (i, *v) } else { b })
                .0;
            assert!(
                (at as f64 / n as f64 - p.xi).abs() < 2.0 / n as f64 + 0.01 * p.xi,
                "peak of xi = {}",
                p.xi
            );
        }
        let mut lp = vec![0.0; n];
        for p in &bank.psi1 {
            for (o, v) in lp.iter_mut().zip(&p.levels[0]) {
                *o += v * v;
            }
        }
        let total: Vec<f64> = (0..n)
            .map(|k| 0.5 * (lp[k] + lp[(n - k) % n]) + bank.phi[0][k].powi(2))
            .collect();
        let hi = total.iter().fold(0.0f64, |a, &v| a.max(v));
        assert!(hi <= 1.0 + 1e-12, "J = {j}, Q = {q}: sum {hi}");
        if q == 1 {
            let lo = total.iter().fold(f64::INFINITY, |a, &v| a.min(v));
            assert!(lo > 0.15, "J = {j}, Q = 1: lower frame bound {lo}");
        }
    }
}

#[test]
fn batch_single_dirty_workspace_and_threads_agree() {
    let s = Scattering2d::new((40, 24), 2, 4).unwrap();
    let x = noise((3, 40, 24), 1);
    let all = s.forward(x.view()).unwrap();
    let mut ws = Workspace2d::default();
    // Dirty the workspace with a different size first.
    let other = Scattering2d::new((64, 64), 3, 6).unwrap();
    let y = noise((1, 64, 64), 2);
    let (mo, no) = other.output_shape();
    let mut junk = Array3::zeros((other.n_channels(), mo, no));
    other.forward_one(y.index_axis(Axis(0), 0), junk.view_mut(), &mut ws);
    for b in 0..3 {
        let (mo, no) = s.output_shape();
        let mut one = Array3::from_elem((s.n_channels(), mo, no), f64::NAN);
        s.forward_one(x.index_axis(Axis(0), b), one.view_mut(), &mut ws);
        assert_eq!(one, all.index_axis(Axis(0), b));
    }
    for threads in [1, 2, 3] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let again = pool.install(|| s.forward(x.view()).unwrap());
        assert_eq!(again, all, "{threads} threads");
    }
    let s1 = Scattering1d::new(300, 4, 2).unwrap();
    let x1 = noise((4, 1, 300), 3).index_axis_move(Axis(1), 0);
    let a = s1.forward(x1.view()).unwrap();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    assert_eq!(pool.install(|| s1.forward(x1.view()).unwrap()), a);
    let single = s1.forward(x1.slice(s![2..3, ..])).unwrap();
    assert_eq!(single.index_axis(Axis(0), 0), a.index_axis(Axis(0), 2));
}

#[test]
fn periodic_transform_is_translation_equivariant() {
    let (m, j) = (32, 3);
    let s = Scattering2d::with_options((m, m), j, 4, 2, Boundary::Periodic).unwrap();
    assert_eq!(s.output_shape(), (4, 4));
    let x = noise((1, m, m), 4);
    let shift = 1 << j;
    let xs = Array3::from_shape_fn((1, m, m), |(b, a, c)| {
        x[[b, (a + m - shift) % m, (c + m - 2 * shift) % m]]
    });
    let sx = s.forward(x.view()).unwrap();
    let sxs = s.forward(xs.view()).unwrap();
    let scale = sx.iter().fold(0.0f64, |a, v| a.max(v.abs()));
    for ((b, c, a, d), v) in sxs.indexed_iter() {
        let w = sx[[b, c, (a + 4 - 1) % 4, (d + 4 - 2) % 4]];
        assert!(
            (v - w).abs() < 1e-12 * scale,
            "channel {c} at ({a}, {d}): {v} vs {w}"
        );
    }
    // A shift by less than 2^J is not a permutation of the output, so the check above can fail.
    let x1 = Array3::from_shape_fn((1, m, m), |(b, a, c)| x[[b, (a + m - 1) % m, c]]);
    let s1 = s.forward(x1.view()).unwrap();
    let diff = s1
        .iter()
        .zip(sx.iter())
        .fold(0.0f64, |a, (p, q)| a.max((p - q).abs()));
    assert!(diff > 1e-3 * scale);
}

#[test]
fn metadata_and_channel_counts() {
    let s = Scattering2d::new((32, 32), 3, 8).unwrap();
    assert_eq!(s.n_channels(), 1 + 24 + 64 * 3);
    let p = &s.paths()[25];
    assert_eq!(
        (p.order, p.j.clone(), p.theta.clone(), p.n.clone()),
        (2, vec![0, 1], vec![0, 0], vec![0, 8])
    );
    let s1 = Scattering2d::with_options((32, 32), 3, 8, 1, Boundary::Reflect).unwrap();
    assert_eq!(s1.n_channels(), 25);
    let t = Scattering1d::new(256, 5, 1).unwrap();
    assert_eq!(t.n_channels(), 19);
    assert_eq!(t.output_len(), 8);
    assert!(t.paths().iter().all(|p| p.order < 2 || p.j[1] > p.j[0]));
}

#[test]
fn bad_input_is_a_clear_error() {
    assert!(matches!(
        Scattering2d::new((16, 32), 5, 8),
        Err(ScatteringError::SizeIncompatibleWithJ {
            axis: 0,
            size: 16,
            j: 5,
            ..
        })
    ));
    assert!(matches!(
        Scattering2d::with_options((36, 32), 3, 8, 2, Boundary::Periodic),
        Err(ScatteringError::SizeIncompatibleWithJ {
            axis: 0,
            size: 36,
            ..
        })
    ));
    assert!(Scattering2d::new((32, 32), 0, 8).is_err());
    assert!(Scattering2d::new((32, 32), 3, 0).is_err());
    assert!(Scattering2d::with_options((32, 32), 3, 8, 3, Boundary::Reflect).is_err());
    assert!(Scattering1d::new(256, 0, 1).is_err());
    assert!(Scattering1d::new(256, 5, 0).is_err());
    assert!(Scattering1d::with_options(256, 5, (1, 1), Some(512), 2).is_err());
    assert!(Scattering1d::new(1, 1, 1).is_err());

    let s = Scattering2d::new((32, 32), 3, 8).unwrap();
    let e = s.forward(Array3::zeros((0, 32, 32)).view()).unwrap_err();
    assert!(e.to_string().contains("empty"), "{e}");
    let e = s.forward(Array3::zeros((2, 32, 30)).view()).unwrap_err();
    assert!(e.to_string().contains("expected [2, 32, 32]"), "{e}");
    let mut x = Array3::zeros((2, 32, 32));
    x[[1, 3, 4]] = f64::NAN;
    let e = s.forward(x.view()).unwrap_err();
    assert!(
        e.to_string().contains("non-finite")
            && e.to_string().contains(&format!("{}", 32 * 32 + 3 * 32 + 4)),
        "{e}"
    );
    x[[1, 3, 4]] = f64::INFINITY;
    assert!(s.forward(x.view()).is_err());

    let t = Scattering1d::new(256, 5, 1).unwrap();
    assert!(t.forward(Array2::zeros((0, 256)).view()).is_err());
    assert!(t.forward(Array2::zeros((1, 255)).view()).is_err());
    let mut y = Array2::zeros((1, 256));
    y[[0, 7]] = f64::NEG_INFINITY;
    assert!(t.forward(y.view()).is_err());
}
