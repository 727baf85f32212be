//! Every supported syntax form of a straight-line body, each against a closed form and
#![allow(
    dead_code,
    reason = "some originals are only differentiated, never called"
)]
//! central differences, with the value bitwise equal to the original's.

mod common;

use ad_runtime::{Float, reverse};
use common::{check1, check2};

const POINTS: &[(f64, f64)] = &[
    (0.7, -1.3),
    (-2.0, 0.5),
    (0.0, 1.0),
    (3.5, 2.25),
    (-0.1, -0.1),
];
const XS: &[f64] = &[-2.5, -0.3, 0.0, 0.6, 4.0];

mod bindings {
    use super::*;

    #[reverse]
    #[allow(
        clippy::assign_op_pattern,
        reason = "plain reassignment is the form under test"
    )]
    fn typed_and_untyped_lets(x: f64, y: f64) -> f64 {
        let a = x * y;
        let b: f64 = a + x;
        let mut c = b * 2.0;
        c = c - y;
        c
    }

    #[reverse]
    fn shadowing(x: f64, y: f64) -> f64 {
        let t = x * y;
        let t = t + x;
        let t: f64 = t * t;
        t - y
    }

    #[reverse]
    fn compound_assignment(x: f64, y: f64) -> f64 {
        let mut s = x;
        s += y;
        s *= x;
        s -= 3.0;
        s /= y * y + 1.0;
        s
    }

    #[reverse]
    #[allow(
        clippy::assign_op_pattern,
        reason = "plain reassignment is the form under test"
    )]
    fn reassign_parameter(mut x: f64, y: f64) -> f64 {
        x = x * y;
        x += 1.0;
        x
    }

    #[reverse]
    #[allow(
        clippy::needless_late_init,
        reason = "late initialization is the form under test"
    )]
    fn declared_then_assigned(x: f64, y: f64) -> f64 {
        let z;
        z = x - y;
        z * z
    }

    #[reverse]
    fn tuples(x: f64, y: f64) -> f64 {
        let (a, b) = (x * y, x + y);
        let (c, _) = (a, b);
        let pair = (b, a);
        c * pair.0 + pair.1
    }

    #[test]
    fn lets_and_assignments() {
        check2(
            "lets",
            typed_and_untyped_lets,
            typed_and_untyped_lets_grad,
            |x, y| (2.0 * y + 2.0, 2.0 * x - 1.0),
            POINTS,
        );
        let shadow = |x: f64, y: f64| {
            let t = x * y + x;
            (2.0 * t * (y + 1.0), 2.0 * t * x - 1.0)
        };
        check2("shadowing", shadowing, shadowing_grad, shadow, POINTS);
        let compound = |x: f64, y: f64| {
            let d = y * y + 1.0;
            let n = (x + y) * x - 3.0;
            ((2.0 * x + y) / d, x / d - n * 2.0 * y / (d * d))
        };
        check2(
            "compound",
            compound_assignment,
            compound_assignment_grad,
            compound,
            POINTS,
        );
        check2(
            "reassign",
            reassign_parameter,
            reassign_parameter_grad,
            |x, y| (y, x),
            POINTS,
        );
        let declared = |x: f64, y: f64| (2.0 * (x - y), -2.0 * (x - y));
        check2(
            "declared",
            declared_then_assigned,
            declared_then_assigned_grad,
            declared,
            POINTS,
        );
        let tuple = |x: f64, y: f64| (2.0 * x * y + y * y + y, x * x + 2.0 * x * y + x);
        check2("tuples", tuples, tuples_grad, tuple, POINTS);
    }
}

mod blocks {
    use super::*;

    #[reverse]
    fn nested_blocks(x: f64, y: f64) -> f64 {
        let mut acc = x;
        {
            let inner = acc * y;
            acc = inner + 1.0;
            {
                acc *= x;
            }
        }
        acc
    }

    #[reverse]
    fn block_expression(x: f64, y: f64) -> f64 {
        let r = {
            let s = x * x;
            let x = s + y; // shadows the parameter only inside the block
            x * 2.0
        };
        r + x
    }

    #[reverse]
    #[allow(clippy::needless_return)]
    fn explicit_return(x: f64, y: f64) -> f64 {
        let s = x - y;
        return s * s;
    }

    #[reverse]
    #[allow(unused_parens, clippy::double_parens)]
    fn parentheses(x: f64, y: f64) -> f64 {
        ((x + y) * (x - y))
    }

    #[reverse]
    fn unary_minus(x: f64, y: f64) -> f64 {
        -x * -(y - 1.0) + -(-x)
    }

    #[test]
    fn forms() {
        check2(
            "nested",
            nested_blocks,
            nested_blocks_grad,
            |x, y| (2.0 * x * y + 1.0, x * x),
            POINTS,
        );
        check2(
            "block expr",
            block_expression,
            block_expression_grad,
            |x, _| (4.0 * x + 1.0, 2.0),
            POINTS,
        );
        check2(
            "return",
            explicit_return,
            explicit_return_grad,
            |x, y| (2.0 * (x - y), -2.0 * (x - y)),
            POINTS,
        );
        check2(
            "parens",
            parentheses,
            parentheses_grad,
            |x, y| (2.0 * x, -2.0 * y),
            POINTS,
        );
        check2("neg", unary_minus, unary_minus_grad, |x, y| (y, x), POINTS);
    }
}

mod arithmetic {
    use super::*;

    /// `+ - * /` with the active value on the left, on the right, and on both sides; `c` is
    /// an f64 made inactive by `wrt`.
    #[reverse(wrt(x))]
    fn every_combination(x: f64, c: f64) -> f64 {
        let a = x + c + (c + x) + (x + x);
        let s = x - c + (c - x) - (x - 0.5);
        let m = x * c + c * x + x * x;
        let d = x / c + c / x + x / (x + 2.0);
        a + s + m + d
    }

    /// The same function with both parameters active.
    #[reverse]
    fn every_combination_both(x: f64, c: f64) -> f64 {
        let a = x + c + (c + x) + (x + x);
        let s = x - c + (c - x) - (x - 0.5);
        let m = x * c + c * x + x * x;
        let d = x / c + c / x + x / (x + 2.0);
        a + s + m + d
    }

    #[test]
    fn active_and_inactive_operands() {
        let dx = |x: f64, c: f64| {
            4.0 - 1.0 + 2.0 * c + 2.0 * x + 1.0 / c - c / (x * x) + 2.0 / ((x + 2.0) * (x + 2.0))
        };
        let dc = |x: f64, c: f64| 2.0 + 0.0 + 2.0 * x - x / (c * c) + 1.0 / x;
        let points = [(0.7, 1.3), (-0.5, 2.0), (3.0, -0.25)];
        for &(x, c) in &points {
            let (v, g) = every_combination_grad(x, c);
            assert_eq!(v.to_bits(), every_combination(x, c).to_bits());
            common::assert_close("wrt(x)", g, dx(x, c));
            ad_runtime::check::gradient(|p| every_combination(p[0], c), &[x], &[g])
                .assert_within(1e-7);
        }
        check2(
            "both",
            every_combination_both,
            every_combination_both_grad,
            |x, c| (dx(x, c), dc(x, c)),
            &points,
        );
    }
}

mod constants {
    use super::*;
    use std::f64::consts;

    const SCALE: f64 = 2.5;

    #[reverse]
    fn literals_and_constants(x: f64, n: usize, k: i32) -> f64 {
        let a = 1.5e-1 * x + 3.0_f64;
        let b = x * consts::PI + std::f64::consts::E * x + f64::consts_free();
        let c = (n as f64) * x + x / (k as f64);
        let d = SCALE * x * f64::EPSILON.max(0.0).recip().recip();
        a + b + c + d
    }

    trait ConstsFree {
        fn consts_free() -> f64;
    }
    impl ConstsFree for f64 {
        fn consts_free() -> f64 {
            1.0
        }
    }

    #[reverse]
    fn generic_constants<T: Float>(x: T) -> T {
        let two = T::one() + T::one();
        let half = T::from(0.5).unwrap();
        let c = T::from(2.5).unwrap();
        x * two + half * x * x + c - T::zero()
    }

    #[reverse]
    fn inactive_arithmetic(x: f64, n: usize, flag: bool, r: &i32) -> f64 {
        let m = n * 2 + 1;
        let scale = if_free(flag) * (*r as f64);
        let k = (m as f64).sqrt();
        x * k * scale + (n % 3) as f64
    }
    fn if_free(b: bool) -> f64 {
        f64::from(u8::from(b)) + 1.0
    }

    #[test]
    fn constants_are_inactive() {
        let n = 4;
        let k = -3;
        let closed = |_: f64| {
            0.15 + consts::PI + consts::E + n as f64 + 1.0 / f64::from(k) + SCALE * f64::EPSILON
        };
        check1(
            "constants",
            |x| literals_and_constants(x, n, k),
            |x| literals_and_constants_grad(x, n, k),
            closed,
            XS,
        );
        check1(
            "generic",
            generic_constants::<f64>,
            generic_constants_grad::<f64>,
            |x| 2.0 + x,
            XS,
        );
        let (v, d) = generic_constants_grad(1.5f32);
        assert_eq!(v, generic_constants(1.5f32));
        assert_eq!(d, 3.5);
    }

    #[test]
    fn inactive_parameters_pass_through() {
        let r = 3;
        for (n, flag) in [(0, false), (5, true), (12, false)] {
            let k = ((n * 2 + 1) as f64).sqrt() * if_free(flag) * 3.0;
            let f = |x| inactive_arithmetic(x, n, flag, &r);
            let g = |x| inactive_arithmetic_grad(x, n, flag, &r);
            check1("inactive", f, g, |_| k, XS);
        }
    }
}

mod fan_out {
    use super::*;

    #[reverse]
    fn square(x: f64) -> f64 {
        x * x
    }

    #[reverse]
    fn self_power(x: f64) -> f64 {
        x.powf(x)
    }

    #[reverse]
    fn many_uses(x: f64, y: f64) -> f64 {
        let s = x * y;
        let t = s + s * s + s.sin();
        t * x + y / (1.0 + s * s)
    }

    #[test]
    fn every_use_contributes() {
        check1("x*x", square, square_grad, |x| 2.0 * x, XS);
        check1(
            "x^x",
            self_power,
            self_power_grad,
            |x| x.powf(x) * (x.ln() + 1.0),
            &[0.1, 1.0, 2.5],
        );
        let closed = |x: f64, y: f64| {
            let s = x * y;
            let t = s + s * s + s.sin();
            let dt_ds = 1.0 + 2.0 * s + s.cos();
            let q = 1.0 + s * s;
            let df_ds = dt_ds * x - y * 2.0 * s / (q * q);
            (df_ds * y + t, df_ds * x + 1.0 / q)
        };
        check2("many uses", many_uses, many_uses_grad, closed, POINTS);
    }
}

mod parameters {
    use super::*;

    #[reverse(wrt(y))]
    fn only_y(x: f64, y: f64) -> f64 {
        x * y * y
    }

    #[reverse(wrt(z, x))]
    fn wrt_order_is_parameter_order(x: f64, y: f64, z: f64) -> f64 {
        x * y + z * z
    }

    #[reverse]
    fn unused_active(x: f64, _y: f64) -> f64 {
        x.sin()
    }

    #[reverse]
    fn constant_output(x: f64) -> f64 {
        let _ = x;
        2.0
    }

    #[reverse]
    fn identity(x: f64) -> f64 {
        x
    }

    #[reverse]
    fn f32_params(x: f32, y: f32) -> f32 {
        x * y.exp()
    }

    #[reverse]
    fn generic_where<T>(x: T, y: T, n: u32) -> T
    where
        T: Float + std::fmt::Debug,
    {
        x.powi(n as i32) * y
    }

    #[reverse]
    fn mixed_precision(x: f32, y: f64) -> f64 {
        (x as f64) * y + (y as f32 * x) as f64
    }

    #[test]
    fn wrt_selects_the_active_set() {
        let (v, dy) = only_y_grad(2.0, 3.0);
        assert_eq!((v, dy), (18.0, 12.0));
        let (v, (dx, dz)) = wrt_order_is_parameter_order_grad(2.0, 3.0, 5.0);
        assert_eq!((v, dx, dz), (31.0, 3.0, 10.0));
    }

    #[test]
    fn zero_gradients() {
        let (v, (dx, dy)) = unused_active_grad(0.5, 7.0);
        assert_eq!((v, dx, dy), (0.5f64.sin(), 0.5f64.cos(), 0.0));
        assert_eq!(constant_output_grad(3.0), (2.0, 0.0));
        assert_eq!(identity_grad(3.0), (3.0, 1.0));
        assert_eq!(identity_vjp(3.0, -2.5), (3.0, -2.5));
    }

    #[test]
    fn f32_generic_and_mixed() {
        let (v, (dx, dy)) = f32_params_grad(1.5, -0.5);
        assert_eq!(v.to_bits(), f32_params(1.5, -0.5).to_bits());
        assert!((dx - (-0.5f32).exp()).abs() < 1e-6 && (dy - 1.5 * (-0.5f32).exp()).abs() < 1e-6);
        for n in [0u32, 1, 3] {
            let closed = |x: f64, y: f64| {
                let dx = if n == 0 {
                    0.0
                } else {
                    f64::from(n) * x.powi(n as i32 - 1) * y
                };
                (dx, x.powi(n as i32))
            };
            check2(
                "generic",
                |x, y| generic_where(x, y, n),
                |x, y| generic_where_grad(x, y, n),
                closed,
                POINTS,
            );
        }
        let (v, (dx, dy)) = mixed_precision_grad(1.5f32, 2.0f64);
        assert_eq!(v.to_bits(), mixed_precision(1.5, 2.0).to_bits());
        assert_eq!((dx, dy), (4.0f32, 3.0f64));
    }

    #[test]
    fn vjp_scales_the_gradient() {
        for &(x, y) in POINTS {
            let (v, (gx, gy)) = many_uses_like_grad(x, y);
            for seed in [0.0, 1.0, -2.5, 1e3] {
                let (w, (vx, vy)) = many_uses_like_vjp(x, y, seed);
                assert_eq!(v.to_bits(), w.to_bits());
                common::assert_close("vjp x", vx, seed * gx);
                common::assert_close("vjp y", vy, seed * gy);
            }
        }
    }

    #[reverse]
    fn many_uses_like(x: f64, y: f64) -> f64 {
        (x * y).sin() * x + y
    }
}

mod side_effects {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    static ASSERTS: AtomicUsize = AtomicUsize::new(0);

    fn counted() -> bool {
        ASSERTS.fetch_add(1, Ordering::SeqCst);
        true
    }

    #[reverse]
    fn logs(x: f64, y: f64, log: &mut Vec<usize>) -> f64 {
        let s = x * y;
        println!("s = {s}, x = {}, y = {y:.3}, width {:>w$}", x, s, w = 12);
        eprint!("");
        assert!(counted(), "counted {}", s);
        debug_assert!(s.is_finite());
        assert_eq!(log.len(), log.len());
        log.push(log.len());
        assert_ne!(s, f64::INFINITY, "s = {s:?}");
        s.exp()
    }

    #[test]
    fn run_once_per_call() {
        let mut log = Vec::new();
        let before = ASSERTS.load(Ordering::SeqCst);
        let (v, (dx, dy)) = logs_grad(0.5, 2.0, &mut log);
        assert_eq!(log, [0]);
        assert_eq!(ASSERTS.load(Ordering::SeqCst), before + 1);
        let (w, _) = logs_vjp(0.5, 2.0, &mut log, 1.0);
        assert_eq!(log, [0, 1]);
        assert_eq!(v, w);
        assert_eq!(v, logs(0.5, 2.0, &mut log));
        assert_eq!(log, [0, 1, 2]);
        common::assert_close("dx", dx, 2.0 * 1.0f64.exp());
        common::assert_close("dy", dy, 0.5 * 1.0f64.exp());
    }
}

mod items_and_visibility {
    pub mod inner {
        use ad_runtime::reverse;

        /// Documented; the generated functions repeat this documentation.
        #[reverse]
        pub fn public(x: f64) -> f64 {
            const LOCAL: f64 = 4.0;
            fn helper(n: usize) -> f64 {
                n as f64
            }
            x * LOCAL + helper(2)
        }

        #[reverse]
        pub(crate) fn crate_visible(x: f64) -> f64 {
            x
        }
    }

    #[test]
    fn generated_functions_keep_visibility_and_items() {
        assert_eq!(inner::public_grad(1.0), (6.0, 4.0));
        assert_eq!(inner::public_vjp(1.0, 0.5), (6.0, 2.0));
        assert_eq!(inner::crate_visible_grad(1.0), (1.0, 1.0));
    }
}

/// A function a `macro_rules!` writes: the `$e:expr` it splices in reaches the macro as an
/// invisible group (`syn::Expr::Group`; the parameter's name comes from the call, for
/// hygiene), which lowers as its content (a precedence group:
/// `2.0 * $e` is `2.0 * (x + 1.0)`).
macro_rules! doubled_square {
    ($x:ident, $e:expr) => {
        #[ad_runtime::reverse]
        fn doubled_square($x: f64) -> f64 {
            let y = 2.0 * $e;
            y * y
        }
    };
}

doubled_square!(x, x + 1.0);

#[test]
fn expressions_spliced_by_macro_rules_are_groups() {
    // 4 (x + 1)²
    common::check1(
        "doubled_square",
        doubled_square,
        doubled_square_grad,
        |x| 8.0 * (x + 1.0),
        &[-2.0, 0.0, 1.5],
    );
}
