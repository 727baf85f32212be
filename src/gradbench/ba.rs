//! `ba`: bundle adjustment (GradBench's `evals/ba`). The input is one camera, point, weight and
//! feature, replicated into the full problem of `n` cameras, `m` points and `p`
//! observations; every run computes all residuals (`objective`) or the whole sparse Jacobian
//! (`jacobian`), of which the eval is sent a compressed summary.

use serde_json::Value;

use super::{Job, json};
use crate::problems::ba::{self, Csr, Problem};

pub(super) fn prepare(function: &str, input: &Value) -> Result<Box<dyn Job>, String> {
    let problem = parse(input)?;
    match function {
        "objective" => Ok(Box::new(Objective {
            problem,
            residuals: (Vec::new(), Vec::new()),
        })),
        "jacobian" => Ok(Box::new(Jacobian {
            problem,
            jacobian: Csr::default(),
        })),
        _ => Err(json::unknown_function("ba", function)),
    }
}

/// The replicated problem of an input.
fn parse(input: &Value) -> Result<Problem, String> {
    let (n, m, p) = (
        json::count(input, "n")?,
        json::count(input, "m")?,
        json::count(input, "p")?,
    );
    if n == 0 || m == 0 || p == 0 {
        return Err(format!(
            "`n`, `m` and `p` must be positive, got {n}, {m}, {p}"
        ));
    }
    let cam = fixed::<11>(input, "cam")?;
    let x = fixed::<3>(input, "x")?;
    let feat = fixed::<2>(input, "feat")?;
    let w = json::float(input, "w")?;
    Ok(Problem::replicated(n, m, p, &cam, &x, w, &feat))
}

/// The float-array field `key`, which must have exactly `N` entries.
fn fixed<const N: usize>(input: &Value, key: &str) -> Result<[f64; N], String> {
    let values = json::floats(input, key)?;
    let found = values.len();
    values
        .try_into()
        .map_err(|_| format!("`{key}` must have {N} entries, got {found}"))
}

struct Objective {
    problem: Problem,
    residuals: (Vec<f64>, Vec<f64>),
}

impl Job for Objective {
    fn run(&mut self) {
        self.residuals = ba::residuals(&self.problem);
    }
    fn output(&self) -> Value {
        let (reprojection, weight) = &self.residuals;
        let p = self.problem.observations();
        serde_json::json!({
            "reproj_error": {"elements": [reprojection[0], reprojection[1]], "repeated": p},
            "w_err": {"element": weight[0], "repeated": p},
        })
    }
}

struct Jacobian {
    problem: Problem,
    jacobian: Csr,
}

/// The first 30 entries of `values`, then its last: the summary the eval compares.
fn summary<T: Copy + Into<Value>>(values: &[T]) -> Value {
    let mut kept: Vec<Value> = values.iter().take(30).map(|&v| v.into()).collect();
    if let Some(&last) = values.last() {
        kept.push(last.into());
    }
    Value::Array(kept)
}

impl Job for Jacobian {
    fn run(&mut self) {
        self.jacobian = ba::jacobian(&self.problem);
    }
    fn output(&self) -> Value {
        serde_json::json!({
            "rows": summary(&self.jacobian.rows),
            "cols": summary(&self.jacobian.cols),
            "vals": summary(&self.jacobian.vals),
        })
    }
}
