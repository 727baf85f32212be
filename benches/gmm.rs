//! GradBench's `gmm` (GradBench's `evals/gmm`): the gradient of the GMM log-posterior, ours
//! (`objective_grad`, and `scratch`: `objective_scratch_grad`, the same function written with
//! per-point scratch buffers) against the hand-written adjoint, echidna, easy-ml, num-dual and central
//! differences, each as a ratio to the primal in the same run. N = 1000 points, d ∈ {2, 10,
//! 20, 64} × K ∈ {5, 10, 25} as in ADBench's table; peers that record a tape of every scalar
//! operation are run where that tape stays small, num-dual and finite differences where `n`
//! passes of the primal are affordable.
//!
//! Run: `cargo bench --bench gmm`
#![allow(
    clippy::needless_range_loop,
    reason = "the peers' loops are written as ours are, with indices"
)]

use std::hint::black_box;

use ad_suite::problems::gmm::{
    lower_index, objective, objective_grad, objective_hand, objective_scratch_grad, triangle,
    wishart_constant,
};
use criterion::{BenchmarkId, Criterion};

mod support;

use support::peers::{self, EasyMl, Peers};
use support::real::{Real, assert_gradient};

const N: usize = 1000;
const SIZES: [(usize, usize); 12] = [
    (2, 5),
    (2, 10),
    (2, 25),
    (10, 5),
    (10, 10),
    (10, 25),
    (20, 5),
    (20, 10),
    (20, 25),
    (64, 5),
    (64, 10),
    (64, 25),
];

/// One input: the parameters flat (`alpha`, `means`, `q`, `l`, in that order) and the points.
struct Input {
    d: usize,
    k: usize,
    params: Vec<f64>,
    x: Vec<f64>,
}

impl Input {
    /// Deterministic values in [−0.5, 0.5) from a fixed seed.
    fn new(d: usize, k: usize) -> Self {
        let mut rng = fastrand::Rng::with_seed((d * 131 + k) as u64);
        let mut next = move || rng.f64() - 0.5;
        let params = (0..k + 2 * k * d + k * triangle(d))
            .map(|_| next())
            .collect();
        let x = (0..N * d).map(|_| next()).collect();
        Self { d, k, params, x }
    }

    /// `(alpha, means, q, l)` of any flat parameter vector of this shape.
    fn split<'a, T>(&self, p: &'a [T]) -> (&'a [T], &'a [T], &'a [T], &'a [T]) {
        let (alpha, rest) = p.split_at(self.k);
        let (means, rest) = rest.split_at(self.k * self.d);
        let (q, l) = rest.split_at(self.k * self.d);
        (alpha, means, q, l)
    }

    fn grad(&self) -> Vec<f64> {
        let (alpha, means, q, l) = self.split(&self.params);
        let (_, (da, dm, dq, dl)) =
            objective_grad(alpha, means, q, l, &self.x, self.d, self.k, N, 0, 1.0);
        [da, dm, dq, dl].concat()
    }

    /// The gradient of the scratch-buffer formulation (`objective_scratch`).
    fn scratch(&self) -> Vec<f64> {
        let (alpha, means, q, l) = self.split(&self.params);
        let (_, (da, dm, dq, dl)) =
            objective_scratch_grad(alpha, means, q, l, &self.x, self.d, self.k, N, 0, 1.0);
        [da, dm, dq, dl].concat()
    }

    fn hand(&self) -> Vec<f64> {
        let (alpha, means, q, l) = self.split(&self.params);
        let (_, g) = objective_hand(alpha, means, q, l, &self.x, self.d, self.k, N, 0, 1.0);
        [g.alpha, g.means, g.q, g.l].concat()
    }

    /// The number of scalar operations a tape of the objective holds, roughly.
    fn tape_size(&self) -> usize {
        N * self.k * (self.d * (self.d + 1) / 2 * 4 + 4)
    }
}

impl peers::Problem for Input {
    /// The objective with m = 0, γ = 1, written for a peer's number type: the same loops as
    /// ours.
    fn peer<T: Real>(&self, p: &[T]) -> T {
        let (d, k) = (self.d, self.k);
        let t = triangle(d);
        let (alpha, means, q, l) = self.split(p);
        let zero = T::constant(0.0);
        let mut diagonal = Vec::with_capacity(k * d);
        let mut sum_q = vec![zero; k];
        for c in 0..k {
            for j in 0..d {
                diagonal.push(q[c * d + j].exp());
                sum_q[c] = sum_q[c] + q[c * d + j];
            }
        }
        let half = T::constant(0.5);
        let mut beta = vec![zero; k];
        let mut data_term = zero;
        for i in 0..N {
            for c in 0..k {
                let mut squared = zero;
                for r in 0..d {
                    let mut z =
                        diagonal[c * d + r] * (T::constant(self.x[i * d + r]) - means[c * d + r]);
                    for col in 0..r {
                        z = z + l[c * t + lower_index(d, r, col)]
                            * (T::constant(self.x[i * d + col]) - means[c * d + col]);
                    }
                    squared = squared + z * z;
                }
                beta[c] = alpha[c] + sum_q[c] - half * squared;
            }
            data_term = data_term + logsumexp(&beta);
        }
        let mut frobenius = zero;
        for v in diagonal.iter().chain(l) {
            frobenius = frobenius + *v * *v;
        }
        let constant = k as f64 * wishart_constant(d, 0, 1.0)
            - (N * d) as f64 * 0.5 * (2.0 * std::f64::consts::PI).ln();
        T::constant(constant) + data_term
            - T::constant(N as f64) * logsumexp(alpha)
            - half * frobenius
    }

    fn primal(&self, p: &[f64]) -> f64 {
        let (alpha, means, q, l) = self.split(p);
        objective(alpha, means, q, l, &self.x, self.d, self.k, N, 0, 1.0)
    }
}

/// The max-shifted logsumexp (the shift a constant).
fn logsumexp<T: Real>(v: &[T]) -> T {
    let max = v
        .iter()
        .map(|x| x.value())
        .fold(f64::NEG_INFINITY, f64::max);
    let shift = T::constant(max);
    let mut sum = T::constant(0.0);
    for &x in v {
        sum = sum + (x - shift).exp();
    }
    shift + sum.ln()
}

fn label(d: usize, k: usize) -> String {
    format!("d{d}_K{k}")
}

fn bench_gmm(c: &mut Criterion) {
    let mut group = c.benchmark_group("gmm");
    for (d, k) in SIZES {
        let input = Input::new(d, k);
        let id = |function| BenchmarkId::new(function, label(d, k));
        let ours = input.grad();
        let inputs = input.params.len();
        let tape_peers = input.tape_size() <= 6_000_000;
        let passes_affordable = inputs <= 100;
        assert_gradient("hand", &input.hand(), &ours, 1e-10);
        assert_gradient("scratch", &input.scratch(), &ours, 1e-10);

        group.bench_function(id("primal"), |b| {
            b.iter(|| peers::Problem::primal(&input, black_box(&input.params)))
        });
        group.bench_function(id("grad"), |b| b.iter(|| black_box(&input).grad()));
        group.bench_function(id("scratch"), |b| b.iter(|| black_box(&input).scratch()));
        group.bench_function(id("hand"), |b| b.iter(|| black_box(&input).hand()));
        let peers = Peers {
            echidna: tape_peers,
            easy_ml: match tape_peers {
                true => EasyMl::NewList,
                false => EasyMl::Off,
            },
            num_dual: passes_affordable,
            fd: passes_affordable,
            tolerance: 1e-8,
            fd_tolerance: 1e-5,
            floor: 1.0,
        };
        peers::bench(
            &mut group,
            label(d, k),
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
    bench_gmm(&mut c);
    c.final_summary();
    let sizes: Vec<String> = SIZES.iter().map(|&(d, k)| label(d, k)).collect();
    peers::report("gmm", &["grad", "scratch", "hand"], &sizes);
}
