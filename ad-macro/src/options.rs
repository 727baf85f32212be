//! The attribute's arguments: `#[reverse(wrt(x, y), crate = "path", dump, debug_nonfinite)]`,
//! and for a function whose derivative the user gives, `rule = path` (with its tangent rule,
//! `jvp = path`) or `zero_derivative`.

use proc_macro2::TokenStream;
use syn::parse::Parser;
use syn::{Ident, LitStr, Path};

/// Parsed `#[reverse(...)]` arguments.
pub struct Options {
    /// `wrt(a, b)`: the parameters to differentiate with respect to; `None` means every
    /// float parameter.
    pub wrt: Option<Vec<Ident>>,
    /// `crate = "..."`: the path generated code uses for the runtime.
    pub krate: Path,
    /// `dump`: print the IR and the generated code at compile time.
    pub dump: bool,
    /// `rule = path` or `zero_derivative`: the derivative is not derived from the body.
    pub custom: Option<Custom>,
    /// `forward = false`: no forward mode (`f_jvp`, `f_hvp`, `f_hessian` are stand-ins whose
    /// calls are errors), for the compile time it costs.
    pub forward: bool,
    /// `jvp = path`, beside `rule = path`: the user's tangent rule, which forward mode calls.
    pub jvp: Option<syn::Path>,
    /// `debug_nonfinite`: every float the forward sweep computes and every derivative of the
    /// reverse sweep is checked; the first NaN or infinity panics naming the operation and
    /// the user's source line (`analysis::nonfinite`).
    pub debug_nonfinite: bool,
    /// `float(T, ..)`: more float types, which the signature does not show to be (the
    /// parameter of a generic `impl<T: Float>`, a type alias of `f64`).
    pub floats: Vec<Ident>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            wrt: None,
            krate: syn::parse_quote!(::ad_runtime),
            dump: false,
            custom: None,
            forward: true,
            jvp: None,
            debug_nonfinite: false,
            floats: Vec::new(),
        }
    }
}

/// A derivative the user gives.
pub enum Custom {
    /// `rule = path`: the function at `path` is the pullback.
    Rule(syn::Path),
    /// `zero_derivative`: the output does not change with the inputs (piecewise constant, a
    /// lookup, a random draw).
    Zero(Ident),
}

impl Options {
    pub fn parse(args: TokenStream) -> syn::Result<Options> {
        let mut options = Options::default();
        let parser = syn::meta::parser(|meta| {
            if meta.path.is_ident("wrt") {
                if options.wrt.is_some() {
                    return Err(
                        meta.error("`wrt` given twice; list every parameter in one `wrt(...)`")
                    );
                }
                let mut names = Vec::new();
                meta.parse_nested_meta(|name| match name.path.get_ident() {
                    Some(ident) => {
                        names.push(ident.clone());
                        Ok(())
                    }
                    None => Err(name.error("expected a parameter name, as in `wrt(x, y)`")),
                })?;
                if names.is_empty() {
                    return Err(meta.error("`wrt()` is empty: name at least one parameter"));
                }
                options.wrt = Some(names);
                Ok(())
            } else if meta.path.is_ident("crate") {
                let lit: LitStr = meta.value()?.parse()?;
                options.krate = lit.parse()?;
                Ok(())
            } else if meta.path.is_ident("float") {
                meta.parse_nested_meta(|name| match name.path.get_ident() {
                    Some(ident) => {
                        options.floats.push(ident.clone());
                        Ok(())
                    }
                    None => Err(name.error("expected a type name, as in `float(T)`")),
                })
            } else if meta.path.is_ident("dump") {
                options.dump = true;
                Ok(())
            } else if meta.path.is_ident("debug_nonfinite") {
                options.debug_nonfinite = true;
                Ok(())
            } else if meta.path.is_ident("forward") {
                let on: syn::LitBool = meta.value()?.parse()?;
                options.forward = on.value;
                Ok(())
            } else if meta.path.is_ident("jvp") {
                if options.jvp.is_some() {
                    return Err(meta.error("`jvp` given twice"));
                }
                options.jvp = Some(meta.value()?.parse()?);
                Ok(())
            } else if meta.path.is_ident("rule") || meta.path.is_ident("zero_derivative") {
                if options.custom.is_some() {
                    return Err(meta
                        .error("give one derivative: either `rule = path` or `zero_derivative`"));
                }
                options.custom = Some(match meta.path.get_ident() {
                    Some(ident) if ident == "zero_derivative" => Custom::Zero(ident.clone()),
                    _ => Custom::Rule(meta.value()?.parse()?),
                });
                Ok(())
            } else {
                Err(meta.error(
                    "unknown `#[reverse]` option; expected `wrt(...)`, `float(...)`, `rule = path`, `jvp = path`, `zero_derivative`, `forward = false`, `debug_nonfinite`, `crate = \"...\"` or `dump`",
                ))
            }
        });
        parser.parse2(args)?;
        if let (Some(jvp), None | Some(Custom::Zero(_))) = (&options.jvp, &options.custom) {
            return Err(syn::Error::new_spanned(
                jvp,
                "`jvp = path` gives the tangent rule of a function whose derivative is given: write it beside `rule = path` (a body `#[reverse]` differentiates gets its tangents from the body)",
            ));
        }
        Ok(options)
    }
}
