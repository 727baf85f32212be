//! Containers of rows, written as Rust users write numeric code first: particles as
//! `[f64; 3]` positions, 2×2 covariance updates, small networks with `[[f64; N]; M]` weights,
//! polygons as `[f64; 2]` points, rows passed to helpers and to `linalg`. Each value bitwise
//! against the original, each gradient against central differences (and a closed form where
//! one is short), in the parameter's shape; `f_grad_into` and `f_vjp` against `f_grad`.

#![allow(
    clippy::needless_range_loop,
    reason = "index loops are one of the forms under test"
)]

mod common;

use ad_runtime::{check, linalg, reverse};
use common::{FD_TOL, assert_close};

/// `f` as a function of the flat floats of `x`, for central differences.
fn flat_fn<const N: usize>(f: impl Fn(&[[f64; N]]) -> f64) -> impl Fn(&[f64]) -> f64 {
    move |p: &[f64]| {
        let rows: Vec<[f64; N]> = p.chunks(N).map(|c| c.try_into().unwrap()).collect();
        f(&rows)
    }
}

/// Checks a function of one container of rows: the value bitwise, the gradient (shaped like
/// the rows) against central differences.
#[track_caller]
fn check_rows<const N: usize>(
    name: &str,
    f: impl Fn(&[[f64; N]]) -> f64 + Copy,
    grad: impl Fn(&[[f64; N]]) -> (f64, Vec<[f64; N]>),
    points: &[Vec<[f64; N]>],
) {
    for x in points {
        let (value, dx) = grad(x);
        assert_eq!(
            value.to_bits(),
            f(x).to_bits(),
            "{name}({x:?}): value differs from the original"
        );
        assert_eq!(
            dx.len(),
            x.len(),
            "{name}: the gradient has the rows' shape"
        );
        let report = check::gradient(flat_fn(f), x.as_flattened(), dx.as_flattened());
        assert!(
            report.is_within(FD_TOL),
            "{name}({x:?}) against central differences:\n{report}"
        );
    }
}

fn particles() -> Vec<Vec<[f64; 3]>> {
    vec![
        vec![[0.0, 0.0, 0.0], [1.0, 0.5, 0.2], [0.3, 1.2, -0.4]],
        vec![[0.5, -0.25, 1.0], [-1.0, 0.75, 0.5]],
        vec![
            [2.0, 1.0, -1.0],
            [0.1, 0.2, 0.3],
            [-0.5, -0.5, 0.5],
            [1.5, -2.0, 0.25],
        ],
    ]
}

// ----- particle systems -----

/// Softened pairwise potential, index loops and `x[i][d]`.
#[reverse]
fn potential(pos: &[[f64; 3]]) -> f64 {
    let mut e = 0.0;
    for i in 0..pos.len() {
        for j in i + 1..pos.len() {
            let mut r2 = 0.0;
            for d in 0..3 {
                let diff = pos[i][d] - pos[j][d];
                r2 += diff * diff;
            }
            e += 1.0 / (r2 + 0.5).sqrt();
        }
    }
    e
}

/// The same with rows read as values and destructured.
#[reverse]
fn potential_rows(pos: &[[f64; 3]]) -> f64 {
    let mut e = 0.0;
    for i in 0..pos.len() {
        let a = pos[i];
        for j in i + 1..pos.len() {
            let b = pos[j];
            let d = [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
            e += 1.0 / (d[0] * d[0] + d[1] * d[1] + d[2] * d[2] + 0.5).sqrt();
        }
    }
    e
}

#[test]
fn pairwise_potentials() {
    check_rows("potential", potential, potential_grad, &particles());
    check_rows(
        "potential_rows",
        potential_rows,
        potential_rows_grad,
        &particles(),
    );
    for x in particles() {
        let (a, da) = potential_grad(&x);
        let (b, db) = potential_rows_grad(&x);
        assert_eq!(a.to_bits(), b.to_bits());
        assert_eq!(da, db);
    }
}

/// Kinetic energy with a zip of rows and masses, in an iterator chain.
#[reverse]
fn kinetic(vel: &[[f64; 3]], mass: &[f64]) -> f64 {
    vel.iter()
        .zip(mass)
        .map(|(v, m)| 0.5 * m * (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]))
        .sum()
}

#[test]
fn kinetic_energy_against_its_closed_form() {
    let vel = vec![[1.0, -2.0, 0.5], [0.25, 0.0, 3.0]];
    let mass = vec![2.0, 0.5];
    let (value, (dv, dm)) = kinetic_grad(&vel, &mass);
    assert_eq!(value.to_bits(), kinetic(&vel, &mass).to_bits());
    for (i, row) in vel.iter().enumerate() {
        for d in 0..3 {
            assert_close("d/dv", dv[i][d], mass[i] * row[d]);
        }
        let speed2: f64 = row.iter().map(|c| c * c).sum();
        assert_close("d/dm", dm[i], 0.5 * speed2);
    }
}

/// Explicit Euler steps of particles on springs, positions and velocities updated in place
/// through `iter_mut().zip(..)`; the final energy.
#[reverse]
fn springs(pos: Vec<[f64; 3]>, vel: Vec<[f64; 3]>, dt: f64) -> f64 {
    let mut pos = pos;
    let mut vel = vel;
    for _ in 0..4 {
        for (p, v) in pos.iter_mut().zip(vel.iter_mut()) {
            for d in 0..3 {
                v[d] -= dt * p[d];
                p[d] += dt * v[d];
            }
        }
    }
    let mut e = 0.0;
    for (p, v) in pos.iter().zip(&vel) {
        for d in 0..3 {
            e += 0.5 * (p[d] * p[d] + v[d] * v[d]);
        }
    }
    e
}

#[test]
fn spring_steps() {
    let pos = vec![[1.0, 0.0, 0.5], [0.0, -1.0, 0.25]];
    let vel = vec![[0.0, 0.5, 0.0], [0.3, 0.0, -0.2]];
    let dt = 0.1;
    let (value, (dp, dv, ddt)) = springs_grad(pos.clone(), vel.clone(), dt);
    assert_eq!(
        value.to_bits(),
        springs(pos.clone(), vel.clone(), dt).to_bits()
    );
    let mut x: Vec<f64> = pos.as_flattened().to_vec();
    x.extend_from_slice(vel.as_flattened());
    x.push(dt);
    let f = |p: &[f64]| {
        let rows =
            |s: &[f64]| -> Vec<[f64; 3]> { s.chunks(3).map(|c| c.try_into().unwrap()).collect() };
        springs(rows(&p[0..6]), rows(&p[6..12]), p[12])
    };
    let mut g: Vec<f64> = dp.as_flattened().to_vec();
    g.extend_from_slice(dv.as_flattened());
    g.push(ddt);
    check::gradient(f, &x, &g).assert_within(FD_TOL);
}

/// The center of mass with `for p in pos` and `let [x, y, z] = *p`-free indexing, then the
/// spread around it; rows of a `&Vec<[f64; 3]>`.
#[allow(
    clippy::ptr_arg,
    reason = "a `&Vec` parameter is one of the forms under test"
)]
#[reverse]
fn spread(pos: &Vec<[f64; 3]>) -> f64 {
    let mut c = [0.0; 3];
    for p in pos {
        for d in 0..3 {
            c[d] += p[d];
        }
    }
    let n = pos.len() as f64;
    for d in 0..3 {
        c[d] /= n;
    }
    let mut s = 0.0;
    for p in pos.iter() {
        s += (p[0] - c[0]).powi(2) + (p[1] - c[1]).powi(2) + (p[2] - c[2]).powi(2);
    }
    s / n
}

#[test]
fn spread_around_the_center() {
    for x in particles() {
        let (value, dx) = spread_grad(&x);
        assert_eq!(value.to_bits(), spread(&x).to_bits());
        let f = flat_fn(|p: &[[f64; 3]]| spread(&p.to_vec()));
        check::gradient(f, x.as_flattened(), dx.as_flattened()).assert_within(FD_TOL);
        // Closed form: 2 (p - c) / n.
        let n = x.len() as f64;
        for (i, p) in x.iter().enumerate() {
            for d in 0..3 {
                let c: f64 = x.iter().map(|q| q[d]).sum::<f64>() / n;
                assert_close("d spread", dx[i][d], 2.0 * (p[d] - c) / n);
            }
        }
    }
}

// ----- rows to helpers and to linalg -----

/// A helper on one point.
#[reverse]
fn norm2(p: &[f64; 3]) -> f64 {
    p[0] * p[0] + p[1] * p[1] + p[2] * p[2]
}

/// A helper on all points.
#[reverse]
fn total_norm(pos: &[[f64; 3]]) -> f64 {
    let mut s = 0.0;
    for i in 0..pos.len() {
        s += norm2(&pos[i]).sqrt();
    }
    s
}

/// Rows to a helper and the whole container to another.
#[reverse]
fn layered(pos: &[[f64; 3]], w: f64) -> f64 {
    w * total_norm(pos) + potential(pos) + linalg::dot(&pos[0], &pos[pos.len() - 1])
}

#[test]
fn rows_and_containers_passed_on() {
    check_rows("total_norm", total_norm, total_norm_grad, &particles());
    for x in particles() {
        let w = 0.75;
        let (value, (dx, dw)) = layered_grad(&x, w);
        assert_eq!(value.to_bits(), layered(&x, w).to_bits());
        assert_close("d/dw", dw, total_norm(&x));
        let f = flat_fn(|p: &[[f64; 3]]| layered(p, w));
        check::gradient(f, x.as_flattened(), dx.as_flattened()).assert_within(FD_TOL);
    }
}

// ----- small matrices -----

/// A Kalman filter's covariance predict and update, 2×2 as `[[f64; 2]; 2]`: `P' = F P Fᵀ +
/// Q`, then the gain for an observation of the first component with noise `r`, `P'' = (I -
/// K H) P'`; the trace.
#[reverse]
fn kalman(p: [[f64; 2]; 2], r: f64) -> f64 {
    let f = [[1.0, 0.1], [0.0, 1.0]];
    let mut fp = [[0.0; 2]; 2];
    for i in 0..2 {
        for j in 0..2 {
            for k in 0..2 {
                fp[i][j] += f[i][k] * p[k][j];
            }
        }
    }
    let mut pred = [[0.0; 2]; 2];
    for i in 0..2 {
        for j in 0..2 {
            for k in 0..2 {
                pred[i][j] += fp[i][k] * f[j][k];
            }
        }
        pred[i][i] += 0.01;
    }
    let s = pred[0][0] + r;
    let gain = [pred[0][0] / s, pred[1][0] / s];
    let mut post = pred;
    for j in 0..2 {
        post[0][j] = pred[0][j] - gain[0] * pred[0][j];
        post[1][j] = pred[1][j] - gain[1] * pred[0][j];
    }
    post[0][0] + post[1][1]
}

#[test]
fn kalman_covariance_update() {
    for (p, r) in [
        ([[1.0, 0.2], [0.2, 2.0]], 0.5),
        ([[0.3, -0.1], [-0.1, 0.8]], 2.0),
    ] {
        let (value, (dp, dr)) = kalman_grad(p, r);
        assert_eq!(value.to_bits(), kalman(p, r).to_bits());
        let mut x = p.as_flattened().to_vec();
        x.push(r);
        let f = |v: &[f64]| kalman([[v[0], v[1]], [v[2], v[3]]], v[4]);
        let mut g = dp.as_flattened().to_vec();
        g.push(dr);
        check::gradient(f, &x, &g).assert_within(FD_TOL);
    }
}

/// The determinant of a 3×3 matrix by cofactors, rows as values.
#[reverse]
fn det3(m: &[[f64; 3]; 3]) -> f64 {
    let [a, b, c] = [m[0], m[1], m[2]];
    a[0] * (b[1] * c[2] - b[2] * c[1]) - a[1] * (b[0] * c[2] - b[2] * c[0])
        + a[2] * (b[0] * c[1] - b[1] * c[0])
}

#[test]
fn determinant_gradient_is_the_cofactor_matrix() {
    let m = [[2.0, -1.0, 0.5], [0.25, 3.0, 1.0], [-1.5, 0.5, 1.0]];
    let (value, dm) = det3_grad(&m);
    assert_eq!(value.to_bits(), det3(&m).to_bits());
    for i in 0..3 {
        for j in 0..3 {
            let (r1, r2) = ((i + 1) % 3, (i + 2) % 3);
            let (c1, c2) = ((j + 1) % 3, (j + 2) % 3);
            let cofactor = m[r1][c1] * m[r2][c2] - m[r1][c2] * m[r2][c1];
            assert_close("cofactor", dm[i][j], cofactor);
        }
    }
}

/// A two-layer network with weights as rows; rows to `linalg::dot`.
#[reverse]
fn mlp(w1: &[[f64; 3]; 4], b1: &[f64; 4], w2: &[f64; 4], x: &[f64; 3]) -> f64 {
    let mut hidden = [0.0; 4];
    for i in 0..4 {
        hidden[i] = (linalg::dot(&w1[i], x) + b1[i]).tanh();
    }
    linalg::dot(w2, &hidden)
}

#[test]
fn network_with_row_weights() {
    let w1 = [
        [0.5, -0.25, 0.1],
        [0.3, 0.8, -0.5],
        [-0.2, 0.1, 0.4],
        [0.7, -0.6, 0.05],
    ];
    let b1 = [0.1, -0.2, 0.0, 0.3];
    let w2 = [1.0, -0.5, 0.25, 0.75];
    let x = [0.5, -1.0, 2.0];
    let (value, (dw1, db1, dw2, dx)) = mlp_grad(&w1, &b1, &w2, &x);
    assert_eq!(value.to_bits(), mlp(&w1, &b1, &w2, &x).to_bits());
    let f = flat_fn(|w: &[[f64; 3]]| mlp(w.try_into().unwrap(), &b1, &w2, &x));
    check::gradient(f, w1.as_flattened(), dw1.as_flattened()).assert_within(FD_TOL);
    // d/db1[i] = w2[i] (1 - h_i²), d/dw1[i][j] = that times x[j].
    for i in 0..4 {
        let h = (linalg::dot(&w1[i], &x) + b1[i]).tanh();
        assert_close("d/db1", db1[i], w2[i] * (1.0 - h * h));
        assert_close("d/dw2", dw2[i], h);
        for j in 0..3 {
            assert_close("d/dw1", dw1[i][j], w2[i] * (1.0 - h * h) * x[j]);
        }
    }
    let g = |v: &[f64]| mlp(&w1, &b1, &w2, &[v[0], v[1], v[2]]);
    check::gradient(g, &x, &dx).assert_within(FD_TOL);
}

// ----- polygons, chains, built containers -----

/// The shoelace area of a polygon of `[f64; 2]` points.
#[reverse]
fn area(pts: &[[f64; 2]]) -> f64 {
    let n = pts.len();
    let mut s = 0.0;
    for i in 0..n {
        let p = pts[i];
        let q = pts[(i + 1) % n];
        s += p[0] * q[1] - q[0] * p[1];
    }
    0.5 * s
}

#[test]
fn polygon_area_against_its_closed_form() {
    let square = vec![[0.0, 0.0], [2.0, 0.0], [2.0, 1.5], [0.0, 1.5]];
    let (value, dx) = area_grad(&square);
    assert_eq!(value, 3.0);
    let n = square.len();
    for i in 0..n {
        let (prev, next) = (square[(i + n - 1) % n], square[(i + 1) % n]);
        assert_close("d/dx", dx[i][0], 0.5 * (next[1] - prev[1]));
        assert_close("d/dy", dx[i][1], 0.5 * (prev[0] - next[0]));
    }
    check_rows("area", area, area_grad, &[square]);
}

/// Sums of squares by nested iterator chains over rows.
#[reverse]
fn sum_squares(pts: &[[f64; 2]]) -> f64 {
    pts.iter()
        .map(|p| p.iter().map(|c| c * c).sum::<f64>())
        .sum()
}

/// The largest squared norm, by `fold` over rows.
#[reverse]
fn largest(pts: &[[f64; 2]]) -> f64 {
    pts.iter()
        .map(|p| p[0] * p[0] + p[1] * p[1])
        .fold(f64::NEG_INFINITY, f64::max)
}

#[test]
fn chains_over_rows() {
    let pts = vec![
        vec![[1.0, -2.0], [0.5, 0.25]],
        vec![[3.0, 0.5], [-1.0, 1.0], [0.0, 2.5]],
    ];
    check_rows("sum_squares", sum_squares, sum_squares_grad, &pts);
    check_rows("largest", largest, largest_grad, &pts);
    let (_, dx) = sum_squares_grad(&pts[0]);
    assert_eq!(dx, vec![[2.0, -4.0], [1.0, 0.5]]);
}

/// Rows built by `push` onto an annotated `Vec`, by `vec![[..]; n]` and written whole, then
/// copied and overwritten: a copy keeps its values.
#[reverse]
fn built(pts: &[[f64; 2]], t: f64) -> f64 {
    let mut moved: Vec<[f64; 2]> = Vec::new();
    for p in pts {
        moved.push([p[0] + t * p[1], p[1] * t]);
    }
    let mut grid = vec![[0.0; 2]; pts.len()];
    for i in 0..pts.len() {
        grid[i] = [moved[i][1], moved[i][0] * moved[i][0]];
    }
    let first = grid[0];
    grid[0] = [t, t];
    let mut s = first[0] + first[1];
    for row in grid.iter_mut() {
        row[1] *= 0.5;
    }
    for row in &grid {
        s += row[0] * row[1];
    }
    s
}

#[test]
fn built_rows_keep_value_semantics() {
    let pts = vec![[1.0, -2.0], [0.5, 0.25], [2.0, 1.0]];
    for t in [0.5, -1.25] {
        let (value, (dx, dt)) = built_grad(&pts, t);
        assert_eq!(value.to_bits(), built(&pts, t).to_bits());
        let f = flat_fn(|p: &[[f64; 2]]| built(p, t));
        check::gradient(f, pts.as_flattened(), dx.as_flattened()).assert_within(FD_TOL);
        let g = |v: &[f64]| built(&pts, v[0]);
        check::gradient(g, &[t], &[dt]).assert_within(FD_TOL);
    }
}

// ----- the other generated functions -----

#[test]
fn grad_into_and_vjp_take_rows() {
    for x in particles() {
        let (value, dx) = potential_grad(&x);
        let mut buffer = vec![[9.0; 3]; x.len()];
        let into = potential_grad_into(&x, &mut buffer);
        assert_eq!(into.to_bits(), value.to_bits());
        assert_eq!(buffer, dx);
        let (v, scaled) = potential_vjp(&x, 2.0);
        assert_eq!(v.to_bits(), value.to_bits());
        for (a, b) in scaled.iter().zip(&dx) {
            for d in 0..3 {
                assert_close("vjp", a[d], 2.0 * b[d]);
            }
        }
    }
    let p = [[1.0, 0.2], [0.2, 2.0]];
    let (_, (dp, _)) = kalman_grad(p, 0.5);
    let mut dp_into = [[0.0; 2]; 2];
    let (_, dr) = kalman_grad_into(p, 0.5, &mut dp_into);
    assert_eq!(dp_into, dp);
    assert_eq!(dr.to_bits(), kalman_grad(p, 0.5).1.1.to_bits());
}

#[test]
#[should_panic(expected = "index out of bounds")]
fn a_column_past_the_row_panics_as_in_the_original() {
    #[reverse]
    fn column(x: &[[f64; 2]], j: usize) -> f64 {
        x[0][j] * 2.0
    }
    let _ = column_grad(&[[1.0, 2.0], [3.0, 4.0]], 2);
}

// ----- rows as outputs -----

/// An outer product returned as `[[f64; 2]; 2]`.
#[reverse]
fn outer(a: [f64; 2]) -> [[f64; 2]; 2] {
    [[a[0] * a[0], a[0] * a[1]], [a[1] * a[0], a[1] * a[1]]]
}

/// A leapfrog step of points, returned as `Vec<[f64; 2]>`, built by pushes.
#[reverse]
fn leapfrog(p: &[[f64; 2]], dt: f64) -> Vec<[f64; 2]> {
    let mut out: Vec<[f64; 2]> = Vec::new();
    for q in p {
        let v = q[1] - 0.5 * dt * q[0].sin();
        out.push([q[0] + dt * v, v - 0.5 * dt * (q[0] + dt * v).sin()]);
    }
    out
}

/// The energy after two steps: a caller annotating the rows a callee returns.
#[reverse]
fn energy_after_steps(p: &[[f64; 2]], dt: f64) -> f64 {
    let q: Vec<[f64; 2]> = leapfrog(p, dt);
    let r: Vec<[f64; 2]> = leapfrog(&q, dt);
    let m: [[f64; 2]; 2] = outer([dt, 1.0]);
    r.iter()
        .map(|s| 0.5 * s[1] * s[1] - s[0].cos())
        .sum::<f64>()
        * m[1][1]
}

#[test]
fn rows_returned_by_value_and_jacobian() {
    let a = [0.5, -1.5];
    let (value, jacobian) = outer_jacobian(a);
    assert_eq!(value, outer(a));
    // Row k of the Jacobian: the gradient of output component k (flattened) in `a`.
    let expected = [
        [2.0 * a[0], 0.0],
        [a[1], a[0]],
        [a[1], a[0]],
        [0.0, 2.0 * a[1]],
    ];
    for (row, want) in jacobian.iter().zip(expected) {
        assert_eq!(row[..], want[..]);
    }
    // The cotangent is taken as rows.
    let (v, da) = outer_vjp(a, [[1.0, 0.0], [0.0, 1.0]]);
    assert_eq!(v, outer(a));
    assert_eq!(da, [2.0 * a[0], 2.0 * a[1]]);
}

#[test]
fn rows_returned_and_read_by_a_caller() {
    let p = vec![[0.3, 1.0], [-0.8, 0.25], [1.2, -0.5]];
    let dt = 0.1;
    let (value, (dp, ddt)) = energy_after_steps_grad(&p, dt);
    assert_eq!(value.to_bits(), energy_after_steps(&p, dt).to_bits());
    let report = check::gradient(
        flat_fn(|p| energy_after_steps(p, dt)),
        p.as_flattened(),
        dp.as_flattened(),
    );
    assert!(report.is_within(FD_TOL), "{report}");
    let report = check::gradient(|t| energy_after_steps(&p, t[0]), &[dt], &[ddt]);
    assert!(report.is_within(FD_TOL), "{report}");
    // f_vjp of the rows-valued step: the cotangent as rows, the gradient its pullback.
    let seed = vec![[1.0, 0.0], [0.0, 2.0], [0.5, 0.5]];
    let (rows, (dp, _)) = leapfrog_vjp(&p, dt, seed.clone());
    assert_eq!(rows, leapfrog(&p, dt));
    let dot = |p: &[f64]| {
        let rows: Vec<[f64; 2]> = p.chunks(2).map(|c| [c[0], c[1]]).collect();
        leapfrog(&rows, dt)
            .iter()
            .zip(&seed)
            .map(|(r, s)| r[0] * s[0] + r[1] * s[1])
            .sum::<f64>()
    };
    let report = check::gradient(dot, p.as_flattened(), dp.as_flattened());
    assert!(report.is_within(FD_TOL), "{report}");
}

/// A symplectic kick written into `&mut [[f64; 2]]` rows: an output of rows.
#[reverse]
fn kick(p: &mut [[f64; 2]], dt: f64) {
    for q in p.iter_mut() {
        q[1] -= dt * q[0].sin();
        q[0] += dt * q[1];
    }
}

/// Two kicks of a copy, through a callee writing rows.
#[reverse]
fn energy_after_kicks(p: &[[f64; 2]], dt: f64) -> f64 {
    let mut q = p.to_vec();
    kick(&mut q, dt);
    kick(&mut q, dt);
    q.iter().map(|s| 0.5 * s[1] * s[1] - s[0].cos()).sum()
}

#[test]
fn rows_written_through_an_active_mut_parameter() {
    let p = vec![[0.3, 1.0], [-0.8, 0.25], [1.5, -0.5]];
    let dt = 0.1;
    let seed = vec![[1.0, 0.5], [0.0, 2.0], [-1.0, 0.25]];
    let mut q = p.clone();
    let (_, (dp, _)) = kick_vjp(&mut q, dt, seed.clone());
    let mut expected = p.clone();
    kick(&mut expected, dt);
    assert_eq!(
        q, expected,
        "the rows are written as the original writes them"
    );
    let dot = |flat: &[f64]| {
        let mut r: Vec<[f64; 2]> = flat.chunks(2).map(|c| [c[0], c[1]]).collect();
        kick(&mut r, dt);
        r.iter()
            .zip(&seed)
            .map(|(a, s)| a[0] * s[0] + a[1] * s[1])
            .sum::<f64>()
    };
    let report = check::gradient(dot, p.as_flattened(), dp.as_flattened());
    assert!(report.is_within(FD_TOL), "{report}");
    let (value, (dp, _)) = energy_after_kicks_grad(&p, dt);
    assert_eq!(value.to_bits(), energy_after_kicks(&p, dt).to_bits());
    let report = check::gradient(
        flat_fn(|p| energy_after_kicks(p, dt)),
        p.as_flattened(),
        dp.as_flattened(),
    );
    assert!(report.is_within(FD_TOL), "{report}");
}

/// Rows a callee returns, assigned to an annotated variable in a loop (`q = step(&q, dt);`),
/// and returned as the tail (`step(&q, dt)`).
#[reverse]
fn integrate(p: &[[f64; 2]], dt: f64, n: usize) -> f64 {
    let mut q: Vec<[f64; 2]> = p.to_vec();
    for _ in 0..n {
        q = leapfrog(&q, dt);
    }
    q.iter().map(|s| s[0] * s[1]).sum()
}

#[reverse]
fn two_steps(p: &[[f64; 2]], dt: f64) -> Vec<[f64; 2]> {
    let q: Vec<[f64; 2]> = leapfrog(p, dt);
    leapfrog(&q, dt)
}

#[test]
fn rows_returned_into_a_loop_and_as_the_tail() {
    let p = vec![[0.3, 1.0], [-0.8, 0.25]];
    let (value, (dp, _)) = integrate_grad(&p, 0.1, 3);
    assert_eq!(value.to_bits(), integrate(&p, 0.1, 3).to_bits());
    let report = check::gradient(
        flat_fn(|p| integrate(p, 0.1, 3)),
        p.as_flattened(),
        dp.as_flattened(),
    );
    assert!(report.is_within(FD_TOL), "{report}");
    let seed = vec![[1.0, 0.0], [0.5, 1.0]];
    let (rows, (dp, _)) = two_steps_vjp(&p, 0.1, seed.clone());
    assert_eq!(rows, two_steps(&p, 0.1));
    let dot = |f: &[f64]| {
        let rows: Vec<[f64; 2]> = f.chunks(2).map(|c| [c[0], c[1]]).collect();
        let out = two_steps(&rows, 0.1);
        out.iter()
            .zip(&seed)
            .map(|(r, s)| r[0] * s[0] + r[1] * s[1])
            .sum::<f64>()
    };
    let report = check::gradient(dot, p.as_flattened(), dp.as_flattened());
    assert!(report.is_within(FD_TOL), "{report}");
}
