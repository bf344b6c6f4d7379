//! Quadratic couplings between the channels of a multi-channel field, some held fixed.

use ndarray::{ArrayView1, ArrayViewD, ArrayViewMut1, ArrayViewMutD, Axis};
use wcrg_core::{Error, FeatureLaplacian, Features, JacobianBlock, Result, Workspace, validate};

/// Couplings $\Phi_{c,d,s}(x) = \frac12\sum_u x_c(u)\,x_d(u - s)$ between the channels of a field
/// of shape `(C, spatial…)`, for every pair $c \le d$ and every shift $\|s\|_\infty \le r$
/// (for $c = d$ once up to sign), periodic in space.
///
/// Channels marked *conditioning* are held fixed: pairs of two conditioning channels are left
/// out, derivatives are taken with respect to the free channels only (the pullback is zero on
/// conditioning channels) and so is the Laplacian. This is the coupling block of a conditional
/// model $\bar E(\bar x \mid x)$ whose field stacks the free details $\bar x$ and the
/// conditioning coarse field $x$.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelCouplings {
    shape: Vec<usize>,
    free: Vec<bool>,
    features: Vec<(usize, usize, Vec<isize>)>,
}

impl ChannelCouplings {
    /// Couplings of radius `r` on fields of shape `shape = (C, spatial…)`; `free[c]` says
    /// whether channel `c` is a free variable.
    ///
    /// # Errors
    /// A shape without spatial axes or with more than 3; `free` of the wrong length or with no
    /// free channel; `2r + 1` larger than a spatial size.
    pub fn window(shape: &[usize], free: Vec<bool>, r: usize) -> Result<Self> {
        check_channel_layout("channel couplings", shape, &free)?;
        let spatial = &shape[1..];
        if let Some(&n) = spatial.iter().find(|&&n| 2 * r + 1 > n) {
            return Err(Error::InvalidParameter {
                name: "window radius".into(),
                value: r.to_string(),
                reason: format!("2r + 1 must not exceed the size {n}"),
            });
        }
        let d = spatial.len();
        let side = 2 * r + 1;
        let all: Vec<Vec<isize>> = (0..side.pow(d as u32))
            .map(|i| {
                (0..d)
                    .map(|a| ((i / side.pow((d - 1 - a) as u32)) % side) as isize - r as isize)
                    .collect()
            })
            .collect();
        let half: Vec<&Vec<isize>> = all
            .iter()
            .filter(|s| s.iter().find(|&&v| v != 0).is_none_or(|&v| v > 0))
            .collect();
        let mut features = Vec::new();
        for c in 0..shape[0] {
            for dch in c..shape[0] {
                if !free[c] && !free[dch] {
                    continue;
                }
                let shifts: Vec<&Vec<isize>> = if c == dch {
                    half.clone()
                } else {
                    all.iter().collect()
                };
                features.extend(shifts.into_iter().map(|s| (c, dch, s.clone())));
            }
        }
        Ok(Self {
            shape: shape.to_vec(),
            free,
            features,
        })
    }

    /// `(c, d, s)` of every feature.
    pub fn features(&self) -> &[(usize, usize, Vec<isize>)] {
        &self.features
    }

    fn spatial(&self) -> &[usize] {
        &self.shape[1..]
    }

    /// The spatial sizes and the shift `sign · s` (reduced modulo the sizes) padded to three
    /// axes, with leading axes of size 1 and shift 0.
    fn padded(&self, s: &[isize], sign: isize) -> ([usize; 3], [usize; 3]) {
        let sp = self.spatial();
        let mut n = [1usize; 3];
        let mut sh = [0usize; 3];
        let pad = 3 - sp.len();
        for a in 0..sp.len() {
            n[pad + a] = sp[a];
            sh[pad + a] = (sign * s[a]).rem_euclid(sp[a] as isize) as usize;
        }
        (n, sh)
    }

    /// $\sum_u a(u)\,b(u - s)$ (periodic) of two channels in row-major order, without a
    /// shifted copy: along the last axis each row splits into two contiguous dot products.
    fn shifted_dot(&self, a: &[f64], b: &[f64], s: &[isize]) -> f64 {
        let (n, sh) = self.padded(s, -1);
        let dot = |x: &[f64], y: &[f64]| x.iter().zip(y).map(|(p, q)| p * q).sum::<f64>();
        let mut total = 0.0;
        for i0 in 0..n[0] {
            let j0 = (i0 + sh[0]) % n[0];
            for i1 in 0..n[1] {
                let j1 = (i1 + sh[1]) % n[1];
                let ra = &a[(i0 * n[1] + i1) * n[2]..(i0 * n[1] + i1 + 1) * n[2]];
                let rb = &b[(j0 * n[1] + j1) * n[2]..(j0 * n[1] + j1 + 1) * n[2]];
                let cut = n[2] - sh[2];
                total += dot(&ra[..cut], &rb[sh[2]..]) + dot(&ra[cut..], &rb[..sh[2]]);
            }
        }
        total
    }

    /// `y(u) = x(u + s)` for one channel (periodic), in row-major order.
    fn shifted(&self, x: ArrayViewD<'_, f64>, s: &[isize]) -> Vec<f64> {
        let (n, sh) = self.padded(s, 1);
        let flat: Vec<f64>;
        let src: &[f64] = match x.as_slice() {
            Some(v) => v,
            None => {
                flat = x.iter().copied().collect();
                &flat
            }
        };
        let mut out = Vec::with_capacity(src.len());
        for i0 in 0..n[0] {
            let j0 = (i0 + sh[0]) % n[0];
            for i1 in 0..n[1] {
                let j1 = (i1 + sh[1]) % n[1];
                let row = &src[(j0 * n[1] + j1) * n[2]..(j0 * n[1] + j1 + 1) * n[2]];
                out.extend_from_slice(&row[sh[2]..]);
                out.extend_from_slice(&row[..sh[2]]);
            }
        }
        out
    }
}

/// Checks a `(C, spatial…)` field shape (1–3 spatial axes) and its free-channel mask (length
/// `C`, at least one free channel), for the block named `what`.
pub(super) fn check_channel_layout(what: &str, shape: &[usize], free: &[bool]) -> Result<()> {
    validate::non_empty("field shape", shape)?;
    if !(2..=4).contains(&shape.len()) {
        return Err(Error::UnsupportedDimension {
            what: format!("{what} (channels + 1-3 spatial axes)"),
            ndim: shape.len(),
            supported: "2, 3 or 4".into(),
        });
    }
    validate::shape("free-channel mask", &[shape[0]], &[free.len()])?;
    if !free.contains(&true) {
        return Err(Error::InvalidParameter {
            name: "free".into(),
            value: format!("{free:?}"),
            reason: "at least one channel must be free".into(),
        });
    }
    Ok(())
}

impl Features for ChannelCouplings {
    fn field_shape(&self) -> &[usize] {
        &self.shape
    }

    fn len(&self) -> usize {
        self.features.len()
    }

    fn names(&self) -> Vec<String> {
        self.features
            .iter()
            .map(|(c, d, s)| format!("1/2 sum x{c}(u) x{d}(u - {s:?})"))
            .collect()
    }

    fn values_into(
        &self,
        x: ArrayViewD<'_, f64>,
        mut out: ArrayViewMut1<'_, f64>,
        _ws: &mut Workspace,
    ) {
        validate::assert_shape("channel couplings field", &self.shape, x.shape());
        validate::assert_shape("channel couplings output", &[self.len()], out.shape());
        let owned;
        let flat: &[f64] = match x.as_slice() {
            Some(v) => v,
            None => {
                owned = x.iter().copied().collect::<Vec<f64>>();
                &owned
            }
        };
        let size: usize = self.spatial().iter().product();
        let channel = |c: usize| &flat[c * size..(c + 1) * size];
        for (o, (c, d, s)) in out.iter_mut().zip(&self.features) {
            *o = 0.5 * self.shifted_dot(channel(*c), channel(*d), s);
        }
    }

    fn pullback_into(
        &self,
        x: ArrayViewD<'_, f64>,
        v: ArrayView1<'_, f64>,
        mut out: ArrayViewMutD<'_, f64>,
        _ws: &mut Workspace,
    ) {
        validate::assert_shape("channel couplings field", &self.shape, x.shape());
        validate::assert_shape("channel couplings pullback", &self.shape, out.shape());
        validate::assert_shape("channel couplings weights", &[self.len()], v.shape());
        out.fill(0.0);
        // d/dx_c(u) of ½Σ x_c(u) x_d(u−s) is ½ x_d(u − s); d/dx_d(u) is ½ x_c(u + s).
        for (k, (c, d, s)) in self.features.iter().enumerate() {
            let neg: Vec<isize> = s.iter().map(|v| -v).collect();
            for (target, other, shift) in [(*c, *d, &neg), (*d, *c, s)] {
                if !self.free[target] {
                    continue;
                }
                let y = self.shifted(x.index_axis(Axis(0), other), shift);
                out.index_axis_mut(Axis(0), target)
                    .iter_mut()
                    .zip(&y)
                    .for_each(|(o, b)| *o += 0.5 * v[k] * b);
            }
        }
    }
}

impl FeatureLaplacian for ChannelCouplings {
    fn laplacian_into(
        &self,
        x: ArrayViewD<'_, f64>,
        mut out: ArrayViewMut1<'_, f64>,
        _ws: &mut Workspace,
    ) {
        validate::assert_shape("channel couplings field", &self.shape, x.shape());
        validate::assert_shape("channel couplings output", &[self.len()], out.shape());
        let n: usize = self.spatial().iter().product();
        for (o, (c, d, s)) in out.iter_mut().zip(&self.features) {
            let zero = s.iter().all(|&v| v == 0);
            *o = if c == d && zero && self.free[*c] {
                n as f64
            } else {
                0.0
            };
        }
    }

    fn jacobian_blocks(&self, x: ArrayViewD<'_, f64>, _ws: &mut Workspace) -> Vec<JacobianBlock> {
        validate::assert_shape("channel couplings field", &self.shape, x.shape());
        vec![JacobianBlock::ChannelShifts {
            free: self.free.clone(),
            features: self.features.clone(),
        }]
    }
}
