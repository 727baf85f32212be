//! GradBench's `lstm` (GradBench's `evals/lstm`): the gradient of the diagonal LSTM's loss, ours
//! (`objective_grad`) against the hand-written adjoint, echidna, easy-ml and central
//! differences (where its 2n primal calls take under half a second), each as a ratio to the primal in the same run. ℓ = 2 layers of b = 14 (the
//! eval's character width), sequences of c ∈ {64, 256, 1024} characters. num-dual is left
//! out: 266 inputs are 266 forward passes.
//!
//! Run: `cargo bench --bench lstm`
#![allow(
    clippy::needless_range_loop,
    reason = "the peers' loops are written as ours are, with indices"
)]

use std::hint::black_box;

use ad_suite::problems::lstm::{objective, objective_grad, objective_hand};
use criterion::{BenchmarkId, Criterion};

mod support;

use support::peers::{self, EasyMl, Peers};
use support::real::{Real, assert_gradient};

const LAYERS: usize = 2;
const B: usize = 14;
const LENGTHS: [usize; 3] = [64, 256, 1024];

/// One input: the parameters flat (`main_params` then `extra_params`), the state and the
/// sequence of bits.
struct Input {
    c: usize,
    params: Vec<f64>,
    state: Vec<f64>,
    sequence: Vec<f64>,
}

impl Input {
    /// Deterministic values from a fixed seed: parameters and state in [0, 1) as the eval
    /// draws them, the sequence as bits.
    fn new(c: usize) -> Self {
        let mut rng = fastrand::Rng::with_seed(c as u64);
        let mut next = move || rng.f64();
        let params = (0..8 * LAYERS * B + 3 * B).map(|_| next()).collect();
        let state = (0..2 * LAYERS * B).map(|_| next()).collect();
        let sequence = (0..c * B).map(|_| (next() < 0.5) as u8 as f64).collect();
        Self {
            c,
            params,
            state,
            sequence,
        }
    }

    fn grad(&self) -> Vec<f64> {
        let (main, extra) = self.params.split_at(8 * LAYERS * B);
        let (_, (dmain, dextra)) =
            objective_grad(main, extra, &self.state, &self.sequence, LAYERS, B, self.c);
        [dmain, dextra].concat()
    }

    fn hand(&self) -> Vec<f64> {
        let (main, extra) = self.params.split_at(8 * LAYERS * B);
        objective_hand(main, extra, &self.state, &self.sequence, LAYERS, B, self.c).1
    }
}

impl peers::Problem for Input {
    fn primal(&self, p: &[f64]) -> f64 {
        let (main, extra) = p.split_at(8 * LAYERS * B);
        objective(main, extra, &self.state, &self.sequence, LAYERS, B, self.c)
    }

    /// The loss written for a peer's number type: the same loops as ours.
    fn peer<T: Real>(&self, p: &[T]) -> T {
        let (main, extra) = p.split_at(8 * LAYERS * B);
        let one = T::constant(1.0);
        let sigmoid = |z: T| one / (one + (-z).exp());
        let mut hidden: Vec<T> = Vec::with_capacity(LAYERS * B);
        let mut cell: Vec<T> = Vec::with_capacity(LAYERS * B);
        for i in 0..LAYERS {
            hidden.extend(
                self.state[2 * i * B..(2 * i + 1) * B]
                    .iter()
                    .map(|&v| T::constant(v)),
            );
            cell.extend(
                self.state[(2 * i + 1) * B..(2 * i + 2) * B]
                    .iter()
                    .map(|&v| T::constant(v)),
            );
        }
        let mut v = [T::constant(0.0); B];
        let mut total = T::constant(0.0);
        for t in 0..self.c - 1 {
            for j in 0..B {
                v[j] = T::constant(self.sequence[t * B + j]) * extra[j];
            }
            for i in 0..LAYERS {
                let (w, bias) = (&main[8 * i * B..], &main[(8 * i + 4) * B..]);
                for j in 0..B {
                    let h = hidden[i * B + j];
                    let forget = sigmoid(v[j] * w[j] + bias[j]);
                    let ingate = sigmoid(h * w[B + j] + bias[B + j]);
                    let outgate = sigmoid(v[j] * w[2 * B + j] + bias[2 * B + j]);
                    let change = (h * w[3 * B + j] + bias[3 * B + j]).tanh();
                    cell[i * B + j] = cell[i * B + j] * forget + ingate * change;
                    hidden[i * B + j] = outgate * cell[i * B + j].tanh();
                    v[j] = hidden[i * B + j];
                }
            }
            let mut sum_exp = T::constant(0.0);
            for j in 0..B {
                v[j] = v[j] * extra[B + j] + extra[2 * B + j];
                sum_exp = sum_exp + v[j].exp();
            }
            let lse = (sum_exp + T::constant(2.0)).ln();
            for j in 0..B {
                total = total + T::constant(self.sequence[(t + 1) * B + j]) * (v[j] - lse);
            }
        }
        -total / T::constant(((self.c - 1) * B) as f64)
    }
}

fn label(c: usize) -> String {
    format!("l{LAYERS}_b{B}_c{c}")
}

fn bench_lstm(c: &mut Criterion) {
    let mut group = c.benchmark_group("lstm");
    for length in LENGTHS {
        let input = Input::new(length);
        let id = |function| BenchmarkId::new(function, label(length));
        let ours = input.grad();
        assert_gradient("hand", &input.hand(), &ours, 1e-12);

        group.bench_function(id("primal"), |b| {
            b.iter(|| peers::Problem::primal(&input, black_box(&input.params)))
        });
        group.bench_function(id("grad"), |b| b.iter(|| black_box(&input).grad()));
        group.bench_function(id("hand"), |b| b.iter(|| black_box(&input).hand()));
        let peers = Peers {
            echidna: true,
            easy_ml: EasyMl::NewList,
            // 266 inputs are 266 forward passes.
            num_dual: false,
            // 532 primal calls: about a second at c = 1024, too slow to time there.
            fd: length <= 256,
            tolerance: 1e-10,
            fd_tolerance: 1e-7,
            floor: 1.0,
        };
        peers::bench(
            &mut group,
            label(length),
            &input,
            &input.params,
            &ours,
            &peers,
        );
    }
    group.finish();
}

fn main() {
    let mut c = support::criterion();
    bench_lstm(&mut c);
    c.final_summary();
    let sizes: Vec<String> = LENGTHS.iter().map(|&c| label(c)).collect();
    peers::report("lstm", &["grad", "hand"], &sizes);
}
