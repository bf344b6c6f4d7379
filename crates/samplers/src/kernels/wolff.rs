//! Wolff cluster moves of the embedded Ising spins of $\varphi^4$ (Brower–Tamayo).

use ndarray::{ArrayD, ArrayViewD};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use wcrg_core::{Energy, Error, Result, Sampler, StepInfo, Workspace};
use wcrg_energy_models::Phi4;

use crate::state::FieldState;

/// One Wolff cluster flip of the signs of $\varphi$ (Brower & Tamayo 1989).
///
/// Writing $\varphi(x) = \sigma(x)|\varphi(x)|$, the nearest-neighbour term of [`Phi4`] couples
/// the signs as an Ising model with bond strengths $\beta|\varphi(x)\varphi(y)|$, and the even
/// potential does not see them. A cluster is grown from a random site through neighbours of the
/// same sign with probability $1 - e^{-2\beta\varphi(x)\varphi(y)}$ and flipped; the move
/// satisfies detailed balance and is always accepted. Alone it is not ergodic (it never changes
/// $|\varphi|$): combine it with a local kernel ([`super::Cycle`]). It removes most of the
/// critical slowing down of local updates.
#[derive(Debug, Clone)]
pub struct Wolff {
    model: Phi4,
}

#[derive(Default)]
struct Scratch {
    in_cluster: Vec<bool>,
    stack: Vec<usize>,
    members: Vec<usize>,
}

impl Wolff {
    /// Cluster moves for `model`.
    ///
    /// # Errors
    /// When the model's potential is not even (the sign flip would change the energy).
    pub fn new(model: Phi4) -> Result<Self> {
        if !model.potential().is_even() {
            return Err(Error::InvalidParameter {
                name: "potential".into(),
                value: format!("{:?}", model.potential().coeffs()),
                reason: "cluster sign flips need an even potential V(-phi) = V(phi)".into(),
            });
        }
        Ok(Self { model })
    }
}

impl Sampler for Wolff {
    type State = FieldState;

    fn init(&self, x0: ArrayD<f64>, ws: &mut Workspace) -> Result<FieldState> {
        FieldState::new(&self.model, x0, ws)
    }

    fn step(&self, s: &mut FieldState, rng: &mut ChaCha8Rng, ws: &mut Workspace) -> StepInfo {
        let lat = self.model.lattice();
        let beta = self.model.beta();
        let n = lat.sites();
        let sc = ws.get::<Scratch>();
        sc.in_cluster.clear();
        sc.in_cluster.resize(n, false);
        sc.stack.clear();
        sc.members.clear();
        let x = s.x.as_slice_mut().expect("states are standard layout");
        let seed = rng.random_range(0..n);
        let positive = x[seed] > 0.0;
        sc.in_cluster[seed] = true;
        sc.stack.push(seed);
        while let Some(site) = sc.stack.pop() {
            sc.members.push(site);
            for mu in 0..lat.ndim() {
                for nb in [lat.forward(site, mu), lat.backward(site, mu)] {
                    if sc.in_cluster[nb] || (x[nb] > 0.0) != positive || x[nb] == 0.0 {
                        continue;
                    }
                    let p = 1.0 - (-2.0 * beta * x[site] * x[nb]).exp();
                    if rng.random::<f64>() < p {
                        sc.in_cluster[nb] = true;
                        sc.stack.push(nb);
                    }
                }
            }
        }
        for &m in &sc.members {
            x[m] = -x[m];
        }
        s.energy = self.model.energy(s.x.view(), ws);
        StepInfo {
            accepted: true,
            acceptance_probability: 1.0,
            divergent: false,
            energy: s.energy,
        }
    }

    fn position<'a>(&self, state: &'a FieldState) -> ArrayViewD<'a, f64> {
        state.x.view()
    }
}
