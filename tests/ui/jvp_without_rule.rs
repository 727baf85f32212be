// A tangent rule goes with a given derivative: a body `#[reverse]` differentiates gets its
// tangents from the body.
use ad_runtime::reverse;

fn square_tangent(x: f64, _y: f64, dx: f64) -> f64 {
    2.0 * x * dx
}

#[reverse(jvp = square_tangent)]
fn square(x: f64) -> f64 {
    x * x
}

fn main() {
    let _ = square_grad(1.0);
}
