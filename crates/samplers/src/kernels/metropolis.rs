//! Checkerboard single-site Metropolis.

use ndarray::{ArrayD, ArrayViewD};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use wcrg_core::rng::Streams;
use wcrg_core::{Error, LocalEnergy, Result, Sampler, StepInfo, Workspace};
use wcrg_energy_models::Lattice;

use super::Tunable;
use crate::state::{FieldState, positive};

/// Sites per unit of parallel work (whole rows of the lattice, at least this many sites).
const MIN_CHUNK: usize = 256;

/// One step is a sweep of single-site Metropolis moves $\varphi(x) \to \varphi(x) + \delta u$,
/// $u \sim \mathcal U(-1, 1)$, accepted with probability $\min(1, e^{-\Delta U})$, over the two
/// checkerboard colours in turn.
///
/// Sites of one colour do not interact for nearest-neighbour energies, so each colour is updated
/// in parallel over fixed chunks of rows; each chunk draws from its own stream
/// (`Streams::new(seed).rng(chunk)`, with `seed` drawn from the chain's generator), so a sweep is
/// bit-identical for any number of threads.
///
/// **Requirement.** The energy's change at a site may depend only on that site and its nearest
/// neighbours (true for [`wcrg_energy_models::Phi4`]); every lattice size must be even.
#[derive(Debug, Clone)]
pub struct CheckerboardMetropolis<E> {
    energy: E,
    width: f64,
    colour: Vec<u8>,
    chunk: usize,
}

#[derive(Default)]
struct Scratch {
    snapshot: Vec<f64>,
}

impl<E: LocalEnergy> CheckerboardMetropolis<E> {
    /// Metropolis with proposal half-width `width`.
    ///
    /// # Errors
    /// A width that is not finite and positive; a lattice with an odd size.
    pub fn new(energy: E, width: f64) -> Result<Self> {
        let shape = energy.shape().to_vec();
        if let Some(&s) = shape.iter().find(|&&s| s % 2 == 1) {
            return Err(Error::InvalidParameter {
                name: "lattice shape".into(),
                value: format!("{shape:?}"),
                reason: format!("checkerboard updates need even sizes (got {s})"),
            });
        }
        let lattice = Lattice::new(&shape)?;
        let colour = (0..lattice.sites())
            .map(|s| lattice.colour(s) as u8)
            .collect();
        let row: usize = shape[1..].iter().product();
        let chunk = row * MIN_CHUNK.div_ceil(row);
        Ok(Self {
            energy,
            width: positive("proposal width", width)?,
            colour,
            chunk,
        })
    }
}

impl<E: LocalEnergy> Sampler for CheckerboardMetropolis<E> {
    type State = FieldState;

    fn init(&self, x0: ArrayD<f64>, ws: &mut Workspace) -> Result<FieldState> {
        FieldState::new(&self.energy, x0, ws)
    }

    fn step(&self, s: &mut FieldState, rng: &mut ChaCha8Rng, ws: &mut Workspace) -> StepInfo {
        let mut snapshot = std::mem::take(&mut ws.get::<Scratch>().snapshot);
        let (mut alpha_sum, mut accepted) = (0.0, 0usize);
        for colour in 0..2u8 {
            let streams = Streams::new(rng.random());
            let x = s.x.as_slice_mut().expect("states are standard layout");
            snapshot.clear();
            snapshot.extend_from_slice(x);
            let snap = &snapshot[..];
            let per_chunk: Vec<(f64, usize)> = x
                .par_chunks_mut(self.chunk)
                .enumerate()
                .map(|(c, xs)| {
                    let mut r = streams.rng(c as u64);
                    let (mut a_sum, mut acc) = (0.0, 0usize);
                    for (k, v) in xs.iter_mut().enumerate() {
                        let site = c * self.chunk + k;
                        if self.colour[site] != colour {
                            continue;
                        }
                        let new = *v + self.width * (2.0 * r.random::<f64>() - 1.0);
                        let du = self.energy.local_energy_change_flat(snap, site, new);
                        // exp(min(−ΔU, 0)), without calling exp where it is 1.
                        let alpha = if du.is_nan() {
                            0.0
                        } else if du <= 0.0 {
                            1.0
                        } else {
                            (-du).exp()
                        };
                        a_sum += alpha;
                        if r.random::<f64>() < alpha {
                            *v = new;
                            acc += 1;
                        }
                    }
                    (a_sum, acc)
                })
                .collect();
            for (a, n) in per_chunk {
                alpha_sum += a;
                accepted += n;
            }
        }
        ws.get::<Scratch>().snapshot = snapshot;
        let u = self.energy.energy(s.x.view(), ws);
        let divergent = !u.is_finite();
        if !divergent {
            s.energy = u;
        }
        StepInfo {
            accepted: accepted > 0,
            acceptance_probability: alpha_sum / self.colour.len() as f64,
            divergent,
            energy: s.energy,
        }
    }

    fn position<'a>(&self, state: &'a FieldState) -> ArrayViewD<'a, f64> {
        state.x.view()
    }
}

impl<E: LocalEnergy + Clone> Tunable for CheckerboardMetropolis<E> {
    fn step_size(&self) -> f64 {
        self.width
    }
    fn with_step_size(&self, width: f64) -> Result<Self> {
        Ok(Self {
            width: positive("proposal width", width)?,
            ..self.clone()
        })
    }
}
