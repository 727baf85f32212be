//! How a caller gets its callees' primal values back in the reverse sweep: joint mode (what
//! `#[reverse]` generates: the callee's pullback runs its forward sweep again) against split
//! mode (the callee's forward sweep returns a tape the caller keeps until its reverse sweep),
//! on calls nested two deep inside a loop. Both, and a hand-fused adjoint, are measured next
//! to the primal in one run; the ratios are in docs/performance.md.
//!
//! ```text
//! outer(x, a) = Σ_i tanh(middle(x_i, a))
//! middle(x, a) = u v + x,   u = inner(x, a),   v = inner(u, a / 2)
//! inner(x, a) = sin(x a) exp(x)
//! ```
//!
//! The split-mode code is written by hand as a split generator would emit it (a tape struct
//! per function, the caller's tapes on a stack), since `#[reverse]` does not generate it.
//!
//! Run: `cargo bench --bench calls`
#![allow(
    clippy::needless_range_loop,
    reason = "the functions are written as numerical code is, with index loops"
)]

use std::hint::black_box;

use ad_runtime::reverse;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

#[reverse]
fn inner(x: f64, a: f64) -> f64 {
    (x * a).sin() * x.exp()
}

#[reverse]
fn middle(x: f64, a: f64) -> f64 {
    let u = inner(x, a);
    let v = inner(u, a * 0.5);
    u * v + x
}

#[reverse]
fn outer(x: &[f64], a: f64) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += middle(x[i], a).tanh();
    }
    s
}

/// Split mode: each function's forward sweep returns its value and a tape of what its
/// reverse sweep reads, including its callees' tapes.
mod split {
    pub struct InnerTape {
        x: f64,
        a: f64,
        p: f64,
        s: f64,
        e: f64,
    }

    pub fn inner_forward(x: f64, a: f64) -> (f64, InnerTape) {
        let p = x * a;
        let (s, e) = (p.sin(), x.exp());
        (s * e, InnerTape { x, a, p, s, e })
    }

    pub fn inner_reverse(t: &InnerTape, dy: f64) -> (f64, f64) {
        let (ds, de) = (dy * t.e, dy * t.s);
        let dp = ds * t.p.cos();
        (dp * t.a + de * t.e, dp * t.x)
    }

    pub struct MiddleTape {
        u: f64,
        v: f64,
        tu: InnerTape,
        tv: InnerTape,
    }

    pub fn middle_forward(x: f64, a: f64) -> (f64, MiddleTape) {
        let (u, tu) = inner_forward(x, a);
        let (v, tv) = inner_forward(u, a * 0.5);
        (u * v + x, MiddleTape { u, v, tu, tv })
    }

    pub fn middle_reverse(t: &MiddleTape, dy: f64) -> (f64, f64) {
        let (mut du, dv, mut dx) = (dy * t.v, dy * t.u, dy);
        let (du2, da2) = inner_reverse(&t.tv, dv);
        du += du2;
        let (dx1, da1) = inner_reverse(&t.tu, du);
        dx += dx1;
        (dx, da1 + 0.5 * da2)
    }

    /// The gradient of `outer`: the tapes of the calls in the loop are kept on a stack.
    pub fn outer_grad(x: &[f64], a: f64) -> (f64, (Vec<f64>, f64)) {
        let mut tapes = Vec::with_capacity(x.len());
        let mut s = 0.0;
        for &xi in x {
            let (m, tape) = middle_forward(xi, a);
            let t = m.tanh();
            s += t;
            tapes.push((t, tape));
        }
        let mut dx = vec![0.0; x.len()];
        let mut da = 0.0;
        for i in (0..x.len()).rev() {
            let (t, tape) = tapes.pop().expect("one tape per iteration");
            let (dxi, dai) = middle_reverse(&tape, 1.0 - t * t);
            dx[i] += dxi;
            da += dai;
        }
        (s, (dx, da))
    }
}

/// The adjoint a person would write: each term's forward and reverse fused, nothing kept.
fn hand_grad(x: &[f64], a: f64) -> (f64, (Vec<f64>, f64)) {
    let mut dx = vec![0.0; x.len()];
    let (mut s, mut da) = (0.0, 0.0);
    for i in 0..x.len() {
        let xi = x[i];
        let (pu, eu) = (xi * a, xi.exp());
        let (su, cu) = pu.sin_cos();
        let u = su * eu;
        let b = a * 0.5;
        let (pv, ev) = (u * b, u.exp());
        let (sv, cv) = pv.sin_cos();
        let v = sv * ev;
        let t = (u * v + xi).tanh();
        s += t;
        let dm = 1.0 - t * t;
        let (du0, dv) = (dm * v, dm * u);
        let dpv = dv * ev * cv;
        let du = du0 + dpv * b + dv * sv * ev;
        let dpu = du * eu * cu;
        dx[i] = dm + dpu * a + du * su * eu;
        da += dpu * xi + 0.5 * dpv * u;
    }
    (s, (dx, da))
}

fn inputs(n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| ((i * 7919) % 1000) as f64 / 1000.0 - 0.5)
        .collect()
}

fn calls(c: &mut Criterion) {
    let a = 0.8;
    // The three gradients agree before anything is timed.
    let x = inputs(100);
    let (joint, split, hand) = (
        outer_grad(&x, a),
        split::outer_grad(&x, a),
        hand_grad(&x, a),
    );
    for (name, (value, (dx, da))) in [("split", &split), ("hand", &hand)] {
        assert!((value - joint.0).abs() < 1e-12, "{name} value");
        assert!((da - joint.1.1).abs() < 1e-9, "{name} d/da");
        for i in 0..x.len() {
            assert!((dx[i] - joint.1.0[i]).abs() < 1e-12, "{name} d/dx[{i}]");
        }
    }
    let mut group = c.benchmark_group("nested calls in a loop");
    for n in [1_000, 100_000] {
        let x = inputs(n);
        group.bench_with_input(BenchmarkId::new("primal", n), &x, |b, x| {
            b.iter(|| outer(black_box(x), black_box(a)))
        });
        group.bench_with_input(BenchmarkId::new("joint (generated)", n), &x, |b, x| {
            b.iter(|| outer_grad(black_box(x), black_box(a)))
        });
        group.bench_with_input(BenchmarkId::new("split (tapes)", n), &x, |b, x| {
            b.iter(|| split::outer_grad(black_box(x), black_box(a)))
        });
        group.bench_with_input(BenchmarkId::new("hand-fused", n), &x, |b, x| {
            b.iter(|| hand_grad(black_box(x), black_box(a)))
        });
    }
    group.finish();
}

criterion_group!(benches, calls);
criterion_main!(benches);
