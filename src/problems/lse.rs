//! GradBench's `lse`: LogSumExp built from its primitives (max, exp, sum, ln), not from
//! `ad_runtime::linalg::logsumexp`'s hand-written rule. Its gradient is the softmax.

use ad_runtime::reverse;

/// `a + ln Σ_i exp(x_i − a)` with `a = max_i x_i`: shifted by the maximum so that no `exp`
/// overflows. The shift cancels mathematically; its derivative flows through `max` anyway.
#[reverse]
pub fn logsumexp(x: &[f64]) -> f64 {
    let mut a = f64::NEG_INFINITY;
    for &v in x.iter() {
        a = a.max(v);
    }
    let mut sum = 0.0;
    for &v in x.iter() {
        sum += (v - a).exp();
    }
    a + sum.ln()
}
