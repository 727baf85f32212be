//! Attributes inside the body. The lowering reads statements, not attributes, and the
//! generated functions do not carry the ones it meets, so an attribute that changes what code
//! exists (`#[cfg(..)]` on a statement, an arm or an expression) would be silently ignored:
//! it is an error. Lint attributes (`#[allow(..)]` and its kin) change nothing that runs and
//! are accepted. Items declared in the body keep their attributes (they are emitted again
//! as written).
//!
//! Error: `#[cfg(feature = "fast")] let y = x * x;`

use syn::visit::{self, Visit};

use crate::errors::Errors;

/// Reports every attribute of the body that is not a lint level.
pub fn check(body: &syn::Block, errors: &mut Errors) {
    Walk { errors }.visit_block(body);
}

struct Walk<'a> {
    errors: &'a mut Errors,
}

impl<'ast> Visit<'ast> for Walk<'_> {
    fn visit_attribute(&mut self, attr: &'ast syn::Attribute) {
        let path = attr.path();
        let lint = ["allow", "warn", "deny", "forbid", "expect"]
            .iter()
            .any(|l| path.is_ident(l));
        let tool = path.segments.first().is_some_and(|s| s.ident == "rustfmt");
        if !lint && !tool {
            let name = quote::ToTokens::to_token_stream(path)
                .to_string()
                .replace(' ', "");
            self.errors.spanned(attr, format!("`#[{name}]` inside a #[reverse] function is not supported: the macro cannot apply it to the code it generates; move the code it applies to into a function of its own (`#[cfg]` on a whole function works)"));
        }
    }

    fn visit_item(&mut self, _: &'ast syn::Item) {}

    fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        visit::visit_macro(self, m);
    }
}
