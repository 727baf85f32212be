use ad_runtime::reverse;

#[reverse]
fn f(x: f64) {
    let _y = x * x;
}

fn main() {
    let _ = f_grad(1.0);
}
