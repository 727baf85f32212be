use ad_runtime::reverse;

#[reverse]
fn f(x: f64) -> f64 {
    let s = x.sin();
    s * __ad_s_1
}

fn main() {
    let _ = f_grad(1.0);
}
