//! GradBench's `kmeans`: the k-means cost and its Newton direction, gradient over Hessian
//! diagonal, the Hessian's diagonal by forward over reverse.

use ad_runtime::{Float, reverse};

use ad_runtime::Dual;

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

/// The centroid nearest each point, the first one on ties: the choice [`cost`] makes.
pub fn nearest(points: &[f64], centroids: &[f64], d: usize) -> Vec<usize> {
    (points.chunks_exact(d))
        .map(|p| nearest_to(p, centroids))
        .collect()
}

/// The centroid nearest `point` (the first on ties), by the comparisons [`cost`] makes.
fn nearest_to(point: &[f64], centroids: &[f64]) -> usize {
    let d = point.len();
    let (mut best, mut nearest) = (f64::INFINITY, 0);
    for (j, centroid) in centroids.chunks_exact(d).enumerate() {
        let mut dist = 0.0;
        for (p, c) in point.iter().zip(centroid) {
            let e = p - c;
            dist += e * e;
        }
        if dist < best {
            best = dist;
            nearest = j;
        }
    }
    nearest
}

/// `Σ_i ‖P_i − C_{a_i}‖²`: [`cost`] with each point's centroid `a_i` given. With the
/// assignment [`nearest`] gives, it is [`cost`], bitwise, and so is its derivative, the
/// derivative of the same trace: `cost`'s `min` only chooses which distance is added.
#[reverse(wrt(centroids))]
pub fn assigned_cost<F: Float>(points: &[F], centroids: &[F], assignment: &[usize], d: usize) -> F {
    let mut total = F::zero();
    for i in 0..assignment.len() {
        let j = assignment[i];
        let mut dist = F::zero();
        for c in 0..d {
            let e = points[i * d + c] - centroids[j * d + c];
            dist = dist + e * e;
        }
        total = total + dist;
    }
    total
}

/// The Newton direction `J / diag H` elementwise (row-major `k × d`, like `centroids`),
/// with `J` the gradient of [`cost`] with respect to the centroids and `H` its Hessian.
///
/// The assignment of points to centroids is found once, in `f64` ([`nearest`]: `n k d`
/// operations, as a hand-written version does); only the cost of that assignment is
/// differentiated ([`assigned_cost`], `n d`), which has the same derivatives. Its
/// Hessian-vector product along the all-ones direction ([`assigned_cost_hvp`], forward over
/// reverse) is `H 1`, which is `H`'s diagonal since every point's cost involves one centroid
/// only (`H` is diagonal). (Differentiating [`cost`] itself on dual numbers gives the same
/// direction, `k` times the work: a test checks both agree.)
pub fn direction(points: &[f64], centroids: &[f64], d: usize) -> Vec<f64> {
    let assignment = nearest(points, centroids, d);
    let ones = vec![1.0; centroids.len()];
    let (_, gradient, diagonal) = assigned_cost_hvp(points, centroids, &assignment, d, &ones);
    gradient.iter().zip(&diagonal).map(|(g, h)| g / h).collect()
}

/// [`direction`] by operator overloading: [`assigned_cost_grad`] on [`Dual`] numbers whose
/// tangents are ones for the centroids (the same forward over reverse, by the generic code
/// on dual numbers instead of the generated `f_hvp`), for the benches' comparison.
pub fn direction_dual(points: &[f64], centroids: &[f64], d: usize) -> Vec<f64> {
    let assignment = nearest(points, centroids, d);
    let points: Vec<Dual<f64>> = points.iter().map(|&p| Dual::constant(p)).collect();
    let centroids: Vec<Dual<f64>> = centroids.iter().map(|&c| Dual::new(c, 1.0)).collect();
    let (_, gradient) = assigned_cost_grad(&points, &centroids, &assignment, d);
    gradient.iter().map(|g| g.v / g.d).collect()
}

/// The Newton direction by its closed form, as a hand-written version computes it: one pass
/// assigns each point to its nearest centroid (the first on ties) and sums the points of each
/// centroid; a centroid's direction is itself minus the mean of its points (the gradient of
/// its share of the cost is `2 Σ (C_j − P_i)`, the Hessian's diagonal `2` per point).
pub fn direction_hand(points: &[f64], centroids: &[f64], d: usize) -> Vec<f64> {
    let k = centroids.len() / d;
    let (mut sums, mut counts) = (vec![0.0; k * d], vec![0usize; k]);
    for p in points.chunks_exact(d) {
        let nearest = nearest_to(p, centroids);
        counts[nearest] += 1;
        for c in 0..d {
            sums[nearest * d + c] += p[c];
        }
    }
    (0..k * d)
        .map(|i| centroids[i] - sums[i] / counts[i / d] as f64)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    use crate::problems::uniform;

    #[test]
    fn forward_over_reverse_gives_the_hessian_diagonal() {
        // A worked example: gradient [[1,1],[-2,-4]], Hessian diagonal [[6,6],[4,4]].
        let points = [0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 5.0, 5.0, 6.0, 5.0];
        let centroids = [0.5, 0.5, 5.0, 4.0];
        let p: Vec<Dual<f64>> = points.iter().map(|&v| Dual::constant(v)).collect();
        let c: Vec<Dual<f64>> = centroids.iter().map(|&v| Dual::new(v, 1.0)).collect();
        let (value, gradient) = cost_grad(&p, &c, 2);
        assert_eq!(value.v, 4.5);
        let values: Vec<f64> = gradient.iter().map(|g| g.v).collect();
        let diagonal: Vec<f64> = gradient.iter().map(|g| g.d).collect();
        assert_eq!(values, [1.0, 1.0, -2.0, -4.0]);
        assert_eq!(diagonal, [6.0, 6.0, 4.0, 4.0]);
        // The value's tangent is the gradient summed (the derivative along the ones).
        assert_eq!(value.d, -4.0);
        // The same by the generated forward over reverse.
        let (value, gradient, diagonal) = cost_hvp(&points, &centroids, 2, &[1.0; 4]);
        assert_eq!(value, 4.5);
        assert_eq!(gradient, [1.0, 1.0, -2.0, -4.0]);
        assert_eq!(diagonal, [6.0, 6.0, 4.0, 4.0]);
        let (_, tangent) = cost_jvp(&points, &centroids, 2, &[1.0; 4]);
        assert_eq!(tangent, -4.0);
    }

    #[test]
    fn direction_is_the_centroid_minus_its_points_mean() {
        for (seed, n, k, d) in [(1, 40, 3, 2), (2, 100, 7, 5), (3, 60, 10, 8)] {
            let points = uniform(seed, n * d);
            // Centroids are the last k points, as the eval sends: no cluster is empty.
            let centroids = points[(n - k) * d..].to_vec();
            let got = direction(&points, &centroids, d);
            for (g, w) in got.iter().zip(direction_hand(&points, &centroids, d)) {
                assert_relative_eq!(*g, w, epsilon = 1e-12);
            }
            // Operator overloading runs the fused gradient, f_hvp the unfused adjoint program:
            // the same sums, in another order.
            for (g, w) in got.iter().zip(direction_dual(&points, &centroids, d)) {
                assert_relative_eq!(*g, w, epsilon = 1e-12);
            }
        }
    }

    /// The direction through the assigned cost is, bitwise, the one forward over reverse
    /// through the whole cost gives (its `min` differentiated too), ties included.
    #[test]
    fn the_assigned_cost_differentiates_as_the_cost_does() {
        let tied = (
            vec![0.0, 0.0, 2.0, 0.0, 1.0, 0.0, 0.0, 1.0],
            vec![0.0, 0.0, 2.0, 0.0],
            2,
        );
        let random = |seed, n: usize, k: usize, d: usize| {
            let points = uniform(seed, n * d);
            let centroids = points[(n - k) * d..].to_vec();
            (points, centroids, d)
        };
        for (points, centroids, d) in [tied, random(4, 80, 5, 3), random(5, 200, 12, 4)] {
            let p: Vec<Dual<f64>> = points.iter().map(|&v| Dual::constant(v)).collect();
            let c: Vec<Dual<f64>> = centroids.iter().map(|&v| Dual::new(v, 1.0)).collect();
            let (whole, gradient) = cost_grad(&p, &c, d);
            let assignment = nearest(&points, &centroids, d);
            let (assigned, assigned_gradient) = assigned_cost_grad(&p, &c, &assignment, d);
            assert_eq!(
                (whole.v.to_bits(), whole.d.to_bits()),
                (assigned.v.to_bits(), assigned.d.to_bits())
            );
            for (a, b) in gradient.iter().zip(&assigned_gradient) {
                assert_eq!(
                    (a.v.to_bits(), a.d.to_bits()),
                    (b.v.to_bits(), b.d.to_bits())
                );
            }
            assert_eq!(
                cost(&points, &centroids, d),
                assigned_cost(&points, &centroids, &assignment, d)
            );
        }
    }
}
