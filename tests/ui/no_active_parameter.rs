use ad_runtime::reverse;

#[reverse]
fn f(n: usize) -> f64 {
    n as f64
}

fn main() {
    let _ = f_grad(3);
}
