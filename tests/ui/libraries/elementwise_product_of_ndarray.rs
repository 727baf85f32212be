// ndarray's `*` is elementwise, not the matrix product: not a product the macro models.
use ad_runtime::reverse;
use ndarray::Array2;

#[reverse]
fn f(a: &Array2<f64>, b: &Array2<f64>) -> f64 {
    let c = a * b;
    c[[0, 0]]
}

fn main() {}
