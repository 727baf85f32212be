//! The checks of `#[reverse(debug_nonfinite)]`: after each float operation of the forward
//! sweep and each derivative of the reverse sweep, whether its result is NaN or infinite; the
//! first that is panics with the operation, the user's source line and the values it came
//! from.
//!
//! Generated code calls [`check`] with a [`Site`] made of the user's tokens (`line!()` spanned
//! at the user's expression gives its line); the values it came from are converted to `f64`
//! only when the check fails.

use num_traits::Float;

/// Where a checked value is made: the operation and its place in the user's source.
pub struct Site {
    /// The operation, as the user wrote it (`ln`, `*`, `linalg::dot`) or its rule.
    pub what: &'static str,
    /// Made by a rule of the reverse sweep (a derivative) rather than by the forward sweep.
    pub reverse: bool,
    /// The `#[reverse]` function.
    pub function: &'static str,
    /// `file!()` at the user's expression.
    pub file: &'static str,
    /// `line!()` at the user's expression.
    pub line: u32,
    /// `column!()` at the user's expression.
    pub column: u32,
}

/// Panics, naming `site`, if `value` is NaN or infinite; `from` gives the values it was
/// computed from (called only then).
#[inline(always)]
pub fn check<F: Float, const N: usize>(value: F, site: &Site, from: impl FnOnce() -> [f64; N]) {
    if !value.is_finite() {
        report(as_f64(value), site, &from());
    }
}

/// `x` as an `f64`, for the report (NaN if it has none).
#[inline(always)]
pub fn as_f64<F: Float>(x: F) -> f64 {
    x.to_f64().unwrap_or(f64::NAN)
}

#[cold]
#[inline(never)]
fn report(value: f64, site: &Site, from: &[f64]) -> ! {
    let Site {
        what,
        reverse,
        function,
        file,
        line,
        column,
    } = site;
    let sweep = if *reverse { "reverse" } else { "forward" };
    // `{:?}` writes `0.0` and `-inf`, as a Rust literal would read.
    // A rule's arguments are its operands, the value and the cotangent, in its order.
    let mut operands = alloc::string::String::new();
    for (k, x) in from.iter().enumerate() {
        use core::fmt::Write;
        let separator = match (k, *reverse) {
            (0, false) => " from ",
            (0, true) => " from the rule's arguments ",
            _ => ", ",
        };
        let _ = write!(operands, "{separator}{x:?}");
    }
    panic!(
        "non-finite value: {what} at {file}:{line}:{column} produced {value:?}{operands} in the \
         {sweep} sweep of `{function}` (#[reverse(debug_nonfinite)])"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const SITE: Site = Site {
        what: "`ln`",
        reverse: false,
        function: "model",
        file: "src/model.rs",
        line: 42,
        column: 17,
    };

    #[test]
    fn finite_values_pass() {
        check(1.5f64, &SITE, || -> [f64; 1] {
            unreachable!("not asked for when finite")
        });
        check(-0.0f32, &SITE, || [0.0]);
    }

    #[test]
    #[should_panic(
        expected = "non-finite value: `ln` at src/model.rs:42:17 produced -inf from 0.0 in the forward sweep of `model`"
    )]
    fn the_report_names_the_operation_the_place_and_the_operands() {
        check(0.0f64.ln(), &SITE, || [0.0]);
    }

    #[test]
    #[should_panic(
        expected = "produced NaN from the rule's arguments inf, 0.0 in the reverse sweep"
    )]
    fn nan_of_f32_in_the_reverse_sweep() {
        let site = Site {
            reverse: true,
            ..SITE
        };
        check(f32::INFINITY * 0.0, &site, || [f64::INFINITY, 0.0]);
    }
}
