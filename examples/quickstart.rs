//! The main job: differentiate a function, print its value and gradient, and check the
//! gradient against central finite differences.
//!
//! Run with `cargo run --example quickstart`.

use ad_runtime::{check, reverse};

/// A smooth test function of two variables and an integer parameter.
#[reverse]
fn f(x: f64, y: f64, k: i32) -> f64 {
    let r = x.hypot(y);
    let s = (x * y).sin() + r.powi(k);
    s / (1.0 + y * y).sqrt()
}

fn main() {
    let (x, y, k) = (0.8, -1.3, 3);
    let (value, (dx, dy)) = f_grad(x, y, k);
    println!("f({x}, {y}, {k}) = {value}");
    println!("gradient (df/dx, df/dy) = ({dx}, {dy})");

    let report = check::gradient(|p| f(p[0], p[1], k), &[x, y], &[dx, dy]);
    println!("\nagainst central differences:\n{report}");
    report.assert_within(1e-8);
    println!(
        "max relative error {:.1e}: the gradient checks out.",
        report.max_error()
    );
}
