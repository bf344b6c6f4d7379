//! Sweeps of single-site Langevin moves on a conditional law $\bar E_j(\cdot \mid x_j)$.
//!
//! The conditional energy is a sum of local terms: couplings over a finite shift window and a
//! potential on $x_{j-1} = \gamma_j(G^\top x_j + \bar G^\top\bar x_j)$, where the three details
//! at one site $u$ move $x_{j-1}$ only on the wavelet's support around $2u$. A move of the
//! three details at one site therefore changes the energy by a local amount, computable in
//! $O(\text{window} + \text{support})$ operations, and a sweep over all sites costs a few full
//! gradients (about three at 64², radius-2 windows, db2: `cargo bench -p wcrg-rg`). Because each site's move is accepted or rejected on its own, the
//! step size and the number of sweeps a chain needs do not shrink with the lattice size, unlike
//! a global MALA move whose step must fall like $d^{-1/3}$.

use ndarray::{ArrayD, ArrayViewD, ArrayViewMutD, IxDyn};
use rand::RngExt;
use wcrg_core::{Sampler, StepInfo, Workspace};
use wcrg_samplers::Tunable;
use wcrg_wavelets::RgSplit;

use crate::couplings::Couplings;
use crate::energies::{Conditioned, for_each_edge, potential_at};
use crate::potential::Potential;

/// What a site move needs to know about a conditional energy, independent of the fields.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LocalTables {
    /// Free–free stencil by shift `(dy, dx, W)`: `(K x)_t(u) += Σ_s W[t][s] x_s(u + (dy, dx))`.
    shifts: Vec<(usize, usize, [[f64; 3]; 3])>,
    /// The zero-shift block of $K$ (one site with itself).
    self_block: [[f64; 3]; 3],
    /// Offsets `(oy, ox)` of the fine pixels `2u + o` that the details at `u` reach, with the
    /// three channels' weights there ($x_{j-1}$ moves by $\sum_c \delta_c h_c(o)$).
    impulse: Vec<(usize, usize, [f64; 3])>,
}

impl LocalTables {
    /// Tables of the couplings `couplings` and the split `split` (its merge is periodic and
    /// equivariant under shifts of the coarse grid by one site / the fine grid by two).
    pub(crate) fn new(couplings: &Couplings, split: &RgSplit) -> Self {
        let mut shifts: Vec<(usize, usize, [[f64; 3]; 3])> = Vec::new();
        let mut self_block = [[0.0; 3]; 3];
        for (t, s, dy, dx, w) in couplings.free_terms() {
            if dy == 0 && dx == 0 {
                self_block[t][s] += w;
            }
            match shifts.iter_mut().find(|e| e.0 == dy && e.1 == dx) {
                Some(e) => e.2[t][s] += w,
                None => {
                    let mut m = [[0.0; 3]; 3];
                    m[t][s] = w;
                    shifts.push((dy, dx, m));
                }
            }
        }
        let mut ws = Workspace::new();
        let coarse = ArrayD::zeros(IxDyn(split.coarse_shape()));
        let dshape = split.details_shape();
        let fine_shape = split.fine_shape().to_vec();
        let mut responses = Vec::with_capacity(3);
        for c in 0..3 {
            let mut d = ArrayD::zeros(IxDyn(&dshape));
            d[[c, 0, 0]] = 1.0;
            let mut f = ArrayD::zeros(IxDyn(&fine_shape));
            split.merge_into(coarse.view(), d.view(), f.view_mut(), &mut ws);
            responses.push(f);
        }
        let mut impulse = Vec::new();
        for oy in 0..fine_shape[0] {
            for ox in 0..fine_shape[1] {
                let h = [
                    responses[0][[oy, ox]],
                    responses[1][[oy, ox]],
                    responses[2][[oy, ox]],
                ];
                if h.iter().any(|&v| v != 0.0) {
                    impulse.push((oy, ox, h));
                }
            }
        }
        Self {
            shifts,
            self_block,
            impulse,
        }
    }
}

/// Sweeps between two recomputations of a state's caches from scratch.
const RESYNC: usize = 16;

/// Sweeps of single-site MALA moves on one conditional law $\bar E_j(\cdot\mid x_j)$
/// ([`Conditioned`]): at each coarse site $u$ in turn (row-major order), the three details
/// $\bar x_j(u) \in \mathbb R^3$ get the Langevin proposal
/// $y = \bar x_j(u) - \varepsilon\nabla_u\bar E_j + \sqrt{2\varepsilon}\,z$, accepted with the
/// Metropolis–Hastings probability of a MALA move on that site alone (the other sites fixed).
/// Each site move leaves the conditional law invariant, so the sweep does too.
///
/// With a coarse-dependent stiffness term ([`crate::StiffnessSpec`]) the sites differ in
/// stiffness, and one step size would freeze the stiff ones (a step that suits the soft sites
/// overshoots where $\varepsilon\kappa > 2$). Each entry $(c, u)$ then has its own step
/// $\varepsilon_c(u) = \varepsilon\,\bar a_c / \max(a_c(u), \bar a_c/20)$, with
/// $a_c(u) = K_{00,cc} + \kappa_c(u)$ the curvature of the quadratic part there and $\bar a_c$ its
/// mean; the steps depend on the coarse field only, so each site move is still an exact MALA
/// move (with a diagonal preconditioner). Without the term every $\varepsilon_c(u) = \varepsilon$.
///
/// One [`Sampler::step`] is one sweep over all sites. Energy changes and gradients are computed
/// locally (see the module docs) and the caches updated in place; they are recomputed from
/// scratch every 16 sweeps, so rounding does not accumulate. Moves that take $x_{j-1}$ outside the
/// potential's support are rejected ([`crate::Support::Confined`]) and counted as divergent.
#[derive(Debug, Clone)]
pub struct LocalMala<'a> {
    energy: Conditioned<'a>,
    step: f64,
}

/// The state of a [`LocalMala`] chain: the details and the cached fine field, potential and
/// coupling gradient.
#[derive(Debug, Clone)]
pub struct LocalState {
    x: ArrayD<f64>,
    fine: Vec<f64>,
    rho: Vec<f64>,
    /// $\partial\bar E_j / \partial x_{j-1}(f)$ of the potentials: $\rho'$ plus the two-site
    /// terms.
    drho: Vec<f64>,
    /// The two-site potential $\psi$ and $\psi'$ on each edge `2 f + a` (from $f$ along axis
    /// $a$); empty without that term.
    psi: Vec<f64>,
    dpsi: Vec<f64>,
    /// Per fine site, 1 + its slot in the impulse patch of the current move, else 0.
    slot: Vec<u32>,
    grad: Vec<f64>,
    kappa: Vec<f64>,
    /// Per-entry step factors (1 without a stiffness term).
    scale: Vec<f64>,
    stack: Vec<f64>,
    scratch: Vec<f64>,
    energy: f64,
    sweeps: usize,
    outside: f64,
}

impl LocalState {
    /// The energy $\bar E_j$ of the current details.
    pub fn energy(&self) -> f64 {
        self.energy
    }

    /// The fraction of the last sweep's site moves rejected for leaving the potential's
    /// support (or for a non-finite energy).
    pub fn outside_fraction(&self) -> f64 {
        self.outside
    }
}

impl<'a> LocalMala<'a> {
    /// Sweeps on `energy` with per-site step size `step`.
    ///
    /// # Errors
    /// A step that is not finite and positive.
    pub fn new(energy: Conditioned<'a>, step: f64) -> wcrg_core::Result<Self> {
        Ok(Self {
            energy,
            step: positive_step(step)?,
        })
    }

    /// The conditional law.
    pub fn energy(&self) -> &Conditioned<'a> {
        &self.energy
    }

    /// $\nabla\bar E_j$ with respect to the three details at coarse site `(uy, ux)`, from the
    /// caches of `state` (what a site move uses; equal to the matching entries of the full
    /// gradient).
    ///
    /// # Panics
    /// On a site outside the coarse grid.
    pub fn site_gradient(&self, state: &LocalState, uy: usize, ux: usize) -> [f64; 3] {
        let model = self.energy.model();
        let cs = model.coarse_shape();
        assert!(uy < cs[0] && ux < cs[1], "site ({uy}, {ux}) outside {cs:?}");
        let plane = cs[0] * cs[1];
        let fs = model.split().fine_shape();
        let (fy, fx) = (fs[0], fs[1]);
        let p = uy * cs[1] + ux;
        let tables = model.local_tables();
        let mut idx = Vec::new();
        fine_indices(tables, uy, ux, fy, fx, &mut idx);
        let gc = [0, 1, 2].map(|c| {
            let i = c * plane + p;
            state.grad[i] + state.kappa[i] * state.x.as_slice().expect("standard layout")[i]
        });
        site_gradient(tables, &state.drho, gc, &idx)
    }

    /// Recomputes the caches of `s` from its details; `false` if they leave the support.
    fn sync(&self, s: &mut LocalState, ws: &mut Workspace) -> bool {
        let model = self.energy.model();
        let coarse = self.energy.coarse();
        let plane = coarse.len();
        s.stack.clear();
        s.stack.extend(s.x.iter().copied());
        s.stack.extend(coarse.iter().copied());
        s.grad.clear();
        s.grad.resize(4 * plane, 0.0);
        let mut e = model
            .couplings()
            .energy_and_gradient(&s.stack, &mut s.grad, &mut s.scratch);
        s.kappa = model.site_stiffness(coarse.view());
        step_factors(&model.local_tables().self_block, &s.kappa, &mut s.scale);
        e +=
            s.x.iter()
                .zip(&s.kappa)
                .map(|(&v, &k)| 0.5 * k * v * v)
                .sum::<f64>();
        let split = model.split();
        let n_fine: usize = split.fine_shape().iter().product();
        s.fine.clear();
        s.fine.resize(n_fine, 0.0);
        {
            let fine =
                ArrayViewMutD::from_shape(IxDyn(split.fine_shape()), &mut s.fine).expect("sized");
            split.merge_into(coarse.view(), s.x.view(), fine, ws);
        }
        s.rho.resize(n_fine, 0.0);
        s.drho.resize(n_fine, 0.0);
        let p = model.potential();
        for ((&v, r), d) in s.fine.iter().zip(&mut s.rho).zip(&mut s.drho) {
            match potential_at(p, v, self.energy.support()) {
                Some((a, b)) => {
                    *r = a;
                    *d = b;
                    e += a;
                }
                None => return false,
            }
        }
        s.slot.clear();
        s.slot.resize(n_fine, 0);
        s.psi.clear();
        s.dpsi.clear();
        if let Some(q) = model.differences() {
            s.psi.resize(2 * n_fine, 0.0);
            s.dpsi.resize(2 * n_fine, 0.0);
            let fs = split.fine_shape();
            let mut inside = true;
            let mut edge = 0;
            for_each_edge(fs[0], fs[1], |u, v| {
                match potential_at(q, s.fine[v] - s.fine[u], self.energy.support()) {
                    Some((a, b)) => {
                        s.psi[edge] = a;
                        s.dpsi[edge] = b;
                        e += a;
                        s.drho[v] += b;
                        s.drho[u] -= b;
                    }
                    None => inside = false,
                }
                edge += 1;
            });
            if !inside {
                return false;
            }
        }
        s.energy = e;
        e.is_finite()
    }
}

/// The flat fine indices `2u + o` (periodic) of the impulse offsets at coarse site `(uy, ux)`.
fn fine_indices(t: &LocalTables, uy: usize, ux: usize, fy: usize, fx: usize, out: &mut Vec<usize>) {
    out.clear();
    out.extend(t.impulse.iter().map(|&(oy, ox, _)| {
        let (mut y, mut x) = (2 * uy + oy, 2 * ux + ox);
        if y >= fy {
            y -= fy;
        }
        if x >= fx {
            x -= fx;
        }
        y * fx + x
    }));
}

/// The gradient at one site: the coupling part `gc` plus the potential's
/// $\sum_o \rho'(x_{j-1}(2u + o))\,h(o)$, with `idx` from [`fine_indices`].
fn site_gradient(tables: &LocalTables, drho: &[f64], gc: [f64; 3], idx: &[usize]) -> [f64; 3] {
    let mut g = gc;
    for (&(_, _, h), &w) in tables.impulse.iter().zip(idx) {
        let d = drho[w];
        for c in 0..3 {
            g[c] += d * h[c];
        }
    }
    g
}

/// A two-site term's change on one edge under a site move.
#[derive(Debug, Clone, Copy)]
struct EdgeChange {
    /// Edge `2 f + a`.
    edge: usize,
    psi: f64,
    dpsi: f64,
    /// The endpoint outside the move's patch, if any, and the sign of $\psi'$ in its
    /// derivative ($+1$ at the edge's far end, $-1$ at its start).
    outside: Option<(usize, f64)>,
}

/// The fine sites a site move changes, with their new values.
struct Patch<'p> {
    idx: &'p [usize],
    values: &'p [f64],
    shape: (usize, usize),
}

impl Patch<'_> {
    /// The two-site potential's changes on every edge touching the patch, each once: adds
    /// $\Delta\psi$ to `de` and the new $\pm\psi'$ to the patch sites' derivatives `new_d`
    /// (which hold $\rho'$ on entry), and lists the changes in `edges`; `false` when a new
    /// difference leaves the potential's support. `slot` is all zeros on entry and on return.
    fn edge_changes(
        &self,
        q: &Potential,
        support: crate::Support,
        (fine, psi, slot): (&[f64], &[f64], &mut [u32]),
        (new_d, de): (&mut [f64], &mut f64),
        edges: &mut Vec<EdgeChange>,
    ) -> bool {
        let (fy, fx) = self.shape;
        for (k, &w) in self.idx.iter().enumerate() {
            slot[w] = k as u32 + 1;
        }
        edges.clear();
        let mut inside = true;
        'patch: for (k, &w) in self.idx.iter().enumerate() {
            let (wy, wx) = (w / fx, w % fx);
            for a in 0..2 {
                // The edge from w along a, and the edge into w along a.
                let (fwd, bwd) = if a == 0 {
                    (
                        if wy + 1 == fy { wx } else { w + fx },
                        if wy == 0 { (fy - 1) * fx + wx } else { w - fx },
                    )
                } else {
                    (
                        if wx + 1 == fx { wy * fx } else { w + 1 },
                        if wx == 0 { wy * fx + fx - 1 } else { w - 1 },
                    )
                };
                let value = |f: usize| match slot[f] {
                    0 => fine[f],
                    j => self.values[j as usize - 1],
                };
                let xw = self.values[k];
                for (from, to, edge) in [(w, fwd, 2 * w + a), (bwd, w, 2 * bwd + a)] {
                    if to == w && slot[from] != 0 {
                        // Counted as the forward edge of `from`.
                        continue;
                    }
                    let t = if from == w {
                        value(to) - xw
                    } else {
                        xw - value(from)
                    };
                    let Some((r, r1)) = potential_at(q, t, support) else {
                        inside = false;
                        break 'patch;
                    };
                    *de += r - psi[edge];
                    let mut outside = None;
                    for (f, sign) in [(to, 1.0), (from, -1.0)] {
                        match slot[f] {
                            0 => outside = Some((f, sign)),
                            j => new_d[j as usize - 1] += sign * r1,
                        }
                    }
                    edges.push(EdgeChange {
                        edge,
                        psi: r,
                        dpsi: r1,
                        outside,
                    });
                }
            }
        }
        for &w in self.idx {
            slot[w] = 0;
        }
        inside
    }
}

/// The per-entry step factors $\bar a_c / \max(a_c(u), \bar a_c/20)$, with
/// $a_c(u) = K_{00,cc} + \kappa_c(u)$ the curvature of the quadratic part at a site and
/// $\bar a_c$ its mean over sites: where the coarse-dependent stiffness makes a site stiffer,
/// its step is smaller in proportion, so one step size suits soft and stiff sites alike. All 1
/// without a stiffness term ($\kappa = 0$) or when $\bar a_c \le 0$.
fn step_factors(k: &[[f64; 3]; 3], kappa: &[f64], out: &mut Vec<f64>) {
    let plane = kappa.len() / 3;
    out.clear();
    out.resize(kappa.len(), 1.0);
    for c in 0..3 {
        let a = |i: usize| k[c][c] + kappa[c * plane + i];
        let mean = (0..plane).map(a).sum::<f64>() / plane as f64;
        let flat = kappa[c * plane..(c + 1) * plane].iter().all(|&v| v == 0.0);
        if mean.is_nan() || mean <= 0.0 || flat {
            continue;
        }
        for i in 0..plane {
            out[c * plane + i] = mean / a(i).max(mean / 20.0);
        }
    }
}

fn positive_step(step: f64) -> wcrg_core::Result<f64> {
    if step.is_finite() && step > 0.0 {
        Ok(step)
    } else {
        Err(wcrg_core::Error::InvalidParameter {
            name: "step size".into(),
            value: step.to_string(),
            reason: "must be finite and positive".into(),
        })
    }
}

impl Tunable for LocalMala<'_> {
    fn step_size(&self) -> f64 {
        self.step
    }
    fn with_step_size(&self, step: f64) -> wcrg_core::Result<Self> {
        Self::new(self.energy.clone(), step)
    }
}

impl Sampler for LocalMala<'_> {
    type State = LocalState;

    fn init(&self, x0: ArrayD<f64>, ws: &mut Workspace) -> wcrg_core::Result<LocalState> {
        let model = self.energy.model();
        wcrg_core::validate::shape("details", model.details_shape(), x0.shape())?;
        wcrg_core::validate::finite("details", x0.iter())?;
        let mut s = LocalState {
            // Row-major storage, whatever the caller's layout.
            x: x0.as_standard_layout().into_owned(),
            fine: Vec::new(),
            rho: Vec::new(),
            drho: Vec::new(),
            psi: Vec::new(),
            dpsi: Vec::new(),
            slot: Vec::new(),
            grad: Vec::new(),
            kappa: Vec::new(),
            scale: Vec::new(),
            stack: Vec::new(),
            scratch: Vec::new(),
            energy: 0.0,
            sweeps: 0,
            outside: 0.0,
        };
        if !self.sync(&mut s, ws) {
            return Err(wcrg_core::Error::InvalidParameter {
                name: "x0".into(),
                value: "details".into(),
                reason: "the starting details put the finer field outside the potential's support"
                    .into(),
            });
        }
        Ok(s)
    }

    fn step(
        &self,
        s: &mut LocalState,
        rng: &mut wcrg_core::rng::Rng,
        ws: &mut Workspace,
    ) -> StepInfo {
        let divergent_sweep = StepInfo {
            accepted: false,
            acceptance_probability: 0.0,
            divergent: true,
            energy: s.energy,
        };
        s.sweeps += 1;
        if s.sweeps.is_multiple_of(RESYNC) && !self.sync(s, ws) {
            s.outside = 1.0;
            return divergent_sweep;
        }
        let model = self.energy.model();
        let tables = model.local_tables();
        let support = self.energy.support();
        let potential = model.potential();
        let cs = model.coarse_shape();
        let (ny, nx) = (cs[0], cs[1]);
        let plane = ny * nx;
        let fs = model.split().fine_shape();
        let (fy, fx) = (fs[0], fs[1]);
        let step = self.step;
        let uniform = s.scale.iter().all(|&f| f == 1.0);
        let k = &tables.self_block;
        let (mut accepted, mut alpha_sum, mut divergent) = (0usize, 0.0, 0usize);
        let differences = model.differences();
        let mut new_rho = vec![(0.0, 0.0); tables.impulse.len()];
        let mut new_d = vec![0.0; tables.impulse.len()];
        let mut new_fine = vec![0.0; tables.impulse.len()];
        let mut edges: Vec<EdgeChange> = Vec::new();
        let mut idx = Vec::with_capacity(tables.impulse.len());
        let x = s.x.as_slice_mut().expect("standard layout");
        for uy in 0..ny {
            for ux in 0..nx {
                let p = uy * nx + ux;
                fine_indices(tables, uy, ux, fy, fx, &mut idx);
                let xu = [x[p], x[plane + p], x[2 * plane + p]];
                let kappa = [s.kappa[p], s.kappa[plane + p], s.kappa[2 * plane + p]];
                // Couplings K x plus the diagonal stiffness κ x.
                let gc = [0, 1, 2].map(|c| s.grad[c * plane + p] + kappa[c] * xu[c]);
                let g = site_gradient(tables, &s.drho, gc, &idx);
                let eps = [0, 1, 2].map(|c| step * s.scale[c * plane + p]);
                let mut y = [0.0; 3];
                let mut delta = [0.0; 3];
                for c in 0..3 {
                    let z: f64 =
                        rand_distr::Distribution::<f64>::sample(&rand_distr::StandardNormal, rng);
                    y[c] = xu[c] - eps[c] * g[c] + (2.0 * eps[c]).sqrt() * z;
                    delta[c] = y[c] - xu[c];
                }
                let u: f64 = rng.random();
                // Couplings and stiffness: ΔE = δ·g_c + ½ δᵀ (K₀₀ + diag κ) δ; new gradient
                // g_c + (K₀₀ + diag κ) δ.
                let mut de = 0.0;
                let mut gy = [0.0; 3];
                for c in 0..3 {
                    let kd = k[c][0] * delta[0]
                        + k[c][1] * delta[1]
                        + k[c][2] * delta[2]
                        + kappa[c] * delta[c];
                    de += delta[c] * (gc[c] + 0.5 * kd);
                    gy[c] = gc[c] + kd;
                }
                let mut inside = true;
                for (k, (&(_, _, h), &w)) in tables.impulse.iter().zip(&idx).enumerate() {
                    let v = s.fine[w] + delta[0] * h[0] + delta[1] * h[1] + delta[2] * h[2];
                    match potential_at(potential, v, support) {
                        Some((r, r1)) => {
                            de += r - s.rho[w];
                            new_rho[k] = (r, r1);
                            new_d[k] = r1;
                            new_fine[k] = v;
                        }
                        None => {
                            inside = false;
                            break;
                        }
                    }
                }
                if inside && let Some(q) = differences {
                    let patch = Patch {
                        idx: &idx,
                        values: &new_fine,
                        shape: (fy, fx),
                    };
                    inside = patch.edge_changes(
                        q,
                        support,
                        (&s.fine, &s.psi, &mut s.slot),
                        (&mut new_d, &mut de),
                        &mut edges,
                    );
                }
                if inside {
                    for (&(_, _, h), &d) in tables.impulse.iter().zip(&new_d) {
                        for c in 0..3 {
                            gy[c] += d * h[c];
                        }
                    }
                }
                if !inside || !de.is_finite() {
                    divergent += 1;
                    continue;
                }
                // log q(x | y) − log q(y | x).
                let mut fwd = 0.0;
                let mut bwd = 0.0;
                let log_alpha = if uniform {
                    // One step for all three channels: the same value as below, with the
                    // rounding of a single step size.
                    for c in 0..3 {
                        fwd += (delta[c] + step * g[c]).powi(2);
                        bwd += (-delta[c] + step * gy[c]).powi(2);
                    }
                    -de - (bwd - fwd) / (4.0 * step)
                } else {
                    for c in 0..3 {
                        fwd += (delta[c] + eps[c] * g[c]).powi(2) / eps[c];
                        bwd += (-delta[c] + eps[c] * gy[c]).powi(2) / eps[c];
                    }
                    -de - (bwd - fwd) / 4.0
                };
                // min(1, e^{log α}), without calling exp where it is exactly 1 (log α ≥ 0).
                let alpha = if log_alpha >= 0.0 {
                    1.0
                } else {
                    log_alpha.exp()
                };
                alpha_sum += alpha;
                if u < alpha {
                    accepted += 1;
                    s.energy += de;
                    for c in 0..3 {
                        x[c * plane + p] = y[c];
                    }
                    for (((&(r, _), &d), &v), &w) in
                        new_rho.iter().zip(&new_d).zip(&new_fine).zip(&idx)
                    {
                        s.fine[w] = v;
                        s.rho[w] = r;
                        s.drho[w] = d;
                    }
                    for ch in &edges {
                        if let Some((f, sign)) = ch.outside {
                            s.drho[f] += sign * (ch.dpsi - s.dpsi[ch.edge]);
                        }
                        s.psi[ch.edge] = ch.psi;
                        s.dpsi[ch.edge] = ch.dpsi;
                    }
                    // (K x)_t(v) += w δ_s for v + (dy, dx) = u.
                    for &(dy, dx, ref w) in &tables.shifts {
                        let vy = if uy >= dy { uy - dy } else { uy + ny - dy };
                        let vx = if ux >= dx { ux - dx } else { ux + nx - dx };
                        let v = vy * nx + vx;
                        for (t, row) in w.iter().enumerate() {
                            s.grad[t * plane + v] +=
                                row[0] * delta[0] + row[1] * delta[1] + row[2] * delta[2];
                        }
                    }
                }
            }
        }
        s.outside = divergent as f64 / plane as f64;
        StepInfo {
            accepted: accepted > 0,
            acceptance_probability: alpha_sum / plane as f64,
            divergent: divergent == plane,
            energy: s.energy,
        }
    }

    fn position<'s>(&self, state: &'s LocalState) -> ArrayViewD<'s, f64> {
        state.x.view()
    }
}
