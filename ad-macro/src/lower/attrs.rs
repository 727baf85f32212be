//! Attributes inside the body. The lowering reads statements, not attributes, and the
//! generated functions do not carry the ones it meets, so an attribute that changes what code
//! exists (`#[cfg(..)]` on a statement, an arm or an expression) would be silently ignored:
//! it is an error. Lint attributes (`#[allow(..)]` and its kin) change nothing that runs and
//! are accepted. Items declared in the body keep their attributes (they are emitted again
//! as written).
//!
//! `#[checkpoint]` and `#[checkpoint(snapshots = N)]` on a loop statement (`for`, `while`,
//! `loop`) are the macro's own: the lowering marks the loop ([`checkpoint`]), and
//! [`strip_checkpoints`] removes them from the function emitted unchanged, where rustc would
//! reject them (attributes on expressions are unstable). Anywhere else they are errors.
//!
//! Error: `#[cfg(feature = "fast")] let y = x * x;`

use syn::visit::{self, Visit};
use syn::visit_mut::{self, VisitMut};

use crate::errors::Errors;
use crate::ir::Checkpoint;

/// The snapshots a `#[checkpoint]` without arguments keeps.
pub const DEFAULT_SNAPSHOTS: usize = 32;

/// Reports every attribute of the body that is not a lint level, nor `#[checkpoint]` on a
/// loop.
pub fn check(body: &syn::Block, errors: &mut Errors) {
    Walk { errors }.visit_block(body);
}

/// How `#[checkpoint]` is written, for the errors.
const USAGE: &str = "write `#[checkpoint]` or `#[checkpoint(snapshots = N)]` before the loop, N an integer literal of at least 1: the copies of the loop's state its reverse keeps";

/// The `#[checkpoint]` among a loop's attributes, if any, with its snapshot count.
pub fn checkpoint(attrs: &[syn::Attribute]) -> syn::Result<Option<Checkpoint>> {
    let mut marks = attrs.iter().filter(|a| a.path().is_ident("checkpoint"));
    let Some(attr) = marks.next() else {
        return Ok(None);
    };
    if let Some(second) = marks.next() {
        return Err(syn::Error::new_spanned(
            second,
            format!("a loop takes one `#[checkpoint]`: {USAGE}"),
        ));
    }
    let usage = |tokens: &dyn quote::ToTokens| syn::Error::new_spanned(tokens, USAGE);
    if let syn::AttrStyle::Inner(_) = attr.style {
        return Err(usage(attr));
    }
    let mut snapshots = None;
    match &attr.meta {
        syn::Meta::Path(_) => {}
        syn::Meta::NameValue(nv) => return Err(usage(nv)),
        syn::Meta::List(list) => {
            if !matches!(list.delimiter, syn::MacroDelimiter::Paren(_)) {
                return Err(usage(list));
            }
            // One error of ours says what is wrong; syn's own ("expected `=`") say `USAGE`.
            let mut ours = None;
            let parsed = attr.parse_nested_meta(|meta| {
                if !meta.path.is_ident("snapshots") || snapshots.is_some() {
                    return Err(meta.error(USAGE));
                }
                let n: syn::LitInt = meta.value()?.parse()?;
                match n.base10_parse::<usize>() {
                    Ok(0) => {
                        let message =
                            "`snapshots` must be at least 1: the loop's initial state is one";
                        ours = Some(syn::Error::new(n.span(), message));
                        Err(syn::Error::new(n.span(), message))
                    }
                    Ok(k) => {
                        snapshots = Some(k);
                        Ok(())
                    }
                    Err(_) => Err(syn::Error::new(n.span(), USAGE)),
                }
            });
            if let Err(error) = parsed {
                return Err(ours.unwrap_or_else(|| syn::Error::new(error.span(), USAGE)));
            }
        }
    }
    Ok(Some(Checkpoint {
        snapshots: snapshots.unwrap_or(DEFAULT_SNAPSHOTS),
    }))
}

/// Removes `#[checkpoint]` from the loops of `item`'s body (the function emitted unchanged);
/// one elsewhere, an error already, becomes a lint level, which changes nothing, so that
/// rustc does not report it again.
pub fn strip_checkpoints(item: &mut syn::ItemFn) {
    Strip.visit_block_mut(&mut item.block);
}

struct Strip;

impl VisitMut for Strip {
    fn visit_stmt_mut(&mut self, stmt: &mut syn::Stmt) {
        // Removed, as rustc warns of a lint level on a macro statement.
        match stmt {
            syn::Stmt::Local(local) => local.attrs.retain(|a| !a.path().is_ident("checkpoint")),
            syn::Stmt::Macro(m) => m.attrs.retain(|a| !a.path().is_ident("checkpoint")),
            _ => {}
        }
        visit_mut::visit_stmt_mut(self, stmt);
    }

    fn visit_expr_mut(&mut self, e: &mut syn::Expr) {
        if let Some(attrs) = loop_attrs_mut(e) {
            attrs.retain(|a| !a.path().is_ident("checkpoint"));
        }
        visit_mut::visit_expr_mut(self, e);
    }

    fn visit_attribute_mut(&mut self, attr: &mut syn::Attribute) {
        if attr.path().is_ident("checkpoint") {
            let span = syn::spanned::Spanned::span(attr);
            *attr = syn::parse_quote_spanned!(span=> #[allow(unused_attributes)]);
        }
    }

    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}

fn loop_attrs_mut(e: &mut syn::Expr) -> Option<&mut Vec<syn::Attribute>> {
    match e {
        syn::Expr::ForLoop(f) => Some(&mut f.attrs),
        syn::Expr::While(w) => Some(&mut w.attrs),
        syn::Expr::Loop(l) => Some(&mut l.attrs),
        _ => None,
    }
}

struct Walk<'a> {
    errors: &'a mut Errors,
}

impl<'ast> Visit<'ast> for Walk<'_> {
    fn visit_expr(&mut self, e: &'ast syn::Expr) {
        let attrs = match e {
            syn::Expr::ForLoop(f) => Some(&f.attrs),
            syn::Expr::While(w) => Some(&w.attrs),
            syn::Expr::Loop(l) => Some(&l.attrs),
            _ => None,
        };
        if let Some(attrs) = attrs {
            if let Err(error) = checkpoint(attrs) {
                self.errors.push(error);
            }
            // The loop's other attributes, then its parts.
            for attr in attrs.iter().filter(|a| !a.path().is_ident("checkpoint")) {
                self.visit_attribute(attr);
            }
            match e {
                syn::Expr::ForLoop(f) => {
                    self.visit_pat(&f.pat);
                    self.visit_expr(&f.expr);
                    self.visit_block(&f.body);
                }
                syn::Expr::While(w) => {
                    self.visit_expr(&w.cond);
                    self.visit_block(&w.body);
                }
                syn::Expr::Loop(l) => self.visit_block(&l.body),
                _ => {}
            }
            return;
        }
        visit::visit_expr(self, e);
    }

    fn visit_attribute(&mut self, attr: &'ast syn::Attribute) {
        let path = attr.path();
        if path.is_ident("checkpoint") {
            self.errors.spanned(
                attr,
                "`#[checkpoint]` marks a loop: put it on a `for`, `while` or `loop` statement",
            );
            return;
        }
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
