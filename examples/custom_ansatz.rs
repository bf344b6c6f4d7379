//! Bring your own ansatz: a feature block written against the public traits only, fitted by
//! score matching next to the library's blocks, then sampled as an energy.
//!
//! ```text
//! cargo run --release --example custom_ansatz
//! ```
//!
//! The block is the kinetic term $\Phi_{\rm kin} = \frac12\sum_u\sum_\mu (x(u+e_\mu) - x(u))^2$.
//! With the potential features $\sum x^2$, $\sum x^4$, the φ⁴ energy
//! $U = \beta\Phi_{\rm kin} + \lambda\sum(x^2-1)^2$ has parameters $(\beta, -2\lambda, \lambda)$,
//! which score matching recovers from ground-truth samples.

use wcrg::core::ndarray::{ArrayD, ArrayView1, ArrayViewD, ArrayViewMut1, ArrayViewMutD, IxDyn};
use wcrg::core::{FeatureLaplacian, Features, Workspace, validate};
use wcrg::energy_models::LinearEnergy;
use wcrg::energy_models::features::{Basis, Concat, ScalarPotential};
use wcrg::estimators::ScoreMatching;
use wcrg::samplers::diagnostics::MeanEstimate;
use wcrg::samplers::observables::magnetisation;
use wcrg::samplers::{Mala, Phi4GroundTruth, RunConfig, run_chains_adapted};

/// $\frac12\sum_u\sum_\mu (x(u+e_\mu) - x(u))^2$ on a periodic 2-D lattice.
struct Kinetic {
    shape: Vec<usize>,
}

impl Kinetic {
    fn neighbours(&self, i: usize, j: usize) -> [(usize, usize); 4] {
        let (a, b) = (self.shape[0], self.shape[1]);
        [
            ((i + 1) % a, j),
            ((i + a - 1) % a, j),
            (i, (j + 1) % b),
            (i, (j + b - 1) % b),
        ]
    }
}

impl Features for Kinetic {
    fn field_shape(&self) -> &[usize] {
        &self.shape
    }
    fn len(&self) -> usize {
        1
    }
    fn names(&self) -> Vec<String> {
        vec!["1/2 sum |grad x|^2".into()]
    }
    fn values_into(
        &self,
        x: ArrayViewD<'_, f64>,
        mut out: ArrayViewMut1<'_, f64>,
        _: &mut Workspace,
    ) {
        // The hot-path contract: a wrong buffer is a panic naming both shapes.
        validate::assert_shape("kinetic field", &self.shape, x.shape());
        validate::assert_shape("kinetic output", &[1], out.shape());
        let mut k = 0.0;
        for i in 0..self.shape[0] {
            for j in 0..self.shape[1] {
                let [f0, _, f1, _] = self.neighbours(i, j);
                k += (x[[f0.0, f0.1]] - x[[i, j]]).powi(2) + (x[[f1.0, f1.1]] - x[[i, j]]).powi(2);
            }
        }
        out[0] = 0.5 * k;
    }
    fn pullback_into(
        &self,
        x: ArrayViewD<'_, f64>,
        v: ArrayView1<'_, f64>,
        mut out: ArrayViewMutD<'_, f64>,
        _: &mut Workspace,
    ) {
        validate::assert_shape("kinetic field", &self.shape, x.shape());
        validate::assert_shape("kinetic pullback", &self.shape, out.shape());
        validate::assert_shape("kinetic weights", &[1], v.shape());
        for i in 0..self.shape[0] {
            for j in 0..self.shape[1] {
                let lap: f64 = self
                    .neighbours(i, j)
                    .iter()
                    .map(|&(a, b)| x[[i, j]] - x[[a, b]])
                    .sum();
                out[[i, j]] = v[0] * lap;
            }
        }
    }
}

impl FeatureLaplacian for Kinetic {
    fn laplacian_into(
        &self,
        x: ArrayViewD<'_, f64>,
        mut out: ArrayViewMut1<'_, f64>,
        _: &mut Workspace,
    ) {
        validate::assert_shape("kinetic field", &self.shape, x.shape());
        validate::assert_shape("kinetic output", &[1], out.shape());
        // ∂²/∂x(u)² of ½Σ(∇x)² is 2d = 4 at every site.
        out[0] = 4.0 * (self.shape[0] * self.shape[1]) as f64;
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (l, beta) = (16, 0.8);
    eprintln!("ground truth: 1000 φ⁴ samples, L = {l}, β = {beta}, λ = 1");
    let truth = Phi4GroundTruth::new(l, beta)
        .samples(1000)
        .seed(1)
        .generate(None)?;
    let ansatz = Concat::new(vec![
        Box::new(Kinetic { shape: vec![l, l] }),
        Box::new(ScalarPotential::new(&[l, l], Basis::Powers(vec![2, 4]))?),
    ])?;
    let (fit, se) = ScoreMatching::default().fit_data(&ansatz, truth.samples.view())?;
    println!("{:<22} {:>9} {:>9} {:>7}", "feature", "θ", "± se", "exact");
    for (k, (name, exact)) in ansatz.names().iter().zip([beta, -2.0, 1.0]).enumerate() {
        println!(
            "{name:<22} {:>9.4} {:>9.4} {exact:>7.3}",
            fit.theta[k], se[k]
        );
    }
    println!(
        "condition number {:.1} (preconditioned {:.1})",
        fit.condition_number, fit.preconditioned_condition_number
    );

    // The fitted model is an energy: sample it and compare with the ground truth.
    let model = LinearEnergy::new(ansatz, fit.theta.clone())?;
    let cfg = RunConfig::default()
        .warmup(2000)
        .draws(4000)
        .thin(10)
        .seed(2);
    let inits = vec![ArrayD::zeros(IxDyn(&[l, l])); 4];
    let chains = run_chains_adapted(&Mala::new(&model, 0.05)?, inits, &cfg, None)?;
    let m2: Vec<Vec<f64>> = chains
        .iter()
        .map(|c| {
            c.draws
                .iter()
                .map(|d| magnetisation(d.view()).powi(2))
                .collect()
        })
        .collect();
    let generated = MeanEstimate::from_chains(&m2)?;
    let reference = MeanEstimate::from_chains(&[truth
        .samples
        .outer_iter()
        .map(|x| magnetisation(x).powi(2))
        .collect()])?;
    println!(
        "<m²>: learned model {:.4} ± {:.4}, ground truth {:.4} ± {:.4} (z = {:.1})",
        generated.mean,
        generated.mcse,
        reference.mean,
        reference.mcse,
        generated.z_against(&reference)
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use wcrg::core::ndarray::Array1;
    use wcrg::core::validate::assert_panics_naming_shapes as assert_names;

    /// The block against a naive second difference of its value, and its buffers checked: a
    /// 6 × 7 field would otherwise be read as its 6 × 6 corner.
    #[test]
    fn the_kinetic_block_differentiates_and_checks_its_buffers() {
        let k = Kinetic { shape: vec![6, 6] };
        let mut ws = Workspace::new();
        let x = ArrayD::from_shape_fn(IxDyn(&[6, 6]), |i| ((3 * i[0] + 5 * i[1]) % 7) as f64 - 3.0);
        let value = |x: &ArrayD<f64>, ws: &mut Workspace| {
            let mut out = Array1::zeros(1);
            k.values_into(x.view(), out.view_mut(), ws);
            out[0]
        };
        let mut g = ArrayD::zeros(IxDyn(&[6, 6]));
        k.pullback_into(x.view(), Array1::ones(1).view(), g.view_mut(), &mut ws);
        let mut lap = Array1::zeros(1);
        k.laplacian_into(x.view(), lap.view_mut(), &mut ws);
        let (h, mut lap_fd) = (0.5, 0.0);
        for u in 0..36 {
            let (mut p, mut m) = (x.clone(), x.clone());
            p.as_slice_mut().unwrap()[u] += h;
            m.as_slice_mut().unwrap()[u] -= h;
            let (vp, v0, vm) = (value(&p, &mut ws), value(&x, &mut ws), value(&m, &mut ws));
            // The value is quadratic: central differences are exact up to rounding.
            assert!(((vp - vm) / (2.0 * h) - g.as_slice().unwrap()[u]).abs() < 1e-9);
            lap_fd += (vp - 2.0 * v0 + vm) / (h * h);
        }
        assert!((lap_fd - lap[0]).abs() < 1e-9, "{lap_fd} vs {}", lap[0]);
        let wrong = ArrayD::zeros(IxDyn(&[6, 7]));
        let (mut out, mut long) = (Array1::zeros(1), Array1::zeros(2));
        let mut g_bad = ArrayD::zeros(IxDyn(&[6, 7]));
        assert_names("values", &[6, 6], &[6, 7], || {
            k.values_into(wrong.view(), out.view_mut(), &mut ws)
        });
        assert_names("values output", &[1], &[2], || {
            k.values_into(x.view(), long.view_mut(), &mut ws)
        });
        assert_names("laplacian", &[6, 6], &[6, 7], || {
            k.laplacian_into(wrong.view(), out.view_mut(), &mut ws)
        });
        assert_names("pullback output", &[6, 6], &[6, 7], || {
            k.pullback_into(x.view(), Array1::ones(1).view(), g_bad.view_mut(), &mut ws)
        });
        assert_names("pullback weights", &[1], &[2], || {
            k.pullback_into(x.view(), Array1::ones(2).view(), g.view_mut(), &mut ws)
        });
    }
}
