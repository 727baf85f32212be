use ad_runtime::reverse;

const ORIGIN: (usize, usize) = (0, 0);

// A name for a whole tuple written in place could be a constant or a binding: refused.
#[reverse]
fn f(x: f64, i: usize, j: usize) -> f64 {
    match (i, j) {
        ORIGIN => x * 2.0,
        _ => x,
    }
}

fn main() {}
