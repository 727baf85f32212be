//! Calls of functions that are not primitives: other `#[reverse]` functions (or functions with
//! a custom rule), whose generated pullback the reverse sweep calls, and `stop_gradient`.
//!
//! Each argument keeps how it was written (`x`, `&x`, `&mut x`), since the callee's signature
//! is not visible. A container the callee may write (`&mut h`, or a `&mut` parameter passed on)
//! gets a new version as an extra result of the call, and its variable is rebound to it, as
//! for a store. Whether the returned value is a container is known from its uses: indexing it,
//! taking its length, iterating it or passing it on by reference makes it one.
//!
//! Before: `let y = layer(&w, x); layer_mut(&mut h, y);`
//! After:  `%y.3 = call layer(&%w.0, %x.1)`
//!         `%4, %h.5 = call layer_mut(&mut %h.2, %y.3)`

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::punctuated::Punctuated;
use syn::{Expr, Token};

use super::{Lower, R, Val};
use crate::errors::Reported;
use crate::ir::{Call, CallArg, Callee, FnPath, Nesting, OpKind, Pass, Through, Value};

impl Lower<'_> {
    /// `path(args)`.
    pub(super) fn path_call(
        &mut self,
        path: &syn::ExprPath,
        args: &Punctuated<Expr, Token![,]>,
        span: Span,
    ) -> R<Val> {
        let through = self.through(path, args.len());
        self.call(Callee::Path(fn_path(path)), through, None, args, span)
    }

    /// `path(args)`, or `receiver.method(args)` of a parameter struct.
    pub(super) fn call(
        &mut self,
        callee: Callee,
        through: Through,
        receiver: Option<Value>,
        args: &Punctuated<Expr, Token![,]>,
        span: Span,
    ) -> R<Val> {
        // Lower every argument even after an error, to report all errors at once.
        let writebacks = self.row_writebacks.len();
        let lowered: Vec<R<(CallArg, Option<String>)>> =
            args.iter().map(|arg| self.call_arg(arg)).collect();
        let mut lowered = lowered.into_iter().collect::<R<Vec<_>>>()?;
        // The receiver, a parameter struct, is passed by reference (its adjoint is lent).
        if let Some(value) = receiver {
            let arg = CallArg {
                value,
                pass: Pass::Ref,
                entry: None,
                rows: None,
            };
            lowered.insert(0, (arg, None));
        }
        // `stop_gradient(x)` of a container of rows gives it back as it is held, flat.
        let stopped_rows = match (through, &mut lowered[..]) {
            (Through::Stopped, [(arg, None)]) if arg.rows.is_some() => {
                arg.rows = None;
                Some((self.row(arg.value), !self.is_owned(arg.value)))
            }
            _ => None,
        };
        let written: Vec<(Value, String)> = lowered
            .iter()
            .filter_map(|(arg, name)| name.clone().map(|name| (arg.value, name)))
            .collect();
        let call = Call {
            callee,
            args: lowered.into_iter().map(|(arg, _)| arg).collect(),
            through,
            returned: 1,
            passed_again: false,
            rows_returned: false,
        };
        let results = self.push(OpKind::Call(Box::new(call)), span, 1 + written.len());
        self.maybe_containers.insert(results[0]);
        if let Some((Some(row), borrowed)) = stopped_rows {
            self.func.values[results[0].index()].storage = Some(results[0]);
            self.rows.insert(results[0], row);
            if borrowed {
                self.stopped_borrows.insert(results[0]);
            }
        }
        for (&version, (container, name)) in results[1..].iter().zip(written) {
            self.inherit_storage(version, container);
            self.reassign(&name, Val::One(version));
        }
        // Rows and sub-slices lent as `&mut x[i]`, `&mut x[a..b]` went as copies: the copies'
        // new contents are written back.
        for (copy, container, lent) in self.row_writebacks.split_off(writebacks) {
            let at: Expr = syn::parse_quote!(x);
            match lent {
                Lent::Row(row) => {
                    let copy = self.container(&copy, &at)?;
                    self.row_write_back(&container, row, copy, span)?;
                }
                Lent::From(start) => {
                    let (x, copy) = (super::ident(&container, span), super::ident(&copy, span));
                    let k = self.hidden("k", span);
                    let back: Expr = syn::parse_quote_spanned!(span=>
                        for #k in 0..#copy.len() { #x[#start + #k] = #copy[#k]; }
                    );
                    self.expr(&back)?;
                }
            }
        }
        Ok(Val::One(results[0]))
    }

    /// One argument, and the variable to rebind if the callee may write it.
    fn call_arg(&mut self, e: &Expr) -> R<(CallArg, Option<String>)> {
        // `reference`: `Some(mutable)` for `&x` and `&mut x`, `None` for `x`.
        let (inner, reference) = match e {
            Expr::Reference(r) => (&*r.expr, Some(r.mutability.is_some())),
            Expr::Paren(p) => return self.call_arg(&p.expr),
            other => (other, None),
        };
        // The row of a loop over rows (`p` of `for p in x.iter()`) is a reference in Rust.
        let reference = match reference {
            None if matches!(inner, Expr::Path(_)) && self.is_row(inner) => Some(
                self.element(inner)
                    .is_some_and(|_| self.writable_element(inner)),
            ),
            // A name bound to a borrow (`let t = &y;`, a window) is a reference too.
            None if variable_name(inner).is_some_and(|n| self.is_borrowed(&n)) => Some(false),
            other => other,
        };
        // A sub-slice lent to be written (`&mut x[a..b]`): a copy, written back after the call.
        if reference == Some(true)
            && let Expr::Index(i) = inner
            && let Expr::Range(range) = &*i.index
        {
            let span = super::op_span(e);
            let Some(container) = variable_name(&i.expr) else {
                return Err(self.error(e, "a sub-slice lent to be written (`&mut x[a..b]`) must be of a container variable"));
            };
            let start = self.hidden("from", span);
            let first: Expr = match &range.start {
                Some(a) => (**a).clone(),
                None => syn::parse_quote_spanned!(span=> 0usize),
            };
            let first = self.value(&first)?;
            self.declare(start.to_string(), super::Binding::Val(Val::One(first)));
            let mut from_start = range.clone();
            from_start.start = Some(Box::new(syn::parse_quote_spanned!(span=> #start)));
            let copy = self.sub_slice(&i.expr, &from_start, span)?;
            return self.lend_copy(copy, container, Lent::From(start), span);
        }
        // A row lent to be written (`&mut x[i]`): a copy, written back after the call.
        if reference == Some(true) && self.is_row(inner) {
            let span = super::op_span(e);
            let Some((container, row)) = self.row_place(inner)? else {
                return Err(Reported);
            };
            let copy = self.row_copy(&container, row, span)?;
            return self.lend_copy(copy, container, Lent::Row(row), span);
        }
        let value = self.value(inner)?;
        // Passed by reference, the result of another call is a container (a scalar passed
        // by reference could not be differentiated anyway); passed by value, a float. A
        // parameter struct, or a field of one by reference, is passed as written.
        let place = self.func.info(value).place.is_some();
        if self.is_struct(value) && (reference.is_some() || !place) {
            let pass = match reference {
                Some(_) => Pass::Ref,
                None => Pass::Value,
            };
            return Ok((arg_of(value, pass), None));
        }
        let container = match reference {
            Some(_) => self.is_container(value),
            None => self.func.storage(value).is_some(),
        };
        if container {
            self.container_call_arg(inner, value, reference)
        } else {
            let value = self.scalar_call_arg(e, inner, value, reference)?;
            Ok((arg_of(value, Pass::Value), None))
        }
    }

    /// The copy lent to a call in place of a row or sub-slice of `container`, bound to a
    /// hidden name that the call rebinds, and written back where `lent` says after it.
    fn lend_copy(
        &mut self,
        copy: Val,
        container: String,
        lent: Lent,
        span: Span,
    ) -> R<(CallArg, Option<String>)> {
        let Val::One(copy) = copy else {
            return Err(Reported);
        };
        let name = self.hidden("lent", span).to_string();
        self.declare(name.clone(), super::Binding::Val(Val::One(copy)));
        self.row_writebacks.push((name.clone(), container, lent));
        Ok((arg_of(copy, Pass::Mut), Some(name)))
    }

    /// What a call receives for a scalar argument `value` (written `e`, `inner` without its
    /// `&`): the value itself, or a reference to it made in the IR, so that the emitted call
    /// passes it as the user wrote it.
    fn scalar_call_arg(
        &mut self,
        e: &Expr,
        inner: &Expr,
        value: Value,
        reference: Option<bool>,
    ) -> R<Value> {
        let span = super::op_span(e);
        let value = match reference {
            Some(true) => {
                let lent = self.lend_mut(inner, value, span)?;
                self.push(
                    OpKind::Ref {
                        mutable: true,
                        value: lent,
                    },
                    span,
                    1,
                )[0]
            }
            Some(false) => self.push(
                OpKind::Ref {
                    mutable: false,
                    value,
                },
                span,
                1,
            )[0],
            None => value,
        };
        Ok(value)
    }

    /// `&mut v` of a scalar variable: the callee changes the variable, so it gets a new
    /// value, the one lent (`fresh`, see `Lower::method`), and the old one stays as it was.
    fn lend_mut(&mut self, inner: &Expr, value: Value, span: Span) -> R<Value> {
        match variable_name(inner) {
            Some(name)
                if matches!(
                    self.lookup(&name),
                    Some(super::Binding::Val(Val::One(_)))
                ) =>
            {
                let fresh = self.push(OpKind::Fresh(value), span, 1)[0];
                self.reassign(&name, Val::One(fresh));
                Ok(fresh)
            }
            _ => Err(self.error(
                inner,
                "a `&mut` argument must be a variable, so that #[reverse] sees its new value: lend `&mut v`",
            )),
        }
    }

    /// A container argument `value` (written `inner`, without its `&`): how it is passed,
    /// and, if the callee may write it, the variable to rebind to its new version, which
    /// must then be a variable.
    fn container_call_arg(
        &mut self,
        inner: &Expr,
        value: Value,
        reference: Option<bool>,
    ) -> R<(CallArg, Option<String>)> {
        let pass = match reference {
            Some(false) => Pass::Ref,
            Some(true) => Pass::Mut,
            None if self.is_mut_param(value) => Pass::Reborrow,
            None if self.is_owned(value) => Pass::Moved,
            None => Pass::Value,
        };
        let rows = match self.row(value) {
            None => None,
            Some(super::rows::Row::Array { .. }) => Some(Nesting::Arrays),
            Some(super::rows::Row::Vec { offsets }) if !pass.writes() => {
                Some(Nesting::Vecs(offsets))
            }
            Some(super::rows::Row::Vec { .. }) => {
                return Err(self.error(inner, "a container of `Vec`s is lent to functions to read, not to write (its rows could change length): pass `&x`, and return what the callee computes"));
            }
            Some(super::rows::Row::Uniform { .. }) => {
                return Err(self.error(inner, "a container made by `vec![vec![..; m]; n]` is not passed to functions whole yet: pass its rows (`&g[i]`), or hold it flat (`vec![0.0; n * m]`, indexed `g[i * m + j]`)"));
            }
        };
        let arg = CallArg {
            rows,
            ..arg_of(value, pass)
        };
        if !pass.writes() {
            return Ok((arg, None));
        }
        match variable_name(inner) {
            Some(name) => Ok((arg, Some(name))),
            None => Err(self.error(
                inner,
                "a container a called function may write must be a variable: pass `&mut h`",
            )),
        }
    }

    /// The elements of the tuple `v` returned by the call just lowered, if it was: the call
    /// then returns them as results of their own (`let (a, b) = g(x);`).
    pub(super) fn returned_tuple(&mut self, v: Value, arity: usize) -> Option<Vec<Value>> {
        let op = self.ops.last()?;
        let OpKind::Call(call) = &op.kind else {
            return None;
        };
        if arity < 2
            || call.returned != 1
            || op.results.first() != Some(&v)
            || !self.maybe_containers.contains(&v)
        {
            return None;
        }
        let elements: Vec<Value> = (0..arity).map(|_| self.func.new_value(None)).collect();
        let op = self.ops.last_mut()?;
        if let OpKind::Call(call) = &mut op.kind {
            call.returned = arity;
        }
        op.results.splice(0..1, elements.iter().copied());
        self.maybe_containers.remove(&v);
        Some(elements)
    }

    /// Whether `v` is a container; the result of a call becomes one here (its uses say so).
    pub(super) fn is_container(&mut self, v: Value) -> bool {
        if self.func.storage(v).is_some() {
            return true;
        }
        if self.maybe_containers.contains(&v) {
            self.func.values[v.index()].storage = Some(v);
            return true;
        }
        false
    }

    /// Whether `v` is a version of a container found by its uses (a call's result, whose
    /// type the lowering does not see): [`Self::is_container`] keeps it among the maybes.
    pub(super) fn found_by_use(&self, v: Value) -> bool {
        self.func
            .storage(v)
            .is_some_and(|root| self.maybe_containers.contains(&root))
    }

    /// The parameter whose storage `v` is a version of, if any.
    fn param_of(&self, v: Value) -> Option<&crate::signature::Param> {
        let root = self.func.storage(v)?;
        let position = self.func.params.iter().position(|p| p.value == root)?;
        self.sig.params.get(position)
    }

    /// A version of a `&mut` container parameter.
    pub(super) fn is_mut_param(&self, v: Value) -> bool {
        self.param_of(v)
            .is_some_and(|p| matches!(&p.ty, syn::Type::Reference(r) if r.mutability.is_some()))
    }

    /// A version of a container the function owns: a local one, or a parameter taken by value.
    fn is_owned(&self, v: Value) -> bool {
        if self.stopped_borrows.contains(&v) {
            return false;
        }
        match self.param_of(v) {
            Some(p) => !matches!(p.ty, syn::Type::Reference(_)),
            None => true,
        }
    }
}

/// Where a copy lent to a call (`&mut x[i]`, `&mut x[a..b]`) is written back: the row, or
/// the sub-slice from the start held by a hidden variable.
pub(super) enum Lent {
    Row(Value),
    From(syn::Ident),
}

fn arg_of(value: Value, pass: Pass) -> CallArg {
    CallArg {
        value,
        pass,
        entry: None,
        rows: None,
    }
}

/// The variable `e` names, if it is one (the variable a written argument rebinds).
pub(super) fn variable_name(e: &Expr) -> Option<String> {
    match e {
        Expr::Path(p) if p.qself.is_none() => p.path.get_ident().map(ToString::to_string),
        _ => None,
    }
}

impl Lower<'_> {
    /// How the reverse sweep treats a call of `path` with `arity` arguments.
    fn through(&self, path: &syn::ExprPath, arity: usize) -> Through {
        let stop = is_stop_gradient(path) && arity == 1;
        let std = path.path.segments.first().is_some_and(|s| {
            ["std", "core", "alloc", "num_traits"].contains(&s.ident.to_string().as_str())
        });
        if stop {
            Through::Stopped
        } else if self.sig.is_float_constructor(path) {
            Through::Constructor
        } else if std {
            Through::Std
        } else {
            Through::Pullback
        }
    }
}

/// `stop_gradient(x)`, by any path (`ad_runtime::stop_gradient`).
pub fn is_stop_gradient(path: &syn::ExprPath) -> bool {
    path.qself.is_none()
        && path
            .path
            .segments
            .last()
            .is_some_and(|s| s.ident == "stop_gradient" && s.arguments.is_none())
}

/// `path` split where a pullback's name is made ([`FnPath`]).
fn fn_path(path: &syn::ExprPath) -> FnPath {
    let mut prefix = path.clone();
    // `pop` leaves the `::` before the last segment, which ends the prefix.
    let last = prefix.path.segments.pop();
    let (name, generics) = match last {
        Some(last) => (last.ident, last.arguments.to_token_stream()),
        // A path has at least one segment.
        None => (syn::Ident::new("_", Span::call_site()), TokenStream::new()),
    };
    FnPath {
        prefix: prefix.to_token_stream(),
        name,
        generics,
    }
}
