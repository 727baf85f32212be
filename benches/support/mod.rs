//! What every bench shares: criterion's settings, the table of medians and ratios that each
//! bench prints after its measurements (read back from criterion's own estimates so the
//! ratios come from the same run), [`real`], the number trait the peers' versions of the
//! problems are written with, and [`peers`], which checks and times every peer on a problem.
//!
//! Use it from a bench with `mod support;` and a `main` that calls [`criterion`], runs the
//! groups, then [`report`] (or [`peers::report`]) for each.

#![allow(dead_code, reason = "each bench uses the part it needs")]

pub mod peers;
pub mod real;

use std::fmt::Display;
use std::path::PathBuf;
use std::time::Duration;

use criterion::Criterion;

/// Where criterion writes its estimates: `$CRITERION_HOME`, else `$CARGO_TARGET_DIR/criterion`,
/// else the workspace's `target/criterion`.
fn output_directory() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return home.into();
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("criterion")
}

/// Criterion with the settings of every bench here: short warm-up and measurement (a whole
/// `cargo bench` fits in minutes), output where [`report`] reads it, and command-line
/// arguments applied last (so `cargo bench -- --measurement-time 10` overrides).
pub fn criterion() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .output_directory(&output_directory())
        .configure_from_args()
}

/// Criterion's directory-name form of a benchmark name.
fn file_name(name: &str) -> String {
    name.replace(['?', '"', '/', '\\', '*', '<', '>', ':', '|', '^'], "_")
}

/// The median of `group/function/parameter` in nanoseconds, from the last run; `None` when it
/// was not measured (filtered out on the command line).
pub fn median_ns(group: &str, function: &str, parameter: &str) -> Option<f64> {
    let path = output_directory()
        .join(file_name(group))
        .join(file_name(function))
        .join(file_name(parameter))
        .join("new/estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let estimates: serde_json::Value = serde_json::from_str(&text).ok()?;
    estimates["median"]["point_estimate"].as_f64()
}

/// A duration in the unit that keeps 3 significant digits readable.
pub fn format_ns(ns: f64) -> String {
    match ns {
        ns if ns < 1e3 => format!("{ns:.1} ns"),
        ns if ns < 1e6 => format!("{:.2} µs", ns / 1e3),
        ns if ns < 1e9 => format!("{:.2} ms", ns / 1e6),
        ns => format!("{:.2} s", ns / 1e9),
    }
}

/// Prints (and writes to `<criterion dir>/<group>/table.md`) a Markdown table with one row
/// per parameter: the median of each of `functions`, and after it its ratio to the median of
/// `baseline` (the first column) in the same run. Functions not measured at a parameter show
/// `-`; functions measured at none are left out.
pub fn report(group: &str, baseline: &str, functions: &[&str], parameters: &[impl Display]) {
    let parameters: Vec<String> = parameters.iter().map(ToString::to_string).collect();
    let functions: Vec<&str> = functions
        .iter()
        .copied()
        .filter(|f| parameters.iter().any(|p| median_ns(group, f, p).is_some()))
        .collect();
    let mut table = format!("| {group} | {baseline} |");
    for function in &functions {
        table += &format!(" {function} |");
    }
    table += "\n|---|---|";
    table += &"---|".repeat(functions.len());
    table += "\n";
    for parameter in &parameters {
        let base = median_ns(group, baseline, parameter);
        table += &format!("| {parameter} | {} |", base.map_or("-".into(), format_ns));
        for function in &functions {
            let cell = match (median_ns(group, function, parameter), base) {
                (Some(t), Some(b)) => format!("{} ({:.2}x)", format_ns(t), t / b),
                (Some(t), None) => format_ns(t),
                (None, _) => "-".into(),
            };
            table += &format!(" {cell} |");
        }
        table += "\n";
    }
    println!("\n{table}");
    let path = output_directory().join(file_name(group)).join("table.md");
    if let Err(error) = std::fs::write(&path, &table) {
        eprintln!("could not write {}: {error}", path.display());
    }
}
