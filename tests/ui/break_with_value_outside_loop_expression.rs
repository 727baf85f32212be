use ad_runtime::reverse;

#[reverse]
fn f(x: f64, n: usize) -> f64 {
    let mut s = x;
    for _ in 0..n {
        s = s * x;
        if s > 2.0 {
            break s;
        }
    }
    s
}

fn main() {
    let _ = f_grad(1.0, 3);
}
