//! ad-runtime's argmin adapter (feature `argmin`): the problem's cost, gradient and Hessian are
//! the generated functions', and argmin's solvers reach known minimisers through it.
#![cfg(feature = "argmin")]

use ad_runtime::{argmin::Problem, reverse};
use argmin::core::{CostFunction, Executor, Gradient, Hessian, State};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use argmin::solver::trustregion::{Steihaug, TrustRegion};

#[reverse]
fn rosenbrock(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() - 1 {
        let a = x[i + 1] - x[i] * x[i];
        s += 100.0 * a * a + (1.0 - x[i]) * (1.0 - x[i]);
    }
    s
}

/// Least squares `|A w - b|²` with `A` row-major, `rows × w.len()`.
#[reverse(wrt(w))]
fn least_squares(w: &[f64], a: &[f64], b: &[f64]) -> f64 {
    let n = w.len();
    let mut s = 0.0;
    for (r, target) in b.iter().enumerate() {
        let mut p = 0.0;
        for j in 0..n {
            p += a[r * n + j] * w[j];
        }
        let e = p - target;
        s += e * e;
    }
    s
}

#[test]
fn the_problem_is_the_generated_functions() {
    let problem = Problem::new(rosenbrock, rosenbrock_grad).with_hessian(rosenbrock_hessian);
    for x in [vec![-1.2, 1.0, 0.5], vec![0.0; 3], vec![1.0, 1.0, 1.0]] {
        let cost = problem.cost(&x).unwrap();
        assert_eq!(cost.to_bits(), rosenbrock(&x).to_bits());
        let gradient = problem.gradient(&x).unwrap();
        // The closed form of ∂f/∂x_i.
        let expected: Vec<f64> = (0..3)
            .map(|i| {
                let mut g = 0.0;
                if i + 1 < 3 {
                    g += -400.0 * x[i] * (x[i + 1] - x[i] * x[i]) - 2.0 * (1.0 - x[i]);
                }
                if i > 0 {
                    g += 200.0 * (x[i] - x[i - 1] * x[i - 1]);
                }
                g
            })
            .collect();
        for (g, e) in gradient.iter().zip(&expected) {
            approx::assert_relative_eq!(*g, *e, max_relative = 1e-12, epsilon = 1e-12);
        }
        let hessian = problem.hessian(&x).unwrap();
        // Row 1 of the closed form: ∂²f/∂x1∂x0 = -400 x0, ∂²f/∂x1² = 200 + 1200 x1² - 400 x2 + 2.
        approx::assert_relative_eq!(hessian[1][0], -400.0 * x[0], epsilon = 1e-12);
        approx::assert_relative_eq!(
            hessian[1][1],
            202.0 + 1200.0 * x[1] * x[1] - 400.0 * x[2],
            epsilon = 1e-9
        );
        approx::assert_relative_eq!(hessian[1][2], -400.0 * x[1], epsilon = 1e-12);
    }
}

#[test]
fn a_point_asked_again_is_not_computed_again() {
    use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
    let calls = AtomicUsize::new(0);
    let problem = Problem::new(rosenbrock, |x: &[f64]| {
        calls.fetch_add(1, Relaxed);
        rosenbrock_grad(x)
    });
    let (x, y) = (vec![-1.2, 1.0, 0.5], vec![0.5, 0.25, 2.0]);
    let first = problem.gradient(&x).unwrap();
    let cost = problem.cost(&x).unwrap();
    let again = problem.gradient(&x).unwrap();
    assert_eq!(calls.load(Relaxed), 1);
    assert_eq!(first, again);
    // The remembered value is f_grad's, which is f's bit for bit.
    assert_eq!(cost.to_bits(), rosenbrock(&x).to_bits());
    // Elsewhere, the cost is f's and the gradient computed.
    assert_eq!(
        problem.cost(&y).unwrap().to_bits(),
        rosenbrock(&y).to_bits()
    );
    assert_eq!(calls.load(Relaxed), 1);
    assert_eq!(problem.gradient(&y).unwrap(), rosenbrock_grad(&y).1);
    assert_eq!(calls.load(Relaxed), 2);
}

#[test]
fn lbfgs_minimises_rosenbrock() {
    let start: Vec<f64> = (0..50)
        .map(|i| if i % 2 == 0 { -1.2 } else { 1.0 })
        .collect();
    let solver = LBFGS::new(MoreThuenteLineSearch::new(), 10)
        .with_tolerance_grad(1e-10)
        .unwrap()
        .with_tolerance_cost(0.0)
        .unwrap();
    let result = Executor::new(Problem::new(rosenbrock, rosenbrock_grad), solver)
        .configure(|state| state.param(start).max_iters(5_000))
        .run()
        .unwrap();
    let x = result.state().get_best_param().unwrap();
    for v in x {
        approx::assert_abs_diff_eq!(*v, 1.0, epsilon = 1e-8);
    }
}

#[test]
fn trust_region_newton_minimises_rosenbrock_with_the_generated_hessian() {
    let problem = Problem::new(rosenbrock, rosenbrock_grad).with_hessian(rosenbrock_hessian);
    let result = Executor::new(
        problem,
        TrustRegion::new(Steihaug::new().with_max_iters(40)),
    )
    .configure(|state| state.param(vec![0.0; 20]).max_iters(500).target_cost(1e-24))
    .run()
    .unwrap();
    let x = result.state().get_best_param().unwrap();
    for v in x {
        approx::assert_abs_diff_eq!(*v, 1.0, epsilon = 1e-10);
    }
}

#[test]
fn closures_carry_the_data() {
    // A 4×2 system whose least-squares solution is (1, -2) exactly: b = A (1, -2).
    let a = [1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 2.0, -1.0];
    let b = [1.0, -2.0, -1.0, 4.0];
    let problem = Problem::new(
        |w: &[f64]| least_squares(w, &a, &b),
        |w: &[f64]| least_squares_grad(w, &a, &b),
    );
    let solver = LBFGS::new(MoreThuenteLineSearch::new(), 5)
        .with_tolerance_grad(1e-12)
        .unwrap();
    let result = Executor::new(problem, solver)
        .configure(|state| state.param(vec![0.0, 0.0]).max_iters(100))
        .run()
        .unwrap();
    let w = result.state().get_best_param().unwrap();
    approx::assert_abs_diff_eq!(w[0], 1.0, epsilon = 1e-9);
    approx::assert_abs_diff_eq!(w[1], -2.0, epsilon = 1e-9);
}
