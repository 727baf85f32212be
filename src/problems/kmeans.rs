//! GradBench's `kmeans`: the k-means cost and its Newton direction, gradient over Hessian
//! diagonal, the Hessian's diagonal by forward over reverse.

use ad_runtime::{Float, reverse};

use super::dual::Dual;

/// `Σ_i min_j ‖P_i − C_j‖²` for `n` points and `k` centroids of dimension `d`, row-major.
/// A point belongs to its nearest centroid, the first one on ties.
#[reverse(wrt(centroids))]
pub fn cost<F: Float>(points: &[F], centroids: &[F], d: usize) -> F {
    let n = points.len() / d;
    let k = centroids.len() / d;
    let mut total = F::zero();
    for i in 0..n {
        let mut best = F::infinity();
        for j in 0..k {
            let mut dist = F::zero();
            for c in 0..d {
                let e = points[i * d + c] - centroids[j * d + c];
                dist = dist + e * e;
            }
            if dist < best {
                best = dist;
            }
        }
        total = total + best;
    }
    total
}

/// The Newton direction `J / diag H` elementwise (row-major `k × d`, like `centroids`),
/// with `J` the gradient of [`cost`] with respect to the centroids and `H` its Hessian.
///
/// Forward over reverse: [`cost_grad`] runs on [`Dual`] numbers whose tangents are all ones
/// for the centroids and zero for the points, so each gradient entry's tangent is `(H 1)_i`,
/// which is `H_ii` since every point's cost involves one centroid only (`H` is diagonal).
pub fn direction(points: &[f64], centroids: &[f64], d: usize) -> Vec<f64> {
    let points: Vec<Dual> = points.iter().map(|&p| Dual::constant(p)).collect();
    let centroids: Vec<Dual> = centroids.iter().map(|&c| Dual::new(c, 1.0)).collect();
    let (_, gradient) = cost_grad(&points, &centroids, d);
    gradient.iter().map(|g| g.v / g.d).collect()
}
