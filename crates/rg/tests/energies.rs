//! The fast evaluations of the fitted energies against the feature blocks they were fitted
//! with (oracles), finite differences, and the potential table against the exact sum.

use std::sync::Arc;

use ndarray::{Array1, ArrayD, IxDyn, s};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use wcrg_core::{Energy, FeatureLaplacian, Features, Workspace};
use wcrg_energy_models::LinearEnergy;
use wcrg_energy_models::features::{
    Basis, ChannelCouplings, Composed, Concat, ImagePotential, ModulatedStiffness, Modulator,
    NeighbourDifferences, QuadraticCouplings, ScalarPotential,
};
use wcrg_rg::{
    ConditionalEnergy, ConditionalSpec, Coupling, Couplings, FieldEnergy, Potential, StiffnessSpec,
    Support,
};
use wcrg_wavelets::{RgReconstruction, RgSplit, Wavelet};

fn normal(shape: &[usize], seed: u64) -> ArrayD<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    ArrayD::from_shape_simple_fn(IxDyn(shape), || StandardNormal.sample(&mut rng))
}

fn bumps() -> Basis {
    Basis::Bumps {
        centres: vec![-3.0, -1.5, 0.0, 1.5, 3.0],
        width: 1.2,
    }
}

fn modulators() -> Vec<Modulator> {
    vec![
        Modulator::value(3, 2, bumps()),
        Modulator::central_difference(3, 2, 0, bumps()),
        Modulator::central_difference(3, 2, 1, Basis::Powers(vec![2])),
    ]
}

/// A conditional energy with random coefficients and the same energy as a `LinearEnergy`
/// over the feature blocks (with the coarse-dependent stiffness term if `stiffness`, the
/// two-site potential on the finer field's differences if `differences`).
fn conditional_with(
    m: usize,
    r: usize,
    seed: u64,
    (stiffness, differences): (bool, bool),
) -> (ConditionalEnergy, LinearEnergy<Concat>) {
    let split = RgSplit::new(&Wavelet::new("db2").unwrap(), &[2 * m, 2 * m], 0.8).unwrap();
    let cc = ChannelCouplings::window(&[4, m, m], vec![true, true, true, false], r).unwrap();
    let pairs = cc.features().to_vec();
    let ip = ImagePotential::new(Arc::new(RgReconstruction::new(split.clone())), bumps()).unwrap();
    let mut blocks: Vec<Box<dyn FeatureLaplacian>> = vec![Box::new(cc), Box::new(ip)];
    if stiffness {
        let free = vec![true, true, true, false];
        blocks.push(Box::new(
            ModulatedStiffness::new(&[4, m, m], free, modulators()).unwrap(),
        ));
    }
    if differences {
        // Probed at every entry: the oracle does not rely on the tiling of the Gram diagonal.
        let map = Composed::new(
            Arc::new(NeighbourDifferences::new(&[2 * m, 2 * m]).unwrap()),
            Arc::new(RgReconstruction::new(split)),
        )
        .unwrap();
        blocks.push(Box::new(
            ImagePotential::new(Arc::new(map), bumps()).unwrap(),
        ));
    }
    let n_diff = if differences { bumps().len() } else { 0 };
    let f = Concat::new(blocks).unwrap();
    let n_pot = bumps().len();
    let theta: Array1<f64> = normal(&[f.len()], seed).into_dimensionality().unwrap();
    let couplings = pairs
        .iter()
        .zip(theta.iter())
        .map(|((c, d, sh), &t)| Coupling {
            c: *c,
            d: *d,
            shift: [sh[0], sh[1]],
            theta: t,
        })
        .collect();
    let cond = ConditionalEnergy::new(ConditionalSpec {
        wavelet: "db2".into(),
        fine: [2 * m, 2 * m],
        gamma: 0.8,
        couplings: Couplings::new(vec![true, true, true, false], [m, m], couplings).unwrap(),
        potential: Potential::new(
            bumps(),
            theta.slice(s![pairs.len()..pairs.len() + n_pot]).to_vec(),
            [-8.0, 8.0],
        )
        .unwrap(),
        stiffness: stiffness.then(|| StiffnessSpec {
            modulators: modulators(),
            theta: theta
                .slice(s![pairs.len() + n_pot..theta.len() - n_diff])
                .to_vec(),
        }),
        differences: differences.then(|| {
            Potential::new(
                bumps(),
                theta.slice(s![theta.len() - n_diff..]).to_vec(),
                [-8.0, 8.0],
            )
            .unwrap()
        }),
    })
    .unwrap();
    (cond, LinearEnergy::new(f, theta).unwrap())
}

#[test]
fn conditional_energy_and_detail_gradient_equal_the_feature_oracle() {
    let m = 8;
    for (r, seed, terms) in [
        (1, 1, (false, false)),
        (2, 2, (false, false)),
        (3, 3, (false, false)),
        (2, 4, (true, false)),
        (2, 5, (false, true)),
        (1, 6, (true, true)),
    ] {
        let (cond, oracle) = conditional_with(m, r, seed, terms);
        let mut ws = Workspace::new();
        let x = normal(&[4, m, m], 10 + seed);
        let mut g = ArrayD::zeros(IxDyn(&[4, m, m]));
        let e_ref = oracle.energy_and_gradient(x.view(), g.view_mut(), &mut ws);
        let details = x.slice(s![..3, .., ..]).to_owned().into_dyn();
        let coarse = x.slice(s![3, .., ..]).to_owned().into_dyn();
        let mut gd = ArrayD::zeros(IxDyn(&[3, m, m]));
        let e = cond.evaluate(
            details.view(),
            coarse.view(),
            gd.view_mut(),
            None,
            Support::Confined,
            &mut ws,
        );
        assert!(
            (e - e_ref).abs() <= 1e-9 * e_ref.abs().max(1.0),
            "r = {r}: {e} vs {e_ref}"
        );
        let gref = g.slice(s![..3, .., ..]);
        let err = gd
            .iter()
            .zip(gref.iter())
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(err < 1e-8, "r = {r}: detail gradient differs by {err}");
    }
}

#[test]
fn conditional_coarse_gradient_matches_central_differences() {
    let m = 8;
    for terms in [(false, false), (true, false), (false, true)] {
        coarse_gradient_check(&conditional_with(m, 2, 7, terms).0, m);
    }
}

fn coarse_gradient_check(cond: &ConditionalEnergy, m: usize) {
    let mut ws = Workspace::new();
    let details = normal(&[3, m, m], 20);
    let coarse = normal(&[m, m], 21);
    let mut gd = ArrayD::zeros(IxDyn(&[3, m, m]));
    let mut gc = ArrayD::zeros(IxDyn(&[m, m]));
    cond.evaluate(
        details.view(),
        coarse.view(),
        gd.view_mut(),
        Some(gc.view_mut()),
        Support::Extended,
        &mut ws,
    );
    let h = 1e-5;
    for idx in [[0, 0], [3, 5], [7, 7], [4, 1]] {
        let mut e = [0.0; 2];
        for (k, sign) in [1.0, -1.0].iter().enumerate() {
            let mut c = coarse.clone();
            c[IxDyn(&idx)] += sign * h;
            let mut gd2 = gd.clone();
            e[k] = cond.evaluate(
                details.view(),
                c.view(),
                gd2.view_mut(),
                None,
                Support::Extended,
                &mut ws,
            );
        }
        let fd = (e[0] - e[1]) / (2.0 * h);
        let g = gc[IxDyn(&idx)];
        assert!(
            (fd - g).abs() < 1e-5 * g.abs().max(1.0),
            "{idx:?}: {fd} vs {g}"
        );
    }
}

/// One-channel couplings of an `m × m` field, the shifts' coefficients first in `theta`.
fn one_channel(m: usize, shifts: &[Vec<isize>], theta: &[f64]) -> Couplings {
    let couplings = shifts
        .iter()
        .zip(theta)
        .map(|(sh, &t)| Coupling {
            c: 0,
            d: 0,
            shift: [sh[0], sh[1]],
            theta: t,
        })
        .collect();
    Couplings::new(vec![true], [m, m], couplings).unwrap()
}

#[test]
fn field_energy_equals_the_feature_oracle() {
    let m = 8;
    let qc = QuadraticCouplings::window(&[m, m], 2).unwrap();
    let shifts = qc.shifts().to_vec();
    let sp = ScalarPotential::new(&[m, m], bumps()).unwrap();
    let f = Concat::new(vec![Box::new(qc), Box::new(sp)]).unwrap();
    let theta: Array1<f64> = normal(&[f.len()], 3).into_dimensionality().unwrap();
    let oracle = LinearEnergy::new(f, theta.clone()).unwrap();
    let couplings = one_channel(m, &shifts, theta.as_slice().unwrap());
    let fe = FieldEnergy::new(
        couplings,
        Some(
            Potential::new(
                bumps(),
                theta.slice(s![shifts.len()..]).to_vec(),
                [-8.0, 8.0],
            )
            .unwrap(),
        ),
    )
    .unwrap();
    assert_same_energy(&oracle, &fe, &normal(&[m, m], 4));
}

/// Energy and gradient of `fe` equal those of the feature oracle at `x`; returns the energy.
fn assert_same_energy(oracle: &dyn Energy, fe: &FieldEnergy, x: &ArrayD<f64>) -> f64 {
    let mut ws = Workspace::new();
    let shape = x.shape();
    let (mut g1, mut g2) = (ArrayD::zeros(IxDyn(shape)), ArrayD::zeros(IxDyn(shape)));
    let e1 = oracle.energy_and_gradient(x.view(), g1.view_mut(), &mut ws);
    let e2 = fe.energy_and_gradient(x.view(), g2.view_mut(), &mut ws);
    assert!((e1 - e2).abs() < 1e-9 * e1.abs().max(1.0), "{e1} vs {e2}");
    let err = g1
        .iter()
        .zip(&g2)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(err < 1e-8, "gradient differs by {err}");
    e2
}

#[test]
fn potential_table_agrees_with_the_basis_sum_and_is_infinite_outside_its_support() {
    let p = Potential::new(bumps(), vec![1.0, -2.0, 0.5, 3.0, -1.0], [-4.0, 4.0]).unwrap();
    let mut worst = 0.0f64;
    for i in 0..=1000 {
        let t = -4.0 + 8.0 * i as f64 / 1000.0 * 0.999_9;
        let (v, d) = p.eval(t).unwrap();
        let (ve, de) = p.exact(t);
        worst = worst.max((v - ve).abs()).max((d - de).abs() * 1e-2);
    }
    assert!(worst < 1e-10, "table error {worst}");
    assert!(p.eval(4.01).is_none() && p.eval(-4.01).is_none() && p.eval(f64::NAN).is_none());
    // Errors: mismatched coefficients, bad support, NaN coefficients.
    assert!(Potential::new(bumps(), vec![1.0; 4], [-1.0, 1.0]).is_err());
    assert!(Potential::new(bumps(), vec![1.0; 5], [1.0, 1.0]).is_err());
    assert!(Potential::new(bumps(), vec![f64::NAN; 5], [-1.0, 1.0]).is_err());
}

#[test]
fn couplings_reject_inconsistent_specifications() {
    let c = |c, d| Coupling {
        c,
        d,
        shift: [0, 1],
        theta: 1.0,
    };
    // Two conditioning channels.
    assert!(Couplings::new(vec![true, false, false], [4, 4], vec![c(1, 2)]).is_err());
    // Channel out of range.
    assert!(Couplings::new(vec![true], [4, 4], vec![c(0, 1)]).is_err());
    // Non-finite coefficient.
    let mut bad = c(0, 0);
    bad.theta = f64::INFINITY;
    assert!(Couplings::new(vec![true], [4, 4], vec![bad]).is_err());
    // A field energy has one free channel.
    let two = Couplings::new(vec![true, true], [4, 4], vec![c(0, 1)]).unwrap();
    assert!(FieldEnergy::new(two, None).is_err());
}

/// A field energy on an `m × m` field with all three terms (radius-1 couplings, on-site and
/// two-site potentials) and random coefficients, and the same energy over the feature blocks.
fn three_term_field(m: usize, seed: u64) -> (FieldEnergy, LinearEnergy<Concat>) {
    let qc = QuadraticCouplings::window(&[m, m], 1).unwrap();
    let shifts = qc.shifts().to_vec();
    let sp = ScalarPotential::new(&[m, m], bumps()).unwrap();
    let dp = ImagePotential::new(
        Arc::new(NeighbourDifferences::new(&[m, m]).unwrap()),
        bumps(),
    )
    .unwrap();
    let f = Concat::new(vec![Box::new(qc), Box::new(sp), Box::new(dp)]).unwrap();
    let theta: Array1<f64> = normal(&[f.len()], seed).into_dimensionality().unwrap();
    let oracle = LinearEnergy::new(f, theta.clone()).unwrap();
    let (ns, nb) = (shifts.len(), bumps().len());
    let couplings = one_channel(m, &shifts, theta.as_slice().unwrap());
    let potential = |a: usize| {
        Potential::new(bumps(), theta.slice(s![a..a + nb]).to_vec(), [-12.0, 12.0]).unwrap()
    };
    let fe = FieldEnergy::new(couplings, Some(potential(ns)))
        .unwrap()
        .with_differences(potential(ns + nb));
    (fe, oracle)
}

#[test]
fn field_energy_with_a_two_site_potential_equals_the_feature_oracle() {
    let m = 6;
    let (fe, oracle) = three_term_field(m, 7);
    let x = normal(&[m, m], 8);
    let e2 = assert_same_energy(&oracle, &fe, &x);
    let mut ws = Workspace::new();
    // Without the two-site term the energies differ (the term is not silently dropped).
    let plain = FieldEnergy::new(fe.couplings().clone(), fe.potential().cloned()).unwrap();
    assert!((plain.energy(x.view(), &mut ws) - e2).abs() > 1e-3);
    // A difference outside the two-site support is an infinite energy.
    let mut far = x.clone();
    far[[0, 0]] = 11.0;
    far[[0, 1]] = -3.0; // both inside the on-site support, their difference -14 is not
    assert!(plain.energy(far.view(), &mut ws).is_finite());
    assert!(fe.energy(far.view(), &mut ws).is_infinite());
    // JSON round trip keeps the term; a file without it still loads.
    let json = serde_json::to_string(&fe).unwrap();
    let back: FieldEnergy = serde_json::from_str(&json).unwrap();
    assert_eq!(back, fe);
    let old = serde_json::to_string(&plain).unwrap();
    assert!(!old.contains("differences"));
    assert_eq!(serde_json::from_str::<FieldEnergy>(&old).unwrap(), plain);
}

/// The Hessian of a field energy with all three terms (couplings, on-site and two-site
/// potentials) applied to a vector equals central differences of the feature oracle's
/// gradient along it, and each term is in it.
#[test]
fn field_energy_hessian_equals_differences_of_the_oracle_gradient() {
    let m = 5;
    let (fe, oracle) = three_term_field(m, 50);
    let (x, v) = (normal(&[m, m], 51), normal(&[m, m], 52));
    let hv = |e: &FieldEnergy| {
        let mut out = vec![0.0; m * m];
        e.hessian_apply(x.as_slice().unwrap(), v.as_slice().unwrap(), &mut out);
        out
    };
    let full = hv(&fe);
    let mut ws = Workspace::new();
    let h = 1e-5;
    let grad = |y: &ArrayD<f64>, ws: &mut Workspace| {
        let mut g = ArrayD::zeros(IxDyn(&[m, m]));
        oracle.energy_and_gradient(y.view(), g.view_mut(), ws);
        g
    };
    let fd = (grad(&(&x + &(h * &v)), &mut ws) - grad(&(&x - &(h * &v)), &mut ws)) / (2.0 * h);
    let scale = full.iter().map(|a| a.abs()).fold(0.0, f64::max);
    let err = fd
        .iter()
        .zip(&full)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(
        err < 1e-6 * scale,
        "Hessian differs by {err} (scale {scale})"
    );
    // Each term is in it: dropping the two-site potential, then the on-site one, changes the
    // product by more than the tolerance above.
    let no_pairs = FieldEnergy::new(fe.couplings().clone(), fe.potential().cloned()).unwrap();
    let only_couplings = FieldEnergy::new(fe.couplings().clone(), None).unwrap();
    let dist = |a: &[f64], b: &[f64]| {
        a.iter()
            .zip(b)
            .map(|(p, q)| (p - q).abs())
            .fold(0.0, f64::max)
    };
    let (a, b) = (hv(&no_pairs), hv(&only_couplings));
    assert!(dist(&full, &a) > 1e-3 * scale && dist(&a, &b) > 1e-3 * scale);
}

#[test]
fn conditional_hessian_equals_differences_of_the_gradient() {
    let m = 4;
    let (cond, _) = conditional_with(m, 1, 11, (true, true));
    let mut ws = Workspace::new();
    let details = normal(&[3, m, m], 40);
    let coarse = normal(&[m, m], 41);
    let v = normal(&[3, m, m], 42);
    let hv = cond.hessian_apply(details.view(), coarse.view(), v.view(), &mut ws);
    let h = 1e-5;
    let grad = |d: &ArrayD<f64>, ws: &mut Workspace| {
        let mut g = ArrayD::zeros(IxDyn(&[3, m, m]));
        cond.evaluate(
            d.view(),
            coarse.view(),
            g.view_mut(),
            None,
            Support::Extended,
            ws,
        );
        g
    };
    let fd = (grad(&(&details + &(h * &v)), &mut ws) - grad(&(&details - &(h * &v)), &mut ws))
        / (2.0 * h);
    let err = fd
        .iter()
        .zip(hv.iter())
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    let scale = hv.iter().map(|a| a.abs()).fold(0.0, f64::max);
    assert!(
        err < 1e-6 * scale,
        "Hessian differs by {err} (scale {scale})"
    );
    // The stiffness term is in it: without it the product changes.
    let mut spec = ConditionalSpec::from(cond.clone());
    spec.stiffness = None;
    let plain = ConditionalEnergy::new(spec).unwrap();
    let hv0 = plain.hessian_apply(details.view(), coarse.view(), v.view(), &mut ws);
    let kappa = cond.site_stiffness(coarse.view());
    for ((a, b), (k, x)) in hv.iter().zip(&hv0).zip(kappa.iter().zip(&v)) {
        assert!((a - b - k * x).abs() < 1e-10 * scale);
    }
}

#[test]
fn stiffness_terms_are_checked_and_older_files_read_without_them() {
    let (cond, _) = conditional_with(4, 1, 12, (true, false));
    let spec = ConditionalSpec::from(cond.clone());
    // A coefficient too few, or a NaN coefficient, is an error.
    let mut short = spec.clone();
    short.stiffness.as_mut().unwrap().theta.pop();
    assert!(ConditionalEnergy::new(short).is_err());
    let mut nan = spec.clone();
    nan.stiffness.as_mut().unwrap().theta[0] = f64::NAN;
    assert!(ConditionalEnergy::new(nan).is_err());
    // A modulator reading a detail channel is an error.
    let mut free = spec.clone();
    free.stiffness.as_mut().unwrap().modulators[0].channel = 1;
    assert!(ConditionalEnergy::new(free).is_err());
    // Round trip, and a file without the key (written before the term existed).
    let json = serde_json::to_string(&cond).unwrap();
    let back: ConditionalEnergy = serde_json::from_str(&json).unwrap();
    assert_eq!(ConditionalSpec::from(back), spec);
    let mut value: serde_json::Value = serde_json::from_str(&json).unwrap();
    value.as_object_mut().unwrap().remove("stiffness");
    let old: ConditionalEnergy = serde_json::from_value(value).unwrap();
    assert!(old.stiffness().is_none());
    assert!(
        old.site_stiffness(normal(&[4, 4], 1).view())
            .iter()
            .all(|&k| k == 0.0)
    );
}

#[test]
fn conditional_two_site_terms_round_trip_and_corrupt_ones_are_errors() {
    let (cond, _) = conditional_with(4, 1, 13, (false, true));
    let spec = ConditionalSpec::from(cond.clone());
    let json = serde_json::to_string(&cond).unwrap();
    assert!(json.contains("\"differences\""));
    let back: ConditionalEnergy = serde_json::from_str(&json).unwrap();
    assert_eq!(ConditionalSpec::from(back.clone()), spec);
    assert_eq!(back.differences(), cond.differences());
    // Without the key (older files): no two-site term, and a different energy.
    let mut value: serde_json::Value = serde_json::from_str(&json).unwrap();
    let diffs = value
        .as_object_mut()
        .unwrap()
        .remove("differences")
        .unwrap();
    let old: ConditionalEnergy = serde_json::from_value(value.clone()).unwrap();
    assert!(old.differences().is_none());
    let (d, c) = (normal(&[3, 4, 4], 2), normal(&[4, 4], 3));
    let mut ws = Workspace::new();
    let mut g = ArrayD::zeros(IxDyn(&[3, 4, 4]));
    let mut energy = |e: &ConditionalEnergy| {
        e.evaluate(
            d.view(),
            c.view(),
            g.view_mut(),
            None,
            Support::Extended,
            &mut ws,
        )
    };
    let (e_new, e_old) = (energy(&cond), energy(&old));
    assert!((e_new - e_old).abs() > 1e-3 * e_new.abs().max(1.0));
    // A coefficient too few, or an empty support, is a clear error.
    let mut short = diffs.clone();
    short["theta"].as_array_mut().unwrap().pop();
    value["differences"] = short;
    let err = serde_json::from_value::<ConditionalEnergy>(value.clone()).unwrap_err();
    assert!(err.to_string().contains("coefficients"), "{err}");
    let mut flat = diffs;
    flat["support"] = serde_json::json!([1.0, 1.0]);
    value["differences"] = flat;
    let err = serde_json::from_value::<ConditionalEnergy>(value).unwrap_err();
    assert!(err.to_string().contains("support"), "{err}");
}

/// With tail walls the table is exact away from the walls' kinks (the outer centres, where the
/// second derivative jumps by $2\theta/w^2$) and within $\theta h^2/8w^2$ ($h$ the table's
/// spacing) in the interval around each: the Hermite cubic cannot follow the kink.
#[test]
fn potential_table_with_walls_is_exact_but_at_the_kinks() {
    let Basis::Bumps { centres, width } = bumps() else {
        unreachable!()
    };
    let walled = Basis::BumpsWithWalls {
        centres: centres.clone(),
        width,
    };
    let theta = vec![1.0, -2.0, 0.5, 3.0, -1.0, 2.0, 4.0];
    // A support whose table nodes miss the kinks at ±3.
    let p = Potential::new(walled, theta.clone(), [-4.1, 3.9]).unwrap();
    let h = 8.0 / 4096.0;
    let (mut far, mut near) = (0.0f64, 0.0f64);
    for i in 0..=20_000 {
        let t = -4.1 + 8.0 * i as f64 / 20_000.0 * 0.999_9;
        let (v, d) = p.eval(t).unwrap();
        let (ve, de) = p.exact(t);
        let err = (v - ve).abs().max((d - de).abs() * 1e-2);
        let kink = [centres[0], centres[centres.len() - 1]]
            .iter()
            .any(|c| (t - c).abs() <= h);
        if kink {
            near = near.max((v - ve).abs());
        } else {
            far = far.max(err);
        }
    }
    assert!(far < 1e-10, "table error {far} away from the kinks");
    let bound = theta[5].max(theta[6]) * h * h / (8.0 * width * width);
    assert!(
        near <= bound,
        "table error {near} at the kinks, bound {bound}"
    );
    assert!(
        near > 1e-3 * bound,
        "{near}: the kinks are not where they were thought"
    );
    println!("table error {far:.1e} away from the kinks, {near:.1e} at them (bound {bound:.1e})");
}

/// The hot-path contract (`wcrg_core`): an array of the wrong shape is a panic naming the
/// expected and the actual shape, never an index error or a value computed on another lattice.
/// A 4 × 9 field has as many values as the 6 × 6 one: it used to be evaluated as if it were one.
#[test]
fn wrong_shapes_are_panics_naming_both_shapes() {
    use wcrg_core::validate::assert_panics_naming_shapes as assert_names;
    let (fe, _) = three_term_field(6, 3);
    let mut ws = Workspace::new();
    for shape in [[6usize, 5], [5, 6], [4, 9]] {
        let x = normal(&shape, 1);
        assert_names("field energy", &[6, 6], &shape, || {
            fe.energy(x.view(), &mut ws)
        });
    }
    let m = 4;
    let (cond, _) = conditional_with(m, 1, 5, (true, true));
    let (details, coarse) = (normal(&[3, m, m], 6), normal(&[m, m], 7));
    let confined = Support::Confined;
    for bad in [vec![3, m, m + 1], vec![m, 3, m], vec![4 * m, m]] {
        let wrong = normal(&bad, 8);
        let mut g = ArrayD::zeros(IxDyn(&[3, m, m]));
        let mut short = ArrayD::zeros(IxDyn(&bad));
        let ctx = |call: &str| format!("{bad:?}: {call}");
        assert_names(&ctx("Hessian at"), &[3, m, m], &bad, || {
            cond.hessian_apply(wrong.view(), coarse.view(), details.view(), &mut ws)
        });
        assert_names(&ctx("Hessian direction"), &[3, m, m], &bad, || {
            cond.hessian_apply(details.view(), coarse.view(), wrong.view(), &mut ws)
        });
        assert_names(&ctx("evaluate"), &[3, m, m], &bad, || {
            cond.evaluate(
                wrong.view(),
                coarse.view(),
                g.view_mut(),
                None,
                confined,
                &mut ws,
            )
        });
        assert_names(&ctx("evaluate's gradient"), &[3, m, m], &bad, || {
            cond.evaluate(
                details.view(),
                coarse.view(),
                short.view_mut(),
                None,
                confined,
                &mut ws,
            )
        });
    }
    let coarse_bad = normal(&[m, m + 1], 9);
    assert_names("Hessian's coarse field", &[m, m], &[m, m + 1], || {
        cond.hessian_apply(details.view(), coarse_bad.view(), details.view(), &mut ws)
    });
}
