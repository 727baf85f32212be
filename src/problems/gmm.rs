//! GradBench's `gmm`: the log-posterior of a Gaussian mixture model with a Wishart prior on
//! the precision matrices, after ADBench (GradBench's `evals/gmm`).
//!
//! The mixture has `k` components in `d` dimensions, fitted to `n` points. Component `κ` has
//! the weight logit `alpha[κ]`, the mean `means[κ d..(κ+1) d]` and the lower-triangular
//! square root `Q_κ` of its precision matrix `Σ_κ⁻¹ = Q_κᵀ Q_κ`: its diagonal is
//! `exp(q[κ d + j])`, its strictly lower part is `l[κ t..(κ+1) t]` (`t = d(d−1)/2`) filled
//! column by column (`(1,0), (2,0), …, (d−1,0), (2,1), …`). All arrays are flat, row by row.
//!
//! ```text
//! β_iκ      = α_κ + Σ_j q_κj − ½ ‖Q_κ (x_i − μ_κ)‖²
//! objective = −n d ½ ln 2π + Σ_i logsumexp_κ β_iκ − n logsumexp α
//!             + k C + Σ_κ [ −½ γ² (‖exp q_κ‖² + ‖l_κ‖²) + m Σ_j q_κj ]
//! ```
//!
//! with the Wishart constant `C` of [`wishart_constant`], which depends on the dimensions and
//! `m`, `γ` only.

use ad_runtime::{linalg, reverse};

/// The number of strictly-lower entries of a `d × d` matrix, `d(d−1)/2`.
pub fn triangle(d: usize) -> usize {
    d * d.saturating_sub(1) / 2
}

/// The position of the strictly-lower entry `(row, col)` of a `d × d` matrix in its
/// column-by-column packing `(1,0), (2,0), …, (d−1,0), (2,1), …`:
/// `col·d − col(col+1)/2 + row − col − 1`.
pub fn lower_index(d: usize, row: usize, col: usize) -> usize {
    col * d - col * (col + 1) / 2 + row - col - 1
}

/// `ln Γ(a)` for `a` a positive multiple of ½, exactly as a sum of logarithms:
/// `Γ(a + 1) = a Γ(a)` down to `Γ(1) = 1` or `Γ(½) = √π`. The Wishart constant only needs
/// these arguments, and this avoids depending on a special-function library.
///
/// # Panics
///
/// If `a` is not a positive multiple of ½.
pub fn ln_gamma_half_integer(a: f64) -> f64 {
    let twice = 2.0 * a;
    assert!(
        twice >= 1.0 && twice.fract() == 0.0,
        "ln_gamma_half_integer: {a} is not a positive multiple of 1/2"
    );
    let (mut total, mut z) = if twice % 2.0 == 0.0 {
        (0.0, 1.0)
    } else {
        (0.5 * std::f64::consts::PI.ln(), 0.5)
    };
    while z < a {
        total += z.ln();
        z += 1.0;
    }
    total
}

/// The Wishart prior's normalising constant per component,
/// `C = ν d (ln γ − ½ ln 2) − ln Γ_d(ν/2)` with `ν = d + m + 1` degrees of freedom and the
/// multivariate gamma function `ln Γ_d(a) = d(d−1)/4 ln π + Σ_{j=1..d} ln Γ(a + (1−j)/2)`.
pub fn wishart_constant(d: usize, m: usize, gamma: f64) -> f64 {
    let nu = (d + m + 1) as f64;
    let df = d as f64;
    let half_nu = 0.5 * nu;
    let mut ln_gamma_d = df * (df - 1.0) * 0.25 * std::f64::consts::PI.ln();
    for j in 1..=d {
        ln_gamma_d += ln_gamma_half_integer(half_nu + 0.5 * (1.0 - j as f64));
    }
    nu * df * (gamma.ln() - 0.5 * std::f64::consts::LN_2) - ln_gamma_d
}

/// The Wishart prior's terms that depend on the parameters, summed over the components:
/// `Σ_κ −½ γ² (‖exp q_κ‖² + ‖l_κ‖²) + m Σ_j q_κj`, from `diagonal = exp q` and the sums of `q`.
#[allow(
    clippy::too_many_arguments,
    reason = "the prior's inputs and the dimensions"
)]
#[reverse(wrt(diagonal, sum_q, l))]
pub fn wishart_prior(
    diagonal: &[f64],
    sum_q: &[f64],
    l: &[f64],
    d: usize,
    k: usize,
    m: usize,
    gamma: f64,
) -> f64 {
    let t = triangle(d);
    let mut prior = 0.0;
    for c in 0..k {
        let mut frobenius = 0.0;
        for j in 0..d {
            frobenius += diagonal[c * d + j] * diagonal[c * d + j];
        }
        for j in 0..t {
            frobenius += l[c * t + j] * l[c * t + j];
        }
        prior += -0.5 * gamma * gamma * frobenius + m as f64 * sum_q[c];
    }
    prior
}

/// The objective's terms that depend on the dimensions only: `k C − n d ½ ln 2π`.
pub fn constant_terms(d: usize, k: usize, n: usize, m: usize, gamma: f64) -> f64 {
    k as f64 * wishart_constant(d, m, gamma)
        - n as f64 * d as f64 * 0.5 * (2.0 * std::f64::consts::PI).ln()
}

/// The GMM log-posterior (to be maximised); `objective_grad` gives its gradient with respect
/// to `alpha`, `means`, `q` and `l`.
///
/// Per component, `exp(q)` and `Σ q` are computed once, and `l`'s strictly lower entries are
/// copied row by row (`L[r][0..r]` contiguous at `r(r−1)/2`), so that row `r` of
/// `Q_κ (x_i − μ_κ)` is a dot product over contiguous memory, in the forward sweep and the
/// reverse; the copy's adjoint goes back to `l` once per call. The centred coordinates are
/// recomputed where they are used rather than kept in a buffer: a buffer overwritten for
/// every point and component would make the reverse sweep keep every entry read from it
/// (docs/supported.md, "What loops keep"; docs/design.md, "Scratch buffers").
#[allow(
    clippy::too_many_arguments,
    reason = "the eval's inputs, flat, as they arrive"
)]
#[reverse(wrt(alpha, means, q, l))]
pub fn objective(
    alpha: &[f64],
    means: &[f64],
    q: &[f64],
    l: &[f64],
    x: &[f64],
    d: usize,
    k: usize,
    n: usize,
    m: usize,
    gamma: f64,
) -> f64 {
    let t = triangle(d);
    let mut diagonal = vec![0.0; k * d];
    let mut sum_q = vec![0.0; k];
    for c in 0..k {
        for j in 0..d {
            diagonal[c * d + j] = q[c * d + j].exp();
            sum_q[c] += q[c * d + j];
        }
    }
    // L row by row: entry (r, col) at c t + r (r − 1) / 2 + col, from the column-by-column
    // packing (lower_index, inline: integer arithmetic the reverse sweep recomputes).
    let mut rows = vec![0.0; k * t];
    for c in 0..k {
        for col in 0..d {
            let column = c * t + col * d - col * (col + 1) / 2;
            for r in col + 1..d {
                rows[c * t + r * (r - 1) / 2 + col] = l[column + r - col - 1];
            }
        }
    }

    let mut data_term = 0.0;
    for i in 0..n {
        let mut beta = vec![0.0; k];
        for c in 0..k {
            let mut squared = 0.0;
            for r in 0..d {
                let mut z = diagonal[c * d + r] * (x[i * d + r] - means[c * d + r]);
                let row = c * t + r * r.saturating_sub(1) / 2;
                for col in 0..r {
                    z += rows[row + col] * (x[i * d + col] - means[c * d + col]);
                }
                squared += z * z;
            }
            beta[c] = alpha[c] + sum_q[c] - 0.5 * squared;
        }
        data_term += linalg::logsumexp(&beta);
    }

    let prior = wishart_prior(&diagonal, &sum_q, l, d, k, m, gamma);
    let nf = n as f64;
    constant_terms(d, k, n, m, gamma) + data_term - nf * linalg::logsumexp(alpha) + prior
}

/// [`objective`] written as the hand-written adjoint lays out its work: per point, the
/// centred coordinates `x − μ_κ` and `Q_κ (x − μ_κ)` of every component in scratch buffers
/// made for the point, `Q x̄` accumulated column by column from `l`'s packing. The same
/// value but for rounding; `objective_scratch_grad` its gradient.
///
/// The reverse sweep keeps nothing per entry: every load from the buffers is one that no later
/// write reaches (docs/design.md, "Stable loads"), so it loads the element again, and the
/// adds into one element of `x̄`'s adjoint in the loop over a column's rows are summed in a
/// register ("Promoted accumulators"). The buffers cost an allocation per point each (their
/// adjoint buffers are recycled), which shows at small `d` (docs/performance.md, "GMM").
#[allow(
    clippy::too_many_arguments,
    reason = "the eval's inputs, flat, as they arrive"
)]
#[reverse(wrt(alpha, means, q, l))]
pub fn objective_scratch(
    alpha: &[f64],
    means: &[f64],
    q: &[f64],
    l: &[f64],
    x: &[f64],
    d: usize,
    k: usize,
    n: usize,
    m: usize,
    gamma: f64,
) -> f64 {
    let t = triangle(d);
    let mut diagonal = vec![0.0; k * d];
    let mut sum_q = vec![0.0; k];
    for c in 0..k {
        for j in 0..d {
            diagonal[c * d + j] = q[c * d + j].exp();
            sum_q[c] += q[c * d + j];
        }
    }
    let mut data_term = 0.0;
    for i in 0..n {
        let mut centred = vec![0.0; k * d];
        let mut qx = vec![0.0; k * d];
        let mut beta = vec![0.0; k];
        for c in 0..k {
            for j in 0..d {
                centred[c * d + j] = x[i * d + j] - means[c * d + j];
                qx[c * d + j] = diagonal[c * d + j] * centred[c * d + j];
            }
            for col in 0..d {
                // Column `col` of L: entries (col + 1, col), .., (d − 1, col), consecutive.
                let column = c * t + col * d - col * (col + 1) / 2;
                for row in col + 1..d {
                    qx[c * d + row] += l[column + row - col - 1] * centred[c * d + col];
                }
            }
            let mut squared = 0.0;
            for j in 0..d {
                squared += qx[c * d + j] * qx[c * d + j];
            }
            beta[c] = alpha[c] + sum_q[c] - 0.5 * squared;
        }
        data_term += linalg::logsumexp(&beta);
    }

    let prior = wishart_prior(&diagonal, &sum_q, l, d, k, m, gamma);
    let nf = n as f64;
    constant_terms(d, k, n, m, gamma) + data_term - nf * linalg::logsumexp(alpha) + prior
}

/// The gradient of [`objective`] with respect to `alpha`, `means`, `q` and `l`, in their
/// shapes: the output of [`objective_hand`].
#[derive(Clone, Debug, PartialEq)]
pub struct Gradient {
    /// `∂/∂alpha`, `[k]`.
    pub alpha: Vec<f64>,
    /// `∂/∂means`, `[k d]`.
    pub means: Vec<f64>,
    /// `∂/∂q`, `[k d]`.
    pub q: Vec<f64>,
    /// `∂/∂l`, `[k d(d−1)/2]`.
    pub l: Vec<f64>,
}

/// [`objective`] and its gradient with the reverse sweep written by hand, as ADBench's manual
/// tool does: per point, the forward pass keeps `x_i − μ_κ` and `Q_κ (x_i − μ_κ)` of every
/// component, then the softmax weights `w_κ = exp(β_iκ − logsumexp β_i)` scale each
/// component's adjoints:
///
/// ```text
/// ∂/∂α_κ  += w_κ                       ∂/∂μ_κ += w_κ Q_κᵀ Q_κ (x_i − μ_κ)
/// ∂/∂q_κj += w_κ (1 − (Q_κ x̄)_j e^{q_κj} x̄_j)   ∂/∂L_κ[r][c] −= w_κ (Q_κ x̄)_r x̄_c
/// ```
///
/// and the terms outside the loop over points add `−n softmax(α)` and the prior's
/// `m − γ² e^{2q}` and `−γ² l`.
#[allow(
    clippy::too_many_arguments,
    clippy::needless_range_loop,
    reason = "the same signature as `objective`; index loops as numerical code is written"
)]
pub fn objective_hand(
    alpha: &[f64],
    means: &[f64],
    q: &[f64],
    l: &[f64],
    x: &[f64],
    d: usize,
    k: usize,
    n: usize,
    m: usize,
    gamma: f64,
) -> (f64, Gradient) {
    let t = triangle(d);
    let mut grad = Gradient {
        alpha: vec![0.0; k],
        means: vec![0.0; k * d],
        q: vec![0.0; k * d],
        l: vec![0.0; k * t],
    };
    let mut diagonal = vec![0.0; k * d];
    let mut sum_q = vec![0.0; k];
    for c in 0..k {
        for j in 0..d {
            diagonal[c * d + j] = q[c * d + j].exp();
            sum_q[c] += q[c * d + j];
        }
    }

    let mut centred = vec![0.0; k * d];
    let mut qx = vec![0.0; k * d];
    let mut beta = vec![0.0; k];
    let mut data_term = 0.0;
    for i in 0..n {
        let point = &x[i * d..(i + 1) * d];
        for c in 0..k {
            let (xc, qxc) = (
                &mut centred[c * d..(c + 1) * d],
                &mut qx[c * d..(c + 1) * d],
            );
            let diag = &diagonal[c * d..(c + 1) * d];
            let mean = &means[c * d..(c + 1) * d];
            for j in 0..d {
                xc[j] = point[j] - mean[j];
                qxc[j] = diag[j] * xc[j];
            }
            let lc = &l[c * t..(c + 1) * t];
            let mut index = 0;
            for col in 0..d {
                for row in col + 1..d {
                    qxc[row] += lc[index] * xc[col];
                    index += 1;
                }
            }
            let squared: f64 = qxc.iter().map(|v| v * v).sum();
            beta[c] = alpha[c] + sum_q[c] - 0.5 * squared;
        }
        let (lse, weights) = logsumexp_and_softmax(&mut beta);
        data_term += lse;

        // Reverse of β_iκ for every κ, seeded with the softmax weight.
        for c in 0..k {
            let w = weights[c];
            grad.alpha[c] += w;
            let xc = &centred[c * d..(c + 1) * d];
            let qxc = &qx[c * d..(c + 1) * d];
            let diag = &diagonal[c * d..(c + 1) * d];
            let (dmean, dq) = (
                &mut grad.means[c * d..(c + 1) * d],
                &mut grad.q[c * d..(c + 1) * d],
            );
            let dl = &mut grad.l[c * t..(c + 1) * t];
            let lc = &l[c * t..(c + 1) * t];
            // ∂β/∂(Qx̄) = −Qx̄; ∂β/∂x̄ = −Qᵀ Q x̄, and ∂x̄/∂μ = −1.
            for j in 0..d {
                dq[j] += w * (1.0 - qxc[j] * diag[j] * xc[j]);
                dmean[j] += w * diag[j] * qxc[j];
            }
            let mut index = 0;
            for col in 0..d {
                let mut back = 0.0;
                for row in col + 1..d {
                    dl[index] -= w * qxc[row] * xc[col];
                    back += lc[index] * qxc[row];
                    index += 1;
                }
                dmean[col] += w * back;
            }
        }
    }

    // −n logsumexp(α).
    let mut shifted = alpha.to_vec();
    let (lse_alpha, softmax_alpha) = logsumexp_and_softmax(&mut shifted);
    let nf = n as f64;
    for c in 0..k {
        grad.alpha[c] -= nf * softmax_alpha[c];
    }

    let g2 = gamma * gamma;
    let mut prior = 0.0;
    for c in 0..k {
        let mut frobenius = 0.0;
        for j in 0..d {
            let e = diagonal[c * d + j];
            frobenius += e * e;
            grad.q[c * d + j] += m as f64 - g2 * e * e;
        }
        for j in 0..t {
            let v = l[c * t + j];
            frobenius += v * v;
            grad.l[c * t + j] -= g2 * v;
        }
        prior += -0.5 * g2 * frobenius + m as f64 * sum_q[c];
    }

    let constant = k as f64 * wishart_constant(d, m, gamma)
        - nf * d as f64 * 0.5 * (2.0 * std::f64::consts::PI).ln();
    let value = constant + data_term - nf * lse_alpha + prior;
    (value, grad)
}

/// The max-shifted `logsumexp` of `v`, and `v` overwritten with its softmax.
fn logsumexp_and_softmax(v: &mut [f64]) -> (f64, &[f64]) {
    let max = v.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
    let mut sum = 0.0;
    for e in v.iter_mut() {
        *e = (*e - max).exp();
        sum += *e;
    }
    for e in v.iter_mut() {
        *e /= sum;
    }
    (max + sum.ln(), v)
}
