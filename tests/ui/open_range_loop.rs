use ad_runtime::reverse;

#[reverse]
fn f(x: f64) -> f64 {
    let mut s = x;
    for i in 0.. {
        if i > 3 {
            break;
        }
        s = s * x;
    }
    s
}

fn main() {
    let _ = f_grad(1.0);
}
