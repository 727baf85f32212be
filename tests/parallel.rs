//! Generated functions in rayon's data-parallel iterators: per-worker `_grad_into` buffers and
//! a reduction give the gradient of the whole batch (examples/parallel.rs measures the speed-up).

use ad_runtime::reverse;
use rayon::prelude::*;

/// Least squares of a line over a batch: `Σ_k (a x_k + b - y_k)²`.
#[reverse(wrt(p))]
fn line_loss(p: &[f64], x: &[f64], y: &[f64]) -> f64 {
    x.iter()
        .zip(y)
        .map(|(xk, yk)| {
            let e = p[0] * xk + p[1] - yk;
            e * e
        })
        .sum()
}

fn requires_send_sync<T: Send + Sync>(_: &T) {}

#[test]
fn generated_functions_are_send_and_sync() {
    requires_send_sync(&line_loss_grad_into);
    requires_send_sync(&line_loss_grad);
    requires_send_sync(&line_loss_vjp);
    requires_send_sync(&line_loss_jvp);
}

#[test]
fn per_worker_buffers_and_a_reduction_give_the_batch_gradient() {
    let n = 10_000;
    let x: Vec<f64> = (0..n).map(|k| (k as f64 * 0.37).sin()).collect();
    let y: Vec<f64> = x
        .iter()
        .map(|v| 2.0 * v - 0.5 + 0.1 * (v * 13.0).cos())
        .collect();
    let p = [1.5, 0.25];
    let (loss, grad) = x
        .par_chunks(97)
        .zip(y.par_chunks(97))
        .fold(
            || (0.0, [0.0; 2], [0.0; 2]),
            |(mut loss, mut total, mut scratch), (xs, ys)| {
                loss += line_loss_grad_into(&p, xs, ys, &mut scratch);
                total[0] += scratch[0];
                total[1] += scratch[1];
                (loss, total, scratch)
            },
        )
        .map(|(loss, total, _)| (loss, total))
        .reduce(
            || (0.0, [0.0; 2]),
            |(la, a), (lb, b)| (la + lb, [a[0] + b[0], a[1] + b[1]]),
        );
    // The closed form: ∂/∂a = Σ 2 e_k x_k, ∂/∂b = Σ 2 e_k.
    let (mut da, mut db, mut expected_loss) = (0.0, 0.0, 0.0);
    for (xk, yk) in x.iter().zip(&y) {
        let e = p[0] * xk + p[1] - yk;
        expected_loss += e * e;
        da += 2.0 * e * xk;
        db += 2.0 * e;
    }
    approx::assert_relative_eq!(loss, expected_loss, max_relative = 1e-12);
    approx::assert_relative_eq!(grad[0], da, max_relative = 1e-11);
    approx::assert_relative_eq!(grad[1], db, max_relative = 1e-11);
}
