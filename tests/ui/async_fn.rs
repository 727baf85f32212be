use ad_runtime::reverse;

#[reverse]
async fn f(x: f64) -> f64 {
    x * x
}

fn main() {
    let _ = f_grad(1.0);
}
