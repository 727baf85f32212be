//! GradBench's `lstm`: the loss of ADBench's LSTM, the variant with diagonal weights
//! (GradBench's `evals/lstm`).
//!
//! `layers` layers of hidden size `b` run over a `c`-step sequence of `b`-bit characters. All
//! arrays are flat, row by row:
//!
//! - `main_params`, `2 layers × 4b`: row `2i` the weights and row `2i+1` the biases of layer
//!   `i`, each four blocks of `b` in the order forget, ingate, outgate, change;
//! - `extra_params`, `3 × b`: the input weight, the output weight and the output bias;
//! - `state`, `2 layers × b`: row `2i` the hidden vector and row `2i+1` the cell vector of
//!   layer `i`, copied before use (not differentiated);
//! - `sequence`, `c × b`.
//!
//! One step of layer `i` on input `v`, elementwise, with `h` the hidden state before the step:
//!
//! ```text
//! forget = σ(v Wf + Bf)   ingate = σ(h Wi + Bi)   outgate = σ(v Wo + Bo)   change = tanh(h Wc + Bc)
//! cell ← cell forget + ingate change              h ← outgate tanh(cell)
//! ```
//!
//! Step `t` feeds `sequence[t] ⊙ in_weight` through the layers and predicts
//! `y = v ⊙ out_weight + out_bias`; the loss is
//! `−Σ_{t<c−1} Σ_j sequence[t+1]_j (y_j − ln(Σ_j e^{y_j} + 2)) / ((c−1) b)`.

use ad_runtime::reverse;

/// The LSTM loss; `objective_grad` gives its gradient with respect to `main_params` and
/// `extra_params`.
#[allow(
    clippy::too_many_arguments,
    reason = "the eval's inputs, flat, with their dimensions"
)]
#[reverse(wrt(main_params, extra_params))]
pub fn objective(
    main_params: &[f64],
    extra_params: &[f64],
    state: &[f64],
    sequence: &[f64],
    layers: usize,
    b: usize,
    c: usize,
) -> f64 {
    let mut hidden = vec![0.0; layers * b];
    let mut cell = vec![0.0; layers * b];
    for i in 0..layers {
        for j in 0..b {
            hidden[i * b + j] = state[2 * i * b + j];
            cell[i * b + j] = state[(2 * i + 1) * b + j];
        }
    }

    // The logistic function, a closure: the macro writes its body where it is called, where a
    // `#[reverse]` function's pullback would run its `exp` again in the reverse sweep (a
    // quarter of the gradient's time, measured: docs/guide.md, "Writing for speed").
    let sigmoid = |z: f64| 1.0 / (1.0 + (-z).exp());
    let mut v = vec![0.0; b];
    let mut total = 0.0;
    for t in 0..c - 1 {
        for j in 0..b {
            v[j] = sequence[t * b + j] * extra_params[j];
        }
        for i in 0..layers {
            let weight = 2 * i * 4 * b;
            let bias = weight + 4 * b;
            for j in 0..b {
                let h = hidden[i * b + j];
                let forget = sigmoid(v[j] * main_params[weight + j] + main_params[bias + j]);
                let ingate = sigmoid(h * main_params[weight + b + j] + main_params[bias + b + j]);
                let outgate =
                    sigmoid(v[j] * main_params[weight + 2 * b + j] + main_params[bias + 2 * b + j]);
                let change =
                    (h * main_params[weight + 3 * b + j] + main_params[bias + 3 * b + j]).tanh();
                cell[i * b + j] = cell[i * b + j] * forget + ingate * change;
                hidden[i * b + j] = outgate * cell[i * b + j].tanh();
                v[j] = hidden[i * b + j];
            }
        }
        let mut sum_exp = 0.0;
        for j in 0..b {
            v[j] = v[j] * extra_params[b + j] + extra_params[2 * b + j];
            sum_exp += v[j].exp();
        }
        let lse = (sum_exp + 2.0).ln();
        for j in 0..b {
            total += sequence[(t + 1) * b + j] * (v[j] - lse);
        }
    }
    -total / ((c - 1) * b) as f64
}

/// What the forward pass of one time step and layer keeps for [`objective_hand`]'s reverse
/// pass, per unit `j`.
#[derive(Clone, Copy, Default)]
struct Gates {
    /// The layer's input `v_j`.
    input: f64,
    /// The hidden and cell values before the step.
    hidden: f64,
    cell: f64,
    forget: f64,
    ingate: f64,
    outgate: f64,
    change: f64,
    /// `tanh` of the new cell value.
    tanh_cell: f64,
}

/// [`objective`] and its gradient (`main_params`, then `extra_params`, in one vector of
/// `8 layers b + 3b`), with the reverse pass written by hand as ADBench's manual tool does:
/// the forward pass keeps every step's gate values ([`Gates`]) and predictions, the reverse
/// pass runs the steps backwards carrying the adjoints of the hidden and cell states.
pub fn objective_hand(
    main_params: &[f64],
    extra_params: &[f64],
    state: &[f64],
    sequence: &[f64],
    layers: usize,
    b: usize,
    c: usize,
) -> (f64, Vec<f64>) {
    let steps = c - 1;
    let mut hidden = vec![0.0; layers * b];
    let mut cell = vec![0.0; layers * b];
    for i in 0..layers {
        hidden[i * b..(i + 1) * b].copy_from_slice(&state[2 * i * b..(2 * i + 1) * b]);
        cell[i * b..(i + 1) * b].copy_from_slice(&state[(2 * i + 1) * b..(2 * i + 2) * b]);
    }
    let (in_weight, rest) = extra_params.split_at(b);
    let (out_weight, out_bias) = rest.split_at(b);

    // Forward: gates[(t layers + i) b + j], the last layer's output and softmax per step.
    let mut gates = vec![Gates::default(); steps * layers * b];
    let mut last = vec![0.0; steps * b];
    let mut probability = vec![0.0; steps * b];
    let mut v = vec![0.0; b];
    let mut total = 0.0;
    for t in 0..steps {
        for j in 0..b {
            v[j] = sequence[t * b + j] * in_weight[j];
        }
        for i in 0..layers {
            let w = &main_params[8 * i * b..(8 * i + 4) * b];
            let bias = &main_params[(8 * i + 4) * b..(8 * i + 8) * b];
            for j in 0..b {
                let (h, s) = (hidden[i * b + j], cell[i * b + j]);
                let g = &mut gates[(t * layers + i) * b + j];
                g.input = v[j];
                g.hidden = h;
                g.cell = s;
                g.forget = logistic(v[j] * w[j] + bias[j]);
                g.ingate = logistic(h * w[b + j] + bias[b + j]);
                g.outgate = logistic(v[j] * w[2 * b + j] + bias[2 * b + j]);
                g.change = (h * w[3 * b + j] + bias[3 * b + j]).tanh();
                let new_cell = s * g.forget + g.ingate * g.change;
                g.tanh_cell = new_cell.tanh();
                cell[i * b + j] = new_cell;
                hidden[i * b + j] = g.outgate * g.tanh_cell;
                v[j] = hidden[i * b + j];
            }
        }
        last[t * b..(t + 1) * b].copy_from_slice(&v);
        let mut sum_exp = 0.0;
        for j in 0..b {
            let y = v[j] * out_weight[j] + out_bias[j];
            probability[t * b + j] = y.exp();
            sum_exp += probability[t * b + j];
        }
        let denominator = sum_exp + 2.0;
        let lse = denominator.ln();
        for j in 0..b {
            let y = v[j] * out_weight[j] + out_bias[j];
            total += sequence[(t + 1) * b + j] * (y - lse);
            probability[t * b + j] /= denominator;
        }
    }
    let scale = -1.0 / (steps * b) as f64;
    let value = total * scale;

    // Reverse: d(total)/d(y_j) = s_j − (Σ s) p_j with s = sequence[t+1], p = e^y / (Σ e^y + 2).
    let mut grad = vec![0.0; 8 * layers * b + 3 * b];
    let (dmain, dextra) = grad.split_at_mut(8 * layers * b);
    let (din_weight, drest) = dextra.split_at_mut(b);
    let (dout_weight, dout_bias) = drest.split_at_mut(b);
    let mut dhidden = vec![0.0; layers * b];
    let mut dcell = vec![0.0; layers * b];
    let mut dv = vec![0.0; b];
    for t in (0..steps).rev() {
        let target = &sequence[(t + 1) * b..(t + 2) * b];
        let target_sum: f64 = target.iter().sum();
        for j in 0..b {
            let dy = scale * (target[j] - target_sum * probability[t * b + j]);
            dout_bias[j] += dy;
            dout_weight[j] += dy * last[t * b + j];
            dv[j] = dy * out_weight[j];
        }
        for i in (0..layers).rev() {
            let w = &main_params[8 * i * b..(8 * i + 4) * b];
            let (dw, dbias) = dmain[8 * i * b..(8 * i + 8) * b].split_at_mut(4 * b);
            for j in 0..b {
                let g = gates[(t * layers + i) * b + j];
                // The layer's output is its new hidden state; its old one feeds the next step.
                let dh_new = dv[j] + dhidden[i * b + j];
                let doutgate = dh_new * g.tanh_cell;
                let dc_new =
                    dcell[i * b + j] + dh_new * g.outgate * (1.0 - g.tanh_cell * g.tanh_cell);
                let dforget = dc_new * g.cell;
                let dingate = dc_new * g.change;
                let dchange = dc_new * g.ingate;
                dcell[i * b + j] = dc_new * g.forget;
                // Through σ' = σ(1 − σ) and tanh' = 1 − tanh².
                let zf = dforget * g.forget * (1.0 - g.forget);
                let zi = dingate * g.ingate * (1.0 - g.ingate);
                let zo = doutgate * g.outgate * (1.0 - g.outgate);
                let zc = dchange * (1.0 - g.change * g.change);
                dbias[j] += zf;
                dbias[b + j] += zi;
                dbias[2 * b + j] += zo;
                dbias[3 * b + j] += zc;
                dw[j] += zf * g.input;
                dw[b + j] += zi * g.hidden;
                dw[2 * b + j] += zo * g.input;
                dw[3 * b + j] += zc * g.hidden;
                dhidden[i * b + j] = zi * w[b + j] + zc * w[3 * b + j];
                dv[j] = zf * w[j] + zo * w[2 * b + j];
            }
        }
        for j in 0..b {
            din_weight[j] += dv[j] * sequence[t * b + j];
        }
    }
    (value, grad)
}

/// `1 / (1 + e^{−z})` for the hand-written adjoint.
fn logistic(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}
