//! Single-site Langevin sweeps on a conditional law: local energy changes and gradients against
//! full evaluations, and the sampled law against an exact Gaussian covariance and against
//! global MALA, with Monte-Carlo error bars.

use ndarray::{ArrayD, IxDyn};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use wcrg_core::{Energy, Sampler, Workspace};
use wcrg_rg::{Conditioned, LocalMala};
use wcrg_samplers::Mala;

mod support;
use support::conditional::{model, with_differences, with_stiffness};

fn uniform(shape: &[usize], scale: f64, rng: &mut ChaCha8Rng) -> ArrayD<f64> {
    ArrayD::from_shape_simple_fn(IxDyn(shape), || scale * (rng.random::<f64>() - 0.5))
}

#[test]
fn tracked_energy_and_site_gradients_equal_full_evaluations() {
    // n = 2 and 4: the window and the wavelet's support wrap around the periodic grid.
    // With and without the coarse-dependent stiffness term (a per-site diagonal) and the
    // two-site potential on the finer field's differences (edges leaving the moved patch).
    for (n, stiff, diffs) in [
        (2usize, false, false),
        (4, false, false),
        (8, false, false),
        (4, true, false),
        (8, true, false),
        (2, false, true),
        (4, false, true),
        (8, true, true),
    ] {
        let m = model(n, 1.5, [-0.4, 0.1], n as u64);
        let m = if stiff { with_stiffness(m, 0.8, 3) } else { m };
        let m = if diffs {
            with_differences(m, [0.1, 0.02])
        } else {
            m
        };
        let mut rng = ChaCha8Rng::seed_from_u64(10 + n as u64);
        let coarse = uniform(&[n, n], 1.0, &mut rng);
        let cond = Conditioned::new(&m, coarse.view()).unwrap();
        let sampler = LocalMala::new(cond.clone(), 0.3).unwrap();
        let mut ws = Workspace::new();
        let mut state = sampler
            .init(uniform(&[3, n, n], 1.6, &mut rng), &mut ws)
            .unwrap();
        let mut grad = ArrayD::zeros(IxDyn(&[3, n, n]));
        // 20 sweeps: the caches are updated in place and recomputed every 16 sweeps.
        let (mut accepted, mut acceptance) = (0, 0.0);
        for _ in 0..20 {
            let info = sampler.step(&mut state, &mut rng, &mut ws);
            accepted += usize::from(info.accepted);
            acceptance += info.acceptance_probability / 20.0;
            // The energy, tracked by local differences through the sweep, equals a full one.
            let full = cond.energy_and_gradient(sampler.position(&state), grad.view_mut(), &mut ws);
            assert!(
                (info.energy - full).abs() <= 1e-10 * full.abs().max(1.0),
                "n = {n}: tracked {} vs full {full}",
                info.energy
            );
            // The caches after the sweep give every site's gradient.
            for uy in 0..n {
                for ux in 0..n {
                    let g = sampler.site_gradient(&state, uy, ux);
                    for (c, gc) in g.iter().enumerate() {
                        let want = grad[[c, uy, ux]];
                        assert!(
                            (gc - want).abs() <= 1e-9 * want.abs().max(1.0),
                            "n = {n}, site ({uy}, {ux}), channel {c}: {gc} vs {want}"
                        );
                    }
                }
            }
        }
        // Moves were made (the checks above are not vacuous).
        assert!(
            accepted >= 15 && acceptance > 0.3,
            "n = {n}, stiffness {stiff}, differences {diffs}: {accepted} sweeps with an \
             accepted move, mean acceptance {acceptance}"
        );
    }
}

/// Mean over chains of per-chain means of `obs` per sweep, with the standard error over chains.
fn chain_means(values: &[Vec<f64>]) -> (f64, f64) {
    let means: Vec<f64> = values
        .iter()
        .map(|v| v.iter().sum::<f64>() / v.len() as f64)
        .collect();
    let k = means.len() as f64;
    let m = means.iter().sum::<f64>() / k;
    let var = means.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (k - 1.0);
    (m, (var / k).sqrt())
}

/// Per-chain traces of the mean square of each channel after `burn` of `steps` transitions.
fn traces<S: Sampler>(
    sampler: &S,
    start: &ArrayD<f64>,
    chains: usize,
    burn: usize,
    steps: usize,
    seed: u64,
) -> [Vec<Vec<f64>>; 3] {
    let mut out: [Vec<Vec<f64>>; 3] = Default::default();
    for c in 0..chains {
        let mut rng = ChaCha8Rng::seed_from_u64(seed * 1000 + c as u64);
        let mut ws = Workspace::new();
        let mut state = sampler.init(start.clone(), &mut ws).unwrap();
        let mut tr: [Vec<f64>; 3] = Default::default();
        for t in 0..burn + steps {
            sampler.step(&mut state, &mut rng, &mut ws);
            if t >= burn {
                let x = sampler.position(&state);
                let plane = x.len() / 3;
                for (ch, slot) in tr.iter_mut().enumerate() {
                    let v = x.as_slice().unwrap()[ch * plane..(ch + 1) * plane]
                        .iter()
                        .map(|v| v * v)
                        .sum::<f64>()
                        / plane as f64;
                    slot.push(v);
                }
            }
        }
        for (o, t) in out.iter_mut().zip(tr) {
            o.push(t);
        }
    }
    out
}

/// With no potential the conditional law is Gaussian, $N(-K^{-1}b, K^{-1})$; the sweeps'
/// per-channel second moments match the exact ones within 4 standard errors.
/// So do they with the coarse-dependent stiffness term, whose law is
/// $N\big(-(K + \mathrm{diag}\,\kappa)^{-1}b, (K + \mathrm{diag}\,\kappa)^{-1}\big)$.
#[test]
fn gaussian_conditional_second_moments_are_exact() {
    for stiff in [false, true] {
        gaussian_check(stiff);
    }
}

fn gaussian_check(stiff: bool) {
    let n = 4;
    let m = model(n, 1.2, [0.0, 0.0], 7);
    let m = if stiff { with_stiffness(m, 0.8, 4) } else { m };
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    let coarse = uniform(&[n, n], 3.0, &mut rng);
    let cond = Conditioned::new(&m, coarse.view()).unwrap();
    // Dense K (free–free block) and b = ∇E(0).
    let d = 3 * n * n;
    let mut k = vec![vec![0.0; d]; d];
    let mut v = vec![0.0; 4 * n * n];
    let mut out = vec![0.0; 4 * n * n];
    for i in 0..d {
        v.fill(0.0);
        v[i] = 1.0;
        m.couplings().hessian_apply(&v, &mut out);
        for r in 0..d {
            k[r][i] = out[r];
        }
    }
    let kappa = m.site_stiffness(coarse.view());
    assert_eq!(kappa.iter().any(|&v| v != 0.0), stiff);
    for (i, kv) in kappa.iter().enumerate() {
        k[i][i] += kv;
    }
    let mut ws = Workspace::new();
    let mut b = ArrayD::zeros(IxDyn(&[3, n, n]));
    cond.energy_and_gradient(
        ArrayD::zeros(IxDyn(&[3, n, n])).view(),
        b.view_mut(),
        &mut ws,
    );
    let inv = support::linalg::inverse(&k);
    let bv: Vec<f64> = b.iter().copied().collect();
    let mean: Vec<f64> = (0..d)
        .map(|i| -(0..d).map(|j| inv[i][j] * bv[j]).sum::<f64>())
        .collect();
    let plane = n * n;
    let exact: Vec<f64> = (0..3)
        .map(|c| {
            (c * plane..(c + 1) * plane)
                .map(|i| inv[i][i] + mean[i] * mean[i])
                .sum::<f64>()
                / plane as f64
        })
        .collect();
    let sampler = LocalMala::new(cond, 0.4).unwrap();
    let start = ArrayD::zeros(IxDyn(&[3, n, n]));
    let tr = traces(&sampler, &start, 16, 200, 3000, 1);
    for c in 0..3 {
        let (est, se) = chain_means(&tr[c]);
        assert!(se < 0.01 * exact[c], "channel {c}: SE {se} too large");
        assert!(
            (est - exact[c]).abs() <= 4.0 * se,
            "stiffness {stiff}, channel {c}: sampled {est} ± {se}, exact {}",
            exact[c]
        );
    }
}

/// With a double-well potential on the finer field (and then also a two-site potential on its
/// differences), the sweeps' per-channel second moments match global MALA's within 4 combined
/// standard errors.
#[test]
fn non_gaussian_conditional_agrees_with_global_mala() {
    let n = 4;
    for diffs in [false, true] {
        let m = model(n, 1.2, [-0.6, 0.12], 9);
        let m = if diffs {
            with_differences(m, [0.3, 0.03])
        } else {
            m
        };
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let coarse = uniform(&[n, n], 1.0, &mut rng);
        let cond = Conditioned::new(&m, coarse.view()).unwrap();
        let start = ArrayD::zeros(IxDyn(&[3, n, n]));
        let local = LocalMala::new(cond.clone(), 0.4).unwrap();
        let global = Mala::new(cond, 0.08).unwrap();
        let a = traces(&local, &start, 16, 200, 3000, 2);
        let b = traces(&global, &start, 16, 2000, 30000, 3);
        for c in 0..3 {
            let (ea, sa) = chain_means(&a[c]);
            let (eb, sb) = chain_means(&b[c]);
            let se = (sa * sa + sb * sb).sqrt();
            assert!(se < 0.01 * eb, "{diffs}, channel {c}: SE {se} too large");
            assert!(
                (ea - eb).abs() <= 4.0 * se,
                "{diffs}, channel {c}: local {ea} ± {sa}, global MALA {eb} ± {sb}"
            );
        }
    }
}

/// A start in any memory layout is accepted (stored row-major), and bad starts are errors.
#[test]
fn starts_in_any_layout_and_bad_starts_are_errors() {
    let n = 4;
    let m = model(n, 1.5, [-0.4, 0.1], 5);
    let mut rng = ChaCha8Rng::seed_from_u64(6);
    let coarse = uniform(&[n, n], 1.0, &mut rng);
    let cond = Conditioned::new(&m, coarse.view()).unwrap();
    let sampler = LocalMala::new(cond.clone(), 0.3).unwrap();
    let mut ws = Workspace::new();
    let x = uniform(&[3, n, n], 1.0, &mut rng);
    // The same values, stored with the axes reversed.
    let mut t = uniform(&[n, n, 3], 0.0, &mut rng);
    t.assign(&x.view().reversed_axes());
    let transposed = t.reversed_axes();
    assert!(!transposed.is_standard_layout());
    let mut a = sampler.init(x, &mut ws).unwrap();
    let mut b = sampler.init(transposed, &mut ws).unwrap();
    let (mut ra, mut rb) = (ChaCha8Rng::seed_from_u64(7), ChaCha8Rng::seed_from_u64(7));
    for _ in 0..3 {
        sampler.step(&mut a, &mut ra, &mut ws);
        sampler.step(&mut b, &mut rb, &mut ws);
    }
    assert_eq!(sampler.position(&a), sampler.position(&b));
    // Wrong shape, non-finite values, a start outside the potential's support, a bad step.
    assert!(
        sampler
            .init(ArrayD::zeros(IxDyn(&[3, n, n + 1])), &mut ws)
            .is_err()
    );
    let mut nan = ArrayD::zeros(IxDyn(&[3, n, n]));
    nan[[1, 2, 3]] = f64::NAN;
    assert!(sampler.init(nan, &mut ws).is_err());
    let far = ArrayD::from_elem(IxDyn(&[3, n, n]), 100.0);
    assert!(sampler.init(far, &mut ws).is_err());
    assert!(LocalMala::new(cond.clone(), 0.0).is_err());
    assert!(LocalMala::new(cond, f64::NAN).is_err());
}
