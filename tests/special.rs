//! The special functions of `ad_runtime::special` through `#[reverse]`: each in every path
//! form the macro accepts, in f64, f32 and generic code, against its closed-form derivative
//! and central differences; and the models they are for (a probit, a Poisson and a gamma
//! log-likelihood) against central differences.

mod common;

use ad_runtime::special::{self, SpecialFloat};
use ad_runtime::{check, reverse};
use common::{FD_TOL, check1};
use core::f64::consts::{FRAC_1_SQRT_2, FRAC_2_SQRT_PI};

/// One module per function: the path forms, f32 and a generic instantiation.
macro_rules! special_fn {
    ($f:ident, $closed:expr, $points:expr) => {
        mod $f {
            use super::*;

            #[reverse]
            fn full_path(x: f64) -> f64 {
                ad_runtime::special::$f(x)
            }
            #[reverse]
            fn module_path(x: f64) -> f64 {
                special::$f(x * x) + special::$f(x)
            }
            #[reverse]
            fn generic<T: ad_runtime::Float + SpecialFloat>(x: T) -> T {
                special::$f(x) * x
            }
            #[reverse]
            fn single(x: f32) -> f32 {
                special::$f(x)
            }

            #[test]
            fn all_forms() {
                let closed: fn(f64) -> f64 = $closed;
                let name = stringify!($f);
                check1(name, full_path, full_path_grad, closed, $points);
                check1(
                    name,
                    module_path,
                    module_path_grad,
                    |x| 2.0 * x * closed(x * x) + closed(x),
                    $points,
                );
                check1(
                    name,
                    generic::<f64>,
                    generic_grad::<f64>,
                    |x| closed(x) * x + special::$f(x),
                    $points,
                );
                for &x in $points {
                    let x = x as f32;
                    let (value, dx) = single_grad(x);
                    assert_eq!(value.to_bits(), single(x).to_bits(), "{name}({x}) in f32");
                    let want = closed(f64::from(x));
                    assert!(
                        (f64::from(dx) - want).abs() <= 1e-5 * (1.0 + want.abs()),
                        "{name}'({x}) in f32: {dx} vs {want}"
                    );
                }
            }
        }
    };
}

special_fn!(
    erf,
    |x| FRAC_2_SQRT_PI * (-x * x).exp(),
    &[-2.5, -0.7, 0.0, 0.3, 1.2]
);
special_fn!(
    erfc,
    |x| -FRAC_2_SQRT_PI * (-x * x).exp(),
    &[-2.5, -0.7, 0.0, 0.3, 1.2]
);
special_fn!(ln_gamma, special::digamma, &[0.2, 0.5, 1.0, 2.5, 7.0]);
special_fn!(digamma, SpecialFloat::trigamma, &[0.2, 0.5, 1.0, 2.5, 7.0]);

/// ln Γ and ψ on the negative axis, between the poles: `ln |Γ|` has derivative ψ there too.
#[test]
fn between_the_poles() {
    #[reverse]
    fn f(x: f64) -> f64 {
        special::ln_gamma(x) + special::digamma(x)
    }
    check1(
        "ln_gamma + digamma",
        f,
        f_grad,
        |x| special::digamma(x) + x.trigamma(),
        &[-0.5, -1.3, -2.7, -5.5],
    );
}

/// The probit model's log-likelihood `Σ yᵢ ln Φ(w xᵢ + b) + (1 − yᵢ) ln(1 − Φ(w xᵢ + b))`,
/// `Φ(z) = (1 + erf(z / √2)) / 2`.
#[reverse(wrt(w, b))]
fn probit(w: f64, b: f64, x: &[f64], y: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        let p = 0.5 * (1.0 + special::erf((w * x[i] + b) * FRAC_1_SQRT_2));
        s += y[i] * p.ln() + (1.0 - y[i]) * (1.0 - p).ln();
    }
    s
}

#[test]
fn probit_log_likelihood() {
    let x = [-1.2, -0.3, 0.4, 0.9, 2.1];
    let y = [0.0, 1.0, 0.0, 1.0, 1.0];
    for (w, b) in [(0.8, -0.1), (-0.4, 0.3), (1.5, 0.0)] {
        let (value, (dw, db)) = probit_grad(w, b, &x, &y);
        assert_eq!(value.to_bits(), probit(w, b, &x, &y).to_bits());
        // ∂/∂z of y ln Φ + (1 − y) ln(1 − Φ) is φ(z) (y − Φ) / (Φ (1 − Φ)).
        let (mut cw, mut cb) = (0.0, 0.0);
        for (&xi, &yi) in x.iter().zip(&y) {
            let z: f64 = w * xi + b;
            let phi = (-z * z / 2.0).exp() / (2.0 * core::f64::consts::PI).sqrt();
            let p = 0.5 * (1.0 + special::erf(z * FRAC_1_SQRT_2));
            let dz = phi * (yi - p) / (p * (1.0 - p));
            cw += dz * xi;
            cb += dz;
        }
        common::assert_close("probit dw", dw, cw);
        common::assert_close("probit db", db, cb);
        check::gradient(|p| probit(p[0], p[1], &x, &y), &[w, b], &[dw, db]).assert_within(FD_TOL);
    }
}

/// A Poisson log-likelihood with a log link, `Σ kᵢ ηᵢ − e^ηᵢ − ln Γ(kᵢ + 1)`, `ηᵢ = a + c tᵢ`,
/// and a negative binomial one whose dispersion `r` is differentiated through `ln Γ(k + r)` and
/// `ln Γ(r)`.
#[reverse(wrt(a, c, r))]
fn counts(a: f64, c: f64, r: f64, t: &[f64], k: &[f64]) -> f64 {
    let mut poisson = 0.0;
    let mut negbin = 0.0;
    for i in 0..t.len() {
        let eta = a + c * t[i];
        let mu = eta.exp();
        poisson += k[i] * eta - mu - special::ln_gamma(k[i] + 1.0);
        negbin +=
            special::ln_gamma(k[i] + r) - special::ln_gamma(r) - special::ln_gamma(k[i] + 1.0)
                + r * (r / (r + mu)).ln()
                + k[i] * (mu / (r + mu)).ln();
    }
    poisson + 0.5 * negbin
}

#[test]
fn count_log_likelihoods() {
    let t = [0.0, 0.5, 1.0, 1.5, 2.0, 3.0];
    let k = [1.0, 0.0, 3.0, 2.0, 6.0, 9.0];
    for (a, c, r) in [(0.1, 0.6, 2.5), (-0.3, 0.9, 0.7), (0.5, 0.2, 11.0)] {
        let (value, (da, dc, dr)) = counts_grad(a, c, r, &t, &k);
        assert_eq!(value.to_bits(), counts(a, c, r, &t, &k).to_bits());
        check::gradient(
            |p| counts(p[0], p[1], p[2], &t, &k),
            &[a, c, r],
            &[da, dc, dr],
        )
        .assert_within(FD_TOL);
    }
}

/// The gamma distribution's log-likelihood in its shape `α` and rate `β`,
/// `Σ α ln β − ln Γ(α) + (α − 1) ln xᵢ − β xᵢ`, and its score in `α` (`ln β − ψ(α) + ln xᵢ`),
/// whose own gradient needs trigamma: the digamma rule.
#[reverse(wrt(alpha, beta))]
fn gamma_score(alpha: f64, beta: f64, x: &[f64]) -> f64 {
    let mut ll = 0.0;
    let mut score = 0.0;
    for &xi in x.iter() {
        ll += alpha * beta.ln() - special::ln_gamma(alpha) + (alpha - 1.0) * xi.ln() - beta * xi;
        score += beta.ln() - special::digamma(alpha) + xi.ln();
    }
    ll + score * score
}

#[test]
fn gamma_log_likelihood_and_score() {
    let x = [0.4, 1.1, 2.3, 0.9, 3.7];
    for (alpha, beta) in [(0.6, 1.3), (2.5, 0.8), (9.0, 4.0)] {
        let (value, (da, db)) = gamma_score_grad(alpha, beta, &x);
        assert_eq!(value.to_bits(), gamma_score(alpha, beta, &x).to_bits());
        check::gradient(|p| gamma_score(p[0], p[1], &x), &[alpha, beta], &[da, db])
            .assert_within(FD_TOL);
    }
}
