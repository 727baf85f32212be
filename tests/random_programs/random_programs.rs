//! The end-to-end layer of the differential tests: random functions written by the build
//! script (`build.rs` beside this file), compiled by rustc through the real `#[reverse]`, and checked at random
//! points: `f_grad(..).0` is bitwise `f(..)`, `f_vjp` with a seed is the seed times the
//! gradient, and the gradient matches central differences wherever the function is smooth.
//!
//! A failure prints the seed; `AD_FUZZ_SEED=<seed> cargo test -p random-programs` rebuilds the
//! same functions (docs/testing.md).

use program_generator::{self as generator, Param, Rng};

/// A parameter's kind, as the generated wrappers take it.
#[derive(Clone, Copy)]
enum Kind {
    Float,
    Slice,
    /// `[f64; len]` by value.
    Array(usize),
    Int,
    /// `&[[f64; 2]]`, two rows (four floats in `s`).
    Rows,
    /// `&[Vec<f64>]`, rows of `generator::RAGGED_ROWS` elements (their floats in `s`).
    Ragged,
    /// `&P`, a parameter struct: its `b` and its `w`, two slices in `s`.
    Struct,
    /// `&[(usize, usize)]`, inactive: always `generator::PAIRS`.
    Pairs,
}

/// The rows `[f64; 2]` of flat floats.
fn rows(flat: &[f64]) -> Vec<[f64; 2]> {
    flat.chunks(2).map(|c| [c[0], c[1]]).collect()
}

/// The rows `Vec<f64>` of flat floats, of `generator::RAGGED_ROWS` elements.
fn ragged(flat: &[f64]) -> Vec<Vec<f64>> {
    let mut rest = flat;
    let mut rows = Vec::new();
    for n in generator::RAGGED_ROWS {
        let (row, tail) = rest.split_at(n);
        rows.push(row.to_vec());
        rest = tail;
    }
    rows
}

/// A function's arguments by kind, each in parameter order (slices and arrays in `s`).
#[derive(Clone)]
struct Args {
    x: Vec<f64>,
    s: Vec<Vec<f64>>,
    n: Vec<usize>,
}

/// The value and the gradient (or vector-Jacobian product), flat: floats, then slices.
type Gradient = (f64, Vec<f64>);

/// `f_jvp` at the arguments along a direction: the value and the tangent.
type Jvp = fn(&Args, &Args) -> (f64, f64);

/// `f_hvp` at the arguments along a direction: the value, the gradient and the product.
type Hvp = fn(&Args, &Args) -> (f64, Vec<f64>, Vec<f64>);

/// A generated function with wrappers taking its arguments grouped.
struct Case {
    name: &'static str,
    program_seed: u64,
    source: &'static str,
    params: &'static [Kind],
    call: fn(&Args) -> f64,
    grad: fn(&Args) -> Gradient,
    vjp: fn(&Args, f64) -> Gradient,
    /// `f_jvp` along a direction shaped as the arguments (its integers unused), where the
    /// macro generates forward mode for the function.
    jvp: Option<Jvp>,
    /// `f_hvp` along a direction: the value, the gradient and the product, flat.
    hvp: Option<Hvp>,
}

include!(concat!(env!("OUT_DIR"), "/random_programs.rs"));

/// Points per function.
const POINTS: usize = 3;

#[test]
fn random_programs_compile_and_differentiate_correctly() {
    eprintln!(
        "random programs: seed {SEED}, {} functions, {POINTS} points each",
        CASES.len()
    );
    // A hunt (`AD_FUZZ_KEEP_GOING` set) reports every failing function, not the first.
    let keep_going = std::env::var_os("AD_FUZZ_KEEP_GOING").is_some();
    let mut failures = Vec::new();
    let mut checked = 0;
    for (index, case) in CASES.iter().enumerate() {
        let mut rng = Rng::new(SEED ^ (index as u64).wrapping_mul(0x9e37_79b9));
        for _ in 0..POINTS {
            // A panic of the generated code (an index out of bounds, an empty stash) is a
            // failure of this function, reported with its source.
            let result =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(case, &mut rng)))
                    .unwrap_or_else(|panic| {
                        let message = (panic.downcast_ref::<String>().cloned())
                            .or_else(|| panic.downcast_ref::<&str>().map(ToString::to_string));
                        Err(format!("panicked: {}", message.unwrap_or_default()))
                    });
            match result {
                Ok(true) => checked += 1,
                Ok(false) => {}
                Err(failure) => {
                    failures.push(format!(
                        "random program {} (program seed {}, build seed {SEED}) failed:\n{failure}\n\n{}",
                        case.name, case.program_seed, case.source
                    ));
                    break;
                }
            }
        }
        if !failures.is_empty() && !keep_going {
            break;
        }
    }
    assert!(
        failures.is_empty(),
        "{}\n{} failing functions\nreproduce: AD_FUZZ_SEED={SEED} cargo test -p random-programs",
        failures.join("\n\n"),
        failures.len()
    );
    assert!(
        checked * 2 > CASES.len() * POINTS,
        "most points must have finite values: {checked} of {}",
        CASES.len() * POINTS
    );
}

/// Checks `case` at a random point; `Ok(false)` when the value there is not finite or too
/// large for the derivatives to be compared.
fn check(case: &Case, rng: &mut Rng) -> Result<bool, String> {
    let params: Vec<Param> = case
        .params
        .iter()
        .map(|k| match k {
            Kind::Float => Param::Float(String::new()),
            Kind::Slice => Param::Slice(String::new()),
            Kind::Array(len) => Param::Array(String::new(), *len, false),
            Kind::Int => Param::Int(String::new()),
            Kind::Rows => Param::Rows(String::new()),
            Kind::Ragged => Param::Ragged(String::new()),
            Kind::Struct => Param::Struct(String::new()),
            Kind::Pairs => Param::Pairs(String::new()),
        })
        .collect();
    let (x, s, n) = generator::arguments(&params, rng);
    let args = Args { x, s, n };
    let value = (case.call)(&args);
    if !value.is_finite() || value.abs() > 1e6 {
        return Ok(false);
    }
    let (v, gradient) = (case.grad)(&args);
    if v.to_bits() != value.to_bits() {
        return Err(format!("f_grad's value {v:e} differs from f's {value:e}"));
    }
    let seed = rng.float(-2.0, 2.0);
    let (v, product) = (case.vjp)(&args, seed);
    if v.to_bits() != value.to_bits() {
        return Err(format!("f_vjp's value {v:e} differs from f's {value:e}"));
    }
    for (j, (&g, &p)) in gradient.iter().zip(&product).enumerate() {
        if !agree(p, seed * g, 1e-10) {
            return Err(format!(
                "input {j}: f_vjp with seed {seed} gives {p:e}, the gradient times it {:e}",
                seed * g
            ));
        }
    }
    // Central differences where the function is smooth: the one-sided slopes agree (no kink at
    // the point) and so do two step sizes (no kink or jump nearby).
    let at = |j: usize, delta: f64| {
        let mut moved = args.clone();
        let mut k = j;
        if k < moved.x.len() {
            moved.x[k] += delta;
        } else {
            k -= moved.x.len();
            let slice = moved.s.iter_mut().find(|v| {
                let here = k < v.len();
                if !here {
                    k -= v.len();
                }
                here
            });
            slice.expect("the gradient has one entry per float input")[k] += delta;
        }
        (case.call)(&moved)
    };
    let inputs: Vec<f64> = args
        .x
        .iter()
        .chain(args.s.iter().flatten())
        .copied()
        .collect();
    if gradient.len() != inputs.len() {
        return Err(format!(
            "the gradient has {} entries for {} float inputs",
            gradient.len(),
            inputs.len()
        ));
    }
    for (j, &g) in gradient.iter().enumerate() {
        let h = 1e-5 * inputs[j].abs().max(1.0);
        let slopes = |h: f64| ((at(j, h) - value) / h, (value - at(j, -h)) / h);
        let (ahead, behind) = slopes(h);
        let (ahead2, behind2) = slopes(h / 2.0);
        let (d1, d2) = ((ahead + behind) / 2.0, (ahead2 + behind2) / 2.0);
        if agree(ahead, behind, 1e-3) && agree(d1, d2, 1e-5) && !agree(g, d2, 1e-4) {
            return Err(format!(
                "input {j} at {:?} {:?} {:?}: the gradient is {g:e}, central differences give {d2:e}",
                args.x, args.s, args.n
            ));
        }
    }
    check_forward(case, &args, value, &gradient, rng)?;
    Ok(true)
}

/// `f_jvp` along a random direction `d` against the gradient (`⟨∇f, d⟩`, the vector-Jacobian
/// product's side of `⟨u, J d⟩`), and `f_hvp` against the gradient and against central
/// differences of `f_grad` along `d` where the gradient is smooth there.
fn check_forward(
    case: &Case,
    args: &Args,
    value: f64,
    gradient: &[f64],
    rng: &mut Rng,
) -> Result<(), String> {
    let mut d = args.clone();
    for t in d.x.iter_mut().chain(d.s.iter_mut().flatten()) {
        *t = rng.float(-1.0, 1.0);
    }
    let direction: Vec<f64> = d.x.iter().chain(d.s.iter().flatten()).copied().collect();
    let along = |g: &[f64]| g.iter().zip(&direction).map(|(a, b)| a * b).sum::<f64>();
    let scale = |g: &[f64]| {
        g.iter()
            .zip(&direction)
            .map(|(a, b)| (a * b).abs())
            .sum::<f64>()
    };
    if let Some(jvp) = case.jvp {
        let (v, tangent) = jvp(args, &d);
        if v.to_bits() != value.to_bits() {
            return Err(format!("f_jvp's value {v:e} differs from f's {value:e}"));
        }
        let expected = along(gradient);
        if !((tangent - expected).abs() <= 1e-9 * scale(gradient).max(1.0)
            || tangent.is_nan() && expected.is_nan())
        {
            return Err(format!(
                "f_jvp along {direction:?} gives {tangent:e}, the gradient's inner product with it {expected:e}"
            ));
        }
    }
    let Some(hvp) = case.hvp else { return Ok(()) };
    let (v, g, hv) = hvp(args, &d);
    if v.to_bits() != value.to_bits() {
        return Err(format!("f_hvp's value {v:e} differs from f's {value:e}"));
    }
    for (j, (&a, &b)) in g.iter().zip(gradient).enumerate() {
        if !agree(a, b, 1e-10) {
            return Err(format!("input {j}: f_hvp's gradient {a:e}, f_grad's {b:e}"));
        }
    }
    // Central differences of the gradient along `d`, at two step sizes that must agree.
    let moved = |h: f64| {
        let mut m = args.clone();
        for (a, t) in
            m.x.iter_mut()
                .chain(m.s.iter_mut().flatten())
                .zip(&direction)
        {
            *a += h * t;
        }
        (case.grad)(&m).1
    };
    let h = 1e-5;
    let central = |h: f64| -> Vec<f64> {
        let (ahead, behind) = (moved(h), moved(-h));
        ahead
            .iter()
            .zip(&behind)
            .map(|(a, b)| (a - b) / (2.0 * h))
            .collect()
    };
    let (c1, c2) = (central(h), central(h / 2.0));
    for (j, &p) in hv.iter().enumerate() {
        if agree(c1[j], c2[j], 1e-5) && !agree(p, c2[j], 1e-4) {
            return Err(format!(
                "input {j} at {:?} {:?} {:?} along {direction:?}: the Hessian-vector product is {p:e}, central differences of the gradient give {:e}",
                args.x, args.s, args.n, c2[j]
            ));
        }
    }
    Ok(())
}

/// `a` and `b` agree to `tol`, relative to their size (or both are NaN).
fn agree(a: f64, b: f64, tol: f64) -> bool {
    (a.is_nan() && b.is_nan()) || (a - b).abs() <= tol * a.abs().max(b.abs()).max(1.0)
}
