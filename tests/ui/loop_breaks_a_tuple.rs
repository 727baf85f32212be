use ad_runtime::reverse;

#[reverse]
fn f(a: f64) -> f64 {
    let (p, q) = loop {
        break (a, a * 3.0);
    };
    p * q
}

fn main() {
    let _ = f_grad(2.0);
}
