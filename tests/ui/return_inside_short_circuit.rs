use ad_runtime::reverse;

#[reverse]
fn f(x: f64, n: usize) -> f64 {
    let y = x * x;
    n == 0 && return y;
    y * x
}

fn main() {
    let _ = f_grad(1.0, 0);
}
