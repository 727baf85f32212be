//! Control flow: `if`/`else`, `match`, `for` over ranges, `while`, `loop`, labelled `break` and
//! `continue`, early `return`. Each function is checked against a closed form written by hand in
//! the test and against central differences, at several points, with the value bitwise equal to
//! the original's. Gradients are those of the executed trace (conditions and trip counts are not
//! differentiated), so test points keep at least 1e-3 away from the boundaries of conditions on
//! active values, where a central difference would straddle two branches.
#![allow(
    dead_code,
    reason = "some originals are only differentiated, never called"
)]

mod common;

use std::collections::BTreeSet;

use ad_runtime::{Float, check, reverse};
use common::{FD_TOL, assert_close, check1, check1_f32, check2};

/// Distance kept from the boundary of a condition on an active value.
const MARGIN: f64 = 1e-3;

/// Whether `a` lies at least `MARGIN` from the boundary `b`.
fn far(a: f64, b: f64) -> bool {
    (a - b).abs() >= MARGIN
}

/// Panics unless `a` lies at least `MARGIN` from the boundary `b`: the test point is badly
/// chosen.
#[track_caller]
fn away(a: f64, b: f64) {
    assert!(
        far(a, b),
        "test point within {MARGIN} of a branch boundary: {a} vs {b}"
    );
}

/// `a` and `b` agree to the relative tolerance `rel` (or absolutely, near zero).
#[track_caller]
fn assert_rel(what: &str, got: f64, want: f64, rel: f64) {
    assert!(
        (got - want).abs() <= rel * want.abs().max(1e-300) || (got - want).abs() <= 1e-300,
        "{what}: got {got:e}, want {want:e}"
    );
}

/// `f_vjp` with the seed -2 (scaling by a power of two is exact) is -2 times `f_grad`.
#[track_caller]
fn assert_vjp(what: &str, grad: f64, vjp: f64) {
    assert_eq!(
        vjp.to_bits(),
        (-2.0 * grad).to_bits(),
        "{what}: vjp is not seed * grad"
    );
}

mod branches {
    use super::*;

    /// `if`/`else if`/`else` as statements and as expressions, nested three deep; conditions on
    /// active (`x`, `y`, `s`) and inactive (`n`, `flag`) values with `&&`, `||` and `!`; one arm
    /// yields a constant.
    #[reverse]
    fn nested_if(x: f64, y: f64, n: usize, flag: bool) -> f64 {
        let mut s = x * y;
        if x > 0.0 && n > 2 {
            s += x.sin();
        } else if y < -1.0 || !flag {
            s *= y;
        } else {
            s -= 1.0;
        }
        let r = if s > 1.0 {
            if x < y {
                if n == 0 || !flag { s * x } else { s + y * y }
            } else if n.is_multiple_of(2) {
                s.exp()
            } else {
                x - y
            }
        } else if s < -1.0 {
            y * s
        } else {
            2.5
        };
        r + s
    }

    /// The arms taken and the gradient of `nested_if`, by hand; `None` within `MARGIN` of the
    /// boundary of a condition on an active value.
    fn nested_if_model(x: f64, y: f64, n: usize, flag: bool) -> Option<((u8, u8), f64, f64)> {
        let (s, sx, sy, first) = if x > 0.0 && n > 2 {
            (x * y + x.sin(), y + x.cos(), x, 0)
        } else if y < -1.0 || !flag {
            (x * y * y, y * y, 2.0 * x * y, 1)
        } else {
            (x * y - 1.0, y, x, 2)
        };
        let (rx, ry, second) = if s > 1.0 {
            if x < y {
                if n == 0 || !flag {
                    (sx * x + s, sy * x, 0)
                } else {
                    (sx, sy + 2.0 * y, 1)
                }
            } else if n.is_multiple_of(2) {
                (s.exp() * sx, s.exp() * sy, 2)
            } else {
                (1.0, -1.0, 3)
            }
        } else if s < -1.0 {
            (y * sx, y * sy + s, 4)
        } else {
            (0.0, 0.0, 5)
        };
        let clear = far(x, 0.0) && far(y, -1.0) && far(s, 1.0) && far(s, -1.0) && far(x, y);
        clear.then_some(((first, second), rx + sx, ry + sy))
    }

    #[test]
    fn if_else_chains_nested_three_deep() {
        let grid = [-2.3, -1.2, -0.6, 0.0005, 0.45, 1.7, 3.1];
        let mut firsts = BTreeSet::new();
        let mut seconds = BTreeSet::new();
        for n in 0..5 {
            for flag in [false, true] {
                let model = |x, y| nested_if_model(x, y, n, flag);
                let points: Vec<(f64, f64)> = grid
                    .iter()
                    .flat_map(|&x| grid.iter().map(move |&y| (x, y)))
                    .filter(|&(x, y)| model(x, y).is_some())
                    .collect();
                for &(x, y) in &points {
                    let (arms, _, _) = model(x, y).unwrap();
                    firsts.insert(arms.0);
                    seconds.insert(arms.1);
                    let (_, (dx, dy)) = nested_if_grad(x, y, n, flag);
                    let (_, (vx, vy)) = nested_if_vjp(x, y, n, flag, -2.0);
                    assert_vjp("nested_if x", dx, vx);
                    assert_vjp("nested_if y", dy, vy);
                }
                check2(
                    &format!("nested_if(n = {n}, flag = {flag})"),
                    |x, y| nested_if(x, y, n, flag),
                    |x, y| nested_if_grad(x, y, n, flag),
                    |x, y| {
                        let (_, dx, dy) = model(x, y).unwrap();
                        (dx, dy)
                    },
                    &points,
                );
            }
        }
        assert_eq!(firsts.len(), 3, "statement arms covered: {firsts:?}");
        assert_eq!(seconds.len(), 6, "expression arms covered: {seconds:?}");
    }

    /// A match on an integer: literal, `|`, inclusive range, guards on the bound integer and on
    /// an active value, and a wildcard; arms are expressions and blocks.
    #[reverse]
    fn match_int(x: f64, k: i32) -> f64 {
        let base = x * 0.5;
        let v = match k {
            0 => base,
            1 | 2 => base * x,
            3..=5 => {
                let t = x.sin();
                t * k as f64
            }
            m if m < 0 && x > 1.0 => x.ln() * m as f64,
            m if m < 0 => -x * m as f64,
            _ => x.exp(),
        };
        v + base
    }

    fn match_int_closed(x: f64, k: i32) -> f64 {
        let kf = f64::from(k);
        0.5 + match k {
            0 => 0.5,
            1 | 2 => x,
            3..=5 => x.cos() * kf,
            _ if k < 0 && x > 1.0 => kf / x,
            _ if k < 0 => -kf,
            _ => x.exp(),
        }
    }

    /// A match on a bool parameter and on a comparison of active values.
    #[reverse]
    fn match_bool(x: f64, y: f64, b: bool) -> f64 {
        let q = match b {
            true => x * y,
            false => x / y,
        };
        match x > y {
            true => q + y,
            false => q * x,
        }
    }

    fn match_bool_closed(x: f64, y: f64, b: bool) -> (f64, f64) {
        let (q, qx, qy) = if b {
            (x * y, y, x)
        } else {
            (x / y, 1.0 / y, -x / (y * y))
        };
        if x > y {
            (qx, qy + 1.0)
        } else {
            (qx * x + q, qy * x)
        }
    }

    /// A match on an active float, through guards only; a guard on an inactive parameter first.
    #[reverse]
    fn match_float(x: f64, n: usize) -> f64 {
        match x * 2.0 - 1.0 {
            _ if n == 0 => x * 3.0,
            v if v < -1.0 => -v - 0.5,
            v if v <= 1.0 => 0.5 * v * v,
            v => v.ln() + 0.5,
        }
    }

    fn match_float_closed(x: f64, n: usize) -> f64 {
        let v = 2.0 * x - 1.0;
        away(v, -1.0);
        away(v, 1.0);
        if n == 0 {
            3.0
        } else if v < -1.0 {
            -2.0
        } else if v <= 1.0 {
            2.0 * v
        } else {
            2.0 / v
        }
    }

    #[test]
    fn match_on_integers_bools_and_guarded_floats() {
        let xs = [-1.5, 0.3, 0.998, 1.002, 2.5];
        for k in [-3, -1, 0, 1, 2, 3, 4, 5, 6, 100] {
            check1(
                &format!("match_int(k = {k})"),
                |x| match_int(x, k),
                |x| match_int_grad(x, k),
                |x| match_int_closed(x, k),
                &xs,
            );
        }
        // Both arms of the guard on the active value: the ln arm needs x > 1.
        assert_close("ln arm", match_int_grad(2.5, -3).1, -3.0 / 2.5 + 0.5);
        assert_close("negative arm", match_int_grad(0.3, -3).1, 3.5);

        let points = [
            (0.7, -1.3),
            (-2.0, 0.5),
            (0.0, 1.0),
            (3.5, 2.25),
            (-0.1, -0.3),
        ];
        for b in [false, true] {
            check2(
                &format!("match_bool(b = {b})"),
                |x, y| match_bool(x, y, b),
                |x, y| match_bool_grad(x, y, b),
                |x, y| match_bool_closed(x, y, b),
                &points,
            );
        }

        let xs = [-3.0, -0.2, 0.3, 0.5, 0.9, 1.2, 5.0];
        for n in [0, 1, 7] {
            check1(
                &format!("match_float(n = {n})"),
                |x| match_float(x, n),
                |x| match_float_grad(x, n),
                |x| match_float_closed(x, n),
                &xs,
            );
        }
    }
}

mod ranges {
    use super::*;

    const XS: &[f64] = &[-0.9, 0.0, 0.35, 0.8, 1.05];

    /// Each loop below computes `0.5 s + cos x` after `s = (s + i) x` over its indices `i`, from
    /// `s = x`. With `m` indices `i_0, i_1, ..`: `s = x^(m+1) + Σ_j i_j x^(m-j)`, so the
    /// derivative is explicit; it depends on the order of the indices.
    fn closed(x: f64, indices: &[usize]) -> f64 {
        let m = indices.len();
        let mut ds = (m as f64 + 1.0) * x.powi(m as i32);
        for (j, &i) in indices.iter().enumerate() {
            let p = (m - j) as i32;
            ds += i as f64 * f64::from(p) * x.powi(p - 1);
        }
        0.5 * ds - x.sin()
    }

    #[reverse]
    fn exclusive(x: f64, a: usize, b: usize) -> f64 {
        let mut s = x;
        for i in a..b {
            s = (s + i as f64) * x;
        }
        0.5 * s + x.cos()
    }

    #[reverse]
    fn inclusive(x: f64, a: usize, b: usize) -> f64 {
        let mut s = x;
        for i in a..=b {
            s = (s + i as f64) * x;
        }
        0.5 * s + x.cos()
    }

    /// Bounds computed from the parameter.
    #[reverse]
    fn reversed(x: f64, n: usize) -> f64 {
        let lo = n / 2;
        let mut s = x;
        for i in (lo..lo + n).rev() {
            s = (s + i as f64) * x;
        }
        0.5 * s + x.cos()
    }

    /// The end is computed.
    #[reverse]
    fn stepped(x: f64, a: usize, n: usize, k: usize) -> f64 {
        let mut s = x;
        for i in (a..a + n).step_by(k) {
            s = (s + i as f64) * x;
        }
        0.5 * s + x.cos()
    }

    #[reverse]
    fn reversed_stepped(x: f64, a: usize, b: usize, k: usize) -> f64 {
        let mut s = x;
        for i in (a..=b).rev().step_by(k) {
            s = (s + i as f64) * x;
        }
        0.5 * s + x.cos()
    }

    /// Checks one loop with the indices its range yields, and that the expected trip count is
    /// what the test meant; with no trip the gradient is that of `0.5 x + cos x`.
    #[track_caller]
    fn check_loop(
        name: &str,
        f: impl Fn(f64) -> f64,
        grad: impl Fn(f64) -> (f64, f64),
        indices: &[usize],
        trips: usize,
    ) {
        assert_eq!(
            indices.len(),
            trips,
            "{name}: test case has the wrong trip count"
        );
        check1(name, &f, &grad, |x| closed(x, indices), XS);
        if trips == 0 {
            for &x in XS {
                assert_close(&format!("{name}: no trip at {x}"), grad(x).1, 0.5 - x.sin());
            }
        }
    }

    #[test]
    fn for_over_exclusive_and_inclusive_ranges() {
        for (a, b, trips) in [(3, 3, 0), (5, 2, 0), (4, 5, 1), (0, 12, 12), (7, 19, 12)] {
            let indices: Vec<usize> = (a..b).collect();
            check_loop(
                &format!("{a}..{b}"),
                |x| exclusive(x, a, b),
                |x| exclusive_grad(x, a, b),
                &indices,
                trips,
            );
        }
        for (a, b, trips) in [
            (5, 4, 0),
            (9, 2, 0),
            (4, 4, 1),
            (0, 0, 1),
            (0, 11, 12),
            (6, 15, 10),
        ] {
            let indices: Vec<usize> = (a..=b).collect();
            check_loop(
                &format!("{a}..={b}"),
                |x| inclusive(x, a, b),
                |x| inclusive_grad(x, a, b),
                &indices,
                trips,
            );
        }
    }

    #[test]
    fn for_over_reversed_and_stepped_ranges() {
        for (n, trips) in [(0, 0), (1, 1), (9, 9)] {
            let lo = n / 2;
            let indices: Vec<usize> = (lo..lo + n).rev().collect();
            check_loop(
                &format!("({lo}..{}).rev()", lo + n),
                |x| reversed(x, n),
                |x| reversed_grad(x, n),
                &indices,
                trips,
            );
        }
        for (a, n, k, trips) in [
            (2, 0, 3, 0),
            (2, 3, 3, 1),
            (2, 1, 1, 1),
            (1, 20, 3, 7),
            (0, 5, 1, 5),
        ] {
            let indices: Vec<usize> = (a..a + n).step_by(k).collect();
            check_loop(
                &format!("({a}..{}).step_by({k})", a + n),
                |x| stepped(x, a, n, k),
                |x| stepped_grad(x, a, n, k),
                &indices,
                trips,
            );
        }
        for (a, b, k, trips) in [
            (5, 4, 2, 0),
            (5, 5, 2, 1),
            (3, 4, 5, 1),
            (0, 20, 3, 7),
            (2, 17, 4, 4),
            (1, 9, 1, 9),
        ] {
            let indices: Vec<usize> = (a..=b).rev().step_by(k).collect();
            check_loop(
                &format!("({a}..={b}).rev().step_by({k})"),
                |x| reversed_stepped(x, a, b, k),
                |x| reversed_stepped_grad(x, a, b, k),
                &indices,
                trips,
            );
        }
    }
}

mod long {
    use super::*;

    /// The logistic map, `n` steps.
    #[reverse]
    fn logistic(r: f64, x0: f64, n: usize) -> f64 {
        let mut x = x0;
        for _ in 0..n {
            x = r * x * (1.0 - x);
        }
        x
    }

    /// The logistic map and its derivatives with respect to `r` and `x0`, propagated forward
    /// by hand.
    fn logistic_forward(r: f64, x0: f64, n: usize) -> (f64, f64, f64) {
        let (mut x, mut dr, mut dx0) = (x0, 0.0, 1.0);
        for _ in 0..n {
            let slope = r * (1.0 - 2.0 * x);
            dr = x * (1.0 - x) + slope * dr;
            dx0 *= slope;
            x = r * x * (1.0 - x);
        }
        (x, dr, dx0)
    }

    #[test]
    fn logistic_map_over_100_000_steps() {
        // r = 2.5 converges to the fixed point 1 - 1/r, r = 3.2 to a stable 2-cycle: the
        // derivatives are well conditioned, and agree with the forward ones to far better than
        // the 1e-9 relative allowed for the different order of the sums.
        let points = [(2.5, 0.1), (2.5, 0.5), (2.5, 0.95), (3.2, 0.2), (3.2, 0.7)];
        for n in [0, 1, 2, 100_000, 100_001] {
            for &(r, x0) in &points {
                let (value, (dr, dx0)) = logistic_grad(r, x0, n);
                assert_eq!(
                    value.to_bits(),
                    logistic(r, x0, n).to_bits(),
                    "logistic({r}, {x0}, {n})"
                );
                let (_, want_dr, want_dx0) = logistic_forward(r, x0, n);
                assert_rel(&format!("dlogistic/dr({r}, {x0}, {n})"), dr, want_dr, 1e-9);
                assert_rel(
                    &format!("dlogistic/dx0({r}, {x0}, {n})"),
                    dx0,
                    want_dx0,
                    1e-9,
                );
                check::gradient(|p| logistic(p[0], p[1], n), &[r, x0], &[dr, dx0])
                    .assert_within(FD_TOL);
            }
        }
        // Edge trip counts in closed form.
        assert_eq!(logistic_grad(2.5, 0.3, 0).1, (0.0, 1.0));
        let (_, (dr, dx0)) = logistic_grad(2.5, 0.3, 1);
        assert_close("one step, r", dr, 0.3 * 0.7);
        assert_close("one step, x0", dx0, 2.5 * (1.0 - 0.6));
        // At the fixed point x* = 1 - 1/r: dx*/dr = 1/r², and the initial value is forgotten.
        let (_, (dr, dx0)) = logistic_grad(2.5, 0.3, 100_000);
        assert_close("fixed point, r", dr, 1.0 / (2.5 * 2.5));
        assert!(dx0.abs() < 1e-300, "fixed point, x0: {dx0:e}");
    }

    /// `Π_k sin(x + k/n)`: the product starts inactive.
    #[reverse]
    fn sine_product(x: f64, n: usize) -> f64 {
        let mut p = 1.0;
        for k in 0..n {
            p *= (x + k as f64 / n as f64).sin();
        }
        p
    }

    /// The product times `Σ_k cot(x + k/n)`.
    fn sine_product_closed(x: f64, n: usize) -> f64 {
        let angles = (0..n).map(|k| x + k as f64 / n as f64);
        let product: f64 = angles.clone().map(f64::sin).product();
        let cot: f64 = angles.map(|a| a.cos() / a.sin()).sum();
        if product == 0.0 { 0.0 } else { product * cot }
    }

    #[test]
    fn product_of_sines() {
        for n in [0, 1, 7, 50, 1000, 100_000] {
            check1(
                &format!("sine_product(n = {n})"),
                |x| sine_product(x, n),
                |x| sine_product_grad(x, n),
                |x| sine_product_closed(x, n),
                &[0.3, 0.5, 1.2, 1.9, -2.8],
            );
        }
        assert_eq!(sine_product_grad(0.7, 0), (1.0, 0.0));
    }
}

mod newton {
    use super::*;

    /// Newton's iteration for `x² = a`, until the step is below 1e-10 relative: the iterate
    /// before the last is then within 1e-10, so the last (and its derivative) is exact.
    #[reverse]
    fn newton_sqrt(a: f64) -> f64 {
        let mut x = a.max(1.0);
        let mut step = x;
        let mut k = 0;
        while step.abs() > 1e-10 * x && k < 200 {
            let next = 0.5 * (x + a / x);
            step = next - x;
            x = next;
            k += 1;
        }
        x
    }

    #[test]
    fn newton_while_loop_has_the_derivative_of_sqrt() {
        check1(
            "newton_sqrt",
            newton_sqrt,
            newton_sqrt_grad,
            |a| 0.5 / a.sqrt(),
            &[0.25, 0.5, 1.0, 2.0, 7.0, 1e4],
        );
        for a in [0.25, 2.0, 1e4] {
            assert_close(&format!("sqrt({a})"), newton_sqrt(a), a.sqrt());
            let (_, d) = newton_sqrt_grad(a);
            assert_vjp("newton", d, newton_sqrt_vjp(a, -2.0).1);
        }
    }
}

mod loops_with_branches {
    use super::*;

    /// Different arms on different iterations.
    #[reverse]
    fn branchy(x: f64, n: usize) -> f64 {
        let mut s = x;
        for i in 0..n {
            if i % 3 == 0 {
                s *= x;
            } else if s > 1.0 {
                s = s.sqrt() + 0.5 * x;
            } else {
                s += (x * i as f64).sin();
            }
        }
        s
    }

    /// The derivative of `branchy` in forward mode, by hand, and the arms taken.
    fn branchy_model(x: f64, n: usize, arms: &mut BTreeSet<u8>) -> f64 {
        let (mut s, mut ds) = (x, 1.0);
        for i in 0..n {
            if i % 3 == 0 {
                ds = ds * x + s;
                s *= x;
                arms.insert(0);
            } else {
                away(s, 1.0);
                if s > 1.0 {
                    ds = 0.5 * ds / s.sqrt() + 0.5;
                    s = s.sqrt() + 0.5 * x;
                    arms.insert(1);
                } else {
                    let w = i as f64;
                    ds += w * (x * w).cos();
                    s += (x * w).sin();
                    arms.insert(2);
                }
            }
        }
        ds
    }

    #[test]
    fn arms_change_between_iterations() {
        let mut arms = BTreeSet::new();
        for n in [0, 1, 2, 5, 17] {
            check1(
                &format!("branchy(n = {n})"),
                |x| branchy(x, n),
                |x| branchy_grad(x, n),
                |x| branchy_model(x, n, &mut BTreeSet::new()),
                &[0.4, 0.9, 1.3, 2.0, -0.7],
            );
            for x in [0.4, 0.9, 1.3, 2.0, -0.7] {
                branchy_model(x, n, &mut arms);
            }
        }
        assert_eq!(arms.len(), 3, "arms covered: {arms:?}");
    }
}

mod exits {
    use super::*;

    /// A labelled break three loops deep, on an integer condition or an active one; an
    /// unlabelled break of the innermost loop.
    #[reverse]
    fn labelled_break(x: f64, n: usize, stop: usize) -> f64 {
        let mut s = 0.0;
        'outer: for i in 0..n {
            for j in 0..n {
                let mut k = 0;
                while k < n {
                    if k > i + j {
                        break;
                    }
                    s += 0.5 * (x * (1 + i + j + k) as f64).sin();
                    if i * 100 + j * 10 + k == stop || s > 2.0 {
                        break 'outer;
                    }
                    k += 1;
                }
            }
        }
        s * x
    }

    /// The derivative of `labelled_break` and how the loops ended (0: ran out, 1: on `stop`,
    /// 2: on `s > 2`); `None` near the active condition's boundary.
    fn labelled_break_model(x: f64, n: usize, stop: usize) -> Option<(f64, u8)> {
        let (mut s, mut ds) = (0.0, 0.0);
        let mut end = 0;
        'outer: for i in 0..n {
            for j in 0..n {
                for k in 0..n {
                    if k > i + j {
                        break;
                    }
                    let w = (1 + i + j + k) as f64;
                    s += 0.5 * (x * w).sin();
                    ds += 0.5 * w * (x * w).cos();
                    if !far(s, 2.0) {
                        return None;
                    }
                    if i * 100 + j * 10 + k == stop {
                        end = 1;
                        break 'outer;
                    }
                    if s > 2.0 {
                        end = 2;
                        break 'outer;
                    }
                }
            }
        }
        Some((ds * x + s, end))
    }

    #[test]
    fn labelled_break_three_loops_deep() {
        let mut ends = BTreeSet::new();
        for n in [0, 1, 3, 6] {
            for stop in [0, 12, 101, 999] {
                let model = |x| labelled_break_model(x, n, stop);
                let points: Vec<f64> = [0.05, 0.3, -0.4, 1.1, 2.7]
                    .into_iter()
                    .filter(|&x| model(x).is_some())
                    .collect();
                assert!(
                    points.len() >= 4,
                    "too few points for n = {n}, stop = {stop}"
                );
                ends.extend(points.iter().map(|&x| model(x).unwrap().1));
                check1(
                    &format!("labelled_break(n = {n}, stop = {stop})"),
                    |x| labelled_break(x, n, stop),
                    |x| labelled_break_grad(x, n, stop),
                    |x| model(x).unwrap().0,
                    &points,
                );
            }
        }
        assert_eq!(ends.len(), 3, "exits covered: {ends:?}");
    }

    /// `continue` of the inner loop, of the outer loop by label, and on an active condition.
    #[reverse]
    fn continues(x: f64, n: usize) -> f64 {
        let mut s = x;
        'rows: for i in 0..n {
            if i % 4 == 1 {
                continue;
            }
            let mut j = 0;
            while j < n {
                j += 1;
                if j == i {
                    continue 'rows;
                }
                if (i + j) % 3 == 0 {
                    continue;
                }
                if s > 4.0 {
                    s *= 0.25;
                    continue;
                }
                s = s * 0.5 + (x * j as f64).cos();
            }
            s += x * i as f64;
        }
        s
    }

    fn continues_model(x: f64, n: usize) -> f64 {
        let (mut s, mut ds) = (x, 1.0);
        for i in 0..n {
            if i % 4 == 1 {
                continue;
            }
            let mut skipped = false;
            for j in 1..=n {
                if j == i {
                    skipped = true;
                    break;
                }
                if (i + j) % 3 == 0 {
                    continue;
                }
                away(s, 4.0);
                if s > 4.0 {
                    s *= 0.25;
                    ds *= 0.25;
                } else {
                    let w = j as f64;
                    ds = ds * 0.5 - w * (x * w).sin();
                    s = s * 0.5 + (x * w).cos();
                }
            }
            if !skipped {
                s += x * i as f64;
                ds += i as f64;
            }
        }
        ds
    }

    #[test]
    fn continue_plain_and_labelled() {
        for n in [0, 1, 2, 4, 9] {
            check1(
                &format!("continues(n = {n})"),
                |x| continues(x, n),
                |x| continues_grad(x, n),
                |x| continues_model(x, n),
                &[-1.3, 0.2, 0.75, 1.6, 3.0],
            );
        }
    }

    /// `loop` with `break value`, two breaks yielding different expressions.
    #[reverse]
    fn loop_value(x: f64) -> f64 {
        let mut s = x;
        let mut k = 0;
        let r = loop {
            s = s * 1.5 + 0.1;
            k += 1;
            if s > 10.0 {
                break s.ln() * k as f64;
            }
            if k >= 20 {
                break s;
            }
        };
        r * x
    }

    fn loop_value_model(x: f64) -> f64 {
        let (mut s, mut ds) = (x, 1.0);
        for k in 1..=20 {
            s = s * 1.5 + 0.1;
            ds *= 1.5;
            away(s, 10.0);
            if s > 10.0 {
                let kf = f64::from(k);
                return s.ln() * kf + x * kf * ds / s;
            }
        }
        s + x * ds
    }

    #[test]
    fn loop_with_break_value() {
        // Breaks at the first iteration (x = 9), after several, or at the count (x ≤ -0.2).
        check1(
            "loop_value",
            loop_value,
            loop_value_grad,
            loop_value_model,
            &[-3.0, -0.5, -0.1, 0.0, 0.3, 2.0, 9.0],
        );
        assert_close(
            "first iteration",
            loop_value_grad(9.0).1,
            13.6_f64.ln() + 9.0 * 1.5 / 13.6,
        );
    }

    /// Exits from `match` arms inside an inner `for`: a `return`, and a `break` on a guard on an
    /// active value; the outer `loop` yields a value by `break value` in two places.
    #[reverse]
    fn match_exits(x: f64, n: usize) -> f64 {
        let mut s = x;
        let mut round = 0;
        let r = loop {
            round += 1;
            for j in 0..n {
                s = s * 0.7 + 0.01 * x * j as f64;
                match j {
                    7 => return s * 10.0,
                    _ if s < 0.1 => break,
                    _ => {}
                }
            }
            if s < 0.1 {
                break s * round as f64;
            }
            if round >= 5 {
                break s.exp();
            }
        };
        r + s
    }

    /// The derivative of `match_exits` and its exit (0: `return`, 1: `break` on `s < 0.1`,
    /// 2: `break` after five rounds).
    fn match_exits_model(x: f64, n: usize) -> (f64, u8) {
        let (mut s, mut ds) = (x, 1.0);
        for round in 1..=5 {
            for j in 0..n {
                s = s * 0.7 + 0.01 * x * j as f64;
                ds = ds * 0.7 + 0.01 * j as f64;
                if j == 7 {
                    return (10.0 * ds, 0);
                }
                away(s, 0.1);
                if s < 0.1 {
                    break;
                }
            }
            away(s, 0.1);
            if s < 0.1 {
                return (ds * f64::from(round) + ds, 1);
            }
        }
        (s.exp() * ds + ds, 2)
    }

    #[test]
    fn return_and_break_from_match_arms_in_loops() {
        let mut exits = BTreeSet::new();
        let xs = [-1.0, 0.05, 0.5, 2.0, 20.0];
        for n in [0, 1, 3, 12] {
            check1(
                &format!("match_exits(n = {n})"),
                |x| match_exits(x, n),
                |x| match_exits_grad(x, n),
                |x| match_exits_model(x, n).0,
                &xs,
            );
            exits.extend(xs.iter().map(|&x| match_exits_model(x, n).1));
        }
        assert_eq!(exits.len(), 3, "exits covered: {exits:?}");
        // No inner iteration and x above 0.1: five rounds, then `exp(x) + x`.
        assert_close("n = 0", match_exits_grad(0.5, 0).1, 0.5_f64.exp() + 1.0);
    }

    /// `return` before the loop, at the first iteration, from a nested branch inside the loop,
    /// and from a nested branch after it.
    #[reverse]
    fn early_return(x: f64, n: usize) -> f64 {
        if n == 0 {
            return x.exp();
        }
        let mut s = x;
        for i in 0..n {
            if x < -1.0 {
                return s * 3.0;
            }
            s = s * x + 1.0;
            if s > 5.0 {
                if i % 2 == 0 {
                    return s.sqrt();
                }
                return s - x;
            }
        }
        if s < 0.0 {
            if n > 5 {
                return -s;
            }
            s *= 2.0;
        }
        s * 0.5
    }

    /// The derivative of `early_return` and the exit taken.
    fn early_return_model(x: f64, n: usize) -> (f64, u8) {
        if n == 0 {
            return (x.exp(), 0);
        }
        away(x, -1.0);
        let (mut s, mut ds) = (x, 1.0);
        for i in 0..n {
            if x < -1.0 {
                return (3.0, 1);
            }
            ds = ds * x + s;
            s = s * x + 1.0;
            away(s, 5.0);
            if s > 5.0 {
                return if i % 2 == 0 {
                    (0.5 * ds / s.sqrt(), 2)
                } else {
                    (ds - 1.0, 3)
                };
            }
        }
        away(s, 0.0);
        match (s < 0.0, n > 5) {
            (true, true) => (-ds, 4),
            (true, false) => (ds, 5),
            _ => (0.5 * ds, 6),
        }
    }

    #[test]
    fn early_returns() {
        let mut exits = BTreeSet::new();
        let xs = [-1.5, -0.98, -0.9, -0.5, 0.5, 1.2, 1.8, 2.5];
        for n in [0, 1, 2, 3, 4, 7, 10] {
            check1(
                &format!("early_return(n = {n})"),
                |x| early_return(x, n),
                |x| early_return_grad(x, n),
                |x| early_return_model(x, n).0,
                &xs,
            );
            exits.extend(xs.iter().map(|&x| early_return_model(x, n).1));
        }
        assert_eq!(exits.len(), 7, "exits covered: {exits:?}");
        // A return at the first iteration: the loop body before it never ran.
        assert_eq!(early_return_grad(-1.5, 4), (-4.5, 3.0));
    }

    /// A labelled `loop` left by `break 'label value` from a guarded `match` arm in an inner
    /// `for`, by a plain `break value`, or by a `return` from another arm.
    #[reverse]
    fn labelled_loop_value(x: f64, n: usize) -> f64 {
        let mut s = x;
        let mut round = 0;
        let r = 'search: loop {
            round += 1;
            for j in 0..n {
                s = s * 0.7 + 0.01 * x * j as f64;
                match j {
                    7 => return s * 10.0,
                    _ if s < 0.1 => break 'search s * round as f64,
                    _ => {}
                }
            }
            if round >= 5 {
                break s.exp();
            }
        };
        r + s
    }

    /// The derivative of `labelled_loop_value` and its exit (0: `return`, 1: `break 'search`,
    /// 2: `break`).
    fn labelled_loop_value_model(x: f64, n: usize) -> (f64, u8) {
        let (mut s, mut ds) = (x, 1.0);
        for round in 1..=5 {
            for j in 0..n {
                s = s * 0.7 + 0.01 * x * j as f64;
                ds = ds * 0.7 + 0.01 * j as f64;
                if j == 7 {
                    return (10.0 * ds, 0);
                }
                away(s, 0.1);
                if s < 0.1 {
                    return (ds * f64::from(round) + ds, 1);
                }
            }
        }
        (s.exp() * ds + ds, 2)
    }

    #[test]
    fn labelled_loop_with_break_value_and_return_from_match_arms() {
        let mut exits = BTreeSet::new();
        let xs = [-1.0, 0.05, 0.5, 2.0, 20.0];
        for n in [0, 1, 3, 12] {
            check1(
                &format!("labelled_loop_value(n = {n})"),
                |x| labelled_loop_value(x, n),
                |x| labelled_loop_value_grad(x, n),
                |x| labelled_loop_value_model(x, n).0,
                &xs,
            );
            exits.extend(xs.iter().map(|&x| labelled_loop_value_model(x, n).1));
        }
        assert_eq!(exits.len(), 3, "exits covered: {exits:?}");
        // No inner iteration: five rounds, then `exp(x) + x`.
        assert_close(
            "n = 0",
            labelled_loop_value_grad(0.5, 0).1,
            0.5_f64.exp() + 1.0,
        );
    }

    /// Regression: `break 'outer value` computed inside an inner loop once left the value
    /// outside the region that defines it (the inner loop did not carry the outer loop's
    /// value slot).
    #[reverse]
    #[allow(clippy::never_loop, reason = "the shape of the regression")]
    fn break_value_to_outer_label_from_inner_loop(x: f64, n: usize) -> f64 {
        let mut s = x;
        'outer: loop {
            for _ in 0..n {
                s *= 1.5;
                if s > 2.0 {
                    break 'outer s * x;
                }
            }
            break x;
        }
    }

    #[test]
    fn regression_break_value_to_outer_label_from_inner_loop() {
        // n = 0: `x`. Otherwise `s = x 1.5^k` for the first k with `s > 2`, giving `1.5^k x²`.
        for n in [0, 1, 6] {
            for x in [0.3, 1.0, 1.9, 2.5] {
                let k = (1..=n).find(|&k| x * 1.5f64.powi(k as i32) > 2.0);
                let closed = match k {
                    None => 1.0,
                    Some(k) => 2.0 * x * 1.5f64.powi(k as i32),
                };
                let (v, d) = break_value_to_outer_label_from_inner_loop_grad(x, n);
                assert_eq!(
                    v.to_bits(),
                    break_value_to_outer_label_from_inner_loop(x, n).to_bits()
                );
                assert_close(&format!("n = {n}, x = {x}"), d, closed);
                check::gradient(
                    |p| break_value_to_outer_label_from_inner_loop(p[0], n),
                    &[x],
                    &[d],
                )
                .assert_within(FD_TOL);
            }
        }
    }
}

mod piecewise {
    use super::*;

    #[reverse]
    fn huber(x: f64, delta: f64) -> f64 {
        if x < -delta {
            delta * (-x - 0.5 * delta)
        } else if x > delta {
            delta * (x - 0.5 * delta)
        } else {
            0.5 * x * x
        }
    }

    fn huber_closed(x: f64, delta: f64) -> (f64, f64) {
        away(x, -delta);
        away(x, delta);
        if x < -delta {
            (-delta, -x - delta)
        } else if x > delta {
            (delta, x - delta)
        } else {
            (x, 0.0)
        }
    }

    /// Constant outside `(0, 1)`: those arms yield literals.
    #[reverse]
    fn smoothstep(x: f64) -> f64 {
        if x <= 0.0 {
            0.0
        } else if x >= 1.0 {
            1.0
        } else {
            x * x * (3.0 - 2.0 * x)
        }
    }

    /// Slope 0.1, 1, 0.1, with kinks at 0 and 1.
    #[reverse]
    fn leaky_clamp(x: f64) -> f64 {
        if x < 0.0 {
            0.1 * x
        } else if x < 1.0 {
            x
        } else {
            1.0 + 0.1 * (x - 1.0)
        }
    }

    /// Points on both sides of the kinks at 0 and 1, at least 1e-3 away.
    const AROUND_0_AND_1: &[f64] = &[-2.0, -0.5, -1e-3, 1e-3, 0.5, 0.999, 1.001, 1.5, 4.0];

    #[test]
    fn kinks_on_both_sides() {
        let mut points = Vec::new();
        for delta in [1.0, 0.5, 2.0] {
            for x in [-3.0, -1.003, -0.997, 0.0, 0.3, 0.997, 1.003, 3.0] {
                points.push((x * delta, delta));
            }
        }
        check2("huber", huber, huber_grad, huber_closed, &points);
        check1(
            "smoothstep",
            smoothstep,
            smoothstep_grad,
            |x| {
                if x <= 0.0 || x >= 1.0 {
                    0.0
                } else {
                    6.0 * x * (1.0 - x)
                }
            },
            AROUND_0_AND_1,
        );
        check1(
            "leaky_clamp",
            leaky_clamp,
            leaky_clamp_grad,
            |x| if (0.0..1.0).contains(&x) { 1.0 } else { 0.1 },
            AROUND_0_AND_1,
        );
        // Exactly at the kinks: the arm taken decides.
        assert_eq!(smoothstep_grad(0.0), (0.0, 0.0));
        assert_eq!(leaky_clamp_grad(0.0), (0.0, 1.0));
        assert_eq!(leaky_clamp_grad(1.0), (1.0, 0.1));
        assert_eq!(huber_grad(1.0, 1.0).1, (1.0, 0.0));
    }
}

mod carried {
    use super::*;

    /// Two loop-carried values that swap: `b` is the Fibonacci polynomial `F_{n+2}(x)`.
    #[reverse]
    fn swapping(x: f64, n: usize) -> f64 {
        let mut a = 1.0;
        let mut b = x;
        for _ in 0..n {
            let t = a;
            a = b;
            b = t + a * x;
        }
        b
    }

    /// `F_m'(x) = (m L_m(x) - x F_m(x)) / (x² + 4)`, with `F_m = (α^m - β^m) / (α - β)` and the
    /// Lucas polynomial `L_m = α^m + β^m`, `α, β = (x ± √(x² + 4)) / 2`.
    fn swapping_closed(x: f64, n: usize) -> f64 {
        let m = n as i32 + 2;
        let root = (x * x + 4.0).sqrt();
        let (alpha, beta) = ((x + root) / 2.0, (x - root) / 2.0);
        let fib = (alpha.powi(m) - beta.powi(m)) / root;
        let lucas = alpha.powi(m) + beta.powi(m);
        (f64::from(m) * lucas - x * fib) / (x * x + 4.0)
    }

    /// The loop variable as an inactive value; the sum starts inactive and stays so for n = 0.
    #[reverse]
    fn index_weights(x: f64, n: usize) -> f64 {
        let mut s = 0.0;
        for i in 1..=n {
            let w = i as f64 / n as f64;
            s += w * (x * w).tanh() + (i % 2) as f64 * x;
        }
        s
    }

    fn index_weights_closed(x: f64, n: usize) -> f64 {
        (1..=n)
            .map(|i| {
                let w = i as f64 / n as f64;
                let sech = 1.0 / (x * w).cosh();
                w * w * sech * sech + if i % 2 == 1 { 1.0 } else { 0.0 }
            })
            .sum()
    }

    #[test]
    fn swapped_carried_values_and_inactive_loop_variable() {
        let xs = [-1.7, -0.4, 0.0, 0.6, 2.2];
        for n in [0, 1, 2, 5, 30] {
            check1(
                &format!("swapping(n = {n})"),
                |x| swapping(x, n),
                |x| swapping_grad(x, n),
                |x| swapping_closed(x, n),
                &xs,
            );
            check1(
                &format!("index_weights(n = {n})"),
                |x| index_weights(x, n),
                |x| index_weights_grad(x, n),
                |x| index_weights_closed(x, n),
                &xs,
            );
        }
        // F_4(x) = x³ + 2x.
        assert_close("F_4'", swapping_grad(1.5, 2).1, 3.0 * 1.5 * 1.5 + 2.0);
        assert_eq!(index_weights_grad(0.3, 0), (0.0, 0.0));
    }
}

mod effects {
    use super::*;

    /// Pushes in a loop body, in a branch inside the loop, in a `while` body and in a branch.
    #[reverse]
    fn logged(x: f64, n: usize, log: &mut Vec<usize>) -> f64 {
        let mut s = x;
        for i in 0..n {
            log.push(i);
            if s > 2.0 {
                log.push(100 + i);
                s = s.sqrt();
            } else {
                s = s * x + 0.5;
            }
        }
        let mut k = 0;
        while s < 50.0 && k < 3 {
            log.push(1000 + k);
            s *= 3.0;
            k += 1;
        }
        if s > 10.0 {
            log.push(log.len());
        }
        s
    }

    fn logged_model(x: f64, n: usize) -> f64 {
        let (mut s, mut ds) = (x, 1.0);
        for _ in 0..n {
            away(s, 2.0);
            if s > 2.0 {
                ds = 0.5 * ds / s.sqrt();
                s = s.sqrt();
            } else {
                ds = ds * x + s;
                s = s * x + 0.5;
            }
        }
        for _ in 0..3 {
            away(s, 50.0);
            if s >= 50.0 {
                break;
            }
            s *= 3.0;
            ds *= 3.0;
        }
        ds
    }

    #[test]
    fn side_effects_run_as_often_as_in_the_original() {
        let xs = [-0.8, 0.3, 1.4, 2.5, 30.0, 70.0];
        for n in [0, 1, 3, 8] {
            for &x in &xs {
                let mut original = vec![7];
                let value = logged(x, n, &mut original);
                let mut by_grad = vec![7];
                let (v, _) = logged_grad(x, n, &mut by_grad);
                assert_eq!(v.to_bits(), value.to_bits());
                assert_eq!(by_grad, original, "f_grad's side effects at ({x}, {n})");
                let mut by_vjp = vec![7];
                let _ = logged_vjp(x, n, &mut by_vjp, 0.5);
                assert_eq!(by_vjp, original, "f_vjp's side effects at ({x}, {n})");
                if n == 8 && x == 2.5 {
                    assert!(
                        original.iter().any(|&e| (100..1000).contains(&e)),
                        "{original:?}"
                    );
                    assert!(original.iter().any(|&e| e >= 1000), "{original:?}");
                }
            }
            check1(
                &format!("logged(n = {n})"),
                |x| logged(x, n, &mut Vec::new()),
                |x| logged_grad(x, n, &mut Vec::new()),
                |x| logged_model(x, n),
                &xs,
            );
        }
        let mut log = Vec::new();
        let _ = logged_grad(2.5, 2, &mut log);
        // i = 0: s > 2, sqrt; i = 1: s = 1.58.. ≤ 2; then three times ×3 and a last push.
        assert_eq!(log, [0, 100, 1, 1000, 1001, 1002, 6]);
    }
}

mod generic {
    use super::*;

    #[reverse]
    fn newton<T: Float>(a: T) -> T {
        let half = T::from(0.5).unwrap();
        let tol = T::from(1e-6).unwrap();
        let mut x = a.max(T::one());
        let mut step = x;
        let mut k = 0;
        while step.abs() > tol * x && k < 100 {
            let next = half * (x + a / x);
            step = next - x;
            x = next;
            k += 1;
        }
        x
    }

    #[reverse]
    fn huber<T: Float>(x: T, delta: T) -> T {
        let half = T::from(0.5).unwrap();
        if x < -delta {
            delta * (-x - half * delta)
        } else if x > delta {
            delta * (x - half * delta)
        } else {
            half * x * x
        }
    }

    #[reverse]
    fn sine_product<T: Float>(x: T, n: usize) -> T {
        let mut p = T::one();
        for k in 0..n {
            p = p * (x + T::from(k).unwrap() / T::from(n).unwrap()).sin();
        }
        p
    }

    fn sine_product_closed(x: f64, n: usize) -> f64 {
        let angles = (0..n).map(|k| x + k as f64 / n as f64);
        let product: f64 = angles.clone().map(f64::sin).product();
        product * angles.map(|a| a.cos() / a.sin()).sum::<f64>()
    }

    fn huber_closed(x: f64, delta: f64) -> (f64, f64) {
        away(x, -delta);
        away(x, delta);
        if x < -delta {
            (-delta, -x - delta)
        } else if x > delta {
            (delta, x - delta)
        } else {
            (x, 0.0)
        }
    }

    const AS: &[f64] = &[0.25, 1.0, 2.0, 7.0, 1e4];
    const HUBER: &[(f64, f64)] = &[
        (-3.0, 1.0),
        (-0.998, 1.0),
        (0.2, 1.0),
        (0.7, 0.5),
        (1.5, 1.0),
        (0.498, 0.5),
    ];

    #[test]
    fn generic_in_f64() {
        check1(
            "newton::<f64>",
            newton::<f64>,
            newton_grad::<f64>,
            |a| 0.5 / a.sqrt(),
            AS,
        );
        check2(
            "huber::<f64>",
            huber::<f64>,
            huber_grad::<f64>,
            huber_closed,
            HUBER,
        );
        for n in [0, 1, 7, 50] {
            check1(
                &format!("sine_product::<f64>(n = {n})"),
                |x| sine_product::<f64>(x, n),
                |x| sine_product_grad::<f64>(x, n),
                |x| sine_product_closed(x, n),
                &[0.3, 1.2, 1.9],
            );
        }
    }

    #[test]
    fn generic_in_f32() {
        let as32: Vec<f32> = AS.iter().map(|&a| a as f32).collect();
        check1_f32(
            "newton::<f32>",
            newton::<f32>,
            newton_grad::<f32>,
            |a| 0.5 / a.sqrt(),
            &as32,
        );
        for &(x, delta) in HUBER {
            let (x, delta) = (x as f32, delta as f32);
            let (value, (dx, dd)) = huber_grad::<f32>(x, delta);
            assert_eq!(value.to_bits(), huber::<f32>(x, delta).to_bits());
            let (wx, wd) = huber_closed(f64::from(x), f64::from(delta));
            assert!(
                (f64::from(dx) - wx).abs() <= 1e-6 * (1.0 + wx.abs()),
                "huber dx({x}, {delta})"
            );
            assert!(
                (f64::from(dd) - wd).abs() <= 1e-6 * (1.0 + wd.abs()),
                "huber dd({x}, {delta})"
            );
            check::gradient(|p| huber::<f32>(p[0], p[1]), &[x, delta], &[dx, dd])
                .assert_within(5e-3);
        }
        for n in [0, 1, 7, 50] {
            check1_f32(
                &format!("sine_product::<f32>(n = {n})"),
                |x| sine_product::<f32>(x, n),
                |x| sine_product_grad::<f32>(x, n),
                |x| sine_product_closed(x, n),
                &[0.3, 1.2, 1.9],
            );
        }
    }
}

mod single_precision {
    use super::*;

    #[reverse]
    fn logistic(r: f32, x0: f32, n: usize) -> f32 {
        let mut x = x0;
        for _ in 0..n {
            x = r * x * (1.0 - x);
        }
        x
    }

    #[reverse]
    fn branchy(x: f32, n: usize) -> f32 {
        let mut s = x;
        for i in 0..n {
            if i % 3 == 0 {
                s *= x;
            } else if s > 1.0 {
                s = s.sqrt() + 0.5 * x;
            } else {
                s += (x * i as f32).sin();
            }
        }
        s
    }

    /// As `loops_with_branches::branchy_model`, in f64.
    fn branchy_model(x: f64, n: usize) -> f64 {
        let (mut s, mut ds) = (x, 1.0);
        for i in 0..n {
            if i % 3 == 0 {
                ds = ds * x + s;
                s *= x;
            } else {
                away(s, 1.0);
                if s > 1.0 {
                    ds = 0.5 * ds / s.sqrt() + 0.5;
                    s = s.sqrt() + 0.5 * x;
                } else {
                    let w = i as f64;
                    ds += w * (x * w).cos();
                    s += (x * w).sin();
                }
            }
        }
        ds
    }

    #[test]
    fn f32_loops() {
        for (r, x0) in [(2.5_f32, 0.1_f32), (2.5, 0.9), (3.2, 0.3)] {
            for n in [0, 1, 5, 100_000] {
                let (value, (dr, dx0)) = logistic_grad(r, x0, n);
                assert_eq!(value.to_bits(), logistic(r, x0, n).to_bits());
                // Forward derivatives in f64 along the f64 trajectory: both trajectories go to
                // the same attractor.
                let (mut x, mut wr, mut wx0) = (f64::from(x0), 0.0, 1.0);
                for _ in 0..n {
                    let slope = f64::from(r) * (1.0 - 2.0 * x);
                    wr = x * (1.0 - x) + slope * wr;
                    wx0 *= slope;
                    x = f64::from(r) * x * (1.0 - x);
                }
                assert!(
                    (f64::from(dr) - wr).abs() <= 1e-5 * (1.0 + wr.abs()),
                    "dr({r}, {x0}, {n}): {dr} vs {wr}"
                );
                assert!(
                    (f64::from(dx0) - wx0).abs() <= 1e-5 * (1.0 + wx0.abs()),
                    "dx0({r}, {x0}, {n}): {dx0} vs {wx0}"
                );
                check::gradient(|p| logistic(p[0], p[1], n), &[r, x0], &[dr, dx0])
                    .assert_within(5e-3);
            }
        }
        for n in [0, 1, 5, 17] {
            check1_f32(
                &format!("branchy f32 (n = {n})"),
                |x| branchy(x, n),
                |x| branchy_grad(x, n),
                |x| branchy_model(x, n),
                &[0.4, 0.9, 1.3, 2.0, -0.7],
            );
        }
    }
}
