use ad_runtime::reverse;

// Floats in shapes that are not differentiated would be constants without a word.
#[reverse]
fn energy(k: f64, positions: &[Vec<[f64; 3]>], pair: (f64, f64), scale: &f64) -> f64 {
    k * positions[0][0][0] * pair.0 * *scale
}

// Listing the active parameters makes the others constants, deliberately.
#[reverse(wrt(k))]
fn energy_in_k(k: f64, positions: &[Vec<[f64; 3]>]) -> f64 {
    k * positions[0][0][0]
}

fn main() {
    let _ = energy_grad(1.0, &[vec![[1.0; 3]]], (1.0, 2.0), &1.0);
    let _ = energy_in_k_grad(1.0, &[vec![[1.0; 3]]]);
}
