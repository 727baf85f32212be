//! The attribute's arguments: `#[reverse(wrt(x, y), crate = "path", dump)]`.

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
}

impl Options {
    pub fn parse(args: TokenStream) -> syn::Result<Options> {
        let mut options = Options {
            wrt: None,
            krate: syn::parse_quote!(::ad_runtime),
            dump: false,
        };
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
            } else if meta.path.is_ident("dump") {
                options.dump = true;
                Ok(())
            } else {
                Err(meta.error(
                    "unknown `#[reverse]` option; expected `wrt(...)`, `crate = \"...\"` or `dump`",
                ))
            }
        });
        parser.parse2(args)?;
        Ok(options)
    }
}
