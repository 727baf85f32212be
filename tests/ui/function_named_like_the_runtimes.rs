use ad_runtime::reverse;

mod linalg {
    pub fn norm2(x: &[f64]) -> f64 {
        x.iter().map(|v| v * v).sum()
    }
}

fn stop_gradient(x: f64) -> f64 {
    x * x
}

// The macro gives these the runtime's derivatives: the paths must name the runtime's.
#[reverse]
fn f(x: &[f64], y: f64) -> f64 {
    linalg::norm2(x) + stop_gradient(y) * y
}

fn main() {
    let _ = f_grad(&[3.0, 4.0], 1.0);
}
