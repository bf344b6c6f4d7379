//! Periodic hypercubic lattices: neighbour tables and checkerboard colours.

use wcrg_core::{Error, Result};

/// A periodic lattice of shape `shape` (1–3 axes, every size at least 2), with a precomputed
/// table of forward and backward neighbours along every axis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lattice {
    shape: Vec<usize>,
    /// `fwd[site * d + mu]`: the site at `+e_mu`.
    fwd: Vec<u32>,
    /// `bwd[site * d + mu]`: the site at `-e_mu`.
    bwd: Vec<u32>,
}

impl Lattice {
    /// A periodic lattice.
    ///
    /// # Errors
    /// [`Error::UnsupportedDimension`] outside 1–3 axes; [`Error::InvalidParameter`] when a size
    /// is below 2 or the lattice has more than `u32::MAX` sites.
    pub fn new(shape: &[usize]) -> Result<Self> {
        if !(1..=3).contains(&shape.len()) {
            return Err(Error::UnsupportedDimension {
                what: "lattice".into(),
                ndim: shape.len(),
                supported: "1, 2 or 3".into(),
            });
        }
        if let Some(&s) = shape.iter().find(|&&s| s < 2) {
            return Err(Error::InvalidParameter {
                name: "lattice shape".into(),
                value: format!("{shape:?}"),
                reason: format!("every size must be at least 2 (got {s})"),
            });
        }
        let n: usize = shape.iter().product();
        if n > u32::MAX as usize {
            return Err(Error::InvalidParameter {
                name: "lattice shape".into(),
                value: format!("{shape:?}"),
                reason: "more than u32::MAX sites".into(),
            });
        }
        let d = shape.len();
        let mut strides = vec![1usize; d];
        for a in (0..d - 1).rev() {
            strides[a] = strides[a + 1] * shape[a + 1];
        }
        let mut fwd = vec![0u32; n * d];
        let mut bwd = vec![0u32; n * d];
        for site in 0..n {
            for mu in 0..d {
                let (st, l) = (strides[mu], shape[mu]);
                let c = (site / st) % l;
                let f = if c + 1 == l { site - c * st } else { site + st };
                let b = if c == 0 {
                    site + (l - 1) * st
                } else {
                    site - st
                };
                fwd[site * d + mu] = f as u32;
                bwd[site * d + mu] = b as u32;
            }
        }
        Ok(Self {
            shape: shape.to_vec(),
            fwd,
            bwd,
        })
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Number of axes $d$.
    pub fn ndim(&self) -> usize {
        self.shape.len()
    }

    /// Number of sites.
    pub fn sites(&self) -> usize {
        self.fwd.len() / self.ndim()
    }

    /// Neighbour of `site` at $+e_\mu$.
    #[inline]
    pub fn forward(&self, site: usize, mu: usize) -> usize {
        self.fwd[site * self.ndim() + mu] as usize
    }

    /// Neighbour of `site` at $-e_\mu$.
    #[inline]
    pub fn backward(&self, site: usize, mu: usize) -> usize {
        self.bwd[site * self.ndim() + mu] as usize
    }

    /// Checkerboard colour of `site`: the parity of the sum of its coordinates. Nearest
    /// neighbours have opposite colours when every size is even.
    pub fn colour(&self, site: usize) -> usize {
        let mut rest = site;
        let mut parity = 0;
        for &l in self.shape.iter().rev() {
            parity += rest % l;
            rest /= l;
        }
        parity % 2
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neighbours_wrap_and_invert() {
        let l = Lattice::new(&[3, 4]).unwrap();
        assert_eq!(l.sites(), 12);
        // (0, 3) + e_1 -> (0, 0); (0, 0) - e_0 -> (2, 0)
        assert_eq!(l.forward(3, 1), 0);
        assert_eq!(l.backward(0, 0), 8);
        for s in 0..12 {
            for mu in 0..2 {
                assert_eq!(l.backward(l.forward(s, mu), mu), s);
            }
        }
        let l = Lattice::new(&[4, 4]).unwrap();
        for s in 0..16 {
            for mu in 0..2 {
                assert_ne!(l.colour(s), l.colour(l.forward(s, mu)));
            }
        }
        assert!(Lattice::new(&[1, 4]).is_err());
        assert!(Lattice::new(&[2, 2, 2, 2]).is_err());
    }
}
