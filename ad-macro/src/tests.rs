//! The macro's own tests. Here, snapshots of the printed IR: what lowering and differentiation
//! produce for a few representative functions. A change in these strings is a change in
//! generated code; review it as such. In `tests/`: the harness every test module of the crate
//! runs the pipeline with (`harness.rs`), the fuzz test of `expand`, its compile cost.

mod expand_cost;
mod fuzz;
pub mod harness;

use harness::{errors, fused, fused_with, ir};

#[test]
fn straight_line_with_fan_out() {
    let (primal, adjoint) =
        ir("fn f(x: f64, y: f64) -> f64 { let s = x * y; let t = s.sin(); t * x }");
    assert_eq!(
        primal,
        "\
fn f(%x.0 active, %y.1 active) {
    %s.2 = mul %x.0, %y.1    // active
    %t.3 = sin %s.2    // active
    %4 = mul %t.3, %x.0    // active
    yield %4
}
"
    );
    assert_eq!(
        adjoint,
        "\
fn f_vjp(%x.0 active, %y.1 active, %seed.5) {
    %s.2 = mul %x.0, %y.1    // active
    %t.3 = sin %s.2    // active
    %4 = mul %t.3, %x.0    // active
    %dt.6, %dx.7 = pullback mul %t.3, %x.0, %seed.5, %seed.5
    %ds.8 = pullback sin %s.2, %dt.6, %dt.6
    %dx.9, %dy.10 = pullback mul %x.0, %y.1, %ds.8, %ds.8
    %dx.11 = add %dx.7, %dx.9
    yield %4, %dx.11, %dy.10
}
"
    );
}

#[test]
fn reassignment_makes_new_versions_and_inactive_values_get_no_adjoint() {
    let (primal, adjoint) = ir(
        "fn g(x: f64, n: usize) -> f64 { let mut a = x; a += 1.0; a *= n as f64; let k = (n * 2) as f64; a - k }",
    );
    assert_eq!(
        primal,
        "\
fn g(%x.0 active, %n.1) {
    %2 = lit 1.0
    %a.3 = add %x.0, %2    // active
    %4 = cast %n.1 as f64
    %a.5 = mul %a.3, %4    // active
    %6 = lit 2
    %7 = mul %n.1, %6
    %k.8 = cast %7 as f64
    %9 = sub %a.5, %k.8    // active
    yield %9
}
"
    );
    assert!(
        adjoint.ends_with(
            "\
    %da.11, %dk.12 = pullback sub %seed.10, %seed.10, %seed.10, %seed.10
    %da.13, %14 = pullback mul %da.11, %4, %da.11, %da.11
    %dx.15, %16 = pullback add %da.13, %da.13, %da.13, %da.13
    yield %9, %dx.15
}
"
        ),
        "{adjoint}"
    );
}

#[test]
fn piecewise_constant_results_are_inactive_and_multi_results_get_zeros() {
    let (primal, adjoint) = ir("fn h(x: f64) -> f64 { let (s, c) = x.sin_cos(); s * x.floor() }");
    assert_eq!(
        primal,
        "\
fn h(%x.0 active) {
    %s.1, %c.2 = sin_cos %x.0    // active
    %3 = floor %x.0
    %4 = mul %s.1, %3    // active
    yield %4
}
"
    );
    assert!(adjoint.contains("%dc.8 = zero_like %c.2"), "{adjoint}");
    assert!(
        adjoint.contains("%dx.9 = pullback sin_cos %ds.6, %s.1, %c.2, %ds.6, %dc.8"),
        "{adjoint}"
    );
}

#[test]
fn short_circuit_operands_are_regions() {
    let (primal, _) = ir("fn l(x: f64, n: usize) -> f64 { let ok = n > 0 && x < 2.0; x }");
    assert_eq!(
        primal,
        "\
fn l(%x.0 active, %n.1) {
    %2 = lit 0
    %3 = binary > %n.1, %2
    %ok.6 = and %3 {
        %4 = lit 2.0
        %5 = binary < %x.0, %4
        yield %5
    }
    yield %x.0
}
"
    );
}

/// Found by the fuzz pass: a tuple with an element that never completes was lowered as a
/// tuple, and the function yielded nothing (an internal error).
#[test]
fn regression_body_that_never_completes() {
    for source in [
        "fn f(x: f64) -> (f64, f64) { (loop {}, x) }",
        "fn f(x: f64) -> (f64, f64) { let y = x; (y, loop {}) }",
    ] {
        let found = errors(source);
        assert_eq!(found.len(), 1, "{source}: {found:?}");
        assert!(
            found[0].starts_with("this function never returns a value"),
            "{found:?}"
        );
    }
}

#[test]
fn errors_are_collected_in_source_order() {
    let found = errors(
        "fn e(x: f64) -> f64 { let a = x.to_string(); let b = |v: f64| v; let c = g(b); unsafe { x } }",
    );
    assert_eq!(found.len(), 3, "{found:?}");
    assert!(
        found[0].starts_with("no derivative rule for method `to_string`"),
        "{found:?}"
    );
    assert!(found[1].starts_with("a closure can be called"), "{found:?}");
    assert!(
        found[2].starts_with("`unsafe` blocks are not supported"),
        "{found:?}"
    );
}

#[test]
fn verifier_rejects_broken_ir() {
    let func = harness::accepted("fn f(x: f64) -> f64 { x.sin().cos() }")
        .primal
        .expect("lowered");
    func.verify().expect("valid as lowered");

    let mut twice = func.clone();
    let op = twice.body.ops[0].clone();
    twice.body.ops.push(op);
    assert!(twice.verify().unwrap_err().contains("defined twice"));

    let mut undefined = func.clone();
    undefined.body.yields = vec![crate::ir::Value(99)];
    let message = undefined.verify().unwrap_err();
    assert!(
        message.contains("yields %99, which is not defined"),
        "{message}"
    );

    let mut use_before_definition = func;
    use_before_definition.body.ops.reverse();
    let message = use_before_definition.verify().unwrap_err();
    assert!(message.contains("where it is not defined"), "{message}");
}

#[test]
fn accumulation_loop_stashes_nothing() {
    let (_, adjoint) = ir(
        "fn f(x: f64, c: f64, n: usize) -> f64 { let mut s = 0.0; for i in 0..n { s += c * x; } s }",
    );
    assert!(!adjoint.contains("stash"), "{adjoint}");
    assert!(!adjoint.contains("push"), "{adjoint}");
    // The reversed loop runs the range backwards, carrying the adjoints of `s`, `c` and `x`.
    assert!(adjoint.contains("= for %4..%n.2 rev init("), "{adjoint}");
}

#[test]
fn loops_stash_what_the_reverse_reads_and_recompute_the_rest() {
    let (primal, adjoint) = ir("fn g(x: f64, n: usize) -> f64 {
        let mut s = x;
        for i in 0..n {
            let t = s * s + (i as f64);
            if i % 2 == 0 { s = t.sin(); } else { s = t * x; }
        }
        s
    }");
    assert_eq!(
        primal,
        "\
fn g(%x.0 active, %n.1) {
    %2 = lit 0
    %s.15 = for %2..%n.1 init(%x.0) |%i.3, %s.4| {
        %5 = mul %s.4, %s.4    // active
        %6 = cast %i.3 as f64
        %t.7 = add %5, %6    // active
        %8 = lit 2
        %9 = rem %i.3, %8
        %10 = lit 0
        %11 = binary == %9, %10
        %s.14 = if %11 {
            %s.12 = sin %t.7    // active
            yield %s.12
        } else {
            %s.13 = mul %t.7, %x.0    // active
            yield %s.13
        }    // active
        yield %s.14
    }    // active
    yield %s.15
}
"
    );
    // One value per iteration: the old `s`. `t` is recomputed from it and the index, and so
    // is the branch taken.
    assert!(adjoint.contains("stash @0: Stack\n"), "{adjoint}");
    assert!(!adjoint.contains("stash @1"), "{adjoint}");
    assert!(adjoint.contains("push @0 %s.4\n"), "{adjoint}");
    assert!(adjoint.contains("pop @0\n"), "{adjoint}");
}

#[test]
fn early_exits_become_flags_and_guarded_regions() {
    let (primal, _) = ir("fn r(x: f64, n: usize) -> f64 {
        for i in 0..n {
            if x > 1.0 { return x; }
        }
        x * 2.0
    }");
    assert!(primal.contains("exits"), "{primal}");
    assert!(primal.contains("= placeholder"), "{primal}");
    // The tail runs only if no `return` happened: `if !ret { .. }`, then `if ret { retval }`.
    assert!(primal.contains("unary ! %ret"), "{primal}");
}

/// The table "What loops keep for the reverse sweep" of docs/supported.md.
#[test]
fn stash_per_iteration_matches_the_documentation() {
    let cases: [(&str, &[&str]); 7] = [
        ("s += c * x;", &[]),
        ("s += if i % 3 == 0 { x } else { -2.0 * x };", &[]),
        ("s *= x;", &["stash @0: Stack", "push @0 %s.5"]),
        (
            "s = c * s * (1.0 - s);",
            &["stash @0: Stack", "push @0 %s.5"],
        ),
        ("s = s.sin() + x;", &["stash @0: Stack", "push @0 %s.5"]),
        // `exp`'s rule reads its result: the new `s`.
        ("s = s.exp();", &["stash @0: Stack", "push @0 %s.6"]),
        // The root is kept inside the arm; the condition as a bit.
        (
            "if s > 1.0 { s = s.sqrt(); }",
            &[
                "stash @0: Stack",
                "stash @1: Bits",
                "push @0 %s.8",
                "push @1 %7",
            ],
        ),
    ];
    for (body, expected) in cases {
        let source = format!(
            "fn f(x: f64, c: f64, n: usize) -> f64 {{ let mut s = x; for i in 0..n {{ {body} }} s }}"
        );
        let (_, adjoint) = ir(&source);
        let stashes: Vec<&str> = adjoint
            .lines()
            .map(str::trim)
            .filter(|l| l.starts_with("push") || l.starts_with("stash"))
            .collect();
        assert_eq!(stashes, expected, "{body}\n{adjoint}");
    }
}

#[test]
fn newton_keeps_the_old_iterate_a_bit_and_the_trip_count() {
    let (_, adjoint) = ir("fn s(a: f64) -> f64 {
        let mut x = a.max(1.0);
        while (x * x - a).abs() > 1e-12 * a.max(1.0) {
            x = 0.5 * (x + a / x);
        }
        x
    }");
    let stashes: Vec<&str> = adjoint
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("push") || l.starts_with("stash") || l.contains(" trips "))
        .collect();
    assert_eq!(stashes.len(), 5, "{adjoint}");
    assert!(
        adjoint.contains("stash @0: Stack") && adjoint.contains("stash @1: Bits"),
        "{adjoint}"
    );
    assert!(adjoint.contains(") trips |"), "{adjoint}");
}

#[test]
fn calls_reverse_to_pullbacks_with_slots_and_entry_copies() {
    let (primal, adjoint) = ir(
        "fn f(w: &[f64], x: f64) -> f64 { let mut h = vec![x; 2]; scale(&mut h, x); let y = layer(w, &h); y[0] * g(x) }",
    );
    assert_eq!(
        primal,
        "\
fn f(%w.0 active, %x.1 active) {
    %2 = lit 2
    %h.3 = vec [%x.1; %2]    // active
    %4, %h.5 = call scale(&mut %h.3, %x.1)    // active
    %y.6 = call layer(%w.0, &%h.5)    // active
    %7 = lit 0
    %8 = index %y.6, %7    // active
    %9 = call g(%x.1)    // active
    %10 = mul %8, %9    // active
    yield %10
}
"
    );
    // `scale` may write `h`: its pullback gets `h` as it was before the call (`%11`), and
    // turns `h`'s buffer from the adjoint after the call into the one before it.
    assert!(
        adjoint.contains("%11 = copy %h.3\n    %4, %h.5 = call scale(&mut %h.3 entry %11, %x.1)"),
        "{adjoint}"
    );
    assert!(
        adjoint.contains("pullback layer(%w.0, &%h.5) seed &mut %dy."),
        "{adjoint}"
    );
    assert!(
        adjoint.contains("pullback scale(&mut %11, %x.1) seed none slots (%dh."),
        "{adjoint}"
    );
}

#[test]
fn reduction_loop_fuses_with_its_reverse() {
    let (adjoint, fused) = fused(
        "fn f(x: &[f64], a: f64) -> f64 {
            let mut s = 0.0;
            for i in 0..x.len() { let t = (a * x[i]).sin(); s += t * t; }
            s
        }",
    );
    // Unfused: a forward loop keeping `sin`'s operand, and a reversed loop popping it.
    assert_eq!(adjoint.matches("= for ").count(), 2, "{adjoint}");
    assert!(adjoint.contains(" rev "), "{adjoint}");
    // Fused: one loop, forward; what it pushed would be popped straight back in the same
    // iteration, so it is not pushed at all (the pop's uses read the value itself); `a`'s
    // adjoint is accumulated by the loop.
    let fused = fused.expect("the loop fuses");
    assert_eq!(fused.matches("= for ").count(), 1, "{fused}");
    assert!(!fused.contains(" rev "), "{fused}");
    assert!(!fused.contains("reserve"), "{fused}");
    assert!(
        !fused.contains("push @") && !fused.contains("pop @"),
        "{fused}"
    );
}

#[test]
fn loops_that_carry_adjoints_backwards_are_not_fused() {
    // The product's adjoint changes from iteration to iteration.
    let (_, product) =
        fused("fn f(x: &[f64]) -> f64 { let mut s = 1.0; for i in 0..x.len() { s *= x[i]; } s }");
    assert!(product.is_none(), "{product:?}");
    // The sum's adjoint comes from `sin`'s rule, which reads the loop's result.
    let (_, read_after) = fused(
        "fn f(x: &[f64]) -> f64 { let mut s = 0.0; for i in 0..x.len() { s += x[i]; } s.sin() }",
    );
    assert!(read_after.is_none(), "{read_after:?}");
    // An element written in one iteration and read in the next.
    let (_, recurrence) = fused(
        "fn f(x: &[f64]) -> f64 {
            let mut y = vec![0.0; x.len() + 1];
            for i in 0..x.len() { y[i + 1] = y[i] * 0.5 + x[i]; }
            y[x.len()]
        }",
    );
    assert!(recurrence.is_none(), "{recurrence:?}");
}

#[test]
fn reverse_loops_that_cannot_fuse_replay_cheap_recurrences() {
    let (adjoint, replayed) = fused(
        "fn f(c: &[f64], n: usize) -> f64 {
            let t = 1.0 / n as f64;
            let mut r = 0.0;
            let mut power = 1.0;
            for i in 0..c.len() { r -= c[i] * power; power *= t; }
            r * r
        }",
    );
    // Unfused: the forward loop keeps `power`, the reversed loop pops it.
    assert!(
        adjoint.contains("push @0") && adjoint.contains(" rev "),
        "{adjoint}"
    );
    // Replayed: nothing kept; the reverse loop runs forwards, carrying `power` from its
    // initial value and multiplying it again.
    let replayed = replayed.expect("the recurrence is replayed");
    assert!(
        !replayed.contains("push @") && !replayed.contains("pop @"),
        "{replayed}"
    );
    assert!(!replayed.contains(" rev "), "{replayed}");
    assert_eq!(replayed.matches("= for ").count(), 2, "{replayed}");
    // A factor read through a reference may change between the loops: kept, not replayed.
    let (_, through_reference) = fused_with(
        "wrt(c)",
        "fn f(c: &[f64], t: &f64) -> f64 {
            let mut r = 0.0;
            let mut power = 1.0;
            for i in 0..c.len() { r -= c[i] * power; power *= *t; }
            r * r
        }",
    );
    assert!(through_reference.is_none(), "{through_reference:?}");
}

#[test]
fn loads_that_no_later_write_reaches_are_loaded_again() {
    // A scratch matrix filled row by row: row `r` is written, then read, and only later rows
    // are written after the reads. The reverse sweep loads `sc[r * w + j]` again: nothing is
    // pushed for the `sin`, whose rule reads its operand.
    let scratch = |after: &str| {
        let (adjoint, _) = fused(&format!(
            "fn f(a: &[f64], t: f64) -> f64 {{
                let w = a.len();
                let mut sc = vec![0.0; 3 * w];
                let mut s = 0.0;
                for r in 0..3 {{
                    for j in 0..w {{ sc[r * w + j] = a[j] * t; }}
                    for j in 0..w {{ s += sc[r * w + j].sin(); }}
                    {after}
                }}
                s * s
            }}"
        ));
        adjoint
    };
    let reloaded = scratch("");
    assert!(!reloaded.contains("push @"), "{reloaded}");
    // One load in the forward loop, its repetition in the reversed one, from the container.
    assert_eq!(reloaded.matches("= index %sc.").count(), 2, "{reloaded}");
    // Written again after the read, in the same row: the element the reverse would load is
    // not the one read, so it is kept.
    let rewritten = scratch("for j in 0..w { sc[r * w + j] *= 2.0; }");
    assert!(rewritten.contains("push @"), "{rewritten}");
    // The previous row read (`(r - 1) * w + j`): not an index the analysis can tell apart
    // from the next row's writes, so it is kept too.
    let (previous, _) = fused(
        "fn f(a: &[f64], t: f64) -> f64 {
            let w = a.len();
            let mut sc = vec![0.0; 3 * w];
            let mut s = 0.0;
            for r in 1..3 {
                for j in 0..w { sc[r * w + j] = a[j] * t; }
                for j in 0..w { s += sc[(r - 1) * w + j].sin(); }
            }
            s * s
        }",
    );
    assert!(previous.contains("push @"), "{previous}");
    // A width the loop carries (`w -= 1` per row) is tests/regressions.rs'
    // `rows_of_shrinking_width`, checked against central differences.
}

#[test]
fn loads_from_a_table_never_written_again_are_recomputed() {
    // `e` is filled by the first loop and only read after it: the second loop's reverse reads
    // `e[i]` again instead of keeping it (it keeps only the carried `s`, for `sin`).
    let (adjoint, _) = fused(
        "fn f(q: &[f64], x: &[f64]) -> f64 {
            let mut e = vec![0.0; q.len()];
            for j in 0..q.len() { e[j] = q[j].exp(); }
            let mut s = 0.0;
            for i in 0..x.len() { s = (s + e[i] * x[i]).sin(); }
            s
        }",
    );
    let pushes: Vec<&str> = adjoint.lines().filter(|l| l.contains("push @")).collect();
    assert_eq!(pushes.len(), 2, "{adjoint}");
    assert!(
        pushes.iter().all(|p| p.matches('%').count() == 1),
        "one value each: {adjoint}"
    );
}

#[test]
fn products_and_quotients_by_constants_do_not_keep_the_other_operand() {
    // `0.5 * x[i].sin()`: the sine's adjoint is `0.5 dy`, so the sine itself is not kept
    // (its own rule reads only its operand, which is recomputed); likewise the quotient of
    // `/ c`, which only `c`'s adjoint would read.
    let (adjoint, _) = fused(
        "fn f(x: &[f64], c: usize) -> f64 {
            let mut s = 0.0;
            for i in 0..x.len() { s = s + 0.5 * x[i].sin() + x[i].cos() / c as f64; }
            s
        }",
    );
    assert!(!adjoint.contains("push"), "{adjoint}");
}
#[test]
fn adds_to_one_element_in_every_iteration_are_summed_in_a_register() {
    let source = |index: &str| {
        format!(
            "fn f(a: &[f64], m: &[f64], w: usize) -> f64 {{
                let mut s = 0.0;
                for c in 0..m.len() / 2 {{
                    let mut z = 0.0;
                    for j in 0..w {{ z += (m[{index}] * a[j]).sin(); }}
                    s += z * z;
                }}
                s
            }}"
        )
    };
    // `dm[2 c + 1]` gets an add from every iteration of the inner reverse loop: the loop
    // carries the sum, added once after it (if it ran).
    let (adjoint, promoted) = fused(&source("2 * c + 1"));
    let promoted = promoted.expect("the adds are promoted");
    let inner = |program: &str| {
        let start = program.find(" rev init(").expect("a reverse loop");
        let end = start + program[start..].find("        }\n").expect("its end");
        program[start..end].to_string()
    };
    assert!(inner(&adjoint).contains("buffer_add %dm"), "{adjoint}");
    assert!(!inner(&promoted).contains("buffer_add %dm"), "{promoted}");
    assert!(promoted.contains("binary < "), "{promoted}");
    assert_eq!(promoted.matches("buffer_add %dm").count(), 1, "{promoted}");
    // An index that changes with the inner loop is left alone.
    let (_, varying) = fused(&source("c + j"));
    assert!(varying.is_none_or(|p| inner(&p).contains("buffer_add %dm")));
}
