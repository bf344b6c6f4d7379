//! # wcrg-estimators: fitting linear energies $U_\theta = \theta^\top\Phi$
//!
//! ## The math
//!
//! **Score matching** (Hyvärinen 2005) minimises the Fisher divergence between the data and
//! $p_\theta \propto e^{-U_\theta}$, which after an integration by parts is
//! $$J(\theta) = \mathbb E_{\rm data}\big[\tfrac12\|\nabla_x U_\theta\|^2 - \Delta_x U_\theta\big]
//! = \tfrac12\theta^\top H\theta - \theta^\top b,\qquad H = \mathbb E[J_\Phi J_\Phi^\top],\quad b = \mathbb E[\Delta_x\Phi],$$
//! quadratic in $\theta$: $\hat\theta = H^{-1}b$, with no sampling and no partition function.
//! [`ScoreStats`] accumulates $H$ and $b$ (mergeable across data splits); [`ScoreMatching`]
//! solves with Jacobi preconditioning $P = D^{-1/2}HD^{-1/2}$ and Cholesky (faer), an optional
//! relative ridge, and reports condition numbers; [`ScoreFit::standard_errors`] gives sandwich
//! standard errors and [`ScoreFit::held_out_loss`] the loss on held-out data.
//!
//! ## Conventions
//!
//! $p \propto e^{-U}$, $U_\theta = \theta^\top\Phi$ with $\Phi$ a
//! [`wcrg_core::FeatureLaplacian`]; datasets are `(N, field…)` arrays; statistics are reduced in
//! a fixed order, so results are identical for any thread count. Bad data (empty, NaN/Inf, wrong
//! shape) and singular systems are errors, never panics.
//!
//! The Gram matrix is built from dense Jacobians ($K$ pullbacks per sample, $O(K^2 d)$): right
//! for models of up to a few hundred features on fields of a few thousand sites.
//!
//! ## Example
//!
//! ```
//! use rand::SeedableRng;
//! use wcrg_energy_models::{GaussianField, features::QuadraticCouplings};
//! use wcrg_estimators::ScoreMatching;
//!
//! // Exact samples of the lattice free field U = (m²/2) Σ x² + (β/2) Σ (∇x)², m² = 0.5, β = 1:
//! // in the features ½Σ x(u)x(u−s) its parameters are θ₀ = m² + 4β and θ_{e_μ} = −2β.
//! let field = GaussianField::free_field(&[8, 8], 0.5, 1.0)?;
//! let data = field.sample_batch(400, &mut rand_chacha::ChaCha8Rng::seed_from_u64(1));
//! let phi = QuadraticCouplings::new(&[8, 8], vec![vec![0, 0], vec![0, 1], vec![1, 0]])?;
//! let (fit, se) = ScoreMatching::default().fit_data(&phi, data.view())?;
//! for (k, exact) in [4.5, -2.0, -2.0].into_iter().enumerate() {
//!     assert!((fit.theta[k] - exact).abs() < 4.0 * se[k]);
//! }
//! # Ok::<(), wcrg_core::Error>(())
//! ```
#![deny(missing_docs)]

mod score_matching;

pub use score_matching::{ScoreFit, ScoreMatching, ScoreStats};
