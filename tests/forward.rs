//! Forward mode and second order: `f_jvp`, `f_hvp`, `f_hessian` on functions written as a
//! user writes them (iterator chains, closures, `[f64; 3]`, loops with exits), against
//! closed forms, against the reverse mode (`⟨u, J v⟩` both ways), and against central
//! differences of the gradient. Values are compared with `f` bit for bit.

mod common;

use ad_runtime::{Float, reverse, special};
use common::assert_close;

#[reverse]
fn smooth(x: f64, y: f64) -> f64 {
    x * y.sin() + x.exp() / y
}

/// `∇ smooth` and its Hessian, by hand.
fn smooth_closed(x: f64, y: f64) -> ([f64; 2], [[f64; 2]; 2]) {
    let g = [y.sin() + x.exp() / y, x * y.cos() - x.exp() / (y * y)];
    let h = [
        [x.exp() / y, y.cos() - x.exp() / (y * y)],
        [
            y.cos() - x.exp() / (y * y),
            -x * y.sin() + 2.0 * x.exp() / (y * y * y),
        ],
    ];
    (g, h)
}

#[test]
fn scalar_jvp_hvp_and_hessian_match_closed_forms() {
    for (x, y) in [(0.3, 0.7), (-1.2, 2.5), (2.0, -0.4), (0.0, 1.0)] {
        let (g, h) = smooth_closed(x, y);
        for (vx, vy) in [(1.0, 0.0), (0.0, 1.0), (0.6, -1.3)] {
            let (value, tangent) = smooth_jvp(x, y, vx, vy);
            assert_eq!(value.to_bits(), smooth(x, y).to_bits());
            assert_close("jvp", tangent, g[0] * vx + g[1] * vy);
            let (value, (gx, gy), (hx, hy)) = smooth_hvp(x, y, vx, vy);
            assert_eq!(value.to_bits(), smooth(x, y).to_bits());
            assert_close("hvp gradient x", gx, g[0]);
            assert_close("hvp gradient y", gy, g[1]);
            assert_close("hvp x", hx, h[0][0] * vx + h[0][1] * vy);
            assert_close("hvp y", hy, h[1][0] * vx + h[1][1] * vy);
        }
        let (value, (gx, gy), rows) = smooth_hessian(x, y);
        assert_eq!(value.to_bits(), smooth(x, y).to_bits());
        assert_eq!((gx, gy), smooth_grad(x, y).1);
        for (i, row) in rows.iter().enumerate() {
            for (j, &hij) in row.iter().enumerate() {
                assert_close("hessian", hij, h[i][j]);
            }
        }
    }
}

/// The extended Rosenbrock function, as an iterator chain over neighbouring pairs.
#[reverse]
fn rosenbrock(x: &[f64]) -> f64 {
    x.windows(2)
        .map(|w| 100.0 * (w[1] - w[0] * w[0]).powi(2) + (1.0 - w[0]).powi(2))
        .sum()
}

/// Rosenbrock's Hessian by hand: tridiagonal.
fn rosenbrock_hessian_by_hand(x: &[f64]) -> Vec<Vec<f64>> {
    let n = x.len();
    let mut h = vec![vec![0.0; n]; n];
    for i in 0..n - 1 {
        h[i][i] += 1200.0 * x[i] * x[i] - 400.0 * x[i + 1] + 2.0;
        h[i + 1][i + 1] += 200.0;
        h[i][i + 1] -= 400.0 * x[i];
        h[i + 1][i] -= 400.0 * x[i];
    }
    h
}

#[test]
fn slices_through_iterator_chains() {
    let x = [0.5, -1.2, 0.8, 1.1, -0.3];
    let v = [0.3, -0.7, 1.0, 0.2, -0.5];
    let (_, grad) = rosenbrock_grad(&x);
    let (value, tangent) = rosenbrock_jvp(&x, &v);
    assert_eq!(value.to_bits(), rosenbrock(&x).to_bits());
    let expected: f64 = grad.iter().zip(&v).map(|(g, v)| g * v).sum();
    assert_close("rosenbrock jvp", tangent, expected);
    let h = rosenbrock_hessian_by_hand(&x);
    let (value, g, hv) = rosenbrock_hvp(&x, &v);
    assert_eq!(value.to_bits(), rosenbrock(&x).to_bits());
    assert_eq!(g.len(), x.len());
    for i in 0..x.len() {
        assert_close("gradient", g[i], grad[i]);
        let want: f64 = (0..x.len()).map(|j| h[i][j] * v[j]).sum();
        assert_close("rosenbrock hvp", hv[i], want);
    }
    let (value, g, rows) = rosenbrock_hessian(&x);
    assert_eq!(value.to_bits(), rosenbrock(&x).to_bits());
    assert_eq!(g, grad);
    assert_eq!(rows.len(), x.len());
    for (row, want) in rows.iter().zip(&h) {
        for (&a, &b) in row.iter().zip(want) {
            assert_close("rosenbrock hessian", a, b);
        }
    }
}

/// A cross product and a norm on `[f64; 3]` rows, a closure, and an array output.
#[reverse]
fn torque(r: [f64; 3], f: [f64; 3]) -> [f64; 3] {
    let cross = |a: [f64; 3], b: [f64; 3]| {
        [
            a[1] * b[2] - a[2] * b[1],
            a[2] * b[0] - a[0] * b[2],
            a[0] * b[1] - a[1] * b[0],
        ]
    };
    let t = cross(r, f);
    let norm = (r[0] * r[0] + r[1] * r[1] + r[2] * r[2]).sqrt();
    [t[0] / norm, t[1] / norm, t[2] / norm]
}

#[test]
fn jvp_is_the_jacobian_times_the_direction() {
    let (r, f) = ([0.3, -1.0, 2.0], [1.5, 0.2, -0.7]);
    let (dr, df) = ([0.1, 0.4, -0.2], [-0.3, 0.5, 0.9]);
    let (value, tangent) = torque_jvp(r, f, dr, df);
    assert_eq!(value.map(f64::to_bits), torque(r, f).map(f64::to_bits));
    let (_, jacobian) = torque_jacobian(r, f);
    let direction: Vec<f64> = dr.iter().chain(&df).copied().collect();
    for (i, row) in jacobian.iter().enumerate() {
        let want: f64 = row.iter().zip(&direction).map(|(a, b)| a * b).sum();
        assert_close("torque jvp", tangent[i], want);
    }
    // ⟨u, J v⟩ = ⟨Jᵀ u, v⟩ with the vector-Jacobian product.
    let u = [0.7, -1.1, 0.4];
    let (_, (gr, gf)) = torque_vjp(r, f, u);
    let left: f64 = u.iter().zip(&tangent).map(|(a, b)| a * b).sum();
    let right: f64 = gr
        .iter()
        .chain(&gf)
        .zip(&direction)
        .map(|(a, b)| a * b)
        .sum();
    assert_close("<u, J v> = <J^T u, v>", left, right);
}

/// A while loop with an early exit and a branch: the tangent of the executed trace.
#[reverse]
fn damped(x: f64, k: f64) -> f64 {
    let mut s = x;
    let mut i = 0;
    while i < 50 {
        s = if s > 0.0 {
            s * k - 0.1
        } else {
            (s * s + k).sqrt()
        };
        if s.abs() > 10.0 {
            break;
        }
        i += 1;
    }
    s
}

#[test]
fn loops_with_exits_against_central_differences_of_the_gradient() {
    for (x, k) in [(0.5, 0.9), (2.0, 1.3), (-0.4, 0.5)] {
        let (_, (gx, gk)) = damped_grad(x, k);
        let (value, tangent) = damped_jvp(x, k, 0.3, -0.8);
        assert_eq!(value.to_bits(), damped(x, k).to_bits());
        assert_close("damped jvp", tangent, 0.3 * gx - 0.8 * gk);
        let (_, _, rows) = damped_hessian(x, k);
        let h = 1e-5;
        let (_, (ax, ak)) = damped_grad(x + h, k);
        let (_, (bx, bk)) = damped_grad(x - h, k);
        let column = [(ax - bx) / (2.0 * h), (ak - bk) / (2.0 * h)];
        for i in 0..2 {
            assert!(
                (rows[i][0] - column[i]).abs() <= 1e-6 * column[i].abs().max(1.0),
                "hessian at ({x}, {k}): {rows:?} against {column:?}"
            );
        }
        assert_close("symmetric", rows[0][1], rows[1][0]);
    }
}

/// A generic function at `f32`, a tuple output and a Vec output.
#[reverse]
fn polar<F: Float>(r: F, theta: F) -> (F, F) {
    (r * theta.cos(), r * theta.sin())
}

#[reverse]
fn scaled(x: &[f64], c: f64) -> Vec<f64> {
    x.iter().map(|&v| (v * c).tanh()).collect()
}

#[test]
fn outputs_and_float_types() {
    let (value, (dx, dy)) = polar_jvp(2.0f32, 0.5f32, 0.1, 1.0);
    assert_eq!(value, polar(2.0f32, 0.5f32));
    assert!((dx - (0.1 * 0.5f32.cos() - 2.0 * 0.5f32.sin())).abs() < 1e-6);
    assert!((dy - (0.1 * 0.5f32.sin() + 2.0 * 0.5f32.cos())).abs() < 1e-6);
    let x = [0.2, -0.5, 1.5];
    let (value, tangent) = scaled_jvp(&x, 0.8, &[1.0, 0.0, -1.0], 0.5);
    assert_eq!(value, scaled(&x, 0.8));
    for i in 0..3 {
        let slope = 1.0 - (x[i] * 0.8f64).tanh().powi(2);
        let dv = [1.0, 0.0, -1.0][i];
        assert_close("scaled jvp", tangent[i], slope * (dv * 0.8 + x[i] * 0.5));
    }
}

/// Kinks: the tangent at `abs(0)` and at a tie of `max` follows the same conventions as the
/// gradient (docs/semantics.md), so `⟨∇f, v⟩ = f_jvp(v)` there too.
#[reverse]
fn kinks(x: f64, y: f64) -> f64 {
    x.abs() + x.max(y) + (x * x + y * y).sqrt()
}

#[test]
fn kinks_agree_with_the_gradient() {
    for (x, y) in [(0.0, 0.0), (0.0, 1.0), (1.0, 1.0), (-2.0, 0.5)] {
        let (_, (gx, gy)) = kinks_grad(x, y);
        for (vx, vy) in [(1.0, 0.0), (0.0, 1.0)] {
            let (_, tangent) = kinks_jvp(x, y, vx, vy);
            assert_close("kink", tangent, gx * vx + gy * vy);
        }
    }
}

/// Special functions, second order (digamma's derivative is trigamma, whose is tetragamma).
#[reverse]
fn log_likelihood(a: f64, x: f64) -> f64 {
    (a - 1.0) * x.ln() - x - special::ln_gamma(a)
        + special::erf(x * 0.5)
        + special::digamma(a) * 0.1
}

#[test]
fn special_functions_second_order() {
    let (a, x) = (2.5, 1.7);
    let (_, _, rows) = log_likelihood_hessian(a, x);
    let h = 1e-5;
    let grad = |a, x| {
        let (_, (ga, gx)) = log_likelihood_grad(a, x);
        [ga, gx]
    };
    let columns = [
        [grad(a + h, x), grad(a - h, x)],
        [grad(a, x + h), grad(a, x - h)],
    ];
    for (j, [ahead, behind]) in columns.iter().enumerate() {
        for i in 0..2 {
            let want = (ahead[i] - behind[i]) / (2.0 * h);
            assert!(
                (rows[i][j] - want).abs() < 1e-6 * want.abs().max(1.0),
                "H[{i}][{j}] = {} against {want}",
                rows[i][j]
            );
        }
    }
}

/// Linear algebra primitives in forward mode, and `wrt`.
#[reverse(wrt(a, x))]
fn quadratic(a: &[f64], x: &[f64], n: usize, shift: f64) -> f64 {
    let ax = ad_runtime::linalg::matvec(a, x, n, n);
    ad_runtime::linalg::dot(x, &ax) + shift
}

#[test]
fn linalg_jvp() {
    let a = [2.0, 0.5, -1.0, 3.0];
    let x = [0.7, -0.2];
    let (da, dx) = ([0.1, 0.0, 0.3, -0.2], [1.0, 0.5]);
    let (value, tangent) = quadratic_jvp(&a, &x, 2, 4.0, &da, &dx);
    assert_eq!(value.to_bits(), quadratic(&a, &x, 2, 4.0).to_bits());
    let (_, (ga, gx)) = quadratic_grad(&a, &x, 2, 4.0);
    let want: f64 = ga
        .iter()
        .zip(&da)
        .chain(gx.iter().zip(&dx))
        .map(|(g, d)| g * d)
        .sum();
    assert_close("quadratic jvp", tangent, want);
}

/// An owned `Vec` the function writes in place: its tangent is written the same way.
#[reverse]
fn relax(mut u: Vec<f64>, steps: usize) -> f64 {
    for _ in 0..steps {
        for i in 1..u.len() - 1 {
            u[i] = 0.5 * u[i] + 0.25 * (u[i - 1] + u[i + 1]).sin();
        }
    }
    u.iter().map(|v| v * v).sum()
}

#[test]
fn containers_written_in_place() {
    let u = vec![0.1, 0.5, -0.3, 0.8, 0.2];
    let v = vec![0.2, -0.1, 0.4, 0.3, -0.6];
    let (_, grad) = relax_grad(u.clone(), 3);
    let (value, tangent) = relax_jvp(u.clone(), 3, v.clone());
    assert_eq!(value.to_bits(), relax(u.clone(), 3).to_bits());
    let want: f64 = grad.iter().zip(&v).map(|(g, d)| g * d).sum();
    assert_close("relax jvp", tangent, want);
    let (_, _, rows) = relax_hessian(u.clone(), 3);
    for (i, row) in rows.iter().enumerate() {
        for (j, &hij) in row.iter().enumerate() {
            assert_close("symmetric", hij, rows[j][i]);
        }
    }
}

/// A function whose derivative is given gets forward mode from its tangent rule: `jvp = path`
/// beside `rule = path`, taking the parameters, the value, then the tangents.
#[reverse(rule = erf_rule, jvp = erf_tangent)]
fn erf(x: f64) -> f64 {
    libm::erf(x)
}

fn erf_rule(x: f64, _erf: f64, d_erf: f64) -> f64 {
    d_erf * std::f64::consts::FRAC_2_SQRT_PI * (-x * x).exp()
}

fn erf_tangent(x: f64, _erf: f64, dx: f64) -> f64 {
    dx * std::f64::consts::FRAC_2_SQRT_PI * (-x * x).exp()
}

/// A lookup: `zero_derivative` has a zero tangent too.
#[reverse(zero_derivative)]
fn lookup(x: f64) -> f64 {
    [0.0, 0.25, 0.75, 1.0][(x.clamp(0.0, 0.999) * 4.0) as usize]
}

#[test]
fn given_derivatives_in_forward_mode() {
    for x in [-1.5, 0.0, 0.3, 2.0] {
        let (value, tangent) = erf_jvp(x, 0.5);
        assert_eq!(value.to_bits(), erf(x).to_bits());
        assert_close("erf jvp", tangent, 0.5 * erf_grad(x).1);
        assert_eq!(lookup_jvp(x, 1.0), (lookup(x), 0.0));
    }
}

/// `forward = false` leaves forward mode out (compile time); the reverse functions are as
/// before.
#[reverse(forward = false)]
fn reverse_only(x: f64) -> f64 {
    x.sin() * x
}

#[test]
fn forward_mode_can_be_turned_off() {
    let (value, dx) = reverse_only_grad(0.5);
    assert_eq!(value.to_bits(), reverse_only(0.5).to_bits());
    assert_close("reverse only", dx, 0.5f64.cos() * 0.5 + 0.5f64.sin());
}

/// Calls of other `#[reverse]` functions returning a float: the call's tangent is the callee's
/// gradient (from its pullback) times the arguments' tangents.
#[reverse]
fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

#[reverse]
fn norm<F: Float>(v: &[F]) -> F {
    v.iter().fold(F::zero(), |s, &e| s + e * e).sqrt()
}

#[reverse(wrt(x))]
fn times(x: f64, c: f64) -> f64 {
    x * c
}

#[reverse]
fn logistic_model(w: &[f64], b: f64, x: &[f64]) -> f64 {
    let z = w.iter().zip(x).map(|(a, b)| a * b).sum::<f64>() + b;
    sigmoid(z) + 0.1 * norm(w) + times(b, 3.0) * sigmoid(b * 2.0)
}

#[test]
fn calls_of_float_valued_functions() {
    let (w, x) = ([0.5, -0.3, 0.8], [1.0, 2.0, -1.0]);
    let (dw, dx) = ([0.1, 0.2, -0.3], [0.4, -0.1, 0.2]);
    let (value, tangent) = logistic_model_jvp(&w, 0.2, &x, &dw, 0.5, &dx);
    assert_eq!(value.to_bits(), logistic_model(&w, 0.2, &x).to_bits());
    let (_, (gw, gb, gx)) = logistic_model_grad(&w, 0.2, &x);
    let want = gw
        .iter()
        .zip(&dw)
        .chain(gx.iter().zip(&dx))
        .map(|(g, d)| g * d)
        .sum::<f64>()
        + gb * 0.5;
    assert_close("through calls", tangent, want);
}

/// Casts between float types in second order: the cast's pullback is linear in the cotangent,
/// and its tangent is the cast of the cotangent's tangent (review: it was dropped, `f_hvp` 0).
#[allow(clippy::unnecessary_cast, reason = "the cast is what is tested")]
#[reverse]
fn cast_same(x: f64) -> f64 {
    let y = x as f64;
    y * y * y
}

#[reverse]
fn cast_narrow(x: f64) -> f64 {
    let a = x as f32;
    (a * a) as f64
}

#[test]
fn casts_in_second_order() {
    for x in [0.7, -1.3] {
        assert_close("cast_same hvp", cast_same_hvp(x, 0.4).2, 6.0 * x * 0.4);
        let (_, _, rows) = cast_same_hessian(x);
        assert_close("cast_same hessian", rows[0][0], 6.0 * x);
        let hv = cast_narrow_hvp(x, 0.4).2;
        assert!((hv - 0.8).abs() < 1e-6, "{hv}");
    }
}

/// A container made by a call (not differentiated: a plain function, `stop_gradient`), then
/// written with values that vary: its tangent starts as zeros (review: generated code did not
/// compile, for `f` too).
fn make_buffer(n: usize) -> Vec<f64> {
    vec![1.5; n]
}

#[reverse]
fn written_after_a_call(x: &[f64]) -> f64 {
    let mut u = make_buffer(3);
    u[0] = x[0] * x[1];
    u[0] * u[1] + u[2] * x[2] * x[2]
}

/// `stop_gradient` stops derivatives of every order: the gradient's dependence on the stopped
/// value is not differentiated either (as JAX's `stop_gradient` under `jvp(grad(f))`), so
/// `f_hvp` is not the derivative of `f_grad` as a function where a stopped value varies.
#[reverse]
fn stopped_copy_written(x: &[f64]) -> f64 {
    let mut w = ad_runtime::stop_gradient(x.to_vec());
    w[1] = x[1].sin();
    w[0] * w[1]
}

#[test]
fn containers_made_by_calls_then_written() {
    let x = [0.3, -0.8, 1.1];
    let v = [0.5, 0.2, -0.7];
    let (value, tangent) = written_after_a_call_jvp(&x, &v);
    assert_eq!(value.to_bits(), written_after_a_call(&x).to_bits());
    let (_, g) = written_after_a_call_grad(&x);
    assert_close("jvp", tangent, g.iter().zip(&v).map(|(a, b)| a * b).sum());
    let (_, _, hv) = written_after_a_call_hvp(&x, &v);
    let h = 1e-5;
    let moved = |s: f64| {
        let p: Vec<f64> = x.iter().zip(&v).map(|(a, b)| a + s * b).collect();
        written_after_a_call_grad(&p).1
    };
    let (ahead, behind) = (moved(h), moved(-h));
    for i in 0..3 {
        let central = (ahead[i] - behind[i]) / (2.0 * h);
        assert!((hv[i] - central).abs() < 1e-6, "{i}: {} {central}", hv[i]);
    }
    // f = x0' sin(x1) with x0' stopped: ∇f = (0, x0' cos x1), and its tangent holds x0' still.
    let (value, g, hv) = stopped_copy_written_hvp(&x, &v);
    assert_eq!(value.to_bits(), stopped_copy_written(&x).to_bits());
    assert_eq!(g[0], 0.0);
    assert_close("stopped gradient", g[1], x[0] * x[1].cos());
    assert_close("stopped hvp", hv[1], -x[0] * x[1].sin() * v[1]);
    assert_eq!((hv[0], hv[2]), (0.0, 0.0));
    assert_eq!(stopped_copy_written_jvp(&x, &v).1, g[1] * v[1]);
}

#[test]
#[should_panic(expected = "rosenbrock_hvp: the tangent `dx` has 2 elements but `x` has 3")]
fn a_direction_of_the_wrong_length_is_a_clear_panic() {
    let _ = rosenbrock_hvp(&[1.0, 2.0, 3.0], &[1.0, 0.0]);
}
