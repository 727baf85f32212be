use ad_runtime::reverse;

// Rows written in place through an active `&mut` parameter: not yet an output.
#[reverse]
fn scale(x: &mut [[f64; 3]], s: f64) -> f64 {
    x[0][0] *= s;
    s
}

// A container of rows as the output: not yet.
#[reverse]
fn outer(a: [f64; 2]) -> [[f64; 2]; 2] {
    [[a[0] * a[0], a[0] * a[1]], [a[1] * a[0], a[1] * a[1]]]
}

fn main() {}
