//! `gmm`: `objective` (the log-posterior) and `jacobian` (its gradient as the object
//! `{"alpha", "mu", "q", "l"}`, each in its input's shape).

use serde_json::Value;

use super::{Job, json};
use crate::problems::gmm::{objective, objective_grad, triangle};

pub(super) fn prepare(function: &str, input: &Value) -> Result<Box<dyn Job>, String> {
    let problem = Problem::parse(input)?;
    match function {
        "objective" => Ok(Box::new(Objective {
            problem,
            value: 0.0,
        })),
        "jacobian" => Ok(Box::new(Jacobian {
            problem,
            gradient: Default::default(),
        })),
        _ => Err(json::unknown_function("gmm", function)),
    }
}

/// The eval's input, flattened row by row.
struct Problem {
    d: usize,
    k: usize,
    n: usize,
    m: usize,
    gamma: f64,
    x: Vec<f64>,
    alpha: Vec<f64>,
    means: Vec<f64>,
    q: Vec<f64>,
    l: Vec<f64>,
}

impl Problem {
    fn parse(input: &Value) -> Result<Self, String> {
        let (d, k, n) = (
            json::count(input, "d")?,
            json::count(input, "k")?,
            json::count(input, "n")?,
        );
        let problem = Self {
            d,
            k,
            n,
            m: json::count(input, "m")?,
            gamma: json::float(input, "gamma")?,
            x: json::matrix(input, "x")?.0,
            alpha: json::floats(input, "alpha")?,
            means: json::matrix(input, "mu")?.0,
            q: json::matrix(input, "q")?.0,
            l: json::matrix(input, "l")?.0,
        };
        // The flattened lengths pin down every row length too (rows are checked equal).
        let t = triangle(d);
        for (name, len, expected) in [
            ("x", problem.x.len(), n * d),
            ("alpha", problem.alpha.len(), k),
            ("mu", problem.means.len(), k * d),
            ("q", problem.q.len(), k * d),
            ("l", problem.l.len(), k * t),
        ] {
            if len != expected {
                return Err(format!(
                    "`{name}` has {len} entries in all, d = {d}, k = {k}, n = {n} need {expected}"
                ));
            }
        }
        Ok(problem)
    }
}

struct Objective {
    problem: Problem,
    value: f64,
}

impl Job for Objective {
    fn run(&mut self) {
        let p = &self.problem;
        self.value = objective(
            &p.alpha, &p.means, &p.q, &p.l, &p.x, p.d, p.k, p.n, p.m, p.gamma,
        );
    }
    fn output(&self) -> Value {
        self.value.into()
    }
}

struct Jacobian {
    problem: Problem,
    /// `(alpha, mu, q, l)`, flat.
    gradient: (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>),
}

impl Job for Jacobian {
    fn run(&mut self) {
        let p = &self.problem;
        self.gradient = objective_grad(
            &p.alpha, &p.means, &p.q, &p.l, &p.x, p.d, p.k, p.n, p.m, p.gamma,
        )
        .1;
    }
    fn output(&self) -> Value {
        let (alpha, mu, q, l) = &self.gradient;
        let (d, t) = (self.problem.d, triangle(self.problem.d));
        serde_json::json!({
            "alpha": alpha,
            "mu": json::rows(mu, d),
            "q": json::rows(q, d),
            "l": per_component(l, t, self.problem.k),
        })
    }
}

/// `k` rows of `columns` entries; unlike [`json::rows`], also right when `columns` is 0
/// (`l` at d = 1 is `k` empty rows).
fn per_component(flat: &[f64], columns: usize, k: usize) -> Value {
    (0..k)
        .map(|c| Value::from(flat[c * columns..(c + 1) * columns].to_vec()))
        .collect()
}
