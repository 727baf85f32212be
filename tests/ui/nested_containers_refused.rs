use ad_runtime::reverse;

// Rows written in place through an active `&mut` parameter: not yet an output.
#[reverse]
fn scale(x: &mut [[f64; 3]], s: f64) -> f64 {
    x[0][0] *= s;
    s
}

fn main() {}
