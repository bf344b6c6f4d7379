//! The composition of two linear maps, with its free Gram diagonal.

use std::sync::Arc;

use ndarray::{ArrayD, ArrayViewD, ArrayViewMutD, IxDyn};
use wcrg_core::{Error, LinearMap, Result, Workspace, validate};

/// $y = B(Cx)$: the [`LinearMap`] `outer` $B$ applied to the image of `inner` $C$. The free
/// variables are those of $C$; every entry of $B$'s input must be free (as for
/// [`super::NeighbourDifferences`]), so that $A_{\rm free}^\top = C_{\rm free}^\top B^\top$.
///
/// The free Gram diagonal $(A_{\rm free}A_{\rm free}^\top)_{ee} = \|C_{\rm free}^\top B^\top
/// \delta_e\|^2$ is computed exactly by probing output entries $e$ one at a time:
/// [`Composed::new`] probes all of them; [`Composed::periodic`] probes one period cell of an
/// equivariant map and tiles it.
///
/// With [`super::ImagePotential`] and `NeighbourDifferences ∘ RgReconstruction` it gives a
/// two-site potential on the reconstructed finer field of the WCRG,
/// $\sum_a\sum_u\rho_k\big(x_{j-1}(u + e_a) - x_{j-1}(u)\big)$, as a function of the details.
pub struct Composed {
    outer: Arc<dyn LinearMap>,
    inner: Arc<dyn LinearMap>,
    gram: ArrayD<f64>,
}

impl std::fmt::Debug for Composed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Composed")
            .field("input_shape", &self.inner.input_shape())
            .field("middle_shape", &self.inner.output_shape())
            .field("output_shape", &self.outer.output_shape())
            .finish()
    }
}

/// Deterministic values in $[-1, 1)$ (SplitMix64), for the adjoint check.
fn probe_values(n: usize, seed: u64) -> Vec<f64> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = s;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            (z >> 11) as f64 / (1u64 << 52) as f64 - 1.0
        })
        .collect()
}

impl Composed {
    /// $B\circ C$ with its Gram diagonal probed at every output entry (one adjoint of $B$ and
    /// of $C$ per entry).
    ///
    /// # Errors
    /// When $B$'s input shape is not $C$'s output shape, or when $B$ has fixed input entries
    /// (detected by an adjoint identity on pseudo-random vectors).
    pub fn new(outer: Arc<dyn LinearMap>, inner: Arc<dyn LinearMap>) -> Result<Self> {
        Self::checked(outer, inner, None)
    }

    /// $B\circ C$ for a map equivariant under shifts of its output's trailing axes by `period`
    /// (e.g. `[2, 2]` for differences of a field reconstructed from coarse coefficients of half
    /// its side): the Gram diagonal is probed on the first period cell and tiled. The last cell
    /// is probed too, and a difference from the first is an error.
    ///
    /// # Errors
    /// Those of [`Composed::new`]; a period with more axes than the output, a zero period or one
    /// that does not divide the output's sides; a map that is not equivariant.
    pub fn periodic(
        outer: Arc<dyn LinearMap>,
        inner: Arc<dyn LinearMap>,
        period: &[usize],
    ) -> Result<Self> {
        Self::checked(outer, inner, Some(period))
    }

    fn checked(
        outer: Arc<dyn LinearMap>,
        inner: Arc<dyn LinearMap>,
        period: Option<&[usize]>,
    ) -> Result<Self> {
        validate::shape(
            "outer map input (inner map output)",
            inner.output_shape(),
            outer.input_shape(),
        )?;
        let mut c = Self {
            outer,
            inner,
            gram: ArrayD::zeros(IxDyn(&[])),
        };
        c.check_adjoint()?;
        c.gram = match period {
            None => {
                let n: usize = c.output_shape().iter().product();
                let mut ws = Workspace::new();
                let values: Vec<f64> = (0..n).map(|e| c.probe(e, &mut ws)).collect();
                ArrayD::from_shape_vec(IxDyn(c.output_shape()), values).expect("sized")
            }
            Some(p) => c.tiled_gram(p)?,
        };
        Ok(c)
    }

    /// $\|C_{\rm free}^\top B^\top\delta_e\|^2$ for the flat output entry `e`.
    fn probe(&self, e: usize, ws: &mut Workspace) -> f64 {
        let mut delta = ArrayD::zeros(IxDyn(self.output_shape()));
        delta.as_slice_mut().expect("standard layout")[e] = 1.0;
        let mut z = ArrayD::zeros(IxDyn(self.input_shape()));
        self.adjoint_free(delta.view(), z.view_mut(), ws);
        z.iter().map(|v| v * v).sum()
    }

    fn check_adjoint(&self) -> Result<()> {
        let mut ws = Workspace::new();
        let mid = self.inner.output_shape();
        // x in the free subspace of C: x = C_freeᵀ w.
        let w = ArrayD::from_shape_vec(IxDyn(mid), probe_values(mid.iter().product(), 0x5EED))
            .expect("sized");
        let mut x = ArrayD::zeros(IxDyn(self.input_shape()));
        self.inner.adjoint_free(w.view(), x.view_mut(), &mut ws);
        let v = ArrayD::from_shape_vec(
            IxDyn(self.output_shape()),
            probe_values(self.output_shape().iter().product(), 0xD1CE),
        )
        .expect("sized");
        let mut ax = ArrayD::zeros(IxDyn(self.output_shape()));
        self.apply(x.view(), ax.view_mut(), &mut ws);
        let mut atv = ArrayD::zeros(IxDyn(self.input_shape()));
        self.adjoint_free(v.view(), atv.view_mut(), &mut ws);
        let lhs: f64 = ax.iter().zip(&v).map(|(a, b)| a * b).sum();
        let rhs: f64 = x.iter().zip(&atv).map(|(a, b)| a * b).sum();
        let scale = ax.iter().map(|a| a * a).sum::<f64>().sqrt()
            * v.iter().map(|a| a * a).sum::<f64>().sqrt();
        if (lhs - rhs).abs() > 1e-9 * scale.max(1e-300) {
            return Err(Error::InvalidParameter {
                name: "outer map".into(),
                value: format!("<Ax, v> = {lhs}, <x, Aᵀv> = {rhs}"),
                reason: "the composition's adjoint does not match it: every input entry of the \
                         outer map must be free"
                    .into(),
            });
        }
        Ok(())
    }

    fn tiled_gram(&self, period: &[usize]) -> Result<ArrayD<f64>> {
        let shape = self.output_shape().to_vec();
        let bad = |reason: String| Error::InvalidParameter {
            name: "period".into(),
            value: format!("{period:?} of output {shape:?}"),
            reason,
        };
        if period.is_empty() || period.len() > shape.len() {
            return Err(bad("needs 1 to as many axes as the output".into()));
        }
        let lead = shape.len() - period.len();
        for (&p, &n) in period.iter().zip(&shape[lead..]) {
            if p == 0 || n % p != 0 {
                return Err(bad(
                    "each period must be positive and divide its side".into()
                ));
            }
        }
        let strides: Vec<usize> = (0..shape.len())
            .map(|a| shape[a + 1..].iter().product())
            .collect();
        let mut ws = Workspace::new();
        let mut gram = ArrayD::zeros(IxDyn(&shape));
        let mut cache = std::collections::HashMap::new();
        let mut index = vec![0usize; shape.len()];
        let n: usize = shape.iter().product();
        for flat in 0..n {
            let mut rem = flat;
            for a in 0..shape.len() {
                index[a] = rem / strides[a];
                rem %= strides[a];
            }
            // The representative in the first cell.
            let rep: usize = (0..shape.len())
                .map(|a| {
                    let i = if a < lead {
                        index[a]
                    } else {
                        index[a] % period[a - lead]
                    };
                    i * strides[a]
                })
                .sum();
            let value = *cache.entry(rep).or_insert_with(|| self.probe(rep, &mut ws));
            gram.as_slice_mut().expect("standard layout")[flat] = value;
            // Entries of the last cell: probe them too, they must agree.
            let last = (lead..shape.len()).all(|a| index[a] >= shape[a] - period[a - lead]);
            if last {
                let own = self.probe(flat, &mut ws);
                if (own - value).abs() > 1e-10 * value.abs().max(1e-300) {
                    return Err(bad(format!(
                        "the map is not equivariant under these shifts: Gram entry {own} at \
                         flat index {flat}, {value} at its representative {rep}"
                    )));
                }
            }
        }
        Ok(gram)
    }
}

impl LinearMap for Composed {
    fn input_shape(&self) -> &[usize] {
        self.inner.input_shape()
    }

    fn output_shape(&self) -> &[usize] {
        self.outer.output_shape()
    }

    fn apply(&self, x: ArrayViewD<'_, f64>, y: ArrayViewMutD<'_, f64>, ws: &mut Workspace) {
        let mut mid = ArrayD::zeros(IxDyn(self.inner.output_shape()));
        self.inner.apply(x, mid.view_mut(), ws);
        self.outer.apply(mid.view(), y, ws);
    }

    fn adjoint_free(
        &self,
        v: ArrayViewD<'_, f64>,
        out: ArrayViewMutD<'_, f64>,
        ws: &mut Workspace,
    ) {
        let mut mid = ArrayD::zeros(IxDyn(self.inner.output_shape()));
        self.outer.adjoint_free(v, mid.view_mut(), ws);
        self.inner.adjoint_free(mid.view(), out, ws);
    }

    fn free_gram_diagonal(&self) -> ArrayD<f64> {
        self.gram.clone()
    }
}
