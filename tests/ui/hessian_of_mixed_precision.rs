// A Hessian's rows have one float type: with `f32` and `f64` parameters, `f_hvp` exists but
// `f_hessian` does not, and calling it says so.
use ad_runtime::reverse;

#[reverse]
fn mixed(x: f32, y: f64) -> f64 {
    (x as f64) * y * y
}

fn main() {
    let _ = mixed_hvp(1.0, 2.0, 0.0, 1.0);
    let _ = mixed_hessian(1.0, 2.0);
}
