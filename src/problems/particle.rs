//! GradBench's `particle` (Pearlmutter and Siskind's nested-AD benchmark): a charged particle
//! fired past two charges, one of them placed by the control `w`, accelerates down the
//! potential's gradient; the control is chosen by gradient descent so that the particle lands
//! at the origin, the outer derivative taken *through* the simulation and its inner
//! derivatives.
//!
//! As in [`super::saddle`]: the inner gradient `∇_x p` is [`acceleration`]'s body ([`p_grad`]
//! for inner `r`, two [`p_jvp`] for inner `f`); outer `r` is [`landing_grad`], generated from
//! [`landing`], with the inner gradient's derivative given by [`acceleration_rule`], a
//! Hessian-vector product ([`p_hvp`]); outer `f` runs [`landing`] on [`Dual`] numbers.

use ad_runtime::{Dual, Float, reverse};

use super::saddle;

/// The potential at `x` of the unit charges at `(10, 10 − w)` and `(10, 0)`:
/// `Σ 1 / ‖x − charge‖`.
#[reverse]
pub fn p<F: Float>(x: [F; 2], w: F) -> F {
    let ten = F::from(10.0).unwrap();
    let (a0, a1) = (x[0] - ten, x[1] - (ten - w));
    let (b0, b1) = (x[0] - ten, x[1]);
    (a0 * a0 + a1 * a1).sqrt().recip() + (b0 * b0 + b1 * b1).sqrt().recip()
}

/// The acceleration `−∇_x p(x, w)`, by reverse mode (`forward` false) or forward mode (one
/// tangent per axis). Its derivative is [`acceleration_rule`].
#[reverse(rule = acceleration_rule)]
pub fn acceleration<F: Float>(x: [F; 2], w: F, forward: bool) -> [F; 2] {
    let (zero, one) = (F::zero(), F::one());
    let g = match forward {
        false => p_grad(x, w).1.0,
        true => [
            p_jvp(x, w, [one, zero], zero).1,
            p_jvp(x, w, [zero, one], zero).1,
        ],
    };
    [-g[0], -g[1]]
}

/// The pullback of [`acceleration`]: `u ↦ −(H_{xx} u, H_{wx} u)`, the Hessian of `p` times
/// `(u, 0)` ([`p_hvp`]).
pub fn acceleration_rule<F: Float>(
    x: [F; 2],
    w: F,
    _forward: bool,
    _a: &[F],
    da: &[F],
    dx: &mut [F],
) -> F {
    let (_, _, (hx, hw)) = p_hvp(x, w, [da[0], da[1]], F::zero());
    dx[0] = dx[0] - hx[0];
    dx[1] = dx[1] - hx[1];
    -hw
}

/// The square of the x-coordinate where the particle fired from `(0, 8)` at `(0.75, 0)`
/// crosses `x₁ = 0`, by Euler steps of 0.1: GradBench's loop, the acceleration at the
/// position before each step (not computed for the last, which only lands).
#[reverse(wrt(w))]
pub fn landing<F: Float>(w: F, forward: bool) -> F {
    let dt = F::from(0.1).unwrap();
    let mut x = [F::zero(), F::from(8.0).unwrap()];
    let mut v = [F::from(0.75).unwrap(), F::zero()];
    let mut next = [x[0] + dt * v[0], x[1] + dt * v[1]];
    while next[1] > F::zero() {
        let a = acceleration(x, w, forward);
        x = next;
        v = [v[0] + dt * a[0], v[1] + dt * a[1]];
        next = [x[0] + dt * v[0], x[1] + dt * v[1]];
    }
    let dt_final = -next[1] / v[1];
    let landed = next[0] + dt_final * v[0];
    landed * landed
}

/// The optimised control from `w`, by the variant `outer_forward`/`inner_forward`:
/// GradBench's gradient descent ([`saddle::argmin`]) on [`landing`].
pub fn particle(w: f64, outer_forward: bool, inner_forward: bool) -> f64 {
    let objective = |w: [f64; 2]| -> (f64, [f64; 2]) {
        let (value, dw) = match outer_forward {
            false => landing_grad(w[0], inner_forward),
            true => {
                let landed = landing(Dual::new(w[0], 1.0), inner_forward);
                (landed.v, landed.d)
            }
        };
        (value, [dw, 0.0])
    };
    saddle::argmin([w, 0.0], objective)[0]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every variant reaches GradBench's expected answer within 1e-4 (GRADBENCH.md, particle).
    #[test]
    fn every_variant_lands_at_the_origin() {
        for (outer_forward, inner_forward) in
            [(false, false), (false, true), (true, false), (true, true)]
        {
            let w = particle(0.0, outer_forward, inner_forward);
            assert!(
                (w - 0.2071918746486116).abs() <= 1e-4,
                "{outer_forward} {inner_forward}: {w}"
            );
        }
    }

    /// The derivative of the landing point through the simulation against central
    /// differences, for both inner modes, and the two outer modes against each other.
    #[test]
    fn the_nested_derivative_matches_central_differences() {
        for w in [0.0, 0.15, 0.3] {
            for inner_forward in [false, true] {
                let (_, reverse) = landing_grad(w, inner_forward);
                let forward = landing(Dual::new(w, 1.0), inner_forward).d;
                let h = 1e-6;
                let central =
                    (landing(w + h, inner_forward) - landing(w - h, inner_forward)) / (2.0 * h);
                assert!(
                    (reverse - central).abs() <= 1e-5 * central.abs().max(1.0),
                    "{reverse} {central}"
                );
                assert!(
                    (reverse - forward).abs() <= 1e-10 * forward.abs().max(1.0),
                    "{reverse} {forward}"
                );
            }
        }
    }
}
