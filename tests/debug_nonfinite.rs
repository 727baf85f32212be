//! `#[reverse(debug_nonfinite)]`: the first NaN or infinity of the forward or the reverse
//! sweep panics with the operation, the place in this file and the values it came from; where
//! none appears, values and gradients are those of the unchecked function, bit for bit.
//!
//! The reports name lines of this file: the functions they check come first, so that edits
//! below do not move them.

use ad_runtime::{Float, reverse};

#[reverse(debug_nonfinite)]
fn log_likelihood(x: &[f64], scale: f64) -> f64 {
    let mut s = 0.0;
    for v in x {
        let p = v * scale;
        s += p.ln();
    }
    s
}

#[reverse(debug_nonfinite)]
fn root_of_product(x: f64, y: f64) -> f64 {
    (x * y).powf(0.5) + x
}

#[reverse(debug_nonfinite)]
fn generic_ratio<T: Float>(x: T, y: T) -> T {
    let r = x / y;
    r * r + y
}

#[reverse(debug_nonfinite)]
fn overflow(x: f64) -> f64 {
    let big = x.exp();
    big * big
}

// The same functions unchecked.

#[reverse]
fn log_likelihood_plain(x: &[f64], scale: f64) -> f64 {
    let mut s = 0.0;
    for v in x {
        let p = v * scale;
        s += p.ln();
    }
    s
}

#[reverse]
fn root_of_product_plain(x: f64, y: f64) -> f64 {
    (x * y).powf(0.5) + x
}

/// The panic message of `f`.
fn report(f: impl FnOnce() + std::panic::UnwindSafe) -> String {
    let payload = std::panic::catch_unwind(f).expect_err("a non-finite value panics");
    match payload.downcast::<String>() {
        Ok(message) => *message,
        Err(payload) => (*payload.downcast::<&str>().expect("a panic message")).to_string(),
    }
}

#[test]
fn finite_values_and_gradients_are_the_unchecked_ones() {
    let x = [0.5, 2.0, 3.25];
    let (v, (dx, ds)) = log_likelihood_grad(&x, 1.5);
    let (w, (ex, es)) = log_likelihood_plain_grad(&x, 1.5);
    assert_eq!(v.to_bits(), w.to_bits());
    assert_eq!(v.to_bits(), log_likelihood(&x, 1.5).to_bits());
    assert_eq!(ds.to_bits(), es.to_bits());
    for (a, b) in dx.iter().zip(&ex) {
        assert_eq!(a.to_bits(), b.to_bits());
    }
    // d/dx_i Σ ln(x_i s) = 1 / x_i, d/ds = n / s.
    for (d, xi) in dx.iter().zip(&x) {
        approx::assert_relative_eq!(*d, 1.0 / xi, max_relative = 1e-15);
    }
    approx::assert_relative_eq!(ds, 3.0 / 1.5, max_relative = 1e-15);

    let (v, (dx, dy)) = root_of_product_grad(2.0, 8.0);
    let (w, (ex, ey)) = root_of_product_plain_grad(2.0, 8.0);
    assert_eq!((v, dx, dy), (w, ex, ey));
    assert_eq!((v, dx, dy), (6.0, 2.0, 0.25));

    let (v, (dx, dy)) = generic_ratio_grad(3.0f32, 2.0);
    assert_eq!((v, dx, dy), (4.25, 1.5, 1.0 - 2.0 * 9.0 / 8.0));
}

#[test]
fn a_log_of_zero_is_reported_at_its_line_in_the_forward_sweep() {
    let message = report(|| {
        let _ = log_likelihood_grad(&[1.0, 0.0, 2.0], 1.5);
    });
    assert!(
        message.starts_with(
            "non-finite value: `ln` at tests/debug_nonfinite.rs:15:16 produced -inf from 0.0 in the \
             forward sweep of `log_likelihood`"
        ),
        "{message}"
    );
    // The function itself is not checked: only what `#[reverse]` generates.
    assert_eq!(log_likelihood(&[1.0, 0.0], 1.0), f64::NEG_INFINITY);
}

#[test]
fn an_infinite_derivative_is_reported_in_the_reverse_sweep() {
    // `(x y)^0.5` at x y = 0 is finite (0), its derivative 0.5 (x y)^-0.5 is not.
    let message = report(|| {
        let _ = root_of_product_grad(0.0, 3.0);
    });
    assert!(
        message.starts_with(
            "non-finite value: the derivative of `powf` at tests/debug_nonfinite.rs:22:13 produced"
        ),
        "{message}"
    );
    assert!(
        message.contains("in the reverse sweep of `root_of_product`"),
        "{message}"
    );
    // Unchecked, the infinity times the zero of `y`'s other factor is NaN.
    assert!(root_of_product_plain_grad(0.0, 3.0).1.1.is_nan());
}

#[test]
fn generic_functions_report_their_own_float_type_and_other_generated_functions_check_too() {
    let message = report(|| {
        let _ = generic_ratio_grad(1.0f32, 0.0);
    });
    assert!(
        message.starts_with(
            "non-finite value: `/` at tests/debug_nonfinite.rs:27:15 produced inf from 1.0, 0.0 \
             in the forward sweep of `generic_ratio`"
        ),
        "{message}"
    );
    let message = report(|| {
        let _ = overflow_vjp(400.0, 1.0);
    });
    assert!(
        message.starts_with(
            "non-finite value: `*` at tests/debug_nonfinite.rs:34:9 produced inf from"
        ),
        "{message}"
    );
}
