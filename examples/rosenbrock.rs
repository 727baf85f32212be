//! Minimises the 1,000-dimensional Rosenbrock function with L-BFGS, the gradient coming from
//! `#[reverse]` (`rosenbrock_grad_into`: written into a reused buffer, no allocation per
//! call). The optimiser is the textbook two-loop recursion with a backtracking line search,
//! written here.
//!
//! Run with `cargo run --release --example rosenbrock`.

use std::collections::VecDeque;

use ad_runtime::reverse;

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

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn main() {
    let n = 1000;
    // The classic start: (-1.2, 1, -1.2, 1, ...).
    let mut x: Vec<f64> = (0..n)
        .map(|i| if i % 2 == 0 { -1.2 } else { 1.0 })
        .collect();
    let mut g = vec![0.0; n];
    let mut f = rosenbrock_grad_into(&x, &mut g);
    let memory = 10;
    let mut history: VecDeque<(Vec<f64>, Vec<f64>, f64)> = VecDeque::new();
    let (mut x_new, mut g_new) = (vec![0.0; n], vec![0.0; n]);
    let mut evaluations = 1;
    println!(
        "{:>5}  {:>14}  {:>12}  {:>5}",
        "iter", "f(x)", "|grad|", "evals"
    );
    for iteration in 0..20_000 {
        let grad_norm = dot(&g, &g).sqrt();
        if iteration % 500 == 0 || grad_norm < 1e-8 {
            println!("{iteration:>5}  {f:>14.6e}  {grad_norm:>12.3e}  {evaluations:>5}");
        }
        if grad_norm < 1e-8 {
            break;
        }
        // Two-loop recursion: d = -H g.
        let mut d: Vec<f64> = g.iter().map(|v| -v).collect();
        let mut alphas = Vec::with_capacity(history.len());
        for (s, y, rho) in history.iter().rev() {
            let alpha = rho * dot(s, &d);
            for (di, yi) in d.iter_mut().zip(y) {
                *di -= alpha * yi;
            }
            alphas.push(alpha);
        }
        if let Some((s, y, _)) = history.back() {
            let gamma = dot(s, y) / dot(y, y);
            d.iter_mut().for_each(|di| *di *= gamma);
        }
        for ((s, y, rho), alpha) in history.iter().zip(alphas.into_iter().rev()) {
            let beta = rho * dot(y, &d);
            for (di, si) in d.iter_mut().zip(s) {
                *di += (alpha - beta) * si;
            }
        }
        // Backtracking line search (Armijo).
        let slope = dot(&g, &d);
        let mut step = 1.0;
        let f_new = loop {
            for ((xn, xi), di) in x_new.iter_mut().zip(&x).zip(&d) {
                *xn = xi + step * di;
            }
            let f_new = rosenbrock_grad_into(&x_new, &mut g_new);
            evaluations += 1;
            if f_new <= f + 1e-4 * step * slope || step < 1e-12 {
                break f_new;
            }
            step *= 0.5;
        };
        let s: Vec<f64> = x_new.iter().zip(&x).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = g_new.iter().zip(&g).map(|(a, b)| a - b).collect();
        let sy = dot(&s, &y);
        if sy > 1e-12 {
            if history.len() == memory {
                history.pop_front();
            }
            history.push_back((s, y, 1.0 / sy));
        }
        std::mem::swap(&mut x, &mut x_new);
        std::mem::swap(&mut g, &mut g_new);
        f = f_new;
    }
    let error = x.iter().map(|v| (v - 1.0).abs()).fold(0.0, f64::max);
    println!(
        "minimum f = {f:.3e}; max |x_i - 1| = {error:.3e} after {evaluations} gradient evaluations"
    );
    assert!(f < 1e-10, "L-BFGS did not converge");
}
