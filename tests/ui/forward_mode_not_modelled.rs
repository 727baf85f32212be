// Forward mode goes through calls of other `#[reverse]` functions that return a float, not yet
// through one returning a tuple: `f_jvp` of such a function exists, so that `f_grad` users are
// not affected, but calling it is an error saying why.
use ad_runtime::reverse;

#[reverse]
fn polar(r: f64, t: f64) -> (f64, f64) {
    (r * t.cos(), r * t.sin())
}

#[reverse]
fn outer(x: f64) -> f64 {
    let (a, b) = polar(x, 0.5);
    a * b
}

fn main() {
    let _ = outer_grad(1.0);
    let _ = outer_jvp(1.0, 1.0);
}
