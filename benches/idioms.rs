//! The same functions written two ways, as index loops and as iterator chains with closures:
//! the chain is rewritten into the loop it runs (docs/design.md), so its gradient must cost what
//! the index loop's does. Each pair's gradients are checked equal before anything is timed.
//!
//! Run: `cargo bench --bench idioms`
#![allow(
    clippy::needless_range_loop,
    reason = "the index-loop forms are the point of the comparison"
)]

use std::hint::black_box;

use ad_runtime::reverse;
use criterion::{BenchmarkId, Criterion};

#[reverse]
fn mse_loop(pred: &[f64], target: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..pred.len() {
        let e = pred[i] - target[i];
        s += e * e;
    }
    s / pred.len() as f64
}

#[reverse]
fn mse_chain(pred: &[f64], target: &[f64]) -> f64 {
    pred.iter()
        .zip(target)
        .map(|(p, t)| (p - t).powi(2))
        .sum::<f64>()
        / pred.len() as f64
}

#[reverse]
fn logsumexp_loop(x: &[f64]) -> f64 {
    let mut m = f64::NEG_INFINITY;
    for i in 0..x.len() {
        m = m.max(x[i]);
    }
    let mut s = 0.0;
    for i in 0..x.len() {
        s += (x[i] - m).exp();
    }
    m + s.ln()
}

#[reverse]
fn logsumexp_chain(x: &[f64]) -> f64 {
    let m = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    m + x.iter().map(|v| (v - m).exp()).sum::<f64>().ln()
}

#[reverse]
fn huber_loop(r: &[f64], delta: f64) -> f64 {
    let mut s = 0.0;
    for i in 0..r.len() {
        let e = r[i];
        s += if e.abs() <= delta {
            0.5 * e * e
        } else {
            delta * (e.abs() - 0.5 * delta)
        };
    }
    s
}

#[reverse]
fn huber_chain(r: &[f64], delta: f64) -> f64 {
    let loss = |e: f64| {
        if e.abs() <= delta {
            0.5 * e * e
        } else {
            delta * (e.abs() - 0.5 * delta)
        }
    };
    r.iter().map(|&e| loss(e)).sum()
}

/// A spring energy of points held flat, indexed `x[3 * i + d]`.
#[reverse]
fn springs_flat(x: &[f64]) -> f64 {
    let mut e = 0.0;
    for i in 1..x.len() / 3 {
        let mut r2 = 0.0;
        for d in 0..3 {
            let diff = x[3 * i + d] - x[3 * (i - 1) + d];
            r2 += diff * diff;
        }
        e += (r2 + 1.0).sqrt();
    }
    e
}

/// The same of points as `[f64; 3]` rows, indexed `x[i][d]` (held flat by the generated code).
#[reverse]
fn springs_rows(x: &[[f64; 3]]) -> f64 {
    let mut e = 0.0;
    for i in 1..x.len() {
        let mut r2 = 0.0;
        for d in 0..3 {
            let diff = x[i][d] - x[i - 1][d];
            r2 += diff * diff;
        }
        e += (r2 + 1.0).sqrt();
    }
    e
}

fn data(n: usize, seed: u64) -> Vec<f64> {
    let mut rng = fastrand::Rng::with_seed(seed);
    (0..n).map(|_| rng.f64() * 4.0 - 2.0).collect()
}

fn bench_idioms(c: &mut Criterion) {
    let mut group = c.benchmark_group("idioms");
    for n in [1_000, 100_000] {
        let (x, y) = (data(n, 1), data(n, 2));
        assert_eq!(mse_loop_grad(&x, &y).1, mse_chain_grad(&x, &y).1);
        assert_eq!(logsumexp_loop_grad(&x).1, logsumexp_chain_grad(&x).1);
        assert_eq!(huber_loop_grad(&x, 1.0).1, huber_chain_grad(&x, 1.0).1);
        group.bench_function(BenchmarkId::new("mse_loop", n), |b| {
            b.iter(|| mse_loop_grad(black_box(&x), black_box(&y)))
        });
        group.bench_function(BenchmarkId::new("mse_chain", n), |b| {
            b.iter(|| mse_chain_grad(black_box(&x), black_box(&y)))
        });
        group.bench_function(BenchmarkId::new("logsumexp_loop", n), |b| {
            b.iter(|| logsumexp_loop_grad(black_box(&x)))
        });
        group.bench_function(BenchmarkId::new("logsumexp_chain", n), |b| {
            b.iter(|| logsumexp_chain_grad(black_box(&x)))
        });
        group.bench_function(BenchmarkId::new("huber_loop", n), |b| {
            b.iter(|| huber_loop_grad(black_box(&x), 1.0))
        });
        group.bench_function(BenchmarkId::new("huber_chain", n), |b| {
            b.iter(|| huber_chain_grad(black_box(&x), 1.0))
        });
        let flat = &x[..x.len() / 3 * 3];
        let rows: Vec<[f64; 3]> = flat.chunks(3).map(|c| [c[0], c[1], c[2]]).collect();
        assert_eq!(
            springs_flat_grad(flat).1,
            springs_rows_grad(&rows).1.concat()
        );
        group.bench_function(BenchmarkId::new("springs_flat", n), |b| {
            b.iter(|| springs_flat_grad(black_box(flat)))
        });
        group.bench_function(BenchmarkId::new("springs_rows", n), |b| {
            b.iter(|| springs_rows_grad(black_box(&rows)))
        });
    }
    group.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    bench_idioms(&mut c);
    c.final_summary();
}
