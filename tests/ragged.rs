//! Containers of `Vec`s, written as Rust users write them first: samples of different
//! lengths as `&[Vec<f64>]`, sequences scored row by row, dynamic-programming tables and
//! grids as `vec![vec![0.0; m]; n]`. Each value bitwise against the original, each gradient
//! against central differences (and a closed form where one is short) in the parameter's
//! shape (`Vec<Vec<f64>>`), at points with empty rows and a single row; `f_grad_into`
//! against `f_grad`; the original's panics kept.

#![allow(
    clippy::needless_range_loop,
    reason = "index loops are one of the forms under test"
)]

mod common;

use ad_runtime::{check, linalg, reverse};
use common::{FD_TOL, assert_close};

/// `x` with its floats replaced by `flat`, in order.
fn reshaped(x: &[Vec<f64>], flat: &[f64]) -> Vec<Vec<f64>> {
    let mut rest = flat;
    x.iter()
        .map(|row| {
            let (head, tail) = rest.split_at(row.len());
            rest = tail;
            head.to_vec()
        })
        .collect()
}

/// Checks a function of one container of `Vec`s: the value bitwise, the gradient (shaped
/// like `x`) against central differences.
#[track_caller]
fn check_ragged(
    name: &str,
    f: impl Fn(&[Vec<f64>]) -> f64,
    grad: impl Fn(&[Vec<f64>]) -> (f64, Vec<Vec<f64>>),
    points: &[Vec<Vec<f64>>],
) {
    for x in points {
        let (value, dx) = grad(x);
        assert_eq!(
            value.to_bits(),
            f(x).to_bits(),
            "{name}({x:?}): value differs from the original"
        );
        let shape = |x: &[Vec<f64>]| x.iter().map(Vec::len).collect::<Vec<_>>();
        assert_eq!(shape(&dx), shape(x), "{name}: the gradient has x's shape");
        let report = check::gradient(|p| f(&reshaped(x, p)), &x.concat(), &dx.concat());
        assert!(
            report.is_within(FD_TOL),
            "{name}({x:?}) against central differences:\n{report}"
        );
    }
}

fn samples() -> Vec<Vec<Vec<f64>>> {
    vec![
        vec![vec![1.0, 2.0], vec![], vec![3.0, -4.0, 0.5]],
        vec![vec![0.25, -1.5, 2.0, 0.75]],
        vec![vec![-0.5], vec![1.5, 0.25], vec![0.1, 0.2, 0.3], vec![]],
    ]
}

// ----- reading rows -----

/// Index loops, `x[i].len()`, `x[i][j]`.
#[reverse]
fn weighted_squares(x: &[Vec<f64>]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        for j in 0..x[i].len() {
            s += x[i][j] * x[i][j] * (j as f64 + 1.0);
        }
    }
    s
}

#[test]
fn index_loops_over_rows_of_different_lengths() {
    check_ragged(
        "weighted_squares",
        weighted_squares,
        weighted_squares_grad,
        &samples(),
    );
    // Closed form: 2 x[i][j] (j + 1).
    let x = vec![vec![1.0, 2.0], vec![], vec![3.0, 4.0, 5.0]];
    let (_, dx) = weighted_squares_grad(&x);
    assert_eq!(dx, vec![vec![2.0, 8.0], vec![], vec![6.0, 16.0, 30.0]]);
}

/// The mean of each sample's log-sum-exp: an iterator chain per row, `for r in x`.
#[reverse]
fn mean_logsumexp(x: &[Vec<f64>]) -> f64 {
    let mut total = 0.0;
    let mut rows = 0;
    for r in x {
        if r.is_empty() {
            continue;
        }
        let m = r.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let s: f64 = r.iter().map(|v| (v - m).exp()).sum();
        total += m + s.ln();
        rows += 1;
    }
    total / rows as f64
}

#[test]
fn a_chain_per_row() {
    check_ragged(
        "mean_logsumexp",
        mean_logsumexp,
        mean_logsumexp_grad,
        &samples(),
    );
    // Closed form: softmax of each row over the number of rows.
    let x = vec![vec![0.0, 0.0], vec![1.0]];
    let (_, dx) = mean_logsumexp_grad(&x);
    assert_eq!(dx, vec![vec![0.25, 0.25], vec![0.5]]);
}

/// A chain over the rows whose closure runs a chain over each: `x.iter().map(|r| ..)`.
#[reverse]
fn sum_of_norms(x: &[Vec<f64>]) -> f64 {
    x.iter()
        .map(|r| r.iter().map(|v| v * v).sum::<f64>().sqrt().max(1e-3))
        .sum()
}

#[test]
fn chains_over_rows_and_within_them() {
    check_ragged("sum_of_norms", sum_of_norms, sum_of_norms_grad, &samples());
}

/// Rows with their index, a row passed to `linalg`, a row copied, a sub-slice of a row.
#[reverse]
fn attention(x: &[Vec<f64>], q: &[f64]) -> f64 {
    let mut s = 0.0;
    for (i, r) in x.iter().enumerate() {
        let n = r.len().min(q.len());
        let score = linalg::dot(&r[..n], &q[..n]);
        s += score.tanh() * (i as f64 + 1.0);
    }
    let first = x[0].clone();
    s + first.iter().sum::<f64>() * 0.5
}

#[test]
fn rows_to_linalg_and_sub_slices() {
    let q = [0.5, -1.0, 2.0];
    let f = |x: &[Vec<f64>]| attention(x, &q);
    let grad = |x: &[Vec<f64>]| {
        let (v, (dx, _)) = attention_grad(x, &q);
        (v, dx)
    };
    check_ragged("attention", f, grad, &samples());
    // The gradient with respect to `q` too.
    let x = &samples()[0];
    let (_, (_, dq)) = attention_grad(x, &q);
    let report = check::gradient(|q| attention(x, q), &q, &dq);
    assert!(report.is_within(FD_TOL), "{report}");
}

/// Samples of different lengths, a loss with a weight vector: `x.len()` and a row's
/// length pick the weights.
#[reverse]
fn batch_loss(x: &[Vec<f64>], w: &[f64], b: f64) -> f64 {
    let mut loss = 0.0;
    for r in x.iter() {
        let mut y = b;
        for (j, v) in r.iter().enumerate() {
            y += w[j % w.len()] * v;
        }
        loss += (y - r.len() as f64).powi(2);
    }
    loss / x.len() as f64
}

#[test]
fn a_loss_over_a_batch_of_sequences() {
    let (w, b) = ([0.5, -0.25, 1.0], 0.1);
    for x in samples() {
        let (value, (dx, dw, db)) = batch_loss_grad(&x, &w, b);
        assert_eq!(value.to_bits(), batch_loss(&x, &w, b).to_bits());
        let report = check::gradient(
            |p| batch_loss(&reshaped(&x, p), &w, b),
            &x.concat(),
            &dx.concat(),
        );
        assert!(report.is_within(FD_TOL), "{report}");
        let report = check::gradient(|w| batch_loss(&x, w, b), &w, &dw);
        assert!(report.is_within(FD_TOL), "{report}");
        let report = check::gradient(|b| batch_loss(&x, &w, b[0]), &[b], &[db]);
        assert!(report.is_within(FD_TOL), "{report}");
    }
}

// ----- owned, written, passed on -----

/// `Vec<Vec<f64>>` by value, written in place and copied.
#[reverse]
fn smoothed(mut x: Vec<Vec<f64>>) -> f64 {
    for i in 0..x.len() {
        for j in 1..x[i].len() {
            x[i][j] = 0.5 * (x[i][j] + x[i][j - 1]);
        }
    }
    let y = x.clone();
    y.iter()
        .map(|r| r.iter().map(|v| v.sin()).sum::<f64>())
        .sum()
}

#[test]
fn an_owned_container_of_vecs_written_in_place() {
    check_ragged(
        "smoothed",
        |x| smoothed(x.to_vec()),
        |x| smoothed_grad(x.to_vec()),
        &samples(),
    );
}

/// A helper taking the rows whole, and one taking a row.
#[reverse]
fn row_energy(r: &[f64]) -> f64 {
    r.iter().map(|v| v * v).sum::<f64>() * 0.5
}

#[reverse]
fn energies(x: &[Vec<f64>], w: &[f64]) -> f64 {
    let mut s = 0.0;
    for (i, r) in x.iter().enumerate() {
        s += w[i % w.len()] * row_energy(r);
    }
    s
}

#[reverse]
fn nested_calls(x: &[Vec<f64>], w: &[f64]) -> f64 {
    let a = energies(x, w);
    a * a + row_energy(&x[0])
}

#[test]
fn containers_of_vecs_and_their_rows_passed_to_helpers() {
    let w = [0.5, 2.0, 3.0];
    let f = |x: &[Vec<f64>]| nested_calls(x, &w);
    let grad = |x: &[Vec<f64>]| {
        let (v, (dx, _)) = nested_calls_grad(x, &w);
        (v, dx)
    };
    check_ragged("nested_calls", f, grad, &samples());
}

#[test]
fn grad_into_fills_the_callers_rows() {
    for x in samples() {
        let (value, dx) = weighted_squares_grad(&x);
        let mut buffer: Vec<Vec<f64>> = x.iter().map(|r| vec![f64::NAN; r.len()]).collect();
        let into = weighted_squares_grad_into(&x, &mut buffer);
        assert_eq!(into.to_bits(), value.to_bits());
        assert_eq!(buffer, dx);
    }
}

#[test]
#[should_panic(expected = "row 1 of `dx` has 2 elements but its parameter's has 0")]
fn grad_into_refuses_a_buffer_of_another_shape() {
    let x = vec![vec![1.0, 2.0], vec![], vec![3.0]];
    let mut buffer = vec![vec![0.0; 2], vec![0.0; 2], vec![0.0]];
    let _ = weighted_squares_grad_into(&x, &mut buffer);
}

#[test]
fn vjp_scales_the_gradient() {
    let x = &samples()[2];
    let (_, dx) = sum_of_norms_grad(x);
    let (_, scaled) = sum_of_norms_vjp(x, 2.5);
    for (a, b) in scaled.concat().iter().zip(dx.concat()) {
        assert_close("vjp", *a, 2.5 * b);
    }
}

// ----- grids made in the function -----

/// Dynamic time warping: a table `vec![vec![INF; m + 1]; n + 1]` filled by a recurrence.
#[reverse]
fn dtw(a: &[f64], b: &[f64]) -> f64 {
    let (n, m) = (a.len(), b.len());
    let mut d = vec![vec![f64::INFINITY; m + 1]; n + 1];
    d[0][0] = 0.0;
    for i in 1..=n {
        for j in 1..=m {
            let cost = (a[i - 1] - b[j - 1]).powi(2);
            d[i][j] = cost + d[i - 1][j].min(d[i][j - 1]).min(d[i - 1][j - 1]);
        }
    }
    d[n][m]
}

#[test]
fn a_dynamic_programming_table() {
    let (a, b) = ([0.0, 1.0, 2.5], [0.2, 1.1, 1.9, 2.4]);
    let (value, (da, db)) = dtw_grad(&a, &b);
    assert_eq!(value.to_bits(), dtw(&a, &b).to_bits());
    let report = check::gradient(|a| dtw(a, &b), &a, &da);
    assert!(report.is_within(FD_TOL), "{report}");
    let report = check::gradient(|b| dtw(&a, b), &b, &db);
    assert!(report.is_within(FD_TOL), "{report}");
}

/// A heat-equation step on a grid of `m` columns: rows read whole (`for row in &g`) and by
/// element, `g.len()` and `g[0].len()`.
#[reverse]
fn heat(x: &[f64], m: usize) -> f64 {
    let n = x.len();
    let mut g = vec![vec![0.0; m]; n];
    for i in 0..n {
        for j in 0..m {
            g[i][j] = x[i] * (j as f64 + 1.0);
            if i > 0 {
                g[i][j] += g[i - 1][j] * 0.5;
            }
        }
    }
    let mut s = 0.0;
    for row in &g {
        s += row.iter().map(|v| v * v).sum::<f64>();
    }
    s + g.len() as f64 + g[0].len() as f64
}

#[test]
fn a_grid_of_runtime_width() {
    let x = [1.0, 2.0, 0.5];
    for m in [0, 1, 2, 5] {
        let (value, dx) = heat_grad(&x, m);
        assert_eq!(value.to_bits(), heat(&x, m).to_bits());
        let report = check::gradient(|x| heat(x, m), &x, &dx);
        assert!(report.is_within(FD_TOL), "m = {m}: {report}");
    }
}

#[test]
fn indexing_past_the_rows_panics_as_the_original_does() {
    // `g[0].len()` of no rows: the original panics, and so does the gradient.
    let original = std::panic::catch_unwind(|| heat(&[], 3));
    let gradient = std::panic::catch_unwind(|| heat_grad(&[], 3));
    assert!(original.is_err() && gradient.is_err());
    // `x[i][j]` past a row's end, in a row that is not the last.
    let x = vec![vec![1.0], vec![2.0, 3.0]];
    assert!(std::panic::catch_unwind(|| past_the_row(&x)).is_err());
    assert!(std::panic::catch_unwind(|| past_the_row_grad(&x)).is_err());
}

#[reverse]
fn past_the_row(x: &[Vec<f64>]) -> f64 {
    x[0][1]
}

/// A row lent to a helper that writes it: a copy written back (a `&mut [f64]` keeps its
/// length), of a parameter's row and of a grid's.
#[reverse]
fn scale_row(r: &mut [f64], k: f64) {
    for v in r.iter_mut() {
        *v *= k;
    }
}

#[reverse]
fn lent_rows(mut x: Vec<Vec<f64>>, k: f64) -> f64 {
    scale_row(&mut x[1], k);
    let mut g = vec![vec![1.0; 2]; 2];
    scale_row(&mut g[0], k);
    x.iter().map(|r| r.iter().sum::<f64>()).sum::<f64>() + g[0][1] * x[1][0]
}

#[test]
fn rows_lent_to_a_helper_that_writes_them() {
    let x = vec![vec![1.0, 2.0], vec![3.0, 4.0, 5.0]];
    let (value, (dx, dk)) = lent_rows_grad(x.clone(), 2.0);
    assert_eq!(value.to_bits(), lent_rows(x.clone(), 2.0).to_bits());
    // Closed form: 39 = 3 + 2 (3 + 4 + 5) + 2 * (2 * 3).
    assert_eq!(value, 39.0);
    assert_eq!(dx, vec![vec![1.0, 1.0], vec![6.0, 2.0, 2.0]]);
    assert_eq!(dk, 24.0);
}

// ----- returned -----

/// A softmax per row, returned in the shape of the input.
#[reverse]
fn softmax_rows(x: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let mut y = x.to_vec();
    for i in 0..x.len() {
        let m = x[i].iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let s: f64 = x[i].iter().map(|v| (v - m).exp()).sum();
        for j in 0..x[i].len() {
            y[i][j] = (x[i][j] - m).exp() / s;
        }
    }
    y
}

#[test]
fn a_container_of_vecs_returned() {
    for x in samples() {
        let seed: Vec<Vec<f64>> = x
            .iter()
            .enumerate()
            .map(|(i, r)| (0..r.len()).map(|j| (i + 2 * j) as f64 - 1.5).collect())
            .collect();
        let (y, dx) = softmax_rows_vjp(&x, seed.clone());
        assert_eq!(y, softmax_rows(&x));
        let dot = |p: &[f64]| {
            let y = softmax_rows(&reshaped(&x, p));
            y.concat()
                .iter()
                .zip(seed.concat())
                .map(|(a, b)| a * b)
                .sum::<f64>()
        };
        let report = check::gradient(dot, &x.concat(), &dx.concat());
        assert!(report.is_within(FD_TOL), "{report}");
        // The Jacobian: one row per element of the output, flattened.
        let (y, jacobian) = softmax_rows_jacobian(&x);
        assert_eq!(y, softmax_rows(&x));
        assert_eq!(jacobian.len(), x.concat().len());
    }
}
