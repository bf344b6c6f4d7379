//! A random conditional energy shared by the tests and the benches (included with `#[path]`).

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use wcrg_energy_models::features::Basis;
use wcrg_rg::{ConditionalEnergy, ConditionalSpec, Coupling, Couplings, Potential};

/// Couplings over a radius-2 window (diagonal self-couplings `diag`, small random others) and
/// an on-site potential $\theta_1 t^2 + \theta_2 t^4$ on the finer field.
pub fn model(n: usize, diag: f64, quartic: [f64; 2], seed: u64) -> ConditionalEnergy {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut list = Vec::new();
    for c in 0..4 {
        for d in c..4 {
            if c == 3 && d == 3 {
                continue;
            }
            for sy in -2isize..=2 {
                for sx in -2isize..=2 {
                    let theta = if c == d && sy == 0 && sx == 0 {
                        diag
                    } else {
                        0.08 * (rng.random::<f64>() - 0.5)
                    };
                    list.push(Coupling {
                        c,
                        d,
                        shift: [sy, sx],
                        theta,
                    });
                }
            }
        }
    }
    ConditionalEnergy::new(ConditionalSpec {
        wavelet: "db2".into(),
        fine: [2 * n, 2 * n],
        gamma: 0.8,
        couplings: Couplings::new(vec![true, true, true, false], [n, n], list).unwrap(),
        potential: Potential::new(Basis::Powers(vec![2, 4]), quartic.to_vec(), [-30.0, 30.0])
            .unwrap(),
        stiffness: None,
        differences: None,
    })
    .unwrap()
}

/// `model` plus a coarse-dependent stiffness term: bumps in the coarse value and in its central
/// differences along both axes, with coefficients uniform in `[0, amplitude)` (so the
/// conditional law stays confined).
#[allow(dead_code)]
pub fn with_stiffness(m: ConditionalEnergy, amplitude: f64, seed: u64) -> ConditionalEnergy {
    use wcrg_energy_models::features::Modulator;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let basis = Basis::Bumps {
        centres: vec![-0.8, 0.0, 0.8],
        width: 0.6,
    };
    let modulators = vec![
        Modulator::value(3, 2, basis.clone()),
        Modulator::central_difference(3, 2, 0, basis.clone()),
        Modulator::central_difference(3, 2, 1, basis),
    ];
    let theta = (0..27).map(|_| amplitude * rng.random::<f64>()).collect();
    let mut spec = ConditionalSpec::from(m);
    spec.stiffness = Some(wcrg_rg::StiffnessSpec { modulators, theta });
    ConditionalEnergy::new(spec).unwrap()
}

/// `m` plus a two-site potential $a t^2 + b t^4$ on the finer field's nearest-neighbour
/// differences.
#[allow(dead_code)]
pub fn with_differences(m: ConditionalEnergy, [a, b]: [f64; 2]) -> ConditionalEnergy {
    let mut spec = ConditionalSpec::from(m);
    spec.differences =
        Some(Potential::new(Basis::Powers(vec![2, 4]), vec![a, b], [-40.0, 40.0]).unwrap());
    ConditionalEnergy::new(spec).unwrap()
}
