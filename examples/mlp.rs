//! A multilayer perceptron learns two interleaved spirals.
//!
//! The weights live in a struct deriving `Params`; the loss is a `#[reverse]` function of that
//! struct, and its layers are `#[reverse]` methods called from it. `loss_grad` returns the
//! gradient as the same struct, which Adam (written here, over the flattened parameters)
//! turns into a step.
//!
//! Run: `cargo run --release --example mlp`
#![allow(
    clippy::needless_range_loop,
    reason = "matrix-vector products read best as index loops"
)]

use ad_runtime::{Params, reverse};
// A seeded generator, so that every run prints the same.
use fastrand::Rng;

/// A fully connected layer, `W x + b`, with `W` row-major `outputs × inputs`.
#[derive(Params, Clone)]
struct Dense {
    w: Vec<f64>,
    b: Vec<f64>,
    #[params(skip)]
    inputs: usize,
}

impl Dense {
    /// Glorot-uniform weights from a deterministic generator, zero biases.
    fn new(inputs: usize, outputs: usize, rng: &mut Rng) -> Dense {
        let limit = (6.0 / (inputs + outputs) as f64).sqrt();
        Dense {
            w: (0..inputs * outputs)
                .map(|_| limit * (2.0 * rng.f64() - 1.0))
                .collect(),
            b: vec![0.0; outputs],
            inputs,
        }
    }

    /// `tanh(W x + b)`.
    #[reverse]
    fn tanh_layer(&self, x: &[f64]) -> Vec<f64> {
        let n = self.inputs;
        let mut y = vec![0.0; self.b.len()];
        for i in 0..self.b.len() {
            let mut s = self.b[i];
            for j in 0..n {
                s += self.w[i * n + j] * x[j];
            }
            y[i] = s.tanh();
        }
        y
    }

    /// `w · x + b[0]`: one output, a logit.
    #[reverse]
    fn logit(&self, x: &[f64]) -> f64 {
        let mut s = self.b[0];
        for j in 0..self.inputs {
            s += self.w[j] * x[j];
        }
        s
    }
}

/// Two hidden layers and a logistic output.
#[derive(Params, Clone)]
struct Mlp {
    first: Dense,
    second: Dense,
    out: Dense,
}

impl Mlp {
    /// The logit of class 1 for the point `(x, y)`.
    #[reverse]
    fn logit(&self, x: f64, y: f64) -> f64 {
        let h1 = self.first.tanh_layer(&[x, y]);
        let h2 = self.second.tanh_layer(&h1);
        self.out.logit(&h2)
    }
}

/// The mean binary cross-entropy over a batch, from logits (`ln(1 + e^z) - t z`, computed
/// without overflow).
#[reverse(wrt(mlp))]
fn loss(mlp: &Mlp, points: &[f64], labels: &[f64]) -> f64 {
    let mut total = 0.0;
    for k in 0..labels.len() {
        let z = mlp.logit(points[2 * k], points[2 * k + 1]);
        let softplus = z.max(0.0) + (-z.abs()).exp().ln_1p();
        total += softplus - labels[k] * z;
    }
    total / labels.len() as f64
}

/// Adam over the flattened parameters.
struct Adam {
    rate: f64,
    m: Vec<f64>,
    v: Vec<f64>,
    t: i32,
}

impl Adam {
    fn step(&mut self, params: &mut Mlp, grad: &Mlp) {
        let (b1, b2, eps) = (0.9, 0.999, 1e-8);
        self.t += 1;
        let mut p = params.to_vec();
        for (i, g) in grad.to_vec().into_iter().enumerate() {
            self.m[i] = b1 * self.m[i] + (1.0 - b1) * g;
            self.v[i] = b2 * self.v[i] + (1.0 - b2) * g * g;
            let m_hat = self.m[i] / (1.0 - b1.powi(self.t));
            let v_hat = self.v[i] / (1.0 - b2.powi(self.t));
            p[i] -= self.rate * m_hat / (v_hat.sqrt() + eps);
        }
        params.copy_from_slice(&p);
    }
}

/// `n` points of each of two spirals, a half turn apart, with a little noise: `(points,
/// labels)`, points flattened as `x0, y0, x1, y1, ..`.
fn spirals(n: usize, rng: &mut Rng) -> (Vec<f64>, Vec<f64>) {
    let mut points = Vec::new();
    let mut labels = Vec::new();
    for class in 0..2 {
        for i in 0..n {
            let t = 0.1 + 0.9 * i as f64 / n as f64;
            let angle = 2.5 * std::f64::consts::PI * t + class as f64 * std::f64::consts::PI;
            let noise = 0.03;
            points.push(2.0 * t * angle.cos() + noise * (rng.f64() - 0.5));
            points.push(2.0 * t * angle.sin() + noise * (rng.f64() - 0.5));
            labels.push(class as f64);
        }
    }
    (points, labels)
}

fn accuracy(mlp: &Mlp, points: &[f64], labels: &[f64]) -> f64 {
    let correct = (0..labels.len())
        .filter(|&k| (mlp.logit(points[2 * k], points[2 * k + 1]) > 0.0) == (labels[k] > 0.5))
        .count();
    correct as f64 / labels.len() as f64
}

fn main() {
    let mut rng = Rng::with_seed(7);
    let (points, labels) = spirals(200, &mut rng);
    let hidden = 24;
    let mut mlp = Mlp {
        first: Dense::new(2, hidden, &mut rng),
        second: Dense::new(hidden, hidden, &mut rng),
        out: Dense::new(hidden, 1, &mut rng),
    };
    println!(
        "{} points on two spirals, {} parameters",
        labels.len(),
        mlp.len()
    );
    let mut adam = Adam {
        rate: 0.02,
        m: vec![0.0; mlp.len()],
        v: vec![0.0; mlp.len()],
        t: 0,
    };
    let batch = 16;
    let mut order: Vec<usize> = (0..labels.len()).collect();
    let (mut batch_points, mut batch_labels) = (Vec::new(), Vec::new());
    for epoch in 1..=60 {
        // Shuffle, then one Adam step per minibatch.
        rng.shuffle(&mut order);
        for chunk in order.chunks(batch) {
            batch_points.clear();
            batch_labels.clear();
            for &k in chunk {
                batch_points.extend_from_slice(&points[2 * k..2 * k + 2]);
                batch_labels.push(labels[k]);
            }
            let (_, grad) = loss_grad(&mlp, &batch_points, &batch_labels);
            adam.step(&mut mlp, &grad);
        }
        println!(
            "epoch {epoch:>2}  loss {:.4}  accuracy {:5.1}%",
            loss(&mlp, &points, &labels),
            100.0 * accuracy(&mlp, &points, &labels)
        );
    }
}
