//! Side-effect macros (`println!`, `assert!`, ...): kept verbatim, with the function's
//! variables renamed to the values they hold at that point.
//!
//! Before: `println!("{} {y:.3}", x);`
//! After:  `println!("{} {y:.3}", __ad_use_0, y = __ad_use_1);` with uses `[%x.4, %y.7]`, the
//! holes filled by emit with whatever names those values have in the emitted code.
//!
//! An identifier in the macro's tokens is a variable reference unless it is a field or
//! method name (after `.`), a path segment (next to `::`), a macro name (before `!`) or the
//! name of a named format argument (before a single `=`). Variables captured by a format
//! string (`{y}`, `{:w$}`) become named arguments, since they cannot be renamed in place.

use proc_macro2::{Group, Ident, Spacing, TokenStream, TokenTree};
use quote::{ToTokens, quote};
use syn::punctuated::Punctuated;
use syn::{Expr, Token};

use super::{Lower, R, Val};
use crate::ir::{OpKind, Value, hole};

/// The macros allowed in a differentiated function, and the position of their format string.
const EFFECTS: &[(&str, usize)] = &[
    ("print", 0),
    ("println", 0),
    ("eprint", 0),
    ("eprintln", 0),
    ("assert", 1),
    ("debug_assert", 1),
    ("assert_eq", 2),
    ("assert_ne", 2),
    ("debug_assert_eq", 2),
    ("debug_assert_ne", 2),
];

impl Lower<'_> {
    pub(super) fn effect(&mut self, mac: &syn::Macro) -> R<()> {
        let name = mac
            .path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default();
        let Some(&(_, format_position)) = EFFECTS.iter().find(|(n, _)| *n == name) else {
            return Err(self.error(
                &mac.path,
                format!("macro `{name}!` is not supported: inside #[reverse] functions only side-effect macros (print!, println!, eprint!, eprintln!, assert!, assert_eq!, assert_ne!, debug_assert!...) are; compute the value without the macro"),
            ));
        };
        self.check_arguments(mac)?;
        let mut uses = Vec::new();
        let mut tokens = self.rename(mac.tokens.clone(), &mut uses)?;
        tokens.extend(self.captured_arguments(&tokens, format_position, &mut uses)?);
        let span = mac
            .path
            .segments
            .last()
            .map_or_else(proc_macro2::Span::call_site, |s| s.ident.span());
        let mut mac = mac.clone();
        mac.tokens = tokens;
        let code = mac.to_token_stream();
        self.push(OpKind::Effect { code, uses }, span, 0);
        Ok(())
    }

    /// An error if the macro's arguments do more than read: the tokens are kept as they are,
    /// so an assignment, a `&mut`, a mutating method or an exit in them would happen without
    /// the lowering seeing it.
    fn check_arguments(&mut self, mac: &syn::Macro) -> R<()> {
        let parser = Punctuated::<Expr, Token![,]>::parse_terminated;
        let args = match syn::parse::Parser::parse2(parser, mac.tokens.clone()) {
            Ok(args) => args,
            Err(error) => return Err(self.errors.push(error)),
        };
        let mut check = ReadOnly { found: None };
        for arg in &args {
            // A named format argument, `width = 12`, reads its right side.
            let read = match arg {
                Expr::Assign(a) if matches!(&*a.left, Expr::Path(p) if p.path.get_ident().is_some()) => {
                    &a.right
                }
                other => other,
            };
            syn::visit::Visit::visit_expr(&mut check, read);
        }
        match check.found {
            Some((tokens, what)) => Err(self.error(tokens, format!("{what} inside the arguments of a side-effect macro is not supported: the macro's tokens are kept as written, so it would happen unseen by #[reverse]; do it in a statement of its own and print or check the result"))),
            None => Ok(()),
        }
    }

    /// Renames variable references in `tokens` to the identifiers of their values.
    fn rename(&mut self, tokens: TokenStream, uses: &mut Vec<Value>) -> R<TokenStream> {
        let trees: Vec<TokenTree> = tokens.into_iter().collect();
        let punct = |i: Option<usize>, c: char| {
            i.and_then(|i| trees.get(i))
                .is_some_and(|t| matches!(t, TokenTree::Punct(p) if p.as_char() == c))
        };
        let mut out = Vec::with_capacity(trees.len());
        for (i, tree) in trees.iter().enumerate() {
            match tree {
                TokenTree::Group(g) => {
                    let mut group = Group::new(g.delimiter(), self.rename(g.stream(), uses)?);
                    group.set_span(g.span());
                    out.push(TokenTree::Group(group));
                }
                TokenTree::Ident(ident) => {
                    let before = i.checked_sub(1);
                    let is_name = punct(before, '.')
                        || (punct(before, ':') && punct(i.checked_sub(2), ':'))
                        // `name!(..)`, not `k != 0`.
                        || matches!(trees.get(i + 1), Some(TokenTree::Punct(p)) if p.as_char() == '!' && p.spacing() == Spacing::Alone)
                        || (punct(Some(i + 1), ':') && punct(Some(i + 2), ':'))
                        || matches!(trees.get(i + 1), Some(TokenTree::Punct(p)) if p.as_char() == '=' && p.spacing() == Spacing::Alone);
                    match self.variable(ident, uses)? {
                        Some(renamed) if !is_name => out.push(TokenTree::Ident(renamed)),
                        _ => out.push(tree.clone()),
                    }
                }
                _ => out.push(tree.clone()),
            }
        }
        Ok(out.into_iter().collect())
    }

    /// The identifier of the value `ident` refers to, if it is a local variable.
    fn variable(&mut self, ident: &Ident, uses: &mut Vec<Value>) -> R<Option<Ident>> {
        match self.local(ident)? {
            None => Ok(None),
            Some(Val::One(v)) => {
                uses.push(v);
                Ok(Some(hole(uses.len() - 1, ident.span())))
            }
            Some(_) => Err(self.error(
                ident,
                format!("`{ident}` is a tuple: macros can only print its elements (`{ident}.0`)"),
            )),
        }
    }

    /// `, name = value` for each variable the format string captures implicitly.
    fn captured_arguments(
        &mut self,
        tokens: &TokenStream,
        position: usize,
        uses: &mut Vec<Value>,
    ) -> R<TokenStream> {
        let parser = Punctuated::<Expr, Token![,]>::parse_terminated;
        let Ok(args) = syn::parse::Parser::parse2(parser, tokens.clone()) else {
            // Not an argument list we understand; the compiler will report it on the original.
            return Ok(TokenStream::new());
        };
        let Some(Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(format),
            ..
        })) = args.iter().nth(position)
        else {
            return Ok(TokenStream::new());
        };
        let explicit: Vec<String> = args
            .iter()
            .filter_map(|a| match a {
                Expr::Assign(assign) => match &*assign.left {
                    Expr::Path(p) => p.path.get_ident().map(ToString::to_string),
                    _ => None,
                },
                _ => None,
            })
            .collect();
        let mut out = TokenStream::new();
        let mut seen = Vec::new();
        for name in captures(&format.value()) {
            if explicit.contains(&name) || seen.contains(&name) {
                continue;
            }
            let ident = Ident::new(&name, format.span());
            if let Some(renamed) = self.variable(&ident, uses)? {
                let trailing_comma = tokens
                    .clone()
                    .into_iter()
                    .last()
                    .is_some_and(|t| matches!(t, TokenTree::Punct(p) if p.as_char() == ','));
                let comma = if trailing_comma && out.is_empty() {
                    quote!()
                } else {
                    quote!(,)
                };
                out.extend(quote!(#comma #ident = #renamed));
                seen.push(name);
            }
        }
        Ok(out)
    }
}

/// The names a format string captures: `{name}`, `{name:?}`, and `name$` in a format spec.
fn captures(format: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut chars = format.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        match c {
            '{' if chars.peek().is_some_and(|&(_, n)| n == '{') => {
                chars.next();
            }
            '{' => {
                let mut inner = String::new();
                for (_, c) in chars.by_ref() {
                    if c == '}' {
                        break;
                    }
                    inner.push(c);
                }
                let (arg, spec) = inner.split_once(':').unwrap_or((&inner, ""));
                let arg = arg.trim();
                if is_identifier(arg) {
                    names.push(arg.to_string());
                }
                // `{:width$}`, `{:.precision$}`
                for part in spec.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$')) {
                    if let Some(name) = part.strip_suffix('$')
                        && is_identifier(name)
                    {
                        names.push(name.to_string());
                    }
                }
            }
            _ => {}
        }
    }
    names
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_')
        && s != "_"
}

/// Finds the first part of a macro argument that does more than read.
struct ReadOnly {
    found: Option<(TokenStream, &'static str)>,
}

impl<'ast> syn::visit::Visit<'ast> for ReadOnly {
    fn visit_expr(&mut self, e: &'ast Expr) {
        if self.found.is_some() {
            return;
        }
        let what = match e {
            Expr::Assign(_) => Some("an assignment"),
            Expr::Binary(b) if super::is_assignment(&b.op) => Some("an assignment"),
            Expr::Reference(r) if r.mutability.is_some() => Some("a `&mut` borrow"),
            Expr::MethodCall(m)
                if !super::read_only(&m.method.to_string())
                    && matches!(
                        &*m.receiver,
                        Expr::Path(_) | Expr::Field(_) | Expr::Index(_)
                    ) =>
            {
                Some("a method that may change its receiver")
            }
            Expr::Break(_) | Expr::Continue(_) | Expr::Return(_) | Expr::Try(_) => Some("an exit"),
            Expr::Closure(_) | Expr::Async(_) | Expr::Await(_) | Expr::Unsafe(_) => {
                Some("this expression")
            }
            Expr::Loop(_) | Expr::While(_) | Expr::ForLoop(_) => Some("a loop"),
            _ => None,
        };
        match what {
            Some(what) => self.found = Some((quote!(#e), what)),
            None => syn::visit::visit_expr(self, e),
        }
    }

    fn visit_item(&mut self, _: &'ast syn::Item) {}
}

#[cfg(test)]
mod tests {
    use super::captures;

    #[test]
    fn finds_implicit_captures() {
        assert_eq!(captures("{x} {} {y:?} {{z}} {0} {w:>8.3}"), ["x", "y", "w"]);
        assert_eq!(captures("{:width$.prec$} {a:1$}"), ["width", "prec", "a"]);
        assert!(captures("no braces {{}}").is_empty());
    }
}
