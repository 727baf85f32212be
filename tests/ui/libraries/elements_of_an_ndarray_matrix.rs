// A 2-D ndarray array has no index by one number: iterating its elements is refused.
use ad_runtime::reverse;
use ndarray::Array2;

#[reverse]
fn f(a: &Array2<f64>) -> f64 {
    a.iter().map(|v| v * v).sum::<f64>()
}

fn main() {}
