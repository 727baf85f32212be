//! Minimises the 1,000-dimensional Rosenbrock function with argmin's L-BFGS, the gradient
//! coming from `#[reverse]` through ad-runtime's argmin adapter; then a 100-dimensional one
//! with argmin's trust-region Newton method (Steihaug's CG) on the generated exact Hessian (`rosenbrock_hessian`, forward over
//! reverse).
//!
//! Run with `cargo run --release --all-features --example argmin`.

use ad_runtime::{argmin::Problem, reverse};
use argmin::core::{CostFunction, Executor, State};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use argmin::solver::trustregion::{Steihaug, TrustRegion};

/// `Σ 100 (x[i+1] - x[i]²)² + (1 - x[i])²`, minimal (0) at `x = (1, .., 1)`.
#[reverse]
fn rosenbrock(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() - 1 {
        let a = x[i + 1] - x[i] * x[i];
        let b = 1.0 - x[i];
        s += 100.0 * a * a + b * b;
    }
    s
}

/// The classic start: (-1.2, 1, -1.2, 1, ...).
fn start(n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| if i % 2 == 0 { -1.2 } else { 1.0 })
        .collect()
}

/// The largest distance of a component from the minimiser (1, .., 1).
fn error(x: &[f64]) -> f64 {
    x.iter().map(|v| (v - 1.0).abs()).fold(0.0, f64::max)
}

fn main() -> Result<(), argmin::core::Error> {
    let n = 1000;
    let problem = Problem::new(rosenbrock, rosenbrock_grad);
    let solver = LBFGS::new(MoreThuenteLineSearch::new(), 10)
        .with_tolerance_grad(1e-10)?
        .with_tolerance_cost(0.0)?;
    let clock = std::time::Instant::now();
    let result = Executor::new(problem, solver)
        .configure(|state| state.param(start(n)).max_iters(20_000).counting(true))
        .run()?;
    let seconds = clock.elapsed().as_secs_f64();
    let state = result.state();
    let x = state.get_best_param().expect("L-BFGS keeps its best point");
    println!("L-BFGS on the {n}-dimensional Rosenbrock function (gradient by #[reverse]):");
    println!(
        "  {} iterations, f = {:.3e}, max |x_i - 1| = {:.3e}, {:?}",
        state.get_iter(),
        state.get_best_cost(),
        error(x),
        state.get_termination_reason().expect("the run has ended"),
    );
    println!(
        "  evaluations asked: {:?}, {seconds:.2} s",
        state.get_func_counts()
    );

    let n = 100;
    let problem = Problem::new(rosenbrock, rosenbrock_grad).with_hessian(rosenbrock_hessian);
    let zeros = vec![0.0; n];
    let initial = problem.cost(&zeros)?;
    let solver = TrustRegion::new(Steihaug::new().with_max_iters(2 * n as u64));
    let result = Executor::new(problem, solver)
        .configure(|state| {
            state
                .param(zeros)
                .max_iters(1_000)
                .target_cost(1e-24)
                .counting(true)
        })
        .run()?;
    let state = result.state();
    let x = state
        .get_best_param()
        .expect("trust-region Newton (Steihaug-CG) keeps its best point");
    println!(
        "trust-region Newton (Steihaug-CG) on the {n}-dimensional Rosenbrock function (Hessian by #[reverse]):"
    );
    println!(
        "  {} iterations, f = {initial:.3e} -> {:.3e}, max |x_i - 1| = {:.3e}, {:?}",
        state.get_iter(),
        state.get_best_cost(),
        error(x),
        state.get_termination_reason().expect("the run has ended"),
    );
    println!("  evaluations: {:?}", state.get_func_counts());
    Ok(())
}
