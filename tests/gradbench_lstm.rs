//! The `lstm` eval (GradBench's `evals/lstm`) through the protocol, against the spec's worked
//! example, central differences and the hand-written adjoint.

mod common;

use ad_runtime::check;
use ad_suite::problems::lstm::{objective, objective_grad, objective_hand};
use common::gradbench::{Rng, assert_matches, assert_relative, output, session};
use serde_json::{Value, json};

fn example() -> Value {
    json!({
        "main_params": [[0.64, 0.27, 0.04, 0.02, 0.81, 0.91, 0.61, 0.73],
                        [0.54, 0.94, 0.82, 0.0, 0.86, 0.03, 0.73, 0.18]],
        "extra_params": [[0.86, 0.54], [0.3, 0.42], [0.03, 0.12]],
        "state": [[0.67, 0.65], [0.62, 0.38]],
        "sequence": [[0, 1], [1, 1], [1, 0]],
        "min_runs": 3, "min_seconds": 0
    })
}

#[test]
fn example_objective() {
    let output = output("lstm", "objective", &example());
    assert_matches(&output, &json!(0.9609585731947796), 1e-9);
}

#[test]
fn example_jacobian() {
    let expected = [
        -0.0019008886156609659,
        0.0004120630951715997,
        -0.003420594297066903,
        -0.0004195458655089526,
        -0.005709850510194405,
        -0.0005553338529352197,
        -0.005010488319932779,
        -0.00017364153036781194,
        -0.005193022618725479,
        0.0007630798058733329,
        -0.0055449396421232144,
        -4.83944793146728e-06,
        -0.012382138996027116,
        -0.00102839602395411,
        -0.008204818876295053,
        0.002483660114528214,
        -0.006792497241023822,
        -0.0007298088342124398,
        -0.18779746734436953,
        -0.009698384790414433,
        -0.296472483051044,
        -0.035063575198080954,
    ];
    let output = output("lstm", "jacobian", &example());
    assert_matches(&output, &json!(expected), 1e-9);
}

#[test]
fn malformed_input_and_unknown_function_fail() {
    let mut short = example();
    short["sequence"] = json!([[0, 1]]);
    let responses = session(&[
        json!({"id": 0, "kind": "start"}),
        json!({"id": 1, "kind": "define", "module": "lstm"}),
        json!({"id": 2, "kind": "evaluate", "module": "lstm", "function": "objective", "input": short}),
        json!({"id": 3, "kind": "evaluate", "module": "lstm", "function": "gradient", "input": example()}),
        json!({"id": 4, "kind": "evaluate", "module": "lstm", "function": "jacobian", "input": example()}),
    ]);
    assert_eq!(responses[2]["success"], false);
    assert_eq!(responses[3]["success"], false);
    assert!(responses[2]["error"].is_string() && responses[3]["error"].is_string());
    assert_eq!(responses[4]["output"].as_array().map(Vec::len), Some(22));
}

/// `(main_params, extra_params, state, sequence)` for `layers`, `b`, `c`.
fn random(seed: u64, layers: usize, b: usize, c: usize) -> [Vec<f64>; 4] {
    let mut rng = Rng::new(seed);
    [
        rng.vec(8 * layers * b, 0.0, 1.0),
        rng.vec(3 * b, 0.0, 1.0),
        rng.vec(2 * layers * b, 0.0, 1.0),
        // `c * b` bits as 0.0 / 1.0.
        (0..c * b)
            .map(|_| (rng.uniform(0.0, 1.0) < 0.5) as u8 as f64)
            .collect(),
    ]
}

const SHAPES: [(u64, usize, usize, usize); 4] =
    [(1, 1, 2, 2), (2, 2, 3, 5), (3, 3, 4, 4), (4, 2, 14, 6)];

#[test]
fn gradient_matches_central_differences() {
    for (seed, layers, b, c) in SHAPES {
        let [main, extra, state, sequence] = random(seed, layers, b, c);
        let (value, (dmain, dextra)) =
            objective_grad(&main, &extra, &state, &sequence, layers, b, c);
        assert_eq!(
            value.to_bits(),
            objective(&main, &extra, &state, &sequence, layers, b, c).to_bits()
        );
        let flat = [&main[..], &extra].concat();
        let analytic = [dmain, dextra].concat();
        let f = |v: &[f64]| {
            let (main, extra) = v.split_at(8 * layers * b);
            objective(main, extra, &state, &sequence, layers, b, c)
        };
        check::gradient(f, &flat, &analytic).assert_within(1e-7);
    }
}

#[test]
fn hand_written_adjoint_equals_generated() {
    for (seed, layers, b, c) in SHAPES.into_iter().chain([(5, 4, 14, 30)]) {
        let [main, extra, state, sequence] = random(seed, layers, b, c);
        let (value, (dmain, dextra)) =
            objective_grad(&main, &extra, &state, &sequence, layers, b, c);
        let (hand_value, hand) = objective_hand(&main, &extra, &state, &sequence, layers, b, c);
        let ours = [dmain, dextra].concat();
        assert!((value - hand_value).abs() <= 1e-12 * value.abs().max(1.0));
        assert_relative("gradient against the hand-written", &ours, &hand, 1e-12);
    }
}
