//! Loops over a container's own iterator, written as Rust users write them first: `for v in x`,
//! `for &v in &w`, `for v in &mut y`. Each gradient against its closed form and central
//! differences, each value bitwise against the original function.

mod common;

use ad_runtime::{check, reverse};
use common::{FD_TOL, assert_close};

/// `Σ v²` over a slice, `for v in x` (`v: &f64`).
#[reverse]
fn sum_of_squares(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for v in x {
        s += v * v;
    }
    s
}

/// `Σ sin(a v)` over an array borrowed by the loop, `for &v in &w`.
#[reverse]
fn waves(w: [f64; 3], a: f64) -> f64 {
    let mut s = 0.0;
    for &v in &w {
        s += (v * a).sin();
    }
    s
}

/// A copy scaled in place through `for v in &mut y`, then consumed by `for v in y`.
#[reverse]
fn scaled_exp(x: &[f64], a: f64) -> f64 {
    let mut y = x.to_vec();
    for v in &mut y {
        *v *= a;
    }
    let mut s = 0.0;
    for v in y {
        s += v.exp();
    }
    s
}

#[test]
fn for_v_in_a_slice() {
    for x in [vec![0.5, -1.25, 2.0], vec![], vec![0.0]] {
        let (value, grad) = sum_of_squares_grad(&x);
        assert_eq!(value.to_bits(), sum_of_squares(&x).to_bits());
        for (i, &xi) in x.iter().enumerate() {
            assert_close("d/dx", grad[i], 2.0 * xi);
        }
        check::gradient(sum_of_squares, &x, &grad).assert_within(FD_TOL);
    }
}

#[test]
fn for_pattern_in_a_borrowed_array() {
    for (w, a) in [([0.3, -0.7, 1.1], 0.9), ([0.0, 2.0, -3.0], -1.5)] {
        let (value, (dw, da)) = waves_grad(w, a);
        assert_eq!(value.to_bits(), waves(w, a).to_bits());
        let mut want_da = 0.0;
        for k in 0..3 {
            assert_close("d/dw", dw[k], a * (w[k] * a).cos());
            want_da += w[k] * (w[k] * a).cos();
        }
        assert_close("d/da", da, want_da);
        let all = [w[0], w[1], w[2], a];
        let f = |p: &[f64]| waves([p[0], p[1], p[2]], p[3]);
        check::gradient(f, &all, &[dw[0], dw[1], dw[2], da]).assert_within(FD_TOL);
    }
}

#[test]
fn for_v_in_mut_then_by_value() {
    for (x, a) in [(vec![0.2, -0.4, 1.0], 0.7), (vec![1.5], -2.0)] {
        let (value, (dx, da)) = scaled_exp_grad(&x, a);
        assert_eq!(value.to_bits(), scaled_exp(&x, a).to_bits());
        let mut want_da = 0.0;
        for (i, &xi) in x.iter().enumerate() {
            assert_close("d/dx", dx[i], a * (a * xi).exp());
            want_da += xi * (a * xi).exp();
        }
        assert_close("d/da", da, want_da);
        let n = x.len();
        let f = |p: &[f64]| scaled_exp(&p[..n], p[n]);
        let mut all = x.clone();
        all.push(a);
        let mut grad = dx.clone();
        grad.push(da);
        check::gradient(f, &all, &grad).assert_within(FD_TOL);
    }
}
