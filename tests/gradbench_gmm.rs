//! The `gmm` eval (GradBench's `evals/gmm`) through the protocol, against the spec's worked
//! examples, central differences and the hand-written adjoint.

mod common;

use ad_runtime::check;
use ad_suite::problems::gmm::{
    Gradient, ln_gamma_half_integer, objective, objective_grad, objective_hand, objective_scratch,
    objective_scratch_grad, triangle,
};
use common::gradbench::{Rng, assert_matches, assert_relative, output, session};
use serde_json::{Value, json};

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
    let output = output("gmm", "objective", &example_1());
    assert_matches(&output, &json!(-14.53523148243055), 1e-9);
}

#[test]
fn example_1_jacobian() {
    let output = output("gmm", "jacobian", &example_1());
    let expected = json!({
        "alpha": [0.1226421923899157, -0.1226421923899157],
        "mu": [[0.3569799493374582, 0.509713578062487], [-0.0016435456578850968, 1.165922715642004]],
        "q": [[-1.147939792603065, 0.8335741984362964], [-0.16164405890092076, -1.6471232285486266]],
        "l": [[-0.427605263589409], [0.1263003396125624]]
    });
    assert_matches(&output, &expected, 1e-9);
}

#[test]
fn example_2_objective() {
    let output = output("gmm", "objective", &example_2());
    assert_matches(&output, &json!(-38.270276338718446), 1e-9);
}

#[test]
fn example_2_jacobian() {
    let output = output("gmm", "jacobian", &example_2());
    let expected = json!({
        "alpha": [-0.11832954758988512, 0.11832954758988534],
        "mu": [[1.242712085211653, 0.30199329758845717, -0.2842528797932309],
               [0.12350957165661292, 0.8989990148524203, 0.008642336727305695]],
        "q": [[1.3947623496189503, 2.614726327767103, 2.3562055419707026],
              [2.304036726863128, 1.4231414397009052, 2.5744894130861655]],
        "l": [[-0.4610669395050665, 0.231619940699883, 0.21130817809317443],
              [-0.1507296293203627, -0.10156056663418213, -0.05572729880888616]]
    });
    assert_matches(&output, &expected, 1e-9);
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

/// A random problem's arrays (its dimensions are the caller's).
struct Random {
    alpha: Vec<f64>,
    means: Vec<f64>,
    q: Vec<f64>,
    l: Vec<f64>,
    x: Vec<f64>,
}

fn random(seed: u64, d: usize, k: usize, n: usize) -> Random {
    let mut rng = Rng::new(seed);
    Random {
        alpha: rng.vec(k, -1.0, 1.0),
        means: rng.vec(k * d, -1.0, 1.0),
        q: rng.vec(k * d, -1.0, 1.0),
        l: rng.vec(k * triangle(d), -1.0, 1.0),
        x: rng.vec(n * d, -1.0, 1.0),
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

#[test]
fn hand_written_adjoint_equals_generated() {
    for (seed, d, k, n, m, gamma) in SHAPES.into_iter().chain([(5, 10, 5, 20, 3, 1.0)]) {
        let p = random(seed, d, k, n);
        let (value, (da, dm, dq, dl)) =
            objective_grad(&p.alpha, &p.means, &p.q, &p.l, &p.x, d, k, n, m, gamma);
        let (hand_value, Gradient { alpha, means, q, l }) =
            objective_hand(&p.alpha, &p.means, &p.q, &p.l, &p.x, d, k, n, m, gamma);
        assert_relative("value", &[value], &[hand_value], 1e-12);
        assert_relative("alpha", &da, &alpha, 1e-12);
        assert_relative("means", &dm, &means, 1e-12);
        assert_relative("q", &dq, &q, 1e-12);
        assert_relative("l", &dl, &l, 1e-12);
    }
}

#[test]
fn scratch_buffer_formulation_equals_the_objective() {
    // Per-point scratch buffers, `Q x̄` accumulated column by column: the same function,
    // summed in another order; its gradient (loads from the buffers taken again in the
    // reverse sweep, one element's adds summed in a register) is the same too.
    for (seed, d, k, n, m, gamma) in SHAPES.into_iter().chain([(5, 10, 5, 20, 3, 1.0)]) {
        let p = random(seed, d, k, n);
        let (value, (da, dm, dq, dl)) =
            objective_grad(&p.alpha, &p.means, &p.q, &p.l, &p.x, d, k, n, m, gamma);
        let (scratch_value, (sa, sm, sq, sl)) =
            objective_scratch_grad(&p.alpha, &p.means, &p.q, &p.l, &p.x, d, k, n, m, gamma);
        assert_eq!(
            scratch_value,
            objective_scratch(&p.alpha, &p.means, &p.q, &p.l, &p.x, d, k, n, m, gamma)
        );
        assert_relative("value", &[scratch_value], &[value], 1e-12);
        assert_relative("alpha", &sa, &da, 1e-12);
        assert_relative("means", &sm, &dm, 1e-12);
        assert_relative("q", &sq, &dq, 1e-12);
        assert_relative("l", &sl, &dl, 1e-12);
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
