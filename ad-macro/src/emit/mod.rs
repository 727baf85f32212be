//! Emission: the adjoint program → Rust tokens. Cannot fail: everything that can be wrong was
//! found by the earlier stages.
//!
//! Each op becomes one `let` (or one statement for an op without results), spanned at the
//! user's syntax it came from, so a type error in generated code points at the user's
//! expression. Unnamed literals, constant paths, field reads and index reads (the user wrote
//! them as sub-expressions) are written inline at their uses, as the user wrote them.
//!
//! Before: `%y.2 = sin %s.1` and `%ds.4 = pullback sin %s.1, %y.2, %seed.3`
//! After:  `let __ad_y_2 = __ad_s_1.sin();` and
//!         `let __ad_ds_4 = ::ad_runtime::rules::sin(__ad_s_1, __ad_y_2, seed);`

mod body;
mod forward;

use std::collections::HashMap;

use proc_macro2::{Delimiter, Group, Ident, Span, TokenStream};
use quote::{ToTokens, format_ident, quote};
use syn::{FnArg, Pat};

use crate::analysis::nonfinite::Site;
use crate::forward::Unsupported;
use crate::ir::{Func, Value};
use crate::signature::{Output, Rows, Shape, Signature};
use body::Body;

/// What the emitted functions need besides the adjoint program.
pub struct Context<'a> {
    pub item: &'a syn::ItemFn,
    pub sig: &'a Signature,
    pub krate: &'a syn::Path,
    /// Items declared inside the user's body.
    pub items: &'a [syn::Item],
    /// With `#[reverse(debug_nonfinite)]`: the values of the adjoint program to check
    /// (`analysis::nonfinite`), and the function's name for the report.
    pub checks: Option<(&'a HashMap<Value, Site>, &'a str)>,
}

/// The generated functions for the adjoint program `adjoint`:
///
/// - `f_vjp(args.., seed, seed_<out>..) -> (output, gradients)`, always;
/// - `f_grad(args..) -> (output, gradients)` for a float output;
/// - `f_grad_into(args.., d<x>: &mut [F]..) -> output` (or `(output, scalar gradients)`) for
///   a float output and container parameters: their gradients go into caller buffers;
/// - `f_jacobian(args..) -> (output, rows)` for any other output.
///
/// `fused` (loops fused with their reverses, `reverse::fuse`), when given, is the program of
/// the functions that run both sweeps in one call: `f_vjp`, `f_grad` and `f_grad_into`.
pub fn functions(cx: &Context, adjoint: &Func, fused: Option<&Func>) -> TokenStream {
    let generated = Generated::new(cx, adjoint, cx.checks);
    let one_call = fused.map(|fused| Generated::new(cx, fused, None));
    let one_call = one_call.as_ref().unwrap_or(&generated);
    let mut out = one_call.vjp();
    out.extend(generated.pullback());
    if cx.sig.scalar_output() {
        out.extend(one_call.grad());
        if cx.sig.active().any(|p| p.shape.has_buffer()) {
            out.extend(one_call.grad_into());
        }
    } else {
        out.extend(generated.jacobian());
    }
    out
}

/// The forward-mode functions: `f_jvp` from `jvp`, the tangent program of the primal, and
/// for a scalar output `f_hvp` and `f_hessian` from `hvp`, that of the adjoint program.
///
/// Where a program has none (`Unsupported`), stand-ins whose calls are errors saying why.
pub fn forward_functions(
    cx: &Context,
    jvp: Result<&Func, &Unsupported>,
    hvp: Result<Option<&Func>, &Unsupported>,
) -> TokenStream {
    let mut out = match jvp {
        Ok(jvp) => Generated::new(cx, jvp, None).jvp(),
        Err(why) => forward::unsupported(cx, &["jvp"], why),
    };
    match hvp {
        Ok(Some(hvp)) => {
            let generated = Generated::new(cx, hvp, None);
            out.extend(generated.hvp());
            match generated.hessian() {
                Some(hessian) => out.extend(hessian),
                None => {
                    let why = Unsupported {
                        span: cx.item.sig.ident.span(),
                        why: "has_no_hessian_rows_of_one_type",
                    };
                    out.extend(forward::unsupported(cx, &["hessian"], &why));
                }
            }
        }
        Ok(None) => {}
        Err(why) if cx.sig.scalar_output() => {
            out.extend(forward::unsupported(cx, &["hvp", "hessian"], why));
        }
        Err(_) => {}
    }
    out
}

/// What the generated functions share.
struct Generated<'a> {
    cx: &'a Context<'a>,
    adjoint: &'a Func,
    body: Body<'a>,
    /// The statement of each op of the adjoint program's body, as `f_vjp`, `f_grad` and
    /// `f_jacobian` run them: written once and reused by every generated function whose body
    /// writes the op the same way, as emitting is most of the macro's time.
    ops: Vec<TokenStream>,
    /// The adjoint program's parameters after the primal's: the cotangents.
    seeds: &'a [crate::ir::Param],
    /// The container parameters taken by value that the function changes: their reverse
    /// sweep works in a buffer of its own, added into the caller's at the end.
    changed_copies: Vec<bool>,
}

impl<'a> Generated<'a> {
    /// With `checks`, the values of `adjoint` that `#[reverse(debug_nonfinite)]` checks.
    fn new(
        cx: &'a Context<'a>,
        adjoint: &'a Func,
        checks: Option<(&'a HashMap<Value, Site>, &'a str)>,
    ) -> Generated<'a> {
        let primal_params = cx.sig.params.len();
        let body = Body::new(adjoint, cx.krate, checks);
        let changed_copies = cx
            .sig
            .params
            .iter()
            .zip(&adjoint.params)
            .map(|(param, p)| {
                param.shape.is_container() && !param.is_output() && body.written.contains(&p.value)
            })
            .collect();
        Generated {
            cx,
            adjoint,
            ops: adjoint.body.ops.iter().map(|op| body.op(op)).collect(),
            body,
            seeds: &adjoint.params[primal_params..],
            changed_copies,
        }
    }

    /// The statements of the adjoint body's ops in `range` as `body` writes them.
    fn statements(&self, body: &Body, range: std::ops::Range<usize>) -> TokenStream {
        let ops = &self.adjoint.body.ops[range.clone()];
        ops.iter()
            .zip(&self.ops[range])
            .map(|(op, written)| match body.writes_differently(op) {
                true => body.op(op),
                false => written.clone(),
            })
            .collect()
    }

    /// The adjoint body's forward and reverse sweeps as `body` writes them.
    fn sweeps(&self, body: &Body) -> (TokenStream, TokenStream) {
        let ops = self.adjoint.body.ops.len();
        let start = self.adjoint.reverse_start.min(ops);
        (
            self.statements(body, 0..start),
            self.statements(body, start..ops),
        )
    }

    /// `fn name<generics>(params) -> ret where .. { items; stashes; body }`, documented
    /// (hidden if `doc` is empty).
    fn function(
        &self,
        suffix: &str,
        doc: &str,
        params: &[TokenStream],
        ret: TokenStream,
        body: TokenStream,
    ) -> TokenStream {
        let cx = self.cx;
        let (vis, generics) = (&cx.item.vis, &cx.item.sig.generics);
        let where_clause = &generics.where_clause;
        let name = format_ident!("{}_{}", cx.item.sig.ident, suffix);
        let mut attrs = kept_attributes(cx.item);
        if doc.is_empty() {
            attrs.retain(|a| !a.path().is_ident("doc"));
        }
        // A blank line between the generated summary and the user's documentation, if any.
        let separator = attrs
            .iter()
            .any(|a| a.path().is_ident("doc"))
            .then(|| quote!(#[doc = ""]));
        let doc = match doc.is_empty() {
            true => quote! {
                #[doc(hidden)]
                #[allow(unused_variables, reason = "a pullback does not return the value, which may be all a parameter is used for")]
            },
            false => quote!(#[doc = #doc]),
        };
        // The body is moved into its braces rather than interpolated, which would copy every
        // token of it.
        let mut inner: TokenStream = cx.items.iter().map(ToTokens::to_token_stream).collect();
        inner.extend(flattened_params(cx, self.adjoint));
        inner.extend(self.body.stashes());
        inner.extend(body);
        let body = Group::new(Delimiter::Brace, inner);
        quote! {
            #doc
            #separator
            #(#attrs)*
            #[must_use]
            #[allow(dead_code, reason = "generated next to the user's function, which may not use it")]
            #[allow(clippy::type_complexity, reason = "the gradient is a tuple of the parameters' types")]
            #[allow(unused_variables, reason = "a parameter the output does not depend on is not read by forward mode")]
            #[allow(clippy::too_many_arguments, reason = "the user's parameters plus the seeds")]
            #[allow(clippy::explicit_counter_loop, reason = "trip counts of loops with early exits")]
            #[allow(clippy::redundant_closure_call, reason = "the body of a function with a given derivative runs as a closure")]
            #[allow(clippy::clone_on_copy, reason = "fields behind a `&mut` parameter are read as clones, whatever their type")]
            #[allow(clippy::unnecessary_cast, reason = "a cast of a value the generated code writes in place, a literal")]
            #[allow(
                clippy::needless_range_loop,
                clippy::manual_memcpy,
                reason = "loops over containers are emitted as index loops"
            )]
            #vis fn #name #generics (#(#params),*) -> #ret #where_clause #body
        }
    }

    fn active_names(&self) -> String {
        self.cx
            .sig
            .active()
            .filter_map(|p| p.ident.as_ref().map(|i| format!("`{i}`")))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The returned value(s) of the adjoint program, as the user's function returns them.
    fn output(&self) -> TokenStream {
        let (krate, ret, value) = (self.cx.krate, &self.cx.sig.ret, self.flat_output());
        match (&self.cx.sig.rows_output, self.adjoint.returned_offsets) {
            (None, _) => value,
            (Some(_), Some(offsets)) => {
                let offsets = self.adjoint.ident(offsets);
                quote!(#krate::__private::unragged(&#value, &#offsets))
            }
            (Some(_), None) => quote!(#krate::__private::nested::<_, #ret>(&#value)),
        }
    }

    /// The returned value(s) of the adjoint program as it holds them (rows flat).
    fn flat_output(&self) -> TokenStream {
        self.values_as_output(&self.adjoint.body.yields[..self.returned()])
    }

    /// `values` of the program as the user's function returns its value: a tuple for a
    /// tuple output, else the one value.
    fn values_as_output(&self, values: &[Value]) -> TokenStream {
        let values = self.body.vals(values);
        match &self.cx.sig.output {
            Output::Unit => quote!(()),
            Output::Tuple(_) => quote!((#(#values),*)),
            _ => values.into_iter().next().unwrap_or_default(),
        }
    }

    fn returned(&self) -> usize {
        match &self.cx.sig.output {
            Output::Unit => 0,
            Output::Tuple(types) => types.len(),
            _ => 1,
        }
    }

    /// The gradients, one per active parameter (`into`: only the scalars' ones), shaped as
    /// the parameters (`Vec<[F; 3]>` from the flat buffer of `&[[F; 3]]`).
    fn gradients(&self, into: bool) -> Vec<TokenStream> {
        let krate = self.cx.krate;
        let grads = &self.adjoint.body.yields[self.returned()..];
        let params = self.cx.sig.params.iter().zip(&self.adjoint.params);
        params
            .filter(|(p, _)| p.active)
            .zip(grads)
            .filter(|((p, _), _)| !(into && p.shape.has_buffer()))
            .map(|((p, ir), &g)| {
                let grad = self.body.val(g);
                match (p.shape.row(), ir.offsets) {
                    (Some(_), Some(offsets)) => {
                        let offsets = self.adjoint.ident(offsets);
                        quote!(#krate::__private::unragged(&#grad, &#offsets))
                    }
                    (Some(_), None) => {
                        let ty = p.grad_ty(krate);
                        quote!(#krate::__private::nested::<_, #ty>(&#grad))
                    }
                    // The fields that are not parameters are the argument's.
                    (None, _) if matches!(p.shape, Shape::Struct { .. }) => match &p.ident {
                        Some(ident) => quote!(#krate::__private::skipped_from(#grad, &#ident)),
                        None => grad,
                    },
                    (None, _) => grad,
                }
            })
            .collect()
    }

    /// The gradients as the adjoint program makes them: flat, for the rows of a Jacobian.
    fn flat_gradients(&self) -> Vec<TokenStream> {
        let grads = &self.adjoint.body.yields[self.returned()..];
        self.cx
            .sig
            .active()
            .zip(grads)
            .map(|(_, &g)| self.body.val(g))
            .collect()
    }

    fn grad_ty(&self, into: bool) -> TokenStream {
        let types: Vec<TokenStream> = self
            .cx
            .sig
            .active()
            .filter(|p| !(into && p.shape.has_buffer()))
            .map(|p| p.grad_ty(self.cx.krate))
            .collect();
        tuple_or_single(&types)
    }

    /// The rows of each cotangent parameter's output, if it is a container of rows.
    fn seed_rows(&self) -> Vec<Option<Rows>> {
        let sig = self.cx.sig;
        let outputs = (sig.params.iter().filter(|p| p.is_output())).map(|p| p.shape.row().cloned());
        match sig.output {
            Output::Unit => outputs.collect(),
            _ => std::iter::once(sig.rows_output.clone())
                .chain(outputs)
                .collect(),
        }
    }

    /// The type of each cotangent parameter.
    fn seed_types(&self) -> Vec<TokenStream> {
        let ret = &self.cx.sig.ret;
        let outputs = self
            .cx
            .sig
            .params
            .iter()
            .filter(|p| p.is_output())
            .map(|p| p.grad_ty(self.cx.krate));
        match self.cx.sig.output {
            Output::Unit => outputs.collect(),
            _ => std::iter::once(quote!(#ret)).chain(outputs).collect(),
        }
    }

    fn vjp(&self) -> TokenStream {
        let mut params = params(self.cx, &self.body);
        // The cotangent of rows returned or written is taken as rows, and held flat.
        let mut flattened = TokenStream::new();
        let seed_rows = self.seed_rows();
        for (k, (seed, ty)) in self.seeds.iter().zip(self.seed_types()).enumerate() {
            let pattern = self.body.binding(seed.value);
            if let Some(rows) = &seed_rows[k] {
                let krate = self.cx.krate;
                let seed = format_ident!("__ad_seed_rows{}", k, span = Span::mixed_site());
                params.push(quote!(#seed: #ty));
                flattened.extend(match rows {
                    Rows::Vec => quote!(let #pattern = #krate::__private::ragged(&#seed).0;),
                    Rows::Array(_) => quote!(let #pattern = #krate::__private::flat_owned(#seed);),
                });
                continue;
            }
            params.push(quote!(#pattern: #ty));
        }
        let names: Vec<String> = self
            .seeds
            .iter()
            .filter_map(|p| p.ident.as_ref().map(|i| format!("`{i}`")))
            .collect();
        let doc = format!(
            " Value of `{}` and the vector-Jacobian product: the gradient with respect to {}, of the output's inner product with the cotangent {}. Generated by `#[reverse]`.",
            self.cx.item.sig.ident,
            self.active_names(),
            names.join(", ")
        );
        let (output, grads) = (self.output(), tuple_or_single(&self.gradients(false)));
        let ret = &self.cx.sig.ret;
        let grad_ty = self.grad_ty(false);
        let mut body = flattened;
        body.extend(self.statements(&self.body, 0..self.ops.len()));
        body.extend(quote!((#output, #grads)));
        self.function("vjp", &doc, &params, quote!((#ret, #grad_ty)), body)
    }

    fn grad(&self) -> TokenStream {
        let krate = self.cx.krate;
        let ret = &self.cx.sig.ret;
        let seed = self.seeds.first().map(|p| self.body.binding(p.value));
        let (output, grads) = (self.output(), tuple_or_single(&self.gradients(false)));
        let doc = format!(
            " Value and gradient of `{}` with respect to {}. Generated by `#[reverse]`.",
            self.cx.item.sig.ident,
            self.active_names()
        );
        let grad_ty = self.grad_ty(false);
        let mut body = quote!(let #seed = #krate::__private::one::<#ret>(););
        body.extend(self.statements(&self.body, 0..self.ops.len()));
        body.extend(quote!((#output, #grads)));
        self.function(
            "grad",
            &doc,
            &params(self.cx, &self.body),
            quote!((#ret, #grad_ty)),
            body,
        )
    }

    /// `f_pullback(args.., seed, slots..)`: the reverse of a call of `f` from another
    /// `#[reverse]` function (`ad_runtime`'s `calls` module has the protocol). It runs the
    /// forward sweep again, without side effects (joint mode: nothing is kept between the
    /// caller's sweeps), then the reverse sweep, adding the adjoints of container parameters
    /// into the caller's slots and returning those of float parameters.
    fn pullback(&self) -> TokenStream {
        let krate = self.cx.krate;
        let slots = self.pullback_slots();
        let body = Body {
            into: slots.into,
            quiet: true,
            ..Body::new(self.adjoint, krate, self.body.checks)
        };
        let (seed_param, resolve) = self.pullback_seed(&body);
        let mut params = params(self.cx, &body);
        params.push(seed_param);
        params.extend(slots.params);
        let (forward, reverse) = self.sweeps(&body);
        let returned = slots.returned;
        let mut stmts: TokenStream = slots.entry.into_iter().collect();
        stmts.extend([forward, resolve, reverse, quote!((#(#returned,)*))]);
        let returned_ty = slots.returned_ty;
        self.function("pullback", "", &params, quote!((#(#returned_ty,)*)), stmts)
    }

    /// Step of [`Self::pullback`]: what each primal parameter adds to the pullback's
    /// signature (its slot parameter) and to what it returns, and where the adjoints of
    /// container parameters go (the caller's buffers).
    fn pullback_slots(&self) -> PullbackSlots {
        let cx = self.cx;
        let (krate, sig) = (cx.krate, cx.sig);
        let into_slot = quote!(#krate::__private::IntoSlot);
        let grads = &self.adjoint.body.yields[self.returned()..];
        let mut slots = PullbackSlots::default();
        let mut seeds = self.seeds.iter().skip(self.returned().min(1));
        let mut active_grads = grads.iter();
        for (i, param) in sig.params.iter().enumerate() {
            let slot = format_ident!("__ad_slot{}", i, span = Span::mixed_site());
            let grad = param.active.then(|| active_grads.next()).flatten();
            match (&param.shape, param.elem_if_active(), &param.ident) {
                (Shape::Slice { .. } | Shape::Array { .. }, Some(elem), Some(ident)) => {
                    // A library container's slot is its gradient's type, indexed as it is.
                    let target = match param.library {
                        Some(_) => param.grad_ty(krate),
                        None => quote!([#elem]),
                    };
                    slots
                        .params
                        .push(quote!(mut #slot: impl #into_slot<#target>));
                    let buffer = match self.changed_copies[i] {
                        true => own_slot_of(krate, &slot, quote!(#ident)),
                        false => slot_of(krate, &slot, quote!(#ident)),
                    };
                    if param.is_output() {
                        // The cotangent of the final contents is the caller's buffer, which
                        // the reverse sweep turns into that of the contents on entry.
                        if let Some(seed) = seeds.next() {
                            let pattern = self.body.binding(seed.value);
                            slots.entry.push(quote!(let #pattern = #buffer;));
                        }
                    } else if let Some(&grad) = grad {
                        slots.into.insert(grad, buffer);
                    }
                    slots.returned.push(quote!(()));
                    slots.returned_ty.push(quote!(()));
                }
                (Shape::Struct { ty }, _, Some(ident)) if param.active => {
                    slots.params.push(quote!(mut #slot: impl #into_slot<#ty>));
                    if let Some(&grad) = grad {
                        slots
                            .into
                            .insert(grad, slot_of(krate, &slot, quote!(#ident)));
                    }
                    slots.returned.push(quote!(()));
                    slots.returned_ty.push(quote!(()));
                }
                (Shape::Scalar, _, _) if param.active => {
                    slots
                        .params
                        .push(quote!(_: impl #krate::__private::NotDifferentiated));
                    slots
                        .returned
                        .push(grad.map(|&g| self.body.val(g)).unwrap_or_default());
                    let ty = &param.ty;
                    slots.returned_ty.push(quote!(#ty));
                }
                _ => {
                    slots
                        .params
                        .push(quote!(_: impl #krate::__private::NotDifferentiated));
                    slots.returned.push(quote!(#krate::__private::Skip));
                    slots.returned_ty.push(quote!(#krate::__private::Skip));
                }
            }
        }
        slots
    }

    /// Step of [`Self::pullback`]: the parameter that takes the cotangent of the returned
    /// value, and the statement that resolves it (`None` from the caller means zeros) once
    /// the forward sweep has made the output.
    fn pullback_seed(&self, body: &Body) -> (TokenStream, TokenStream) {
        let cx = self.cx;
        let (krate, sig) = (cx.krate, cx.sig);
        let option = quote!(::core::option::Option);
        let into = quote!(::core::convert::Into);
        let into_slot = quote!(#krate::__private::IntoSlot);
        let seed_in = format_ident!("__ad_seed", span = Span::mixed_site());
        let zero = quote!(#krate::num_traits::Zero::zero());
        let output = self.flat_output();
        let (seed_ty, resolve) = match (&sig.output, self.seeds.first()) {
            (Output::Unit, _) | (_, None) => (quote!(()), quote!()),
            (Output::Scalar(ty), Some(seed)) => {
                let pattern = body.binding(seed.value);
                let zero = quote!(#krate::num_traits::Zero::zero);
                let resolve = quote!(let #pattern: #ty = #option::unwrap_or_else(#into::into(#seed_in), #zero););
                (quote!(#ty), resolve)
            }
            (Output::Tuple(types), Some(seed)) => {
                let pattern = body.binding(seed.value);
                let zeros = types.iter().map(|_| &zero);
                let resolve = quote!(let #pattern: (#(#types),*) = #option::unwrap_or_else(#into::into(#seed_in), || (#(#zeros),*)););
                (quote!((#(#types),*)), resolve)
            }
            // A container's cotangent is the caller's buffer (a `Vec`, so that pushes onto
            // the output can be popped), or zeros.
            (Output::Vec(_) | Output::Array { .. }, Some(seed)) => {
                let pattern = body.binding(seed.value);
                let resolve = slot_of(krate, &seed_in, output.clone());
                (quote!(), quote!(let #pattern = #resolve;))
            }
        };
        let seed_param = match (&sig.output, resolve.is_empty()) {
            (_, true) => quote!(_: impl #into<#option<()>>),
            (Output::Vec(elem), false) => {
                quote!(mut #seed_in: impl #into_slot<#krate::__private::Vec<#elem>>)
            }
            (Output::Array { elem, .. }, false) => quote!(mut #seed_in: impl #into_slot<[#elem]>),
            (_, false) => quote!(#seed_in: impl #into<#option<#seed_ty>>),
        };
        (seed_param, resolve)
    }

    /// `f_grad` writing the gradients of container parameters into caller buffers `d<name>`.
    fn grad_into(&self) -> TokenStream {
        let krate = self.cx.krate;
        let ret = &self.cx.sig.ret;
        let mut params = params(self.cx, &self.body);
        // The gradient buffer of each container parameter is the caller's.
        let mut buffers = HashMap::new();
        let grads = &self.adjoint.body.yields[self.returned()..];
        let mut names: std::collections::HashSet<String> = (self.cx.sig.params.iter())
            .filter_map(|p| p.ident.as_ref().map(ToString::to_string))
            .collect();
        // A container of `Vec`s' gradient is made flat, then copied into the caller's rows.
        let mut scattered = TokenStream::new();
        let active = (self.cx.sig.params.iter().zip(&self.changed_copies))
            .zip(&self.adjoint.params)
            .filter(|((p, _), _)| p.active);
        for (((param, &changed), ir), &grad) in active.zip(grads) {
            let Some(ident) = &param.ident else { continue };
            // `dx`, unless a parameter or another buffer has that name.
            let mut buffer = format_ident!("d{}", ident);
            // `do`, `dyn`: keywords are not names.
            while syn::parse_str::<Ident>(&buffer.to_string()).is_err()
                || !names.insert(buffer.to_string())
            {
                buffer = format_ident!("d{}", buffer);
            }
            let name = buffer.to_string();
            match &param.shape {
                // A library container's buffer is its gradient's type, indexed as it is.
                Shape::Slice { .. } if param.library.is_some() => {
                    let ty = param.grad_ty(krate);
                    params.push(quote!(#buffer: &mut #ty));
                    let into = quote!(#krate::__private::into_library(#buffer, &#ident, #name));
                    buffers.insert(
                        grad,
                        match changed {
                            true => quote!(#krate::__private::own_slot(::core::option::Option::Some(#into), &#ident)),
                            false => into,
                        },
                    );
                }
                Shape::Slice { elem, .. } if ir.offsets.is_some() => {
                    params.push(quote!(#buffer: &mut [#krate::__private::Vec<#elem>]));
                    let (grad, offsets) = (
                        self.body.val(grad),
                        ir.offsets.map(|o| self.adjoint.ident(o)),
                    );
                    scattered.extend(quote!(#krate::__private::unragged_into(#buffer, &#grad, &#offsets, #name);));
                }
                Shape::Slice { elem, row, .. } | Shape::Array { elem, row, .. } => {
                    let into = match row {
                        Some(row) => {
                            let row = row.ty(elem, krate);
                            params.push(quote!(#buffer: &mut [#row]));
                            quote!(#krate::__private::into_buffer(#krate::__private::flat_mut(#buffer), &#ident, #name))
                        }
                        None => {
                            params.push(quote!(#buffer: &mut [#elem]));
                            quote!(#krate::__private::into_buffer(#buffer, &#ident, #name))
                        }
                    };
                    buffers.insert(
                        grad,
                        match changed {
                            true => quote!(#krate::__private::own_slot(::core::option::Option::Some(#into), &#ident)),
                            false => into,
                        },
                    );
                }
                Shape::Struct { ty } => {
                    params.push(quote!(#buffer: &mut #ty));
                    scattered.extend(quote!(#krate::Params::__ad_copy_skipped(#buffer, &#ident);));
                    buffers.insert(
                        grad,
                        quote!(#krate::__private::into_params(#buffer, &#ident, #name)),
                    );
                }
                Shape::Scalar | Shape::Other => {}
            }
        }
        let body = Body {
            into: buffers,
            ..Body::new(self.adjoint, krate, self.body.checks)
        };
        let seed = self.seeds.first().map(|p| body.binding(p.value));
        let stmts = self.statements(&body, 0..self.ops.len());
        let output = self.output();
        let scalars = self.gradients(true);
        let (returned, ret_ty) = match scalars.is_empty() {
            true => (output, quote!(#ret)),
            false => {
                let grads = tuple_or_single(&scalars);
                let grad_ty = self.grad_ty(true);
                (quote!((#output, #grads)), quote!((#ret, #grad_ty)))
            }
        };
        let doc = format!(
            " Value of `{}`, writing the gradient of each container parameter `x` into the caller's buffer `dx` (overwritten; no allocation for the gradients). Panics if a buffer's length differs from its parameter's. Generated by `#[reverse]`.",
            self.cx.item.sig.ident
        );
        let mut body = quote!(let #seed = #krate::__private::one::<#ret>(););
        body.extend([stmts, scattered, returned]);
        self.function("grad_into", &doc, &params, ret_ty, body)
    }

    /// The full Jacobian, a row per output component: a forward and a reverse sweep each,
    /// seeded with the component's basis vector.
    fn jacobian(&self) -> TokenStream {
        let krate = self.cx.krate;
        let ret = &self.cx.sig.ret;
        let private = quote!(#krate::__private);
        let (forward, reverse) = self.sweeps(&self.body);
        let at = format_ident!("__ad_at", span = Span::mixed_site());
        let row = format_ident!("__ad_row", span = Span::mixed_site());
        let rows = format_ident!("__ad_rows", span = Span::mixed_site());
        let total = format_ident!("__ad_total", span = Span::mixed_site());
        let (seeds, sizes) = self.jacobian_seeds(&at);
        let grads = self.flat_gradients();
        let elem = self.jacobian_elem();
        let (saved, restore) = self.entry_copies();
        let output = self.output();
        let doc = format!(
            " Value of `{}` and its Jacobian: one row per output component (the returned value's, then each `&mut` output's, flattened), one column per component of {}, flattened in parameter order. Each row is a forward and a reverse sweep: side effects run once per row. Generated by `#[reverse]`.",
            self.cx.item.sig.ident,
            self.active_names()
        );
        let body = quote! {
            let mut #rows: #private::Vec<#private::Vec<#elem>> = #private::Vec::new();
            #(#saved)*
            loop {
                if !#rows.is_empty() {
                    #(#restore)*
                }
                #forward
                let mut #at = #rows.len();
                let #total: usize = 0 #(+ #sizes)*;
                #(#seeds)*
                #reverse
                let mut #row = #private::Vec::new();
                #(#private::Flatten::flatten_into(&#grads, &mut #row);)*
                #rows.push(#row);
                if #rows.len() >= #total {
                    #rows.truncate(#total);
                    break (#output, #rows);
                }
            }
        };
        let params = params(self.cx, &self.body);
        self.function(
            "jacobian",
            &doc,
            &params,
            quote!((#ret, #private::Vec<#private::Vec<#elem>>)),
            body,
        )
    }

    /// Step of [`Self::jacobian`]: the cotangents of a row, basis vectors over the flattened
    /// outputs (the returned value's, then each `&mut` output's) with the one at `at`, and
    /// the outputs' sizes.
    fn jacobian_seeds(&self, at: &Ident) -> (Vec<TokenStream>, Vec<TokenStream>) {
        let krate = self.cx.krate;
        let sig = self.cx.sig;
        let private = quote!(#krate::__private);
        let mut seeds = Vec::new();
        let mut sizes = Vec::new();
        let returned = &self.adjoint.body.yields[..self.returned()];
        let mut seed_params = self.seeds.iter();
        match &sig.output {
            Output::Unit => {}
            Output::Scalar(ty) => {
                let seed = seed_params.next().map(|p| self.body.binding(p.value));
                seeds.push(quote!(let #seed = #private::basis_scalar::<#ty>(&mut #at);));
                sizes.push(quote!(1usize));
            }
            Output::Tuple(types) => {
                let seed = seed_params.next().map(|p| self.body.binding(p.value));
                seeds.push(quote!(let #seed = (#(#private::basis_scalar::<#types>(&mut #at)),*);));
                let n = types.len();
                sizes.push(quote!(#n));
            }
            Output::Array { elem, len } => {
                let seed = seed_params.next().map(|p| self.body.binding(p.value));
                seeds.push(quote!(let #seed: [#elem; #len] = #private::basis_array(&mut #at);));
                sizes.push(quote!(#len));
            }
            Output::Vec(elem) => {
                let seed = seed_params.next().map(|p| self.body.binding(p.value));
                let output = self.body.vals(returned).into_iter().next();
                seeds.push(quote!(let #seed: #private::Vec<#elem> = #private::basis_vec(&mut #at, #output.len());));
                sizes.push(quote!(#output.len()));
            }
        }
        for (param, seed) in sig.params.iter().filter(|p| p.is_output()).zip(seed_params) {
            let (Some(ident), seed) = (&param.ident, self.body.binding(seed.value)) else {
                continue;
            };
            let ty = param.grad_ty(krate);
            seeds.push(match &param.shape {
                // Rows are held flat: so is their cotangent.
                Shape::Slice { elem, row: Some(_), .. } | Shape::Array { elem, row: Some(_), .. } => {
                    quote!(let #seed: #private::Vec<#elem> = #private::basis_vec(&mut #at, #ident.len());)
                }
                Shape::Array { .. } => quote!(let #seed: #ty = #private::basis_array(&mut #at);),
                _ => quote!(let #seed: #ty = #private::basis_vec(&mut #at, #ident.len());),
            });
            sizes.push(quote!(#ident.len()));
        }
        (seeds, sizes)
    }

    /// Step of [`Self::jacobian`]: the element type of its rows, that of the outputs (the
    /// returned value's, or the first `&mut` output's).
    fn jacobian_elem(&self) -> TokenStream {
        let sig = self.cx.sig;
        match &sig.output {
            Output::Scalar(ty) => quote!(#ty),
            Output::Tuple(types) => types.first().map(|t| quote!(#t)).unwrap_or_default(),
            Output::Array { elem, .. } | Output::Vec(elem) => quote!(#elem),
            Output::Unit => sig
                .params
                .iter()
                .find(|p| p.is_output())
                .and_then(|p| p.shape.elem())
                .map(|e| quote!(#e))
                .unwrap_or_default(),
        }
    }

    /// Step of [`Self::jacobian`]: statements saving the `&mut` outputs' contents on entry,
    /// and restoring them, so that every row starts from them.
    fn entry_copies(&self) -> (Vec<TokenStream>, Vec<TokenStream>) {
        let mut saved = Vec::new();
        let mut restore = Vec::new();
        for param in self.cx.sig.params.iter().filter(|p| p.is_output()) {
            if let Some(ident) = &param.ident {
                let copy = format_ident!("__ad_entry_{}", ident, span = Span::mixed_site());
                saved.push(quote!(let #copy = #ident.to_vec();));
                restore.push(quote!(#ident.copy_from_slice(&#copy);));
            }
        }
        (saved, restore)
    }
}

/// Stand-ins for the generated functions when the function has errors, so that the user sees
/// those errors and not a cascade of "cannot find `f_grad`" at its call sites. They never run:
/// the crate does not compile.
pub fn stubs(item: &syn::ItemFn, sig: Option<&Signature>) -> TokenStream {
    let name = &item.sig.ident;
    let (vis, generics) = (&item.vis, &item.sig.generics);
    let where_clause = &generics.where_clause;
    let inputs: Vec<TokenStream> = item
        .sig
        .inputs
        .iter()
        .map(|arg| match arg {
            FnArg::Typed(t) => {
                let ty = &t.ty;
                quote!(_: #ty)
            }
            FnArg::Receiver(r) => r.to_token_stream(),
        })
        .collect();
    // (suffix, extra parameters, return type) of each generated function.
    let functions: Vec<(&str, Vec<TokenStream>, TokenStream)> = match sig {
        Some(sig) => {
            let ret = &sig.ret;
            let grads: Vec<TokenStream> = sig.active().map(|p| p.grad_ty(&sig.krate)).collect();
            let grads = tuple_or_single(&grads);
            let mut seeds: Vec<TokenStream> = match sig.output {
                Output::Unit => Vec::new(),
                _ => vec![quote!(_: #ret)],
            };
            seeds.extend(sig.params.iter().filter(|p| p.is_output()).map(|p| {
                let ty = p.grad_ty(&sig.krate);
                quote!(_: #ty)
            }));
            let mut functions = vec![("vjp", seeds, quote!((#ret, #grads)))];
            if sig.scalar_output() {
                functions.push(("grad", Vec::new(), quote!((#ret, #grads))));
                // The buffers, so that call sites see no second error.
                let buffers = sig
                    .active()
                    .filter_map(|p| match &p.shape {
                        Shape::Slice { elem, row, .. } | Shape::Array { elem, row, .. } => {
                            Some(match row {
                                Some(row) => {
                                    let row = row.ty(elem, &sig.krate);
                                    quote!(_: &mut [#row])
                                }
                                None => quote!(_: &mut [#elem]),
                            })
                        }
                        Shape::Struct { ty } => Some(quote!(_: &mut #ty)),
                        _ => None,
                    })
                    .collect();
                functions.push(("grad_into", buffers, quote!(!)));
            } else {
                functions.push(("jacobian", Vec::new(), quote!(!)));
            }
            functions
        }
        // Without a valid signature, `!` coerces to whatever the call sites expect.
        None => ["grad", "vjp", "grad_into", "jacobian"]
            .into_iter()
            .map(|suffix| (suffix, Vec::new(), quote!(!)))
            .collect(),
    };
    let message =
        format!("`{name}` has #[reverse] errors; this stub only keeps the call sites quiet");
    functions
        .into_iter()
        .map(|(suffix, extra, ret)| {
            let stub = format_ident!("{}_{}", name, suffix);
            quote! {
                #[allow(dead_code, unused_variables, clippy::type_complexity, clippy::too_many_arguments)]
                #vis fn #stub #generics (#(#inputs,)* #(#extra),*) -> #ret #where_clause {
                    ::core::unreachable!(#message)
                }
            }
        })
        .collect()
}

fn tuple_or_single(items: &[TokenStream]) -> TokenStream {
    match items {
        [one] => one.clone(),
        many => quote!((#(#many),*)),
    }
}

/// The user's attributes that apply to the generated functions too: documentation, `cfg`
/// and lint levels (`expect` is left out: the expected lint may not fire in generated code).
fn kept_attributes(item: &syn::ItemFn) -> Vec<&syn::Attribute> {
    const KEPT: &[&str] = &[
        "doc",
        "cfg",
        "cfg_attr",
        "allow",
        "warn",
        "deny",
        "forbid",
        "deprecated",
    ];
    item.attrs
        .iter()
        .filter(|a| KEPT.iter().any(|k| a.path().is_ident(k)))
        .collect()
}

/// Statements rebinding each parameter holding rows (`&[[F; 3]]`, `Vec<[F; 3]>`,
/// `&[Vec<F>]`) to its floats, flat: the adjoint program indexes containers of rows as flat
/// ones (`Vec` rows copied, their offsets bound beside them).
fn flattened_params(cx: &Context, func: &Func) -> TokenStream {
    let private = {
        let krate = cx.krate;
        quote!(#krate::__private)
    };
    let mut out = TokenStream::new();
    for (param, p) in cx.sig.params.iter().zip(&func.params) {
        let (Some(ident), Some(row)) = (&param.ident, param.shape.row()) else {
            continue;
        };
        out.extend(match (&param.ty, row, p.offsets) {
            (_, Rows::Vec, Some(offsets)) => {
                let offsets = func.ident(offsets);
                let flat = format_ident!("__ad_flat_{}", ident, span = Span::mixed_site());
                match &param.ty {
                    syn::Type::Reference(_) => quote! {
                        #[allow(unused_variables, reason = "the function may not need the rows")]
                        let (#flat, #offsets) = #private::ragged(#ident);
                        let #ident = &#flat[..];
                    },
                    _ => quote! {
                        #[allow(unused_mut, unused_variables, reason = "the function may write its own copy, and not need the rows")]
                        let (mut #ident, #offsets) = #private::ragged(&#ident);
                    },
                }
            }
            (syn::Type::Reference(r), _, _) if r.mutability.is_some() => {
                quote!(let #ident = #private::flat_mut(#ident);)
            }
            (syn::Type::Reference(_), _, _) => quote!(let #ident = #private::flat(#ident);),
            _ => quote! {
                #[allow(unused_mut, reason = "the function may write its own copy")]
                let mut #ident = #private::flat_owned(#ident);
            },
        });
    }
    out
}

/// The generated functions' parameters: the user's, without a `mut` nothing needs.
fn params(cx: &Context, body: &Body) -> Vec<TokenStream> {
    let mut values = body.func.params.iter();
    cx.item
        .sig
        .inputs
        .iter()
        .map(|arg| {
            let value = values.next().map(|p| p.value);
            let t = match arg {
                FnArg::Typed(t) => t,
                FnArg::Receiver(r) => return r.to_token_stream(),
            };
            let (attrs, ty) = (&t.attrs, &t.ty);
            let pat = match &*t.pat {
                Pat::Ident(p) => {
                    let ident = &p.ident;
                    if p.mutability.is_some() && value.is_some_and(|v| body.mutable.contains(&v)) {
                        quote!(#[allow(unused_mut, reason = "mut as in the original; whether the method called on it needs it is not known")] mut #ident)
                    } else {
                        quote!(#ident)
                    }
                }
                other => other.to_token_stream(),
            };
            quote!(#(#attrs)* #pat: #ty)
        })
        .collect()
}

/// What the primal parameters add to `f_pullback` ([`Generated::pullback_slots`]).
#[derive(Default)]
struct PullbackSlots {
    /// The slot parameter of each primal parameter, after the seed.
    params: Vec<TokenStream>,
    /// The buffer each container gradient goes into: the caller's slot.
    into: HashMap<Value, TokenStream>,
    /// Statements before the forward sweep: the cotangents of `&mut` outputs bound to the
    /// caller's buffers.
    entry: Vec<TokenStream>,
    /// What the pullback returns for each parameter, and its type.
    returned: Vec<TokenStream>,
    returned_ty: Vec<TokenStream>,
}

/// The caller's buffer in `slot`, or zeros shaped like `like`.
fn slot_of(krate: &syn::Path, slot: &Ident, like: TokenStream) -> TokenStream {
    let into_slot = quote!(#krate::__private::IntoSlot);
    quote!(#krate::__private::slot(#into_slot::as_slot(&mut #slot), &#like))
}

/// [`slot_of`] for a copy the function changes: a buffer of its own, added into the caller's
/// at the end.
fn own_slot_of(krate: &syn::Path, slot: &Ident, like: TokenStream) -> TokenStream {
    let into_slot = quote!(#krate::__private::IntoSlot);
    quote!(#krate::__private::own_slot(#into_slot::as_slot(&mut #slot), &#like))
}
