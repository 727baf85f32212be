//! `#[reverse]` in a `no_std` crate: generated code must name only `core` and the runtime
//! (`ad_runtime::__private::Vec`, its `vec!`), never `::std` (absent here) or `::alloc`.
//!
//! This crate reaches `alloc` only under another name, `heap`, as its own `Vec` outputs and
//! parameter structs need one: a generated `::alloc::vec::Vec` would not resolve here, which
//! an `extern crate alloc;` would hide. The functions cover each kind of generated code:
//! scalars and generics, slices and `Vec` gradients, `Vec`, array and tuple outputs (their
//! Jacobians are `Vec`s of rows), a `&mut` output, loops whose reverse pops stashes (a
//! `Stack` of values, `Bits` of branches, a `while` loop's trip count), container copies
//! (`to_owned`, `to_vec`, snapshots before `linalg` calls), calls between `#[reverse]`
//! functions, a derivative given by a rule (`rule = ..`), `stop_gradient`, and a
//! `#[derive(Params)]` struct with a method.
//!
//! The tests (`tests/gradients.rs`, with `std`) check every gradient against its closed
//! form. `cargo test -p ad-no-std` builds the runtime as a `no_std` user does, with `libm`
//! and without `std`.
#![no_std]
#![allow(
    clippy::needless_range_loop,
    reason = "index loops, as numerical code and the supported subset write them"
)]

extern crate alloc as heap;

use ad_runtime::{Float, Params, reverse};
use heap::vec;
use heap::vec::Vec;

/// Scalars: `(∂/∂x, ∂/∂y) = (y cos(xy) + eˣ/y, x cos(xy) − eˣ/y²)`.
#[reverse]
pub fn scalar(x: f64, y: f64) -> f64 {
    (x * y).sin() + x.exp() / y
}

/// A generic float: `d/dx (x³ − 2x) = 3x² − 2`.
#[reverse]
pub fn cubic<T: Float>(x: T) -> T {
    let two = T::one() + T::one();
    x * x * x - two * x
}

/// Slices: `Σ wᵢ xᵢ²`; `∂/∂xᵢ = 2 wᵢ xᵢ`, `∂/∂wᵢ = xᵢ²`.
#[reverse]
pub fn weighted_squares(x: &[f64], w: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += w[i] * x[i] * x[i];
    }
    s
}

/// A `Vec` output made with `Vec::new` and `push`: `[xᵢ² a]`.
#[reverse]
pub fn scaled_squares(x: &[f64], a: f64) -> Vec<f64> {
    let mut out = Vec::new();
    for i in 0..x.len() {
        out.push(x[i] * x[i] * a);
    }
    out
}

/// A `Vec` made with `vec!`, copied with `to_vec`, summed: `Σ (xᵢ + 1)² + Σ xᵢ`.
#[reverse]
pub fn shifted(x: &[f64]) -> f64 {
    let mut y = vec![0.0; x.len()];
    for i in 0..x.len() {
        y[i] = x[i] + 1.0;
    }
    let z = x.to_vec();
    let mut s = 0.0;
    for i in 0..y.len() {
        s += y[i] * y[i] + z[i];
    }
    s
}

/// A loop whose reverse pops a stash per iteration: `s ← sin(s xᵢ)`, from `s = 1`.
#[reverse]
pub fn sine_chain(x: &[f64]) -> f64 {
    let mut s = 1.0;
    for i in 0..x.len() {
        s = (s * x[i]).sin();
    }
    s
}

/// Branches in a loop (their conditions kept as bits) and a `while` loop (its trip count
/// kept): `Σ |xᵢ|` over the positive entries squared, then halved until below `limit`.
#[reverse]
pub fn branches(x: &[f64], limit: f64) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        if x[i] > 0.0 {
            s += x[i] * x[i];
        } else {
            s -= x[i];
        }
    }
    while s > limit {
        s *= 0.5;
    }
    s
}

/// An array by value copied and changed (`to_owned` of an array), and an array output:
/// `[v₀ t, v₁ + t²]` of the copy `c = v`, `c₀ = v₀ t`.
#[reverse]
pub fn array_out(v: [f64; 2], t: f64) -> [f64; 2] {
    let mut c = v;
    c[0] *= t;
    [c[0], c[1] + t * t]
}

/// The Euclidean norm of an array: `∂/∂vᵢ = vᵢ / |v|`.
#[reverse]
pub fn norm3(v: &[f64; 3]) -> f64 {
    (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt()
}

/// A tuple output: `(x y, x + y)`.
#[reverse]
pub fn pair(x: f64, y: f64) -> (f64, f64) {
    (x * y, x + y)
}

/// A `&mut` output: `yᵢ ← yᵢ a + xᵢ`.
#[reverse]
pub fn axpy(a: f64, x: &[f64], y: &mut [f64]) {
    for i in 0..x.len() {
        y[i] = y[i] * a + x[i];
    }
}

/// A `linalg` call on a container written afterwards (a snapshot is kept for the call's
/// reverse): `x·x` then `x₀ ← 0`, plus `Σ xᵢ` after: `∂/∂x₀ = 2x₀`, `∂/∂xᵢ = 2xᵢ + 1`.
#[reverse]
pub fn dot_then_write(x: &[f64]) -> f64 {
    let mut y = x.to_vec();
    let d = ad_runtime::linalg::dot(&y, &y);
    y[0] = 0.0;
    let mut s = d;
    for i in 0..y.len() {
        s += y[i];
    }
    s
}

/// Called by [`sum_of_inner`]: `sin(x a) eˣ`.
#[reverse]
pub fn inner(x: f64, a: f64) -> f64 {
    (x * a).sin() * x.exp()
}

/// Calls between `#[reverse]` functions: `Σ inner(xᵢ, a)`.
#[reverse]
pub fn sum_of_inner(x: &[f64], a: f64) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += inner(x[i], a);
    }
    s
}

/// A parameter struct: a line and per-point weights.
#[derive(Params, Clone, Debug, PartialEq)]
pub struct Line {
    pub slope: f64,
    pub offset: f64,
    pub weights: Vec<f64>,
}

impl Line {
    /// `slope x + offset`.
    #[reverse]
    pub fn at(&self, x: f64) -> f64 {
        self.slope * x + self.offset
    }
}

/// The weighted squared error of `line` on the points `(xs, ys)`:
/// `Σ wᵢ (slope xᵢ + offset − yᵢ)²`.
#[reverse(wrt(line))]
pub fn fit(line: &Line, xs: &[f64], ys: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..xs.len() {
        let e = line.at(xs[i]) - ys[i];
        s += line.weights[i] * e * e;
    }
    s
}

/// A derivative given by a rule, with a container parameter: `Σ xᵢ² s`, whose rule adds
/// `2 xᵢ s` into the buffer and returns `∂/∂s = Σ xᵢ²`.
#[reverse(rule = scaled_norm_rule)]
pub fn scaled_norm(x: &[f64], s: f64) -> f64 {
    x.iter().map(|v| v * v).sum::<f64>() * s
}

/// The rule of [`scaled_norm`]: the parameters, the value, its cotangent, then the buffer of
/// `x`; returns the adjoint of `s`.
pub fn scaled_norm_rule(x: &[f64], s: f64, _value: f64, cotangent: f64, dx: &mut [f64]) -> f64 {
    let mut ds = 0.0;
    for (d, &v) in dx.iter_mut().zip(x) {
        *d += cotangent * 2.0 * v * s;
        ds += cotangent * v * v;
    }
    ds
}

/// A call of a function with a rule, and `stop_gradient`: `scaled_norm(x, s) + s · stop(s)`.
#[reverse]
pub fn uses_rule(x: &[f64], s: f64) -> f64 {
    scaled_norm(x, s) + s * ad_runtime::stop_gradient(s)
}
