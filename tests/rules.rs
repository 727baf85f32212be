//! Every differentiable `Float` method through `#[reverse]`, in method form and in each path
//! form, against its closed-form derivative and central differences, in f64, f32 and a
//! generic instantiation; and every scalar primitive of the table's tangent rule
//! (`rules::<name>_jvp`), against central differences and against its pullback (module
//! `tangents`, at the end).

mod common;

/// The macro's table of primitives (free of dependencies): which primitives exist, their
/// operands and where they are smooth.
#[path = "../ad-macro/src/prims.rs"]
#[allow(dead_code, reason = "the tests read the names, operands and domains")]
mod prims;

use ad_runtime::{Float, reverse};
use common::{check1, check1_f32, check2};

/// One module per unary method: five spellings of `x.m()`, each checked at `$points`.
macro_rules! unary {
    ($m:ident, $closed:expr, $points:expr, $points32:expr) => {
        mod $m {
            use super::*;

            #[reverse]
            fn method(x: f64) -> f64 {
                x.$m()
            }
            #[reverse]
            fn inherent_path(x: f64) -> f64 {
                f64::$m(x)
            }
            #[reverse]
            fn trait_path(x: f64) -> f64 {
                Float::$m(x)
            }
            #[reverse]
            fn generic_path<T: Float>(x: T) -> T {
                T::$m(x)
            }
            #[reverse]
            fn qualified_path<T>(x: T) -> T
            where
                T: ad_runtime::Float,
            {
                <T as Float>::$m(x)
            }
            #[reverse]
            fn single(x: f32) -> f32 {
                x.$m()
            }

            #[test]
            fn all_forms() {
                let closed: fn(f64) -> f64 = $closed;
                let name = stringify!($m);
                check1(name, method, method_grad, closed, $points);
                check1(name, inherent_path, inherent_path_grad, closed, $points);
                check1(name, trait_path, trait_path_grad, closed, $points);
                check1(
                    name,
                    generic_path::<f64>,
                    generic_path_grad::<f64>,
                    closed,
                    $points,
                );
                check1(
                    name,
                    qualified_path::<f64>,
                    qualified_path_grad::<f64>,
                    closed,
                    $points,
                );
                check1_f32(name, single, single_grad, closed, $points32);
                check1_f32(
                    name,
                    generic_path::<f32>,
                    generic_path_grad::<f32>,
                    closed,
                    $points32,
                );
            }
        }
    };
}

const ALL: &[f64] = &[-3.7, -1.0, -0.25, 0.0, 0.4, 1.0, 2.9];
const ALL32: &[f32] = &[-2.5, -0.25, 0.0, 0.4, 1.5];
const POS: &[f64] = &[1e-3, 0.3, 1.0, 2.5, 1e3];
const POS32: &[f32] = &[0.05, 0.3, 1.0, 2.5];
const UNIT: &[f64] = &[-0.9, -0.3, 0.0, 0.45, 0.8];
const UNIT32: &[f32] = &[-0.7, 0.0, 0.45];
const ABOVE1: &[f64] = &[1.01, 1.5, 3.0, 40.0];
const ABOVE1_32: &[f32] = &[1.2, 3.0];
const NONZERO: &[f64] = &[-3.7, -0.25, 0.4, 2.9];
const NONZERO32: &[f32] = &[-2.5, 0.4, 1.5];
const TRIG: &[f64] = &[-1.3, -0.4, 0.0, 0.7, 1.2];
const TRIG32: &[f32] = &[-1.0, 0.0, 0.7];
const SMALL: &[f64] = &[-2.0, -0.5, 0.0, 0.5, 2.0];
const SMALL32: &[f32] = &[-2.0, 0.0, 0.5];

unary!(sin, |x| x.cos(), ALL, ALL32);
unary!(cos, |x| -x.sin(), ALL, ALL32);
unary!(tan, |x| 1.0 / x.cos().powi(2), TRIG, TRIG32);
unary!(asin, |x| 1.0 / (1.0 - x * x).sqrt(), UNIT, UNIT32);
unary!(acos, |x| -1.0 / (1.0 - x * x).sqrt(), UNIT, UNIT32);
unary!(atan, |x| 1.0 / (1.0 + x * x), ALL, ALL32);
unary!(sinh, |x| x.cosh(), SMALL, SMALL32);
unary!(cosh, |x| x.sinh(), SMALL, SMALL32);
unary!(tanh, |x| 1.0 / x.cosh().powi(2), SMALL, SMALL32);
unary!(asinh, |x| 1.0 / (x * x + 1.0).sqrt(), ALL, ALL32);
unary!(acosh, |x| 1.0 / (x * x - 1.0).sqrt(), ABOVE1, ABOVE1_32);
unary!(atanh, |x| 1.0 / (1.0 - x * x), UNIT, UNIT32);
unary!(exp, |x| x.exp(), SMALL, SMALL32);
unary!(exp2, |x| x.exp2() * std::f64::consts::LN_2, SMALL, SMALL32);
unary!(exp_m1, |x| x.exp(), SMALL, SMALL32);
unary!(ln, |x| 1.0 / x, POS, POS32);
unary!(log10, |x| 1.0 / (x * std::f64::consts::LN_10), POS, POS32);
unary!(log2, |x| 1.0 / (x * std::f64::consts::LN_2), POS, POS32);
unary!(
    ln_1p,
    |x| 1.0 / (1.0 + x),
    &[-0.5, 0.0, 0.3, 4.0],
    &[-0.5, 0.0, 0.3]
);
unary!(sqrt, |x| 0.5 / x.sqrt(), POS, POS32);
unary!(cbrt, |x| 1.0 / (3.0 * x.cbrt().powi(2)), NONZERO, NONZERO32);
unary!(abs, |x| x.signum(), NONZERO, NONZERO32);
unary!(recip, |x| -1.0 / (x * x), NONZERO, NONZERO32);
unary!(fract, |_| 1.0, &[-2.3, -0.4, 0.4, 2.7], &[-2.3, 0.4, 2.7]);
unary!(to_degrees, |_| 180.0 / std::f64::consts::PI, ALL, ALL32);
unary!(to_radians, |_| std::f64::consts::PI / 180.0, ALL, ALL32);

/// The piecewise-constant methods have derivative zero wherever they are differentiable.
mod piecewise_constant {
    use super::*;

    #[reverse]
    fn all(x: f64) -> f64 {
        x.floor() + x.ceil() + x.round() + x.trunc() + x.signum()
    }
    #[reverse]
    fn path_forms<T: Float>(x: T) -> T {
        T::floor(x) * Float::ceil(x) + T::round(x)
    }

    #[test]
    fn zero_derivative_between_jumps() {
        check1(
            "floor+ceil+..",
            all,
            all_grad,
            |_| 0.0,
            &[-2.3, -0.4, 0.3, 1.7, 1e3 + 0.25],
        );
    }

    #[test]
    fn path_forms_are_constant_too() {
        for x in [-1.5f64, 0.25, 2.6] {
            let (v, d) = path_forms_grad(x);
            assert_eq!(v.to_bits(), path_forms(x).to_bits());
            assert_eq!(d, 0.0);
        }
    }
}

mod sin_cos {
    use super::*;

    #[reverse]
    fn both(x: f64) -> f64 {
        let (s, c) = x.sin_cos();
        3.0 * s + c * c
    }
    #[reverse]
    fn first_only<T: Float>(x: T) -> T {
        T::sin_cos(x).0
    }
    #[reverse]
    fn second_only(x: f64) -> f64 {
        f64::sin_cos(x).1
    }

    #[test]
    fn each_result_and_both() {
        let closed = |x: f64| 3.0 * x.cos() - 2.0 * x.cos() * x.sin();
        check1("sin_cos", both, both_grad, closed, ALL);
        check1(
            "sin_cos.0",
            first_only::<f64>,
            first_only_grad::<f64>,
            f64::cos,
            ALL,
        );
        check1(
            "sin_cos.1",
            second_only,
            second_only_grad,
            |x| -x.sin(),
            ALL,
        );
    }
}

mod powi {
    use super::*;

    #[reverse]
    fn cube(x: f64) -> f64 {
        x.powi(3)
    }
    #[reverse]
    fn power(x: f64, n: i32) -> f64 {
        f64::powi(x, n)
    }
    #[reverse]
    fn generic<T: Float>(x: T, n: i32) -> T {
        T::powi(x, n)
    }

    #[test]
    fn integer_exponents() {
        check1("powi3", cube, cube_grad, |x| 3.0 * x * x, ALL);
        for n in [-3, -1, 0, 1, 2, 7] {
            let closed = |x: f64| {
                if n == 0 {
                    0.0
                } else {
                    f64::from(n) * x.powi(n - 1)
                }
            };
            let points: &[f64] = if n < 0 { NONZERO } else { ALL };
            check1(
                "powi",
                |x| power(x, n),
                |x| power_grad(x, n),
                closed,
                points,
            );
            check1(
                "powi<T>",
                |x| generic(x, n),
                |x| generic_grad(x, n),
                closed,
                points,
            );
        }
    }
}

mod binary {
    use super::*;

    #[reverse]
    fn powf(x: f64, p: f64) -> f64 {
        x.powf(p)
    }
    #[reverse]
    fn powf_self(x: f64) -> f64 {
        x.powf(x)
    }
    #[reverse]
    fn atan2(y: f64, x: f64) -> f64 {
        f64::atan2(y, x)
    }
    #[reverse]
    fn hypot<T: Float>(x: T, y: T) -> T {
        x.hypot(y)
    }
    #[reverse]
    fn log(x: f64, b: f64) -> f64 {
        Float::log(x, b)
    }
    #[reverse]
    fn max(x: f64, y: f64) -> f64 {
        x.max(y)
    }
    #[reverse]
    fn min(x: f64, y: f64) -> f64 {
        f64::min(x, y)
    }
    #[reverse]
    fn rem(x: f64, y: f64) -> f64 {
        x % y
    }

    const PAIRS: &[(f64, f64)] = &[(0.3, 1.7), (2.5, -0.4), (1.2, 0.0), (4.0, 2.0), (0.9, 0.9)];

    #[test]
    fn powf_both_operands() {
        let points = [(0.3, 1.7), (2.5, -0.4), (1.2, 0.0), (4.0, 2.0), (0.5, 3.0)];
        check2(
            "powf",
            powf,
            powf_grad,
            |x, p| (p * x.powf(p - 1.0), x.powf(p) * x.ln()),
            &points,
        );
        let closed = |x: f64| x.powf(x) * (x.ln() + 1.0);
        check1(
            "x^x",
            powf_self,
            powf_self_grad,
            closed,
            &[1e-3, 0.3, 1.0, 2.5, 30.0],
        );
    }

    #[test]
    fn atan2_hypot_log() {
        let r2 = |y: f64, x: f64| x * x + y * y;
        check2(
            "atan2",
            atan2,
            atan2_grad,
            |y, x| (x / r2(y, x), -y / r2(y, x)),
            PAIRS,
        );
        let points = [(0.3, 1.7), (-2.5, -0.4), (1.2, 0.0), (4.0, 2.0)];
        let h = |x: f64, y: f64| x.hypot(y);
        check2(
            "hypot",
            hypot::<f64>,
            hypot_grad::<f64>,
            |x, y| (x / h(x, y), y / h(x, y)),
            &points,
        );
        let points = [(0.3, 1.7), (2.5, 10.0), (7.0, 0.5)];
        let closed = |x: f64, b: f64| (1.0 / (x * b.ln()), -x.ln() / (b * b.ln().powi(2)));
        check2("log", log, log_grad, closed, &points);
    }

    #[test]
    fn max_min_away_from_ties() {
        let points = [(0.3, 1.7), (2.5, -0.4), (-1.0, -3.0)];
        check2(
            "max",
            max,
            max_grad,
            |x, y| if x > y { (1.0, 0.0) } else { (0.0, 1.0) },
            &points,
        );
        check2(
            "min",
            min,
            min_grad,
            |x, y| if x < y { (1.0, 0.0) } else { (0.0, 1.0) },
            &points,
        );
    }

    #[test]
    fn remainder() {
        let points = [(5.3, 1.7), (-2.5, 0.4), (7.0, -2.5)];
        check2(
            "rem",
            rem,
            rem_grad,
            |x, y| (1.0, -(x / y).trunc()),
            &points,
        );
    }
}

/// `x.copysign(s) = |x| sign(s)`, `sign(s)` from the sign bit of `s` (so `-0.0` and a NaN
/// with the bit set are negative): `∂x = signum(x) sign(s)`, `∂s = 0`.
mod copysign {
    use super::*;

    #[reverse]
    fn method(x: f64, s: f64) -> f64 {
        x.copysign(s)
    }
    #[reverse]
    fn inherent_path(x: f64, s: f64) -> f64 {
        f64::copysign(x, s)
    }
    #[reverse]
    fn trait_path(x: f64, s: f64) -> f64 {
        Float::copysign(x, s)
    }
    #[reverse]
    fn generic_path<T: Float>(x: T, s: T) -> T {
        T::copysign(x, s)
    }
    #[reverse]
    fn qualified_path<T>(x: T, s: T) -> T
    where
        T: ad_runtime::Float,
    {
        <T as Float>::copysign(x, s)
    }
    #[reverse]
    fn single(x: f32, s: f32) -> f32 {
        x.copysign(s)
    }
    /// The sign computed from the input: its adjoint must be 0 and nothing flows into `x`
    /// through it.
    #[reverse]
    fn sign_from_input(x: f64) -> f64 {
        (2.0 * x).copysign(x - 1.0) + x * x
    }

    /// `∂x`, written from `|x| sign(s)`: the sign bit of `s` as ±1.
    fn closed(x: f64, s: f64) -> (f64, f64) {
        let sign = if s.is_sign_negative() { -1.0 } else { 1.0 };
        (x.signum() * sign, 0.0)
    }

    type Value = fn(f64, f64) -> f64;
    type Grad = fn(f64, f64) -> (f64, (f64, f64));
    /// Each spelling: its name, the original and its `_grad`.
    type Form = (&'static str, Value, Grad);
    const FORMS: [Form; 5] = [
        ("method", method, method_grad),
        ("inherent_path", inherent_path, inherent_path_grad),
        ("trait_path", trait_path, trait_path_grad),
        (
            "generic_path",
            generic_path::<f64>,
            generic_path_grad::<f64>,
        ),
        (
            "qualified_path",
            qualified_path::<f64>,
            qualified_path_grad::<f64>,
        ),
    ];

    /// Negative and positive `x` and `s`, away from `x = 0` (the kink) and `s = 0` (the jump),
    /// so that central differences are valid in both operands.
    const PAIRS: &[(f64, f64)] = &[
        (2.9, 1.7),
        (2.9, -0.4),
        (-3.7, 1.7),
        (-0.25, -2.5),
        (0.4, -1e3),
        (-1e3, 0.3),
    ];

    #[test]
    fn all_forms_away_from_zero() {
        for (name, f, grad) in FORMS {
            check2(name, f, grad, closed, PAIRS);
        }
    }

    /// `s = ±0` and NaN signs: the value bitwise, `∂x` by the sign bit, `∂s` exactly 0, and
    /// central differences in `x` only (in `s` the function jumps at 0, and a NaN has no
    /// neighbourhood).
    #[test]
    fn signed_zero_and_nan_signs() {
        let nan_neg = -f64::NAN;
        assert!(nan_neg.is_sign_negative());
        for s in [-0.0, 0.0, f64::NAN, nan_neg] {
            for (name, f, grad) in FORMS {
                for x in [-3.7, -0.25, 0.4, 2.9] {
                    let (value, (_, ds)) = grad(x, s);
                    assert_eq!(value.to_bits(), f(x, s).to_bits(), "{name}({x}, {s})");
                    assert_eq!(ds.to_bits(), 0f64.to_bits(), "{name}({x}, {s}): ds");
                }
                check1(
                    name,
                    |x| f(x, s),
                    |x| {
                        let (value, (dx, _)) = grad(x, s);
                        (value, dx)
                    },
                    |x| closed(x, s).0,
                    &[-3.7, -0.25, 0.4, 2.9],
                );
            }
        }
        // -0.0 is negative: copysign(2, -0.0) = -2, slope -1.
        assert_eq!(method_grad(2.0, -0.0), (-2.0, (-1.0, 0.0)));
        assert_eq!(method_grad(-2.0, -0.0), (-2.0, (1.0, 0.0)));
        assert_eq!(method_grad(-2.0, 0.0), (2.0, (-1.0, 0.0)));
    }

    #[test]
    fn f32_and_generic_f32() {
        let points: [(f32, f32); 5] = [
            (2.5, 1.5),
            (2.5, -0.4),
            (-0.25, 0.4),
            (-2.5, -1.5),
            (0.4, -0.0),
        ];
        for (x, s) in points {
            let want = closed(f64::from(x), f64::from(s)).0;
            for (value, (dx, ds)) in [single_grad(x, s), generic_path_grad::<f32>(x, s)] {
                assert_eq!(
                    value.to_bits(),
                    x.copysign(s).to_bits(),
                    "copysign({x}, {s})"
                );
                assert_eq!((f64::from(dx), ds), (want, 0.0), "copysign({x}, {s})");
            }
            let report =
                ad_runtime::check::gradient(|p| single(p[0], s), &[x], &[single_grad(x, s).1.0]);
            assert!(
                report.is_within(5e-3),
                "copysign({x}, {s}) in f32:\n{report}"
            );
        }
    }

    #[test]
    fn sign_computed_from_the_input() {
        // f(x) = |2x| sign(x - 1) + x²: f'(x) = 2 signum(x) sign(x - 1) + 2x, the sign's own
        // derivative contributing nothing.
        let want = |x: f64| 2.0 * closed(x, x - 1.0).0 + 2.0 * x;
        check1(
            "sign_from_input",
            sign_from_input,
            sign_from_input_grad,
            want,
            &[-2.5, -0.3, 0.4, 1.6, 3.0],
        );
    }
}

mod ternary {
    use super::*;

    #[reverse]
    fn mul_add(a: f64, b: f64, c: f64) -> f64 {
        a.mul_add(b, c)
    }
    #[reverse]
    fn clamp(x: f64, lo: f64, hi: f64) -> f64 {
        x.clamp(lo, hi)
    }

    #[test]
    fn mul_add_is_fused_and_differentiated() {
        for (a, b, c) in [(2.0, 3.0, 4.0), (-0.5, 1e-3, 7.0), (0.0, 0.0, 0.0)] {
            let (v, (da, db, dc)) = mul_add_grad(a, b, c);
            assert_eq!(v.to_bits(), mul_add(a, b, c).to_bits());
            assert_eq!((da, db, dc), (b, a, 1.0));
            ad_runtime::check::gradient(|p| mul_add(p[0], p[1], p[2]), &[a, b, c], &[da, db, dc])
                .assert_within(1e-7);
        }
    }

    #[test]
    fn clamp_routes_the_adjoint_to_the_returned_operand() {
        assert_eq!(clamp_grad(0.5, 0.0, 1.0).1, (1.0, 0.0, 0.0));
        assert_eq!(clamp_grad(-2.0, 0.0, 1.0).1, (0.0, 1.0, 0.0));
        assert_eq!(clamp_grad(3.0, 0.0, 1.0).1, (0.0, 0.0, 1.0));
        for (x, lo, hi) in [(0.5, 0.0, 1.0), (-2.0, 0.0, 1.0), (3.0, 0.0, 1.0)] {
            let (_, (dx, dlo, dhi)) = clamp_grad(x, lo, hi);
            ad_runtime::check::gradient(|p| clamp(p[0], p[1], p[2]), &[x, lo, hi], &[dx, dlo, dhi])
                .assert_within(1e-7);
        }
    }
}

/// The tangent rules of every scalar primitive of the table, through the runtime's registry
/// (`f64` functions by name, as the IR interpreter calls them): along each float operand,
/// against central differences of the primal; and against the pullback, `⟨ū, J v⟩` from the
/// tangent rule equal to `⟨Jᵀ ū, v⟩` from the pullback, for directions `v` and cotangents `ū`
/// of every sign. A primitive added to the table and the runtime is checked here with no
/// change to this file.
mod tangents {
    use super::prims::{Derivative, Domain, Operand, PRIMS, Prim};
    use ad_runtime::__private::registry::{self, Scalar};

    /// Points inside each domain, away from kinks (0), jumps (integers) and each other (so
    /// that `max`, `min` and `clamp` have no ties when operands are drawn from one list).
    fn points(domain: Domain) -> &'static [f64] {
        match domain {
            Domain::Real => &[-1.7, -0.45, 0.3, 1.15, 2.6],
            Domain::Small => &[-1.6, -0.45, 0.3, 1.15, 1.9],
            Domain::Unit => &[-0.85, -0.3, 0.2, 0.65],
            Domain::Positive => &[0.15, 0.7, 1.6, 3.3, 8.5],
            Domain::AboveMinusOne => &[-0.7, -0.2, 0.4, 2.5],
            Domain::AboveOne => &[1.2, 1.9, 3.5, 9.0],
        }
    }

    /// The table's scalar primitives with a rule, and the runtime's functions for each.
    fn scalars() -> Vec<(&'static Prim, &'static Scalar)> {
        let scalar = PRIMS.iter().filter(|p| {
            p.derivative == Derivative::Rule
                && !p.array_result
                && !p.operands.contains(&Operand::Array)
        });
        let found: Vec<_> = scalar
            .map(|p| {
                let s = registry::scalar(p.name)
                    .unwrap_or_else(|| panic!("`{}` is not in the runtime's registry", p.name));
                (p, s)
            })
            .collect();
        assert!(found.len() > 40, "the table has its scalar primitives");
        found
    }

    /// The operands at the `k`-th point: floats from the domain's list, shifted per operand so
    /// that no two are equal; integers (`powi`'s exponent) from a short list.
    fn operands(prim: &Prim, k: usize) -> Vec<f64> {
        let list = points(prim.domain);
        let mut values: Vec<f64> = (0..prim.operands.len())
            .map(|i| match prim.operands[i] {
                Operand::Other => [-2.0, 3.0, 1.0][k % 3],
                _ => list[(k + i) % list.len()],
            })
            .collect();
        if prim.name == "clamp" && values[1] > values[2] {
            // Rust's clamp panics unless lo ≤ hi.
            values.swap(1, 2);
        }
        values
    }

    /// The indices of the float operands.
    fn floats(prim: &Prim) -> Vec<usize> {
        (0..prim.operands.len())
            .filter(|&i| prim.operands[i] == Operand::Float)
            .collect()
    }

    #[test]
    fn tangents_match_central_differences() {
        for (prim, scalar) in scalars() {
            for k in 0..points(prim.domain).len() {
                let x = operands(prim, k);
                let results = scalar.primal(&x);
                let floats = floats(prim);
                for (r, _) in results.iter().enumerate() {
                    // The tangent of result `r` along each float operand.
                    let analytic: Vec<f64> = floats
                        .iter()
                        .map(|&i| {
                            let dots: Vec<f64> = floats
                                .iter()
                                .map(|&j| f64::from(u8::from(i == j)))
                                .collect();
                            scalar.tangent(&x, &results, &dots)[r]
                        })
                        .collect();
                    let at: Vec<f64> = floats.iter().map(|&i| x[i]).collect();
                    let f = |p: &[f64]| {
                        let mut y = x.clone();
                        for (&i, &v) in floats.iter().zip(p) {
                            y[i] = v;
                        }
                        scalar.primal(&y)[r]
                    };
                    let report = ad_runtime::check::gradient(f, &at, &analytic);
                    assert!(
                        report.is_within(1e-6),
                        "{}{x:?}, result {r}: tangent against central differences:\n{report}",
                        prim.name
                    );
                }
            }
        }
    }

    #[test]
    fn tangents_and_pullbacks_agree() {
        // Directions and cotangents of both signs and several sizes.
        let directions = [[1.0, -0.5, 2.0], [-1.5, 0.25, 0.75], [0.3, 2.0, -1.0]];
        let cotangents = [[1.0, 0.0], [-2.5, 1.0], [0.5, -0.75]];
        for (prim, scalar) in scalars() {
            for k in 0..points(prim.domain).len() {
                let x = operands(prim, k);
                let results = scalar.primal(&x);
                let n = scalar.float_operands();
                for v in &directions {
                    let v = &v[..n];
                    let jv = scalar.tangent(&x, &results, v);
                    for u in &cotangents {
                        let u = &u[..results.len()];
                        let mut args = x.clone();
                        args.extend(&results);
                        args.extend(u);
                        let jt_u = scalar.pullback(&args);
                        let forward: f64 = jv.iter().zip(u).map(|(a, b)| a * b).sum();
                        let reverse: f64 = jt_u.iter().zip(v).map(|(a, b)| a * b).sum();
                        let scale = 1.0 + forward.abs().max(reverse.abs());
                        assert!(
                            (forward - reverse).abs() <= 1e-12 * scale,
                            "{}{x:?}, v {v:?}, u {u:?}: <u, J v> = {forward}, <J^T u, v> = {reverse}",
                            prim.name
                        );
                    }
                }
            }
        }
    }
}
