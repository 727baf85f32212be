//! Gradient checking by central differences, for your own tests.
//!
//! ```
//! use ad_runtime::{check, reverse};
//!
//! #[reverse]
//! fn f(x: f64, y: f64) -> f64 {
//!     (x * y).sin() + x.exp()
//! }
//!
//! let (_, (dx, dy)) = f_grad(0.3, -1.2);
//! check::gradient(|p| f(p[0], p[1]), &[0.3, -1.2], &[dx, dy]).assert_within(1e-7);
//! ```
//!
//! Each component `i` is compared with a central difference extrapolated once (Richardson):
//! with `D(h) = (f(x + h eᵢ) - f(x - h eᵢ)) / 2h`, the estimate `(4 D(h/2) - D(h)) / 3` has
//! truncation error `O(h⁴)` instead of `O(h²)`. The step `h = ε^⅓ · max(1, |xᵢ|)` (ε the
//! type's machine epsilon) keeps the rounding error near `ε^⅔` and, being relative for large
//! `|xᵢ|`, does not step across a domain boundary at 0. The error of a component is
//! `|analytic - numeric| / max(1, |analytic|, |numeric|)`: absolute for small derivatives,
//! relative for large ones. With `f64` a correct gradient of a smooth, well-scaled function
//! typically has errors below `1e-8`; with `f32`, below `1e-3`.

use alloc::vec::Vec;
use core::fmt;
use num_traits::Float;

/// Central-difference approximation of the gradient of `f` at `x`, with one step of
/// Richardson extrapolation (see the [module documentation](self)).
///
/// ```
/// let g = ad_runtime::check::central_differences(|p: &[f64]| p[0] * p[1], &[2.0, 3.0]);
/// assert!((g[0] - 3.0).abs() < 1e-8 && (g[1] - 2.0).abs() < 1e-8);
/// ```
pub fn central_differences<F: Float>(mut f: impl FnMut(&[F]) -> F, x: &[F]) -> Vec<F> {
    let mut point = x.to_vec();
    let eps_cbrt = F::epsilon().cbrt();
    let two = F::one() + F::one();
    let three = two + F::one();
    let four = two + two;
    (0..x.len())
        .map(|i| {
            let h = eps_cbrt * F::one().max(x[i].abs());
            let mut difference = |h: F| {
                let (plus, minus) = (x[i] + h, x[i] - h);
                point[i] = plus;
                let f_plus = f(&point);
                point[i] = minus;
                let f_minus = f(&point);
                point[i] = x[i];
                // Divide by the step actually taken, which rounding may have changed.
                (f_plus - f_minus) / (plus - minus)
            };
            let (coarse, fine) = (difference(h), difference(h / two));
            (four * fine - coarse) / three
        })
        .collect()
}

/// Compares `analytic`, a gradient of `f` at `x`, with central differences.
///
/// # Panics
///
/// If `analytic` and `x` have different lengths.
pub fn gradient<F: Float>(f: impl FnMut(&[F]) -> F, x: &[F], analytic: &[F]) -> Report<F> {
    assert_eq!(
        analytic.len(),
        x.len(),
        "check::gradient: `analytic` has {} components but `x` has {}",
        analytic.len(),
        x.len()
    );
    let numeric = central_differences(f, x);
    let components = (0..x.len())
        .map(|i| {
            let (a, n) = (analytic[i], numeric[i]);
            let scale = F::one().max(a.abs()).max(n.abs());
            let error = if a == n {
                F::zero()
            } else {
                (a - n).abs() / scale
            };
            Component {
                index: i,
                x: x[i],
                analytic: a,
                numeric: n,
                error,
            }
        })
        .collect();
    Report { components }
}

/// One component of a [`Report`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Component<F> {
    /// Position in the flattened parameter vector.
    pub index: usize,
    /// The point's coordinate.
    pub x: F,
    /// The gradient under test.
    pub analytic: F,
    /// The central-difference estimate.
    pub numeric: F,
    /// `|analytic - numeric| / max(1, |analytic|, |numeric|)`; NaN if either is NaN.
    pub error: F,
}

/// The result of [`gradient`]: every component, and the worst one.
#[derive(Clone, Debug, PartialEq)]
pub struct Report<F> {
    /// One entry per parameter component, in order.
    pub components: Vec<Component<F>>,
}

impl<F: Float> Report<F> {
    /// The component with the largest error (a NaN error counts as the largest).
    pub fn worst(&self) -> Option<&Component<F>> {
        self.components.iter().fold(None, |worst, c| match worst {
            Some(w) if !(c.error > w.error || (c.error.is_nan() && !w.error.is_nan())) => Some(w),
            _ => Some(c),
        })
    }

    /// The largest error, 0 for an empty gradient, NaN if any error is NaN.
    pub fn max_error(&self) -> F {
        self.worst().map_or(F::zero(), |c| c.error)
    }

    /// Whether every component's error is at most `tolerance` (NaN never is).
    pub fn is_within(&self, tolerance: F) -> bool {
        self.components.iter().all(|c| c.error <= tolerance)
    }

    /// Panics, printing the whole report, unless [`is_within`](Self::is_within)`(tolerance)`.
    #[track_caller]
    pub fn assert_within(&self, tolerance: F) {
        if !self.is_within(tolerance) {
            panic!(
                "gradient check failed: max error {:e} > tolerance {:e}\n{}",
                self.max_error().to_f64().unwrap_or(f64::NAN),
                tolerance.to_f64().unwrap_or(f64::NAN),
                self
            );
        }
    }
}

impl<F: Float> fmt::Display for Report<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let worst = self.worst().map(|c| c.index);
        let v = |x: F| x.to_f64().unwrap_or(f64::NAN);
        writeln!(
            f,
            "{:>6}  {:>13}  {:>15}  {:>15}  {:>9}",
            "index", "x", "analytic", "numeric", "error"
        )?;
        for c in &self.components {
            let mark = if Some(c.index) == worst {
                "  <- worst"
            } else {
                ""
            };
            writeln!(
                f,
                "{:>6}  {:>13.6e}  {:>15.8e}  {:>15.8e}  {:>9.2e}{mark}",
                c.index,
                v(c.x),
                v(c.analytic),
                v(c.numeric),
                v(c.error)
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    fn f(p: &[f64]) -> f64 {
        p[0].sin() * p[1] + p[1].powi(3)
    }

    #[test]
    fn accepts_a_correct_gradient() {
        let x = [0.7, -1.3];
        let g = [x[0].cos() * x[1], x[0].sin() + 3.0 * x[1] * x[1]];
        let report = gradient(f, &x, &g);
        assert!(report.max_error() < 1e-9, "{report}");
        report.assert_within(1e-9);
    }

    #[test]
    fn finds_the_worst_component_of_a_wrong_gradient() {
        let x = [0.7, -1.3];
        let g = [x[0].cos() * x[1], 2.0];
        let report = gradient(f, &x, &g);
        assert_eq!(report.worst().map(|c| c.index), Some(1));
        assert!(!report.is_within(1e-3));
        let text = report.to_string();
        assert!(text.contains("<- worst"), "{text}");
    }

    #[test]
    fn nan_is_never_within_tolerance() {
        let report = gradient(f, &[0.7, -1.3], &[f64::NAN, 0.0]);
        assert!(report.max_error().is_nan());
        assert_eq!(report.worst().map(|c| c.index), Some(0));
        assert!(!report.is_within(1.0));
    }

    #[test]
    fn large_arguments_use_a_relative_step() {
        let g = central_differences(|p: &[f64]| p[0] * p[0], &[1e6]);
        assert!((g[0] - 2e6).abs() / 2e6 < 1e-9);
    }

    #[test]
    fn works_in_f32() {
        let g = central_differences(|p: &[f32]| p[0].exp(), &[0.5]);
        assert!((g[0] - 0.5f32.exp()).abs() < 1e-3);
    }

    #[test]
    #[should_panic(expected = "`analytic` has 1 components but `x` has 2")]
    fn length_mismatch_names_the_parameter() {
        let _ = gradient(f, &[0.0, 1.0], &[0.0]);
    }

    #[test]
    #[should_panic(expected = "gradient check failed")]
    fn assert_within_panics_on_failure() {
        gradient(f, &[0.7, -1.3], &[0.0, 0.0]).assert_within(1e-6);
    }
}
