// Forward mode does not go through calls of other `#[reverse]` functions yet: `f_jvp` of such
// a function exists, so that `f_grad` users are not affected, but calling it is an error
// saying why.
use ad_runtime::reverse;

#[reverse]
fn inner(x: f64) -> f64 {
    x.sin()
}

#[reverse]
fn outer(x: f64) -> f64 {
    inner(x) * 2.0
}

fn main() {
    let _ = outer_grad(1.0);
    let _ = outer_jvp(1.0, 1.0);
}
