use ad_runtime::reverse;

#[reverse]
fn f(x: f64, y: f64) -> f64 {
    let mut s = x;
    let r = &mut s;
    *r = 2.0 * y;
    s
}

fn main() {
    let _ = f_grad(1.0, 2.0);
}
