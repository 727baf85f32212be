//! Sub-slices, `windows`, `chunks` and `chunks_exact`, written as Rust users write them:
//! smoothness penalties, moving averages, convolutions, polylines, batched losses, sub-slices
//! handed to helpers and to `linalg`. Each value bitwise against the original, each gradient
//! against central differences and, where short, a closed form.

mod common;

use ad_runtime::{check, linalg, reverse};
use common::{FD_TOL, assert_close, check_slice};

const POINTS: &[&[f64]] = &[
    &[1.0, -0.5, 2.0, 0.25, 1.5],
    &[0.3, 0.9, -1.2, 0.0],
    &[2.0],
    &[],
];

/// A roughness penalty: squared first differences, by `windows`.
#[reverse]
fn roughness(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for w in x.windows(2) {
        s += (w[1] - w[0]).powi(2);
    }
    s
}

/// Second differences in a chain.
#[reverse]
fn curvature(x: &[f64]) -> f64 {
    x.windows(3)
        .map(|w| (w[0] - 2.0 * w[1] + w[2]).powi(2))
        .sum()
}

#[test]
fn differences_by_windows() {
    check_slice("roughness", roughness, roughness_grad, None, POINTS);
    check_slice("curvature", curvature, curvature_grad, None, POINTS);
    // d/dx_i of sum (x_{k+1} - x_k)^2 = 2 (x_i - x_{i-1}) - 2 (x_{i+1} - x_i).
    let x = [1.0, -0.5, 2.0, 0.25];
    let (_, dx) = roughness_grad(&x);
    for i in 0..x.len() {
        let left = if i > 0 { 2.0 * (x[i] - x[i - 1]) } else { 0.0 };
        let right = if i + 1 < x.len() {
            2.0 * (x[i + 1] - x[i])
        } else {
            0.0
        };
        assert_close("roughness'", dx[i], left - right);
    }
}

/// A moving average of width 3 and a convolution with a kernel, by `linalg::dot` on windows.
#[reverse]
fn smoothed(x: &[f64], kernel: &[f64; 3]) -> f64 {
    let averages: Vec<f64> = x.windows(3).map(|w| w.iter().sum::<f64>() / 3.0).collect();
    let mut s = 0.0;
    for w in x.windows(3) {
        s += linalg::dot(w, kernel).tanh();
    }
    s + averages.iter().map(|a| a * a).sum::<f64>()
}

#[test]
fn convolution_and_moving_average() {
    let kernel = [0.25, 0.5, -0.25];
    for x in POINTS {
        let (value, (dx, dk)) = smoothed_grad(x, &kernel);
        assert_eq!(value.to_bits(), smoothed(x, &kernel).to_bits());
        if !x.is_empty() {
            check::gradient(|p| smoothed(p, &kernel), x, &dx).assert_within(FD_TOL);
        }
        let g = |k: &[f64]| smoothed(x, &[k[0], k[1], k[2]]);
        check::gradient(g, &kernel, &dk).assert_within(FD_TOL);
    }
}

/// A batch of examples of 3 features each, one weight vector: the mean squared error of a
/// linear model, by `chunks_exact`; a ragged tail by `chunks`.
#[reverse]
fn batch_loss(data: &[f64], w: &[f64; 3]) -> f64 {
    let mut loss = 0.0;
    let mut n: f64 = 0.0;
    for example in data.chunks_exact(3) {
        let prediction = linalg::dot(example, w);
        loss += (prediction - 1.0).powi(2);
        n += 1.0;
    }
    let tail: f64 = data.chunks(2).map(|c| c[0] * c[c.len() - 1]).sum();
    loss / n.max(1.0) + 0.01 * tail
}

#[test]
fn batches_by_chunks() {
    let w = [0.5, -1.0, 0.25];
    let data = [1.0, 2.0, 0.5, -0.5, 1.5, 3.0, 0.25];
    let (value, (dd, dw)) = batch_loss_grad(&data, &w);
    assert_eq!(value.to_bits(), batch_loss(&data, &w).to_bits());
    check::gradient(|p| batch_loss(p, &w), &data, &dd).assert_within(FD_TOL);
    let g = |v: &[f64]| batch_loss(&data, &[v[0], v[1], v[2]]);
    check::gradient(g, &w, &dw).assert_within(FD_TOL);
}

/// Sub-slices handed to a helper and to `linalg`.
#[reverse]
fn first_last(x: &[f64]) -> f64 {
    x[0] * x[x.len() - 1]
}

#[reverse]
fn shifted(x: &[f64]) -> f64 {
    let n = x.len();
    let lag = linalg::dot(&x[1..], &x[..n - 1]);
    let head = &x[..2];
    lag + first_last(&x[1..=2])
        + linalg::logsumexp(&x[2..])
        + head[0] * head[1]
        + x[..].iter().sum::<f64>()
}

#[test]
fn sub_slices_to_helpers_and_linalg() {
    let points: &[&[f64]] = &[&[1.0, -0.5, 2.0, 0.25, 1.5], &[0.3, 0.9, -1.2]];
    check_slice("shifted", shifted, shifted_grad, None, points);
}

/// The length of a polyline of `[f64; 2]` points, by `windows` over rows.
#[reverse]
fn polyline(points: &[[f64; 2]]) -> f64 {
    points
        .windows(2)
        .map(|s| ((s[1][0] - s[0][0]).powi(2) + (s[1][1] - s[0][1]).powi(2)).sqrt())
        .sum()
}

#[test]
fn polyline_length_over_rows() {
    let points = vec![[0.0, 0.0], [3.0, 4.0], [3.0, 5.0], [1.0, 5.0]];
    let (value, dp) = polyline_grad(&points);
    assert_eq!(value, 8.0);
    // The middle point moves along the difference of its segments' unit vectors.
    assert_close("d/dx1", dp[1][0], 0.6);
    assert_close("d/dy1", dp[1][1], 0.8 - 1.0);
    let f = |p: &[f64]| {
        let rows: Vec<[f64; 2]> = p.chunks(2).map(|c| [c[0], c[1]]).collect();
        polyline(&rows)
    };
    check::gradient(f, points.as_flattened(), dp.as_flattened()).assert_within(FD_TOL);
}

#[test]
#[should_panic(expected = "out of bounds")]
fn slicing_past_the_end_panics_as_in_the_original() {
    let _ = shifted_grad(&[1.0, 2.0]);
}

#[test]
#[should_panic(expected = "must be non-zero")]
fn windows_of_zero_panic_as_in_the_original() {
    #[reverse]
    fn windows_of(x: &[f64], k: usize) -> f64 {
        x.windows(k).map(|w| w[0]).sum()
    }
    let _ = windows_of_grad(&[1.0, 2.0], 0);
}

/// A helper on a slice, handed windows, sub-slices and borrows as they are bound.
#[reverse]
fn squares(v: &[f64]) -> f64 {
    v.iter().map(|a| a * a).sum::<f64>()
}

/// The same for rows.
#[reverse]
fn products(p: &[[f64; 2]]) -> f64 {
    p.iter().map(|q| q[0] * q[1]).sum::<f64>()
}

/// Windows numbered by `enumerate`, borrows passed on as they are, rows taken apart in the
/// loop pattern, elements and rows swapped, an inactive pair of indices destructured.
#[reverse]
fn passed_on(x: &[f64], pts: &[[f64; 2]], edges: &[[usize; 2]]) -> f64 {
    let mut s = 0.0;
    for w in x.windows(2) {
        s += squares(w);
    }
    for (i, w) in x.windows(2).enumerate() {
        s += w[0] * i as f64;
    }
    for (i, c) in x.chunks(2).enumerate() {
        s += c[c.len() - 1] * i as f64;
    }
    for w in pts.windows(2) {
        s += products(w);
    }
    for [a, b] in pts.iter() {
        s += a * b;
    }
    let tail = &x[1..];
    let mut y = x.to_vec();
    y.swap(0, 2);
    let mut q = pts.to_vec();
    q.swap(0, 1);
    for [i, j] in edges.iter() {
        s += y[*i] * y[*j];
    }
    let [a, b] = edges[0];
    s + squares(tail) + y[0] * 2.0 + q[0][1] * 3.0 + y[a] - y[b]
}

#[test]
fn windows_numbered_borrows_passed_on_rows_taken_apart() {
    let x = [1.0, -0.5, 2.0, 0.25, 1.5];
    let pts = vec![[1.0, 2.0], [0.5, -1.0], [2.0, 0.5]];
    let edges = [[0, 1], [2, 1]];
    let (value, (dx, dp)) = passed_on_grad(&x, &pts, &edges);
    assert_eq!(value.to_bits(), passed_on(&x, &pts, &edges).to_bits());
    check::gradient(|p| passed_on(p, &pts, &edges), &x, &dx).assert_within(FD_TOL);
    let f = |p: &[f64]| {
        let rows: Vec<[f64; 2]> = p.chunks(2).map(|c| [c[0], c[1]]).collect();
        passed_on(&x, &rows, &edges)
    };
    check::gradient(f, pts.as_flattened(), dp.as_flattened()).assert_within(FD_TOL);
}

#[derive(ad_runtime::Params, Clone)]
struct Smooth {
    w: Vec<f64>,
}

/// Windows and sub-slices of a parameter struct's field.
#[reverse(wrt(m))]
fn smoothness(m: &Smooth) -> f64 {
    m.w.windows(2).map(|p| (p[1] - p[0]).powi(2)).sum::<f64>() + m.w[1..].iter().sum::<f64>()
}

#[test]
fn windows_of_a_field() {
    let m = Smooth {
        w: vec![1.0, 3.0, 2.0],
    };
    let (value, dm) = smoothness_grad(&m);
    assert_eq!(value.to_bits(), smoothness(&m).to_bits());
    // 2(w1 - w0)(-1); 2(w1 - w0) - 2(w2 - w1) + 1; 2(w2 - w1) + 1.
    assert_eq!(dm.w, vec![-4.0, 4.0 + 2.0 + 1.0, -2.0 + 1.0]);
}

/// A helper writing its `&mut [f64]`.
#[reverse]
fn scale_in_place(v: &mut [f64], s: f64) -> f64 {
    for e in v.iter_mut() {
        *e *= s;
    }
    v[0]
}

/// Sub-slices and a row lent to be written: each a copy, written back after the call.
#[reverse]
fn lent_parts(x: &[f64], t: f64) -> f64 {
    let mut y = x.to_vec();
    let first = scale_in_place(&mut y[1..3], t);
    let _ = scale_in_place(&mut y[2..], t * t);
    let mut rows = [[x[0], x[1]], [x[2], x[3]]];
    let _ = scale_in_place(&mut rows[1], t);
    first + y.iter().map(|v| v * v).sum::<f64>() + rows[1][0] * rows[0][1]
}

#[test]
fn sub_slices_and_rows_lent_to_be_written() {
    let x = [1.0, -0.5, 2.0, 0.25, 1.5];
    for t in [0.7, -1.25] {
        let (value, (dx, dt)) = lent_parts_grad(&x, t);
        assert_eq!(value.to_bits(), lent_parts(&x, t).to_bits());
        check::gradient(|p| lent_parts(p, t), &x, &dx).assert_within(FD_TOL);
        check::gradient(|p| lent_parts(&x, p[0]), &[t], &[dt]).assert_within(FD_TOL);
    }
}

/// Pairs of neighbours by `zip` with a `skip`: the skipped iterator is the items of the
/// sub-slice past the skip (empty past the end, as `skip` is).
#[reverse]
fn neighbours(x: &[f64]) -> f64 {
    let d: f64 = x
        .iter()
        .zip(x.iter().skip(1))
        .map(|(a, b)| (b - a).powi(2))
        .sum();
    let mut s = 0.0;
    for (a, b) in x.iter().zip(x.iter().skip(10)) {
        s += a * b;
    }
    for (a, b) in x.iter().zip(x.iter().copied().skip(2)) {
        s += a * b;
    }
    d + s
}

#[test]
fn zip_with_a_skipped_iterator() {
    check_slice("neighbours", neighbours, neighbours_grad, None, POINTS);
    assert_eq!(neighbours(&[1.0, -0.5, 2.0, 0.25, 1.5]), 18.0);
}
