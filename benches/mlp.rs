//! A dense two-layer perceptron's batch loss (`linalg::matmul`, tanh, squared error): our
//! gradient against the primal, hand-written backpropagation and the peers' tapes. Each
//! peer's gradient is checked against ours before it is timed.
//!
//! Run: `cargo bench --bench mlp` (prints a table of medians and ratios at the end).

use std::hint::black_box;

use ad_suite::problems::mlp::{Shape, loss, loss_grad, loss_hand, problem};
use criterion::{BenchmarkId, Criterion};

mod support;

use support::peers::{self, EasyMl, Peers};
use support::real::{Real, assert_gradient};

const SHAPES: [(&str, Shape); 2] = [
    (
        "b32_16x32x4",
        Shape {
            batch: 32,
            inputs: 16,
            hidden: 32,
            outputs: 4,
        },
    ),
    (
        "b256_64x128x10",
        Shape {
            batch: 256,
            inputs: 64,
            hidden: 128,
            outputs: 10,
        },
    ),
];

/// easy-ml's Wengert list grows by an entry per scalar operation; beyond this many weights'
/// worth of work a gradient takes long enough to dominate the run.
const EASY_ML_MAX_BATCH: usize = 32;

/// A batch: the inputs `x` and targets `y`.
struct Batch<'a> {
    x: &'a [f64],
    y: &'a [f64],
    shape: Shape,
}

impl peers::Problem for Batch<'_> {
    /// The loss over flattened parameters `[w1, b1, w2, b2]`, for a peer's number type: the
    /// same loops as ours.
    fn peer<T: Real>(&self, params: &[T]) -> T {
        let Batch { x, y, shape } = *self;
        let Shape {
            batch,
            inputs,
            hidden,
            outputs,
        } = shape;
        let (w1, rest) = params.split_at(inputs * hidden);
        let (b1, rest) = rest.split_at(hidden);
        let (w2, b2) = rest.split_at(hidden * outputs);
        let mut total = T::constant(0.0);
        let mut h = Vec::with_capacity(hidden);
        for r in 0..batch {
            h.clear();
            for c in 0..hidden {
                let mut z = b1[c];
                for k in 0..inputs {
                    z = z + w1[k * hidden + c] * T::constant(x[r * inputs + k]);
                }
                h.push(z.tanh());
            }
            for c in 0..outputs {
                let mut z = b2[c];
                for k in 0..hidden {
                    z = z + h[k] * w2[k * outputs + c];
                }
                let e = z - T::constant(y[r * outputs + c]);
                total = total + e * e;
            }
        }
        total * T::constant(1.0 / batch as f64)
    }
}

fn bench_mlp(c: &mut Criterion) {
    let mut group = c.benchmark_group("mlp");
    for (label, shape) in SHAPES {
        let (batch, inputs) = (shape.batch, shape.inputs);
        let [w1, b1, w2, b2, x, y] = problem(shape, 1);
        let flat: Vec<f64> = [&w1[..], &b1, &w2, &b2].concat();
        let (_, grads) = loss_grad(&w1, &b1, &w2, &b2, &x, &y, batch, inputs);
        let expected: Vec<f64> = [&grads.0[..], &grads.1, &grads.2, &grads.3].concat();
        let (_, hand) = loss_hand((&w1, &b1, &w2, &b2), &x, &y, shape);
        assert_gradient(
            "hand",
            &[&hand.0[..], &hand.1, &hand.2, &hand.3].concat(),
            &expected,
            1e-9,
        );

        group.bench_function(BenchmarkId::new("primal", label), |b| {
            b.iter(|| loss(black_box(&w1), &b1, &w2, &b2, &x, &y, batch, inputs))
        });
        group.bench_function(BenchmarkId::new("grad", label), |b| {
            b.iter(|| loss_grad(black_box(&w1), &b1, &w2, &b2, &x, &y, batch, inputs))
        });
        group.bench_function(BenchmarkId::new("hand", label), |b| {
            b.iter(|| loss_hand((black_box(&w1), &b1, &w2, &b2), &x, &y, shape))
        });
        let peers = Peers {
            echidna: true,
            easy_ml: match batch <= EASY_ML_MAX_BATCH {
                true => EasyMl::ReusedList,
                false => EasyMl::Off,
            },
            num_dual: false,
            fd: false,
            tolerance: 1e-9,
            fd_tolerance: 0.0,
            floor: 1.0,
        };
        let problem = Batch {
            x: &x,
            y: &y,
            shape,
        };
        peers::bench(&mut group, label, &problem, &flat, &expected, &peers);
    }
    group.finish();
}

fn main() {
    let mut c = support::criterion();
    bench_mlp(&mut c);
    c.final_summary();
    let labels: Vec<&str> = SHAPES.iter().map(|(label, _)| *label).collect();
    peers::report("mlp", &["grad", "hand"], &labels);
}
