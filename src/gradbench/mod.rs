//! A [GradBench](https://github.com/gradbench/gradbench) tool: answers the benchmark's
//! protocol on a line-oriented reader and writer (stdin and stdout in
//! `examples/gradbench.rs`), with every eval's function written as `#[reverse]` functions in
//! [`crate::problems`].
//!
//! Each `evaluate` message is parsed once (untimed), then its function runs until it has run
//! `min_runs` times *and* for `min_seconds` in total; every run is one `"evaluate"` timing and
//! the last run's result is the output. Failures (unknown module or function, malformed
//! input, a panic) are answered with `success: false` and the run goes on.

mod json;

mod ba;
mod det;
mod gmm;
mod hello;
mod ht;
mod kmeans;
mod llsq;
mod lse;
mod lstm;
mod nested;
mod ode;

use std::io::{self, BufRead, Write};
use std::panic::{self, AssertUnwindSafe};
use std::time::Instant;

use serde_json::{Value, json};

/// One evaluation, its input parsed, ready to run repeatedly.
pub trait Job {
    /// Computes the function once, from scratch. This is the timed part.
    fn run(&mut self);
    /// The last run's result, in the shape the eval expects.
    fn output(&self) -> Value;
}

/// Parses the input of an `evaluate` message for one of a module's functions.
type Prepare = fn(function: &str, input: &Value) -> Result<Box<dyn Job>, String>;

/// The modules this tool implements, by GradBench name.
const MODULES: &[(&str, Prepare)] = &[
    ("hello", hello::prepare),
    ("lse", lse::prepare),
    ("llsq", llsq::prepare),
    ("det", det::prepare),
    ("ode", ode::prepare),
    ("kmeans", kmeans::prepare),
    ("ba", ba::prepare),
    ("ht", ht::prepare),
    ("gmm", gmm::prepare),
    ("lstm", lstm::prepare),
    ("particle", nested::prepare_particle),
    ("saddle", nested::prepare_saddle),
];

/// The GradBench modules this tool answers `define` for with success.
pub fn modules() -> impl Iterator<Item = &'static str> {
    MODULES.iter().map(|(name, _)| *name)
}

/// Answers every message of `input` on `output`, one JSON line each, until `input` ends.
///
/// Malformed lines get an error response when they carry an `id`; only I/O errors stop it.
pub fn serve(input: impl BufRead, mut output: impl Write) -> io::Result<()> {
    for line in input.lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let response = respond(&line);
        serde_json::to_writer(&mut output, &response)?;
        output.write_all(b"\n")?;
        output.flush()?;
    }
    Ok(())
}

/// The response to one message line.
fn respond(line: &str) -> Value {
    let message: Value = match serde_json::from_str(line) {
        Ok(message) => message,
        Err(error) => return json!({"success": false, "error": format!("invalid JSON: {error}")}),
    };
    let id = message.get("id").cloned().unwrap_or(Value::Null);
    match message.get("kind").and_then(Value::as_str) {
        Some("start") => json!({"id": id, "tool": "ad"}),
        Some("define") => {
            let module = message.get("module").and_then(Value::as_str).unwrap_or("");
            if find(module).is_some() {
                json!({"id": id, "success": true})
            } else {
                json!({"id": id, "success": false, "error": format!("module {module} is not implemented")})
            }
        }
        Some("evaluate") => match evaluate(&message) {
            Ok((output, timings)) => {
                json!({"id": id, "success": true, "output": output, "timings": timings})
            }
            Err(error) => json!({"id": id, "success": false, "error": error}),
        },
        _ => json!({"id": id}),
    }
}

fn find(module: &str) -> Option<Prepare> {
    MODULES
        .iter()
        .find(|(name, _)| *name == module)
        .map(|(_, prepare)| *prepare)
}

/// Runs an `evaluate` message: the output and the `"evaluate"` timings, or why it failed.
fn evaluate(message: &Value) -> Result<(Value, Vec<Value>), String> {
    let module = message.get("module").and_then(Value::as_str).unwrap_or("");
    let prepare = find(module).ok_or_else(|| format!("module {module} is not implemented"))?;
    let function = message
        .get("function")
        .and_then(Value::as_str)
        .unwrap_or("");
    let input = message.get("input").unwrap_or(&Value::Null);
    let min_runs = input
        .get("min_runs")
        .and_then(Value::as_u64)
        .unwrap_or(1)
        .max(1);
    let min_seconds = input
        .get("min_seconds")
        .and_then(Value::as_f64)
        .unwrap_or(0.0);
    // A panic in the function (a bug, or an input the eval's shapes do not cover) must not
    // kill the run: it becomes this evaluation's error. The panic message still reaches
    // stderr through the default hook.
    panic::catch_unwind(AssertUnwindSafe(|| {
        let mut job = prepare(function, input)?;
        let (mut runs, mut seconds, mut timings) = (0, 0.0, Vec::new());
        while runs < min_runs || seconds < min_seconds {
            let start = Instant::now();
            job.run();
            let elapsed = start.elapsed();
            timings.push(json!({"name": "evaluate", "nanoseconds": elapsed.as_nanos() as u64}));
            runs += 1;
            seconds += elapsed.as_secs_f64();
        }
        Ok((job.output(), timings))
    }))
    .unwrap_or_else(|payload| {
        let reason = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("unknown cause");
        Err(format!("{module}::{function} panicked: {reason}"))
    })
}
