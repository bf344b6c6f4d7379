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
use wcrg::core::{FeatureLaplacian, Features, Workspace};
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
        _: ArrayViewD<'_, f64>,
        mut out: ArrayViewMut1<'_, f64>,
        _: &mut Workspace,
    ) {
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
