//! Iterator chains and closures, lowered to the loops and blocks they run.
//!
//! A chain is a loop the existing lowering knows (over containers, `iteration.rs`, or a
//! range, with `rev`/`step_by`), then stages (`map`, `filter`, `enumerate`, `skip`, `take`,
//! `step_by`), then a consumer (`sum`, `fold`, `max_by`, `collect`, ..., or the body of a
//! `for`). It is rewritten into Rust the rest of the lowering already models: a block with
//! the consumer's state, a `for` over the base, and in its body each stage applied to the
//! item, the closures inlined. No iterator exists at run time, and nothing new reaches the
//! later stages: the derivative of a chain is the derivative of its loop.
//!
//! Before: `x.iter().zip(y).map(|(a, b)| a * b).sum::<f64>()`
//! After:  `{ let mut acc = empty::<f64>().sum::<f64>();
//!            for (e0, e1) in x.iter().zip(y) { let v = { let (a, b) = (e0, e1); a * b };
//!                                              acc = acc + v; }
//!            acc }`
//!
//! A closure is inlined where it is called: `{ let (params..) = (args..); body }`. One bound
//! with `let` keeps the bindings it saw when it was made (its captures), and is lowered with
//! them at each call; one passed to an adaptor is inlined in place. Stages run in Rust's
//! order (each item goes through every stage before the next is pulled), so the executed
//! trace, and with it `f`'s value bitwise, is Rust's.

use proc_macro2::Span;
use quote::quote_spanned;
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::{Expr, Pat, parse_quote_spanned};

use std::collections::HashMap;

use super::{Binding, Lower, R, Val};
use crate::ir::{ArrayInit, OpKind};

/// The methods that make an iterator of a container's items (or windows): a chain over a
/// container starts with one.
const ITERATOR_MAKERS: &[&str] = &[
    "iter",
    "iter_mut",
    "into_iter",
    "windows",
    "chunks",
    "chunks_exact",
];

/// A closure bound with `let`: its syntax and the scopes it captured.
pub(super) struct Closure {
    pub expr: syn::ExprClosure,
    pub scopes: Vec<HashMap<String, Binding>>,
}

/// What each item goes through after the base loop, in order.
enum Stage<'e> {
    Map(&'e Expr),
    Filter(&'e Expr),
    Enumerate,
    Skip(&'e Expr),
    Take(&'e Expr),
    StepBy(&'e Expr),
}

/// What the chain's items end in.
enum Consumer<'e> {
    /// `sum` (`true`) or `product`, of this type.
    Fold0(bool, Box<syn::Type>),
    Fold(&'e Expr, &'e Expr),
    ForEach(&'e Expr),
    Count,
    /// `all` (`true`) or `any`.
    Test(bool, &'e Expr),
    /// `max_by`, `min_by`, `reduce`, and what to do without items.
    Best(Best, &'e Expr, Missing<'e>),
    Collect,
    /// The body of a `for` over the chain, its pattern and label.
    Body(&'e Pat, &'e syn::Block, Option<&'e syn::Label>),
}

#[derive(Clone, Copy)]
enum Best {
    Max,
    Min,
    Reduce,
}

/// What `Option::unwrap` and its kin do on a chain with no item.
enum Missing<'e> {
    Panic(Box<Expr>),
    Default(&'e Expr),
}

/// What a chain's rewrite collects around its loop.
struct Parts {
    /// Statements before the loop: the consumer's state, the counters of the stages.
    before: Vec<syn::Stmt>,
    /// Checks opening each iteration (`take`'s).
    top: Vec<syn::Stmt>,
    /// The consumer's accumulator, and whether it has an item yet (`max_by`).
    acc: syn::Ident,
    some: syn::Ident,
    /// The items' type, when the base gives it (a container parameter's element).
    item_ty: Option<syn::Type>,
    span: Span,
}

/// How the base loop's items look: the pattern binding them and the item as an expression.
struct Base {
    pat: Pat,
    item: Expr,
}

const UNWRAP_NONE: &str = "called `Option::unwrap()` on a `None` value";

impl Lower<'_> {
    /// `e` rewritten as a loop, if it is an iterator chain ending in a consumer; `None` if it
    /// is not one (it may still be an inactive method call).
    pub(super) fn chain_expr(&mut self, e: &Expr) -> R<Option<Expr>> {
        let span = super::op_span(e);
        let expected = self.expected_type(e);
        let Some((chain, consumer)) = self.consumer(e, expected)? else {
            return Ok(None);
        };
        let Some((base, stages)) = self.split_chain(chain)? else {
            return Ok(None);
        };
        self.rewrite(&base, &stages, consumer, span).map(Some)
    }

    /// `for pat in chain { body }` rewritten, if the chain has stages past its base loop.
    pub(super) fn chain_loop(&mut self, f: &syn::ExprForLoop) -> R<Option<Expr>> {
        let Some((base, stages)) = self.split_chain(&f.expr)? else {
            return Ok(None);
        };
        if stages.is_empty() {
            return Ok(None);
        }
        let consumer = Consumer::Body(&f.pat, &f.body, f.label.as_ref());
        self.rewrite(&base, &stages, consumer, super::op_span(&f.expr))
            .map(Some)
    }

    /// The consumer at the end of `e` and the chain before it.
    fn consumer<'e>(
        &mut self,
        e: &'e Expr,
        expected: Option<syn::Type>,
    ) -> R<Option<(&'e Expr, Consumer<'e>)>> {
        let Expr::MethodCall(m) = e else {
            return Ok(None);
        };
        let args: Vec<&Expr> = m.args.iter().collect();
        let turbofish = m.turbofish.as_ref().and_then(|t| match t.args.first() {
            Some(syn::GenericArgument::Type(ty)) => Some(ty.clone()),
            _ => None,
        });
        let consumer = match (m.method.to_string().as_str(), args.as_slice()) {
            (name @ ("sum" | "product"), []) => {
                if !self.is_chain(&m.receiver) {
                    return Ok(None);
                }
                let Some(ty) = turbofish.or(expected) else {
                    return Err(self.error(
                        e,
                        format!("write the type of the {name}: `.{name}::<f64>()` (or `let s: f64 = ..`)"),
                    ));
                };
                Consumer::Fold0(name == "sum", Box::new(ty))
            }
            ("fold", [init, f]) => Consumer::Fold(init, f),
            ("for_each", [f]) => Consumer::ForEach(f),
            ("count", []) => Consumer::Count,
            ("all", [p]) => Consumer::Test(true, p),
            ("any", [p]) => Consumer::Test(false, p),
            ("collect", []) => {
                let is_vec = |ty: &syn::Type| match ty {
                    syn::Type::Path(p) => p.path.segments.last().is_some_and(|s| s.ident == "Vec"),
                    _ => false,
                };
                if !self.is_chain(&m.receiver) {
                    return Ok(None);
                }
                if !turbofish.or(expected).as_ref().is_some_and(is_vec) {
                    return Err(self.error(
                        e,
                        "an iterator chain is collected only into a `Vec`: write `.collect::<Vec<_>>()` (or `let v: Vec<f64> = ..`)",
                    ));
                }
                Consumer::Collect
            }
            ("unwrap" | "expect" | "unwrap_or", _) => {
                return self.best(m, &args);
            }
            _ => return Ok(None),
        };
        Ok(Some((&m.receiver, consumer)))
    }

    /// `max_by(f)`, `min_by(f)` or `reduce(f)` (after `copied()` or `cloned()`, if any), then
    /// `unwrap()`, `expect(msg)` or `unwrap_or(v)`.
    fn best<'e>(
        &mut self,
        m: &'e syn::ExprMethodCall,
        args: &[&'e Expr],
    ) -> R<Option<(&'e Expr, Consumer<'e>)>> {
        let span = m.method.span();
        let missing = match (m.method.to_string().as_str(), args) {
            ("unwrap", []) => Missing::Panic(Box::new(parse_quote_spanned!(span=> #UNWRAP_NONE))),
            ("expect", [msg]) => Missing::Panic(Box::new((*msg).clone())),
            ("unwrap_or", [v]) => Missing::Default(v),
            _ => return Ok(None),
        };
        let mut inner = &*m.receiver;
        while let Expr::MethodCall(c) = inner
            && matches!(c.method.to_string().as_str(), "copied" | "cloned")
            && c.args.is_empty()
        {
            inner = &c.receiver;
        }
        let Expr::MethodCall(b) = inner else {
            return Ok(None);
        };
        let best = match b.method.to_string().as_str() {
            "max_by" => Best::Max,
            "min_by" => Best::Min,
            "reduce" => Best::Reduce,
            _ => return Ok(None),
        };
        if b.args.len() != 1 || !self.is_chain(&b.receiver) {
            return Ok(None);
        }
        Ok(Some((
            &b.receiver,
            Consumer::Best(best, &b.args[0], missing),
        )))
    }

    /// Whether `e` is an iterator chain over a container or a range.
    fn is_chain(&mut self, e: &Expr) -> bool {
        let mut root = e;
        while let Expr::MethodCall(m) = root {
            root = &m.receiver;
        }
        is_range(root) || self.container_root(root)
    }

    fn container_root(&mut self, root: &Expr) -> bool {
        match root {
            Expr::Reference(r) => self.container_root(&r.expr),
            Expr::Paren(p) => self.container_root(&p.expr),
            other => self.names_container(other),
        }
    }

    /// The chain's base loop (the longest start `for` iterates directly) and its stages;
    /// `None` if `e` is not a chain over a container or a range.
    fn split_chain<'e>(&mut self, e: &'e Expr) -> R<Option<(Expr, Vec<Stage<'e>>)>> {
        if !self.is_chain(e) {
            return Ok(None);
        }
        let mut calls = Vec::new();
        let mut node = e;
        while let Expr::MethodCall(m) = node {
            calls.push(m);
            node = &m.receiver;
        }
        calls.reverse();
        // The base: iterator makers and `zip`/`enumerate` (containers only), then range
        // adaptors; the first other method starts the stages.
        let container = !is_range(node);
        // A container is iterated through a method that makes an iterator: `c.count()` of a
        // value of the user's type is its own method.
        let makes_iterator =
            |m: &&syn::ExprMethodCall| ITERATOR_MAKERS.contains(&m.method.to_string().as_str());
        if container && !calls.first().is_some_and(makes_iterator) {
            return Ok(None);
        }
        let mut base = node;
        let mut adapted = false;
        let mut rest = calls.len();
        for (k, m) in calls.iter().enumerate() {
            let name = m.method.to_string();
            let ok = match (name.as_str(), m.args.len()) {
                ("iter" | "iter_mut" | "into_iter" | "copied" | "cloned", 0) => {
                    container && !adapted
                }
                ("windows" | "chunks" | "chunks_exact", 1) => container && !adapted && k == 0,
                ("zip", 1) => container && !adapted && self.is_chain(&m.args[0]),
                ("enumerate", 0) => container && !adapted,
                ("rev", 0) | ("step_by", 1) => {
                    adapted = true;
                    true
                }
                _ => false,
            };
            if !ok {
                rest = k;
                break;
            }
            base = calls_expr(e, calls.len() - 1 - k);
        }
        let mut stages = Vec::new();
        let mut reversed = false;
        for m in &calls[rest..] {
            let args: Vec<&Expr> = m.args.iter().collect();
            // `map(f).rev()` is `rev().map(f)`: each item's `f` runs once, last item first.
            if m.method == "rev"
                && args.is_empty()
                && stages.iter().all(|s| matches!(s, Stage::Map(_)))
            {
                reversed = !reversed;
                continue;
            }
            stages.push(match (m.method.to_string().as_str(), args.as_slice()) {
                ("map", [f]) => Stage::Map(f),
                ("filter", [p]) => Stage::Filter(p),
                ("enumerate", []) => Stage::Enumerate,
                ("skip", [n]) => Stage::Skip(n),
                ("take", [n]) => Stage::Take(n),
                ("step_by", [n]) => Stage::StepBy(n),
                ("copied" | "cloned", []) => continue,
                (name, _) => {
                    let message = match name {
                        "rev" => "`rev` is supported on the containers or the range (after their `zip`, `enumerate` and `step_by` too) and after `map` stages that follow them directly, not after `filter`, `skip` or `take`: write the loop with `for`".to_string(),
                        "zip" => "`zip` is supported on containers before any other adaptor: zip first, then `map`/`filter`/`skip` (`x.iter().zip(y).skip(1)`)".to_string(),
                        _ => format!("the iterator adaptor `{name}` is not supported: supported are `map`, `filter`, `enumerate`, `zip`, `rev`, `skip`, `take`, `step_by`, `copied`, `cloned` (and `windows`, `chunks`, `chunks_exact` right on a container); write the loop with `for`"),
                    };
                    return Err(self.error(&m.method, message));
                }
            });
        }
        let base = match reversed {
            // (Parenthesized: `&x.rev()` would reverse `x`, not `&x`.)
            true => parse_quote_spanned!(base.span()=> (#base).rev()),
            false => base.clone(),
        };
        Ok(Some((base, stages)))
    }

    /// The block running `base`, `stages` and `consumer`.
    fn rewrite(
        &mut self,
        base: &Expr,
        stages: &[Stage],
        consumer: Consumer,
        span: Span,
    ) -> R<Expr> {
        let Base { pat, item } = self.base_item(base, span);
        let mut parts = Parts {
            before: Vec::new(),
            top: Vec::new(),
            acc: self.hidden("acc", span),
            some: self.hidden("some", span),
            item_ty: self.base_type(base, stages),
            span,
        };
        if let Consumer::Best(_, f, _) = &consumer
            && yields_pairs(base, stages)
        {
            return Err(self.error(
                f,
                "`max_by`, `min_by` and `reduce` over pairs (of `zip` or `enumerate`) are not supported yet: keep one value with `map` first (`.map(|(a, b)| a * b)`), or write a `for` loop that tracks the best pair",
            ));
        }
        self.start(&consumer, &mut parts);
        let body = self.stages(stages, item, &consumer, &mut parts)?;
        let Parts { before, top, .. } = &parts;
        let label = match &consumer {
            Consumer::Body(_, _, label) => label.map(|l| quote_spanned!(span=> #l)),
            _ => None,
        };
        let looped: syn::Stmt =
            parse_quote_spanned!(span=> #label for #pat in #base { #(#top)* #(#body)* });
        Ok(match finish(&consumer, &parts) {
            Some(after) => parse_quote_spanned!(span=> { #(#before)* #looped #after }),
            None => parse_quote_spanned!(span=> { #(#before)* #looped }),
        })
    }

    /// The consumer's state before the loop.
    fn start(&mut self, consumer: &Consumer, parts: &mut Parts) {
        let Parts {
            acc, some, span, ..
        } = parts;
        let span = *span;
        let init: syn::Stmt = match consumer {
            Consumer::Fold0(sum, ty) => {
                let init = neutral(*sum, ty, span);
                parse_quote_spanned!(span=> let mut #acc = #init;)
            }
            // The accumulator's type where the code says it (`f64::max`, `|acc: f64, v|`):
            // an initial literal alone would leave it to rustc to guess.
            Consumer::Fold(init, f) => match self.fold_type(f) {
                Some(ty) => parse_quote_spanned!(span=> let mut #acc: #ty = #init;),
                None => parse_quote_spanned!(span=> let mut #acc = #init;),
            },
            Consumer::Count => parse_quote_spanned!(span=> let mut #acc = 0usize;),
            Consumer::Test(all, _) => parse_quote_spanned!(span=> let mut #acc = #all;),
            Consumer::Best(_, f, _) => {
                parts
                    .before
                    .push(parse_quote_spanned!(span=> let mut #some = false;));
                // Typed where the code says it: a comparator calling a method on its first
                // argument (`a.abs()`) needs the type where it is written.
                match self.item_type(f, parts.item_ty.as_ref()) {
                    Some(ty) => parse_quote_spanned!(span=> let mut #acc: #ty;),
                    None => parse_quote_spanned!(span=> let mut #acc;),
                }
            }
            Consumer::Collect => parse_quote_spanned!(span=> let mut #acc = Vec::new();),
            Consumer::ForEach(_) | Consumer::Body(..) => return,
        };
        parts.before.push(init);
    }

    /// The consumer's statements for one item.
    fn consume(&mut self, consumer: &Consumer, parts: &Parts, item: Expr) -> R<Vec<syn::Stmt>> {
        let Parts {
            acc, some, span, ..
        } = parts;
        let span = *span;
        let acc_expr: Expr = parse_quote_spanned!(span=> #acc);
        Ok(vec![match consumer {
            Consumer::Fold0(true, _) => parse_quote_spanned!(span=> #acc = #acc + #item;),
            Consumer::Fold0(false, _) => parse_quote_spanned!(span=> #acc = #acc * #item;),
            Consumer::Fold(_, f) => {
                let call = self.inline(f, vec![acc_expr, item])?;
                parse_quote_spanned!(span=> #acc = #call;)
            }
            Consumer::ForEach(f) => {
                let call = self.inline(f, vec![item])?;
                parse_quote_spanned!(span=> #call;)
            }
            Consumer::Count => parse_quote_spanned!(span=> #acc += 1;),
            Consumer::Test(all, p) => {
                let test = self.inline(p, vec![item])?;
                let (all, decided) = (*all, !*all);
                match all {
                    true => parse_quote_spanned!(span=> if !(#test) { #acc = #decided; break; }),
                    false => parse_quote_spanned!(span=> if (#test) { #acc = #decided; break; }),
                }
            }
            Consumer::Best(best, f, _) => {
                let call = self.inline(f, vec![acc_expr, item.clone()])?;
                let greater = quote_spanned!(span=> ::core::cmp::Ordering::Greater);
                let first = quote_spanned!(span=> if !#some { #acc = #item; #some = true; });
                match best {
                    // Rust keeps the last of equal maxima, the first of equal minima.
                    Best::Max => parse_quote_spanned!(span=>
                        #first else if (#call) != #greater { #acc = #item; }
                    ),
                    Best::Min => parse_quote_spanned!(span=>
                        #first else if (#call) == #greater { #acc = #item; }
                    ),
                    Best::Reduce => parse_quote_spanned!(span=> #first else { #acc = #call; }),
                }
            }
            Consumer::Collect => parse_quote_spanned!(span=> #acc.push(#item);),
            Consumer::Body(user_pat, body, _) => {
                let user_pat = strip(user_pat);
                let body = Expr::Block(syn::ExprBlock {
                    attrs: Vec::new(),
                    label: None,
                    block: (*body).clone(),
                });
                return Ok(vec![
                    parse_quote_spanned!(span=> let #user_pat = #item;),
                    syn::Stmt::Expr(body, None),
                ]);
            }
        }])
    }

    /// The statements applying `stages` to `item`, then the consumer's. Statements before
    /// the loop go to `parts.before`, checks at the top of each iteration to `parts.top`.
    fn stages(
        &mut self,
        stages: &[Stage],
        item: Expr,
        consumer: &Consumer,
        parts: &mut Parts,
    ) -> R<Vec<syn::Stmt>> {
        let Some((stage, rest)) = stages.split_first() else {
            return self.consume(consumer, parts, item);
        };
        let span = parts.span;
        let mut stmts: Vec<syn::Stmt> = Vec::new();
        match stage {
            Stage::Map(f) => {
                let v = self.hidden("v", span);
                let call = self.inline(f, vec![item])?;
                stmts.push(parse_quote_spanned!(span=> let #v = #call;));
                let v = parse_quote_spanned!(span=> #v);
                stmts.extend(self.stages(rest, v, consumer, parts)?);
            }
            Stage::Filter(p) => {
                let test = self.inline(p, vec![item.clone()])?;
                let inner = self.stages(rest, item, consumer, parts)?;
                stmts.push(parse_quote_spanned!(span=> if (#test) { #(#inner)* }));
            }
            Stage::Enumerate => {
                let (count, i) = (self.hidden("count", span), self.hidden("i", span));
                parts
                    .before
                    .push(parse_quote_spanned!(span=> let mut #count = 0usize;));
                stmts.push(parse_quote_spanned!(span=> let #i = #count;));
                stmts.push(parse_quote_spanned!(span=> #count += 1;));
                let pair = parse_quote_spanned!(span=> (#i, #item));
                stmts.extend(self.stages(rest, pair, consumer, parts)?);
            }
            Stage::Skip(n) | Stage::Take(n) | Stage::StepBy(n) => {
                let (count, limit) = (self.hidden("count", span), self.hidden("n", span));
                parts
                    .before
                    .push(parse_quote_spanned!(span=> let #limit: usize = #n;));
                parts
                    .before
                    .push(parse_quote_spanned!(span=> let mut #count = 0usize;));
                let inner = self.stages(rest, item, consumer, parts)?;
                match stage {
                    // Rust's `skip` pulls and drops the first `n` items.
                    Stage::Skip(_) => stmts.push(parse_quote_spanned!(span=>
                        if #count < #limit { #count += 1; } else { #(#inner)* }
                    )),
                    // `take` stops before pulling the item after the `n`th: the check opens
                    // each iteration.
                    Stage::Take(_) => {
                        let check = parse_quote_spanned!(span=> if #count == #limit { break; });
                        parts.top.push(check);
                        stmts.push(parse_quote_spanned!(span=> #count += 1;));
                        stmts.extend(inner);
                    }
                    _ => {
                        let check = parse_quote_spanned!(span=>
                            assert!(#limit != 0, "assertion failed: step != 0");
                        );
                        parts.before.push(check);
                        let keep = self.hidden("keep", span);
                        stmts.push(parse_quote_spanned!(span=> let #keep = #count % #limit == 0;));
                        stmts.push(parse_quote_spanned!(span=> #count += 1;));
                        stmts.push(parse_quote_spanned!(span=> if #keep { #(#inner)* }));
                    }
                }
            }
        }
        Ok(stmts)
    }

    /// The pattern binding the base loop's items, and the item as an expression.
    fn base_item(&mut self, base: &Expr, span: Span) -> Base {
        match base {
            Expr::Paren(p) => self.base_item(&p.expr, span),
            Expr::MethodCall(m) if m.method == "enumerate" => {
                let Base { pat, item } = self.base_item(&m.receiver, span);
                let i = self.hidden("i", span);
                Base {
                    pat: parse_quote_spanned!(span=> (#i, #pat)),
                    item: parse_quote_spanned!(span=> (#i, #item)),
                }
            }
            Expr::MethodCall(m) if m.method == "zip" => {
                let left = self.base_item(&m.receiver, span);
                let right = self.base_item(&m.args[0], span);
                let (lp, li, rp, ri) = (left.pat, left.item, right.pat, right.item);
                Base {
                    pat: parse_quote_spanned!(span=> (#lp, #rp)),
                    item: parse_quote_spanned!(span=> (#li, #ri)),
                }
            }
            Expr::MethodCall(m) if !ITERATOR_MAKERS.contains(&m.method.to_string().as_str()) => {
                self.base_item(&m.receiver, span)
            }
            _ => {
                let e = self.hidden("e", span);
                Base {
                    pat: parse_quote_spanned!(span=> #e),
                    item: parse_quote_spanned!(span=> #e),
                }
            }
        }
    }

    /// `f` applied to `args`: a closure inlined, `{ let (params..) = (args..); body }`, or a
    /// call of a path (a function, a primitive as `f64::max`, a closure bound with `let`).
    pub(super) fn inline(&mut self, f: &Expr, args: Vec<Expr>) -> R<Expr> {
        let span = f.span();
        match f {
            Expr::Paren(p) => self.inline(&p.expr, args),
            Expr::Reference(r) if r.mutability.is_none() => self.inline(&r.expr, args),
            Expr::Path(path) => Ok(parse_quote_spanned!(span=> #path(#(#args),*))),
            // A `move` closure owns copies of what it captures, taken where the chain is
            // made; inlined in the loop it would read the variables as the loop changes them.
            Expr::Closure(c) if c.capture.is_some() && !self.calling_bound => Err(self.error(
                c.capture,
                "a `move` closure passed straight to an adaptor is not supported: drop `move` (the closure then borrows what it captures), or bind it first, `let f = move |v| ..;`, and pass `f`",
            )),
            Expr::Closure(c) => {
                self.check_closure(c)?;
                if c.inputs.len() != args.len() {
                    return Err(self.error(
                        &c.inputs,
                        format!("this closure takes {} arguments here", args.len()),
                    ));
                }
                let body = &c.body;
                let pats: Vec<Pat> = c.inputs.iter().map(strip).collect();
                if let ([pat], [arg]) = (pats.as_slice(), args.as_slice()) {
                    return Ok(parse_quote_spanned!(span=> { let #pat = #arg; #body }));
                }
                // `|p: f64, q|` binds as `let (p, q): (f64, _) = (a, b);`.
                let (names, types): (Vec<&Pat>, Vec<syn::Type>) = pats
                    .iter()
                    .map(|p| match p {
                        Pat::Type(t) => (&*t.pat, (*t.ty).clone()),
                        other => (other, parse_quote_spanned!(span=> _)),
                    })
                    .unzip();
                Ok(match pats.iter().any(|p| matches!(p, Pat::Type(_))) {
                    true => parse_quote_spanned!(span=>
                        { let (#(#names),*): (#(#types),*) = (#(#args),*); #body }
                    ),
                    false => parse_quote_spanned!(span=> { let (#(#pats),*) = (#(#args),*); #body }),
                })
            }
            other => Err(self.error(
                other,
                "pass a closure (`|v| v * 2.0`) or a function by its path (`f64::max`) to this adaptor",
            )),
        }
    }

    /// Refuses what a closure's body cannot do once inlined: `return` and `?` leave the
    /// closure, not the function.
    fn check_closure(&mut self, c: &syn::ExprClosure) -> R<()> {
        if c.asyncness.is_some() {
            return Err(self.error(c, "async closures are not supported: write a plain closure"));
        }
        let mut exits = Exits(None);
        exits.visit_expr(&c.body);
        match exits.0 {
            Some(span) => Err(self.error(
                quote_spanned!(span=> _),
                "`return` and `?` inside a closure are not supported (#[reverse] inlines closures): give the closure one expression as its value, with `if`/`match` for the cases",
            )),
            None => Ok(()),
        }
    }

    /// The scopes a closure bound with `let` sees at each call: those where it is made. A
    /// `move` closure owns a copy of each container it names (an array is `Copy`: the
    /// caller may write its own afterwards, which the closure must not see), so the copy is
    /// made here; a borrowing closure needs none, as nothing may write what it borrows while
    /// it lives.
    pub(super) fn captured(&mut self, c: &syn::ExprClosure) -> Vec<HashMap<String, Binding>> {
        let mut scopes = self.scopes.clone();
        if c.capture.is_none() {
            return scopes;
        }
        let mut names = Names(Vec::new());
        names.visit_expr(&c.body);
        let mut copies = HashMap::new();
        for name in names.0 {
            let Some(Binding::Val(Val::One(v))) = self.lookup(&name).cloned() else {
                continue;
            };
            let Some(root) = self.func.storage(v) else {
                continue;
            };
            if self.borrowed_param(root).is_some() {
                continue;
            }
            let copy = ArrayInit::Copy {
                source: v,
                vec: false,
            };
            let copy = self.version(OpKind::Array(copy), c.span(), None);
            copies.insert(name, Binding::Val(Val::One(copy)));
        }
        scopes.push(copies);
        scopes
    }

    /// `f(args)` of a closure bound with `let`: its body lowered with the bindings it
    /// captured, its parameters bound to the arguments.
    pub(super) fn call_closure(
        &mut self,
        closure: &Closure,
        args: &syn::punctuated::Punctuated<Expr, syn::Token![,]>,
        span: Span,
    ) -> R<Val> {
        self.check_closure(&closure.expr)?;
        if closure.expr.inputs.len() != args.len() {
            return Err(self.error(
                args,
                format!("this closure takes {} arguments", closure.expr.inputs.len()),
            ));
        }
        let mut names = Vec::new();
        let mut vals = Vec::new();
        let mut borrows = Vec::new();
        for (arg, param) in args.iter().zip(&closure.expr.inputs) {
            let first_new = self.func.values.len();
            // A parameter binds its argument as `let` does: `&q` of a container binds `q`.
            let val = self.let_init(arg)?;
            // `f(1.5)` of `|u: f64|`: the argument has the parameter's type.
            if let (Pat::Type(t), Val::One(v)) = (strip(param), &val) {
                self.annotate(*v, &t.ty, first_new);
            }
            // `&q` of a container: the parameter is a reference to it, as in Rust.
            let borrow = matches!(arg, Expr::Reference(r) if r.mutability.is_none())
                && matches!(&val, Val::One(v) if self.func.storage(*v).is_some());
            vals.push(val);
            borrows.push(borrow);
            names.push(self.hidden("arg", span));
        }
        let outer = std::mem::replace(&mut self.scopes, closure.scopes.clone());
        self.scopes.push(Default::default());
        let depth = self.scopes.len() - 1;
        for ((name, val), borrow) in names.iter().zip(vals).zip(borrows) {
            self.declare(name.to_string(), Binding::Val(val));
            if borrow {
                self.borrowed.insert((depth, name.to_string()));
            }
        }
        let args: Vec<Expr> = names
            .iter()
            .map(|n| parse_quote_spanned!(span=> #n))
            .collect();
        let bound = std::mem::replace(&mut self.calling_bound, true);
        let body = self.inline(&Expr::Closure(closure.expr.clone()), args);
        self.calling_bound = bound;
        let result = body.and_then(|body| self.expr(&body));
        self.scopes.pop();
        let captured = std::mem::replace(&mut self.scopes, outer);
        if captured != closure.scopes {
            return Err(self.error(
                &closure.expr,
                "this closure assigns a variable it captures, which #[reverse] does not model for a closure bound with `let`: write the assignment where the closure is called, or pass the closure straight to `for_each`",
            ));
        }
        result
    }

    /// The accumulator type a `fold` function shows: the float type of a path (`f64::max`,
    /// `T::max`) or the type of a closure's first parameter.
    fn fold_type(&self, f: &Expr) -> Option<syn::Type> {
        match f {
            Expr::Paren(p) => self.fold_type(&p.expr),
            Expr::Reference(r) => self.fold_type(&r.expr),
            Expr::Path(p) if p.qself.is_none() && p.path.segments.len() == 2 => {
                let prefix = &p.path.segments[0].ident;
                self.sig
                    .is_float_name(prefix)
                    .then(|| parse_quote_spanned!(prefix.span()=> #prefix))
            }
            Expr::Closure(c) => match c.inputs.first() {
                Some(Pat::Type(t)) => Some((*t.ty).clone()),
                _ => None,
            },
            _ => None,
        }
    }

    /// The type of the items reaching the consumer, if the code says it: the first parameter
    /// of the consumer's closure (`|a: &f64, b: &f64|`), or the element type of the
    /// container the base iterates.
    fn item_type(&self, f: &Expr, base: Option<&syn::Type>) -> Option<syn::Type> {
        let typed = match f {
            Expr::Closure(c) => match c.inputs.first().map(strip) {
                Some(Pat::Type(t)) => Some((*t.ty).clone()),
                _ => None,
            },
            _ => None,
        };
        typed.or_else(|| base.cloned())
    }

    /// The element type of the container parameter `base` iterates, if its items reach the
    /// consumer unchanged (stages that only filter or count).
    fn base_type(&self, base: &Expr, stages: &[Stage]) -> Option<syn::Type> {
        let unchanged = stages.iter().all(|s| {
            matches!(
                s,
                Stage::Filter(_) | Stage::Skip(_) | Stage::Take(_) | Stage::StepBy(_)
            )
        });
        let mut root = base;
        while let Expr::MethodCall(m) = root {
            if !matches!(
                m.method.to_string().as_str(),
                "iter" | "iter_mut" | "into_iter" | "copied" | "cloned" | "rev" | "step_by"
            ) {
                return None;
            }
            root = &m.receiver;
        }
        let name = match root {
            Expr::Reference(r) => &*r.expr,
            other => other,
        };
        let Expr::Path(p) = name else { return None };
        let ident = p.path.get_ident()?;
        let param = self
            .sig
            .params
            .iter()
            .find(|q| q.ident.as_ref() == Some(ident))?;
        unchanged.then(|| param.shape.elem().cloned()).flatten()
    }

    /// The type `e` is expected to have, where the code says.
    pub(super) fn expected_type(&self, e: &Expr) -> Option<syn::Type> {
        let key = super::expr_key(e);
        let found = self.expected.iter().rev().find(|(k, _)| *k == key);
        found.map(|(_, ty)| ty.clone())
    }

    /// A fresh name for a variable of the rewritten code, which no user code can see.
    pub(super) fn hidden(&mut self, what: &str, span: Span) -> syn::Ident {
        self.next_hidden += 1;
        syn::Ident::new(&format!("__ad_{what}{}", self.next_hidden), span)
    }
}

/// The expression `depth` method calls below `e` (0: `e` itself).
fn calls_expr(e: &Expr, depth: usize) -> &Expr {
    let mut node = e;
    for _ in 0..depth {
        if let Expr::MethodCall(m) = node {
            node = &m.receiver;
        }
    }
    node
}

/// Whether the items reaching the consumer are pairs: of a `zip` or `enumerate` in the base
/// or a stage, with no `map` after it.
fn yields_pairs(base: &Expr, stages: &[Stage]) -> bool {
    let mut pairs = false;
    let mut node = base;
    while let Expr::MethodCall(m) = node {
        pairs |= m.method == "zip" || m.method == "enumerate";
        node = &m.receiver;
    }
    for stage in stages {
        match stage {
            Stage::Map(_) => pairs = false,
            Stage::Enumerate => pairs = true,
            _ => {}
        }
    }
    pairs
}

/// The chain's value after the loop.
fn finish(consumer: &Consumer, parts: &Parts) -> Option<Expr> {
    let Parts {
        acc, some, span, ..
    } = parts;
    let span = *span;
    match consumer {
        Consumer::ForEach(_) | Consumer::Body(..) => None,
        Consumer::Best(_, _, Missing::Panic(msg)) => Some(parse_quote_spanned!(span=> {
            assert!(#some, "{}", #msg);
            #acc
        })),
        Consumer::Best(_, _, Missing::Default(v)) => {
            Some(parse_quote_spanned!(span=> if #some { #acc } else { #v }))
        }
        _ => Some(parse_quote_spanned!(span=> #acc)),
    }
}

/// Rust's own neutral element of a `sum` (`true`) or `product` of `ty`: `-0.0` for a float
/// sum, `1.0` for a product; for other types the empty sum (product) itself.
fn neutral(sum: bool, ty: &syn::Type, span: Span) -> Expr {
    let method: syn::Ident = match sum {
        true => parse_quote_spanned!(span=> sum),
        false => parse_quote_spanned!(span=> product),
    };
    let Some(f) = primitive_float(ty) else {
        return parse_quote_spanned!(span=> ::core::iter::empty::<#ty>().#method::<#ty>());
    };
    let one = if sum { 0.0 } else { 1.0 };
    let mut lit = match f == "f32" {
        true => proc_macro2::Literal::f32_suffixed(one as f32),
        false => proc_macro2::Literal::f64_suffixed(one),
    };
    lit.set_span(span);
    match sum {
        true => parse_quote_spanned!(span=> -#lit),
        false => parse_quote_spanned!(span=> #lit),
    }
}

/// `f32` or `f64`, if `ty` is one of them.
fn primitive_float(ty: &syn::Type) -> Option<&syn::Ident> {
    match ty {
        syn::Type::Path(p) if p.qself.is_none() => {
            let ident = p.path.get_ident()?;
            (ident == "f64" || ident == "f32").then_some(ident)
        }
        _ => None,
    }
}

fn is_range(e: &Expr) -> bool {
    match e {
        Expr::Paren(p) => is_range(&p.expr),
        Expr::Range(r) => r.start.is_some() && r.end.is_some(),
        _ => false,
    }
}

/// A closure parameter or loop pattern as a `let` binds it: without `&`, in patterns and
/// types (references are the values to the lowering); a type stays, as a literal argument
/// needs it (`f(1.5)` of `|u: f64|`).
fn strip(pat: &Pat) -> Pat {
    match pat {
        Pat::Reference(r) => strip(&r.pat),
        Pat::Type(t) => {
            let mut ty = &*t.ty;
            while let syn::Type::Reference(r) = ty {
                ty = &r.elem;
            }
            let mut t = t.clone();
            *t.pat = strip(&t.pat);
            *t.ty = ty.clone();
            Pat::Type(t)
        }
        Pat::Paren(p) => strip(&p.pat),
        Pat::Tuple(t) => {
            let mut t = t.clone();
            for p in t.elems.iter_mut() {
                *p = strip(p);
            }
            Pat::Tuple(t)
        }
        other => other.clone(),
    }
}

/// The names a closure body reads or writes (single-segment paths; its own locals too, an
/// over-approximation).
struct Names(Vec<String>);

impl<'ast> Visit<'ast> for Names {
    fn visit_expr_path(&mut self, e: &'ast syn::ExprPath) {
        if let Some(ident) = e.path.get_ident() {
            let name = ident.to_string();
            if !self.0.contains(&name) {
                self.0.push(name);
            }
        }
    }
    fn visit_item(&mut self, _: &'ast syn::Item) {}
}

/// Finds a `return` or `?` of a closure body (not of a closure nested in it).
struct Exits(Option<Span>);

impl<'ast> Visit<'ast> for Exits {
    fn visit_expr_return(&mut self, e: &'ast syn::ExprReturn) {
        self.0.get_or_insert(e.return_token.span);
    }
    fn visit_expr_try(&mut self, e: &'ast syn::ExprTry) {
        self.0.get_or_insert(e.question_token.span);
    }
    fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
    fn visit_item(&mut self, _: &'ast syn::Item) {}
}
