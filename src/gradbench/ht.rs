//! `ht`: hand tracking (GradBench's `evals/ht`). An empty `us` selects the simple variant
//! (correspondences are vertices), a non-empty one the complicated variant (triangles and
//! barycentric coordinates).

use serde_json::Value;

use super::{Job, json};
use crate::problems::ht::{self, Model, THETA_SIZE};

pub(super) fn prepare(function: &str, input: &Value) -> Result<Box<dyn Job>, String> {
    let data = parse(input)?;
    match function {
        "objective" => Ok(Box::new(Objective {
            data,
            err: Vec::new(),
        })),
        "jacobian" => Ok(Box::new(Jacobian {
            data,
            rows: (Vec::new(), 0),
        })),
        _ => Err(json::unknown_function("ht", function)),
    }
}

/// One evaluation's parsed input.
struct Data {
    theta: Vec<f64>,
    model: Model,
    correspondences: Vec<usize>,
    points: Vec<f64>,
    us: Vec<f64>,
}

fn parse(input: &Value) -> Result<Data, String> {
    let theta = json::floats(input, "theta")?;
    if theta.len() != THETA_SIZE {
        return Err(format!(
            "`theta` must have {THETA_SIZE} entries, got {}",
            theta.len()
        ));
    }
    let data = json::field(input, "data")?;
    let model = parse_model(json::field(data, "model")?)?;
    let correspondences = indices(json::field(data, "correspondences")?, "correspondences")?;
    let (points, count, width) = json::matrix(data, "points")?;
    let (us, us_count, us_width) = json::matrix(input, "us")?;
    let limit = if us.is_empty() {
        model.vertices()
    } else {
        model.triangles.len() / 3
    };
    if count != correspondences.len() || (count > 0 && width != 3) {
        return Err(format!(
            "`points` must be {} rows of 3, got {count} of {width}",
            correspondences.len()
        ));
    }
    if !us.is_empty() && (us_count != count || us_width != 2) {
        return Err(format!(
            "`us` must be empty or {count} rows of 2, got {us_count} of {us_width}"
        ));
    }
    if let Some(bad) = correspondences.iter().find(|&&c| c >= limit) {
        return Err(format!("correspondence {bad} out of range (< {limit})"));
    }
    Ok(Data {
        theta,
        model,
        correspondences,
        points,
        us,
    })
}

fn parse_model(model: &Value) -> Result<Model, String> {
    let bones = json::count(model, "bone_count")?;
    let parents = json::field(model, "parents")?
        .as_array()
        .ok_or("`parents` must be an array")?
        .iter()
        .map(|p| {
            p.as_i64()
                .ok_or(format!("`parents` must hold integers, got {p}"))
        })
        .collect::<Result<Vec<i64>, String>>()?;
    let base_relatives = matrices(model, "base_relatives")?;
    let inverse_base_absolutes = matrices(model, "inverse_base_absolutes")?;
    let (base_positions, vertices, width) = json::matrix(model, "base_positions")?;
    let (weights, weight_rows, weight_columns) = json::matrix(model, "weights")?;
    let triangles = json::field(model, "triangles")?
        .as_array()
        .ok_or("`triangles` must be an array")?
        .iter()
        .map(|t| indices(t, "triangles"))
        .collect::<Result<Vec<Vec<usize>>, String>>()?;
    let is_mirrored = json::field(model, "is_mirrored")?
        .as_bool()
        .ok_or("`is_mirrored` must be a bool")?;
    let valid_parents = parents.len() == bones
        && parents
            .iter()
            .enumerate()
            .all(|(b, &p)| p < b as i64 && p >= -1);
    if !valid_parents {
        return Err("`parents` must name, for each bone, -1 or an earlier bone".into());
    }
    if base_relatives.len() != 16 * bones || inverse_base_absolutes.len() != 16 * bones {
        return Err(format!("the model needs {bones} 4×4 matrices of each kind"));
    }
    if width != 4 || weight_rows != vertices || weight_columns != bones {
        return Err(format!(
            "`base_positions` must be V rows of 4 and `weights` V rows of {bones}"
        ));
    }
    if triangles.iter().flatten().any(|&v| v >= vertices) || triangles.iter().any(|t| t.len() != 3)
    {
        return Err("`triangles` must be triples of vertex indices".into());
    }
    Ok(Model {
        bones,
        parents,
        base_relatives,
        inverse_base_absolutes,
        base_positions,
        weights,
        triangles: triangles.concat(),
        is_mirrored,
    })
}

/// An array of non-negative integers.
fn indices(value: &Value, what: &str) -> Result<Vec<usize>, String> {
    value
        .as_array()
        .ok_or(format!("`{what}` must be an array"))?
        .iter()
        .map(|v| {
            v.as_u64()
                .map(|v| v as usize)
                .ok_or(format!("`{what}` must hold non-negative integers, got {v}"))
        })
        .collect()
}

/// The field `key`: 4×4 matrices given as rows, flattened row-major one after another.
fn matrices(model: &Value, key: &str) -> Result<Vec<f64>, String> {
    let list = json::field(model, key)?
        .as_array()
        .ok_or(format!("`{key}` must be an array of matrices"))?;
    let mut flat = Vec::with_capacity(16 * list.len());
    for matrix in list {
        let (entries, rows, columns) = json::matrix_of(matrix, key)?;
        if (rows, columns) != (4, 4) {
            return Err(format!("`{key}` must hold 4×4 matrices"));
        }
        flat.extend(entries);
    }
    Ok(flat)
}

struct Objective {
    data: Data,
    err: Vec<f64>,
}

impl Job for Objective {
    fn run(&mut self) {
        let d = &self.data;
        self.err = ht::objective(&d.theta, &d.model, &d.correspondences, &d.points, &d.us);
    }
    fn output(&self) -> Value {
        self.err.clone().into()
    }
}

struct Jacobian {
    data: Data,
    rows: (Vec<f64>, usize),
}

impl Job for Jacobian {
    fn run(&mut self) {
        let d = &self.data;
        self.rows = ht::jacobian(&d.theta, &d.model, &d.correspondences, &d.points, &d.us);
    }
    fn output(&self) -> Value {
        json::rows(&self.rows.0, self.rows.1)
    }
}
