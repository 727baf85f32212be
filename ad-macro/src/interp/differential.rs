//! The in-process differential test: random programs (`program-generator`) go through
//! the macro's pipeline; the IR interpreter runs the primal, the adjoint program, and the
//! primal again with dual numbers (forward mode), once per input. The reverse-mode gradient
//! must match the forward-mode one to rounding, and central differences where the function
//! is smooth enough for them to mean something. A failure is shrunk to a small function and
//! reported with its seed.

use super::eval::{self, Library, Num, V, run};
use super::math::Dual;
use super::{generator, shrink};
use crate::ir::Func;
use crate::tests::harness;
use generator::{Function, Param, Program, RAGGED_ROWS, Rng};

/// What checking one function found.
pub enum Outcome {
    Checked,
    /// The value is not finite or too large to compare derivatives meaningfully.
    Skipped,
}

/// Checks every function of `program` (each after the ones it calls). `Err` describes the
/// first failure: a macro error or panic, an interpreter error, or a mismatch.
pub fn check_program(program: &Program, seed: u64, fd: bool) -> Result<(usize, usize), String> {
    let mut lib = Library::default();
    let mut rng = Rng::new(seed ^ 0x5eed);
    let (mut checked, mut skipped) = (0, 0);
    for f in &program.functions {
        match check_function(&mut lib, f, &mut rng, fd)? {
            Outcome::Checked => checked += 1,
            Outcome::Skipped => skipped += 1,
        }
    }
    Ok((checked, skipped))
}

/// Compiles `f` into `lib` and checks it at one random point.
pub fn check_function(
    lib: &mut Library,
    f: &Function,
    rng: &mut Rng,
    fd: bool,
) -> Result<Outcome, String> {
    let pipeline = harness::pipeline_caught(&f.print(""))?;
    let primal = pipeline.primal.ok_or("the body was not lowered")?;
    lib.primals.insert(f.name.clone(), primal);
    lib.adjoints.insert(f.name.clone(), pipeline.adjoint);
    let (layout, point) = Layout::draw(&f.params, rng);
    let primal = &lib.primals[&f.name];
    let adjoint = &lib.adjoints[&f.name];

    eval::take_overflowed();
    let value = output(run(lib, primal, layout.args::<f64>(&point, None))?)?;
    if !value.is_finite() || value.abs() > 1e6 || eval::take_overflowed() {
        return Ok(Outcome::Skipped);
    }
    let probe = Probe {
        lib,
        primal,
        layout,
        point,
        value,
    };
    let gradient = probe.reverse(adjoint, "adjoint")?;
    if let Some(fused) = &pipeline.fused {
        probe.check_fused(fused, &gradient)?;
    }
    probe.check_forward(&gradient, rng)?;
    if fd {
        probe.check_central(&gradient)?;
    }
    Ok(Outcome::Checked)
}

/// A function at one point, where its value is finite and not too large: what each check
/// of the reverse-mode gradient runs the programs with, and compares with.
struct Probe<'a> {
    lib: &'a Library,
    primal: &'a Func,
    layout: Layout<'a>,
    point: Vec<f64>,
    /// The primal's value at `point`.
    value: f64,
}

impl Probe<'_> {
    /// Reverse mode: the gradient the adjoint program `program` (`what`: which one, for the
    /// error) gives with seed 1, whose value must be the primal's, bitwise (`f_grad(x).0`
    /// is `f(x)`).
    fn reverse(&self, program: &Func, what: &str) -> Result<Vec<f64>, String> {
        let (layout, point, value) = (&self.layout, &self.point, self.value);
        let mut args = layout.args::<f64>(point, None);
        args.push(V::F(1.0));
        let yields = run(self.lib, program, args)?;
        let program_value = output(yields[..1].to_vec())?;
        if program_value.to_bits() != value.to_bits() {
            return Err(format!(
                "the {what} program's value {program_value:e} differs from the primal's {value:e}"
            ));
        }
        layout.gradient(&yields[1..])
    }

    /// The same with the loops fused (what `f_grad` runs): the same value, bitwise, and the
    /// same gradient but for the order of summation.
    fn check_fused(&self, fused: &Func, gradient: &[f64]) -> Result<(), String> {
        let fused_gradient = self.reverse(fused, "fused")?;
        for (j, (a, b)) in gradient.iter().zip(&fused_gradient).enumerate() {
            if !agree(*a, *b, 1e-9) {
                let point = &self.point;
                return Err(format!(
                    "input {j} at {point:?}: the fused program gives {b:e}, the unfused {a:e}"
                ));
            }
        }
        Ok(())
    }

    /// Forward mode: one dual-number run per input, for two inputs drawn at random (over
    /// thousands of programs every input position is covered, at a third of the cost).
    fn check_forward(&self, gradient: &[f64], rng: &mut Rng) -> Result<(), String> {
        let directions: Vec<usize> = match gradient.len() {
            0..=2 => (0..gradient.len()).collect(),
            n => vec![rng.below(n), rng.below(n)],
        };
        let point = &self.point;
        for j in directions {
            let reverse = gradient[j];
            let args = self.layout.args::<Dual>(point, Some(j));
            let tangent = output_dual(run(self.lib, self.primal, args)?)?;
            if !agree(reverse, tangent.d, 1e-8) {
                return Err(format!(
                    "input {j} at {point:?}: reverse mode gives {reverse:e}, forward mode {:e}",
                    tangent.d
                ));
            }
        }
        Ok(())
    }

    /// Central differences, where the function is smooth: the one-sided slopes agree (no
    /// kink at the point, where central differences average two slopes) and two step sizes
    /// agree (no kink or jump nearby).
    fn check_central(&self, gradient: &[f64]) -> Result<(), String> {
        let (lib, primal, layout) = (self.lib, self.primal, &self.layout);
        let (point, value) = (&self.point, self.value);
        for (j, &reverse) in gradient.iter().enumerate() {
            let h = 1e-5 * point[j].abs().max(1.0);
            let (ahead, behind) = layout.slopes(lib, primal, point, value, j, h)?;
            let d1 = (ahead + behind) / 2.0;
            let (ahead2, behind2) = layout.slopes(lib, primal, point, value, j, h / 2.0)?;
            let d2 = (ahead2 + behind2) / 2.0;
            let smooth = agree(ahead, behind, 1e-3) && agree(d1, d2, 1e-5);
            if smooth && !agree(reverse, d2, 1e-4) {
                return Err(format!(
                    "input {j} at {point:?}: reverse mode gives {reverse:e}, central differences {d2:e}"
                ));
            }
        }
        Ok(())
    }
}

/// `a` and `b` agree to `tol`, relative to their size (or both are NaN).
fn agree(a: f64, b: f64, tol: f64) -> bool {
    (a.is_nan() && b.is_nan()) || (a - b).abs() <= tol * a.abs().max(b.abs()).max(1.0)
}

fn output(yields: Vec<V<f64>>) -> Result<f64, String> {
    match yields.into_iter().next() {
        Some(V::F(x)) => Ok(x),
        other => Err(format!("the function returned {other:?}")),
    }
}

fn output_dual(yields: Vec<V<Dual>>) -> Result<Dual, String> {
    match yields.into_iter().next() {
        Some(V::F(x)) => Ok(x),
        other => Err(format!("the function returned {other:?}")),
    }
}

/// How a flat point maps to a function's arguments.
struct Layout<'a> {
    params: &'a [Param],
    floats: usize,
    slice_lens: Vec<usize>,
    ints: Vec<usize>,
}

impl<'a> Layout<'a> {
    /// Arguments for `params` drawn at random: their layout, and the flat point (the floats,
    /// then the slices' and arrays' elements) that derivatives are taken along.
    fn draw(params: &'a [Param], rng: &mut Rng) -> (Layout<'a>, Vec<f64>) {
        let (floats, slices, ints) = generator::arguments(params, rng);
        let mut point = floats.clone();
        for s in &slices {
            point.extend(s);
        }
        let layout = Layout {
            params,
            floats: floats.len(),
            slice_lens: slices.iter().map(Vec::len).collect(),
            ints,
        };
        (layout, point)
    }

    /// The arguments at `point`, with a unit tangent on input `seed` (forward mode).
    fn args<N: Num + Tangent>(&self, point: &[f64], seed: Option<usize>) -> Vec<V<N>> {
        let num = |j: usize| N::with_tangent(point[j], seed == Some(j));
        let (mut next_float, mut next_slice, mut next_int) = (0, self.floats, 0);
        let mut slice_index = 0;
        let mut args = Vec::new();
        for p in self.params {
            match p {
                Param::Float(_) => {
                    next_float += 1;
                    args.push(V::F(num(next_float - 1)));
                }
                Param::Slice(_) | Param::Array(..) | Param::Rows(_) | Param::Ragged(_) => {
                    let len = self.slice_lens[slice_index];
                    slice_index += 1;
                    let data = (next_slice..next_slice + len).map(num).collect();
                    next_slice += len;
                    args.push(V::C(std::rc::Rc::new(std::cell::RefCell::new(data))));
                    // A container of `Vec`s is its floats, then its rows' offsets.
                    if let Param::Ragged(_) = p {
                        let offsets =
                            std::iter::once(0).chain(RAGGED_ROWS.iter().scan(0, |at, n| {
                                *at += *n as i64;
                                Some(*at)
                            }));
                        args.push(V::P(offsets.collect()));
                    }
                }
                Param::Int(_) => {
                    next_int += 1;
                    args.push(V::I(self.ints[next_int - 1] as i64));
                }
                // `Config::structs` and `idioms` are off for the interpreter, which has no
                // structs or tuples.
                Param::Struct(_) | Param::Pairs(_) => {
                    unreachable!("the interpreter layer draws no parameter structs or pairs")
                }
            }
        }
        args
    }

    /// The gradient yields of an adjoint program, flattened like the point.
    fn gradient(&self, grads: &[V<f64>]) -> Result<Vec<f64>, String> {
        let mut floats = Vec::new();
        let mut slices = Vec::new();
        let mut grads = grads.iter();
        for p in self.params {
            match p {
                Param::Float(_) => match grads.next() {
                    Some(V::F(x)) => floats.push(*x),
                    other => return Err(format!("gradient of a float: {other:?}")),
                },
                Param::Slice(_) | Param::Array(..) | Param::Rows(_) | Param::Ragged(_) => {
                    match grads.next() {
                        Some(V::C(c)) => slices.extend(c.borrow().iter().copied()),
                        other => return Err(format!("gradient of a slice: {other:?}")),
                    }
                }
                Param::Int(_) | Param::Struct(_) | Param::Pairs(_) => {}
            }
        }
        floats.extend(slices);
        Ok(floats)
    }

    /// The slopes of the primal along input `j` from `point` (where it is `value`) to
    /// `h` ahead and from `h` behind.
    fn slopes(
        &self,
        lib: &Library,
        primal: &Func,
        point: &[f64],
        value: f64,
        j: usize,
        h: f64,
    ) -> Result<(f64, f64), String> {
        let at = |x: f64| -> Result<f64, String> {
            let mut p = point.to_vec();
            p[j] = x;
            output(run(lib, primal, self.args::<f64>(&p, None))?)
        };
        Ok((
            (at(point[j] + h)? - value) / h,
            (value - at(point[j] - h)?) / h,
        ))
    }
}

/// A number with an optional unit tangent.
pub trait Tangent {
    fn with_tangent(v: f64, seeded: bool) -> Self;
}

impl Tangent for f64 {
    fn with_tangent(v: f64, _: bool) -> f64 {
        v
    }
}

impl Tangent for Dual {
    fn with_tangent(v: f64, seeded: bool) -> Dual {
        Dual {
            v,
            d: if seeded { 1.0 } else { 0.0 },
        }
    }
}

/// The seed of this run: `AD_DIFF_SEED` (see [`generator::seed_from`]).
pub fn run_seed() -> u64 {
    generator::seed_from("AD_DIFF_SEED")
}

/// Checks the `count` programs drawn from seeds `seed`, `seed + 1`, ..., spread over the
/// machine's cores; on the first failure, shrinks it and panics with its seed, the failure
/// and the smallest failing function. With `AD_DIFF_KEEP_GOING` set (a hunt), every failing
/// program is shrunk and reported, and the panic lists them all.
pub fn check_many(seed: u64, count: usize, config: &generator::Config) -> (usize, usize) {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunks: Vec<Result<(usize, usize), String>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|t| scope.spawn(move || check_chunk(seed, (t..count).step_by(threads), config)))
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or_else(|_| Err("a worker panicked".into())))
            .collect()
    });
    let (mut checked, mut skipped) = (0, 0);
    let mut reports = Vec::new();
    for chunk in chunks {
        match chunk {
            Ok((c, s)) => {
                checked += c;
                skipped += s;
            }
            Err(report) => reports.push(report),
        }
    }
    if !reports.is_empty() {
        let failures = reports
            .iter()
            .map(|r| r.matches("differential test failed").count());
        panic!(
            "{}\n\n{} failing programs",
            reports.join("\n\n"),
            failures.sum::<usize>()
        );
    }
    (checked, skipped)
}

fn check_chunk(
    seed: u64,
    ks: impl Iterator<Item = usize>,
    config: &generator::Config,
) -> Result<(usize, usize), String> {
    let keep_going = std::env::var_os("AD_DIFF_KEEP_GOING").is_some();
    let mut failures = Vec::new();
    let (mut checked, mut skipped) = (0, 0);
    for k in ks {
        let program_seed = seed.wrapping_add(k as u64);
        let program = generator::Generator::program(program_seed, config, "f");
        // Central differences on one program in ten: they cost twice per input. Chosen by
        // the program's seed so that the reproduction command runs the same checks.
        let fd = program_seed.is_multiple_of(10);
        match check_program(&program, program_seed, fd) {
            Ok((c, s)) => {
                checked += c;
                skipped += s;
            }
            Err(failure) => {
                let small = shrink::shrink(&program, program_seed, fd);
                failures.push(format!(
                    "differential test failed for program seed {program_seed} (run seed {seed}, program {k}):\n{failure}\n\nshrunk to:\n{}\n\nreproduce: AD_DIFF_SEED={program_seed} AD_DIFF_PROGRAMS=1 cargo test -p ad-macro --lib random_programs",
                    small.print("")
                ));
                if !keep_going {
                    break;
                }
            }
        }
    }
    if failures.is_empty() {
        Ok((checked, skipped))
    } else {
        Err(failures.join("\n\n"))
    }
}
