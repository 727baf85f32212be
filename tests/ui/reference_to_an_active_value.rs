use ad_runtime::reverse;

#[reverse]
fn f(x: f64, y: f64) -> f64 {
    let r = &x;
    *r * x + -&y
}

fn main() {
    let _ = f_grad(1.0, 2.0);
}
