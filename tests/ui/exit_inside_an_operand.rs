use ad_runtime::reverse;

#[reverse]
fn g(x: f64) -> f64 {
    x * x
}

// The call, the index and the test would run on the path that leaves.
#[reverse]
fn f(x: f64, v: &[f64], n: usize) -> f64 {
    let mut s = 0.0;
    for i in 0..n {
        s += g(if i == 2 { break } else { x });
        s += v[if i == 3 { continue } else { i }];
        if (if i == 4 { return s } else { x }) > 1.0 {
            s += x;
        }
    }
    s
}

fn main() {
    let _ = f_grad(1.0, &[1.0; 8], 8);
}
