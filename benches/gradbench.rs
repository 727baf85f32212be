//! The GradBench problems that have no bench of their own (`lse`, `llsq`, `det`, `kmeans`,
//! `ht`), at GradBench's sizes or their proportions: ours against the primal and a
//! hand-written version where one is at hand (`src/problems/`, each checked against ours by a
//! test there and here before it is timed), side by side in one run. The tables are in
//! docs/performance.md ("GradBench problems").
//!
//! Run: `cargo bench --bench gradbench`
use std::hint::black_box;

use ad_suite::problems::{det, ht, kmeans, llsq, lse, uniform};
use criterion::{BenchmarkId, Criterion};

mod support;

const LSE: [usize; 3] = [2_500, 100_000, 1_280_000];
/// llsq's `n` (samples) at GradBench's `m = 128` coefficients.
const LLSQ: [usize; 3] = [16, 1_024, 16_392];
const LLSQ_M: usize = 128;
const DET: [usize; 3] = [5, 7, 9];
/// kmeans' `(n, k)` at `d = 8`.
const KMEANS: [(usize, usize); 3] = [(1_000, 10), (10_000, 100), (10_000, 1_000)];
const KMEANS_D: usize = 8;
/// ht's number of points on a 22-bone, 544-vertex model (GradBench's hand model's size).
const HT: [usize; 3] = [100, 1_600, 6_400];

fn close(name: &str, got: &[f64], want: &[f64], tolerance: f64) {
    assert_eq!(got.len(), want.len(), "{name}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= tolerance * w.abs().max(1.0),
            "{name}[{i}]: {g} against {w}"
        );
    }
}

fn bench_lse(c: &mut Criterion) {
    let mut group = c.benchmark_group("lse");
    for n in LSE {
        let x: Vec<f64> = uniform(n as u64, n)
            .iter()
            .map(|v| 10.0 * v - 5.0)
            .collect();
        let mut gradient = vec![0.0; n];
        let (_, ours) = lse::logsumexp_grad(&x);
        lse::logsumexp_hand(&x, &mut gradient);
        close("lse hand", &gradient, &ours, 1e-12);
        group.bench_function(BenchmarkId::new("primal", n), |b| {
            b.iter(|| lse::logsumexp(black_box(&x)))
        });
        group.bench_function(BenchmarkId::new("grad", n), |b| {
            b.iter(|| lse::logsumexp_grad(black_box(&x)))
        });
        group.bench_function(BenchmarkId::new("grad_into", n), |b| {
            b.iter(|| lse::logsumexp_grad_into(black_box(&x), &mut gradient))
        });
        group.bench_function(BenchmarkId::new("hand", n), |b| {
            b.iter(|| lse::logsumexp_hand(black_box(&x), &mut gradient))
        });
    }
    group.finish();
}

fn bench_llsq(c: &mut Criterion) {
    let mut group = c.benchmark_group("llsq");
    let x = uniform(7, LLSQ_M);
    let mut gradient = vec![0.0; LLSQ_M];
    for n in LLSQ {
        let (_, ours) = llsq::objective_grad(&x, n);
        llsq::objective_hand(&x, n, &mut gradient);
        close("llsq hand", &gradient, &ours, 1e-12);
        group.bench_function(BenchmarkId::new("primal", n), |b| {
            b.iter(|| llsq::objective(black_box(&x), n))
        });
        group.bench_function(BenchmarkId::new("grad", n), |b| {
            b.iter(|| llsq::objective_grad(black_box(&x), n))
        });
        group.bench_function(BenchmarkId::new("grad_into", n), |b| {
            b.iter(|| llsq::objective_grad_into(black_box(&x), n, &mut gradient))
        });
        group.bench_function(BenchmarkId::new("hand", n), |b| {
            b.iter(|| llsq::objective_hand(black_box(&x), n, &mut gradient))
        });
    }
    group.finish();
}

fn bench_det(c: &mut Criterion) {
    let mut group = c.benchmark_group("det");
    for ell in DET {
        let a = uniform(ell as u64, ell * ell);
        group.bench_function(BenchmarkId::new("primal", ell), |b| {
            b.iter(|| det::det(black_box(&a), ell))
        });
        group.bench_function(BenchmarkId::new("grad", ell), |b| {
            b.iter(|| det::det_grad(black_box(&a), ell))
        });
    }
    group.finish();
}

fn bench_kmeans(c: &mut Criterion) {
    let mut group = c.benchmark_group("kmeans");
    let d = KMEANS_D;
    for (n, k) in KMEANS {
        let points = uniform((n + k) as u64, n * d);
        // The last k points, as the eval sends them: no cluster is empty.
        let centroids = points[(n - k) * d..].to_vec();
        let ours = kmeans::direction(&points, &centroids, d);
        close(
            "kmeans hand",
            &kmeans::direction_hand(&points, &centroids, d),
            &ours,
            1e-10,
        );
        let size = format!("n{n}_k{k}");
        group.bench_function(BenchmarkId::new("cost", &size), |b| {
            b.iter(|| kmeans::cost(black_box(&points), &centroids, d))
        });
        group.bench_function(BenchmarkId::new("dir", &size), |b| {
            b.iter(|| kmeans::direction(black_box(&points), &centroids, d))
        });
        group.bench_function(BenchmarkId::new("hand", &size), |b| {
            b.iter(|| kmeans::direction_hand(black_box(&points), &centroids, d))
        });
        // The same forward over reverse by operator overloading (`f_grad` on `Dual`).
        group.bench_function(BenchmarkId::new("dual", &size), |b| {
            b.iter(|| kmeans::direction_dual(black_box(&points), &centroids, d))
        });
    }
    group.finish();
}

/// A hand-like model: 22 bones in five chains of four from a root, 544 vertices each weighted
/// by three bones, transforms near the identity.
fn ht_model() -> ht::Model {
    let (bones, vertices) = (22, 544);
    let noise = uniform(22, 2 * bones * 12 + 3 * vertices);
    let matrix = |m: usize| -> Vec<f64> {
        let mut out = vec![0.0; 16];
        for i in 0..4 {
            out[5 * i] = 1.0;
        }
        for e in 0..12 {
            out[e] += 0.2 * (noise[12 * m + e] - 0.5);
        }
        out
    };
    let mut weights = vec![0.0; vertices * bones];
    let mut base_positions = vec![1.0; 4 * vertices];
    for v in 0..vertices {
        for k in 0..3 {
            base_positions[4 * v + k] = noise[2 * bones * 12 + 3 * v + k] - 0.5;
        }
        let b = v % bones;
        weights[v * bones + b] = 0.6;
        weights[v * bones + (b + 1) % bones] = 0.3;
        weights[v * bones + (b + 5) % bones] = 0.1;
    }
    ht::Model {
        bones,
        parents: (0..bones as i64)
            .map(|b| match b {
                0 => -1,
                b if b % 4 == 1 => 0,
                b => b - 1,
            })
            .collect(),
        base_relatives: (0..bones).flat_map(matrix).collect(),
        inverse_base_absolutes: (bones..2 * bones).flat_map(matrix).collect(),
        base_positions,
        weights,
        triangles: (0..300)
            .flat_map(|t| [t, (t + 1) % vertices, (t + 7) % vertices])
            .collect(),
        is_mirrored: false,
    }
}

fn bench_ht(c: &mut Criterion) {
    let mut group = c.benchmark_group("ht");
    let model = ht_model();
    let theta: Vec<f64> = uniform(26, ht::THETA_SIZE)
        .iter()
        .map(|v| v - 0.5)
        .collect();
    for points_count in HT {
        let correspondences: Vec<usize> = (0..points_count).map(|i| (i * 31) % 544).collect();
        let points = uniform(points_count as u64, 3 * points_count);
        group.bench_function(BenchmarkId::new("objective", points_count), |b| {
            b.iter(|| ht::objective(&theta, &model, &correspondences, black_box(&points), &[]))
        });
        group.bench_function(BenchmarkId::new("jacobian", points_count), |b| {
            b.iter(|| ht::jacobian(&theta, &model, &correspondences, black_box(&points), &[]))
        });
    }
    group.finish();
}

fn main() {
    let mut c = support::criterion();
    bench_lse(&mut c);
    bench_llsq(&mut c);
    bench_det(&mut c);
    bench_kmeans(&mut c);
    bench_ht(&mut c);
    c.final_summary();
    support::report("lse", "primal", &["grad", "grad_into", "hand"], &LSE);
    support::report("llsq", "primal", &["grad", "grad_into", "hand"], &LLSQ);
    support::report("det", "primal", &["grad"], &DET);
    let sizes: Vec<String> = KMEANS.iter().map(|(n, k)| format!("n{n}_k{k}")).collect();
    support::report("kmeans", "cost", &["dir", "hand", "dual"], &sizes);
    support::report("ht", "objective", &["jacobian"], &HT);
}
