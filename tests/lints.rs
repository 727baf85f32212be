//! Generated code is lint-clean in a user's crate: this test crate denies every rustc warning
//! and clippy's default lints (CI runs clippy on all targets), and calls only the generated
//! functions of some originals, so unused-code lints would show too.
#![deny(warnings, clippy::all)]

use ad_runtime::{Float, reverse};

/// Documented.
#[reverse]
pub fn documented(x: f64, y: f64) -> f64 {
    let product = x * y;
    let (sine, cosine) = product.sin_cos();
    let unused_named = sine * 3.0;
    let _ = unused_named;
    sine * cosine + x.powi(2) + y.max(0.0)
}

#[reverse(wrt(x))]
fn partly_active(x: f64, y: f64, n: usize, flag: bool) -> f64 {
    let k = n as f64 + if_free(flag);
    let mut acc = x * k;
    acc += y;
    acc -= 1.0;
    acc
}

fn if_free(b: bool) -> f64 {
    f64::from(u8::from(b))
}

#[reverse]
fn generic<T: Float>(x: T, y: T) -> T {
    let two = T::one() + T::one();
    x * two + y.exp() - T::from(0.5).unwrap()
}

#[reverse]
fn constant(x: f64) -> f64 {
    let _ = x * 2.0;
    1.0
}

#[reverse]
fn effects(x: f64, log: &mut Vec<usize>) -> f64 {
    let y = x.tanh();
    log.push(log.len());
    println!("{y}");
    assert!(y.abs() <= 1.0, "tanh out of range: {y}");
    y * y
}

#[reverse]
fn many_parameters(a1: f64, a2: f64, a3: f64, a4: f64, a5: f64, a6: f64, a7: f64) -> f64 {
    a1 * a2 + a3 * a4 + a5 * a6 + a7
}

#[test]
fn generated_functions_compile_without_warnings() {
    assert_eq!(documented_grad(1.0, 2.0).0, documented(1.0, 2.0));
    assert_eq!(partly_active_grad(1.0, 2.0, 3, true).1, 4.0);
    assert_eq!(partly_active_vjp(1.0, 2.0, 3, false, 2.0).1, 6.0);
    assert_eq!(generic_grad(1.0f32, 0.0f32).1, (2.0, 1.0));
    assert_eq!(constant_vjp(1.0, 1.0), (1.0, 0.0));
    let mut log = Vec::new();
    let (_, d) = effects_grad(0.5, &mut log);
    assert_eq!(log.len(), 1);
    assert!(d > 0.0);
    let (_, g) = many_parameters_grad(1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0);
    assert_eq!(g, (2.0, 1.0, 4.0, 3.0, 6.0, 5.0, 1.0));
}
