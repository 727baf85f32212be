//! GradBench's `hello`: `square` and its derivative.

use ad_runtime::reverse;

/// `x²`; `square_grad` gives `2x`.
#[reverse]
pub fn square(x: f64) -> f64 {
    x * x
}
