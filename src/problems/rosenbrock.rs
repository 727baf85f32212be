//! The n-dimensional Rosenbrock function, the benches' scaling problem: its cost is linear
//! in n, so a gradient that stays a constant multiple of it is flat in n.

use ad_runtime::reverse;

/// `Σ_{i<n-1} 100 (x[i+1] - x[i]²)² + (1 - x[i])²`.
#[reverse]
pub fn rosenbrock(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() - 1 {
        let a = x[i + 1] - x[i] * x[i];
        let b = 1.0 - x[i];
        s += 100.0 * a * a + b * b;
    }
    s
}

/// The adjoint a person writes: one loop, each term's partial derivatives written as the term
/// is computed, the share of `x[i+1]` carried to the next iteration in a register; writes the
/// gradient into `grad` and returns the value.
pub fn rosenbrock_hand(x: &[f64], grad: &mut [f64]) -> f64 {
    assert_eq!(
        grad.len(),
        x.len(),
        "rosenbrock_hand: `grad` must have x's length"
    );
    let n = x.len();
    let mut s = 0.0;
    // ∂/∂x[i] of the previous term, 200 (x[i] - x[i-1]²).
    let mut carry = 0.0;
    for i in 0..n - 1 {
        let a = x[i + 1] - x[i] * x[i];
        let b = 1.0 - x[i];
        s += 100.0 * a * a + b * b;
        grad[i] = carry - 400.0 * a * x[i] - 2.0 * b;
        carry = 200.0 * a;
    }
    grad[n - 1] = carry;
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    fn points(n: usize) -> Vec<Vec<f64>> {
        vec![
            vec![1.0; n],
            (0..n)
                .map(|i| if i % 2 == 0 { -1.2 } else { 1.0 })
                .collect(),
            (0..n)
                .map(|i| ((i * 7919) % 13) as f64 / 6.0 - 1.0)
                .collect(),
        ]
    }

    #[test]
    fn hand_written_adjoint_equals_generated_gradient() {
        for n in [2, 3, 10, 1000] {
            for x in points(n) {
                let (value, grad) = rosenbrock_grad(&x);
                let mut hand = vec![f64::NAN; n];
                assert_eq!(rosenbrock_hand(&x, &mut hand), value);
                for (g, h) in grad.iter().zip(&hand) {
                    assert_relative_eq!(g, h, epsilon = 1e-12, max_relative = 1e-12);
                }
            }
        }
    }

    #[test]
    fn gradient_is_zero_at_the_minimum_and_matches_finite_differences() {
        let (value, grad) = rosenbrock_grad(&[1.0; 5]);
        assert_eq!(value, 0.0);
        assert!(grad.iter().all(|g| *g == 0.0));
        for x in points(6) {
            let (_, grad) = rosenbrock_grad(&x);
            for i in 0..x.len() {
                let h = 1e-6;
                let (mut up, mut down) = (x.clone(), x.clone());
                up[i] += h;
                down[i] -= h;
                let fd = (rosenbrock(&up) - rosenbrock(&down)) / (2.0 * h);
                assert_relative_eq!(grad[i], fd, epsilon = 1e-5, max_relative = 1e-6);
            }
        }
    }

    #[test]
    fn two_dimensional_closed_form() {
        // f = 100 (y - x²)² + (1 - x)²: ∂x = -400 x (y - x²) - 2 (1 - x), ∂y = 200 (y - x²).
        let (x, y) = (-1.2, 1.0);
        let (value, grad) = rosenbrock_grad(&[x, y]);
        assert_relative_eq!(value, 24.2, max_relative = 1e-14);
        assert_relative_eq!(
            grad[0],
            -400.0 * x * (y - x * x) - 2.0 * (1.0 - x),
            max_relative = 1e-14
        );
        assert_relative_eq!(grad[1], 200.0 * (y - x * x), max_relative = 1e-14);
    }
}
