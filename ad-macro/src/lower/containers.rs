//! Containers: slices, `Vec`s and arrays.
//!
//! A container is a *storage* (a parameter, or what `vec![..]`, `[..]`, `Vec::new()` made);
//! every write makes a new SSA value, a *version* of the same storage, and the variable is
//! rebound to it, exactly as for a scalar assignment. Emitted code mutates the one storage in
//! place; the versions let analysis and the reverse pass see what was read before and after
//! each write.
//!
//! Before: `let mut h = vec![0.0; n]; h[i] = x * 2.0; h[i] += y;`
//! After:  `%h.3 = vec [%2; %n.1]; %h.5 = store %h.3, %i, %4;`
//!         `%6 = index %h.5, %i; %7 = add %6, %y; %h.8 = store %h.5, %i, %7`

use proc_macro2::Span;
use syn::punctuated::Punctuated;
use syn::{Expr, Token};

use super::{Lower, R, Val};
use crate::ir::{ArrayInit, Len, OpKind, Value};

impl Lower<'_> {
    /// Pushes an op whose one result is a new version of `array` (or, for `array: None`, a
    /// new storage).
    fn version(&mut self, kind: OpKind, span: Span, array: Option<Value>) -> Value {
        let v = self.push(kind, span, 1)[0];
        let storage = array.and_then(|a| self.func.storage(a)).unwrap_or(v);
        self.func.values[v.index()].storage = Some(storage);
        v
    }

    /// Makes `new` a version of the storage `like` belongs to, if any.
    pub(super) fn inherit_storage(&mut self, new: Value, like: Value) {
        let storage = self.func.storage(like);
        self.func.values[new.index()].storage = storage;
    }

    /// `x[i]`.
    pub(super) fn index(&mut self, e: &syn::ExprIndex, span: Span) -> R<Val> {
        if let Expr::Range(range) = &*e.index {
            return Err(self.error(
                range,
                "sub-slices (`x[a..b]`) are not supported yet: index single elements in a loop",
            ));
        }
        let base = self.value(&e.expr);
        let index = self.value(&e.index);
        let (base, index) = (base?, index?);
        self.is_container(base);
        Ok(self.push1(OpKind::Index(base, index), span))
    }

    /// The container variable, its current version and the lowered index of `x[i]` as a
    /// place to write.
    pub(super) fn place(&mut self, e: &syn::ExprIndex) -> R<(String, Value, Value)> {
        let name = match &*e.expr {
            Expr::Path(p) if p.qself.is_none() => p.path.get_ident().map(ToString::to_string),
            _ => None,
        };
        let Some(name) = name else {
            return Err(self.error(&e.expr, "only elements of a container variable can be written (`x[i] = ..`); nested containers are not supported"));
        };
        let array = self.value(&e.expr)?;
        if !self.is_container(array) {
            return Err(self.error(&e.expr, format!("`{name}` is not a slice, `Vec` or array")));
        }
        if let Expr::Range(range) = &*e.index {
            return Err(self.error(
                range,
                "writing a sub-slice is not supported yet: write single elements in a loop",
            ));
        }
        let index = self.value(&e.index)?;
        Ok((name, array, index))
    }

    /// `x[i] = value` (`x` is rebound to the new version).
    pub(super) fn store(
        &mut self,
        name: &str,
        array: Value,
        index: Value,
        value: Val,
        span: Span,
    ) -> R<()> {
        let Val::One(value) = value else {
            return Err(self.errors.push(syn::Error::new(
                span,
                "an element must be assigned a single value",
            )));
        };
        let version = self.version(
            OpKind::Store {
                array,
                index,
                value,
            },
            span,
            Some(array),
        );
        self.reassign(name, Val::One(version));
        Ok(())
    }

    /// `vec![v; n]` and `vec![a, b, ..]`; `None` for other macros.
    pub(super) fn vec_macro(&mut self, mac: &syn::Macro, span: Span) -> Option<R<Val>> {
        let name = mac.path.segments.last()?.ident.to_string();
        if name != "vec" {
            return None;
        }
        let repeat = mac.parse_body_with(|input: syn::parse::ParseStream| {
            let value: Expr = input.parse()?;
            input.parse::<Token![;]>()?;
            let len: Expr = input.parse()?;
            Ok((value, len))
        });
        Some(match repeat {
            Ok((value, len)) => {
                let (value, len) = (self.value(&value), self.value(&len));
                match (value, len) {
                    (Ok(value), Ok(len)) => {
                        let init = ArrayInit::Repeat {
                            value,
                            len: Len::Value(len),
                            vec: true,
                        };
                        Ok(Val::One(self.version(OpKind::Array(init), span, None)))
                    }
                    (Err(e), _) | (_, Err(e)) => Err(e),
                }
            }
            Err(_) => match mac.parse_body_with(Punctuated::<Expr, Token![,]>::parse_terminated) {
                Ok(elems) => self.values(&elems).map(|values| {
                    let init = ArrayInit::List { values, vec: true };
                    Val::One(self.version(OpKind::Array(init), span, None))
                }),
                Err(error) => Err(self.errors.push(error)),
            },
        })
    }

    /// `[v; N]`.
    pub(super) fn repeat(&mut self, e: &syn::ExprRepeat, span: Span) -> R<Val> {
        let value = self.value(&e.expr)?;
        let init = ArrayInit::Repeat {
            value,
            len: Len::Const(e.len.clone()),
            vec: false,
        };
        Ok(Val::One(self.version(OpKind::Array(init), span, None)))
    }

    /// `[a, b, ..]`.
    pub(super) fn array_literal(&mut self, e: &syn::ExprArray, span: Span) -> R<Val> {
        let values = self.values(&e.elems)?;
        let init = ArrayInit::List { values, vec: false };
        Ok(Val::One(self.version(OpKind::Array(init), span, None)))
    }

    /// `Vec::new()`, `Vec::with_capacity(n)`; `None` for other calls.
    pub(super) fn vec_constructor(
        &mut self,
        func: &syn::ExprPath,
        args: &Punctuated<Expr, Token![,]>,
        span: Span,
    ) -> Option<R<Val>> {
        let segments: Vec<String> = func
            .path
            .segments
            .iter()
            .map(|s| s.ident.to_string())
            .collect();
        let owner_is_vec = segments.len() >= 2 && segments[segments.len() - 2] == "Vec";
        let capacity = match (
            owner_is_vec,
            segments.last().map(String::as_str),
            args.len(),
        ) {
            (true, Some("new"), 0) => None,
            (true, Some("with_capacity"), 1) => Some(self.value(&args[0])),
            _ => return None,
        };
        let capacity = match capacity.transpose() {
            Ok(capacity) => capacity,
            Err(e) => return Some(Err(e)),
        };
        let init = ArrayInit::Empty { capacity };
        Some(Ok(Val::One(self.version(OpKind::Array(init), span, None))))
    }

    /// `linalg::name(..)` of `ad_runtime::linalg`; `None` for other calls.
    pub(super) fn linalg_call(
        &mut self,
        func: &syn::ExprPath,
        args: &Punctuated<Expr, Token![,]>,
        span: Span,
    ) -> Option<R<Val>> {
        let segments: Vec<&syn::PathSegment> = func.path.segments.iter().collect();
        let [.., module, name] = segments.as_slice() else {
            return None;
        };
        if module.ident != "linalg" {
            return None;
        }
        let prim = crate::prims::function(&name.ident.to_string(), args.len())?;
        let mut operands = Vec::new();
        let mut failed = None;
        for (arg, kind) in args.iter().zip(prim.operands) {
            let value = match kind {
                crate::prims::Operand::Array => self.container_arg(arg, &name.ident),
                _ => self.value(arg),
            };
            match value {
                Ok(v) => operands.push(v),
                Err(e) => failed = Some(e),
            }
        }
        if let Some(e) = failed {
            return Some(Err(e));
        }
        let kind = OpKind::Prim(prim, operands);
        Some(Ok(Val::One(match prim.array_result {
            true => self.version(kind, span, None),
            false => self.push(kind, span, 1)[0],
        })))
    }

    /// A container argument: `x`, `&x` or `&mut x` of a container.
    fn container_arg(&mut self, arg: &Expr, function: &proc_macro2::Ident) -> R<Value> {
        let inner = match arg {
            Expr::Reference(r) => &*r.expr,
            other => other,
        };
        let value = self.value(inner)?;
        if !self.is_container(value) {
            return Err(self.error(arg, format!("`linalg::{function}` takes containers here: pass a slice, `Vec` or array, as `&x`")));
        }
        Ok(value)
    }

    /// `x.iter().sum()` (`sum::<F>()` too) of a container; `None` for other methods.
    pub(super) fn iter_sum(&mut self, m: &syn::ExprMethodCall, span: Span) -> Option<R<Val>> {
        if m.method != "sum" || !m.args.is_empty() {
            return None;
        }
        let Expr::MethodCall(iter) = &*m.receiver else {
            return None;
        };
        if iter.method != "iter" || !iter.args.is_empty() {
            return None;
        }
        let array = match self.value(&iter.receiver) {
            Ok(v) if self.is_container(v) => v,
            Ok(_) => return None,
            Err(e) => return Some(Err(e)),
        };
        let sum = crate::prims::function("sum", 1)?;
        Some(Ok(self.push1(OpKind::Prim(sum, vec![array]), span)))
    }

    /// `x.push(v)`, `x.len()`, `x.is_empty()` on a container; `None` for other methods.
    pub(super) fn container_method(
        &mut self,
        m: &syn::ExprMethodCall,
        recv: Value,
        args: &[Value],
        span: Span,
    ) -> Option<R<Val>> {
        let method = m.method.to_string();
        if !matches!(method.as_str(), "len" | "is_empty" | "push") || !self.is_container(recv) {
            return None;
        }
        match (m.method.to_string().as_str(), args) {
            ("len", []) => Some(Ok(self.push1(OpKind::Len(recv), span))),
            ("is_empty", []) => {
                let len = self.push(OpKind::Len(recv), span, 1)[0];
                let zero = self.push1(OpKind::Lit(syn::parse_quote!(0)), span);
                let Val::One(zero) = zero else { return None };
                let eq = syn::BinOp::Eq(Token![==](span));
                Some(Ok(self.push1(OpKind::Binary(eq, len, zero), span)))
            }
            ("push", [value]) => {
                let name = match &*m.receiver {
                    Expr::Path(p) if p.qself.is_none() => {
                        p.path.get_ident().map(ToString::to_string)
                    }
                    _ => None,
                };
                let Some(name) = name else {
                    return Some(Err(self.error(
                        &m.receiver,
                        "`push` onto a container variable: `v.push(x)`",
                    )));
                };
                let version = self.version(
                    OpKind::Append {
                        array: recv,
                        value: *value,
                    },
                    span,
                    Some(recv),
                );
                self.reassign(&name, Val::One(version));
                Some(Ok(Val::Unit))
            }
            _ => None,
        }
    }
}
