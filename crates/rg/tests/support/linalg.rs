//! Dense linear algebra for test oracles, independent of the crates under test.

/// The inverse of the square matrix `k` (rows) by Gauss–Jordan elimination with partial
/// pivoting.
///
/// # Panics
/// When `k` is singular to working precision.
pub fn inverse(k: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let d = k.len();
    let mut a = k.to_vec();
    let mut inv: Vec<Vec<f64>> = (0..d)
        .map(|i| (0..d).map(|j| f64::from(u8::from(i == j))).collect())
        .collect();
    for col in 0..d {
        let piv = (col..d)
            .max_by(|&x, &y| a[x][col].abs().total_cmp(&a[y][col].abs()))
            .unwrap();
        a.swap(col, piv);
        inv.swap(col, piv);
        let p = a[col][col];
        assert!(p != 0.0, "singular matrix");
        for j in 0..d {
            a[col][j] /= p;
            inv[col][j] /= p;
        }
        for r in 0..d {
            if r != col {
                let f = a[r][col];
                for j in 0..d {
                    a[r][j] -= f * a[col][j];
                    inv[r][j] -= f * inv[col][j];
                }
            }
        }
    }
    inv
}
