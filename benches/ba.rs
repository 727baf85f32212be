//! Bundle adjustment (GradBench's `evals/ba`): the full sparse Jacobian of `p` observations, each
//! a 2×15 block of the projection's derivatives, at sizes in the proportions of GradBench's
//! ba1 (n = 49 cameras, m = 7,776 points, p = 31,843 observations) scaled to
//! p ∈ {10³, 10⁴, 10⁵}.
//!
//! Every variant assembles the same CSR matrix with `ba::jacobian_with`; only the
//! per-observation block differs:
//!
//! - `primal`: all residuals, no derivative (the baseline);
//! - `grad`: ours, two VJPs of the `#[reverse]` projection per observation;
//! - `hand`: derivatives written by hand (`ba::block_hand`);
//! - `echidna_grad`: `echidna::vjp` per residual (a tape recorded on every call);
//! - `echidna_tape`: the projection recorded once (`echidna::record_multi`) outside the
//!   timing, then `tape.jacobian` (a forward and two reverse sweeps) per observation, as a
//!   user re-evaluating one tape would do (every observation takes the same branch);
//! - `easy_ml`: a `WengertList` per observation, one backward pass per residual;
//! - `num_dual`: forward mode with `Dual64`, one pass per input (15 per observation);
//! - `fd`: central differences, 30 projections per observation.
//!
//! Setup asserts that every variant's Jacobian equals ours before anything is timed.
//!
//! Run: `cargo bench --bench ba`
#![allow(
    clippy::needless_range_loop,
    reason = "the derivatives are written as numerical code is, with index loops"
)]

use std::hint::black_box;

use ad_suite::problems::ba::{self, Block, Csr, Problem};
use criterion::{BenchmarkId, Criterion};
use easy_ml::differentiation::WengertList;
use num_dual::Dual64;

mod support;

use support::real::Real;

// GradBench's data values, replicated into every problem.
const CAM: [f64; 11] = [
    -0.758453, -1.109613, -0.845551, 34.556073, 39.676747, 53.881673, 419.194514, 5.864426,
    -8.51887, 0.087812, 0.002739,
];
const X: [f64; 3] = [7.203245, 0.001144, 3.023326];
const W: f64 = 0.417022;
const FEAT: [f64; 2] = [271.760969, 834.209256];

/// The observation counts; cameras and points follow ba1's proportions.
const SIZES: [usize; 3] = [1_000, 10_000, 100_000];

/// A problem of `p` observations in ba1's proportions, its cameras, points and weights
/// perturbed so that no two blocks are equal.
fn problem(p: usize) -> Problem {
    let n = (49 * p).div_ceil(31_843);
    let m = (7_776 * p).div_ceil(31_843);
    let mut problem = Problem::replicated(n, m, p, &CAM, &X, W, &FEAT);
    let mut rng = fastrand::Rng::with_seed(p as u64);
    for value in problem
        .cams
        .iter_mut()
        .chain(&mut problem.points)
        .chain(&mut problem.weights)
    {
        *value *= 0.9 + 0.2 * rng.f64();
    }
    problem
}

/// The projection residual of `ba::reprojection_error`, for a peer's number type; `v` is
/// the camera (11), the point (3) and the weight.
fn residual<T: Real>(v: &[T], feat: &[f64; 2]) -> [T; 2] {
    let c = T::constant;
    let (r, x, w) = (&v[..3], [v[11] - v[3], v[12] - v[4], v[13] - v[5]], v[14]);
    let theta2 = r[0] * r[0] + r[1] * r[1] + r[2] * r[2];
    let xc = if theta2.value() != 0.0 {
        let theta = theta2.sqrt();
        let (s, co) = (theta.sin(), theta.cos());
        let k = [r[0] / theta, r[1] / theta, r[2] / theta];
        let cross = [
            k[1] * x[2] - k[2] * x[1],
            k[2] * x[0] - k[0] * x[2],
            k[0] * x[1] - k[1] * x[0],
        ];
        let along = (k[0] * x[0] + k[1] * x[1] + k[2] * x[2]) * (c(1.0) - co);
        [0, 1, 2].map(|i| x[i] * co + cross[i] * s + k[i] * along)
    } else {
        [
            x[0] + r[1] * x[2] - r[2] * x[1],
            x[1] + r[2] * x[0] - r[0] * x[2],
            x[2] + r[0] * x[1] - r[1] * x[0],
        ]
    };
    let (p0, p1) = (xc[0] / xc[2], xc[1] / xc[2]);
    let rho = p0 * p0 + p1 * p1;
    let distortion = c(1.0) + v[9] * rho + v[10] * rho * rho;
    [
        w * (p0 * distortion * v[6] + v[7] - c(feat[0])),
        w * (p1 * distortion * v[6] + v[8] - c(feat[1])),
    ]
}

/// The 15 inputs of one observation.
fn inputs(cam: &[f64; 11], x: &[f64; 3], w: f64) -> [f64; 15] {
    let mut v = [0.0; 15];
    v[..11].copy_from_slice(cam);
    v[11..14].copy_from_slice(x);
    v[14] = w;
    v
}

fn block_echidna_grad(cam: &[f64; 11], x: &[f64; 3], w: f64, feat: &[f64; 2]) -> Block {
    let v = inputs(cam, x, w);
    let mut block = [[0.0; 15]; 2];
    for (a, seed) in [[1.0, 0.0], [0.0, 1.0]].iter().enumerate() {
        let (_, row) = echidna::vjp(|v| residual(v, feat).to_vec(), &v, seed);
        block[a].copy_from_slice(&row);
    }
    block
}

/// The projection recorded once, at the first observation.
fn recorded_tape(problem: &Problem) -> echidna::BytecodeTape<f64> {
    let (cam, x, w, feat) = problem.observation(0);
    echidna::record_multi(|v| residual(v, &feat).to_vec(), &inputs(&cam, &x, w)).0
}

fn block_echidna_tape(
    tape: &mut echidna::BytecodeTape<f64>,
    cam: &[f64; 11],
    x: &[f64; 3],
    w: f64,
) -> Block {
    let jacobian = tape.jacobian(&inputs(cam, x, w));
    let mut block = [[0.0; 15]; 2];
    for (row, computed) in block.iter_mut().zip(&jacobian) {
        row.copy_from_slice(computed);
    }
    block
}

fn block_easy_ml(cam: &[f64; 11], x: &[f64; 3], w: f64, feat: &[f64; 2]) -> Block {
    let list = WengertList::new();
    let v = inputs(cam, x, w).map(|value| list.variable(value));
    let e = residual(&v, feat);
    let mut block = [[0.0; 15]; 2];
    for (row, e) in block.iter_mut().zip(e) {
        let derivatives = e.derivatives();
        for (out, input) in row.iter_mut().zip(&v) {
            *out = derivatives[input];
        }
    }
    block
}

fn block_num_dual(cam: &[f64; 11], x: &[f64; 3], w: f64, feat: &[f64; 2]) -> Block {
    let v = inputs(cam, x, w);
    let mut block = [[0.0; 15]; 2];
    for j in 0..15 {
        let duals: [Dual64; 15] =
            std::array::from_fn(|k| Dual64::new(v[k], if k == j { 1.0 } else { 0.0 }));
        let e = residual(&duals, feat);
        block[0][j] = e[0].eps;
        block[1][j] = e[1].eps;
    }
    block
}

fn block_fd(cam: &[f64; 11], x: &[f64; 3], w: f64, feat: &[f64; 2]) -> Block {
    let v = inputs(cam, x, w);
    let mut block = [[0.0; 15]; 2];
    for j in 0..15 {
        let h = 1e-6 * v[j].abs().max(1.0);
        let (mut up, mut down) = (v, v);
        up[j] += h;
        down[j] -= h;
        let (e_up, e_down) = (residual(&up, feat), residual(&down, feat));
        for a in 0..2 {
            block[a][j] = (e_up[a] - e_down[a]) / (2.0 * h);
        }
    }
    block
}

/// Panics unless `got` has `want`'s structure and values within `tolerance` (relative to
/// max(1, |value|)).
fn assert_same(name: &str, got: &Csr, want: &Csr, tolerance: f64) {
    assert_eq!((&got.rows, &got.cols), (&want.rows, &want.cols), "{name}");
    for (k, (g, w)) in got.vals.iter().zip(&want.vals).enumerate() {
        assert!(
            (g - w).abs() <= tolerance * w.abs().max(1.0),
            "{name}: nonzero {k}: {g} against ours {w}"
        );
    }
}

fn bench_ba(c: &mut Criterion) {
    let mut group = c.benchmark_group("ba");
    for p in SIZES {
        let problem = problem(p);
        let label = p.to_string();
        let ours = ba::jacobian(&problem);
        let mut tape = recorded_tape(&problem);
        assert_same("hand", &ba::jacobian_hand(&problem), &ours, 1e-10);
        assert_same(
            "echidna_grad",
            &ba::jacobian_with(&problem, block_echidna_grad),
            &ours,
            1e-10,
        );
        assert_same(
            "echidna_tape",
            &ba::jacobian_with(&problem, |cam, x, w, _| {
                block_echidna_tape(&mut tape, cam, x, w)
            }),
            &ours,
            1e-10,
        );
        assert_same(
            "easy_ml",
            &ba::jacobian_with(&problem, block_easy_ml),
            &ours,
            1e-10,
        );
        assert_same(
            "num_dual",
            &ba::jacobian_with(&problem, block_num_dual),
            &ours,
            1e-10,
        );
        assert_same("fd", &ba::jacobian_with(&problem, block_fd), &ours, 1e-5);

        group.bench_function(BenchmarkId::new("primal", &label), |b| {
            b.iter(|| ba::residuals(black_box(&problem)))
        });
        group.bench_function(BenchmarkId::new("grad", &label), |b| {
            b.iter(|| ba::jacobian(black_box(&problem)))
        });
        group.bench_function(BenchmarkId::new("hand", &label), |b| {
            b.iter(|| ba::jacobian_hand(black_box(&problem)))
        });
        group.bench_function(BenchmarkId::new("echidna_grad", &label), |b| {
            b.iter(|| ba::jacobian_with(black_box(&problem), block_echidna_grad))
        });
        group.bench_function(BenchmarkId::new("echidna_tape", &label), |b| {
            b.iter(|| {
                ba::jacobian_with(black_box(&problem), |cam, x, w, _| {
                    block_echidna_tape(&mut tape, cam, x, w)
                })
            })
        });
        group.bench_function(BenchmarkId::new("easy_ml", &label), |b| {
            b.iter(|| ba::jacobian_with(black_box(&problem), block_easy_ml))
        });
        group.bench_function(BenchmarkId::new("num_dual", &label), |b| {
            b.iter(|| ba::jacobian_with(black_box(&problem), block_num_dual))
        });
        group.bench_function(BenchmarkId::new("fd", &label), |b| {
            b.iter(|| ba::jacobian_with(black_box(&problem), block_fd))
        });
    }
    group.finish();
}

fn main() {
    let mut c = support::criterion();
    bench_ba(&mut c);
    c.final_summary();
    support::report(
        "ba",
        "primal",
        &[
            "grad",
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
