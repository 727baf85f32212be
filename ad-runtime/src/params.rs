//! Parameter structs: the weights of a model, kept in a struct and differentiated as one.
//!
//! `#[derive(Params)]` on a struct whose fields are floats, `Vec`s and arrays of floats, or
//! other parameter structs makes it a parameter type: a `#[reverse]` function taking it (named
//! in `wrt(...)`, or as `&self`) reads its fields as active values, and the gradient comes
//! back as a value of the same struct. The trait also gives what an optimizer needs: zeros of
//! the same shape, the scalars in a fixed order, and `p += a * g`.
//!
//! ```
//! use ad_runtime::{Params, reverse};
//!
//! #[derive(Params, Clone, Debug, PartialEq)]
//! struct Line {
//!     slope: f64,
//!     offset: f64,
//! }
//!
//! #[reverse(wrt(line))]
//! fn squared_error(line: &Line, x: f64, y: f64) -> f64 {
//!     let e = line.slope * x + line.offset - y;
//!     e * e
//! }
//!
//! let mut line = Line { slope: 0.0, offset: 0.0 };
//! for _ in 0..200 {
//!     let (_, grad) = squared_error_grad(&line, 2.0, 5.0);
//!     line.add_scaled(-0.05, &grad);
//! }
//! assert!((line.slope * 2.0 + line.offset - 5.0).abs() < 1e-9);
//! ```

use alloc::vec::Vec;

use num_traits::Float;

/// A struct of active parameters: derive it with `#[derive(Params)]`.
///
/// The derive supports fields of the scalar type (`f32`, `f64` or a generic `T: Float`),
/// `Vec`s and arrays of it, and other `Params` structs; a field marked `#[params(skip)]` (a
/// layer size, a name) is not a parameter: it is cloned into `zeros_like` and left out of the
/// scalars.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a parameter struct",
    label = "this value is differentiated as a struct of parameters",
    note = "derive it: `#[derive(ad_runtime::Params)]`, or leave the parameter out of `wrt(...)`"
)]
pub trait Params: Sized {
    /// The float type of every parameter.
    type Scalar: Float;

    /// A value of the same shape (the same lengths) with every parameter zero.
    fn zeros_like(&self) -> Self;

    /// Calls `f` on every parameter, in declaration order, depth first.
    fn for_each<G: FnMut(Self::Scalar)>(&self, f: &mut G);

    /// Calls `f` on every parameter, mutably, in the order of [`Params::for_each`].
    fn for_each_mut<G: FnMut(&mut Self::Scalar)>(&mut self, f: &mut G);

    /// Calls `f` on every parameter of `self` and the matching one of `other`.
    ///
    /// # Panics
    ///
    /// If a `Vec` field of `other` has another length than `self`'s.
    fn zip_mut<G: FnMut(&mut Self::Scalar, Self::Scalar)>(&mut self, other: &Self, f: &mut G);

    /// The number of parameters.
    fn len(&self) -> usize {
        let mut n = 0;
        self.for_each(&mut |_| n += 1);
        n
    }

    /// Whether there are no parameters.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Copies the fields that are not parameters (`#[params(skip)]`) from `from`: those of a
    /// gradient are the argument's. The derive implements it; generated code calls it.
    #[doc(hidden)]
    fn __ad_copy_skipped(&mut self, from: &Self) {
        let _ = from;
    }

    /// The parameters, flattened in the order of [`Params::for_each`].
    fn to_vec(&self) -> Vec<Self::Scalar> {
        let mut out = Vec::with_capacity(self.len());
        self.for_each(&mut |v| out.push(v));
        out
    }

    /// Sets the parameters from a flat slice in the order of [`Params::for_each`].
    ///
    /// # Panics
    ///
    /// If `values` has another length than [`Params::len`].
    #[track_caller]
    fn copy_from_slice(&mut self, values: &[Self::Scalar]) {
        let len = self.len();
        assert!(
            values.len() == len,
            "copy_from_slice: {} values for {len} parameters",
            values.len()
        );
        let mut k = 0;
        self.for_each_mut(&mut |v| {
            *v = values[k];
            k += 1;
        });
    }

    /// `self += a * other`: a gradient step is `params.add_scaled(-rate, &grad)`.
    fn add_scaled(&mut self, a: Self::Scalar, other: &Self) {
        self.zip_mut(other, &mut |p, g| *p = *p + a * g);
    }

    /// Sets every parameter to zero.
    fn set_zero(&mut self) {
        self.for_each_mut(&mut |v| *v = <Self::Scalar as num_traits::Zero>::zero());
    }
}

/// What derived code calls for `Vec` and array fields.
#[doc(hidden)]
pub mod field {
    use num_traits::Float;

    /// `f(&mut a[i], b[i])` for every `i`; panics naming the field if the lengths differ.
    #[inline]
    #[track_caller]
    pub fn zip_mut<F: Float, G: FnMut(&mut F, F)>(a: &mut [F], b: &[F], name: &str, f: &mut G) {
        assert!(
            a.len() == b.len(),
            "parameter field `{name}` has {} elements here and {} in the other value",
            a.len(),
            b.len()
        );
        for (x, &y) in a.iter_mut().zip(b) {
            f(x, y);
        }
    }
}

/// The caller's gradient struct `buffer` for `param`, zeroed, after checking its shape.
#[track_caller]
pub fn into_params<'b, P: Params>(buffer: &'b mut P, param: &P, name: &str) -> &'b mut P {
    let (got, want) = (buffer.len(), param.len());
    assert!(
        got == want,
        "f_grad_into: `{name}` has {got} parameters but its parameter has {want}",
    );
    buffer.set_zero();
    buffer.__ad_copy_skipped(param);
    buffer
}

/// `gradient` with the fields that are not parameters copied from `param` (the reverse
/// sweep may have added into them, as into any field it read).
#[inline]
pub fn skipped_from<P: Params>(mut gradient: P, param: &P) -> P {
    gradient.__ad_copy_skipped(param);
    gradient
}
