//! Rust's value semantics under `#[reverse]`: a container variable holds a value. Whole
//! assignment replaces it, `let b = a;` of an array copies it, a by-value argument is the
//! contents at the call, and a `match` arm binds what its pattern binds. Each of these once
//! compiled and gave a wrong value or gradient without a word (issue 12); every test checks
//! the value bit for bit against the original and the gradient against a closed form and
//! central differences.

mod common;

use common::check1;

/// A by-value array argument is the contents at the call: writing the caller's array after
/// the call must not change what the callee's pullback sees.
#[ad_runtime::reverse]
fn product_of(y: [f64; 2]) -> f64 {
    y[0] * y[1]
}

#[ad_runtime::reverse]
fn by_value_argument_then_written(x: f64) -> f64 {
    let mut y = [x, 2.0 * x];
    let a = product_of(y);
    y[0] = 5.0;
    a + y[0] * y[1]
}

#[test]
fn by_value_argument_is_its_contents_at_the_call() {
    // 2x² + 10x
    check1(
        "by_value_argument_then_written",
        by_value_argument_then_written,
        by_value_argument_then_written_grad,
        |x| 4.0 * x + 10.0,
        &[-1.5, 0.0, 0.7, 3.0],
    );
}

/// The same in a loop: the array is passed every iteration and rewritten after each call.
#[ad_runtime::reverse]
fn by_value_argument_in_a_loop(x: f64, n: usize) -> f64 {
    let mut y = [x, 1.0];
    let mut s = 0.0;
    for _ in 0..n {
        s += product_of(y);
        y[1] = y[1] * x + 1.0;
    }
    s
}

#[test]
fn by_value_argument_in_a_loop_is_its_contents_at_each_call() {
    // y1 takes 1, x + 1, x² + x + 1: s = x (1 + (x + 1) + (x² + x + 1)) = x³ + 2x² + 3x.
    check1(
        "by_value_argument_in_a_loop",
        |x| by_value_argument_in_a_loop(x, 3),
        |x| by_value_argument_in_a_loop_grad(x, 3),
        |x| 3.0 * x * x + 4.0 * x + 3.0,
        &[-2.0, -0.3, 0.0, 1.1],
    );
}

/// Whole assignment of an array in a loop: the new elements replace the old ones.
#[ad_runtime::reverse]
fn whole_array_assignment(x: f64, n: usize) -> f64 {
    let mut p = [1.0, 0.0];
    for _ in 0..n {
        p = [p[0] * x, p[1] + x];
    }
    p[0] + p[1]
}

#[test]
fn whole_array_assignment_in_a_loop() {
    // p = [x³, 3x]
    check1(
        "whole_array_assignment",
        |x| whole_array_assignment(x, 3),
        |x| whole_array_assignment_grad(x, 3),
        |x| 3.0 * x * x + 3.0,
        &[-1.2, 0.0, 0.4, 2.0],
    );
}

/// The same with a `Vec`, its elements swapped each step.
#[ad_runtime::reverse]
fn whole_vec_assignment(x: f64, n: usize) -> f64 {
    let mut v = vec![1.0, 0.5];
    for _ in 0..n {
        v = vec![v[1], v[0] * x];
    }
    v[0] + v[1]
}

#[test]
fn whole_vec_assignment_in_a_loop() {
    // [1, ½] → [½, x] → [x, ½x] → [½x, x²]
    check1(
        "whole_vec_assignment",
        |x| whole_vec_assignment(x, 3),
        |x| whole_vec_assignment_grad(x, 3),
        |x| 0.5 + 2.0 * x,
        &[-0.7, 0.0, 1.3],
    );
}

/// Under a `while` whose condition reads the container, a whole assignment that was ignored
/// never ended the loop.
#[ad_runtime::reverse]
fn whole_assignment_under_while(x: f64) -> f64 {
    let mut p = [x, 1.0];
    while p[0] < 10.0 {
        p = [p[0] * 2.0, p[1] + p[0]];
    }
    p[1]
}

#[test]
fn whole_assignment_under_while_ends_the_loop() {
    // For x in [1.25, 2.5): three steps, p[1] = 1 + x + 2x + 4x.
    check1(
        "whole_assignment_under_while",
        whole_assignment_under_while,
        whole_assignment_under_while_grad,
        |_| 7.0,
        &[1.3, 1.5, 2.4],
    );
}

/// `p = q;` of arrays copies: writing `q` afterwards leaves `p` as it was.
#[ad_runtime::reverse]
fn assignment_copies(x: f64) -> f64 {
    let mut p = [1.0, 2.0];
    let mut q = [x, x * x];
    let before = p[0] + p[1];
    p = q;
    q[0] = 5.0;
    p[0] * q[0] + p[1] * q[1] + before
}

#[test]
fn whole_assignment_copies_the_source() {
    // 5x + x⁴ + 3
    check1(
        "assignment_copies",
        assignment_copies,
        assignment_copies_grad,
        |x| 5.0 + 4.0 * x * x * x,
        &[-1.0, 0.0, 0.6, 1.7],
    );
}

/// `let prev = u;` of an array copies it: the writes to `u` after it do not reach `prev`.
#[ad_runtime::reverse]
fn rotate(x: f64, n: usize) -> f64 {
    let mut u = [1.0, x];
    for _ in 0..n {
        let prev = u;
        u[0] = prev[1] * x;
        u[1] = prev[0];
    }
    u[0] + 2.0 * u[1]
}

#[test]
fn let_of_an_array_copies_it() {
    // n = 2: [1, x] → [x², 1] → [x, x²]; n = 3: → [x³, x].
    check1(
        "rotate(2)",
        |x| rotate(x, 2),
        |x| rotate_grad(x, 2),
        |x| 1.0 + 4.0 * x,
        &[-0.8, 0.0, 1.1],
    );
    check1(
        "rotate(3)",
        |x| rotate(x, 3),
        |x| rotate_grad(x, 3),
        |x| 3.0 * x * x + 2.0,
        &[-0.8, 0.0, 1.1],
    );
}

/// `let mut u = u0;` of a by-value array parameter, then writes to both through the copy.
#[ad_runtime::reverse]
fn copy_of_a_parameter(u0: [f64; 2], x: f64) -> f64 {
    let mut u = u0;
    u[0] *= x;
    let prev = u;
    u[1] *= x;
    prev[1] + u[0] + u[1] + u0[0]
}

#[test]
fn let_of_an_array_parameter_copies_it() {
    for (u0, x) in [([0.5, 0.7], 1.3), ([-2.0, 0.25], -0.5), ([0.0, 0.0], 0.0)] {
        let (value, (du, dx)) = copy_of_a_parameter_grad(u0, x);
        assert_eq!(value.to_bits(), copy_of_a_parameter(u0, x).to_bits());
        // u0[1] + u0[0] x + u0[1] x + u0[0]
        common::assert_close("du0", du[0], x + 1.0);
        common::assert_close("du1", du[1], 1.0 + x);
        common::assert_close("dx", dx, u0[0] + u0[1]);
        let f = |p: &[f64]| copy_of_a_parameter([p[0], p[1]], p[2]);
        ad_runtime::check::gradient(f, &[u0[0], u0[1], x], &[du[0], du[1], dx])
            .assert_within(common::FD_TOL);
    }
}

/// `clone()` and `to_vec()` copy.
#[ad_runtime::reverse]
fn clones(x: &[f64]) -> f64 {
    let mut a = x.to_vec();
    let b = a.clone();
    a[0] *= a[1];
    a[0] + b[0] + b[1]
}

#[test]
fn clone_and_to_vec_copy() {
    for x in [[0.3, -1.2], [2.0, 0.5], [0.0, 0.0]] {
        let (value, dx) = clones_grad(&x);
        assert_eq!(value.to_bits(), clones(&x).to_bits());
        common::assert_close("dx0", dx[0], x[1] + 1.0);
        common::assert_close("dx1", dx[1], x[0] + 1.0);
        ad_runtime::check::gradient(clones, &x, &dx).assert_within(common::FD_TOL);
    }
}

/// The arms of an `if` give different containers: the variable is one of them.
#[ad_runtime::reverse]
fn containers_from_the_arms(x: f64, c: bool) -> f64 {
    let z = if c { [x, 2.0 * x] } else { [x * x, x] };
    let mut w;
    if c {
        w = vec![z[0], 1.0];
    } else {
        w = vec![1.0, z[1], z[0]];
    }
    w[0] *= x;
    z[0] * z[1] + w[0] + w[w.len() - 1]
}

#[test]
fn containers_made_in_the_arms_of_an_if() {
    // c: 2x² + x² + 1; not c: x³ + x + x².
    check1(
        "containers_from_the_arms(true)",
        |x| containers_from_the_arms(x, true),
        |x| containers_from_the_arms_grad(x, true),
        |x| 6.0 * x,
        &[-1.0, 0.0, 0.5, 2.0],
    );
    check1(
        "containers_from_the_arms(false)",
        |x| containers_from_the_arms(x, false),
        |x| containers_from_the_arms_grad(x, false),
        |x| 3.0 * x * x + 1.0 + 2.0 * x,
        &[-1.0, 0.0, 0.5, 2.0],
    );
}

/// A simulation step written the way people write it: the next state made whole, then
/// swapped in.
#[ad_runtime::reverse]
fn explicit_euler(u0: &[f64], k: f64, steps: usize) -> f64 {
    let mut u = u0.to_vec();
    for _ in 0..steps {
        let mut next = vec![0.0; u.len()];
        for i in 0..u.len() {
            next[i] = u[i] - k * u[i];
        }
        u = next;
    }
    u.iter().sum()
}

#[test]
fn state_replaced_by_the_next_step() {
    // u = (1 - k)^steps u0, summed.
    let u0 = [0.5, -1.0, 2.0];
    for (k, steps) in [(0.1, 4), (0.5, 1), (-0.2, 3)] {
        let (value, (du, dk)) = explicit_euler_grad(&u0, k, steps);
        assert_eq!(value.to_bits(), explicit_euler(&u0, k, steps).to_bits());
        let total: f64 = u0.iter().sum();
        let n = steps as i32;
        for d in &du {
            common::assert_close("du0", *d, (1.0 - k).powi(n));
        }
        common::assert_close("dk", dk, -f64::from(n) * (1.0 - k).powi(n - 1) * total);
        let mut p = u0.to_vec();
        p.push(k);
        let mut g = du.clone();
        g.push(dk);
        ad_runtime::check::gradient(|p| explicit_euler(&p[..3], p[3], steps), &p, &g)
            .assert_within(common::FD_TOL);
    }
}

/// A loss chosen by an enum whose variants carry parameters.
#[derive(Clone, Copy, Debug)]
pub enum Loss {
    Huber(f64),
    Scaled { scale: f64, offset: f64 },
    L2,
}

/// `match` arms bind the payloads of enum variants as Rust does, shadowing outer names, in
/// every arm (the last one too) and in guards.
#[ad_runtime::reverse]
fn loss(x: f64, loss: Loss) -> f64 {
    let delta = 100.0;
    let scale = -3.0;
    match loss {
        Loss::Huber(delta) if x.abs() <= delta => 0.5 * x * x,
        Loss::L2 => 0.5 * x * x * delta / 100.0,
        Loss::Scaled { scale, offset } => scale * x + offset,
        Loss::Huber(delta) => delta * (x.abs() - 0.5 * delta) + 0.0 * scale,
    }
}

#[test]
fn match_arms_bind_enum_payloads() {
    for (l, closed) in [
        (
            Loss::Huber(0.5),
            (|x: f64| if x.abs() <= 0.5 { x } else { 0.5 * x.signum() }) as fn(f64) -> f64,
        ),
        (Loss::L2, |x| x),
        (
            Loss::Scaled {
                scale: 2.5,
                offset: 1.0,
            },
            |_| 2.5,
        ),
    ] {
        check1(
            &format!("loss({l:?})"),
            |x| loss(x, l),
            |x| loss_grad(x, l),
            closed,
            &[-2.0, -0.3, 0.2, 1.7],
        );
    }
}

/// The payload bound in the last arm, after arms that test other variants.
#[ad_runtime::reverse(wrt(x))]
fn last_arm_binds(x: f64, o: Option<f64>) -> f64 {
    let d = 3.0;
    match o {
        None => x * d,
        Some(d) => x * d,
    }
}

#[test]
fn the_last_arm_binds_its_names() {
    check1(
        "last_arm_binds(None)",
        |x| last_arm_binds(x, None),
        |x| last_arm_binds_grad(x, None),
        |_| 3.0,
        &[-1.0, 0.5],
    );
    check1(
        "last_arm_binds(Some(0.25))",
        |x| last_arm_binds(x, Some(0.25)),
        |x| last_arm_binds_grad(x, Some(0.25)),
        |_| 0.25,
        &[-1.0, 0.5],
    );
}

#[allow(
    non_upper_case_globals,
    reason = "a lowercase constant is what this test is about"
)]
const two: usize = 2;

/// Whether a name in a pattern is a binding or a constant is rustc's decision, not the
/// case of its first letter: a lowercase constant tests, an uppercase name binds.
#[ad_runtime::reverse]
#[allow(
    non_upper_case_globals,
    reason = "`two` is a lowercase constant on purpose"
)]
fn names_in_patterns(x: f64, n: usize) -> f64 {
    let first = match n {
        two => x * x,
        _ => x,
    };
    #[allow(
        non_snake_case,
        reason = "an uppercase binding is what this test is about"
    )]
    let second = match n + 1 {
        1 => x,
        M => x * M as f64,
    };
    let third = match n {
        mut m if m > 1 => {
            m += 1;
            x * m as f64
        }
        _ => 0.0,
    };
    let fourth = match n {
        ref k if *k == 0 => x,
        _ => 2.0 * x,
    };
    first + second + third + fourth
}

#[test]
fn names_in_patterns_are_bound_or_compared_as_rust_does() {
    // n = 2: x² + 3x + 3x + 2x;  n = 0: x + x + 0 + x;  n = 5: x + 6x + 6x + 2x.
    for (n, closed) in [
        (2, (|x: f64| 2.0 * x + 8.0) as fn(f64) -> f64),
        (0, |_| 3.0),
        (5, |_| 15.0),
    ] {
        check1(
            &format!("names_in_patterns(n = {n})"),
            |x| names_in_patterns(x, n),
            |x| names_in_patterns_grad(x, n),
            closed,
            &[-1.5, 0.0, 0.75],
        );
    }
}

/// Whole assignment of a by-value parameter: the gradient is with respect to its contents on
/// entry, in `f_grad`, `f_grad_into` (the caller's buffer) and a caller's pullback.
#[ad_runtime::reverse]
fn assigned_parameter(mut a: [f64; 2], v: Vec<f64>, x: f64) -> f64 {
    a = [a[1] * x, a[0]];
    // A `Vec` parameter may change length: it is assigned through a local copy.
    let mut v = v;
    v = vec![v[1] * x, v[0], x];
    a[0] + 2.0 * a[1] + v[0] * v[1] + v[2]
}

#[ad_runtime::reverse]
fn caller_of_assigned_parameter(v: &[f64], x: f64) -> f64 {
    assigned_parameter([v[0], v[1]], v.to_vec(), x)
}

#[test]
fn whole_assignment_of_a_parameter() {
    let (a, v, x) = ([1.0, 2.0], vec![0.5, -1.5], 1.25);
    // a1 x + 2 a0 + v1 x v0 + x
    let (value, (da, dv, dx)) = assigned_parameter_grad(a, v.clone(), x);
    assert_eq!(
        value.to_bits(),
        assigned_parameter(a, v.clone(), x).to_bits()
    );
    assert_eq!(da, [2.0, x]);
    assert_eq!(dv, vec![v[1] * x, v[0] * x]);
    common::assert_close("dx", dx, a[1] + v[0] * v[1] + 1.0);
    let (mut da2, mut dv2) = ([9.0; 2], vec![9.0; 2]);
    let (_, dx2) = assigned_parameter_grad_into(a, v.clone(), x, &mut da2, &mut dv2);
    assert_eq!((da2, dv2, dx2), (da, dv.clone(), dx));
    let w = [1.0, 2.0];
    let (_, (dw, dx3)) = caller_of_assigned_parameter_grad(&w, x);
    assert_eq!(dw, vec![2.0 + w[1] * x, x + w[0] * x]);
    common::assert_close("dx", dx3, w[1] + w[0] * w[1] + 1.0);
}

/// A container replaced in an `if` whose condition does not depend on the inputs' values:
/// the reverse sweep still passes through the arm, where the old contents' gradient is cut
/// and the buffer takes the old length back.
#[ad_runtime::reverse]
fn replaced_under_a_constant_condition(x: f64, c: bool) -> f64 {
    let mut h = vec![1.0];
    h.push(x);
    let t = h[1] * 2.0;
    if c {
        h = vec![0.5; 3];
    }
    t + h[0] * x
}

#[test]
fn container_replaced_in_an_inactive_if() {
    for c in [false, true] {
        let k = if c { 0.5 } else { 1.0 };
        check1(
            "replaced_under_a_constant_condition",
            |x| replaced_under_a_constant_condition(x, c),
            |x| replaced_under_a_constant_condition_grad(x, c),
            |_| 2.0 + k,
            &[-1.0, 0.0, 3.0],
        );
    }
}

/// The same with the replacement in both arms of an inner `if` under an outer one.
#[ad_runtime::reverse]
fn replaced_in_nested_arms(x: f64, c: bool, d: bool) -> f64 {
    let mut p = [x, 2.0 * x];
    let s = p[0] * p[1];
    if c {
        if d {
            p = [0.5, 1.0];
        } else {
            p = [1.5, x];
        }
    }
    s + p[0] + p[1]
}

#[test]
fn container_replaced_in_nested_arms() {
    for (c, d) in [(false, false), (true, true), (true, false)] {
        // 2x² + (3x, or nothing, or x)
        let tail = match (c, d) {
            (false, _) => 3.0,
            (true, true) => 0.0,
            (true, false) => 1.0,
        };
        check1(
            "replaced_in_nested_arms",
            |x| replaced_in_nested_arms(x, c, d),
            |x| replaced_in_nested_arms_grad(x, c, d),
            |x| 4.0 * x + tail,
            &[-1.0, 0.5, 2.0],
        );
    }
}

/// A callee writes its by-value array parameter: that is its own copy, the caller's
/// gradient of the array it passed stays its own.
#[ad_runtime::reverse]
fn overwrites_its_copy(mut y: [f64; 1]) -> f64 {
    y[0] = 1.0;
    y[0]
}

#[ad_runtime::reverse]
fn scales_its_copy(mut y: [f64; 2]) -> f64 {
    y[0] *= y[1];
    y[0] + y[1]
}

#[ad_runtime::reverse]
fn passes_to_a_callee_that_writes(x: f64) -> f64 {
    let y = [x];
    let z = [x, 3.0 * x];
    overwrites_its_copy(y) + y[0] + scales_its_copy(z) * z[0]
}

#[test]
fn callee_writing_its_by_value_parameter() {
    // 1 + x + (3x² + 3x) x = 1 + x + 3x³ + 3x²
    check1(
        "passes_to_a_callee_that_writes",
        passes_to_a_callee_that_writes,
        passes_to_a_callee_that_writes_grad,
        |x| 1.0 + 9.0 * x * x + 6.0 * x,
        &[-1.0, 0.0, 0.5, 2.0],
    );
}

/// A container declared with its type and assigned in both arms.
#[allow(clippy::needless_late_init, reason = "the form under test")]
#[ad_runtime::reverse]
fn declared_then_assigned(x: f64, c: bool) -> f64 {
    let w: [f64; 2];
    if c {
        w = [0.5, x];
    } else {
        w = [1.5, x * x];
    }
    w[0] * w[1]
}

#[test]
fn container_declared_with_its_type_then_assigned_in_both_arms() {
    for c in [false, true] {
        check1(
            "declared_then_assigned",
            |x| declared_then_assigned(x, c),
            |x| declared_then_assigned_grad(x, c),
            |x| if c { 0.5 } else { 3.0 * x },
            &[-1.0, 0.0, 2.0],
        );
    }
}

/// The replacement is never read: the arm does nothing the gradient needs, yet the reverse
/// sweep must not see the new length where the old contents' gradient lives.
#[allow(
    unused_assignments,
    reason = "the replacement is never read: that is the point"
)]
#[ad_runtime::reverse]
fn replaced_and_never_read(x: f64) -> f64 {
    let mut h = vec![1.0];
    h.push(x);
    let t = h[1] * 2.0;
    if x < 10.0 {
        h = vec![0.5; 3];
    }
    t
}

#[allow(
    unused_assignments,
    reason = "the replacement is never read: that is the point"
)]
#[ad_runtime::reverse]
fn replaced_in_nested_arms_never_read(x: f64) -> f64 {
    let mut p = [x, 2.0 * x];
    let s = p[0] * p[1];
    if x < 10.0 {
        if x > 0.0 {
            p = [0.5, 1.0];
        } else {
            p = [1.5, 3.0];
        }
    }
    s
}

#[test]
fn replacement_never_read() {
    check1(
        "replaced_and_never_read",
        replaced_and_never_read,
        replaced_and_never_read_grad,
        |_| 2.0,
        &[-1.0, 0.0, 3.0, 11.0],
    );
    check1(
        "replaced_in_nested_arms_never_read",
        replaced_in_nested_arms_never_read,
        replaced_in_nested_arms_never_read_grad,
        |x| 4.0 * x,
        &[-1.0, 0.5, 3.0, 11.0],
    );
}

/// Constant contents in both arms: the declared type is the elements' type.
#[allow(clippy::needless_late_init, reason = "the form under test")]
#[ad_runtime::reverse]
fn declared_constant_then_assigned(x: f64) -> f64 {
    let w: [f64; 1];
    if x > 0.0 {
        w = [0.5];
    } else {
        w = [1.5];
    }
    x * w[0]
}

#[test]
fn constant_container_declared_with_its_type() {
    check1(
        "declared_constant_then_assigned",
        declared_constant_then_assigned,
        declared_constant_then_assigned_grad,
        |x| if x > 0.0 { 0.5 } else { 1.5 },
        &[-1.0, 0.5, 3.0],
    );
}

/// Pushes in a loop whose results nothing reads: the reverse sweep still pops them, so the
/// pop of the first push finds its own adjoint.
#[ad_runtime::reverse]
fn pushed_after_the_last_read(x: f64, n: usize) -> f64 {
    let mut h = Vec::new();
    h.push(x);
    let t = h[0] * 2.0;
    for k in 0..n {
        h.push(k as f64);
    }
    let mut m = 0;
    while m < n {
        h.push(1.0);
        m += 1;
    }
    t
}

#[test]
fn pushes_nothing_reads() {
    for n in [0, 1, 3] {
        check1(
            "pushed_after_the_last_read",
            |x| pushed_after_the_last_read(x, n),
            |x| pushed_after_the_last_read_grad(x, n),
            |_| 2.0,
            &[-1.0, 0.0, 3.0],
        );
    }
}

/// A container assigned on every path that goes on, where another path returns first.
#[allow(clippy::needless_late_init, reason = "the form under test")]
#[ad_runtime::reverse]
fn assigned_where_the_other_path_returns(x: f64) -> f64 {
    let w;
    if x > 0.0 {
        w = [2.0 * x];
    } else {
        if x < -5.0 {
            return 0.0;
        }
        w = [3.0 * x];
    }
    w[0] * x
}

/// A returned container, and an early return of another.
#[ad_runtime::reverse]
fn returns_a_container_early(x: f64) -> Vec<f64> {
    let mut v = vec![x, 2.0];
    if x > 3.0 {
        return vec![x * x];
    }
    v[1] *= x;
    v
}

#[test]
fn containers_on_paths_that_return_early() {
    check1(
        "assigned_where_the_other_path_returns",
        assigned_where_the_other_path_returns,
        assigned_where_the_other_path_returns_grad,
        |x| match x {
            x if x > 0.0 => 4.0 * x,
            x if x < -5.0 => 0.0,
            x => 6.0 * x,
        },
        &[-6.0, -1.0, 0.5, 2.0],
    );
    for x in [1.0, 2.5, 4.0] {
        let (value, jacobian) = returns_a_container_early_jacobian(x);
        assert_eq!(value, returns_a_container_early(x));
        let want: Vec<Vec<f64>> = match x > 3.0 {
            true => vec![vec![2.0 * x]],
            false => vec![vec![1.0], vec![2.0]],
        };
        assert_eq!(jacobian, want, "at {x}");
    }
}

/// The pattern kinds of `match` arms a user writes: alternatives, ranges, parenthesized
/// patterns, slices with a rest, and an item declared in the body.
#[ad_runtime::reverse(wrt(x))]
fn patterns_of_every_kind(x: f64, n: i32, w: [f64; 3]) -> f64 {
    const SCALE: f64 = 1.5;
    let a = match &n {
        &(0 | 1) => x * SCALE,
        2..=4 => x * x,
        5 => 3.0 * x,
        _ => x,
    };
    let b = match w {
        [first, .., last] if first < last => x * first + last,
        [.., middle, _] => x * middle,
    };
    a + b
}

#[test]
fn arms_with_every_kind_of_pattern() {
    for (n, w) in [
        (0, [1.0, 0.0, 2.0]),
        (1, [3.0, 4.0, 2.0]),
        (3, [1.0, 0.0, 2.0]),
        (5, [3.0, 4.0, 2.0]),
        (9, [1.0, 0.0, 2.0]),
    ] {
        let b = if w[0] < w[2] { w[0] } else { w[1] };
        check1(
            &format!("patterns_of_every_kind(n = {n})"),
            |x| patterns_of_every_kind(x, n, w),
            |x| patterns_of_every_kind_grad(x, n, w),
            |x| {
                let a = match n {
                    0 | 1 => 1.5,
                    2..=4 => 2.0 * x,
                    5 => 3.0,
                    _ => 1.0,
                };
                a + b
            },
            &[-1.0, 0.5, 2.0],
        );
    }
}

/// Declared with a type, assigned later: the declaration's type is the value's, in the
/// generated code too (a literal alone would be an ambiguous `{float}`).
#[ad_runtime::reverse]
#[allow(clippy::needless_late_init, reason = "the form under test")]
fn declared_types_of_late_values(x: f64) -> f64 {
    let s: f32;
    s = 2.25;
    let w: [f64; 1];
    w = [0.25];
    x * f64::from(s.sqrt()) * w[0].sqrt()
}

#[test]
fn late_values_keep_their_declared_types() {
    check1(
        "declared_types_of_late_values",
        declared_types_of_late_values,
        declared_types_of_late_values_grad,
        |_| 0.75,
        &[-1.0, 2.0],
    );
}

/// A typed `let` of a container an `if` gives, both arms literals: the type is the merged
/// container's.
#[ad_runtime::reverse]
fn typed_literal_arms(x: f64) -> f64 {
    let w: Vec<f64> = if x > 0.0 {
        vec![0.25; 3]
    } else {
        vec![2.25; 2]
    };
    let p: [f64; 2] = if x > 1.0 { [0.5, 1.0] } else { [1.5; 2] };
    x * w[0].sqrt() + p[1].sqrt() * x
}

#[test]
fn typed_containers_from_literal_arms() {
    check1(
        "typed_literal_arms",
        typed_literal_arms,
        typed_literal_arms_grad,
        |x| {
            let w: f64 = if x > 0.0 { 0.5 } else { 1.5 };
            let p: f64 = if x > 1.0 { 1.0 } else { 1.5f64.sqrt() };
            w + p
        },
        &[-1.0, 0.5, 2.0],
    );
}

/// `for v in x` of an array the body writes: the loop's items are a copy of `x` (Rust's
/// `IntoIterator` of a `Copy` array), so the writes do not reach them. (Found by review,
/// issue 14: the items were read from `x` as the body had changed it, a silently wrong value.)
#[ad_runtime::reverse]
fn items_of_a_written_array(y: [f64; 3]) -> f64 {
    let mut x = y;
    let mut s = 0.0;
    for v in x {
        x[0] = 5.0 * v;
        s += v * v;
    }
    s + x[0]
}

/// The same over rows.
#[ad_runtime::reverse]
fn rows_of_a_written_array(y: [[f64; 2]; 2]) -> f64 {
    let mut x = y;
    let mut s = 0.0;
    for p in x {
        x[1] = [p[0] * 3.0, p[1]];
        s += p[0] * p[1];
    }
    s + x[1][0]
}

#[test]
fn items_of_an_array_written_by_the_loop() {
    let y = [1.0, 2.0, 3.0];
    let (value, dy) = items_of_a_written_array_grad(y);
    assert_eq!(value, 29.0);
    assert_eq!(value.to_bits(), items_of_a_written_array(y).to_bits());
    assert_eq!(dy, [2.0, 4.0, 11.0]);
    let r = [[1.0, 2.0], [3.0, 4.0]];
    let (value, dr) = rows_of_a_written_array_grad(r);
    assert_eq!(value, 23.0);
    assert_eq!(value.to_bits(), rows_of_a_written_array(r).to_bits());
    assert_eq!(dr, [[2.0, 1.0], [7.0, 3.0]]);
}

/// Found by review (issue 14), each a silently wrong value before: a `mut` row of a loop by
/// value written in the body wrote the container; a `Vec::new()` assigned rows whole counted
/// floats, not rows; `&mut y` inside a loop over `y` by value was not seen as a write of `y`;
/// an index with a side effect in a sub-slice iterated by a chain ran twice.
#[allow(
    unused_assignments,
    reason = "the whole assignment to an empty `Vec` is the form under test"
)]
#[ad_runtime::reverse]
fn rows_by_value_written(x: &[[f64; 2]]) -> f64 {
    let y = x.to_vec();
    let mut s = 0.0;
    for mut p in y.iter().copied() {
        p[0] = 10.0 * p[1];
        s += y[0][0] * p[0];
    }
    let mut v = Vec::new();
    v = y.clone();
    let mut z = [x[0], x[1]];
    for p in z {
        for q in &mut z {
            q[0] += p[1];
        }
        s += p[0];
    }
    s + v.len() as f64 * z[0][0]
}

fn next(k: &mut usize) -> usize {
    *k += 1;
    *k
}

#[ad_runtime::reverse(wrt(x))]
fn index_with_a_side_effect(x: &[f64], start: usize) -> f64 {
    let mut k = start;
    let s = x[next(&mut k)..].iter().sum::<f64>();
    s * k as f64
}

#[test]
fn rows_and_slices_found_by_review() {
    let x = [[1.0, 2.0], [3.0, 4.0]];
    let (value, dx) = rows_by_value_written_grad(&x);
    assert_eq!(value.to_bits(), rows_by_value_written(&x).to_bits());
    let f = |p: &[f64]| rows_by_value_written(&[[p[0], p[1]], [p[2], p[3]]]);
    ad_runtime::check::gradient(f, x.as_flattened(), dx.as_flattened())
        .assert_within(common::FD_TOL);
    let y = [1.0, 2.0, 3.0, 4.0];
    let (value, dy) = index_with_a_side_effect_grad(&y, 0);
    assert_eq!(value, 9.0);
    assert_eq!(value.to_bits(), index_with_a_side_effect(&y, 0).to_bits());
    assert_eq!(dy, vec![0.0, 1.0, 1.0, 1.0]);
}
