//! GradBench's `det` (from cmpad): the determinant by recursive expansion by minors along the
//! first row, O(ℓ!) on purpose. Its gradient differentiates the recursion (the cofactor
//! matrix, mathematically).

use ad_runtime::reverse;

/// The determinant of the `ell × ell` row-major matrix `a`: `Σ_j (−1)ʲ a_0j det(M_0j)` where
/// `M_0j` is `a` without row 0 and column `j`; a 1×1 matrix is its entry.
#[reverse]
pub fn det(a: &[f64], ell: usize) -> f64 {
    if ell == 1 {
        return a[0];
    }
    let size = ell - 1;
    let mut total = 0.0;
    for j in 0..ell {
        let mut minor = vec![0.0; size * size];
        for r in 0..size {
            for c in 0..size {
                // Column `c` of the minor is column `c` of `a` left of `j`, `c + 1` right of it.
                let source = if c < j { c } else { c + 1 };
                minor[r * size + c] = a[(r + 1) * ell + source];
            }
        }
        let term = a[j] * det(&minor, size);
        if j % 2 == 0 {
            total += term;
        } else {
            total -= term;
        }
    }
    total
}
