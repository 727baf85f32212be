use ad_runtime::reverse;

#[reverse]
fn f(x: &[f64]) -> f64 {
    let last = x.iter().last();
    match last {
        Some(v) => *v,
        None => 0.0,
    }
}

fn main() {
    let _ = f_grad(&[1.0]);
}
