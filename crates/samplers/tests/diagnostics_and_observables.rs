//! Diagnostics on processes with known answers; field statistics on exact Gaussian samples.

use ndarray::{ArrayD, IxDyn};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use wcrg_energy_models::GaussianField;
use wcrg_samplers::diagnostics::{MeanEstimate, autocorrelation, integrated_time, split_rhat};
use wcrg_samplers::observables::{
    Histogram, Phi4Observables, RadialSpectrum, contiguous_blocks, correlation_length,
    jackknife_blocks, jackknife_error, mean_and_stderr_grouped, two_point_correlation,
};

fn ar1(rho: f64, n: usize, seed: u64, shift: f64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut x = 0.0;
    (0..n)
        .map(|_| {
            let z: f64 = StandardNormal.sample(&mut rng);
            x = rho * x + (1.0 - rho * rho).sqrt() * z;
            x + shift
        })
        .collect()
}

#[test]
fn integrated_time_of_ar1_is_its_exact_value() {
    for rho in [0.0, 0.5, 0.9] {
        let exact = (1.0 + rho) / (1.0 - rho);
        let s = ar1(rho, 400_000, 1, 0.0);
        let tau = integrated_time(&s).unwrap();
        assert!(
            (tau / exact - 1.0).abs() < 0.06,
            "rho {rho}: tau {tau} vs {exact}"
        );
        let r = autocorrelation(&s).unwrap();
        assert!((r[1] - rho).abs() < 0.01 && (r[0] - 1.0).abs() < 1e-12);
    }
    // The MCSE of the mean of AR(1) chains covers the truth at the advertised rate.
    let chains: Vec<Vec<f64>> = (0..4).map(|c| ar1(0.9, 50_000, 10 + c, 2.0)).collect();
    let est = MeanEstimate::from_chains(&chains).unwrap();
    assert!(est.z_exact(2.0).abs() < 4.0);
    let expected_ess = 200_000.0 / 19.0;
    assert!(
        (est.ess / expected_ess - 1.0).abs() < 0.15,
        "ess {}",
        est.ess
    );
}

#[test]
fn split_rhat_flags_disagreeing_chains() {
    let good: Vec<Vec<f64>> = (0..4).map(|c| ar1(0.5, 5000, c, 0.0)).collect();
    let r = split_rhat(&good).unwrap();
    assert!(r < 1.01, "{r}");
    let mut bad = good.clone();
    bad[2] = ar1(0.5, 5000, 99, 1.0);
    assert!(split_rhat(&bad).unwrap() > 1.1);
    assert!(split_rhat(&[]).is_err());
    assert!(split_rhat(&[vec![1.0; 10], vec![1.0; 8]]).is_err());
    assert!(split_rhat(&[vec![1.0; 10], vec![1.0; 10]]).is_err());
    assert!(integrated_time(&[1.0; 100]).is_err());
    assert!(integrated_time(&[1.0, f64::NAN, 2.0, 3.0]).is_err());
    assert!(integrated_time(&[1.0, 2.0]).is_err());
}

#[test]
fn field_statistics_of_exact_gaussian_samples() {
    let g = GaussianField::free_field(&[16, 16], 0.2, 1.0).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let batch = g.sample_batch(400, &mut rng);
    // Radial spectrum vs the exact spectrum averaged over the same bins.
    let rs = RadialSpectrum::from_batch(batch.view()).unwrap();
    // E|x̂(k)|²/N = P(k): the exact bin value is the mean of P over the bin (|k| rounded).
    let p = g.spectrum();
    let mut sum = vec![0.0; rs.k.len()];
    let mut count = vec![0.0; rs.k.len()];
    let f = |i: usize| if i <= 8 { i as f64 } else { i as f64 - 16.0 };
    for ((i, j), &v) in p
        .view()
        .into_dimensionality::<ndarray::Ix2>()
        .unwrap()
        .indexed_iter()
    {
        let b = (f(i).powi(2) + f(j).powi(2)).sqrt().round() as usize;
        sum[b] += v;
        count[b] += 1.0;
    }
    for k in 0..rs.k.len() {
        let exact = sum[k] / count[k];
        let z = (rs.power[k] - exact) / rs.stderr[k];
        assert!(z.abs() < 4.0, "bin {k}: {} vs {exact} (z {z})", rs.power[k]);
    }
    // Two-point function vs the exact covariance.
    let c = two_point_correlation(batch.view()).unwrap();
    let cov = g.covariance();
    for (a, b) in [(0, 0), (0, 1), (3, 2)] {
        assert!(
            (c[[a, b]] - cov[[a, b]]).abs() < 0.08 * cov[[0, 0]],
            "({a},{b})"
        );
    }
    // The second-moment correlation length of the lattice free field is exactly 1/m
    // (S(0)/S(k_min) = 1 + 4 sin²(π/L)/m²); with 4000 samples the estimate has a relative
    // standard error of about 3 % (S(0) is one chi-square mode).
    let big = g.sample_batch(4000, &mut rng);
    let xi = correlation_length(big.view()).unwrap();
    let m = 0.2f64.sqrt();
    assert!((xi * m - 1.0).abs() < 0.12, "xi {xi} vs {}", 1.0 / m);
    // Gaussian magnetisation: Binder cumulant 0.
    let obs = Phi4Observables::from_batch(batch.view()).unwrap();
    assert!(
        (obs.binder.0 / obs.binder.1).abs() < 4.0,
        "{:?}",
        obs.binder
    );
    assert!(obs.m2.0 > 0.0 && obs.susceptibility.1 > 0.0);
}

#[test]
fn histograms_compare_on_a_common_binning() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let a: Vec<f64> = (0..20000)
        .map(|_| StandardNormal.sample(&mut rng))
        .collect();
    let b: Vec<f64> = (0..20000)
        .map(|_| StandardNormal.sample(&mut rng))
        .collect();
    let mut ha = Histogram::new(-4.0, 4.0, 40).unwrap();
    let mut hb = ha.clone();
    let mut hc = ha.clone();
    ha.fill(&a);
    hb.fill(&b);
    hc.fill(&a.iter().map(|v| v * 1.5).collect::<Vec<_>>());
    assert_eq!(ha.kl_divergence(&ha).unwrap(), 0.0);
    assert!(ha.kl_divergence(&hb).unwrap() < 0.005);
    assert!(ha.kl_divergence(&hc).unwrap() > 0.05);
    assert!(
        ha.kl_divergence(&Histogram::new(-4.0, 4.0, 20).unwrap())
            .is_err()
    );
    assert!(Histogram::new(1.0, 1.0, 10).is_err());
    assert!(Histogram::new(0.0, 1.0, 0).is_err());
    let mut h = Histogram::new(0.0, 1.0, 2).unwrap();
    h.fill(&[0.1, 0.7, 2.0, f64::NAN]);
    assert_eq!((h.counts(), h.outside()), (&[1u64, 1][..], 2));
    assert!(RadialSpectrum::from_batch(ArrayD::zeros(IxDyn(&[1, 4, 4])).view()).is_err());
    assert!(Phi4Observables::from_magnetisations(&[0.1; 5], 16).is_err());
}

#[test]
fn moments_and_energy_of_exact_gaussian_samples() {
    use wcrg_samplers::observables::{Moments, energy_per_site};
    let g = GaussianField::free_field(&[8, 8], 1.0, 0.5).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    let batch = g.sample_batch(2000, &mut rng);
    let m = Moments::of(batch.view()).unwrap();
    let c00 = g.covariance()[[0, 0]];
    assert!((m.variance / c00 - 1.0).abs() < 0.03, "{m:?} vs {c00}");
    assert!(
        m.skewness.abs() < 0.05 && m.excess_kurtosis.abs() < 0.1,
        "{m:?}"
    );
    // Equipartition: <U> = N/2 for a Gaussian, i.e. 1/2 per site.
    let (e, err) = energy_per_site(&g, batch.view()).unwrap();
    assert!(((e - 0.5) / err).abs() < 4.0, "{e} ± {err}");
    assert!(energy_per_site(&g, batch.slice(ndarray::s![..1, .., ..]).into_dyn()).is_err());
    assert!(Moments::of(ArrayD::<f64>::zeros(IxDyn(&[3, 3])).view()).is_err());
}

#[test]
fn antithetic_chains_have_a_floored_integrated_time() {
    // x_t = -0.99 x_{t-1} + noise: true tau = (1 - 0.99)/(1 + 0.99) ≈ 0.005; the estimate is
    // floored at 1/log10(n) so that the effective sample size stays at most n log10(n).
    let s = ar1(-0.99, 10_000, 7, 0.0);
    let tau = integrated_time(&s).unwrap();
    assert!((tau - 0.25).abs() < 1e-12, "{tau}");
    let s = ar1(-0.3, 100_000, 8, 0.0);
    let tau = integrated_time(&s).unwrap();
    assert!((tau - 0.7 / 1.3).abs() < 0.03, "{tau}");
}

/// `chains` chains of `per_chain` Gaussian 4 × 4 fields, each site an AR(1) process with
/// coefficient `rho` started stationary; returned interleaved (field `i` from chain
/// `i % chains`) with its chain labels.
fn correlated_fields(
    chains: usize,
    per_chain: usize,
    rho: f64,
    seed: u64,
) -> (ArrayD<f64>, Vec<usize>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n = chains * per_chain;
    let mut out = ArrayD::zeros(IxDyn(&[n, 4, 4]));
    for c in 0..chains {
        let mut x: Vec<f64> = (0..16).map(|_| StandardNormal.sample(&mut rng)).collect();
        for t in 0..per_chain {
            if t > 0 {
                for v in &mut x {
                    let z: f64 = StandardNormal.sample(&mut rng);
                    *v = rho * *v + (1.0 - rho * rho).sqrt() * z;
                }
            }
            let i = t * chains + c;
            for (k, v) in x.iter().enumerate() {
                out[[i, k / 4, k % 4]] = *v;
            }
        }
    }
    (out, (0..n).map(|i| i % chains).collect())
}

#[test]
fn grouped_standard_errors_reduce_to_independent_ones_and_ignore_duplicates() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let g = GaussianField::free_field(&[8, 8], 0.3, 1.0).unwrap();
    let batch = g.sample_batch(100, &mut rng);
    // Every field its own group: exactly the independent estimates.
    let own: Vec<usize> = (0..100).map(|i| 7 * i + 3).collect();
    assert_eq!(
        RadialSpectrum::from_batch_grouped(batch.view(), &own).unwrap(),
        RadialSpectrum::from_batch(batch.view()).unwrap()
    );
    assert_eq!(
        Phi4Observables::from_batch_grouped(batch.view(), &own).unwrap(),
        Phi4Observables::from_batch(batch.view()).unwrap()
    );
    // Every field twice in its group: the independent formula is fooled (√2 too small), the
    // grouped one gives the originals' standard errors.
    let twice = ndarray::concatenate(ndarray::Axis(0), &[batch.view(), batch.view()]).unwrap();
    let groups: Vec<usize> = (0..200).map(|i| i % 100).collect();
    let (a, b) = (
        RadialSpectrum::from_batch(batch.view()).unwrap(),
        RadialSpectrum::from_batch_grouped(twice.view(), &groups).unwrap(),
    );
    let naive = RadialSpectrum::from_batch(twice.view()).unwrap();
    for k in 0..a.k.len() {
        approx::assert_relative_eq!(a.power[k], b.power[k], max_relative = 1e-12);
        approx::assert_relative_eq!(a.stderr[k], b.stderr[k], max_relative = 1e-12);
        let r = naive.stderr[k] / a.stderr[k];
        assert!((r * 2f64.sqrt() - 1.0).abs() < 0.01, "bin {k}: ratio {r}");
    }
    // The jackknife over blocks of whole groups: 50 blocks of 2 fields against 50 blocks of
    // 2 groups of 2 copies, the same moments deleted each time.
    let (a, b) = (
        Phi4Observables::from_batch(batch.view()).unwrap(),
        Phi4Observables::from_batch_grouped(twice.view(), &groups).unwrap(),
    );
    for (x, y) in [(a.m2, b.m2), (a.binder, b.binder), (a.abs_m, b.abs_m)] {
        approx::assert_relative_eq!(x.0, y.0, max_relative = 1e-12);
        approx::assert_relative_eq!(x.1, y.1, max_relative = 1e-9);
    }
    // Bad groups are errors.
    assert!(RadialSpectrum::from_batch_grouped(batch.view(), &own[..99]).is_err());
    assert!(RadialSpectrum::from_batch_grouped(batch.view(), &[5; 100]).is_err());
    let nine: Vec<usize> = (0..100).map(|i| i % 9).collect();
    assert!(Phi4Observables::from_batch_grouped(batch.view(), &nine).is_err());
    // The grouped mean against the textbook s/√n, and against the means of the groups when
    // the groups are of equal size (then it is their standard error over G groups).
    let v: Vec<f64> = (0..60)
        .map(|i| ((i * 37) % 11) as f64 + 0.1 * i as f64)
        .collect();
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let s2 = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let singles: Vec<usize> = (0..60).collect();
    let (m, se) = mean_and_stderr_grouped(&v, &singles).unwrap();
    approx::assert_relative_eq!(m, mean, max_relative = 1e-14);
    approx::assert_relative_eq!(se, (s2 / n).sqrt(), max_relative = 1e-12);
    let thirds: Vec<usize> = (0..60).map(|i| i % 20).collect();
    let gm: Vec<f64> = (0..20)
        .map(|g| (v[g] + v[g + 20] + v[g + 40]) / 3.0)
        .collect();
    let gs2 = gm.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 19.0;
    let (_, se3) = mean_and_stderr_grouped(&v, &thirds).unwrap();
    approx::assert_relative_eq!(se3, (gs2 / 20.0).sqrt(), max_relative = 1e-12);
    assert!(mean_and_stderr_grouped(&v, &thirds[..59]).is_err());
    assert!(mean_and_stderr_grouped(&[1.0, f64::NAN], &[0, 1]).is_err());
    // Jackknife blocks: whole groups, at most 50; the error of the mean's jackknife over
    // singleton blocks is s/√n.
    let (block, blocks) = jackknife_blocks(&thirds, 2).unwrap();
    assert_eq!(blocks, 20);
    assert!((0..60).all(|i| block[i] == block[i % 20]));
    assert_eq!(jackknife_blocks(&singles, 2).unwrap().1, 50);
    assert!(jackknife_blocks(&thirds, 21).is_err());
    let jack: Vec<f64> = (0..60)
        .map(|k| (v.iter().sum::<f64>() - v[k]) / (n - 1.0))
        .collect();
    approx::assert_relative_eq!(
        jackknife_error(&jack),
        (s2 / n).sqrt(),
        max_relative = 1e-12
    );
    assert_eq!(contiguous_blocks(10, 4), vec![0, 0, 0, 1, 1, 2, 2, 2, 3, 3]);
    assert_eq!(contiguous_blocks(3, 50), vec![0, 1, 2]);
}

#[test]
fn grouped_standard_errors_match_the_spread_over_replicas_of_correlated_chains() {
    // 40 chains of 10 fields, consecutive fields of a chain correlated by 0.8 at every site:
    // the k = 0 power (a squared standard normal per field, correlated by 0.64 between
    // neighbours) and m² have a variance of their mean about 3.5 times the independent one.
    // Over 400 replicas, the standard deviation of the estimates is known to ±3.5 %.
    let reps = 400;
    let (mut p0, mut se_grouped, mut se_naive) = (Vec::new(), 0.0, 0.0);
    let (mut m2, mut m2_se_grouped, mut m2_se_naive) = (Vec::new(), 0.0, 0.0);
    for r in 0..reps {
        let (x, groups) = correlated_fields(40, 10, 0.8, 1000 + r);
        let g = RadialSpectrum::from_batch_grouped(x.view(), &groups).unwrap();
        let n = RadialSpectrum::from_batch(x.view()).unwrap();
        p0.push(g.power[0]);
        se_grouped += g.stderr[0] / reps as f64;
        se_naive += n.stderr[0] / reps as f64;
        let og = Phi4Observables::from_batch_grouped(x.view(), &groups).unwrap();
        let on = Phi4Observables::from_batch(x.view()).unwrap();
        m2.push(og.m2.0);
        m2_se_grouped += og.m2.1 / reps as f64;
        m2_se_naive += on.m2.1 / reps as f64;
    }
    let sd = |v: &[f64]| {
        let m = v.iter().sum::<f64>() / v.len() as f64;
        (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64).sqrt()
    };
    let (s_p0, s_m2) = (sd(&p0), sd(&m2));
    for (what, grouped, naive, spread) in [
        ("P(0)", se_grouped, se_naive, s_p0),
        ("m²", m2_se_grouped, m2_se_naive, s_m2),
    ] {
        assert!(
            (grouped / spread - 1.0).abs() < 0.12,
            "{what}: grouped SE {grouped} vs spread {spread}"
        );
        assert!(
            naive / spread < 0.7,
            "{what}: naive SE {naive} vs spread {spread}"
        );
    }
}
