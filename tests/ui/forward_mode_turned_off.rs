// `forward = false` saves the compile time of forward mode; calling `f_jvp` then says so.
use ad_runtime::reverse;

#[reverse(forward = false)]
fn f(x: f64) -> f64 {
    x * x
}

fn main() {
    let _ = f_grad(1.0);
    let _ = f_hvp(1.0, 1.0);
}
