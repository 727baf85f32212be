use ad_runtime::reverse;

// The bits of an active float, made a float again: the derivative would be lost.
#[reverse]
fn laundered(y: f64) -> f64 {
    f64::from_bits(y.to_bits()) * y
}

// Bits computed on, then cast back.
#[reverse]
fn flipped(y: f64) -> f64 {
    let b = y.to_bits() ^ (1 << 63);
    (b as f64) * y
}

// Comparing or branching on the bits is fine: the derivative is that of the branch taken.
#[reverse]
fn branch_on_sign_bit(y: f64) -> f64 {
    if y.to_bits() >> 63 == 1 { -y } else { y }
}

fn main() {
    let _ = laundered_grad(1.0);
    let _ = flipped_grad(1.0);
    let _ = branch_on_sign_bit_grad(1.0);
}
