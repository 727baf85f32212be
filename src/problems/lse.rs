//! GradBench's `lse`: LogSumExp built from its primitives (max, exp, sum, ln), not from
//! `ad_runtime::linalg::logsumexp`'s hand-written rule. Its gradient is the softmax.

use ad_runtime::{reverse, stop_gradient};

/// `a + ln Σ_i exp(x_i − a)` with `a = max_i x_i`: shifted by the maximum so that no `exp`
/// overflows. The shift cancels: the value does not depend on `a`, so `a` is held constant
/// for differentiation (`stop_gradient`), and the reverse sweep has nothing to do for the
/// loop finding it (differentiated, that loop kept every running maximum and walked the
/// elements again backwards, for an adjoint that sums to zero but for rounding).
#[reverse]
pub fn logsumexp(x: &[f64]) -> f64 {
    let mut a = f64::NEG_INFINITY;
    for &v in x.iter() {
        a = a.max(v);
    }
    let a = stop_gradient(a);
    let mut sum = 0.0;
    for &v in x.iter() {
        sum += (v - a).exp();
    }
    a + sum.ln()
}

/// [`logsumexp`] and its gradient (the softmax) written by hand, into `gradient`: the maximum,
/// then one pass keeping each `exp(x_i − a)` in `gradient` while summing, then one scaling it.
///
/// # Panics
///
/// If `gradient` is not as long as `x`.
pub fn logsumexp_hand(x: &[f64], gradient: &mut [f64]) -> f64 {
    assert_eq!(
        x.len(),
        gradient.len(),
        "logsumexp_hand: one gradient entry per input"
    );
    let a = x.iter().fold(f64::NEG_INFINITY, |a, &v| a.max(v));
    let mut sum = 0.0;
    for (g, &v) in gradient.iter_mut().zip(x) {
        *g = (v - a).exp();
        sum += *g;
    }
    for g in gradient.iter_mut() {
        *g /= sum;
    }
    a + sum.ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hand_written_gradient_is_ours() {
        for n in [1, 2, 7, 1000] {
            let x = crate::problems::uniform(n as u64, n);
            let (value, gradient) = logsumexp_grad(&x);
            let mut hand = vec![0.0; n];
            assert_eq!(logsumexp_hand(&x, &mut hand), value);
            for (a, b) in gradient.iter().zip(&hand) {
                assert!((a - b).abs() <= 1e-15 * b.abs().max(1e-300), "{a} vs {b}");
            }
        }
    }
}
