//! Containers a `#[reverse]` helper returns, used as a Rust user writes them first: bound
//! without a type and passed on (`let q = step(&p); total(&q)`), calls nested in calls, a
//! state carried by a loop (`x = step(&x, dt)`), one helper's result replaced by another's
//! in a branch. Flat `Vec<f64>` states and `Vec<[f64; 2]>` rows alike. Each value bitwise
//! against the original, each gradient against central differences and a closed form.

mod common;

use ad_runtime::{check, reverse};
use common::{FD_TOL, assert_close, check_slice};

/// One explicit Euler step of the decay `x' = -k x²`.
#[reverse]
fn euler(x: &[f64], k: f64, dt: f64) -> Vec<f64> {
    x.iter().map(|&v| v - dt * k * v * v).collect()
}

#[reverse]
fn energy(x: &[f64]) -> f64 {
    x.iter().map(|v| 0.5 * v * v).sum()
}

/// An ODE integrated by a helper returning the state, the state never annotated.
#[reverse]
fn integrate(x0: &[f64], k: f64) -> f64 {
    let mut x = euler(x0, k, 0.1);
    for _ in 0..20 {
        x = euler(&x, k, 0.1);
    }
    energy(&x) + x[0]
}

/// The same with the state read in the loop too.
#[reverse]
fn integrate_read(x0: &[f64]) -> f64 {
    let mut x = x0.to_vec();
    let mut path = 0.0;
    for step in 0..10 {
        x = euler(&x, 1.5, 0.05);
        path += x[step % x.len()];
    }
    path
}

#[test]
fn a_state_returned_by_a_helper_is_carried_by_a_loop() {
    let points = [vec![0.5, -0.3, 1.2], vec![0.1], vec![2.0, 0.0]];
    check_slice(
        "integrate",
        |x| integrate(x, 0.7),
        |x| {
            let (v, (dx, _)) = integrate_grad(x, 0.7);
            (v, dx)
        },
        None,
        &points,
    );
    check_slice(
        "integrate_read",
        integrate_read,
        integrate_read_grad,
        None,
        &points,
    );
    // The rate's derivative too.
    let x = [0.5, -0.3, 1.2];
    let (_, (_, dk)) = integrate_grad(&x, 0.7);
    let h = 1e-6;
    let fd = (integrate(&x, 0.7 + h) - integrate(&x, 0.7 - h)) / (2.0 * h);
    assert!((dk - fd).abs() < 1e-6 * (1.0 + fd.abs()), "{dk} vs {fd}");
}

/// Particles moved by a helper returning their rows.
#[reverse]
fn drift(p: &[[f64; 2]], t: f64) -> Vec<[f64; 2]> {
    p.iter()
        .map(|q| [q[0] + t * q[1], q[1] * (1.0 - t)])
        .collect()
}

#[reverse]
fn spread(p: &[[f64; 2]]) -> f64 {
    p.iter().map(|q| q[0] * q[0] + q[1] * q[1]).sum()
}

#[reverse]
fn drifted_spread(p: &[[f64; 2]]) -> f64 {
    let moved = drift(p, 0.5);
    spread(&moved)
}

#[reverse]
fn drifted_twice(p: &[[f64; 2]]) -> f64 {
    spread(&drift(&drift(p, 0.5), 0.25))
}

#[reverse]
fn drifted_for(p: &[[f64; 2]], steps: usize) -> f64 {
    let mut q = drift(p, 0.1);
    for _ in 0..steps {
        q = drift(&q, 0.1);
    }
    spread(&q)
}

/// A branch replacing the helper's result with another's (whole assignment of rows the
/// lowering cannot see the width of).
#[reverse]
fn drifted_if(p: &[[f64; 2]], far: bool) -> f64 {
    let mut q = drift(p, 0.5);
    if far {
        q = drift(&q, 2.0);
    }
    spread(&q) * q.len() as f64
}

/// `f` of flat floats, for central differences.
fn flat(f: impl Fn(&[[f64; 2]]) -> f64) -> impl Fn(&[f64]) -> f64 {
    move |x: &[f64]| {
        let rows: Vec<[f64; 2]> = x.chunks(2).map(|c| [c[0], c[1]]).collect();
        f(&rows)
    }
}

#[track_caller]
fn check_rows(
    name: &str,
    f: impl Fn(&[[f64; 2]]) -> f64 + Copy,
    grad: impl Fn(&[[f64; 2]]) -> (f64, Vec<[f64; 2]>),
) {
    for p in [
        vec![[0.3, 0.7], [0.5, -0.4]],
        vec![[1.0, 2.0]],
        vec![[-0.2, 0.1], [0.0, 0.0], [2.5, -1.5]],
    ] {
        let (value, dp) = grad(&p);
        assert_eq!(value.to_bits(), f(&p).to_bits(), "{name}({p:?})");
        let x: Vec<f64> = p.iter().flatten().copied().collect();
        let dx: Vec<f64> = dp.iter().flatten().copied().collect();
        let report = check::gradient(flat(f), &x, &dx);
        assert!(report.is_within(FD_TOL), "{name}({p:?}):\n{report}");
    }
}

#[test]
fn rows_returned_by_a_helper_are_passed_on_without_a_type() {
    check_rows("drifted_spread", drifted_spread, drifted_spread_grad);
    check_rows("drifted_twice", drifted_twice, drifted_twice_grad);
    check_rows(
        "drifted_for",
        |p| drifted_for(p, 3),
        |p| drifted_for_grad(p, 3),
    );
    for far in [false, true] {
        check_rows(
            "drifted_if",
            |p| drifted_if(p, far),
            |p| drifted_if_grad(p, far),
        );
    }
    // Closed form: drift(p, t) = [x + t y, (1 - t) y]; spread = sum of squares.
    let p = [[0.3, 0.7]];
    let (_, dp) = drifted_spread_grad(&p);
    let (x, y) = (p[0][0] + 0.5 * p[0][1], 0.5 * p[0][1]);
    assert_close("d/dx", dp[0][0], 2.0 * x);
    assert_close("d/dy", dp[0][1], 2.0 * x * 0.5 + 2.0 * y * 0.5);
}

/// A pendulum step on an array state taken by value.
#[reverse]
fn swing(s: [f64; 2], k: f64, dt: f64) -> [f64; 2] {
    [s[0] + dt * s[1], s[1] - dt * k * s[0].sin()]
}

/// Heun's method: array results passed on by value, given their type where they are bound
/// (passed by value, nothing else says they are not floats).
#[reverse]
fn heun(s0: [f64; 2], k: f64) -> f64 {
    let mut s = s0;
    for _ in 0..5 {
        let predicted: [f64; 2] = swing(s, k, 0.1);
        let corrected: [f64; 2] = swing(predicted, k, 0.1);
        s = [0.5 * (s[0] + corrected[0]), 0.5 * (s[1] + corrected[1])];
    }
    s[0] * s[1]
}

#[test]
fn array_results_passed_on_by_value_when_typed() {
    for s in [[0.3, 0.8], [-1.0, 0.25]] {
        let k = 1.5;
        let (value, (ds, dk)) = heun_grad(s, k);
        assert_eq!(value.to_bits(), heun(s, k).to_bits());
        let report = check::gradient(
            |p: &[f64]| heun([p[0], p[1]], p[2]),
            &[s[0], s[1], k],
            &[ds[0], ds[1], dk],
        );
        assert!(report.is_within(FD_TOL), "heun({s:?}):\n{report}");
    }
}

#[reverse]
fn sines(x: &[f64]) -> Vec<f64> {
    x.iter().map(|v| v.sin()).collect()
}

/// Early returns of containers, one a call's result, the tail a call's result: the function
/// returns a `Vec`, so each is one.
#[reverse]
fn early_sines(x: &[f64]) -> Vec<f64> {
    if x[0] > 0.0 {
        return sines(x);
    }
    if x[0] < -1.0 {
        return x.to_vec();
    }
    sines(&sines(x))
}

#[test]
fn returned_call_results_are_containers() {
    for x in [[0.3, -0.7], [-0.5, 0.2], [-1.5, 0.4]] {
        let (value, jacobian) = early_sines_jacobian(&x);
        assert_eq!(value, early_sines(&x));
        for (i, row) in jacobian.iter().enumerate() {
            let report = check::gradient(|p: &[f64]| early_sines(p)[i], &x, row);
            assert!(
                report.is_within(FD_TOL),
                "early_sines({x:?})[{i}]:\n{report}"
            );
        }
    }
}
