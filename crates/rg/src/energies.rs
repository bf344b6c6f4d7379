//! The fitted energies of one scale: the conditional energy $\bar E_j(\bar x_j\mid x_j)$ and the
//! single-field energies (coarsest field $U_J$, free energies $\tilde F_j$).

use ndarray::{ArrayD, ArrayViewD, ArrayViewMutD, IxDyn};
use serde::{Deserialize, Serialize};
use wcrg_core::{Energy, Features, Workspace};
use wcrg_wavelets::{RgSplit, Wavelet};

use wcrg_energy_models::features::{ModulatedStiffness, Modulator};

use crate::couplings::Couplings;
use crate::error::{Result, RgError};
use crate::potential::Potential;

/// How a potential treats values outside its support.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Support {
    /// $+\infty$ outside the support (sampling: such moves are rejected).
    Confined,
    /// The basis sum itself outside the support (evaluating held-out fields).
    Extended,
}

#[inline]
pub(crate) fn potential_at(p: &Potential, t: f64, support: Support) -> Option<(f64, f64)> {
    match (p.eval(t), support) {
        (Some(v), _) => Some(v),
        (None, Support::Extended) if t.is_finite() => Some(p.exact(t)),
        (None, _) => None,
    }
}

#[derive(Default)]
struct Scratch {
    a: Vec<f64>,
    b: Vec<f64>,
    fine: Vec<f64>,
    dfine: Vec<f64>,
    coarse: Vec<f64>,
    details: Vec<f64>,
    dpot: Vec<f64>,
}

/// `out += Dᵀ diag(ψ''(D x)) D v`: the Hessian of the two-site potential
/// $\sum_{\text{edges } (u, w)}\psi(x(w) - x(u))$ on a periodic `shape` field, applied to `v`.
fn add_difference_hessian(q: &Potential, shape: [usize; 2], x: &[f64], v: &[f64], out: &mut [f64]) {
    for_each_edge(shape[0], shape[1], |u, w| {
        let t = q.curvature(x[w] - x[u]) * (v[w] - v[u]);
        out[w] += t;
        out[u] -= t;
    });
}

/// Calls `f(u, v)` for every nearest-neighbour pair $v = u + e_a$ of a periodic `ny × nx` grid
/// (flat row-major indices), axis 0 then axis 1 at each site: the terms of
/// $\sum_a\sum_u\psi\big(x(u + e_a) - x(u)\big)$.
#[inline]
pub(crate) fn for_each_edge(ny: usize, nx: usize, mut f: impl FnMut(usize, usize)) {
    for i in 0..ny {
        let down = if i + 1 == ny { 0 } else { i + 1 };
        for j in 0..nx {
            let right = if j + 1 == nx { 0 } else { j + 1 };
            let u = i * nx + j;
            f(u, down * nx + j);
            f(u, i * nx + right);
        }
    }
}

/// An energy on one 2-D field: quadratic couplings plus an optional on-site potential and an
/// optional two-site potential on nearest-neighbour differences,
/// $E(x) = \sum_s\theta_s\frac12\sum_u x(u)x(u-s) + \sum_u\rho_\theta(x(u)) +
/// \sum_{a}\sum_u\rho^{(2)}_\theta\big(x(u+e_a) - x(u)\big)$.
///
/// The RG uses it for the coarsest field ($U_J$) and for the free energies $\tilde F_j$.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "FieldSpec", into = "FieldSpec")]
pub struct FieldEnergy {
    couplings: Couplings,
    potential: Option<Potential>,
    differences: Option<Potential>,
    shape: Vec<usize>,
}

/// The serialised form of a [`FieldEnergy`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldSpec {
    /// One-channel couplings.
    pub couplings: Couplings,
    /// On-site potential, if any.
    pub potential: Option<Potential>,
    /// Two-site potential on nearest-neighbour differences, if any (absent in older files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub differences: Option<Potential>,
}

impl TryFrom<FieldSpec> for FieldEnergy {
    type Error = RgError;
    fn try_from(spec: FieldSpec) -> Result<Self> {
        let f = Self::new(spec.couplings, spec.potential)?;
        Ok(match spec.differences {
            Some(p) => f.with_differences(p),
            None => f,
        })
    }
}

impl From<FieldEnergy> for FieldSpec {
    fn from(f: FieldEnergy) -> Self {
        Self {
            couplings: f.couplings,
            potential: f.potential,
            differences: f.differences,
        }
    }
}

impl FieldEnergy {
    /// From one-channel couplings and a potential.
    ///
    /// # Errors
    /// Couplings with more than one channel or a conditioning channel.
    pub fn new(couplings: Couplings, potential: Option<Potential>) -> Result<Self> {
        if couplings.free() != [true] {
            return Err(RgError::Mismatch(
                "a field energy has exactly one free channel".into(),
            ));
        }
        let [ny, nx] = couplings.spatial();
        Ok(Self {
            couplings,
            potential,
            differences: None,
            shape: vec![ny, nx],
        })
    }

    /// Adds the two-site potential $\sum_a\sum_u\rho^{(2)}(x(u+e_a) - x(u))$ on the
    /// differences along both axes (periodic).
    pub fn with_differences(mut self, potential: Potential) -> Self {
        self.differences = Some(potential);
        self
    }

    /// The two-site potential on nearest-neighbour differences, if any.
    pub fn differences(&self) -> Option<&Potential> {
        self.differences.as_ref()
    }

    /// The couplings.
    pub fn couplings(&self) -> &Couplings {
        &self.couplings
    }

    /// The potential.
    pub fn potential(&self) -> Option<&Potential> {
        self.potential.as_ref()
    }

    /// Field shape `(ny, nx)`.
    pub fn field_shape(&self) -> &[usize] {
        &self.shape
    }

    /// Energy and gradient of a contiguous field; $+\infty$ when `support` is
    /// [`Support::Confined`] and a value leaves the potential's support.
    ///
    /// # Panics
    /// On buffers of the wrong size.
    pub fn evaluate(
        &self,
        x: &[f64],
        grad: &mut [f64],
        support: Support,
        ws: &mut Workspace,
    ) -> f64 {
        let mut s = std::mem::take(ws.get::<Scratch>());
        let mut e = self.couplings.energy_and_gradient(x, grad, &mut s.a);
        if let Some(p) = &self.potential {
            for (&v, g) in x.iter().zip(grad.iter_mut()) {
                match potential_at(p, v, support) {
                    Some((r, r1)) => {
                        e += r;
                        *g += r1;
                    }
                    None => {
                        e = f64::INFINITY;
                        break;
                    }
                }
            }
        }
        if let Some(p) = &self.differences
            && e.is_finite()
        {
            for_each_edge(self.shape[0], self.shape[1], |u, v| {
                // ρ(x(v) - x(u)): +ρ' on v, -ρ' on u.
                match potential_at(p, x[v] - x[u], support) {
                    Some((r, r1)) => {
                        e += r;
                        grad[v] += r1;
                        grad[u] -= r1;
                    }
                    None => e = f64::INFINITY,
                }
            });
        }
        *ws.get::<Scratch>() = s;
        e
    }

    /// The Hessian $\nabla^2 E$ at `x` applied to `v`:
    /// $Kv + \operatorname{diag}(\rho_\theta''(x))\,v +
    /// D^\top\operatorname{diag}(\rho^{(2)\prime\prime}_\theta(Dx))\,Dv$, with $D$ the
    /// nearest-neighbour differences along both axes (periodic). The potentials' curvatures are
    /// those of the basis sums ([`Potential::curvature`]), evaluated beyond the supports as well.
    ///
    /// # Panics
    /// When `x`, `v` or `out` do not have one value per site.
    pub fn hessian_apply(&self, x: &[f64], v: &[f64], out: &mut [f64]) {
        let sites = self.shape[0] * self.shape[1];
        assert!(
            x.len() == sites && v.len() == sites && out.len() == sites,
            "field energy Hessian: {} sites, buffers of {}, {} and {}",
            sites,
            x.len(),
            v.len(),
            out.len()
        );
        self.couplings.hessian_apply(v, out);
        if let Some(p) = &self.potential {
            for ((o, &xv), &vv) in out.iter_mut().zip(x).zip(v) {
                *o += p.curvature(xv) * vv;
            }
        }
        if let Some(q) = &self.differences {
            add_difference_hessian(q, [self.shape[0], self.shape[1]], x, v, out);
        }
    }
}

impl Energy for FieldEnergy {
    fn shape(&self) -> &[usize] {
        &self.shape
    }

    fn energy(&self, x: ArrayViewD<'_, f64>, ws: &mut Workspace) -> f64 {
        wcrg_core::validate::assert_shape("field energy input", &self.shape, x.shape());
        let mut g = vec![0.0; x.len()];
        let x = x.as_standard_layout();
        self.evaluate(
            x.as_slice().expect("standard layout"),
            &mut g,
            Support::Confined,
            ws,
        )
    }

    fn energy_and_gradient(
        &self,
        x: ArrayViewD<'_, f64>,
        mut grad: ArrayViewMutD<'_, f64>,
        ws: &mut Workspace,
    ) -> f64 {
        wcrg_core::validate::assert_shape("field energy input", &self.shape, x.shape());
        wcrg_core::validate::assert_shape("field energy gradient", &self.shape, grad.shape());
        let x = x.as_standard_layout();
        match grad.as_slice_mut() {
            Some(g) => self.evaluate(
                x.as_slice().expect("standard layout"),
                g,
                Support::Confined,
                ws,
            ),
            None => {
                let mut g = vec![0.0; x.len()];
                let e = self.evaluate(
                    x.as_slice().expect("standard layout"),
                    &mut g,
                    Support::Confined,
                    ws,
                );
                grad.iter_mut().zip(&g).for_each(|(o, v)| *o = *v);
                e
            }
        }
    }
}

/// The serialised form of a [`ConditionalEnergy`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConditionalSpec {
    /// Wavelet name (a built-in family).
    pub wavelet: String,
    /// Shape of the finer field $x_{j-1}$.
    pub fine: [usize; 2],
    /// Normalisation $\gamma_j$.
    pub gamma: f64,
    /// Couplings of the `(3 details, coarse)` stack.
    pub couplings: Couplings,
    /// Potential on the reconstructed finer field.
    pub potential: Potential,
    /// Site stiffnesses of the details that follow the coarse field, if any (absent in older
    /// files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stiffness: Option<StiffnessSpec>,
    /// Two-site potential $\psi$ on the nearest-neighbour differences of the reconstructed
    /// finer field, $\sum_a\sum_u\psi\big(x_{j-1}(u + e_a) - x_{j-1}(u)\big)$ (both axes,
    /// periodic), if any (absent in older files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub differences: Option<Potential>,
}

/// The serialised form of the conditional energy's coarse-dependent stiffness term
/// $\frac12\sum_{c,u}\kappa_c(u)\,\bar x_c(u)^2$,
/// $\kappa_c(u) = \sum_{m,k}\theta_{c,m,k}\,\rho_{m,k}\big(g_m(u)\big)$ with each $g_m$ a local
/// function of the coarse field (channel 3 of the `(3 details, coarse)` stack):
/// [`wcrg_energy_models::features::ModulatedStiffness`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StiffnessSpec {
    /// The local functions $g_m$ of the coarse field, with their bases.
    pub modulators: Vec<Modulator>,
    /// $\theta_{c,m,k}$: detail channel (outer), modulator, basis function (inner).
    pub theta: Vec<f64>,
}

/// The conditional energy of one scale,
/// $$\bar E_j(\bar x_j\mid x_j) = \sum\theta\,\tfrac12\sum_u y_c(u)\,y_d(u - s) +
///   \sum_u\rho_\theta\big(x_{j-1}(u)\big),\qquad y = (\bar x_j^H, \bar x_j^V, \bar x_j^D, x_j),$$
/// with $x_{j-1} = \gamma_j(G^\top x_j + \bar G^\top\bar x_j)$; the details are free, the
/// coarse field conditions. Gradients: $\nabla_{\bar x}$ of the potential is
/// $\gamma_j\bar G\rho_\theta'(x_{j-1})$ and $\nabla_{x_j}$ is $\gamma_j G\rho_\theta'(x_{j-1})$.
///
/// An optional third term ([`StiffnessSpec`]) $\frac12\sum_{c,u}\kappa_c(u)\,\bar x_c(u)^2$ gives
/// each detail a stiffness $\kappa_c(u)$ that follows the coarse field around $u$ (its value and
/// its central differences: ordered domains and interfaces); given $x_j$ it is a diagonal
/// quadratic form of the details.
///
/// An optional fourth term ([`ConditionalSpec::differences`])
/// $\sum_a\sum_u\psi_\theta\big(x_{j-1}(u + e_a) - x_{j-1}(u)\big)$ sets the law of the finer
/// field's local steps (how sharp its interfaces are), which neither the couplings nor the
/// on-site potential control; its gradient is $\gamma_j\bar G D^\top\psi_\theta'(Dx_{j-1})$
/// with $D$ the difference map.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "ConditionalSpec", into = "ConditionalSpec")]
pub struct ConditionalEnergy {
    spec: ConditionalSpec,
    split: RgSplit,
    coarse_shape: Vec<usize>,
    details_shape: Vec<usize>,
    local: crate::local::LocalTables,
    stiffness: Option<ModulatedStiffness>,
}

impl TryFrom<ConditionalSpec> for ConditionalEnergy {
    type Error = RgError;
    fn try_from(spec: ConditionalSpec) -> Result<Self> {
        Self::new(spec)
    }
}

impl From<ConditionalEnergy> for ConditionalSpec {
    fn from(c: ConditionalEnergy) -> Self {
        c.spec
    }
}

impl ConditionalEnergy {
    /// From its parts.
    ///
    /// # Errors
    /// An unknown wavelet, a fine shape the split does not accept, couplings that are not on
    /// `(3 free details, 1 conditioning coarse field)` of half the fine shape.
    pub fn new(spec: ConditionalSpec) -> Result<Self> {
        let split = RgSplit::new(&Wavelet::new(&spec.wavelet)?, &spec.fine, spec.gamma)?;
        let coarse_shape = split.coarse_shape().to_vec();
        if spec.couplings.free() != [true, true, true, false]
            || spec.couplings.spatial() != [coarse_shape[0], coarse_shape[1]]
        {
            return Err(RgError::Mismatch(format!(
                "conditional couplings on channels {:?} of {:?} sites; expected 3 free details and a conditioning coarse field of {:?}",
                spec.couplings.free(),
                spec.couplings.spatial(),
                coarse_shape
            )));
        }
        let stiffness = match &spec.stiffness {
            Some(st) => {
                let block = ModulatedStiffness::new(
                    &[4, coarse_shape[0], coarse_shape[1]],
                    vec![true, true, true, false],
                    st.modulators.clone(),
                )?;
                if block.len() != st.theta.len() {
                    return Err(RgError::Mismatch(format!(
                        "{} stiffness coefficients for {} stiffness features",
                        st.theta.len(),
                        block.len()
                    )));
                }
                wcrg_core::validate::finite("stiffness coefficients", &st.theta)?;
                Some(block)
            }
            None => None,
        };
        Ok(Self {
            details_shape: split.details_shape(),
            local: crate::local::LocalTables::new(&spec.couplings, &split),
            stiffness,
            coarse_shape,
            split,
            spec,
        })
    }

    /// What single-site moves need (stencils and the split's impulse responses).
    pub(crate) fn local_tables(&self) -> &crate::local::LocalTables {
        &self.local
    }

    /// The split of this scale.
    pub fn split(&self) -> &RgSplit {
        &self.split
    }

    /// $\gamma_j$.
    pub fn gamma(&self) -> f64 {
        self.spec.gamma
    }

    /// The couplings.
    pub fn couplings(&self) -> &Couplings {
        &self.spec.couplings
    }

    /// The potential on $x_{j-1}$.
    pub fn potential(&self) -> &Potential {
        &self.spec.potential
    }

    /// The two-site potential on the finer field's nearest-neighbour differences, if any.
    pub fn differences(&self) -> Option<&Potential> {
        self.spec.differences.as_ref()
    }

    /// The coarse-dependent stiffness term, if any.
    pub fn stiffness(&self) -> Option<&StiffnessSpec> {
        self.spec.stiffness.as_ref()
    }

    /// The site stiffnesses $\kappa_c(u)$ of the details given `coarse` (three planes,
    /// row-major; zeros without a stiffness term).
    ///
    /// # Panics
    /// On a coarse field of the wrong shape.
    pub fn site_stiffness(&self, coarse: ArrayViewD<'_, f64>) -> Vec<f64> {
        wcrg_core::validate::assert_shape("coarse field", &self.coarse_shape, coarse.shape());
        let plane = coarse.len();
        match (&self.stiffness, &self.spec.stiffness) {
            (Some(block), Some(st)) => {
                let mut stack = vec![0.0; 3 * plane];
                stack.extend(coarse.iter().copied());
                let stack =
                    ArrayViewD::from_shape(IxDyn(block.field_shape()), &stack).expect("sized");
                block.stiffness(stack, &st.theta)
            }
            _ => vec![0.0; 3 * plane],
        }
    }

    /// Shape of the details, `(3, n, n)`.
    pub fn details_shape(&self) -> &[usize] {
        &self.details_shape
    }

    /// Shape of the coarse field.
    pub fn coarse_shape(&self) -> &[usize] {
        &self.coarse_shape
    }

    /// $\bar E_j$ with its gradient with respect to the details (into `grad_details`) and,
    /// if asked, with respect to the coarse field (into `grad_coarse`). $+\infty$ when
    /// `support` is [`Support::Confined`] and $x_{j-1}$ leaves the potential's support.
    ///
    /// # Panics
    /// On arrays of the wrong shape.
    pub fn evaluate(
        &self,
        details: ArrayViewD<'_, f64>,
        coarse: ArrayViewD<'_, f64>,
        mut grad_details: ArrayViewMutD<'_, f64>,
        grad_coarse: Option<ArrayViewMutD<'_, f64>>,
        support: Support,
        ws: &mut Workspace,
    ) -> f64 {
        wcrg_core::validate::assert_shape("details", &self.details_shape, details.shape());
        wcrg_core::validate::assert_shape("coarse field", &self.coarse_shape, coarse.shape());
        wcrg_core::validate::assert_shape(
            "details gradient",
            &self.details_shape,
            grad_details.shape(),
        );
        let plane = coarse.len();
        let mut s = std::mem::take(ws.get::<Scratch>());
        // Stack (details, coarse).
        s.fine.clear();
        s.fine.extend(details.iter().copied());
        s.fine.extend(coarse.iter().copied());
        s.dfine.clear();
        s.dfine.resize(4 * plane, 0.0);
        let mut e = self
            .spec
            .couplings
            .energy_and_gradient(&s.fine, &mut s.dfine, &mut s.a);
        grad_details
            .iter_mut()
            .zip(&s.dfine[..3 * plane])
            .for_each(|(o, v)| *o = *v);
        if let Some(mut gc) = grad_coarse {
            wcrg_core::validate::assert_shape("coarse gradient", &self.coarse_shape, gc.shape());
            self.spec.couplings.full_gradient(&s.fine, &mut s.dfine);
            gc.iter_mut()
                .zip(&s.dfine[3 * plane..])
                .for_each(|(o, v)| *o = *v);
            e += self.potential_part(
                details,
                coarse,
                grad_details.view_mut(),
                Some(gc.view_mut()),
                support,
                &mut s,
                ws,
            );
            e += self.stiffness_part(&s.fine, grad_details, Some(gc));
        } else {
            e += self.potential_part(
                details,
                coarse,
                grad_details.view_mut(),
                None,
                support,
                &mut s,
                ws,
            );
            e += self.stiffness_part(&s.fine, grad_details, None);
        }
        *ws.get::<Scratch>() = s;
        e
    }

    /// Adds the stiffness term's gradients and returns its energy; `stack` is
    /// `(details, coarse)`.
    fn stiffness_part(
        &self,
        stack: &[f64],
        mut grad_details: ArrayViewMutD<'_, f64>,
        grad_coarse: Option<ArrayViewMutD<'_, f64>>,
    ) -> f64 {
        let (Some(block), Some(st)) = (&self.stiffness, &self.spec.stiffness) else {
            return 0.0;
        };
        let x = ArrayViewD::from_shape(IxDyn(block.field_shape()), stack).expect("sized");
        let kappa = block.stiffness(x.view(), &st.theta);
        let mut e = 0.0;
        for ((g, &d), &k) in grad_details.iter_mut().zip(stack).zip(&kappa) {
            e += 0.5 * k * d * d;
            *g += k * d;
        }
        if let Some(mut gc) = grad_coarse {
            let mut full = ArrayD::zeros(IxDyn(block.field_shape()));
            block.add_conditioning_gradient(x, &st.theta, full.view_mut());
            let plane = gc.len();
            gc.iter_mut()
                .zip(full.iter().skip(3 * plane))
                .for_each(|(o, v)| *o += v);
        }
        e
    }

    #[allow(clippy::too_many_arguments)]
    fn potential_part(
        &self,
        details: ArrayViewD<'_, f64>,
        coarse: ArrayViewD<'_, f64>,
        mut grad_details: ArrayViewMutD<'_, f64>,
        grad_coarse: Option<ArrayViewMutD<'_, f64>>,
        support: Support,
        s: &mut Scratch,
        ws: &mut Workspace,
    ) -> f64 {
        let fine_shape = self.split.fine_shape();
        let n_fine: usize = fine_shape.iter().product();
        s.b.clear();
        s.b.resize(n_fine, 0.0);
        let mut fine = ArrayViewMutD::from_shape(IxDyn(fine_shape), &mut s.b).expect("sized");
        self.split.merge_into(coarse, details, fine.view_mut(), ws);
        let mut e = 0.0;
        let p = &self.spec.potential;
        s.dpot.clear();
        s.dpot.resize(n_fine, 0.0);
        for (&v, d) in s.b.iter().zip(&mut s.dpot) {
            match potential_at(p, v, support) {
                Some((r, r1)) => {
                    e += r;
                    *d = r1;
                }
                None => return f64::INFINITY,
            }
        }
        if let Some(q) = &self.spec.differences {
            let (x, d) = (&s.b, &mut s.dpot);
            for_each_edge(fine_shape[0], fine_shape[1], |u, v| {
                // ψ(x(v) - x(u)): +ψ' on v, -ψ' on u.
                match potential_at(q, x[v] - x[u], support) {
                    Some((r, r1)) => {
                        e += r;
                        d[v] += r1;
                        d[u] -= r1;
                    }
                    None => e = f64::INFINITY,
                }
            });
            if !e.is_finite() {
                return f64::INFINITY;
            }
        }
        let fine = ArrayViewD::from_shape(IxDyn(fine_shape), &s.dpot).expect("sized");
        s.coarse.clear();
        s.coarse.resize(n_fine / 4, 0.0);
        s.details.clear();
        s.details.resize(3 * n_fine / 4, 0.0);
        let c = ArrayViewMutD::from_shape(IxDyn(&self.coarse_shape), &mut s.coarse).expect("sized");
        let d =
            ArrayViewMutD::from_shape(IxDyn(&self.details_shape), &mut s.details).expect("sized");
        self.split.split_into(fine, c, d, ws);
        // split gives γ⁻¹(G v, Ḡ v); the gradients are γ(G v, Ḡ v).
        let g2 = self.spec.gamma * self.spec.gamma;
        grad_details
            .iter_mut()
            .zip(&s.details)
            .for_each(|(o, v)| *o += g2 * v);
        if let Some(mut gc) = grad_coarse {
            gc.iter_mut().zip(&s.coarse).for_each(|(o, v)| *o += g2 * v);
        }
        e
    }

    /// The Hessian $\nabla^2_{\bar x}\bar E_j$ at `(details, coarse)` applied to `v` (details
    /// shape): $Kv + \gamma_j^2\bar G\,\big(\mathrm{diag}(\rho_\theta''(x_{j-1})) +
    /// D^\top\mathrm{diag}(\psi_\theta''(Dx_{j-1}))D\big)\bar G^\top v + \kappa\odot v$.
    ///
    /// # Panics
    /// On arrays of the wrong shape.
    pub fn hessian_apply(
        &self,
        details: ArrayViewD<'_, f64>,
        coarse: ArrayViewD<'_, f64>,
        v: ArrayViewD<'_, f64>,
        ws: &mut Workspace,
    ) -> ArrayD<f64> {
        wcrg_core::validate::assert_shape("details", &self.details_shape, details.shape());
        wcrg_core::validate::assert_shape("coarse field", &self.coarse_shape, coarse.shape());
        wcrg_core::validate::assert_shape("Hessian direction", &self.details_shape, v.shape());
        let plane = coarse.len();
        let mut stacked: Vec<f64> = v.iter().copied().collect();
        stacked.resize(4 * plane, 0.0);
        let mut out = vec![0.0; 4 * plane];
        self.spec.couplings.hessian_apply(&stacked, &mut out);
        let kappa = self
            .stiffness
            .as_ref()
            .map(|_| self.site_stiffness(coarse.view()));
        let v_flat: Vec<f64> = v.iter().copied().collect();
        let fine_x = self.split.merge_into_new(coarse, details, ws);
        let zero = ArrayD::zeros(IxDyn(&self.coarse_shape));
        let fine_v = self.split.merge_into_new(zero.view(), v, ws);
        let mut hv = &fine_v * &fine_x.mapv(|x| self.spec.potential.curvature(x));
        if let Some(q) = &self.spec.differences {
            // Dᵀ diag(ψ''(D x)) D v.
            let fs = self.split.fine_shape();
            let (x, w) = (
                fine_x.as_slice().expect("standard layout"),
                fine_v.as_slice().expect("standard layout"),
            );
            let out = hv.as_slice_mut().expect("standard layout");
            add_difference_hessian(q, [fs[0], fs[1]], x, w, out);
        }
        let (_, d) = self.split.split_into_new(hv.view(), ws);
        let g2 = self.spec.gamma * self.spec.gamma;
        let mut res = ArrayD::from_shape_vec(IxDyn(&self.details_shape), out[..3 * plane].to_vec())
            .expect("sized");
        res.zip_mut_with(&d, |a, b| *a += g2 * b);
        if let Some(kappa) = kappa {
            res.iter_mut()
                .zip(&v_flat)
                .zip(&kappa)
                .for_each(|((a, &b), &k)| *a += k * b);
        }
        res
    }
}

/// Helpers for allocating merges and splits.
trait SplitExt {
    fn merge_into_new(
        &self,
        coarse: ArrayViewD<'_, f64>,
        details: ArrayViewD<'_, f64>,
        ws: &mut Workspace,
    ) -> ArrayD<f64>;
    fn split_into_new(
        &self,
        x: ArrayViewD<'_, f64>,
        ws: &mut Workspace,
    ) -> (ArrayD<f64>, ArrayD<f64>);
}

impl SplitExt for RgSplit {
    fn merge_into_new(
        &self,
        coarse: ArrayViewD<'_, f64>,
        details: ArrayViewD<'_, f64>,
        ws: &mut Workspace,
    ) -> ArrayD<f64> {
        let mut out = ArrayD::zeros(IxDyn(self.fine_shape()));
        self.merge_into(coarse, details, out.view_mut(), ws);
        out
    }
    fn split_into_new(
        &self,
        x: ArrayViewD<'_, f64>,
        ws: &mut Workspace,
    ) -> (ArrayD<f64>, ArrayD<f64>) {
        let mut c = ArrayD::zeros(IxDyn(self.coarse_shape()));
        let mut d = ArrayD::zeros(IxDyn(&self.details_shape()));
        self.split_into(x, c.view_mut(), d.view_mut(), ws);
        (c, d)
    }
}

/// $\bar E_j(\cdot\mid x_j)$ for one fixed coarse field, as an [`Energy`] of the details (what
/// the per-scale MALA samples). Moves that leave the potential's support have energy
/// $+\infty$ and are rejected.
#[derive(Debug, Clone)]
pub struct Conditioned<'a> {
    model: &'a ConditionalEnergy,
    coarse: ArrayViewD<'a, f64>,
    support: Support,
}

impl<'a> Conditioned<'a> {
    /// The conditional law of the details given `coarse`.
    ///
    /// # Errors
    /// A coarse field of the wrong shape or with non-finite values.
    pub fn new(model: &'a ConditionalEnergy, coarse: ArrayViewD<'a, f64>) -> Result<Self> {
        wcrg_core::validate::shape("coarse field", &model.coarse_shape, coarse.shape())?;
        wcrg_core::validate::finite("coarse field", coarse.iter())?;
        Ok(Self {
            model,
            coarse,
            support: Support::Confined,
        })
    }

    /// The same law with another treatment of the potential's support.
    pub fn with_support(mut self, support: Support) -> Self {
        self.support = support;
        self
    }

    /// The conditional energy.
    pub fn model(&self) -> &'a ConditionalEnergy {
        self.model
    }

    /// The conditioning coarse field.
    pub fn coarse(&self) -> ArrayViewD<'a, f64> {
        self.coarse.clone()
    }

    /// How the potential's support is treated.
    pub fn support(&self) -> Support {
        self.support
    }
}

impl Energy for Conditioned<'_> {
    fn shape(&self) -> &[usize] {
        &self.model.details_shape
    }

    fn energy(&self, x: ArrayViewD<'_, f64>, ws: &mut Workspace) -> f64 {
        let mut g = ArrayD::zeros(IxDyn(&self.model.details_shape));
        self.energy_and_gradient(x, g.view_mut(), ws)
    }

    fn energy_and_gradient(
        &self,
        x: ArrayViewD<'_, f64>,
        grad: ArrayViewMutD<'_, f64>,
        ws: &mut Workspace,
    ) -> f64 {
        self.model
            .evaluate(x, self.coarse.view(), grad, None, self.support, ws)
    }
}
