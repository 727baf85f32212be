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

/// [`objective`] and its gradient written by hand, into `gradient`: per sample, the residual
/// with the powers of `t_i` built as it goes, then the powers built again for its share of the
/// gradient, `−r_i t_iʲ`.
///
/// # Panics
///
/// If `gradient` is not as long as `x`.
pub fn objective_hand(x: &[f64], n: usize, gradient: &mut [f64]) -> f64 {
    assert_eq!(
        x.len(),
        gradient.len(),
        "objective_hand: one gradient entry per coefficient"
    );
    gradient.fill(0.0);
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
        for &coefficient in x {
            r -= coefficient * power;
            power *= t;
        }
        total += r * r;
        let mut power = 1.0;
        for g in gradient.iter_mut() {
            *g -= r * power;
            power *= t;
        }
    }
    0.5 * total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hand_written_gradient_is_ours() {
        for (m, n) in [(1, 2), (5, 16), (128, 300)] {
            let x = crate::problems::uniform(m as u64, m);
            let (value, gradient) = objective_grad(&x, n);
            let mut hand = vec![0.0; m];
            assert_eq!(objective_hand(&x, n, &mut hand), value);
            assert_eq!(gradient, hand);
        }
    }
}
