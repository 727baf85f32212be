//! The `gmm` eval (GRADBENCH.md §4.7) through the protocol, against the spec's worked
//! examples, central differences and the hand-written adjoint.

use ad_runtime::check;
use ad_suite::gradbench::serve;
use ad_suite::problems::gmm::{
    Gradient, ln_gamma_half_integer, objective, objective_grad, objective_hand, triangle,
};
use serde_json::{Value, json};

/// The responses to `messages`, one per line, from an in-process session.
fn session(messages: &[Value]) -> Vec<Value> {
    let input: String = messages.iter().map(|m| format!("{m}\n")).collect();
    let mut output = Vec::new();
    serve(input.as_bytes(), &mut output).expect("in-memory I/O does not fail");
    String::from_utf8(output)
        .expect("responses are UTF-8")
        .lines()
        .map(|line| serde_json::from_str(line).expect("each response is JSON"))
        .collect()
}

/// The output of evaluating `function` on `input` after `start` and `define`.
fn evaluate(function: &str, input: Value) -> Value {
    let responses = session(&[
        json!({"id": 0, "kind": "start", "eval": "gmm"}),
        json!({"id": 1, "kind": "define", "module": "gmm"}),
        json!({"id": 2, "kind": "evaluate", "module": "gmm", "function": function, "input": input}),
    ]);
    assert_eq!(responses[1], json!({"id": 1, "success": true}));
    let response = &responses[2];
    assert_eq!(response["id"], 2);
    assert_eq!(response["success"], true, "{response}");
    let timings = response["timings"].as_array().expect("timings");
    assert!(!timings.is_empty() && timings.iter().all(|t| t["name"] == "evaluate"));
    response["output"].clone()
}

/// Walks `actual` and `expected` together as the eval does (§3.1), with numbers compared by
/// `|x − y| / max(1, |x| + |y|) ≤ tolerance`; objects must have exactly the same keys.
fn assert_matches(path: &str, actual: &Value, expected: &Value, tolerance: f64) {
    match (actual, expected) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            let error = (x - y).abs() / 1f64.max(x.abs() + y.abs());
            assert!(error <= tolerance, "{path}: expected {y}, got {x}");
        }
        (Value::Array(xs), Value::Array(ys)) => {
            assert_eq!(xs.len(), ys.len(), "{path}: length");
            for (i, (x, y)) in xs.iter().zip(ys).enumerate() {
                assert_matches(&format!("{path}[{i}]"), x, y, tolerance);
            }
        }
        (Value::Object(xs), Value::Object(ys)) => {
            let mut keys: Vec<_> = xs.keys().collect();
            let mut expected_keys: Vec<_> = ys.keys().collect();
            keys.sort();
            expected_keys.sort();
            assert_eq!(keys, expected_keys, "{path}: keys");
            for (key, y) in ys {
                assert_matches(&format!("{path}.{key}"), &xs[key], y, tolerance);
            }
        }
        _ => panic!("{path}: expected {expected}, got {actual}"),
    }
}

/// Both the eval's rule and a tighter one, since the spec gives the values to full precision.
fn assert_matches_spec(actual: &Value, expected: &Value) {
    assert_matches("output", actual, expected, 1e-4);
    assert_matches("output", actual, expected, 1e-9);
}

fn example_1() -> Value {
    json!({
        "d": 2, "k": 2, "n": 3, "m": 0, "gamma": 1,
        "x": [[0.5, -0.2], [1.0, 0.3], [-0.7, 0.8]],
        "alpha": [0.1, -0.3],
        "mu": [[0.0, 0.1], [0.5, -0.5]],
        "q": [[0.2, -0.1], [0.0, 0.3]],
        "l": [[0.4], [-0.2]],
        "min_runs": 2, "min_seconds": 0
    })
}

fn example_2() -> Value {
    json!({
        "d": 3, "k": 2, "n": 2, "m": 2, "gamma": 0.7,
        "x": [[0.5, -0.2, 0.1], [1.0, 0.3, -0.4]],
        "alpha": [0.1, -0.3],
        "mu": [[0.0, 0.1, 0.2], [0.5, -0.5, 0.0]],
        "q": [[0.2, -0.1, 0.05], [0.0, 0.3, -0.2]],
        "l": [[0.4, 0.1, -0.3], [-0.2, 0.25, 0.15]],
        "min_runs": 1, "min_seconds": 0
    })
}

#[test]
fn example_1_objective() {
    let output = evaluate("objective", example_1());
    assert_matches_spec(&output, &json!(-14.53523148243055));
}

#[test]
fn example_1_jacobian() {
    let output = evaluate("jacobian", example_1());
    let expected = json!({
        "alpha": [0.1226421923899157, -0.1226421923899157],
        "mu": [[0.3569799493374582, 0.509713578062487], [-0.0016435456578850968, 1.165922715642004]],
        "q": [[-1.147939792603065, 0.8335741984362964], [-0.16164405890092076, -1.6471232285486266]],
        "l": [[-0.427605263589409], [0.1263003396125624]]
    });
    assert_matches_spec(&output, &expected);
}

#[test]
fn example_2_objective() {
    let output = evaluate("objective", example_2());
    assert_matches_spec(&output, &json!(-38.270276338718446));
}

#[test]
fn example_2_jacobian() {
    let output = evaluate("jacobian", example_2());
    let expected = json!({
        "alpha": [-0.11832954758988512, 0.11832954758988534],
        "mu": [[1.242712085211653, 0.30199329758845717, -0.2842528797932309],
               [0.12350957165661292, 0.8989990148524203, 0.008642336727305695]],
        "q": [[1.3947623496189503, 2.614726327767103, 2.3562055419707026],
              [2.304036726863128, 1.4231414397009052, 2.5744894130861655]],
        "l": [[-0.4610669395050665, 0.231619940699883, 0.21130817809317443],
              [-0.1507296293203627, -0.10156056663418213, -0.05572729880888616]]
    });
    assert_matches_spec(&output, &expected);
}

#[test]
fn unknown_function_and_bad_input_fail_without_ending_the_session() {
    let mut short = example_1();
    short["alpha"] = json!([0.1]);
    let responses = session(&[
        json!({"id": 0, "kind": "start"}),
        json!({"id": 1, "kind": "define", "module": "gmm"}),
        json!({"id": 2, "kind": "evaluate", "module": "gmm", "function": "hessian", "input": example_1()}),
        json!({"id": 3, "kind": "evaluate", "module": "gmm", "function": "objective", "input": short}),
        json!({"id": 4, "kind": "evaluate", "module": "gmm", "function": "objective", "input": example_1()}),
    ]);
    assert_eq!(responses.len(), 5);
    for (response, id) in responses[2..4].iter().zip([2, 3]) {
        assert_eq!(response["id"], id);
        assert_eq!(response["success"], false);
        assert!(response["error"].is_string(), "{response}");
    }
    assert_eq!(responses[4]["success"], true);
}

/// A seeded xorshift generator of floats in [−1, 1).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }
    fn vec(&mut self, len: usize) -> Vec<f64> {
        (0..len).map(|_| self.next()).collect()
    }
}

/// A random problem's arrays (its dimensions are the caller's).
struct Random {
    alpha: Vec<f64>,
    means: Vec<f64>,
    q: Vec<f64>,
    l: Vec<f64>,
    x: Vec<f64>,
}

fn random(seed: u64, d: usize, k: usize, n: usize) -> Random {
    let mut rng = Rng(seed);
    Random {
        alpha: rng.vec(k),
        means: rng.vec(k * d),
        q: rng.vec(k * d),
        l: rng.vec(k * triangle(d)),
        x: rng.vec(n * d),
    }
}

const SHAPES: [(u64, usize, usize, usize, usize, f64); 4] = [
    (1, 1, 2, 3, 0, 1.0),
    (2, 2, 3, 5, 1, 0.8),
    (3, 4, 2, 4, 2, 1.3),
    (4, 5, 3, 6, 0, 0.5),
];

#[test]
fn gradient_matches_central_differences() {
    for (seed, d, k, n, m, gamma) in SHAPES {
        let p = random(seed, d, k, n);
        let (value, (da, dm, dq, dl)) =
            objective_grad(&p.alpha, &p.means, &p.q, &p.l, &p.x, d, k, n, m, gamma);
        assert_eq!(
            value.to_bits(),
            objective(&p.alpha, &p.means, &p.q, &p.l, &p.x, d, k, n, m, gamma).to_bits()
        );
        // All parameters as one vector, split back for each evaluation.
        let sizes = [k, k * d, k * d, k * triangle(d)];
        let flat: Vec<f64> = [&p.alpha[..], &p.means, &p.q, &p.l].concat();
        let analytic: Vec<f64> = [da, dm, dq, dl].concat();
        let f = |v: &[f64]| {
            let (a, rest) = v.split_at(sizes[0]);
            let (mu, rest) = rest.split_at(sizes[1]);
            let (q, l) = rest.split_at(sizes[2]);
            objective(a, mu, q, l, &p.x, d, k, n, m, gamma)
        };
        check::gradient(f, &flat, &analytic).assert_within(1e-6);
    }
}

/// `a` and `b` agree to a relative 1e-12 (absolute below 1).
fn assert_same(what: &str, a: &[f64], b: &[f64]) {
    assert_eq!(a.len(), b.len(), "{what}: length");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        let error = (x - y).abs() / 1f64.max(x.abs().max(y.abs()));
        assert!(error <= 1e-12, "{what}[{i}]: {x} against {y}");
    }
}

#[test]
fn hand_written_adjoint_equals_generated() {
    for (seed, d, k, n, m, gamma) in SHAPES.into_iter().chain([(5, 10, 5, 20, 3, 1.0)]) {
        let p = random(seed, d, k, n);
        let (value, (da, dm, dq, dl)) =
            objective_grad(&p.alpha, &p.means, &p.q, &p.l, &p.x, d, k, n, m, gamma);
        let (hand_value, Gradient { alpha, means, q, l }) =
            objective_hand(&p.alpha, &p.means, &p.q, &p.l, &p.x, d, k, n, m, gamma);
        assert_same("value", &[value], &[hand_value]);
        assert_same("alpha", &da, &alpha);
        assert_same("means", &dm, &means);
        assert_same("q", &dq, &q);
        assert_same("l", &dl, &l);
    }
}

#[test]
fn ln_gamma_of_half_integers() {
    // Γ(½) = √π, Γ(1) = Γ(2) = 1, Γ(5/2) = 3√π/4, Γ(5) = 24.
    let pi = std::f64::consts::PI;
    for (a, want) in [
        (0.5, 0.5 * pi.ln()),
        (1.0, 0.0),
        (2.0, 0.0),
        (2.5, (0.75 * pi.sqrt()).ln()),
        (5.0, 24f64.ln()),
    ] {
        assert!((ln_gamma_half_integer(a) - want).abs() < 1e-14, "lnΓ({a})");
    }
    for twice in 1..200 {
        let a = twice as f64 / 2.0;
        let (got, want) = (ln_gamma_half_integer(a), libm::lgamma(a));
        assert!(
            (got - want).abs() <= 1e-12 * want.abs().max(1.0),
            "lnΓ({a}): {got} against libm's {want}"
        );
    }
}
