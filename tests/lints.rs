//! Generated code is lint-clean in a user's crate: this test crate denies every rustc warning
//! and clippy's default lints (CI runs clippy on all targets), and calls only the generated
//! functions of some originals, so unused-code lints would show too.
#![deny(warnings, clippy::all)]

use ad_runtime::{Float, reverse};

/// Documented.
#[reverse]
pub fn documented(x: f64, y: f64) -> f64 {
    let product = x * y;
    let (sine, cosine) = product.sin_cos();
    let unused_named = sine * 3.0;
    let _ = unused_named;
    sine * cosine + x.powi(2) + y.max(0.0)
}

#[reverse(wrt(x))]
fn partly_active(x: f64, y: f64, n: usize, flag: bool) -> f64 {
    let k = n as f64 + if_free(flag);
    let mut acc = x * k;
    acc += y;
    acc -= 1.0;
    acc
}

fn if_free(b: bool) -> f64 {
    f64::from(u8::from(b))
}

#[reverse]
fn generic<T: Float>(x: T, y: T) -> T {
    let two = T::one() + T::one();
    x * two + y.exp() - T::from(0.5).unwrap()
}

#[reverse]
fn constant(x: f64) -> f64 {
    let _ = x * 2.0;
    1.0
}

#[reverse]
fn effects(x: f64, log: &mut Vec<usize>) -> f64 {
    let y = x.tanh();
    log.push(log.len());
    println!("{y}");
    assert!(y.abs() <= 1.0, "tanh out of range: {y}");
    y * y
}

#[reverse]
fn many_parameters(a1: f64, a2: f64, a3: f64, a4: f64, a5: f64, a6: f64, a7: f64) -> f64 {
    a1 * a2 + a3 * a4 + a5 * a6 + a7
}

#[test]
fn generated_functions_compile_without_warnings() {
    assert_eq!(documented_grad(1.0, 2.0).0, documented(1.0, 2.0));
    assert_eq!(partly_active_grad(1.0, 2.0, 3, true).1, 4.0);
    assert_eq!(partly_active_vjp(1.0, 2.0, 3, false, 2.0).1, 6.0);
    assert_eq!(generic_grad(1.0f32, 0.0f32).1, (2.0, 1.0));
    assert_eq!(constant_vjp(1.0, 1.0), (1.0, 0.0));
    let mut log = Vec::new();
    let (_, d) = effects_grad(0.5, &mut log);
    assert_eq!(log.len(), 1);
    assert!(d > 0.0);
    let (_, g) = many_parameters_grad(1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0);
    assert_eq!(g, (2.0, 1.0, 4.0, 3.0, 6.0, 5.0, 1.0));
}

#[reverse]
fn branches_and_loops(x: f64, n: usize) -> f64 {
    let mut s = x;
    for i in 0..n {
        if i % 2 == 0 {
            s *= x;
        } else {
            s += x.sin();
        }
    }
    let mut k = 0;
    while s > 1.0 && k < 50 {
        s = s.sqrt();
        k += 1;
    }
    'outer: for i in (0..n).rev().step_by(2) {
        let mut j = 0;
        loop {
            if j > i {
                break;
            }
            if s > 100.0 {
                break 'outer;
            }
            if j == 1 {
                j += 1;
                continue;
            }
            s += (x * j as f64).sin();
            j += 1;
        }
    }
    let r = loop {
        s *= 1.5;
        if s > 2.0 {
            break s.ln();
        }
    };
    let m = match n {
        0 => r,
        1..=3 => r * x,
        _ => r.exp(),
    };
    if m < -1e9 {
        return 0.0;
    }
    m
}

#[test]
fn control_flow_compiles_without_warnings() {
    let (v, d) = branches_and_loops_grad(0.5, 4);
    assert_eq!(v.to_bits(), branches_and_loops(0.5, 4).to_bits());
    assert!(d.is_finite());
}

#[reverse]
#[allow(
    clippy::ptr_arg,
    reason = "`&Vec` parameters are among the forms under test"
)]
fn containers(x: &[f64], w: [f64; 3], m: &Vec<f64>) -> f64 {
    let mut h = vec![0.0; x.len()];
    for (i, v) in x.iter().enumerate() {
        h[i] = v * w[i % 3];
    }
    for hi in h.iter_mut() {
        *hi += 1.0;
    }
    let z = ad_runtime::linalg::matvec(&h, m, 1, m.len());
    ad_runtime::linalg::dot(&h, &h) + z[0] + h.iter().sum::<f64>()
}

#[reverse]
fn outputs(x: &[f64], out: &mut [f64]) -> (f64, f64) {
    for i in 0..x.len() {
        out[i] = x[i].sin();
    }
    (x[0], x[1] * x[0])
}

#[test]
fn containers_compile_without_warnings() {
    let x = [0.1, 0.2, 0.3];
    let m = vec![1.0, 2.0, 3.0];
    let (_, (gx, gw, gm)) = containers_grad(&x, [1.0, 2.0, 3.0], &m);
    assert_eq!((gx.len(), gw.len(), gm.len()), (3, 3, 3));
    let mut dx = vec![0.0; 3];
    let mut dw = [0.0; 3];
    let mut dm = vec![0.0; 3];
    let _ = containers_grad_into(&x, [1.0, 2.0, 3.0], &m, &mut dx, &mut dw, &mut dm);
    let mut out = vec![0.0; 3];
    let (_, rows) = outputs_jacobian(&x, &mut out);
    assert_eq!(rows.len(), 5);
}

#[reverse]
fn callee(w: &[f64], x: f64, out: &mut [f64]) -> Vec<f64> {
    out[0] = x * w[0];
    vec![x.sin(), w[1]]
}

#[reverse(wrt(x))]
fn restricted(x: f64, k: &[f64]) -> f64 {
    x * k[0]
}

#[reverse]
fn caller(w: &[f64], x: f64, out: &mut [f64], log: &mut Vec<usize>) -> f64 {
    let v = callee(w, x, out);
    let mut local = vec![x; 2];
    let _ = callee(&v, x * 2.0, &mut local);
    log.push(v.len());
    v[0] + v[1] * local[0]
        + restricted(x, ad_runtime::stop_gradient(w))
        + ad_runtime::stop_gradient(x)
}

#[test]
fn calls_compile_without_warnings() {
    let mut out = [0.0; 2];
    let mut log = Vec::new();
    let (value, _) = caller_vjp(&[1.0, 2.0], 0.5, &mut out, &mut log, 1.0, vec![0.0; 2]);
    assert!(value.is_finite());
}

/// Documented parameters.
#[derive(ad_runtime::Params, Clone)]
pub struct Weights<T: Float> {
    /// Row-major.
    pub w: Vec<T>,
    /// Scalar.
    pub b: T,
    /// Not a parameter.
    #[params(skip)]
    pub n: usize,
}

impl<T: Float> Weights<T> {
    /// A method.
    #[reverse(float(T))]
    pub fn apply(&self, x: &[T]) -> T {
        let mut s = self.b;
        for (i, &xi) in x.iter().enumerate() {
            s = s + self.w[i] * xi;
        }
        s
    }
}

#[reverse(wrt(weights, x))]
fn through_methods(weights: &Weights<f64>, x: &[f64]) -> (f64, f64) {
    let a = weights.apply(x);
    (a * a, a.sin())
}

fn gauss_rule(x: f64, _y: f64, dy: f64) -> f64 {
    -2.0 * x * dy * (-x * x).exp()
}

#[reverse(rule = gauss_rule)]
fn gauss(x: f64) -> f64 {
    (-x * x).exp()
}

#[reverse(zero_derivative)]
fn step(x: f64) -> f64 {
    if x > 0.0 { 1.0 } else { 0.0 }
}

#[reverse]
fn given(x: f64) -> f64 {
    gauss(x) * step(x)
}

#[test]
fn structs_methods_and_given_derivatives_compile_without_warnings() {
    let weights = Weights {
        w: vec![1.0, 2.0],
        b: 0.5,
        n: 2,
    };
    let (_, rows) = through_methods_jacobian(&weights, &[0.25, -0.5]);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].len(), 3 + 2);
    let (value, d) = given_grad(0.5);
    assert_eq!(value, gauss(0.5));
    assert_eq!(d, -(-0.25f64).exp());
}
