//! Concatenation of feature blocks.

use ndarray::{ArrayView1, ArrayViewD, ArrayViewMut1, ArrayViewMutD, IxDyn, s};
use wcrg_core::{Error, FeatureLaplacian, Features, JacobianBlock, Result, Workspace, validate};

/// The features of several blocks side by side, $\Phi = (\Phi^{(1)}, \Phi^{(2)}, \ldots)$, on
/// one field shape. Blocks written outside this crate against the public traits work unchanged.
pub struct Concat {
    shape: Vec<usize>,
    blocks: Vec<Box<dyn FeatureLaplacian>>,
    offsets: Vec<usize>,
}

#[derive(Default)]
struct Scratch {
    grad: Vec<f64>,
}

impl std::fmt::Debug for Concat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Concat")
            .field("shape", &self.shape)
            .field("offsets", &self.offsets)
            .finish()
    }
}

impl Concat {
    /// Concatenates `blocks`.
    ///
    /// # Errors
    /// No block, or blocks on different field shapes.
    pub fn new(blocks: Vec<Box<dyn FeatureLaplacian>>) -> Result<Self> {
        let shape = blocks
            .first()
            .ok_or(Error::Empty {
                what: "list of feature blocks".into(),
            })?
            .field_shape()
            .to_vec();
        let mut offsets = vec![0];
        for b in &blocks {
            validate::shape("feature block field shape", &shape, b.field_shape())?;
            offsets.push(offsets.last().copied().unwrap_or(0) + b.len());
        }
        Ok(Self {
            shape,
            blocks,
            offsets,
        })
    }

    /// Range of the parameters of block `i`.
    pub fn range(&self, i: usize) -> std::ops::Range<usize> {
        self.offsets[i]..self.offsets[i + 1]
    }
}

impl Features for Concat {
    fn field_shape(&self) -> &[usize] {
        &self.shape
    }

    fn len(&self) -> usize {
        *self.offsets.last().expect("offsets start with 0")
    }

    fn names(&self) -> Vec<String> {
        self.blocks.iter().flat_map(|b| b.names()).collect()
    }

    fn values_into(
        &self,
        x: ArrayViewD<'_, f64>,
        mut out: ArrayViewMut1<'_, f64>,
        ws: &mut Workspace,
    ) {
        validate::assert_shape("concat output", &[self.len()], out.shape());
        for (i, b) in self.blocks.iter().enumerate() {
            let r = self.range(i);
            b.values_into(x.view(), out.slice_mut(s![r.start..r.end]), ws);
        }
    }

    fn pullback_into(
        &self,
        x: ArrayViewD<'_, f64>,
        v: ArrayView1<'_, f64>,
        mut out: ArrayViewMutD<'_, f64>,
        ws: &mut Workspace,
    ) {
        validate::assert_shape("concat pullback", &self.shape, out.shape());
        validate::assert_shape("concat weights", &[self.len()], v.shape());
        out.fill(0.0);
        let mut g = std::mem::take(&mut ws.get::<Scratch>().grad);
        g.resize(out.len(), 0.0);
        for (i, b) in self.blocks.iter().enumerate() {
            let r = self.range(i);
            let mut gv = ArrayViewMutD::from_shape(IxDyn(&self.shape), &mut g).expect("sized");
            b.pullback_into(x.view(), v.slice(s![r.start..r.end]), gv.view_mut(), ws);
            out.zip_mut_with(&gv, |o, &a| *o += a);
        }
        ws.get::<Scratch>().grad = g;
    }
}

impl FeatureLaplacian for Concat {
    fn laplacian_into(
        &self,
        x: ArrayViewD<'_, f64>,
        mut out: ArrayViewMut1<'_, f64>,
        ws: &mut Workspace,
    ) {
        validate::assert_shape("concat output", &[self.len()], out.shape());
        for (i, b) in self.blocks.iter().enumerate() {
            let r = self.range(i);
            b.laplacian_into(x.view(), out.slice_mut(s![r.start..r.end]), ws);
        }
    }

    fn jacobian_blocks(&self, x: ArrayViewD<'_, f64>, ws: &mut Workspace) -> Vec<JacobianBlock> {
        self.blocks
            .iter()
            .flat_map(|b| b.jacobian_blocks(x.view(), ws))
            .collect()
    }
}
