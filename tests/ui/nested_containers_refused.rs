use ad_runtime::reverse;

// `Vec` rows written in place through an active `&mut` parameter: they could change length.
#[reverse]
fn scale(x: &mut [Vec<f64>], s: f64) -> f64 {
    x[0][0] *= s;
    s
}

// A `&mut Vec` of rows: pushes would change it.
#[reverse]
fn grow(x: &mut Vec<[f64; 2]>, s: f64) -> f64 {
    x[0][0] *= s;
    s
}

fn main() {}
