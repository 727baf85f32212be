//! `det`: the determinant by expansion by minors (`primal`) and its gradient (`gradient`,
//! row-major like `A`) of `{"A": [float; ℓ²], "ell": ℓ}`.

use serde_json::Value;

use super::{Job, json};
use crate::problems::det::{det, det_grad};

pub(super) fn prepare(function: &str, input: &Value) -> Result<Box<dyn Job>, String> {
    let a = json::floats(input, "A")?;
    let ell = json::count(input, "ell")?;
    if ell == 0 || a.len() != ell * ell {
        return Err(format!(
            "`A` has {} entries, expected ell² = {} with ell ≥ 1",
            a.len(),
            ell * ell
        ));
    }
    match function {
        "primal" => Ok(Box::new(Primal { a, ell, y: 0.0 })),
        "gradient" => Ok(Box::new(Gradient {
            a,
            ell,
            da: Vec::new(),
        })),
        _ => Err(json::unknown_function("det", function)),
    }
}

struct Primal {
    a: Vec<f64>,
    ell: usize,
    y: f64,
}

impl Job for Primal {
    fn run(&mut self) {
        self.y = det(&self.a, self.ell);
    }
    fn output(&self) -> Value {
        self.y.into()
    }
}

struct Gradient {
    a: Vec<f64>,
    ell: usize,
    da: Vec<f64>,
}

impl Job for Gradient {
    fn run(&mut self) {
        self.da = det_grad(&self.a, self.ell).1;
    }
    fn output(&self) -> Value {
        self.da.clone().into()
    }
}
