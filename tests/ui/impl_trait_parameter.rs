use ad_runtime::reverse;

#[reverse]
fn f(x: f64, scale: impl Into<f64>) -> f64 {
    x * scale.into()
}

fn main() {
    let _ = f_grad(1.0, 2.0);
}
