//! GradBench's `ht` (GradBench's `evals/ht`) through the protocol, on the synthetic model the
//! spec describes, against its worked values; the Jacobian against the generated
//! `objective_jacobian` (one reverse sweep of the whole objective per row), central
//! differences and the closed form `∂err/∂u0 = pos_c − pos_a`, `∂err/∂u1 = pos_c − pos_b`.

mod common;

use ad_runtime::check::central_differences;
use ad_suite::problems::ht::{self, Model};
use common::gradbench::{assert_floats, floats, output, session};
use serde_json::{Value, json};

const BONES: usize = 22;
const PARENTS: [i64; BONES] = [
    -1, 0, 1, 2, 3, 0, 5, 6, 7, 0, 9, 10, 11, 0, 13, 14, 15, 0, 17, 18, 19, 0,
];
const BASE_POSITIONS: [[f64; 4]; 4] = [
    [0.1, 0.2, 0.3, 1.0],
    [0.0, 0.1, -0.1, 1.0],
    [0.2, -0.1, 0.05, 1.0],
    [-0.1, 0.05, 0.1, 1.0],
];
const POINTS: [[f64; 3]; 2] = [[0.1, 0.1, 0.1], [0.2, 0.0, -0.1]];

/// The spec's `theta_i = 0.05 (i + 1) (−1)^i`.
fn theta() -> Vec<f64> {
    (0..26)
        .map(|i| 0.05 * (i + 1) as f64 * if i % 2 == 0 { 1.0 } else { -1.0 })
        .collect()
}

fn base_relative(b: usize) -> [[f64; 4]; 4] {
    [
        [1.0, 0.0, 0.0, 0.1],
        [0.0, 1.0, 0.0, 0.02 * b as f64],
        [0.0, 0.0, 1.0, 0.0],
        [0.0, 0.0, 0.0, 1.0],
    ]
}

fn inverse_base_absolute(b: usize) -> [[f64; 4]; 4] {
    [
        [1.0, 0.0, 0.0, -0.05],
        [0.0, 1.0, 0.0, 0.0],
        [0.0, 0.0, 1.0, 0.01 * b as f64],
        [0.0, 0.0, 0.0, 1.0],
    ]
}

fn weights() -> Vec<[f64; BONES]> {
    let mut w = vec![[0.0; BONES]; 4];
    for (v, b, weight) in [
        (0, 2, 0.6),
        (0, 3, 0.4),
        (1, 6, 1.0),
        (2, 0, 0.5),
        (2, 11, 0.5),
        (3, 19, 0.7),
        (3, 18, 0.3),
    ] {
        w[v][b] = weight;
    }
    w
}

/// The synthetic model as the eval would send it.
fn model_json() -> Value {
    json!({
        "bone_count": BONES,
        "bone_names": (0..BONES).map(|b| format!("bone{b}")).collect::<Vec<_>>(),
        "parents": PARENTS,
        "base_relatives": (0..BONES).map(base_relative).collect::<Vec<_>>(),
        "inverse_base_absolutes": (0..BONES).map(inverse_base_absolute).collect::<Vec<_>>(),
        "base_positions": BASE_POSITIONS,
        "weights": weights(),
        "triangles": [[0, 1, 2], [1, 2, 3]],
        "is_mirrored": false,
    })
}

/// The same model, built directly.
fn model() -> Model {
    let flat = |m: [[f64; 4]; 4]| m.concat();
    Model {
        bones: BONES,
        parents: PARENTS.to_vec(),
        base_relatives: (0..BONES).flat_map(|b| flat(base_relative(b))).collect(),
        inverse_base_absolutes: (0..BONES)
            .flat_map(|b| flat(inverse_base_absolute(b)))
            .collect(),
        base_positions: BASE_POSITIONS.concat(),
        weights: weights().concat(),
        triangles: vec![0, 1, 2, 1, 2, 3],
        is_mirrored: false,
    }
}

fn input(correspondences: &[usize], us: &[[f64; 2]]) -> Value {
    json!({
        "theta": theta(),
        "data": {"model": model_json(), "correspondences": correspondences, "points": POINTS},
        "us": us,
        "min_runs": 1,
        "min_seconds": 0,
    })
}

const SIMPLE: [usize; 2] = [0, 3];
const COMPLICATED: [usize; 2] = [0, 1];
const US: [[f64; 2]; 2] = [[0.2, 0.3], [0.5, 0.25]];

/// `values` followed by `count` zeros.
fn then_zeros(values: &[f64], count: usize) -> Vec<f64> {
    let mut all = values.to_vec();
    all.resize(values.len() + count, 0.0);
    all
}

/// The rows of a jacobian output, each checked to have `columns` entries.
fn rows(output: &Value, columns: usize) -> Vec<Vec<f64>> {
    let rows: Vec<Vec<f64>> = output.as_array().unwrap().iter().map(floats).collect();
    assert_eq!(rows.len(), 6);
    assert!(rows.iter().all(|row| row.len() == columns));
    rows
}

#[test]
fn simple_objective_matches_the_worked_example() {
    let output = output("ht", "objective", &input(&SIMPLE, &[]));
    let want = [
        -0.0440577622872583,
        -0.23857109283968228,
        -0.019690123110246288,
        0.37417162599029596,
        -0.9835049157363936,
        -0.010479729273544902,
    ];
    assert_floats("objective", &floats(&output), &want, 1e-9);
}

#[test]
fn simple_jacobian_matches_the_worked_example() {
    let rows = rows(&output("ht", "jacobian", &input(&SIMPLE, &[])), 26);
    let row0 = then_zeros(
        &[
            -0.026509755466969463,
            -0.4159576859696746,
            0.09989596942238661,
            -1.0,
            0.0,
            0.0,
            0.09520887417520513,
            0.007506338207636143,
            0.032634284712978016,
        ],
        17,
    );
    assert_floats("row 0", &rows[0], &row0, 1e-9);
    let mut row5 = then_zeros(
        &[
            -0.7276287126620631,
            0.08118373081197452,
            0.03494483684340339,
            0.0,
            0.0,
            -1.0,
        ],
        16,
    );
    row5.extend([
        0.1423983554746114,
        0.009163159240084297,
        0.14786439015083636,
        0.0,
    ]);
    assert_floats("row 5", &rows[5], &row5, 1e-9);
}

#[test]
fn complicated_objective_matches_the_worked_example() {
    let output = output("ht", "objective", &input(&COMPLICATED, &US));
    let want = [
        -0.019676364512822356,
        -0.3317413527125722,
        0.2530032575486031,
        0.17681205725849403,
        -0.6474635131284147,
        0.09306177605733293,
    ];
    assert_floats("objective", &floats(&output), &want, 1e-9);
}

#[test]
fn complicated_jacobian_matches_the_worked_example() {
    let rows = rows(&output("ht", "jacobian", &input(&COMPLICATED, &US)), 28);
    let du = [
        [0.0011602448896637085, 0.08436531228722305],
        [0.013071088954735022, -0.2757112956970066],
        [-0.3326394292394488, 0.02193945755763463],
        [-0.23502432087999492, -0.31938963316721797],
        [0.35615143824496975, 0.6318627339419763],
        [0.14536849296038198, 0.12342903540274736],
    ];
    for (r, want) in du.iter().enumerate() {
        assert_floats(&format!("row {r} columns 0-1"), &rows[r][..2], want, 1e-9);
    }
    let row0 = then_zeros(
        &[
            -0.0015829804909861496,
            -0.142308588613472,
            0.18539444876818423,
            -1.0,
            0.0,
            0.0,
            0.019041774835041027,
            0.0015012676415272286,
            0.006526856942595603,
            0.0,
            0.005392755213986075,
            0.03504126479299798,
            0.0,
            0.0,
            0.006895522244440614,
            -0.03671999210468944,
            -0.0194526470310676,
        ],
        9,
    );
    assert_floats("row 0 columns 2-27", &rows[0][2..], &row0, 1e-9);
}

#[test]
fn unknown_functions_and_bad_inputs_fail() {
    let responses = session(&[
        json!({"id": 0, "kind": "evaluate", "module": "ht", "function": "hessian",
               "input": input(&SIMPLE, &[])}),
        json!({"id": 1, "kind": "evaluate", "module": "ht", "function": "objective",
               "input": input(&[0, 7], &[])}),
    ]);
    assert_eq!(responses[0]["success"], false);
    assert!(responses[0]["error"].as_str().unwrap().contains("hessian"));
    assert_eq!(responses[1]["success"], false);
    assert!(responses[1]["error"].as_str().unwrap().contains('7'));
}

/// Thetas to check derivatives at: the example's and two others.
fn thetas() -> Vec<Vec<f64>> {
    let base = theta();
    vec![
        base.clone(),
        base.iter()
            .enumerate()
            .map(|(i, t)| t * 0.7 + 0.03 * i as f64)
            .collect(),
        base.iter().map(|t| -1.3 * t).collect(),
    ]
}

/// Our Jacobian against the generated `objective_jacobian`, whose columns are θ (26) then
/// all of `us` (2P): the complicated variant's columns 0–1 are the row's own point's.
#[test]
fn jacobian_matches_the_generated_full_jacobian() {
    let model = model();
    let points = POINTS.concat();
    for theta in thetas() {
        for (correspondences, us) in [(SIMPLE, vec![]), (COMPLICATED, US.concat())] {
            let (ours, columns) = ht::jacobian(&theta, &model, &correspondences, &points, &us);
            let (err, full) =
                ht::objective_jacobian(&theta, &model, &correspondences, &points, &us);
            assert_eq!(
                err,
                ht::objective(&theta, &model, &correspondences, &points, &us)
            );
            let offset = columns - 26;
            for (r, full_row) in full.iter().enumerate() {
                let row = &ours[r * columns..(r + 1) * columns];
                let mut want = Vec::new();
                if offset == 2 {
                    want.extend(&full_row[26 + 2 * (r / 3)..26 + 2 * (r / 3) + 2]);
                }
                want.extend(&full_row[..26]);
                assert_floats(&format!("row {r}"), row, &want, 1e-12);
            }
        }
    }
}

#[test]
fn jacobian_matches_central_differences() {
    let model = model();
    let points = POINTS.concat();
    for theta in thetas() {
        for (correspondences, us) in [(SIMPLE, vec![]), (COMPLICATED, US.concat())] {
            let (ours, columns) = ht::jacobian(&theta, &model, &correspondences, &points, &us);
            // Differences over θ and the us together, one residual at a time.
            let mut inputs = theta.clone();
            inputs.extend(&us);
            for r in 0..6 {
                let fd = central_differences(
                    |v: &[f64]| {
                        ht::objective(&v[..26], &model, &correspondences, &points, &v[26..])[r]
                    },
                    &inputs,
                );
                let mut want = Vec::new();
                if columns == 28 {
                    want.extend(&fd[26 + 2 * (r / 3)..28 + 2 * (r / 3)]);
                }
                want.extend(&fd[..26]);
                let row = &ours[r * columns..(r + 1) * columns];
                assert_floats(&format!("row {r}"), row, &want, 1e-7);
            }
        }
    }
}

#[test]
fn barycentric_columns_are_differences_of_corners() {
    let model = model();
    let points = POINTS.concat();
    for theta in thetas() {
        let us = US.concat();
        let (ours, columns) = ht::jacobian(&theta, &model, &COMPLICATED, &points, &us);
        let transforms = ht::pose_transforms(&theta, &model);
        for (i, &triangle) in COMPLICATED.iter().enumerate() {
            let [a, b, c] = [0, 1, 2].map(|k| {
                ht::vertex_position(&transforms, &model, model.triangles[3 * triangle + k])
            });
            for j in 0..3 {
                let row = &ours[(3 * i + j) * columns..];
                assert_floats(
                    &format!("point {i}, coordinate {j}"),
                    &row[..2],
                    &[c[j] - a[j], c[j] - b[j]],
                    1e-12,
                );
            }
        }
    }
}
