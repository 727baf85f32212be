//! Destructuring assignment, `(a, b) = (b, a + b);`, and `std::mem::swap`, as Rust users write
//! recurrences: each
//! gradient against its closed form and central differences, each value bitwise against the
//! original function.

mod common;

use ad_runtime::{check, reverse};
use common::{FD_TOL, assert_close};

/// `a, b ← b, a + b x`, `n` times from `(1, x)`: `b` is `2x + x³` after two steps and
/// `1 + 3x² + x⁴` after three.
#[reverse]
fn recurrence(x: f64, n: usize) -> f64 {
    let (mut a, mut b) = (1.0, x);
    for _ in 0..n {
        (a, b) = (b, a + b * x);
    }
    b
}

/// Elements swapped and scaled through a tuple of places, and a `_` that drops a value.
#[reverse]
fn rotate(x: f64, y: f64) -> f64 {
    let mut p = [x, y];
    let mut s = 1.0;
    (p[0], p[1]) = (p[1] * 2.0, p[0]);
    (s, _) = (s * p[0] + p[1], x.sin());
    s
}

/// `(r cos t, r sin t)`.
#[reverse]
fn polar(r: f64, t: f64) -> (f64, f64) {
    (r * t.cos(), r * t.sin())
}

/// A tuple a call returns, assigned to two declared variables: `u v = r² sin(2t) / 2`.
#[reverse]
fn area(r: f64, t: f64) -> f64 {
    let (u, v);
    (u, v) = polar(r, t);
    u * v
}

#[test]
fn recurrence_matches_its_closed_forms() {
    for x in [0.3, -1.2, 2.0, 0.0] {
        for (n, want) in [(2, 2.0 + 3.0 * x * x), (3, 6.0 * x + 4.0 * x * x * x)] {
            let (value, dx) = recurrence_grad(x, n);
            assert_eq!(value.to_bits(), recurrence(x, n).to_bits());
            assert_close("d/dx", dx, want);
            check::gradient(|p| recurrence(p[0], n), &[x], &[dx]).assert_within(FD_TOL);
        }
    }
}

#[test]
fn places_of_a_tuple_assignment() {
    for (x, y) in [(0.4, -0.9), (1.5, 2.5)] {
        let (value, (dx, dy)) = rotate_grad(x, y);
        assert_eq!(value.to_bits(), rotate(x, y).to_bits());
        // s = 2y + x
        assert_close("d/dx", dx, 1.0);
        assert_close("d/dy", dy, 2.0);
        check::gradient(|p| rotate(p[0], p[1]), &[x, y], &[dx, dy]).assert_within(FD_TOL);
    }
}

#[test]
fn tuple_returned_by_a_call() {
    for (r, t) in [(1.3, 0.4), (0.5, -2.0)] {
        let (value, (dr, dt)) = area_grad(r, t);
        assert_eq!(value.to_bits(), area(r, t).to_bits());
        assert_close("d/dr", dr, r * (2.0 * t).sin());
        assert_close("d/dt", dt, r * r * (2.0 * t).cos());
        check::gradient(|p| area(p[0], p[1]), &[r, t], &[dr, dt]).assert_within(FD_TOL);
    }
}

/// `std::mem::swap` of two floats, `n` times in a loop: `a b` is `x²` after one step and `x³`
/// after two.
#[reverse]
fn swapping(x: f64, n: usize) -> f64 {
    let (mut a, mut b) = (1.0, x);
    for _ in 0..n {
        std::mem::swap(&mut a, &mut b);
        b *= x;
    }
    a * b
}

#[test]
fn swap_in_a_loop() {
    for x in [0.6, -1.4, 2.0] {
        for (n, want) in [(1, 2.0 * x), (2, 3.0 * x * x)] {
            let (value, dx) = swapping_grad(x, n);
            assert_eq!(value.to_bits(), swapping(x, n).to_bits());
            assert_close("d/dx", dx, want);
            check::gradient(|p| swapping(p[0], n), &[x], &[dx]).assert_within(FD_TOL);
        }
    }
}
