// A rule has the shape of the runtime's rules: the parameters, the value, its cotangent, and
// the adjoints of the float parameters back. This one forgets the value: rustc says so at the
// rule, instead of the gradient being silently wrong.
use ad_runtime::reverse;

#[reverse(rule = hypot_rule)]
fn hypot(x: f64, y: f64) -> f64 {
    x.hypot(y)
}

fn hypot_rule(x: f64, y: f64, dh: f64) -> (f64, f64) {
    let h = x.hypot(y);
    (dh * x / h, dh * y / h)
}

#[reverse(rule = scaled_rule)]
fn scaled(x: f64, k: f64) -> f64 {
    x * k
}

// Returns one adjoint where the function has two float parameters.
fn scaled_rule(_x: f64, k: f64, _y: f64, dy: f64) -> f64 {
    dy * k
}

fn main() {
    let _ = hypot_grad(3.0, 4.0);
    let _ = scaled_grad(3.0, 4.0);
}
