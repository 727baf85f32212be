//! GradBench's `llsq` (from cmpad): the least-squares objective of fitting a polynomial to the
//! sign function on `n` equally spaced points of [−1, 1].

use ad_runtime::reverse;

/// `½ Σ_i (sign(t_i) − Σ_j x_j t_iʲ)²` with `t_i = −1 + 2i/(n − 1)`, `i < n`: `x` holds the
/// polynomial's coefficients, lowest degree first. The powers of `t_i` are built by repeated
/// multiplication, as the reference does.
#[reverse]
pub fn objective(x: &[f64], n: usize) -> f64 {
    let mut total = 0.0;
    for i in 0..n {
        let t = -1.0 + 2.0 * i as f64 / (n as f64 - 1.0);
        let mut r = if t > 0.0 {
            1.0
        } else if t < 0.0 {
            -1.0
        } else {
            0.0
        };
        let mut power = 1.0;
        for &coefficient in x.iter() {
            r -= coefficient * power;
            power *= t;
        }
        total += r * r;
    }
    0.5 * total
}
