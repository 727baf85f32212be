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

use super::{Binding, Lower, R, Val};

/// A closure bound with `let`: its syntax and the scopes it captured.
pub(super) struct Closure {
    pub expr: syn::ExprClosure,
    pub scopes: Vec<std::collections::HashMap<String, Binding>>,
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

/// A consumer's statements for one item, given the item.
type End<'a> = Box<dyn Fn(&mut Lower<'a>, Expr) -> R<Vec<syn::Stmt>>>;

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
            other => self.container_name(other).is_some(),
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
        let mut base = node;
        let mut adapted = false;
        let mut rest = calls.len();
        for (k, m) in calls.iter().enumerate() {
            let name = m.method.to_string();
            let ok = match (name.as_str(), m.args.len()) {
                ("iter" | "iter_mut" | "into_iter" | "copied" | "cloned", 0) => {
                    container && !adapted
                }
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
                        "rev" => "`rev` is supported on the containers or the range and after `map` (`x.iter().rev().filter(..)`), not after `filter`, `enumerate`, `skip`, `take` or `step_by`: reverse first".to_string(),
                        "zip" => "`zip` is supported on containers before any other adaptor: zip first, then `map`/`filter`/`skip` (`x.iter().zip(y).skip(1)`)".to_string(),
                        _ => format!("the iterator adaptor `{name}` is not supported: supported are `map`, `filter`, `enumerate`, `zip`, `rev`, `skip`, `take`, `step_by`, `copied`, `cloned`; write the loop with `for`"),
                    };
                    return Err(self.error(&m.method, message));
                }
            });
        }
        let base = match reversed {
            true => parse_quote_spanned!(base.span()=> #base.rev()),
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
        let mut before: Vec<syn::Stmt> = Vec::new();
        let mut top: Vec<syn::Stmt> = Vec::new();
        // The consumer's state, and its statements for one item.
        let acc = self.hidden("acc", span);
        let some = self.hidden("some", span);
        let label = match &consumer {
            Consumer::Body(_, _, label) => label.cloned(),
            _ => None,
        };
        let (end, after): (End<'_>, Option<Expr>) = match consumer {
            Consumer::Fold0(sum, ty) => {
                let (method, op): (syn::Ident, syn::BinOp) = if sum {
                    (
                        parse_quote_spanned!(span=> sum),
                        parse_quote_spanned!(span=> +),
                    )
                } else {
                    (
                        parse_quote_spanned!(span=> product),
                        parse_quote_spanned!(span=> *),
                    )
                };
                // Rust's own neutral element: `-0.0` for a float sum, `1.0` for a product.
                let init: Expr = match primitive_float(&ty) {
                    Some(f) => {
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
                    None => {
                        parse_quote_spanned!(span=> ::core::iter::empty::<#ty>().#method::<#ty>())
                    }
                };
                before.push(parse_quote_spanned!(span=> let mut #acc = #init;));
                let acc2 = acc.clone();
                (
                    Box::new(move |_, item| {
                        Ok(vec![parse_quote_spanned!(span=> #acc2 = #acc2 #op #item;)])
                    }),
                    Some(parse_quote_spanned!(span=> #acc)),
                )
            }
            Consumer::Fold(init, f) => {
                // The accumulator's type where the code says it (`f64::max`, `|acc: f64, v|`):
                // an initial literal alone would leave it to rustc to guess.
                match self.fold_type(f) {
                    Some(ty) => {
                        before.push(parse_quote_spanned!(span=> let mut #acc: #ty = #init;))
                    }
                    None => before.push(parse_quote_spanned!(span=> let mut #acc = #init;)),
                }
                let (acc2, f) = (acc.clone(), f.clone());
                (
                    Box::new(move |this, item| {
                        let call =
                            this.inline(&f, vec![parse_quote_spanned!(span=> #acc2), item])?;
                        Ok(vec![parse_quote_spanned!(span=> #acc2 = #call;)])
                    }),
                    Some(parse_quote_spanned!(span=> #acc)),
                )
            }
            Consumer::ForEach(f) => {
                let f = f.clone();
                (
                    Box::new(move |this, item| {
                        let call = this.inline(&f, vec![item])?;
                        Ok(vec![parse_quote_spanned!(span=> #call;)])
                    }),
                    None,
                )
            }
            Consumer::Count => {
                before.push(parse_quote_spanned!(span=> let mut #acc = 0usize;));
                let acc2 = acc.clone();
                (
                    Box::new(move |_, _| Ok(vec![parse_quote_spanned!(span=> #acc2 += 1;)])),
                    Some(parse_quote_spanned!(span=> #acc)),
                )
            }
            Consumer::Test(all, p) => {
                before.push(parse_quote_spanned!(span=> let mut #acc = #all;));
                let (acc2, p) = (acc.clone(), p.clone());
                (
                    Box::new(move |this, item| {
                        let test = this.inline(&p, vec![item])?;
                        let decided = !all;
                        Ok(vec![if all {
                            parse_quote_spanned!(span=> if !(#test) { #acc2 = #decided; break; })
                        } else {
                            parse_quote_spanned!(span=> if (#test) { #acc2 = #decided; break; })
                        }])
                    }),
                    Some(parse_quote_spanned!(span=> #acc)),
                )
            }
            Consumer::Best(best, f, missing) => {
                before.push(parse_quote_spanned!(span=> let mut #acc;));
                before.push(parse_quote_spanned!(span=> let mut #some = false;));
                let (acc2, some2, f) = (acc.clone(), some.clone(), f.clone());
                let end = move |this: &mut Self, item: Expr| -> R<Vec<syn::Stmt>> {
                    let acc_expr: Expr = parse_quote_spanned!(span=> #acc2);
                    let call = this.inline(&f, vec![acc_expr, item.clone()])?;
                    let greater = quote_spanned!(span=> ::core::cmp::Ordering::Greater);
                    let next: syn::Stmt = match best {
                        // Rust keeps the last of equal maxima, the first of equal minima.
                        Best::Max => parse_quote_spanned!(span=>
                            if !#some2 { #acc2 = #item; #some2 = true; } else if (#call) != #greater { #acc2 = #item; }
                        ),
                        Best::Min => parse_quote_spanned!(span=>
                            if !#some2 { #acc2 = #item; #some2 = true; } else if (#call) == #greater { #acc2 = #item; }
                        ),
                        Best::Reduce => parse_quote_spanned!(span=>
                            if !#some2 { #acc2 = #item; #some2 = true; } else { #acc2 = #call; }
                        ),
                    };
                    Ok(vec![next])
                };
                let after: Expr = match missing {
                    Missing::Panic(msg) => parse_quote_spanned!(span=> {
                        assert!(#some, "{}", #msg);
                        #acc
                    }),
                    Missing::Default(v) => {
                        parse_quote_spanned!(span=> if #some { #acc } else { #v })
                    }
                };
                (Box::new(end), Some(after))
            }
            Consumer::Collect => {
                before.push(parse_quote_spanned!(span=> let mut #acc = Vec::new();));
                let acc2 = acc.clone();
                (
                    Box::new(move |_, item| {
                        Ok(vec![parse_quote_spanned!(span=> #acc2.push(#item);)])
                    }),
                    Some(parse_quote_spanned!(span=> #acc)),
                )
            }
            Consumer::Body(user_pat, body, _) => {
                let user_pat = strip(user_pat);
                let body = body.clone();
                (
                    Box::new(move |_, item| {
                        Ok(vec![
                            parse_quote_spanned!(span=> let #user_pat = #item;),
                            syn::Stmt::Expr(
                                Expr::Block(syn::ExprBlock {
                                    attrs: Vec::new(),
                                    label: None,
                                    block: body.clone(),
                                }),
                                None,
                            ),
                        ])
                    }),
                    None,
                )
            }
        };
        let inner = self.stages(stages, item, &mut before, &mut top, &*end, span)?;
        top.extend(inner);
        let label = label.map(|l| quote_spanned!(span=> #l));
        let looped: syn::Stmt = parse_quote_spanned!(span=> #label for #pat in #base { #(#top)* });
        Ok(match after {
            Some(after) => parse_quote_spanned!(span=> { #(#before)* #looped #after }),
            None => parse_quote_spanned!(span=> { #(#before)* #looped }),
        })
    }

    /// The statements applying `stages` to `item`, then `end`. Statements before the loop
    /// go to `before`, checks at the top of each iteration to `top`.
    fn stages(
        &mut self,
        stages: &[Stage],
        item: Expr,
        before: &mut Vec<syn::Stmt>,
        top: &mut Vec<syn::Stmt>,
        end: &dyn Fn(&mut Self, Expr) -> R<Vec<syn::Stmt>>,
        span: Span,
    ) -> R<Vec<syn::Stmt>> {
        let Some((stage, rest)) = stages.split_first() else {
            return end(self, item);
        };
        Ok(match stage {
            Stage::Map(f) => {
                let v = self.hidden("v", span);
                let call = self.inline(f, vec![item])?;
                let mut stmts = vec![parse_quote_spanned!(span=> let #v = #call;)];
                stmts.extend(self.stages(
                    rest,
                    parse_quote_spanned!(span=> #v),
                    before,
                    top,
                    end,
                    span,
                )?);
                stmts
            }
            Stage::Filter(p) => {
                let test = self.inline(p, vec![item.clone()])?;
                let inner = self.stages(rest, item, before, top, end, span)?;
                vec![parse_quote_spanned!(span=> if (#test) { #(#inner)* })]
            }
            Stage::Enumerate => {
                let (count, i) = (self.hidden("count", span), self.hidden("i", span));
                before.push(parse_quote_spanned!(span=> let mut #count = 0usize;));
                let inner = self.stages(
                    rest,
                    parse_quote_spanned!(span=> (#i, #item)),
                    before,
                    top,
                    end,
                    span,
                )?;
                let mut stmts: Vec<syn::Stmt> = vec![
                    parse_quote_spanned!(span=> let #i = #count;),
                    parse_quote_spanned!(span=> #count += 1;),
                ];
                stmts.extend(inner);
                stmts
            }
            Stage::Skip(n) | Stage::Take(n) | Stage::StepBy(n) => {
                let (count, limit) = (self.hidden("count", span), self.hidden("n", span));
                before.push(parse_quote_spanned!(span=> let #limit: usize = #n;));
                before.push(parse_quote_spanned!(span=> let mut #count = 0usize;));
                let inner = self.stages(rest, item, before, top, end, span)?;
                match stage {
                    // Rust's `skip` pulls and drops the first `n` items.
                    Stage::Skip(_) => vec![parse_quote_spanned!(span=>
                        if #count < #limit { #count += 1; } else { #(#inner)* }
                    )],
                    // `take` stops before pulling the item after the `n`th: the check opens
                    // each iteration.
                    Stage::Take(_) => {
                        top.push(parse_quote_spanned!(span=> if #count == #limit { break; }));
                        let mut stmts: Vec<syn::Stmt> =
                            vec![parse_quote_spanned!(span=> #count += 1;)];
                        stmts.extend(inner);
                        stmts
                    }
                    _ => {
                        before.push(parse_quote_spanned!(span=> assert!(#limit != 0, "assertion failed: step != 0");));
                        let keep = self.hidden("keep", span);
                        let mut stmts: Vec<syn::Stmt> = vec![
                            parse_quote_spanned!(span=> let #keep = #count % #limit == 0;),
                            parse_quote_spanned!(span=> #count += 1;),
                        ];
                        stmts.push(parse_quote_spanned!(span=> if #keep { #(#inner)* }));
                        stmts
                    }
                }
            }
        })
    }

    /// The pattern binding the base loop's items, and the item as an expression.
    fn base_item(&mut self, base: &Expr, span: Span) -> Base {
        match base {
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
            Expr::MethodCall(m)
                if m.method != "iter" && m.method != "iter_mut" && m.method != "into_iter" =>
            {
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
                Ok(match (pats.as_slice(), args.as_slice()) {
                    ([pat], [arg]) => parse_quote_spanned!(span=> { let #pat = #arg; #body }),
                    _ => parse_quote_spanned!(span=> { let (#(#pats),*) = (#(#args),*); #body }),
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
        for (arg, param) in args.iter().zip(&closure.expr.inputs) {
            let first_new = self.func.values.len();
            let val = self.expr(arg)?;
            // `f(1.5)` of `|u: f64|`: the argument has the parameter's type.
            if let (Pat::Type(t), Val::One(v)) = (strip(param), &val) {
                self.annotate(*v, &t.ty, first_new);
            }
            vals.push(val);
            names.push(self.hidden("arg", span));
        }
        let outer = std::mem::replace(&mut self.scopes, closure.scopes.clone());
        self.scopes.push(Default::default());
        for (name, val) in names.iter().zip(vals) {
            self.declare(name.to_string(), Binding::Val(val));
        }
        let args: Vec<Expr> = names
            .iter()
            .map(|n| parse_quote_spanned!(span=> #n))
            .collect();
        let body = self.inline(&Expr::Closure(closure.expr.clone()), args);
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

    /// The type `e` is expected to have, where the code says.
    fn expected_type(&self, e: &Expr) -> Option<syn::Type> {
        let key = super::expr_key(e);
        let found = self.expected.iter().rev().find(|(k, _)| *k == key);
        found.map(|(_, ty)| ty.clone())
    }

    /// A fresh name for a variable of the rewritten code, which no user code can see.
    fn hidden(&mut self, what: &str, span: Span) -> syn::Ident {
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
