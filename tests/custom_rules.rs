//! Derivatives the user gives: `#[reverse(rule = ..)]` around functions the macro cannot see
//! (a dependency's, an iterative solver, a stabilised formula), `#[reverse(zero_derivative)]`,
//! and `stop_gradient`. Each against a closed form and central differences.
#![allow(
    clippy::needless_range_loop,
    reason = "the functions are written as numerical code is, with index loops"
)]

mod common;

use ad_runtime::{check, reverse, stop_gradient};
use common::{FD_TOL, assert_close, check1, check2};

const TWO_OVER_SQRT_PI: f64 = std::f64::consts::FRAC_2_SQRT_PI;

// ----- a function from a dependency -----

/// `libm::erf`, which the macro cannot differentiate, with its derivative as the rule.
#[reverse(rule = erf_rule)]
fn erf(x: f64) -> f64 {
    libm::erf(x)
}

/// The rule: the parameters, the value, its cotangent; the parameter's adjoint back.
fn erf_rule(x: f64, _erf: f64, d_erf: f64) -> f64 {
    d_erf * TWO_OVER_SQRT_PI * (-x * x).exp()
}

#[reverse]
fn gaussian_cdf(x: f64, mu: f64, sigma: f64) -> f64 {
    0.5 * (1.0 + erf((x - mu) / (sigma * std::f64::consts::SQRT_2)))
}

#[test]
fn a_rule_wraps_a_function_from_a_dependency() {
    check1(
        "erf",
        erf,
        erf_grad,
        |x| TWO_OVER_SQRT_PI * (-x * x).exp(),
        &[0.0, 0.5, -0.5, 2.0, -3.0, 6.0],
    );
    // Called from a `#[reverse]` function, through its generated pullback.
    for &(x, mu, sigma) in &[(0.3, 0.0, 1.0), (-1.0, 0.5, 2.0), (4.0, 1.0, 0.5)] {
        let (value, (dx, dmu, dsigma)) = gaussian_cdf_grad(x, mu, sigma);
        assert_eq!(value.to_bits(), gaussian_cdf(x, mu, sigma).to_bits());
        let z = (x - mu) / sigma;
        let density = (-z * z / 2.0).exp() / (sigma * (2.0 * std::f64::consts::PI).sqrt());
        assert_close("d/dx", dx, density);
        assert_close("d/dmu", dmu, -density);
        assert_close("d/dsigma", dsigma, -density * z);
        check::gradient(
            |p| gaussian_cdf(p[0], p[1], p[2]),
            &[x, mu, sigma],
            &[dx, dmu, dsigma],
        )
        .assert_within(FD_TOL);
    }
}

// ----- an iterative solver -----

/// The real cube root of `a`, by Newton's method from a fixed start: differentiating the
/// iterations would be slow and, for a fixed iteration count, inexact.
#[reverse(rule = cube_root_rule)]
fn cube_root(a: f64) -> f64 {
    let mut y = if a.abs() > 1.0 { a / 3.0 } else { a.signum() };
    for _ in 0..100 {
        if y == 0.0 {
            break;
        }
        y -= (y * y * y - a) / (3.0 * y * y);
    }
    y
}

/// The implicit function theorem on `y³ - a = 0`: `dy/da = 1 / (3 y²)`, from the solution.
fn cube_root_rule(_a: f64, y: f64, dy: f64) -> f64 {
    dy / (3.0 * y * y)
}

#[reverse]
fn volume_to_side(v: f64, k: f64) -> f64 {
    let mut total = 0.0;
    for i in 1..4 {
        total += cube_root(v * i as f64) * k;
    }
    total
}

#[test]
fn a_rule_for_an_iterative_solver() {
    check1(
        "cube_root",
        cube_root,
        cube_root_grad,
        |a| 1.0 / (3.0 * a.cbrt().powi(2)),
        &[8.0, 0.5, -27.0, 1e3],
    );
    check2(
        "volume_to_side",
        volume_to_side,
        volume_to_side_grad,
        |v, k| {
            let d: f64 = (1..4)
                .map(|i| f64::from(i) / (3.0 * (v * f64::from(i)).cbrt().powi(2)))
                .sum();
            let s: f64 = (1..4).map(|i| (v * f64::from(i)).cbrt()).sum();
            (d * k, s)
        },
        &[(2.0, 1.0), (10.0, -0.5)],
    );
}

// ----- a numerically stabilised formula, with a container parameter -----

/// `ln Σ exp(x_i)`, shifted by the maximum so that it does not overflow.
#[reverse(rule = log_sum_exp_rule)]
fn log_sum_exp(x: &[f64], temperature: f64) -> f64 {
    let m = x.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b)) / temperature;
    m + x
        .iter()
        .map(|&v| (v / temperature - m).exp())
        .sum::<f64>()
        .ln()
}

/// The softmax, from the value (no overflow either): a container parameter's adjoint is added
/// into its buffer; the scalar's is returned.
fn log_sum_exp_rule(x: &[f64], t: f64, y: f64, dy: f64, dx: &mut [f64]) -> f64 {
    let mut dt = 0.0;
    for (d, &v) in dx.iter_mut().zip(x) {
        let p = (v / t - y).exp();
        *d += dy * p / t;
        dt -= dy * p * v / (t * t);
    }
    dt
}

#[reverse]
fn smooth_max_gap(x: &[f64], t: f64) -> f64 {
    log_sum_exp(x, t) - x[0] / t
}

#[test]
fn a_rule_with_a_container_parameter() {
    for x in [vec![1.0, 2.0, 3.0], vec![800.0, 799.0, -5.0], vec![0.0]] {
        let t = 1.5;
        let (value, (dx, dt)) = log_sum_exp_grad(&x, t);
        assert_eq!(value.to_bits(), log_sum_exp(&x, t).to_bits());
        assert!(value.is_finite(), "no overflow for {x:?}");
        let z: f64 = x.iter().map(|v| (v / t - value).exp()).sum();
        assert_close("softmax sums to one", z, 1.0);
        for (i, v) in x.iter().enumerate() {
            assert_close(&format!("d/dx[{i}]"), dx[i], (v / t - value).exp() / t);
        }
        let mut p = x.clone();
        p.push(t);
        let mut g = dx.clone();
        g.push(dt);
        let n = x.len();
        check::gradient(|p| log_sum_exp(&p[..n], p[n]), &p, &g).assert_within(FD_TOL);
        // Through a caller: its buffer receives the rule's additions.
        let (_, (dx2, dt2)) = smooth_max_gap_grad(&x, t);
        assert_close("caller d/dx[0]", dx2[0], dx[0] - 1.0 / t);
        assert_close("caller d/dt", dt2, dt + x[0] / (t * t));
    }
}

// ----- zero derivatives -----

const TABLE: [f64; 4] = [0.0, 0.25, 0.75, 1.0];

/// A lookup: piecewise constant, so its derivative is zero where it is defined.
#[reverse(zero_derivative)]
fn lookup(x: f64) -> f64 {
    TABLE[((x.clamp(0.0, 0.999)) * 4.0) as usize]
}

/// A pseudo-random draw seeded by the bits of `x`: no derivative to speak of.
#[reverse(zero_derivative)]
fn jitter(x: f64, amplitude: f64) -> f64 {
    let mut h = x.to_bits() ^ 0x9e37_79b9_7f4a_7c15;
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    amplitude * ((h >> 11) as f64 / (1u64 << 53) as f64 - 0.5)
}

#[reverse]
fn with_constants(x: f64, a: f64) -> f64 {
    x * x + lookup(x) * a + jitter(x, a)
}

#[test]
fn zero_derivatives() {
    let (value, dx) = lookup_grad(0.6);
    assert_eq!((value, dx), (0.75, 0.0));
    for &(x, a) in &[(0.1, 1.0), (0.6, -3.0), (2.0, 0.5)] {
        let (value, (dx, da)) = with_constants_grad(x, a);
        assert_eq!(value.to_bits(), with_constants(x, a).to_bits());
        assert_close("d/dx", dx, 2.0 * x);
        // `a` scales the lookup, and the jitter's derivative with respect to it is zero.
        assert_close("d/da", da, lookup(x));
    }
}

// ----- stop_gradient -----

/// `s · stop_gradient(s)`: the derivative flows through the first factor only.
#[reverse]
fn one_path_of_two(x: f64) -> f64 {
    let s = x.sin();
    s * stop_gradient(s)
}

/// Only `w`'s first use is differentiated; the weights in the normaliser are constants.
#[reverse]
fn normalised(w: &[f64]) -> f64 {
    let c = stop_gradient(w);
    let mut norm = 0.0;
    for i in 0..w.len() {
        norm += c[i] * c[i];
    }
    w[0] / norm.sqrt()
}

#[test]
fn stop_gradient_cuts_exactly_one_path() {
    for x in [0.0, 0.7, -2.0] {
        let (value, dx) = one_path_of_two_grad(x);
        assert_eq!(value.to_bits(), one_path_of_two(x).to_bits());
        // Half the true derivative, 2 sin x cos x, which central differences see.
        assert_close("d/dx", dx, x.sin() * x.cos());
        let full = check::central_differences(|p| one_path_of_two(p[0]), &[x])[0];
        assert!((full - 2.0 * dx).abs() < FD_TOL, "{full} vs 2 * {dx}");
    }
    let w = [3.0, 4.0];
    let (value, dw) = normalised_grad(&w);
    assert_eq!(value, 0.6);
    assert_eq!(dw, [0.2, 0.0]);
}
