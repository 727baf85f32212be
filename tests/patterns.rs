//! `if let`, `while let`, `let else`, struct and tuple-struct patterns of inactive values, and
//! labelled blocks, written as Rust users write them. Each gradient against its closed form
//! and central differences, each value bitwise against the original function.

mod common;

use ad_runtime::{check, reverse};
use common::{FD_TOL, assert_close, check1};

/// How a sample is weighted, chosen at run time.
#[derive(Clone, Copy)]
pub enum Weight {
    Fixed(f64),
    Ramp { from: f64, slope: f64 },
    Skip,
}

/// A configuration passed by value and destructured.
#[derive(Clone, Copy)]
pub struct Settings {
    pub scale: f64,
    pub power: i32,
}

/// A newtype index.
#[derive(Clone, Copy)]
pub struct Index(pub usize);

/// `if let` on an optional weight, `else` when there is none.
#[reverse(wrt(x))]
fn weighted(x: f64, w: Option<f64>) -> f64 {
    if let Some(w) = w {
        w * x.sin()
    } else {
        x.cos()
    }
}

/// `let else` leaving early, then the bound value.
#[reverse(wrt(x))]
fn first_or_square(x: f64, ks: &[usize]) -> f64 {
    let Some(&k) = ks.first() else {
        return x * x;
    };
    x.powi(k as i32)
}

/// `()` as a value, in an inactive `Result` matched with its payload.
#[reverse(wrt(x))]
fn checked_pick(x: &[f64], idx: usize) -> f64 {
    let r: Result<usize, ()> = match idx {
        0 | 1 => Ok(idx),
        _ => Err(()),
    };
    match r {
        Ok(i) => x[i] * 2.0,
        Err(()) => x.len() as f64,
    }
}

/// `while let` over a stack of indices, popping until empty.
#[reverse(wrt(x))]
fn pop_all(x: &[f64], order: &[usize]) -> f64 {
    let mut stack = order.to_vec();
    let mut s = 0.0;
    while let Some(i) = stack.pop() {
        s = s * 0.5 + x[i].sin();
    }
    s
}

/// A `match` with payloads of an enum passed by value, and a struct destructured by `let`.
#[reverse(wrt(x))]
fn configured(x: f64, weight: Weight, settings: Settings, at: Index) -> f64 {
    let Settings { scale, power } = settings;
    let Index(i) = at;
    let w = match weight {
        Weight::Fixed(w) => w,
        Weight::Ramp { from, slope } => from + slope * i as f64,
        Weight::Skip => 0.0,
    };
    scale * w * x.powi(power)
}

/// Shapes indexing the active slice: `sh` is `&Shape` in Rust, so `r_idx` is `&usize` and
/// `*r_idx` reads it; the generated code holds them as values (a user trial found the `*`
/// kept there, which did not compile).
#[derive(Clone, Copy)]
pub enum Part {
    One { at: usize },
    Two(usize, usize),
    Nothing,
}

#[reverse(wrt(x))]
fn parts(x: &[f64], parts: &[Part]) -> f64 {
    let mut t = 0.0;
    for part in parts {
        t += match part {
            Part::One { at } => x[*at],
            Part::Two(a, b) => x[*a] * x[*b],
            Part::Nothing => 0.0,
        };
    }
    t + x
        .iter()
        .enumerate()
        .filter(|(i, _)| *i % 2 == 0)
        .map(|(_, v)| v)
        .sum::<f64>()
}

/// A labelled block searching for a threshold and leaving with a value.
#[reverse(wrt(x))]
fn search(x: f64, limits: &[f64]) -> f64 {
    let found = 'search: {
        for (k, &limit) in limits.iter().enumerate() {
            if x < limit {
                break 'search x * (k + 1) as f64;
            }
        }
        x.exp()
    };
    found * x
}

#[test]
fn if_let_and_let_else() {
    for w in [Some(2.5), None] {
        check1(
            "weighted",
            |x| weighted(x, w),
            |x| weighted_grad(x, w),
            |x| match w {
                Some(w) => w * x.cos(),
                None => -x.sin(),
            },
            &[0.5, -1.25, 0.0],
        );
    }
    for ks in [vec![3usize, 1], vec![]] {
        check1(
            "first_or_square",
            |x| first_or_square(x, &ks),
            |x| first_or_square_grad(x, &ks),
            |x| match ks.first() {
                Some(&k) => k as f64 * x.powi(k as i32 - 1),
                None => 2.0 * x,
            },
            &[0.5, -1.25, 2.0],
        );
    }
}

#[test]
fn unit_values() {
    let x = [0.5, -1.5];
    for (idx, want) in [(1, [0.0, 2.0]), (7, [0.0, 0.0])] {
        let (value, dx) = checked_pick_grad(&x, idx);
        assert_eq!(value.to_bits(), checked_pick(&x, idx).to_bits());
        assert_eq!(dx, want);
    }
}

#[test]
fn while_let_pops() {
    let x = [0.5, -1.0, 2.0];
    let order = [0usize, 2, 1, 2];
    let (value, dx) = pop_all_grad(&x, &order);
    assert_eq!(value.to_bits(), pop_all(&x, &order).to_bits());
    // Popped last to first: 2, 1, 2, 0; each term is halved once per later pop.
    let mut want = [0.0; 3];
    for (age, &i) in order.iter().enumerate() {
        want[i] += 0.5f64.powi(age as i32) * x[i].cos();
    }
    for i in 0..3 {
        assert_close("dpop/dx", dx[i], want[i]);
    }
    check::gradient(|p| pop_all(p, &order), &x, &dx).assert_within(FD_TOL);
    assert_eq!(pop_all_grad(&x, &[]), (0.0, vec![0.0; 3]));
}

#[test]
fn payloads_and_struct_patterns() {
    let settings = Settings {
        scale: 1.5,
        power: 3,
    };
    for (weight, w) in [
        (Weight::Fixed(2.0), 2.0),
        (
            Weight::Ramp {
                from: 0.5,
                slope: 0.25,
            },
            0.5 + 0.25 * 4.0,
        ),
        (Weight::Skip, 0.0),
    ] {
        check1(
            "configured",
            |x| configured(x, weight, settings, Index(4)),
            |x| configured_grad(x, weight, settings, Index(4)),
            |x| 1.5 * w * 3.0 * x * x,
            &[0.5, -1.25, 2.0],
        );
    }
}

#[test]
fn derefs_of_bound_integers() {
    let x = [0.5, -1.5, 2.0];
    let list = [Part::One { at: 1 }, Part::Two(0, 2), Part::Nothing];
    let (value, dx) = parts_grad(&x, &list);
    assert_eq!(value.to_bits(), parts(&x, &list).to_bits());
    let want = [x[2] + 1.0, 1.0, x[0] + 1.0];
    for i in 0..3 {
        assert_close("dparts/dx", dx[i], want[i]);
    }
    check::gradient(|p| parts(p, &list), &x, &dx).assert_within(FD_TOL);
}

#[test]
fn labelled_blocks() {
    let limits = [-1.0, 0.5, 3.0];
    check1(
        "search",
        |x| search(x, &limits),
        |x| search_grad(x, &limits),
        |x| match limits.iter().position(|&l| x < l) {
            Some(k) => 2.0 * (k + 1) as f64 * x,
            None => x.exp() * (1.0 + x),
        },
        &[-2.0, 0.25, 1.0, 4.0],
    );
}

/// A `match` on a tuple written in place: literals, wildcards, names, guards, alternatives,
/// on inactive integers and an active float's comparison.
#[reverse]
fn grid_weight(x: f64, i: usize, j: usize) -> f64 {
    let w = match (i, j) {
        (0, 0) => x * x,
        (0, _) | (_, 0) => 2.0 * x,
        (a, b) if a == b => x.sin() * a as f64,
        (a, _) => x.exp() + a as f64,
    };
    match (x > 0.0, i % 2) {
        (true, 0) => w * x,
        (false, _) => w - x,
        _ => w,
    }
}

#[test]
fn match_on_a_tuple_written_in_place() {
    for (i, j) in [(0, 0), (0, 3), (2, 0), (2, 2), (3, 1)] {
        let f = move |x: f64| grid_weight(x, i, j);
        let closed = move |x: f64| {
            let (w, dw) = match (i, j) {
                (0, 0) => (x * x, 2.0 * x),
                (0, _) | (_, 0) => (2.0 * x, 2.0),
                (a, b) if a == b => (x.sin() * a as f64, x.cos() * a as f64),
                (a, _) => (x.exp() + a as f64, x.exp()),
            };
            match (x > 0.0, i % 2) {
                (true, 0) => w + x * dw,
                (false, _) => dw - 1.0,
                _ => dw,
            }
        };
        check1(
            "grid_weight",
            f,
            move |x| grid_weight_grad(x, i, j),
            closed,
            &[-0.75, 0.5, 1.25],
        );
    }
}

/// Rest patterns in a tuple written in place.
#[reverse]
fn corner(x: f64, i: usize, j: usize, k: usize) -> f64 {
    match (i, j, k) {
        (0, ..) => x * 2.0,
        (_, 1, _) => x * x,
        (.., 2) => x.sin(),
        _ => x,
    }
}

#[test]
fn rest_patterns_in_a_tuple() {
    for (i, j, k, want) in [
        (0, 5, 5, 2.0),
        (1, 1, 2, 2.0 * 0.5),
        (1, 0, 2, 0.5f64.cos()),
        (1, 0, 0, 1.0),
    ] {
        let (value, dx) = corner_grad(0.5, i, j, k);
        assert_eq!(value.to_bits(), corner(0.5, i, j, k).to_bits());
        assert_close("corner'", dx, want);
    }
}

/// Tuples of an inactive container (`&[(usize, usize)]` edges, `&[(usize, f64)]` anchors):
/// `for &(i, j) in pairs`, `.copied()`, `let (i, r) = rest[k];`.
#[allow(
    clippy::needless_range_loop,
    reason = "`let (i, r) = rest[k];` is the form under test"
)]
#[reverse(wrt(x))]
fn springs(x: &[f64], pairs: &[(usize, usize)], rest: &[(usize, f64)]) -> f64 {
    let mut e = 0.0;
    for &(i, j) in pairs {
        e += (x[i] - x[j]).powi(2);
    }
    for k in 0..rest.len() {
        let (i, r) = rest[k];
        e += (x[i] - r).powi(2) * 0.5;
    }
    for (i, j) in pairs.iter().copied() {
        e += x[i] * x[j];
    }
    e
}

#[test]
fn tuples_of_an_inactive_container() {
    let (x, pairs, rest) = ([1.0, 2.0, 4.0], [(0, 1), (1, 2)], [(2, 3.0)]);
    let (value, dx) = springs_grad(&x, &pairs, &rest);
    assert_eq!(value.to_bits(), springs(&x, &pairs, &rest).to_bits());
    // Closed form: 15.5 = (1 + 4) + 0.5 + (2 + 8).
    assert_eq!(value, 15.5);
    assert_eq!(dx, vec![0.0, 3.0, 7.0]);
}

/// A struct made by a literal in the function: fields read, written (`+=` too), carried by a
/// loop, chosen by an `if`, destructured; a literal of inactive values read by field.
#[derive(Clone, Copy)]
struct Point {
    x: f64,
    y: f64,
}

#[reverse]
fn struct_literals(a: f64, b: f64, n: usize) -> f64 {
    let mut p = Point { x: a * 2.0, y: b };
    p.y += p.x * 0.5;
    for _ in 0..n {
        p.x = (p.x * p.y).sin();
    }
    let q = if a > 0.0 { Point { x: p.y, y: p.x } } else { p };
    let Point { x, y: w } = q;
    struct Config {
        k: usize,
        scale: f64,
    }
    let cfg = Config { k: 2, scale: 0.5 };
    (x * x + w * w).sqrt() * cfg.scale + cfg.k as f64
}

#[test]
fn struct_literals_are_their_fields() {
    for (a, b) in [(0.3, 0.7), (-0.3, 0.7), (1.2, -0.4)] {
        let (value, (da, db)) = struct_literals_grad(a, b, 2);
        assert_eq!(value.to_bits(), struct_literals(a, b, 2).to_bits());
        let f = |p: &[f64]| struct_literals(p[0], p[1], 2);
        let report = check::gradient(f, &[a, b], &[da, db]);
        assert!(report.is_within(FD_TOL), "({a}, {b}): {report}");
    }
}
