//! `ode`: the RK4 solution `y(2)` (`primal`) and the gradient of its last component
//! (`gradient`) of `{"x": [float; n], "s": steps}`.

use serde_json::Value;

use super::{Job, json};
use crate::problems::ode::{last_grad, solve};

pub(super) fn prepare(function: &str, input: &Value) -> Result<Box<dyn Job>, String> {
    let x = json::floats(input, "x")?;
    let s = json::count(input, "s")?;
    if x.is_empty() || s == 0 {
        return Err("`x` must not be empty and `s` must be positive".into());
    }
    let result = Vec::new();
    match function {
        "primal" => Ok(Box::new(Primal { x, s, y: result })),
        "gradient" => Ok(Box::new(Gradient { x, s, dx: result })),
        _ => Err(json::unknown_function("ode", function)),
    }
}

struct Primal {
    x: Vec<f64>,
    s: usize,
    y: Vec<f64>,
}

impl Job for Primal {
    fn run(&mut self) {
        self.y = solve(&self.x, self.s);
    }
    fn output(&self) -> Value {
        self.y.clone().into()
    }
}

struct Gradient {
    x: Vec<f64>,
    s: usize,
    dx: Vec<f64>,
}

impl Job for Gradient {
    fn run(&mut self) {
        self.dx = last_grad(&self.x, self.s).1;
    }
    fn output(&self) -> Value {
        self.dx.clone().into()
    }
}
