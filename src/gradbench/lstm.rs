//! `lstm`: `objective` (the loss) and `jacobian` (its gradient, one flat vector: the
//! `main_params` rows, then the `extra_params` rows).

use serde_json::Value;

use super::{Job, json};
use crate::problems::lstm::{objective, objective_grad};

pub(super) fn prepare(function: &str, input: &Value) -> Result<Box<dyn Job>, String> {
    let problem = Problem::parse(input)?;
    match function {
        "objective" => Ok(Box::new(Objective {
            problem,
            value: 0.0,
        })),
        "jacobian" => Ok(Box::new(Jacobian {
            problem,
            gradient: Vec::new(),
        })),
        _ => Err(json::unknown_function("lstm", function)),
    }
}

/// The eval's input, flattened row by row, with the dimensions derived from it.
struct Problem {
    main_params: Vec<f64>,
    extra_params: Vec<f64>,
    state: Vec<f64>,
    sequence: Vec<f64>,
    layers: usize,
    b: usize,
    c: usize,
}

impl Problem {
    fn parse(input: &Value) -> Result<Self, String> {
        let (main_params, rows, width) = json::matrix(input, "main_params")?;
        let (extra_params, extra_rows, extra_width) = json::matrix(input, "extra_params")?;
        let (state, state_rows, state_width) = json::matrix(input, "state")?;
        let (sequence, c, sequence_width) = json::matrix(input, "sequence")?;
        let (layers, b) = (rows / 2, width / 4);
        if rows % 2 != 0 || width % 4 != 0 || layers == 0 || b == 0 {
            return Err(format!(
                "`main_params` is {rows} × {width}: it must be 2ℓ × 4b with ℓ, b ≥ 1"
            ));
        }
        if (extra_rows, extra_width) != (3, b) {
            return Err(format!(
                "`extra_params` is {extra_rows} × {extra_width}, not 3 × {b}"
            ));
        }
        if (state_rows, state_width) != (rows, b) {
            return Err(format!(
                "`state` is {state_rows} × {state_width}, not {rows} × {b}"
            ));
        }
        if c < 2 || sequence_width != b {
            return Err(format!(
                "`sequence` is {c} × {sequence_width}: it needs at least 2 rows of {b}"
            ));
        }
        Ok(Self {
            main_params,
            extra_params,
            state,
            sequence,
            layers,
            b,
            c,
        })
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
            &p.main_params,
            &p.extra_params,
            &p.state,
            &p.sequence,
            p.layers,
            p.b,
            p.c,
        );
    }
    fn output(&self) -> Value {
        self.value.into()
    }
}

struct Jacobian {
    problem: Problem,
    /// `∂/∂main_params` then `∂/∂extra_params`, flat.
    gradient: Vec<f64>,
}

impl Job for Jacobian {
    fn run(&mut self) {
        let p = &self.problem;
        let (_, (main, extra)) = objective_grad(
            &p.main_params,
            &p.extra_params,
            &p.state,
            &p.sequence,
            p.layers,
            p.b,
            p.c,
        );
        let mut gradient = main;
        gradient.extend(extra);
        self.gradient = gradient;
    }
    fn output(&self) -> Value {
        self.gradient.clone().into()
    }
}
