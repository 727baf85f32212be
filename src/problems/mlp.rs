//! A dense two-layer perceptron's mean squared error over a batch, written with
//! `linalg::matmul`: the shape of most training losses.

use ad_runtime::{linalg, reverse};

/// The sizes of a [`loss`] problem.
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    /// Rows of the batch.
    pub batch: usize,
    /// Features per row.
    pub inputs: usize,
    /// Hidden units.
    pub hidden: usize,
    /// Outputs per row.
    pub outputs: usize,
}

/// `Σ_rows ‖tanh(x W1 + b1) W2 + b2 − y‖² / batch`, with `x` `batch × inputs`, `W1`
/// `inputs × hidden`, `W2` `hidden × outputs` and `y` `batch × outputs`, all row-major.
#[reverse(wrt(w1, b1, w2, b2))]
#[allow(
    clippy::too_many_arguments,
    reason = "a loss of four weight tensors and two sizes"
)]
pub fn loss(
    w1: &[f64],
    b1: &[f64],
    w2: &[f64],
    b2: &[f64],
    x: &[f64],
    y: &[f64],
    batch: usize,
    inputs: usize,
) -> f64 {
    let hidden = b1.len();
    let outputs = b2.len();
    let z1 = linalg::matmul(x, w1, batch, inputs, hidden);
    let mut h = vec![0.0; batch * hidden];
    for r in 0..batch {
        for c in 0..hidden {
            h[r * hidden + c] = (z1[r * hidden + c] + b1[c]).tanh();
        }
    }
    let z2 = linalg::matmul(&h, w2, batch, hidden, outputs);
    let mut total = 0.0;
    for r in 0..batch {
        for c in 0..outputs {
            let e = z2[r * outputs + c] + b2[c] - y[r * outputs + c];
            total += e * e;
        }
    }
    total / batch as f64
}

/// The gradient of [`loss`] with respect to `(w1, b1, w2, b2)`.
pub type Gradient = (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>);

/// The backpropagation a person writes: the forward pass keeping the hidden activations, then
/// the layers' adjoints as matrix products (`dW2 = hᵀ dz2`, `dh = dz2 W2ᵀ`, ...). Returns the
/// loss and the gradient.
pub fn loss_hand(
    (w1, b1, w2, b2): (&[f64], &[f64], &[f64], &[f64]),
    x: &[f64],
    y: &[f64],
    shape: Shape,
) -> (f64, Gradient) {
    let Shape {
        batch,
        inputs,
        hidden,
        outputs,
    } = shape;
    let mut h = vec![0.0; batch * hidden];
    for r in 0..batch {
        let row = &mut h[r * hidden..(r + 1) * hidden];
        row.copy_from_slice(b1);
        for k in 0..inputs {
            let xk = x[r * inputs + k];
            for (hc, w) in row.iter_mut().zip(&w1[k * hidden..(k + 1) * hidden]) {
                *hc += xk * w;
            }
        }
        row.iter_mut().for_each(|v| *v = v.tanh());
    }
    // dz2 = 2 (z2 + b2 - y) / batch, row by row.
    let mut dz2 = vec![0.0; batch * outputs];
    let mut total = 0.0;
    for r in 0..batch {
        let out = &mut dz2[r * outputs..(r + 1) * outputs];
        out.copy_from_slice(b2);
        for k in 0..hidden {
            let hk = h[r * hidden + k];
            for (o, w) in out.iter_mut().zip(&w2[k * outputs..(k + 1) * outputs]) {
                *o += hk * w;
            }
        }
        for (o, t) in out.iter_mut().zip(&y[r * outputs..(r + 1) * outputs]) {
            let e = *o - t;
            total += e * e;
            *o = 2.0 * e / batch as f64;
        }
    }
    let (mut dw1, mut db1) = (vec![0.0; inputs * hidden], vec![0.0; hidden]);
    let (mut dw2, mut db2) = (vec![0.0; hidden * outputs], vec![0.0; outputs]);
    let mut dz1 = vec![0.0; hidden];
    for r in 0..batch {
        let d_out = &dz2[r * outputs..(r + 1) * outputs];
        for (db, d) in db2.iter_mut().zip(d_out) {
            *db += d;
        }
        // dW2 += h_rᵀ dz2_r; dh_r = dz2_r W2ᵀ, through tanh: dz1 = dh (1 - h²).
        for k in 0..hidden {
            let hk = h[r * hidden + k];
            let w_row = &w2[k * outputs..(k + 1) * outputs];
            let mut dh = 0.0;
            for ((dw, d), w) in dw2[k * outputs..(k + 1) * outputs]
                .iter_mut()
                .zip(d_out)
                .zip(w_row)
            {
                *dw += hk * d;
                dh += d * w;
            }
            dz1[k] = dh * (1.0 - hk * hk);
        }
        for (db, d) in db1.iter_mut().zip(&dz1) {
            *db += d;
        }
        for k in 0..inputs {
            let xk = x[r * inputs + k];
            for (dw, d) in dw1[k * hidden..(k + 1) * hidden].iter_mut().zip(&dz1) {
                *dw += xk * d;
            }
        }
    }
    (total / batch as f64, (dw1, db1, dw2, db2))
}

/// Deterministic values in [-1, 1).
fn values(n: usize, seed: u64) -> Vec<f64> {
    super::uniform(seed, n)
        .into_iter()
        .map(|u| 2.0 * u - 1.0)
        .collect()
}

/// A deterministic problem of `shape`, for the benches and tests: `[w1, b1, w2, b2, x, y]`,
/// each entry in [-1, 1), from seeds `seed` to `seed + 5`.
pub fn problem(shape: Shape, seed: u64) -> [Vec<f64>; 6] {
    let Shape {
        batch,
        inputs,
        hidden,
        outputs,
    } = shape;
    [
        values(inputs * hidden, seed),
        values(hidden, seed + 1),
        values(hidden * outputs, seed + 2),
        values(outputs, seed + 3),
        values(batch * inputs, seed + 4),
        values(batch * outputs, seed + 5),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    const SHAPES: [Shape; 2] = [
        Shape {
            batch: 1,
            inputs: 1,
            hidden: 1,
            outputs: 1,
        },
        Shape {
            batch: 5,
            inputs: 3,
            hidden: 4,
            outputs: 2,
        },
    ];

    #[test]
    fn hand_written_backpropagation_equals_generated_gradient() {
        for (seed, shape) in SHAPES.into_iter().enumerate() {
            let [w1, b1, w2, b2, x, y] = problem(shape, seed as u64 * 10);
            let (value, grads) = loss_grad(&w1, &b1, &w2, &b2, &x, &y, shape.batch, shape.inputs);
            let (hand_value, hand) = loss_hand((&w1, &b1, &w2, &b2), &x, &y, shape);
            assert_relative_eq!(value, hand_value, max_relative = 1e-13);
            let pairs = [
                (&grads.0, &hand.0),
                (&grads.1, &hand.1),
                (&grads.2, &hand.2),
                (&grads.3, &hand.3),
            ];
            for (ours, theirs) in pairs {
                for (a, b) in ours.iter().zip(theirs.iter()) {
                    assert_relative_eq!(a, b, epsilon = 1e-13, max_relative = 1e-12);
                }
            }
        }
    }

    #[test]
    fn one_unit_closed_form() {
        // batch = inputs = hidden = outputs = 1: L = (w2 tanh(w1 x + b1) + b2 - y)².
        let (w1, b1, w2, b2, x, y): (f64, f64, f64, f64, f64, f64) =
            (0.7, -0.2, 1.3, 0.1, 0.5, 0.4);
        let t = (w1 * x + b1).tanh();
        let e = w2 * t + b2 - y;
        let (value, (dw1, db1, dw2, db2)) = loss_grad(&[w1], &[b1], &[w2], &[b2], &[x], &[y], 1, 1);
        assert_relative_eq!(value, e * e, max_relative = 1e-15);
        assert_relative_eq!(dw2[0], 2.0 * e * t, max_relative = 1e-14);
        assert_relative_eq!(db2[0], 2.0 * e, max_relative = 1e-14);
        assert_relative_eq!(db1[0], 2.0 * e * w2 * (1.0 - t * t), max_relative = 1e-14);
        assert_relative_eq!(
            dw1[0],
            2.0 * e * w2 * (1.0 - t * t) * x,
            max_relative = 1e-14
        );
    }

    #[test]
    fn gradient_matches_central_differences() {
        let shape = SHAPES[1];
        for seed in [3, 7, 11] {
            let [w1, b1, w2, b2, x, y] = problem(shape, seed);
            let f =
                |w1: &[f64], w2: &[f64]| loss(w1, &b1, w2, &b2, &x, &y, shape.batch, shape.inputs);
            let (_, (dw1, _, dw2, _)) =
                loss_grad(&w1, &b1, &w2, &b2, &x, &y, shape.batch, shape.inputs);
            for i in 0..w1.len() {
                let (mut up, mut down) = (w1.clone(), w1.clone());
                up[i] += 1e-6;
                down[i] -= 1e-6;
                let fd = (f(&up, &w2) - f(&down, &w2)) / 2e-6;
                assert_relative_eq!(dw1[i], fd, epsilon = 1e-7, max_relative = 1e-6);
            }
            for i in 0..w2.len() {
                let (mut up, mut down) = (w2.clone(), w2.clone());
                up[i] += 1e-6;
                down[i] -= 1e-6;
                let fd = (f(&w1, &up) - f(&w1, &down)) / 2e-6;
                assert_relative_eq!(dw2[i], fd, epsilon = 1e-7, max_relative = 1e-6);
            }
        }
    }
}
