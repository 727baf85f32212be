//! A `&mut` parameter that is no container changes where it points: a `#[checkpoint]` loop
//! running its body again would change it again, so a call or method that may change it in
//! such a loop is an error, saying to work on a local copy.
use ad_runtime::reverse;

fn next(seed: &mut u64) -> f64 {
    *seed ^= *seed << 13;
    (*seed % 1000) as f64 / 1000.0
}

#[reverse]
fn noisy(x: f64, sigma: f64, n: usize, seed: &mut u64) -> f64 {
    let mut s = x;
    #[checkpoint(snapshots = 2)]
    for _ in 0..n {
        s = 0.9 * s + sigma * next(seed);
    }
    s * s
}

pub struct Rng {
    state: u64,
}

impl Rng {
    fn next_f64(&mut self) -> f64 {
        self.state ^= self.state << 13;
        (self.state % 1000) as f64 / 1000.0
    }
}

#[reverse]
fn noisy_method(x: f64, n: usize, rng: &mut Rng) -> f64 {
    let mut s = x;
    #[checkpoint]
    for _ in 0..n {
        s = s * 0.9 + rng.next_f64();
    }
    s
}

fn main() {}
