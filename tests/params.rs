//! Parameter structs: `#[derive(Params)]`, struct parameters named in `wrt(..)`, methods with
//! `&self`, nested and generic structs. Gradients come back as the same struct and are checked
//! against central differences over the flattened parameters, and closed forms where short.
#![allow(
    clippy::needless_range_loop,
    reason = "the functions are written as numerical code is, with index loops"
)]

mod common;

use ad_runtime::{Float, Params, check, reverse};
use common::{FD_TOL, assert_close};

// ----- a two-layer network -----

/// `tanh(W x + b)` for an `outputs × inputs` row-major `W`.
#[derive(Params, Clone, Debug, PartialEq)]
struct Dense<T: Float> {
    w: Vec<T>,
    b: Vec<T>,
    #[params(skip)]
    inputs: usize,
}

impl<T: Float> Dense<T> {
    #[reverse(float(T))]
    fn forward(&self, x: &[T]) -> Vec<T> {
        let n = self.inputs;
        let mut y = vec![T::zero(); self.b.len()];
        for i in 0..self.b.len() {
            let mut s = self.b[i];
            for j in 0..n {
                s = s + self.w[i * n + j] * x[j];
            }
            y[i] = s.tanh();
        }
        y
    }
}

/// A hidden layer and a linear readout.
#[derive(Params, Clone, Debug, PartialEq)]
struct Net<T: Float> {
    hidden: Dense<T>,
    readout: Vec<T>,
    bias: T,
}

impl<T: Float> Net<T> {
    #[reverse(float(T))]
    fn predict(&self, x: &[T]) -> T {
        let h = self.hidden.forward(x);
        let mut s = self.bias;
        for i in 0..h.len() {
            s = s + self.readout[i] * h[i];
        }
        s
    }
}

/// The mean squared error over `points` (pairs of inputs) and `targets`.
#[reverse(wrt(net))]
fn mse<T: Float>(net: &Net<T>, points: &[T], targets: &[T]) -> T {
    let mut total = T::zero();
    for k in 0..targets.len() {
        let e = net.predict(&[points[2 * k], points[2 * k + 1]]) - targets[k];
        total = total + e * e;
    }
    total / T::from(targets.len()).unwrap()
}

fn net() -> Net<f64> {
    Net {
        hidden: Dense {
            w: vec![0.1, -0.2, 0.3, 0.4, -0.5, 0.6],
            b: vec![0.01, -0.02, 0.03],
            inputs: 2,
        },
        readout: vec![0.7, -0.8, 0.9],
        bias: 0.1,
    }
}

const POINTS: [f64; 6] = [0.5, -1.0, 1.5, 0.25, -0.3, 0.8];
const TARGETS: [f64; 3] = [1.0, -1.0, 0.5];

/// `f` as a function of the flattened parameters of `p`.
fn flattened<P: Params<Scalar = f64> + Clone>(
    p: &P,
    f: impl Fn(&P) -> f64,
) -> impl Fn(&[f64]) -> f64 {
    let template = p.clone();
    move |flat| {
        let mut q = template.clone();
        q.copy_from_slice(flat);
        f(&q)
    }
}

#[test]
fn a_two_layer_network_against_central_differences_on_the_flattened_weights() {
    let net = net();
    let (value, grad) = mse_grad(&net, &POINTS, &TARGETS);
    assert_eq!(value.to_bits(), mse(&net, &POINTS, &TARGETS).to_bits());
    assert_eq!(grad.hidden.inputs, 2, "skipped fields are copied");
    assert_eq!(grad.len(), net.len());
    let f = flattened(&net, |n| mse(n, &POINTS, &TARGETS));
    check::gradient(f, &net.to_vec(), &grad.to_vec()).assert_within(FD_TOL);
    // The bias and readout gradients in closed form.
    let mut d_bias = 0.0;
    let mut d_readout = [0.0; 3];
    for k in 0..3 {
        let x = [POINTS[2 * k], POINTS[2 * k + 1]];
        let h = net.hidden.forward(&x);
        let e = net.predict(&x) - TARGETS[k];
        d_bias += 2.0 * e / 3.0;
        for i in 0..3 {
            d_readout[i] += 2.0 * e * h[i] / 3.0;
        }
    }
    assert_close("d/d bias", grad.bias, d_bias);
    for i in 0..3 {
        assert_close(&format!("d/d readout[{i}]"), grad.readout[i], d_readout[i]);
    }
}

#[test]
fn methods_differentiate_with_respect_to_self_and_their_arguments() {
    let net = net();
    let x = [0.3, -0.7];
    let (value, (grad, dx)) = net.predict_grad(&x);
    assert_eq!(value.to_bits(), net.predict(&x).to_bits());
    let f = flattened(&net, |n| n.predict(&x));
    check::gradient(f, &net.to_vec(), &grad.to_vec()).assert_within(FD_TOL);
    check::gradient(|p| net.predict(p), &x, &dx).assert_within(FD_TOL);
    // The layer alone: a vector-Jacobian product, its rows through `f_jacobian`.
    let layer = &net.hidden;
    let seed = vec![1.0, -2.0, 0.5];
    let (y, (dlayer, dx)) = layer.forward_vjp(&x, seed.clone());
    assert_eq!(y, layer.forward(&x));
    let f = flattened(layer, |l| {
        l.forward(&x).iter().zip(&seed).map(|(a, b)| a * b).sum()
    });
    check::gradient(f, &layer.to_vec(), &dlayer.to_vec()).assert_within(FD_TOL);
    let (_, rows) = layer.forward_jacobian(&x);
    for (k, row) in rows.iter().enumerate() {
        // Columns: the layer's parameters, flattened, then `x`.
        let f = flattened(layer, |l| l.forward(&x)[k]);
        check::gradient(f, &layer.to_vec(), &row[..9]).assert_within(FD_TOL);
        let vjp_x: f64 = (0..3).map(|j| seed[j] * rows[j][9]).sum();
        if k == 0 {
            assert_close("vjp against the Jacobian", dx[0], vjp_x);
        }
    }
}

#[test]
fn generic_structs_in_f32() {
    let net32 = Net::<f32> {
        hidden: Dense {
            w: net().hidden.w.iter().map(|&v| v as f32).collect(),
            b: net().hidden.b.iter().map(|&v| v as f32).collect(),
            inputs: 2,
        },
        readout: vec![0.7, -0.8, 0.9],
        bias: 0.1,
    };
    let points: Vec<f32> = POINTS.iter().map(|&v| v as f32).collect();
    let targets: Vec<f32> = TARGETS.iter().map(|&v| v as f32).collect();
    let (value, grad) = mse_grad(&net32, &points, &targets);
    assert_eq!(value.to_bits(), mse(&net32, &points, &targets).to_bits());
    let (_, grad64) = mse_grad(&net(), &POINTS, &TARGETS);
    for (a, b) in grad.to_vec().iter().zip(grad64.to_vec()) {
        assert!((f64::from(*a) - b).abs() < 1e-5, "{a} vs {b}");
    }
}

// ----- scalars, arrays, tuple structs, `wrt`, `f_grad_into` -----

#[derive(Params, Clone, Debug, PartialEq)]
struct Quadratic {
    a: f64,
    coefficients: [f64; 3],
    #[params(skip)]
    name: String,
}

#[derive(Params, Clone, Debug, PartialEq)]
struct Pair(f64, Vec<f64>);

impl Quadratic {
    /// `a x² + c0 x + c1 + c2 x³`, differentiated with respect to `self` and `x`.
    #[reverse]
    fn eval(&self, x: f64) -> f64 {
        self.a * x * x
            + self.coefficients[0] * x
            + self.coefficients[1]
            + self.coefficients[2] * x.powi(3)
    }

    /// With respect to `x` only: `self` is a constant here.
    #[reverse(wrt(x))]
    fn slope(&self, x: f64) -> f64 {
        self.eval(x)
    }
}

#[reverse(wrt(q, p, y))]
fn mixed(q: &Quadratic, p: &Pair, y: f64) -> f64 {
    let mut s = q.eval(y) * p.0;
    for i in 0..p.1.len() {
        s += p.1[i] * y;
    }
    s
}

#[test]
fn scalar_array_and_tuple_fields() {
    let q = Quadratic {
        a: 2.0,
        coefficients: [-1.0, 0.5, 0.25],
        name: "q".into(),
    };
    let x = 1.5;
    let (value, (dq, dx)) = q.eval_grad(x);
    assert_eq!(value.to_bits(), q.eval(x).to_bits());
    assert_close("d/da", dq.a, x * x);
    assert_eq!(dq.coefficients, [x, 1.0, x.powi(3)]);
    assert_eq!(dq.name, "q");
    assert_close("d/dx", dx, 2.0 * 2.0 * x - 1.0 + 3.0 * 0.25 * x * x);
    let (_, slope) = q.slope_grad(x);
    assert_close("slope", slope, dx);

    let p = Pair(3.0, vec![1.0, -2.0]);
    let y = 0.5;
    let (value, (dq, dp, dy)) = mixed_grad(&q, &p, y);
    assert_eq!(value.to_bits(), mixed(&q, &p, y).to_bits());
    assert_close("d/dp.0", dp.0, q.eval(y));
    assert_eq!(dp.1, [y, y]);
    assert_close("d/dq.a", dq.a, p.0 * y * y);
    let (_, dqx) = q.eval_grad(y);
    assert_close("d/dy", dy, p.0 * dqx.1 + p.1.iter().sum::<f64>());
}

#[test]
fn gradients_into_a_callers_struct() {
    let net = net();
    let mut grad = net.zeros_like();
    grad.bias = 123.0; // overwritten, not added to
    let value = mse_grad_into(&net, &POINTS, &TARGETS, &mut grad);
    let (want_value, want) = mse_grad(&net, &POINTS, &TARGETS);
    assert_eq!(value.to_bits(), want_value.to_bits());
    assert_eq!(grad, want);
}

#[test]
#[should_panic(expected = "f_grad_into: `dnet` has 7 parameters but its parameter has 13")]
fn a_gradient_struct_of_another_shape_panics_naming_the_parameter() {
    let net = net();
    let mut grad = net.zeros_like();
    grad.hidden.w.clear();
    let _ = mse_grad_into(&net, &POINTS, &TARGETS, &mut grad);
}

#[test]
fn the_params_trait_gives_what_an_optimizer_needs() {
    let mut net = net();
    assert_eq!(net.len(), 6 + 3 + 3 + 1);
    let flat = net.to_vec();
    assert_eq!(&flat[..6], &net.hidden.w[..]);
    assert_eq!(flat[12], net.bias);
    let zeros = net.zeros_like();
    assert!(zeros.to_vec().iter().all(|&v| v == 0.0));
    assert_eq!(zeros.hidden.inputs, 2);
    // Gradient descent lowers the loss.
    let before = mse(&net, &POINTS, &TARGETS);
    for _ in 0..50 {
        let (_, grad) = mse_grad(&net, &POINTS, &TARGETS);
        net.add_scaled(-0.1, &grad);
    }
    assert!(mse(&net, &POINTS, &TARGETS) < 0.5 * before);
    let mut copy = net.clone();
    copy.set_zero();
    copy.copy_from_slice(&net.to_vec());
    assert_eq!(copy, net);
}

#[test]
#[should_panic(expected = "parameter field `readout` has 3 elements here and 2 in the other value")]
fn adding_a_struct_of_another_shape_panics_naming_the_field() {
    let mut a = net();
    let mut b = net();
    b.readout.pop();
    a.add_scaled(1.0, &b);
}

#[derive(Params, Clone, Debug, PartialEq)]
struct Affine {
    scale: f64,
    shift: [f64; 2],
}

impl Affine {
    #[reverse]
    fn apply(&self, x: f64, k: usize) -> f64 {
        self.scale * x + self.shift[k]
    }

    /// Calls a method in path form, and takes another struct by value.
    #[reverse(wrt(self, other, x))]
    fn compose(&self, other: Affine, x: f64) -> f64 {
        Self::apply(self, other.apply(x, 0), 1) * other.scale
    }
}

#[test]
fn methods_in_path_form_and_structs_by_value() {
    let (a, b) = (
        Affine {
            scale: 2.0,
            shift: [0.5, -1.0],
        },
        Affine {
            scale: -3.0,
            shift: [0.25, 4.0],
        },
    );
    let x = 0.7;
    let (value, (da, db, dx)) = a.compose_grad(b.clone(), x);
    assert_eq!(value.to_bits(), a.compose(b.clone(), x).to_bits());
    // (a.scale (b.scale x + b.shift0) + a.shift1) b.scale
    let inner = b.scale * x + b.shift[0];
    assert_close("d/da.scale", da.scale, inner * b.scale);
    assert_eq!(da.shift, [0.0, b.scale]);
    assert_close(
        "d/db.scale",
        db.scale,
        a.scale * x * b.scale + (a.scale * inner + a.shift[1]),
    );
    assert_eq!(db.shift, [a.scale * b.scale, 0.0]);
    assert_close("d/dx", dx, a.scale * b.scale * b.scale);
}

#[derive(Params, Clone, Debug, PartialEq)]
struct Weighted {
    w: Vec<f64>,
    v: [f64; 3],
    b: f64,
}

/// Iterating fields directly: `p.w.iter().zip(x)`, `p.v.iter().enumerate()`, `.sum()`.
#[reverse(wrt(p))]
fn iterate_fields(p: &Weighted, x: &[f64]) -> f64 {
    let mut s = p.b;
    for (a, b) in p.w.iter().zip(x) {
        s += a * b;
    }
    for (i, v) in p.v.iter().enumerate() {
        s += v * v * i as f64;
    }
    s + p.w.iter().sum::<f64>()
}

#[test]
fn fields_iterated_directly() {
    let p = Weighted {
        w: vec![1.0, 2.0, 3.0],
        v: [1.0, -2.0, 0.5],
        b: 0.5,
    };
    let x = [0.5, 0.25, 2.0];
    let (value, grad) = iterate_fields_grad(&p, &x);
    assert_eq!(value.to_bits(), iterate_fields(&p, &x).to_bits());
    assert_eq!(grad.w, [1.5, 1.25, 3.0]);
    assert_eq!(grad.v, [0.0, -4.0, 2.0]);
    assert_eq!(grad.b, 1.0);
}
