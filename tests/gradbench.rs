//! The GradBench tool driven in process with the exchanges the evals have (GradBench's protocol): the
//! protocol (the hello session, define, analysis, failures, repetitions), then for lse, llsq,
//! det, ode and kmeans worked examples, independent closed forms at random
//! points, and the gradients against central differences of the tool's own primal.

mod common;

use ad_runtime::check;
use ad_suite::problems::uniform;
use common::gradbench::{
    assert_matches, evaluate, exchange, floats, mismatches, once, output, replay,
};
use serde_json::{Value, json};

// ----- protocol -----

/// The hello eval's session: each input is the tool's previous output, as the eval
/// chains them; then the recorded messages replayed in one run give the same answers.
#[test]
fn hello_session_chains_the_tools_outputs() {
    let mut transcript = Vec::new();
    let mut talk = |message: Value| -> Value {
        transcript.push(message.to_string());
        let response = exchange(&message);
        assert_eq!(response["id"], message["id"], "the id is echoed");
        response
    };
    assert_eq!(
        talk(json!({"id": 0, "kind": "start", "eval": "hello"})),
        json!({"id": 0, "tool": "ad"})
    );
    assert_eq!(
        talk(json!({"id": 1, "kind": "define", "module": "hello"})),
        json!({"id": 1, "success": true})
    );
    let mut x = json!(1.0);
    let mut id = 2;
    let mut outputs = Vec::new();
    for _ in 0..4 {
        for function in ["square", "double"] {
            let response = talk(json!({
                "id": id, "kind": "evaluate", "module": "hello", "function": function, "input": x,
            }));
            assert_eq!(response["success"], true);
            let timings = response["timings"].as_array().unwrap();
            assert_eq!(timings.len(), 1);
            assert_eq!(timings[0]["name"], "evaluate");
            assert!(timings[0]["nanoseconds"].is_u64());
            x = response["output"].clone();
            outputs.push(x.as_f64().unwrap());
            assert_eq!(
                talk(json!({"id": id + 1, "kind": "analysis", "of": id, "valid": true})),
                json!({"id": id + 1})
            );
            id += 2;
        }
    }
    // Inputs 1, 1, 2, 4, 8, 64, 128, 16384; each output is the next input.
    assert_eq!(outputs, [1.0, 2.0, 4.0, 8.0, 64.0, 128.0, 16384.0, 32768.0]);
    let replayed = replay(&transcript);
    assert_eq!(replayed.len(), 18);
    for (i, response) in replayed.iter().enumerate() {
        assert_eq!(response["id"], i, "one answer per message, in order");
        if let Some(output) = response.get("output") {
            assert_eq!(output.as_f64(), Some(outputs[(i - 2) / 2]));
        }
    }
}

/// The eval's real formatting (Python's `json.dumps`, with spaces, extra fields) parses.
#[test]
fn messages_as_the_eval_formats_them() {
    let lines = [
        r#"{"id": 0, "kind": "start", "eval": "lse", "config": {"whatever": [1, 2]}}"#,
        r#"{"id": 1, "kind": "define", "module": "lse"}"#,
        r#"{"id": 2, "kind": "evaluate", "module": "lse", "function": "primal", "input": {"x": [1, 2.0, 3], "min_runs": 1, "min_seconds": 0}, "description": "n=3"}"#,
        r#"{"id": 3, "kind": "analysis", "of": 2, "valid": false, "error": "Found 1 mismatches"}"#,
    ];
    let responses = replay(&lines.map(String::from));
    assert_eq!(responses[0], json!({"id": 0, "tool": "ad"}));
    assert_eq!(responses[1], json!({"id": 1, "success": true}));
    assert_eq!(responses[2]["success"], true);
    assert_matches(&responses[2]["output"], &json!(3.4076059644443806), 1e-14);
    assert_eq!(responses[3], json!({"id": 3}));
}

#[test]
fn every_implemented_module_is_defined() {
    let modules: Vec<&str> = ad_suite::gradbench::modules().collect();
    for module in [
        "hello", "lse", "llsq", "det", "ode", "kmeans", "particle", "saddle",
    ] {
        assert!(
            modules.contains(&module),
            "{module} missing from {modules:?}"
        );
        let response = exchange(&json!({"id": 7, "kind": "define", "module": module}));
        assert_eq!(response, json!({"id": 7, "success": true}));
    }
}

#[test]
fn an_undefined_module_is_refused_with_an_error() {
    let response = exchange(&json!({"id": 1, "kind": "define", "module": "no_such_module"}));
    assert_eq!(
        response,
        json!({"id": 1, "success": false, "error": "module no_such_module is not implemented"})
    );
    let response = exchange(&json!({
        "id": 2, "kind": "evaluate", "module": "no_such_module", "function": "f", "input": 1.0,
    }));
    assert_eq!(response["success"], false);
    assert!(response.get("output").is_none());
}

/// An unknown function fails that evaluation only: the next message is answered as usual.
#[test]
fn an_unknown_function_fails_and_the_run_goes_on() {
    let lines = [
        json!({"id": 0, "kind": "start"}),
        json!({"id": 1, "kind": "define", "module": "lse"}),
        json!({"id": 2, "kind": "evaluate", "module": "lse", "function": "hessian",
               "input": once(json!({"x": [1.0, 2.0]}))}),
        json!({"id": 3, "kind": "evaluate", "module": "lse", "function": "primal",
               "input": once(json!({"x": [0.0, 0.0]}))}),
    ];
    let responses = replay(&lines.map(|m| m.to_string()));
    assert_eq!(responses.len(), 4);
    assert_eq!(responses[2]["id"], 2);
    assert_eq!(responses[2]["success"], false);
    assert!(responses[2]["error"].as_str().unwrap().contains("hessian"));
    assert!(responses[2].get("output").is_none() && responses[2].get("timings").is_none());
    assert_eq!(responses[3]["id"], 3);
    assert_eq!(responses[3]["success"], true);
    assert_matches(&responses[3]["output"], &json!(2f64.ln()), 1e-15);
}

/// Lines that are not JSON, and inputs of the wrong shape, get `success: false` with a reason;
/// the messages after them are still answered.
#[test]
fn malformed_input_fails_that_message_only() {
    let lines = [
        "this is not json".to_string(),
        json!({"id": 1, "kind": "evaluate", "module": "lse", "function": "primal",
               "input": {"y": [1.0]}})
        .to_string(),
        json!({"id": 2, "kind": "evaluate", "module": "det", "function": "primal",
               "input": {"A": [1.0, "two"], "ell": 1}})
        .to_string(),
        json!({"id": 3, "kind": "evaluate", "module": "det", "function": "primal",
               "input": {"A": [1.0, 2.0, 3.0], "ell": 2}})
        .to_string(),
        json!({"id": 4, "kind": "evaluate", "module": "kmeans", "function": "cost",
               "input": {"points": [[1.0, 2.0], [3.0]], "centroids": [[0.0, 0.0]]}})
        .to_string(),
        json!({"id": 5, "kind": "evaluate", "module": "ode", "function": "primal",
               "input": {"x": [1.0], "s": -1}})
        .to_string(),
        String::new(),
        json!({"id": 6, "kind": "evaluate", "module": "hello", "function": "square",
               "input": 3})
        .to_string(),
    ];
    let responses = replay(&lines);
    assert_eq!(
        responses.len(),
        7,
        "blank lines are skipped, the others answered"
    );
    assert_eq!(responses[0]["success"], false);
    assert!(
        responses[0]["error"]
            .as_str()
            .unwrap()
            .contains("invalid JSON")
    );
    let reasons = ["`x`", "`A`", "ell", "points[1]", "`s`"];
    for (response, reason) in responses[1..6].iter().zip(reasons) {
        assert_eq!(response["success"], false, "{response}");
        let error = response["error"].as_str().unwrap();
        assert!(error.contains(reason), "{error:?} should name {reason}");
    }
    assert_eq!(responses[6]["id"], 6);
    assert_eq!(responses[6]["output"], json!(9.0));
}

/// The function runs until it has run `min_runs` times and for `min_seconds`; `min_seconds`
/// often arrives as an integer.
#[test]
fn repetitions_follow_min_runs_and_min_seconds() {
    let x: Vec<f64> = uniform(1, 50);
    for min_runs in [1, 3, 7] {
        let input = json!({"x": x, "min_runs": min_runs, "min_seconds": 0});
        let response = evaluate("lse", "gradient", &input);
        let timings = response["timings"].as_array().unwrap();
        assert_eq!(
            timings.len(),
            min_runs,
            "min_seconds 0: exactly min_runs runs"
        );
        assert!(
            timings
                .iter()
                .all(|t| t["name"] == "evaluate" && t["nanoseconds"].is_u64())
        );
    }
    // 2 ms in total at least, however many runs that takes.
    let input = json!({"x": x, "min_runs": 1, "min_seconds": 0.002});
    let response = evaluate("lse", "primal", &input);
    let total: u64 = response["timings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["nanoseconds"].as_u64().unwrap())
        .sum();
    assert!(total >= 2_000_000, "{total} ns");
    // The output does not depend on the repetitions.
    let once_output = output("lse", "primal", &once(json!({"x": x})));
    assert_eq!(response["output"], once_output);
}

#[test]
fn the_comparison_follows_the_evals_rule() {
    // Absolute below 1, relative to the sum of magnitudes above.
    assert!(mismatches(&json!(0.5), &json!(0.50009), 1e-4).is_empty());
    assert_eq!(mismatches(&json!(0.5), &json!(0.5002), 1e-4).len(), 1);
    assert!(mismatches(&json!(1000.0), &json!(1000.15), 1e-4).is_empty());
    assert_eq!(mismatches(&json!(1000.0), &json!(1000.3), 1e-4).len(), 1);
    // An integer against a float is fine; null, lengths and keys are not.
    assert!(mismatches(&json!(2), &json!(2.0), 1e-4).is_empty());
    assert_eq!(mismatches(&json!(null), &json!(1.0), 1e-4).len(), 1);
    assert_eq!(mismatches(&json!([1.0]), &json!([1.0, 2.0]), 1e-4).len(), 1);
    assert_eq!(
        mismatches(&json!({"a": 1, "b": 2}), &json!({"a": 1}), 1e-4),
        [".b: extra"]
    );
    assert_eq!(
        mismatches(&json!({"a": [[1, 2]]}), &json!({"a": [[1, 3]]}), 1e-4),
        [".a[0][1]: 3 != 2"]
    );
}

// ----- gradients against central differences of the tool's own primal -----

/// The tool's scalar primal at `x`, the input built by `input`.
fn primal_at(module: &str, input: &impl Fn(&[f64]) -> Value, x: &[f64]) -> f64 {
    output(module, "primal", &once(input(x)))
        .as_f64()
        .expect("a number")
}

/// The tool's `gradient` at each of `points` against central differences of its `primal`.
fn check_against_differences(module: &str, input: impl Fn(&[f64]) -> Value, points: &[Vec<f64>]) {
    for x in points {
        let gradient = floats(&output(module, "gradient", &once(input(x))));
        check::gradient(|p| primal_at(module, &input, p), x, &gradient).assert_within(1e-7);
    }
}

// ----- lse -----

#[test]
fn lse_worked_example() {
    let input = once(json!({"x": [1.0, 2.0, 3.0]}));
    assert_matches(
        &output("lse", "primal", &input),
        &json!(3.4076059644443806),
        1e-14,
    );
    assert_matches(
        &output("lse", "gradient", &input),
        &json!([0.09003057317038045, 0.2447284710547976, 0.665240955774822]),
        1e-14,
    );
}

/// The gradient is the softmax, summing to 1; shifting `x` shifts the value only, also past
/// where an unshifted `exp` overflows.
#[test]
fn lse_gradient_is_the_softmax() {
    for (seed, n, shift) in [(1, 5, 0.0), (2, 100, 800.0), (3, 1000, -50.0)] {
        let x: Vec<f64> = uniform(seed, n).iter().map(|v| v + shift).collect();
        let primal = output("lse", "primal", &once(json!({"x": x})));
        let total: f64 = x.iter().map(|v| (v - shift).exp()).sum();
        assert_matches(&primal, &json!(shift + total.ln()), 1e-12);
        let softmax: Vec<f64> = x.iter().map(|v| (v - shift).exp() / total).collect();
        assert_matches(
            &output("lse", "gradient", &once(json!({"x": x}))),
            &json!(softmax),
            1e-14,
        );
    }
    check_against_differences("lse", |x| json!({"x": x}), &[uniform(4, 3), uniform(5, 6)]);
}

// ----- llsq -----

#[test]
fn llsq_worked_example() {
    let input = once(json!({"x": [0.5, -1.0, 2.0], "n": 5}));
    assert_matches(&output("llsq", "primal", &input), &json!(13.625), 1e-14);
    assert_matches(
        &output("llsq", "gradient", &input),
        &json!([7.5, -5.5, 5.5]),
        1e-14,
    );
}

/// `∂y/∂x_j = −Σ_i r_i t_iʲ`, from the residuals computed here independently.
#[test]
fn llsq_gradient_against_its_closed_form() {
    for (seed, m, n) in [(1, 4, 7), (2, 8, 16), (3, 16, 100)] {
        let x = uniform(seed, m);
        let t: Vec<f64> = (0..n)
            .map(|i| -1.0 + 2.0 * i as f64 / (n - 1) as f64)
            .collect();
        let residual: Vec<f64> = t
            .iter()
            .map(|&t| {
                let sign = if t == 0.0 { 0.0 } else { t.signum() };
                sign - (0..m).map(|j| x[j] * t.powi(j as i32)).sum::<f64>()
            })
            .collect();
        let value = 0.5 * residual.iter().map(|r| r * r).sum::<f64>();
        let gradient: Vec<f64> = (0..m)
            .map(|j| {
                -(0..n)
                    .map(|i| residual[i] * t[i].powi(j as i32))
                    .sum::<f64>()
            })
            .collect();
        let input = once(json!({"x": x, "n": n}));
        assert_matches(&output("llsq", "primal", &input), &json!(value), 1e-12);
        assert_matches(&output("llsq", "gradient", &input), &json!(gradient), 1e-12);
    }
    check_against_differences(
        "llsq",
        |x| json!({"x": x, "n": 9}),
        &[uniform(4, 3), uniform(5, 5)],
    );
}

// ----- det -----

#[test]
fn det_worked_example() {
    let input = once(json!({"A": [2.0, 0.0, 1.0, 1.0, 3.0, 2.0, 1.0, 1.0, 2.0], "ell": 3}));
    assert_matches(&output("det", "primal", &input), &json!(6.0), 1e-14);
    assert_matches(
        &output("det", "gradient", &input),
        &json!([4.0, 0.0, -2.0, 1.0, 3.0, -2.0, -3.0, -3.0, 6.0]),
        1e-14,
    );
}

/// The determinant by Leibniz's formula, a sum over permutations: independent of the
/// expansion by minors.
fn leibniz(a: &[f64], ell: usize) -> f64 {
    fn permutations(items: Vec<usize>) -> Vec<(Vec<usize>, f64)> {
        if items.len() <= 1 {
            return vec![(items, 1.0)];
        }
        let mut all = Vec::new();
        for (k, &first) in items.iter().enumerate() {
            let mut rest = items.clone();
            rest.remove(k);
            let sign = if k % 2 == 0 { 1.0 } else { -1.0 };
            for (mut tail, s) in permutations(rest) {
                tail.insert(0, first);
                all.push((tail, sign * s));
            }
        }
        all
    }
    permutations((0..ell).collect())
        .iter()
        .map(|(p, sign)| sign * (0..ell).map(|i| a[i * ell + p[i]]).product::<f64>())
        .sum()
}

/// `∂det/∂A_ij` is the cofactor `(−1)^{i+j} det(minor_ij)`, by Leibniz's formula here.
#[test]
fn det_gradient_is_the_cofactor_matrix() {
    for (seed, ell) in [(1, 1), (2, 2), (3, 4), (4, 5)] {
        let a = uniform(seed, ell * ell);
        let mut cofactors = Vec::new();
        for i in 0..ell {
            for j in 0..ell {
                let minor: Vec<f64> = (0..ell * ell)
                    .filter(|k| k / ell != i && k % ell != j)
                    .map(|k| a[k])
                    .collect();
                let sign = if (i + j) % 2 == 0 { 1.0 } else { -1.0 };
                cofactors.push(if ell == 1 {
                    1.0
                } else {
                    sign * leibniz(&minor, ell - 1)
                });
            }
        }
        let input = once(json!({"A": a, "ell": ell}));
        assert_matches(
            &output("det", "primal", &input),
            &json!(leibniz(&a, ell)),
            1e-12,
        );
        assert_matches(&output("det", "gradient", &input), &json!(cofactors), 1e-12);
    }
    check_against_differences(
        "det",
        |a| json!({"A": a, "ell": 3}),
        &[uniform(5, 9), uniform(6, 9)],
    );
}

// ----- ode -----

#[test]
fn ode_worked_example() {
    for s in [2, 10] {
        let input = once(json!({"x": [1.0, 2.0, 3.0, 4.0], "s": s}));
        assert_matches(
            &output("ode", "primal", &input),
            &json!([2.0, 4.0, 8.0, 16.0]),
            1e-12,
        );
        assert_matches(
            &output("ode", "gradient", &input),
            &json!([16.0, 8.0, 5.333333333333333, 4.0]),
            1e-12,
        );
    }
}

/// RK4 is exact for n ≤ 4, where `y_{n−1}(2) = Π x_i 2ⁿ/n!` and its gradient is `y/x_i`;
/// beyond, the gradient of the tool's RK4 primal's last component, by central differences
/// (GradBench's closed form is the exact ODE's, not RK4's: GradBench's `evals/ode`).
#[test]
fn ode_gradient_of_the_last_component() {
    for (seed, n, s) in [(1, 1, 1), (2, 3, 1), (3, 4, 3)] {
        let x = uniform(seed, n);
        let factorial: f64 = (1..=n).map(|k| k as f64).product();
        let last = x.iter().product::<f64>() * 2f64.powi(n as i32) / factorial;
        let gradient: Vec<f64> = x.iter().map(|v| last / v).collect();
        let input = once(json!({"x": x, "s": s}));
        let y = floats(&output("ode", "primal", &input));
        assert_matches(&json!(y[n - 1]), &json!(last), 1e-12);
        assert_matches(&output("ode", "gradient", &input), &json!(gradient), 1e-12);
    }
    let last_component = |x: &[f64], s: usize| -> f64 {
        let y = floats(&output("ode", "primal", &once(json!({"x": x, "s": s}))));
        y[y.len() - 1]
    };
    for (seed, n, s) in [(4, 6, 2), (5, 9, 3), (6, 8, 10)] {
        let x = uniform(seed, n);
        let gradient = floats(&output("ode", "gradient", &once(json!({"x": x, "s": s}))));
        check::gradient(|p| last_component(p, s), &x, &gradient).assert_within(1e-7);
    }
}

// ----- kmeans -----

#[test]
fn kmeans_worked_example() {
    let input = once(json!({
        "points": [[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [5.0, 5.0], [6.0, 5.0]],
        "centroids": [[0.5, 0.5], [5.0, 4.0]],
    }));
    assert_matches(&output("kmeans", "cost", &input), &json!(4.5), 1e-14);
    assert_matches(
        &output("kmeans", "dir", &input),
        &json!([[0.16666666666666666, 0.16666666666666666], [-0.5, -1.0]]),
        1e-14,
    );
}

/// `dir = J / diag H`, both by differences of the tool's `cost`: the cost is quadratic in
/// each centroid coordinate near the point (the assignment does not change), so central
/// first and second differences are exact up to rounding. The points are the eval's: uniform
/// on [0, 1)ᵈ, centroids the last k of them.
#[test]
fn kmeans_direction_against_differences_of_the_cost() {
    for (seed, n, k, d) in [(1, 12, 2, 2), (2, 30, 4, 3)] {
        let points = uniform(seed, n * d);
        let centroids = points[(n - k) * d..].to_vec();
        let rows = |flat: &[f64]| -> Value { flat.chunks(d).map(|r| r.to_vec()).collect() };
        let cost = |c: &[f64]| -> f64 {
            let input = once(json!({"points": rows(&points), "centroids": rows(c)}));
            output("kmeans", "cost", &input).as_f64().unwrap()
        };
        let dir = output(
            "kmeans",
            "dir",
            &once(json!({"points": rows(&points), "centroids": rows(&centroids)})),
        );
        let h = 1e-4;
        let mut expected = Vec::new();
        for i in 0..k * d {
            let moved = |delta: f64| {
                let mut c = centroids.clone();
                c[i] += delta;
                cost(&c)
            };
            let (up, here, down) = (moved(h), cost(&centroids), moved(-h));
            let gradient = (up - down) / (2.0 * h);
            let curvature = (up - 2.0 * here + down) / (h * h);
            expected.push(gradient / curvature);
        }
        let found = mismatches(&dir, &rows(&expected), 1e-6);
        assert!(found.is_empty(), "{found:?}");
    }
}

// ----- particle and saddle (nested derivatives) -----

/// Every variant answers the eval's constant within its tolerance (GRADBENCH.md §4.11,
/// §4.12), from the input the eval sends.
#[test]
fn particle_and_saddle_answer_the_evals_constants() {
    for function in ["rr", "rf", "fr", "ff"] {
        let particle = output("particle", function, &once(json!({"w": 0.0})));
        assert_matches(&particle, &json!(0.2071918746486116), 1e-4);
        let saddle = output("saddle", function, &once(json!({"start": [1.0, 1.0]})));
        let expected = 8.246324826140356e-06;
        assert_matches(
            &saddle,
            &json!([expected, expected, expected, expected]),
            1e-4,
        );
    }
}
