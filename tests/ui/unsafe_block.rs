use ad_runtime::reverse;

unsafe fn scale(v: f64) -> f64 {
    v * 2.0
}

#[reverse]
fn f(x: f64) -> f64 {
    let y = unsafe { scale(x) };
    y.sin()
}

fn main() {
    let _ = f_grad(1.0);
}
