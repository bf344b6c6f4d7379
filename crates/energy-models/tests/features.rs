//! Feature blocks: values against naive sums, pullbacks against central differences,
//! Laplacians against second differences, errors.

use ndarray::{Array1, ArrayD, IxDyn};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use wcrg_core::{FeatureLaplacian, Features, Workspace};
use wcrg_energy_models::features::{Basis, Concat, QuadraticCouplings, ScalarPotential, quantiles};

fn normal(shape: &[usize], seed: u64) -> ArrayD<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    ArrayD::from_shape_simple_fn(IxDyn(shape), || StandardNormal.sample(&mut rng))
}

fn values(f: &dyn Features, x: &ArrayD<f64>) -> Array1<f64> {
    let mut out = Array1::zeros(f.len());
    f.values_into(x.view(), out.view_mut(), &mut Workspace::new());
    out
}

/// Pullback vs central differences of v·Φ, Laplacian vs second differences, at every site.
fn check_derivatives(f: &dyn FeatureLaplacian, x: &ArrayD<f64>, seed: u64) {
    let mut ws = Workspace::new();
    let v = normal(&[f.len()], seed)
        .into_dimensionality::<ndarray::Ix1>()
        .unwrap();
    let mut g = ArrayD::zeros(IxDyn(f.field_shape()));
    f.pullback_into(x.view(), v.view(), g.view_mut(), &mut ws);
    let mut lap = Array1::zeros(f.len());
    f.laplacian_into(x.view(), lap.view_mut(), &mut ws);
    let h = 1e-4;
    let phi0 = values(f, x);
    let mut lap_fd = Array1::<f64>::zeros(f.len());
    for i in 0..x.len() {
        let (mut xp, mut xm) = (x.clone(), x.clone());
        xp.as_slice_mut().unwrap()[i] += h;
        xm.as_slice_mut().unwrap()[i] -= h;
        let (pp, pm) = (values(f, &xp), values(f, &xm));
        let fd = (pp.dot(&v) - pm.dot(&v)) / (2.0 * h);
        let gi = g.as_slice().unwrap()[i];
        assert!(
            (fd - gi).abs() < 1e-6 * gi.abs().max(1.0),
            "site {i}: {fd} vs {gi}"
        );
        lap_fd = lap_fd + (&pp - 2.0 * &phi0 + &pm) / (h * h);
    }
    for k in 0..f.len() {
        assert!(
            (lap_fd[k] - lap[k]).abs() < 1e-3 * lap[k].abs().max(1.0),
            "feature {k}: {} vs {}",
            lap_fd[k],
            lap[k]
        );
    }
}

#[test]
fn quadratic_couplings_match_naive_sums_and_derivatives() {
    let q = QuadraticCouplings::window(&[6, 5], 1).unwrap();
    assert_eq!(q.len(), 5); // (0,0), (0,1), (1,0), (1,-1), (1,1): by |s|₁, then lexicographic
    assert_eq!(q.shifts()[0], vec![0, 0]);
    let x = normal(&[6, 5], 1);
    let phi = values(&q, &x);
    for (k, s) in q.shifts().iter().enumerate() {
        let mut naive = 0.0;
        for i in 0..6 {
            for j in 0..5 {
                let (a, b) = (
                    (i as isize - s[0]).rem_euclid(6) as usize,
                    (j as isize - s[1]).rem_euclid(5) as usize,
                );
                naive += 0.5 * x[[i, j]] * x[[a, b]];
            }
        }
        assert!((phi[k] - naive).abs() < 1e-12, "{s:?}");
    }
    check_derivatives(&q, &x, 2);
    check_derivatives(
        &QuadraticCouplings::window(&[9], 2).unwrap(),
        &normal(&[9], 3),
        4,
    );
    check_derivatives(
        &QuadraticCouplings::new(&[4, 4, 4], vec![vec![0, 0, 0], vec![1, 2, 0]]).unwrap(),
        &normal(&[4, 4, 4], 5),
        6,
    );
}

#[test]
fn potentials_match_their_basis_and_derivatives() {
    let x = normal(&[5, 4], 7);
    let data: Vec<f64> = x.iter().copied().collect();
    for basis in [
        Basis::Powers(vec![1, 2, 3, 4]),
        Basis::Bumps {
            centres: vec![-1.0, 0.0, 0.7],
            width: 0.5,
        },
        Basis::Sigmoids {
            centres: vec![-0.5, 0.5],
            width: 0.3,
        },
        Basis::bumps_on_quantiles(&data, 5).unwrap(),
    ] {
        let p = ScalarPotential::new(&[5, 4], basis).unwrap();
        check_derivatives(&p, &x, 8);
    }
    let p = ScalarPotential::new(&[5, 4], Basis::Powers(vec![2, 4])).unwrap();
    let phi = values(&p, &x);
    assert!((phi[1] - x.iter().map(|v| v.powi(4)).sum::<f64>()).abs() < 1e-12);
    let q = quantiles(&[3.0, 1.0, 2.0, 4.0], 2).unwrap();
    assert_eq!(q, vec![1.75, 3.25]);
}

#[test]
fn concat_stacks_blocks() {
    let shape = [6, 6];
    let c = Concat::new(vec![
        Box::new(QuadraticCouplings::window(&shape, 1).unwrap()),
        Box::new(ScalarPotential::new(&shape, Basis::Powers(vec![4])).unwrap()),
    ])
    .unwrap();
    assert_eq!(c.len(), 6);
    assert_eq!(c.range(1), 5..6);
    assert_eq!(c.names()[5], "sum x^4");
    let x = normal(&shape, 9);
    check_derivatives(&c, &x, 10);
    // A dirty workspace changes nothing.
    let mut ws = Workspace::new();
    let mut a = Array1::zeros(6);
    c.values_into(normal(&shape, 1).view(), a.view_mut(), &mut ws);
    c.values_into(x.view(), a.view_mut(), &mut ws);
    assert_eq!(a, values(&c, &x));
}

#[test]
fn invalid_blocks_are_errors() {
    assert!(QuadraticCouplings::new(&[4, 4], vec![vec![1, 0], vec![-1, 0]]).is_err());
    assert!(QuadraticCouplings::new(&[4, 4], vec![vec![1]]).is_err());
    assert!(QuadraticCouplings::window(&[4, 4], 2).is_err());
    assert!(QuadraticCouplings::new(&[0, 4], vec![]).is_err());
    assert!(ScalarPotential::new(&[4], Basis::Powers(vec![0, 2])).is_err());
    assert!(ScalarPotential::new(&[4], Basis::Powers(vec![])).is_err());
    assert!(
        ScalarPotential::new(
            &[4],
            Basis::Bumps {
                centres: vec![0.0],
                width: 0.0
            }
        )
        .is_err()
    );
    assert!(
        ScalarPotential::new(
            &[4],
            Basis::Sigmoids {
                centres: vec![f64::NAN],
                width: 1.0
            }
        )
        .is_err()
    );
    assert!(Basis::bumps_on_quantiles(&[1.0; 10], 3).is_err());
    assert!(quantiles(&[], 3).is_err());
    assert!(Concat::new(vec![]).is_err());
    assert!(
        Concat::new(vec![
            Box::new(ScalarPotential::new(&[4], Basis::Powers(vec![2])).unwrap()),
            Box::new(ScalarPotential::new(&[5], Basis::Powers(vec![2])).unwrap()),
        ])
        .is_err()
    );
}

#[test]
fn channel_couplings_match_naive_sums_in_one_and_three_dimensions() {
    use wcrg_energy_models::features::ChannelCouplings;
    for shape in [vec![2usize, 7], vec![2, 3, 4, 5]] {
        let f = ChannelCouplings::window(&shape, vec![true, false], 1).unwrap();
        let x = normal(&shape, 23);
        // The same values from a view with gaps between its rows (non-contiguous storage).
        let last = ndarray::Axis(shape.len() - 1);
        let wide = ndarray::concatenate(last, &[x.view(), x.view()]).unwrap();
        let back = wide.slice_axis(last, ndarray::Slice::from(..shape[shape.len() - 1]));
        assert!(back.as_slice().is_none() && back == x.view());
        let (phi, phi_view) = (values(&f, &x), {
            let mut out = Array1::zeros(f.len());
            f.values_into(back, out.view_mut(), &mut Workspace::new());
            out
        });
        let sp = &shape[1..];
        for (k, (c, d, s)) in f.features().iter().enumerate() {
            let mut naive = 0.0;
            for (ix, &v) in x.index_axis(ndarray::Axis(0), *c).indexed_iter() {
                let src: Vec<usize> = (0..sp.len())
                    .map(|a| (ix[a] as isize - s[a]).rem_euclid(sp[a] as isize) as usize)
                    .collect();
                naive += 0.5 * v * x.index_axis(ndarray::Axis(0), *d)[IxDyn(&src)];
            }
            assert!((phi[k] - naive).abs() < 1e-12, "{shape:?} {c} {d} {s:?}");
            assert!((phi_view[k] - naive).abs() < 1e-12, "{shape:?} view {s:?}");
        }
    }
}

#[test]
fn channel_couplings_differentiate_free_channels_only() {
    use wcrg_energy_models::features::ChannelCouplings;
    // 3 free detail channels + 1 conditioning channel, radius 1 in 2-D:
    // 3 × 5 (c = d, shifts up to sign) + 6 pairs × 9 shifts = 69 features.
    let f = ChannelCouplings::window(&[4, 5, 6], vec![true, true, true, false], 1).unwrap();
    assert_eq!(f.len(), 69);
    assert!(f.features().iter().all(|(c, d, _)| !(*c == 3 && *d == 3)));
    let x = normal(&[4, 5, 6], 21);
    // Values against the naive sum.
    let phi = values(&f, &x);
    for (k, (c, d, s)) in f.features().iter().enumerate() {
        let mut naive = 0.0;
        for i in 0..5 {
            for j in 0..6 {
                let (a, b) = (
                    (i as isize - s[0]).rem_euclid(5) as usize,
                    (j as isize - s[1]).rem_euclid(6) as usize,
                );
                naive += 0.5 * x[[*c, i, j]] * x[[*d, a, b]];
            }
        }
        assert!((phi[k] - naive).abs() < 1e-12, "{c} {d} {s:?}");
    }
    // Pullback: central differences on free entries, exactly zero on the conditioning channel.
    let mut ws = Workspace::new();
    let v = normal(&[69], 22)
        .into_dimensionality::<ndarray::Ix1>()
        .unwrap();
    let mut g = ArrayD::zeros(IxDyn(&[4, 5, 6]));
    f.pullback_into(x.view(), v.view(), g.view_mut(), &mut ws);
    assert!(g.index_axis(ndarray::Axis(0), 3).iter().all(|&t| t == 0.0));
    let mut lap = Array1::zeros(69);
    f.laplacian_into(x.view(), lap.view_mut(), &mut ws);
    let h = 1e-4;
    let mut lap_fd = Array1::<f64>::zeros(69);
    let phi0 = values(&f, &x);
    for i in 0..3 * 30 {
        let (mut xp, mut xm) = (x.clone(), x.clone());
        xp.as_slice_mut().unwrap()[i] += h;
        xm.as_slice_mut().unwrap()[i] -= h;
        let (pp, pm) = (values(&f, &xp), values(&f, &xm));
        let fd = (pp.dot(&v) - pm.dot(&v)) / (2.0 * h);
        let gi = g.as_slice().unwrap()[i];
        assert!(
            (fd - gi).abs() < 1e-6 * gi.abs().max(1.0),
            "entry {i}: {fd} vs {gi}"
        );
        lap_fd = lap_fd + (&pp - 2.0 * &phi0 + &pm) / (h * h);
    }
    for k in 0..69 {
        assert!(
            (lap_fd[k] - lap[k]).abs() < 1e-3 * lap[k].abs().max(1.0),
            "feature {k}"
        );
    }
    assert!(ChannelCouplings::window(&[2, 5, 6], vec![false, false], 1).is_err());
    assert!(ChannelCouplings::window(&[2, 5, 6], vec![true], 1).is_err());
    assert!(ChannelCouplings::window(&[2, 5, 6], vec![true, false], 3).is_err());
    assert!(ChannelCouplings::window(&[5], vec![true; 5], 1).is_err());
}

/// y = A x with a dense random A; entries of x with `free[i] == false` are held fixed.
struct DenseMap {
    a: ndarray::Array2<f64>,
    free: Vec<bool>,
    input: Vec<usize>,
    output: Vec<usize>,
}

impl wcrg_core::LinearMap for DenseMap {
    fn input_shape(&self) -> &[usize] {
        &self.input
    }
    fn output_shape(&self) -> &[usize] {
        &self.output
    }
    fn apply(
        &self,
        x: ndarray::ArrayViewD<'_, f64>,
        mut y: ndarray::ArrayViewMutD<'_, f64>,
        _: &mut Workspace,
    ) {
        let xv: Vec<f64> = x.iter().copied().collect();
        for (u, yu) in y.iter_mut().enumerate() {
            *yu = (0..xv.len()).map(|i| self.a[[u, i]] * xv[i]).sum();
        }
    }
    fn adjoint_free(
        &self,
        v: ndarray::ArrayViewD<'_, f64>,
        mut out: ndarray::ArrayViewMutD<'_, f64>,
        _: &mut Workspace,
    ) {
        let vv: Vec<f64> = v.iter().copied().collect();
        for (i, o) in out.iter_mut().enumerate() {
            *o = if self.free[i] {
                (0..vv.len()).map(|u| self.a[[u, i]] * vv[u]).sum()
            } else {
                0.0
            };
        }
    }
    fn free_gram_diagonal(&self) -> ArrayD<f64> {
        let d: Vec<f64> = (0..self.a.nrows())
            .map(|u| {
                (0..self.a.ncols())
                    .filter(|&i| self.free[i])
                    .map(|i| self.a[[u, i]].powi(2))
                    .sum()
            })
            .collect();
        ArrayD::from_shape_vec(IxDyn(&self.output), d).unwrap()
    }
}

#[test]
fn image_potential_derivatives_follow_the_free_variables() {
    use std::sync::Arc;
    use wcrg_energy_models::features::ImagePotential;
    let a = normal(&[12, 18], 50)
        .into_dimensionality::<ndarray::Ix2>()
        .unwrap()
        * 0.3;
    let free: Vec<bool> = (0..18).map(|i| i % 3 != 0).collect();
    let map = Arc::new(DenseMap {
        a,
        free: free.clone(),
        input: vec![2, 9],
        output: vec![3, 4],
    });
    let f = ImagePotential::new(map, Basis::Powers(vec![2, 3, 4])).unwrap();
    let x = normal(&[2, 9], 51);
    let mut ws = Workspace::new();
    let v = Array1::from(vec![0.7, -0.2, 0.4]);
    let mut g = ArrayD::zeros(IxDyn(&[2, 9]));
    f.pullback_into(x.view(), v.view(), g.view_mut(), &mut ws);
    let mut lap = Array1::zeros(3);
    f.laplacian_into(x.view(), lap.view_mut(), &mut ws);
    let h = 1e-4;
    let phi0 = values(&f, &x);
    let mut lap_fd = Array1::<f64>::zeros(3);
    for (i, &is_free) in free.iter().enumerate() {
        let gi = g.as_slice().unwrap()[i];
        if !is_free {
            assert_eq!(gi, 0.0, "fixed entry {i}");
            continue;
        }
        let (mut xp, mut xm) = (x.clone(), x.clone());
        xp.as_slice_mut().unwrap()[i] += h;
        xm.as_slice_mut().unwrap()[i] -= h;
        let (pp, pm) = (values(&f, &xp), values(&f, &xm));
        let fd = (pp.dot(&v) - pm.dot(&v)) / (2.0 * h);
        assert!(
            (fd - gi).abs() < 1e-6 * gi.abs().max(1.0),
            "entry {i}: {fd} vs {gi}"
        );
        lap_fd = lap_fd + (&pp - 2.0 * &phi0 + &pm) / (h * h);
    }
    for k in 0..3 {
        assert!(
            (lap_fd[k] - lap[k]).abs() < 1e-4 * lap[k].abs().max(1.0),
            "feature {k}: {} vs {}",
            lap_fd[k],
            lap[k]
        );
    }
    // The dense Jacobian block agrees with pullbacks of unit vectors.
    match &f.jacobian_blocks(x.view(), &mut ws)[0] {
        wcrg_core::JacobianBlock::Dense(rows) => {
            let dense = wcrg_core::dense_jacobian(&f, x.view(), &mut ws);
            assert!((rows - &dense).iter().all(|d| d.abs() < 1e-12));
        }
        other => panic!("expected a dense block, got {other:?}"),
    }
}

#[test]
fn neighbour_differences_are_a_linear_map_with_its_adjoint_and_give_two_site_potentials() {
    use std::sync::Arc;
    use wcrg_core::LinearMap;
    use wcrg_energy_models::features::{ImagePotential, NeighbourDifferences};
    let mut ws = Workspace::new();
    for shape in [vec![7], vec![5, 4], vec![3, 2, 4]] {
        let a = NeighbourDifferences::new(&shape).unwrap();
        let mut out_shape = vec![shape.len()];
        out_shape.extend_from_slice(&shape);
        assert_eq!(a.output_shape(), out_shape.as_slice());
        let x = normal(&shape, 3);
        let v = normal(&out_shape, 4);
        let mut y = ArrayD::zeros(IxDyn(&out_shape));
        a.apply(x.view(), y.view_mut(), &mut ws);
        // Against the definition, entry by entry.
        let d = shape.len();
        for (idx, &yv) in y.indexed_iter() {
            let ax = idx[0];
            let u: Vec<usize> = (1..=d).map(|k| idx[k]).collect();
            let mut up = u.clone();
            up[ax] = (up[ax] + 1) % shape[ax];
            let want = x[IxDyn(&up)] - x[IxDyn(&u)];
            assert!((yv - want).abs() < 1e-15, "{shape:?} {idx:?}");
        }
        // <Ax, v> = <x, Aᵀv>.
        let mut atv = ArrayD::zeros(IxDyn(&shape));
        a.adjoint_free(v.view(), atv.view_mut(), &mut ws);
        let lhs: f64 = y.iter().zip(&v).map(|(p, q)| p * q).sum();
        let rhs: f64 = x.iter().zip(&atv).map(|(p, q)| p * q).sum();
        assert!(
            (lhs - rhs).abs() < 1e-12 * lhs.abs().max(1.0),
            "{lhs} vs {rhs}"
        );
        // The Gram diagonal (A Aᵀ)_uu from A applied to unit vectors: every output entry is a
        // difference of two distinct sites.
        let mut gram = ArrayD::<f64>::zeros(IxDyn(&out_shape));
        for i in 0..x.len() {
            let mut e = ArrayD::zeros(IxDyn(&shape));
            e.as_slice_mut().unwrap()[i] = 1.0;
            let mut ae = ArrayD::zeros(IxDyn(&out_shape));
            a.apply(e.view(), ae.view_mut(), &mut ws);
            gram.zip_mut_with(&ae, |g, &c| *g += c * c);
        }
        assert_eq!(gram, a.free_gram_diagonal());
        // A two-site potential: derivatives and Laplacian against finite differences.
        let f = ImagePotential::new(
            Arc::new(a),
            Basis::Bumps {
                centres: vec![-1.0, 0.0, 1.5],
                width: 0.8,
            },
        )
        .unwrap();
        check_derivatives(&f, &x, 5);
    }
    assert!(NeighbourDifferences::new(&[4, 1]).is_err());
    assert!(NeighbourDifferences::new(&[]).is_err());
    assert!(NeighbourDifferences::new(&[2, 2, 2, 2]).is_err());
}

#[test]
fn modulated_stiffness_matches_naive_sums_and_differentiates_free_channels_only() {
    use wcrg_energy_models::features::{ModulatedStiffness, Modulator};
    let (ny, nx) = (5, 6);
    let basis = Basis::Bumps {
        centres: vec![-1.0, 0.0, 1.0],
        width: 0.8,
    };
    let mods = vec![
        Modulator::value(3, 2, basis.clone()),
        Modulator::central_difference(3, 2, 0, Basis::Powers(vec![2])),
        Modulator::central_difference(3, 2, 1, basis.clone()).clamped([-0.5, 0.5]),
    ];
    let f =
        ModulatedStiffness::new(&[4, ny, nx], vec![true, true, true, false], mods.clone()).unwrap();
    // 3 free channels × (3 + 1 + 3) basis functions.
    assert_eq!(f.len(), 21);
    assert_eq!(f.names().len(), 21);
    let x = normal(&[4, ny, nx], 31);
    let g_naive = |m: usize, i: usize, j: usize| -> f64 {
        let at = |di: isize, dj: isize| {
            x[[
                3,
                (i as isize + di).rem_euclid(ny as isize) as usize,
                (j as isize + dj).rem_euclid(nx as isize) as usize,
            ]]
        };
        match m {
            0 => at(0, 0),
            1 => 0.5 * (at(1, 0) - at(-1, 0)),
            _ => (0.5 * (at(0, 1) - at(0, -1))).clamp(-0.5, 0.5),
        }
    };
    // The modulations themselves (clamped where the modulator is).
    let g = f.modulations(x.view());
    for (m, plane) in g.iter().enumerate() {
        for i in 0..ny {
            for j in 0..nx {
                assert!(
                    (plane[i * nx + j] - g_naive(m, i, j)).abs() < 1e-12,
                    "g_{m}"
                );
            }
        }
    }
    // Values against the naive sum, in feature order (channel, modulator, basis function).
    let phi = values(&f, &x);
    let mut a = 0;
    for c in 0..3 {
        for (m, md) in mods.iter().enumerate() {
            for k in 0..md.basis.len() {
                let mut naive = 0.0;
                for i in 0..ny {
                    for j in 0..nx {
                        naive += 0.5 * x[[c, i, j]].powi(2) * md.basis.eval(k, g_naive(m, i, j)).0;
                    }
                }
                assert!((phi[a] - naive).abs() < 1e-12, "feature {a}");
                a += 1;
            }
        }
    }
    // Pullback, Laplacian and the Jacobian rows on the free entries.
    let mut ws = Workspace::new();
    let theta = normal(&[21], 32)
        .into_dimensionality::<ndarray::Ix1>()
        .unwrap();
    let mut g = ArrayD::zeros(IxDyn(&[4, ny, nx]));
    f.pullback_into(x.view(), theta.view(), g.view_mut(), &mut ws);
    assert!(g.index_axis(ndarray::Axis(0), 3).iter().all(|&t| t == 0.0));
    let mut lap = Array1::zeros(21);
    f.laplacian_into(x.view(), lap.view_mut(), &mut ws);
    let h = 1e-4;
    let phi0 = values(&f, &x);
    let mut lap_fd = Array1::<f64>::zeros(21);
    for i in 0..3 * ny * nx {
        let (mut xp, mut xm) = (x.clone(), x.clone());
        xp.as_slice_mut().unwrap()[i] += h;
        xm.as_slice_mut().unwrap()[i] -= h;
        let (pp, pm) = (values(&f, &xp), values(&f, &xm));
        let fd = (pp.dot(&theta) - pm.dot(&theta)) / (2.0 * h);
        let gi = g.as_slice().unwrap()[i];
        assert!((fd - gi).abs() < 1e-6 * gi.abs().max(1.0), "entry {i}");
        lap_fd = lap_fd + (&pp - 2.0 * &phi0 + &pm) / (h * h);
    }
    for k in 0..21 {
        assert!((lap_fd[k] - lap[k]).abs() < 1e-3 * lap[k].abs().max(1.0));
    }
    let dense = wcrg_core::dense_jacobian(&f, x.view(), &mut ws);
    match &f.jacobian_blocks(x.view(), &mut ws)[..] {
        [wcrg_core::JacobianBlock::Dense(rows)] => {
            assert!(rows.iter().zip(&dense).all(|(a, b)| (a - b).abs() < 1e-14))
        }
        other => panic!("expected one dense block, got {other:?}"),
    }
    // θᵀΦ = ½ Σ κ x² with the reported stiffnesses, and the conditioning gradient against
    // central differences on the conditioning channel.
    let kappa = f.stiffness(x.view(), theta.as_slice().unwrap());
    let quad: f64 = x
        .iter()
        .take(3 * ny * nx)
        .zip(&kappa)
        .map(|(v, k)| 0.5 * k * v * v)
        .sum();
    assert!((quad - phi0.dot(&theta)).abs() < 1e-10 * quad.abs().max(1.0));
    let mut gcond = ArrayD::zeros(IxDyn(&[4, ny, nx]));
    f.add_conditioning_gradient(x.view(), theta.as_slice().unwrap(), gcond.view_mut());
    assert!(gcond.iter().take(3 * ny * nx).all(|&t| t == 0.0));
    for i in 3 * ny * nx..4 * ny * nx {
        let (mut xp, mut xm) = (x.clone(), x.clone());
        xp.as_slice_mut().unwrap()[i] += h;
        xm.as_slice_mut().unwrap()[i] -= h;
        let fd = (values(&f, &xp).dot(&theta) - values(&f, &xm).dot(&theta)) / (2.0 * h);
        let gi = gcond.as_slice().unwrap()[i];
        assert!(
            (fd - gi).abs() < 1e-6 * gi.abs().max(1.0),
            "entry {i}: {fd} vs {gi}"
        );
    }
    // Bad input: no modulator, or one that reads a free channel, has shifts of the wrong
    // length, an inverted clamp, a NaN weight or an empty basis; no free channel.
    let free = vec![true, true, true, false];
    assert!(ModulatedStiffness::new(&[4, ny, nx], free.clone(), vec![]).is_err());
    let mut nan = Modulator::value(3, 2, basis.clone());
    nan.stencil[0].1 = f64::NAN;
    for (why, bad) in [
        ("free channel", Modulator::value(0, 2, basis.clone())),
        ("shift length", Modulator::value(3, 1, basis.clone())),
        (
            "inverted clamp",
            Modulator::value(3, 2, basis.clone()).clamped([1.0, -1.0]),
        ),
        ("NaN weight", nan),
        ("empty basis", Modulator::value(3, 2, Basis::Powers(vec![]))),
    ] {
        assert!(
            ModulatedStiffness::new(&[4, ny, nx], free.clone(), vec![bad]).is_err(),
            "{why}"
        );
    }
    let ok = vec![Modulator::value(3, 2, basis.clone())];
    assert!(ModulatedStiffness::new(&[4, ny, nx], vec![false; 4], ok).is_err());
}

/// A test map from a `(2, m, m)` stack to a `(2m, 2m)` field, $y(2u + o) \mathrel{+}=
/// \sum_c h_c(o)\,x_c(u)$ over offsets $o \in \{0, 1, 2\}^2$ (periodic), with channel 1 fixed:
/// equivariant under shifts of the output by two sites, like the RG's reconstruction.
struct Upsample {
    m: usize,
    input: Vec<usize>,
    output: Vec<usize>,
    h: [[[f64; 3]; 3]; 2],
}

impl Upsample {
    fn new(m: usize) -> Self {
        let mut h = [[[0.0; 3]; 3]; 2];
        for (k, v) in h.iter_mut().flatten().flatten().enumerate() {
            *v = ((k * 7 + 3) % 11) as f64 / 5.0 - 1.0;
        }
        Self {
            m,
            input: vec![2, m, m],
            output: vec![2 * m, 2 * m],
            h,
        }
    }
}

impl wcrg_core::LinearMap for Upsample {
    fn input_shape(&self) -> &[usize] {
        &self.input
    }
    fn output_shape(&self) -> &[usize] {
        &self.output
    }
    fn apply(
        &self,
        x: ndarray::ArrayViewD<'_, f64>,
        mut y: ndarray::ArrayViewMutD<'_, f64>,
        _ws: &mut Workspace,
    ) {
        let n = 2 * self.m;
        y.fill(0.0);
        for c in 0..2 {
            for uy in 0..self.m {
                for ux in 0..self.m {
                    for oy in 0..3 {
                        for ox in 0..3 {
                            y[[(2 * uy + oy) % n, (2 * ux + ox) % n]] +=
                                self.h[c][oy][ox] * x[[c, uy, ux]];
                        }
                    }
                }
            }
        }
    }
    fn adjoint_free(
        &self,
        v: ndarray::ArrayViewD<'_, f64>,
        mut out: ndarray::ArrayViewMutD<'_, f64>,
        _ws: &mut Workspace,
    ) {
        let n = 2 * self.m;
        out.fill(0.0);
        for uy in 0..self.m {
            for ux in 0..self.m {
                for oy in 0..3 {
                    for ox in 0..3 {
                        out[[0, uy, ux]] +=
                            self.h[0][oy][ox] * v[[(2 * uy + oy) % n, (2 * ux + ox) % n]];
                    }
                }
            }
        }
    }
    fn free_gram_diagonal(&self) -> ArrayD<f64> {
        unreachable!("not used by the composition")
    }
}

#[test]
fn composed_maps_have_the_dense_gram_diagonal_and_reject_fixed_outer_entries() {
    use std::sync::Arc;
    use wcrg_core::LinearMap;
    use wcrg_energy_models::features::{Composed, ImagePotential, NeighbourDifferences};
    let mut ws = Workspace::new();
    let m = 3;
    let inner = Arc::new(Upsample::new(m));
    let outer = Arc::new(NeighbourDifferences::new(&[2 * m, 2 * m]).unwrap());
    let full = Composed::new(outer.clone(), inner.clone()).unwrap();
    let tiled = Composed::periodic(outer.clone(), inner.clone(), &[2, 2]).unwrap();
    assert_eq!(full.output_shape(), &[2, 2 * m, 2 * m]);
    // The dense matrix of the free part, column by column (unit vectors on channel 0).
    let out_n = 2 * 4 * m * m;
    let mut gram = vec![0.0; out_n];
    for i in 0..m * m {
        let mut e = ArrayD::zeros(IxDyn(&[2, m, m]));
        e[[0, i / m, i % m]] = 1.0;
        let mut col = ArrayD::zeros(IxDyn(&[2, 2 * m, 2 * m]));
        full.apply(e.view(), col.view_mut(), &mut ws);
        for (g, c) in gram.iter_mut().zip(col.iter()) {
            *g += c * c;
        }
    }
    for (name, map) in [("probed", &full), ("tiled", &tiled)] {
        let d = map.free_gram_diagonal();
        let err = d
            .iter()
            .zip(&gram)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(err < 1e-12, "{name}: Gram diagonal off by {err}");
    }
    // The Gram diagonal is not constant: tiling with a period of one site is refused.
    assert!(gram.iter().any(|&g| (g - gram[0]).abs() > 1e-6));
    assert!(Composed::periodic(outer.clone(), inner.clone(), &[1, 1]).is_err());
    assert!(Composed::periodic(outer.clone(), inner.clone(), &[4, 4]).is_err());
    assert!(Composed::periodic(outer.clone(), inner.clone(), &[2, 2, 2, 2]).is_err());
    // A two-site potential on the image: its Laplacian over the free entries against second
    // differences, its pullback against first differences (and zero on the fixed channel).
    let f = ImagePotential::new(
        Arc::new(tiled),
        Basis::Bumps {
            centres: vec![-1.0, 0.0, 1.5],
            width: 0.8,
        },
    )
    .unwrap();
    let x = normal(&[2, m, m], 8);
    let v = normal(&[f.len()], 9)
        .into_dimensionality::<ndarray::Ix1>()
        .unwrap();
    let mut g = ArrayD::zeros(IxDyn(&[2, m, m]));
    f.pullback_into(x.view(), v.view(), g.view_mut(), &mut ws);
    let mut lap = Array1::zeros(f.len());
    f.laplacian_into(x.view(), lap.view_mut(), &mut ws);
    let (h, phi0) = (1e-4, values(&f, &x));
    let mut lap_fd = Array1::<f64>::zeros(f.len());
    for i in 0..x.len() {
        let (mut xp, mut xm) = (x.clone(), x.clone());
        xp.as_slice_mut().unwrap()[i] += h;
        xm.as_slice_mut().unwrap()[i] -= h;
        let (pp, pm) = (values(&f, &xp), values(&f, &xm));
        let gi = g.as_slice().unwrap()[i];
        if i < m * m {
            let fd = (pp.dot(&v) - pm.dot(&v)) / (2.0 * h);
            assert!(
                (fd - gi).abs() < 1e-6 * gi.abs().max(1.0),
                "{i}: {fd} vs {gi}"
            );
            lap_fd = lap_fd + (&pp - 2.0 * &phi0 + &pm) / (h * h);
        } else {
            assert_eq!(gi, 0.0);
        }
    }
    for k in 0..f.len() {
        assert!(
            (lap_fd[k] - lap[k]).abs() < 1e-3 * lap[k].abs().max(1.0),
            "feature {k}: {} vs {}",
            lap_fd[k],
            lap[k]
        );
    }
    // The outer map must have every input free: composing after a map with a fixed channel is
    // refused, as is a shape mismatch.
    let diffs = Arc::new(NeighbourDifferences::new(&[m, m]).unwrap());
    assert!(Composed::new(inner.clone(), diffs).is_err());
    assert!(Composed::new(outer, Arc::new(Upsample::new(m + 1))).is_err());
}

/// `Basis::eval` against the formulas evaluated naively, near the centres and far in the
/// tails, where `exp` underflows or overflows: the same values (a zero's sign aside).
#[test]
fn basis_eval_matches_the_naive_formulas_in_the_tails() {
    let (c, w) = (0.3, 0.05);
    let bumps = Basis::Bumps {
        centres: vec![c],
        width: w,
    };
    let sigmoids = Basis::Sigmoids {
        centres: vec![c],
        width: w,
    };
    let naive_bump = |t: f64| {
        let z = (t - c) / w;
        let e = (-0.5 * z * z).exp();
        (e, -z / w * e, (z * z - 1.0) / (w * w) * e)
    };
    let naive_sigmoid = |t: f64| {
        let s = 1.0 / (1.0 + (-(t - c) / w).exp());
        let d1 = s * (1.0 - s) / w;
        (s, d1, d1 * (1.0 - 2.0 * s) / w)
    };
    let mut ts: Vec<f64> = (-400..=400).map(|i| c + f64::from(i) * 0.01).collect();
    // Around the cut-offs: 0.5 z² = 746 for the bumps, |z| = 710 and 746 for the sigmoids.
    for z in [
        38.6, 38.62, 38.63, 38.7, 709.0, 710.0, 710.5, 745.5, 746.0, 746.5, 1e4,
    ] {
        ts.extend([c + z * w, c - z * w]);
    }
    let same = |a: f64, b: f64| a == b || (a - b).abs() <= 1e-15 * b.abs();
    for &t in &ts {
        for (got, want) in [
            (bumps.eval(0, t), naive_bump(t)),
            (sigmoids.eval(0, t), naive_sigmoid(t)),
        ] {
            assert!(
                same(got.0, want.0) && same(got.1, want.1) && same(got.2, want.2),
                "t = {t}: {got:?} against {want:?}"
            );
        }
    }
}

/// The walls of [`Basis::BumpsWithWalls`] against their formulas, their derivatives against
/// central differences, the bumps against [`Basis::Bumps`]; a basis without centres or with
/// centres out of order is an error.
#[test]
fn walls_match_their_formulas_and_derivatives() {
    let (centres, w) = (vec![-0.7, 0.1, 0.9], 0.4);
    let walled = Basis::BumpsWithWalls {
        centres: centres.clone(),
        width: w,
    };
    let bumps = Basis::Bumps {
        centres: centres.clone(),
        width: w,
    };
    assert_eq!(walled.len(), 5);
    let naive = |k: usize, t: f64| -> f64 {
        match k {
            3 => ((-0.7 - t) / w).max(0.0).powi(2),
            4 => ((t - 0.9) / w).max(0.0).powi(2),
            _ => unreachable!(),
        }
    };
    let h = 1e-5;
    for i in -300..=300 {
        let t = f64::from(i) * 0.01 + 0.005;
        for k in 0..3 {
            assert_eq!(walled.eval(k, t), bumps.eval(k, t), "bump {k} at {t}");
        }
        for k in 3..5 {
            let (v, d1, d2) = walled.eval(k, t);
            assert!((v - naive(k, t)).abs() <= 1e-14, "wall {k} at {t}: {v}");
            let fd1 = (naive(k, t + h) - naive(k, t - h)) / (2.0 * h);
            assert!(
                (d1 - fd1).abs() <= 1e-6,
                "wall {k} slope at {t}: {d1} vs {fd1}"
            );
            let fd2 = (walled.eval(k, t + h).1 - walled.eval(k, t - h).1) / (2.0 * h);
            assert!(
                (d2 - fd2).abs() <= 1e-6,
                "wall {k} curvature at {t}: {d2} vs {fd2}"
            );
        }
    }
    // Inside the outer centres both walls vanish; far out they grow quadratically.
    assert_eq!(walled.eval(3, 0.0), (0.0, 0.0, 0.0));
    assert_eq!(walled.eval(4, 0.0), (0.0, 0.0, 0.0));
    assert!((walled.eval(4, 0.9 + 10.0 * w).0 - 100.0).abs() < 1e-12);
    let empty = Basis::BumpsWithWalls {
        centres: vec![],
        width: w,
    };
    assert!(ScalarPotential::new(&[4], empty).is_err());
    let unsorted = Basis::BumpsWithWalls {
        centres: vec![0.9, 0.1, -0.7],
        width: w,
    };
    assert!(ScalarPotential::new(&[4], unsorted).is_err());
}

/// The hot-path contract (`wcrg_core`): a buffer of the wrong shape is a panic naming the
/// expected and the actual shape. Each block is given a field of as many values as its own in
/// another shape (which a flat loop would have read as its own), an output and a weight vector
/// one entry too long (which a zipped loop would have filled or read in part, silently), to
/// `values_into`, `laplacian_into` and `pullback_into`. Before the checks, four of the six
/// blocks accepted some of these: the quadratic and channel couplings' Laplacians ignored the
/// field, and the potentials, channel couplings, stiffness and `Concat` did not check the
/// lengths of outputs and weights.
#[test]
fn every_block_names_both_shapes_on_a_wrong_buffer() {
    use wcrg_core::validate::assert_panics_naming_shapes;
    use wcrg_energy_models::features::{
        ChannelCouplings, ImagePotential, ModulatedStiffness, Modulator, NeighbourDifferences,
    };
    let bumps = Basis::Bumps {
        centres: vec![-2.0, 0.0, 2.0],
        width: 1.0,
    };
    let free = vec![true, true, true, false];
    let (m, c) = (&[6usize, 6][..], &[4usize, 6, 6][..]);
    let blocks: Vec<(Box<dyn FeatureLaplacian>, Vec<usize>)> = vec![
        (
            Box::new(QuadraticCouplings::window(m, 1).unwrap()),
            vec![4, 9],
        ),
        (
            Box::new(ScalarPotential::new(m, bumps.clone()).unwrap()),
            vec![9, 4],
        ),
        (
            Box::new(ChannelCouplings::window(c, free.clone(), 1).unwrap()),
            vec![4, 4, 9],
        ),
        (
            Box::new(
                ImagePotential::new(
                    std::sync::Arc::new(NeighbourDifferences::new(m).unwrap()),
                    bumps.clone(),
                )
                .unwrap(),
            ),
            vec![3, 12],
        ),
        (
            Box::new(
                ModulatedStiffness::new(c, free, vec![Modulator::value(3, 2, bumps.clone())])
                    .unwrap(),
            ),
            vec![2, 8, 9],
        ),
        (
            Box::new(
                Concat::new(vec![
                    Box::new(QuadraticCouplings::window(m, 1).unwrap()),
                    Box::new(ScalarPotential::new(m, bumps).unwrap()),
                ])
                .unwrap(),
            ),
            vec![36],
        ),
    ];
    let mut ws = Workspace::new();
    for (k, (f, bad)) in blocks.iter().enumerate() {
        let (shape, n) = (f.field_shape().to_vec(), f.len());
        assert_eq!(
            bad.iter().product::<usize>(),
            shape.iter().product::<usize>()
        );
        let (x, wrong) = (normal(&shape, 1), normal(bad, 2));
        let (v, long_v) = (Array1::from_elem(n, 0.5), Array1::from_elem(n + 1, 0.5));
        let (mut out, mut long) = (Array1::zeros(n), Array1::zeros(n + 1));
        let (mut g, mut g_bad) = (ArrayD::zeros(IxDyn(&shape)), ArrayD::zeros(IxDyn(bad)));
        let ctx = |call: &str| format!("block {k}: {call}");
        assert_panics_naming_shapes(&ctx("values"), &shape, bad, || {
            f.values_into(wrong.view(), out.view_mut(), &mut ws)
        });
        assert_panics_naming_shapes(&ctx("laplacian"), &shape, bad, || {
            f.laplacian_into(wrong.view(), out.view_mut(), &mut ws)
        });
        assert_panics_naming_shapes(&ctx("pullback"), &shape, bad, || {
            f.pullback_into(wrong.view(), v.view(), g.view_mut(), &mut ws)
        });
        assert_panics_naming_shapes(&ctx("pullback output"), &shape, bad, || {
            f.pullback_into(x.view(), v.view(), g_bad.view_mut(), &mut ws)
        });
        assert_panics_naming_shapes(&ctx("values output"), &[n], &[n + 1], || {
            f.values_into(x.view(), long.view_mut(), &mut ws)
        });
        assert_panics_naming_shapes(&ctx("laplacian output"), &[n], &[n + 1], || {
            f.laplacian_into(x.view(), long.view_mut(), &mut ws)
        });
        assert_panics_naming_shapes(&ctx("pullback weights"), &[n], &[n + 1], || {
            f.pullback_into(x.view(), long_v.view(), g.view_mut(), &mut ws)
        });
    }
}
