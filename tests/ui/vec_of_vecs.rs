use ad_runtime::reverse;

#[reverse]
fn f(x: f64) -> f64 {
    let mut grid = vec![vec![0.0; 2]; 2];
    grid[0][1] = x;
    x
}

fn main() {
    let _ = f_grad(1.0);
}
