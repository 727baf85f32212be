//! `hello`: `square` and its derivative `double`, the protocol's smoke test.

use serde_json::Value;

use super::{Job, json};
use crate::problems::hello::{square, square_grad};

pub(super) fn prepare(function: &str, input: &Value) -> Result<Box<dyn Job>, String> {
    let x = json::number(input, "input")?;
    match function {
        "square" => Ok(Box::new(Square { x, y: 0.0 })),
        "double" => Ok(Box::new(Double { x, dx: 0.0 })),
        _ => Err(json::unknown_function("hello", function)),
    }
}

struct Square {
    x: f64,
    y: f64,
}

impl Job for Square {
    fn run(&mut self) {
        self.y = square(self.x);
    }
    fn output(&self) -> Value {
        self.y.into()
    }
}

struct Double {
    x: f64,
    dx: f64,
}

impl Job for Double {
    fn run(&mut self) {
        self.dx = square_grad(self.x).1;
    }
    fn output(&self) -> Value {
        self.dx.into()
    }
}
