use ad_runtime::reverse;

fn apply(f: impl Fn(f64) -> f64, x: f64) -> f64 {
    f(x)
}

#[reverse]
fn f(x: f64) -> f64 {
    let square = |v: f64| v * v;
    apply(square, x) + square(x)
}

fn main() {
    let _ = f_grad(1.0);
}
