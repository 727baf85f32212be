//! GradBench's `ode` (from cmpad): classic Runge–Kutta (RK4) on the linear chain
//! `y_0' = x_0`, `y_i' = x_i y_{i−1}` from `y(0) = 0` to `t = 2`, and the gradient of the last
//! component of the result with respect to `x`.

use ad_runtime::reverse;

/// The chain's right-hand side: `f(y)_0 = x_0`, `f(y)_i = x_i y_{i−1}`.
#[reverse]
pub fn rhs(x: &[f64], y: &[f64]) -> Vec<f64> {
    let mut k = vec![0.0; x.len()];
    k[0] = x[0];
    for i in 1..x.len() {
        k[i] = x[i] * y[i - 1];
    }
    k
}

/// `y(2)` by `s` RK4 steps of size `h = 2/s`.
#[reverse]
pub fn solve(x: &[f64], s: usize) -> Vec<f64> {
    let n = x.len();
    let h = 2.0 / s as f64;
    let mut y = vec![0.0; n];
    for _ in 0..s {
        let k1 = rhs(x, &y);
        let mut stage = vec![0.0; n];
        for i in 0..n {
            stage[i] = y[i] + 0.5 * h * k1[i];
        }
        let k2 = rhs(x, &stage);
        for i in 0..n {
            stage[i] = y[i] + 0.5 * h * k2[i];
        }
        let k3 = rhs(x, &stage);
        for i in 0..n {
            stage[i] = y[i] + h * k3[i];
        }
        let k4 = rhs(x, &stage);
        for i in 0..n {
            y[i] += h * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]) / 6.0;
        }
    }
    y
}

/// `y_{n−1}(2)`, the last component of [`solve`]: the function GradBench's `gradient`
/// differentiates.
#[reverse]
pub fn last(x: &[f64], s: usize) -> f64 {
    let y = solve(x, s);
    y[y.len() - 1]
}

/// RK4's stage offsets: stage `m` evaluates the right-hand side at `y + OFFSETS[m] h k_{m−1}`.
const OFFSETS: [f64; 4] = [0.0, 0.5, 0.5, 1.0];
/// RK4's weights: `y ← y + h Σ_m WEIGHTS[m] k_m`.
const WEIGHTS: [f64; 4] = [1.0 / 6.0, 1.0 / 3.0, 1.0 / 3.0, 1.0 / 6.0];

/// The hand-written adjoint of [`last`]: `(value, gradient)`. The forward sweep keeps the
/// state before each step (`s n` floats); the reverse sweep walks the steps backwards,
/// recomputes each step's stage inputs from its starting state and transposes the stages.
pub fn last_hand(x: &[f64], s: usize) -> (f64, Vec<f64>) {
    let n = x.len();
    let h = 2.0 / s as f64;
    let mut states = Vec::with_capacity(s);
    let mut y = vec![0.0; n];
    for _ in 0..s {
        let (_, slopes) = stages(x, &y, h);
        states.push(y.clone());
        for i in 0..n {
            y[i] += h * (0..4).map(|m| WEIGHTS[m] * slopes[m][i]).sum::<f64>();
        }
    }
    let value = y[n - 1];

    let mut dx = vec![0.0; n];
    let mut dy = vec![0.0; n];
    dy[n - 1] = 1.0;
    let mut dk = vec![0.0; n];
    let mut dinput = vec![0.0; n];
    for y in states.iter().rev() {
        let (inputs, _) = stages(x, y, h);
        // y' = y + h Σ_m w_m k_m with k_m = f(input_m) and input_{m+1} = y + c_{m+1} h k_m:
        // the adjoint of k_m is h w_m dy' plus c_{m+1} h times the adjoint of input_{m+1}.
        let mut dy_before = dy.clone();
        for m in (0..4).rev() {
            for i in 0..n {
                dk[i] = h * WEIGHTS[m] * dy[i];
                if m < 3 {
                    dk[i] += h * OFFSETS[m + 1] * dinput[i];
                }
            }
            rhs_transpose(x, &inputs[m], &dk, &mut dx, &mut dinput);
            for i in 0..n {
                dy_before[i] += dinput[i];
            }
        }
        dy = dy_before;
    }
    (value, dx)
}

/// One RK4 step's stage inputs `input_m` and slopes `k_m = f(input_m)`, from state `y`.
fn stages(x: &[f64], y: &[f64], h: f64) -> ([Vec<f64>; 4], [Vec<f64>; 4]) {
    let mut inputs: [Vec<f64>; 4] = std::array::from_fn(|_| y.to_vec());
    let mut slopes: [Vec<f64>; 4] = std::array::from_fn(|_| vec![0.0; y.len()]);
    for m in 0..4 {
        if m > 0 {
            for i in 0..y.len() {
                inputs[m][i] = y[i] + OFFSETS[m] * h * slopes[m - 1][i];
            }
        }
        slopes[m][0] = x[0];
        for i in 1..y.len() {
            slopes[m][i] = x[i] * inputs[m][i - 1];
        }
    }
    (inputs, slopes)
}

/// The transpose of [`rhs`] at state `y` for slope adjoints `dk`: adds the adjoint of `x` to
/// `dx` and writes the adjoint of `y` to `dy`.
fn rhs_transpose(x: &[f64], y: &[f64], dk: &[f64], dx: &mut [f64], dy: &mut [f64]) {
    dy.fill(0.0);
    dx[0] += dk[0];
    for i in 1..x.len() {
        dx[i] += dk[i] * y[i - 1];
        dy[i - 1] = dk[i] * x[i];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::problems::uniform;
    use approx::assert_relative_eq;

    #[test]
    fn hand_adjoint_equals_the_generated_gradient() {
        for (seed, n, s) in [(1, 1, 1), (2, 3, 2), (3, 8, 10), (4, 30, 4), (5, 100, 10)] {
            let x = uniform(seed, n);
            let (value, gradient) = last_grad(&x, s);
            let (hand_value, hand_gradient) = last_hand(&x, s);
            assert_eq!(value, last(&x, s));
            assert_relative_eq!(hand_value, value, max_relative = 1e-14);
            for (h, g) in hand_gradient.iter().zip(&gradient) {
                assert_relative_eq!(*h, *g, epsilon = 1e-300, max_relative = 1e-12);
            }
        }
    }

    #[test]
    fn rk4_is_exact_for_short_chains() {
        // For n ≤ 4 the exact solution, y_i(t) = Π_{j≤i} x_j tⁱ⁺¹/(i+1)!, is a polynomial of
        // degree ≤ 4 in t, which RK4 integrates exactly; ∂y_{n−1}/∂x_i = y_{n−1}/x_i.
        let x = [1.0, 2.0, 3.0, 4.0];
        for s in [1, 2, 10] {
            let y = solve(&x, s);
            for (got, want) in y.iter().zip([2.0, 4.0, 8.0, 16.0]) {
                assert_relative_eq!(*got, want, max_relative = 1e-13);
            }
            let (value, gradient) = last_grad(&x, s);
            let (_, hand) = last_hand(&x, s);
            for i in 0..4 {
                assert_relative_eq!(gradient[i], value / x[i], max_relative = 1e-13);
                assert_relative_eq!(hand[i], value / x[i], max_relative = 1e-13);
            }
        }
    }
}
