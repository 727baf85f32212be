use ad_runtime::reverse;

#[reverse]
fn f(x: f64, weights: &[f64]) -> f64 {
    let mut s = x;
    for w in weights.iter().flat_map(|v| [*v, -*v]) {
        s = s * w;
    }
    s
}

fn main() {
    let _ = f_grad(1.0, &[2.0]);
}
