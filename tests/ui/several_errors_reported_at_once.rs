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
    let c = vec![a, b];
    a + b + c[0]
}

fn main() {
    let _ = f_grad(1.0, 2.0);
}
