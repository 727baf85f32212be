//! Iterator chains and closures, written as Rust users write them first: statistics, losses,
//! polynomials and cash flows with `map`, `filter`, `zip`, `enumerate`, `fold`, `max_by`,
//! `sum`, closures bound with `let` and passed to adaptors. Each gradient against a closed form
//! where one is short, always against central differences, each value bitwise against the
//! original function.

#![allow(
    clippy::needless_range_loop,
    reason = "the closed forms index several slices at once"
)]

mod common;

use std::iter::Sum;

use ad_runtime::{Float, check, reverse};
use common::{FD_TOL, assert_close, check_slice};

/// The points most functions here are checked at: signs mixed, a repeated value, an empty
/// slice and a single element.
fn points() -> Vec<Vec<f64>> {
    vec![
        vec![0.5, -1.25, 2.0, 0.75],
        vec![1.5, 0.25, 1.5, -0.5, 3.0],
        vec![0.0],
        vec![-0.3, 0.9],
    ]
}

// ----- statistics -----

#[reverse]
fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

#[reverse]
fn variance(x: &[f64]) -> f64 {
    let n = x.len() as f64;
    let m = x.iter().sum::<f64>() / n;
    x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / n
}

/// `√(Σ v²)`, through a collected `Vec` of squares.
#[reverse]
fn norm(x: &[f64]) -> f64 {
    let squares: Vec<f64> = x.iter().map(|v| v * v).collect();
    squares.iter().sum::<f64>().sqrt()
}

/// The geometric mean of positive values, `product` then `powf`.
#[reverse]
fn geometric_mean(x: &[f64]) -> f64 {
    let n = x.len() as f64;
    x.iter().product::<f64>().powf(1.0 / n)
}

#[reverse]
fn l1(x: &[f64]) -> f64 {
    x.iter().map(|v| v.abs()).sum()
}

#[test]
fn statistics() {
    let some: Vec<Vec<f64>> = points().into_iter().filter(|x| !x.is_empty()).collect();
    check_slice(
        "mean",
        mean,
        mean_grad,
        Some(&|x| vec![1.0 / x.len() as f64; x.len()]),
        &some,
    );
    check_slice(
        "variance",
        variance,
        variance_grad,
        Some(&|x| {
            let n = x.len() as f64;
            let m = x.iter().sum::<f64>() / n;
            x.iter().map(|v| 2.0 * (v - m) / n).collect()
        }),
        &some,
    );
    let nonzero = [vec![3.0, 4.0], vec![0.5, -1.5, 2.0]];
    check_slice(
        "norm",
        norm,
        norm_grad,
        Some(&|x| {
            let r = x.iter().map(|v| v * v).sum::<f64>().sqrt();
            x.iter().map(|v| v / r).collect()
        }),
        &nonzero,
    );
    let positive = [vec![2.0, 8.0], vec![0.5, 1.5, 3.0]];
    check_slice(
        "geometric_mean",
        geometric_mean,
        geometric_mean_grad,
        Some(&|x| {
            let n = x.len() as f64;
            let g = x.iter().product::<f64>().powf(1.0 / n);
            x.iter().map(|v| g / (n * v)).collect()
        }),
        &positive,
    );
    check_slice(
        "l1",
        l1,
        l1_grad,
        Some(&|x| x.iter().map(|v| v.signum()).collect()),
        &[vec![0.5, -1.25, 2.0], vec![-3.0]],
    );
}

// ----- losses -----

#[reverse]
fn mse(pred: &[f64], target: &[f64]) -> f64 {
    let n = pred.len() as f64;
    pred.iter()
        .zip(target)
        .map(|(p, t)| (p - t).powi(2))
        .sum::<f64>()
        / n
}

/// `log Σ exp(x)`, shifted by the maximum (`fold(f64::NEG_INFINITY, f64::max)`).
#[reverse]
fn logsumexp(x: &[f64]) -> f64 {
    let m = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    m + x.iter().map(|v| (v - m).exp()).sum::<f64>().ln()
}

/// Cross entropy of the softmax of `logits` against class `k`.
#[reverse]
fn cross_entropy(logits: &[f64], k: usize) -> f64 {
    let m = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let lse = m + logits.iter().map(|&z| (z - m).exp()).sum::<f64>().ln();
    lse - logits[k]
}

/// The Huber loss of residuals, its closure branching on the size of the residual.
#[reverse]
fn huber(r: &[f64], delta: f64) -> f64 {
    let loss = |e: f64| {
        if e.abs() <= delta {
            0.5 * e * e
        } else {
            delta * (e.abs() - 0.5 * delta)
        }
    };
    r.iter().map(|&e| loss(e)).sum()
}

/// The hinge loss `Σ max(0, 1 - y·s)`: `filter` keeps the violated margins.
#[reverse]
fn hinge(scores: &[f64], labels: &[f64]) -> f64 {
    scores
        .iter()
        .zip(labels.iter())
        .map(|(s, y)| 1.0 - y * s)
        .filter(|&m| m > 0.0)
        .sum()
}

fn softmax(x: &[f64]) -> Vec<f64> {
    let m = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = x.iter().map(|v| (v - m).exp()).collect();
    let s: f64 = e.iter().sum();
    e.iter().map(|v| v / s).collect()
}

#[test]
fn losses() {
    for (p, t) in [
        (vec![0.5, -1.0, 2.0], vec![1.0, 1.0, 1.5]),
        (vec![0.0], vec![-2.0]),
    ] {
        let (value, (dp, dt)) = mse_grad(&p, &t);
        assert_eq!(value.to_bits(), mse(&p, &t).to_bits());
        let n = p.len() as f64;
        for i in 0..p.len() {
            assert_close("dmse/dp", dp[i], 2.0 * (p[i] - t[i]) / n);
            assert_close("dmse/dt", dt[i], -2.0 * (p[i] - t[i]) / n);
        }
        check::gradient(|q| mse(q, &t), &p, &dp).assert_within(FD_TOL);
    }
    let some: Vec<Vec<f64>> = points().into_iter().filter(|x| !x.is_empty()).collect();
    check_slice(
        "logsumexp",
        logsumexp,
        logsumexp_grad,
        Some(&|x| softmax(x)),
        &some,
    );
    for x in &some {
        for k in [0, x.len() - 1] {
            let (value, dz) = cross_entropy_grad(x, k);
            assert_eq!(value.to_bits(), cross_entropy(x, k).to_bits());
            let mut want = softmax(x);
            want[k] -= 1.0;
            for i in 0..x.len() {
                assert_close("dce/dz", dz[i], want[i]);
            }
            check::gradient(|z| cross_entropy(z, k), x, &dz).assert_within(FD_TOL);
        }
    }
    for delta in [0.5, 1.0] {
        for r in [vec![0.25, -2.0, 1.5, -0.1], vec![3.0]] {
            let (value, (dr, dd)) = huber_grad(&r, delta);
            assert_eq!(value.to_bits(), huber(&r, delta).to_bits());
            for i in 0..r.len() {
                let want = if r[i].abs() <= delta {
                    r[i]
                } else {
                    delta * r[i].signum()
                };
                assert_close("dhuber/dr", dr[i], want);
            }
            let want_dd: f64 = r
                .iter()
                .filter(|e| e.abs() > delta)
                .map(|e| e.abs() - delta)
                .sum();
            assert_close("dhuber/ddelta", dd, want_dd);
            check::gradient(|q| huber(q, delta), &r, &dr).assert_within(FD_TOL);
        }
    }
    let (s, y) = (vec![0.5, 2.0, -0.25], vec![1.0, 1.0, -1.0]);
    let (value, (ds, dy)) = hinge_grad(&s, &y);
    assert_eq!(value.to_bits(), hinge(&s, &y).to_bits());
    for i in 0..s.len() {
        let violated = 1.0 - y[i] * s[i] > 0.0;
        assert_close("dhinge/ds", ds[i], if violated { -y[i] } else { 0.0 });
        assert_close("dhinge/dy", dy[i], if violated { -s[i] } else { 0.0 });
    }
    check::gradient(|q| hinge(q, &y), &s, &ds).assert_within(FD_TOL);
}

// ----- selections: max_by, min_by, reduce, filters -----

/// The largest value: `max_by` keeps the last of equal maxima, so the derivative goes there.
#[reverse]
fn largest(x: &[f64]) -> f64 {
    *x.iter().max_by(|a, b| a.total_cmp(b)).unwrap()
}

/// The smallest value: `min_by` keeps the first of equal minima.
#[reverse]
fn smallest(x: &[f64]) -> f64 {
    x.iter()
        .copied()
        .min_by(|a, b| a.partial_cmp(b).unwrap())
        .unwrap()
}

/// The largest square, or zero for an empty slice (`reduce` and `unwrap_or`).
#[reverse]
fn largest_square(x: &[f64]) -> f64 {
    x.iter().map(|v| v * v).reduce(f64::max).unwrap_or(0.0)
}

/// The sum of the positive values times how many there are.
#[reverse]
fn positive_part(x: &[f64]) -> f64 {
    let count = x.iter().filter(|&&v| v > 0.0).count();
    let total: f64 = x.iter().filter(|v| **v > 0.0).sum();
    total * count as f64
}

/// A product if every value is positive (`all`), a sum if any is negative (`any`).
#[reverse]
fn all_or_any(x: &[f64]) -> f64 {
    if x.iter().all(|v| *v > 0.0) {
        x.iter().product()
    } else if x.iter().any(|&v| v < -1.0) {
        x.iter().map(|v| v.sin()).sum()
    } else {
        0.0
    }
}

fn one_hot(len: usize, at: usize) -> Vec<f64> {
    let mut v = vec![0.0; len];
    v[at] = 1.0;
    v
}

#[test]
fn selections() {
    let some: Vec<Vec<f64>> = points().into_iter().filter(|x| !x.is_empty()).collect();
    let last_max = |x: &[f64]| {
        let m = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        one_hot(x.len(), x.iter().rposition(|&v| v == m).unwrap())
    };
    check_slice("largest", largest, largest_grad, Some(&last_max), &some);
    let first_min = |x: &[f64]| {
        let m = x.iter().copied().fold(f64::INFINITY, f64::min);
        one_hot(x.len(), x.iter().position(|&v| v == m).unwrap())
    };
    check_slice("smallest", smallest, smallest_grad, Some(&first_min), &some);
    // The tie in the second point (1.5 twice): the last one gets the derivative.
    let (_, d) = largest_grad(&[3.0, 1.0, 3.0]);
    assert_eq!(d, [0.0, 0.0, 1.0]);
    let (_, d) = smallest_grad(&[1.0, 3.0, 1.0]);
    assert_eq!(d, [1.0, 0.0, 0.0]);
    check_slice(
        "largest_square",
        largest_square,
        largest_square_grad,
        None,
        &points(),
    );
    assert_eq!(largest_square_grad(&[]), (0.0, vec![]));
    check_slice(
        "positive_part",
        positive_part,
        positive_part_grad,
        Some(&|x| {
            let count = x.iter().filter(|&&v| v > 0.0).count() as f64;
            x.iter()
                .map(|&v| if v > 0.0 { count } else { 0.0 })
                .collect()
        }),
        // Not at 0, where the count jumps.
        &[vec![0.5, -1.25, 2.0, 0.75], vec![-0.3, 0.9], vec![]],
    );
    check_slice(
        "all_or_any",
        all_or_any,
        all_or_any_grad,
        None,
        &[
            vec![0.5, 2.0, 1.5],
            vec![0.5, -2.0, 1.5],
            vec![0.5, -0.5],
            vec![],
        ],
    );
}

// ----- polynomials and sequences -----

/// `Σ cᵢ xⁱ` with `enumerate`.
#[reverse]
fn poly(c: &[f64], x: f64) -> f64 {
    c.iter()
        .enumerate()
        .map(|(i, ci)| ci * x.powi(i as i32))
        .sum()
}

/// The same polynomial by Horner's rule, `rev` then `fold`.
#[reverse]
fn horner(c: &[f64], x: f64) -> f64 {
    c.iter().rev().fold(0.0, |acc, &ci| acc * x + ci)
}

/// `Σ xᵢ x_{n-1-i}` over a range.
#[reverse]
fn palindrome(x: &[f64]) -> f64 {
    let n = x.len();
    (0..n).map(|i| x[i] * x[n - 1 - i]).sum::<f64>()
}

/// Sums of the first `k`, of the rest, and of every other value.
#[reverse]
fn windows_of_a_sequence(x: &[f64], k: usize) -> f64 {
    let head: f64 = x.iter().take(k).sum();
    let tail: f64 = x.iter().skip(k).map(|v| v * v).sum();
    let even: f64 = x.iter().step_by(2).map(|v| v.sin()).sum();
    head * tail + even
}

/// Every other value counted from the end, weighted by its position in that order.
#[reverse]
fn from_the_end(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for (k, v) in x.iter().rev().step_by(2).enumerate() {
        s += v * (k + 1) as f64;
    }
    s
}

#[test]
fn polynomials_and_sequences() {
    for (c, x) in [(vec![1.0, -2.0, 0.5, 3.0], 0.75), (vec![2.0], -1.5)] {
        let (value, (dc, dx)) = poly_grad(&c, x);
        assert_eq!(value.to_bits(), poly(&c, x).to_bits());
        let (hv, (hdc, hdx)) = horner_grad(&c, x);
        assert_eq!(hv.to_bits(), horner(&c, x).to_bits());
        let dpoly: f64 = (1..c.len())
            .map(|i| i as f64 * c[i] * x.powi(i as i32 - 1))
            .sum();
        assert_close("dpoly/dx", dx, dpoly);
        assert_close("dhorner/dx", hdx, dpoly);
        for i in 0..c.len() {
            assert_close("dpoly/dc", dc[i], x.powi(i as i32));
            assert_close("dhorner/dc", hdc[i], x.powi(i as i32));
        }
        check::gradient(|q| poly(q, x), &c, &dc).assert_within(FD_TOL);
    }
    check_slice(
        "palindrome",
        palindrome,
        palindrome_grad,
        Some(&|x| {
            let n = x.len();
            (0..n).map(|i| 2.0 * x[n - 1 - i]).collect()
        }),
        &points(),
    );
    for k in [0, 2, 9] {
        check_slice(
            "windows_of_a_sequence",
            |x| windows_of_a_sequence(x, k),
            |x| windows_of_a_sequence_grad(x, k),
            None,
            &points(),
        );
    }
    check_slice(
        "from_the_end",
        from_the_end,
        from_the_end_grad,
        Some(&|x| {
            let n = x.len();
            let mut d = vec![0.0; n];
            for (k, i) in (0..n).rev().step_by(2).enumerate() {
                d[i] = (k + 1) as f64;
            }
            d
        }),
        &points(),
    );
}

// ----- closures -----

/// A closure capturing active parameters, called directly and passed to `map`.
#[reverse]
fn affine_sum(x: &[f64], a: f64, b: f64) -> f64 {
    let affine = |v: f64| a * v + b;
    affine(1.0) + x.iter().map(|&v| affine(v)).sum::<f64>()
}

/// A closure made before the variable it captures is shadowed keeps the old value.
#[reverse]
fn captured_before_shadowing(x: f64) -> f64 {
    let scale = 2.0 * x;
    let times = |v: f64| v * scale;
    let scale = 100.0;
    times(x) + scale
}

/// `move` copies what it captures: a later assignment does not reach it.
#[reverse]
fn moved_capture(x: f64) -> f64 {
    let mut k = x;
    let add_k = move |v: f64| v + k;
    k *= 10.0;
    add_k(x) * k
}

/// `for_each` assigning the variable it captures, and `iter_mut().for_each` writing elements.
#[reverse]
fn for_each_forms(x: &mut [f64], a: f64) -> f64 {
    let mut s = 0.0;
    x.iter().for_each(|v| s += v.sin());
    x.iter_mut().for_each(|v| *v *= a);
    s
}

/// A closure calling another one, and one passed by reference.
#[reverse]
fn nested_closures(x: &[f64], w: f64) -> f64 {
    let square = |v: f64| v * v;
    let weighted = |v: f64| w * square(v);
    x.iter().copied().map(&weighted).sum::<f64>() + square(w)
}

/// Typed closure parameters, a closure called where it is written, and a comparator calling
/// a method on both arguments (found by a user trial: each failed to compile).
#[allow(clippy::redundant_closure_call, reason = "the form under test")]
#[reverse]
fn closure_forms(x: &[f64], a: f64) -> f64 {
    let scaled = |p: f64, q: f64| p * q;
    let shift = |p: &f64, q| p - q;
    let largest = x
        .iter()
        .copied()
        .max_by(|u, v| u.abs().partial_cmp(&v.abs()).unwrap())
        .unwrap();
    scaled(a, largest) + shift(&a, 1.0) + (|v: f64| v * v)(a)
}

/// An untyped `sum` as the value of an `if let` arm: the function's type reaches it.
#[reverse(wrt(x))]
fn head_sum(x: &[f64], k: Option<usize>) -> f64 {
    if let Some(k) = k {
        x.iter().take(k).sum()
    } else {
        x.iter().sum()
    }
}

/// A `move` closure owns copies: of an array written after it is made, and of a variable the
/// loop it is mapped in changes (found by a user trial: both read the later values).
#[reverse]
fn move_copies(x: &[f64], a: f64) -> f64 {
    let mut w = [a, 2.0 * a];
    let weigh = move |i: usize| w[i] * a;
    w[0] = 5.0 * a;
    let mut s = a;
    let scale = move |v: &f64| v * s;
    for t in x.iter().map(scale) {
        s = t;
    }
    weigh(0) + w[0] + s
}

/// A generic float with `Sum` bound.
#[reverse]
fn generic_norm<T: Float + Sum>(x: &[T]) -> T {
    x.iter().map(|&v| v * v).sum::<T>().sqrt()
}

#[test]
fn closures() {
    for (x, a, b) in [(vec![0.5, -1.0, 2.0], 1.5, -0.25), (vec![], 2.0, 1.0)] {
        let (value, (dx, da, db)) = affine_sum_grad(&x, a, b);
        assert_eq!(value.to_bits(), affine_sum(&x, a, b).to_bits());
        assert!(dx.iter().all(|&d| d == a));
        assert_close("da", da, 1.0 + x.iter().sum::<f64>());
        assert_close("db", db, 1.0 + x.len() as f64);
    }
    common::check1(
        "captured_before_shadowing",
        captured_before_shadowing,
        captured_before_shadowing_grad,
        |x| 4.0 * x,
        &[0.5, -2.0, 0.0],
    );
    common::check1(
        "moved_capture",
        moved_capture,
        moved_capture_grad,
        // (x + x) * 10x = 20x²
        |x| 40.0 * x,
        &[0.5, -2.0, 0.0],
    );
    let (x0, a) = (vec![0.5, -1.0, 2.0], 1.5);
    let mut x = x0.clone();
    let seed_x = vec![1.0, -0.5, 2.0];
    let (s, (dx, da)) = for_each_forms_vjp(&mut x, a, 1.0, seed_x.clone());
    let mut y = x0.clone();
    assert_eq!(s.to_bits(), for_each_forms(&mut y, a).to_bits());
    assert_eq!(x, y);
    for i in 0..3 {
        assert_close("dx", dx[i], x0[i].cos() + a * seed_x[i]);
    }
    let want_da: f64 = (0..3).map(|i| x0[i] * seed_x[i]).sum();
    assert_close("da", da, want_da);
    for (x, w) in [(vec![0.5, -1.0, 2.0], 1.5), (vec![3.0], -0.5)] {
        let (value, (dx, dw)) = nested_closures_grad(&x, w);
        assert_eq!(value.to_bits(), nested_closures(&x, w).to_bits());
        for i in 0..x.len() {
            assert_close("dx", dx[i], 2.0 * w * x[i]);
        }
        assert_close("dw", dw, x.iter().map(|v| v * v).sum::<f64>() + 2.0 * w);
    }
    for (x, a) in [(vec![1.0, -3.0, 2.0], 0.5), (vec![-0.25, 0.125], -1.5)] {
        let (value, (dx, da)) = closure_forms_grad(&x, a);
        assert_eq!(value.to_bits(), closure_forms(&x, a).to_bits());
        let at = (0..x.len())
            .max_by(|&i, &j| x[i].abs().partial_cmp(&x[j].abs()).unwrap())
            .unwrap();
        assert_close("da", da, x[at] + 1.0 + 2.0 * a);
        for i in 0..x.len() {
            assert_close("dx", dx[i], if i == at { a } else { 0.0 });
        }
    }
    for (x, a) in [(vec![0.4, -0.3], 0.33), (vec![], 1.5)] {
        let (value, (dx, da)) = move_copies_grad(&x, a);
        assert_eq!(value.to_bits(), move_copies(&x, a).to_bits());
        // a·a + 5a + (x[n-1]·a, or a without items)
        let last = x.last().copied();
        assert_close("da", da, 2.0 * a + 5.0 + last.unwrap_or(1.0));
        for i in 0..x.len() {
            assert_close("dx", dx[i], if i + 1 == x.len() { a } else { 0.0 });
        }
    }
    for k in [Some(2), None] {
        let x = [0.5, -1.0, 2.0];
        let (value, dx) = head_sum_grad(&x, k);
        assert_eq!(value.to_bits(), head_sum(&x, k).to_bits());
        let n = k.unwrap_or(3);
        for i in 0..3 {
            assert_close("dx", dx[i], if i < n { 1.0 } else { 0.0 });
        }
    }
    let x = [3.0f64, 4.0];
    let (value, dx) = generic_norm_grad(&x[..]);
    assert_eq!(value.to_bits(), generic_norm(&x[..]).to_bits());
    assert_close("d/dx0", dx[0], 0.6);
    assert_close("d/dx1", dx[1], 0.8);
    let x = [3.0f32, 4.0];
    let (value, dx) = generic_norm_grad(&x[..]);
    assert_eq!(value.to_bits(), generic_norm(&x[..]).to_bits());
    assert!((dx[0] - 0.6).abs() < 1e-6 && (dx[1] - 0.8).abs() < 1e-6);
}

// ----- finance -----

/// The net present value of cash flows at rate `r`, discounted with `powi` of the period.
#[reverse]
fn npv(cash: &[f64], r: f64) -> f64 {
    cash.iter()
        .enumerate()
        .map(|(t, c)| c / (1.0 + r).powi(t as i32))
        .sum()
}

/// Macaulay duration: `Σ t·PV(t) / Σ PV(t)`, two chains over the same discounted flows.
#[reverse]
fn duration(cash: &[f64], r: f64) -> f64 {
    let pv: Vec<f64> = cash
        .iter()
        .enumerate()
        .map(|(t, &c)| c * (1.0 + r).powi(-(t as i32)))
        .collect();
    let weighted: f64 = pv.iter().enumerate().map(|(t, p)| t as f64 * p).sum();
    weighted / pv.iter().sum::<f64>()
}

#[test]
fn finance() {
    for (cash, r) in [(vec![-100.0, 30.0, 40.0, 50.0], 0.05), (vec![10.0], 0.1)] {
        let (value, (dc, dr)) = npv_grad(&cash, r);
        assert_eq!(value.to_bits(), npv(&cash, r).to_bits());
        let want_dr: f64 = (0..cash.len())
            .map(|t| -(t as f64) * cash[t] / (1.0 + r).powi(t as i32 + 1))
            .sum();
        assert_close("dnpv/dr", dr, want_dr);
        for t in 0..cash.len() {
            assert_close("dnpv/dc", dc[t], (1.0 + r).powi(-(t as i32)));
        }
        let (value, (dc, dr)) = duration_grad(&cash, r);
        assert_eq!(value.to_bits(), duration(&cash, r).to_bits());
        check::gradient(|q| duration(q, r), &cash, &dc).assert_within(FD_TOL);
        check::gradient(|q| duration(&cash, q[0]), &[r], &[dr]).assert_within(FD_TOL);
    }
}

// ----- loops over chains -----

/// `for` over a chain with `filter` on the index of `enumerate`.
#[reverse]
fn even_positions(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for (i, v) in x.iter().enumerate().filter(|(i, _)| i % 2 == 0) {
        s += v * (i + 1) as f64;
    }
    s
}

/// `for` over `map` then `rev`, with `break` on a value.
#[reverse]
fn until_large(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for v in x.iter().map(|v| v * 2.0).rev() {
        if v > 3.0 {
            break;
        }
        s += v * v;
    }
    s
}

/// Writes through a filtered `iter_mut`.
#[reverse]
fn clip_in_place(x: &mut [f64], limit: f64) {
    for v in x.iter_mut().filter(|v| v.abs() > limit) {
        *v = limit * v.signum() + (*v - limit * v.signum()) * 0.1;
    }
}

#[test]
fn loops_over_chains() {
    check_slice(
        "even_positions",
        even_positions,
        even_positions_grad,
        Some(&|x| {
            (0..x.len())
                .map(|i| if i % 2 == 0 { (i + 1) as f64 } else { 0.0 })
                .collect()
        }),
        &points(),
    );
    check_slice(
        "until_large",
        until_large,
        until_large_grad,
        None,
        &[vec![0.5, 2.0, 0.25, 1.0], vec![1.0, 0.5]],
    );
    let x0 = vec![0.5, -3.0, 2.0, 1.0];
    let mut x = x0.clone();
    let seed = vec![1.0, 1.0, 1.0, 1.0];
    let ((), (dx, dlimit)) = clip_in_place_vjp(&mut x, 1.5, seed);
    let mut y = x0.clone();
    clip_in_place(&mut y, 1.5);
    assert_eq!(x, y);
    assert_eq!(dx, vec![1.0, 0.1, 0.1, 1.0]);
    // d/dlimit of limit·s + (v - limit·s)·0.1 = 0.9·s, at -3 and 2.
    assert_close("dlimit", dlimit, -0.9 + 0.9);
}
