//! `#[checkpoint]` loops: the gradient is the unmarked loop's, bitwise (the same trace, the
//! same rules, the same order; up to summation order where `f_grad` fuses the unmarked loop
//! with its reverse), and right against closed forms and central differences, for
//! `for`, `while` and `loop`, containers carried or read, nested marks, calls, early exits, and
//! every generated function.

mod common;

use ad_runtime::{check, reverse};

/// `s = s * a` n times: `x a^n` (the default snapshot count, 32).
#[reverse]
fn power(x: f64, a: f64, n: usize) -> f64 {
    let mut s = x;
    #[checkpoint]
    for _ in 0..n {
        s *= a;
    }
    s
}

#[test]
fn a_scalar_recurrence_against_its_closed_form() {
    let (x, a) = (1.3, 0.97);
    for n in [0, 1, 2, 3, 7, 50, 200] {
        let (v, (dx, da)) = power_grad(x, a, n);
        assert_eq!(v.to_bits(), power(x, a, n).to_bits());
        let an = a.powi(n as i32);
        common::assert_close("dx", dx, an);
        let expected = if n == 0 {
            0.0
        } else {
            n as f64 * x * a.powi(n as i32 - 1)
        };
        common::assert_close("da", da, expected);
    }
}

/// A nonlinear recurrence, marked with every snapshot count from one up and unmarked.
macro_rules! logistic {
    ($name:ident $(, $snapshots:literal)?) => {
        #[reverse]
        fn $name(x: f64, r: f64, n: usize) -> f64 {
            let mut s = x;
            $(#[checkpoint(snapshots = $snapshots)])?
            for i in 0..n {
                s = r * s * (1.0 - s) + 0.001 * i as f64;
            }
            s
        }
    };
}

logistic!(logistic_plain);
logistic!(logistic_1, 1);
logistic!(logistic_2, 2);
logistic!(logistic_5, 5);
logistic!(logistic_64, 64);

#[test]
fn every_snapshot_count_gives_the_unmarked_gradient_bitwise() {
    for n in [0, 1, 2, 3, 10, 33, 100] {
        let plain = logistic_plain_grad(0.3, 3.1, n);
        for marked in [
            logistic_1_grad,
            logistic_2_grad,
            logistic_5_grad,
            logistic_64_grad,
        ] {
            assert_eq!(marked(0.3, 3.1, n), plain, "{n} steps");
        }
    }
    let (_, (dx, dr)) = logistic_5_grad(0.3, 3.1, 20);
    check::gradient(|p| logistic_5(p[0], p[1], 20), &[0.3, 3.1], &[dx, dr])
        .assert_within(common::FD_TOL);
}

/// A diffusion step on a carried `Vec`, made anew each step; the coefficients read from a
/// slice the loop does not write.
macro_rules! diffuse_fn {
    ($name:ident $(, $snapshots:literal)?) => {
        #[reverse]
        fn $name(u0: &[f64], c: &[f64], steps: usize) -> f64 {
            let n = u0.len();
            let mut u = u0.to_vec();
            $(#[checkpoint(snapshots = $snapshots)])?
            for _ in 0..steps {
                let mut next = vec![0.0; n];
                for i in 0..n {
                    let left = if i > 0 { u[i - 1] } else { 0.0 };
                    let right = if i + 1 < n { u[i + 1] } else { 0.0 };
                    next[i] = u[i] + c[i] * (left - 2.0 * u[i] + right) + 0.05 * u[i].sin();
                }
                u = next;
            }
            u.iter().map(|v| v * v).sum()
        }
    };
}

diffuse_fn!(diffuse, 4);
diffuse_fn!(diffuse_plain);

#[test]
fn a_carried_vec_against_the_unmarked_loop_and_differences() {
    let u0 = [0.2, 0.5, -0.3, 0.8, 0.1];
    let c = [0.1, 0.2, 0.15, 0.05, 0.1];
    for steps in [0, 1, 2, 9, 40] {
        let marked = diffuse_grad(&u0, &c, steps);
        assert_eq!(marked, diffuse_plain_grad(&u0, &c, steps), "{steps} steps");
        assert_eq!(marked.0.to_bits(), diffuse(&u0, &c, steps).to_bits());
    }
    let (_, (du, dc)) = diffuse_grad(&u0, &c, 9);
    let g: Vec<f64> = du.iter().chain(&dc).copied().collect();
    let p: Vec<f64> = u0.iter().chain(&c).copied().collect();
    check::gradient(|p| diffuse(&p[..5], &p[5..], 9), &p, &g).assert_within(common::FD_TOL);
}

/// A slice written in place by a `while` loop of unknown length (an `[f64; 3]` state), and an
/// accumulator.
macro_rules! grow_fn {
    ($name:ident $(, $snapshots:literal)?) => {
        #[reverse]
        fn $name(x: [f64; 3], limit: f64) -> f64 {
            let mut v = x;
            let mut total = 0.0;
            $(#[checkpoint(snapshots = $snapshots)])?
            while total < limit {
                for j in 0..3 {
                    v[j] = v[j] * 1.1 + v[(j + 1) % 3].sin();
                }
                total += v[0] * v[0] + 0.5;
            }
            total + v[2]
        }
    };
}

grow_fn!(grow, 2);
grow_fn!(grow_plain);

#[test]
fn a_while_loop_of_unknown_length() {
    let x = [0.3, -0.2, 0.4];
    for limit in [-1.0, 0.1, 3.0, 40.0] {
        assert_eq!(
            grow_grad(x, limit),
            grow_plain_grad(x, limit),
            "limit {limit}"
        );
    }
    let (_, (dx, _)) = grow_grad(x, 3.0);
    check::gradient(|p| grow([p[0], p[1], p[2]], 3.0), &x, &dx).assert_within(common::FD_TOL);
}

/// `loop` with `break` and an early `return` from inside the marked loop; `continue`.
macro_rules! exits_fn {
    ($name:ident $(, $snapshots:literal)?) => {
        #[reverse]
        fn $name(x: f64, n: usize) -> f64 {
            let mut s = x;
            let mut k = 0;
            $(#[checkpoint(snapshots = $snapshots)])?
            loop {
                k += 1;
                if k > n {
                    break;
                }
                if k % 3 == 0 {
                    continue;
                }
                s = (s * 1.3).sin() + s;
                if s > 5.0 {
                    return s * 2.0;
                }
            }
            s
        }
    };
}

exits_fn!(exits, 2);
exits_fn!(exits_plain);

#[test]
fn early_exits_inside_the_marked_loop() {
    for x in [0.2, 1.5, 3.0] {
        for n in [0, 1, 4, 20] {
            assert_eq!(exits_grad(x, n), exits_plain_grad(x, n), "x {x}, n {n}");
        }
    }
    let (_, dx) = exits_grad(1.5, 20);
    check::gradient(|p| exits(p[0], 20), &[1.5], &[dx]).assert_within(common::FD_TOL);
}

#[reverse]
fn squash(v: &[f64]) -> Vec<f64> {
    v.iter().map(|x| x.tanh() * 1.5).collect()
}

/// Marked loops nested in marked loops, a `#[reverse]` callee in the body, a container the
/// loop reads that is written after it, and a loop over a container's elements.
macro_rules! layered_fn {
    ($name:ident $(, $snapshots:literal, $inner:literal)?) => {
        #[reverse]
        fn $name(x: &[f64], w: &[f64], n: usize) -> f64 {
            let mut h = x.to_vec();
            let mut scale = w.to_vec();
            let mut s = 0.0;
            $(#[checkpoint(snapshots = $snapshots)])?
            for j in 0..n {
                $(#[checkpoint(snapshots = $inner)])?
                for i in (0..h.len()).rev() {
                    h[i] = h[i] * scale[i] + 0.1 * j as f64;
                }
                h = squash(&h);
                $(#[checkpoint(snapshots = $inner)])?
                for v in h.iter() {
                    s += v * v;
                }
            }
            scale[0] = 7.0;
            s + h[0] * scale[0]
        }
    };
}

layered_fn!(layered, 2, 1);
layered_fn!(layered_plain);

#[test]
fn nested_marks_calls_and_containers_read_after_a_write() {
    let (x, w) = ([0.3, -0.6, 0.9], [1.1, 0.7, -0.4]);
    for n in [0, 1, 2, 5] {
        let (a, (dxa, dwa)) = layered_grad(&x, &w, n);
        let (b, (dxb, dwb)) = layered_plain_grad(&x, &w, n);
        assert_eq!(a.to_bits(), b.to_bits());
        // The unmarked loop over `h` is fused with its reverse and sums in another order.
        for (p, q) in dxa.iter().chain(&dwa).zip(dxb.iter().chain(&dwb)) {
            common::assert_close("gradient", *p, *q);
        }
    }
    let (_, (dx, dw)) = layered_grad(&x, &w, 3);
    let g: Vec<f64> = dx.iter().chain(&dw).copied().collect();
    let p: Vec<f64> = x.iter().chain(&w).copied().collect();
    check::gradient(|p| layered(&p[..3], &p[3..], 3), &p, &g).assert_within(common::FD_TOL);
}

/// A marked function called from another, and its Jacobian and VJP (a container output).
#[reverse]
fn trajectory(x: &[f64], steps: usize) -> Vec<f64> {
    let mut u = x.to_vec();
    #[checkpoint(snapshots = 3)]
    for _ in 0..steps {
        let first = u[0];
        for i in 0..u.len() - 1 {
            u[i] = u[i] + 0.1 * (u[i + 1] - u[i]).sin();
        }
        let last = u.len() - 1;
        u[last] += 0.1 * first;
    }
    u
}

#[reverse]
fn calls_trajectory(x: &[f64]) -> f64 {
    let u = trajectory(x, 12);
    u.iter().map(|v| v * v).sum::<f64>().sqrt()
}

#[test]
fn pullback_jacobian_and_vjp_of_a_marked_function() {
    let x = [0.4, -0.1, 0.7, 0.2];
    let (v, g) = calls_trajectory_grad(&x);
    assert_eq!(v.to_bits(), calls_trajectory(&x).to_bits());
    check::gradient(calls_trajectory, &x, &g).assert_within(common::FD_TOL);
    let (u, rows) = trajectory_jacobian(&x, 12);
    assert_eq!(u, trajectory(&x, 12));
    for (r, row) in rows.iter().enumerate() {
        let column = check::central_differences(|p| trajectory(p, 12)[r], &x);
        for (a, b) in row.iter().zip(&column) {
            assert!((a - b).abs() < common::FD_TOL, "jacobian {a} against {b}");
        }
    }
    let seed = [0.5, -1.0, 0.25, 2.0];
    let (_, vjp) = trajectory_vjp(&x, 12, seed.to_vec());
    for j in 0..4 {
        let expected: f64 = (0..4).map(|r| seed[r] * rows[r][j]).sum();
        common::assert_close("vjp", vjp[j], expected);
    }
}

/// An `if` in the marked loop yielding a container made outside it, by a branch of an
/// enclosing loop (its versions named the primal's storage, out of scope in the reverse).
macro_rules! through_an_if {
    ($name:ident $(, $snapshots:literal)?) => {
        #[reverse]
        fn $name(x: &[f64], n: usize) -> f64 {
            let mut s = 0.0;
            for j in 0..n {
                let w = if j % 2 == 0 { [x[0], x[1]] } else { [x[1], x[0] * 2.0] };
                $(#[checkpoint(snapshots = $snapshots)])?
                for i in 0..3 {
                    let u = if i % 2 == 0 { w } else { w };
                    s = (s + u[i % 2] * x[2]).sin();
                }
            }
            s
        }
    };
}

through_an_if!(through_an_if_plain);
through_an_if!(through_an_if_marked, 2);

#[test]
fn a_container_from_outside_through_an_if() {
    let x = [0.4, -0.9, 1.3];
    for n in [0, 1, 4] {
        assert_eq!(
            through_an_if_marked_grad(&x, n),
            through_an_if_plain_grad(&x, n)
        );
    }
    let (_, g) = through_an_if_marked_grad(&x, 4);
    check::gradient(|p| through_an_if_marked(p, 4), &x, &g).assert_within(common::FD_TOL);
}

#[reverse]
fn smooth(buf: &mut [f64], c: f64) {
    for i in 1..buf.len() {
        buf[i] = buf[i] * c + buf[i - 1] * (1.0 - c);
    }
}

/// A `&mut [f64]` parameter carried by the marked loop and passed on as it is (the working
/// copy is a `Vec`: it is lent, not moved); a local `Clone` state that is not `Copy`.
macro_rules! passed_on {
    ($name:ident $(, $snapshots:literal)?) => {
        #[reverse]
        fn $name(x: &mut [f64], c: f64, n: usize) -> f64 {
            let mut rng = Xorshift(7);
            $(#[checkpoint(snapshots = $snapshots)])?
            for _ in 0..n {
                smooth(x, c);
                x[0] += 0.1 * rng.next_f64();
            }
            x[0] * x[x.len() - 1]
        }
    };
}

/// A generator state that is `Clone` but not `Copy`.
#[derive(Clone)]
struct Xorshift(u64);

impl Xorshift {
    fn next_f64(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % 1000) as f64 / 1000.0
    }
}

passed_on!(passed_on_plain);
passed_on!(passed_on_marked, 2);

#[test]
fn a_mut_slice_passed_on_and_a_clone_state() {
    let seed = vec![0.2, -0.4, 0.9, 0.5];
    for n in [0, 1, 3, 12] {
        let (mut a, mut b) = (vec![0.3, -0.5, 0.9, 0.1], vec![0.3, -0.5, 0.9, 0.1]);
        let plain = passed_on_plain_vjp(&mut a, 0.7, n, 1.0, seed.clone());
        let marked = passed_on_marked_vjp(&mut b, 0.7, n, 1.0, seed.clone());
        assert_eq!(plain, marked, "{n} steps");
        assert_eq!(a, b, "{n} steps: the final contents");
    }
}
