//! Special functions, differentiable inside `#[reverse]` functions: the error function, the
//! complementary error function, the logarithm of the gamma function and the digamma function.
//!
//! Call them by a path ending in `special::name` (`ad_runtime::special::erf(x)`, or
//! `special::erf(x)` after `use ad_runtime::special;`): the macro recognizes that path, checks
//! that it names this module's function (a module of your own called `special` is a compile
//! error, not a silently wrong derivative), and reverses the call with the matching rule in
//! [`rules`](crate::rules). A bare `erf(x)` after `use ad_runtime::special::erf;` is not
//! recognized: the macro cannot see the `use`, and a call it does not know is differentiated
//! only when it is another `#[reverse]` function.
//!
//! ```
//! use ad_runtime::{reverse, special};
//!
//! /// The probit model's log-likelihood of one observation `y ∈ {0, 1}` at `z = w x`:
//! /// `Φ(z) = (1 + erf(z / √2)) / 2`.
//! #[reverse(wrt(w))]
//! fn probit(w: f64, x: f64, y: f64) -> f64 {
//!     let p = 0.5 * (1.0 + special::erf(w * x * core::f64::consts::FRAC_1_SQRT_2));
//!     y * p.ln() + (1.0 - y) * (1.0 - p).ln()
//! }
//!
//! let (value, dw) = probit_grad(0.3, 1.5, 1.0);
//! assert_eq!(value, probit(0.3, 1.5, 1.0));
//! // d/dw ln Φ(w x) = x φ(w x) / Φ(w x).
//! let z: f64 = 0.45;
//! let phi = (-z * z / 2.0).exp() / (2.0 * core::f64::consts::PI).sqrt();
//! assert!((dw - 1.5 * phi / value.exp()).abs() < 1e-12);
//! ```
//!
//! The functions are those of [`libm`](https://docs.rs/libm) (`erf`, `erfc`, `lgamma`) and of
//! [`special`](https://docs.rs/special) (digamma and trigamma for positive arguments; the
//! reflection formula below), pure Rust and `no_std`, so they are the same with and without
//! the `std` feature. They are defined for `f32` and `f64` (the [`SpecialFloat`] trait), not for
//! any [`Float`]: a generic function calling them needs `T: SpecialFloat`, and a float type of
//! its own (a dual number) does not get a value computed in `f64` with its derivative parts
//! silently dropped.
//!
//! Derivatives (the rules in [`rules`](crate::rules)): `erf′(x) = 2/√π e^(−x²)`,
//! `erfc′ = −erf′`, `ln_gamma′ = digamma`, `digamma′ = trigamma`.

use num_traits::Float;

/// The floats the special functions are defined for: `f32` and `f64`.
///
/// Each method is the function of the same name in this module; [`trigamma`](Self::trigamma)
/// is the derivative of [`digamma`](Self::digamma), which the rules need.
pub trait SpecialFloat: Float {
    /// The error function `erf(x) = 2/√π ∫₀ˣ e^(−t²) dt`.
    fn erf(self) -> Self;
    /// The complementary error function `erfc(x) = 1 − erf(x)`, without the cancellation of
    /// `1 − erf(x)` for large `x`.
    fn erfc(self) -> Self;
    /// `ln |Γ(x)|`; `+∞` at the poles `0, −1, −2, …`.
    fn ln_gamma(self) -> Self;
    /// The digamma function `ψ(x) = Γ′(x) / Γ(x)`, the derivative of `ln |Γ(x)|`; NaN at the
    /// poles `0, −1, −2, …` (where it tends to `+∞` on one side and `−∞` on the other).
    fn digamma(self) -> Self;
    /// The trigamma function `ψ′(x)`; `+∞` at the poles `0, −1, −2, …` (its limit from both
    /// sides).
    fn trigamma(self) -> Self;
    /// The tetragamma function `ψ″(x)`, the derivative of trigamma (second derivatives of
    /// `digamma`, `f_hvp` of a function calling it); NaN at the poles.
    fn tetragamma(self) -> Self;
}

/// `x` is `0, −1, −2, …`, a pole of `Γ`.
fn is_pole<F: Float>(x: F) -> bool {
    x <= F::zero() && x == x.floor()
}

/// `ψ(x)` from `special`'s series for `x > 0`; the reflection `ψ(x) = ψ(1 − x) − π / tan(πx)`
/// below (`special` recurses `ψ(x) = ψ(x + 1) − 1/x` once per unit up to 8, which does not
/// terminate at `−∞` and overflows the stack far below 0).
fn digamma_f64(x: f64) -> f64 {
    use special::Gamma;
    if is_pole(x) {
        f64::NAN
    } else if x < 0.0 {
        // tan(πx) for x reduced to (-1/2, 1/2]: πx itself is inexact for large |x|.
        let r = x - x.round();
        Gamma::digamma(1.0 - x) - core::f64::consts::PI / (core::f64::consts::PI * r).tan()
    } else {
        Gamma::digamma(x)
    }
}

/// `ψ′(x)` from `special` for `x > 0`; the reflection `ψ′(x) = π² / sin²(πx) − ψ′(1 − x)`
/// below, with `πx` reduced as in [`digamma_f64`].
fn trigamma_f64(x: f64) -> f64 {
    use special::Gamma;
    if is_pole(x) {
        f64::INFINITY
    } else if x < 0.0 {
        let r = x - x.round();
        let s = (core::f64::consts::PI * r).sin();
        core::f64::consts::PI * core::f64::consts::PI / (s * s) - Gamma::trigamma(&(1.0 - x))
    } else {
        Gamma::trigamma(&x)
    }
}

/// `ψ″(x)`: for `x > 0` the recurrence `ψ″(x) = ψ″(x + 1) − 2/x³` up to `x ≥ 10`, then the
/// asymptotic series `−1/x² − 1/x³ − 1/(2x⁴) + 1/(6x⁶) − 1/(6x⁸) + 3/(10x¹⁰) − 5/(6x¹²)`
/// (the derivative of trigamma's, error below `x⁻¹⁴`); below 0 the reflection
/// `ψ″(x) = ψ″(1 − x) − 2π³ cot(πx) / sin²(πx)`.
fn tetragamma_f64(x: f64) -> f64 {
    use core::f64::consts::PI;
    if is_pole(x) || x.is_nan() {
        return f64::NAN;
    }
    if x < 0.0 {
        let r = x - x.round();
        let (s, c) = ((PI * r).sin(), (PI * r).cos());
        return tetragamma_f64(1.0 - x) - 2.0 * PI * PI * PI * c / (s * s * s);
    }
    let (mut x, mut acc) = (x, 0.0);
    while x < 10.0 {
        acc -= 2.0 / (x * x * x);
        x += 1.0;
    }
    let r = 1.0 / (x * x);
    let series = r
        * (-1.0
            - 1.0 / x
            - r * (0.5 - r * (1.0 / 6.0 - r * (1.0 / 6.0 - r * (3.0 / 10.0 - r * 5.0 / 6.0)))));
    acc + series
}

impl SpecialFloat for f64 {
    fn erf(self) -> f64 {
        libm::erf(self)
    }
    fn erfc(self) -> f64 {
        libm::erfc(self)
    }
    fn ln_gamma(self) -> f64 {
        libm::lgamma(self)
    }
    fn digamma(self) -> f64 {
        digamma_f64(self)
    }
    fn trigamma(self) -> f64 {
        trigamma_f64(self)
    }
    fn tetragamma(self) -> f64 {
        tetragamma_f64(self)
    }
}

/// `f32`: `libm`'s single-precision functions; digamma and trigamma in `f64`, rounded once.
impl SpecialFloat for f32 {
    fn erf(self) -> f32 {
        libm::erff(self)
    }
    fn erfc(self) -> f32 {
        libm::erfcf(self)
    }
    fn ln_gamma(self) -> f32 {
        libm::lgammaf(self)
    }
    fn digamma(self) -> f32 {
        digamma_f64(f64::from(self)) as f32
    }
    fn trigamma(self) -> f32 {
        trigamma_f64(f64::from(self)) as f32
    }
    fn tetragamma(self) -> f32 {
        tetragamma_f64(f64::from(self)) as f32
    }
}

/// Dual numbers: each function's tangent from its tangent rule (`rules::special`), so that
/// forward over reverse (`f_hvp`) runs the special functions' pullbacks on dual numbers.
/// `tetragamma`'s tangent would need `ψ‴`, which no rule gives: it is NaN.
impl<F: SpecialFloat> SpecialFloat for crate::Dual<F> {
    fn erf(self) -> Self {
        let y = self.v.erf();
        crate::Dual::new(y, crate::rules::erf_jvp(self.v, y, self.d))
    }
    fn erfc(self) -> Self {
        let y = self.v.erfc();
        crate::Dual::new(y, crate::rules::erfc_jvp(self.v, y, self.d))
    }
    fn ln_gamma(self) -> Self {
        let y = self.v.ln_gamma();
        crate::Dual::new(y, crate::rules::ln_gamma_jvp(self.v, y, self.d))
    }
    fn digamma(self) -> Self {
        let y = self.v.digamma();
        crate::Dual::new(y, crate::rules::digamma_jvp(self.v, y, self.d))
    }
    fn trigamma(self) -> Self {
        crate::Dual::new(self.v.trigamma(), self.v.tetragamma() * self.d)
    }
    fn tetragamma(self) -> Self {
        crate::Dual::new(self.v.tetragamma(), F::nan())
    }
}

/// The error function `erf(x) = 2/√π ∫₀ˣ e^(−t²) dt`; its derivative is `2/√π e^(−x²)`.
#[inline]
pub fn erf<F: SpecialFloat>(x: F) -> F {
    x.erf()
}

/// The complementary error function `erfc(x) = 1 − erf(x)`, accurate where `erf(x)` is
/// close to 1 (`erfc(10) ≈ 2.1e-45`); its derivative is `−2/√π e^(−x²)`.
#[inline]
pub fn erfc<F: SpecialFloat>(x: F) -> F {
    x.erfc()
}

/// `ln |Γ(x)|`, the logarithm of the absolute value of the gamma function; `+∞` at the poles
/// `0, −1, −2, …`. Its derivative is [`digamma`].
#[inline]
pub fn ln_gamma<F: SpecialFloat>(x: F) -> F {
    x.ln_gamma()
}

/// The digamma function `ψ(x) = d/dx ln Γ(x)`; NaN at the poles `0, −1, −2, …`. Its
/// derivative is the trigamma function [`SpecialFloat::trigamma`].
#[inline]
pub fn digamma<F: SpecialFloat>(x: F) -> F {
    x.digamma()
}

#[cfg(test)]
mod tests {
    //! Against known values (Abramowitz and Stegun 6.3, 6.4, 7.1) and identities.
    use super::*;
    use core::f64::consts::{LN_2, PI};

    /// The Euler–Mascheroni constant.
    const GAMMA: f64 = 0.577_215_664_901_532_9;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol * (1.0 + b.abs())
    }

    #[test]
    fn tetragamma_known_values_and_trigamma_slopes() {
        // ψ″(1) = −2ζ(3), ψ″(1/2) = −14ζ(3) (A&S 6.4.2, 6.4.4).
        let zeta3 = 1.202_056_903_159_594_3;
        assert!(close(1.0f64.tetragamma(), -2.0 * zeta3, 1e-13));
        assert!(close(0.5f64.tetragamma(), -14.0 * zeta3, 1e-13));
        // The slope of trigamma, on both sides of 0 and across the switch at 10.
        for x in [-2.7, -1.5, -0.3, 0.2, 1.7, 9.9, 10.1, 35.0] {
            let h = 1e-5 * (1.0f64 + x.abs());
            let slope = ((x + h).trigamma() - (x - h).trigamma()) / (2.0 * h);
            assert!(close(x.tetragamma(), slope, 1e-6), "{x}");
        }
        assert!((-2.0f64).tetragamma().is_nan());
    }

    #[test]
    fn erf_known_values() {
        assert_eq!(erf(0.0f64), 0.0);
        assert!(close(erf(0.5f64), 0.520_499_877_813_046_5, 1e-15));
        assert!(close(erf(1.0f64), 0.842_700_792_949_714_9, 1e-15));
        assert!(close(erf(-2.0f64), -0.995_322_265_018_952_7, 1e-15));
        assert_eq!(erf(f64::INFINITY), 1.0);
        assert!(close(f64::from(erf(1.0f32)), 0.842_700_792_949_714_9, 1e-6));
    }

    #[test]
    fn erfc_is_one_minus_erf() {
        for x in [-3.0f64, -0.5, 0.0, 0.7, 2.0] {
            assert!(close(erfc(x), 1.0 - erf(x), 1e-15), "erfc({x})");
        }
        // Where 1 − erf(x) has cancelled to 0, erfc keeps its digits.
        assert!(close(erfc(10f64), 2.088_487_583_762_545e-45, 1e-14));
        assert!(close(
            f64::from(erfc(1.0f32)),
            0.157_299_207_050_285_1,
            1e-6
        ));
    }

    #[test]
    fn ln_gamma_known_values() {
        assert_eq!(ln_gamma(1.0f64), 0.0);
        assert_eq!(ln_gamma(2.0f64), 0.0);
        assert!(close(ln_gamma(0.5f64), 0.5 * PI.ln(), 1e-15));
        // Γ(5) = 24; Γ(-1/2) = -2√π, so ln|Γ(-1/2)| = ln(2√π).
        assert!(close(ln_gamma(5.0f64), 24f64.ln(), 1e-15));
        assert!(close(ln_gamma(-0.5f64), (2.0 * PI.sqrt()).ln(), 1e-15));
        assert_eq!(ln_gamma(0.0f64), f64::INFINITY);
        assert_eq!(ln_gamma(-3.0f64), f64::INFINITY);
        assert!(close(f64::from(ln_gamma(5.0f32)), 24f64.ln(), 1e-6));
    }

    #[test]
    fn digamma_known_values() {
        assert!(close(digamma(1.0f64), -GAMMA, 1e-15));
        assert!(close(digamma(2.0f64), 1.0 - GAMMA, 1e-15));
        assert!(close(digamma(0.5f64), -GAMMA - 2.0 * LN_2, 1e-15));
        // ψ(x + 1) = ψ(x) + 1/x, at x = -1/2 and at x = -2.5 (reflection side).
        assert!(close(digamma(-0.5f64), 2.0 - GAMMA - 2.0 * LN_2, 1e-14));
        assert!(close(digamma(-1.5f64), digamma(-0.5f64) + 1.0 / 1.5, 1e-14));
        // Large arguments: ψ(x) = ln x − 1/(2x) − 1/(12x²) + O(x⁻⁴).
        let x = 1e6f64;
        assert!(close(
            digamma(x),
            x.ln() - 0.5 / x - 1.0 / (12.0 * x * x),
            1e-15
        ));
        // Poles and the infinities: NaN, not a stack overflow.
        for x in [0.0, -1.0, -7.0, -1e300, f64::NEG_INFINITY, f64::NAN] {
            assert!(digamma(x).is_nan(), "digamma({x})");
        }
        assert_eq!(digamma(f64::INFINITY), f64::INFINITY);
        assert!(close(f64::from(digamma(1.0f32)), -GAMMA, 1e-7));
    }

    #[test]
    fn trigamma_known_values() {
        assert!(close(1.0f64.trigamma(), PI * PI / 6.0, 1e-15));
        assert!(close(0.5f64.trigamma(), PI * PI / 2.0, 1e-15));
        assert!(close(2.0f64.trigamma(), PI * PI / 6.0 - 1.0, 1e-15));
        // ψ′(x) = ψ′(x + 1) + 1/x², on the reflection side.
        let x = -0.5f64;
        assert!(close(
            x.trigamma(),
            (x + 1.0).trigamma() + 1.0 / (x * x),
            1e-13
        ));
        let x = -3.25f64;
        assert!(close(
            x.trigamma(),
            (x + 1.0).trigamma() + 1.0 / (x * x),
            1e-13
        ));
        assert_eq!(0.0f64.trigamma(), f64::INFINITY);
        assert_eq!((-2.0f64).trigamma(), f64::INFINITY);
    }
}
