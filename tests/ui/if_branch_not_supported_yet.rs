use ad_runtime::reverse;

#[reverse]
fn f(x: f64) -> f64 {
    if x > 0.0 { x } else { -x }
}

fn main() {
    let _ = f_grad(1.0);
}
