//! One number trait over the peers' differentiable types, so that a bench writes the peer
//! version of its problem once, generically, and runs it with echidna's `Reverse` and
//! `BReverse`, easy-ml's `Record` and num-dual's `Dual64`, and with `f64` for checking.
//!
//! Only what the problems need: arithmetic, `exp`, `ln`, `tanh`, constants and the primal
//! value (a max shift in a logsumexp is a constant taken from the values, which every tool
//! treats the same: the shift cancels in the derivative).

#![allow(dead_code, reason = "each bench uses the part it needs")]

use std::ops::{Add, Div, Mul, Neg, Sub};

use easy_ml::differentiation::{Record, WengertList};
use echidna::{BReverse, Reverse, Scalar};
use num_dual::{Dual64, DualNum};

/// A differentiable scalar of one of the peers.
pub trait Real:
    Copy
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
{
    /// `x` as a constant (zero derivative).
    fn constant(x: f64) -> Self;
    /// The primal value.
    fn value(self) -> f64;
    /// `eˣ`.
    fn exp(self) -> Self;
    /// The natural logarithm.
    fn ln(self) -> Self;
    /// The hyperbolic tangent.
    fn tanh(self) -> Self;
    /// The sine.
    fn sin(self) -> Self;
    /// The cosine.
    fn cos(self) -> Self;
    /// The square root.
    fn sqrt(self) -> Self;
}

impl Real for f64 {
    fn constant(x: f64) -> Self {
        x
    }
    fn value(self) -> f64 {
        self
    }
    fn exp(self) -> Self {
        f64::exp(self)
    }
    fn ln(self) -> Self {
        f64::ln(self)
    }
    fn tanh(self) -> Self {
        f64::tanh(self)
    }
    fn sin(self) -> Self {
        f64::sin(self)
    }
    fn cos(self) -> Self {
        f64::cos(self)
    }
    fn sqrt(self) -> Self {
        f64::sqrt(self)
    }
}

/// echidna's types implement `num_traits::Float`.
macro_rules! echidna_real {
    ($t:ty) => {
        impl Real for $t {
            fn constant(x: f64) -> Self {
                <$t as Scalar>::from_f(x)
            }
            fn value(self) -> f64 {
                Scalar::value(&self)
            }
            fn exp(self) -> Self {
                ad_runtime::Float::exp(self)
            }
            fn ln(self) -> Self {
                ad_runtime::Float::ln(self)
            }
            fn tanh(self) -> Self {
                ad_runtime::Float::tanh(self)
            }
            fn sin(self) -> Self {
                ad_runtime::Float::sin(self)
            }
            fn cos(self) -> Self {
                ad_runtime::Float::cos(self)
            }
            fn sqrt(self) -> Self {
                ad_runtime::Float::sqrt(self)
            }
        }
    };
}

echidna_real!(Reverse<f64>);
echidna_real!(BReverse<f64>);

/// easy-ml has `exp` and `ln` on records but no `tanh`: `1 − 2 / (e^{2x} + 1)`, which is
/// accurate and finite for every argument.
impl<'a> Real for Record<'a, f64> {
    fn constant(x: f64) -> Self {
        Record::constant(x)
    }
    fn value(self) -> f64 {
        self.number
    }
    fn exp(self) -> Self {
        easy_ml::numeric::extra::Exp::exp(self)
    }
    fn ln(self) -> Self {
        easy_ml::numeric::extra::Ln::ln(self)
    }
    fn tanh(self) -> Self {
        let one = Record::constant(1.0);
        one - Record::constant(2.0) / ((self + self).exp() + one)
    }
    fn sin(self) -> Self {
        easy_ml::numeric::extra::Sin::sin(self)
    }
    fn cos(self) -> Self {
        easy_ml::numeric::extra::Cos::cos(self)
    }
    fn sqrt(self) -> Self {
        easy_ml::numeric::extra::Sqrt::sqrt(self)
    }
}

impl Real for Dual64 {
    fn constant(x: f64) -> Self {
        Dual64::from_re(x)
    }
    fn value(self) -> f64 {
        self.re
    }
    fn exp(self) -> Self {
        DualNum::exp(&self)
    }
    fn ln(self) -> Self {
        DualNum::ln(&self)
    }
    fn tanh(self) -> Self {
        DualNum::tanh(&self)
    }
    fn sin(self) -> Self {
        DualNum::sin(&self)
    }
    fn cos(self) -> Self {
        DualNum::cos(&self)
    }
    fn sqrt(self) -> Self {
        DualNum::sqrt(&self)
    }
}

/// The gradient of `f` at `x` by num-dual's forward mode: one pass per input.
pub fn num_dual_gradient(f: impl Fn(&[Dual64]) -> Dual64, x: &[f64]) -> Vec<f64> {
    let mut point: Vec<Dual64> = x.iter().map(|&v| Dual64::from_re(v)).collect();
    (0..x.len())
        .map(|i| {
            point[i].eps = 1.0;
            let d = f(&point).eps;
            point[i].eps = 0.0;
            d
        })
        .collect()
}

/// The gradient of `f` at `x` by easy-ml's Wengert list (a new list each call).
pub fn easy_ml_gradient(
    f: impl for<'a> Fn(&[Record<'a, f64>]) -> Record<'a, f64>,
    x: &[f64],
) -> Vec<f64> {
    easy_ml_gradient_on(&WengertList::new(), f, x)
}

/// The gradient of `f` at `x` on `list`, cleared first as easy-ml prescribes for a new pass
/// (so that a bench reuses one list's allocation).
pub fn easy_ml_gradient_on(
    list: &WengertList<f64>,
    f: impl for<'a> Fn(&[Record<'a, f64>]) -> Record<'a, f64>,
    x: &[f64],
) -> Vec<f64> {
    list.clear();
    let inputs: Vec<Record<f64>> = x.iter().map(|&v| Record::variable(v, list)).collect();
    let derivatives = f(&inputs).derivatives();
    inputs.iter().map(|r| derivatives[r]).collect()
}

/// Panics unless `got` equals `want` to `tolerance` (relative, absolute below 1).
#[track_caller]
pub fn assert_gradient(name: &str, got: &[f64], want: &[f64], tolerance: f64) {
    assert_close(name, got, want, tolerance, 1.0);
}

/// Panics unless `got` equals `want` to `tolerance`, relative to each element's magnitude or
/// `floor`, whichever is larger.
#[track_caller]
pub fn assert_close(name: &str, got: &[f64], want: &[f64], tolerance: f64, floor: f64) {
    assert_eq!(got.len(), want.len(), "{name}: length");
    for (i, (a, b)) in got.iter().zip(want).enumerate() {
        let error = (a - b).abs() / a.abs().max(b.abs()).max(floor);
        assert!(error <= tolerance, "{name}[{i}]: {a} against ours {b}");
    }
}

/// The gradient of `f` at `x` by central differences, `2n` calls of `f`.
pub fn central_differences(f: impl Fn(&[f64]) -> f64, x: &[f64]) -> Vec<f64> {
    let mut point = x.to_vec();
    (0..x.len())
        .map(|i| {
            let h = 1e-6 * x[i].abs().max(1.0);
            point[i] = x[i] + h;
            let up = f(&point);
            point[i] = x[i] - h;
            let down = f(&point);
            point[i] = x[i];
            (up - down) / (2.0 * h)
        })
        .collect()
}
