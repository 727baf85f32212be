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
