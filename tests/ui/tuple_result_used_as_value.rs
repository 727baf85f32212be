// A tuple returned by a `#[reverse]` function is destructured where it is called.
use ad_runtime::reverse;

#[reverse]
fn polar(r: f64, t: f64) -> (f64, f64) {
    (r * t.cos(), r * t.sin())
}

#[reverse]
fn f(r: f64, t: f64) -> f64 {
    let p = polar(r, t);
    p.0 * p.1
}

fn main() {
    let _ = f_grad(1.0, 2.0);
}
