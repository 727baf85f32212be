//! The macro's compile cost (tests only): how long [`expand`] takes on generated functions of
//! about 100, 1,000 and 10,000 IR operations, stage by stage. docs/performance.md ("Compile
//! cost") reports these numbers.
//!
//! Two shapes of function: straight-line arithmetic with transcendental calls, and loops with
//! branches and local arrays. The size of a function is counted the way the IR counts it: ops
//! after lowering, those of nested regions included.
//!
//! The test asserts that every expansion is valid code, never how long it took (timings depend
//! on the machine and its load); it prints a table of medians to standard error. Run it with
//! `cargo test -p ad-macro --lib expand_cost -- --nocapture`; `AD_EXPAND_COST_REPEATS` sets the
//! repetitions (default 3; the 10,000-op functions run once unless it is set).

use std::fmt::Write;
use std::time::{Duration, Instant};

use proc_macro2::TokenStream;

use super::harness;
use crate::expand;
use crate::ir::Block;
use crate::pipeline::{Pipeline, Stage};

/// Straight-line code: each statement combines two earlier values (the previous one and one
/// about half as old, so values fan out to distant uses) through a transcendental function.
fn straight_line(statements: usize) -> String {
    let mut body = String::from("let v0 = x * y + 0.5;\nlet v1 = (x - y).sin();\n");
    for k in 2..statements + 2 {
        let (a, b) = (k - 1, k / 2);
        let c = (k % 7) as f64 * 0.1 + 0.3;
        let rhs = match k % 5 {
            0 => format!("(v{a} * v{b} + {c:.1}).sin()"),
            1 => format!("v{a}.tanh().exp() / (v{b} * v{b} + 1.0)"),
            2 => format!("(v{a} * v{a} + {c:.1}).ln() - v{b}.tanh()"),
            3 => format!("v{a}.mul_add(v{b}, {c:.1}).cos()"),
            _ => format!("(v{a} * v{a} + v{b} * v{b} + 1.0).sqrt() * {c:.1}"),
        };
        let _ = writeln!(body, "let v{k} = {rhs};");
    }
    let last = statements + 1;
    format!(
        "fn straight(x: f64, y: f64) -> f64 {{\n{body}v{last} + v{} * x\n}}",
        last - 1
    )
}

/// Loops over a slice with a branch in the body and a local array accumulated into, chained
/// through a scalar: each section starts from the previous section's result.
fn control_flow(sections: usize) -> String {
    let mut body = String::from("let mut s0 = y;\n");
    for k in 1..=sections {
        let p = k - 1;
        let c = (k % 7) as f64 * 0.1 + 0.3;
        let _ = write!(
            body,
            "\
let mut s{k} = s{p} * {c:.1};
let mut h{k} = [0.0; 4];
for i in 0..x.len() {{
    let t = x[i] * s{k} + {c:.1};
    if t > 0.0 {{
        s{k} = s{k} + t.sin() * 0.5;
    }} else {{
        s{k} = s{k} * 0.5 - t.tanh();
    }}
    h{k}[i % 4] += t.tanh().exp() / (t * t + 1.0);
}}
let mut j = 0;
while j < n && s{k} < 10.0 {{
    s{k} = s{k} + h{k}[j % 4].cos() * 0.1;
    j += 1;
}}
s{k} = (s{k} * s{k} + h{k}[0] * h{k}[1] + 1.0).ln() - h{k}[2] * h{k}[3];
"
        );
    }
    format!("fn looped(x: &[f64], y: f64, n: usize) -> f64 {{\n{body}s{sections}\n}}")
}

/// A family of generated functions: the table's label, the function's name, and the source
/// of one with a given number of units (statements or sections).
struct Shape {
    label: &'static str,
    name: &'static str,
    make: fn(usize) -> String,
}

const SHAPES: &[Shape] = &[
    Shape {
        label: "straight-line",
        name: "straight",
        make: straight_line,
    },
    Shape {
        label: "loops",
        name: "looped",
        make: control_flow,
    },
];

/// Ops in a region, those of its nested regions included.
fn count_ops(block: &Block) -> usize {
    block
        .ops
        .iter()
        .map(|op| 1 + op.kind.blocks().into_iter().map(count_ops).sum::<usize>())
        .sum()
}

/// The primal's ops after lowering.
fn lowered_ops(source: &str) -> usize {
    let primal = harness::accepted(source)
        .primal
        .expect("the body is lowered");
    count_ops(&primal.body)
}

/// The number of units (statements or sections) for which `make` produces about `target`
/// ops, from the ops of a small instance (ops grow linearly with units).
fn units_for(target: usize, make: fn(usize) -> String) -> usize {
    let probe = 20;
    let fixed = lowered_ops(&make(0));
    let per_unit = (lowered_ops(&make(probe)) - fixed) as f64 / probe as f64;
    (((target.saturating_sub(fixed)) as f64 / per_unit).round() as usize).max(1)
}

/// One expansion's times, stage by stage, as `expand` runs them (the verifier runs in builds
/// with debug assertions: `cargo build` and `cargo test`, not `--release`).
#[derive(Clone, Copy, Default)]
struct Stages {
    parse: Duration,
    lower: Duration,
    activity: Duration,
    verify: Duration,
    reverse: Duration,
    emit: Duration,
    print: Duration,
}

impl Stages {
    fn total(&self) -> Duration {
        self.parse
            + self.lower
            + self.activity
            + self.verify
            + self.reverse
            + self.emit
            + self.print
    }

    /// The column a stage of the pipeline counts in.
    fn column(&mut self, stage: Stage) -> &mut Duration {
        match stage {
            Stage::Groups | Stage::Options | Stage::Signature => &mut self.parse,
            Stage::Lower => &mut self.lower,
            Stage::Activity => &mut self.activity,
            Stage::Verify => &mut self.verify,
            Stage::Reverse | Stage::Fuse | Stage::Forward => &mut self.reverse,
        }
    }
}

/// Runs `expand`'s stages on `item`, timing each, and counts the lowered ops. Printing the
/// tokens stands for handing them to the compiler.
fn staged(item: &TokenStream) -> (Stages, usize) {
    let mut times = Stages::default();
    let mut clock = Instant::now();
    let mut lap = move || {
        let now = Instant::now();
        let elapsed = now - clock;
        clock = now;
        elapsed
    };
    let func: syn::ItemFn = syn::parse2(item.clone()).expect("generated function parses");
    times.parse += lap();
    let observed = Pipeline::run_observed(TokenStream::new(), func, &mut |stage| {
        *times.column(stage) += lap();
    });
    let pipeline = match observed {
        Ok(pipeline) => pipeline,
        Err(failed) => panic!(
            "generated function rejected: {}",
            failed.reason.into_error()
        ),
    };
    let generated = pipeline.emit();
    times.emit += lap();
    std::hint::black_box(generated.to_string());
    times.print += lap();
    let primal = pipeline.primal.expect("the body is lowered");
    (times, count_ops(&primal.body))
}

/// Checks that `expand`'s output is the original function and the generated ones, with no
/// error.
fn assert_valid(output: &TokenStream, name: &str) {
    let text = output.to_string();
    assert!(
        !text.contains("compile_error"),
        "expansion of `{name}` reports an error"
    );
    let file: syn::File = syn::parse2(output.clone()).expect("the expansion parses as items");
    let names: Vec<String> = file
        .items
        .iter()
        .filter_map(|item| match item {
            syn::Item::Fn(f) => Some(f.sig.ident.to_string()),
            _ => None,
        })
        .collect();
    for expected in [
        name.to_string(),
        format!("{name}_grad"),
        format!("{name}_vjp"),
    ] {
        assert!(
            names.contains(&expected),
            "`{expected}` missing from {names:?}"
        );
    }
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1e3)
}

#[test]
fn expansion_time_grows_linearly_with_ops() {
    let set: Option<usize> = std::env::var("AD_EXPAND_COST_REPEATS")
        .ok()
        .and_then(|s| s.parse().ok());
    let mut table = String::from(
        "| shape | source lines | ops | parse | lower | activity | verify | reverse | emit | print | stages | expand |\n\
         |---|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for &Shape { label, name, make } in SHAPES {
        for target in [100, 1_000, 10_000] {
            let repeats = set.unwrap_or(if target >= 10_000 { 1 } else { 3 }).max(1);
            let source = make(units_for(target, make));
            let item: TokenStream = source.parse().expect("generated source tokenizes");
            let mut stages = Vec::new();
            let mut totals = Vec::new();
            let mut ops = 0;
            for _ in 0..repeats {
                let (times, lowered) = staged(&item);
                stages.push(times);
                ops = lowered;
                let start = Instant::now();
                let output = expand(TokenStream::new(), item.clone());
                totals.push(start.elapsed());
                assert_valid(&output, name);
            }
            let stage = |f: fn(&Stages) -> Duration| median(stages.iter().map(f).collect());
            let _ = writeln!(
                table,
                "| {label} | {} | {ops} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                source.lines().count(),
                ms(stage(|s| s.parse)),
                ms(stage(|s| s.lower)),
                ms(stage(|s| s.activity)),
                ms(stage(|s| s.verify)),
                ms(stage(|s| s.reverse)),
                ms(stage(|s| s.emit)),
                ms(stage(|s| s.print)),
                ms(stage(Stages::total)),
                ms(median(totals)),
            );
        }
    }
    eprintln!("expansion time in ms (medians):\n{table}");
}
