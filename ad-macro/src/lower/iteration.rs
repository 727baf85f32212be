//! Loops over containers, lowered to index loops.
//!
//! `A`, `&A`, `&mut A`, `A.iter()` or `A.iter_mut()` (`.copied()`, `.cloned()` allowed after
//! `iter()`), then any number of
//! `.zip(B)` (`B`, `&B`, `B.iter()`, `B.iter_mut()`), then an optional `.enumerate()`, then
//! `.rev()` and `.step_by(k)`. The loop runs over `0..min(A.len(), B.len(), ..)` (reversed,
//! stepped); the pattern's names are bound to elements (read on use, written by `*v = ..`)
//! and to the index. Longer chains (`map`, `filter`, `sum`, ...) are rewritten by
//! `chains.rs` into a loop of this kind.
//!
//! Before: `for (i, (a, b)) in x.iter().zip(y).enumerate() { s += a * b * i as f64; }`
//! After:  `for i in 0..x.len().min(y.len()) { s += x[i] * y[i] * i as f64; }`

use syn::{Expr, Pat};

use super::control::Source;
use super::{Lower, R, Val};
use crate::ir::{Adaptor, Literal, OpKind, Range, Value};

/// The shape of what an iterator yields.
enum Item {
    /// An element of the container variable, and whether the loop may write it.
    Element(String, bool),
    /// `(index, item)` of `enumerate`.
    Enumerate(Box<Item>),
    /// `(a, b)` of `zip`.
    Zip(Box<Item>, Box<Item>),
}

/// A loop over containers: its range, the names its pattern binds, the containers it writes.
type Iteration = (Range, Vec<(String, Source)>, Vec<String>);

const SUGGESTION: &str = "iterate a container variable (`x.iter()`, `&x`, `x.iter_mut()`) or a range, or write an index loop, `for i in 0..x.len()`";

impl Lower<'_> {
    /// The range, the pattern's bindings and the written containers of a loop over
    /// containers; `None` if `iter` is not such a loop (it may still be a range).
    pub(super) fn iteration(&mut self, iter: &Expr, pat: &Pat) -> R<Option<Iteration>> {
        // `rev()` and `step_by(k)` last: they order the indices, the items stay the same.
        let mut inner = iter;
        let mut adapted = Vec::new();
        while let Expr::MethodCall(m) = inner
            && matches!(
                (m.method.to_string().as_str(), m.args.len()),
                ("rev", 0) | ("step_by", 1)
            )
        {
            adapted.push(m);
            inner = &m.receiver;
            while let Expr::Paren(p) = inner {
                inner = &p.expr;
            }
        }
        if !adapted.is_empty() && !self.iterates_container(inner) {
            return Ok(None);
        }
        let iter = inner;
        let Some(item) = self.item(iter)? else {
            return Ok(None);
        };
        let mut containers = Vec::new();
        containers_of(&item, &mut containers);
        let span = syn::spanned::Spanned::span(iter);
        let mut len: Option<Value> = None;
        for (name, _) in &containers {
            let array = self.container(name, iter)?;
            let this = self.count(array, span);
            len = Some(match len {
                None => this,
                Some(shorter) => {
                    let min = crate::prims::method("min", 2);
                    match min {
                        Some(min) => self.push(OpKind::Prim(min, vec![shorter, this]), span, 1)[0],
                        None => this,
                    }
                }
            });
        }
        let (Some(end), Val::One(start)) =
            (len, self.push1(OpKind::Lit(Literal::int(0, span)), span))
        else {
            return Err(self.error(iter, "a loop over containers needs at least one container"));
        };
        let mut bindings = Vec::new();
        self.bind_item(pat, &item, &mut bindings)?;
        let writes = containers
            .into_iter()
            .filter(|(_, m)| *m)
            .map(|(n, _)| n)
            .collect();
        let mut adaptors = Vec::new();
        for m in adapted.iter().rev() {
            adaptors.push(match m.args.first() {
                None => Adaptor::Rev,
                Some(step) => Adaptor::StepBy(self.value(step)?),
            });
        }
        let range = Range {
            start,
            end,
            inclusive: false,
            adaptors,
        };
        Ok(Some((range, bindings, writes)))
    }

    /// What `iter` yields, if it is a supported iterator over containers.
    fn item(&mut self, iter: &Expr) -> R<Option<Item>> {
        let m = match iter {
            Expr::MethodCall(m) => m,
            // `for v in x` and `for v in &x` (`&mut x`): the container's own iterator.
            Expr::Reference(r) => {
                if r.mutability.is_some() {
                    self.not_a_copy(&r.expr)?;
                }
                return Ok(self
                    .container_name(&r.expr)
                    .map(|name| Item::Element(name, r.mutability.is_some())));
            }
            Expr::Paren(p) => return self.item(&p.expr),
            other => {
                return Ok(self
                    .container_name(other)
                    .map(|name| Item::Element(name, false)));
            }
        };
        match (m.method.to_string().as_str(), m.args.len()) {
            ("enumerate", 0) => match self.item(&m.receiver)? {
                Some(inner) => Ok(Some(Item::Enumerate(Box::new(inner)))),
                None => Err(self.error(
                    &m.receiver,
                    format!(
                        "`enumerate` is supported on `iter()`, `iter_mut()` and `zip`: {SUGGESTION}"
                    ),
                )),
            },
            ("zip", 1) => {
                let Some(left) = self.item(&m.receiver)? else {
                    return Err(self.error(
                        &m.receiver,
                        format!("`zip` is supported on `iter()` and `iter_mut()`: {SUGGESTION}"),
                    ));
                };
                let right = self.zip_argument(&m.args[0])?;
                Ok(Some(Item::Zip(Box::new(left), Box::new(right))))
            }
            ("copied" | "cloned", 0) => match self.item(&m.receiver)? {
                Some(item @ Item::Element(_, false)) => Ok(Some(item)),
                _ => Err(self.error(
                    iter,
                    format!("`copied`/`cloned` are supported right after `iter()`: {SUGGESTION}"),
                )),
            },
            ("iter" | "iter_mut", 0) => {
                let mutable = m.method == "iter_mut";
                if mutable {
                    self.not_a_copy(&m.receiver)?;
                }
                if mutable && matches!(&*m.receiver, Expr::Field(_)) {
                    return Err(self.error(
                        &m.receiver,
                        "a field can be iterated with `iter()`, not written: parameter structs are read-only in #[reverse] functions",
                    ));
                }
                match self.container_name(&m.receiver) {
                    Some(name) => Ok(Some(Item::Element(name, mutable))),
                    None => Err(self.error(
                        &m.receiver,
                        format!("only containers held in variables can be iterated: {SUGGESTION}"),
                    )),
                }
            }
            (_, _) if self.iterates_container(iter) => Err(self.error(
                iter,
                format!("this iterator is not supported: {SUGGESTION}"),
            )),
            _ => Ok(None),
        }
    }

    /// `for w in x.windows(k)` (`chunks`, `chunks_exact`): a loop over the windows' starts,
    /// `w` bound to the sub-slice (a copy, `containers.rs`), as the slice method yields it.
    ///
    /// Before: `for w in x.windows(2) { s += w[1] - w[0]; }`
    /// After:  `for i in 0..(if x.len() >= 2 { x.len() - 2 + 1 } else { 0 }) { let w = &x[i..i + 2]; s += w[1] - w[0]; }`
    pub(super) fn windows_loop(&mut self, f: &syn::ExprForLoop) -> Option<Expr> {
        // `.enumerate()` after: the window's number, bound with the window.
        let (iter, numbered) = match super::unparen(&f.expr) {
            Expr::MethodCall(m) if m.method == "enumerate" && m.args.is_empty() => {
                match (super::unparen(&m.receiver), &*f.pat) {
                    (inner, Pat::Tuple(t)) if t.elems.len() == 2 => (inner, Some(&t.elems)),
                    _ => return None,
                }
            }
            other => (other, None),
        };
        let Expr::MethodCall(m) = iter else {
            return None;
        };
        let kind = m.method.to_string();
        if !matches!(kind.as_str(), "windows" | "chunks" | "chunks_exact") || m.args.len() != 1 {
            return None;
        }
        let receiver = match super::unparen(&m.receiver) {
            Expr::Reference(r) if r.mutability.is_none() => &*r.expr,
            other => other,
        };
        let name = self.container_name(receiver)?;
        let span = m.method.span();
        let x = super::ident(&name, span);
        let (n, i, size) = (self.hidden("n", span), self.hidden("i", span), &m.args[0]);
        let (range, start, end): (Expr, Expr, Expr) = match kind.as_str() {
            "windows" => (
                syn::parse_quote_spanned!(span=> 0..(if #x.len() >= #n { #x.len() - #n + 1 } else { 0 })),
                syn::parse_quote_spanned!(span=> #i),
                syn::parse_quote_spanned!(span=> #i + #n),
            ),
            "chunks" => (
                syn::parse_quote_spanned!(span=> (0..#x.len()).step_by(#n)),
                syn::parse_quote_spanned!(span=> #i),
                syn::parse_quote_spanned!(span=> (#i + #n).min(#x.len())),
            ),
            _ => (
                syn::parse_quote_spanned!(span=> 0..#x.len() / #n),
                syn::parse_quote_spanned!(span=> #i * #n),
                syn::parse_quote_spanned!(span=> #i * #n + #n),
            ),
        };
        let message = match kind.as_str() {
            "windows" => "window size must be non-zero",
            _ => "chunk size must be non-zero",
        };
        let (label, body) = (&f.label, &f.body);
        let bind: Vec<syn::Stmt> = match numbered {
            Some(parts) => {
                let (number_pat, pat) = (&parts[0], &parts[1]);
                let number: Expr = match kind.as_str() {
                    "chunks" => syn::parse_quote_spanned!(span=> #i / #n),
                    _ => syn::parse_quote_spanned!(span=> #i),
                };
                vec![
                    syn::parse_quote_spanned!(span=> let #number_pat = #number;),
                    syn::parse_quote_spanned!(span=> let #pat = &#x[#start..#end];),
                ]
            }
            None => {
                let pat = &f.pat;
                vec![syn::parse_quote_spanned!(span=> let #pat = &#x[#start..#end];)]
            }
        };
        Some(syn::parse_quote_spanned!(span=> {
            let #n: usize = #size;
            assert!(#n != 0, #message);
            #label for #i in #range {
                #(#bind)*
                #body
            }
        }))
    }

    /// An error if `e`, iterated to be written, is a sub-slice or a row: those are iterated
    /// as copies, which writes would not reach.
    fn not_a_copy(&mut self, e: &Expr) -> R<()> {
        let sub_slice =
            matches!(super::unparen(e), Expr::Index(i) if matches!(&*i.index, Expr::Range(_)));
        if sub_slice || self.is_row(e) {
            return Err(self.error(e, "writing through an iterator over a sub-slice or a row is not supported yet: write the elements by index (`for k in a..b { x[k] = .. }`)"));
        }
        Ok(())
    }

    /// The argument of `zip`: a container (`b`, `&b`, `&mut b`) or its iterator.
    fn zip_argument(&mut self, e: &Expr) -> R<Item> {
        if let Expr::Reference(r) = e
            && r.mutability.is_some()
        {
            self.not_a_copy(&r.expr)?;
        }
        // `y.iter().skip(k)` (`copied`, `cloned` too): the items of `y[min(k, len)..]`, a copy.
        if let Expr::MethodCall(m) = e
            && m.method == "skip"
            && m.args.len() == 1
            && let Some(y) = iterated_container(&m.receiver)
        {
            let (k, span) = (&m.args[0], m.method.span());
            let rest: Expr = syn::parse_quote_spanned!(span=> #y[(#k).min(#y.len())..]);
            return match self.container_name(&rest) {
                Some(name) => Ok(Item::Element(name, false)),
                None => Err(self.error(
                    e,
                    format!("`zip` takes a container or its iterator: {SUGGESTION}"),
                )),
            };
        }
        match e {
            Expr::Reference(r) => match self.container_name(&r.expr) {
                Some(name) => Ok(Item::Element(name, r.mutability.is_some())),
                None => Err(self.error(
                    e,
                    format!("`zip` takes a container or its iterator: {SUGGESTION}"),
                )),
            },
            Expr::Paren(p) => self.zip_argument(&p.expr),
            _ => match self.container_name(e) {
                Some(name) => Ok(Item::Element(name, false)),
                None => match self.item(e)? {
                    Some(item) => Ok(item),
                    None => Err(self.error(
                        e,
                        format!("`zip` takes a container or its iterator: {SUGGESTION}"),
                    )),
                },
            },
        }
    }

    /// The name of the container variable `e` is, if it is one. A container field of a
    /// parameter struct (`p.w`) is bound to a hidden name, as if by `let w = &p.w;`.
    pub(super) fn container_name(&mut self, e: &Expr) -> Option<String> {
        if let Expr::Field(f) = e {
            let base = self.expr(&f.base).ok()?;
            let Val::One(base) = base else { return None };
            if !self.is_struct(base) {
                return None;
            }
            let place = self.field_place(base, &f.member, super::op_span(e));
            if !self.is_container(place) {
                return None;
            }
            let name = format!("__ad_field{}", place.0);
            self.declare(name.clone(), super::Binding::Val(Val::One(place)));
            return Some(name);
        }
        // A sub-slice iterated (`&x[1..]`, `x[a..b].iter()`): a copy of it, as Rust's borrow
        // lets nothing write it meanwhile.
        if let Expr::Index(i) = e
            && let Expr::Range(range) = &*i.index
        {
            let span = super::op_span(e);
            let Ok(Val::One(copy)) = self.sub_slice(&i.expr, range, span) else {
                return None;
            };
            let name = self.hidden("sub", span).to_string();
            self.declare(name.clone(), super::Binding::Val(Val::One(copy)));
            return Some(name);
        }
        // A row (`p` of a loop over rows, `x[i]`) iterated: a copy of it, likewise.
        if self.is_row(e) {
            let span = super::op_span(e);
            let (container, row) = self.row_place(e).ok()??;
            let Ok(Val::One(copy)) = self.row_copy(&container, row, span) else {
                return None;
            };
            let name = self.hidden("row", span).to_string();
            self.declare(name.clone(), super::Binding::Val(Val::One(copy)));
            return Some(name);
        }
        let Expr::Path(p) = e else { return None };
        let name = p.path.get_ident()?.to_string();
        match self.lookup(&name)? {
            super::Binding::Val(Val::One(v)) => {
                let v = *v;
                self.is_container(v).then_some(name)
            }
            _ => None,
        }
    }

    /// Whether a method chain starts at a container variable (`x.iter().map(..)`).
    fn iterates_container(&mut self, e: &Expr) -> bool {
        match e {
            Expr::MethodCall(m) => self.iterates_container(&m.receiver),
            other => self.names_container(other),
        }
    }

    /// Whether [`Self::container_name`] names `e`, without lowering what it would (a
    /// probe, which the real lowering follows: an index lowered here would run twice).
    pub(super) fn names_container(&mut self, e: &Expr) -> bool {
        match super::unparen(e) {
            Expr::Field(_) => self.container_name(e).is_some(),
            Expr::Index(i) if matches!(&*i.index, Expr::Range(_)) => self.names_container(&i.expr),
            other if self.is_row(other) => true,
            Expr::Path(p) => match p.path.get_ident() {
                Some(ident) => match self.lookup(&ident.to_string()).cloned() {
                    Some(super::Binding::Val(Val::One(v))) => self.is_container(v),
                    _ => false,
                },
                None => false,
            },
            _ => false,
        }
    }

    /// Binds each name of `parts` (names or `_`) to its part `k`, `source(k)`.
    fn bind_part_names<'p>(
        &mut self,
        parts: impl Iterator<Item = &'p Pat>,
        source: impl Fn(usize) -> Source,
        message: &str,
        out: &mut Vec<(String, Source)>,
    ) -> R<()> {
        for (k, part) in parts.enumerate() {
            match part {
                Pat::Ident(p) if p.subpat.is_none() && p.by_ref.is_none() => {
                    out.push((p.ident.to_string(), source(k)));
                }
                Pat::Wild(_) => {}
                other => return Err(self.error(other, message)),
            }
        }
        Ok(())
    }

    /// Binds the names of `pat` to the parts of `item`.
    fn bind_item(&mut self, pat: &Pat, item: &Item, out: &mut Vec<(String, Source)>) -> R<()> {
        match (pat, item) {
            (Pat::Wild(_), _) => Ok(()),
            (Pat::Paren(p), _) => self.bind_item(&p.pat, item, out),
            // `&v` copies the element: the same thing, to the reverse pass.
            (Pat::Reference(r), Item::Element(..)) => self.bind_item(&r.pat, item, out),
            // `[a, b]` of a row: each name its part.
            (Pat::Slice(s), Item::Element(name, false)) => {
                let part = |k| Source::Part(name.clone(), k);
                let message = "the parts of a row are bound by names or `_`: `for [a, b] in x.iter()`";
                self.bind_part_names(s.elems.iter(), part, message, out)
            }
            // `mut v` is the item's own copy, which the body may change.
            (Pat::Ident(p), Item::Element(name, false))
                if p.subpat.is_none() && p.by_ref.is_none() && p.mutability.is_some() =>
            {
                out.push((p.ident.to_string(), Source::Copy(name.clone())));
                Ok(())
            }
            (Pat::Ident(p), Item::Element(name, _)) if p.subpat.is_none() && p.by_ref.is_none() => {
                out.push((p.ident.to_string(), Source::Element(name.clone())));
                Ok(())
            }
            (Pat::Tuple(t), Item::Enumerate(inner)) if t.elems.len() == 2 => {
                match &t.elems[0] {
                    Pat::Ident(p) if p.subpat.is_none() && p.by_ref.is_none() => {
                        out.push((p.ident.to_string(), Source::Index(None)));
                    }
                    Pat::Wild(_) => {}
                    other => return Err(self.error(other, "the index of `enumerate` must be a name or `_`")),
                }
                self.bind_item(&t.elems[1], inner, out)
            }
            (Pat::Tuple(t), Item::Zip(left, right)) if t.elems.len() == 2 => {
                self.bind_item(&t.elems[0], left, out)?;
                self.bind_item(&t.elems[1], right, out)
            }
            // `(i, j)` of a container of tuples: each name its field.
            (Pat::Tuple(t), Item::Element(name, false)) => {
                let field = |k| Source::Field(name.clone(), k);
                let message = "the fields of a tuple are bound by names or `_`: `for &(i, j) in pairs`";
                self.bind_part_names(t.elems.iter(), field, message, out)
            }
            (other, _) => Err(self.error(other, "this pattern does not match the iterator's items: bind elements by name, as `for (i, (a, b)) in x.iter().zip(y).enumerate()`")),
        }
    }
}

/// The container variable `e` iterates by reference: `y` of `y.iter()`, `y.iter().copied()`,
/// `&y`.
fn iterated_container(e: &Expr) -> Option<&Expr> {
    match super::unparen(e) {
        Expr::MethodCall(m)
            if m.args.is_empty() && (m.method == "copied" || m.method == "cloned") =>
        {
            iterated_container(&m.receiver)
        }
        Expr::MethodCall(m) if m.args.is_empty() && m.method == "iter" => {
            matches!(super::unparen(&m.receiver), Expr::Path(_)).then_some(&*m.receiver)
        }
        Expr::Reference(r) if r.mutability.is_none() => {
            matches!(super::unparen(&r.expr), Expr::Path(_)).then_some(&*r.expr)
        }
        _ => None,
    }
}

fn containers_of(item: &Item, out: &mut Vec<(String, bool)>) {
    match item {
        Item::Element(name, mutable) => out.push((name.clone(), *mutable)),
        Item::Enumerate(inner) => containers_of(inner, out),
        Item::Zip(a, b) => {
            containers_of(a, out);
            containers_of(b, out);
        }
    }
}
