//! Calls between `#[reverse]` functions: the caller's reverse sweep calls the callee's
//! generated pullback. Chains, loops, modules, recursion, generics, slices and arrays, each
//! against a closed form (or an independent forward-mode derivation) and central differences.
#![allow(
    clippy::needless_range_loop,
    clippy::assign_op_pattern,
    reason = "the functions are written as numerical code is, with index loops"
)]

mod common;

use ad_runtime::{check, reverse};
use common::{FD_TOL, assert_close, check1, check2};

// ----- a chain three deep -----

#[reverse]
fn inner(x: f64) -> f64 {
    x.sin() * x
}

#[reverse]
fn middle(x: f64, y: f64) -> f64 {
    inner(x * y) + y.exp()
}

#[reverse]
fn outer(x: f64, y: f64) -> f64 {
    middle(x, y).powi(2) + inner(y)
}

fn inner_d(u: f64) -> f64 {
    u.sin() + u * u.cos()
}

#[test]
fn a_chain_three_deep() {
    check2(
        "outer",
        outer,
        outer_grad,
        |x, y| {
            let m = middle(x, y);
            let (mx, my) = (inner_d(x * y) * y, inner_d(x * y) * x + y.exp());
            (2.0 * m * mx, 2.0 * m * my + inner_d(y))
        },
        &[(0.3, -0.7), (0.0, 0.0), (1.5, 2.0), (-2.0, 0.1)],
    );
    // Each function's own gradient still works.
    check1("inner", inner, inner_grad, inner_d, &[0.0, 1.0, -3.0]);
}

// ----- a callee in loops -----

#[reverse]
fn bump(s: f64, a: f64, k: f64) -> f64 {
    s * a.cos() + (k * a).sin()
}

/// `s_{k+1} = s_k cos a + sin(k a)`, a loop-carried value through a call.
#[reverse]
fn iterate(a: f64, n: usize) -> f64 {
    let mut s = 1.0;
    for k in 0..n {
        s = bump(s, a, k as f64);
    }
    s
}

/// The same recurrence differentiated forward, by hand: `(s, ds/da)`.
fn iterate_forward(a: f64, n: usize) -> (f64, f64) {
    let (mut s, mut ds) = (1.0f64, 0.0f64);
    for k in 0..n {
        let k = k as f64;
        (s, ds) = (
            s * a.cos() + (k * a).sin(),
            ds * a.cos() - s * a.sin() + k * (k * a).cos(),
        );
    }
    (s, ds)
}

#[reverse]
fn term(x: f64, c: f64) -> f64 {
    c * x * x.tanh()
}

#[reverse]
fn sum_terms(x: &[f64], c: f64) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += term(x[i], c);
    }
    s
}

#[test]
fn a_callee_called_in_a_loop() {
    for n in [0, 1, 2, 50] {
        check1(
            &format!("iterate(.., {n})"),
            |a| iterate(a, n),
            |a| iterate_grad(a, n),
            |a| iterate_forward(a, n).1,
            &[0.0, 0.4, -1.3, 2.5],
        );
    }
    let x = [0.5, -1.0, 0.0, 2.0, 3.5];
    let c = 1.5;
    let (value, (dx, dc)) = sum_terms_grad(&x, c);
    assert_eq!(value.to_bits(), sum_terms(&x, c).to_bits());
    for (i, &xi) in x.iter().enumerate() {
        let sech2 = 1.0 / xi.cosh().powi(2);
        assert_close(&format!("d/dx[{i}]"), dx[i], c * (xi.tanh() + xi * sech2));
    }
    assert_close("d/dc", dc, x.iter().map(|&xi| xi * xi.tanh()).sum());
    let mut p = x.to_vec();
    p.push(c);
    let mut g = dx.clone();
    g.push(dc);
    check::gradient(|p| sum_terms(&p[..5], p[5]), &p, &g).assert_within(FD_TOL);
}

// ----- calls inside branches -----

#[reverse]
fn branchy(x: f64, y: f64) -> f64 {
    if x > y {
        inner(x) * y
    } else {
        middle(y, x) - x
    }
}

#[test]
fn calls_inside_branches() {
    check2(
        "branchy",
        branchy,
        branchy_grad,
        |x, y| {
            if x > y {
                (inner_d(x) * y, inner(x))
            } else {
                (inner_d(y * x) * y + x.exp() - 1.0, inner_d(y * x) * x)
            }
        },
        &[(2.0, 1.0), (-1.0, 0.5), (0.25, 0.2), (1.0, 3.0)],
    );
}

// ----- mutual recursion across modules -----

mod even {
    use ad_runtime::reverse;

    #[reverse]
    pub fn f(x: f64, n: u32) -> f64 {
        if n == 0 {
            x
        } else {
            super::odd::g(x, n - 1).sin()
        }
    }
}

mod odd {
    use ad_runtime::reverse;

    #[reverse]
    pub fn g(x: f64, n: u32) -> f64 {
        if n == 0 {
            x
        } else {
            crate::even::f(x * 1.1, n - 1) * x
        }
    }
}

/// `even::f` and `odd::g` differentiated forward, by hand: `(value, derivative)`.
fn even_forward(x: f64, n: u32) -> (f64, f64) {
    if n == 0 {
        return (x, 1.0);
    }
    let (g, dg) = odd_forward(x, n - 1);
    (g.sin(), g.cos() * dg)
}

fn odd_forward(x: f64, n: u32) -> (f64, f64) {
    if n == 0 {
        return (x, 1.0);
    }
    let (f, df) = even_forward(x * 1.1, n - 1);
    (f * x, df * 1.1 * x + f)
}

#[test]
fn mutual_recursion_across_modules() {
    for n in 0..7 {
        check1(
            &format!("even::f(.., {n})"),
            |x| even::f(x, n),
            |x| even::f_grad(x, n),
            |x| even_forward(x, n).1,
            &[0.3, -0.8, 1.7],
        );
        check1(
            &format!("odd::g(.., {n})"),
            |x| odd::g(x, n),
            |x| odd::g_grad(x, n),
            |x| odd_forward(x, n).1,
            &[0.3, -0.8, 1.7],
        );
    }
}

// ----- recursion -----

#[reverse]
fn power(x: f64, n: u32) -> f64 {
    if n == 0 { 1.0 } else { x * power(x, n - 1) }
}

#[test]
fn a_recursive_power() {
    for n in [0u32, 1, 2, 5, 9] {
        check1(
            &format!("power(.., {n})"),
            |x| power(x, n),
            |x| power_grad(x, n),
            |x| match n {
                0 => 0.0,
                _ => f64::from(n) * x.powi(n as i32 - 1),
            },
            &[0.0, 1.0, -1.5, 0.7, 2.0],
        );
    }
}

/// The determinant by expansion along the first row, recursing on the minors.
#[reverse]
fn det(a: &[f64], n: usize) -> f64 {
    if n == 1 {
        return a[0];
    }
    let m = n - 1;
    let mut total = 0.0;
    let mut sign = 1.0;
    for j in 0..n {
        let mut minor = vec![0.0; m * m];
        for r in 1..n {
            let mut k = 0;
            for c in 0..n {
                if c != j {
                    minor[(r - 1) * m + k] = a[r * n + c];
                    k += 1;
                }
            }
        }
        total += sign * a[j] * det(&minor, m);
        sign = -sign;
    }
    total
}

/// `A⁻¹` by Gauss-Jordan elimination with partial pivoting.
fn inverse(a: &[f64], n: usize) -> Vec<f64> {
    let mut m = a.to_vec();
    let mut inv: Vec<f64> = (0..n * n)
        .map(|k| if k / n == k % n { 1.0 } else { 0.0 })
        .collect();
    for col in 0..n {
        let pivot = (col..n)
            .max_by(|&i, &j| m[i * n + col].abs().total_cmp(&m[j * n + col].abs()))
            .unwrap();
        for c in 0..n {
            m.swap(col * n + c, pivot * n + c);
            inv.swap(col * n + c, pivot * n + c);
        }
        let p = m[col * n + col];
        for c in 0..n {
            m[col * n + c] /= p;
            inv[col * n + c] /= p;
        }
        for r in (0..n).filter(|&r| r != col) {
            let f = m[r * n + col];
            for c in 0..n {
                m[r * n + c] -= f * m[col * n + c];
                inv[r * n + c] -= f * inv[col * n + c];
            }
        }
    }
    inv
}

#[test]
fn a_determinant_by_expansion_by_minors() {
    let matrices: [(usize, Vec<f64>); 4] = [
        (1, vec![-2.5]),
        (2, vec![1.0, 2.0, 3.0, 4.0]),
        (3, vec![2.0, -1.0, 0.5, 1.0, 3.0, -2.0, 0.0, 1.5, 4.0]),
        (
            4,
            vec![
                1.0, 2.0, 0.0, -1.0, 3.0, 1.0, 2.0, 0.5, -2.0, 0.0, 1.0, 4.0, 1.5, -1.0, 2.0, 3.0,
            ],
        ),
    ];
    for (n, a) in matrices {
        let (value, da) = det_grad(&a, n);
        assert_eq!(value.to_bits(), det(&a, n).to_bits());
        // Jacobi's formula: d det(A) / dA = det(A) A⁻ᵀ.
        let inv = inverse(&a, n);
        for r in 0..n {
            for c in 0..n {
                assert!(
                    approx::relative_eq!(
                        da[r * n + c],
                        value * inv[c * n + r],
                        epsilon = 1e-12,
                        max_relative = 1e-10
                    ),
                    "d det / da[{r}][{c}] for n = {n}: {} vs {}",
                    da[r * n + c],
                    value * inv[c * n + r]
                );
            }
        }
        check::gradient(|p| det(p, n), &a, &da).assert_within(FD_TOL);
    }
}

// ----- generic callees -----

#[reverse]
fn fma_sin<T: ad_runtime::Float>(x: T, y: T) -> T {
    x.mul_add(y, x.sin())
}

#[reverse]
fn twice<T: ad_runtime::Float>(x: T) -> T {
    fma_sin(x, x) + fma_sin::<T>(x, T::one())
}

#[reverse]
fn concrete(x: f64) -> f64 {
    fma_sin(x, 2.0) * twice(x)
}

#[test]
fn generic_callees() {
    let d_twice = |x: f64| (2.0 * x + x.cos()) + (1.0 + x.cos());
    check1(
        "twice",
        twice::<f64>,
        twice_grad::<f64>,
        d_twice,
        &[0.0, 0.6, -2.0],
    );
    check1(
        "concrete",
        concrete,
        concrete_grad,
        |x| (2.0 + x.cos()) * twice(x) + fma_sin(x, 2.0) * d_twice(x),
        &[0.0, 0.6, -2.0],
    );
    let (v, dx) = twice_grad(0.5f32);
    assert_eq!(v.to_bits(), twice(0.5f32).to_bits());
    assert!((f64::from(dx) - d_twice(0.5)).abs() < 1e-5);
}

// ----- containers through calls -----

mod model {
    use ad_runtime::reverse;

    /// `y = tanh(W x)` for an `m × n` row-major `W`.
    #[reverse]
    pub fn layer(w: &[f64], x: &[f64], m: usize, n: usize) -> Vec<f64> {
        let mut y = vec![0.0; m];
        for i in 0..m {
            let mut s = 0.0;
            for j in 0..n {
                s += w[i * n + j] * x[j];
            }
            y[i] = s.tanh();
        }
        y
    }

    /// Scales `v` in place.
    #[reverse]
    pub fn scale(v: &mut [f64], a: f64) {
        for i in 0..v.len() {
            v[i] = v[i] * a;
        }
    }
}

/// Two layers, a scaling in place and a readout.
#[reverse]
fn network(w1: &[f64], w2: &[f64], x: &[f64], a: f64) -> f64 {
    let h = crate::model::layer(w1, x, 3, 2);
    let mut y = model::layer(w2, &h, 2, 3);
    model::scale(&mut y, a);
    y[0] * y[1] + y[1]
}

#[test]
fn slices_vec_results_and_in_place_writes_through_calls() {
    let w1 = [0.1, -0.2, 0.3, 0.5, 0.4, -0.6];
    let w2 = [0.7, -0.1, 0.2, -0.3, 0.8, 0.05];
    let x = [1.0, -1.5];
    let a = 1.7;
    let (value, (dw1, dw2, dx, da)) = network_grad(&w1, &w2, &x, a);
    assert_eq!(value.to_bits(), network(&w1, &w2, &x, a).to_bits());
    let mut p: Vec<f64> = w1.iter().chain(&w2).chain(&x).copied().collect();
    p.push(a);
    let grad: Vec<f64> = dw1
        .iter()
        .chain(&dw2)
        .chain(&dx)
        .copied()
        .chain([da])
        .collect();
    check::gradient(
        |p| network(&p[..6], &p[6..12], &p[12..14], p[14]),
        &p,
        &grad,
    )
    .assert_within(FD_TOL);
    // The readout's derivative with respect to `a` in closed form.
    let h = model::layer(&w1, &x, 3, 2);
    let y = model::layer(&w2, &h, 2, 3);
    assert_close("d/da", da, 2.0 * a * y[0] * y[1] + y[1]);
}

/// Time steps in place on the caller's buffer: a `&mut` parameter passed on.
#[reverse]
fn step(state: &mut [f64], dt: f64) {
    for i in 0..state.len() {
        state[i] = state[i] + dt * state[i].sin();
    }
}

#[reverse]
fn run(state: &mut [f64], dt: f64, steps: usize) {
    for _ in 0..steps {
        step(state, dt);
    }
}

#[test]
fn a_mut_parameter_passed_on_to_a_callee() {
    let (dt, steps) = (0.1, 4);
    let start = [0.3, -1.2, 2.0];
    let mut state = start;
    let (_, rows) = run_jacobian(&mut state, dt, steps);
    let mut end = start;
    run(&mut end, dt, steps);
    assert_eq!(state, end, "the outputs are written as by `run`");
    // Rows: d state_end[k] / d (state_start, dt). The map is separable per component.
    for k in 0..3 {
        let (mut s, mut ds, mut ddt) = (start[k], 1.0, 0.0);
        for _ in 0..steps {
            let next = s + dt * s.sin();
            ddt = ddt + ddt * dt * s.cos() + s.sin();
            ds *= 1.0 + dt * s.cos();
            s = next;
        }
        for c in 0..3 {
            assert_close(
                &format!("row {k}, column {c}"),
                rows[k][c],
                if c == k { ds } else { 0.0 },
            );
        }
        assert_close(&format!("row {k}, d/dt"), rows[k][3], ddt);
        let report = check::gradient(
            |p| {
                let mut v = [p[0], p[1], p[2]];
                run(&mut v, p[3], steps);
                v[k]
            },
            &[start[0], start[1], start[2], dt],
            &rows[k],
        );
        assert!(report.is_within(FD_TOL), "row {k}:\n{report}");
    }
}

#[reverse]
fn rotate(p: [f64; 2], t: f64) -> [f64; 2] {
    [
        p[0] * t.cos() - p[1] * t.sin(),
        p[0] * t.sin() + p[1] * t.cos(),
    ]
}

#[reverse]
fn rotated_area(p: [f64; 2], t: f64) -> f64 {
    let q = rotate(p, t);
    q[0] * q[1]
}

#[reverse]
fn total(v: Vec<f64>) -> f64 {
    v.iter().sum()
}

#[reverse]
fn moved(x: f64, y: f64) -> f64 {
    let v = vec![x, y, x * y];
    total(v) * x
}

#[test]
fn arrays_and_owned_vecs_passed_by_value() {
    let p = [1.5, -0.5];
    for t in [0.0, 0.4, -2.0] {
        let (value, (dp, dt)) = rotated_area_grad(p, t);
        assert_eq!(value.to_bits(), rotated_area(p, t).to_bits());
        // q0 q1 = (p0² - p1²) sin t cos t + p0 p1 (cos² t - sin² t)
        let (s, c) = t.sin_cos();
        assert_close("d/dp0", dp[0], 2.0 * p[0] * s * c + p[1] * (c * c - s * s));
        assert_close("d/dp1", dp[1], -2.0 * p[1] * s * c + p[0] * (c * c - s * s));
        assert_close(
            "d/dt",
            dt,
            (p[0] * p[0] - p[1] * p[1]) * (c * c - s * s) - 4.0 * p[0] * p[1] * s * c,
        );
    }
    check2(
        "moved",
        moved,
        moved_grad,
        |x, y| (2.0 * x + y + 2.0 * x * y, x + x * x),
        &[(1.0, 2.0), (-0.5, 0.0), (0.0, 3.0)],
    );
}

// ----- callees with wrt, and side effects -----

#[reverse(wrt(w))]
fn predict(w: &[f64], x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..w.len() {
        s += w[i] * x[i];
    }
    s.tanh()
}

/// The data `x` is inactive here and in `predict`: its gradient is never computed.
#[reverse(wrt(w))]
fn squared_error(w: &[f64], x: &[f64], target: f64) -> f64 {
    let e = predict(w, x) - target;
    e * e
}

#[test]
fn a_callee_restricted_by_wrt() {
    let w = [0.2, -0.4, 0.9];
    let x = [1.0, 2.0, -0.5];
    let (value, dw) = squared_error_grad(&w, &x, 0.3);
    assert_eq!(value.to_bits(), squared_error(&w, &x, 0.3).to_bits());
    let s: f64 = w.iter().zip(&x).map(|(a, b)| a * b).sum();
    for i in 0..3 {
        let want = 2.0 * (s.tanh() - 0.3) * (1.0 - s.tanh().powi(2)) * x[i];
        assert_close(&format!("d/dw[{i}]"), dw[i], want);
    }
    check::gradient(|p| squared_error(p, &x, 0.3), &w, &dw).assert_within(FD_TOL);
}

#[reverse]
fn logged(x: f64, log: &mut Vec<usize>) -> f64 {
    log.push(1);
    x * x
}

#[reverse]
fn logs_twice(x: f64, log: &mut Vec<usize>) -> f64 {
    logged(x, log) + logged(2.0 * x, log)
}

#[test]
fn side_effects_of_callees_run_once_per_call() {
    let mut log = Vec::new();
    let (value, dx) = logs_twice_grad(1.5, &mut log);
    assert_eq!(value, 5.0 * 1.5 * 1.5);
    assert_close("d/dx", dx, 10.0 * 1.5);
    assert_eq!(
        log,
        [1, 1],
        "each call of `logged` pushes once, as in `logs_twice`"
    );
}

// ----- associated functions -----

struct Physics;

impl Physics {
    #[reverse]
    fn energy(v: f64, h: f64) -> f64 {
        0.5 * v * v + 9.81 * h
    }

    #[reverse]
    fn scaled_energy(v: f64, h: f64, k: f64) -> f64 {
        k * Self::energy(v, h) + Physics::energy(h, v)
    }
}

#[test]
fn associated_functions_call_each_other() {
    let (v, h, k) = (3.0, 2.0, 0.5);
    let (value, (dv, dh, dk)) = Physics::scaled_energy_grad(v, h, k);
    assert_eq!(value.to_bits(), Physics::scaled_energy(v, h, k).to_bits());
    assert_close("d/dv", dv, k * v + 9.81);
    assert_close("d/dh", dh, k * 9.81 + h);
    assert_close("d/dk", dk, Physics::energy(v, h));
}

// ----- tuple results -----

#[reverse]
fn polar(r: f64, t: f64) -> (f64, f64) {
    (r * t.cos(), r * t.sin())
}

/// Destructures the callee's tuple, in and out of a loop, one element unused.
#[reverse]
fn polar_area(r: f64, t: f64) -> f64 {
    let (x, y) = polar(r, t);
    let mut s = x * y;
    for k in 0..3 {
        let (a, _) = polar(s, k as f64);
        s += a;
    }
    s
}

/// `polar_area` differentiated forward, by hand: `(value, d/dr, d/dt)`.
fn polar_area_forward(r: f64, t: f64) -> (f64, f64, f64) {
    let (c, s) = (t.cos(), t.sin());
    let mut v = r * r * c * s;
    let (mut dr, mut dt) = (2.0 * r * c * s, r * r * (c * c - s * s));
    for k in 0..3 {
        let ck = (k as f64).cos();
        (v, dr, dt) = (v + v * ck, dr * (1.0 + ck), dt * (1.0 + ck));
    }
    (v, dr, dt)
}

#[test]
fn tuple_results_destructured() {
    check2(
        "polar_area",
        polar_area,
        polar_area_grad,
        |r, t| {
            let (_, dr, dt) = polar_area_forward(r, t);
            (dr, dt)
        },
        &[(1.3, 0.4), (0.0, 1.0), (-2.0, -0.7)],
    );
}
