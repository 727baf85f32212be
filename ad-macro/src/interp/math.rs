//! The math of the IR interpreter: every scalar primitive of `prims.rs` evaluated in `f64`,
//! by the runtime's own functions.
//!
//! The differential tests run a program three ways: compiled by the macro, interpreted here
//! in forward mode, and interpreted here with the runtime's pullbacks. The runtime declares,
//! for each scalar primitive, its primal, its tangent rule (`rules::<name>_jvp`) and its
//! pullback (`rules::<name>`) as `f64` function pointers by name (its hidden registry,
//! `ad_runtime::__private::registry`); this file only looks names up there, so a primitive
//! added to the table and the runtime is interpreted with no change here. For the tests to
//! prove anything, the three are kept apart:
//!
//! - [`primal`] and [`query`]: the values, `num_traits::Float`'s methods (with `std`, Rust's
//!   own `f64` methods), bitwise what compiled code computes;
//! - [`forward`]: dual numbers, by the runtime's tangent rules, which are written from
//!   calculus and from the conventions of `docs/semantics.md`, *not* from the pullbacks, so
//!   that a wrong pullback shows up as a disagreement instead of being copied;
//! - [`rule`]: the pullbacks, with the argument lists generated code passes, so the
//!   interpreter's reverse sweep exercises the real rules.
//!
//! The `linalg` functions are not interpreted by programs (`eval.rs` reports them); the
//! runtime's registry declares them too (function, pullback, sample operands; no tangent
//! rules yet), and [`linalg_primal`] and [`linalg_rule`] look them up for the tests below.
//!
//! Unknown names and wrong operand counts panic with a message naming them: this is test
//! code, and a panic is the clearest report of an interpreter that reached a primitive it does
//! not know.

use ad_runtime::__private::registry::{self, Scalar};

/// The runtime's functions of the scalar primitive `name`.
///
/// # Panics
///
/// For a name the runtime does not declare.
fn scalar(name: &str) -> &'static Scalar {
    registry::scalar(name).unwrap_or_else(|| {
        panic!("interp::math: the runtime declares no scalar primitive `{name}`")
    })
}

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
    scalar(name).primal(args)
}

/// The boolean result of the query method `name` (`is_nan`, `is_infinite`, `is_finite`,
/// `is_normal`, `is_sign_positive`, `is_sign_negative`) at `x`; `None` for a name that is not
/// a boolean query.
///
/// `classify` and `to_bits` are queries too, but their results are neither floats nor
/// booleans, so an `f64` interpreter has no value to give them.
pub fn query(name: &str, x: f64) -> Option<bool> {
    registry::scalar(name)?.query(x)
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

/// The primitive `name` on dual numbers: values as [`primal`], tangents by the runtime's
/// tangent rule `rules::<name>_jvp` (zero for the piecewise-constant primitives).
///
/// The tangent rules follow the conventions of `docs/semantics.md` at kinks and singular
/// points, and use better-conditioned forms where a formula is known to lose precision
/// (`exp_m1`, `tanh`, `asin`, `acos`, `asinh`, `acosh`, `atanh`, `atan2`), so that a
/// pullback's rounding problem shows up as a disagreement rather than being reproduced.
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
    let prim = scalar(name);
    let values: Vec<f64> = args.iter().map(|a| a.v).collect();
    let results = prim.primal(&values);
    // The tangents of the float operands: all but `powi`'s integer exponent, the last.
    let dots: Vec<f64> = args
        .iter()
        .take(prim.float_operands())
        .map(|a| a.d)
        .collect();
    let tangents = prim.tangent(&values, &results, &dots);
    results
        .into_iter()
        .zip(tangents)
        .map(|(v, d)| Dual { v, d })
        .collect()
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
    scalar(name).pullback(args)
}

/// An argument of a `linalg` function or rule, as the interpreter holds it (the runtime's).
pub use ad_runtime::__private::registry::Arg as LinArg;

/// The result of a `linalg` function (the runtime's).
pub use ad_runtime::__private::registry::Out as LinOut;

/// The runtime's functions of the container primitive `name`.
///
/// # Panics
///
/// For a name the runtime does not declare.
fn container(name: &str) -> &'static registry::Container {
    registry::container(name).unwrap_or_else(|| {
        panic!("interp::math: the runtime declares no container primitive `{name}`")
    })
}

/// `ad_runtime::linalg::<name>` at `args`: containers as [`LinArg::Slice`], dimensions as
/// [`LinArg::I`], `axpy`'s `alpha` as [`LinArg::F`], in the function's parameter order.
///
/// Covers the `linalg` entries of `prims::PRIMS`, by the runtime's registry.
///
/// # Panics
///
/// For an unknown name or arguments of the wrong kinds, and where the runtime's function
/// panics (mismatched lengths).
pub fn linalg_primal(name: &str, args: &[LinArg]) -> LinOut {
    (container(name).primal)(args)
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
    (container(name).pullback)(args)
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

    /// The table's scalar float primitives with `derivative` (`Rule` or `Zero`: not queries)
    /// and one result, taking `arity` floats (the special functions included).
    fn table(derivative: Derivative, arity: usize) -> impl Iterator<Item = &'static str> {
        PRIMS
            .iter()
            .filter(move |p| {
                p.derivative == derivative
                    && !p.array_result
                    && p.results == 1
                    && p.operands.len() == arity
                    && p.operands.iter().all(|o| *o == Operand::Float)
            })
            .map(|p| p.name)
    }

    /// Unary primitives with a rule, and float casts.
    fn unary() -> impl Iterator<Item = &'static str> {
        table(Derivative::Rule, 1).chain(["cast"])
    }

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

    /// The macro's table and the runtime's registry declare the same scalar primitives with
    /// the same shapes: a row added to one fails here until the other has it.
    #[test]
    fn the_table_and_the_runtime_registry_agree() {
        use ad_runtime::__private::registry::{CONTAINERS, SCALARS, SPECIAL};
        for prim in PRIMS {
            // The interpreter has no nalgebra or ndarray containers: the end-to-end tests
            // (tests/libraries.rs) check their products.
            if prim.syntax == Syntax::Library {
                continue;
            }
            if prim.syntax == Syntax::Function("linalg") {
                // A container primitive: the registry's other table.
                let c = registry::container(prim.name)
                    .unwrap_or_else(|| panic!("`{}` is not in the runtime's registry", prim.name));
                assert_eq!((c.sample)().len(), prim.operands.len(), "{}", prim.name);
                continue;
            }
            if matches!(
                prim.name,
                "classify" | "to_bits" | "partial_cmp" | "total_cmp"
            ) {
                // Neither a float nor a boolean: nothing for an f64 interpreter to compute.
                continue;
            }
            let scalar = registry::scalar(prim.name)
                .unwrap_or_else(|| panic!("`{}` is not in the runtime's registry", prim.name));
            assert_eq!(scalar.operands(), prim.operands.len(), "{}", prim.name);
            let floats = prim.operands.iter().filter(|o| **o == Operand::Float);
            assert_eq!(scalar.float_operands(), floats.count(), "{}", prim.name);
            assert_eq!(scalar.results(), prim.results, "{}", prim.name);
            assert_eq!(
                scalar.differentiable(),
                prim.derivative == Derivative::Rule,
                "{}",
                prim.name
            );
            assert_eq!(
                scalar.query(0.5).is_some(),
                prim.derivative == Derivative::Query,
                "{}",
                prim.name
            );
        }
        for scalar in SCALARS.iter().chain(SPECIAL) {
            assert!(
                scalar.name == "cast" || PRIMS.iter().any(|p| p.name == scalar.name),
                "the runtime's `{}` is not in prims.rs",
                scalar.name
            );
        }
        for container in CONTAINERS {
            assert!(
                linalg_names().any(|name| name == container.name),
                "the runtime's `{}` is not a linalg function in prims.rs",
                container.name
            );
        }
    }

    /// Each function covers its part of the table: every scalar primitive runs through
    /// `primal`, `forward` and `rule` with the right numbers of values.
    #[test]
    fn every_primitive_of_the_table_is_covered() {
        for prim in PRIMS {
            if matches!(prim.syntax, Syntax::Function("linalg") | Syntax::Library)
                || prim.derivative == Derivative::Bits
            {
                continue;
            }
            if prim.derivative == Derivative::Query {
                if !matches!(prim.name, "classify" | "partial_cmp" | "total_cmp") {
                    assert!(query(prim.name, 0.5).is_some(), "{}", prim.name);
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

    /// The boolean queries are Rust's; other names are not queries.
    #[test]
    fn queries() {
        let q = |name: &str, x: f64| query(name, x).expect("a query");
        assert!(q("is_nan", NAN) && !q("is_nan", INF));
        assert!(q("is_infinite", -INF) && !q("is_infinite", 1.0));
        assert!(q("is_finite", 1.0) && !q("is_finite", NAN));
        assert!(q("is_normal", 1.0) && !q("is_normal", 5e-324));
        assert!(q("is_sign_positive", 0.0) && !q("is_sign_positive", -0.0));
        assert!(q("is_sign_negative", -0.0) && !q("is_sign_negative", 2.0));
        assert_eq!(query("sin", 1.0), None);
        assert_eq!(query("no_such_name", 1.0), None);
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

    /// The names of the table's `linalg` functions.
    fn linalg_names() -> impl Iterator<Item = &'static str> {
        PRIMS
            .iter()
            .filter(|p| p.syntax == Syntax::Function("linalg"))
            .map(|p| p.name)
    }

    /// The operands of `linalg::<name>` at the runtime's fixed, generic point (no ties, no
    /// zero vector).
    fn linalg_operands(name: &str) -> Vec<LinArg> {
        (container(name).sample)()
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
        for name in linalg_names() {
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
