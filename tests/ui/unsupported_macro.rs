use ad_runtime::reverse;

#[reverse]
fn f(x: f64) -> f64 {
    let _v = format!("{x}");
    x * x
}

fn main() {
    let _ = f_grad(1.0);
}
