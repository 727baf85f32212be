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
use easy_ml::differentiation::{Record, WengertList};
use num_dual::Dual64;

mod support;

const SIZES: [usize; 4] = [10, 1_000, 100_000, 1_000_000];

/// Peers record or propagate per operation; above these sizes one of their gradients takes
/// long enough that sampling it would dominate the whole run, and the ratio is already clear.
const TAPE_MAX: usize = 1_000_000;
const EASY_ML_MAX: usize = 100_000;
/// Forward mode and finite differences cost n primal-like passes: O(n²).
const PER_INPUT_MAX: usize = 1_000;

/// Rosenbrock for echidna's number types (`Reverse` for `grad`, `BReverse` for tapes).
fn rosenbrock_echidna<T: echidna::Scalar<Float = f64>>(x: &[T]) -> T {
    let mut s = T::from_f(0.0);
    for i in 0..x.len() - 1 {
        let a = x[i + 1] - x[i] * x[i];
        let b = T::from_f(1.0) - x[i];
        s = s + T::from_f(100.0) * a * a + b * b;
    }
    s
}

/// Rosenbrock on easy-ml's Wengert list: value and gradient. The list is cleared each call,
/// as its documentation prescribes for a new pass.
fn rosenbrock_easy_ml(list: &WengertList<f64>, x: &[f64]) -> (f64, Vec<f64>) {
    list.clear();
    let vars: Vec<Record<f64>> = x.iter().map(|&v| Record::variable(v, list)).collect();
    let mut s = Record::constant(0.0);
    for i in 0..x.len() - 1 {
        let a = vars[i + 1] - vars[i] * vars[i];
        let b = Record::constant(1.0) - vars[i];
        s = s + a * a * 100.0 + b * b;
    }
    let derivatives = s.derivatives();
    (s.number, vars.iter().map(|v| derivatives[v]).collect())
}

/// Forward mode with num-dual: one pass per input, each seeding that input's tangent.
fn rosenbrock_num_dual(x: &[f64]) -> Vec<f64> {
    let mut duals: Vec<Dual64> = x.iter().map(|&v| Dual64::from_re(v)).collect();
    (0..x.len())
        .map(|j| {
            duals[j].eps = 1.0;
            let mut s = Dual64::from_re(0.0);
            for i in 0..x.len() - 1 {
                let a = duals[i + 1] - duals[i] * duals[i];
                let b = Dual64::from_re(1.0) - duals[i];
                s = s + a * a * 100.0 + b * b;
            }
            duals[j].eps = 0.0;
            s.eps
        })
        .collect()
}

/// Central finite differences, step scaled to each coordinate.
fn rosenbrock_fd(x: &[f64]) -> Vec<f64> {
    let mut probe = x.to_vec();
    (0..x.len())
        .map(|i| {
            let h = 1e-6 * x[i].abs().max(1.0);
            probe[i] = x[i] + h;
            let up = rosenbrock(&probe);
            probe[i] = x[i] - h;
            let down = rosenbrock(&probe);
            probe[i] = x[i];
            (up - down) / (2.0 * h)
        })
        .collect()
}

/// The classic start (-1.2, 1, -1.2, 1, ...), away from the minimum.
fn start(n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| if i % 2 == 0 { -1.2 } else { 1.0 })
        .collect()
}

fn assert_close(what: &str, got: &[f64], expected: &[f64], tolerance: f64) {
    assert_eq!(got.len(), expected.len(), "{what}: length");
    for (i, (g, e)) in got.iter().zip(expected).enumerate() {
        let scale = g.abs().max(e.abs()).max(1.0);
        assert!(
            (g - e).abs() <= tolerance * scale,
            "{what}[{i}]: {g} vs {e}"
        );
    }
}

fn bench_rosenbrock(c: &mut Criterion) {
    let mut group = c.benchmark_group("rosenbrock");
    for n in SIZES {
        let x = start(n);
        let (_, expected) = rosenbrock_grad(&x);
        let mut grad = vec![0.0; n];
        rosenbrock_hand(&x, &mut grad);
        assert_close("hand", &grad, &expected, 1e-12);

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
            let g = echidna::grad(rosenbrock_echidna, &x);
            assert_close("echidna_grad", &g, &expected, 1e-12);
            group.bench_function(BenchmarkId::new("echidna_grad", n), |b| {
                b.iter(|| echidna::grad(rosenbrock_echidna, black_box(&x)))
            });
            let (mut tape, _) = echidna::record(rosenbrock_echidna, &x);
            assert_close("echidna_tape", &tape.gradient(&x), &expected, 1e-12);
            group.bench_function(BenchmarkId::new("echidna_tape", n), |b| {
                b.iter(|| tape.gradient(black_box(&x)))
            });
        }
        if n <= EASY_ML_MAX {
            let list = WengertList::new();
            assert_close(
                "easy_ml",
                &rosenbrock_easy_ml(&list, &x).1,
                &expected,
                1e-12,
            );
            group.bench_function(BenchmarkId::new("easy_ml", n), |b| {
                b.iter(|| rosenbrock_easy_ml(&list, black_box(&x)))
            });
        }
        if n <= PER_INPUT_MAX {
            assert_close("num_dual", &rosenbrock_num_dual(&x), &expected, 1e-12);
            group.bench_function(BenchmarkId::new("num_dual", n), |b| {
                b.iter(|| rosenbrock_num_dual(black_box(&x)))
            });
            assert_close("fd", &rosenbrock_fd(&x), &expected, 1e-5);
            group.bench_function(BenchmarkId::new("fd", n), |b| {
                b.iter(|| rosenbrock_fd(black_box(&x)))
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
