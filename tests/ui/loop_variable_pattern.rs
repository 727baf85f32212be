use ad_runtime::reverse;

#[reverse]
fn f(x: f64, n: usize) -> f64 {
    let mut s = x;
    for (i, j) in (0..n).zip(0..n) {
        s = s * (i + j) as f64;
    }
    s
}

fn main() {
    let _ = f_grad(1.0, 2);
}
