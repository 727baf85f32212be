use ad_runtime::reverse;

#[reverse]
fn f(x: &[f64], a: f64) -> f64 {
    let mut s = a;
    for t in x.iter().map(move |v| v * s) {
        s = t;
    }
    s
}

fn main() {
    let _ = f_grad(&[1.0], 2.0);
}
