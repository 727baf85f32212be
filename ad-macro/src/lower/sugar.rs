//! Statements Rust writes as shorthand for a `match` or a `loop`, rewritten into them before
//! they are lowered (the lowering of `match` binds payloads, `control.rs`):
//!
//! | written | rewritten |
//! |---|---|
//! | `if let P = e { a } else { b }` | `match e { P => { a } _ => { b } }` |
//! | `while let P = e { body }` | `loop { match e { P => { body } _ => break } }` |
//! | `let P = e else { d };` | `let (n, ..) = match e { P => (n, ..), _ => { d } };` |
//! | `let S { a, b } = e;` (a struct, tuple-struct or slice pattern) | `let (a, b) = match e { S { a, b } => (a, b) };` |
//! | `'a: { body }` | `'a: loop { let v = { body }; break 'a v; }` |
//!
//! The last is exact because Rust forbids an unlabelled `break` or `continue` inside a
//! labelled block (E0695): every exit in `body` names its target.

use syn::spanned::Spanned;
use syn::{Expr, Pat, parse_quote_spanned};

/// `if let` as a `match`; `None` if `i` is a plain `if`, an error for a `let` chain.
pub(super) fn if_let(i: &syn::ExprIf) -> Option<syn::Result<Expr>> {
    let Expr::Let(l) = &*i.cond else {
        return has_let(&i.cond).then(|| Err(let_chain(&i.cond)));
    };
    let (pat, scrutinee, then) = (&l.pat, &l.expr, &i.then_branch);
    let span = i.if_token.span;
    let els: Expr = match &i.else_branch {
        Some((_, els)) => (**els).clone(),
        None => parse_quote_spanned!(span=> {}),
    };
    Some(Ok(
        parse_quote_spanned!(span=> match (#scrutinee) { #pat => #then, _ => #els }),
    ))
}

/// `while let` as a `loop` around a `match`; `None` for a plain `while`.
pub(super) fn while_let(w: &syn::ExprWhile) -> Option<syn::Result<Expr>> {
    let Expr::Let(l) = &*w.cond else {
        return has_let(&w.cond).then(|| Err(let_chain(&w.cond)));
    };
    let (pat, scrutinee, body, label) = (&l.pat, &l.expr, &w.body, &w.label);
    let span = w.while_token.span;
    Some(Ok(parse_quote_spanned!(span=>
        #label loop { match (#scrutinee) { #pat => #body, _ => break } }
    )))
}

/// `let P = e else { d };`, or `let P = e;` with a pattern `let` cannot bind by itself (a
/// struct, tuple-struct or slice pattern), as a `let` of the pattern's names from a `match`.
/// `None` for a `let` of names and tuples without `else`. A pattern without names is the
/// `match` alone, a statement.
pub(super) fn let_match(local: &syn::Local) -> Option<syn::Stmt> {
    let init = local.init.as_ref()?;
    // (A type annotation has no place in an arm; the scrutinee's type says it.)
    let pat = match &local.pat {
        Pat::Type(t) => &*t.pat,
        other => other,
    };
    if init.diverge.is_none() && binds_directly(pat) {
        return None;
    }
    let span = local.let_token.span;
    let names = super::control::pattern_bindings(pat);
    let values: Vec<&syn::Ident> = names.iter().map(|p| &p.ident).collect();
    let scrutinee = &init.expr;
    let otherwise = init.diverge.as_ref().map(|(_, d)| {
        let d: syn::Arm = parse_quote_spanned!(span=> _ => #d);
        d
    });
    let matched: Expr = parse_quote_spanned!(span=>
        match (#scrutinee) { #pat => (#(#values,)*), #otherwise }
    );
    // The names bound as the pattern binds them (`mut` kept), from the arm's tuple.
    let left: Vec<Pat> = names
        .iter()
        .map(|&p| {
            let mut p = p.clone();
            p.by_ref = None;
            p.subpat = None;
            Pat::Ident(p)
        })
        .collect();
    Some(match left.is_empty() {
        true => parse_quote_spanned!(span=> #matched;),
        false => parse_quote_spanned!(span=> let (#(#left,)*) = #matched;),
    })
}

/// `'a: { body }` as `'a: loop { break 'a { body }; }`; `None` without a label.
pub(super) fn labelled_block(b: &syn::ExprBlock) -> Option<Expr> {
    let label = b.label.as_ref()?;
    let name = &label.name;
    let block = &b.block;
    let span = name.span();
    // The value first, then the `break`: a `break 'a v` inside the block has set it already,
    // and the statements after one that exits run only if it did not.
    Some(
        parse_quote_spanned!(span=> #label loop { let __ad_block = #block; break #name __ad_block; }),
    )
}

/// Whether a `let` binds `pat` without a `match`: names, `_` and tuples of those.
fn binds_directly(pat: &Pat) -> bool {
    match pat {
        Pat::Ident(p) => p.subpat.is_none(),
        Pat::Wild(_) => true,
        Pat::Type(t) => binds_directly(&t.pat),
        Pat::Paren(p) => binds_directly(&p.pat),
        Pat::Tuple(t) => t.elems.iter().all(binds_directly),
        _ => false,
    }
}

fn has_let(e: &Expr) -> bool {
    match e {
        Expr::Let(_) => true,
        Expr::Binary(b) => has_let(&b.left) || has_let(&b.right),
        Expr::Paren(p) => has_let(&p.expr),
        _ => false,
    }
}

fn let_chain(e: &Expr) -> syn::Error {
    syn::Error::new(
        e.span(),
        "`let` chains (`if let P = e && c`) are not supported: nest them, `if let P = e { if c { .. } }`",
    )
}
