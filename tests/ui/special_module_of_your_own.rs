use ad_runtime::reverse;

/// A module of the user's that happens to be called `special`: its `erf` is not the runtime's,
/// and must not be differentiated with the runtime's rule for `erf`.
mod special {
    pub fn erf(x: f64) -> f64 {
        x / (1.0 + x * x).sqrt()
    }
}

#[reverse]
fn f(x: f64) -> f64 {
    special::erf(x) * x
}

fn main() {
    let _ = f_grad(0.5);
}
