//! The derivative rules of every primitive `#[reverse]` knows: for each, a pullback (reverse
//! mode) and a tangent rule (forward mode), side by side.
//!
//! A **pullback** maps the adjoint of a primitive's result to the adjoints of its operands: it
//! multiplies by the transpose of the local Jacobian. Every pullback has the same shape,
//!
//! ```text
//! rule(operands..., results..., result adjoints...) -> adjoint of each float operand
//! ```
//!
//! so `y = x.sin()` is reversed by `dx = rules::sin(x, y, dy)` and `y = a * b` by
//! `(da, db) = rules::mul(a, b, y, dy)`. The primal result is passed in so that rules such as
//! `exp`, `sqrt` and `tanh` reuse it instead of recomputing it; operands that are not floats
//! (the `i32` of `powi`) are passed but get no adjoint. The generated code calls these
//! functions; they are public so that their math is documented and reusable in custom code.
//!
//! A **tangent rule** `<name>_jvp` (Jacobian-vector product) maps the tangents of the float
//! operands to the tangents of the results, the derivative along one direction:
//!
//! ```text
//! rule_jvp(operands..., results..., tangent of each float operand...) -> result tangents
//! ```
//!
//! so `ẏ = rules::sin_jvp(x, y, ẋ)` and `ẏ = rules::mul_jvp(a, b, y, ȧ, ḃ)`. Forward mode
//! will call them; today the differential tests do (the IR interpreter's dual numbers), and
//! since each tangent rule is written on its own, from calculus, not from the pullback next to
//! it, a wrong pullback shows up as a disagreement instead of being copied. An operand whose
//! tangent is exactly zero contributes nothing, even where its partial derivative is infinite
//! or NaN: `x + (-1.0).ln()` has tangent 1 along `x`, as its gradient has (an operand that does
//! not vary gets no adjoint in the reverse sweep either). For the same reason a tangent rule
//! may use a form better conditioned than its pullback's (`tanh` as `1 / cosh²`, not `1 - y²`).
//!
//! Conventions at kinks and singular points, the same in both directions (the full table with
//! reasons is in `docs/semantics.md`):
//!
//! - a point where the function is finite but its derivative is not (`sqrt`, `cbrt` and
//!   `hypot` at 0) gives a zero adjoint, so that norms of zero vectors have gradient 0 rather
//!   than NaN;
//! - `abs` at 0 gives 0 (the midpoint of the subdifferential `[-1, 1]`), and so does
//!   `copysign(x, s) = |x| sign(s)` at `x = 0`; its `s` adjoint is 0 everywhere;
//! - `max`/`min` on a tie split the adjoint evenly between the operands;
//! - outside a domain the IEEE result flows through: `sqrt(-1)` is NaN and so is its adjoint.
//!
//! The special functions of `crate::special` (feature `special`) have their rules at the end: `erf`, `erfc`,
//! `ln_gamma` (whose derivative is `digamma`) and `digamma` (trigamma).

use num_traits::Float;

/// The float constant `2`, `3`, ... in any `Float` type.
#[inline]
fn c<F: Float>(v: f64) -> F {
    // Small integers and ln 2 / ln 10 are representable in every float type; `from` cannot fail.
    F::from(v).unwrap_or_else(F::nan)
}

/// `adjoint`, or NaN where the primal result `y` is NaN: the derivative formulas of `ln`,
/// `acosh` and `atanh` stay finite outside their domains, but a function has no derivative where it has no
/// value.
#[inline]
fn in_domain<F: Float>(y: F, adjoint: F) -> F {
    if y.is_nan() { F::nan() } else { adjoint }
}

/// One operand's contribution `partial · tangent` to a result's tangent, nothing when the
/// tangent is zero: an infinite or NaN partial of an operand that does not vary must not
/// poison the result (`∞ · 0 = NaN`).
#[inline]
fn term<F: Float>(partial: F, tangent: F) -> F {
    if tangent == F::zero() {
        F::zero()
    } else {
        partial * tangent
    }
}

/// `1 - x²` as `(1 - x)(1 + x)`, which does not cancel near `x = ±1`.
#[inline]
fn one_minus_square<F: Float>(x: F) -> F {
    (F::one() - x) * (F::one() + x)
}

// ----- arithmetic -----

/// One, of `x`'s type: the seed with which forward mode calls a callee's pullback, whose
/// gradient times the arguments' tangents is the call's tangent.
#[doc(hidden)]
#[inline]
pub fn one_like<F: Float>(_x: F) -> F {
    F::one()
}

/// `y = a + b`: `ẏ = ȧ + ḃ`.
#[inline]
pub fn add_jvp<F: Float>(_a: F, _b: F, _y: F, da: F, db: F) -> F {
    da + db
}

/// `y = a + b`: `(da, db) = (dy, dy)`.
#[inline]
pub fn add<F: Float>(_a: F, _b: F, _y: F, dy: F) -> (F, F) {
    (dy, dy)
}

/// `y = a - b`: `ẏ = ȧ - ḃ`.
#[inline]
pub fn sub_jvp<F: Float>(_a: F, _b: F, _y: F, da: F, db: F) -> F {
    da - db
}

/// `y = a - b`: `(da, db) = (dy, -dy)`.
#[inline]
pub fn sub<F: Float>(_a: F, _b: F, _y: F, dy: F) -> (F, F) {
    (dy, -dy)
}

/// `y = a * b`: `ẏ = b ȧ + a ḃ` (the product rule).
#[inline]
pub fn mul_jvp<F: Float>(a: F, b: F, _y: F, da: F, db: F) -> F {
    term(b, da) + term(a, db)
}

/// `y = a * b`: `(da, db) = (dy b, dy a)`.
#[inline]
pub fn mul<F: Float>(a: F, b: F, _y: F, dy: F) -> (F, F) {
    (dy * b, dy * a)
}

/// `y = a / b`: `ẏ = ȧ / b - (y / b) ḃ`; `-y / b` rather than `-a / b²`, which overflows
/// through `b²` first.
#[inline]
pub fn div_jvp<F: Float>(_a: F, b: F, y: F, da: F, db: F) -> F {
    term(b.recip(), da) + term(-y / b, db)
}

/// `y = a / b`: `da = dy / b`, `db = -dy a / b² = -da y`.
#[inline]
pub fn div<F: Float>(_a: F, b: F, y: F, dy: F) -> (F, F) {
    let da = dy / b;
    (da, -da * y)
}

/// `y = a % b = a - b q` with `q = trunc(a / b)` locally constant: `ẏ = ȧ - q ḃ`.
#[inline]
pub fn rem_jvp<F: Float>(a: F, b: F, _y: F, da: F, db: F) -> F {
    da + term(-(a / b).trunc(), db)
}

/// `y = a % b = a - b trunc(a / b)`: `(da, db) = (dy, -dy trunc(a / b))`.
#[inline]
pub fn rem<F: Float>(a: F, b: F, _y: F, dy: F) -> (F, F) {
    (dy, -dy * (a / b).trunc())
}

/// `y = -a`: `ẏ = -ȧ`.
#[inline]
pub fn neg_jvp<F: Float>(_a: F, _y: F, da: F) -> F {
    -da
}

/// `y = -a`: `da = -dy`.
#[inline]
pub fn neg<F: Float>(_a: F, _y: F, dy: F) -> F {
    -dy
}

/// `y = a.mul_add(b, c)`: `ẏ = b ȧ + a ḃ + ċ`.
#[allow(
    clippy::too_many_arguments,
    reason = "operands, result, tangents: the rule shape"
)]
#[inline]
pub fn mul_add_jvp<F: Float>(a: F, b: F, _c: F, _y: F, da: F, db: F, dc: F) -> F {
    term(b, da) + term(a, db) + dc
}

/// `y = a.mul_add(b, c) = a b + c` (one rounding): `(da, db, dc) = (dy b, dy a, dy)`.
#[inline]
pub fn mul_add<F: Float>(a: F, b: F, _c: F, _y: F, dy: F) -> (F, F, F) {
    (dy * b, dy * a, dy)
}

/// `y = x.recip()`: `ẏ = -(y / x) ẋ`, which does not overflow through `1 / x²` first.
#[inline]
pub fn recip_jvp<F: Float>(x: F, y: F, dx: F) -> F {
    term(-y / x, dx)
}

/// `y = x.recip() = 1 / x`: `dx = -dy y²`.
#[inline]
pub fn recip<F: Float>(_x: F, y: F, dy: F) -> F {
    -dy * y * y
}

/// `y = x as D` between float types: `ẏ = ẋ as D`.
#[inline]
pub fn cast_jvp<S: Float, D: Float>(_x: S, _y: D, dx: S) -> D {
    // A float-to-float `NumCast` never fails (out of range saturates to infinity).
    D::from(dx).unwrap_or_else(D::nan)
}

/// `y = x as D` between float types: `dx = dy as S`.
#[inline]
pub fn cast<S: Float, D: Float>(_x: S, _y: D, dy: D) -> S {
    // A float-to-float `NumCast` never fails (out of range saturates to infinity).
    S::from(dy).unwrap_or_else(S::nan)
}

// ----- powers and roots -----

/// `y = x.sqrt()`: `ẏ = ẋ / (2 y)`, and 0 at `x = 0` (the convention of [`sqrt`]).
#[inline]
pub fn sqrt_jvp<F: Float>(_x: F, y: F, dx: F) -> F {
    if y == F::zero() {
        F::zero()
    } else {
        term(c::<F>(0.5) / y, dx)
    }
}

/// `y = x.sqrt()`: `dx = dy / (2 y)`, and 0 at `x = 0` (where the derivative is infinite).
///
/// The zero at 0 is Enzyme's convention: it makes `sqrt(x·x)` and Euclidean norms
/// differentiable at the origin with the subgradient 0 instead of `0 · ∞ = NaN`.
#[inline]
pub fn sqrt<F: Float>(_x: F, y: F, dy: F) -> F {
    if y == F::zero() {
        F::zero()
    } else {
        dy / (y + y)
    }
}

/// `y = x.cbrt()`: `ẏ = ẋ / (3 y²)`, and 0 at `x = 0`.
#[inline]
pub fn cbrt_jvp<F: Float>(_x: F, y: F, dx: F) -> F {
    if y == F::zero() {
        F::zero()
    } else {
        term((c::<F>(3.0) * y * y).recip(), dx)
    }
}

/// `y = x.cbrt()`: `dx = dy / (3 y²)`, and 0 at `x = 0` (as [`sqrt`]).
#[inline]
pub fn cbrt<F: Float>(_x: F, y: F, dy: F) -> F {
    if y == F::zero() {
        F::zero()
    } else {
        dy / (c::<F>(3.0) * y * y)
    }
}

/// `y = x.powi(n)`: `ẏ = n xⁿ⁻¹ ẋ`, and 0 for `n = 0` (`x⁰` is constant, also at 0); the
/// integer exponent has no tangent.
#[inline]
pub fn powi_jvp<F: Float>(x: F, n: i32, _y: F, dx: F) -> F {
    if n == 0 {
        return F::zero();
    }
    // For n = i32::MIN, n - 1 is not an i32: a powf with the exactly representable n - 1.
    let x_n_minus_1 = match n.checked_sub(1) {
        Some(m) => x.powi(m),
        None => x.powf(c::<F>(f64::from(n) - 1.0)),
    };
    term(c::<F>(f64::from(n)) * x_n_minus_1, dx)
}

/// `y = x.powi(n)`: `dx = dy n xⁿ⁻¹`; the integer exponent gets no adjoint.
#[inline]
pub fn powi<F: Float>(x: F, n: i32, _y: F, dy: F) -> F {
    if n == 0 {
        // d/dx x⁰ = 0 everywhere, also at x = 0 where n xⁿ⁻¹ would be 0 · ∞.
        return F::zero();
    }
    // n - 1 cannot overflow: n = i32::MIN would need x^(MIN - 1); compute it in two steps.
    let x_n_minus_1 = match n.checked_sub(1) {
        Some(m) => x.powi(m),
        None => x.powi(n) / x,
    };
    dy * c::<F>(f64::from(n)) * x_n_minus_1
}

/// `y = x.powf(p)`: `ẏ = p xᵖ⁻¹ ẋ + y ln x ṗ`; the first term is 0 for `p = 0` (`x⁰` is
/// constant) and the second where `y = 0` (`0ᵖ` is constant in `p`; `0 · ln 0` would be NaN).
#[inline]
pub fn powf_jvp<F: Float>(x: F, p: F, y: F, dx: F, dp: F) -> F {
    let from_x = if p == F::zero() {
        F::zero()
    } else {
        term(p * x.powf(p - F::one()), dx)
    };
    let from_p = if y == F::zero() {
        F::zero()
    } else {
        term(y * x.ln(), dp)
    };
    from_x + from_p
}

/// `y = x.powf(p)`: `dx = dy p xᵖ⁻¹`, `dp = dy y ln x`.
///
/// At `x = 0` the exponent's adjoint is 0 (`0ᵖ` is constant in `p` for `p > 0`), not
/// `0 · (-∞) = NaN`.
#[inline]
pub fn powf<F: Float>(x: F, p: F, y: F, dy: F) -> (F, F) {
    let dx = if p == F::zero() {
        F::zero()
    } else {
        dy * p * x.powf(p - F::one())
    };
    let dp = if y == F::zero() {
        F::zero()
    } else {
        dy * y * x.ln()
    };
    (dx, dp)
}

/// `y = a.hypot(b)`: `ẏ = (a ȧ + b ḃ) / y`, and 0 at the origin (the norm's subgradient 0).
#[inline]
pub fn hypot_jvp<F: Float>(a: F, b: F, y: F, da: F, db: F) -> F {
    if a == F::zero() && b == F::zero() {
        F::zero()
    } else {
        term(a / y, da) + term(b / y, db)
    }
}

/// `y = a.hypot(b) = √(a² + b²)`: `(da, db) = (dy a / y, dy b / y)`, and `(0, 0)` at the
/// origin (as [`sqrt`] at 0).
#[inline]
pub fn hypot<F: Float>(a: F, b: F, y: F, dy: F) -> (F, F) {
    if y == F::zero() {
        (F::zero(), F::zero())
    } else {
        // `a / y` first: at most 1 in size, where `dy / y` overflows for a subnormal `y`.
        (a / y * dy, b / y * dy)
    }
}

// ----- exponentials and logarithms -----

/// `y = x.exp()`: `ẏ = y ẋ`.
#[inline]
pub fn exp_jvp<F: Float>(_x: F, y: F, dx: F) -> F {
    term(y, dx)
}

/// `y = x.exp()`: `dx = dy y`.
#[inline]
pub fn exp<F: Float>(_x: F, y: F, dy: F) -> F {
    dy * y
}

/// `y = x.exp2()`: `ẏ = y ln 2 ẋ`.
#[inline]
pub fn exp2_jvp<F: Float>(_x: F, y: F, dx: F) -> F {
    term(y * c::<F>(core::f64::consts::LN_2), dx)
}

/// `y = x.exp2()`: `dx = dy y ln 2`.
#[inline]
pub fn exp2<F: Float>(_x: F, y: F, dy: F) -> F {
    dy * y * c::<F>(core::f64::consts::LN_2)
}

/// `y = x.exp_m1()`: `ẏ = eˣ ẋ`, from `x` (`y + 1` cancels for very negative `x`).
#[inline]
pub fn exp_m1_jvp<F: Float>(x: F, _y: F, dx: F) -> F {
    term(x.exp(), dx)
}

/// `y = x.exp_m1() = eˣ - 1`: `dx = dy (y + 1)`.
#[inline]
pub fn exp_m1<F: Float>(_x: F, y: F, dy: F) -> F {
    dy * (y + F::one())
}

/// `y = x.ln()`: `ẏ = ẋ / x` (NaN where `y` is NaN: no value, no derivative).
#[inline]
pub fn ln_jvp<F: Float>(x: F, y: F, dx: F) -> F {
    term(in_domain(y, x.recip()), dx)
}

/// `y = x.ln()`: `dx = dy / x` (NaN for `x < 0`, where `y` is NaN).
#[inline]
pub fn ln<F: Float>(x: F, y: F, dy: F) -> F {
    in_domain(y, dy / x)
}

/// `y = x.log(b) = ln x / ln b`: `ẏ = ẋ / (x ln b) - y ḃ / (b ln b)`.
#[inline]
pub fn log_jvp<F: Float>(x: F, b: F, y: F, dx: F, db: F) -> F {
    let ln_b = b.ln();
    term(in_domain(y, (x * ln_b).recip()), dx) + term(-y / (b * ln_b), db)
}

/// `y = x.log(b) = ln x / ln b`: `dx = dy / (x ln b)`, `db = -dy y / (b ln b)`.
#[inline]
pub fn log<F: Float>(x: F, b: F, y: F, dy: F) -> (F, F) {
    let s = dy / b.ln();
    (in_domain(y, s / x), -s * y / b)
}

/// `y = x.log10()`: `ẏ = ẋ / (x ln 10)` (NaN for `x < 0`).
#[inline]
pub fn log10_jvp<F: Float>(x: F, y: F, dx: F) -> F {
    term(
        in_domain(y, (x * c::<F>(core::f64::consts::LN_10)).recip()),
        dx,
    )
}

/// `y = x.log10()`: `dx = dy / (x ln 10)` (NaN for `x < 0`).
#[inline]
pub fn log10<F: Float>(x: F, y: F, dy: F) -> F {
    in_domain(y, dy / (x * c::<F>(core::f64::consts::LN_10)))
}

/// `y = x.log2()`: `ẏ = ẋ / (x ln 2)` (NaN for `x < 0`).
#[inline]
pub fn log2_jvp<F: Float>(x: F, y: F, dx: F) -> F {
    term(
        in_domain(y, (x * c::<F>(core::f64::consts::LN_2)).recip()),
        dx,
    )
}

/// `y = x.log2()`: `dx = dy / (x ln 2)` (NaN for `x < 0`).
#[inline]
pub fn log2<F: Float>(x: F, y: F, dy: F) -> F {
    in_domain(y, dy / (x * c::<F>(core::f64::consts::LN_2)))
}

/// `y = x.ln_1p()`: `ẏ = ẋ / (1 + x)` (NaN for `x < -1`).
#[inline]
pub fn ln_1p_jvp<F: Float>(x: F, y: F, dx: F) -> F {
    term(in_domain(y, (F::one() + x).recip()), dx)
}

/// `y = x.ln_1p() = ln(1 + x)`: `dx = dy / (1 + x)` (NaN for `x < -1`).
#[inline]
pub fn ln_1p<F: Float>(x: F, y: F, dy: F) -> F {
    in_domain(y, dy / (F::one() + x))
}

// ----- trigonometry -----

/// `y = x.sin()`: `ẏ = cos x ẋ`.
#[inline]
pub fn sin_jvp<F: Float>(x: F, _y: F, dx: F) -> F {
    term(x.cos(), dx)
}

/// `y = x.sin()`: `dx = dy cos x`.
#[inline]
pub fn sin<F: Float>(x: F, _y: F, dy: F) -> F {
    dy * x.cos()
}

/// `y = x.cos()`: `ẏ = -sin x ẋ`.
#[inline]
pub fn cos_jvp<F: Float>(x: F, _y: F, dx: F) -> F {
    term(-x.sin(), dx)
}

/// `y = x.cos()`: `dx = -dy sin x`.
#[inline]
pub fn cos<F: Float>(x: F, _y: F, dy: F) -> F {
    -dy * x.sin()
}

/// `y = x.tan()`: `ẏ = ẋ / cos² x` (the pullback uses `1 + y²`, an independent form).
#[inline]
pub fn tan_jvp<F: Float>(x: F, _y: F, dx: F) -> F {
    let c = x.cos();
    term((c * c).recip(), dx)
}

/// `y = x.tan()`: `dx = dy (1 + y²)`.
#[inline]
pub fn tan<F: Float>(_x: F, y: F, dy: F) -> F {
    dy * (F::one() + y * y)
}

/// `(s, c) = x.sin_cos()`: `(ṡ, ċ) = (c ẋ, -s ẋ)`.
#[inline]
pub fn sin_cos_jvp<F: Float>(_x: F, s: F, c: F, dx: F) -> (F, F) {
    (term(c, dx), term(-s, dx))
}

/// `(s, c) = x.sin_cos()`: `dx = ds c - dc s`.
#[inline]
pub fn sin_cos<F: Float>(_x: F, s: F, c: F, ds: F, dc: F) -> F {
    ds * c - dc * s
}

/// `y = x.asin()`: `ẏ = ẋ / √(1 - x²)`, with `1 - x²` as `(1 - x)(1 + x)`, exact near ±1.
#[inline]
pub fn asin_jvp<F: Float>(x: F, _y: F, dx: F) -> F {
    term(one_minus_square(x).sqrt().recip(), dx)
}

/// `y = x.asin()`: `dx = dy / √(1 - x²)` (infinite at `x = ±1`).
#[inline]
pub fn asin<F: Float>(x: F, _y: F, dy: F) -> F {
    dy / (F::one() - x * x).sqrt()
}

/// `y = x.acos()`: `ẏ = -ẋ / √(1 - x²)`.
#[inline]
pub fn acos_jvp<F: Float>(x: F, _y: F, dx: F) -> F {
    term(-one_minus_square(x).sqrt().recip(), dx)
}

/// `y = x.acos()`: `dx = -dy / √(1 - x²)` (infinite at `x = ±1`).
#[inline]
pub fn acos<F: Float>(x: F, _y: F, dy: F) -> F {
    -dy / (F::one() - x * x).sqrt()
}

/// `y = x.atan()`: `ẏ = ẋ / (1 + x²)`.
#[inline]
pub fn atan_jvp<F: Float>(x: F, _y: F, dx: F) -> F {
    term((F::one() + x * x).recip(), dx)
}

/// `y = x.atan()`: `dx = dy / (1 + x²)`.
#[inline]
pub fn atan<F: Float>(x: F, _y: F, dy: F) -> F {
    dy / (F::one() + x * x)
}

/// `y = a.atan2(b)`, the angle of `(b, a)`: `ẏ = (b ȧ - a ḃ) / r²`, with `r = hypot(a, b)`
/// and `b / r²` formed as `b / r / r` (tiny or huge points neither underflow to the origin nor
/// overflow); 0 at the origin, where the angle jumps.
#[inline]
pub fn atan2_jvp<F: Float>(a: F, b: F, _y: F, da: F, db: F) -> F {
    if a == F::zero() && b == F::zero() {
        return F::zero();
    }
    let r = a.hypot(b);
    term(b / r / r, da) + term(-a / r / r, db)
}

/// `y = a.atan2(b)`, the angle of the point `(b, a)`: `(da, db) = dy (b, -a) / (a² + b²)`, and
/// `(0, 0)` at the origin, where the angle jumps and no derivative exists.
#[inline]
pub fn atan2<F: Float>(a: F, b: F, _y: F, dy: F) -> (F, F) {
    if a == F::zero() && b == F::zero() {
        return (F::zero(), F::zero());
    }
    // Scaled by the larger magnitude `m`, so that `a² + b²` neither underflows (tiny points
    // are not the origin) nor overflows: `b / (a² + b²) = (b / m) / (m ((a/m)² + (b/m)²))`.
    let m = a.abs().max(b.abs());
    if m.is_infinite() {
        let s = dy / (a * a + b * b);
        return (s * b, -s * a);
    }
    let (a, b) = (a / m, b / m);
    let s = dy / ((a * a + b * b) * m);
    (s * b, -s * a)
}

/// `y = x.sinh()`: `ẏ = cosh x ẋ`.
#[inline]
pub fn sinh_jvp<F: Float>(x: F, _y: F, dx: F) -> F {
    term(x.cosh(), dx)
}

/// `y = x.sinh()`: `dx = dy cosh x`.
#[inline]
pub fn sinh<F: Float>(x: F, _y: F, dy: F) -> F {
    dy * x.cosh()
}

/// `y = x.cosh()`: `ẏ = sinh x ẋ`.
#[inline]
pub fn cosh_jvp<F: Float>(x: F, _y: F, dx: F) -> F {
    term(x.sinh(), dx)
}

/// `y = x.cosh()`: `dx = dy sinh x`.
#[inline]
pub fn cosh<F: Float>(x: F, _y: F, dy: F) -> F {
    dy * x.sinh()
}

/// `y = x.tanh()`: `ẏ = ẋ / cosh² x` (`1 - y²` cancels where `tanh x` rounds to ±1).
#[inline]
pub fn tanh_jvp<F: Float>(x: F, _y: F, dx: F) -> F {
    let c = x.cosh();
    term((c * c).recip(), dx)
}

/// `y = x.tanh()`: `dx = dy (1 - y²)`.
#[inline]
pub fn tanh<F: Float>(_x: F, y: F, dy: F) -> F {
    dy * (F::one() - y * y)
}

/// `y = x.asinh()`: `ẏ = ẋ / hypot(x, 1)`, without overflow of `x²`.
#[inline]
pub fn asinh_jvp<F: Float>(x: F, _y: F, dx: F) -> F {
    term(x.hypot(F::one()).recip(), dx)
}

/// `y = x.asinh()`: `dx = dy / √(x² + 1)`.
#[inline]
pub fn asinh<F: Float>(x: F, _y: F, dy: F) -> F {
    dy / (x * x + F::one()).sqrt()
}

/// `y = x.acosh()`: `ẏ = ẋ / (√(x - 1) √(x + 1))`, exact near 1 and without overflow; NaN
/// below 1, where `acosh` has no value.
#[inline]
pub fn acosh_jvp<F: Float>(x: F, y: F, dx: F) -> F {
    let s = (x - F::one()).sqrt() * (x + F::one()).sqrt();
    term(in_domain(y, s.recip()), dx)
}

/// `y = x.acosh()`: `dx = dy / √(x² - 1)` (infinite at `x = 1`, NaN for `x < 1`, where the
/// formula alone would stay finite for `x ≤ -1`).
#[inline]
pub fn acosh<F: Float>(x: F, y: F, dy: F) -> F {
    in_domain(y, dy / (x * x - F::one()).sqrt())
}

/// `y = x.atanh()`: `ẏ = ẋ / ((1 - x)(1 + x))` (NaN for `|x| > 1`).
#[inline]
pub fn atanh_jvp<F: Float>(x: F, y: F, dx: F) -> F {
    term(in_domain(y, one_minus_square(x).recip()), dx)
}

/// `y = x.atanh()`: `dx = dy / (1 - x²)` (infinite at `x = ±1`, NaN for `|x| > 1`).
#[inline]
pub fn atanh<F: Float>(x: F, y: F, dy: F) -> F {
    in_domain(y, dy / (F::one() - x * x))
}

/// `y = x.to_degrees()`: `ẏ = ẋ.to_degrees()` (a linear map is its own derivative).
#[inline]
pub fn to_degrees_jvp<F: Float>(_x: F, _y: F, dx: F) -> F {
    dx.to_degrees()
}

/// `y = x.to_degrees()`: `dx = dy 180 / π`.
#[inline]
pub fn to_degrees<F: Float>(_x: F, _y: F, dy: F) -> F {
    dy.to_degrees()
}

/// `y = x.to_radians()`: `ẏ = ẋ.to_radians()`.
#[inline]
pub fn to_radians_jvp<F: Float>(_x: F, _y: F, dx: F) -> F {
    dx.to_radians()
}

/// `y = x.to_radians()`: `dx = dy π / 180`.
#[inline]
pub fn to_radians<F: Float>(_x: F, _y: F, dy: F) -> F {
    dy.to_radians()
}

// ----- piecewise functions -----

/// `y = x.abs()`: `ẏ = sign(x) ẋ`, and 0 at `x = ±0` (the midpoint of `[-1, 1]`).
#[inline]
pub fn abs_jvp<F: Float>(x: F, _y: F, dx: F) -> F {
    if x == F::zero() {
        F::zero()
    } else {
        term(x.signum(), dx)
    }
}

/// `y = x.abs()`: `dx = dy signum(x)`, and 0 at `x = 0`.
///
/// Rust's `signum(±0.0)` is `±1`; the adjoint at 0 is 0 instead, the midpoint of the
/// subdifferential `[-1, 1]` (as JAX, PyTorch and TensorFlow).
#[inline]
pub fn abs<F: Float>(x: F, _y: F, dy: F) -> F {
    if x == F::zero() {
        F::zero()
    } else {
        dy * x.signum()
    }
}

/// `y = x.copysign(s)`: `ẏ = ẋ` when `x` and `s` have the same sign bit, `-ẋ` otherwise, 0
/// at `x = ±0` (as [`abs_jvp`]), NaN for a NaN `x`; `s` contributes nothing (the result is
/// piecewise constant in it).
#[inline]
pub fn copysign_jvp<F: Float>(x: F, s: F, _y: F, dx: F, _ds: F) -> F {
    if x == F::zero() {
        F::zero()
    } else if x.is_nan() {
        term(F::nan(), dx)
    } else if x.is_sign_negative() == s.is_sign_negative() {
        dx
    } else {
        -dx
    }
}

/// `y = x.copysign(s) = |x| sign(s)`, where `sign(s)` is `-1` if the sign bit of `s` is set
/// (`-0.0` and NaNs with the bit set included) and `+1` otherwise:
/// `dx = dy signum(x) sign(s)`, and 0 at `x = 0` (as [`abs`]); `ds = 0` everywhere, since the
/// result is piecewise constant in `s` (it jumps at `s = ±0`, where no derivative exists, and
/// 0 is the one-sided value on both sides).
///
/// Only the sign bit of `s` is read: a NaN `s` gives a finite adjoint, a NaN `x` a NaN one.
#[inline]
pub fn copysign<F: Float>(x: F, s: F, _y: F, dy: F) -> (F, F) {
    let dx = if x == F::zero() {
        F::zero()
    } else {
        // `signum(x) sign(s)` is exactly ±1 (or NaN for a NaN `x`): no rounding.
        dy * (x.signum() * F::one().copysign(s))
    };
    (dx, F::zero())
}

/// `y = a.max(b)`: the tangent of the operand returned; on a tie half of each; a NaN operand
/// is ignored as the value ignores it.
#[inline]
pub fn max_jvp<F: Float>(a: F, b: F, _y: F, da: F, db: F) -> F {
    selected(a, b, da, db, a > b)
}

/// `y = a.max(b)`: the adjoint goes to the operand that was returned; on a tie it is split
/// evenly, so `max(a, b)` and `max(b, a)` have the same gradient and `x.max(x)` has derivative 1.
/// A NaN operand is ignored by `max` and gets no adjoint.
#[inline]
pub fn max<F: Float>(a: F, b: F, y: F, dy: F) -> (F, F) {
    select(a, b, y, dy)
}

/// `y = a.min(b)`: as [`max_jvp`].
#[inline]
pub fn min_jvp<F: Float>(a: F, b: F, _y: F, da: F, db: F) -> F {
    selected(a, b, da, db, a < b)
}

/// The tangent of `max`/`min`, which return one of their operands; `first_wins` is whether
/// the comparison that defines the primitive picks `a`.
#[inline]
fn selected<F: Float>(a: F, b: F, da: F, db: F, first_wins: bool) -> F {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => term(F::nan(), da) + term(F::nan(), db),
        (true, false) => db,
        (false, true) => da,
        (false, false) if a == b => c::<F>(0.5) * da + c::<F>(0.5) * db,
        (false, false) if first_wins => da,
        (false, false) => db,
    }
}

/// `y = a.min(b)`: as [`max`].
#[inline]
pub fn min<F: Float>(a: F, b: F, y: F, dy: F) -> (F, F) {
    select(a, b, y, dy)
}

/// The pullback of an operation that returns one of its operands.
#[inline]
fn select<F: Float>(a: F, b: F, y: F, dy: F) -> (F, F) {
    if a == b {
        let half = dy / c::<F>(2.0);
        (half, half)
    } else if y == a {
        (dy, F::zero())
    } else if y == b {
        (F::zero(), dy)
    } else {
        // Both operands are NaN.
        (F::nan(), F::nan())
    }
}

/// `y = x.fract()`: `ẏ = ẋ` (slope 1 on both sides of every jump).
#[inline]
pub fn fract_jvp<F: Float>(_x: F, _y: F, dx: F) -> F {
    dx
}

/// `y = x.fract() = x - trunc(x)`: `dx = dy` (the jumps at integers have slope 1 on both sides).
#[inline]
pub fn fract<F: Float>(_x: F, _y: F, dy: F) -> F {
    dy
}

/// `y = x.clamp(lo, hi)`: the tangent of whichever of `x`, `lo`, `hi` was returned; `x`'s
/// on a bound or for a NaN `x`; `lo`'s above a degenerate interval `lo == hi`.
#[allow(
    clippy::too_many_arguments,
    reason = "operands, result, tangents: the rule shape"
)]
#[inline]
pub fn clamp_jvp<F: Float>(x: F, lo: F, hi: F, _y: F, dx: F, dlo: F, dhi: F) -> F {
    if x.is_nan() || (lo <= x && x <= hi) {
        dx
    } else if x < lo || lo == hi {
        dlo
    } else {
        dhi
    }
}

/// `y = x.clamp(lo, hi)`: the adjoint goes to whichever of `x`, `lo`, `hi` was returned; at
/// `x == lo` or `x == hi` it goes to `x`.
#[inline]
pub fn clamp<F: Float>(x: F, lo: F, _hi: F, y: F, dy: F) -> (F, F, F) {
    if y == x || y.is_nan() {
        (dy, F::zero(), F::zero())
    } else if y == lo {
        (F::zero(), dy, F::zero())
    } else {
        (F::zero(), F::zero(), dy)
    }
}

// ----- linear algebra (`crate::linalg`) -----
//
// Containers are passed as slices and their adjoints as buffers to accumulate into; an empty
// buffer stands for an operand that is not differentiated. A container the rule does not read
// may be passed empty.

/// `out = dot(x, y)`: `dx += dout y`, `dy += dout x`.
#[inline]
pub fn dot<F: Float>(x: &[F], y: &[F], _out: F, dout: F, dx: &mut [F], dy: &mut [F]) {
    for (d, &v) in dx.iter_mut().zip(y) {
        *d = *d + dout * v;
    }
    for (d, &v) in dy.iter_mut().zip(x) {
        *d = *d + dout * v;
    }
}

/// `out = sum(x)`: `dx += dout`.
#[inline]
pub fn sum<F: Float>(_x: &[F], _out: F, dout: F, dx: &mut [F]) {
    for d in dx.iter_mut() {
        *d = *d + dout;
    }
}

/// `out = norm2(x)`: `dx += dout x / out`, nothing at the zero vector.
#[inline]
pub fn norm2<F: Float>(x: &[F], out: F, dout: F, dx: &mut [F]) {
    if out == F::zero() {
        return;
    }
    let s = dout / out;
    for (d, &v) in dx.iter_mut().zip(x) {
        *d = *d + s * v;
    }
}

/// `out = logsumexp(x)`: `dx += dout softmax(x) = dout exp(x - out)`.
#[inline]
pub fn logsumexp<F: Float>(x: &[F], out: F, dout: F, dx: &mut [F]) {
    for (d, &v) in dx.iter_mut().zip(x) {
        *d = *d + dout * (v - out).exp();
    }
}

/// `y = softmax(x)`: `dx += y ⊙ (dy - ⟨dy, y⟩)`.
#[inline]
pub fn softmax<F: Float>(_x: &[F], y: &[F], dy: &[F], dx: &mut [F]) {
    let inner = y
        .iter()
        .zip(dy)
        .fold(F::zero(), |acc, (&a, &b)| acc + a * b);
    for ((d, &yi), &dyi) in dx.iter_mut().zip(y).zip(dy) {
        *d = *d + yi * (dyi - inner);
    }
}

/// `y = A x` (`a` is `m × n`): `dA += dy xᵀ`, `dx += Aᵀ dy`.
#[allow(
    clippy::too_many_arguments,
    reason = "operands, result, adjoints: the rule shape"
)]
#[inline]
pub fn matvec<F: Float>(
    a: &[F],
    x: &[F],
    m: usize,
    n: usize,
    _y: &[F],
    dy: &[F],
    da: &mut [F],
    dx: &mut [F],
) {
    for i in 0..m {
        let dyi = dy[i];
        if !da.is_empty() {
            for (d, &xj) in da[i * n..(i + 1) * n].iter_mut().zip(x) {
                *d = *d + dyi * xj;
            }
        }
        if !dx.is_empty() {
            for (d, &aij) in dx.iter_mut().zip(&a[i * n..(i + 1) * n]) {
                *d = *d + aij * dyi;
            }
        }
    }
}

/// `C = A B` (`a` is `m × k`, `b` is `k × n`): `dA += dC Bᵀ`, `dB += Aᵀ dC`.
#[allow(
    clippy::too_many_arguments,
    reason = "operands, result, adjoints: the rule shape"
)]
#[inline]
pub fn matmul<F: Float>(
    a: &[F],
    b: &[F],
    m: usize,
    k: usize,
    n: usize,
    _c: &[F],
    dc: &[F],
    da: &mut [F],
    db: &mut [F],
) {
    for i in 0..m {
        let dc_row = &dc[i * n..(i + 1) * n];
        for p in 0..k {
            let b_row = &b[p * n..(p + 1) * n];
            if !da.is_empty() {
                let s = dc_row
                    .iter()
                    .zip(b_row)
                    .fold(F::zero(), |acc, (&x, &y)| acc + x * y);
                da[i * k + p] = da[i * k + p] + s;
            }
            if !db.is_empty() {
                let a_ip = a[i * k + p];
                for (d, &dc_ij) in db[p * n..(p + 1) * n].iter_mut().zip(dc_row) {
                    *d = *d + a_ip * dc_ij;
                }
            }
        }
    }
}

/// `out = α x + y`: `dα = ⟨dout, x⟩`, `dx += α dout`, `dy += dout`.
#[allow(
    clippy::too_many_arguments,
    reason = "operands, result, adjoints: the rule shape"
)]
#[inline]
pub fn axpy<F: Float>(
    alpha: F,
    x: &[F],
    _y: &[F],
    _out: &[F],
    dout: &[F],
    dx: &mut [F],
    dy: &mut [F],
) -> F {
    for (d, &g) in dx.iter_mut().zip(dout) {
        *d = *d + alpha * g;
    }
    for (d, &g) in dy.iter_mut().zip(dout) {
        *d = *d + g;
    }
    x.iter()
        .zip(dout)
        .fold(F::zero(), |acc, (&a, &g)| acc + a * g)
}

// Tangent rules of the linear algebra: a container operand's tangent is a slice, empty for
// an operand that does not vary; a container result's tangent is a new `Vec`.

/// `Σ a_i b_i` of two slices, zero if either is empty (a tangent that does not vary).
#[inline]
fn inner<F: Float>(a: &[F], b: &[F]) -> F {
    a.iter().zip(b).fold(F::zero(), |acc, (&x, &y)| acc + x * y)
}

/// `out = dot(x, y)`: `ȯut = ⟨ẋ, y⟩ + ⟨x, ẏ⟩`.
#[inline]
pub fn dot_jvp<F: Float>(x: &[F], y: &[F], _out: F, dx: &[F], dy: &[F]) -> F {
    inner(dx, y) + inner(x, dy)
}

/// `out = sum(x)`: `ȯut = Σ ẋ`.
#[inline]
pub fn sum_jvp<F: Float>(_x: &[F], _out: F, dx: &[F]) -> F {
    dx.iter().fold(F::zero(), |acc, &d| acc + d)
}

/// `out = norm2(x)`: `ȯut = ⟨x, ẋ⟩ / out`, zero at the zero vector (as the pullback).
#[inline]
pub fn norm2_jvp<F: Float>(x: &[F], out: F, dx: &[F]) -> F {
    if out == F::zero() {
        return F::zero();
    }
    inner(x, dx) / out
}

/// `out = logsumexp(x)`: `ȯut = Σ softmax(x)_i ẋ_i`.
#[inline]
pub fn logsumexp_jvp<F: Float>(x: &[F], out: F, dx: &[F]) -> F {
    x.iter()
        .zip(dx)
        .fold(F::zero(), |acc, (&v, &d)| acc + term((v - out).exp(), d))
}

/// `y = softmax(x)`: `ẏ = y ⊙ (ẋ - ⟨y, ẋ⟩)`.
#[inline]
pub fn softmax_jvp<F: Float>(_x: &[F], y: &[F], dx: &[F]) -> alloc::vec::Vec<F> {
    if dx.is_empty() {
        return alloc::vec![F::zero(); y.len()];
    }
    let mean = inner(y, dx);
    y.iter().zip(dx).map(|(&yi, &d)| yi * (d - mean)).collect()
}

/// `y = A x` (`a` is `m × n`): `ẏ = Ȧ x + A ẋ`.
#[allow(
    clippy::too_many_arguments,
    reason = "operands, result, tangents: the rule shape"
)]
#[inline]
pub fn matvec_jvp<F: Float>(
    a: &[F],
    x: &[F],
    m: usize,
    n: usize,
    _y: &[F],
    da: &[F],
    dx: &[F],
) -> alloc::vec::Vec<F> {
    (0..m)
        .map(|i| {
            let row = i * n..(i + 1) * n;
            let from_a = if da.is_empty() {
                F::zero()
            } else {
                inner(&da[row.clone()], x)
            };
            let from_x = if dx.is_empty() {
                F::zero()
            } else {
                inner(&a[row], dx)
            };
            from_a + from_x
        })
        .collect()
}

/// `C = A B` (`a` is `m × k`, `b` is `k × n`): `Ċ = Ȧ B + A Ḃ`.
#[allow(
    clippy::too_many_arguments,
    reason = "operands, result, tangents: the rule shape"
)]
#[inline]
pub fn matmul_jvp<F: Float>(
    a: &[F],
    b: &[F],
    m: usize,
    k: usize,
    n: usize,
    _c: &[F],
    da: &[F],
    db: &[F],
) -> alloc::vec::Vec<F> {
    let mut dc = alloc::vec![F::zero(); m * n];
    for i in 0..m {
        for p in 0..k {
            let row = &mut dc[i * n..(i + 1) * n];
            if !da.is_empty() {
                let (da_ip, b_row) = (da[i * k + p], &b[p * n..(p + 1) * n]);
                for (d, &b_pj) in row.iter_mut().zip(b_row) {
                    *d = *d + da_ip * b_pj;
                }
            }
            if !db.is_empty() {
                let (a_ip, db_row) = (a[i * k + p], &db[p * n..(p + 1) * n]);
                for (d, &db_pj) in row.iter_mut().zip(db_row) {
                    *d = *d + a_ip * db_pj;
                }
            }
        }
    }
    dc
}

/// `out = alpha x + y`: `ȯut = α̇ x + alpha ẋ + ẏ`.
#[inline]
pub fn axpy_jvp<F: Float>(
    alpha: F,
    x: &[F],
    y: &[F],
    out: &[F],
    dalpha: F,
    dx: &[F],
    dy: &[F],
) -> alloc::vec::Vec<F> {
    let _ = y;
    (0..out.len())
        .map(|i| {
            let mut d = term(x[i], dalpha);
            if !dx.is_empty() {
                d = d + alpha * dx[i];
            }
            if !dy.is_empty() {
                d = d + dy[i];
            }
            d
        })
        .collect()
}

// ----- special functions (`crate::special`, feature `special`) -----

#[cfg(feature = "special")]
pub use special_functions::*;

#[cfg(feature = "special")]
mod special_functions {
    use super::{c, term};
    use crate::special::SpecialFloat;

    /// `y = special::erf(x)`: `ẏ = 2/√π e^(−x²) ẋ`.
    #[inline]
    pub fn erf_jvp<F: SpecialFloat>(x: F, _y: F, dx: F) -> F {
        term(
            c::<F>(core::f64::consts::FRAC_2_SQRT_PI) * (-(x * x)).exp(),
            dx,
        )
    }

    /// `y = special::erf(x)`: `dx = dy 2/√π / e^(x²)`.
    #[inline]
    pub fn erf<F: SpecialFloat>(x: F, _y: F, dy: F) -> F {
        dy * c::<F>(core::f64::consts::FRAC_2_SQRT_PI) / (x * x).exp()
    }

    /// `y = special::erfc(x)`: `ẏ = −2/√π e^(−x²) ẋ`.
    #[inline]
    pub fn erfc_jvp<F: SpecialFloat>(x: F, _y: F, dx: F) -> F {
        term(
            -c::<F>(core::f64::consts::FRAC_2_SQRT_PI) * (-(x * x)).exp(),
            dx,
        )
    }

    /// `y = special::erfc(x)`: `dx = −dy 2/√π / e^(x²)`.
    #[inline]
    pub fn erfc<F: SpecialFloat>(x: F, _y: F, dy: F) -> F {
        -dy * c::<F>(core::f64::consts::FRAC_2_SQRT_PI) / (x * x).exp()
    }

    /// `y = special::ln_gamma(x) = ln |Γ(x)|`: `ẏ = ψ(x) ẋ`, the digamma function.
    #[inline]
    pub fn ln_gamma_jvp<F: SpecialFloat>(x: F, _y: F, dx: F) -> F {
        term(x.digamma(), dx)
    }

    /// `y = special::ln_gamma(x)`: `dx = dy ψ(x)` (NaN at the poles `0, −1, …`, where `ψ` is).
    #[inline]
    pub fn ln_gamma<F: SpecialFloat>(x: F, _y: F, dy: F) -> F {
        dy * x.digamma()
    }

    /// `y = special::digamma(x) = ψ(x)`: `ẏ = ψ′(x) ẋ`, the trigamma function.
    #[inline]
    pub fn digamma_jvp<F: SpecialFloat>(x: F, _y: F, dx: F) -> F {
        term(x.trigamma(), dx)
    }

    /// `y = special::digamma(x)`: `dx = dy ψ′(x)`.
    #[inline]
    pub fn digamma<F: SpecialFloat>(x: F, _y: F, dy: F) -> F {
        dy * x.trigamma()
    }
}

#[cfg(test)]
mod tests {
    //! Each rule against its closed-form derivative, written out independently here.
    use super::*;
    use core::f64::consts::{LN_2, LN_10, PI};

    const POINTS: [f64; 7] = [-2.5, -0.7, -0.1, 0.3, 0.9, 1.7, 4.0];

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * (1.0 + a.abs().max(b.abs()))
    }

    /// Checks a unary rule at every point of `POINTS` inside `domain`, with two seeds.
    fn unary(
        name: &str,
        f: fn(f64) -> f64,
        rule: fn(f64, f64, f64) -> f64,
        deriv: fn(f64) -> f64,
        domain: fn(f64) -> bool,
    ) {
        for &x in POINTS.iter().filter(|&&x| domain(x)) {
            for dy in [1.0, -2.5] {
                let got = rule(x, f(x), dy);
                let want = dy * deriv(x);
                assert!(close(got, want), "{name} at {x}, dy {dy}: {got} vs {want}");
            }
        }
    }

    #[test]
    fn unary_rules_match_closed_forms() {
        let all = |_: f64| true;
        let pos = |x: f64| x > 0.0;
        let open_unit = |x: f64| x.abs() < 1.0;
        unary("neg", |x| -x, neg, |_| -1.0, all);
        unary("recip", f64::recip, recip, |x| -1.0 / (x * x), all);
        unary("sqrt", f64::sqrt, sqrt, |x| 0.5 / x.sqrt(), pos);
        unary(
            "cbrt",
            f64::cbrt,
            cbrt,
            |x| 1.0 / (3.0 * x.cbrt().powi(2)),
            all,
        );
        unary("exp", f64::exp, exp, f64::exp, all);
        unary("exp2", f64::exp2, exp2, |x| x.exp2() * LN_2, all);
        unary("exp_m1", f64::exp_m1, exp_m1, f64::exp, all);
        unary("ln", f64::ln, ln, |x| 1.0 / x, pos);
        unary("log10", f64::log10, log10, |x| 1.0 / (x * LN_10), pos);
        unary("log2", f64::log2, log2, |x| 1.0 / (x * LN_2), pos);
        unary(
            "ln_1p",
            f64::ln_1p,
            ln_1p,
            |x| 1.0 / (1.0 + x),
            |x| x > -1.0,
        );
        unary("sin", f64::sin, sin, f64::cos, all);
        unary("cos", f64::cos, cos, |x| -x.sin(), all);
        unary("tan", f64::tan, tan, |x| 1.0 / x.cos().powi(2), all);
        unary(
            "asin",
            f64::asin,
            asin,
            |x| 1.0 / (1.0 - x * x).sqrt(),
            open_unit,
        );
        unary(
            "acos",
            f64::acos,
            acos,
            |x| -1.0 / (1.0 - x * x).sqrt(),
            open_unit,
        );
        unary("atan", f64::atan, atan, |x| 1.0 / (1.0 + x * x), all);
        unary("sinh", f64::sinh, sinh, f64::cosh, all);
        unary("cosh", f64::cosh, cosh, f64::sinh, all);
        unary("tanh", f64::tanh, tanh, |x| 1.0 / x.cosh().powi(2), all);
        unary(
            "asinh",
            f64::asinh,
            asinh,
            |x| 1.0 / (x * x + 1.0).sqrt(),
            all,
        );
        unary(
            "acosh",
            f64::acosh,
            acosh,
            |x| 1.0 / (x * x - 1.0).sqrt(),
            |x| x > 1.0,
        );
        unary(
            "atanh",
            f64::atanh,
            atanh,
            |x| 1.0 / (1.0 - x * x),
            open_unit,
        );
        unary("abs", f64::abs, abs, f64::signum, all);
        unary("fract", f64::fract, fract, |_| 1.0, all);
        unary(
            "to_degrees",
            f64::to_degrees,
            to_degrees,
            |_| 180.0 / PI,
            all,
        );
        unary(
            "to_radians",
            f64::to_radians,
            to_radians,
            |_| PI / 180.0,
            all,
        );
    }

    #[test]
    fn binary_rules_match_closed_forms() {
        for &a in &POINTS {
            for &b in &POINTS {
                let dy = 1.5;
                type Case<'a> = (&'a str, (f64, f64), (f64, f64));
                let pairs: [Case; 6] = [
                    ("add", add(a, b, a + b, dy), (dy, dy)),
                    ("sub", sub(a, b, a - b, dy), (dy, -dy)),
                    ("mul", mul(a, b, a * b, dy), (dy * b, dy * a)),
                    ("div", div(a, b, a / b, dy), (dy / b, -dy * a / (b * b))),
                    ("rem", rem(a, b, a % b, dy), (dy, -dy * (a / b).trunc())),
                    (
                        "atan2",
                        atan2(a, b, a.atan2(b), dy),
                        (dy * b / (a * a + b * b), -dy * a / (a * a + b * b)),
                    ),
                ];
                for (name, got, want) in pairs {
                    assert!(
                        close(got.0, want.0) && close(got.1, want.1),
                        "{name}({a}, {b})"
                    );
                }
                let h = a.hypot(b);
                let got = hypot(a, b, h, dy);
                assert!(close(got.0, dy * a / h) && close(got.1, dy * b / h));
                // copysign(a, b) = |a| sign(b): for nonzero a and b, ∂a = signum(a) signum(b).
                let got = copysign(a, b, a.copysign(b), dy);
                assert_eq!(
                    got,
                    (dy * a.signum() * b.signum(), 0.0),
                    "copysign({a}, {b})"
                );
                if a > 0.0 {
                    let y = a.powf(b);
                    let got = powf(a, b, y, dy);
                    assert!(close(got.0, dy * b * a.powf(b - 1.0)), "powf dx ({a}, {b})");
                    assert!(close(got.1, dy * y * a.ln()), "powf dp ({a}, {b})");
                }
                if a > 0.0 && b > 0.0 && b != 1.0 {
                    let got = log(a, b, a.log(b), dy);
                    assert!(close(got.0, dy / (a * b.ln())), "log dx ({a}, {b})");
                    assert!(close(got.1, -dy * a.ln() / (b * b.ln().powi(2))), "log db");
                }
            }
        }
    }

    #[test]
    fn ternary_and_multi_result_rules() {
        assert_eq!(mul_add(2.0, 3.0, 4.0, 10.0, 0.5), (1.5, 1.0, 0.5));
        for &x in &POINTS {
            let (s, c) = x.sin_cos();
            assert!(close(sin_cos(x, s, c, 1.0, 0.0), x.cos()));
            assert!(close(sin_cos(x, s, c, 0.0, 1.0), -x.sin()));
            assert!(close(
                sin_cos(x, s, c, 2.0, 3.0),
                2.0 * x.cos() - 3.0 * x.sin()
            ));
        }
        // clamp: inside, below, above, and on the bounds.
        assert_eq!(clamp(0.5, 0.0, 1.0, 0.5, 2.0), (2.0, 0.0, 0.0));
        assert_eq!(clamp(-3.0, 0.0, 1.0, 0.0, 2.0), (0.0, 2.0, 0.0));
        assert_eq!(clamp(3.0, 0.0, 1.0, 1.0, 2.0), (0.0, 0.0, 2.0));
        assert_eq!(clamp(1.0, 0.0, 1.0, 1.0, 2.0), (2.0, 0.0, 0.0));
    }

    #[test]
    fn powi_matches_closed_form_and_handles_edges() {
        for &x in &POINTS {
            for n in [-3, -1, 1, 2, 5] {
                let got = powi(x, n, x.powi(n), 2.0);
                assert!(
                    close(got, 2.0 * f64::from(n) * x.powi(n - 1)),
                    "powi({x}, {n})"
                );
            }
            assert_eq!(powi(x, 0, 1.0, 2.0), 0.0);
        }
        assert_eq!(powi(0.0, 0, 1.0, 1.0), 0.0);
        assert_eq!(powi(0.0, 1, 0.0, 1.0), 1.0);
        assert_eq!(powi(0.0, 2, 0.0, 1.0), 0.0);
        assert_eq!(powi(2.0, i32::MIN, 0.0, 1.0), 0.0);
    }

    #[test]
    fn conventions_at_kinks_and_singular_points() {
        assert_eq!(abs(0.0, 0.0, 1.0), 0.0);
        assert_eq!(abs(-0.0, 0.0, 1.0), 0.0);
        assert_eq!(sqrt(0.0, 0.0, 1.0), 0.0);
        assert_eq!(cbrt(0.0, 0.0, 1.0), 0.0);
        assert_eq!(hypot(0.0, 0.0, 0.0, 1.0), (0.0, 0.0));
        assert_eq!(atan2(0.0, 0.0, 0.0, 1.0), (0.0, 0.0));
        assert_eq!(max(2.0, 2.0, 2.0, 1.0), (0.5, 0.5));
        assert_eq!(min(2.0, 2.0, 2.0, 1.0), (0.5, 0.5));
        assert_eq!(max(3.0, 2.0, 3.0, 1.0), (1.0, 0.0));
        assert_eq!(max(1.0, 2.0, 2.0, 1.0), (0.0, 1.0));
        assert_eq!(min(1.0, 2.0, 1.0, 1.0), (1.0, 0.0));
        assert_eq!(max(f64::NAN, 2.0, 2.0, 1.0), (0.0, 1.0));
        assert_eq!(min(2.0, f64::NAN, 2.0, 1.0), (1.0, 0.0));
        let (da, db) = max(f64::NAN, f64::NAN, f64::NAN, 1.0);
        assert!(da.is_nan() && db.is_nan());
        // powf: 0^p is constant in p.
        assert_eq!(powf(0.0, 2.0, 0.0, 1.0), (0.0, 0.0));
        assert_eq!(powf(0.0, 1.0, 0.0, 1.0), (1.0, 0.0));
        assert_eq!(powf(3.0, 0.0, 1.0, 1.0).0, 0.0);
    }

    #[test]
    fn copysign_conventions_and_sign_bits() {
        let nan_pos = f64::from_bits(0x7ff8_0000_0000_0000);
        let nan_neg = -nan_pos;
        assert!(nan_pos.is_sign_positive() && nan_neg.is_sign_negative());
        // x = ±0: 0, as abs at 0, whatever the incoming adjoint; the sign's adjoint is 0.
        for x in [0.0, -0.0] {
            for s in [2.0, -2.0, 0.0, -0.0, nan_pos, nan_neg] {
                for dy in [1.0, -3.0, f64::INFINITY] {
                    let got = copysign(x, s, x.copysign(s), dy);
                    assert_eq!(got, (0.0, 0.0), "copysign({x}, {s}), dy {dy}");
                }
            }
        }
        // The sign is that of the sign bit: -0.0 and a NaN with the bit set count as negative.
        let cases = [
            (3.0, 0.0, 1.0),
            (3.0, -0.0, -1.0),
            (-3.0, 0.0, -1.0),
            (-3.0, -0.0, 1.0),
            (3.0, nan_pos, 1.0),
            (3.0, nan_neg, -1.0),
            (-3.0, nan_neg, 1.0),
            (f64::INFINITY, -1.0, -1.0),
            (f64::NEG_INFINITY, -1.0, 1.0),
            (5e-324, -1.0, -1.0),
            (2.0, f64::NEG_INFINITY, -1.0),
        ];
        for (x, s, slope) in cases {
            let y = x.copysign(s);
            assert_eq!(
                copysign(x, s, y, 2.5),
                (2.5 * slope, 0.0),
                "copysign({x}, {s})"
            );
        }
        // A NaN x: no derivative; a NaN incoming adjoint leaves the sign's adjoint 0.
        let (dx, ds) = copysign(f64::NAN, 1.0, f64::NAN, 1.0);
        assert!(dx.is_nan() && ds == 0.0);
        let (dx, ds) = copysign(2.0, 1.0, 2.0, f64::NAN);
        assert!(dx.is_nan() && ds == 0.0);
    }

    #[test]
    fn outside_the_domain_nan_flows_through() {
        assert!(sqrt(-1.0, f64::NAN, 1.0).is_nan());
        assert!(ln(-1.0, f64::NAN, 1.0).is_nan());
        assert!(log2(-1.0, f64::NAN, 1.0).is_nan());
        assert!(atanh(2.0, f64::NAN, 1.0).is_nan());
        assert!(log(-2.0, 3.0, f64::NAN, 1.0).0.is_nan());
        assert!(asin(2.0, f64::NAN, 1.0).is_nan());
        assert!(acosh(0.5, f64::NAN, 1.0).is_nan());
        assert_eq!(asin(1.0, PI / 2.0, 1.0), f64::INFINITY);
    }

    #[test]
    fn linear_algebra_rules_match_finite_differences() {
        use crate::check::central_differences;
        use crate::linalg;
        use alloc::vec;
        use alloc::vec::Vec;

        // A scalar function of a flattened input, and its gradient from a rule.
        fn check(f: impl Fn(&[f64]) -> f64, x: &[f64], grad: &[f64]) {
            let numeric = central_differences(f, x);
            for (i, (g, n)) in grad.iter().zip(&numeric).enumerate() {
                assert!(
                    (g - n).abs() < 1e-7 * (1.0 + n.abs()),
                    "component {i}: {g} vs {n}"
                );
            }
        }
        let (m, k, n) = (2, 3, 4);
        let a: Vec<f64> = (0..m * k).map(|i| 0.3 * i as f64 - 0.7).collect();
        let b: Vec<f64> = (0..k * n).map(|i| (i as f64 * 0.37).sin()).collect();
        let x: Vec<f64> = (0..k).map(|i| 1.0 - 0.4 * i as f64).collect();
        let w: Vec<f64> = (0..m * n).map(|i| 0.1 + 0.2 * i as f64).collect();
        // ⟨w, A B⟩: dA = W Bᵀ, dB = Aᵀ W.
        let (mut da, mut db) = (vec![0.0; m * k], vec![0.0; k * n]);
        let c = linalg::matmul(&a, &b, m, k, n);
        matmul(&a, &b, m, k, n, &c, &w, &mut da, &mut db);
        let ab: Vec<f64> = a.iter().chain(&b).copied().collect();
        let f = |p: &[f64]| linalg::dot(&w, &linalg::matmul(&p[..m * k], &p[m * k..], m, k, n));
        check(f, &ab, &[da, db].concat());
        // ⟨v, A x⟩.
        let v = [0.5, -1.5];
        let (mut da, mut dx) = (vec![0.0; m * k], vec![0.0; k]);
        matvec(&a, &x, m, k, &[], &v, &mut da, &mut dx);
        let ax: Vec<f64> = a.iter().chain(&x).copied().collect();
        check(
            |p: &[f64]| linalg::dot(&v, &linalg::matvec(&p[..m * k], &p[m * k..], m, k)),
            &ax,
            &[da, dx].concat(),
        );
        // Scalar reductions.
        for (name, f, rule) in [
            (
                "sum",
                linalg::sum as fn(&[f64]) -> f64,
                sum as fn(&[f64], f64, f64, &mut [f64]),
            ),
            ("norm2", linalg::norm2, norm2),
            ("logsumexp", linalg::logsumexp, logsumexp),
        ] {
            let mut dx = vec![0.0; k];
            rule(&x, f(&x), 1.0, &mut dx);
            check(f, &x, &dx);
            assert!(!name.is_empty());
        }
        let mut dx = vec![0.0; k];
        let mut dy = vec![0.0; k];
        dot(&x, &x, 0.0, 1.0, &mut dx, &mut dy);
        assert_eq!(dx, x);
        // ⟨v, softmax(x)⟩ and ⟨v, α x + y⟩.
        let v3 = [0.3, -1.0, 2.0];
        let y = linalg::softmax(&x);
        let mut dx = vec![0.0; k];
        softmax(&[], &y, &v3, &mut dx);
        check(|p: &[f64]| linalg::dot(&v3, &linalg::softmax(p)), &x, &dx);
        let (mut dx, mut dy) = (vec![0.0; k], vec![0.0; k]);
        let dalpha = axpy(2.0, &x, &[], &[], &v3, &mut dx, &mut dy);
        let xa: Vec<f64> = x.iter().chain(&[2.0]).copied().collect();
        let f = |p: &[f64]| linalg::dot(&v3, &linalg::axpy(p[k], &p[..k], &x));
        check(f, &xa, &[dx, vec![dalpha]].concat());
        assert_eq!(dy, v3);
        // The zero vector's norm.
        let mut dx = vec![0.0; 2];
        norm2(&[0.0, 0.0], 0.0, 1.0, &mut dx);
        assert_eq!(dx, [0.0, 0.0]);
    }

    /// The tangent rules are generic too: in f32 they agree with f64 to f32's precision.
    #[test]
    fn tangent_rules_generic_over_f32() {
        type Unary32 = fn(f32, f32, f32) -> f32;
        type Unary64 = fn(f64, f64, f64) -> f64;
        #[allow(unused_mut)]
        let mut cases: std::vec::Vec<(&str, Unary32, Unary64, f64)> = std::vec![
            ("sin", sin_jvp, sin_jvp, f64::sin(0.7)),
            ("tanh", tanh_jvp, tanh_jvp, f64::tanh(0.7)),
            ("sqrt", sqrt_jvp, sqrt_jvp, f64::sqrt(0.7)),
        ];
        #[cfg(feature = "special")]
        cases.extend([
            (
                "erf",
                erf_jvp as Unary32,
                erf_jvp as Unary64,
                crate::special::erf(0.7),
            ),
            (
                "digamma",
                digamma_jvp,
                digamma_jvp,
                crate::special::digamma(0.7),
            ),
        ]);
        for (name, single, double, y) in cases {
            let got = single(0.7, y as f32, 2.0);
            let want = double(0.7, y, 2.0);
            assert!(
                (f64::from(got) - want).abs() < 1e-5 * (1.0 + want.abs()),
                "{name}_jvp in f32: {got} vs {want}"
            );
        }
        assert_eq!(powi_jvp(2.0f32, 3, 8.0, 1.0), 12.0);
        assert_eq!(cast_jvp::<f32, f64>(0.5, 0.5, 2.0), 2.0);
        assert_eq!(mul_jvp(2.0f32, 3.0, 6.0, 1.0, 0.0), 3.0);
    }

    #[test]
    fn generic_over_f32() {
        let x = 0.5f32;
        assert!((sin(x, x.sin(), 1.0) - x.cos()).abs() < 1e-7);
        assert!((exp2(x, x.exp2(), 1.0) - x.exp2() * core::f32::consts::LN_2).abs() < 1e-6);
        assert_eq!(cast::<f32, f64>(x, f64::from(x), 2.0), 2.0f32);
        assert_eq!(cast::<f64, f32>(0.25, 0.25, 3.0), 3.0f64);
        assert_eq!(copysign(-x, -0.0f32, x.copysign(-0.0), 2.0), (2.0, 0.0));
        assert_eq!(copysign(x, -1.0f32, -x, 2.0), (-2.0, 0.0));
    }
}
