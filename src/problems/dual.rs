//! A forward-mode dual number, `v + d ε` with `ε² = 0`, implementing `num_traits::Float`.
//!
//! The project's derivatives are reverse mode only. A `#[reverse]` function generic over
//! `F: Float` has a generated gradient generic over `F` too, so instantiating that gradient
//! with [`Dual`] runs it with a tangent carried along: forward over reverse. Seeding the
//! inputs' tangents with a direction `u` makes the gradient's tangent the Hessian-vector
//! product `H u` (kmeans uses `u = 1`, where `H` is diagonal, to get `diag H`).
//!
//! Every method propagates the tangent by its derivative; comparisons, rounding queries and
//! conversions look at the value only. At kinks the conventions follow `ad_runtime::rules`
//! (`abs` at 0 has derivative 0, `max`/`min` take the tangent of the operand they return).

use std::cmp::Ordering;
use std::num::FpCategory;
use std::ops::{Add, Div, Mul, Neg, Rem, Sub};

use num_traits::{Float, Num, NumCast, One, ToPrimitive, Zero};

/// `v + d ε`: a value and its derivative along one direction.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Dual {
    /// The value.
    pub v: f64,
    /// The tangent: the derivative of the value along the seeded direction.
    pub d: f64,
}

impl Dual {
    /// A value with tangent `d`.
    pub const fn new(v: f64, d: f64) -> Self {
        Self { v, d }
    }

    /// A constant: tangent 0.
    pub const fn constant(v: f64) -> Self {
        Self { v, d: 0.0 }
    }

    /// `f(v)` with the chain rule applied to the tangent, given `f'(v)`.
    fn chain(self, value: f64, derivative: f64) -> Self {
        Self::new(value, derivative * self.d)
    }
}

impl PartialOrd for Dual {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        self.v.partial_cmp(&other.v)
    }
}

impl Add for Dual {
    type Output = Self;
    fn add(self, b: Self) -> Self {
        Self::new(self.v + b.v, self.d + b.d)
    }
}

impl Sub for Dual {
    type Output = Self;
    fn sub(self, b: Self) -> Self {
        Self::new(self.v - b.v, self.d - b.d)
    }
}

impl Mul for Dual {
    type Output = Self;
    fn mul(self, b: Self) -> Self {
        Self::new(self.v * b.v, self.d * b.v + self.v * b.d)
    }
}

impl Div for Dual {
    type Output = Self;
    fn div(self, b: Self) -> Self {
        let q = self.v / b.v;
        Self::new(q, (self.d - q * b.d) / b.v)
    }
}

impl Rem for Dual {
    type Output = Self;
    /// `a % b = a - trunc(a / b) b`, the quotient's truncation piecewise constant.
    fn rem(self, b: Self) -> Self {
        let q = (self.v / b.v).trunc();
        Self::new(self.v % b.v, self.d - q * b.d)
    }
}

impl Neg for Dual {
    type Output = Self;
    fn neg(self) -> Self {
        Self::new(-self.v, -self.d)
    }
}

impl Zero for Dual {
    fn zero() -> Self {
        Self::constant(0.0)
    }
    fn is_zero(&self) -> bool {
        self.v == 0.0
    }
}

impl One for Dual {
    fn one() -> Self {
        Self::constant(1.0)
    }
}

impl Num for Dual {
    type FromStrRadixErr = <f64 as Num>::FromStrRadixErr;
    fn from_str_radix(text: &str, radix: u32) -> Result<Self, Self::FromStrRadixErr> {
        f64::from_str_radix(text, radix).map(Self::constant)
    }
}

impl ToPrimitive for Dual {
    fn to_i64(&self) -> Option<i64> {
        self.v.to_i64()
    }
    fn to_u64(&self) -> Option<u64> {
        self.v.to_u64()
    }
    fn to_f64(&self) -> Option<f64> {
        Some(self.v)
    }
}

impl NumCast for Dual {
    /// A conversion makes a constant: `T::from(2.5)` in generic code has no tangent.
    fn from<T: ToPrimitive>(n: T) -> Option<Self> {
        n.to_f64().map(Self::constant)
    }
}

impl Float for Dual {
    fn nan() -> Self {
        Self::constant(f64::NAN)
    }
    fn infinity() -> Self {
        Self::constant(f64::INFINITY)
    }
    fn neg_infinity() -> Self {
        Self::constant(f64::NEG_INFINITY)
    }
    fn neg_zero() -> Self {
        Self::constant(-0.0)
    }
    fn min_value() -> Self {
        Self::constant(f64::MIN)
    }
    fn min_positive_value() -> Self {
        Self::constant(f64::MIN_POSITIVE)
    }
    fn epsilon() -> Self {
        Self::constant(f64::EPSILON)
    }
    fn max_value() -> Self {
        Self::constant(f64::MAX)
    }
    fn is_nan(self) -> bool {
        self.v.is_nan()
    }
    fn is_infinite(self) -> bool {
        self.v.is_infinite()
    }
    fn is_finite(self) -> bool {
        self.v.is_finite()
    }
    fn is_normal(self) -> bool {
        self.v.is_normal()
    }
    fn classify(self) -> FpCategory {
        self.v.classify()
    }
    fn floor(self) -> Self {
        Self::constant(self.v.floor())
    }
    fn ceil(self) -> Self {
        Self::constant(self.v.ceil())
    }
    fn round(self) -> Self {
        Self::constant(self.v.round())
    }
    fn trunc(self) -> Self {
        Self::constant(self.v.trunc())
    }
    fn fract(self) -> Self {
        Self::new(self.v.fract(), self.d)
    }
    fn abs(self) -> Self {
        let slope = if self.v == 0.0 { 0.0 } else { self.v.signum() };
        self.chain(self.v.abs(), slope)
    }
    fn signum(self) -> Self {
        Self::constant(self.v.signum())
    }
    fn is_sign_positive(self) -> bool {
        self.v.is_sign_positive()
    }
    fn is_sign_negative(self) -> bool {
        self.v.is_sign_negative()
    }
    fn mul_add(self, a: Self, b: Self) -> Self {
        Self::new(self.v.mul_add(a.v, b.v), self.d * a.v + self.v * a.d + b.d)
    }
    fn recip(self) -> Self {
        let y = self.v.recip();
        self.chain(y, -y * y)
    }
    fn powi(self, n: i32) -> Self {
        let slope = if n == 0 {
            0.0
        } else {
            <f64 as From<i32>>::from(n) * self.v.powi(n - 1)
        };
        self.chain(self.v.powi(n), slope)
    }
    fn powf(self, p: Self) -> Self {
        let y = self.v.powf(p.v);
        // As `rules::powf`: no term where it would be 0 · ∞ (exponent 0, or base 0); and a
        // constant exponent adds nothing, also where `ln` of the base is infinite.
        let along_base = if p.v == 0.0 {
            0.0
        } else {
            p.v * self.v.powf(p.v - 1.0) * self.d
        };
        let along_exponent = if y == 0.0 || p.d == 0.0 {
            0.0
        } else {
            y * self.v.ln() * p.d
        };
        Self::new(y, along_base + along_exponent)
    }
    fn sqrt(self) -> Self {
        let y = self.v.sqrt();
        // As `rules::sqrt`: 0 at 0, where the derivative is infinite.
        self.chain(y, if y == 0.0 { 0.0 } else { 0.5 / y })
    }
    fn exp(self) -> Self {
        let y = self.v.exp();
        self.chain(y, y)
    }
    fn exp2(self) -> Self {
        let y = self.v.exp2();
        self.chain(y, y * std::f64::consts::LN_2)
    }
    fn ln(self) -> Self {
        self.chain(self.v.ln(), self.v.recip())
    }
    fn log(self, base: Self) -> Self {
        self.ln() / base.ln()
    }
    fn log2(self) -> Self {
        self.chain(self.v.log2(), (self.v * std::f64::consts::LN_2).recip())
    }
    fn log10(self) -> Self {
        self.chain(self.v.log10(), (self.v * std::f64::consts::LN_10).recip())
    }
    fn max(self, other: Self) -> Self {
        if other.v > self.v || self.v.is_nan() {
            other
        } else {
            self
        }
    }
    fn min(self, other: Self) -> Self {
        if other.v < self.v || self.v.is_nan() {
            other
        } else {
            self
        }
    }
    #[allow(deprecated, reason = "Float requires it")]
    fn abs_sub(self, other: Self) -> Self {
        if self.v <= other.v {
            Self::zero()
        } else {
            self - other
        }
    }
    fn cbrt(self) -> Self {
        let y = self.v.cbrt();
        self.chain(y, if y == 0.0 { 0.0 } else { (3.0 * y * y).recip() })
    }
    fn hypot(self, other: Self) -> Self {
        let y = self.v.hypot(other.v);
        if y == 0.0 {
            // As `rules::hypot`: 0 at the origin, where it has no derivative.
            return Self::constant(0.0);
        }
        Self::new(y, (self.v * self.d + other.v * other.d) / y)
    }
    fn sin(self) -> Self {
        let (s, c) = self.v.sin_cos();
        self.chain(s, c)
    }
    fn cos(self) -> Self {
        let (s, c) = self.v.sin_cos();
        self.chain(c, -s)
    }
    fn tan(self) -> Self {
        let y = self.v.tan();
        self.chain(y, 1.0 + y * y)
    }
    fn asin(self) -> Self {
        self.chain(self.v.asin(), (1.0 - self.v * self.v).sqrt().recip())
    }
    fn acos(self) -> Self {
        self.chain(self.v.acos(), -(1.0 - self.v * self.v).sqrt().recip())
    }
    fn atan(self) -> Self {
        self.chain(self.v.atan(), (1.0 + self.v * self.v).recip())
    }
    fn atan2(self, other: Self) -> Self {
        let r2 = self.v * self.v + other.v * other.v;
        Self::new(
            self.v.atan2(other.v),
            (other.v * self.d - self.v * other.d) / r2,
        )
    }
    fn sin_cos(self) -> (Self, Self) {
        (self.sin(), self.cos())
    }
    fn exp_m1(self) -> Self {
        self.chain(self.v.exp_m1(), self.v.exp())
    }
    fn ln_1p(self) -> Self {
        self.chain(self.v.ln_1p(), (1.0 + self.v).recip())
    }
    fn sinh(self) -> Self {
        self.chain(self.v.sinh(), self.v.cosh())
    }
    fn cosh(self) -> Self {
        self.chain(self.v.cosh(), self.v.sinh())
    }
    fn tanh(self) -> Self {
        let y = self.v.tanh();
        self.chain(y, 1.0 - y * y)
    }
    fn asinh(self) -> Self {
        self.chain(self.v.asinh(), (self.v * self.v + 1.0).sqrt().recip())
    }
    fn acosh(self) -> Self {
        self.chain(self.v.acosh(), (self.v * self.v - 1.0).sqrt().recip())
    }
    fn atanh(self) -> Self {
        self.chain(self.v.atanh(), (1.0 - self.v * self.v).recip())
    }
    fn integer_decode(self) -> (u64, i16, i8) {
        self.v.integer_decode()
    }
    fn to_degrees(self) -> Self {
        self.chain(self.v.to_degrees(), 1f64.to_degrees())
    }
    fn to_radians(self) -> Self {
        self.chain(self.v.to_radians(), 1f64.to_radians())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    /// A unary method, the same method on `f64`, its derivative in closed form, and points of
    /// its domain.
    type Unary = (
        &'static str,
        fn(Dual) -> Dual,
        fn(f64) -> f64,
        fn(f64) -> f64,
        &'static [f64],
    );

    const INSIDE_UNIT: &[f64] = &[-0.7, -0.2, 0.3, 0.9];
    const POSITIVE: &[f64] = &[0.3, 1.0, 2.5, 7.0];
    const ANY: &[f64] = &[-2.3, -0.4, 0.6, 1.7];

    const UNARY: &[Unary] = &[
        ("sin", Dual::sin, f64::sin, f64::cos, ANY),
        ("cos", Dual::cos, f64::cos, |x| -x.sin(), ANY),
        (
            "tan",
            Dual::tan,
            f64::tan,
            |x| 1.0 / (x.cos() * x.cos()),
            ANY,
        ),
        (
            "asin",
            Dual::asin,
            f64::asin,
            |x| 1.0 / (1.0 - x * x).sqrt(),
            INSIDE_UNIT,
        ),
        (
            "acos",
            Dual::acos,
            f64::acos,
            |x| -1.0 / (1.0 - x * x).sqrt(),
            INSIDE_UNIT,
        ),
        ("atan", Dual::atan, f64::atan, |x| 1.0 / (1.0 + x * x), ANY),
        ("sinh", Dual::sinh, f64::sinh, f64::cosh, ANY),
        ("cosh", Dual::cosh, f64::cosh, f64::sinh, ANY),
        (
            "tanh",
            Dual::tanh,
            f64::tanh,
            |x| 1.0 / (x.cosh() * x.cosh()),
            ANY,
        ),
        (
            "asinh",
            Dual::asinh,
            f64::asinh,
            |x| 1.0 / (x * x + 1.0).sqrt(),
            ANY,
        ),
        (
            "acosh",
            Dual::acosh,
            f64::acosh,
            |x| 1.0 / (x * x - 1.0).sqrt(),
            &[1.2, 2.0, 5.0],
        ),
        (
            "atanh",
            Dual::atanh,
            f64::atanh,
            |x| 1.0 / (1.0 - x * x),
            INSIDE_UNIT,
        ),
        ("exp", Dual::exp, f64::exp, f64::exp, ANY),
        ("exp2", Dual::exp2, f64::exp2, |x| x.exp2() * 2f64.ln(), ANY),
        ("exp_m1", Dual::exp_m1, f64::exp_m1, f64::exp, ANY),
        ("ln", Dual::ln, f64::ln, |x| 1.0 / x, POSITIVE),
        (
            "ln_1p",
            Dual::ln_1p,
            f64::ln_1p,
            |x| 1.0 / (1.0 + x),
            POSITIVE,
        ),
        (
            "log2",
            Dual::log2,
            f64::log2,
            |x| 1.0 / (x * 2f64.ln()),
            POSITIVE,
        ),
        (
            "log10",
            Dual::log10,
            f64::log10,
            |x| 1.0 / (x * 10f64.ln()),
            POSITIVE,
        ),
        ("sqrt", Dual::sqrt, f64::sqrt, |x| 0.5 / x.sqrt(), POSITIVE),
        (
            "cbrt",
            Dual::cbrt,
            f64::cbrt,
            |x| 1.0 / (3.0 * x.cbrt() * x.cbrt()),
            ANY,
        ),
        ("recip", Dual::recip, f64::recip, |x| -1.0 / (x * x), ANY),
        ("abs", Dual::abs, f64::abs, f64::signum, ANY),
        ("neg", |x| -x, |x| -x, |_| -1.0, ANY),
        ("powi3", |x| x.powi(3), |x| x.powi(3), |x| 3.0 * x * x, ANY),
        (
            "powi-2",
            |x| x.powi(-2),
            |x| x.powi(-2),
            |x| -2.0 / x.powi(3),
            ANY,
        ),
        (
            "to_degrees",
            Dual::to_degrees,
            f64::to_degrees,
            |_| 180.0 / std::f64::consts::PI,
            ANY,
        ),
        (
            "to_radians",
            Dual::to_radians,
            f64::to_radians,
            |_| std::f64::consts::PI / 180.0,
            ANY,
        ),
        ("fract", Dual::fract, f64::fract, |_| 1.0, &[0.3, 1.7]),
        ("floor", Dual::floor, f64::floor, |_| 0.0, &[0.3, 1.7]),
    ];

    /// Central differences of `f` at `x`.
    fn central(f: impl Fn(f64) -> f64, x: f64) -> f64 {
        let h = 1e-6 * x.abs().max(1.0);
        (f(x + h) - f(x - h)) / (2.0 * h)
    }

    #[test]
    fn unary_methods_carry_their_derivatives() {
        for &(name, dual, plain, derivative, points) in UNARY {
            for &x in points {
                // A tangent of 2 checks that the derivative scales it.
                let y = dual(Dual::new(x, 2.0));
                assert_eq!(y.v.to_bits(), plain(x).to_bits(), "{name}({x}) value");
                assert_relative_eq!(y.d, 2.0 * derivative(x), max_relative = 1e-12);
                assert_relative_eq!(y.d, 2.0 * central(plain, x), max_relative = 1e-6);
                // A constant stays constant.
                assert_eq!(dual(Dual::constant(x)).d, 0.0, "{name}({x}) of a constant");
            }
        }
    }

    /// A binary operation, the same on `f64`, its two partial derivatives in closed form.
    type Binary = (
        &'static str,
        fn(Dual, Dual) -> Dual,
        fn(f64, f64) -> f64,
        fn(f64, f64) -> (f64, f64),
    );

    const BINARY: &[Binary] = &[
        ("add", |a, b| a + b, |a, b| a + b, |_, _| (1.0, 1.0)),
        ("sub", |a, b| a - b, |a, b| a - b, |_, _| (1.0, -1.0)),
        ("mul", |a, b| a * b, |a, b| a * b, |a, b| (b, a)),
        (
            "div",
            |a, b| a / b,
            |a, b| a / b,
            |a, b| (1.0 / b, -a / (b * b)),
        ),
        (
            "rem",
            |a, b| a % b,
            |a, b| a % b,
            |a, b| (1.0, -(a / b).trunc()),
        ),
        ("powf", Dual::powf, f64::powf, |a, b| {
            (b * a.powf(b - 1.0), a.powf(b) * a.ln())
        }),
        ("log", Dual::log, f64::log, |a, b| {
            (1.0 / (a * b.ln()), -a.ln() / (b * b.ln() * b.ln()))
        }),
        ("hypot", Dual::hypot, f64::hypot, |a, b| {
            (a / a.hypot(b), b / a.hypot(b))
        }),
        ("atan2", Dual::atan2, f64::atan2, |a, b| {
            (b / (a * a + b * b), -a / (a * a + b * b))
        }),
        ("max", Dual::max, f64::max, |a, b| {
            if a >= b { (1.0, 0.0) } else { (0.0, 1.0) }
        }),
        ("min", Dual::min, f64::min, |a, b| {
            if a <= b { (1.0, 0.0) } else { (0.0, 1.0) }
        }),
    ];

    #[test]
    fn binary_operations_carry_both_partial_derivatives() {
        let points = [(0.7, 2.3), (3.1, 1.4), (5.5, 0.6)];
        for &(name, dual, plain, partials) in BINARY {
            for (a, b) in points {
                let (da, db) = partials(a, b);
                let along_a = dual(Dual::new(a, 1.0), Dual::constant(b));
                let along_b = dual(Dual::constant(a), Dual::new(b, 1.0));
                assert_eq!(along_a.v.to_bits(), plain(a, b).to_bits(), "{name} value");
                assert_relative_eq!(along_a.d, da, max_relative = 1e-12);
                assert_relative_eq!(along_b.d, db, max_relative = 1e-12);
                assert_relative_eq!(along_a.d, central(|t| plain(t, b), a), epsilon = 1e-6);
                assert_relative_eq!(along_b.d, central(|t| plain(a, t), b), epsilon = 1e-6);
            }
        }
    }

    #[test]
    fn mul_add_and_sin_cos_carry_derivatives() {
        let (a, b, c) = (0.7, -1.3, 2.1);
        let y = Dual::new(a, 1.0).mul_add(Dual::new(b, 10.0), Dual::new(c, 100.0));
        assert_eq!(y.v, a.mul_add(b, c));
        assert_relative_eq!(y.d, b + 10.0 * a + 100.0, max_relative = 1e-14);
        let (s, co) = Dual::new(a, 1.0).sin_cos();
        assert_eq!((s.d, co.d), (a.cos(), -a.sin()));
    }

    #[test]
    fn kinks_follow_the_reverse_rules_conventions() {
        // abs, sqrt and cbrt at 0 and hypot at the origin: derivative 0, as in
        // `ad_runtime::rules`, instead of NaN or infinity.
        assert_eq!(Dual::new(0.0, 1.0).abs().d, 0.0);
        assert_eq!(Dual::new(0.0, 1.0).sqrt().d, 0.0);
        assert_eq!(Dual::new(0.0, 1.0).cbrt().d, 0.0);
        assert_eq!(Dual::new(0.0, 1.0).hypot(Dual::new(0.0, 1.0)).d, 0.0);
        // x⁰ is constant, also at 0.
        assert_eq!(Dual::new(0.0, 1.0).powi(0).d, 0.0);
        assert_eq!(Dual::new(0.0, 1.0).powf(Dual::constant(0.0)).d, 0.0);
    }

    #[test]
    fn comparisons_and_conversions_see_the_value_only() {
        assert!(Dual::new(1.0, 5.0) < Dual::new(2.0, -5.0));
        assert_eq!(
            Dual::new(1.0, 5.0).partial_cmp(&Dual::new(1.0, -5.0)),
            Some(Ordering::Equal)
        );
        assert_eq!(<Dual as NumCast>::from(2.5), Some(Dual::constant(2.5)));
        assert_eq!(Dual::new(3.7, 1.0).to_f64(), Some(3.7));
        assert_eq!(Dual::new(3.7, 1.0).to_i64(), Some(3));
        assert!(Dual::nan().is_nan() && Dual::infinity().is_infinite());
        assert_eq!(
            Dual::from_str_radix("2.5", 10).ok(),
            Some(Dual::constant(2.5))
        );
    }

    /// The whole point: a generic function's derivative through generic code, here
    /// `x³ sin x` written against `Float`, against its closed-form derivative.
    #[test]
    fn generic_float_code_runs_on_duals() {
        fn f<F: Float>(x: F) -> F {
            let three = F::from(3.0).unwrap();
            x.powf(three) * x.sin()
        }
        for x in [0.4, 1.3, 2.2] {
            let y = f(Dual::new(x, 1.0));
            assert_relative_eq!(y.v, f(x), max_relative = 1e-15);
            assert_relative_eq!(
                y.d,
                3.0 * x * x * x.sin() + x.powi(3) * x.cos(),
                max_relative = 1e-12
            );
        }
    }
}
