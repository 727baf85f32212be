use ad_runtime::reverse;

#[reverse]
fn f(x: f64, out: &mut f64) -> f64 {
    *out = x;
    x * x
}

fn main() {
    let mut out = 0.0;
    let _ = f_grad(1.0, &mut out);
}
