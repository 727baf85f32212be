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
