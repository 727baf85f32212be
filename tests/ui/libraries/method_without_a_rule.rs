// A method of a library container with no rule: its derivative would be lost.
use ad_runtime::reverse;
use nalgebra::DVector;

#[reverse]
fn f(x: &DVector<f64>) -> f64 {
    x.norm()
}

fn main() {}
