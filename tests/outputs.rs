//! Non-scalar outputs: tuples, `[F; M]`, `Vec<F>` and results written into `&mut [F]`
//! parameters, through `f_vjp` (with a cotangent per output) and `f_jacobian`. Each Jacobian is
//! compared with a closed form written by hand in the test and with central differences of
//! every output component, at several points including edge ones; each vector-Jacobian product
//! with the closed form's `seedᵀ J`; values (and the final contents of `&mut` outputs) are
//! bitwise equal to the original function's.

mod common;

use ad_runtime::{check, linalg, reverse};
use common::{FD_TOL, assert_close};

/// `got` is `want`, bit for bit.
#[track_caller]
fn assert_bits(what: &str, got: &[f64], want: &[f64]) {
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(got), bits(want), "{what}: {got:?} vs {want:?}");
}

/// `rows` has the shape of `closed`, matches it entry by entry, and each row matches central
/// differences of the corresponding component of `f` (the outputs flattened) at `x`.
#[track_caller]
fn check_jacobian(
    name: &str,
    f: impl Fn(&[f64]) -> Vec<f64>,
    x: &[f64],
    rows: &[Vec<f64>],
    closed: &[Vec<f64>],
) {
    assert_eq!(rows.len(), closed.len(), "{name}: number of rows (outputs)");
    for (k, (row, want)) in rows.iter().zip(closed).enumerate() {
        assert_eq!(
            row.len(),
            x.len(),
            "{name}: row {k} has one column per input"
        );
        for (j, (&g, &w)) in row.iter().zip(want).enumerate() {
            assert_close(
                &format!("{name}: J[{k}][{j}] against the closed form"),
                g,
                w,
            );
        }
        let report = check::gradient(|p| f(p)[k], x, row);
        assert!(
            report.is_within(FD_TOL),
            "{name}: row {k} against central differences:\n{report}"
        );
    }
}

/// `seedᵀ J`.
fn vjp_of(jacobian: &[Vec<f64>], seed: &[f64]) -> Vec<f64> {
    let cols = jacobian.first().map_or(0, Vec::len);
    (0..cols)
        .map(|j| jacobian.iter().zip(seed).map(|(row, s)| s * row[j]).sum())
        .collect()
}

/// Every entry of `got` is close to `want`.
#[track_caller]
fn assert_all_close(what: &str, got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert_close(&format!("{what}[{i}]"), g, w);
    }
}

/// `grad` is the gradient of `⟨seed, f⟩` at `x` by central differences (`f`'s outputs
/// flattened).
#[track_caller]
fn check_vjp_fd(name: &str, f: impl Fn(&[f64]) -> Vec<f64>, x: &[f64], seed: &[f64], grad: &[f64]) {
    let report = check::gradient(|p| f(p).iter().zip(seed).map(|(y, s)| y * s).sum(), x, grad);
    assert!(
        report.is_within(FD_TOL),
        "{name}: vjp against central differences:\n{report}"
    );
}

/// The closed-form Jacobian itself against central differences.
#[track_caller]
fn check_closed_fd(name: &str, f: impl Fn(&[f64]) -> Vec<f64>, x: &[f64], closed: &[Vec<f64>]) {
    for (k, row) in closed.iter().enumerate() {
        let report = check::gradient(|p| f(p)[k], x, row);
        assert!(
            report.is_within(FD_TOL),
            "{name}: closed-form row {k} against central differences:\n{report}"
        );
    }
}

/// `[a, b, ..]` flattened into one vector.
fn concat(parts: &[&[f64]]) -> Vec<f64> {
    parts.iter().flat_map(|p| p.iter().copied()).collect()
}

/// A deterministic, irregular test vector with entries in `[-scale, scale]`.
fn wavy(n: usize, phase: f64, scale: f64) -> Vec<f64> {
    (0..n)
        .map(|i| scale * (1.7 * i as f64 + phase).sin())
        .collect()
}

/// The `n × n` identity.
fn identity(n: usize) -> Vec<Vec<f64>> {
    (0..n)
        .map(|i| (0..n).map(|j| if i == j { 1.0 } else { 0.0 }).collect())
        .collect()
}

mod tuples {
    use super::*;

    /// Polar to Cartesian coordinates.
    #[reverse]
    fn polar(r: f64, theta: f64) -> (f64, f64) {
        (r * theta.cos(), r * theta.sin())
    }

    fn polar_closed(r: f64, theta: f64) -> Vec<Vec<f64>> {
        let (s, c) = theta.sin_cos();
        vec![vec![c, -r * s], vec![s, r * c]]
    }

    #[test]
    fn pair_output_through_vjp_and_jacobian() {
        let seeds = [(1.0, 0.0), (0.0, 1.0), (0.5, -2.0), (3.0, 0.25), (0.0, 0.0)];
        for (r, theta) in [
            (1.0, 0.0),
            (2.5, 0.7),
            (0.0, 1.3),
            (-1.5, -2.9),
            (1e-8, 3.0),
            (40.0, 1e3),
        ] {
            let name = format!("polar({r}, {theta})");
            let closed = polar_closed(r, theta);
            let (value, rows) = polar_jacobian(r, theta);
            let original = polar(r, theta);
            assert_bits(&name, &[value.0, value.1], &[original.0, original.1]);
            check_jacobian(
                &name,
                |p| {
                    let (x, y) = polar(p[0], p[1]);
                    vec![x, y]
                },
                &[r, theta],
                &rows,
                &closed,
            );
            for &(s0, s1) in &seeds {
                let (value, (dr, dtheta)) = polar_vjp(r, theta, (s0, s1));
                assert_bits(&name, &[value.0, value.1], &[original.0, original.1]);
                let want = vjp_of(&closed, &[s0, s1]);
                assert_all_close(&format!("{name} vjp({s0}, {s1})"), &[dr, dtheta], &want);
                let report = check::gradient(
                    |p| {
                        let (x, y) = polar(p[0], p[1]);
                        s0 * x + s1 * y
                    },
                    &[r, theta],
                    &[dr, dtheta],
                );
                assert!(
                    report.is_within(FD_TOL),
                    "{name} vjp({s0}, {s1}):\n{report}"
                );
                // Linear in the seed: a power-of-two scaling is exact, a sum is up to rounding.
                let (_, (dr2, dtheta2)) = polar_vjp(r, theta, (-4.0 * s0, -4.0 * s1));
                for (scaled, once) in [(dr2, dr), (dtheta2, dtheta)] {
                    let want = -4.0 * once;
                    assert!(
                        scaled.to_bits() == want.to_bits() || (scaled == 0.0 && want == 0.0),
                        "{name}: vjp(-4 s) = {scaled:e} is not -4 vjp(s) = {want:e}"
                    );
                }
                for &(t0, t1) in &seeds {
                    let (_, (er, etheta)) = polar_vjp(r, theta, (t0, t1));
                    let (_, (sr, stheta)) = polar_vjp(r, theta, (s0 + t0, s1 + t1));
                    assert_close(&format!("{name}: linearity in r"), sr, dr + er);
                    assert_close(&format!("{name}: linearity in θ"), stheta, dtheta + etheta);
                }
            }
        }
    }

    /// Three outputs of a slice.
    #[reverse]
    fn stats(x: &[f64]) -> (f64, f64, f64) {
        let n = x.len();
        (linalg::sum(x), linalg::dot(x, x), x[0] * x[n - 1])
    }

    fn stats_closed(x: &[f64]) -> Vec<Vec<f64>> {
        let n = x.len();
        let mut last = vec![0.0; n];
        last[0] += x[n - 1];
        last[n - 1] += x[0];
        vec![vec![1.0; n], x.iter().map(|v| 2.0 * v).collect(), last]
    }

    #[test]
    fn triple_output_of_a_slice() {
        for x in [vec![2.0], vec![1.0, -2.0], vec![0.0; 4], wavy(7, 0.2, 3.0)] {
            let name = format!("stats({x:?})");
            let (value, rows) = stats_jacobian(&x);
            let original = stats(&x);
            let flat = |v: (f64, f64, f64)| vec![v.0, v.1, v.2];
            assert_bits(&name, &flat(value), &flat(original));
            let closed = stats_closed(&x);
            check_jacobian(&name, |p| flat(stats(p)), &x, &rows, &closed);
            let seed = (0.5, -1.0, 2.0);
            let (value, g) = stats_vjp(&x, seed);
            assert_bits(&name, &flat(value), &flat(original));
            assert_all_close(
                &format!("{name} vjp"),
                &g,
                &vjp_of(&closed, &[seed.0, seed.1, seed.2]),
            );
        }
    }
}

mod arrays {
    use super::*;

    /// R³ → R⁴.
    #[reverse]
    fn lift(p: [f64; 3]) -> [f64; 4] {
        let q = p[0] * p[0] + p[1] * p[2];
        [p[0] * p[1], p[1].sin() * p[2], p[0].exp() - p[2], q.tanh()]
    }

    /// The 4 × 3 Jacobian by hand.
    fn lift_closed(p: [f64; 3]) -> Vec<Vec<f64>> {
        let q = p[0] * p[0] + p[1] * p[2];
        let sech2 = 1.0 - q.tanh() * q.tanh();
        vec![
            vec![p[1], p[0], 0.0],
            vec![0.0, p[1].cos() * p[2], p[1].sin()],
            vec![p[0].exp(), 0.0, -1.0],
            vec![2.0 * p[0] * sech2, p[2] * sech2, p[1] * sech2],
        ]
    }

    #[test]
    fn array_output_r3_to_r4() {
        for p in [
            [0.0; 3],
            [1.0, 2.0, 3.0],
            [-0.5, 0.25, -1.75],
            [3.0, -2.0, 0.5],
            [1e-9, -1e-9, 1e-9],
            [-20.0, 1.0, 8.0],
        ] {
            let name = format!("lift({p:?})");
            let (value, rows): ([f64; 4], Vec<Vec<f64>>) = lift_jacobian(p);
            assert_bits(&name, &value, &lift(p));
            assert_eq!(rows.len(), 4);
            let closed = lift_closed(p);
            check_jacobian(
                &name,
                |x| lift([x[0], x[1], x[2]]).to_vec(),
                &p,
                &rows,
                &closed,
            );
            for seed in [[1.0, 0.0, 0.0, 0.0], [0.5, -1.0, 2.0, 0.25], [0.0; 4]] {
                let (value, g): ([f64; 4], [f64; 3]) = lift_vjp(p, seed);
                assert_bits(&name, &value, &lift(p));
                assert_all_close(
                    &format!("{name} vjp({seed:?})"),
                    &g,
                    &vjp_of(&closed, &seed),
                );
            }
        }
    }

    /// `[Σ x, Σ x²]` accumulated in a local array over `iter()`.
    #[reverse]
    fn moments(x: &[f64]) -> [f64; 2] {
        let mut m = [0.0; 2];
        for v in x.iter() {
            m[0] += v;
            m[1] += v * v;
        }
        m
    }

    #[test]
    fn array_output_accumulated_in_a_local() {
        for x in [vec![1.5], vec![0.0; 3], wavy(6, 0.4, 2.0)] {
            let name = format!("moments({x:?})");
            let (value, rows) = moments_jacobian(&x);
            assert_bits(&name, &value, &moments(&x));
            let closed = vec![vec![1.0; x.len()], x.iter().map(|v| 2.0 * v).collect()];
            check_jacobian(&name, |p| moments(p).to_vec(), &x, &rows, &closed);
            let (_, g) = moments_vjp(&x, [3.0, -0.5]);
            assert_all_close(&format!("{name} vjp"), &g, &vjp_of(&closed, &[3.0, -0.5]));
        }
    }
}

mod vecs {
    use super::*;

    /// A discounted running sum of squares, pushed.
    #[reverse]
    fn cumulative(x: &[f64]) -> Vec<f64> {
        let mut out = Vec::with_capacity(x.len());
        let mut acc = 0.0;
        for v in x.iter() {
            acc = acc * 0.5 + v * v;
            out.push(acc);
        }
        out
    }

    /// `∂out_k/∂x_j = 0.5^(k-j) 2 x_j` for `j ≤ k`.
    fn cumulative_closed(x: &[f64]) -> Vec<Vec<f64>> {
        let n = x.len();
        (0..n)
            .map(|k| {
                (0..n)
                    .map(|j| {
                        if j <= k {
                            0.5f64.powi((k - j) as i32) * 2.0 * x[j]
                        } else {
                            0.0
                        }
                    })
                    .collect()
            })
            .collect()
    }

    /// Sines scattered into `n` bins with `+=`, bin 0 scaled by `x₀`, then bin `n - 1`
    /// overwritten with twice bin 0.
    #[reverse]
    fn scatter(x: &[f64], n: usize) -> Vec<f64> {
        let mut out = vec![0.0; n];
        for i in 0..x.len() {
            out[i % n] += x[i].sin();
        }
        out[0] *= x[0];
        out[n - 1] = 2.0 * out[0];
        out
    }

    fn scatter_closed(x: &[f64], n: usize) -> Vec<Vec<f64>> {
        let mut rows = vec![vec![0.0; x.len()]; n];
        for (i, v) in x.iter().enumerate() {
            rows[i % n][i] = v.cos();
        }
        let bin0: f64 = x.iter().step_by(n).map(|v| v.sin()).sum();
        for entry in rows[0].iter_mut() {
            *entry *= x[0];
        }
        rows[0][0] += bin0;
        rows[n - 1] = rows[0].iter().map(|g| 2.0 * g).collect();
        rows
    }

    /// A `vec![..]` literal of scalars.
    #[reverse]
    fn literal(x: f64, y: f64) -> Vec<f64> {
        vec![x * y, x - y, y.exp()]
    }

    /// `A B` for a 2 × 3 and a 3 × 4 matrix, returned as it comes from `linalg::matmul`.
    #[reverse]
    fn product(a: &[f64], b: &[f64]) -> Vec<f64> {
        linalg::matmul(a, b, 2, 3, 4)
    }

    /// `∂C_ij/∂A_ip = B_pj`, `∂C_ij/∂B_pj = A_ip`.
    fn product_closed(a: &[f64], b: &[f64]) -> Vec<Vec<f64>> {
        let (m, k, n) = (2, 3, 4);
        (0..m * n)
            .map(|ij| {
                let (i, j) = (ij / n, ij % n);
                let mut row = vec![0.0; m * k + k * n];
                for p in 0..k {
                    row[i * k + p] = b[p * n + j];
                    row[m * k + p * n + j] = a[i * k + p];
                }
                row
            })
            .collect()
    }

    /// `softmax(x)`, returned.
    #[reverse]
    fn probabilities(x: &[f64]) -> Vec<f64> {
        linalg::softmax(x)
    }

    /// `∂pᵢ/∂xⱼ = pᵢ (δᵢⱼ - pⱼ)`.
    fn probabilities_closed(x: &[f64]) -> Vec<Vec<f64>> {
        let top = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let e: Vec<f64> = x.iter().map(|v| (v - top).exp()).collect();
        let total: f64 = e.iter().sum();
        let p: Vec<f64> = e.iter().map(|v| v / total).collect();
        (0..x.len())
            .map(|i| {
                (0..x.len())
                    .map(|j| p[i] * (if i == j { 1.0 } else { 0.0 } - p[j]))
                    .collect()
            })
            .collect()
    }

    #[test]
    fn vec_outputs_pushed_stored_and_literal() {
        for x in [
            vec![0.7],
            vec![0.0; 3],
            vec![1.0, -2.0, 0.5, 3.0],
            wavy(9, 1.1, 1.5),
        ] {
            let name = format!("cumulative({x:?})");
            let (value, rows) = cumulative_jacobian(&x);
            assert_bits(&name, &value, &cumulative(&x));
            let closed = cumulative_closed(&x);
            check_jacobian(&name, cumulative, &x, &rows, &closed);
            let seed = wavy(x.len(), 0.9, 2.0);
            let (value, g) = cumulative_vjp(&x, seed.clone());
            assert_bits(&name, &value, &cumulative(&x));
            assert_all_close(&format!("{name} vjp"), &g, &vjp_of(&closed, &seed));

            for n in [1, 2, 4] {
                let name = format!("scatter({x:?}, {n})");
                let (value, rows) = scatter_jacobian(&x, n);
                assert_bits(&name, &value, &scatter(&x, n));
                let closed = scatter_closed(&x, n);
                check_jacobian(&name, |p| scatter(p, n), &x, &rows, &closed);
                let seed = wavy(n, 0.3, 1.0);
                let (_, g) = scatter_vjp(&x, n, seed.clone());
                assert_all_close(&format!("{name} vjp"), &g, &vjp_of(&closed, &seed));
            }
        }
        for (x, y) in [(0.0, 0.0), (1.5, -2.0), (-3.0, 0.25)] {
            let name = format!("literal({x}, {y})");
            let (value, rows) = literal_jacobian(x, y);
            assert_bits(&name, &value, &literal(x, y));
            let closed = vec![vec![y, x], vec![1.0, -1.0], vec![0.0, y.exp()]];
            check_jacobian(&name, |p| literal(p[0], p[1]), &[x, y], &rows, &closed);
            let (_, (dx, dy)) = literal_vjp(x, y, vec![1.0, 2.0, -0.5]);
            assert_all_close(&name, &[dx, dy], &vjp_of(&closed, &[1.0, 2.0, -0.5]));
        }
    }

    #[test]
    fn vec_outputs_of_linalg_calls() {
        for (a, b) in [
            (wavy(6, 0.1, 1.0), wavy(12, 0.6, 2.0)),
            (vec![0.0; 6], wavy(12, 0.6, 2.0)),
            (vec![1.0; 6], vec![-1.0; 12]),
        ] {
            let name = format!("product({a:?}, {b:?})");
            let (value, rows) = product_jacobian(&a, &b);
            assert_bits(&name, &value, &product(&a, &b));
            assert_eq!(value.len(), 8);
            let closed = product_closed(&a, &b);
            check_jacobian(
                &name,
                |p| product(&p[..6], &p[6..]),
                &concat(&[&a, &b]),
                &rows,
                &closed,
            );
            let seed = wavy(8, 2.0, 1.0);
            let (_, (ga, gb)) = product_vjp(&a, &b, seed.clone());
            assert_all_close(
                &format!("{name} vjp"),
                &concat(&[&ga, &gb]),
                &vjp_of(&closed, &seed),
            );
        }
        for x in [
            vec![0.0],
            vec![0.0; 3],
            vec![1.0, -2.0, 0.5],
            vec![30.0, -30.0, 29.0, 0.0],
        ] {
            let name = format!("probabilities({x:?})");
            let (value, rows) = probabilities_jacobian(&x);
            assert_bits(&name, &value, &probabilities(&x));
            check_jacobian(&name, probabilities, &x, &rows, &probabilities_closed(&x));
        }
    }

    #[test]
    #[should_panic(
        expected = "f_vjp: `seed` has 2 elements but the output it is the cotangent of has 3"
    )]
    fn vjp_seed_length_mismatch_names_the_seed() {
        let _ = cumulative_vjp(&[1.0, 2.0, 3.0], vec![1.0, 1.0]);
    }
}

mod mutable {
    use super::*;

    /// Squares of `x` into the first `x.len()` elements of `out` (overwritten), then `x₀`
    /// added to every element: those past `x.len()` keep their initial contents plus `x₀`.
    #[reverse]
    fn squares_into(x: &[f64], out: &mut [f64]) {
        for i in 0..x.len() {
            out[i] = x[i] * x[i];
        }
        for v in out.iter_mut() {
            *v += x[0];
        }
    }

    /// Columns: `x`, then `out`'s initial contents (zero where overwritten, the identity
    /// elsewhere).
    fn squares_into_closed(x: &[f64], m: usize) -> Vec<Vec<f64>> {
        let n = x.len();
        (0..m)
            .map(|i| {
                let mut row = vec![0.0; n + m];
                row[0] += 1.0;
                if i < n {
                    row[i] += 2.0 * x[i];
                } else {
                    row[n + i] = 1.0;
                }
                row
            })
            .collect()
    }

    /// `out` after `squares_into`, as the original leaves it.
    fn squares_into_run(x: &[f64], out0: &[f64]) -> Vec<f64> {
        let mut out = out0.to_vec();
        squares_into(x, &mut out);
        out
    }

    #[test]
    fn unit_function_writing_into_a_mut_slice() {
        for (x, out0) in [
            (vec![1.5], vec![7.0]),
            (vec![0.5, -2.0], vec![1.0, 2.0, 3.0, 4.0]),
            (vec![0.0; 3], vec![0.0; 3]),
            (wavy(4, 0.3, 2.0), wavy(6, 1.0, 5.0)),
        ] {
            let (n, m) = (x.len(), out0.len());
            let name = format!("squares_into({x:?}, {out0:?})");
            let want_out = squares_into_run(&x, &out0);
            let closed = squares_into_closed(&x, m);
            let run = |p: &[f64]| squares_into_run(&p[..n], &p[n..]);
            let point = concat(&[&x, &out0]);
            check_closed_fd(&name, run, &point, &closed);

            let mut out = out0.clone();
            let ((), rows) = squares_into_jacobian(&x, &mut out);
            assert_bits(&format!("{name}: out after f_jacobian"), &out, &want_out);
            check_jacobian(&name, run, &point, &rows, &closed);
            // The overwritten elements' columns are exactly zero.
            for row in &rows {
                assert!(
                    row[n..n + n.min(m)].iter().all(|&g| g == 0.0),
                    "{name}: {row:?}"
                );
            }

            for seed_out in [vec![1.0; m], wavy(m, 0.5, 3.0), vec![0.0; m]] {
                let mut out = out0.clone();
                let ((), (dx, dout)) = squares_into_vjp(&x, &mut out, seed_out.clone());
                assert_bits(&format!("{name}: out after f_vjp"), &out, &want_out);
                let want = vjp_of(&closed, &seed_out);
                assert_all_close(&format!("{name} vjp dx"), &dx, &want[..n]);
                assert_all_close(&format!("{name} vjp dout"), &dout, &want[n..]);
                // Overwritten without being read: no gradient to the initial contents.
                assert!(
                    dout[..n.min(m)].iter().all(|&g| g == 0.0),
                    "{name}: {dout:?}"
                );
                check_vjp_fd(&name, run, &point, &seed_out, &concat(&[&dx, &dout]));
            }
        }
    }

    /// `x² + x₀` written into the front of `out`, which is never read.
    #[reverse]
    fn overwrite(x: &[f64], out: &mut [f64]) {
        for i in 0..x.len() {
            out[i] = x[i] * x[i] + x[0];
        }
    }

    fn overwrite_run(x: &[f64], out0: &[f64]) -> Vec<f64> {
        let mut out = out0.to_vec();
        overwrite(x, &mut out);
        out
    }

    /// Columns `x`, then `out`'s initial contents: zero for the overwritten front, the
    /// identity past it.
    fn overwrite_closed(x: &[f64], m: usize) -> Vec<Vec<f64>> {
        let n = x.len();
        (0..m)
            .map(|i| {
                let mut row = vec![0.0; n + m];
                if i < n {
                    row[0] += 1.0;
                    row[i] += 2.0 * x[i];
                } else {
                    row[n + i] = 1.0;
                }
                row
            })
            .collect()
    }

    #[test]
    fn unit_function_overwriting_a_mut_slice_jacobian() {
        for (x, out0) in [
            (vec![1.5], vec![7.0]),
            (vec![0.5, -2.0], vec![1.0, 2.0, 3.0, 4.0]),
            (vec![0.0; 3], vec![0.0; 3]),
            (wavy(4, 0.3, 2.0), wavy(6, 1.0, 5.0)),
        ] {
            let (n, m) = (x.len(), out0.len());
            let name = format!("overwrite({x:?}, {out0:?})");
            let want_out = overwrite_run(&x, &out0);
            let closed = overwrite_closed(&x, m);
            let run = |p: &[f64]| overwrite_run(&p[..n], &p[n..]);
            let point = concat(&[&x, &out0]);

            let mut out = out0.clone();
            let ((), rows) = overwrite_jacobian(&x, &mut out);
            assert_bits(&format!("{name}: out after f_jacobian"), &out, &want_out);
            assert_eq!(rows.len(), m, "{name}: one row per element of `out`");
            check_jacobian(&name, run, &point, &rows, &closed);
            for row in &rows {
                assert!(
                    row[n..n + n.min(m)].iter().all(|&g| g == 0.0),
                    "{name}: the overwritten elements' columns are zero: {row:?}"
                );
            }

            let seed_out = wavy(m, 0.5, 3.0);
            let mut out = out0.clone();
            let ((), (dx, dout)) = overwrite_vjp(&x, &mut out, seed_out.clone());
            assert_bits(&format!("{name}: out after f_vjp"), &out, &want_out);
            let want = vjp_of(&closed, &seed_out);
            assert_all_close(&format!("{name} vjp"), &concat(&[&dx, &dout]), &want);
            check_vjp_fd(&name, run, &point, &seed_out, &concat(&[&dx, &dout]));
        }
    }

    /// The norm, returned, and `x / ‖x‖` written into the front of `out`.
    #[reverse]
    fn normalize_into(x: &[f64], out: &mut [f64]) -> f64 {
        let norm = linalg::norm2(x);
        for i in 0..x.len() {
            out[i] = x[i] / norm;
        }
        norm
    }

    /// Row 0: `x / ‖x‖`; row `1 + i`: `δᵢⱼ / ‖x‖ - xᵢ xⱼ / ‖x‖³` for `i < n`, the identity on
    /// `out`'s initial contents past `n`.
    fn normalize_into_closed(x: &[f64], m: usize) -> Vec<Vec<f64>> {
        let n = x.len();
        let norm = x.iter().map(|v| v * v).sum::<f64>().sqrt();
        let mut rows = vec![concat(&[
            &x.iter().map(|v| v / norm).collect::<Vec<_>>(),
            &vec![0.0; m],
        ])];
        for i in 0..m {
            let mut row = vec![0.0; n + m];
            if i < n {
                for j in 0..n {
                    let delta = if i == j { 1.0 } else { 0.0 };
                    row[j] = delta / norm - x[i] * x[j] / (norm * norm * norm);
                }
            } else {
                row[n + i] = 1.0;
            }
            rows.push(row);
        }
        rows
    }

    /// The returned value, then `out`.
    fn normalize_into_run(x: &[f64], out0: &[f64]) -> Vec<f64> {
        let mut out = out0.to_vec();
        let norm = normalize_into(x, &mut out);
        concat(&[&[norm], &out])
    }

    #[test]
    fn scalar_function_writing_into_a_mut_slice() {
        for (x, out0) in [
            (vec![3.0, 4.0], vec![0.0, 0.0]),
            (vec![-2.0], vec![5.0, 6.0]),
            (vec![1e-3, 2e-3, -1e-3], vec![1.0, 2.0, 3.0, 4.0, 5.0]),
            (wavy(5, 0.7, 10.0), wavy(5, 0.1, 1.0)),
        ] {
            let (n, m) = (x.len(), out0.len());
            let name = format!("normalize_into({x:?}, {out0:?})");
            let want = normalize_into_run(&x, &out0);
            let closed = normalize_into_closed(&x, m);

            let mut out = out0.clone();
            let (norm, rows) = normalize_into_jacobian(&x, &mut out);
            assert_bits(&name, &concat(&[&[norm], &out]), &want);
            assert_eq!(rows.len(), 1 + m, "{name}: the value, then `out`");
            check_jacobian(
                &name,
                |p| normalize_into_run(&p[..n], &p[n..]),
                &concat(&[&x, &out0]),
                &rows,
                &closed,
            );

            for (seed, seed_out) in [
                (1.0, vec![0.0; m]),
                (0.0, vec![1.0; m]),
                (-2.5, wavy(m, 0.2, 2.0)),
            ] {
                let mut out = out0.clone();
                let (norm, (dx, dout)) = normalize_into_vjp(&x, &mut out, seed, seed_out.clone());
                assert_bits(&name, &concat(&[&[norm], &out]), &want);
                let cotangent = concat(&[&[seed], &seed_out]);
                let want_g = vjp_of(&closed, &cotangent);
                assert_all_close(&format!("{name} vjp dx"), &dx, &want_g[..n]);
                assert_all_close(&format!("{name} vjp dout"), &dout, &want_g[n..]);
            }
        }
    }

    /// `yᵢ ← α xᵢ + sin yᵢ`: the new contents depend on the initial ones.
    #[reverse]
    fn relax(alpha: f64, x: &[f64], y: &mut [f64]) {
        for (i, v) in x.iter().enumerate() {
            y[i] = alpha * v + y[i].sin();
        }
    }

    /// Columns `α`, `x`, initial `y`: `xᵢ`, `α δᵢⱼ`, `cos y0ᵢ δᵢⱼ`.
    fn relax_closed(alpha: f64, x: &[f64], y0: &[f64]) -> Vec<Vec<f64>> {
        let n = x.len();
        let eye = identity(n);
        (0..n)
            .map(|i| {
                let dx: Vec<f64> = eye[i].iter().map(|e| alpha * e).collect();
                let dy: Vec<f64> = eye[i].iter().map(|e| y0[i].cos() * e).collect();
                concat(&[&[x[i]], &dx, &dy])
            })
            .collect()
    }

    fn relax_run(alpha: f64, x: &[f64], y0: &[f64]) -> Vec<f64> {
        let mut y = y0.to_vec();
        relax(alpha, x, &mut y);
        y
    }

    #[test]
    fn mut_slice_read_and_written() {
        for (alpha, x, y0) in [
            (0.5, vec![1.0, 2.0], vec![0.0, 3.0]),
            (0.0, vec![0.0; 3], vec![0.0; 3]),
            (-1.5, wavy(6, 0.2, 2.0), wavy(6, 1.4, 3.0)),
        ] {
            let n = x.len();
            let name = format!("relax({alpha}, {x:?}, {y0:?})");
            let closed = relax_closed(alpha, &x, &y0);
            let run = |p: &[f64]| relax_run(p[0], &p[1..=n], &p[n + 1..]);
            let point = concat(&[&[alpha], &x, &y0]);
            check_closed_fd(&name, run, &point, &closed);
            let mut y = y0.clone();
            let ((), rows) = relax_jacobian(alpha, &x, &mut y);
            assert_bits(&name, &y, &relax_run(alpha, &x, &y0));
            check_jacobian(&name, run, &point, &rows, &closed);
            for seed_y in [wavy(n, 0.8, 1.0), vec![1.0; n]] {
                let mut y = y0.clone();
                let ((), (dalpha, dx, dy)) = relax_vjp(alpha, &x, &mut y, seed_y.clone());
                assert_bits(&name, &y, &relax_run(alpha, &x, &y0));
                let grad = concat(&[&[dalpha], &dx, &dy]);
                assert_all_close(&format!("{name} vjp"), &grad, &vjp_of(&closed, &seed_y));
                check_vjp_fd(&name, run, &point, &seed_y, &grad);
            }
        }
    }

    /// Rotates a `&mut [f64; 2]` in place by `theta`.
    #[reverse]
    fn rotate(theta: f64, v: &mut [f64; 2]) {
        let (s, c) = (theta.sin(), theta.cos());
        let x = v[0];
        v[0] = c * x - s * v[1];
        v[1] = s * x + c * v[1];
    }

    fn rotate_run(theta: f64, v0: [f64; 2]) -> Vec<f64> {
        let mut v = v0;
        rotate(theta, &mut v);
        v.to_vec()
    }

    /// Columns `θ`, `v0`: `R'(θ) v0` and `R(θ)`.
    fn rotate_closed(theta: f64, v: [f64; 2]) -> Vec<Vec<f64>> {
        let (s, c) = theta.sin_cos();
        vec![
            vec![-s * v[0] - c * v[1], c, -s],
            vec![c * v[0] - s * v[1], s, c],
        ]
    }

    #[test]
    fn mut_array_output() {
        for (theta, v0) in [
            (0.0, [1.0, 0.0]),
            (0.8, [2.0, -1.0]),
            (-2.5, [0.0, 0.0]),
            (1e3, [3.0, 4.0]),
        ] {
            let name = format!("rotate({theta}, {v0:?})");
            let closed = rotate_closed(theta, v0);
            let run = |p: &[f64]| rotate_run(p[0], [p[1], p[2]]);
            let point = [theta, v0[0], v0[1]];
            check_closed_fd(&name, run, &point, &closed);
            let mut v = v0;
            let ((), rows) = rotate_jacobian(theta, &mut v);
            assert_bits(&name, &v, &rotate_run(theta, v0));
            check_jacobian(&name, run, &point, &rows, &closed);
            for seed_v in [[0.5, -2.0], [1.0, 0.0], [0.0, 1.0]] {
                let mut v = v0;
                let ((), (dtheta, dv)): ((), (f64, [f64; 2])) = rotate_vjp(theta, &mut v, seed_v);
                assert_bits(&name, &v, &rotate_run(theta, v0));
                let grad = concat(&[&[dtheta], &dv]);
                assert_all_close(&format!("{name} vjp"), &grad, &vjp_of(&closed, &seed_v));
                check_vjp_fd(&name, run, &point, &seed_v, &grad);
            }
        }
    }
}
