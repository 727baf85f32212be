use ad_runtime::reverse;

#[reverse]
fn f(x: &[f64], w: &[f64]) -> f64 {
    x.iter().zip(w.iter()).max_by(|a, b| a.1.total_cmp(b.1)).unwrap().0 * 2.0
}

fn main() {
    let _ = f_grad(&[1.0], &[2.0]);
}
