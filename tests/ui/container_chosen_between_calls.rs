use ad_runtime::reverse;

#[reverse]
fn near(p: &[f64]) -> Vec<f64> {
    p.iter().map(|v| v * 0.5).collect()
}

#[reverse]
fn far(p: &[f64]) -> Vec<f64> {
    p.iter().map(|v| v * 2.0).collect()
}

#[reverse]
fn total(q: &[f64]) -> f64 {
    q.iter().sum()
}

#[reverse]
fn chosen(p: &[f64], go_far: bool) -> f64 {
    let q = if go_far { far(p) } else { near(p) };
    total(&q)
}

fn main() {}
