//! The math of the IR interpreter: every primitive of `prims.rs` evaluated in `f64`.
//!
//! The differential tests run a program three ways: compiled by the macro, interpreted here
//! in forward mode, and interpreted here with the runtime's reverse rules. For that to prove
//! anything, this file provides three things that are kept deliberately separate:
//!
//! - [`primal`] and [`query`]: the values, computed with Rust's own `f64` methods so that they
//!   are bitwise what compiled code computes;
//! - [`forward`]: a dual-number (tangent) derivative of every primitive, written from calculus
//!   and from the conventions of `docs/semantics.md`, *not* from `ad_runtime::rules`, so that
//!   a wrong reverse rule shows up as a disagreement instead of being copied;
//! - [`rule`], [`linalg_primal`] and [`linalg_rule`]: thin adapters that call the runtime's
//!   functions with the argument lists generated code passes, so the interpreter's reverse
//!   sweep exercises the real rules.
//!
//! Unknown names and wrong operand counts panic with a message naming them: this is test
//! code, and a panic is the clearest report of an interpreter that reached a primitive it does
//! not know.

use std::f64::consts::{LN_2, LN_10};

use ad_runtime::linalg;
use ad_runtime::rules as r;

/// The value(s) of the primitive `name` at `args` (operands in order, the receiver first).
///
/// Covers every entry of `prims::PRIMS` whose results are floats (all but the `linalg`
/// functions and the queries), plus `cast` (`x as f64` from `f64`, the identity), which is not
/// in the table because the macro treats casts separately but which the IR still contains.
/// `powi`'s `i32` exponent arrives as an `f64` holding an integer; `sin_cos` returns two
/// values, every other primitive one.
///
/// # Panics
///
/// For an unknown name, a wrong number of operands, a `powi` exponent that is not an `i32`,
/// or where Rust's method itself panics (`clamp` with `lo > hi` or a NaN bound).
pub fn primal(name: &str, args: &[f64]) -> Vec<f64> {
    let y = match (name, args) {
        // arithmetic
        ("add", &[a, b]) => a + b,
        ("sub", &[a, b]) => a - b,
        ("mul", &[a, b]) => a * b,
        ("div", &[a, b]) => a / b,
        ("rem", &[a, b]) => a % b,
        ("neg", &[a]) => -a,
        ("mul_add", &[a, b, c]) => a.mul_add(b, c),
        ("recip", &[x]) => x.recip(),
        ("cast", &[x]) => x,
        // powers and roots
        ("sqrt", &[x]) => x.sqrt(),
        ("cbrt", &[x]) => x.cbrt(),
        ("powi", &[x, n]) => x.powi(int_operand(n)),
        ("powf", &[x, p]) => x.powf(p),
        ("hypot", &[a, b]) => a.hypot(b),
        // exponentials and logarithms
        ("exp", &[x]) => x.exp(),
        ("exp2", &[x]) => x.exp2(),
        ("exp_m1", &[x]) => x.exp_m1(),
        ("ln", &[x]) => x.ln(),
        ("log", &[x, b]) => x.log(b),
        ("log10", &[x]) => x.log10(),
        ("log2", &[x]) => x.log2(),
        ("ln_1p", &[x]) => x.ln_1p(),
        // trigonometry
        ("sin", &[x]) => x.sin(),
        ("cos", &[x]) => x.cos(),
        ("tan", &[x]) => x.tan(),
        ("sin_cos", &[x]) => {
            let (s, c) = x.sin_cos();
            return vec![s, c];
        }
        ("asin", &[x]) => x.asin(),
        ("acos", &[x]) => x.acos(),
        ("atan", &[x]) => x.atan(),
        ("atan2", &[a, b]) => a.atan2(b),
        ("sinh", &[x]) => x.sinh(),
        ("cosh", &[x]) => x.cosh(),
        ("tanh", &[x]) => x.tanh(),
        ("asinh", &[x]) => x.asinh(),
        ("acosh", &[x]) => x.acosh(),
        ("atanh", &[x]) => x.atanh(),
        ("to_degrees", &[x]) => x.to_degrees(),
        ("to_radians", &[x]) => x.to_radians(),
        // piecewise
        ("abs", &[x]) => x.abs(),
        ("copysign", &[x, s]) => x.copysign(s),
        ("max", &[a, b]) => a.max(b),
        ("min", &[a, b]) => a.min(b),
        ("clamp", &[x, lo, hi]) => x.clamp(lo, hi),
        ("fract", &[x]) => x.fract(),
        ("floor", &[x]) => x.floor(),
        ("ceil", &[x]) => x.ceil(),
        ("round", &[x]) => x.round(),
        ("trunc", &[x]) => x.trunc(),
        ("signum", &[x]) => x.signum(),
        _ => panic!(
            "interp::math::primal: no float primitive `{name}` taking {} operands",
            args.len()
        ),
    };
    vec![y]
}

/// The boolean result of the query method `name` (`is_nan`, `is_infinite`, `is_finite`,
/// `is_normal`, `is_sign_positive`, `is_sign_negative`) at `x`.
///
/// `classify` and `to_bits` are queries too, but their results are neither floats nor
/// booleans, so an `f64` interpreter has no value to give them.
///
/// # Panics
///
/// For any other name.
pub fn query(name: &str, x: f64) -> bool {
    match name {
        "is_nan" => x.is_nan(),
        "is_infinite" => x.is_infinite(),
        "is_finite" => x.is_finite(),
        "is_normal" => x.is_normal(),
        "is_sign_positive" => x.is_sign_positive(),
        "is_sign_negative" => x.is_sign_negative(),
        _ => panic!("interp::math::query: no boolean query `{name}`"),
    }
}

/// A dual number: a value and its tangent (directional derivative) along one direction.
///
/// A tangent of exactly zero means "does not depend on the direction" (a constant, or an
/// input that is not being perturbed): see [`forward`] for why that matters at points where a
/// partial derivative is infinite or NaN.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Dual {
    /// The primal value, bitwise as [`primal`] computes it.
    pub v: f64,
    /// The tangent `Σᵢ ∂y/∂xᵢ · dxᵢ`.
    pub d: f64,
}

/// The primitive `name` on dual numbers: values as [`primal`], tangents by the chain rule.
///
/// The tangent formulas are derived here from calculus, independently of
/// `ad_runtime::rules`, with the conventions of `docs/semantics.md` at kinks and singular
/// points (abs and copysign at 0, max/min ties and NaN operands, clamp at a bound,
/// sqrt/cbrt/hypot/atan2 at the origin, powf/powi exponent 0 and base 0, NaN where a logarithm
/// has no value, zero for the piecewise-constant functions and copysign's sign, one for
/// `fract`). Where a formula is known to lose
/// precision in floating point, an equivalent better-conditioned form is used (`exp_m1`,
/// `tanh`, `asin`, `acos`, `asinh`, `acosh`, `atanh`, `atan2`), so that a rule's rounding
/// problem shows up as a disagreement rather than being reproduced.
///
/// A tangent is `Σᵢ ∂ᵢ · dxᵢ` over the operands whose tangent is *nonzero*: an operand with a
/// zero tangent contributes nothing even where its partial derivative is infinite or NaN. This
/// is the forward analogue of activity in the reverse sweep, where an operand that does not
/// depend on the input never receives an adjoint: `x + (-1.0).ln()` must have tangent 1 in `x`
/// as its reverse gradient has, not `1 + NaN · 0`. The convention points of the docs
/// (`sqrt` at 0, …) are different: there the derivative *is* 0, whatever the tangent.
///
/// `powi`'s exponent is an integer: its tangent is ignored.
///
/// # Panics
///
/// As [`primal`].
pub fn forward(name: &str, args: &[Dual]) -> Vec<Dual> {
    let values: Vec<f64> = args.iter().map(|a| a.v).collect();
    let results = primal(name, &values);
    let tangents = tangents(name, args, &results);
    results
        .into_iter()
        .zip(tangents)
        .map(|(v, d)| Dual { v, d })
        .collect()
}

/// The tangents of the results of `name` at `args`, given its primal `results`.
///
/// Separate from [`forward`] so that each formula can read the results (most are cheaper and
/// as accurate in terms of `y`) without recomputing them.
fn tangents(name: &str, args: &[Dual], results: &[f64]) -> Vec<f64> {
    // Every primitive but `sin_cos` has one result; `primal` has already checked the arity.
    let y = results[0];
    let d = match (name, args) {
        // ----- arithmetic -----
        ("add", &[a, b]) => a.d + b.d,
        ("sub", &[a, b]) => a.d - b.d,
        // Product rule.
        ("mul", &[a, b]) => term(b.v, a.d) + term(a.v, b.d),
        // ∂/∂b (a/b) = -a/b² = -y/b; the form -y/b does not overflow through b² first.
        ("div", &[a, b]) => term(1.0 / b.v, a.d) + term(-y / b.v, b.d),
        // a % b = a - b·q with q = trunc(a/b) locally constant: ∂a = 1, ∂b = -q.
        ("rem", &[a, b]) => a.d + term(-(a.v / b.v).trunc(), b.d),
        ("neg", &[a]) => -a.d,
        ("mul_add", &[a, b, c]) => term(b.v, a.d) + term(a.v, b.d) + c.d,
        // d(1/x) = -dx/x² = -(y/x) dx; -y/x keeps 1/x² from overflowing before the product.
        ("recip", &[x]) => term(-y / x.v, x.d),
        ("cast", &[x]) => x.d,
        // ----- powers and roots -----
        // d√x = dx / (2√x); at 0 the derivative is +∞ and the convention is 0.
        ("sqrt", &[x]) => {
            if y == 0.0 {
                0.0
            } else {
                term(0.5 / y, x.d)
            }
        }
        // d∛x = dx / (3 ∛x²); 0 at 0 as sqrt.
        ("cbrt", &[x]) => {
            if y == 0.0 {
                0.0
            } else {
                term(1.0 / (3.0 * y * y), x.d)
            }
        }
        ("powi", &[x, n]) => {
            let n = int_operand(n.v);
            if n == 0 {
                // x⁰ = 1 is constant, also at x = 0.
                0.0
            } else {
                term(f64::from(n) * pow_n_minus_one(x.v, n), x.d)
            }
        }
        // ∂x xᵖ = p xᵖ⁻¹ (0 for p = 0: x⁰ is constant); ∂p xᵖ = xᵖ ln x, taken as 0 where
        // xᵖ = 0 (0ᵖ for p > 0, and ∞ᵖ for p < 0, are constant in p; 0 · ln 0 would be NaN).
        ("powf", &[x, p]) => {
            let dx = if p.v == 0.0 {
                0.0
            } else {
                term(p.v * x.v.powf(p.v - 1.0), x.d)
            };
            let dp = if y == 0.0 {
                0.0
            } else {
                term(y * x.v.ln(), p.d)
            };
            dx + dp
        }
        // d√(a² + b²) = (a da + b db) / y; the norm's subgradient 0 at the origin.
        ("hypot", &[a, b]) => {
            if a.v == 0.0 && b.v == 0.0 {
                0.0
            } else {
                term(a.v / y, a.d) + term(b.v / y, b.d)
            }
        }
        // ----- exponentials and logarithms -----
        ("exp", &[x]) => term(y, x.d),
        ("exp2", &[x]) => term(y * LN_2, x.d),
        // d(eˣ - 1) = eˣ dx: computed from x, since y + 1 cancels for very negative x.
        ("exp_m1", &[x]) => term(x.v.exp(), x.d),
        ("ln", &[x]) => term(where_defined(y, 1.0 / x.v), x.d),
        // log_b x = ln x / ln b: ∂x = 1 / (x ln b), ∂b = -ln x / (b ln² b) = -y / (b ln b).
        ("log", &[x, b]) => {
            let ln_b = b.v.ln();
            term(where_defined(y, 1.0 / (x.v * ln_b)), x.d) + term(-y / (b.v * ln_b), b.d)
        }
        ("log10", &[x]) => term(where_defined(y, 1.0 / (x.v * LN_10)), x.d),
        ("log2", &[x]) => term(where_defined(y, 1.0 / (x.v * LN_2)), x.d),
        ("ln_1p", &[x]) => term(where_defined(y, 1.0 / (1.0 + x.v)), x.d),
        // ----- trigonometry -----
        ("sin", &[x]) => term(x.v.cos(), x.d),
        ("cos", &[x]) => term(-x.v.sin(), x.d),
        // d tan x = dx / cos² x (the rule uses 1 + tan², an independent form).
        ("tan", &[x]) => {
            let c = x.v.cos();
            term(1.0 / (c * c), x.d)
        }
        // (sin, cos)' = (cos, -sin), read from the results.
        ("sin_cos", &[x]) => return vec![term(results[1], x.d), term(-results[0], x.d)],
        // 1 - x² as (1 - x)(1 + x): exact near ±1, where x² would round.
        ("asin", &[x]) => term(1.0 / one_minus_square(x.v).sqrt(), x.d),
        ("acos", &[x]) => term(-1.0 / one_minus_square(x.v).sqrt(), x.d),
        // 1/(1 + x²): overflow of x² gives 0, which is also the rounded true value.
        ("atan", &[x]) => term(1.0 / (1.0 + x.v * x.v), x.d),
        // atan2(a, b) is the angle of (b, a): ∂a = b / r², ∂b = -a / r². r² is formed as
        // (·/r)/r with r = hypot(a, b) so that tiny or huge points neither underflow to the
        // origin nor overflow; the convention 0 is at the origin itself.
        ("atan2", &[a, b]) => {
            if a.v == 0.0 && b.v == 0.0 {
                0.0
            } else {
                let r = a.v.hypot(b.v);
                term(b.v / r / r, a.d) + term(-a.v / r / r, b.d)
            }
        }
        ("sinh", &[x]) => term(x.v.cosh(), x.d),
        ("cosh", &[x]) => term(x.v.sinh(), x.d),
        // d tanh x = dx / cosh² x: 1 - y² cancels where tanh x rounds to ±1.
        ("tanh", &[x]) => {
            let c = x.v.cosh();
            term(1.0 / (c * c), x.d)
        }
        // 1/√(x² + 1) = 1/hypot(x, 1): no overflow of x² for large |x|.
        ("asinh", &[x]) => term(1.0 / x.v.hypot(1.0), x.d),
        // 1/√(x² - 1) = 1/(√(x - 1) √(x + 1)), exact near 1 and without overflow. acosh has
        // no value below 1, so no derivative (docs/semantics.md, "Domains"): the factored form
        // is NaN there already, but 1/√(x² - 1) would be finite (or ∞) for x ≤ -1, so the
        // intent is made explicit rather than left to the choice of form.
        ("acosh", &[x]) => term(
            where_defined(y, 1.0 / ((x.v - 1.0).sqrt() * (x.v + 1.0).sqrt())),
            x.d,
        ),
        ("atanh", &[x]) => term(where_defined(y, 1.0 / one_minus_square(x.v)), x.d),
        // Linear maps are their own derivatives: the same constant, the same rounding.
        ("to_degrees", &[x]) => x.d.to_degrees(),
        ("to_radians", &[x]) => x.d.to_radians(),
        // ----- piecewise -----
        // sign(x) dx, and 0 at 0: the midpoint of the subdifferential [-1, 1]. (Rust's
        // signum(±0) is ±1, hence the explicit test; signum(NaN) = NaN flows through.)
        ("abs", &[x]) => {
            if x.v == 0.0 {
                0.0
            } else {
                term(x.v.signum(), x.d)
            }
        }
        // copysign returns x when x and s have the same sign bit and -x otherwise, so its
        // slope in x is ±1 by that comparison (NaN for a NaN x, as abs); at x = ±0 the
        // result is ±0 either way and the slope is 0, as abs at 0. In s it is piecewise
        // constant (a jump at s = ±0): s contributes nothing, whatever its tangent.
        ("copysign", &[x, s]) => {
            if x.v == 0.0 {
                0.0
            } else if x.v.is_nan() {
                term(f64::NAN, x.d)
            } else if x.v.is_sign_negative() == s.v.is_sign_negative() {
                x.d
            } else {
                -x.d
            }
        }
        ("max", &[a, b]) => selected(a, b, a.v > b.v),
        ("min", &[a, b]) => selected(a, b, a.v < b.v),
        ("clamp", &[x, lo, hi]) => {
            if x.v.is_nan() || (lo.v <= x.v && x.v <= hi.v) {
                // Inside, on a bound (a tie resolved towards x), or NaN passed through.
                x.d
            } else if x.v < lo.v || lo.v == hi.v {
                // Below, or above a degenerate interval whose returned bound equals lo: the
                // rule gives it to lo, the first bound it compares with.
                lo.d
            } else {
                hi.d
            }
        }
        // x - trunc(x): slope 1 on both sides of every jump.
        ("fract", &[x]) => x.d,
        // Piecewise constant: derivative exactly 0, also at the jumps and for NaN.
        ("floor" | "ceil" | "round" | "trunc" | "signum", &[_]) => 0.0,
        _ => panic!(
            "interp::math::forward: no tangent for `{name}` taking {} operands",
            args.len()
        ),
    };
    vec![d]
}

/// One operand's contribution `partial · tangent`, nothing when the tangent is zero.
///
/// Skipping zero tangents keeps an infinite or NaN partial of an operand that does not vary
/// from poisoning the result (`∞ · 0 = NaN`); see [`forward`].
fn term(partial: f64, tangent: f64) -> f64 {
    if tangent == 0.0 {
        0.0
    } else {
        partial * tangent
    }
}

/// `partial`, or NaN where the value `y` is NaN: outside its domain a function has no value,
/// so no derivative, even where the formula of the derivative would stay finite (`1/x` for
/// `ln` at `x = -1`).
fn where_defined(y: f64, partial: f64) -> f64 {
    if y.is_nan() { f64::NAN } else { partial }
}

/// `1 - x²` computed as `(1 - x)(1 + x)`, which has no cancellation near `x = ±1`.
fn one_minus_square(x: f64) -> f64 {
    (1.0 - x) * (1.0 + x)
}

/// `xⁿ⁻¹` for `n ≠ 0`; for `n = i32::MIN`, where `n - 1` does not fit in an `i32`, as a
/// `powf` with the exactly representable exponent `n - 1`.
fn pow_n_minus_one(x: f64, n: i32) -> f64 {
    match n.checked_sub(1) {
        Some(m) => x.powi(m),
        None => x.powf(f64::from(n) - 1.0),
    }
}

/// The tangent of `max`/`min`, which return one of their operands: that operand's tangent;
/// on a tie half of each (so `max(a, b)` and `max(b, a)` agree and `x.max(x)` has derivative
/// 1); a NaN operand is ignored as the value ignores it; NaN if both are NaN.
/// `first_wins` is whether the comparison that defines the primitive picks `a`.
fn selected(a: Dual, b: Dual, first_wins: bool) -> f64 {
    match (a.v.is_nan(), b.v.is_nan()) {
        (true, true) => term(f64::NAN, a.d) + term(f64::NAN, b.d),
        (true, false) => b.d,
        (false, true) => a.d,
        (false, false) if a.v == b.v => 0.5 * a.d + 0.5 * b.d,
        (false, false) if first_wins => a.d,
        (false, false) => b.d,
    }
}

/// `powi`'s integer exponent, carried as an `f64` by the interpreter.
///
/// # Panics
///
/// If `n` is not an integer in `i32`'s range: it would mean the interpreter passed a float
/// where the program has an `i32`, and truncating it would hide that.
fn int_operand(n: f64) -> i32 {
    assert!(
        n.fract() == 0.0 && (f64::from(i32::MIN)..=f64::from(i32::MAX)).contains(&n),
        "interp::math: the i32 operand of `powi` is {n}, not an i32"
    );
    n as i32
}

/// The reverse rule `ad_runtime::rules::<name>` applied to `args`, as generated code calls it:
/// the operands, then the results, then the results' adjoints, in the rule's parameter order
/// (`powi`'s `i32` operand as an `f64`). Returns the adjoints of the float operands, in order.
///
/// Covers every scalar entry of `prims::PRIMS` that has a rule (`Derivative::Rule`), and
/// `cast` as `rules::cast::<f64, f64>(x, y, dy)`.
///
/// # Panics
///
/// For an unknown name or a wrong number of arguments.
pub fn rule(name: &str, args: &[f64]) -> Vec<f64> {
    match (name, args) {
        // arithmetic
        ("add", &[a, b, y, dy]) => pair(r::add(a, b, y, dy)),
        ("sub", &[a, b, y, dy]) => pair(r::sub(a, b, y, dy)),
        ("mul", &[a, b, y, dy]) => pair(r::mul(a, b, y, dy)),
        ("div", &[a, b, y, dy]) => pair(r::div(a, b, y, dy)),
        ("rem", &[a, b, y, dy]) => pair(r::rem(a, b, y, dy)),
        ("neg", &[a, y, dy]) => vec![r::neg(a, y, dy)],
        ("mul_add", &[a, b, c, y, dy]) => {
            let (da, db, dc) = r::mul_add(a, b, c, y, dy);
            vec![da, db, dc]
        }
        ("recip", &[x, y, dy]) => vec![r::recip(x, y, dy)],
        ("cast", &[x, y, dy]) => vec![r::cast::<f64, f64>(x, y, dy)],
        // powers and roots
        ("sqrt", &[x, y, dy]) => vec![r::sqrt(x, y, dy)],
        ("cbrt", &[x, y, dy]) => vec![r::cbrt(x, y, dy)],
        ("powi", &[x, n, y, dy]) => vec![r::powi(x, int_operand(n), y, dy)],
        ("powf", &[x, p, y, dy]) => pair(r::powf(x, p, y, dy)),
        ("hypot", &[a, b, y, dy]) => pair(r::hypot(a, b, y, dy)),
        // exponentials and logarithms
        ("exp", &[x, y, dy]) => vec![r::exp(x, y, dy)],
        ("exp2", &[x, y, dy]) => vec![r::exp2(x, y, dy)],
        ("exp_m1", &[x, y, dy]) => vec![r::exp_m1(x, y, dy)],
        ("ln", &[x, y, dy]) => vec![r::ln(x, y, dy)],
        ("log", &[x, b, y, dy]) => pair(r::log(x, b, y, dy)),
        ("log10", &[x, y, dy]) => vec![r::log10(x, y, dy)],
        ("log2", &[x, y, dy]) => vec![r::log2(x, y, dy)],
        ("ln_1p", &[x, y, dy]) => vec![r::ln_1p(x, y, dy)],
        // trigonometry
        ("sin", &[x, y, dy]) => vec![r::sin(x, y, dy)],
        ("cos", &[x, y, dy]) => vec![r::cos(x, y, dy)],
        ("tan", &[x, y, dy]) => vec![r::tan(x, y, dy)],
        ("sin_cos", &[x, s, c, ds, dc]) => vec![r::sin_cos(x, s, c, ds, dc)],
        ("asin", &[x, y, dy]) => vec![r::asin(x, y, dy)],
        ("acos", &[x, y, dy]) => vec![r::acos(x, y, dy)],
        ("atan", &[x, y, dy]) => vec![r::atan(x, y, dy)],
        ("atan2", &[a, b, y, dy]) => pair(r::atan2(a, b, y, dy)),
        ("sinh", &[x, y, dy]) => vec![r::sinh(x, y, dy)],
        ("cosh", &[x, y, dy]) => vec![r::cosh(x, y, dy)],
        ("tanh", &[x, y, dy]) => vec![r::tanh(x, y, dy)],
        ("asinh", &[x, y, dy]) => vec![r::asinh(x, y, dy)],
        ("acosh", &[x, y, dy]) => vec![r::acosh(x, y, dy)],
        ("atanh", &[x, y, dy]) => vec![r::atanh(x, y, dy)],
        ("to_degrees", &[x, y, dy]) => vec![r::to_degrees(x, y, dy)],
        ("to_radians", &[x, y, dy]) => vec![r::to_radians(x, y, dy)],
        // piecewise
        ("abs", &[x, y, dy]) => vec![r::abs(x, y, dy)],
        ("copysign", &[x, s, y, dy]) => pair(r::copysign(x, s, y, dy)),
        ("max", &[a, b, y, dy]) => pair(r::max(a, b, y, dy)),
        ("min", &[a, b, y, dy]) => pair(r::min(a, b, y, dy)),
        ("clamp", &[x, lo, hi, y, dy]) => {
            let (dx, dlo, dhi) = r::clamp(x, lo, hi, y, dy);
            vec![dx, dlo, dhi]
        }
        ("fract", &[x, y, dy]) => vec![r::fract(x, y, dy)],
        _ => panic!(
            "interp::math::rule: no rule `{name}` taking {} arguments",
            args.len()
        ),
    }
}

/// A pair of adjoints as the `Vec` [`rule`] returns.
fn pair((a, b): (f64, f64)) -> Vec<f64> {
    vec![a, b]
}

/// An argument of a `linalg` function or rule, as the interpreter holds it.
#[derive(Clone, Debug)]
pub enum LinArg {
    /// A float, passed by value (`axpy`'s `alpha`, a scalar result or its adjoint).
    F(f64),
    /// A dimension, passed by value (`m`, `n`, `k` of `matvec` and `matmul`).
    I(usize),
    /// A container passed as `&[f64]`: an operand, a vector result or its adjoint.
    Slice(Vec<f64>),
    /// An adjoint buffer passed as `&mut [f64]`: the rule adds into it, and the caller reads
    /// it back from the argument list afterwards. Empty stands for "not differentiated".
    Mut(Vec<f64>),
}

/// The result of a `linalg` function.
#[derive(Clone, Debug, PartialEq)]
pub enum LinOut {
    /// A scalar (`dot`, `sum`, `norm2`, `logsumexp`).
    F(f64),
    /// A new container (`softmax`, `matvec`, `matmul`, `axpy`).
    Vec(Vec<f64>),
}

/// `ad_runtime::linalg::<name>` at `args`: containers as [`LinArg::Slice`], dimensions as
/// [`LinArg::I`], `axpy`'s `alpha` as [`LinArg::F`], in the function's parameter order.
///
/// Covers the eight `linalg` entries of `prims::PRIMS`.
///
/// # Panics
///
/// For an unknown name or arguments of the wrong kinds, and where the runtime's function
/// panics (mismatched lengths).
pub fn linalg_primal(name: &str, args: &[LinArg]) -> LinOut {
    use LinArg::{F, I, Slice as S};
    match (name, args) {
        ("dot", [S(x), S(y)]) => LinOut::F(linalg::dot(x, y)),
        ("sum", [S(x)]) => LinOut::F(linalg::sum(x)),
        ("norm2", [S(x)]) => LinOut::F(linalg::norm2(x)),
        ("logsumexp", [S(x)]) => LinOut::F(linalg::logsumexp(x)),
        ("softmax", [S(x)]) => LinOut::Vec(linalg::softmax(x)),
        ("matvec", [S(a), S(x), I(m), I(n)]) => LinOut::Vec(linalg::matvec(a, x, *m, *n)),
        ("matmul", [S(a), S(b), I(m), I(k), I(n)]) => LinOut::Vec(linalg::matmul(a, b, *m, *k, *n)),
        ("axpy", [F(alpha), S(x), S(y)]) => LinOut::Vec(linalg::axpy(*alpha, x, y)),
        _ => panic!("interp::math::linalg_primal: no function `{name}` taking {args:?}"),
    }
}

/// The reverse rule `ad_runtime::rules::<name>` of a `linalg` function, called with `args` in
/// its parameter order (operands, result, result adjoint, then one adjoint buffer per
/// container operand): [`LinArg::Slice`] as `&[f64]`, [`LinArg::Mut`] as `&mut [f64]`,
/// [`LinArg::F`] and [`LinArg::I`] by value.
///
/// The rules add the containers' adjoints into the `Mut` buffers, which stay in `args` for
/// the caller to read; the adjoints of float operands (`axpy`'s `alpha`) are returned, in
/// order (an empty `Vec` for the rules that return nothing).
///
/// # Panics
///
/// For an unknown name or arguments of the wrong kinds.
pub fn linalg_rule(name: &str, args: &mut [LinArg]) -> Vec<f64> {
    use LinArg::{F, I, Mut as M, Slice as S};
    match (name, &mut *args) {
        ("dot", [S(x), S(y), F(out), F(dout), M(dx), M(dy)]) => {
            r::dot(x, y, *out, *dout, dx, dy);
            vec![]
        }
        ("sum", [S(x), F(out), F(dout), M(dx)]) => {
            r::sum(x, *out, *dout, dx);
            vec![]
        }
        ("norm2", [S(x), F(out), F(dout), M(dx)]) => {
            r::norm2(x, *out, *dout, dx);
            vec![]
        }
        ("logsumexp", [S(x), F(out), F(dout), M(dx)]) => {
            r::logsumexp(x, *out, *dout, dx);
            vec![]
        }
        ("softmax", [S(x), S(y), S(dy), M(dx)]) => {
            r::softmax(x, y, dy, dx);
            vec![]
        }
        ("matvec", [S(a), S(x), I(m), I(n), S(y), S(dy), M(da), M(dx)]) => {
            r::matvec(a, x, *m, *n, y, dy, da, dx);
            vec![]
        }
        ("matmul", [S(a), S(b), I(m), I(k), I(n), S(c), S(dc), M(da), M(db)]) => {
            r::matmul(a, b, *m, *k, *n, c, dc, da, db);
            vec![]
        }
        ("axpy", [F(alpha), S(x), S(y), S(out), S(dout), M(dx), M(dy)]) => {
            vec![r::axpy(*alpha, x, y, out, dout, dx, dy)]
        }
        _ => panic!("interp::math::linalg_rule: no rule `{name}` taking {args:?}"),
    }
}

#[cfg(test)]
mod tests {
    //! Forward tangents against the runtime's reverse rules, primitive by primitive, at
    //! ordinary points and at every convention point of docs/semantics.md; the linalg rules
    //! against central differences.
    use super::*;
    use crate::prims::{Derivative, Operand, PRIMS, Syntax};
    use ad_runtime::check::central_differences;

    const INF: f64 = f64::INFINITY;
    const NAN: f64 = f64::NAN;

    /// Points for unary primitives: zeros of both signs (kinks, singular points), ±1 (domain
    /// edges), ordinary values, large values, the smallest subnormal, infinities and NaN.
    const POINTS: [f64; 19] = [
        0.0, -0.0, 0.3, -0.7, 0.5, 1.0, -1.0, 2.5, -2.5, 40.0, -40.0, 1e10, -1e10, 1e300, -1e300,
        5e-324, INF, -INF, NAN,
    ];

    /// Points for binary primitives, all pairs taken: fewer, but with ties (equal values,
    /// `0.0` and `-0.0`), zeros, a unit base for `log`, large values, infinities and NaN.
    const PAIR_POINTS: [f64; 12] = [
        0.0, -0.0, 0.5, 1.0, -1.0, 2.5, -3.0, 3.0, 1e300, INF, -INF, NAN,
    ];

    /// The table's float primitives (not queries) with `derivative` and one result, taking
    /// `arity` floats.
    fn table(derivative: Derivative, arity: usize) -> impl Iterator<Item = &'static str> {
        PRIMS
            .iter()
            .filter(move |p| {
                p.syntax != Syntax::Function
                    && p.derivative == derivative
                    && p.results == 1
                    && p.operands.len() == arity
                    && p.operands.iter().all(|o| *o == Operand::Float)
                    && !NOT_FLOAT.contains(&p.name)
            })
            .map(|p| p.name)
    }

    /// Unary primitives with a rule, and float casts.
    fn unary() -> impl Iterator<Item = &'static str> {
        table(Derivative::Rule, 1).chain(["cast"])
    }

    /// Queries whose results are not floats; `query` covers the boolean ones.
    const NOT_FLOAT: [&str; 8] = [
        "is_nan",
        "is_infinite",
        "is_finite",
        "is_normal",
        "is_sign_positive",
        "is_sign_negative",
        "classify",
        "to_bits",
    ];

    /// Agreement of a forward tangent and a reverse adjoint: equal (infinities included), both
    /// NaN, or finite and within 1e-12 relative (absolute below 1, as the rules' own tests).
    fn agree(a: f64, b: f64) -> bool {
        a == b
            || (a.is_nan() && b.is_nan())
            || (a.is_finite()
                && b.is_finite()
                && (a - b).abs() <= 1e-12 * (1.0 + a.abs().max(b.abs())))
    }

    /// Duals at `values` with tangent `seed` in direction `i` and zero elsewhere.
    fn seeded(values: &[f64], i: usize, seed: f64) -> Vec<Dual> {
        values
            .iter()
            .enumerate()
            .map(|(j, &v)| Dual {
                v,
                d: if i == j { seed } else { 0.0 },
            })
            .collect()
    }

    /// Checks, for every float operand `i` of the single-result primitive `name` at `values`
    /// and two seeds, that the forward tangent along `eᵢ` equals the rule's adjoint `i` for the
    /// same result adjoint: both are `seed · ∂y/∂xᵢ`. `other` marks operands that are not
    /// floats (`powi`'s exponent), which get no adjoint.
    fn check_against_rule(name: &str, values: &[f64], other: &[bool]) {
        let y = primal(name, values)[0];
        let floats: Vec<usize> = (0..values.len()).filter(|&i| !other[i]).collect();
        for seed in [1.0, -2.5] {
            let mut args = values.to_vec();
            args.extend([y, seed]);
            let adjoints = rule(name, &args);
            assert_eq!(adjoints.len(), floats.len(), "{name}: number of adjoints");
            for (k, &i) in floats.iter().enumerate() {
                let tangent = forward(name, &seeded(values, i, seed))[0].d;
                assert!(
                    agree(tangent, adjoints[k]),
                    "{name}{values:?}, operand {i}, seed {seed}: forward {tangent} vs rule {}",
                    adjoints[k]
                );
            }
        }
    }

    /// Checks that `forward`'s values are bitwise those of `primal`.
    fn check_values(name: &str, values: &[f64]) {
        let plain = primal(name, values);
        let dual = forward(name, &seeded(values, 0, 1.0));
        assert_eq!(plain.len(), dual.len(), "{name}: number of results");
        for (p, d) in plain.iter().zip(&dual) {
            assert_eq!(
                p.to_bits(),
                d.v.to_bits(),
                "{name}{values:?}: {p} vs {}",
                d.v
            );
        }
    }

    /// Whether a point is one where forward and reverse are known to disagree, so that the
    /// agreement tests skip it (each case is tested on its own below, and reported).
    /// Every unary rule agrees with the forward tangent at every point of `POINTS`.
    #[test]
    fn unary_forward_matches_rules() {
        for name in unary() {
            for x in POINTS {
                check_values(name, &[x]);
                check_against_rule(name, &[x], &[false]);
            }
        }
    }

    /// Every binary rule agrees with the forward tangent at every pair of `PAIR_POINTS`.
    #[test]
    fn binary_forward_matches_rules() {
        for name in table(Derivative::Rule, 2) {
            for a in PAIR_POINTS {
                for b in PAIR_POINTS {
                    check_values(name, &[a, b]);
                    check_against_rule(name, &[a, b], &[false, false]);
                }
            }
        }
    }

    /// `powi` at every unary point and exponents including 0, negative ones and the extremes
    /// of i32 (at exactly representable bases, where `powi`'s repeated squaring is exact).
    #[test]
    fn powi_forward_matches_rule() {
        for x in POINTS {
            for n in [-3, -1, 0, 1, 2, 5] {
                check_values("powi", &[x, f64::from(n)]);
                check_against_rule("powi", &[x, f64::from(n)], &[false, true]);
            }
        }
        for x in [0.0, -0.0, 1.0, -1.0, 2.0, -2.0, 0.5, INF, -INF, NAN] {
            for n in [i32::MIN, i32::MAX] {
                check_against_rule("powi", &[x, f64::from(n)], &[false, true]);
            }
        }
        // The exponent's tangent is ignored.
        let with_exponent_tangent =
            forward("powi", &[Dual { v: 3.0, d: 1.0 }, Dual { v: 2.0, d: 7.0 }]);
        assert_eq!(with_exponent_tangent, [Dual { v: 9.0, d: 6.0 }]);
    }

    /// `mul_add` and `clamp` at triples, including `clamp` at both bounds, with a degenerate
    /// interval, with infinite bounds and with a NaN `x`.
    #[test]
    fn ternary_forward_matches_rules() {
        let few = [0.0, -0.0, 0.5, -2.5, 3.0, INF, NAN];
        for a in few {
            for b in few {
                for c in few {
                    check_values("mul_add", &[a, b, c]);
                    check_against_rule("mul_add", &[a, b, c], &[false; 3]);
                }
            }
        }
        let bounds = [
            (0.0, 1.0),
            (-1.0, 1.0),
            (1.0, 1.0),
            (0.0, 0.0),
            (-0.0, 0.0),
            (0.0, -0.0),
            (-INF, INF),
            (-INF, -INF),
        ];
        for (lo, hi) in bounds {
            for x in PAIR_POINTS {
                check_values("clamp", &[x, lo, hi]);
                check_against_rule("clamp", &[x, lo, hi], &[false; 3]);
            }
        }
    }

    /// `sin_cos`: the tangents of both results against the rule with one result adjoint at a
    /// time and both together.
    #[test]
    fn sin_cos_forward_matches_rule() {
        for x in POINTS {
            check_values("sin_cos", &[x]);
            let out = forward("sin_cos", &[Dual { v: x, d: 1.0 }]);
            let (s, c) = (out[0].v, out[1].v);
            let ds = rule("sin_cos", &[x, s, c, 1.0, 0.0]);
            let dc = rule("sin_cos", &[x, s, c, 0.0, 1.0]);
            let both = rule("sin_cos", &[x, s, c, 2.0, -3.0]);
            assert!(
                agree(out[0].d, ds[0]),
                "sin_cos({x}), sin: {} vs {ds:?}",
                out[0].d
            );
            assert!(
                agree(out[1].d, dc[0]),
                "sin_cos({x}), cos: {} vs {dc:?}",
                out[1].d
            );
            let combined = 2.0 * out[0].d - 3.0 * out[1].d;
            assert!(
                agree(combined, both[0]),
                "sin_cos({x}): {combined} vs {both:?}"
            );
        }
    }

    /// Piecewise-constant primitives: bitwise values and tangent exactly 0 everywhere, also at
    /// jumps and with NaN tangents (docs/semantics.md).
    #[test]
    fn piecewise_constant_primitives_have_zero_tangent() {
        for name in table(Derivative::Zero, 1) {
            for x in POINTS.into_iter().chain([0.5, 1.5, -0.5, 2.0]) {
                check_values(name, &[x]);
                for d in [1.0, -3.0, NAN, INF] {
                    assert_eq!(forward(name, &[Dual { v: x, d }])[0].d, 0.0, "{name}({x})");
                }
            }
        }
    }

    /// The table of docs/semantics.md, "Conventions at kinks and singular points", checked on
    /// the forward tangents directly (the agreement tests then carry them over to the rules).
    #[test]
    fn forward_follows_documented_conventions() {
        let unit = |name: &str, x: f64| forward(name, &[Dual { v: x, d: 1.0 }])[0].d;
        let partials = |name: &str, values: &[f64]| -> Vec<f64> {
            (0..values.len())
                .map(|i| forward(name, &seeded(values, i, 1.0))[0].d)
                .collect()
        };
        assert_eq!(unit("abs", 0.0), 0.0);
        assert_eq!(unit("abs", -0.0), 0.0);
        assert_eq!(unit("abs", -2.0), -1.0);
        // copysign(x, s) = |x| sign(s): 0 at x = ±0 as abs, ±1 elsewhere by the sign bits
        // (-0.0 and a NaN with its sign bit set are negative), 0 in s everywhere.
        for s in [1.0, -1.0, 0.0, -0.0, NAN, -NAN] {
            assert_eq!(
                partials("copysign", &[0.0, s]),
                [0.0, 0.0],
                "copysign(0, {s})"
            );
            assert_eq!(
                partials("copysign", &[-0.0, s]),
                [0.0, 0.0],
                "copysign(-0, {s})"
            );
        }
        assert_eq!(partials("copysign", &[2.0, -0.0]), [-1.0, 0.0]);
        assert_eq!(partials("copysign", &[-2.0, -0.0]), [1.0, 0.0]);
        assert_eq!(partials("copysign", &[-2.0, 0.0]), [-1.0, 0.0]);
        assert_eq!(partials("copysign", &[2.0, -NAN]), [-1.0, 0.0]);
        assert_eq!(partials("copysign", &[-INF, 3.0]), [-1.0, 0.0]);
        assert!(partials("copysign", &[NAN, 3.0])[0].is_nan());
        let d = forward(
            "copysign",
            &[Dual { v: 2.0, d: 0.0 }, Dual { v: -1.0, d: NAN }],
        );
        assert_eq!(d[0].d, 0.0, "a NaN tangent of the sign is cut");
        assert_eq!(partials("max", &[2.0, 2.0]), [0.5, 0.5]);
        assert_eq!(partials("min", &[0.0, -0.0]), [0.5, 0.5]);
        assert_eq!(forward("max", &[Dual { v: 1.0, d: 1.0 }; 2])[0].d, 1.0);
        assert_eq!(partials("max", &[NAN, 2.0]), [0.0, 1.0]);
        assert_eq!(partials("min", &[2.0, NAN]), [1.0, 0.0]);
        assert!(partials("max", &[NAN, NAN]).iter().all(|d| d.is_nan()));
        assert_eq!(partials("clamp", &[0.0, 0.0, 1.0]), [1.0, 0.0, 0.0]);
        assert_eq!(partials("clamp", &[1.0, 0.0, 1.0]), [1.0, 0.0, 0.0]);
        assert_eq!(partials("clamp", &[-1.0, 0.0, 1.0]), [0.0, 1.0, 0.0]);
        assert_eq!(partials("clamp", &[2.0, 0.0, 1.0]), [0.0, 0.0, 1.0]);
        assert_eq!(unit("sqrt", 0.0), 0.0);
        assert_eq!(unit("cbrt", -0.0), 0.0);
        assert_eq!(partials("hypot", &[0.0, 0.0]), [0.0, 0.0]);
        assert_eq!(partials("atan2", &[0.0, -0.0]), [0.0, 0.0]);
        assert_eq!(partials("powf", &[0.0, 2.0]), [0.0, 0.0]);
        assert_eq!(partials("powf", &[0.0, 1.0]), [1.0, 0.0]);
        assert_eq!(partials("powf", &[0.0, 0.0])[0], 0.0);
        assert_eq!(partials("powf", &[3.0, 0.0])[0], 0.0);
        assert_eq!(partials("powi", &[0.0, 0.0])[0], 0.0);
        assert_eq!(unit("fract", 2.0), 1.0);
        assert_eq!(unit("fract", -0.5), 1.0);
        // The conventions hold whatever the incoming tangent, as the rules ignore dy there.
        assert_eq!(forward("sqrt", &[Dual { v: 0.0, d: NAN }])[0].d, 0.0);
        assert_eq!(forward("abs", &[Dual { v: 0.0, d: INF }])[0].d, 0.0);
        // No value, no derivative.
        for (name, x) in [
            ("ln", -1.0),
            ("log2", -1.0),
            ("log10", -1.0),
            ("ln_1p", -2.0),
            ("atanh", 2.0),
            ("sqrt", -1.0),
            ("asin", 2.0),
            ("acosh", 0.5),
        ] {
            assert!(unit(name, x).is_nan(), "{name}({x})");
        }
        assert!(partials("log", &[-2.0, 3.0])[0].is_nan());
        // Domain edges give the IEEE derivative.
        assert_eq!(unit("asin", 1.0), INF);
        assert_eq!(unit("ln", 0.0), INF);
        // A constant operand with an undefined partial does not poison the tangent.
        let d = forward("log", &[Dual { v: 2.0, d: 1.0 }, Dual { v: -3.0, d: 0.0 }]);
        assert!(
            d[0].v.is_nan() && d[0].d.is_nan(),
            "x's partial is NaN: no value"
        );
        let d = forward("mul", &[Dual { v: 2.0, d: 1.0 }, Dual { v: INF, d: 0.0 }]);
        assert_eq!(d[0].d, INF);
        let d = forward("mul", &[Dual { v: INF, d: 0.0 }, Dual { v: 2.0, d: 1.0 }]);
        assert_eq!(d[0].d, INF);
        let d = forward("max", &[Dual { v: 1.0, d: 1.0 }, Dual { v: 5.0, d: 0.0 }]);
        assert_eq!(d[0].d, 0.0);
    }

    /// acosh below -1, where the value is NaN: the forward tangent is NaN, as the docs require
    /// outside a domain; the rule returns 1/√(x² - 1) there (reported, not asserted, so that
    /// fixing the rule does not break this test).
    #[test]
    fn acosh_has_no_derivative_below_minus_one() {
        for x in [-1.0, -2.0, -1e300, -INF] {
            let out = forward("acosh", &[Dual { v: x, d: 1.0 }]);
            assert!(out[0].v.is_nan() && out[0].d.is_nan(), "acosh({x})");
        }
    }

    /// Where the forward forms were chosen for accuracy, they are accurate: each against a
    /// closed form evaluated independently at a point where the naive formula loses digits.
    #[test]
    fn forward_is_accurate_where_naive_formulas_cancel() {
        let unit = |name: &str, x: f64| forward(name, &[Dual { v: x, d: 1.0 }])[0].d;
        let rel = |a: f64, b: f64| (a - b).abs() / b.abs();
        // exp_m1'(-30) = e⁻³⁰; (y + 1) keeps about 3 digits of it.
        assert!(rel(unit("exp_m1", -30.0), (-30.0f64).exp()) < 1e-15);
        // tanh'(10) = 4 / (e¹⁰ + e⁻¹⁰)².
        let e = 10.0f64.exp();
        assert!(rel(unit("tanh", 10.0), 4.0 / ((e + 1.0 / e) * (e + 1.0 / e))) < 1e-14);
        // asin'(1 - 2⁻³⁰) = 1/√(2⁻³⁰ (2 - 2⁻³⁰)).
        let h = 2f64.powi(-30);
        assert!(rel(unit("asin", 1.0 - h), 1.0 / (h * (2.0 - h)).sqrt()) < 1e-15);
        // acosh'(1 + 2⁻³⁰) = 1/√(2⁻³⁰ (2 + 2⁻³⁰)).
        assert!(rel(unit("acosh", 1.0 + h), 1.0 / (h * (2.0 + h)).sqrt()) < 1e-15);
        // atan2 at a tiny point, where a² + b² underflows: ∂a = b / (a² + b²) = 1 / (2a).
        let t = 1e-200;
        assert!(rel(forward("atan2", &seeded(&[t, t], 0, 1.0))[0].d, 0.5 / t) < 1e-15);
        // hypot at the smallest subnormal: ∂a = a / y = 1.
        let s = f64::from_bits(1);
        assert_eq!(forward("hypot", &seeded(&[s, 0.0], 0, 1.0))[0].d, 1.0);
    }

    /// Each function covers exactly its part of the table in `prims.rs`: a primitive added
    /// there fails here until the interpreter knows it.
    #[test]
    fn every_primitive_of_the_table_is_covered() {
        for prim in PRIMS {
            if prim.syntax == Syntax::Function {
                // Covered by the linalg test below, which lists every name.
                assert!(LINALG_NAMES.contains(&prim.name), "linalg {}", prim.name);
                continue;
            }
            if NOT_FLOAT.contains(&prim.name) {
                if !matches!(prim.name, "classify" | "to_bits") {
                    // Panics if `query` does not know the name.
                    let _covered = query(prim.name, 0.5);
                }
                continue;
            }
            // 0.5 for floats, 2 for integers: inside every domain and clamp's lo ≤ hi.
            let operands: Vec<f64> = prim
                .operands
                .iter()
                .map(|o| if *o == Operand::Other { 2.0 } else { 0.5 })
                .collect();
            let results = primal(prim.name, &operands);
            assert_eq!(results.len(), prim.results, "{}", prim.name);
            let duals = forward(prim.name, &seeded(&operands, 0, 1.0));
            assert_eq!(duals.len(), prim.results, "{}", prim.name);
            if prim.derivative == Derivative::Rule {
                let mut args = operands.clone();
                args.extend(&results);
                args.extend(vec![1.0; prim.results]);
                let floats = prim.operands.iter().filter(|o| **o == Operand::Float);
                assert_eq!(
                    rule(prim.name, &args).len(),
                    floats.count(),
                    "{}",
                    prim.name
                );
            }
        }
    }

    /// The boolean queries are Rust's.
    #[test]
    fn queries() {
        assert!(query("is_nan", NAN) && !query("is_nan", INF));
        assert!(query("is_infinite", -INF) && !query("is_infinite", 1.0));
        assert!(query("is_finite", 1.0) && !query("is_finite", NAN));
        assert!(query("is_normal", 1.0) && !query("is_normal", 5e-324));
        assert!(query("is_sign_positive", 0.0) && !query("is_sign_positive", -0.0));
        assert!(query("is_sign_negative", -0.0) && !query("is_sign_negative", 2.0));
    }

    /// `rule("cast", ..)` is the identity on the adjoint, as the forward tangent of the
    /// identity cast.
    #[test]
    fn cast_rule_is_the_identity() {
        assert_eq!(rule("cast", &[1.5, 1.5, -2.0]), [-2.0]);
        assert_eq!(
            forward("cast", &[Dual { v: 1.5, d: -2.0 }]),
            [Dual { v: 1.5, d: -2.0 }]
        );
    }

    /// The names of every `linalg` case below.
    const LINALG_NAMES: [&str; 8] = [
        "dot",
        "sum",
        "norm2",
        "logsumexp",
        "softmax",
        "matvec",
        "matmul",
        "axpy",
    ];

    /// The operands of `linalg::<name>` at a fixed, generic point (no ties, no zero vector).
    fn linalg_operands(name: &str) -> Vec<LinArg> {
        use LinArg::{F, I, Slice as S};
        let x = vec![0.4, -1.3, 0.9];
        let y = vec![1.1, 0.2, -0.6];
        let a: Vec<f64> = (0..6).map(|i| 0.3 * f64::from(i) - 0.7).collect();
        let b: Vec<f64> = (0..12).map(|i| (f64::from(i) * 0.37).sin()).collect();
        match name {
            "dot" => vec![S(x), S(y)],
            "sum" | "norm2" | "logsumexp" | "softmax" => vec![S(x)],
            "matvec" => vec![S(a), S(x), I(2), I(3)],
            "matmul" => vec![S(a), S(b), I(2), I(3), I(4)],
            "axpy" => vec![F(0.7), S(x), S(y)],
            _ => panic!("no linalg case `{name}`"),
        }
    }

    /// The float parameters of `operands`, flattened in order (`F` and `Slice`).
    fn flatten(operands: &[LinArg]) -> Vec<f64> {
        let mut flat = Vec::new();
        for arg in operands {
            match arg {
                LinArg::F(v) => flat.push(*v),
                LinArg::Slice(v) => flat.extend(v),
                LinArg::I(_) | LinArg::Mut(_) => {}
            }
        }
        flat
    }

    /// `operands` with their float parameters replaced by `flat` (the inverse of `flatten`).
    fn unflatten(operands: &[LinArg], flat: &[f64]) -> Vec<LinArg> {
        let mut rest = flat;
        operands
            .iter()
            .map(|arg| match arg {
                LinArg::F(_) => {
                    let v = rest[0];
                    rest = &rest[1..];
                    LinArg::F(v)
                }
                LinArg::Slice(v) => {
                    let (now, later) = rest.split_at(v.len());
                    rest = later;
                    LinArg::Slice(now.to_vec())
                }
                other => other.clone(),
            })
            .collect()
    }

    /// Weights that turn a vector result into the scalar `⟨w, out⟩`: its gradient is the
    /// vector-Jacobian product with `w`, which the rule computes with result adjoint `w`.
    fn weights(len: usize) -> Vec<f64> {
        (0..len)
            .map(|i| if i % 2 == 0 { 0.3 } else { -0.8 } + 0.1 * i as f64)
            .collect()
    }

    /// The scalar `⟨w, out⟩` (or the scalar result itself).
    fn scalarize(out: &LinOut) -> f64 {
        match out {
            LinOut::F(v) => *v,
            LinOut::Vec(v) => v.iter().zip(weights(v.len())).map(|(a, w)| a * w).sum(),
        }
    }

    /// Every linalg rule against central differences of `linalg_primal`: the rule is called
    /// with the operands, the result, the result adjoint (1 or the weights) and one buffer per
    /// container operand, pre-filled to check that the rule adds into it rather than
    /// overwriting it; `axpy`'s returned `dα` is checked too.
    #[test]
    fn linalg_rules_match_central_differences() {
        const FILL: f64 = 0.25;
        for name in LINALG_NAMES {
            let operands = linalg_operands(name);
            let out = linalg_primal(name, &operands);
            let mut args = operands.clone();
            match &out {
                LinOut::F(v) => args.extend([LinArg::F(*v), LinArg::F(1.0)]),
                LinOut::Vec(v) => {
                    args.extend([LinArg::Slice(v.clone()), LinArg::Slice(weights(v.len()))]);
                }
            }
            let first_buffer = args.len();
            for arg in &operands {
                if let LinArg::Slice(v) = arg {
                    args.push(LinArg::Mut(vec![FILL; v.len()]));
                }
            }
            let returned = linalg_rule(name, &mut args);
            // Reassemble the gradient in the order of `flatten`.
            let mut analytic = Vec::new();
            let (mut floats, mut buffers) = (returned.iter(), args[first_buffer..].iter());
            for arg in &operands {
                match arg {
                    LinArg::F(_) => analytic.push(*floats.next().expect("an adjoint per float")),
                    LinArg::Slice(_) => match buffers.next() {
                        Some(LinArg::Mut(buffer)) => {
                            analytic.extend(buffer.iter().map(|d| d - FILL))
                        }
                        other => panic!("{name}: expected a buffer, found {other:?}"),
                    },
                    LinArg::I(_) | LinArg::Mut(_) => {}
                }
            }
            assert!(
                floats.next().is_none(),
                "{name}: more float adjoints than floats"
            );
            let f = |p: &[f64]| scalarize(&linalg_primal(name, &unflatten(&operands, p)));
            let numeric = central_differences(f, &flatten(&operands));
            assert_eq!(analytic.len(), numeric.len(), "{name}: gradient length");
            for (i, (a, n)) in analytic.iter().zip(&numeric).enumerate() {
                assert!(
                    (a - n).abs() < 1e-8 * (1.0 + n.abs()),
                    "{name}, parameter {i}: rule {a} vs central difference {n}"
                );
            }
        }
    }

    /// An empty buffer stands for an operand that is not differentiated, and the zero vector's
    /// norm has gradient 0 (the `sqrt` convention carried to `norm2`).
    #[test]
    fn linalg_rules_skip_empty_buffers_and_norm_at_zero() {
        use LinArg::{F, I, Mut as M, Slice as S};
        let (a, x) = (vec![1.0, 2.0, 3.0, 4.0], vec![0.5, -1.0]);
        let mut args = [
            S(a.clone()),
            S(x.clone()),
            I(2),
            I(2),
            S(vec![]),
            S(vec![1.0, 0.0]),
            M(vec![]),
            M(vec![0.0; 2]),
        ];
        assert!(linalg_rule("matvec", &mut args).is_empty());
        match &args[7] {
            M(dx) => assert_eq!(dx, &[1.0, 2.0]),
            other => panic!("dx moved: {other:?}"),
        }
        assert_eq!(
            linalg_primal("matvec", &[S(a), S(x), I(2), I(2)]),
            LinOut::Vec(vec![-1.5, -2.5])
        );
        let mut args = [S(vec![0.0, 0.0]), F(0.0), F(1.0), M(vec![0.0; 2])];
        linalg_rule("norm2", &mut args);
        match &args[3] {
            M(dx) => assert_eq!(dx, &[0.0, 0.0]),
            other => panic!("dx moved: {other:?}"),
        }
    }
}
