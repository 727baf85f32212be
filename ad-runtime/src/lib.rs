//! Reverse-mode automatic differentiation for Rust by source transformation.
//!
//! Put [`#[reverse]`](reverse) on an ordinary function of floats; next to it you get plain Rust
//! functions that compute its value and gradient in one forward and one reverse sweep, with no
//! tape and no allocation:
//!
//! ```
//! use ad_runtime::reverse;
//!
//! #[reverse]
//! fn f(x: f64, y: f64) -> f64 {
//!     let s = x * y;
//!     s.sin() + x
//! }
//!
//! let (value, (dx, dy)) = f_grad(2.0, 3.0);
//! assert_eq!(value, f(2.0, 3.0));
//! assert!((dx - (3.0 * 6.0f64.cos() + 1.0)).abs() < 1e-12);
//! assert!((dy - 2.0 * 6.0f64.cos()).abs() < 1e-12);
//!
//! // The vector-Jacobian product: the gradient scaled by an output cotangent.
//! let (_, (dx2, _)) = f_vjp(2.0, 3.0, 2.0);
//! assert_eq!(dx2, 2.0 * dx);
//! ```
//!
//! - [`reverse`]: the attribute, and what it generates.
//! - [`Params`]: structs of parameters (`#[derive(Params)]`), differentiated as a whole.
//! - [`stop_gradient`]: a value that differentiation treats as a constant.
//! - [`rules`]: the pullback and the tangent rule of every primitive, with the conventions at
//!   kinks.
//! - [`check`]: gradient checking by central differences, for your own tests.
//! - [`linalg`]: dot products, matrix products, norms, softmax, differentiable as calls.
//! - `argmin` (feature `argmin`): a `#[reverse]` function as an [argmin](https://docs.rs/argmin)
//!   problem, for its solvers.
//! - `special` (feature `special`): the error functions, `ln Γ` and digamma, differentiable
//!   as calls.
//!
//! The supported subset of Rust, the semantics (traces, kinks, domains) and the design are
//! described in the repository's `docs/`.
//!
//! # Features
//!
//! The crate is `no_std` (with `alloc`), and the code `#[reverse]` generates names only `core`
//! and this crate, so it works in a `#![no_std]` crate too.
//!
//! - `std` (default): float math from the standard library;
//! - `libm`: float math from `libm`, for `no_std` (`default-features = false, features =
//!   ["libm"]`);
//! - `special`: the module `special` (`erf`, `erfc`, `ln_gamma`, `digamma`), primitives of
//!   `#[reverse]`; it builds `libm` and `special`, which users who do not call them skip;
//! - `argmin`: the module `argmin`, a `#[reverse]` function as a problem of the optimization
//!   framework [argmin](https://docs.rs/argmin) 0.11 (cost, gradient, Hessian); needs `std`;
//! - `nalgebra`, `ndarray`: their vectors and matrices of floats (`DVector`, `SVector`,
//!   `DMatrix`; `Array1`, `Array2`, `ArrayView1`, `ArrayView2`) are active parameters of
//!   `#[reverse]` functions, with gradients of the same type, and their products (`dot`,
//!   matrix-vector, matrix-matrix, transpose) are differentiated;
//! - `dump`: `#[reverse(dump)]` formats the generated Rust with `prettyplease`, which the macro
//!   otherwise does not build; without it, `dump` prints a statement per line.
#![no_std]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

extern crate alloc;
#[cfg(any(test, feature = "std"))]
extern crate std;

#[cfg(feature = "argmin")]
#[cfg_attr(docsrs, doc(cfg(feature = "argmin")))]
pub mod argmin;
mod calls;
pub mod check;
pub mod checkpoint;
mod dual;
mod libraries;
pub mod linalg;
mod nested;
mod nonfinite;
mod params;
mod registry;
#[cfg(feature = "std")]
mod reuse;
pub mod rules;
#[cfg(feature = "special")]
#[cfg_attr(docsrs, doc(cfg(feature = "special")))]
pub mod special;
mod stash;

/// Differentiates a function: reverse mode, forward mode and second order.
///
/// On `fn f(x: f64, y: f64, n: usize) -> f64` it emits, next to the unchanged `f` and with the
/// same visibility, generics and where-clauses:
///
/// | generated | for | returns |
/// |---|---|---|
/// | `f_grad(x, y, n)` | a float output | `(f64, (f64, f64))`: the value and the gradient with respect to the active parameters |
/// | `f_vjp(x, y, n, seed)` | every function | the value and the vector-Jacobian product: the gradient of the output's inner product with the cotangent `seed`, of the output's type |
/// | `f_grad_into(x, y, n, dx..)` | a float output and container parameters | the value (and the scalars' gradients); each container `x`'s gradient is written into the caller's `dx: &mut [F]`, nothing is allocated for it |
/// | `f_jacobian(x, y, n)` | a tuple, array or `Vec` output, or `&mut` outputs | `(output, Vec<Vec<F>>)`: one row per output component (one reverse sweep each), one column per component of the active parameters, flattened in order |
/// | `f_jvp(x, y, n, dx, dy)` | every function forward mode models | the value and the Jacobian-vector product: the output's derivative along the direction whose components are the tangents, one per active parameter, typed as it (`&[f64]` for `x: &[f64]`) |
/// | `f_hvp(x, y, n, vx, vy)` | as `f_jvp`, a float output | `(f64, (f64, f64), (f64, f64))`: the value, the gradient and the Hessian times the direction (forward over reverse) |
/// | `f_hessian(x, y, n)` | as `f_hvp` | the value, the gradient and the Hessian's rows, flattened in parameter order |
///
/// and a hidden `f_pullback`, the reverse of a call of `f` from another `#[reverse]` function
/// (its protocol is internal: call `f_vjp` instead).
///
/// Gradients have the parameter's shape: a scalar for a float, `Vec<F>` for a slice or `Vec`,
/// `[F; N]` for an array, the struct for a [`Params`] struct; one active parameter's gradient
/// comes bare, several in a tuple in parameter order. An active `&mut` container is an input
/// and an output: `f_vjp` takes its cotangent `seed_<name>` after `seed`, and the function has
/// no `f_grad`.
///
/// Active parameters are those of type `f32`, `f64` or a generic `T: Float`, and slices, `Vec`s
/// and arrays of those (with the features `nalgebra` and `ndarray`, their vectors and matrices
/// too); the others pass through. A `#[reverse]` function may call another; the
/// callee's `f_pullback` runs in the caller's reverse sweep. Options:
///
/// - `#[reverse(wrt(x, y))]`: only the named parameters are active (a struct deriving
///   [`Params`] named here is active too, as is a method's `self` by default);
/// - `#[reverse(float(T))]`: `T` is a float type (the parameter of a generic `impl<T: Float>`);
/// - `#[reverse(rule = path)]`: the derivative is the function at `path`, with the shape of
///   [`rules`]' functions: `path(params.., value, cotangent, &mut buffers..) -> adjoints`;
/// - `#[reverse(rule = path, jvp = tangent)]`: with the tangent rule forward mode uses,
///   `tangent(params.., value, tangents..) -> output tangent`;
/// - `#[reverse(zero_derivative)]`: the derivative is zero;
/// - `#[reverse(forward = false)]`: no forward mode, for the compile time it costs (it about
///   quadruples the macro's expansion time and the generated code);
/// - `#[reverse(debug_nonfinite)]`: `f_grad`, `f_vjp`, `f_grad_into` and `f_jacobian` check
///   every float the forward sweep computes from the active parameters and every derivative
///   of the reverse sweep; the first NaN or infinity panics with the operation, the place in
///   your source and the values it came from (`` `ln` at src/model.rs:42:17 produced -inf from
///   0.0 in the forward sweep of `model` ``); without the option, no check is generated;
/// - `#[reverse(crate = "path::to::ad_runtime")]`: where generated code finds this crate;
/// - `#[reverse(dump)]`: print the IR, the adjoint IR and the generated Rust while compiling
///   (formatted by `prettyplease` with this crate's feature `dump`, a statement per line
///   without it).
///
/// Forward mode goes through calls of other `#[reverse]` functions that return a float (the
/// callee's gradient, from its pullback, times the arguments' tangents); it does not model
/// other calls with varying values, parameter structs, containers of rows and `&mut` outputs
/// yet (second order: also calls, `#[checkpoint]` loops and [`linalg`]): for such a function
/// `f_jvp`, `f_hvp` and `f_hessian` are generated with the same parameters, but a call is a
/// compile error saying why.
///
/// Generated code names only `core` and this crate, so it compiles in a `no_std` crate
/// (this crate with `default-features = false, features = ["libm"]`). Unsupported syntax is a
/// compile error on the offending tokens.
pub use ad_macro::reverse;

pub use crate::dual::Dual;
pub use crate::params::Params;

/// Derives [`Params`] for a struct of parameters: see [`Params`].
pub use ad_macro::Params;

/// The float trait active values implement (re-exported from `num-traits`), so that
/// `T: ad_runtime::Float` works without a direct dependency.
pub use num_traits::Float;

/// Re-export of `num-traits`.
pub use num_traits;

/// `x`, unchanged, but a constant to differentiation: in a `#[reverse]` function no adjoint
/// flows back through it, as if `x` were a literal. Outside one it is the identity.
///
/// ```
/// use ad_runtime::{reverse, stop_gradient};
///
/// #[reverse]
/// fn f(x: f64) -> f64 {
///     // Only the first factor is differentiated: d/dx = stop_gradient(x) = x.
///     x * stop_gradient(x)
/// }
///
/// let (value, dx) = f_grad(3.0);
/// assert_eq!((value, dx), (9.0, 3.0));
/// ```
#[inline]
pub fn stop_gradient<T>(x: T) -> T {
    x
}

/// Frees the memory this thread keeps for the stashes of its next gradients.
///
/// A gradient's forward sweep keeps values for its reverse sweep on stacks; a large stack's
/// allocation (64 KiB or more) is not freed when the gradient returns but kept, per thread, for
/// the next gradient to reuse (at most 16 blocks and 1 GiB), so that repeated gradients do not
/// page-fault their stashes in from the operating system every call. Call this after the last
/// large gradient of a long-lived thread to hand that memory back. (With the `std` feature;
/// without it nothing is kept and this does nothing.)
///
/// ```
/// use ad_runtime::reverse;
///
/// #[reverse]
/// fn product(x: &[f64]) -> f64 {
///     let mut p = 1.0;
///     for &v in x {
///         p *= v;
///     }
///     p
/// }
///
/// let x = vec![1.0 + 1e-6; 100_000];
/// let (_, dx) = product_grad(&x);
/// assert_eq!(dx.len(), x.len());
/// ad_runtime::release_stash_memory();
/// ```
pub fn release_stash_memory() {
    #[cfg(feature = "std")]
    reuse::release();
}

/// What only generated code calls. Not part of the public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::calls::{
        Adjoint, IntoSlot, NotDifferentiated, OwnBuffer, Skip, SlotBuffer, adjoint, own_slot, slot,
    };
    pub use crate::checkpoint::{Action, Revolve, restore, store};
    pub use crate::dual::Split;
    pub use crate::libraries::{FillZero, into_library};
    /// The products of nalgebra's and ndarray's containers, and their pullbacks.
    pub mod library {
        pub use crate::libraries::{
            Accumulate, Elements, Lib, LibDot, LibProduct, LibShape, LibTranspose, ZerosOfShape,
            add_all, lib_dot, lib_dot_pullback, lib_transpose, lib_transpose_pullback,
        };
        pub use crate::libraries::{
            lib_product as lib_matmul, lib_product as lib_matvec,
            lib_product_pullback as lib_matmul_pullback,
            lib_product_pullback as lib_matvec_pullback,
        };
    }
    /// The checks of `#[reverse(debug_nonfinite)]`.
    pub mod nonfinite {
        pub use crate::nonfinite::{Site, as_f64, check};
    }

    /// Why a function has no forward mode: `f_jvp`, `f_hvp` and `f_hessian` of a function
    /// whose body forward mode does not model take one argument bounded by the trait of the
    /// reason, which no type implements, so that calling them is an error saying why.
    #[allow(
        non_camel_case_types,
        reason = "named as the macro's reasons (`forward::Unsupported`)"
    )]
    pub mod no_forward_mode {
        macro_rules! reasons {
            ($($name:ident: $why:literal,)*) => {$(
                #[doc = $why]
                #[diagnostic::on_unimplemented(
                    message = $why,
                    label = "forward mode is not generated for the function called here",
                    note = "docs/supported.md (Forward mode) lists what forward mode covers; f_grad and f_vjp are generated as usual"
                )]
                pub trait $name {}
            )*};
        }
        reasons! {
            calls_another_reverse_function: "this function has no forward mode (`_jvp`, `_hvp`, `_hessian`): it calls another `#[reverse]` function with values that vary (forward mode goes through calls that return a float and write no container; second order through none yet)",
            has_a_given_derivative: "this function has no forward mode (`_jvp`, `_hvp`, `_hessian`): it has a given derivative (`rule = ..`) and no tangent rule",
            changes_a_varying_container_in_a_call: "this function has no forward mode (`_jvp`, `_hvp`, `_hessian`): it passes a container of values that vary to a call that may change it",
            changes_a_varying_container_in_a_method: "this function has no forward mode (`_jvp`, `_hvp`, `_hessian`): it changes a container of values that vary with a method",
            binds_parts_of_a_varying_value: "this function has no forward mode (`_jvp`, `_hvp`, `_hessian`): it binds parts of a value that varies in a pattern",
            dereferences_a_varying_value: "this function has no forward mode (`_jvp`, `_hvp`, `_hessian`): it dereferences a value that varies",
            has_a_parameter_struct: "this function has no forward mode (`_jvp`, `_hvp`, `_hessian`): it has an active parameter struct",
            has_a_checkpointed_loop: "this function has no forward mode (`_jvp`, `_hvp`, `_hessian`): it has a `#[checkpoint]` loop, which forward over reverse does not model",
            needs_second_derivatives_of_linalg: "this function has no forward mode (`_jvp`, `_hvp`, `_hessian`): it calls `linalg` functions, whose second derivatives are not modelled",
            writes_varying_values_into_a_mut_parameter: "this function has no forward mode (`_jvp`, `_hvp`, `_hessian`): it writes values that vary into a `&mut` parameter that is not active",
            has_a_mut_output: "this function has no forward mode (`_jvp`, `_hvp`, `_hessian`): it has an active `&mut` output",
            has_nalgebra_or_ndarray_parameters: "this function has no forward mode (`_jvp`, `_hvp`, `_hessian`) yet: it has active nalgebra or ndarray parameters (take `x.as_slice()` as a `&[F]` for forward mode)",
            has_containers_of_rows: "this function has no forward mode (`_jvp`, `_hvp`, `_hessian`): it has containers of rows (`&[[F; N]]`, `Vec<Vec<F>>`)",
            has_forward_mode_turned_off: "this function has no forward mode (`_jvp`, `_hvp`, `_hessian`): it has forward mode turned off (`#[reverse(forward = false)]`)",
            has_no_hessian_rows_of_one_type: "this function has no `_hessian`: its active parameters are of different float types, or one is a pattern; use `_hvp` along each direction",
            hit_a_bug_of_the_macro: "this function has no forward mode (`_jvp`, `_hvp`, `_hessian`): it hit a bug of the macro (please report it)",
        }
    }
    pub use crate::nested::{
        FlatOwned, Nest, NestMut, Nested, flat, flat_mut, flat_owned, nest, nest_mut, nested,
        ragged, unragged, unragged_into,
    };
    pub use crate::params::{field, into_params, skipped_from};
    /// The scalar primitives as `f64` functions by name, for the macro's IR interpreter and
    /// the rule tests.
    pub mod registry {
        pub use crate::registry::{
            Arg, CONTAINERS, Container, Kind, Out, SCALARS, SPECIAL, Scalar, container, scalar,
        };
    }
    pub use crate::stash::{
        AdjointBuffer, AsSlice, Bits, Flatten, Progression, Refill, Reset, Slot, Stack, add,
        add_all, add_to, basis_array, basis_scalar, basis_vec, check_seed, check_tangent, count,
        into_buffer, keep, like, local_zeros, placeholder, pop, reset, shape, slice, sum, take,
        vacant, zeros_from,
    };
    pub use num_traits::Float;

    /// What generated code needs from `alloc`, named here because the user's crate may be
    /// `no_std` (no `::std`) without `extern crate alloc;` (no `::alloc`).
    pub use alloc::borrow::ToOwned;
    pub use alloc::vec;
    pub use alloc::vec::Vec;

    /// `a`, if `b` is the same function: a path the user wrote for a function the macro gives
    /// the derivative of (`linalg::dot`, `stop_gradient`) must name the runtime's, or the
    /// types differ (each function item has its own).
    #[inline(always)]
    pub fn same_fn<T>(a: T, _b: T) -> T {
        a
    }

    /// One: the seed of `f_grad`.
    #[inline]
    pub fn one<F: Float>() -> F {
        F::one()
    }

    /// The zero of `x`'s type: the gradient of a parameter the output does not depend on.
    #[inline]
    pub fn zero_like<F: Float>(_x: F) -> F {
        F::zero()
    }
}
