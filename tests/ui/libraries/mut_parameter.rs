// A `&mut` library container is not an output the macro models yet.
use ad_runtime::reverse;
use nalgebra::DVector;

#[reverse]
fn f(x: &mut DVector<f64>) -> f64 {
    x[0] * 2.0
}

fn main() {}
