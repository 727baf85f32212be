// A method differentiates with respect to `self` (a parameter struct) unless `wrt(...)` leaves it
// out; `Model` does not derive `Params`, and the error says so.
use ad_runtime::reverse;

struct Model {
    scale: f64,
}

impl Model {
    #[reverse]
    fn f(&self, x: f64) -> f64 {
        x * self.scale
    }
}

fn main() {
    let m = Model { scale: 2.0 };
    let _ = m.f(1.0);
}
