// `scale` is differentiated with respect to `x` only; passing it an active `k` would lose the
// derivative through `k`, so it is an error at the call.
use ad_runtime::reverse;

#[reverse(wrt(x))]
fn scale(x: f64, k: f64) -> f64 {
    x * k
}

#[reverse(wrt(w))]
fn weigh(w: &[f64], data: &[f64]) -> f64 {
    w[0] * data[0]
}

#[reverse]
fn f(x: f64, y: f64, v: &[f64]) -> f64 {
    scale(x, y) + weigh(&[1.0], v)
}

fn main() {
    let _ = f_grad(1.0, 2.0, &[3.0]);
}
