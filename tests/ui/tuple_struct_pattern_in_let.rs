use ad_runtime::reverse;

struct Pair(f64, f64);

#[reverse]
fn f(x: f64, p: Pair) -> f64 {
    let Pair(a, b) = p;
    x * a * b
}

fn main() {
    let _ = f_grad(1.0, Pair(2.0, 3.0));
}
