//! n-dimensional Rosenbrock: the gradient's cost against the primal's as n grows from 10 to
//! 10⁶ (it must stay a constant multiple), against the hand-written adjoint, and against the
//! peers a Rust user would pick instead. Every variant's gradient is checked against ours
//! before it is timed. Results and the machine: docs/performance.md.
//!
//! Run: `cargo bench --bench rosenbrock` (prints a table of medians and ratios at the end).

use std::hint::black_box;

use ad_suite::problems::rosenbrock::{
    rosenbrock, rosenbrock_grad, rosenbrock_grad_into, rosenbrock_hand, rosenbrock_pullback,
};
use criterion::{BenchmarkId, Criterion};
use easy_ml::differentiation::WengertList;

mod support;

use support::real::{self, Real, assert_gradient};

const SIZES: [usize; 4] = [10, 1_000, 100_000, 1_000_000];

/// Peers record or propagate per operation; above these sizes one of their gradients takes
/// long enough that sampling it would dominate the whole run, and the ratio is already clear.
const TAPE_MAX: usize = 1_000_000;
const EASY_ML_MAX: usize = 100_000;
/// Forward mode and finite differences cost n primal-like passes: O(n²).
const PER_INPUT_MAX: usize = 1_000;

/// Rosenbrock for a peer's number type: echidna's `Reverse` for `grad` and `BReverse` for
/// tapes, easy-ml's records, num-dual's duals (forward mode, one pass per input).
fn rosenbrock_peer<T: Real>(x: &[T]) -> T {
    let mut s = T::constant(0.0);
    for i in 0..x.len() - 1 {
        let a = x[i + 1] - x[i] * x[i];
        let b = T::constant(1.0) - x[i];
        s = s + T::constant(100.0) * a * a + b * b;
    }
    s
}

/// The classic start (-1.2, 1, -1.2, 1, ...), away from the minimum.
fn start(n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| if i % 2 == 0 { -1.2 } else { 1.0 })
        .collect()
}

fn bench_rosenbrock(c: &mut Criterion) {
    let mut group = c.benchmark_group("rosenbrock");
    for n in SIZES {
        let x = start(n);
        let (_, expected) = rosenbrock_grad(&x);
        let mut grad = vec![0.0; n];
        rosenbrock_hand(&x, &mut grad);
        assert_gradient("hand", &grad, &expected, 1e-12);

        group.bench_function(BenchmarkId::new("primal", n), |b| {
            b.iter(|| rosenbrock(black_box(&x)))
        });
        group.bench_function(BenchmarkId::new("grad", n), |b| {
            b.iter(|| rosenbrock_grad(black_box(&x)))
        });
        group.bench_function(BenchmarkId::new("grad_into", n), |b| {
            b.iter(|| rosenbrock_grad_into(black_box(&x), &mut grad))
        });
        // The same gradient without loop fusion: the separate forward and reverse sweeps that
        // `f_pullback` (called from other `#[reverse]` functions) runs.
        group.bench_function(BenchmarkId::new("unfused", n), |b| {
            b.iter(|| {
                grad.fill(0.0);
                rosenbrock_pullback(black_box(&x), 1.0, &mut grad[..])
            })
        });
        group.bench_function(BenchmarkId::new("hand", n), |b| {
            b.iter(|| rosenbrock_hand(black_box(&x), &mut grad))
        });
        if n <= TAPE_MAX {
            let g = echidna::grad(rosenbrock_peer, &x);
            assert_gradient("echidna_grad", &g, &expected, 1e-12);
            group.bench_function(BenchmarkId::new("echidna_grad", n), |b| {
                b.iter(|| echidna::grad(rosenbrock_peer, black_box(&x)))
            });
            let (mut tape, _) = echidna::record(rosenbrock_peer, &x);
            assert_gradient("echidna_tape", &tape.gradient(&x), &expected, 1e-12);
            group.bench_function(BenchmarkId::new("echidna_tape", n), |b| {
                b.iter(|| tape.gradient(black_box(&x)))
            });
        }
        if n <= EASY_ML_MAX {
            let list = WengertList::new();
            let easy_ml = |x: &[f64]| real::easy_ml_gradient_on(&list, |p| rosenbrock_peer(p), x);
            assert_gradient("easy_ml", &easy_ml(&x), &expected, 1e-12);
            group.bench_function(BenchmarkId::new("easy_ml", n), |b| {
                b.iter(|| easy_ml(black_box(&x)))
            });
        }
        if n <= PER_INPUT_MAX {
            assert_gradient(
                "num_dual",
                &real::num_dual_gradient(rosenbrock_peer, &x),
                &expected,
                1e-12,
            );
            group.bench_function(BenchmarkId::new("num_dual", n), |b| {
                b.iter(|| real::num_dual_gradient(rosenbrock_peer, black_box(&x)))
            });
            assert_gradient(
                "fd",
                &real::central_differences(rosenbrock, &x),
                &expected,
                1e-5,
            );
            group.bench_function(BenchmarkId::new("fd", n), |b| {
                b.iter(|| real::central_differences(rosenbrock, black_box(&x)))
            });
        }
    }
    group.finish();
}

fn main() {
    let mut c = support::criterion();
    bench_rosenbrock(&mut c);
    c.final_summary();
    support::report(
        "rosenbrock",
        "primal",
        &[
            "grad",
            "grad_into",
            "unfused",
            "hand",
            "echidna_grad",
            "echidna_tape",
            "easy_ml",
            "num_dual",
            "fd",
        ],
        &SIZES,
    );
}
