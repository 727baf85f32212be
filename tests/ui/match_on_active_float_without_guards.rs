use ad_runtime::reverse;

#[reverse]
fn f(x: f64) -> f64 {
    match x {
        0.0 => 1.0,
        _ => x * x,
    }
}

fn main() {
    let _ = f_grad(1.0);
}
