use ad_runtime::reverse;

#[reverse]
fn f(x: f64) -> f64 {
    let mut a = [x, 2.0 * x];
    let mut b = [x * x, 1.0];
    (a, b) = (b, a);
    a[0] * b[1]
}

fn main() {
    let _ = f_grad(1.0);
}
