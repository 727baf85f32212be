//! Forward mode by operator overloading: a dual number `v + d ε` (`ε² = 0`) implementing
//! [`Float`], for code generic over `F: Float`.
//!
//! Instantiated with [`Dual`], generic code carries a tangent along with each value: seed the
//! inputs' tangents with a direction `u` and the result's tangent is the derivative along `u`.
//! A `#[reverse]` function generic over `F: Float` has generated functions generic too, so its
//! `f_grad` at `Dual` numbers is forward over reverse: the gradient's tangent is the
//! Hessian-vector product `H u`.
//!
//! Every operation's tangent comes from the same tangent rule the runtime gives each
//! primitive (`rules::sin_jvp`, ...), which tests check against central differences and
//! against the pullbacks: the conventions at kinks and domain edges are the reverse mode's
//! (`abs` at 0 has derivative 0, `max` takes the tangent of the operand it returns, `sqrt`
//! at 0 has tangent 0). Comparisons, rounding and conversions look at the value alone, and
//! `==` too: a branch on a `Dual` takes the path the value takes.
//!
//! Operator overloading runs every operation through this type at run time, a value and a
//! tangent per number; the source transformation of `#[reverse]` emits plain arithmetic
//! instead.
//!
//! ```
//! use ad_runtime::{Dual, Float};
//!
//! fn f<F: Float>(x: F) -> F {
//!     x.sin() * x
//! }
//! let y = f(Dual::variable(0.5));
//! assert_eq!(y.v, 0.5f64.sin() * 0.5);
//! assert!((y.d - (0.5f64.cos() * 0.5 + 0.5f64.sin())).abs() < 1e-15);
//! ```

use core::cmp::Ordering;
use core::num::FpCategory;
use core::ops::{
    Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Rem, RemAssign, Sub, SubAssign,
};

use num_traits::{Float, Num, NumCast, One, ToPrimitive, Zero};

use crate::rules;

/// `v + d ε`: a value and its derivative along one direction.
#[derive(Clone, Copy, Debug, Default)]
pub struct Dual<F> {
    /// The value.
    pub v: F,
    /// The tangent: the derivative of the value along the seeded direction.
    pub d: F,
}

impl<F: Float> Dual<F> {
    /// A value with tangent `d`.
    pub fn new(v: F, d: F) -> Self {
        Dual { v, d }
    }

    /// A constant: tangent 0.
    pub fn constant(v: F) -> Self {
        Dual::new(v, F::zero())
    }

    /// The variable differentiated with respect to: tangent 1.
    pub fn variable(v: F) -> Self {
        Dual::new(v, F::one())
    }

    /// `y = f(v)` with the tangent `rule(v, y, d)`.
    fn unary(self, f: impl Fn(F) -> F, rule: impl Fn(F, F, F) -> F) -> Self {
        let y = f(self.v);
        Dual::new(y, rule(self.v, y, self.d))
    }

    /// `y = f(a, b)` with the tangent `rule(a, b, y, da, db)`.
    fn binary(self, b: Self, f: impl Fn(F, F) -> F, rule: impl Fn(F, F, F, F, F) -> F) -> Self {
        let y = f(self.v, b.v);
        Dual::new(y, rule(self.v, b.v, y, self.d, b.d))
    }
}

/// Equal values (the tangents are not compared: a branch follows the value).
impl<F: Float> PartialEq for Dual<F> {
    fn eq(&self, other: &Self) -> bool {
        self.v == other.v
    }
}

impl<F: Float> PartialOrd for Dual<F> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        self.v.partial_cmp(&other.v)
    }
}

macro_rules! operator {
    ($trait:ident, $method:ident, $assign:ident, $assign_method:ident, $op:tt, $rule:path) => {
        impl<F: Float> $trait for Dual<F> {
            type Output = Self;
            fn $method(self, b: Self) -> Self {
                self.binary(b, |a, b| a $op b, $rule)
            }
        }

        impl<F: Float> $assign for Dual<F> {
            fn $assign_method(&mut self, b: Self) {
                *self = *self $op b;
            }
        }
    };
}

operator!(Add, add, AddAssign, add_assign, +, rules::add_jvp);
operator!(Sub, sub, SubAssign, sub_assign, -, rules::sub_jvp);
operator!(Mul, mul, MulAssign, mul_assign, *, rules::mul_jvp);
operator!(Div, div, DivAssign, div_assign, /, rules::div_jvp);
operator!(Rem, rem, RemAssign, rem_assign, %, rules::rem_jvp);

impl<F: Float> Neg for Dual<F> {
    type Output = Self;
    fn neg(self) -> Self {
        self.unary(|a| -a, rules::neg_jvp)
    }
}

impl<F: Float> Zero for Dual<F> {
    fn zero() -> Self {
        Dual::constant(F::zero())
    }
    fn is_zero(&self) -> bool {
        self.v.is_zero()
    }
}

impl<F: Float> One for Dual<F> {
    fn one() -> Self {
        Dual::constant(F::one())
    }
}

impl<F: Float> Num for Dual<F> {
    type FromStrRadixErr = F::FromStrRadixErr;
    fn from_str_radix(text: &str, radix: u32) -> Result<Self, Self::FromStrRadixErr> {
        F::from_str_radix(text, radix).map(Dual::constant)
    }
}

impl<F: Float> ToPrimitive for Dual<F> {
    fn to_i64(&self) -> Option<i64> {
        self.v.to_i64()
    }
    fn to_u64(&self) -> Option<u64> {
        self.v.to_u64()
    }
    fn to_f64(&self) -> Option<f64> {
        self.v.to_f64()
    }
}

/// A conversion makes a constant: `F::from(2.5)` in generic code has no tangent.
impl<F: Float> NumCast for Dual<F> {
    fn from<T: ToPrimitive>(n: T) -> Option<Self> {
        F::from(n).map(Dual::constant)
    }
}

/// A piecewise constant result: tangent 0.
macro_rules! constant {
    ($($method:ident),*) => {
        $(fn $method(self) -> Self {
            Dual::constant(self.v.$method())
        })*
    };
}

/// A constant of `F`'s.
macro_rules! constants {
    ($($method:ident),*) => {
        $(fn $method() -> Self {
            Dual::constant(F::$method())
        })*
    };
}

/// A query of the value.
macro_rules! queries {
    ($($method:ident),*) => {
        $(fn $method(self) -> bool {
            self.v.$method()
        })*
    };
}

/// `F`'s function, its tangent by the primitive's rule.
macro_rules! unary {
    ($($method:ident: $rule:path),*) => {
        $(fn $method(self) -> Self {
            self.unary(F::$method, $rule)
        })*
    };
}

impl<F: Float> Float for Dual<F> {
    constants!(
        nan,
        infinity,
        neg_infinity,
        neg_zero,
        min_value,
        min_positive_value,
        epsilon,
        max_value
    );
    queries!(
        is_nan,
        is_infinite,
        is_finite,
        is_normal,
        is_sign_positive,
        is_sign_negative
    );
    constant!(floor, ceil, round, trunc, signum);
    unary!(
        fract: rules::fract_jvp,
        abs: rules::abs_jvp,
        recip: rules::recip_jvp,
        sqrt: rules::sqrt_jvp,
        cbrt: rules::cbrt_jvp,
        exp: rules::exp_jvp,
        exp2: rules::exp2_jvp,
        exp_m1: rules::exp_m1_jvp,
        ln: rules::ln_jvp,
        log2: rules::log2_jvp,
        log10: rules::log10_jvp,
        ln_1p: rules::ln_1p_jvp,
        to_degrees: rules::to_degrees_jvp,
        to_radians: rules::to_radians_jvp,
        sin: rules::sin_jvp,
        cos: rules::cos_jvp,
        tan: rules::tan_jvp,
        asin: rules::asin_jvp,
        acos: rules::acos_jvp,
        atan: rules::atan_jvp,
        sinh: rules::sinh_jvp,
        cosh: rules::cosh_jvp,
        tanh: rules::tanh_jvp,
        asinh: rules::asinh_jvp,
        acosh: rules::acosh_jvp,
        atanh: rules::atanh_jvp
    );

    fn classify(self) -> FpCategory {
        self.v.classify()
    }
    fn mul_add(self, a: Self, b: Self) -> Self {
        let y = self.v.mul_add(a.v, b.v);
        Dual::new(y, rules::mul_add_jvp(self.v, a.v, b.v, y, self.d, a.d, b.d))
    }
    fn powi(self, n: i32) -> Self {
        let y = self.v.powi(n);
        Dual::new(y, rules::powi_jvp(self.v, n, y, self.d))
    }
    fn powf(self, p: Self) -> Self {
        self.binary(p, F::powf, rules::powf_jvp)
    }
    fn log(self, base: Self) -> Self {
        self.binary(base, F::log, rules::log_jvp)
    }
    fn max(self, b: Self) -> Self {
        self.binary(b, F::max, rules::max_jvp)
    }
    fn min(self, b: Self) -> Self {
        self.binary(b, F::min, rules::min_jvp)
    }
    fn clamp(self, lo: Self, hi: Self) -> Self {
        let y = self.v.clamp(lo.v, hi.v);
        Dual::new(
            y,
            rules::clamp_jvp(self.v, lo.v, hi.v, y, self.d, lo.d, hi.d),
        )
    }
    /// `max(a - b, 0)`.
    #[allow(deprecated, reason = "part of the trait")]
    fn abs_sub(self, b: Self) -> Self {
        (self - b).max(Self::zero())
    }
    fn hypot(self, b: Self) -> Self {
        self.binary(b, F::hypot, rules::hypot_jvp)
    }
    fn atan2(self, b: Self) -> Self {
        self.binary(b, F::atan2, rules::atan2_jvp)
    }
    fn sin_cos(self) -> (Self, Self) {
        let (s, c) = self.v.sin_cos();
        let (ds, dc) = rules::sin_cos_jvp(self.v, s, c, self.d);
        (Dual::new(s, ds), Dual::new(c, dc))
    }
    fn copysign(self, sign: Self) -> Self {
        self.binary(sign, F::copysign, rules::copysign_jvp)
    }
    fn integer_decode(self) -> (u64, i16, i8) {
        self.v.integer_decode()
    }
}

/// The results of a rule called on dual numbers, split: the values, then the tangents (the
/// tangent program of an adjoint program calls its pullback rules this way).
#[doc(hidden)]
pub trait Split {
    /// `(values.., tangents..)`.
    type Parts;
    /// The values, then the tangents.
    fn split(self) -> Self::Parts;
}

impl<F: Float> Split for Dual<F> {
    type Parts = (F, F);
    #[inline]
    fn split(self) -> (F, F) {
        (self.v, self.d)
    }
}

impl<F: Float> Split for (Dual<F>, Dual<F>) {
    type Parts = (F, F, F, F);
    #[inline]
    fn split(self) -> (F, F, F, F) {
        (self.0.v, self.1.v, self.0.d, self.1.d)
    }
}

impl<F: Float> Split for (Dual<F>, Dual<F>, Dual<F>) {
    type Parts = (F, F, F, F, F, F);
    #[inline]
    fn split(self) -> (F, F, F, F, F, F) {
        (self.0.v, self.1.v, self.2.v, self.0.d, self.1.d, self.2.d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::central_differences;

    /// A function of one variable, its tangent at `x` against central differences.
    fn agrees(name: &str, f: impl Fn(Dual<f64>) -> Dual<f64>, x: f64) {
        let y = f(Dual::variable(x));
        let fd = central_differences(|p: &[f64]| f(Dual::constant(p[0])).v, &[x])[0];
        assert_eq!(y.v, f(Dual::constant(x)).v, "{name}: value");
        assert!(
            (y.d - fd).abs() <= 1e-6 * (1.0 + fd.abs()),
            "{name} at {x}: tangent {} against {fd}",
            y.d
        );
    }

    #[test]
    fn tangents_agree_with_central_differences() {
        fn c(v: f64) -> Dual<f64> {
            Dual::constant(v)
        }
        type Case = (&'static str, fn(Dual<f64>) -> Dual<f64>);
        let cases: [Case; 24] = [
            ("sin * cos", |x| x.sin() * x.cos()),
            ("div", |x| c(1.5) / (x * x + c(1.0))),
            ("rem", |x| (x * c(3.0)) % c(1.1)),
            ("sqrt exp", |x| x.exp().sqrt()),
            ("cbrt", |x| x.cbrt()),
            ("ln log2 log10", |x| x.ln() + x.log2() + x.log10()),
            ("log", |x| x.log(x + c(2.0))),
            ("exp2 exp_m1 ln_1p", |x| x.exp2() + x.exp_m1() + x.ln_1p()),
            ("tan", |x| x.tan()),
            ("asin acos atan", |x| {
                (x * c(0.5)).asin() + (x * c(0.5)).acos() + x.atan()
            }),
            ("hyperbolic", |x| x.sinh() + x.cosh() + x.tanh() + x.asinh()),
            ("acosh atanh", |x| {
                (x + c(1.5)).acosh() + (x * c(0.5)).atanh()
            }),
            ("powi", |x| x.powi(3) + x.powi(-2)),
            ("powf", |x| x.powf(x)),
            ("recip", |x| x.recip()),
            ("mul_add", |x| x.mul_add(x, x.sin())),
            ("hypot atan2", |x| x.hypot(c(0.3)) + x.atan2(c(0.7))),
            ("sin_cos", |x| {
                let (s, k) = x.sin_cos();
                s * k
            }),
            ("abs max min", |x| x.abs() + x.max(c(0.1)) + x.min(c(0.9))),
            ("clamp", |x| x.clamp(c(0.0), c(2.0))),
            ("degrees", |x| x.to_degrees() + x.to_radians()),
            ("copysign", |x| x.copysign(c(-1.0))),
            ("fract", |x| (x * c(3.0)).fract()),
            ("assign", |x| {
                let mut s = x;
                s *= x;
                s += c(1.0);
                s /= x;
                s -= x;
                s
            }),
        ];
        for (name, f) in cases {
            for x in [0.3, 0.77, 1.4] {
                agrees(name, f, x);
            }
        }
    }

    #[test]
    fn conversions_and_comparisons_look_at_the_value() {
        let x = Dual::new(2.5, 7.0);
        assert_eq!(x, Dual::constant(2.5));
        assert!(x < Dual::new(3.0, -1.0));
        assert_eq!(x.to_f64(), Some(2.5));
        let k: Dual<f64> = NumCast::from(3).unwrap_or_default();
        assert_eq!((k.v, k.d), (3.0, 0.0));
        assert_eq!(x.floor().d, 0.0);
        // `abs` at 0: tangent 0, as the reverse rule.
        assert_eq!(Dual::variable(0.0).abs().d, 0.0);
    }
}
