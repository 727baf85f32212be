//! GradBench's `det` (from cmpad): the determinant by recursive expansion by minors along the
//! first row, O(ℓ!) on purpose. Its gradient differentiates the recursion (the cofactor
//! matrix, mathematically).
//!
//! A minor is not copied out: it is named by the row it starts at (the rows below are all
//! its rows) and the set of its columns, a bit each, so the recursion allocates nothing. (The
//! first version built each minor in a new `Vec`: 5.3x slower, and its gradient 4x.)

use ad_runtime::reverse;

/// The determinant of the `ell × ell` row-major matrix `a`: `Σ_j (−1)ʲ a_0j det(M_0j)` where
/// `M_0j` is `a` without row 0 and column `j`; a 1×1 matrix is its entry.
///
/// # Panics
///
/// If `ell` is 0 or more than 64 (the columns of a minor are the bits of a `u64`).
#[reverse]
pub fn det(a: &[f64], ell: usize) -> f64 {
    assert!(
        (1..=64).contains(&ell),
        "det: the matrix is 1×1 to 64×64, not {ell}×{ell}"
    );
    let all = if ell == 64 { u64::MAX } else { (1 << ell) - 1 };
    minor_det(a, ell, 0, all)
}

/// The determinant of the minor of `a` (`ell × ell`, row-major) made of the rows `row..ell`
/// and the columns whose bits are set in `columns` (as many as there are rows), expanded along
/// its first row: the sign alternates with the position of the column among `columns`.
#[reverse]
pub fn minor_det(a: &[f64], ell: usize, row: usize, columns: u64) -> f64 {
    if row + 1 == ell {
        let mut last = 0;
        while columns & (1 << last) == 0 {
            last += 1;
        }
        return a[row * ell + last];
    }
    let mut total = 0.0;
    let mut position = 0;
    for j in 0..ell {
        if columns & (1 << j) != 0 {
            let term = a[row * ell + j] * minor_det(a, ell, row + 1, columns & !(1 << j));
            if position % 2 == 0 {
                total += term;
            } else {
                total -= term;
            }
            position += 1;
        }
    }
    total
}
