//! `lse`: LogSumExp (`primal`) and its gradient (`gradient`) of `{"x": [float; n]}`.

use serde_json::Value;

use super::{Job, json};
use crate::problems::lse::{logsumexp, logsumexp_grad};

pub(super) fn prepare(function: &str, input: &Value) -> Result<Box<dyn Job>, String> {
    let x = json::floats(input, "x")?;
    if x.is_empty() {
        return Err("`x` must not be empty".into());
    }
    match function {
        "primal" => Ok(Box::new(Primal { x, y: 0.0 })),
        "gradient" => Ok(Box::new(Gradient { x, dx: Vec::new() })),
        _ => Err(json::unknown_function("lse", function)),
    }
}

struct Primal {
    x: Vec<f64>,
    y: f64,
}

impl Job for Primal {
    fn run(&mut self) {
        self.y = logsumexp(&self.x);
    }
    fn output(&self) -> Value {
        self.y.into()
    }
}

struct Gradient {
    x: Vec<f64>,
    dx: Vec<f64>,
}

impl Job for Gradient {
    fn run(&mut self) {
        self.dx = logsumexp_grad(&self.x).1;
    }
    fn output(&self) -> Value {
        self.dx.clone().into()
    }
}
