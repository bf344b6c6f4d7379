//! `Whitened`: the change of variables against a dense oracle and finite differences, exact
//! sampling with a wrong preconditioner, faster mixing of a soft mode, and bad input.

mod common;

use common::*;
use ndarray::{ArrayD, IxDyn};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal, Uniform};
use wcrg_core::{Energy, Workspace};
use wcrg_energy_models::{GaussianField, Phi4};
use wcrg_samplers::diagnostics::integrated_time;
use wcrg_samplers::{Chain, Mala, RunConfig, Whitened, periodogram, run_chains_adapted};

fn noise(shape: &[usize], rng: &mut ChaCha8Rng) -> ArrayD<f64> {
    ArrayD::from_shape_simple_fn(IxDyn(shape), || StandardNormal.sample(rng))
}

/// An even, positive spectrum on `shape` with values in [0.2, 5].
fn even_spectrum(shape: [usize; 2], rng: &mut ChaCha8Rng) -> ArrayD<f64> {
    let u = Uniform::new(0.2, 5.0).unwrap();
    let mut p = ArrayD::from_shape_simple_fn(IxDyn(&shape), || u.sample(rng));
    for a in 0..shape[0] {
        for b in 0..shape[1] {
            let (na, nb) = ((shape[0] - a) % shape[0], (shape[1] - b) % shape[1]);
            p[[a, b]] = p[[na, nb]];
        }
    }
    p
}

/// $C^{1/2}$ as a dense matrix from its definition,
/// $C^{1/2}_{uv} = \frac1N\sum_k \sqrt{P(k)} \cos(2\pi k\cdot(u - v)/L)$.
fn dense_sqrt(p: &ArrayD<f64>) -> Vec<Vec<f64>> {
    let (a, b) = (p.shape()[0], p.shape()[1]);
    let n = a * b;
    let mut m = vec![vec![0.0; n]; n];
    for (u, row) in m.iter_mut().enumerate() {
        for (v, out) in row.iter_mut().enumerate() {
            let (dy, dx) = (
                (u / b) as f64 - (v / b) as f64,
                (u % b) as f64 - (v % b) as f64,
            );
            let mut s = 0.0;
            for ky in 0..a {
                for kx in 0..b {
                    let phase = 2.0
                        * std::f64::consts::PI
                        * (ky as f64 * dy / a as f64 + kx as f64 * dx / b as f64);
                    s += p[[ky, kx]].sqrt() * phase.cos();
                }
            }
            *out = s / n as f64;
        }
    }
    m
}

#[test]
fn whitened_energy_is_the_energy_of_the_coloured_field() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let shape = [4, 6];
    let p = even_spectrum(shape, &mut rng);
    let phi4 = Phi4::new(&shape, 0.7, 1.0).unwrap();
    let white = Whitened::new(&phi4, p.clone()).unwrap();
    let y = noise(&shape, &mut rng);
    // The colouring against the dense matrix.
    let a = dense_sqrt(&p);
    let x = white.color(y.view()).unwrap();
    let flat: Vec<f64> = y.iter().copied().collect();
    for (u, xu) in x.iter().enumerate() {
        let want: f64 = a[u].iter().zip(&flat).map(|(m, v)| m * v).sum();
        assert!((xu - want).abs() < 1e-12, "site {u}: {xu} vs {want}");
    }
    // Whitening inverts colouring.
    let back = white.whiten(x.view()).unwrap();
    assert!(back.iter().zip(&y).all(|(a, b)| (a - b).abs() < 1e-12));
    // Energy and gradient.
    let mut ws = Workspace::new();
    let mut g = ArrayD::zeros(IxDyn(&shape));
    let e = white.energy_and_gradient(y.view(), g.view_mut(), &mut ws);
    assert!((e - phi4.energy(x.view(), &mut ws)).abs() < 1e-12 * e.abs().max(1.0));
    assert_eq!(e, white.energy(y.view(), &mut ws));
    let h = 1e-5;
    for site in 0..y.len() {
        let mut yp = y.clone();
        let mut ym = y.clone();
        yp.as_slice_mut().unwrap()[site] += h;
        ym.as_slice_mut().unwrap()[site] -= h;
        let fd = (white.energy(yp.view(), &mut ws) - white.energy(ym.view(), &mut ws)) / (2.0 * h);
        let got = g.as_slice().unwrap()[site];
        assert!(
            (fd - got).abs() < 1e-6 * got.abs().max(1.0),
            "site {site}: {got} vs {fd}"
        );
    }
    // A dirty workspace and a transposed gradient buffer give the same answer.
    let mut gt = ArrayD::zeros(IxDyn(&[6, 4]));
    let mut gt_view = gt.view_mut();
    gt_view.swap_axes(0, 1);
    let e2 = white.energy_and_gradient(y.view(), gt_view, &mut ws);
    assert_eq!(e, e2);
    assert!(gt.t().iter().zip(g.iter()).all(|(a, b)| a == b));
}

#[test]
fn periodogram_is_the_mean_squared_dft() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let fields = noise(&[3, 4, 5], &mut rng);
    let p = periodogram(fields.view()).unwrap();
    for ky in 0..4 {
        for kx in 0..5 {
            let mut want = 0.0;
            for f in 0..3 {
                let (mut re, mut im) = (0.0, 0.0);
                for y in 0..4 {
                    for x in 0..5 {
                        let ph = -2.0
                            * std::f64::consts::PI
                            * ((ky * y) as f64 / 4.0 + (kx * x) as f64 / 5.0);
                        re += fields[[f, y, x]] * ph.cos();
                        im += fields[[f, y, x]] * ph.sin();
                    }
                }
                want += (re * re + im * im) / 20.0 / 3.0;
            }
            assert!((p[[ky, kx]] - want).abs() < 1e-12 * want.max(1.0));
        }
    }
}

fn coloured(white: &Whitened<&GaussianField>, chains: Vec<Chain>) -> Vec<Chain> {
    chains
        .into_iter()
        .map(|mut c| {
            c.draws = c
                .draws
                .iter()
                .map(|y| white.color(y.view()).unwrap())
                .collect();
            c
        })
        .collect()
}

#[test]
fn mala_in_whitened_coordinates_samples_the_target_even_with_a_wrong_spectrum() {
    let shape = [4, 4];
    let target = GaussianField::free_field(&shape, 1.0, 0.5).unwrap();
    let c = target.covariance();
    // Three times the true power at k = 0, half elsewhere: a wrong preconditioner changes the
    // speed, never the law.
    let mut p = target.spectrum().mapv(|v| 0.5 * v);
    p[[0, 0]] *= 6.0;
    let white = Whitened::new(&target, p).unwrap();
    let cfg = RunConfig::default().warmup(1000).draws(4000).seed(17);
    let chains = run_chains_adapted(
        &Mala::new(&white, 0.3).unwrap(),
        zeros(&shape, 4),
        &cfg,
        None,
    )
    .unwrap();
    let chains = coloured(&white, chains);
    let var = estimate(&chains, mean_square);
    let nn = estimate(&chains, neighbour_product);
    assert!(
        var.z_exact(c[[0, 0]]).abs() < 4.0,
        "{var:?} vs {}",
        c[[0, 0]]
    );
    assert!(nn.z_exact(c[[0, 1]]).abs() < 4.0, "{nn:?} vs {}", c[[0, 1]]);
    assert!(var.mcse < 0.03 * c[[0, 0]]);
    // A mutation check of the test: the uncoloured draws have the wrong variance.
    let wrong = estimate(
        &run_chains_adapted(
            &Mala::new(&white, 0.3).unwrap(),
            zeros(&shape, 4),
            &cfg,
            None,
        )
        .unwrap(),
        mean_square,
    );
    assert!(wrong.z_exact(c[[0, 0]]).abs() > 10.0, "{wrong:?}");
}

#[test]
fn whitening_by_the_target_spectrum_removes_the_slow_soft_mode() {
    // A nearly massless free field: the mean is a soft mode with variance 1 / (N m^2) = 10,
    // against O(1) for the stiffest modes.
    let shape = [8, 8];
    let target = GaussianField::free_field(&shape, 1.0 / 640.0, 1.0).unwrap();
    let white = Whitened::new(&target, target.spectrum()).unwrap();
    let cfg = RunConfig::default().warmup(2000).draws(20000).seed(2);
    let tau = |chains: &[Chain]| {
        observe(chains, |x| x.mean().unwrap())
            .iter()
            .map(|c| integrated_time(c).unwrap())
            .sum::<f64>()
            / chains.len() as f64
    };
    let plain = run_chains_adapted(
        &Mala::new(&target, 0.1).unwrap(),
        zeros(&shape, 2),
        &cfg,
        None,
    )
    .unwrap();
    let whitened = coloured(
        &white,
        run_chains_adapted(
            &Mala::new(&white, 0.1).unwrap(),
            zeros(&shape, 2),
            &cfg,
            None,
        )
        .unwrap(),
    );
    let (tp, tw) = (tau(&plain), tau(&whitened));
    assert!(tw < 20.0 && tp > 20.0 * tw, "tau plain {tp}, whitened {tw}");
}

#[test]
fn bad_spectra_and_fields_are_clear_errors() {
    let shape = [4, 4];
    let target = GaussianField::free_field(&shape, 1.0, 0.5).unwrap();
    let ones = |s: &[usize]| ArrayD::from_elem(IxDyn(s), 1.0);
    let msg = |r: Result<Whitened<&GaussianField>, wcrg_core::Error>| r.unwrap_err().to_string();
    assert!(msg(Whitened::new(&target, ones(&[4, 5]))).contains("shape"));
    let mut p = ones(&shape);
    p[[1, 2]] = -1.0;
    assert!(msg(Whitened::new(&target, p.clone())).contains("positive"));
    p[[1, 2]] = f64::NAN;
    assert!(msg(Whitened::new(&target, p.clone())).contains("non-finite"));
    p[[1, 2]] = 2.0;
    assert!(msg(Whitened::new(&target, p)).contains("P(k) = P(-k)"));
    let white = Whitened::new(&target, ones(&shape)).unwrap();
    assert!(white.color(ones(&[2, 8]).view()).is_err());
    assert!(white.whiten(ones(&[16]).view()).is_err());
    // Periodograms.
    assert!(periodogram(ones(&[0, 4, 4]).view()).is_err());
    assert!(periodogram(ones(&[4]).view()).is_err());
    assert!(periodogram(ArrayD::zeros(IxDyn(&[2, 4, 4])).view()).is_err());
    let mut f = ones(&[2, 4, 4]);
    f[[1, 3, 3]] = f64::INFINITY;
    assert!(
        periodogram(f.view())
            .unwrap_err()
            .to_string()
            .contains("non-finite")
    );
    assert!(Whitened::from_fields(&target, ones(&[3, 4, 5]).view()).is_err());
}
