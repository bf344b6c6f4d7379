//! φ⁴ and double-well checks, adaptation, divergences, bad input, thread-count independence.

mod common;

use common::*;
use ndarray::{ArrayD, ArrayViewD, ArrayViewMutD, IxDyn};
use wcrg_core::rng::Streams;
use wcrg_core::{Energy, Sampler, Workspace};
use wcrg_energy_models::{Phi4, Polynomial};
use wcrg_samplers::observables::magnetisation;
use wcrg_samplers::{
    CheckerboardMetropolis, Cycle, DualAveraging, Hmc, Mala, Repeat, RunConfig, Ula, Wolff,
    run_chains, run_chains_adapted,
};

/// Probability of each of `bins` bins of width 0.25 from -2 under exp(-(x^2-1)^2) (Simpson).
fn double_well_bins(bins: usize) -> Vec<f64> {
    let dens = |x: f64| (-(x * x - 1.0f64).powi(2)).exp();
    let simpson = |a: f64, b: f64| {
        let n = 200;
        let h = (b - a) / n as f64;
        (0..=n)
            .map(|i| {
                let w = if i == 0 || i == n {
                    1.0
                } else if i % 2 == 1 {
                    4.0
                } else {
                    2.0
                };
                w * dens(a + i as f64 * h)
            })
            .sum::<f64>()
            * h
            / 3.0
    };
    let z = simpson(-6.0, 6.0);
    (0..bins)
        .map(|b| simpson(-2.0 + b as f64 * 0.25, -2.0 + (b + 1) as f64 * 0.25) / z)
        .collect()
}

#[test]
fn double_well_histogram_matches_quadrature() {
    // beta = 0: sixteen independent sites, each with density exp(-(x^2-1)^2).
    let m = Phi4::new(&[16], 0.0, 1.0).unwrap();
    // [-2, 2) in 16 bins: every bin is visited by every chain (the tails beyond hold 0.2 %).
    let bins = 16;
    let exact = double_well_bins(bins);
    let cfg = RunConfig::default().warmup(1000).draws(6000).seed(21);
    let mala =
        run_chains_adapted(&Mala::new(&m, 0.3).unwrap(), zeros(&[16], 4), &cfg, None).unwrap();
    let metro = run_chains(
        &CheckerboardMetropolis::new(&m, 1.2).unwrap(),
        zeros(&[16], 4),
        &cfg,
        None,
    )
    .unwrap();
    for (name, chains) in [("MALA", &mala), ("Metropolis", &metro)] {
        for (b, &p) in exact.iter().enumerate() {
            let (lo, hi) = (-2.0 + b as f64 * 0.25, -2.0 + (b + 1) as f64 * 0.25);
            let est = estimate(chains, |x| {
                x.iter().filter(|&&v| v >= lo && v < hi).count() as f64 / 16.0
            });
            assert!(est.z_exact(p).abs() < 4.5, "{name} bin {b}: {est:?} vs {p}");
        }
    }
}

fn phi4_summary(
    name: &str,
    chains: &[wcrg_samplers::Chain],
    sites: f64,
) -> [wcrg_samplers::diagnostics::MeanEstimate; 3] {
    let m2 = estimate(chains, |x| magnetisation(x).powi(2));
    let am = estimate(chains, |x| magnetisation(x).abs());
    let e = wcrg_samplers::diagnostics::MeanEstimate::from_chains(
        &chains
            .iter()
            .map(|c| c.energies.iter().map(|u| u / sites).collect())
            .collect::<Vec<_>>(),
    )
    .unwrap();
    eprintln!(
        "{name}: <m2> {:.5}±{:.5} <|m|> {:.5}±{:.5} e {:.5}±{:.5}",
        m2.mean, m2.mcse, am.mean, am.mcse, e.mean, e.mcse
    );
    [m2, am, e]
}

#[test]
fn phi4_kernels_agree_on_a_small_lattice() {
    let l = 8;
    let m = Phi4::new(&[l, l], 0.6, 1.0).unwrap();
    let sites = (l * l) as f64;
    let cfg = RunConfig::default().warmup(2000).draws(20000).seed(5);
    let metro = CheckerboardMetropolis::new(&m, 1.0).unwrap();
    let cluster = Cycle::new(
        metro.clone(),
        Repeat::new(Wolff::new(m.clone()).unwrap(), 2).unwrap(),
    );
    let reference = phi4_summary(
        "cluster+Metropolis",
        &run_chains(&cluster, zeros(&[l, l], 4), &cfg, None).unwrap(),
        sites,
    );
    let runs = [
        (
            "Metropolis",
            run_chains(&metro, zeros(&[l, l], 4), &cfg, None).unwrap(),
        ),
        (
            "HMC",
            run_chains(
                &Hmc::new(&m, 0.15, 8).unwrap(),
                zeros(&[l, l], 4),
                &cfg,
                None,
            )
            .unwrap(),
        ),
        (
            "MALA",
            run_chains_adapted(&Mala::new(&m, 0.1).unwrap(), zeros(&[l, l], 4), &cfg, None)
                .unwrap(),
        ),
    ];
    for (name, chains) in &runs {
        let s = phi4_summary(name, chains, sites);
        for (k, what) in ["<m^2>", "<|m|>", "energy"].iter().enumerate() {
            let z = s[k].z_against(&reference[k]);
            assert!(z.abs() < 4.0, "{name} {what}: z = {z}");
        }
    }
}

#[test]
fn adaptation_reaches_its_target() {
    let m = Phi4::new(&[8, 8], 0.5, 1.0).unwrap();
    for target in [0.574, 0.8] {
        let cfg = RunConfig::default()
            .warmup(3000)
            .draws(3000)
            .seed(9)
            .target_acceptance(target);
        let chains =
            run_chains_adapted(&Mala::new(&m, 1.0).unwrap(), zeros(&[8, 8], 2), &cfg, None)
                .unwrap();
        for c in &chains {
            assert!(
                (c.mean_acceptance - target).abs() < 0.05,
                "target {target}: {}",
                c.mean_acceptance
            );
            assert!(c.step_size.unwrap() < 1.0);
        }
    }
    let mut da = DualAveraging::new(1.0, 0.6).unwrap();
    for _ in 0..200 {
        da.update(0.0);
    }
    assert!(
        da.final_step() < 0.1,
        "never accepting must shrink the step: {}",
        da.final_step()
    );
}

/// U = x·x/2 inside |x_u| < 2 for every site, NaN outside.
struct Walled;
impl Energy for Walled {
    fn shape(&self) -> &[usize] {
        &[4]
    }
    fn energy(&self, x: ArrayViewD<'_, f64>, _: &mut Workspace) -> f64 {
        if x.iter().all(|v| v.abs() < 2.0) {
            0.5 * x.iter().map(|v| v * v).sum::<f64>()
        } else {
            f64::NAN
        }
    }
    fn energy_and_gradient(
        &self,
        x: ArrayViewD<'_, f64>,
        mut g: ArrayViewMutD<'_, f64>,
        ws: &mut Workspace,
    ) -> f64 {
        g.assign(&x);
        self.energy(x, ws)
    }
}

#[test]
fn divergent_steps_are_reported_not_panicked() {
    let mut ws = Workspace::new();
    let mut rng = Streams::new(1).rng(0);
    let x0 = ArrayD::from_elem(IxDyn(&[4]), 0.5);
    macro_rules! check {
        ($k:expr) => {{
            let k = $k;
            let mut s = k.init(x0.clone(), &mut ws).unwrap();
            let mut divergent = 0;
            for _ in 0..20 {
                let info = k.step(&mut s, &mut rng, &mut ws);
                divergent += info.divergent as usize;
                assert!(!info.divergent || !info.accepted);
                assert!(k.position(&s).iter().all(|v| v.abs() < 2.0));
            }
            assert!(divergent > 10, "{divergent}");
        }};
    }
    check!(Mala::new(Walled, 50.0).unwrap());
    check!(Ula::new(Walled, 50.0).unwrap());
    check!(Hmc::new(Walled, 5.0, 3).unwrap());
}

#[test]
fn bad_input_is_a_typed_error() {
    let m = Phi4::new(&[4, 4], 0.5, 1.0).unwrap();
    let mut ws = Workspace::new();
    let mut bad = ArrayD::zeros(IxDyn(&[4, 4]));
    bad[[1, 1]] = f64::NAN;
    assert!(
        Mala::new(&m, 0.1)
            .unwrap()
            .init(bad.clone(), &mut ws)
            .is_err()
    );
    assert!(
        CheckerboardMetropolis::new(&m, 0.1)
            .unwrap()
            .init(bad, &mut ws)
            .is_err()
    );
    assert!(
        Mala::new(&m, 0.1)
            .unwrap()
            .init(ArrayD::zeros(IxDyn(&[4, 5])), &mut ws)
            .is_err()
    );
    for step in [0.0, -0.1, f64::NAN, f64::INFINITY] {
        assert!(Mala::new(&m, step).is_err());
        assert!(Ula::new(&m, step).is_err());
        assert!(Hmc::new(&m, step, 3).is_err());
        assert!(CheckerboardMetropolis::new(&m, step).is_err());
    }
    assert!(Hmc::new(&m, 0.1, 0).is_err());
    assert!(Repeat::new(Mala::new(&m, 0.1).unwrap(), 0).is_err());
    assert!(CheckerboardMetropolis::new(Phi4::new(&[4, 5], 0.5, 1.0).unwrap(), 0.5).is_err());
    let odd =
        Phi4::with_potential(&[4], 0.5, Polynomial::new(vec![0.0, 0.3, 1.0]).unwrap()).unwrap();
    assert!(Wolff::new(odd).is_err());
    assert!(DualAveraging::new(0.1, 1.5).is_err());
    assert!(DualAveraging::new(-0.1, 0.5).is_err());
    let cfg = RunConfig::default().draws(0);
    assert!(run_chains(&Mala::new(&m, 0.1).unwrap(), zeros(&[4, 4], 1), &cfg, None).is_err());
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let m = Phi4::new(&[64, 64], 0.68, 1.0).unwrap();
    let cluster = Cycle::new(
        CheckerboardMetropolis::new(&m, 1.0).unwrap(),
        Wolff::new(m.clone()).unwrap(),
    );
    let cfg = RunConfig::default().warmup(5).draws(5).seed(4);
    let progress_calls = std::sync::atomic::AtomicUsize::new(0);
    let report = |_: usize, _: usize| {
        progress_calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    };
    let run = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| {
                let a = run_chains(&cluster, zeros(&[64, 64], 3), &cfg, Some(&report)).unwrap();
                let b = run_chains_adapted(
                    &Mala::new(&m, 0.05).unwrap(),
                    zeros(&[64, 64], 3),
                    &cfg,
                    None,
                )
                .unwrap();
                (a, b)
            })
    };
    let (a1, b1) = run(1);
    let (a2, b2) = run(2);
    let (a3, _) = run(3);
    for (x, y) in a1
        .iter()
        .zip(&a2)
        .chain(a1.iter().zip(&a3))
        .chain(b1.iter().zip(&b2))
    {
        assert_eq!(x.draws, y.draws);
        assert_eq!(x.energies, y.energies);
    }
    assert_ne!(
        a1[0].draws, a1[1].draws,
        "chains must use different streams"
    );
    assert!(progress_calls.load(std::sync::atomic::Ordering::Relaxed) > 0);
}
