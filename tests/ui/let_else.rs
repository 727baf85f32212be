use ad_runtime::reverse;

#[reverse]
fn f(x: f64, k: Option<f64>) -> f64 {
    let Some(k) = k else { panic!("no k") };
    x * k
}

fn main() {
    let _ = f_grad(1.0, Some(2.0));
}
