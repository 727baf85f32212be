//! `kmeans`: the cost (`cost`) and the Newton direction gradient / Hessian diagonal (`dir`,
//! one row per centroid) of `{"points": [[float; d]; n], "centroids": [[float; d]; k]}`.

use serde_json::Value;

use super::{Job, json};
use crate::problems::kmeans::{cost, direction};

pub(super) fn prepare(function: &str, input: &Value) -> Result<Box<dyn Job>, String> {
    let (points, _, d) = json::matrix(input, "points")?;
    let (centroids, k, d_centroids) = json::matrix(input, "centroids")?;
    if d == 0 || k == 0 || d != d_centroids {
        return Err(format!(
            "points have {d} coordinates and centroids {d_centroids}: both need the same, at least 1, and k ≥ 1"
        ));
    }
    let problem = Problem {
        points,
        centroids,
        d,
    };
    match function {
        "cost" => Ok(Box::new(Cost { problem, y: 0.0 })),
        "dir" => Ok(Box::new(Direction {
            problem,
            dir: Vec::new(),
        })),
        _ => Err(json::unknown_function("kmeans", function)),
    }
}

/// Points and centroids, flat row-major, of dimension `d`.
struct Problem {
    points: Vec<f64>,
    centroids: Vec<f64>,
    d: usize,
}

struct Cost {
    problem: Problem,
    y: f64,
}

impl Job for Cost {
    fn run(&mut self) {
        let p = &self.problem;
        self.y = cost(&p.points, &p.centroids, p.d);
    }
    fn output(&self) -> Value {
        self.y.into()
    }
}

struct Direction {
    problem: Problem,
    dir: Vec<f64>,
}

impl Job for Direction {
    fn run(&mut self) {
        let p = &self.problem;
        self.dir = direction(&p.points, &p.centroids, p.d);
    }
    fn output(&self) -> Value {
        json::rows(&self.dir, self.problem.d)
    }
}
