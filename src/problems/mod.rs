//! The benchmark problems, each written once as `#[reverse]` functions and used by the
//! benches (`benches/`), the GradBench tool ([`crate::gradbench`]) and the tests. Where a
//! bench compares against a hand-written adjoint, it sits next to the function it
//! differentiates, and a test checks that the two agree.

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
