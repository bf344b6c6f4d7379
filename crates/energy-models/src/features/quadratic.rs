//! Quadratic couplings $\frac12\sum_u x(u)x(u-s)$.

use ndarray::{ArrayView1, ArrayViewD, ArrayViewMut1, ArrayViewMutD};
use wcrg_core::{Error, FeatureLaplacian, Features, JacobianBlock, Result, Workspace, validate};

/// $\Phi_s(x) = \frac12\sum_u x(u)\,x(u - s)$ for each shift $s$ of a list, periodic.
///
/// Since $\Phi_s = \Phi_{-s}$, shifts are kept up to sign ([`QuadraticCouplings::window`] lists each
/// once). Derivatives: $\partial\Phi_s/\partial x(v) = \frac12\big(x(v-s) + x(v+s)\big)$ and
/// $\Delta\Phi_s = N\,[s = 0]$ ($N$ sites).
#[derive(Debug, Clone, PartialEq)]
pub struct QuadraticCouplings {
    shape: Vec<usize>,
    shifts: Vec<Vec<isize>>,
}

#[derive(Default)]
struct Scratch {
    buf: Vec<f64>,
}

impl QuadraticCouplings {
    /// Couplings for the given shifts.
    ///
    /// # Errors
    /// A shape outside 1–3 axes or with a zero size; a shift of the wrong length; a shift listed
    /// twice (up to sign), which would make the features linearly dependent.
    pub fn new(shape: &[usize], shifts: Vec<Vec<isize>>) -> Result<Self> {
        validate::non_empty("field shape", shape)?;
        if shape.len() > 3 {
            return Err(Error::UnsupportedDimension {
                what: "quadratic couplings".into(),
                ndim: shape.len(),
                supported: "1, 2 or 3".into(),
            });
        }
        let canon = |s: &[isize]| -> Vec<usize> {
            s.iter()
                .zip(shape)
                .map(|(&v, &n)| v.rem_euclid(n as isize) as usize)
                .collect()
        };
        let mut seen: Vec<Vec<usize>> = Vec::new();
        for s in &shifts {
            if s.len() != shape.len() {
                return Err(Error::ShapeMismatch {
                    what: "shift".into(),
                    expected: vec![shape.len()],
                    actual: vec![s.len()],
                });
            }
            let neg: Vec<isize> = s.iter().map(|v| -v).collect();
            let (a, b) = (canon(s), canon(&neg));
            if seen.contains(&a) || seen.contains(&b) {
                return Err(Error::InvalidParameter {
                    name: "shifts".into(),
                    value: format!("{s:?}"),
                    reason: "listed twice (s and -s give the same feature)".into(),
                });
            }
            seen.push(a);
        }
        Ok(Self {
            shape: shape.to_vec(),
            shifts,
        })
    }

    /// Every shift with $\|s\|_\infty \le r$, once up to sign, the zero shift first.
    ///
    /// # Errors
    /// As [`QuadraticCouplings::new`]; `2r + 1` larger than a size (shifts would alias).
    pub fn window(shape: &[usize], r: usize) -> Result<Self> {
        if let Some(&n) = shape.iter().find(|&&n| 2 * r + 1 > n) {
            return Err(Error::InvalidParameter {
                name: "window radius".into(),
                value: r.to_string(),
                reason: format!("2r + 1 must not exceed the size {n}"),
            });
        }
        let d = shape.len();
        let side = 2 * r + 1;
        let mut shifts = Vec::new();
        for i in 0..side.pow(d as u32) {
            let s: Vec<isize> = (0..d)
                .map(|a| ((i / side.pow((d - 1 - a) as u32)) % side) as isize - r as isize)
                .collect();
            // Keep s if it is lexicographically >= 0 (first non-zero entry positive).
            if s.iter().find(|&&v| v != 0).is_none_or(|&v| v > 0) {
                shifts.push(s);
            }
        }
        shifts.sort_by_key(|s| (s.iter().map(|v| v.unsigned_abs()).sum::<usize>(), s.clone()));
        Self::new(shape, shifts)
    }

    /// The shifts.
    pub fn shifts(&self) -> &[Vec<isize>] {
        &self.shifts
    }

    /// `x[u + s]` for every u (periodic), written into `out`: row by row along the last axis,
    /// each row a rotated copy of the source row.
    fn shifted(&self, x: &[f64], s: &[isize], out: &mut Vec<f64>) {
        let shape = &self.shape;
        let d = shape.len();
        let last = shape[d - 1];
        out.clear();
        out.resize(x.len(), 0.0);
        let rot = s[d - 1].rem_euclid(last as isize) as usize;
        for (r, dst) in out.chunks_exact_mut(last).enumerate() {
            // The source row: the leading coordinates of row r, shifted.
            let (mut rem, mut src_row, mut stride) = (r, 0, 1);
            for a in (0..d - 1).rev() {
                let c = rem % shape[a];
                rem /= shape[a];
                src_row += (c as isize + s[a]).rem_euclid(shape[a] as isize) as usize * stride;
                stride *= shape[a];
            }
            let src = &x[src_row * last..(src_row + 1) * last];
            let (head, tail) = dst.split_at_mut(last - rot);
            head.copy_from_slice(&src[rot..]);
            tail.copy_from_slice(&src[..rot]);
        }
    }

    fn contiguous<'a>(&self, x: &'a ArrayViewD<'_, f64>) -> std::borrow::Cow<'a, [f64]> {
        validate::assert_shape("quadratic couplings field", &self.shape, x.shape());
        match x.as_slice() {
            Some(s) => std::borrow::Cow::Borrowed(s),
            None => std::borrow::Cow::Owned(x.iter().copied().collect()),
        }
    }
}

impl Features for QuadraticCouplings {
    fn field_shape(&self) -> &[usize] {
        &self.shape
    }

    fn len(&self) -> usize {
        self.shifts.len()
    }

    fn names(&self) -> Vec<String> {
        self.shifts
            .iter()
            .map(|s| format!("1/2 sum x(u) x(u - {s:?})"))
            .collect()
    }

    fn values_into(
        &self,
        x: ArrayViewD<'_, f64>,
        mut out: ArrayViewMut1<'_, f64>,
        ws: &mut Workspace,
    ) {
        validate::assert_shape("quadratic couplings output", &[self.len()], out.shape());
        let x = self.contiguous(&x);
        let buf = &mut ws.get::<Scratch>().buf;
        for (k, s) in self.shifts.iter().enumerate() {
            let neg: Vec<isize> = s.iter().map(|v| -v).collect();
            self.shifted(&x, &neg, buf);
            out[k] = 0.5 * x.iter().zip(buf.iter()).map(|(a, b)| a * b).sum::<f64>();
        }
    }

    fn pullback_into(
        &self,
        x: ArrayViewD<'_, f64>,
        v: ArrayView1<'_, f64>,
        mut out: ArrayViewMutD<'_, f64>,
        ws: &mut Workspace,
    ) {
        validate::assert_shape("quadratic couplings pullback", &self.shape, out.shape());
        validate::assert_shape("quadratic couplings weights", &[self.len()], v.shape());
        let x = self.contiguous(&x);
        out.fill(0.0);
        let buf = &mut ws.get::<Scratch>().buf;
        for (k, s) in self.shifts.iter().enumerate() {
            let neg: Vec<isize> = s.iter().map(|v| -v).collect();
            for sh in [s.as_slice(), neg.as_slice()] {
                self.shifted(&x, sh, buf);
                out.iter_mut()
                    .zip(buf.iter())
                    .for_each(|(o, b)| *o += 0.5 * v[k] * b);
            }
        }
    }
}

impl FeatureLaplacian for QuadraticCouplings {
    fn laplacian_into(
        &self,
        x: ArrayViewD<'_, f64>,
        mut out: ArrayViewMut1<'_, f64>,
        _ws: &mut Workspace,
    ) {
        validate::assert_shape("quadratic couplings field", &self.shape, x.shape());
        validate::assert_shape("quadratic couplings output", &[self.len()], out.shape());
        let n: usize = self.shape.iter().product();
        for (o, s) in out.iter_mut().zip(&self.shifts) {
            let zero = s
                .iter()
                .zip(&self.shape)
                .all(|(&v, &l)| v.rem_euclid(l as isize) == 0);
            *o = if zero { n as f64 } else { 0.0 };
        }
    }

    fn jacobian_blocks(&self, x: ArrayViewD<'_, f64>, _ws: &mut Workspace) -> Vec<JacobianBlock> {
        validate::assert_shape("quadratic couplings field", &self.shape, x.shape());
        vec![JacobianBlock::Shifts(self.shifts.clone())]
    }
}
