use ad_runtime::reverse;

// The gradient of `v` is shaped like `v` on entry; a whole assignment may change its length.
#[reverse]
fn f(mut v: Vec<f64>, x: f64) -> f64 {
    v = vec![v[0] * x, x, x];
    v[0] + v[2]
}

fn main() {
    let _ = f_grad(vec![1.0], 2.0);
}
