//! `#[reverse]` functions as [argmin](https://docs.rs/argmin) problems (feature `argmin`).
//!
//! [`Problem`] wraps a function of a slice and its generated gradient (and, for Newton's
//! methods, its generated Hessian) and implements argmin's [`CostFunction`], [`Gradient`] and
//! [`Hessian`] on `Vec<F>` parameters, the `Vec` backend of argmin-math. Every solver of
//! argmin that works on `Vec<f64>` then runs on exact gradients:
//!
//! ```
//! use ad_runtime::{argmin::Problem, reverse};
//! use argmin::core::{CostFunction, Gradient, Hessian};
//!
//! #[reverse]
//! fn rosenbrock(x: &[f64]) -> f64 {
//!     let mut s = 0.0;
//!     for i in 0..x.len() - 1 {
//!         let a = x[i + 1] - x[i] * x[i];
//!         s += 100.0 * a * a + (1.0 - x[i]) * (1.0 - x[i]);
//!     }
//!     s
//! }
//!
//! let problem = Problem::new(rosenbrock, rosenbrock_grad).with_hessian(rosenbrock_hessian);
//! let x = vec![-1.2, 1.0];
//! assert_eq!(problem.cost(&x).unwrap(), rosenbrock(&x));
//! assert_eq!(problem.gradient(&x).unwrap(), rosenbrock_grad(&x).1);
//! assert_eq!(problem.hessian(&x).unwrap(), rosenbrock_hessian(&x).2);
//! ```
//!
//! A function with other parameters (data, sizes) goes in through closures:
//! `Problem::new(|w: &[f64]| loss(w, &data), |w: &[f64]| loss_grad(w, &data))`. The
//! repository's `examples/argmin.rs` minimises the 1,000-dimensional Rosenbrock function with
//! argmin's L-BFGS this way.
//!
//! argmin asks for the cost and the gradient separately, and some solvers ask again at the
//! same point (L-BFGS asks for the gradient at the point its line search accepted, which the
//! line search has just computed). The adapter keeps the last point `f_grad` was called at,
//! with its value and gradient: a gradient or a cost asked there again is not computed again.
//! A cost elsewhere is computed with `f` alone (the primal, no reverse sweep).

use std::sync::Mutex;
use std::vec::Vec;

use ::argmin::core::{CostFunction, Error, Gradient, Hessian};

use crate::Float;

/// A `#[reverse]` function of a slice as an argmin problem: its cost `f`, its gradient
/// `f_grad` and, with [`Problem::with_hessian`], its Hessian `f_hessian`.
///
/// The parameter type is `Vec<F>`, the gradient `Vec<F>`, the Hessian `Vec<Vec<F>>` (rows).
pub struct Problem<F, C, G, H = ()> {
    cost: C,
    gradient: G,
    hessian: H,
    last: Mutex<Option<Evaluated<F>>>,
}

/// A point `gradient` was called at, its value and its gradient.
type Evaluated<F> = (Vec<F>, F, Vec<F>);

impl<F, C, G> Problem<F, C, G>
where
    F: Float,
    C: Fn(&[F]) -> F,
    G: Fn(&[F]) -> (F, Vec<F>),
{
    /// The problem of minimising `cost`, whose gradient `gradient` computes (`f` and
    /// `f_grad` of a `#[reverse] fn f(x: &[F]) -> F`).
    pub fn new(cost: C, gradient: G) -> Self {
        Problem {
            cost,
            gradient,
            hessian: (),
            last: Mutex::new(None),
        }
    }
}

impl<F, C, G, H> Problem<F, C, G, H> {
    /// The same problem with a Hessian: `f_hessian` of the same function (forward over
    /// reverse, one Hessian-vector product per row), for argmin's Newton methods.
    pub fn with_hessian<K>(self, hessian: K) -> Problem<F, C, G, K>
    where
        K: Fn(&[F]) -> (F, Vec<F>, Vec<Vec<F>>),
    {
        Problem {
            cost: self.cost,
            gradient: self.gradient,
            hessian,
            last: self.last,
        }
    }
}

impl<F, C, G, H> Problem<F, C, G, H> {
    /// The last point's entry, if `param` is that point.
    fn remembered<T>(&self, param: &[F], read: impl FnOnce(&F, &Vec<F>) -> T) -> Option<T>
    where
        F: PartialEq,
    {
        let last = self
            .last
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match &*last {
            Some((point, value, gradient)) if point[..] == *param => Some(read(value, gradient)),
            _ => None,
        }
    }
}

impl<F, C, G, H> CostFunction for Problem<F, C, G, H>
where
    F: Float,
    C: Fn(&[F]) -> F,
{
    type Param = Vec<F>;
    type Output = F;

    fn cost(&self, param: &Vec<F>) -> Result<F, Error> {
        match self.remembered(param, |value, _| *value) {
            Some(value) => Ok(value),
            None => Ok((self.cost)(param)),
        }
    }
}

impl<F, C, G, H> Gradient for Problem<F, C, G, H>
where
    F: Float,
    G: Fn(&[F]) -> (F, Vec<F>),
{
    type Param = Vec<F>;
    type Gradient = Vec<F>;

    fn gradient(&self, param: &Vec<F>) -> Result<Vec<F>, Error> {
        if let Some(gradient) = self.remembered(param, |_, gradient| gradient.clone()) {
            return Ok(gradient);
        }
        let (value, gradient) = (self.gradient)(param);
        let mut last = self
            .last
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *last = Some((param.clone(), value, gradient.clone()));
        Ok(gradient)
    }
}

impl<F, C, G, H> Hessian for Problem<F, C, G, H>
where
    H: Fn(&[F]) -> (F, Vec<F>, Vec<Vec<F>>),
{
    type Param = Vec<F>;
    type Hessian = Vec<Vec<F>>;

    fn hessian(&self, param: &Vec<F>) -> Result<Vec<Vec<F>>, Error> {
        Ok((self.hessian)(param).2)
    }
}
