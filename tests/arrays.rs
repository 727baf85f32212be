//! Container parameters and local containers: `&[F]`, `Vec<F>`, `&Vec<F>`, `[F; N]`,
//! `&[F; N]`; indexing, stores, pushes, the supported iterators, `linalg` calls, inactive
//! containers and `f_grad_into`. Each gradient is compared with a closed form written by hand in
//! the test (or derivatives propagated forward by hand) and with central differences, at
//! several points including edge ones, with the value bitwise equal to the original's.

mod common;

use ad_runtime::{Float, check, linalg, reverse};
use common::{FD_TOL, assert_close};

/// The value is the original's, bit for bit; the gradient matches `closed` component by
/// component and central differences of `f` at `x`.
#[track_caller]
fn check_grad(
    name: &str,
    f: impl Fn(&[f64]) -> f64,
    x: &[f64],
    value: f64,
    grad: &[f64],
    closed: &[f64],
) {
    assert_eq!(
        value.to_bits(),
        f(x).to_bits(),
        "{name}: value differs from the original"
    );
    assert_eq!(grad.len(), x.len(), "{name}: gradient length");
    assert_eq!(closed.len(), x.len(), "{name}: closed form length");
    for (i, (&g, &c)) in grad.iter().zip(closed).enumerate() {
        assert_close(
            &format!("{name}: component {i} against the closed form"),
            g,
            c,
        );
    }
    let report = check::gradient(f, x, grad);
    assert!(
        report.is_within(FD_TOL),
        "{name} against central differences:\n{report}"
    );
}

/// Central differences in the coordinates `at` of `x` only (the others held fixed): for long
/// vectors, where differencing every coordinate would cost `O(n²)`.
#[track_caller]
fn check_fd_at(name: &str, f: impl Fn(&[f64]) -> f64, x: &[f64], grad: &[f64], at: &[usize]) {
    let sub: Vec<f64> = at.iter().map(|&i| x[i]).collect();
    let sub_grad: Vec<f64> = at.iter().map(|&i| grad[i]).collect();
    let mut point = x.to_vec();
    let report = check::gradient(
        |p: &[f64]| {
            for (&i, &v) in at.iter().zip(p) {
                point[i] = v;
            }
            f(&point)
        },
        &sub,
        &sub_grad,
    );
    assert!(
        report.is_within(FD_TOL),
        "{name} against central differences at {at:?}:\n{report}"
    );
}

/// `[a, b, ..]` flattened into one vector, and the lengths to split it again.
fn concat(parts: &[&[f64]]) -> Vec<f64> {
    parts.iter().flat_map(|p| p.iter().copied()).collect()
}

/// Splits `p` into consecutive pieces of the given lengths.
fn split<'a>(mut p: &'a [f64], lens: &[usize]) -> Vec<&'a [f64]> {
    let mut out = Vec::new();
    for &len in lens {
        let (head, tail) = p.split_at(len);
        out.push(head);
        p = tail;
    }
    out
}

/// A deterministic, irregular test vector with entries in `[-scale, scale]`.
fn wavy(n: usize, phase: f64, scale: f64) -> Vec<f64> {
    (0..n)
        .map(|i| scale * (1.7 * i as f64 + phase).sin())
        .collect()
}

/// `f_vjp` with the seed -2 (exact scaling) is -2 times `f_grad`, bit for bit (zeros of
/// either sign: a component nothing flowed into is `+0.0` whatever the seed).
#[track_caller]
fn assert_vjp(what: &str, grad: &[f64], vjp: &[f64]) {
    assert_eq!(grad.len(), vjp.len(), "{what}: lengths");
    for (i, (&g, &v)) in grad.iter().zip(vjp).enumerate() {
        let want = -2.0 * g;
        assert!(
            v.to_bits() == want.to_bits() || (v == 0.0 && want == 0.0),
            "{what}[{i}]: vjp {v:e} is not seed * grad {want:e}"
        );
    }
}

mod rosenbrock {
    use super::*;

    /// `Σ 100 (x[i+1] - x[i]²)² + (1 - x[i])²` with an index loop.
    #[reverse]
    fn rosenbrock(x: &[f64]) -> f64 {
        let mut s = 0.0;
        for i in 0..x.len() - 1 {
            let a = x[i + 1] - x[i] * x[i];
            let b = 1.0 - x[i];
            s += 100.0 * a * a + b * b;
        }
        s
    }

    /// The same sum over `enumerate`, the successor read by index.
    #[reverse]
    fn rosenbrock_enumerate(x: &[f64]) -> f64 {
        let mut s = 0.0;
        for (i, v) in x.iter().enumerate() {
            if i + 1 < x.len() {
                let a = x[i + 1] - v * v;
                let b = 1.0 - v;
                s += 100.0 * a * a + b * b;
            }
        }
        s
    }

    /// The terms stored in a local `vec!`, then summed with `iter().sum()`.
    #[reverse]
    fn rosenbrock_terms(x: &[f64]) -> f64 {
        let n = x.len();
        let mut terms = vec![0.0; n - 1];
        for i in 0..n - 1 {
            let a = x[i + 1] - x[i] * x[i];
            let b = 1.0 - x[i];
            terms[i] = 100.0 * a * a + b * b;
        }
        terms.iter().sum::<f64>()
    }

    #[reverse]
    fn rosenbrock_f32(x: &[f32]) -> f32 {
        let mut s = 0.0;
        for i in 0..x.len() - 1 {
            let a = x[i + 1] - x[i] * x[i];
            let b = 1.0 - x[i];
            s += 100.0 * a * a + b * b;
        }
        s
    }

    #[reverse]
    fn rosenbrock_generic<T: Float>(x: &[T]) -> T {
        let hundred = T::from(100.0).unwrap();
        let mut s = T::zero();
        for i in 0..x.len() - 1 {
            let a = x[i + 1] - x[i] * x[i];
            let b = T::one() - x[i];
            s = s + (hundred * a * a + b * b);
        }
        s
    }

    /// `∂/∂x_i`: `-400 x_i (x_{i+1} - x_i²) - 2 (1 - x_i)` from term `i`, `200 (x_i - x_{i-1}²)`
    /// from term `i - 1`.
    fn closed(x: &[f64]) -> Vec<f64> {
        let n = x.len();
        (0..n)
            .map(|i| {
                let mut g = 0.0;
                if i + 1 < n {
                    g += -400.0 * x[i] * (x[i + 1] - x[i] * x[i]) - 2.0 * (1.0 - x[i]);
                }
                if i > 0 {
                    g += 200.0 * (x[i] - x[i - 1] * x[i - 1]);
                }
                g
            })
            .collect()
    }

    /// A bound on the magnitude of the terms summed into each component (for f32 tolerances).
    fn scale(x: &[f64]) -> Vec<f64> {
        let n = x.len();
        (0..n)
            .map(|i| {
                let mut s = 1.0;
                if i + 1 < n {
                    s += 400.0 * x[i].abs() * (x[i + 1].abs() + x[i] * x[i])
                        + 2.0 * (1.0 + x[i].abs());
                }
                if i > 0 {
                    s += 200.0 * (x[i].abs() + x[i - 1] * x[i - 1]);
                }
                s
            })
            .collect()
    }

    /// The minimum (gradient 0), the origin, the classic start, an irregular point, large
    /// alternating coordinates and tiny ones.
    fn points(n: usize) -> Vec<Vec<f64>> {
        vec![
            vec![1.0; n],
            vec![0.0; n],
            (0..n)
                .map(|i| if i % 2 == 0 { -1.2 } else { 1.0 })
                .collect(),
            wavy(n, 0.3, 2.0),
            // Every 997th pair far from the valley; the rest at the minimum, so that the value
            // stays small enough for central differences in 10,000 dimensions.
            (0..n)
                .map(|i| match i % 997 {
                    0 => -3.0,
                    1 => 5.0,
                    _ => 1.0,
                })
                .collect(),
            (0..n)
                .map(|i| if i % 2 == 0 { 1e-9 } else { -1e-9 * i as f64 })
                .collect(),
        ]
    }

    #[test]
    fn rosenbrock_in_2_and_10_dimensions() {
        for n in [1, 2, 3, 10] {
            for x in points(n) {
                let want = closed(&x);
                let name = format!("rosenbrock(n = {n}, x0 = {})", x[0]);
                let (value, g) = rosenbrock_grad(&x);
                check_grad(&name, rosenbrock, &x, value, &g, &want);
                let (value_vjp, g_vjp) = rosenbrock_vjp(&x, -2.0);
                assert_eq!(value_vjp.to_bits(), value.to_bits());
                assert_vjp(&name, &g, &g_vjp);

                let (value, g) = rosenbrock_enumerate_grad(&x);
                check_grad(
                    &format!("{name} by enumerate"),
                    rosenbrock_enumerate,
                    &x,
                    value,
                    &g,
                    &want,
                );
                if n >= 2 {
                    let (value, g) = rosenbrock_terms_grad(&x);
                    check_grad(
                        &format!("{name} by stored terms"),
                        rosenbrock_terms,
                        &x,
                        value,
                        &g,
                        &want,
                    );
                }
            }
        }
        // At the minimum the gradient is exactly zero.
        assert!(rosenbrock_grad(&[1.0; 10]).1.iter().all(|&g| g == 0.0));
    }

    #[test]
    fn rosenbrock_in_10_000_dimensions() {
        let n = 10_000;
        let at = [0, 1, 2, 996, 997, 998, 4_999, 5_000, n - 2, n - 1];
        for x in points(n) {
            let want = closed(&x);
            let name = format!("rosenbrock(n = {n}, x0 = {})", x[0]);
            for (form, (value, g), f) in [
                (
                    "index loop",
                    rosenbrock_grad(&x),
                    rosenbrock as fn(&[f64]) -> f64,
                ),
                (
                    "enumerate",
                    rosenbrock_enumerate_grad(&x),
                    rosenbrock_enumerate,
                ),
                ("stored terms", rosenbrock_terms_grad(&x), rosenbrock_terms),
            ] {
                assert_eq!(
                    value.to_bits(),
                    f(&x).to_bits(),
                    "{name} {form}: value differs"
                );
                assert_eq!(g.len(), n);
                for (i, (&gi, &wi)) in g.iter().zip(&want).enumerate() {
                    assert_close(&format!("{name} {form}: component {i}"), gi, wi);
                }
                check_fd_at(&format!("{name} {form}"), f, &x, &g, &at);
            }
            // Into a caller buffer, overwriting what was there.
            let mut buffer = vec![f64::NAN; n];
            let value = rosenbrock_grad_into(&x, &mut buffer);
            assert_eq!(value.to_bits(), rosenbrock(&x).to_bits());
            for (i, (&gi, &wi)) in buffer.iter().zip(&want).enumerate() {
                assert_close(&format!("{name} into a buffer: component {i}"), gi, wi);
            }
        }
    }

    #[test]
    fn rosenbrock_generic_in_f64() {
        for n in [2, 10, 10_000] {
            for x in points(n) {
                let want = closed(&x);
                let (value, g) = rosenbrock_generic_grad::<f64>(&x);
                let name = format!("rosenbrock_generic::<f64>(n = {n}, x0 = {})", x[0]);
                if n <= 10 {
                    check_grad(&name, rosenbrock_generic::<f64>, &x, value, &g, &want);
                } else {
                    assert_eq!(value.to_bits(), rosenbrock_generic::<f64>(&x).to_bits());
                    for (i, (&gi, &wi)) in g.iter().zip(&want).enumerate() {
                        assert_close(&format!("{name}: component {i}"), gi, wi);
                    }
                    check_fd_at(
                        &name,
                        rosenbrock_generic::<f64>,
                        &x,
                        &g,
                        &[0, 1, n / 2, n - 1],
                    );
                }
            }
        }
    }

    /// f32 gradients against the closed form in f64 at the f32 point, to a tolerance scaled by
    /// the magnitude of the summed terms, and against f32 central differences.
    #[track_caller]
    fn check_f32(name: &str, f: impl Fn(&[f32]) -> f32, x: &[f32], value: f32, g: &[f32]) {
        assert_eq!(value.to_bits(), f(x).to_bits(), "{name}: value differs");
        let x64: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
        let (want, scale) = (closed(&x64), scale(&x64));
        assert_eq!(g.len(), x.len());
        for i in 0..x.len() {
            assert!(
                (f64::from(g[i]) - want[i]).abs() <= 1e-6 * scale[i],
                "{name}: component {i} is {}, want {}",
                g[i],
                want[i]
            );
        }
        let report = check::gradient(f, x, g);
        assert!(
            report.is_within(5e-3),
            "{name} in f32 against central differences:\n{report}"
        );
    }

    #[test]
    fn rosenbrock_in_f32() {
        let points: Vec<Vec<f32>> = vec![
            vec![1.0; 2],
            vec![0.0; 3],
            vec![-1.2, 1.0],
            vec![-1.2, 1.0, -1.2, 1.0, -1.2, 1.0, -1.2, 1.0, -1.2, 1.0],
            vec![0.5, -0.25, 0.75, 1.5],
            vec![1.0; 10],
        ];
        for x in &points {
            let name = format!("rosenbrock_f32({x:?})");
            let (value, g) = rosenbrock_f32_grad(x);
            check_f32(&name, rosenbrock_f32, x, value, &g);
            let mut buffer = vec![f32::NAN; x.len()];
            let value = rosenbrock_f32_grad_into(x, &mut buffer);
            check_f32(&format!("{name} into"), rosenbrock_f32, x, value, &buffer);
            let (value, g) = rosenbrock_generic_grad::<f32>(x);
            check_f32(
                &format!("rosenbrock_generic::<f32>({x:?})"),
                rosenbrock_generic::<f32>,
                x,
                value,
                &g,
            );
        }
    }
}

mod layers {
    use super::*;

    /// A dense layer `h = tanh(W x + b)` (`W` row-major `m × n`, with `m = b.len()`), then the
    /// softmax cross-entropy of `h` for the class `label`, through `logsumexp`.
    #[reverse]
    fn dense_logsumexp(w: &[f64], b: &[f64], x: &[f64], label: usize) -> f64 {
        let m = b.len();
        let n = x.len();
        let z = linalg::matvec(w, x, m, n);
        let mut h = vec![0.0; m];
        for i in 0..m {
            h[i] = (z[i] + b[i]).tanh();
        }
        linalg::logsumexp(&h) - h[label]
    }

    /// The same loss through `softmax` and `ln`, with the full `ad_runtime::linalg` path.
    #[reverse]
    fn dense_softmax(w: &[f64], b: &[f64], x: &[f64], label: usize) -> f64 {
        let m = b.len();
        let z = ad_runtime::linalg::matvec(w, x, m, x.len());
        let mut h = Vec::with_capacity(m);
        for i in 0..m {
            h.push((z[i] + b[i]).tanh());
        }
        let p = ad_runtime::linalg::softmax(&h);
        -p[label].ln()
    }

    /// By hand: `p = softmax(h)`, `∂L/∂h = p - e_label`, through `tanh`: `δ = (p - e) (1 - h²)`;
    /// `∂L/∂W = δ xᵀ`, `∂L/∂b = δ`, `∂L/∂x = Wᵀ δ`.
    fn closed(w: &[f64], b: &[f64], x: &[f64], label: usize) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
        let (m, n) = (b.len(), x.len());
        let h: Vec<f64> = (0..m)
            .map(|i| {
                let z: f64 = (0..n).map(|j| w[i * n + j] * x[j]).sum();
                (z + b[i]).tanh()
            })
            .collect();
        let top = h.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let e: Vec<f64> = h.iter().map(|&v| (v - top).exp()).collect();
        let total: f64 = e.iter().sum();
        let delta: Vec<f64> = (0..m)
            .map(|i| (e[i] / total - if i == label { 1.0 } else { 0.0 }) * (1.0 - h[i] * h[i]))
            .collect();
        let dw = (0..m * n).map(|k| delta[k / n] * x[k % n]).collect();
        let dx = (0..n)
            .map(|j| (0..m).map(|i| w[i * n + j] * delta[i]).sum())
            .collect();
        (dw, delta, dx)
    }

    #[test]
    fn dense_tanh_softmax_cross_entropy() {
        type Loss = fn(&[f64], &[f64], &[f64], usize) -> f64;
        type Grad = fn(&[f64], &[f64], &[f64], usize) -> (f64, (Vec<f64>, Vec<f64>, Vec<f64>));
        let forms: [(&str, Loss, Grad); 2] = [
            ("logsumexp", dense_logsumexp, dense_logsumexp_grad),
            ("softmax", dense_softmax, dense_softmax_grad),
        ];
        // (m, n, weight scale): a saturated layer (scale 5) and all-zero weights are edge cases;
        // m = 1 has loss 0 and gradient 0.
        for (m, n, scale) in [
            (3, 4, 0.7),
            (5, 2, 1.3),
            (1, 3, 0.5),
            (4, 4, 5.0),
            (2, 3, 0.0),
        ] {
            let w = wavy(m * n, 0.4, scale);
            let b = wavy(m, 2.1, 0.5);
            let x = wavy(n, -0.9, 1.5);
            for label in [0, m - 1, m / 2] {
                let (dw, db, dx) = closed(&w, &b, &x, label);
                let want = concat(&[&dw, &db, &dx]);
                for (form, loss, grad) in forms {
                    let name =
                        format!("dense {form} (m = {m}, n = {n}, scale {scale}, label {label})");
                    let (value, (gw, gb, gx)) = grad(&w, &b, &x, label);
                    assert_eq!((gw.len(), gb.len(), gx.len()), (m * n, m, n));
                    let f = |p: &[f64]| {
                        let parts = split(p, &[m * n, m, n]);
                        loss(parts[0], parts[1], parts[2], label)
                    };
                    check_grad(
                        &name,
                        f,
                        &concat(&[&w, &b, &x]),
                        value,
                        &concat(&[&gw, &gb, &gx]),
                        &want,
                    );
                }
            }
        }
        let (_, (gw, gb, gx)) = dense_logsumexp_grad(&[0.3, -0.2], &[0.1], &[1.0, 2.0], 0);
        assert!(gw.iter().chain(&gb).chain(&gx).all(|&g| g == 0.0));
    }
}

mod products {
    use super::*;

    /// `Σ w ∘ C ∘ C` for `C = A B` (`A` is `m × k`, `B` is `k × n`); the weights `w` are left
    /// out of `wrt`.
    #[reverse(wrt(a, b))]
    fn matmul_energy(a: &[f64], b: &[f64], w: &[f64], m: usize, k: usize, n: usize) -> f64 {
        let c = linalg::matmul(a, b, m, k, n);
        let mut s = 0.0;
        for i in 0..m * n {
            s += w[i] * c[i] * c[i];
        }
        s
    }

    /// `C̄ = 2 w ∘ C`, `Ā = C̄ Bᵀ`, `B̄ = Aᵀ C̄`.
    fn matmul_closed(
        a: &[f64],
        b: &[f64],
        w: &[f64],
        (m, k, n): (usize, usize, usize),
    ) -> Vec<f64> {
        let c: Vec<f64> = (0..m * n)
            .map(|ij| (0..k).map(|p| a[ij / n * k + p] * b[p * n + ij % n]).sum())
            .collect();
        let cbar: Vec<f64> = (0..m * n).map(|ij| 2.0 * w[ij] * c[ij]).collect();
        let abar: Vec<f64> = (0..m * k)
            .map(|ip| {
                (0..n)
                    .map(|j| cbar[ip / k * n + j] * b[ip % k * n + j])
                    .sum()
            })
            .collect();
        let bbar: Vec<f64> = (0..k * n)
            .map(|pj| {
                (0..m)
                    .map(|i| a[i * k + pj / n] * cbar[i * n + pj % n])
                    .sum()
            })
            .collect();
        concat(&[&abar, &bbar])
    }

    /// `Σ (i + 1) sin(yᵢ)` for `y = A x`, `A` is `m × n`.
    #[reverse]
    fn matvec_sines(a: &[f64], x: &[f64], m: usize) -> f64 {
        let y = linalg::matvec(a, x, m, x.len());
        let mut s = 0.0;
        for (i, v) in y.iter().enumerate() {
            s += (i as f64 + 1.0) * v.sin();
        }
        s
    }

    /// `ȳᵢ = (i + 1) cos yᵢ`, `Ā = ȳ xᵀ`, `x̄ = Aᵀ ȳ`.
    fn matvec_closed(a: &[f64], x: &[f64], m: usize) -> Vec<f64> {
        let n = x.len();
        let ybar: Vec<f64> = (0..m)
            .map(|i| {
                let y: f64 = (0..n).map(|j| a[i * n + j] * x[j]).sum();
                (i as f64 + 1.0) * y.cos()
            })
            .collect();
        let abar: Vec<f64> = (0..m * n).map(|ij| ybar[ij / n] * x[ij % n]).collect();
        let xbar: Vec<f64> = (0..n)
            .map(|j| (0..m).map(|i| a[i * n + j] * ybar[i]).sum())
            .collect();
        concat(&[&abar, &xbar])
    }

    /// `z = α x + y`, then `z · x + ‖z‖ + Σ y`.
    #[reverse]
    fn level_one(alpha: f64, x: &[f64], y: &[f64]) -> f64 {
        let z = linalg::axpy(alpha, x, y);
        linalg::dot(&z, x) + linalg::norm2(&z) + linalg::sum(y)
    }

    /// `∂/∂α = x·x + z·x / ‖z‖`, `∂/∂x = α x + z + α z / ‖z‖`, `∂/∂y = x + z / ‖z‖ + 1`, the
    /// norm's terms 0 at `z = 0`.
    fn level_one_closed(alpha: f64, x: &[f64], y: &[f64]) -> Vec<f64> {
        let z: Vec<f64> = x.iter().zip(y).map(|(a, b)| alpha * a + b).collect();
        let norm = z.iter().map(|v| v * v).sum::<f64>().sqrt();
        let u: Vec<f64> = z
            .iter()
            .map(|&v| if norm == 0.0 { 0.0 } else { v / norm })
            .collect();
        let da = x.iter().map(|v| v * v).sum::<f64>()
            + x.iter().zip(&u).map(|(a, b)| a * b).sum::<f64>();
        let dx: Vec<f64> = (0..x.len())
            .map(|i| alpha * x[i] + z[i] + alpha * u[i])
            .collect();
        let dy: Vec<f64> = (0..x.len()).map(|i| x[i] + u[i] + 1.0).collect();
        concat(&[&[da], &dx, &dy])
    }

    #[test]
    fn matmul_through_the_macro_for_non_square_shapes() {
        for (m, k, n) in [(2, 3, 4), (3, 1, 2), (1, 4, 1), (4, 2, 3), (1, 1, 1)] {
            let a = wavy(m * k, 0.2, 1.1);
            let b = wavy(k * n, 1.3, 0.9);
            let w = wavy(m * n, -0.5, 1.0);
            let (value, (ga, gb)) = matmul_energy_grad(&a, &b, &w, m, k, n);
            assert_eq!((ga.len(), gb.len()), (m * k, k * n));
            let f = |p: &[f64]| {
                let parts = split(p, &[m * k, k * n]);
                matmul_energy(parts[0], parts[1], &w, m, k, n)
            };
            check_grad(
                &format!("matmul {m}×{k} · {k}×{n}"),
                f,
                &concat(&[&a, &b]),
                value,
                &concat(&[&ga, &gb]),
                &matmul_closed(&a, &b, &w, (m, k, n)),
            );
            let (_, (va, vb)) = matmul_energy_vjp(&a, &b, &w, m, k, n, -2.0);
            assert_vjp("matmul a", &ga, &va);
            assert_vjp("matmul b", &gb, &vb);
        }
    }

    #[test]
    fn matvec_through_the_macro_for_non_square_shapes() {
        for (m, n) in [(2, 3), (3, 4), (4, 1), (1, 5), (3, 2)] {
            for scale in [0.0, 0.8, 3.0] {
                let a = wavy(m * n, 0.7, scale);
                let x = wavy(n, 2.2, 1.2);
                let (value, (ga, gx)) = matvec_sines_grad(&a, &x, m);
                let f = |p: &[f64]| {
                    let parts = split(p, &[m * n, n]);
                    matvec_sines(parts[0], parts[1], m)
                };
                check_grad(
                    &format!("matvec {m}×{n} (scale {scale})"),
                    f,
                    &concat(&[&a, &x]),
                    value,
                    &concat(&[&ga, &gx]),
                    &matvec_closed(&a, &x, m),
                );
            }
        }
    }

    #[test]
    fn dot_sum_norm_and_axpy() {
        for (alpha, x, y) in [
            (0.5, vec![1.0, -2.0, 0.5], vec![0.3, 0.1, -1.0]),
            (-1.5, vec![0.2], vec![4.0]),
            (2.0, wavy(7, 0.1, 1.0), wavy(7, 1.1, 2.0)),
            // z = 0: the norm contributes its subgradient 0.
            (1.0, vec![0.0; 3], vec![0.0; 3]),
            (1.0, vec![1.0, -1.0], vec![-1.0, 1.0]),
        ] {
            let n = x.len();
            let (value, (ga, gx, gy)) = level_one_grad(alpha, &x, &y);
            let f = |p: &[f64]| {
                let parts = split(p, &[1, n, n]);
                level_one(parts[0][0], parts[1], parts[2])
            };
            let point = concat(&[&[alpha], &x, &y]);
            check_grad(
                &format!("level_one({alpha}, {x:?}, {y:?})"),
                f,
                &point,
                value,
                &concat(&[&[ga], &gx, &gy]),
                &level_one_closed(alpha, &x, &y),
            );
        }
    }
}

mod stencils {
    use super::*;

    /// Explicit steps of `u_t = ν u_xx - u³/5` with the ends held, updated in place from left to
    /// right (each point sees its left neighbour's new value): every step overwrites values the
    /// reverse sweep needs.
    #[reverse]
    #[allow(
        clippy::needless_range_loop,
        clippy::manual_memcpy,
        reason = "element-wise loops over a local buffer are the form under test (the macro has no rule for `to_vec` or `copy_from_slice`)"
    )]
    fn in_place(u0: &[f64], nu: f64, steps: usize) -> f64 {
        let n = u0.len();
        let mut u = vec![0.0; n];
        for i in 0..n {
            u[i] = u0[i];
        }
        for _ in 0..steps {
            for i in 1..n - 1 {
                u[i] = u[i] + nu * (u[i - 1] - 2.0 * u[i] + u[i + 1]) - 0.2 * u[i] * u[i] * u[i];
            }
        }
        let mut s = 0.0;
        for i in 0..n {
            s += (i as f64 + 1.0) * u[i] * u[i];
        }
        s
    }

    /// The same equation with a second buffer copied back after each step (Jacobi order).
    #[reverse]
    #[allow(
        clippy::needless_range_loop,
        clippy::manual_memcpy,
        reason = "element-wise loops over local buffers are the form under test (the macro has no rule for `to_vec` or `copy_from_slice`)"
    )]
    fn two_buffers(u0: &[f64], nu: f64, steps: usize) -> f64 {
        let n = u0.len();
        let mut u = vec![0.0; n];
        let mut next = vec![0.0; n];
        for i in 0..n {
            u[i] = u0[i];
        }
        for _ in 0..steps {
            next[0] = u[0];
            next[n - 1] = u[n - 1];
            for i in 1..n - 1 {
                next[i] = u[i] + nu * (u[i - 1] - 2.0 * u[i] + u[i + 1]) - 0.2 * u[i] * u[i] * u[i];
            }
            for i in 0..n {
                u[i] = next[i];
            }
        }
        let mut s = 0.0;
        for i in 0..n {
            s += (i as f64 + 1.0) * u[i] * u[i];
        }
        s
    }

    /// Derivatives propagated forward by hand: `du[i][k] = ∂uᵢ/∂u0ₖ`, `dnu[i] = ∂uᵢ/∂ν`, with
    /// `∂new/∂uᵢ = 1 - 2ν - 0.6 uᵢ²`. Returns `∂s/∂u0` followed by `∂s/∂ν`.
    fn closed(u0: &[f64], nu: f64, steps: usize, jacobi: bool) -> Vec<f64> {
        let n = u0.len();
        let mut u = u0.to_vec();
        let mut du: Vec<Vec<f64>> = (0..n)
            .map(|i| (0..n).map(|k| if i == k { 1.0 } else { 0.0 }).collect())
            .collect();
        let mut dnu = vec![0.0; n];
        for _ in 0..steps {
            let (old_u, old_du, old_dnu) = (u.clone(), du.clone(), dnu.clone());
            for i in 1..n.saturating_sub(1) {
                // Jacobi reads the old values, in place reads the current ones.
                let (uu, dd, dn) = if jacobi {
                    (&old_u, &old_du, &old_dnu)
                } else {
                    (&u, &du, &dnu)
                };
                let lap = uu[i - 1] - 2.0 * uu[i] + uu[i + 1];
                let slope = 1.0 - 2.0 * nu - 0.6 * uu[i] * uu[i];
                let new_du: Vec<f64> = (0..n)
                    .map(|k| slope * dd[i][k] + nu * (dd[i - 1][k] + dd[i + 1][k]))
                    .collect();
                let new_dnu = slope * dn[i] + nu * (dn[i - 1] + dn[i + 1]) + lap;
                let new_u = uu[i] + nu * lap - 0.2 * uu[i] * uu[i] * uu[i];
                u[i] = new_u;
                du[i] = new_du;
                dnu[i] = new_dnu;
            }
        }
        let weight = |i: usize| 2.0 * (i as f64 + 1.0) * u[i];
        let mut g: Vec<f64> = (0..n)
            .map(|k| (0..n).map(|i| weight(i) * du[i][k]).sum())
            .collect();
        g.push((0..n).map(|i| weight(i) * dnu[i]).sum());
        g
    }

    #[test]
    fn stencil_overwriting_a_local_array_over_time_steps() {
        type Run = fn(&[f64], f64, usize) -> f64;
        type Grad = fn(&[f64], f64, usize) -> (f64, (Vec<f64>, f64));
        let forms: [(&str, Run, Grad, bool); 2] = [
            ("in place", in_place, in_place_grad, false),
            ("two buffers", two_buffers, two_buffers_grad, true),
        ];
        for (n, phase) in [(2, 0.0), (3, 0.5), (8, 1.0), (13, 2.0)] {
            for u0 in [wavy(n, phase, 0.9), vec![0.0; n], vec![1.0; n]] {
                for (nu, steps) in [(0.2, 0), (0.2, 1), (0.25, 6), (0.1, 20)] {
                    for (form, run, grad, jacobi) in forms {
                        let name = format!("stencil {form} (n = {n}, ν = {nu}, {steps} steps)");
                        let (value, (du0, dnu)) = grad(&u0, nu, steps);
                        let f = |p: &[f64]| run(&p[..n], p[n], steps);
                        check_grad(
                            &name,
                            f,
                            &concat(&[&u0, &[nu]]),
                            value,
                            &concat(&[&du0, &[dnu]]),
                            &closed(&u0, nu, steps, jacobi),
                        );
                    }
                }
            }
        }
    }

    /// `h[i] += x[(i + r) % n] cos(h[i + 1])` then `h[i] = tanh(h[i])`, for `rounds` rounds:
    /// every element is accumulated into and overwritten many times, reading its neighbour.
    #[reverse]
    fn recurrent(x: &[f64], rounds: usize) -> f64 {
        let n = x.len();
        let mut h: Vec<f64> = vec![0.0; n];
        for r in 0..rounds {
            for i in 0..n {
                h[i] += x[(i + r) % n] * h[(i + 1) % n].cos();
                h[i] = h[i].tanh();
            }
        }
        let mut s = 0.0;
        for (hi, xi) in h.iter().zip(x) {
            s += hi * xi;
        }
        s
    }

    /// Forward tangents `dh[i][k] = ∂hᵢ/∂xₖ`; `∂s/∂xₖ = Σᵢ xᵢ dh[i][k] + hₖ`.
    fn recurrent_closed(x: &[f64], rounds: usize) -> Vec<f64> {
        let n = x.len();
        let mut h = vec![0.0_f64; n];
        let mut dh = vec![vec![0.0; n]; n];
        for r in 0..rounds {
            for i in 0..n {
                let (j, k) = ((i + r) % n, (i + 1) % n);
                let t = h[i] + x[j] * h[k].cos();
                let mut dt: Vec<f64> = (0..n)
                    .map(|c| dh[i][c] - x[j] * h[k].sin() * dh[k][c])
                    .collect();
                dt[j] += h[k].cos();
                h[i] = t.tanh();
                let sech2 = 1.0 - h[i] * h[i];
                dh[i] = dt.iter().map(|d| sech2 * d).collect();
            }
        }
        (0..n)
            .map(|k| (0..n).map(|i| x[i] * dh[i][k]).sum::<f64>() + h[k])
            .collect()
    }

    #[test]
    fn accumulating_stores_overwritten_many_times() {
        for n in [1, 2, 5, 9] {
            for x in [wavy(n, 0.6, 1.4), vec![0.0; n], vec![-3.0; n]] {
                for rounds in [0, 1, 3, 40] {
                    let (value, g) = recurrent_grad(&x, rounds);
                    check_grad(
                        &format!("recurrent(n = {n}, x0 = {}, {rounds} rounds)", x[0]),
                        |p| recurrent(p, rounds),
                        &x,
                        value,
                        &g,
                        &recurrent_closed(&x, rounds),
                    );
                }
            }
        }
    }
}

mod locals {
    use super::*;

    /// `vec![c; n]`, `[c; N]`, `Vec::with_capacity` + `push`, `vec![a, b]` and `[a, b, c]` of
    /// active values.
    #[reverse]
    #[allow(
        clippy::useless_vec,
        reason = "`vec![a, b]` is among the forms under test"
    )]
    fn local_containers(x: &[f64]) -> f64 {
        let n = x.len();
        let mut squares = vec![0.0; n];
        let mut factors = [1.0; 3];
        let mut cubes = Vec::with_capacity(n);
        for i in 0..n {
            squares[i] = x[i] * x[i];
            factors[i % 3] *= x[i].cos() + 2.0;
            cubes.push(squares[i] * x[i]);
        }
        let pair = vec![x[0] * 2.0, squares[n - 1]];
        let triple = [x[0], pair[1] * 3.0, 1.5];
        let mut s = 0.0;
        for i in 0..n {
            s += cubes[i] * factors[i % 3];
        }
        s + pair[0] * pair[1] + triple[0] * triple[1] + triple[2]
    }

    /// `f = Σ xᵢ³ c_{i mod 3} + 5 x₀ x_{n-1}² + 1.5` with `c_k = Π_{i ≡ k} (cos xᵢ + 2)`.
    fn local_containers_closed(x: &[f64]) -> Vec<f64> {
        let n = x.len();
        let mut c = [1.0; 3];
        let mut cubes = [0.0; 3];
        for (i, v) in x.iter().enumerate() {
            c[i % 3] *= v.cos() + 2.0;
            cubes[i % 3] += v * v * v;
        }
        (0..n)
            .map(|j| {
                let k = j % 3;
                let mut g =
                    3.0 * x[j] * x[j] * c[k] - cubes[k] * c[k] * x[j].sin() / (x[j].cos() + 2.0);
                if j == 0 {
                    g += 5.0 * x[n - 1] * x[n - 1];
                }
                if j == n - 1 {
                    g += 10.0 * x[0] * x[n - 1];
                }
                g
            })
            .collect()
    }

    #[test]
    fn local_vec_array_and_pushed_containers() {
        for n in [1, 2, 3, 4, 7, 12] {
            for x in [wavy(n, 0.0, 1.3), vec![0.0; n], wavy(n, 1.0, 4.0)] {
                let (value, g) = local_containers_grad(&x);
                check_grad(
                    &format!("local_containers({x:?})"),
                    local_containers,
                    &x,
                    value,
                    &g,
                    &local_containers_closed(&x),
                );
            }
        }
    }
}

mod iterators {
    use super::*;

    /// `for v in x.iter()`, `enumerate`, and `zip` with a second slice (which may be longer).
    #[reverse]
    fn iterate(x: &[f64], y: &[f64]) -> f64 {
        let mut s = 0.0;
        for v in x.iter() {
            s += v.sin();
        }
        for (i, v) in x.iter().enumerate() {
            s += (i as f64 + 1.0) * v * v;
        }
        for (a, b) in x.iter().zip(y) {
            s += a * b.exp();
        }
        s
    }

    /// `∂/∂xᵢ = cos xᵢ + 2 (i + 1) xᵢ + e^{yᵢ}`, `∂/∂yᵢ = xᵢ e^{yᵢ}` (zip stops at the
    /// shorter).
    fn iterate_closed(x: &[f64], y: &[f64]) -> Vec<f64> {
        let zipped = x.len().min(y.len());
        let dx: Vec<f64> = (0..x.len())
            .map(|i| {
                let tail = if i < zipped { y[i].exp() } else { 0.0 };
                x[i].cos() + 2.0 * (i as f64 + 1.0) * x[i] + tail
            })
            .collect();
        let dy: Vec<f64> = (0..y.len())
            .map(|i| if i < zipped { x[i] * y[i].exp() } else { 0.0 })
            .collect();
        concat(&[&dx, &dy])
    }

    /// A copy of `x` updated through `iter_mut` with `*v += c`, `*v = *v * *v`, `*v += c * *v`,
    /// then summed: `(1 + c) Σ (xᵢ + c)²`; also `x.iter().sum()` of the parameter itself.
    #[reverse]
    #[allow(
        clippy::manual_memcpy,
        reason = "an element-wise copy of a parameter is part of the form under test (the macro has no rule for `to_vec` or `copy_from_slice`)"
    )]
    fn mutate(x: &[f64], c: f64) -> f64 {
        let n = x.len();
        let mut h = vec![0.0; n];
        for i in 0..n {
            h[i] = x[i];
        }
        for v in h.iter_mut() {
            *v += c;
            *v = *v * *v;
        }
        for v in h.iter_mut() {
            *v += c * *v;
        }
        h.iter().sum::<f64>() + x.iter().sum::<f64>() * c
    }

    /// `∂/∂xᵢ = 2 (1 + c)(xᵢ + c) + c`, `∂/∂c = Σ (xᵢ + c)² + 2 (1 + c) Σ (xᵢ + c) + Σ xᵢ`.
    fn mutate_closed(x: &[f64], c: f64) -> Vec<f64> {
        let mut g: Vec<f64> = x.iter().map(|v| 2.0 * (1.0 + c) * (v + c) + c).collect();
        let squares: f64 = x.iter().map(|v| (v + c) * (v + c)).sum();
        let shifted: f64 = x.iter().map(|v| v + c).sum();
        g.push(squares + 2.0 * (1.0 + c) * shifted + x.iter().sum::<f64>());
        g
    }

    #[test]
    fn iter_enumerate_zip_iter_mut_and_sum() {
        for (x, y) in [
            (vec![0.3, -1.1, 2.0], vec![0.5, 0.25, -0.75]),
            (vec![0.3, -1.1, 2.0, 0.9], vec![0.5, 0.25]),
            (vec![1.5], vec![-2.0, 0.0, 3.0]),
            (vec![0.0; 4], vec![0.0; 4]),
            (wavy(20, 0.5, 2.0), wavy(20, 1.5, 1.0)),
        ] {
            let (nx, ny) = (x.len(), y.len());
            let (value, (gx, gy)) = iterate_grad(&x, &y);
            check_grad(
                &format!("iterate({x:?}, {y:?})"),
                |p| iterate(&p[..nx], &p[nx..]),
                &concat(&[&x, &y]),
                value,
                &concat(&[&gx, &gy]),
                &iterate_closed(&x, &y),
            );
            // Into buffers: the same gradient, bit for bit.
            let (mut dx, mut dy) = (vec![f64::NAN; nx], vec![7.0; ny]);
            let into = iterate_grad_into(&x, &y, &mut dx, &mut dy);
            assert_eq!(into.to_bits(), value.to_bits());
            assert_eq!(
                dx.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                gx.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
            );
            assert_eq!(
                dy.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                gy.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
            );

            for c in [0.0, -0.4, 1.7, -1.0] {
                let (value, (gx, gc)) = mutate_grad(&x, c);
                check_grad(
                    &format!("mutate({x:?}, {c})"),
                    |p| mutate(&p[..nx], p[nx]),
                    &concat(&[&x, &[c]]),
                    value,
                    &concat(&[&gx, &[gc]]),
                    &mutate_closed(&x, c),
                );
                // A scalar parameter's gradient comes back next to the value.
                let mut dx = vec![f64::NAN; nx];
                let (into, dc) = mutate_grad_into(&x, c, &mut dx);
                assert_eq!(into.to_bits(), value.to_bits());
                assert_eq!(dc.to_bits(), gc.to_bits());
                assert_eq!(
                    dx.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                    gx.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
                );
            }
        }
    }
    #[test]
    #[should_panic(expected = "f_grad_into: `dy` has 2 elements but its parameter has 3")]
    fn grad_into_length_mismatch_names_the_buffer() {
        let (mut dx, mut dy) = (vec![0.0; 3], vec![0.0; 2]);
        let _ = iterate_grad_into(&[1.0, 2.0, 3.0], &[0.5, 0.5, 0.5], &mut dx, &mut dy);
    }
}

mod parameters {
    use super::*;

    /// An array by value and one by reference, iterated with `zip` and indexed.
    #[reverse]
    fn arrays(a: [f64; 3], b: &[f64; 3]) -> f64 {
        let mut s = a[0] * b[1] - a[1] * b[0];
        for (p, q) in a.iter().zip(b) {
            s += p * q * q;
        }
        s + a[2].exp() * b.len() as f64
    }

    /// `arrays` with both arrays by value.
    #[reverse]
    fn arrays_by_value(a: [f64; 3], b: [f64; 3]) -> f64 {
        let mut s = a[0] * b[1] - a[1] * b[0];
        for (p, q) in a.iter().zip(b.iter()) {
            s += p * q * q;
        }
        s + a[2].exp() * b.len() as f64
    }

    /// `arrays` with a second output `a₁ b₂`: `&[F; N]` through `f_vjp` of a pair.
    #[reverse]
    fn arrays_by_reference(a: [f64; 3], b: &[f64; 3]) -> (f64, f64) {
        let mut s = a[0] * b[1] - a[1] * b[0];
        for (p, q) in a.iter().zip(b) {
            s += p * q * q;
        }
        (s + a[2].exp() * b.len() as f64, a[1] * b[2])
    }

    fn arrays_closed(a: [f64; 3], b: [f64; 3]) -> ([f64; 3], [f64; 3]) {
        (
            [
                b[1] + b[0] * b[0],
                -b[0] + b[1] * b[1],
                b[2] * b[2] + 3.0 * a[2].exp(),
            ],
            [
                -a[1] + 2.0 * a[0] * b[0],
                a[0] + 2.0 * a[1] * b[1],
                2.0 * a[2] * b[2],
            ],
        )
    }

    #[test]
    fn array_parameters_by_value_and_by_reference() {
        for (a, b) in [
            ([1.0, 2.0, 3.0], [-0.5, 0.25, 2.0]),
            ([0.0; 3], [0.0; 3]),
            ([-1.5, 0.75, -4.0], [3.0, -2.0, 0.1]),
        ] {
            let (value, (ga, gb)): (f64, ([f64; 3], [f64; 3])) = arrays_grad(a, &b);
            let (wa, wb) = arrays_closed(a, b);
            check_grad(
                &format!("arrays({a:?}, {b:?})"),
                |p| arrays([p[0], p[1], p[2]], &[p[3], p[4], p[5]]),
                &concat(&[&a, &b]),
                value,
                &concat(&[&ga, &gb]),
                &concat(&[&wa, &wb]),
            );
            let (_, (va, vb)) = arrays_vjp(a, &b, -2.0);
            assert_vjp("arrays a", &ga, &va);
            assert_vjp("arrays b", &gb, &vb);
            let (mut da, mut db) = ([f64::NAN; 3], [f64::NAN; 3]);
            let into = arrays_grad_into(a, &b, &mut da, &mut db);
            assert_eq!(into.to_bits(), value.to_bits());
            assert_eq!((da, db), (ga, gb));
        }
    }

    #[test]
    fn array_parameters_both_by_value_and_pair_output_by_reference() {
        for (a, b) in [
            ([1.0, 2.0, 3.0], [-0.5, 0.25, 2.0]),
            ([0.0; 3], [0.0; 3]),
            ([-1.5, 0.75, -4.0], [3.0, -2.0, 0.1]),
        ] {
            let (value, (ga, gb)): (f64, ([f64; 3], [f64; 3])) = arrays_by_value_grad(a, b);
            let (wa, wb) = arrays_closed(a, b);
            let name = format!("arrays_by_value({a:?}, {b:?})");
            check_grad(
                &name,
                |p| arrays_by_value([p[0], p[1], p[2]], [p[3], p[4], p[5]]),
                &concat(&[&a, &b]),
                value,
                &concat(&[&ga, &gb]),
                &concat(&[&wa, &wb]),
            );
            let (_, (va, vb)) = arrays_by_value_vjp(a, b, -2.0);
            assert_vjp("arrays_by_value a", &ga, &va);
            assert_vjp("arrays_by_value b", &gb, &vb);
            let (mut da, mut db) = ([f64::NAN; 3], [f64::NAN; 3]);
            let into = arrays_by_value_grad_into(a, b, &mut da, &mut db);
            assert_eq!(into.to_bits(), value.to_bits());
            assert_eq!((da, db), (ga, gb));

            // By reference: the first output's gradient is the same; the second's is
            // `(0, b₂, 0), (0, 0, a₁)`.
            let (pair, (ra, rb)): ((f64, f64), ([f64; 3], [f64; 3])) =
                arrays_by_reference_vjp(a, &b, (1.0, 0.0));
            let f = |p: &[f64]| arrays_by_reference([p[0], p[1], p[2]], &[p[3], p[4], p[5]]);
            check_grad(
                &format!("{name} by reference, first output"),
                |p| f(p).0,
                &concat(&[&a, &b]),
                pair.0,
                &concat(&[&ra, &rb]),
                &concat(&[&wa, &wb]),
            );
            let (pair, (ra, rb)) = arrays_by_reference_vjp(a, &b, (0.0, 1.0));
            check_grad(
                &format!("{name} by reference, second output"),
                |p| f(p).1,
                &concat(&[&a, &b]),
                pair.1,
                &concat(&[&ra, &rb]),
                &[0.0, b[2], 0.0, 0.0, 0.0, a[1]],
            );
        }
    }

    /// `Vec<f64>` by value and `&Vec<f64>`.
    #[reverse]
    #[allow(
        clippy::ptr_arg,
        reason = "`&Vec<f64>` parameters are among the forms under test"
    )]
    fn vecs(v: Vec<f64>, w: &Vec<f64>) -> f64 {
        let mut s = 0.0;
        for (a, b) in v.iter().zip(w) {
            s += a * b.sin();
        }
        s * w[0] + v.len() as f64
    }

    /// With `s = Σ vᵢ sin wᵢ`: `∂/∂vᵢ = w₀ sin wᵢ`, `∂/∂wᵢ = w₀ vᵢ cos wᵢ (+ s for i = 0)`.
    fn vecs_closed(v: &[f64], w: &[f64]) -> Vec<f64> {
        let s: f64 = v.iter().zip(w).map(|(a, b)| a * b.sin()).sum();
        let dv: Vec<f64> = w.iter().map(|b| w[0] * b.sin()).collect();
        let dw: Vec<f64> = v
            .iter()
            .zip(w)
            .enumerate()
            .map(|(i, (a, b))| w[0] * a * b.cos() + if i == 0 { s } else { 0.0 })
            .collect();
        concat(&[&dv, &dw])
    }

    #[test]
    fn vec_by_value_and_by_reference() {
        for (v, w) in [
            (vec![1.0, -2.0, 0.5], vec![0.3, 1.2, -0.7]),
            (vec![2.5], vec![-1.0]),
            (vec![0.0; 4], vec![0.0; 4]),
            (wavy(9, 0.1, 3.0), wavy(9, 0.8, 2.0)),
        ] {
            let n = v.len();
            let (value, (gv, gw)) = vecs_grad(v.clone(), &w);
            check_grad(
                &format!("vecs({v:?}, {w:?})"),
                |p| vecs(p[..n].to_vec(), &p[n..].to_vec()),
                &concat(&[&v, &w]),
                value,
                &concat(&[&gv, &gw]),
                &vecs_closed(&v, &w),
            );
        }
    }

    /// Gathers `x` at inactive indices, repeats allowed.
    #[reverse]
    fn gather(x: &[f64], idx: &[usize]) -> f64 {
        let mut s = 0.0;
        for (k, j) in idx.iter().enumerate() {
            let v = x[*j];
            s += (k as f64 + 1.0) * v * v;
        }
        s
    }

    /// `∂/∂xⱼ = Σ_{k: idx_k = j} 2 (k + 1) xⱼ`.
    fn gather_closed(x: &[f64], idx: &[usize]) -> Vec<f64> {
        let mut g = vec![0.0; x.len()];
        for (k, &j) in idx.iter().enumerate() {
            g[j] += 2.0 * (k as f64 + 1.0) * x[j];
        }
        g
    }

    /// Only `x` is active: `w` (a float slice) and `scale` are left out of `wrt`.
    #[reverse(wrt(x))]
    fn weighted(x: &[f64], w: &[f64], scale: f64) -> f64 {
        let mut s = 0.0;
        for (a, b) in x.iter().zip(w) {
            s += b * a * a;
        }
        s * scale
    }

    #[test]
    fn inactive_containers() {
        let x = [0.5, -1.25, 2.0, 0.0, 3.5];
        for idx in [
            vec![0, 1, 2, 3, 4],
            vec![4, 4, 1],
            vec![],
            vec![2; 6],
            vec![3],
        ] {
            let (value, g): (f64, Vec<f64>) = gather_grad(&x, &idx);
            check_grad(
                &format!("gather at {idx:?}"),
                |p| gather(p, &idx),
                &x,
                value,
                &g,
                &gather_closed(&x, &idx),
            );
        }
        let w = [1.0, -0.5, 2.0, 0.25, 3.0];
        for scale in [1.0, -2.5, 0.0] {
            let (value, g): (f64, Vec<f64>) = weighted_grad(&x, &w, scale);
            let closed: Vec<f64> = x.iter().zip(&w).map(|(a, b)| 2.0 * b * a * scale).collect();
            check_grad(
                &format!("weighted(scale = {scale})"),
                |p| weighted(p, &w, scale),
                &x,
                value,
                &g,
                &closed,
            );
            let mut dx = vec![0.0; 5];
            let into: f64 = weighted_grad_into(&x, &w, scale, &mut dx);
            assert_eq!(into.to_bits(), value.to_bits());
            assert_eq!(dx, g);
        }
    }
}
