//! The conventions at kinks, singular points and domain edges (docs/semantics.md), through
//! the macro.

mod common;

use ad_runtime::reverse;

#[reverse]
fn abs(x: f64) -> f64 {
    x.abs()
}

#[reverse]
fn copysign(x: f64, s: f64) -> f64 {
    x.copysign(s)
}

#[reverse]
fn max(x: f64, y: f64) -> f64 {
    x.max(y)
}

#[reverse]
fn min(x: f64, y: f64) -> f64 {
    x.min(y)
}

#[reverse]
fn max_of_self(x: f64) -> f64 {
    x.max(x)
}

#[reverse]
fn sqrt(x: f64) -> f64 {
    x.sqrt()
}

#[reverse]
fn norm(x: f64, y: f64) -> f64 {
    (x * x + y * y).sqrt()
}

#[reverse]
fn hypot(x: f64, y: f64) -> f64 {
    x.hypot(y)
}

#[reverse]
fn cbrt(x: f64) -> f64 {
    x.cbrt()
}

#[reverse]
fn steps(x: f64) -> f64 {
    x.floor() + x.ceil() + x.round() + x.trunc() + x.signum()
}

#[reverse]
fn powf(x: f64, p: f64) -> f64 {
    x.powf(p)
}

#[reverse]
fn asin(x: f64) -> f64 {
    x.asin()
}

#[reverse]
fn ln(x: f64) -> f64 {
    x.ln()
}

#[reverse]
fn atan2(y: f64, x: f64) -> f64 {
    y.atan2(x)
}

#[test]
fn abs_at_zero_is_zero() {
    assert_eq!(abs_grad(0.0), (0.0, 0.0));
    assert_eq!(abs_grad(-0.0).1, 0.0);
    assert_eq!(abs_grad(-2.0), (2.0, -1.0));
    assert_eq!(abs_grad(2.0), (2.0, 1.0));
}

#[test]
fn copysign_at_zero_is_zero_and_constant_in_the_sign() {
    // copysign(x, s) = |x| sign(s): at x = ±0, 0 as abs at 0, whatever the sign.
    for x in [0.0, -0.0] {
        for s in [1.0, -1.0, 0.0, -0.0, f64::NAN, -f64::NAN] {
            let (value, d) = copysign_grad(x, s);
            assert_eq!(
                value.to_bits(),
                x.copysign(s).to_bits(),
                "copysign({x}, {s})"
            );
            assert_eq!(d, (0.0, 0.0), "copysign({x}, {s})");
        }
    }
    // The sign's adjoint is 0 also at the jump s = ±0; -0.0 counts as negative.
    assert_eq!(copysign_grad(2.0, 0.0), (2.0, (1.0, 0.0)));
    assert_eq!(copysign_grad(2.0, -0.0), (-2.0, (-1.0, 0.0)));
    assert_eq!(copysign_grad(-2.0, -0.0), (-2.0, (1.0, 0.0)));
}

#[test]
fn max_and_min_split_ties() {
    assert_eq!(max_grad(1.0, 1.0), (1.0, (0.5, 0.5)));
    assert_eq!(min_grad(-3.0, -3.0), (-3.0, (0.5, 0.5)));
    assert_eq!(max_grad(2.0, 1.0).1, (1.0, 0.0));
    assert_eq!(min_grad(2.0, 1.0).1, (0.0, 1.0));
    // max(x, x) = x: the two halves add up to the true derivative.
    assert_eq!(max_of_self_grad(3.0), (3.0, 1.0));
    // A NaN operand is ignored by max, and gets no adjoint.
    assert_eq!(max_grad(f64::NAN, 1.0), (1.0, (0.0, 1.0)));
}

#[test]
fn roots_and_norms_at_zero_are_zero() {
    assert_eq!(sqrt_grad(0.0), (0.0, 0.0));
    assert_eq!(cbrt_grad(0.0), (0.0, 0.0));
    // The norm of the zero vector: 0 · ∞ would be NaN; the subgradient 0 is returned.
    assert_eq!(norm_grad(0.0, 0.0), (0.0, (0.0, 0.0)));
    assert_eq!(hypot_grad(0.0, 0.0), (0.0, (0.0, 0.0)));
    // Away from zero, the ordinary derivative.
    let (_, (dx, dy)) = norm_grad(3.0, 4.0);
    common::assert_close("norm dx", dx, 0.6);
    common::assert_close("norm dy", dy, 0.8);
}

#[test]
fn piecewise_constant_functions_have_zero_derivative_even_at_jumps() {
    for x in [-1.0, 0.0, 0.5, 2.0, -2.5] {
        assert_eq!(steps_grad(x), (steps(x), 0.0), "at {x}");
    }
}

#[test]
fn powf_with_zero_base() {
    // 0^p is constant in p for p > 0, so dp = 0 rather than 0 · ln 0 = NaN.
    assert_eq!(powf_grad(0.0, 2.0), (0.0, (0.0, 0.0)));
    assert_eq!(powf_grad(0.0, 1.0), (0.0, (1.0, 0.0)));
    // d/dx x^0 = 0 everywhere, also at 0.
    assert_eq!(powf_grad(0.0, 0.0).1.0, 0.0);
}

#[test]
fn outside_the_domain_nan_flows_through() {
    let (v, d) = sqrt_grad(-1.0);
    assert!(v.is_nan() && d.is_nan());
    let (v, d) = ln_grad(-1.0);
    assert!(v.is_nan() && d.is_nan());
    let (v, d) = asin_grad(1.5);
    assert!(v.is_nan() && d.is_nan());
    let (_, d) = sqrt_grad(f64::NAN);
    assert!(d.is_nan());
}

#[test]
fn domain_edges_follow_ieee() {
    assert_eq!(asin_grad(1.0).1, f64::INFINITY);
    assert_eq!(ln_grad(0.0), (f64::NEG_INFINITY, f64::INFINITY));
    assert_eq!(atan2_grad(0.0, 0.0), (0.0, (0.0, 0.0)));
}
