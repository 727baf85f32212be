//! Forward mode and second order: `f_jvp` against the primal, `f_hvp` against the gradient,
//! and the source-transformed `f_jvp` against operator overloading (the same function, generic
//! over `Float`, run on `ad_runtime::Dual`), on straight-line code over a slice (Rosenbrock)
//! and on a loop carrying scalars (a damped oscillator stepped n times). Each variant's result
//! is checked against another's before anything is timed.
//!
//! Run: `cargo bench --bench forward` (prints tables of medians and ratios at the end).

use std::hint::black_box;

use ad_runtime::{Dual, Float, reverse};
use ad_suite::problems::rosenbrock::{rosenbrock, rosenbrock_grad, rosenbrock_hvp, rosenbrock_jvp};
use criterion::{BenchmarkId, Criterion};

mod support;

const SIZES: [usize; 3] = [1_000, 100_000, 1_000_000];
const STEPS: [usize; 2] = [1_000, 100_000];

/// Rosenbrock for any float type: what a user of operator overloading writes.
fn rosenbrock_generic<F: Float>(x: &[F]) -> F {
    let (hundred, one) = (F::from(100.0).unwrap_or_else(F::nan), F::one());
    let mut s = F::zero();
    for i in 0..x.len() - 1 {
        let a = x[i + 1] - x[i] * x[i];
        let b = one - x[i];
        s = s + hundred * a * a + b * b;
    }
    s
}

/// A damped nonlinear oscillator, semi-implicit Euler steps: the energy at the end.
#[reverse]
fn oscillator(x0: f64, v0: f64, k: f64, steps: usize) -> f64 {
    let (mut x, mut v) = (x0, v0);
    let dt = 0.01;
    for _ in 0..steps {
        v = v - dt * (k * x.sin() + 0.1 * v);
        x += dt * v;
    }
    0.5 * v * v + k * (1.0 - x.cos())
}

/// [`oscillator`] for any float type.
fn oscillator_generic<F: Float>(x0: F, v0: F, k: F, steps: usize) -> F {
    let c = |v: f64| F::from(v).unwrap_or_else(F::nan);
    let (mut x, mut v) = (x0, v0);
    let dt = c(0.01);
    for _ in 0..steps {
        v = v - dt * (k * x.sin() + c(0.1) * v);
        x = x + dt * v;
    }
    c(0.5) * v * v + k * (F::one() - x.cos())
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

fn bench_rosenbrock(c: &mut Criterion) {
    let mut group = c.benchmark_group("forward-rosenbrock");
    for n in SIZES {
        let x: Vec<f64> = (0..n)
            .map(|i| if i % 2 == 0 { -1.2 } else { 1.0 })
            .collect();
        let v: Vec<f64> = (0..n).map(|i| ((i % 7) as f64 - 3.0) / 3.0).collect();
        let duals: Vec<Dual<f64>> = x.iter().zip(&v).map(|(&x, &d)| Dual::new(x, d)).collect();
        let (_, tangent) = rosenbrock_jvp(&x, &v);
        assert!(
            close(rosenbrock_generic(&duals).d, tangent),
            "dual against f_jvp"
        );
        let (_, g) = rosenbrock_grad(&x);
        assert!(
            close(g.iter().zip(&v).map(|(a, b)| a * b).sum(), tangent),
            "f_jvp against f_grad"
        );
        group.bench_function(BenchmarkId::new("primal", n), |b| {
            b.iter(|| rosenbrock(black_box(&x)))
        });
        group.bench_function(BenchmarkId::new("jvp", n), |b| {
            b.iter(|| rosenbrock_jvp(black_box(&x), black_box(&v)))
        });
        // The duals made from `x` and `v` on each call, as a caller holding two slices would.
        group.bench_function(BenchmarkId::new("dual", n), |b| {
            b.iter(|| {
                let duals: Vec<Dual<f64>> = black_box(&x)
                    .iter()
                    .zip(&v)
                    .map(|(&x, &d)| Dual::new(x, d))
                    .collect();
                rosenbrock_generic(&duals)
            })
        });
        group.bench_function(BenchmarkId::new("dual_held", n), |b| {
            b.iter(|| rosenbrock_generic(black_box(&duals)))
        });
        group.bench_function(BenchmarkId::new("grad", n), |b| {
            b.iter(|| rosenbrock_grad(black_box(&x)))
        });
        group.bench_function(BenchmarkId::new("hvp", n), |b| {
            b.iter(|| rosenbrock_hvp(black_box(&x), black_box(&v)))
        });
    }
    group.finish();
}

fn bench_oscillator(c: &mut Criterion) {
    let mut group = c.benchmark_group("forward-oscillator");
    let (x0, v0, k) = (0.8, -0.3, 2.5);
    let (dx, dv, dk) = (0.4, 1.0, -0.7);
    for n in STEPS {
        let (_, tangent) = oscillator_jvp(x0, v0, k, n, dx, dv, dk);
        let dual = oscillator_generic(Dual::new(x0, dx), Dual::new(v0, dv), Dual::new(k, dk), n);
        assert!(close(dual.d, tangent), "dual against f_jvp");
        let (_, (gx, gv, gk)) = oscillator_grad(x0, v0, k, n);
        assert!(
            close(gx * dx + gv * dv + gk * dk, tangent),
            "f_jvp against f_grad"
        );
        group.bench_function(BenchmarkId::new("primal", n), |b| {
            b.iter(|| oscillator(black_box(x0), v0, k, n))
        });
        group.bench_function(BenchmarkId::new("jvp", n), |b| {
            b.iter(|| oscillator_jvp(black_box(x0), v0, k, n, dx, dv, dk))
        });
        group.bench_function(BenchmarkId::new("dual", n), |b| {
            b.iter(|| {
                oscillator_generic(
                    Dual::new(black_box(x0), dx),
                    Dual::new(v0, dv),
                    Dual::new(k, dk),
                    n,
                )
            })
        });
        group.bench_function(BenchmarkId::new("grad", n), |b| {
            b.iter(|| oscillator_grad(black_box(x0), v0, k, n))
        });
        group.bench_function(BenchmarkId::new("hvp", n), |b| {
            b.iter(|| oscillator_hvp(black_box(x0), v0, k, n, dx, dv, dk))
        });
    }
    group.finish();
}

fn main() {
    let mut c = support::criterion();
    bench_rosenbrock(&mut c);
    bench_oscillator(&mut c);
    c.final_summary();
    for (group, parameters) in [
        ("forward-rosenbrock", &SIZES[..]),
        ("forward-oscillator", &STEPS[..]),
    ] {
        support::report(
            group,
            "primal",
            &["jvp", "dual", "dual_held", "grad"],
            parameters,
        );
        support::report(group, "grad", &["hvp"], parameters);
    }
}
