//! `particle` and `saddle`, the nested-derivative evals: functions `rr`, `rf`, `fr` and `ff`,
//! the outer derivative's mode then the inner's (`r` reverse, `f` forward; see
//! [`crate::problems::particle`] and [`crate::problems::saddle`]). `particle` takes
//! `{"w": float}` and answers the optimised control; `saddle` takes `{"start": [float, float]}`
//! and answers the saddle point `[p1_0, p1_1, p2_0, p2_1]`.

use serde_json::Value;

use super::{Job, json};
use crate::problems::{particle, saddle};

/// `(outer forward, inner forward)` of a variant's name.
fn modes(module: &str, function: &str) -> Result<(bool, bool), String> {
    match function {
        "rr" => Ok((false, false)),
        "rf" => Ok((false, true)),
        "fr" => Ok((true, false)),
        "ff" => Ok((true, true)),
        _ => Err(json::unknown_function(module, function)),
    }
}

pub(super) fn prepare_particle(function: &str, input: &Value) -> Result<Box<dyn Job>, String> {
    let (outer, inner) = modes("particle", function)?;
    let w = json::float(input, "w")?;
    Ok(Box::new(Particle {
        w,
        modes: (outer, inner),
        answer: 0.0,
    }))
}

pub(super) fn prepare_saddle(function: &str, input: &Value) -> Result<Box<dyn Job>, String> {
    let (outer, inner) = modes("saddle", function)?;
    let start = json::floats(input, "start")?;
    let [a, b] = start[..] else {
        return Err(format!("`start` has {} numbers: it needs 2", start.len()));
    };
    Ok(Box::new(Saddle {
        start: [a, b],
        modes: (outer, inner),
        answer: [0.0; 4],
    }))
}

struct Particle {
    w: f64,
    modes: (bool, bool),
    answer: f64,
}

impl Job for Particle {
    fn run(&mut self) {
        self.answer = particle::particle(self.w, self.modes.0, self.modes.1);
    }
    fn output(&self) -> Value {
        self.answer.into()
    }
}

struct Saddle {
    start: [f64; 2],
    modes: (bool, bool),
    answer: [f64; 4],
}

impl Job for Saddle {
    fn run(&mut self) {
        self.answer = saddle::saddle(self.start, self.modes.0, self.modes.1);
    }
    fn output(&self) -> Value {
        self.answer.to_vec().into()
    }
}
