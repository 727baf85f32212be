//! The `no_std` crate's gradients against their closed forms (this test crate has `std`).

use ad_no_std::*;

#[track_caller]
fn close(got: f64, want: f64) {
    assert!(
        (got - want).abs() <= 1e-12 * want.abs().max(1.0),
        "got {got}, want {want}"
    );
}

#[track_caller]
fn all_close(got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{got:?} against {want:?}");
    for (&g, &w) in got.iter().zip(want) {
        close(g, w);
    }
}

#[test]
fn scalar_gradient() {
    let (x, y) = (0.7, -1.3);
    let (value, (dx, dy)) = scalar_grad(x, y);
    assert_eq!(value, scalar(x, y));
    close(dx, y * (x * y).cos() + x.exp() / y);
    close(dy, x * (x * y).cos() - x.exp() / (y * y));
    let (_, (vx, vy)) = scalar_vjp(x, y, 0.5);
    assert_eq!((vx, vy), (0.5 * dx, 0.5 * dy));
}

#[test]
fn generic_float_gradient() {
    let (value, dx) = cubic_grad(1.5f64);
    close(value, 1.5f64.powi(3) - 3.0);
    close(dx, 3.0 * 1.5 * 1.5 - 2.0);
    let (_, dx) = cubic_grad(-0.5f32);
    assert!((dx - (3.0 * 0.25 - 2.0)).abs() < 1e-6);
}

#[test]
fn slice_gradients() {
    let (x, w) = ([1.0, -2.0, 0.5], [0.3, 0.7, 2.0]);
    let (value, (dx, dw)) = weighted_squares_grad(&x, &w);
    close(value, 0.3 + 0.7 * 4.0 + 2.0 * 0.25);
    all_close(&dx, &[0.6, -2.8, 2.0]);
    all_close(&dw, &[1.0, 4.0, 0.25]);
    let (mut gx, mut gw) = ([9.0; 3], [9.0; 3]);
    let value_into = weighted_squares_grad_into(&x, &w, &mut gx, &mut gw);
    assert_eq!(value_into, value);
    assert_eq!((gx.to_vec(), gw.to_vec()), (dx, dw));
}

#[test]
fn vec_output_jacobian_and_vjp() {
    let (x, a) = ([1.5, -2.0], 0.5);
    let (value, rows) = scaled_squares_jacobian(&x, a);
    assert_eq!(value, scaled_squares(&x, a));
    // Columns: x₀, x₁, a.
    assert_eq!(rows.len(), 2);
    all_close(&rows[0], &[2.0 * 1.5 * a, 0.0, 1.5 * 1.5]);
    all_close(&rows[1], &[0.0, 2.0 * -2.0 * a, 4.0]);
    let (_, (dx, da)) = scaled_squares_vjp(&x, a, vec![1.0, 3.0]);
    all_close(&dx, &[rows[0][0], 3.0 * rows[1][1]]);
    close(da, rows[0][2] + 3.0 * rows[1][2]);
}

#[test]
fn vec_macro_and_to_vec() {
    let x = [0.5, -1.0, 2.0];
    let (value, dx) = shifted_grad(&x);
    close(value, 2.25 + 0.0 + 9.0 + 1.5);
    all_close(&dx, &[2.0 * 1.5 + 1.0, 1.0, 2.0 * 3.0 + 1.0]);
}

#[test]
fn stashed_loop() {
    let x = [0.9, 1.3, -0.4, 0.8];
    let (value, dx) = sine_chain_grad(&x);
    // Forward: the values s takes; backward: the chain rule through each step.
    let mut s = vec![1.0];
    for &xi in &x {
        s.push((s.last().unwrap() * xi).sin());
    }
    close(value, s[4]);
    let mut ds = 1.0;
    let mut want = [0.0; 4];
    for i in (0..4).rev() {
        let c = (s[i] * x[i]).cos();
        want[i] = ds * c * s[i];
        ds *= c * x[i];
    }
    all_close(&dx, &want);
}

#[test]
fn branches_and_while_loop() {
    let x = [1.5, -2.0, 3.0];
    // s = 2.25 + 2 + 9 = 13.25, halved 4 times to 0.828125 under the limit 1.
    let (value, (dx, dlimit)) = branches_grad(&x, 1.0);
    close(value, 13.25 / 16.0);
    all_close(&dx, &[3.0 / 16.0, -1.0 / 16.0, 6.0 / 16.0]);
    assert_eq!(dlimit, 0.0);
}

#[test]
fn array_copy_and_array_output() {
    let (v, t) = ([2.0, -1.0], 3.0);
    let (value, rows) = array_out_jacobian(v, t);
    assert_eq!(value, [6.0, 8.0]);
    // Columns: v₀, v₁, t.
    assert_eq!(rows, vec![vec![3.0, 0.0, 2.0], vec![0.0, 1.0, 6.0]]);
}

#[test]
fn array_parameter_gradient() {
    let v = [1.0, -2.0, 2.0];
    let (value, dv) = norm3_grad(&v);
    close(value, 3.0);
    all_close(&dv, &[1.0 / 3.0, -2.0 / 3.0, 2.0 / 3.0]);
}

#[test]
fn tuple_output_jacobian() {
    let (value, rows) = pair_jacobian(2.0, 5.0);
    assert_eq!(value, (10.0, 7.0));
    assert_eq!(rows, vec![vec![5.0, 2.0], vec![1.0, 1.0]]);
}

#[test]
fn mut_output_jacobian() {
    let (a, x) = (2.0, [1.0, -1.0]);
    let mut y = [3.0, 4.0];
    let ((), rows) = axpy_jacobian(a, &x, &mut y);
    assert_eq!(y, [7.0, 7.0]);
    // Rows: y₀, y₁ after; columns: a, x₀, x₁, y₀, y₁ on entry.
    assert_eq!(
        rows,
        vec![vec![3.0, 1.0, 0.0, 2.0, 0.0], vec![4.0, 0.0, 1.0, 0.0, 2.0]]
    );
}

#[test]
fn snapshot_before_a_linalg_call() {
    let x = [1.0, 2.0, -3.0];
    let (value, dx) = dot_then_write_grad(&x);
    close(value, 14.0 + 2.0 - 3.0);
    all_close(&dx, &[2.0, 5.0, -5.0]);
}

#[test]
fn calls_between_reverse_functions() {
    let (x, a) = ([0.3, -0.8], 1.7);
    let (value, (dx, da)) = sum_of_inner_grad(&x, a);
    let inner_d = |x: f64| {
        let (s, c, e) = ((x * a).sin(), (x * a).cos(), x.exp());
        (a * c * e + s * e, x * c * e)
    };
    close(value, inner(0.3, a) + inner(-0.8, a));
    all_close(&dx, &[inner_d(0.3).0, inner_d(-0.8).0]);
    close(da, inner_d(0.3).1 + inner_d(-0.8).1);
}

#[test]
fn parameter_struct() {
    let line = Line {
        slope: 0.5,
        offset: -1.0,
        weights: vec![1.0, 2.0],
    };
    let (xs, ys) = ([1.0, 3.0], [0.0, 1.0]);
    let (value, grad) = fit_grad(&line, &xs, &ys);
    // Residuals: e₀ = -0.5, e₁ = -0.5.
    let e = [-0.5, -0.5];
    close(value, 1.0 * 0.25 + 2.0 * 0.25);
    close(grad.slope, 2.0 * (1.0 * e[0] * 1.0 + 2.0 * e[1] * 3.0));
    close(grad.offset, 2.0 * (1.0 * e[0] + 2.0 * e[1]));
    all_close(&grad.weights, &[0.25, 0.25]);
    let (at, (dline, dx)) = line.at_grad(2.0);
    close(at, 0.0);
    assert_eq!(
        dline,
        Line {
            slope: 2.0,
            offset: 1.0,
            weights: vec![0.0, 0.0]
        }
    );
    close(dx, 0.5);
}

#[test]
fn given_rule_and_stop_gradient() {
    let (x, s) = ([1.0, -2.0], 3.0);
    let (value, (dx, ds)) = scaled_norm_grad(&x, s);
    close(value, 15.0);
    all_close(&dx, &[6.0, -12.0]);
    close(ds, 5.0);
    let (value, (dx, ds)) = uses_rule_grad(&x, s);
    close(value, 15.0 + 9.0);
    all_close(&dx, &[6.0, -12.0]);
    close(ds, 5.0 + 3.0);
}
