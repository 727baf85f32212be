use ad_runtime::reverse;

trait Halve {
    fn halve(self) -> Self;
}

impl Halve for f64 {
    fn halve(self) -> f64 {
        self / 2.0
    }
}

#[reverse]
fn f(x: f64) -> f64 {
    let y = x.halve();
    y * x
}

fn main() {
    let _ = f_grad(1.0);
}
