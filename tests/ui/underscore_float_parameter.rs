use ad_runtime::reverse;

#[reverse]
fn f(x: f64, _: f64) -> f64 {
    x * x
}

fn main() {
    let _ = f_grad(1.0, 2.0);
}
