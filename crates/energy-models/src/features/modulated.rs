//! Local stiffnesses of the free channels that depend on the conditioning channels.

use ndarray::{Array2, ArrayView1, ArrayViewD, ArrayViewMut1, ArrayViewMutD};
use wcrg_core::{Error, FeatureLaplacian, Features, JacobianBlock, Result, Workspace, validate};

use super::Basis;

/// A local function of the conditioning channels, $g(u) = \sum_i w_i\,x_{c}(u + s_i)$ (periodic),
/// with a 1-D basis $\{\rho_k\}$ of functions of it, optionally clamped to a range $[a, b]$
/// first: the features then use $\rho_k(\min(\max(g, a), b))$, so that a basis of bumps
/// holds its values at the ends of the range instead of decaying to zero beyond them.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Modulator {
    /// The conditioning channel $c$ the stencil reads.
    pub channel: usize,
    /// The stencil: `(shift s_i, weight w_i)`.
    pub stencil: Vec<(Vec<isize>, f64)>,
    /// The basis $\{\rho_k\}$ of functions of $g$.
    pub basis: Basis,
    /// The range $[a, b]$ that $g$ is clamped to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clamp: Option<[f64; 2]>,
}

impl Modulator {
    /// $g(u) = x_c(u)$, the conditioning value itself.
    pub fn value(channel: usize, ndim: usize, basis: Basis) -> Self {
        Self {
            channel,
            stencil: vec![(vec![0; ndim], 1.0)],
            basis,
            clamp: None,
        }
    }

    /// The same with $g$ clamped to `[a, b]`.
    pub fn clamped(mut self, range: [f64; 2]) -> Self {
        self.clamp = Some(range);
        self
    }

    /// $g(u) = \frac12\big(x_c(u + e_a) - x_c(u - e_a)\big)$, the central difference along
    /// spatial axis `axis` (of `ndim`).
    pub fn central_difference(channel: usize, ndim: usize, axis: usize, basis: Basis) -> Self {
        let mut plus = vec![0; ndim];
        let mut minus = vec![0; ndim];
        plus[axis] = 1;
        minus[axis] = -1;
        Self {
            channel,
            stencil: vec![(plus, 0.5), (minus, -0.5)],
            basis,
            clamp: None,
        }
    }
}

/// $\Phi_{c,m,k}(x) = \frac12\sum_u x_c(u)^2\,\rho_{m,k}\big(g_m(u)\big)$ for every free channel
/// $c$, every [`Modulator`] $g_m$ (a local function of the conditioning channels) and every
/// function $\rho_{m,k}$ of its basis: a stiffness of each free variable that depends on the
/// conditioning field around it, on a field of shape `(C, spatial…)`.
///
/// With $\theta$, the energy $\theta^\top\Phi = \frac12\sum_{c,u} \kappa_c(u)\,x_c(u)^2$ has the
/// site stiffness $\kappa_c(u) = \sum_{m,k}\theta_{c,m,k}\,\rho_{m,k}(g_m(u))$, fixed by the
/// conditioning channels. Derivatives are taken with respect to the free channels only:
/// $\partial\Phi_{c,m,k}/\partial x_c(u) = x_c(u)\rho_{m,k}(g_m(u))$ and
/// $\Delta\Phi_{c,m,k} = \sum_u\rho_{m,k}(g_m(u))$. In the WCRG it lets the variance of the
/// details follow the local coarse field (its value, its gradients: the interfaces).
///
/// Feature order: free channel (outer), modulator, basis function (inner).
#[derive(Debug, Clone, PartialEq)]
pub struct ModulatedStiffness {
    shape: Vec<usize>,
    free: Vec<bool>,
    modulators: Vec<Modulator>,
    /// Per modulator and stencil entry, the flat source index of every site.
    sources: Vec<Vec<Vec<usize>>>,
}

impl ModulatedStiffness {
    /// The block on fields of shape `shape = (C, spatial…)`, `free[c]` saying whether channel `c`
    /// is a free variable.
    ///
    /// # Errors
    /// A shape without spatial axes or with more than 3; `free` of the wrong length or with no
    /// free channel; no modulator; a modulator reading a free or missing channel, with an empty
    /// stencil, shifts of the wrong length or non-finite weights, or an empty or invalid basis.
    pub fn new(shape: &[usize], free: Vec<bool>, modulators: Vec<Modulator>) -> Result<Self> {
        super::channels::check_channel_layout("modulated stiffness", shape, &free)?;
        if modulators.is_empty() {
            return Err(Error::Empty {
                what: "modulators".into(),
            });
        }
        let spatial = &shape[1..];
        let n: usize = spatial.iter().product();
        let mut sources = Vec::with_capacity(modulators.len());
        for (i, m) in modulators.iter().enumerate() {
            let bad = |reason: String| Error::InvalidParameter {
                name: format!("modulator {i}"),
                value: format!("channel {}, stencil {:?}", m.channel, m.stencil),
                reason,
            };
            if m.channel >= shape[0] || free[m.channel] {
                return Err(bad("must read a conditioning (not free) channel".into()));
            }
            if m.stencil.is_empty() {
                return Err(bad("empty stencil".into()));
            }
            if m.stencil.iter().any(|(s, _)| s.len() != spatial.len()) {
                return Err(bad(format!("shifts need {} components", spatial.len())));
            }
            validate::finite("stencil weights", m.stencil.iter().map(|(_, w)| w))?;
            if let Some([a, b]) = m.clamp
                && !(a.is_finite() && b.is_finite() && a <= b)
            {
                return Err(bad(format!(
                    "clamp range [{a}, {b}] is not a finite interval"
                )));
            }
            // Validates the basis like `ScalarPotential` does.
            super::ScalarPotential::new(spatial, m.basis.clone())?;
            sources.push(
                m.stencil
                    .iter()
                    .map(|(s, _)| {
                        (0..n)
                            .map(|flat| {
                                let mut rest = flat;
                                let mut ix = vec![0; spatial.len()];
                                for a in (0..spatial.len()).rev() {
                                    ix[a] = rest % spatial[a];
                                    rest /= spatial[a];
                                }
                                ix.iter()
                                    .zip(s)
                                    .zip(spatial)
                                    .fold(0, |acc, ((&i, &d), &len)| {
                                        acc * len
                                            + (i as isize + d).rem_euclid(len as isize) as usize
                                    })
                            })
                            .collect()
                    })
                    .collect(),
            );
        }
        Ok(Self {
            shape: shape.to_vec(),
            free,
            modulators,
            sources,
        })
    }

    /// The modulators.
    pub fn modulators(&self) -> &[Modulator] {
        &self.modulators
    }

    /// The modulations $g_m(u)$ of `x`: for each modulator, one plane (row-major), clamped to
    /// its range if it has one.
    ///
    /// # Panics
    /// When `x` is not of the block's shape.
    pub fn modulations(&self, x: ArrayViewD<'_, f64>) -> Vec<Vec<f64>> {
        self.prepare(x).1
    }

    /// The free channels, in feature order.
    pub fn free_channels(&self) -> Vec<usize> {
        (0..self.shape[0]).filter(|&c| self.free[c]).collect()
    }

    /// The site stiffnesses $\kappa_c(u)$ of the energy $\theta^\top\Phi$: for each free channel
    /// in order, one plane (row-major). They depend on the conditioning channels of `x` only.
    ///
    /// # Panics
    /// When `x` is not of the block's shape or `theta` not of its length.
    pub fn stiffness(&self, x: ArrayViewD<'_, f64>, theta: &[f64]) -> Vec<f64> {
        self.check_theta(theta);
        let (_, g) = self.prepare(x);
        let n = self.plane();
        let free = self.free_channels();
        let mut kappa = vec![0.0; free.len() * n];
        self.for_each_feature(|a, c, m, k| {
            let plane = free.iter().position(|&f| f == c).expect("a free channel");
            let basis = &self.modulators[m].basis;
            for (o, &t) in kappa[plane * n..(plane + 1) * n].iter_mut().zip(&g[m]) {
                *o += theta[a] * basis.eval(k, t).0;
            }
        });
        kappa
    }

    /// Adds to `out` (the block's shape) the gradient of $\theta^\top\Phi$ with respect to the
    /// *conditioning* channels, $\frac12\sum_{c,u}x_c(u)^2\,\partial\kappa_c(u)/\partial x$,
    /// which [`Features::pullback_into`] leaves out (it is zero on conditioning channels).
    ///
    /// # Panics
    /// When `x` or `out` is not of the block's shape or `theta` not of its length.
    pub fn add_conditioning_gradient(
        &self,
        x: ArrayViewD<'_, f64>,
        theta: &[f64],
        mut out: ArrayViewMutD<'_, f64>,
    ) {
        validate::assert_shape("modulated stiffness gradient", &self.shape, out.shape());
        self.check_theta(theta);
        let (x, g) = self.prepare(x);
        let n = self.plane();
        // dE/dg_m(u) = ½ Σ_c x_c(u)² Σ_k θ ρ'_k(g_m(u)), zero where g_m is clamped.
        let mut dg = vec![vec![0.0; n]; self.modulators.len()];
        self.for_each_feature(|a, c, m, k| {
            let md = &self.modulators[m];
            for ((o, &t), &xv) in dg[m].iter_mut().zip(&g[m]).zip(&x[c * n..(c + 1) * n]) {
                let inside = md.clamp.is_none_or(|[lo, hi]| lo < t && t < hi);
                if inside {
                    *o += 0.5 * theta[a] * xv * xv * md.basis.eval(k, t).1;
                }
            }
        });
        let mut grad = vec![0.0; x.len()];
        for ((md, src), d) in self.modulators.iter().zip(&self.sources).zip(&dg) {
            let base = md.channel * n;
            for ((_, w), idx) in md.stencil.iter().zip(src) {
                for (&i, &v) in idx.iter().zip(d) {
                    grad[base + i] += w * v;
                }
            }
        }
        out.iter_mut().zip(&grad).for_each(|(o, &v)| *o += v);
    }

    fn plane(&self) -> usize {
        self.shape[1..].iter().product()
    }

    fn check_theta(&self, theta: &[f64]) {
        let expected = [self.len()];
        validate::assert_shape(
            "modulated stiffness coefficients",
            &expected,
            &[theta.len()],
        );
    }

    /// The field's values in row-major order (after checking its shape) and its modulations.
    fn prepare(&self, x: ArrayViewD<'_, f64>) -> (Vec<f64>, Vec<Vec<f64>>) {
        validate::assert_shape("modulated stiffness field", &self.shape, x.shape());
        let flat: Vec<f64> = x.iter().copied().collect();
        let g = self.flat_modulations(&flat);
        (flat, g)
    }

    /// $g_m(u)$ for every modulator, from the field's flat values, clamped to the modulator's
    /// range (values at a bound stand for the whole region beyond it, where
    /// $\partial\rho(g)/\partial x = 0$: see [`Self::add_conditioning_gradient`]).
    fn flat_modulations(&self, x: &[f64]) -> Vec<Vec<f64>> {
        let n = self.plane();
        self.modulators
            .iter()
            .zip(&self.sources)
            .map(|(m, src)| {
                let base = m.channel * n;
                let mut g = vec![0.0; n];
                for ((_, w), idx) in m.stencil.iter().zip(src) {
                    for (o, &i) in g.iter_mut().zip(idx) {
                        *o += w * x[base + i];
                    }
                }
                if let Some([a, b]) = m.clamp {
                    g.iter_mut().for_each(|v| *v = v.clamp(a, b));
                }
                g
            })
            .collect()
    }

    /// Calls `f(feature, channel, modulator, k)` in feature order.
    fn for_each_feature(&self, mut f: impl FnMut(usize, usize, usize, usize)) {
        let mut a = 0;
        for c in self.free_channels() {
            for (m, md) in self.modulators.iter().enumerate() {
                for k in 0..md.basis.len() {
                    f(a, c, m, k);
                    a += 1;
                }
            }
        }
    }
}

impl Features for ModulatedStiffness {
    fn field_shape(&self) -> &[usize] {
        &self.shape
    }

    fn len(&self) -> usize {
        let per: usize = self.modulators.iter().map(|m| m.basis.len()).sum();
        self.free.iter().filter(|&&f| f).count() * per
    }

    fn names(&self) -> Vec<String> {
        let mut out = Vec::with_capacity(self.len());
        self.for_each_feature(|_, c, m, k| {
            out.push(format!(
                "1/2 sum x{c}(u)^2 rho(g{m}(u)), rho = {}",
                self.modulators[m].basis.name(k)
            ))
        });
        out
    }

    fn values_into(
        &self,
        x: ArrayViewD<'_, f64>,
        mut out: ArrayViewMut1<'_, f64>,
        _ws: &mut Workspace,
    ) {
        validate::assert_shape("modulated stiffness output", &[self.len()], out.shape());
        let (x, g) = self.prepare(x);
        let n = self.plane();
        self.for_each_feature(|a, c, m, k| {
            let basis = &self.modulators[m].basis;
            out[a] = 0.5
                * x[c * n..(c + 1) * n]
                    .iter()
                    .zip(&g[m])
                    .map(|(&v, &t)| v * v * basis.eval(k, t).0)
                    .sum::<f64>();
        });
    }

    fn pullback_into(
        &self,
        x: ArrayViewD<'_, f64>,
        v: ArrayView1<'_, f64>,
        mut out: ArrayViewMutD<'_, f64>,
        _ws: &mut Workspace,
    ) {
        validate::assert_shape("modulated stiffness pullback", &self.shape, out.shape());
        validate::assert_shape("modulated stiffness weights", &[self.len()], v.shape());
        let (x, g) = self.prepare(x);
        let n = self.plane();
        let mut grad = vec![0.0; x.len()];
        self.for_each_feature(|a, c, m, k| {
            let basis = &self.modulators[m].basis;
            for ((o, &xv), &t) in grad[c * n..(c + 1) * n]
                .iter_mut()
                .zip(&x[c * n..(c + 1) * n])
                .zip(&g[m])
            {
                *o += v[a] * xv * basis.eval(k, t).0;
            }
        });
        out.iter_mut().zip(&grad).for_each(|(o, &v)| *o = v);
    }
}

impl FeatureLaplacian for ModulatedStiffness {
    fn laplacian_into(
        &self,
        x: ArrayViewD<'_, f64>,
        mut out: ArrayViewMut1<'_, f64>,
        _ws: &mut Workspace,
    ) {
        validate::assert_shape("modulated stiffness output", &[self.len()], out.shape());
        let (_, g) = self.prepare(x);
        self.for_each_feature(|a, _, m, k| {
            let basis = &self.modulators[m].basis;
            out[a] = g[m].iter().map(|&t| basis.eval(k, t).0).sum();
        });
    }

    fn jacobian_blocks(&self, x: ArrayViewD<'_, f64>, _ws: &mut Workspace) -> Vec<JacobianBlock> {
        let (x, g) = self.prepare(x);
        let n = self.plane();
        let mut rows = Array2::zeros((self.len(), x.len()));
        self.for_each_feature(|a, c, m, k| {
            let basis = &self.modulators[m].basis;
            let mut row = rows.row_mut(a);
            for u in 0..n {
                row[c * n + u] = x[c * n + u] * basis.eval(k, g[m][u]).0;
            }
        });
        vec![JacobianBlock::Dense(rows)]
    }
}
