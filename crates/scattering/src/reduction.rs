//! Linear reductions of the scattering spectra: rotation averages, Fourier transforms over
//! angle differences, cosine transforms over scales, and keep-by-SNR selection.

use crate::error::{ScatteringError, invalid};
use crate::spectra::{Kind, ScatteringSpectra};
use ndarray::{Array1, ArrayView1, ArrayView2};
use std::collections::BTreeMap;
use std::f64::consts::PI;

/// One reduced coefficient: a named linear combination $\sum_i w_i \Phi_i$ of the full
/// statistics vector.
#[derive(Debug, Clone, PartialEq)]
pub struct Reduced {
    /// Human-readable name (statistic, scales, angle differences or harmonics, part).
    pub name: String,
    /// The statistic it is made of.
    pub kind: Kind,
    /// `(index in the full vector, weight)`.
    pub terms: Vec<(usize, f64)>,
}

/// A linear map $R$ from the full statistics vector of a [`ScatteringSpectra`] to a shorter
/// one; its adjoint $R^\top$ is what [`Reduction::pull`] applies.
#[derive(Debug, Clone, PartialEq)]
pub struct Reduction {
    full_len: usize,
    rows: Vec<Reduced>,
}

type GroupKey = (u8, Vec<usize>, Vec<usize>);
/// Members of one (statistic, scales) group: angle differences, real index, imaginary index.
type ScaleMembers = Vec<(Vec<usize>, usize, Option<usize>)>;
/// Rows sharing a statistic, scale differences and tail, by outer scale.
type CosineGroups = BTreeMap<(String, Vec<i64>, String), Vec<(usize, usize)>>;

fn kind_code(k: Kind) -> u8 {
    match k {
        Kind::Mean => 0,
        Kind::Variance => 1,
        Kind::S1 => 2,
        Kind::S2 => 3,
        Kind::S3 => 4,
        Kind::S4 => 5,
    }
}

fn kind_name(k: Kind) -> &'static str {
    match k {
        Kind::Mean => "mean",
        Kind::Variance => "var",
        Kind::S1 => "S1",
        Kind::S2 => "S2",
        Kind::S3 => "S3",
        Kind::S4 => "S4",
    }
}

impl Reduction {
    /// Every coefficient as it is (named).
    pub fn identity(sp: &ScatteringSpectra) -> Self {
        let rows = sp
            .coefficients()
            .iter()
            .enumerate()
            .map(|(i, c)| Reduced {
                name: format!(
                    "{} j={:?} l={:?}{}",
                    kind_name(c.kind),
                    c.j,
                    c.l,
                    if c.imag { " im" } else { "" }
                ),
                kind: c.kind,
                terms: vec![(i, 1.0)],
            })
            .collect();
        Self {
            full_len: sp.len(),
            rows,
        }
    }

    /// Isotropic reduction: the average over global rotations $\ell \to \ell + r$. $S_1$, $S_2$
    /// become functions of $j$; $S_3$ of $(j, j_1, \ell_1 - \ell)$; $S_4$ of
    /// $(j, j_1, j_2, \ell_1 - \ell, \ell_2 - \ell)$ (differences modulo $L$).
    pub fn isotropic(sp: &ScatteringSpectra) -> Self {
        Self::fourier_angles(sp, None)
    }

    /// Isotropic reduction followed by a discrete Fourier transform over the angle differences,
    /// keeping the harmonics $|m| \le$ `max_harmonic` (all when `None`, which is then the
    /// isotropic reduction itself, without transform). For $S_3$ and $S_4$ the harmonic
    /// coefficients are complex: $\hat c(m) = \frac{1}{L}\sum_{\delta} c(\delta)
    /// e^{-2\pi i m\delta/L}$, stored as real and imaginary parts.
    pub fn fourier_angles(sp: &ScatteringSpectra, max_harmonic: Option<usize>) -> Self {
        let l = sp.l();
        let coeffs = sp.coefficients();
        // Group the full coefficients by (kind, scales, angle differences), pairing real and
        // imaginary parts: group -> list of (re index, im index or None).
        let mut groups: BTreeMap<GroupKey, Vec<(usize, Option<usize>)>> = BTreeMap::new();
        let mut im_index: BTreeMap<(u8, Vec<usize>, Vec<usize>), usize> = BTreeMap::new();
        for (i, c) in coeffs.iter().enumerate() {
            if c.imag {
                im_index.insert((kind_code(c.kind), c.j.clone(), c.l.clone()), i);
            }
        }
        for (i, c) in coeffs.iter().enumerate() {
            if c.imag {
                continue;
            }
            let diffs: Vec<usize> =
                c.l.iter()
                    .skip(1)
                    .map(|&li| (li + l - c.l[0]) % l)
                    .collect();
            let im = im_index
                .get(&(kind_code(c.kind), c.j.clone(), c.l.clone()))
                .copied();
            groups
                .entry((kind_code(c.kind), c.j.clone(), diffs))
                .or_default()
                .push((i, im));
        }
        let kind_of = |code: u8| match code {
            0 => Kind::Mean,
            1 => Kind::Variance,
            2 => Kind::S1,
            3 => Kind::S2,
            4 => Kind::S3,
            _ => Kind::S4,
        };
        let mut rows = Vec::new();
        match max_harmonic {
            None => {
                for ((code, js, diffs), members) in &groups {
                    let w = 1.0 / members.len() as f64;
                    let kind = kind_of(*code);
                    let base = format!("{} j={js:?} dl={diffs:?}", kind_name(kind));
                    rows.push(Reduced {
                        name: base.clone(),
                        kind,
                        terms: members.iter().map(|&(re, _)| (re, w)).collect(),
                    });
                    if members.iter().all(|m| m.1.is_some()) {
                        rows.push(Reduced {
                            name: format!("{base} im"),
                            kind,
                            terms: members
                                .iter()
                                .map(|&(_, im)| (im.expect("paired"), w))
                                .collect(),
                        });
                    }
                }
            }
            Some(kmax) => {
                // Collect, per (kind, scales), all members with their angle differences.
                let mut by_scales: BTreeMap<(u8, Vec<usize>), ScaleMembers> = BTreeMap::new();
                for ((code, js, diffs), members) in &groups {
                    for &(re, im) in members {
                        by_scales.entry((*code, js.clone())).or_default().push((
                            diffs.clone(),
                            re,
                            im,
                        ));
                    }
                }
                let signed = |m: usize| {
                    if m <= l / 2 {
                        m as i64
                    } else {
                        m as i64 - l as i64
                    }
                };
                for ((code, js), members) in &by_scales {
                    let kind = kind_of(*code);
                    let nd = members[0].0.len();
                    if nd == 0 {
                        let w = 1.0 / members.len() as f64;
                        rows.push(Reduced {
                            name: format!("{} j={js:?}", kind_name(kind)),
                            kind,
                            terms: members.iter().map(|m| (m.1, w)).collect(),
                        });
                        continue;
                    }
                    // Harmonic vectors m in [0, L)^nd with every |signed m| <= kmax.
                    let mut harmonics = vec![vec![]];
                    for _ in 0..nd {
                        harmonics = harmonics
                            .into_iter()
                            .flat_map(|h: Vec<usize>| {
                                (0..l)
                                    .filter(|&m| signed(m).unsigned_abs() as usize <= kmax)
                                    .map(move |m| {
                                        let mut h = h.clone();
                                        h.push(m);
                                        h
                                    })
                            })
                            .collect();
                    }
                    let w = 1.0 / members.len() as f64;
                    for h in harmonics {
                        let mut re_terms = Vec::new();
                        let mut im_terms = Vec::new();
                        for (diffs, re, im) in members {
                            let ang: f64 = diffs
                                .iter()
                                .zip(&h)
                                .map(|(&d, &m)| 2.0 * PI * (d * m) as f64 / l as f64)
                                .sum();
                            let (c, s) = (ang.cos(), ang.sin());
                            // (a + ib) e^{-i ang} = (a c + b s) + i (b c - a s)
                            re_terms.push((*re, w * c));
                            im_terms.push((*re, -w * s));
                            if let Some(im) = im {
                                re_terms.push((*im, w * s));
                                im_terms.push((*im, w * c));
                            }
                        }
                        let hs: Vec<i64> = h.iter().map(|&m| signed(m)).collect();
                        let base = format!("{} j={js:?} m={hs:?}", kind_name(kind));
                        rows.push(Reduced {
                            name: base.clone(),
                            kind,
                            terms: re_terms,
                        });
                        rows.push(Reduced {
                            name: format!("{base} im"),
                            kind,
                            terms: im_terms,
                        });
                    }
                }
            }
        }
        Self {
            full_len: sp.len(),
            rows,
        }
    }

    /// Cosine transform over the outer scale $j$ of the rows that share everything else
    /// (statistic, scale differences $j - j_i$, angles or harmonics, part), keeping the first
    /// `keep` cosine modes: $\tilde c(k) = \sum_j c(j) \cos(\pi k (j + 1/2)/n)$ over the $n$
    /// available scales. Rows whose name has no scale list are kept as they are.
    pub fn cosine_scales(&self, keep: usize) -> Self {
        // Parse "KIND j=[j, j1, ..] rest": group by (kind, scale differences, rest).
        let mut groups: CosineGroups = BTreeMap::new();
        let mut passthrough = Vec::new();
        for (r, row) in self.rows.iter().enumerate() {
            let parsed = row.name.split_once(" j=[").and_then(|(kind, rest)| {
                let (list, tail) = rest.split_once(']')?;
                let js: Vec<usize> = list
                    .split(',')
                    .filter(|s| !s.trim().is_empty())
                    .map(|s| s.trim().parse().ok())
                    .collect::<Option<_>>()?;
                Some((kind.to_string(), js, tail.to_string()))
            });
            match parsed {
                Some((kind, js, tail)) if !js.is_empty() => {
                    let diffs: Vec<i64> = js
                        .iter()
                        .skip(1)
                        .map(|&ji| js[0] as i64 - ji as i64)
                        .collect();
                    groups
                        .entry((kind, diffs, tail))
                        .or_default()
                        .push((js[0], r));
                }
                _ => passthrough.push(r),
            }
        }
        let mut rows: Vec<Reduced> = passthrough.iter().map(|&r| self.rows[r].clone()).collect();
        for ((kind, diffs, tail), mut members) in groups {
            members.sort();
            let n = members.len();
            for k in 0..keep.min(n) {
                let mut terms: BTreeMap<usize, f64> = BTreeMap::new();
                for (pos, &(_, r)) in members.iter().enumerate() {
                    let c = (PI * k as f64 * (pos as f64 + 0.5) / n as f64).cos();
                    for &(i, w) in &self.rows[r].terms {
                        *terms.entry(i).or_default() += c * w;
                    }
                }
                rows.push(Reduced {
                    name: format!("{kind} dj={diffs:?} cos{k}{tail}"),
                    kind: self.rows[members[0].1].kind,
                    terms: terms.into_iter().collect(),
                });
            }
        }
        Self {
            full_len: self.full_len,
            rows,
        }
    }

    /// Keeps the rows whose mean over a set of statistics vectors `(B, full len)` (e.g. of
    /// several fields, or of patches of one) exceeds `threshold` times its standard deviation
    /// over the set; mean and variance rows are always kept.
    ///
    /// # Errors
    /// Fewer than two vectors, or vectors of the wrong length.
    pub fn keep_by_snr(
        &self,
        stats: ArrayView2<'_, f64>,
        threshold: f64,
    ) -> Result<Self, ScatteringError> {
        if stats.nrows() < 2 {
            return Err(invalid(
                "stats",
                stats.nrows(),
                "need at least two statistics vectors to estimate a SNR",
            ));
        }
        if stats.ncols() != self.full_len {
            return Err(wcrg_core::Error::ShapeMismatch {
                what: "statistics vectors".into(),
                expected: vec![stats.nrows(), self.full_len],
                actual: vec![stats.nrows(), stats.ncols()],
            }
            .into());
        }
        let reduced: Vec<Array1<f64>> = stats.rows().into_iter().map(|s| self.apply(s)).collect();
        let b = reduced.len() as f64;
        let rows = self
            .rows
            .iter()
            .enumerate()
            .filter(|(r, row)| {
                if matches!(row.kind, Kind::Mean | Kind::Variance) {
                    return true;
                }
                let mean = reduced.iter().map(|v| v[*r]).sum::<f64>() / b;
                let var = reduced.iter().map(|v| (v[*r] - mean).powi(2)).sum::<f64>() / (b - 1.0);
                mean.abs() > threshold * var.sqrt()
            })
            .map(|(_, row)| row.clone())
            .collect();
        Ok(Self {
            full_len: self.full_len,
            rows,
        })
    }

    /// The reduced coefficients.
    pub fn rows(&self) -> &[Reduced] {
        &self.rows
    }

    /// Number of reduced coefficients.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether no coefficient is kept.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Length of the full vector it applies to.
    pub fn full_len(&self) -> usize {
        self.full_len
    }

    /// $R\Phi$.
    ///
    /// # Panics
    /// When `full` does not have `full_len()` entries.
    pub fn apply(&self, full: ArrayView1<'_, f64>) -> Array1<f64> {
        assert_eq!(
            full.len(),
            self.full_len,
            "full statistics length (expected, actual)"
        );
        self.rows
            .iter()
            .map(|r| r.terms.iter().map(|&(i, w)| w * full[i]).sum())
            .collect()
    }

    /// $R^\top v$ (length `full_len()`).
    ///
    /// # Panics
    /// When `v` does not have `len()` entries.
    pub fn pull(&self, v: ArrayView1<'_, f64>) -> Vec<f64> {
        assert_eq!(
            v.len(),
            self.rows.len(),
            "reduced cotangent length (expected, actual)"
        );
        let mut out = vec![0.0; self.full_len];
        for (r, &vr) in self.rows.iter().zip(v.iter()) {
            for &(i, w) in &r.terms {
                out[i] += w * vr;
            }
        }
        out
    }
}
