//! The benchmark problems, each written once as `#[reverse]` functions and used by the
//! benches (`benches/`), the GradBench tool ([`crate::gradbench`]) and the tests. Where a
//! bench compares against a hand-written adjoint, it sits next to the function it
//! differentiates, and a test checks that the two agree.

/// Deterministic values in [0, 1) (SplitMix64), for the tests' random points: no RNG crate.
pub fn uniform(seed: u64, n: usize) -> Vec<f64> {
    let mut state = seed;
    (0..n)
        .map(|_| {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            (z ^ (z >> 31)) as f64 / 2f64.powi(64)
        })
        .collect()
}

pub mod ba;
pub mod det;
pub mod dual;
pub mod gmm;
pub mod hello;
pub mod ht;
pub mod kmeans;
pub mod llsq;
pub mod lse;
pub mod lstm;
pub mod mlp;
pub mod ode;
pub mod rosenbrock;
