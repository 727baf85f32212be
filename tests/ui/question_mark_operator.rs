use ad_runtime::reverse;

#[reverse]
fn f(x: f64, s: &str) -> f64 {
    let k: f64 = s.parse().ok()?;
    x * k
}

fn main() {
    let _ = f_grad(1.0, "2");
}
