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

mod support;

use support::peers::{self, EasyMl, Peers};
use support::real::{Real, assert_gradient};

const SIZES: [usize; 4] = [10, 1_000, 100_000, 1_000_000];

/// Peers record or propagate per operation; above these sizes one of their gradients takes
/// long enough that sampling it would dominate the whole run, and the ratio is already clear.
const TAPE_MAX: usize = 1_000_000;
const EASY_ML_MAX: usize = 100_000;
/// Forward mode and finite differences cost n primal-like passes: O(n²).
const PER_INPUT_MAX: usize = 1_000;

/// Rosenbrock for the peers' number types.
struct Rosenbrock;

impl peers::Problem for Rosenbrock {
    fn peer<T: Real>(&self, x: &[T]) -> T {
        let mut s = T::constant(0.0);
        for i in 0..x.len() - 1 {
            let a = x[i + 1] - x[i] * x[i];
            let b = T::constant(1.0) - x[i];
            s = s + T::constant(100.0) * a * a + b * b;
        }
        s
    }

    fn primal(&self, x: &[f64]) -> f64 {
        rosenbrock(x)
    }
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
        let peers = Peers {
            echidna: n <= TAPE_MAX,
            easy_ml: match n <= EASY_ML_MAX {
                true => EasyMl::ReusedList,
                false => EasyMl::Off,
            },
            num_dual: n <= PER_INPUT_MAX,
            fd: n <= PER_INPUT_MAX,
            tolerance: 1e-12,
            fd_tolerance: 1e-5,
            floor: 1.0,
        };
        peers::bench(&mut group, n, &Rosenbrock, &x, &expected, &peers);
    }
    group.finish();
}

fn main() {
    let mut c = support::criterion();
    bench_rosenbrock(&mut c);
    c.final_summary();
    peers::report(
        "rosenbrock",
        &["grad", "grad_into", "unfused", "hand"],
        &SIZES,
    );
}
