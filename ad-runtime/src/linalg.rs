//! Linear algebra on slices, differentiable inside `#[reverse]` functions.
//!
//! Call them by a path ending in `linalg::name` (`ad_runtime::linalg::dot(&x, &y)`, or
//! `linalg::dot(&x, &y)` after `use ad_runtime::linalg;`): the macro recognizes that path and
//! reverses the call with the matching rule in [`rules`](crate::rules), a loop over the
//! buffers (the transposes of the local Jacobians: for `C = A B`, `Ā += C̄ Bᵀ` and `B̄ += Aᵀ C̄`), not a
//! tape of scalar operations.
//!
//! Matrices are row-major slices with explicit dimensions: an `m × n` matrix `a` holds
//! element `(i, j)` at `a[i * n + j]`. A length that does not match the dimensions panics with
//! a message naming the parameter.
//!
//! ```
//! use ad_runtime::{linalg, reverse};
//!
//! /// ‖A x - b‖² for a 2 × 3 matrix.
//! #[reverse(wrt(x))]
//! fn residual(a: &[f64], x: &[f64], b: &[f64]) -> f64 {
//!     let ax = linalg::matvec(a, x, 2, 3);
//!     let mut s = 0.0;
//!     for i in 0..2 {
//!         let r = ax[i] - b[i];
//!         s += r * r;
//!     }
//!     s
//! }
//!
//! let a = [1.0, 2.0, 0.0, 0.0, 1.0, -1.0];
//! let (_, g) = residual_grad(&a, &[1.0, 1.0, 1.0], &[0.0, 0.0]);
//! // g = 2 Aᵀ (A x - b) = 2 Aᵀ (3, 0)
//! assert_eq!(g, vec![6.0, 12.0, 0.0]);
//! ```

use alloc::vec::Vec;

use num_traits::Float;

#[track_caller]
pub(crate) fn check(function: &str, name: &str, len: usize, expected: usize, what: &str) {
    assert!(
        len == expected,
        "linalg::{function}: `{name}` has {len} elements but {what} needs {expected}"
    );
}

/// `Σ xᵢ yᵢ`.
///
/// # Panics
///
/// If `y` is not as long as `x`.
#[track_caller]
pub fn dot<F: Float>(x: &[F], y: &[F]) -> F {
    check("dot", "y", y.len(), x.len(), "`x`");
    x.iter().zip(y).fold(F::zero(), |acc, (&a, &b)| acc + a * b)
}

/// `Σ xᵢ`.
pub fn sum<F: Float>(x: &[F]) -> F {
    x.iter().fold(F::zero(), |acc, &a| acc + a)
}

/// The Euclidean norm `√(Σ xᵢ²)`. Its gradient at the zero vector is zero (as `sqrt` at 0,
/// docs/semantics.md).
pub fn norm2<F: Float>(x: &[F]) -> F {
    x.iter().fold(F::zero(), |acc, &a| acc + a * a).sqrt()
}

/// `ln Σ exp(xᵢ)`, computed as `m + ln Σ exp(xᵢ - m)` with `m = max xᵢ` so that it neither
/// overflows nor underflows; `-∞` for an empty slice.
pub fn logsumexp<F: Float>(x: &[F]) -> F {
    let m = x.iter().fold(F::neg_infinity(), |acc, &a| acc.max(a));
    if m.is_infinite() {
        return m;
    }
    m + x.iter().fold(F::zero(), |acc, &a| acc + (a - m).exp()).ln()
}

/// `exp(xᵢ - logsumexp(x))`: probabilities, computed max-shifted.
pub fn softmax<F: Float>(x: &[F]) -> Vec<F> {
    let m = x.iter().fold(F::neg_infinity(), |acc, &a| acc.max(a));
    let mut y: Vec<F> = x.iter().map(|&a| (a - m).exp()).collect();
    let total = y.iter().fold(F::zero(), |acc, &a| acc + a);
    for v in &mut y {
        *v = *v / total;
    }
    y
}

/// `A x` for an `m × n` matrix `a`.
///
/// # Panics
///
/// If `a` does not have `m n` elements or `x` does not have `n`.
#[track_caller]
pub fn matvec<F: Float>(a: &[F], x: &[F], m: usize, n: usize) -> Vec<F> {
    check("matvec", "a", a.len(), m * n, "an `m × n` matrix");
    check("matvec", "x", x.len(), n, "`n`");
    (0..m).map(|i| dot(&a[i * n..(i + 1) * n], x)).collect()
}

/// `A B` for an `m × k` matrix `a` and a `k × n` matrix `b`: an `m × n` matrix.
///
/// # Panics
///
/// If `a` does not have `m k` elements or `b` does not have `k n`.
#[track_caller]
pub fn matmul<F: Float>(a: &[F], b: &[F], m: usize, k: usize, n: usize) -> Vec<F> {
    check("matmul", "a", a.len(), m * k, "an `m × k` matrix");
    check("matmul", "b", b.len(), k * n, "a `k × n` matrix");
    let mut c = alloc::vec![F::zero(); m * n];
    for i in 0..m {
        for p in 0..k {
            let a_ip = a[i * k + p];
            let (row, b_row) = (&mut c[i * n..(i + 1) * n], &b[p * n..(p + 1) * n]);
            for (c_ij, &b_pj) in row.iter_mut().zip(b_row) {
                *c_ij = *c_ij + a_ip * b_pj;
            }
        }
    }
    c
}

/// `α x + y`, a new vector.
///
/// # Panics
///
/// If `y` is not as long as `x`.
#[track_caller]
pub fn axpy<F: Float>(alpha: F, x: &[F], y: &[F]) -> Vec<F> {
    check("axpy", "y", y.len(), x.len(), "`x`");
    x.iter().zip(y).map(|(&a, &b)| alpha * a + b).collect()
}
