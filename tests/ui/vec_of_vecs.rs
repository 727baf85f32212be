use ad_runtime::reverse;

#[reverse]
fn pushed(x: f64) -> f64 {
    let mut rows: Vec<Vec<f64>> = Vec::new();
    rows.push(vec![x, 2.0]);
    rows[0][0]
}

#[reverse]
fn row_assigned(mut x: Vec<Vec<f64>>) -> f64 {
    x[0] = vec![1.0, 2.0];
    x[0][0]
}

fn scale(x: &mut Vec<Vec<f64>>) {
    x[0][0] *= 2.0;
}

#[reverse]
fn lent_to_write(mut x: Vec<Vec<f64>>) -> f64 {
    scale(&mut x);
    x[0][0]
}

#[reverse]
fn total(x: &[Vec<f64>]) -> f64 {
    x[0][0]
}

#[reverse]
fn grid_passed_whole(x: f64) -> f64 {
    let g = vec![vec![x; 2]; 2];
    total(&g)
}

#[reverse]
fn chosen_by_a_branch(x: f64, c: bool) -> f64 {
    let g = if c { vec![vec![x; 2]; 2] } else { vec![vec![x; 3]; 1] };
    g[0][0]
}

#[reverse]
fn rows_written_out(x: f64) -> f64 {
    let g = vec![vec![x, 1.0], vec![2.0]];
    g[0][0]
}

#[reverse]
fn array_of_vecs(x: [Vec<f64>; 2]) -> f64 {
    x[0][0]
}

#[reverse]
fn grid_returned(x: f64) -> Vec<Vec<f64>> {
    vec![vec![x; 2]; 3]
}

#[reverse]
fn rows_of_vecs(x: &[Vec<f64>]) -> Vec<Vec<f64>> {
    x.to_vec()
}

#[reverse]
fn reads_returned_vecs(x: &[Vec<f64>]) -> f64 {
    let y: Vec<Vec<f64>> = rows_of_vecs(x);
    y[0][0]
}

#[reverse]
fn sub_slice(x: &[Vec<f64>]) -> f64 {
    let rest = &x[1..];
    rest[0][0]
}

fn main() {}
