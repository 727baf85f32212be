//! GradBench's `ba` (GradBench's `evals/ba`) through the protocol, against the worked example's
//! values; the Jacobian blocks against central differences, the hand-written blocks and the
//! closed-form identities the spec lists; the sparse structure against its formula.

mod common;

use ad_runtime::check::central_differences;
use ad_suite::problems::ba::{
    self, Observation, Problem, block, block_hand, reprojection_error, weight_error_grad,
};
use common::gradbench::{Rng, assert_floats, evaluate, floats};
use serde_json::{Value, json};

const CAM: [f64; 11] = [
    -0.758453, -1.109613, -0.845551, 34.556073, 39.676747, 53.881673, 419.194514, 5.864426,
    -8.51887, 0.087812, 0.002739,
];
const X: [f64; 3] = [7.203245, 0.001144, 3.023326];
const W: f64 = 0.417022;
const FEAT: [f64; 2] = [271.760969, 834.209256];

/// The worked example's input: the data values with n = 2, m = 3, p = 16.
fn example_input() -> Value {
    json!({"n": 2, "m": 3, "p": 16, "cam": CAM, "x": X, "w": W, "feat": FEAT,
           "min_runs": 2, "min_seconds": 0})
}

#[test]
fn objective_matches_the_worked_example() {
    let response = evaluate("ba", "objective", &example_input());
    assert_eq!(response["id"], 2);
    assert_eq!(response["success"], true);
    assert_eq!(response["timings"].as_array().map(Vec::len), Some(2));
    let output = &response["output"];
    // Exactly the keys the validator expects (extra keys are mismatches).
    assert_eq!(
        output.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["reproj_error", "w_err"]
    );
    assert_eq!(
        output["reproj_error"].as_object().unwrap().len(),
        2,
        "reproj_error has only elements and repeated"
    );
    assert_floats(
        "reproj_error.elements",
        &floats(&output["reproj_error"]["elements"]),
        &[0.10133583791446145, -0.06896776592448106],
        1e-9,
    );
    assert_eq!(output["reproj_error"]["repeated"], 16);
    assert_floats(
        "w_err.element",
        &floats(&json!([output["w_err"]["element"]])),
        &[0.826092651516],
        1e-9,
    );
    assert_eq!(output["w_err"]["repeated"], 16);
}

#[test]
fn jacobian_matches_the_worked_example() {
    let response = evaluate("ba", "jacobian", &example_input());
    assert_eq!(response["success"], true);
    let output = &response["output"];
    assert_eq!(output.as_object().unwrap().len(), 3);
    let rows: Vec<u64> = (0..30).map(|r| 15 * r).chain([496]).collect();
    assert_eq!(output["rows"], json!(rows));
    assert_eq!(
        output["cols"],
        json!([
            0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 22, 23, 24, 31, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 22,
            23, 24, 31, 46
        ])
    );
    let vals = [
        -461.4463210015994,
        178.86792801444557,
        -19.42391647220627,
        -3.0615983420410324,
        6.392457556226442,
        -3.340282281299017,
        0.2647602492070315,
        0.417022,
        0.0,
        243.62824566082992,
        676.4867782658685,
        3.0615983420410324,
        -6.392457556226442,
        3.340282281299017,
        0.24299878163373023,
        -803.7436233648792,
        -309.59541752344876,
        604.7802846625028,
        -15.049628170340549,
        6.248486312079823,
        3.219479951604925,
        0.8381960857313306,
        0.0,
        0.417022,
        771.2949451366331,
        2141.6680611599545,
        15.049628170340549,
        -6.248486312079823,
        -3.219479951604925,
        -0.16538160078960118,
        -0.834044,
    ];
    assert_floats("vals", &floats(&output["vals"]), &vals, 1e-9);
}

#[test]
fn bad_inputs_and_functions_fail_without_stopping() {
    let response = evaluate("ba", "gradient", &example_input());
    assert_eq!(response["success"], false);
    assert!(response["error"].as_str().unwrap().contains("gradient"));
    let mut short = example_input();
    short["cam"] = json!([1.0, 2.0]);
    let response = evaluate("ba", "objective", &short);
    assert_eq!(response["success"], false);
    assert!(response["error"].as_str().unwrap().contains("cam"));
}

/// An observation near the data's, drawn from `points`: the camera in front of the point, so
/// the projection is well defined.
fn observation(points: &mut Rng) -> Observation {
    let mut cam = CAM;
    for c in &mut cam {
        *c *= points.uniform(0.7, 1.3);
    }
    let x = X.map(|x| x + points.uniform(-1.0, 1.0));
    (cam, x, points.uniform(0.2, 1.5), FEAT)
}

/// The block of one observation by central differences on [`reprojection_error`].
fn block_fd(cam: &[f64; 11], x: &[f64; 3], w: f64, feat: &[f64; 2]) -> ba::Block {
    let mut inputs = cam.to_vec();
    inputs.extend(x);
    inputs.push(w);
    let component = |a: usize| {
        central_differences(
            |v: &[f64]| {
                let cam: [f64; 11] = v[..11].try_into().unwrap();
                let x: [f64; 3] = v[11..14].try_into().unwrap();
                reprojection_error(&cam, &x, v[14], feat)[a]
            },
            &inputs,
        )
    };
    let (row0, row1) = (component(0), component(1));
    [row0.try_into().unwrap(), row1.try_into().unwrap()]
}

#[track_caller]
fn assert_blocks(what: &str, got: &ba::Block, want: &ba::Block, tolerance: f64) {
    for a in 0..2 {
        for j in 0..ba::ROW_NONZEROS {
            let (g, w) = (got[a][j], want[a][j]);
            assert!(
                (g - w).abs() <= tolerance * w.abs().max(1.0),
                "{what}: ∂e{a}/∂column {j}: got {g}, want {w}"
            );
        }
    }
}

/// The data's observation, random ones, and cameras with a zero rotation (Rodrigues'
/// exact `θ² = 0` branch).
fn observations() -> Vec<Observation> {
    let mut points = Rng::new(7);
    let mut all = vec![(CAM, X, W, FEAT)];
    all.extend((0..6).map(|_| observation(&mut points)));
    for k in 0..2 {
        let (mut cam, x, w, feat) = observation(&mut points);
        cam[..3].fill(0.0);
        all.push((cam, x, w + k as f64, feat));
    }
    all
}

#[test]
fn blocks_match_central_differences() {
    for (cam, x, w, feat) in observations() {
        let ours = block(&cam, &x, w, &feat);
        assert_blocks(
            &format!("cam {cam:?}"),
            &ours,
            &block_fd(&cam, &x, w, &feat),
            1e-6,
        );
    }
}

#[test]
fn blocks_match_the_hand_written_derivatives() {
    for (cam, x, w, feat) in observations() {
        let ours = block(&cam, &x, w, &feat);
        assert_blocks(
            &format!("cam {cam:?}"),
            &ours,
            &block_hand(&cam, &x, w, &feat),
            1e-12,
        );
    }
}

#[test]
fn blocks_satisfy_the_closed_form_identities() {
    for (cam, x, w, feat) in observations() {
        let e = reprojection_error(&cam, &x, w, &feat);
        let jacobian = block(&cam, &x, w, &feat);
        for a in 0..2 {
            // The principal point enters proj linearly: ∂e_a/∂(u0, v0)_b = w δ_ab.
            assert_eq!(jacobian[a][7 + a], w);
            assert_eq!(jacobian[a][8 - a], 0.0);
            // e is linear in w: ∂e/∂w = e/w.
            assert!((jacobian[a][14] - e[a] / w).abs() <= 1e-12 * (e[a] / w).abs().max(1.0));
            // The point enters only through X − C: ∂e/∂X = −∂e/∂C.
            for j in 0..3 {
                assert_eq!(jacobian[a][11 + j], -jacobian[a][3 + j]);
            }
        }
    }
}

#[test]
fn the_full_jacobian_has_the_documented_structure() {
    let (n, m, p) = (3, 4, 10);
    let mut problem = Problem::replicated(n, m, p, &CAM, &X, W, &FEAT);
    // Distinct cameras, points and weights, so that a wrong index shows in the values.
    let mut points = Rng::new(11);
    for value in problem
        .cams
        .iter_mut()
        .chain(&mut problem.points)
        .chain(&mut problem.weights)
    {
        *value *= points.uniform(0.9, 1.1);
    }
    let jacobian = ba::jacobian(&problem);
    let expected_rows: Vec<usize> = (0..=2 * p)
        .map(|r| 15 * r)
        .chain((1..=p).map(|j| 30 * p + j))
        .collect();
    assert_eq!(jacobian.rows, expected_rows);
    let (camera_columns, point_columns) = (11 * n, 3 * m);
    for i in 0..p {
        let (cam, x, w, feat) = problem.observation(i);
        let want = block(&cam, &x, w, &feat);
        for (a, want_row) in want.iter().enumerate() {
            let start = jacobian.rows[2 * i + a];
            let cols = &jacobian.cols[start..start + 15];
            let expected: Vec<usize> = (11 * (i % n)..11 * (i % n) + 11)
                .chain(camera_columns + 3 * (i % m)..camera_columns + 3 * (i % m) + 3)
                .chain([camera_columns + point_columns + i])
                .collect();
            assert_eq!(cols, expected.as_slice(), "row {}", 2 * i + a);
            assert_eq!(&jacobian.vals[start..start + 15], want_row.as_slice());
        }
        let start = jacobian.rows[2 * p + i];
        assert_eq!(jacobian.cols[start], camera_columns + point_columns + i);
        assert_eq!(jacobian.vals[start], -2.0 * problem.weights[i]);
        assert_eq!(
            weight_error_grad(problem.weights[i]).1,
            -2.0 * problem.weights[i]
        );
    }
    let hand = ba::jacobian_hand(&problem);
    assert_eq!((&hand.rows, &hand.cols), (&jacobian.rows, &jacobian.cols));
    for (k, (h, g)) in hand.vals.iter().zip(&jacobian.vals).enumerate() {
        assert!(
            (h - g).abs() <= 1e-12 * g.abs().max(1.0),
            "nonzero {k}: {h} vs {g}"
        );
    }
    let (reprojection, weight) = ba::residuals(&problem);
    assert_eq!((reprojection.len(), weight.len()), (2 * p, p));
    let (cam, x, w, feat) = problem.observation(p - 1);
    assert_eq!(
        reprojection[2 * p - 2..],
        reprojection_error(&cam, &x, w, &feat)
    );
}
