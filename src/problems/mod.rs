//! The benchmark problems, each written once as `#[reverse]` functions and used by the
//! benches (`benches/`), the GradBench tool ([`crate::gradbench`]) and the tests. Where a
//! bench compares against a hand-written adjoint, it sits next to the function it
//! differentiates, and a test checks that the two agree.

/// `n` deterministic values in [0, 1) drawn from `seed` (`fastrand`, the workspace's one
/// random number generator), for the tests' and benches' random points.
pub fn uniform(seed: u64, n: usize) -> Vec<f64> {
    let mut rng = fastrand::Rng::with_seed(seed);
    (0..n).map(|_| rng.f64()).collect()
}

pub mod ba;
pub mod det;
pub mod gmm;
pub mod hello;
pub mod ht;
pub mod kmeans;
pub mod llsq;
pub mod lse;
pub mod lstm;
pub mod mlp;
pub mod ode;
pub mod particle;
pub mod rosenbrock;
pub mod saddle;
