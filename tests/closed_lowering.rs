//! Programs the lowering once accepted without modeling them, found by auditing every syntax
//! kind it meets (docs/design.md, "What the lowering accepts"): each compiled and gave a wrong
//! value or gradient. Every test checks the value bit for bit against the original and the
//! gradient against a closed form and central differences.
#![allow(clippy::useless_vec, reason = "a `Vec` is the container under test")]

mod common;

use common::check1;

/// An exit inside an operand: the rest of the statement (the product, the assignment) must
/// not run on the path that leaves.
#[ad_runtime::reverse]
#[allow(
    clippy::assign_op_pattern,
    reason = "the plain assignment is the form under test"
)]
fn break_inside_a_product(x: f64, n: usize) -> f64 {
    let mut s = x;
    for i in 0..n {
        s = s * (if i == 2 { break } else { x });
    }
    s
}

#[ad_runtime::reverse]
fn continue_inside_a_compound_assignment(x: f64, n: usize) -> f64 {
    let mut s = 1.0;
    for i in 0..n {
        s *= match i % 3 {
            0 => x.sin(),
            1 => x * x,
            _ => continue,
        };
    }
    s
}

#[test]
fn exits_inside_operands_leave_the_rest_of_the_statement() {
    // s = x · x · x, then the break.
    check1(
        "break_inside_a_product",
        |x| break_inside_a_product(x, 4),
        |x| break_inside_a_product_grad(x, 4),
        |x| 3.0 * x * x,
        &[-1.2, 0.0, 1.5],
    );
    // n = 5: sin x · x² · (skipped) · sin x · x² = sin² x · x⁴.
    check1(
        "continue_inside_a_compound_assignment",
        |x| continue_inside_a_compound_assignment(x, 5),
        |x| continue_inside_a_compound_assignment_grad(x, 5),
        |x| 2.0 * x.sin() * x.cos() * x.powi(4) + 4.0 * x.sin().powi(2) * x.powi(3),
        &[-1.2, 0.3, 1.5],
    );
}

/// A `return` inside the right side of a store: the output keeps its old contents.
#[ad_runtime::reverse]
fn return_inside_a_store(x: f64, out: &mut [f64]) -> f64 {
    out[0] = if x > 0.0 { return x * 2.0 } else { x * x };
    x
}

#[test]
fn return_inside_a_store_does_not_store() {
    for x in [1.5, -1.5] {
        let (mut out, mut expected) = ([7.0], [7.0]);
        let (value, jacobian) = return_inside_a_store_jacobian(x, &mut out);
        let want = return_inside_a_store(x, &mut expected);
        assert_eq!(value.to_bits(), want.to_bits());
        assert_eq!(out, expected);
        // Rows: the value, then out[0]; columns: x, then out[0].
        let rows = if x > 0.0 {
            vec![vec![2.0, 0.0], vec![0.0, 1.0]]
        } else {
            vec![vec![1.0, 0.0], vec![2.0 * x, 0.0]]
        };
        assert_eq!(jacobian, rows, "x = {x}");
    }
}

/// A compound assignment of primitives evaluates its right side first.
#[ad_runtime::reverse]
#[allow(
    unused_assignments,
    reason = "the first value of `s` is overwritten on purpose"
)]
fn compound_assignment_right_side_first(x: f64) -> f64 {
    let mut s = x;
    s += {
        s = 2.0 * x;
        s
    };
    s
}

#[test]
fn compound_assignment_evaluates_its_right_side_first() {
    check1(
        "compound_assignment_right_side_first",
        compound_assignment_right_side_first,
        compound_assignment_right_side_first_grad,
        |_| 4.0,
        &[-1.0, 0.0, 2.5],
    );
}

/// Methods that change their receiver in place (`reverse`, `swap`, `fill`), and `&mut` lent
/// to a function: the reverse sweep must read what the forward sweep read before them.
#[ad_runtime::reverse]
fn weight_read_before_reverse(x: f64) -> f64 {
    let mut w = vec![2.0, 3.0];
    let y = x * w[0];
    w.reverse();
    y + 0.0 * w[0]
}

#[ad_runtime::reverse]
fn index_read_before_swap(x: &[f64]) -> f64 {
    let mut idx = vec![0usize, 1];
    let a = x[idx[0]];
    idx.swap(0, 1);
    a * a
}

#[ad_runtime::reverse]
fn local_read_before_mem_swap(x: f64) -> f64 {
    let mut c = 2.0;
    let mut d = 3.0;
    let y = x * c;
    std::mem::swap(&mut c, &mut d);
    y + 0.0 * c
}

fn bump(k: &mut usize) {
    *k += 1;
}

#[ad_runtime::reverse]
fn index_changed_by_a_helper(x: &[f64], n: usize) -> f64 {
    let mut k = 0usize;
    let mut s = 0.0;
    for i in 0..n {
        let j = k + i;
        s += x[j] * x[j];
        bump(&mut k);
    }
    s
}

#[ad_runtime::reverse]
fn buffer_refilled_each_iteration(x: f64, n: usize) -> f64 {
    let mut buf = vec![0.0; 1];
    let mut s = 1.0;
    for i in 0..n {
        buf.fill(i as f64 + 1.0);
        s *= x * buf[0];
    }
    s
}

/// The same changes inside a called function, whose pullback runs its forward sweep again.
#[ad_runtime::reverse]
fn callee_reverses_its_weights(x: f64) -> f64 {
    let mut w = vec![2.0, 3.0];
    w.reverse();
    let mut c = 2.0;
    std::ops::AddAssign::add_assign(&mut c, 1.0);
    x * w[0] * c
}

#[ad_runtime::reverse]
fn caller_of_a_changing_callee(x: f64) -> f64 {
    callee_reverses_its_weights(x) * x
}

#[test]
fn changes_in_place_are_seen_where_they_happen() {
    check1(
        "weight_read_before_reverse",
        weight_read_before_reverse,
        weight_read_before_reverse_grad,
        |_| 2.0,
        &[-1.0, 1.5],
    );
    check1(
        "local_read_before_mem_swap",
        local_read_before_mem_swap,
        local_read_before_mem_swap_grad,
        |_| 2.0,
        &[-1.0, 1.5],
    );
    // x · 1 · x · 2 · x · 3
    check1(
        "buffer_refilled_each_iteration",
        |x| buffer_refilled_each_iteration(x, 3),
        |x| buffer_refilled_each_iteration_grad(x, 3),
        |x| 18.0 * x * x,
        &[-1.0, 0.5, 1.5],
    );
    // 9x²
    check1(
        "caller_of_a_changing_callee",
        caller_of_a_changing_callee,
        caller_of_a_changing_callee_grad,
        |x| 18.0 * x,
        &[-1.0, 0.5, 1.5],
    );
    let x = [1.5, 2.5, 3.0];
    let (value, g) = index_read_before_swap_grad(&x);
    assert_eq!(value.to_bits(), index_read_before_swap(&x).to_bits());
    assert_eq!(g, vec![3.0, 0.0, 0.0]);
    // j = 0, then 1 + 1: x0² + x2².
    let (value, g) = index_changed_by_a_helper_grad(&x, 2);
    assert_eq!(value.to_bits(), index_changed_by_a_helper(&x, 2).to_bits());
    assert_eq!(g, vec![3.0, 0.0, 6.0]);
    ad_runtime::check::gradient(|p| index_changed_by_a_helper(p, 2), &x, &g)
        .assert_within(common::FD_TOL);
}

/// A block statement whose value is a variable assigned in it.
#[ad_runtime::reverse]
#[allow(
    unused_assignments,
    reason = "the first value of `s` is overwritten on purpose"
)]
fn block_statement_ending_in_a_variable(x: f64) -> f64 {
    let mut s = 0.0;
    {
        s = x * x;
        s
    };
    s
}

/// A field of a `&mut` parameter read before a method changes it.
pub struct Scale {
    pub a: f64,
}

impl Scale {
    pub fn set(&mut self, a: f64) {
        self.a = a;
    }
}

#[ad_runtime::reverse(wrt(x))]
fn field_read_before_a_setter(x: f64, s: &mut Scale) -> f64 {
    let y = x * s.a;
    s.set(5.0);
    y + 0.0 * s.a
}

#[test]
fn reads_before_changes_keep_their_values() {
    check1(
        "block_statement_ending_in_a_variable",
        block_statement_ending_in_a_variable,
        block_statement_ending_in_a_variable_grad,
        |x| 2.0 * x,
        &[-1.0, 0.0, 1.5],
    );
    for x in [-1.0, 1.5] {
        let (mut s, mut t) = (Scale { a: 2.0 }, Scale { a: 2.0 });
        let (value, dx) = field_read_before_a_setter_grad(x, &mut s);
        assert_eq!(
            value.to_bits(),
            field_read_before_a_setter(x, &mut t).to_bits()
        );
        assert_eq!((dx, s.a), (2.0, 5.0));
    }
}
