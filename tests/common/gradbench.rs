//! Driving the GradBench tool in process, as the eval does, and comparing its outputs as the
//! eval does (GradBench's generic comparison of outputs). Shared by `tests/gradbench*.rs`.

use serde_json::{Value, json};

/// The responses of [`ad_suite::gradbench::serve`] to `lines` (one message each), parsed.
pub fn replay(lines: &[String]) -> Vec<Value> {
    let mut input = String::new();
    for line in lines {
        input.push_str(line);
        input.push('\n');
    }
    let mut output = Vec::new();
    ad_suite::gradbench::serve(input.as_bytes(), &mut output).expect("in-memory I/O");
    let text = String::from_utf8(output).expect("the tool writes UTF-8");
    // Every response is one line ending in a newline: nothing else reaches the output.
    assert!(
        text.is_empty() || text.ends_with('\n'),
        "unterminated output: {text}"
    );
    text.lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect()
}

/// The responses to `messages`, sent one per line in one run.
pub fn session(messages: &[Value]) -> Vec<Value> {
    let lines: Vec<String> = messages.iter().map(Value::to_string).collect();
    replay(&lines)
}

/// The one response to one message.
pub fn exchange(message: &Value) -> Value {
    let mut responses = replay(&[message.to_string()]);
    assert_eq!(responses.len(), 1, "one response per message");
    responses.remove(0)
}

/// A whole run as the eval has it (`start`, `define module`), one `evaluate` of `function`
/// on `input` and its `analysis`: checks the other answers and returns the evaluate's response.
pub fn evaluate(module: &str, function: &str, input: &Value) -> Value {
    let responses = session(&[
        json!({"id": 0, "kind": "start", "eval": module}),
        json!({"id": 1, "kind": "define", "module": module}),
        json!({"id": 2, "kind": "evaluate", "module": module, "function": function, "input": input}),
        json!({"id": 3, "kind": "analysis", "of": 2, "valid": true}),
    ]);
    assert_eq!(responses.len(), 4);
    assert_eq!(responses[0], json!({"id": 0, "tool": "ad"}));
    assert_eq!(
        responses[1],
        json!({"id": 1, "success": true}),
        "define {module}"
    );
    assert_eq!(responses[2]["id"], 2);
    assert_eq!(responses[3], json!({"id": 3}));
    responses[2].clone()
}

/// The output of a successful evaluation, after checking its `timings` (one `"evaluate"`
/// timing per run, integer nanoseconds, at least `min_runs` of them).
pub fn output(module: &str, function: &str, input: &Value) -> Value {
    let response = evaluate(module, function, input);
    assert_eq!(
        response["success"], true,
        "{module}::{function} failed: {response}"
    );
    assert!(
        response.get("error").is_none(),
        "success with an error: {response}"
    );
    let timings = response["timings"].as_array().expect("timings");
    let min_runs = input.get("min_runs").and_then(Value::as_u64).unwrap_or(1);
    assert!(
        timings.len() as u64 >= min_runs,
        "{} timings",
        timings.len()
    );
    for timing in timings {
        assert_eq!(timing["name"], "evaluate");
        assert!(timing["nanoseconds"].is_u64(), "timing {timing}");
    }
    response["output"].clone()
}

/// `input` with the repetition fields the evals add, set so that each function runs once.
pub fn once(mut input: Value) -> Value {
    input["min_runs"] = json!(1);
    input["min_seconds"] = json!(0);
    input
}

/// `|x − y| / max(1, |x| + |y|)`, the eval's mismatch measure.
pub fn mismatch(x: f64, y: f64) -> f64 {
    (x - y).abs() / (x.abs() + y.abs()).max(1.0)
}

/// The eval's comparison of `ours` with `expected`: numbers mismatch when
/// `|x − y| / max(1, |x| + |y|) > tolerance` (the eval uses 1e-4), arrays must have the same
/// length, objects the same keys, anything else must be equal. Returns the mismatches' paths.
pub fn mismatches(ours: &Value, expected: &Value, tolerance: f64) -> Vec<String> {
    let mut found = Vec::new();
    compare(ours, expected, tolerance, "", &mut found);
    found
}

fn compare(ours: &Value, expected: &Value, tolerance: f64, path: &str, found: &mut Vec<String>) {
    match (ours, expected) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            if mismatch(x, y) > tolerance || x.is_nan() {
                found.push(format!("{path}: {y} != {x}"));
            }
        }
        (Value::Array(xs), Value::Array(ys)) => {
            if xs.len() != ys.len() {
                found.push(format!("{path}: length {} != {}", ys.len(), xs.len()));
                return;
            }
            for (i, (x, y)) in xs.iter().zip(ys).enumerate() {
                compare(x, y, tolerance, &format!("{path}[{i}]"), found);
            }
        }
        (Value::Object(xs), Value::Object(ys)) => {
            let mut keys: Vec<&String> = xs.keys().chain(ys.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                match (xs.get(key), ys.get(key)) {
                    (Some(x), Some(y)) => {
                        compare(x, y, tolerance, &format!("{path}.{key}"), found);
                    }
                    (None, _) => found.push(format!("{path}.{key}: missing")),
                    (_, None) => found.push(format!("{path}.{key}: extra")),
                }
            }
        }
        _ if ours == expected => {}
        _ => found.push(format!("{path}: {expected} != {ours}")),
    }
}

/// Asserts that `ours` passes the eval's check against `expected` (tolerance 1e-4) and, for
/// values computed exactly or nearly so, the tighter `tight` too.
#[track_caller]
pub fn assert_matches(ours: &Value, expected: &Value, tight: f64) {
    for tolerance in [1e-4, tight] {
        let found = mismatches(ours, expected, tolerance);
        assert!(
            found.is_empty(),
            "{} mismatches at {tolerance:e}: {found:?}\nours: {ours}",
            found.len()
        );
    }
}

/// Asserts that `got` and `want` have the same length and every pair passes the eval's
/// measure ([`mismatch`]) at `tolerance`.
#[track_caller]
pub fn assert_floats(what: &str, got: &[f64], want: &[f64], tolerance: f64) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert!(
            mismatch(g, w) <= tolerance,
            "{what}[{i}]: got {g}, want {w}"
        );
    }
}

/// Asserts that `got` and `want` have the same length and agree elementwise to a relative
/// `tolerance` (absolute below 1): `|x − y| ≤ tolerance · max(1, |x|, |y|)`.
#[track_caller]
pub fn assert_relative(what: &str, got: &[f64], want: &[f64], tolerance: f64) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (&x, &y)) in got.iter().zip(want).enumerate() {
        assert!(
            (x - y).abs() <= tolerance * x.abs().max(y.abs()).max(1.0),
            "{what}[{i}]: {x} against {y}"
        );
    }
}

/// A JSON array of floats as a `Vec`.
pub fn floats(value: &Value) -> Vec<f64> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {value}"))
        .iter()
        .map(|v| v.as_f64().unwrap_or_else(|| panic!("not a number: {v}")))
        .collect()
}

/// A seeded stream of floats `low + (high − low) u`, `u` uniform in [0, 1) (`fastrand`, the
/// workspace's one random number generator).
pub struct Rng(fastrand::Rng);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(fastrand::Rng::with_seed(seed))
    }

    /// The next value in [`low`, `high`).
    pub fn uniform(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.0.f64()
    }

    /// The next `len` values in [`low`, `high`).
    pub fn vec(&mut self, len: usize, low: f64, high: f64) -> Vec<f64> {
        (0..len).map(|_| self.uniform(low, high)).collect()
    }
}
