use ad_runtime::reverse;

fn helper(v: f64) -> f64 {
    v + 1.0
}

unsafe fn scale(v: f64) -> f64 {
    v * 2.0
}

#[reverse]
fn f(x: f64, y: f64) -> f64 {
    let a = helper(x);
    let b = unsafe { scale(y) };
    let c = if a > b { a } else { b };
    a + b + c
}

fn main() {
    let _ = f_grad(1.0, 2.0);
}
