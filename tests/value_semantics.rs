//! Rust's value semantics under `#[reverse]`: a container variable holds a value. Whole
//! assignment replaces it, `let b = a;` of an array copies it, a by-value argument is the
//! contents at the call, and a `match` arm binds what its pattern binds. Each of these once
//! compiled and gave a wrong value or gradient without a word (issue 12); every test checks
//! the value bit for bit against the original and the gradient against a closed form and
//! central differences.

mod common;

use common::check1;

/// A by-value array argument is the contents at the call: writing the caller's array after
/// the call must not change what the callee's pullback sees.
#[ad_runtime::reverse]
fn product_of(y: [f64; 2]) -> f64 {
    y[0] * y[1]
}

#[ad_runtime::reverse]
fn by_value_argument_then_written(x: f64) -> f64 {
    let mut y = [x, 2.0 * x];
    let a = product_of(y);
    y[0] = 5.0;
    a + y[0] * y[1]
}

#[test]
fn by_value_argument_is_its_contents_at_the_call() {
    // 2x² + 10x
    check1(
        "by_value_argument_then_written",
        by_value_argument_then_written,
        by_value_argument_then_written_grad,
        |x| 4.0 * x + 10.0,
        &[-1.5, 0.0, 0.7, 3.0],
    );
}

/// The same in a loop: the array is passed every iteration and rewritten after each call.
#[ad_runtime::reverse]
fn by_value_argument_in_a_loop(x: f64, n: usize) -> f64 {
    let mut y = [x, 1.0];
    let mut s = 0.0;
    for _ in 0..n {
        s += product_of(y);
        y[1] = y[1] * x + 1.0;
    }
    s
}

#[test]
fn by_value_argument_in_a_loop_is_its_contents_at_each_call() {
    // y1 takes 1, x + 1, x² + x + 1: s = x (1 + (x + 1) + (x² + x + 1)) = x³ + 2x² + 3x.
    check1(
        "by_value_argument_in_a_loop",
        |x| by_value_argument_in_a_loop(x, 3),
        |x| by_value_argument_in_a_loop_grad(x, 3),
        |x| 3.0 * x * x + 4.0 * x + 3.0,
        &[-2.0, -0.3, 0.0, 1.1],
    );
}
