//! Shared assertions for gradient tests: every gradient is compared with a closed form
//! (approx) and with central differences (`ad_runtime::check`), and every value with the
//! original function, bit for bit. [`gradbench`] drives the GradBench tool in process and
//! compares its outputs as the evals do.
#![allow(dead_code, reason = "each test crate uses a subset")]

pub mod gradbench;

use ad_runtime::check;
use approx::relative_eq;

/// Tolerance against central differences (f64).
pub const FD_TOL: f64 = 1e-6;

/// `got` and `want` agree to a relative 1e-12 (or absolutely, near zero).
#[track_caller]
pub fn assert_close(what: &str, got: f64, want: f64) {
    assert!(
        relative_eq!(got, want, epsilon = 1e-13, max_relative = 1e-11)
            || (got.is_nan() && want.is_nan()),
        "{what}: got {got:e}, want {want:e}"
    );
}

/// A one-parameter function: value, closed-form derivative and central differences.
#[track_caller]
pub fn check1(
    name: &str,
    f: impl Fn(f64) -> f64,
    grad: impl Fn(f64) -> (f64, f64),
    closed: impl Fn(f64) -> f64,
    points: &[f64],
) {
    for &x in points {
        let (value, dx) = grad(x);
        assert_eq!(
            value.to_bits(),
            f(x).to_bits(),
            "{name}({x}): value differs from the original"
        );
        assert_close(
            &format!("{name}'({x}) against the closed form"),
            dx,
            closed(x),
        );
        let report = check::gradient(|p| f(p[0]), &[x], &[dx]);
        assert!(
            report.is_within(FD_TOL),
            "{name}'({x}) against central differences:\n{report}"
        );
    }
}

/// A two-parameter function.
#[track_caller]
pub fn check2(
    name: &str,
    f: impl Fn(f64, f64) -> f64,
    grad: impl Fn(f64, f64) -> (f64, (f64, f64)),
    closed: impl Fn(f64, f64) -> (f64, f64),
    points: &[(f64, f64)],
) {
    for &(x, y) in points {
        let (value, (dx, dy)) = grad(x, y);
        assert_eq!(
            value.to_bits(),
            f(x, y).to_bits(),
            "{name}({x}, {y}): value differs"
        );
        let (cx, cy) = closed(x, y);
        assert_close(&format!("d{name}/dx({x}, {y})"), dx, cx);
        assert_close(&format!("d{name}/dy({x}, {y})"), dy, cy);
        let report = check::gradient(|p| f(p[0], p[1]), &[x, y], &[dx, dy]);
        assert!(
            report.is_within(FD_TOL),
            "{name}({x}, {y}) against central differences:\n{report}"
        );
    }
}

/// An f32 one-parameter function, against a closed form computed in f64.
#[track_caller]
pub fn check1_f32(
    name: &str,
    f: impl Fn(f32) -> f32,
    grad: impl Fn(f32) -> (f32, f32),
    closed: impl Fn(f64) -> f64,
    points: &[f32],
) {
    for &x in points {
        let (value, dx) = grad(x);
        assert_eq!(
            value.to_bits(),
            f(x).to_bits(),
            "{name}({x}): value differs"
        );
        let want = closed(f64::from(x));
        assert!(
            (f64::from(dx) - want).abs() <= 1e-5 * (1.0 + want.abs()),
            "{name}'({x}) in f32: got {dx}, want {want}"
        );
        let report = check::gradient(|p| f(p[0]), &[x], &[dx]);
        assert!(
            report.is_within(5e-3),
            "{name}'({x}) in f32 against central differences:\n{report}"
        );
    }
}

/// A closed-form gradient of a function of one slice, where one is short.
pub type Closed<'a> = Option<&'a dyn Fn(&[f64]) -> Vec<f64>>;

/// Checks `grad` of a function of one slice at each point: its value bitwise, its gradient
/// against `closed` (if given) and against central differences (but at the empty slice).
#[track_caller]
pub fn check_slice<P: AsRef<[f64]>>(
    name: &str,
    f: impl Fn(&[f64]) -> f64,
    grad: impl Fn(&[f64]) -> (f64, Vec<f64>),
    closed: Closed,
    points: &[P],
) {
    for x in points {
        let x = x.as_ref();
        let (value, dx) = grad(x);
        assert_eq!(
            value.to_bits(),
            f(x).to_bits(),
            "{name}({x:?}): value differs from the original"
        );
        if let Some(closed) = closed {
            for (i, (&got, want)) in dx.iter().zip(closed(x)).enumerate() {
                assert_close(&format!("{name}({x:?}) d/dx[{i}]"), got, want);
            }
        }
        if !x.is_empty() {
            let report = check::gradient(&f, x, &dx);
            assert!(report.is_within(FD_TOL), "{name}({x:?}):\n{report}");
        }
    }
}
