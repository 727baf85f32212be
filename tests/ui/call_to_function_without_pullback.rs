// A called function must be differentiable: `#[reverse]` on it generates the `square_pullback`
// that the caller's reverse sweep calls. Without one, rustc cannot find it, at the call.
use ad_runtime::reverse;

fn square(v: f64) -> f64 {
    v * v
}

#[reverse]
fn f(x: f64) -> f64 {
    square(x) + x
}

fn main() {
    let _ = f_grad(1.0);
}
