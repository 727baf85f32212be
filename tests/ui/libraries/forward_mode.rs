// Forward mode is not generated for library containers yet: a call of `f_jvp` says so.
use ad_runtime::reverse;
use nalgebra::DVector;

#[reverse]
fn f(x: &DVector<f64>) -> f64 {
    x[0] * x[1]
}

fn main() {
    let x = DVector::from_vec(vec![1.0, 2.0]);
    let _ = f_jvp(&x, &x);
}
