//! The `#[reverse]` attribute of `ad-runtime`: reverse-mode automatic differentiation by
//! source transformation. Users depend on `ad-runtime`, which re-exports it.
//!
//! The macro is a small compiler. [`expand`] parses the function and hands it to the pipeline
//! (`pipeline.rs`), which runs the stages one after another and keeps what each made:
//!
//! ```text
//! options    #[reverse(wrt(..), float(..), rule = .., crate = "..", dump)]   options.rs
//! signature  which parameters are active, what the output is       signature.rs
//! lower      syn::ItemFn -> ir::Func (SSA, structured regions)      lower/
//! activity   which values depend on the input and reach the output analysis/activity.rs
//! reverse    ir::Func -> adjoint ir::Func (forward + reverse sweep) reverse/
//!   or       a given derivative (rule = .., zero_derivative)       custom.rs
//! fuse       loops fused with their reverses                      reverse/fuse.rs
//! carry      their adjoints of elements ahead kept in registers   reverse/carry.rs
//! forward    tangent programs of the primal and the adjoint        forward/
//! nonfinite  with debug_nonfinite: the values to check              analysis/nonfinite.rs
//! emit       adjoint ir::Func -> f_grad, f_vjp, f_pullback, ..     emit/
//!            tangent programs -> f_jvp, f_hvp, f_hessian
//! ```
//!
//! Calls between `#[reverse]` functions go through the callee's generated `f_pullback`
//! (`emit/mod.rs` writes it, `reverse/mod.rs` calls it); `#[derive(Params)]` (`derive.rs`) is
//! the crate's other entry point.
//!
//! The macro knows programs, not math: each primitive's derivative is a function in
//! `ad_runtime::rules`, named by the table in `prims.rs`. Errors are collected across stages
//! (`errors.rs`) and reported together, next to the untouched original function and stubs of
//! the generated ones.
//!
//! Tests only: `tests.rs` and `tests/` (IR snapshots, the shared harness that runs the pipeline
//! on source text, the fuzz test of [`expand`], its compile cost); `interp/` (an interpreter
//! of the IR and the differential test on random programs).
#![deny(missing_docs)]
// These docs are the compiler's map for contributors, linking its private stages (docs.rs
// documents them, `--document-private-items`); users read ad-runtime's.
#![allow(rustdoc::private_intra_doc_links)]

mod analysis;
mod custom;
mod derive;
mod emit;
mod errors;
mod forward;
mod groups;
#[cfg(test)]
mod interp;
mod ir;
mod lower;
mod options;
mod pipeline;
mod prims;
mod reverse;
mod signature;
#[cfg(test)]
mod tests;

use proc_macro2::TokenStream;
use quote::quote;

use crate::pipeline::Pipeline;
use crate::signature::Signature;

/// Makes a struct a parameter struct (`ad_runtime::Params`); see the `ad-runtime` crate.
#[proc_macro_derive(Params, attributes(params))]
pub fn params(item: proc_macro::TokenStream) -> proc_macro::TokenStream {
    derive::params(item.into()).into()
}

/// Differentiates a function: next to `f` it emits `f_vjp`, and `f_grad` (and `f_grad_into`
/// with container parameters) for a float output or `f_jacobian` for any other, the hidden
/// `f_pullback` that calls between `#[reverse]` functions use, and forward mode: `f_jvp`, and
/// for a float output `f_hvp` and `f_hessian`. `ad-runtime`
/// re-exports it and documents it in full.
#[proc_macro_attribute]
pub fn reverse(
    args: proc_macro::TokenStream,
    item: proc_macro::TokenStream,
) -> proc_macro::TokenStream {
    expand(args.into(), item.into()).into()
}

/// The expansion of `#[reverse(args)] item`: the item parsed as a function and run through
/// the pipeline; the original and the generated functions, or the original, the errors and
/// stubs of the generated functions.
fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let item: syn::ItemFn = match syn::parse2(item.clone()) {
        Ok(item) => item,
        Err(error) => {
            let message = "#[reverse] applies to functions: `fn f(x: f64) -> f64 { .. }`";
            let error = syn::Error::new(error.span(), message).to_compile_error();
            return quote!(#item #error);
        }
    };
    match Pipeline::run(args, item) {
        Ok(pipeline) => {
            let generated = pipeline.emit();
            let item = &pipeline.item;
            // The original is emitted unchanged but for this lint: calling only `f_grad` is
            // a use of `f`, and users who only need gradients should not get a dead-code
            // warning (an error under `#![deny(warnings)]`).
            quote! {
                #[allow(dead_code, reason = "#[reverse]: its generated functions may be its only users")]
                #item
                #generated
            }
        }
        Err(failed) => with_errors(
            &failed.item,
            failed.sig.as_ref(),
            failed.reason.into_error(),
        ),
    }
}

/// The original function, the errors, and stubs of the generated functions.
fn with_errors(item: &syn::ItemFn, sig: Option<&Signature>, error: syn::Error) -> TokenStream {
    let error = error.to_compile_error();
    let stubs = emit::stubs(item, sig);
    quote!(#item #error #stubs)
}
