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
        // As `rules::powf`: no term where it would be 0 · ∞ (exponent 0, or base 0).
        let along_base = if p.v == 0.0 {
            0.0
        } else {
            p.v * self.v.powf(p.v - 1.0) * self.d
        };
        let along_exponent = if y == 0.0 { 0.0 } else { y * self.v.ln() * p.d };
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
