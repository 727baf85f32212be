//! `llsq`: the least-squares objective (`primal`) and its gradient (`gradient`) of
//! `{"x": [float; m], "n": int}`.

use serde_json::Value;

use super::{Job, json};
use crate::problems::llsq::{objective, objective_grad};

pub(super) fn prepare(function: &str, input: &Value) -> Result<Box<dyn Job>, String> {
    let x = json::floats(input, "x")?;
    let n = json::count(input, "n")?;
    match function {
        "primal" => Ok(Box::new(Primal { x, n, y: 0.0 })),
        "gradient" => Ok(Box::new(Gradient {
            x,
            n,
            dx: Vec::new(),
        })),
        _ => Err(json::unknown_function("llsq", function)),
    }
}

struct Primal {
    x: Vec<f64>,
    n: usize,
    y: f64,
}

impl Job for Primal {
    fn run(&mut self) {
        self.y = objective(&self.x, self.n);
    }
    fn output(&self) -> Value {
        self.y.into()
    }
}

struct Gradient {
    x: Vec<f64>,
    n: usize,
    dx: Vec<f64>,
}

impl Job for Gradient {
    fn run(&mut self) {
        self.dx = objective_grad(&self.x, self.n).1;
    }
    fn output(&self) -> Value {
        self.dx.clone().into()
    }
}
