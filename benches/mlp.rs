//! A dense two-layer perceptron's batch loss (`linalg::matmul`, tanh, squared error): our
//! gradient against the primal, hand-written backpropagation and the peers' tapes. Each
//! peer's gradient is checked against ours before it is timed.
//!
//! Run: `cargo bench --bench mlp` (prints a table of medians and ratios at the end).

use std::hint::black_box;

use ad_runtime::Float;
use ad_suite::problems::mlp::{Shape, loss, loss_grad, loss_hand};
use criterion::{BenchmarkId, Criterion};
use easy_ml::differentiation::{Record, WengertList};

mod support;

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

/// The loss over flattened parameters `[w1, b1, w2, b2]`, for a peer's scalar type, with the
/// number operations `T` offers (`tanh` written through `exp` for easy-ml, which has no tanh).
fn loss_scalar<T>(params: &[T], x: &[f64], y: &[f64], shape: Shape, tanh: impl Fn(T) -> T) -> T
where
    T: Clone + std::ops::Add<Output = T> + std::ops::Mul<Output = T> + std::ops::Sub<Output = T>,
    T: From64,
{
    let Shape {
        batch,
        inputs,
        hidden,
        outputs,
    } = shape;
    let (w1, rest) = params.split_at(inputs * hidden);
    let (b1, rest) = rest.split_at(hidden);
    let (w2, b2) = rest.split_at(hidden * outputs);
    let mut total = T::from64(0.0);
    let mut h = Vec::with_capacity(hidden);
    for r in 0..batch {
        h.clear();
        for c in 0..hidden {
            let mut z = b1[c].clone();
            for k in 0..inputs {
                z = z + w1[k * hidden + c].clone() * T::from64(x[r * inputs + k]);
            }
            h.push(tanh(z));
        }
        for c in 0..outputs {
            let mut z = b2[c].clone();
            for k in 0..hidden {
                z = z + h[k].clone() * w2[k * outputs + c].clone();
            }
            let e = z - T::from64(y[r * outputs + c]);
            total = total + e.clone() * e;
        }
    }
    total * T::from64(1.0 / batch as f64)
}

/// Constants of a peer's scalar type.
trait From64 {
    fn from64(v: f64) -> Self;
}

impl<T: echidna::Scalar<Float = f64>> From64 for T {
    fn from64(v: f64) -> Self {
        T::from_f(v)
    }
}

/// easy-ml's `Record` (a newtype, since `Record` is not an echidna scalar).
#[derive(Clone)]
struct EasyMl<'a>(Record<'a, f64>);

impl From64 for EasyMl<'_> {
    fn from64(v: f64) -> Self {
        EasyMl(Record::constant(v))
    }
}

impl<'a> std::ops::Add for EasyMl<'a> {
    type Output = EasyMl<'a>;
    fn add(self, other: Self) -> Self {
        EasyMl(self.0 + other.0)
    }
}

impl<'a> std::ops::Sub for EasyMl<'a> {
    type Output = EasyMl<'a>;
    fn sub(self, other: Self) -> Self {
        EasyMl(self.0 - other.0)
    }
}

impl<'a> std::ops::Mul for EasyMl<'a> {
    type Output = EasyMl<'a>;
    fn mul(self, other: Self) -> Self {
        EasyMl(self.0 * other.0)
    }
}

/// `tanh z = 1 - 2 / (e^{2z} + 1)` on easy-ml's records.
fn easy_ml_tanh(z: EasyMl) -> EasyMl {
    use easy_ml::numeric::extra::Exp;
    let e = (z.0 * 2.0).exp();
    EasyMl(Record::constant(1.0) - Record::constant(2.0) / (e + 1.0))
}

fn easy_ml_gradient(
    list: &WengertList<f64>,
    params: &[f64],
    x: &[f64],
    y: &[f64],
    shape: Shape,
) -> Vec<f64> {
    list.clear();
    let vars: Vec<EasyMl> = params
        .iter()
        .map(|&p| EasyMl(Record::variable(p, list)))
        .collect();
    let value = loss_scalar(&vars, x, y, shape, easy_ml_tanh);
    let derivatives = value.0.derivatives();
    vars.iter().map(|v| derivatives[&v.0]).collect()
}

/// Deterministic values in [-1, 1).
fn values(n: usize, seed: u64) -> Vec<f64> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 52) as f64 - 1.0
        })
        .collect()
}

fn assert_close(what: &str, got: &[f64], expected: &[f64]) {
    assert_eq!(got.len(), expected.len(), "{what}: length");
    for (i, (g, e)) in got.iter().zip(expected).enumerate() {
        assert!(
            (g - e).abs() <= 1e-9 * g.abs().max(e.abs()).max(1.0),
            "{what}[{i}]: {g} vs {e}"
        );
    }
}

fn bench_mlp(c: &mut Criterion) {
    let mut group = c.benchmark_group("mlp");
    for (label, shape) in SHAPES {
        let Shape {
            batch,
            inputs,
            hidden,
            outputs,
        } = shape;
        let (w1, b1) = (values(inputs * hidden, 1), values(hidden, 2));
        let (w2, b2) = (values(hidden * outputs, 3), values(outputs, 4));
        let (x, y) = (values(batch * inputs, 5), values(batch * outputs, 6));
        let flat: Vec<f64> = [&w1[..], &b1, &w2, &b2].concat();
        let (_, grads) = loss_grad(&w1, &b1, &w2, &b2, &x, &y, batch, inputs);
        let expected: Vec<f64> = [&grads.0[..], &grads.1, &grads.2, &grads.3].concat();
        let (_, hand) = loss_hand((&w1, &b1, &w2, &b2), &x, &y, shape);
        assert_close(
            "hand",
            &[&hand.0[..], &hand.1, &hand.2, &hand.3].concat(),
            &expected,
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
        let echidna_loss =
            |p: &[_]| loss_scalar(p, &x, &y, shape, |z: echidna::Reverse<f64>| z.tanh());
        assert_close(
            "echidna_grad",
            &echidna::grad(echidna_loss, &flat),
            &expected,
        );
        group.bench_function(BenchmarkId::new("echidna_grad", label), |b| {
            b.iter(|| echidna::grad(echidna_loss, black_box(&flat)))
        });
        let recorded =
            |p: &[_]| loss_scalar(p, &x, &y, shape, |z: echidna::BReverse<f64>| z.tanh());
        let (mut tape, _) = echidna::record(recorded, &flat);
        assert_close("echidna_tape", &tape.gradient(&flat), &expected);
        group.bench_function(BenchmarkId::new("echidna_tape", label), |b| {
            b.iter(|| tape.gradient(black_box(&flat)))
        });
        if batch <= EASY_ML_MAX_BATCH {
            let list = WengertList::new();
            assert_close(
                "easy_ml",
                &easy_ml_gradient(&list, &flat, &x, &y, shape),
                &expected,
            );
            group.bench_function(BenchmarkId::new("easy_ml", label), |b| {
                b.iter(|| easy_ml_gradient(&list, black_box(&flat), &x, &y, shape))
            });
        }
    }
    group.finish();
}

fn main() {
    let mut c = support::criterion();
    bench_mlp(&mut c);
    c.final_summary();
    let labels: Vec<&str> = SHAPES.iter().map(|(label, _)| *label).collect();
    support::report(
        "mlp",
        "primal",
        &["grad", "hand", "echidna_grad", "echidna_tape", "easy_ml"],
        &labels,
    );
}
