use ad_runtime::reverse;

type Real = f64;

// Whether `_` or `Real` is a float decides whether the cast is differentiated.
#[reverse]
fn f(x: f64) -> f64 {
    let y: f64 = x as _;
    let z = x as Real;
    let w = x as core::primitive::f64; // a float: differentiated
    let k = x as i64 as f64; // an integer: piecewise constant
    y * z * w + k
}

fn main() {
    let _ = f_grad(1.0);
}
