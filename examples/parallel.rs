//! A data-parallel gradient with rayon: the loss of a one-hidden-layer network summed over a
//! batch, its gradient computed per mini-batch on every core (each worker writes into its own
//! buffer with the generated `batch_loss_grad_into`, then the workers' sums are added up).
//! Generated functions are plain Rust functions: they hold no state and are `Send + Sync`, so
//! nothing but the buffers needs care.
//!
//! Run with `cargo run --release --example parallel`; it prints the time of one full-batch
//! gradient sequentially and with rayon, and the speed-up.

use std::time::{Duration, Instant};

use ad_runtime::reverse;
use rayon::prelude::*;

/// Features per example.
const D: usize = 16;
/// Hidden units.
const H: usize = 32;
/// Weights: `H × D` input weights, `H` biases, `H` output weights, one output bias.
const WEIGHTS: usize = H * D + 2 * H + 1;
/// Examples per mini-batch: the unit of work of one task.
const CHUNK: usize = 256;

/// `Σ_k (net(x_k) - y_k)²` over the examples `x_k = x[k D..(k + 1) D]`, where
/// `net(x) = b + Σ_h v_h tanh(c_h + Σ_j W_hj x_j)`.
#[reverse(wrt(w))]
fn batch_loss(w: &[f64], x: &[f64], y: &[f64]) -> f64 {
    let mut loss = 0.0;
    for (k, target) in y.iter().enumerate() {
        let mut out = w[H * D + 2 * H];
        for h in 0..H {
            let mut a = w[H * D + h];
            for j in 0..D {
                a += w[h * D + j] * x[k * D + j];
            }
            out += w[H * D + H + h] * a.tanh();
        }
        let e = out - target;
        loss += e * e;
    }
    loss
}

/// The loss and its gradient over all examples, one mini-batch after another.
fn sequential(w: &[f64], x: &[f64], y: &[f64]) -> (f64, Vec<f64>) {
    let mut total = vec![0.0; WEIGHTS];
    let mut grad = vec![0.0; WEIGHTS];
    let mut loss = 0.0;
    for (xs, ys) in x.chunks(CHUNK * D).zip(y.chunks(CHUNK)) {
        loss += batch_loss_grad_into(w, xs, ys, &mut grad);
        total.iter_mut().zip(&grad).for_each(|(t, g)| *t += g);
    }
    (loss, total)
}

/// The same with rayon: each worker folds its mini-batches into its own sum (`grad` is the
/// scratch buffer `_grad_into` overwrites, `total` the worker's sum), then the sums are added
/// pairwise.
fn parallel(w: &[f64], x: &[f64], y: &[f64]) -> (f64, Vec<f64>) {
    x.par_chunks(CHUNK * D)
        .zip(y.par_chunks(CHUNK))
        .fold(
            || (0.0, vec![0.0; WEIGHTS], vec![0.0; WEIGHTS]),
            |(mut loss, mut total, mut grad), (xs, ys)| {
                loss += batch_loss_grad_into(w, xs, ys, &mut grad);
                total.iter_mut().zip(&grad).for_each(|(t, g)| *t += g);
                (loss, total, grad)
            },
        )
        .map(|(loss, total, _)| (loss, total))
        .reduce(
            || (0.0, vec![0.0; WEIGHTS]),
            |(la, mut a), (lb, b)| {
                a.iter_mut().zip(&b).for_each(|(x, y)| *x += y);
                (la + lb, a)
            },
        )
}

/// The fastest of `runs` calls of `f`.
fn fastest(runs: usize, mut f: impl FnMut()) -> Duration {
    (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn main() {
    let examples = 64 * CHUNK;
    let mut rng = fastrand::Rng::with_seed(7);
    let x: Vec<f64> = (0..examples * D).map(|_| rng.f64() * 2.0 - 1.0).collect();
    let y: Vec<f64> = (0..examples)
        .map(|k| x[k * D].sin() + x[k * D + 1])
        .collect();
    let w: Vec<f64> = (0..WEIGHTS).map(|_| (rng.f64() - 0.5) * 0.5).collect();

    let (loss_seq, grad_seq) = sequential(&w, &x, &y);
    let (loss_par, grad_par) = parallel(&w, &x, &y);
    // The sums are added in another order: equal up to rounding.
    let difference = grad_seq
        .iter()
        .zip(&grad_par)
        .map(|(a, b)| (a - b).abs() / a.abs().max(1.0))
        .fold(0.0, f64::max);
    println!(
        "{examples} examples, {WEIGHTS} weights, mini-batches of {CHUNK}: loss {loss_seq:.6} \
         (rayon: {loss_par:.6}), largest relative difference of the gradients {difference:.1e}"
    );

    let runs = 20;
    let one = fastest(runs, || {
        std::hint::black_box(sequential(&w, &x, &y));
    });
    let many = fastest(runs, || {
        std::hint::black_box(parallel(&w, &x, &y));
    });
    println!(
        "gradient of the full batch: sequential {:.2} ms, rayon on {} threads {:.2} ms: \
         speed-up {:.2}x",
        one.as_secs_f64() * 1e3,
        rayon::current_num_threads(),
        many.as_secs_f64() * 1e3,
        one.as_secs_f64() / many.as_secs_f64()
    );
}
