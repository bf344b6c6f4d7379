//! Every kernel against exact Gaussian answers (z-tests on the MCSE at fixed seeds).

mod common;

use common::*;
use ndarray::{ArrayD, IxDyn};
use wcrg_energy_models::{GaussianField, Phi4, Polynomial};
use wcrg_samplers::{
    CheckerboardMetropolis, Cycle, Hmc, Mala, RunConfig, Ula, run_chains, run_chains_adapted,
};

const SHAPE: [usize; 2] = [4, 4];
const MASS2: f64 = 1.0;
const BETA: f64 = 0.5;

/// The free field as a lattice model (so that Metropolis has a local energy change).
fn model() -> Phi4 {
    Phi4::with_potential(
        &SHAPE,
        BETA,
        Polynomial::new(vec![0.0, 0.0, MASS2 / 2.0]).unwrap(),
    )
    .unwrap()
}

fn exact() -> (f64, f64) {
    let c = GaussianField::free_field(&SHAPE, MASS2, BETA)
        .unwrap()
        .covariance();
    (c[[0, 0]], c[[0, 1]])
}

fn check(name: &str, chains: &[wcrg_samplers::Chain], c00: f64, c01: f64) {
    let var = estimate(chains, mean_square);
    let nn = estimate(chains, neighbour_product);
    let mean = estimate(chains, |x| x.mean().unwrap());
    assert!(
        var.z_exact(c00).abs() < 4.0,
        "{name}: <x^2> {var:?} vs {c00}"
    );
    assert!(
        nn.z_exact(c01).abs() < 4.0,
        "{name}: <x x'> {nn:?} vs {c01}"
    );
    assert!(mean.z_exact(0.0).abs() < 4.0, "{name}: <x> {mean:?}");
    // The error bars are small enough for the test to mean something.
    assert!(var.mcse < 0.03 * c00, "{name}: mcse {} too large", var.mcse);
}

#[test]
fn mala_hmc_metropolis_reproduce_the_exact_covariance() {
    let (c00, c01) = exact();
    let m = model();
    let cfg = RunConfig::default().warmup(1000).draws(4000).seed(11);
    let mala =
        run_chains_adapted(&Mala::new(&m, 0.2).unwrap(), zeros(&SHAPE, 4), &cfg, None).unwrap();
    check("MALA", &mala, c00, c01);
    let hmc = run_chains(&Hmc::new(&m, 0.3, 5).unwrap(), zeros(&SHAPE, 4), &cfg, None).unwrap();
    check("HMC", &hmc, c00, c01);
    let metro = run_chains(
        &CheckerboardMetropolis::new(&m, 1.5).unwrap(),
        zeros(&SHAPE, 4),
        &cfg,
        None,
    )
    .unwrap();
    check("Metropolis", &metro, c00, c01);
    // The Fourier-space Gaussian energy drives the gradient kernels too.
    let g = GaussianField::free_field(&SHAPE, MASS2, BETA).unwrap();
    let mixed = Cycle::new(Mala::new(&g, 0.2).unwrap(), Hmc::new(&g, 0.3, 3).unwrap());
    let mixed = run_chains(&mixed, zeros(&SHAPE, 4), &cfg.clone().draws(2000), None).unwrap();
    check("MALA+HMC on GaussianField", &mixed, c00, c01);
}

#[test]
fn ula_samples_its_known_biased_gaussian() {
    // For precision K, ULA with step eps is exactly N(0, (K - eps K^2 / 2)^-1): P_eps = P / (1 - eps / (2P)).
    let eps = 0.2;
    let g = GaussianField::free_field(&SHAPE, MASS2, BETA).unwrap();
    let p = g.spectrum();
    let biased =
        GaussianField::from_spectrum(p.mapv(|v| v / (1.0 - eps / (2.0 * v))).view()).unwrap();
    let cb = biased.covariance();
    let (c00, _) = exact();
    let cfg = RunConfig::default().warmup(500).draws(8000).seed(3);
    let chains = run_chains(&Ula::new(&g, eps).unwrap(), zeros(&SHAPE, 4), &cfg, None).unwrap();
    check("ULA (biased law)", &chains, cb[[0, 0]], cb[[0, 1]]);
    // ... and the bias is resolved: the unbiased variance is rejected.
    let var = estimate(&chains, mean_square);
    assert!(
        var.z_exact(c00).abs() > 6.0,
        "ULA bias not detected: {var:?} vs {c00}"
    );
}

#[test]
fn exact_iid_sampler_agrees_with_mcmc_on_a_correlated_field() {
    // An anisotropic spectrum: couplings only along axis 0.
    let shape = [8, 4];
    let p = ArrayD::from_shape_fn(IxDyn(&shape), |ix| {
        let k = 2.0 * std::f64::consts::PI * ix[0] as f64 / 8.0;
        1.0 / (0.7 + 2.0 * (1.0 - k.cos()))
    });
    let g = GaussianField::from_spectrum(p.view()).unwrap();
    let cov = g.covariance();
    let cfg = RunConfig::default().warmup(500).draws(3000).seed(5);
    let chains =
        run_chains_adapted(&Mala::new(&g, 0.3).unwrap(), zeros(&shape, 4), &cfg, None).unwrap();
    let lag = estimate(&chains, |x| {
        let mut s = 0.0;
        for i in 0..8 {
            for j in 0..4 {
                s += x[[i, j]] * x[[(i + 1) % 8, j]];
            }
        }
        s / 32.0
    });
    assert!(
        lag.z_exact(cov[[1, 0]]).abs() < 4.0,
        "{lag:?} vs {}",
        cov[[1, 0]]
    );
}

#[test]
fn every_kernel_samples_an_iid_gaussian() {
    // beta = 0: independent sites with U = (m²/2) x², variance 1/m², neighbour covariance 0.
    let m2 = 2.5;
    let m = Phi4::with_potential(
        &SHAPE,
        0.0,
        Polynomial::new(vec![0.0, 0.0, m2 / 2.0]).unwrap(),
    )
    .unwrap();
    let cfg = RunConfig::default().warmup(500).draws(3000).seed(17);
    let (c00, c01) = (1.0 / m2, 0.0);
    let runs = [
        (
            "MALA",
            run_chains_adapted(&Mala::new(&m, 0.2).unwrap(), zeros(&SHAPE, 4), &cfg, None).unwrap(),
        ),
        (
            "HMC",
            run_chains(&Hmc::new(&m, 0.3, 5).unwrap(), zeros(&SHAPE, 4), &cfg, None).unwrap(),
        ),
        (
            "Metropolis",
            run_chains(
                &CheckerboardMetropolis::new(&m, 1.0).unwrap(),
                zeros(&SHAPE, 4),
                &cfg,
                None,
            )
            .unwrap(),
        ),
    ];
    for (name, chains) in &runs {
        check(name, chains, c00, c01);
    }
}

#[test]
fn cluster_moves_keep_the_gaussian_law() {
    // The free field's potential is even, so Wolff flips apply; with Metropolis they must
    // reproduce the exact covariance.
    let (c00, c01) = exact();
    let m = model();
    let kernel = Cycle::new(
        CheckerboardMetropolis::new(&m, 1.5).unwrap(),
        wcrg_samplers::Wolff::new(m.clone()).unwrap(),
    );
    let cfg = RunConfig::default().warmup(500).draws(4000).seed(19);
    let chains = run_chains(&kernel, zeros(&SHAPE, 4), &cfg, None).unwrap();
    check("cluster+Metropolis", &chains, c00, c01);
}
