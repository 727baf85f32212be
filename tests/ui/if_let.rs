use ad_runtime::reverse;

#[reverse]
fn f(x: f64, k: Option<u32>) -> f64 {
    if let Some(k) = k {
        return x * k as f64;
    }
    x
}

fn main() {
    let _ = f_grad(1.0, Some(2));
}
