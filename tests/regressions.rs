//! One test per bug found, named after what broke.

mod common;

use ad_runtime::{check, reverse};

/// A load of an element written later in the same iteration was emitted at its use, after
/// the write: `*w *= x` read the new `w[i]` in the pushed stash.
#[reverse]
fn load_then_store_same_element(x: &[f64], y: &[f64]) -> f64 {
    let mut w = vec![0.0; x.len()];
    for (i, wi) in w.iter_mut().enumerate() {
        *wi = y[i];
    }
    for (wi, xi) in w.iter_mut().zip(x) {
        *wi *= xi;
    }
    let mut s = 0.0;
    for wi in w.iter() {
        s += wi.exp();
    }
    s
}

#[test]
fn regression_load_then_store_same_element() {
    let (x, y) = ([0.3, 1.1, -0.4], [0.5, -0.2, 0.8]);
    let (v, (gx, gy)) = load_then_store_same_element_grad(&x, &y);
    assert_eq!(v.to_bits(), load_then_store_same_element(&x, &y).to_bits());
    for i in 0..3 {
        let e = (x[i] * y[i]).exp();
        common::assert_close("dx", gx[i], y[i] * e);
        common::assert_close("dy", gy[i], x[i] * e);
    }
    let xy: Vec<f64> = x.iter().chain(&y).copied().collect();
    let g: Vec<f64> = gx.iter().chain(&gy).copied().collect();
    check::gradient(|p| load_then_store_same_element(&p[..3], &p[3..]), &xy, &g)
        .assert_within(common::FD_TOL);
}

/// A container passed twice to a rule lends its buffer once; the second adjoint used to be
/// lost (`dot(&q, &q)` had half its gradient).
#[reverse]
fn same_container_twice(q: &[f64]) -> f64 {
    ad_runtime::linalg::dot(q, q)
}

#[test]
fn regression_same_container_twice() {
    let q = [0.3, -0.2, 0.5];
    let (_, g) = same_container_twice_grad(&q);
    assert_eq!(g, vec![0.6, -0.4, 1.0]);
}

/// A container merged by an `if` (pushed in one arm) was yielded as a value, moving a
/// `&mut Vec` parameter out of the loop.
#[reverse]
fn container_merged_by_an_if(x: f64, n: usize, log: &mut Vec<usize>) -> f64 {
    let mut s = x;
    for i in 0..n {
        if s > 2.0 {
            log.push(i);
            s = s.sqrt();
        } else {
            s = s * x + 0.5;
        }
    }
    s
}

#[test]
fn regression_container_merged_by_an_if() {
    let mut log = Vec::new();
    let (v, d) = container_merged_by_an_if_grad(1.5, 6, &mut log);
    let mut again = Vec::new();
    assert_eq!(
        v.to_bits(),
        container_merged_by_an_if(1.5, 6, &mut again).to_bits()
    );
    assert_eq!(log, again);
    check::gradient(
        |p| container_merged_by_an_if(p[0], 6, &mut Vec::new()),
        &[1.5],
        &[d],
    )
    .assert_within(common::FD_TOL);
}

/// `f_grad_into` took the caller's buffer for every buffer of a parameter, also for the
/// temporary of a container passed twice: two `&mut` borrows of one buffer.
#[test]
fn regression_grad_into_with_a_container_passed_twice() {
    let q = [0.3, -0.2, 0.5];
    let mut dq = [9.0; 3];
    let v = same_container_twice_grad_into(&q, &mut dq);
    assert_eq!(v, same_container_twice(&q));
    assert_eq!(dq, [0.6, -0.4, 1.0]);
}

/// Found by the differential test (program seed 3): the adjoint buffer of a container made in
/// a loop body was made from the container as an `if` arm inside the body kept it, out of
/// scope where the buffer is made (an internal error: "buffer uses a value where it is not
/// defined").
#[reverse]
fn container_read_only_in_an_arm_of_a_loop(x: f64, n: usize) -> f64 {
    let mut s = 0.0;
    for i in 0..n {
        let h = [x * i as f64, x];
        if i % 2 == 0 {
            s += h[0] * h[1];
        }
    }
    s
}

#[test]
fn regression_container_read_only_in_an_arm_of_a_loop() {
    for n in [0, 1, 4] {
        let x = 0.7;
        let (v, d) = container_read_only_in_an_arm_of_a_loop_grad(x, n);
        assert_eq!(
            v.to_bits(),
            container_read_only_in_an_arm_of_a_loop(x, n).to_bits()
        );
        // Σ over even i < n of i x², so d/dx = 2 x Σ i.
        let sum: f64 = (0..n).filter(|i| i % 2 == 0).map(|i| i as f64).sum();
        assert!((d - 2.0 * x * sum).abs() < 1e-12, "n = {n}: {d}");
        check::gradient(
            |p| container_read_only_in_an_arm_of_a_loop(p[0], n),
            &[x],
            &[d],
        )
        .assert_within(1e-6);
    }
}

/// Found by the differential test (program seed 5531): a `for` loop that only overwrites a
/// carried value (`s = 0.5`, never reading it) made the value before the loop useless to
/// activity analysis, though with zero iterations the loop passes it through: its derivative
/// was dropped (0 instead of 1 here for `n = 0`).
#[reverse]
fn carried_value_overwritten_by_a_loop_that_may_not_run(x: f64, n: usize) -> f64 {
    let mut s = x;
    for i in 1..3 {
        if i == 2 {
            return s;
        }
        for _ in 1..2 {
            for _ in 0..n {
                s = 0.5;
            }
        }
    }
    0.5
}

#[test]
fn regression_carried_value_overwritten_by_a_loop_that_may_not_run() {
    assert_eq!(
        carried_value_overwritten_by_a_loop_that_may_not_run_grad(0.3, 0),
        (0.3, 1.0)
    );
    assert_eq!(
        carried_value_overwritten_by_a_loop_that_may_not_run_grad(0.3, 2),
        (0.5, 0.0)
    );
}

// ----- found by the end-to-end random programs (tests/random_programs/) -----

/// The annotation of `let r: f64 = loop { .. }` was dropped in the emitted code (the loop's
/// value is one of several results of the loop op), leaving `r.abs()` on an ambiguous
/// `{float}`: the generated code did not compile.
#[reverse]
fn annotated_loop_value(x: f64, n: usize) -> f64 {
    let mut k = 0;
    let r: f64 = loop {
        k += 1;
        if k >= n || x > 0.5 {
            break 0.5;
        }
    };
    r.abs() * x + (x * r).sin()
}

#[test]
fn regression_annotated_loop_value() {
    for n in [1, 3] {
        common::check1(
            "annotated_loop_value",
            |x| annotated_loop_value(x, n),
            |x| annotated_loop_value_grad(x, n),
            |x| 0.5 + 0.5 * (0.5 * x).cos(),
            &[-1.0, 0.2, 0.7],
        );
    }
}

/// The same for a tuple annotation on an `if` yielding two values.
#[reverse]
fn annotated_if_tuple(x: f64, n: usize) -> f64 {
    let (p, q): (f64, f64) = if n > 2 { (0.5, 1.0) } else { (1.5, x) };
    p.abs() * x + q.sin()
}

#[test]
fn regression_annotated_if_tuple() {
    common::check1(
        "annotated_if_tuple (n = 3)",
        |x| annotated_if_tuple(x, 3),
        |x| annotated_if_tuple_grad(x, 3),
        |_| 0.5,
        &[-1.0, 0.3],
    );
    common::check1(
        "annotated_if_tuple (n = 0)",
        |x| annotated_if_tuple(x, 0),
        |x| annotated_if_tuple_grad(x, 0),
        |x| 1.5 + x.cos(),
        &[-1.0, 0.3],
    );
}

/// The adjoint of a value of the outer loop's body, zero before the inner loop's reverse,
/// was a placeholder whose type rustc could not infer where `dy + c` needed it (the value
/// `y` was at hand only later): the generated code did not compile.
#[reverse]
fn zero_adjoint_of_an_outer_body_value(x: f64, n: usize) -> f64 {
    for j in 1..n {
        let y = x + x;
        let mut k = 0;
        while k < 2 {
            k += 1;
            let a = y;
            if a > 0.5 {
                return (if j % 3 == 1 { -1.93 } else { a }).tanh();
            }
        }
    }
    x
}

#[test]
fn regression_zero_adjoint_of_an_outer_body_value() {
    // n = 3: j = 1 returns tanh(-1.93) if 2x > 0.5 (a constant), else the value is x; n = 4:
    // j = 1 first too. n = 1: no iteration, x.
    for n in [1, 3, 4] {
        common::check1(
            "zero_adjoint_of_an_outer_body_value",
            |x| zero_adjoint_of_an_outer_body_value(x, n),
            |x| zero_adjoint_of_an_outer_body_value_grad(x, n),
            |x| if n > 1 && 2.0 * x > 0.5 { 0.0 } else { 1.0 },
            &[-0.7, 0.1, 0.6],
        );
    }
}

/// A loop that never reads a value it adds adjoints to: the carried adjoint starts as a
/// placeholder, and `da + c` (and a rule applied to it) could not be typed.
#[reverse]
fn accumulation_onto_an_untyped_zero(x: f64, y: f64) -> f64 {
    if y > 0.0 {
        let mut a = y;
        for _ in 0..3 {
            if a > 0.6 {
                return a.tan();
            }
            a += (y - x).round() * 0.1 + x * 0.25;
        }
    }
    y
}

#[test]
fn regression_accumulation_onto_an_untyped_zero() {
    // At (x, y) = (0.1, 0.2): a = 0.2 + 0.025 k (round(0.1) = 0) stays below 0.6, so the
    // value is y; at (0.3, 0.5): a = 0.5 + 0.075 = 0.575, then 0.65 > 0.6 after two steps:
    // tan(y + 2 * 0.25 x) (round(0.2) = 0).
    let (v, (dx, dy)) = accumulation_onto_an_untyped_zero_grad(0.1, 0.2);
    assert_eq!(v, 0.2);
    common::assert_close("dx", dx, 0.0);
    common::assert_close("dy", dy, 1.0);
    let (v, (dx, dy)) = accumulation_onto_an_untyped_zero_grad(0.3, 0.5);
    assert_eq!(
        v.to_bits(),
        accumulation_onto_an_untyped_zero(0.3, 0.5).to_bits()
    );
    let sec2 = 1.0 / (0.5f64 + 0.15).cos().powi(2);
    common::assert_close("dx", dx, 0.5 * sec2);
    common::assert_close("dy", dy, sec2);
    check::gradient(
        |p| accumulation_onto_an_untyped_zero(p[0], p[1]),
        &[0.3, 0.5],
        &[dx, dy],
    )
    .assert_within(common::FD_TOL);
}

/// A `Vec` made in a loop body, read by a call inside an `if` arm and with an adjoint buffer:
/// the arm and the body each stashed it, moving it twice (the generated code did not
/// compile).
#[reverse]
fn weighted(a: f64, v: &[f64]) -> f64 {
    a * v[0] + v[1] * v[1]
}

#[reverse]
fn container_kept_by_an_arm_and_its_loop(x: f64, n: usize) -> f64 {
    let mut s = 0.0;
    for k in 0..n {
        let c = x.cos();
        let h = vec![1.0 + c, c * x];
        if k % 2 == 0 {
            s += weighted(x, &h);
        }
    }
    s
}

#[test]
fn regression_container_kept_by_an_arm_and_its_loop() {
    // Per even k: x (1 + cos x) + x² cos² x.
    let closed = |x: f64| {
        let (s, c) = x.sin_cos();
        1.0 + c - x * s + 2.0 * x * c * c - 2.0 * x * x * c * s
    };
    for n in [1usize, 4] {
        let evens = n.div_ceil(2) as f64;
        common::check1(
            "container_kept_by_an_arm_and_its_loop",
            |x| container_kept_by_an_arm_and_its_loop(x, n),
            |x| container_kept_by_an_arm_and_its_loop_grad(x, n),
            |x| evens * closed(x),
            &[-0.8, 0.0, 1.3],
        );
    }
}

/// A `Vec` read inside nested `if` arms of a loop: each arm stashed it for its reverse,
/// moving it twice (the generated code did not compile).
#[reverse]
#[allow(
    clippy::useless_vec,
    reason = "an array is `Copy`: the bug needs a `Vec`"
)]
fn container_read_by_nested_arms(x: f64, y: f64) -> f64 {
    let mut s = 0.0;
    let mut k = 0;
    while k < 3 {
        k += 1;
        let h = vec![x.round(); 2];
        if x > 5.0 {
            continue;
        }
        if h[k % 2] < 0.5 {
            s += x.cos();
            continue;
        }
        if h[k % 2] > 0.5 {
            s += y * x;
        }
    }
    s
}

#[test]
fn regression_container_read_by_nested_arms() {
    common::check2(
        "container_read_by_nested_arms",
        container_read_by_nested_arms,
        container_read_by_nested_arms_grad,
        |x, y| match x.round() {
            r if r < 0.5 => (-3.0 * x.sin(), 0.0),
            _ => (3.0 * y, 3.0 * x),
        },
        &[(0.2, 0.7), (-1.3, 2.0), (1.2, -0.4), (3.3, 1.5)],
    );
}

// ----- found by the fuzz pass over the macro's entry (ad-macro/src/tests/fuzz.rs) -----

/// An early `return` of a tuple (libm's `modff` from the registry): the returned value was
/// kept in one placeholder, not one per element, and the function yielded nothing (an
/// internal error).
#[reverse]
fn early_return_of_a_tuple(x: f64, n: usize) -> (f64, f64) {
    let b: f64;
    if n > 2 {
        b = x * x;
        return (x, b);
    }
    b = x.sin();
    (x - b, b)
}

#[test]
fn regression_early_return_of_a_tuple() {
    let (s0, s1) = (0.7, -1.3);
    for n in [0, 5] {
        for x in [-0.9, 0.0, 1.4] {
            let (value, dx) = early_return_of_a_tuple_vjp(x, n, (s0, s1));
            let (a, b) = early_return_of_a_tuple(x, n);
            assert_eq!(
                (value.0.to_bits(), value.1.to_bits()),
                (a.to_bits(), b.to_bits())
            );
            let want = match n {
                5 => s0 + 2.0 * s1 * x,
                _ => s0 * (1.0 - x.cos()) + s1 * x.cos(),
            };
            common::assert_close("dx", dx, want);
            let scalar = |p: &[f64]| {
                let (a, b) = early_return_of_a_tuple(p[0], n);
                s0 * a + s1 * b
            };
            check::gradient(scalar, &[x], &[dx]).assert_within(common::FD_TOL);
        }
    }
}

// ----- found by auditing the rules against the IR interpreter's dual numbers -----

#[reverse]
fn hypot_of(a: f64, b: f64) -> f64 {
    a.hypot(b)
}

/// `dy / y` overflowed for a subnormal `y = hypot(a, b)`: the gradient at `(3, 4) · 1e-320`
/// was infinite instead of `(0.6, 0.8)`.
#[test]
fn regression_hypot_of_subnormals() {
    for scale in [1e-320, 1e-300, 1.0, 1e300] {
        let (a, b) = (3.0 * scale, 4.0 * scale);
        let (_, (da, db)) = hypot_of_grad(a, b);
        common::assert_close("d hypot / da", da, 0.6);
        common::assert_close("d hypot / db", db, 0.8);
    }
}

#[reverse]
fn angle(a: f64, b: f64) -> f64 {
    a.atan2(b)
}

/// `a² + b²` underflowed to 0 for tiny points, which then got the origin's zero gradient, and
/// overflowed for huge ones (a zero gradient again).
#[test]
fn regression_atan2_at_tiny_and_huge_points() {
    for scale in [1e-170, 1e-5, 1.0, 1e170] {
        let (a, b) = (3.0 * scale, 4.0 * scale);
        let (_, (da, db)) = angle_grad(a, b);
        // b / (a² + b²) = 4 s / (25 s²).
        common::assert_close("d atan2 / da", da, 4.0 / (25.0 * scale));
        common::assert_close("d atan2 / db", db, -3.0 / (25.0 * scale));
    }
    assert_eq!(angle_grad(0.0, 0.0).1, (0.0, 0.0));
}

#[reverse]
fn acosh_of(x: f64) -> f64 {
    x.acosh()
}

/// The derivative of `acosh` was finite for `x ≤ -1`, where `acosh` itself is NaN.
#[test]
fn regression_acosh_outside_its_domain() {
    for x in [-3.0, -1.0, 0.5] {
        let (v, dx) = acosh_of_grad(x);
        assert!(v.is_nan() && dx.is_nan(), "acosh'({x}) = {dx}, value {v}");
    }
    common::check1(
        "acosh",
        acosh_of,
        acosh_of_grad,
        |x| 1.0 / (x * x - 1.0).sqrt(),
        &[1.5, 3.0, 1e3],
    );
}

fn next_index(k: &mut usize) -> usize {
    *k += 1;
    *k
}

/// `v[i] op= rhs` evaluates the right side first, then the place (the Rust reference,
/// "Compound assignment expressions"); the place does not run when the right side exits.
/// (Found by an adversarial user trial, issue 14: the index was evaluated first.)
#[allow(
    unused_assignments,
    reason = "the assignment inside the right side is the point"
)]
#[reverse]
fn compound_right_side_first(x: [f64; 4], s: f64) -> f64 {
    let mut v = x;
    let mut i = 0;
    v[i] += {
        i = 2;
        s
    };
    let mut k = 0;
    for j in 0..4 {
        v[next_index(&mut k)] += match j % 2 {
            0 => s,
            _ => continue,
        };
    }
    v[0] + 10.0 * v[2] + v[1] * v[3]
}

#[test]
fn regression_compound_assignment_evaluates_its_right_side_first() {
    let x = [1.0, 2.0, 3.0, 4.0];
    let (value, (dx, ds)) = compound_right_side_first_grad(x, 0.5);
    assert_eq!(value.to_bits(), compound_right_side_first(x, 0.5).to_bits());
    let f = |p: &[f64]| compound_right_side_first([p[0], p[1], p[2], p[3]], p[4]);
    let mut g = dx.to_vec();
    g.push(ds);
    check::gradient(f, &[1.0, 2.0, 3.0, 4.0, 0.5], &g).assert_within(common::FD_TOL);
}

/// A `while` condition that assigns: what it assigns is carried by the loop. (Found by an
/// adversarial user trial, issue 14: the condition re-read the first value, and `f_grad`
/// never ended where `f` returned.)
#[reverse]
fn condition_assigns(x: f64) -> f64 {
    let mut k = 0usize;
    let mut t = x;
    while {
        k += 1;
        k
    } < 4
    {
        t *= x;
    }
    let mut j = 0;
    let mut n = 0.0;
    while {
        t *= 0.5;
        t
    } > 0.1
    {
        n += t;
        if next_index(&mut j) >= 3 {
            break;
        }
    }
    t + n + j as f64
}

#[test]
fn regression_while_condition_that_assigns() {
    for x in [0.5, 1.5] {
        let (value, dx) = condition_assigns_grad(x);
        assert_eq!(value.to_bits(), condition_assigns(x).to_bits());
        check::gradient(|p| condition_assigns(p[0]), &[x], &[dx]).assert_within(common::FD_TOL);
    }
}

/// A value of the user's type with a `count` method: its own method, not an iterator's.
struct Counter {
    extra: usize,
}

impl Counter {
    fn count(&self) -> usize {
        3 + self.extra
    }
}

fn counter() -> Counter {
    Counter { extra: 1 }
}

#[reverse]
fn own_count(x: f64) -> f64 {
    let c = counter();
    x * c.count() as f64
}

#[test]
fn regression_count_of_a_value_that_is_not_an_iterator() {
    assert_eq!(own_count_grad(1.5), (6.0, 4.0));
}

/// SILENT: a float field of a parameter struct read inside a loop (`l += m.b`) lost its
/// adjoint: the field is read once before the loop, and the loop's reverse did not carry a
/// struct's adjoints out of it. The gradient of `b` was 0.
#[derive(ad_runtime::Params, Clone, Debug)]
struct Line {
    w: Vec<f64>,
    b: f64,
}

#[reverse(wrt(m))]
fn line_loss(m: &Line, xs: &[f64], n: usize) -> f64 {
    let mut l = 0.0;
    for i in 0..xs.len() / n {
        let mut p = m.b;
        for j in 0..n {
            p += m.w[j] * xs[i * n + j];
        }
        l += p * p;
    }
    l
}

#[test]
fn regression_struct_field_read_in_a_loop() {
    let m = Line {
        w: vec![0.5, -0.2],
        b: 0.3,
    };
    let xs = [1.0, 2.0, 3.0, 4.0];
    let (v, g) = line_loss_grad(&m, &xs, 2);
    assert_eq!(v.to_bits(), line_loss(&m, &xs, 2).to_bits());
    // p = 0.4 and 1.0: d/db = 2 (0.4 + 1.0), d/dw = 2 (0.4 [1, 2] + 1.0 [3, 4]).
    common::assert_close("db", g.b, 2.8);
    common::assert_close("dw0", g.w[0], 6.8);
    common::assert_close("dw1", g.w[1], 9.6);
}

/// `x.clone()` of a `&Vec` was taken for a copy of the reference (as of a `&[F]`), so
/// writing the clone wrote `x`: a compile error inside the generated code.
#[allow(clippy::ptr_arg, reason = "the `&Vec` is the form under test")]
#[reverse]
fn clone_of_a_borrowed_vec(x: &Vec<f64>) -> f64 {
    let mut y = x.clone();
    y[0] *= 2.0;
    y[0] + x[0]
}

#[test]
fn regression_clone_of_a_borrowed_vec_is_a_copy() {
    let x = vec![1.5, 2.0];
    let (v, dx) = clone_of_a_borrowed_vec_grad(&x);
    assert_eq!(v.to_bits(), clone_of_a_borrowed_vec(&x).to_bits());
    assert_eq!(dx, vec![3.0, 0.0]);
}

/// `stop_gradient(x)` of a container of `Vec`s passed on was rebuilt into a temporary the
/// result borrowed (E0716 inside the generated code).
#[reverse(wrt(w))]
fn ragged_reader(x: &[Vec<f64>], w: &[f64]) -> f64 {
    x[0][0] * w[0] + x[1][1]
}

#[reverse]
fn stopped_ragged(x: &[Vec<f64>], w: &[f64]) -> f64 {
    ragged_reader(ad_runtime::stop_gradient(x), w) * x[0][0]
}

#[test]
fn regression_stop_gradient_of_a_container_of_vecs() {
    let x = vec![vec![1.0, 2.0], vec![3.0, 4.0]];
    let (v, (dx, dw)) = stopped_ragged_grad(&x, &[0.5]);
    assert_eq!(v.to_bits(), stopped_ragged(&x, &[0.5]).to_bits());
    // Only the outer factor's x[0][0] is differentiated: d/dx00 = inner = 4.5.
    assert_eq!(dx, vec![vec![4.5, 0.0], vec![0.0, 0.0]]);
    assert_eq!(dw, vec![1.0]);
}

/// A parameter named `dx` beside `x`: `f_grad_into`'s buffer for `x` was named `dx` too.
#[reverse]
fn buffer_names(x: &[f64], dx: &[f64]) -> f64 {
    x[0] * dx[0]
}

#[test]
fn regression_parameter_named_like_a_buffer() {
    let (mut a, mut b) = ([0.0], [0.0]);
    let v = buffer_names_grad_into(&[2.0], &[3.0], &mut a, &mut b);
    assert_eq!(v, 6.0);
    assert_eq!((a, b), ([3.0], [2.0]));
}

/// SILENT, pre-existing: a loop lending a local container `&mut` to a `#[reverse]` callee
/// was fused with its reverse, as if the callee's pullback only added into the container's
/// buffer; it reads it (the adjoint of what the call wrote), which the later iterations'
/// reverses fill first. `pow_loop` had gradients `[1]`, `0` instead of `[0.125]`, `1.5`.
#[allow(
    clippy::needless_range_loop,
    reason = "an index loop, as in the report"
)]
#[reverse]
fn scale_in_place(v: &mut [f64], a: f64) {
    for i in 0..v.len() {
        v[i] *= a;
    }
}

#[reverse]
fn pow_loop(x: &[f64], a: f64, n: usize) -> f64 {
    let mut v = x.to_vec();
    for _ in 0..n {
        scale_in_place(&mut v, a);
    }
    v[0]
}

#[reverse]
fn kicked_rows(p: &[[f64; 2]], dt: f64, n: usize) -> f64 {
    let mut q = p.to_vec();
    for _ in 0..n {
        kick_rows(&mut q, dt);
    }
    q.iter().map(|s| s[0] * s[1]).sum()
}

#[reverse]
fn kick_rows(p: &mut [[f64; 2]], dt: f64) {
    for q in p.iter_mut() {
        q[1] -= dt * q[0];
        q[0] += dt * q[1];
    }
}

#[test]
fn regression_container_lent_mut_in_a_loop() {
    let (value, (dx, da)) = pow_loop_grad(&[2.0], 0.5, 3);
    assert_eq!(value.to_bits(), pow_loop(&[2.0], 0.5, 3).to_bits());
    // Closed form: x a^3.
    assert_eq!((dx, da), (vec![0.125], 1.5));
    let p = vec![[0.3, 1.0], [-0.8, 0.25]];
    let (value, (dp, ddt)) = kicked_rows_grad(&p, 0.1, 3);
    assert_eq!(value.to_bits(), kicked_rows(&p, 0.1, 3).to_bits());
    let flat = |f: &[f64]| {
        let rows: Vec<[f64; 2]> = f.chunks(2).map(|c| [c[0], c[1]]).collect();
        kicked_rows(&rows, 0.1, 3)
    };
    let report = check::gradient(flat, p.as_flattened(), dp.as_flattened());
    assert!(report.is_within(common::FD_TOL), "{report}");
    let report = check::gradient(|t| kicked_rows(&p, t[0], 3), &[0.1], &[ddt]);
    assert!(report.is_within(common::FD_TOL), "{report}");
}

/// A `#[params(skip)]` field read by the function came back changed in the gradient (the
/// reverse sweep added into it as into any field it read), and `f_grad_into` accumulated into
/// the caller's: a gradient's fields that are not parameters are the argument's.
#[derive(ad_runtime::Params, Clone, Debug, PartialEq)]
struct Scaled {
    a: f64,
    #[params(skip)]
    scale: f64,
    #[params(skip)]
    data: Vec<f64>,
}

#[reverse(wrt(p))]
fn scaled(p: &Scaled, x: f64) -> f64 {
    p.a * p.scale * x + p.data[1] * p.a
}

#[test]
fn regression_skipped_fields_are_the_arguments() {
    let p = Scaled {
        a: 2.0,
        scale: 10.0,
        data: vec![1.0, 2.0],
    };
    let expected = Scaled {
        a: 32.0,
        ..p.clone()
    };
    assert_eq!(scaled_grad(&p, 3.0), (64.0, expected.clone()));
    assert_eq!(scaled_vjp(&p, 3.0, 1.0), (64.0, expected.clone()));
    // A buffer of other skipped contents, filled twice.
    let mut buffer = Scaled {
        a: 7.0,
        scale: 0.0,
        data: vec![0.0; 5],
    };
    for _ in 0..2 {
        assert_eq!(scaled_grad_into(&p, 3.0, &mut buffer), 64.0);
        assert_eq!(buffer, expected);
    }
}

/// A parameter `o` made `f_grad_into`'s buffer `do`, a keyword; `p.w.clone()` of a parameter
/// struct's field was taken for a method of the struct (`clone_pullback`).
#[derive(ad_runtime::Params, Clone, Debug, PartialEq)]
struct Weights {
    w: Vec<f64>,
    b: f64,
}

#[reverse]
fn keyword_buffer(o: &[f64], yn: &[f64]) -> f64 {
    o[0] * yn[0]
}

#[reverse(wrt(p))]
fn field_copied(p: &Weights, x: f64) -> f64 {
    let w = p.w.clone();
    w[0] * p.b + x
}

#[test]
fn regression_buffer_named_like_a_keyword_and_field_copies() {
    let (mut a, mut b) = ([0.0], [0.0]);
    assert_eq!(
        keyword_buffer_grad_into(&[2.0], &[3.0], &mut a, &mut b),
        6.0
    );
    assert_eq!((a, b), ([3.0], [2.0]));
    let p = Weights {
        w: vec![2.0, 3.0],
        b: 0.5,
    };
    let (value, g) = field_copied_grad(&p, 1.0);
    assert_eq!(value, 2.0);
    assert_eq!(
        g,
        Weights {
            w: vec![0.5, 0.0],
            b: 2.0
        }
    );
}

#[reverse]
fn sum_of_squares(v: &[f64]) -> f64 {
    v.iter().map(|a| a * a).sum()
}

/// SILENT (found by a user trial): a closure bound with `let` and given `&q` of a local
/// container took a reference op as a float argument; the callee's adjoint for it was dropped,
/// so `g(&q)` contributed nothing to the gradient (the value was right).
#[reverse]
fn closure_given_a_local_container(x: &[f64]) -> f64 {
    let q: Vec<f64> = x.iter().map(|v| v.sin()).collect();
    let g = |v| sum_of_squares(v);
    let typed = |v: &[f64]| sum_of_squares(v) + v[0];
    let owned = x.to_vec();
    g(&q) + typed(&q) + typed(x) + g(&owned)
}

#[test]
fn regression_closure_given_a_local_container() {
    for x in [[0.3, -0.7, 1.1], [1.5, 0.0, -2.0]] {
        let (v, dx) = closure_given_a_local_container_grad(&x);
        assert_eq!(v.to_bits(), closure_given_a_local_container(&x).to_bits());
        // f = 2 Σ sin²(x) + sin(x[0]) + 2 Σ x² + x[0].
        for i in 0..3 {
            let (s, c) = x[i].sin_cos();
            let first = if i == 0 { c + 1.0 } else { 0.0 };
            let want = 2.0 * 2.0 * s * c + 2.0 * x[i] + 2.0 * x[i] + first;
            common::assert_close(&format!("d/dx[{i}]"), dx[i], want);
        }
        let report = check::gradient(closure_given_a_local_container, &x, &dx);
        assert!(report.is_within(common::FD_TOL), "{report}");
    }
}

fn set_to_two(t: &mut f64) {
    *t = 2.0;
}

/// The replayed recurrences pass (`reverse/replay.rs`) repeated `power *= *t` in the reverse
/// loop, after `set_to_two` had changed `*t`: `f_grad` gave [5.5, 11, 22] for
/// [5.5, 2.75, 1.375] (found by review). A dereference is not recomputed now, as in the stash
/// plan: the powers are kept.
#[reverse(wrt(x))]
fn powers_of_a_value_changed_after_the_loop(x: &[f64], t: &mut f64) -> f64 {
    let mut r = 0.0;
    let mut power = 1.0;
    for &c in x {
        r -= c * power;
        power *= *t;
    }
    set_to_two(t);
    r * r
}

#[test]
fn regression_replayed_recurrence_reading_through_a_reference() {
    let x = [1.0, 2.0, 3.0];
    let (mut t, mut t_again) = (0.5, 0.5);
    let (value, dx) = powers_of_a_value_changed_after_the_loop_grad(&x, &mut t);
    assert_eq!(
        value,
        powers_of_a_value_changed_after_the_loop(&x, &mut t_again)
    );
    assert_eq!(t, 2.0);
    // r = −(1 + 2·½ + 3·¼) = −2.75; d/dx_j r² = −2 r tʲ with t = ½.
    let want = [5.5, 2.75, 1.375];
    for (d, w) in dx.iter().zip(want) {
        assert!((d - w).abs() < 1e-12, "{dx:?} against {want:?}");
    }
    let report = check::gradient(
        |x: &[f64]| powers_of_a_value_changed_after_the_loop(x, &mut 0.5),
        &x,
        &dx,
    );
    report.assert_within(1e-6);
}

/// Rows of a flat buffer whose width shrinks from one row to the next: row `r` starts at
/// `r * w` with the `w` of that row, so row 1 (width 3) starts inside row 0 (width 4) and
/// overwrites its last element after the reads of row 0. The loads look like `r * w + j`
/// with `j < w`, yet `w` is carried by the loop: different in the two iterations, so the
/// reads must be kept, not loaded again (found while reviewing the analysis of stable loads).
#[reverse]
fn rows_of_shrinking_width(a: &[f64], t: f64) -> f64 {
    let mut m = [0.0; 16];
    let mut w = 4;
    let mut s = 0.0;
    for r in 0..3 {
        for j in 0..w {
            m[r * w + j] = a[j] * t;
        }
        for j in 0..w {
            s += m[r * w + j].sin();
        }
        w -= 1;
    }
    s * s
}

/// The same rows of one width: nothing writes over a row after its reads, which the reverse
/// sweep loads again.
#[reverse]
fn rows_of_one_width(a: &[f64], t: f64) -> f64 {
    let w = a.len();
    let mut m = vec![0.0; 3 * w];
    let mut s = 0.0;
    for r in 0..3 {
        for j in 0..w {
            m[r * w + j] = a[j] * (t + r as f64);
        }
        for c in 0..w {
            for j in c..w {
                s += (m[w * r + j] * m[c + r * w]).sin();
            }
        }
    }
    s * s
}

#[test]
fn regression_rows_written_over_by_a_later_row_are_kept() {
    let a = [0.3, -0.7, 1.1, 0.4];
    for t in [0.5, -1.25] {
        let (value, (da, dt)) = rows_of_shrinking_width_grad(&a, t);
        assert_eq!(value, rows_of_shrinking_width(&a, t));
        check::gradient(|a: &[f64]| rows_of_shrinking_width(a, t), &a, &da).assert_within(1e-6);
        check::gradient(|u: &[f64]| rows_of_shrinking_width(&a, u[0]), &[t], &[dt])
            .assert_within(1e-6);
        let (value, (da, dt)) = rows_of_one_width_grad(&a, t);
        assert_eq!(value, rows_of_one_width(&a, t));
        check::gradient(|a: &[f64]| rows_of_one_width(a, t), &a, &da).assert_within(1e-6);
        check::gradient(|u: &[f64]| rows_of_one_width(&a, u[0]), &[t], &[dt]).assert_within(1e-6);
    }
}
