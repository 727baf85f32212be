//! The `#[reverse]` attribute of `ad-runtime`: reverse-mode automatic differentiation by
//! source transformation. Users depend on `ad-runtime`, which re-exports it.
//!
//! The macro is a small compiler; [`expand`] is the whole pipeline:
//!
//! ```text
//! options    #[reverse(wrt(..), float(..), rule = .., crate = "..", dump)]   options.rs
//! signature  which parameters are active, what the output is       signature.rs
//! lower      syn::ItemFn -> ir::Func (SSA, structured regions)      lower/
//! activity   which values depend on the input and reach the output analysis/activity.rs
//! reverse    ir::Func -> adjoint ir::Func (forward + reverse sweep) reverse/
//!   or       a given derivative (rule = .., zero_derivative)       custom.rs
//! emit       adjoint ir::Func -> f_grad, f_vjp, f_pullback, ..     emit/
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

mod analysis;
mod custom;
mod derive;
mod emit;
mod errors;
#[cfg(test)]
mod expand_cost;
#[cfg(test)]
mod fuzz;
mod groups;
#[cfg(test)]
mod interp;
mod ir;
mod lower;
mod options;
mod prims;
mod reverse;
mod signature;
#[cfg(test)]
mod tests;

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};

use crate::errors::Errors;
use crate::options::Options;
use crate::signature::Signature;

/// Makes a struct a parameter struct (`ad_runtime::Params`); see the `ad-runtime` crate.
#[proc_macro_derive(Params, attributes(params))]
pub fn params(item: proc_macro::TokenStream) -> proc_macro::TokenStream {
    derive::params(item.into()).into()
}

/// Differentiates a function in reverse mode: next to `f` it emits `f_vjp`, and `f_grad` (and
/// `f_grad_into` with container parameters) for a float output or `f_jacobian` for any other,
/// and the hidden `f_pullback` that calls between `#[reverse]` functions use. `ad-runtime`
/// re-exports it and documents it in full.
#[proc_macro_attribute]
pub fn reverse(
    args: proc_macro::TokenStream,
    item: proc_macro::TokenStream,
) -> proc_macro::TokenStream {
    expand(args.into(), item.into()).into()
}

fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut item: syn::ItemFn = match syn::parse2(item.clone()) {
        Ok(item) => item,
        Err(error) => {
            let message = "#[reverse] applies to functions: `fn f(x: f64) -> f64 { .. }`";
            let error = syn::Error::new(error.span(), message).to_compile_error();
            return quote!(#item #error);
        }
    };
    groups::parenthesize(&mut item);
    let mut errors = Errors::new();
    let options = Options::parse(args).map_err(|e| errors.push(e)).ok();
    let custom = options.as_ref().and_then(|o| o.custom.as_ref());
    let defaults = Options::default();
    let sig = Signature::analyze(
        &item.sig,
        options.as_ref().unwrap_or(&defaults),
        &mut errors,
    );
    let lowered = match (&sig, custom) {
        (Some(sig), None) => {
            let (mut func, items) = lower::lower(&item, sig, &mut errors);
            analysis::activity::analyze(&mut func, sig, &mut errors);
            Some((func, items))
        }
        (Some(sig), Some(_)) => {
            custom::check(sig, &mut errors);
            None
        }
        (None, _) => None,
    };
    if let Err(error) = errors.finish() {
        return with_errors(&item, sig.as_ref(), error);
    }
    let (Some(options), Some(sig)) = (options, sig) else {
        return with_errors(
            &item,
            None,
            internal("a stage failed without reporting an error"),
        );
    };
    let generated = match (&options.custom, lowered) {
        (Some(custom), _) => {
            let adjoint = custom::adjoint(&item, &sig, custom, seed_ident(&sig));
            finish(&item, &options, &sig, None, &adjoint, &[])
        }
        (None, Some((primal, items))) => generate(&item, &options, &sig, &primal, &items),
        (None, None) => Err(internal("lowering failed without reporting an error")),
    };
    match generated {
        Ok(generated) => {
            // The original is emitted unchanged but for this lint: calling only `f_grad` is
            // a use of `f`, and users who only need gradients should not get a dead-code
            // warning (an error under `#![deny(warnings)]`).
            quote! {
                #[allow(dead_code, reason = "#[reverse]: its generated functions may be its only users")]
                #item
                #generated
            }
        }
        Err(error) => with_errors(&item, Some(&sig), error),
    }
}

/// Differentiates the verified primal and emits the generated functions.
fn generate(
    item: &syn::ItemFn,
    options: &Options,
    sig: &Signature,
    primal: &ir::Func,
    items: &[syn::Item],
) -> syn::Result<TokenStream> {
    verify(primal, "lowering")?;
    let adjoint = reverse::differentiate(primal, sig, seed_ident(sig));
    finish(item, options, sig, Some(primal), &adjoint, items)
}

/// Emits the generated functions of a verified adjoint program.
fn finish(
    item: &syn::ItemFn,
    options: &Options,
    sig: &Signature,
    primal: Option<&ir::Func>,
    adjoint: &ir::Func,
    items: &[syn::Item],
) -> syn::Result<TokenStream> {
    verify(adjoint, "differentiation")?;
    let cx = emit::Context {
        item,
        sig,
        krate: &options.krate,
        items,
    };
    // `f_grad`, `f_vjp` and `f_grad_into` run both sweeps at once: they get the program
    // whose loops are fused with their reverses where that is possible.
    let fused = primal.and_then(|_| reverse::fuse(adjoint));
    if let Some(fused) = &fused {
        verify(fused, "loop fusion")?;
    }
    let generated = emit::functions(&cx, adjoint, fused.as_ref());
    if options.dump {
        dump(primal, fused.as_ref().unwrap_or(adjoint), &generated);
    }
    Ok(generated)
}

/// The cotangent parameter of `f_vjp`: `seed`, unless the user has a parameter of that name.
fn seed_ident(sig: &Signature) -> proc_macro2::Ident {
    let taken = sig
        .params
        .iter()
        .any(|p| p.ident.as_ref().is_some_and(|i| i == "seed"));
    format_ident!(
        "{}",
        if taken { "__ad_seed" } else { "seed" },
        span = Span::mixed_site()
    )
}

/// Runs the IR verifier in debug builds of the macro (the default for `cargo build`).
fn verify(func: &ir::Func, stage: &str) -> syn::Result<()> {
    if cfg!(debug_assertions) {
        func.verify()
            .map_err(|message| internal(&format!("invalid IR after {stage}: {message}\n{func}")))?;
    }
    Ok(())
}

fn internal(message: &str) -> syn::Error {
    syn::Error::new(
        Span::call_site(),
        format!("ad-macro internal error, please report it with this function: {message}"),
    )
}

/// The original function, the errors, and stubs of the generated functions.
fn with_errors(item: &syn::ItemFn, sig: Option<&Signature>, error: syn::Error) -> TokenStream {
    let error = error.to_compile_error();
    let stubs = emit::stubs(item, sig);
    quote!(#item #error #stubs)
}

/// `#[reverse(dump)]`: prints the IR, the adjoint IR and the generated Rust to the compiler's
/// standard error.
fn dump(primal: Option<&ir::Func>, adjoint: &ir::Func, generated: &TokenStream) {
    let rust = format_rust(generated);
    let primal = primal.map_or_else(
        || "(not lowered: the derivative is given)\n".into(),
        ToString::to_string,
    );
    eprintln!(
        "// #[reverse(dump)] of `{}`\n// IR\n{primal}\n// adjoint IR\n{adjoint}\n// generated Rust\n{rust}",
        adjoint.name
    );
}

/// The generated Rust as `prettyplease` formats it (feature `dump`).
#[cfg(feature = "dump")]
fn format_rust(generated: &TokenStream) -> String {
    match syn::parse2::<syn::File>(generated.clone()) {
        Ok(file) => prettyplease::unparse(&file),
        Err(_) => generated.to_string(),
    }
}

/// The generated Rust with a line per statement and braces indented: readable enough without
/// a formatter, which would be a build dependency of every user's crate (feature `dump` of
/// `ad-runtime` brings `prettyplease`).
#[cfg(not(feature = "dump"))]
fn format_rust(generated: &TokenStream) -> String {
    use proc_macro2::{Delimiter, Spacing, TokenTree};

    fn newline(out: &mut String, depth: usize) {
        out.truncate(out.trim_end_matches(' ').len());
        out.push('\n');
        out.push_str(&"    ".repeat(depth));
    }
    fn write(tokens: TokenStream, depth: usize, out: &mut String) {
        let mut attribute = false;
        for tree in tokens {
            match tree {
                TokenTree::Group(g) if g.delimiter() == Delimiter::Brace => {
                    out.push('{');
                    newline(out, depth + 1);
                    write(g.stream(), depth + 1, out);
                    newline(out, depth);
                    out.push('}');
                    newline(out, depth);
                }
                TokenTree::Punct(p) if p.as_char() == ';' => {
                    out.push(';');
                    newline(out, depth);
                }
                TokenTree::Punct(p) => {
                    out.push(p.as_char());
                    attribute = p.as_char() == '#';
                    if p.spacing() == Spacing::Alone && !attribute {
                        out.push(' ');
                    }
                    continue;
                }
                TokenTree::Group(g) if attribute && g.delimiter() == Delimiter::Bracket => {
                    out.push_str(&g.to_string());
                    newline(out, depth);
                }
                other => {
                    out.push_str(&other.to_string());
                    out.push(' ');
                }
            }
            attribute = false;
        }
    }
    let mut out = String::new();
    write(generated.clone(), 0, &mut out);
    // Blank lines left where a brace and a `;` or another brace met.
    out.lines()
        .filter(|line| !line.trim().is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(all(test, not(feature = "dump")))]
mod format_tests {
    #[test]
    fn dump_without_prettyplease_has_a_line_per_statement() {
        let tokens = quote::quote!(
            #[inline]
            fn f(x: f64) -> f64 {
                let y = x * 2.0;
                if y > 0.0 { y } else { -y }
            }
        );
        let want = "\
#[inline]
fn f (x : f64) -> f64 {
    let y = x * 2.0 ;
    if y > 0.0 {
        y
    }
    else {
        - y
    }
}";
        assert_eq!(super::format_rust(&tokens), want);
    }
}
