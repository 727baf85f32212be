use ad_runtime::reverse;

unsafe fn scale(v: f64) -> f64 {
    v * 2.0
}

#[reverse]
fn f(x: f64, y: f64) -> f64 {
    let a = x.to_string().len() as f64;
    let b = unsafe { scale(y) };
    let c = vec![a, b];
    a + b + c[0]
}

fn main() {
    let _ = f_grad(1.0, 2.0);
}
