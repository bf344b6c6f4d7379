//! Nearest-neighbour differences of a periodic field, as a [`LinearMap`].

use ndarray::{ArrayD, ArrayViewD, ArrayViewMutD, Axis, IxDyn};
use wcrg_core::{Error, LinearMap, Result, Workspace, validate};

/// $y_a(u) = x(u + e_a) - x(u)$ for each axis $a$ of a periodic field $x$ with 1–3 axes: the
/// output stacks one difference field per axis, shape `(d, spatial…)`. Every entry of $x$ is
/// free, $(AA^\top)_{uu} = 2$.
///
/// With [`super::ImagePotential`] it gives two-site potentials
/// $\sum_a\sum_u\rho_k\big(x(u+e_a) - x(u)\big)$: the law of the field's local differences
/// (the sharpness of interfaces), which neither quadratic couplings nor an on-site potential
/// control.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NeighbourDifferences {
    input: Vec<usize>,
    output: Vec<usize>,
}

impl NeighbourDifferences {
    /// Differences along every axis of a field of shape `shape`.
    ///
    /// # Errors
    /// A shape outside 1–3 axes or with a side below 2.
    pub fn new(shape: &[usize]) -> Result<Self> {
        validate::non_empty("field shape", shape)?;
        if shape.len() > 3 {
            return Err(Error::UnsupportedDimension {
                what: "neighbour differences".into(),
                ndim: shape.len(),
                supported: "1, 2 or 3".into(),
            });
        }
        if let Some(&side) = shape.iter().find(|&&s| s < 2) {
            return Err(Error::InvalidParameter {
                name: "shape".into(),
                value: format!("{shape:?}"),
                reason: format!("a side of {side} has no neighbours"),
            });
        }
        let mut output = vec![shape.len()];
        output.extend_from_slice(shape);
        Ok(Self {
            input: shape.to_vec(),
            output,
        })
    }
}

/// `x` rolled by one site along `axis`, periodically: entry `u` holds `x(u + e_axis)` when
/// `forward`, else `x(u - e_axis)`.
fn rolled(x: &ArrayViewD<'_, f64>, axis: usize, forward: bool) -> ArrayD<f64> {
    let n = x.shape()[axis];
    // Destination ranges and their sources: the bulk, then the wrapped end.
    let (bulk, bulk_src, edge, edge_src) = if forward {
        (0..n - 1, 1..n, n - 1..n, 0..1)
    } else {
        (1..n, 0..n - 1, 0..1, n - 1..n)
    };
    let mut out = ArrayD::zeros(x.raw_dim());
    out.slice_axis_mut(Axis(axis), bulk.into())
        .assign(&x.slice_axis(Axis(axis), bulk_src.into()));
    out.slice_axis_mut(Axis(axis), edge.into())
        .assign(&x.slice_axis(Axis(axis), edge_src.into()));
    out
}

impl LinearMap for NeighbourDifferences {
    fn input_shape(&self) -> &[usize] {
        &self.input
    }

    fn output_shape(&self) -> &[usize] {
        &self.output
    }

    fn apply(&self, x: ArrayViewD<'_, f64>, mut y: ArrayViewMutD<'_, f64>, _ws: &mut Workspace) {
        validate::assert_shape("neighbour differences input", &self.input, x.shape());
        validate::assert_shape("neighbour differences output", &self.output, y.shape());
        for a in 0..self.input.len() {
            let mut ya = y.index_axis_mut(Axis(0), a);
            ya.assign(&rolled(&x, a, true));
            ya -= &x;
        }
    }

    fn adjoint_free(
        &self,
        v: ArrayViewD<'_, f64>,
        mut out: ArrayViewMutD<'_, f64>,
        _ws: &mut Workspace,
    ) {
        validate::assert_shape("neighbour differences weights", &self.output, v.shape());
        validate::assert_shape("neighbour differences adjoint", &self.input, out.shape());
        // (Aᵀv)(u) = Σ_a v_a(u - e_a) - v_a(u).
        out.fill(0.0);
        for a in 0..self.input.len() {
            let va = v.index_axis(Axis(0), a);
            out += &rolled(&va, a, false);
            out -= &va;
        }
    }

    fn free_gram_diagonal(&self) -> ArrayD<f64> {
        ArrayD::from_elem(IxDyn(&self.output), 2.0)
    }
}
