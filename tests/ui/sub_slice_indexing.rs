use ad_runtime::reverse;

#[reverse]
fn f(x: &[f64]) -> f64 {
    let head = &x[0..2];
    head[0] * head[1]
}

fn main() {
    let _ = f_grad(&[1.0, 2.0, 3.0]);
}
