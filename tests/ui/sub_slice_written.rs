use ad_runtime::reverse;

// A sub-slice is read as a copy; writing through it is refused, not lost.
#[reverse]
fn f(x: &[f64]) -> f64 {
    let mut y = x.to_vec();
    for v in y[1..].iter_mut() {
        *v *= 2.0;
    }
    for v in &mut y[..1] {
        *v += 1.0;
    }
    y[0] + y[1]
}

fn main() {}
