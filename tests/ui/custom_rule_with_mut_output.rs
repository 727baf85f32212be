use ad_runtime::reverse;

fn rule(_out: &mut [f64], x: f64, _y: f64, dy: f64) -> f64 {
    dy * x
}

#[reverse(rule = rule)]
fn fill(out: &mut [f64], x: f64) -> f64 {
    out[0] = x;
    x
}

#[reverse(rule = rule, zero_derivative)]
fn twice_given(x: f64) -> f64 {
    x
}

fn main() {}
