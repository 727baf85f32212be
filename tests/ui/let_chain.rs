use ad_runtime::reverse;

#[reverse(wrt(x))]
fn f(x: f64, k: Option<usize>) -> f64 {
    if let Some(k) = k && k > 2 { x * k as f64 } else { x }
}

fn main() {
    let _ = f_grad(1.0, Some(3));
}
