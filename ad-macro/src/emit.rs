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

use std::collections::{HashMap, HashSet};

use proc_macro2::{Ident, Punct, Spacing, Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::{FnArg, Pat};

use crate::ir::{
    Adaptor, Arg, ArrayInit, Block, Call, Callee, Func, Len, Op, OpKind, Pass, Range, Rule, Seed,
    Slot, StashKind, Value,
};
use crate::prims::Syntax;
use crate::signature::{Output, Param, Shape, Signature};

/// What the emitted functions need besides the adjoint program.
pub struct Context<'a> {
    pub item: &'a syn::ItemFn,
    pub sig: &'a Signature,
    pub krate: &'a syn::Path,
    /// Items declared inside the user's body.
    pub items: &'a [syn::Item],
}

/// The generated functions for the adjoint program `adjoint`:
///
/// - `f_vjp(args.., seed, seed_<out>..) -> (output, gradients)`, always;
/// - `f_grad(args..) -> (output, gradients)` for a float output;
/// - `f_grad_into(args.., d<x>: &mut [F]..) -> output` (or `(output, scalar gradients)`) for
///   a float output and container parameters: their gradients go into caller buffers;
/// - `f_jacobian(args..) -> (output, rows)` for any other output.
pub fn functions(cx: &Context, adjoint: &Func) -> TokenStream {
    let generated = Generated::new(cx, adjoint);
    let mut out = generated.vjp();
    out.extend(generated.pullback());
    if cx.sig.scalar_output() {
        out.extend(generated.grad());
        if cx.sig.active().any(|p| p.shape.has_buffer()) {
            out.extend(generated.grad_into());
        }
    } else {
        out.extend(generated.jacobian());
    }
    out
}

/// What the generated functions share.
struct Generated<'a> {
    cx: &'a Context<'a>,
    adjoint: &'a Func,
    body: Body<'a>,
    /// The adjoint program's parameters after the primal's: the cotangents.
    seeds: &'a [crate::ir::Param],
}

impl<'a> Generated<'a> {
    fn new(cx: &'a Context<'a>, adjoint: &'a Func) -> Generated<'a> {
        let primal_params = cx.sig.params.len();
        Generated {
            cx,
            adjoint,
            body: Body::new(adjoint, cx.krate),
            seeds: &adjoint.params[primal_params..],
        }
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
        let items = cx.items;
        let stashes = self.body.stashes();
        quote! {
            #doc
            #separator
            #(#attrs)*
            #[must_use]
            #[allow(dead_code, reason = "generated next to the user's function, which may not use it")]
            #[allow(clippy::type_complexity, reason = "the gradient is a tuple of the parameters' types")]
            #[allow(clippy::too_many_arguments, reason = "the user's parameters plus the seeds")]
            #[allow(clippy::explicit_counter_loop, reason = "trip counts of loops with early exits")]
            #[allow(clippy::redundant_closure_call, reason = "the body of a function with a given derivative runs as a closure")]
            #[allow(
                clippy::needless_range_loop,
                clippy::manual_memcpy,
                reason = "loops over containers are emitted as index loops"
            )]
            #vis fn #name #generics (#(#params),*) -> #ret #where_clause {
                #(#items)*
                #stashes
                #body
            }
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
        let returned = &self.adjoint.body.yields[..self.returned()];
        match &self.cx.sig.output {
            Output::Unit => quote!(()),
            Output::Tuple(_) => {
                let values = self.body.vals(returned);
                quote!((#(#values),*))
            }
            _ => self
                .body
                .vals(returned)
                .into_iter()
                .next()
                .unwrap_or_default(),
        }
    }

    fn returned(&self) -> usize {
        match &self.cx.sig.output {
            Output::Unit => 0,
            Output::Tuple(types) => types.len(),
            _ => 1,
        }
    }

    /// The gradients, one per active parameter (`into`: only the scalars' ones).
    fn gradients(&self, into: bool) -> Vec<TokenStream> {
        let grads = &self.adjoint.body.yields[self.returned()..];
        self.cx
            .sig
            .active()
            .zip(grads)
            .filter(|(p, _)| !(into && p.shape.has_buffer()))
            .map(|(_, &g)| self.body.val(g))
            .collect()
    }

    fn grad_ty(&self, into: bool) -> TokenStream {
        let types: Vec<TokenStream> = self
            .cx
            .sig
            .active()
            .filter(|p| !(into && p.shape.has_buffer()))
            .map(crate::signature::Param::grad_ty)
            .collect();
        tuple_or_single(&types)
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
            .map(|p| p.grad_ty());
        match self.cx.sig.output {
            Output::Unit => outputs.collect(),
            _ => std::iter::once(quote!(#ret)).chain(outputs).collect(),
        }
    }

    fn vjp(&self) -> TokenStream {
        let mut params = params(self.cx, &self.body);
        for (seed, ty) in self.seeds.iter().zip(self.seed_types()) {
            let pattern = self.body.binding(seed.value);
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
        let (stmts, output, grads) = (
            self.body.block_stmts(&self.adjoint.body),
            self.output(),
            tuple_or_single(&self.gradients(false)),
        );
        let ret = &self.cx.sig.ret;
        let grad_ty = self.grad_ty(false);
        self.function(
            "vjp",
            &doc,
            &params,
            quote!((#ret, #grad_ty)),
            quote!(#stmts (#output, #grads)),
        )
    }

    fn grad(&self) -> TokenStream {
        let krate = self.cx.krate;
        let ret = &self.cx.sig.ret;
        let seed = self.seeds.first().map(|p| self.body.binding(p.value));
        let stmts = self.body.block_stmts(&self.adjoint.body);
        let (output, grads) = (self.output(), tuple_or_single(&self.gradients(false)));
        let doc = format!(
            " Value and gradient of `{}` with respect to {}. Generated by `#[reverse]`.",
            self.cx.item.sig.ident,
            self.active_names()
        );
        let grad_ty = self.grad_ty(false);
        let body = quote! {
            let #seed = #krate::__private::one::<#ret>();
            #stmts
            (#output, #grads)
        };
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
        let cx = self.cx;
        let (krate, sig) = (cx.krate, cx.sig);
        let option = quote!(::core::option::Option);
        let into = quote!(::core::convert::Into);
        let into_slot = quote!(#krate::__private::IntoSlot);
        // The caller's buffer of each container parameter, or zeros.
        let slot_of = |slot: &Ident, like: TokenStream| quote!(#krate::__private::slot(#into_slot::as_slot(&mut #slot), &#like));
        let grads = &self.adjoint.body.yields[self.returned()..];
        let mut into_map = HashMap::new();
        let mut entry = Vec::new();
        let mut seeds = self.seeds.iter().skip(self.returned().min(1));
        let mut slot_params = Vec::new();
        let mut returned = Vec::new();
        let mut returned_ty = Vec::new();
        let mut active_grads = grads.iter();
        for (i, param) in sig.params.iter().enumerate() {
            let slot = format_ident!("__ad_slot{}", i, span = Span::mixed_site());
            let grad = param.active.then(|| active_grads.next()).flatten();
            match (&param.shape, param.elem_if_active(), &param.ident) {
                (Shape::Slice { .. } | Shape::Array { .. }, Some(elem), Some(ident)) => {
                    slot_params.push(quote!(mut #slot: impl #into_slot<[#elem]>));
                    let buffer = slot_of(&slot, quote!(#ident));
                    if param.is_output() {
                        // The cotangent of the final contents is the caller's buffer, which
                        // the reverse sweep turns into that of the contents on entry.
                        if let Some(seed) = seeds.next() {
                            let pattern = self.body.binding(seed.value);
                            entry.push(quote!(let #pattern = #buffer;));
                        }
                    } else if let Some(&grad) = grad {
                        into_map.insert(grad, buffer);
                    }
                    returned.push(quote!(()));
                    returned_ty.push(quote!(()));
                }
                (Shape::Struct { ty }, _, Some(ident)) if param.active => {
                    slot_params.push(quote!(mut #slot: impl #into_slot<#ty>));
                    if let Some(&grad) = grad {
                        into_map.insert(grad, slot_of(&slot, quote!(#ident)));
                    }
                    returned.push(quote!(()));
                    returned_ty.push(quote!(()));
                }
                (Shape::Scalar, _, _) if param.active => {
                    slot_params.push(quote!(_: impl #krate::__private::NotDifferentiated));
                    returned.push(grad.map(|&g| self.body.val(g)).unwrap_or_default());
                    let ty = &param.ty;
                    returned_ty.push(quote!(#ty));
                }
                _ => {
                    slot_params.push(quote!(_: impl #krate::__private::NotDifferentiated));
                    returned.push(quote!(#krate::__private::Skip));
                    returned_ty.push(quote!(#krate::__private::Skip));
                }
            }
        }
        let body = Body {
            into: into_map,
            quiet: true,
            ..Body::new(self.adjoint, krate)
        };
        // The cotangent of the returned value, resolved once the forward sweep has made it.
        let seed_in = format_ident!("__ad_seed", span = Span::mixed_site());
        let zero = quote!(#krate::num_traits::Zero::zero());
        let output = self.output();
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
                let resolve = slot_of(&seed_in, output.clone());
                (quote!(), quote!(let #pattern = #resolve;))
            }
        };
        let seed_param = match (&sig.output, resolve.is_empty()) {
            (_, true) => quote!(_: impl #into<#option<()>>),
            (Output::Vec(elem), false) => {
                quote!(mut #seed_in: impl #into_slot<::std::vec::Vec<#elem>>)
            }
            (Output::Array { elem, .. }, false) => quote!(mut #seed_in: impl #into_slot<[#elem]>),
            (_, false) => quote!(#seed_in: impl #into<#option<#seed_ty>>),
        };
        let mut params = params(cx, &body);
        params.push(seed_param);
        params.extend(slot_params);
        let (forward, reverse) = self
            .adjoint
            .body
            .ops
            .split_at(self.adjoint.reverse_start.min(self.adjoint.body.ops.len()));
        let forward: TokenStream = forward.iter().map(|op| body.op(op)).collect();
        let reverse: TokenStream = reverse.iter().map(|op| body.op(op)).collect();
        let stmts = quote! {
            #(#entry)*
            #forward
            #resolve
            #reverse
            (#(#returned,)*)
        };
        self.function("pullback", "", &params, quote!((#(#returned_ty,)*)), stmts)
    }

    /// `f_grad` writing the gradients of container parameters into caller buffers `d<name>`.
    fn grad_into(&self) -> TokenStream {
        let krate = self.cx.krate;
        let ret = &self.cx.sig.ret;
        let mut params = params(self.cx, &self.body);
        // The gradient buffer of each container parameter is the caller's.
        let mut buffers = HashMap::new();
        let grads = &self.adjoint.body.yields[self.returned()..];
        for (param, &grad) in self.cx.sig.active().zip(grads) {
            let Some(ident) = &param.ident else { continue };
            let buffer = format_ident!("d{}", ident);
            let name = buffer.to_string();
            match &param.shape {
                Shape::Slice { elem, .. } | Shape::Array { elem, .. } => {
                    params.push(quote!(#buffer: &mut [#elem]));
                    buffers.insert(
                        grad,
                        quote!(#krate::__private::into_buffer(#buffer, &#ident, #name)),
                    );
                }
                Shape::Struct { ty } => {
                    params.push(quote!(#buffer: &mut #ty));
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
            ..Body::new(self.adjoint, krate)
        };
        let seed = self.seeds.first().map(|p| body.binding(p.value));
        let stmts = body.block_stmts(&self.adjoint.body);
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
        let body = quote! {
            let #seed = #krate::__private::one::<#ret>();
            #stmts
            #returned
        };
        self.function("grad_into", &doc, &params, ret_ty, body)
    }

    /// The full Jacobian, a row per output component: a forward and a reverse sweep each,
    /// seeded with the component's basis vector.
    fn jacobian(&self) -> TokenStream {
        let krate = self.cx.krate;
        let sig = self.cx.sig;
        let ret = &sig.ret;
        let private = quote!(#krate::__private);
        let (forward, reverse) = self
            .adjoint
            .body
            .ops
            .split_at(self.adjoint.reverse_start.min(self.adjoint.body.ops.len()));
        let forward: TokenStream = forward.iter().map(|op| self.body.op(op)).collect();
        let reverse: TokenStream = reverse.iter().map(|op| self.body.op(op)).collect();
        let at = format_ident!("__ad_at", span = Span::mixed_site());
        let row = format_ident!("__ad_row", span = Span::mixed_site());
        let rows = format_ident!("__ad_rows", span = Span::mixed_site());
        let total = format_ident!("__ad_total", span = Span::mixed_site());
        // The cotangents: basis vectors over the flattened outputs, and the outputs' sizes.
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
                seeds.push(quote!(let #seed: ::std::vec::Vec<#elem> = #private::basis_vec(&mut #at, #output.len());));
                sizes.push(quote!(#output.len()));
            }
        }
        for (param, seed) in sig.params.iter().filter(|p| p.is_output()).zip(seed_params) {
            let (Some(ident), seed) = (&param.ident, self.body.binding(seed.value)) else {
                continue;
            };
            let ty = param.grad_ty();
            seeds.push(match &param.shape {
                Shape::Array { .. } => quote!(let #seed: #ty = #private::basis_array(&mut #at);),
                _ => quote!(let #seed: #ty = #private::basis_vec(&mut #at, #ident.len());),
            });
            sizes.push(quote!(#ident.len()));
        }
        let grads = self.gradients(false);
        let elem = match &sig.output {
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
        };
        // Every row starts from the `&mut` outputs' contents on entry.
        let mut saved = Vec::new();
        let mut restore = Vec::new();
        for param in sig.params.iter().filter(|p| p.is_output()) {
            if let Some(ident) = &param.ident {
                let copy = format_ident!("__ad_entry_{}", ident, span = Span::mixed_site());
                saved.push(quote!(let #copy = #ident.to_vec();));
                restore.push(quote!(#ident.copy_from_slice(&#copy);));
            }
        }
        let output = self.output();
        let doc = format!(
            " Value of `{}` and its Jacobian: one row per output component (the returned value's, then each `&mut` output's, flattened), one column per component of {}, flattened in parameter order. Each row is a forward and a reverse sweep: side effects run once per row. Generated by `#[reverse]`.",
            self.cx.item.sig.ident,
            self.active_names()
        );
        let body = quote! {
            let mut #rows: ::std::vec::Vec<::std::vec::Vec<#elem>> = ::std::vec::Vec::new();
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
                let mut #row = ::std::vec::Vec::new();
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
            quote!((#ret, ::std::vec::Vec<::std::vec::Vec<#elem>>)),
            body,
        )
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
            let grads: Vec<TokenStream> = sig.active().map(Param::grad_ty).collect();
            let grads = tuple_or_single(&grads);
            let mut seeds: Vec<TokenStream> = match sig.output {
                Output::Unit => Vec::new(),
                _ => vec![quote!(_: #ret)],
            };
            seeds.extend(sig.params.iter().filter(|p| p.is_output()).map(|p| {
                let ty = p.grad_ty();
                quote!(_: #ty)
            }));
            let mut functions = vec![("vjp", seeds, quote!((#ret, #grads)))];
            if sig.scalar_output() {
                functions.push(("grad", Vec::new(), quote!((#ret, #grads))));
                // Only the name matters to call sites that do not type-check anyway.
                functions.push(("grad_into", Vec::new(), quote!(!)));
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

/// Writes the ops of an adjoint program as Rust statements.
struct Body<'a> {
    func: &'a Func,
    krate: &'a syn::Path,
    /// Values something reads; the others are bound to `_`.
    used: HashSet<Value>,
    /// Values written at their uses instead of bound to a local.
    inline: HashMap<Value, TokenStream>,
    /// Values a method is called on or a `&mut` is taken of: bound with `let mut`.
    mutable: HashSet<Value>,
    /// Containers written somewhere: their loads are bound where they happen.
    written: HashSet<Value>,
    /// The gradient buffers of container parameters that are the caller's (in `f_grad_into`
    /// and pullbacks): what each is instead of a fresh one.
    into: HashMap<Value, TokenStream>,
    /// In a pullback: leave out side-effect statements, which ran in the primal call.
    quiet: bool,
    /// The struct of each inline field read.
    field_bases: HashMap<Value, Value>,
}

impl<'a> Body<'a> {
    fn new(func: &'a Func, krate: &'a syn::Path) -> Body<'a> {
        let mut body = Body {
            func,
            krate,
            used: func.used_values(),
            inline: HashMap::new(),
            mutable: HashSet::new(),
            written: HashSet::new(),
            into: HashMap::new(),
            quiet: false,
            field_bases: HashMap::new(),
        };
        body.find_written(&func.body);
        body.scan(&func.body);
        // Writing through a field (`&mut dp.w`) needs the struct `let mut`.
        let mut changed = true;
        while changed {
            changed = false;
            for (field, base) in &body.field_bases {
                if body.mutable.contains(field) && body.mutable.insert(*base) {
                    changed = true;
                }
            }
        }
        body
    }

    /// The containers stored into or pushed onto anywhere.
    fn find_written(&mut self, block: &Block) {
        for op in &block.ops {
            if let OpKind::Store { array, .. } | OpKind::Append { array, .. } = &op.kind {
                self.written
                    .insert(self.func.storage(*array).unwrap_or(*array));
            }
            if let OpKind::Call(call) = &op.kind {
                for arg in call.args.iter().filter(|a| a.pass.writes()) {
                    self.written
                        .insert(self.func.storage(arg.value).unwrap_or(arg.value));
                }
            }
            for inner in op.kind.blocks() {
                self.find_written(inner);
            }
        }
    }

    /// Finds the inline and the mutable values, in program order.
    fn scan(&mut self, block: &Block) {
        for op in &block.ops {
            match &op.kind {
                OpKind::Method { recv, .. }
                | OpKind::Ref {
                    mutable: true,
                    value: recv,
                } => {
                    self.mutable.insert(*recv);
                }
                // Containers written in place, and adjoint buffers, are `let mut`.
                OpKind::Store { array, .. } | OpKind::Append { array, .. } => {
                    self.mutable
                        .insert(self.func.storage(*array).unwrap_or(*array));
                }
                OpKind::BufferAdd { buffer, .. }
                | OpKind::BufferTake { buffer, .. }
                | OpKind::BufferAddAll { buffer, .. }
                | OpKind::AddTo { place: buffer, .. }
                | OpKind::BufferPop(buffer) => {
                    self.mutable.insert(*buffer);
                }
                OpKind::Pullback { args, .. } => {
                    self.mutable.extend(args.iter().filter_map(|a| match a {
                        Arg::Mut(buffer) => Some(*buffer),
                        _ => None,
                    }));
                }
                OpKind::Call(call) => {
                    for arg in call.args.iter().filter(|a| a.pass == Pass::Mut) {
                        self.mutable
                            .insert(self.func.storage(arg.value).unwrap_or(arg.value));
                    }
                }
                OpKind::CallPullback { call, seed, slots } => {
                    for arg in call.args.iter().filter(|a| a.pass == Pass::Mut) {
                        self.mutable.insert(arg.value);
                    }
                    if let Seed::Buffer(buffer) = seed {
                        self.mutable.insert(*buffer);
                    }
                    self.mutable.extend(slots.iter().filter_map(|s| s.value()));
                }
                _ => {}
            }
            for inner in op.kind.blocks() {
                self.scan(inner);
            }
            let [result] = op.results[..] else { continue };
            if op.ty.is_some() || self.func.info(result).name.is_some() {
                continue;
            }
            let tokens = match &op.kind {
                OpKind::Lit(lit) => lit.to_token_stream(),
                OpKind::Path(path) => path.to_token_stream(),
                OpKind::Field(base, member) => {
                    self.field_bases.insert(result, *base);
                    let base = self.val(*base);
                    quote_spanned!(op.span=> #base.#member)
                }
                // A load is written at its use only if nothing can write the element in
                // between.
                OpKind::Index(base, index)
                    if !self
                        .written
                        .contains(&self.func.storage(*base).unwrap_or(*base)) =>
                {
                    let (base, index) = (self.val(*base), self.val(*index));
                    quote_spanned!(op.span=> #base[#index])
                }
                _ => continue,
            };
            self.inline.insert(result, tokens);
        }
    }

    /// How the code refers to `v`.
    fn val(&self, v: Value) -> TokenStream {
        match self.inline.get(&v) {
            Some(tokens) => tokens.clone(),
            None => self.func.ident(v).to_token_stream(),
        }
    }

    fn vals(&self, vs: &[Value]) -> Vec<TokenStream> {
        vs.iter().map(|&v| self.val(v)).collect()
    }

    fn block_stmts(&self, block: &Block) -> TokenStream {
        block.ops.iter().map(|op| self.op(op)).collect()
    }

    /// The declarations of the stashes, at the top of the function.
    fn stashes(&self) -> TokenStream {
        let krate = self.krate;
        (0..self.func.stashes.len())
            .map(|i| {
                let ident = stash_ident(i);
                let kind = match self.func.stashes[i] {
                    StashKind::Slot => quote!(Slot),
                    StashKind::Stack => quote!(Stack),
                    StashKind::Bits => quote!(Bits),
                };
                quote!(let mut #ident = #krate::__private::#kind::new();)
            })
            .collect()
    }

    /// How a value is bound: `_` if nothing reads it, `mut x` if something writes it.
    fn binding(&self, v: Value) -> TokenStream {
        let ident = self.func.ident(v);
        match (self.used.contains(&v), self.mutable.contains(&v)) {
            (false, _) => quote!(_),
            (true, true) => quote!(mut #ident),
            (true, false) => quote!(#ident),
        }
    }

    /// The pattern binding an op's results: `_` for those nothing reads.
    fn pattern(&self, r: Value) -> TokenStream {
        if !self.used.contains(&r) {
            quote!(_)
        } else {
            self.func.ident(r).to_token_stream()
        }
    }

    /// A region's ops and its yielded value(s) as one expression: `{ ops; (a, b) }`.
    fn region(&self, block: &Block, yields: &[Value]) -> TokenStream {
        let stmts = self.block_stmts(block);
        let yields = self.vals(yields);
        match yields.as_slice() {
            [] => quote!({ #stmts }),
            [one] => quote!({ #stmts #one }),
            many => quote!({ #stmts (#(#many),*) }),
        }
    }

    /// `start..end` and its adaptors, parenthesized only when adaptors follow; with `wrap`,
    /// `wrap(start..end)` and the adaptors.
    fn range(&self, range: &Range, wrap: Option<TokenStream>) -> TokenStream {
        let (start, end) = (self.val(range.start), self.val(range.end));
        let mut tokens = if range.inclusive {
            quote!(#start..=#end)
        } else {
            quote!(#start..#end)
        };
        if let Some(wrap) = wrap {
            tokens = quote!(#wrap(#tokens));
        } else if !range.adaptors.is_empty() {
            tokens = quote!((#tokens));
        }
        for adaptor in &range.adaptors {
            tokens = match adaptor {
                Adaptor::Rev => quote!(#tokens.rev()),
                Adaptor::StepBy(k) => {
                    let k = self.val(*k);
                    quote!(#tokens.step_by(#k))
                }
            };
        }
        tokens
    }

    /// A loop: the carried values live in `let mut` slots named after the loop's results;
    /// each iteration binds the region's arguments from them and writes its yields back.
    fn loop_op(
        &self,
        op: &Op,
        header: Option<(&Range, &[usize])>,
        init: &[Value],
        body: &Block,
        exits: bool,
        trips: bool,
    ) -> TokenStream {
        let span = op.span;
        let trip = trips.then(|| self.func.ident(op.results[init.len()]));
        let (index, args) = match header {
            Some(_) => (body.args.first().copied(), &body.args[1..]),
            None => (None, &body.args[..]),
        };
        let (go_on, yields) = match exits || header.is_none() {
            true => (body.yields.first().map(|&v| self.val(v)), &body.yields[1..]),
            false => (None, &body.yields[..]),
        };
        // Containers are carried in place: only the other values need slots.
        let scalars: Vec<usize> = (0..init.len())
            .filter(|&j| self.func.storage(op.results[j]).is_none())
            .collect();
        let slots: Vec<Ident> = scalars
            .iter()
            .map(|&j| self.func.ident(op.results[j]))
            .collect();
        let inits: Vec<TokenStream> = scalars.iter().map(|&j| self.val(init[j])).collect();
        let arg_pats: Vec<TokenStream> = scalars.iter().map(|&j| self.pattern(args[j])).collect();
        let yields: Vec<TokenStream> = scalars.iter().map(|&j| self.val(yields[j])).collect();
        let stmts = self.block_stmts(body);
        let count = trip.as_ref().map(|t| quote!(#t += 1;));
        let leave = go_on.map(|g| quote!(if !#g { break; }));
        let iteration = quote! {
            #(let #arg_pats = #slots;)*
            #count
            #stmts
            #(#slots = #yields;)*
            #leave
        };
        let trip_decl = trip.as_ref().map(|t| quote!(let mut #t: usize = 0;));
        let the_loop = match header {
            Some((range, reserve)) => {
                let index = index.map_or_else(|| quote!(_), |i| self.pattern(i));
                let range = self.range(range, None);
                if reserve.is_empty() {
                    quote_spanned!(span=> for #index in #range { #iteration })
                } else {
                    let it = format_ident!("__ad_it", span = Span::mixed_site());
                    let stashes = reserve.iter().map(|&s| stash_ident(s));
                    quote_spanned! {span=>
                        let #it = #range;
                        #(#stashes.reserve(#it.size_hint().0);)*
                        for #index in #it { #iteration }
                    }
                }
            }
            None => quote_spanned!(span=> loop { #iteration }),
        };
        quote! {
            #(let mut #slots = #inits;)*
            #trip_decl
            #the_loop
        }
    }

    fn op(&self, op: &Op) -> TokenStream {
        if op.results.iter().any(|r| self.inline.contains_key(r)) {
            return TokenStream::new();
        }
        let span = op.span;
        let statement =
            op.results.is_empty() && matches!(op.kind, OpKind::Method { .. } | OpKind::Call(_));
        if self.quiet && (statement || matches!(op.kind, OpKind::Effect { .. })) {
            return TokenStream::new();
        }
        match &op.kind {
            OpKind::CallPullback { call, seed, slots } => {
                return self.call_pullback(op, call, seed, slots);
            }
            // The containers a call writes change in place: only its value is bound (a tuple
            // destructured).
            OpKind::Call(call) if op.results.len() > 1 => {
                let expr = self.expr(op);
                let returned = &op.results[..call.returned];
                if !returned.iter().any(|r| self.used.contains(r)) {
                    return quote_spanned!(span=> #expr;);
                }
                let patterns: Vec<TokenStream> =
                    returned.iter().map(|&r| self.pattern(r)).collect();
                return match patterns.as_slice() {
                    [one] => quote_spanned!(span=> let #one = #expr;),
                    many => quote_spanned!(span=> let (#(#many),*) = #expr;),
                };
            }
            OpKind::For {
                range,
                init,
                body,
                exits,
                trips,
                reserve,
            } => {
                return self.loop_op(op, Some((range, reserve)), init, body, *exits, *trips);
            }
            OpKind::Loop { init, body, trips } => {
                return self.loop_op(op, None, init, body, true, *trips);
            }
            OpKind::If { cond, then, els } => {
                let cond = self.val(*cond);
                // An `if` whose results are dropped yields nothing; containers change in place.
                let kept: Vec<usize> = (0..op.results.len())
                    .filter(|&j| self.func.storage(op.results[j]).is_none())
                    .collect();
                let pick =
                    |b: &Block| -> Vec<Value> { kept.iter().map(|&j| b.yields[j]).collect() };
                let (then_yields, else_yields) = (pick(then), pick(els));
                let then_region = self.region(then, &then_yields);
                let else_region = (!els.ops.is_empty() || !else_yields.is_empty()).then(|| {
                    let region = self.region(els, &else_yields);
                    quote!(else #region)
                });
                let patterns: Vec<TokenStream> =
                    kept.iter().map(|&j| self.pattern(op.results[j])).collect();
                return match patterns.as_slice() {
                    [] => quote_spanned!(span=> if #cond #then_region #else_region),
                    [one] => quote_spanned!(span=> let #one = if #cond #then_region #else_region;),
                    many => {
                        quote_spanned!(span=> let (#(#many),*) = if #cond #then_region #else_region;)
                    }
                };
            }
            OpKind::Store {
                array,
                index,
                value,
            } => {
                let (array, index, value) = (self.val(*array), self.val(*index), self.val(*value));
                return quote_spanned!(span=> #array[#index] = #value;);
            }
            OpKind::Append { array, value } => {
                let (array, value) = (self.val(*array), self.val(*value));
                return quote_spanned!(span=> #array.push(#value););
            }
            OpKind::BufferAdd {
                buffer,
                index,
                value,
            } => {
                let (buffer, index, value) =
                    (self.val(*buffer), self.val(*index), self.val(*value));
                // `Float` has no `+=`.
                let krate = self.krate;
                return quote_spanned!(span=> #krate::__private::add_to(&mut #buffer[#index], #value););
            }
            OpKind::BufferAddAll { buffer, from } => {
                let (buffer, from) = (self.val(*buffer), self.val(*from));
                let krate = self.krate;
                return quote_spanned!(span=> #krate::__private::add_all(&mut #buffer, &#from););
            }
            OpKind::AddTo { place, value } => {
                let (place, value) = (self.val(*place), self.val(*value));
                let krate = self.krate;
                return quote_spanned!(span=> #krate::__private::add_to(&mut #place, #value););
            }
            OpKind::CheckLen { seed, like, name } => {
                let (seed, like) = (self.val(*seed), self.val(*like));
                let krate = self.krate;
                return quote_spanned!(span=> #krate::__private::check_seed(&#seed, #like.len(), #name););
            }
            OpKind::Push { stash, values } => {
                let stash = stash_ident(*stash);
                let values = self.vals(values);
                let value = match values.as_slice() {
                    [one] => one.clone(),
                    many => quote!((#(#many),*)),
                };
                return quote_spanned!(span=> #stash.push(#value););
            }
            _ => {}
        }
        let expr = self.expr(op);
        let span = op.span;
        let pattern: Vec<TokenStream> = op
            .results
            .iter()
            .map(|&r| {
                if !self.used.contains(&r) {
                    quote!(_)
                } else if self.mutable.contains(&r) {
                    let ident = self.func.ident(r);
                    quote!(mut #ident)
                } else {
                    self.func.ident(r).to_token_stream()
                }
            })
            .collect();
        let allow_mut = if op.results.iter().any(|r| self.mutable.contains(r)) {
            quote!(#[allow(unused_mut, reason = "whether the method called on it needs `mut` is not known")])
        } else {
            quote!()
        };
        let ty = op.ty.as_ref().map(|ty| quote!(: #ty));
        match pattern.as_slice() {
            [] if ty.is_some() => quote_spanned!(span=> let _ #ty = #expr;),
            [] => quote_spanned!(span=> #expr;),
            [one] => quote_spanned!(span=> #allow_mut let #one #ty = #expr;),
            many => quote_spanned!(span=> let (#(#many),*) #ty = #expr;),
        }
    }

    fn expr(&self, op: &Op) -> TokenStream {
        let span = op.span;
        let krate = self.krate;
        match &op.kind {
            OpKind::Lit(lit) => lit.to_token_stream(),
            OpKind::Path(path) => path.to_token_stream(),
            OpKind::Prim(prim, args) => {
                let args = self.vals(args);
                match (prim.syntax, args.as_slice()) {
                    (Syntax::Infix(c), [a, b]) => {
                        let op = Punct::new(c, Spacing::Alone);
                        quote_spanned!(span=> #a #op #b)
                    }
                    (Syntax::Prefix(c), [a]) => {
                        let op = Punct::new(c, Spacing::Alone);
                        quote_spanned!(span=> #op #a)
                    }
                    (Syntax::Function, _) => {
                        let name = Ident::new(prim.name, span);
                        let args = args.iter().zip(prim.operands).map(|(a, kind)| match kind {
                            crate::prims::Operand::Array => quote!(&#a),
                            _ => a.clone(),
                        });
                        quote_spanned!(span=> #krate::linalg::#name(#(#args),*))
                    }
                    (_, [recv, rest @ ..]) => {
                        let method = Ident::new(prim.name, span);
                        quote_spanned!(span=> #recv.#method(#(#rest),*))
                    }
                    // The verifier checks operand counts; an empty list cannot reach here.
                    (_, []) => quote!(),
                }
            }
            OpKind::Cast(v, ty) => {
                let v = self.val(*v);
                quote_spanned!(span=> #v as #ty)
            }
            OpKind::Unary(op, v) => {
                let v = self.val(*v);
                quote_spanned!(span=> #op #v)
            }
            OpKind::Binary(op, a, b) => {
                let (a, b) = (self.val(*a), self.val(*b));
                quote_spanned!(span=> #a #op #b)
            }
            OpKind::Logic { or, lhs, rhs } => {
                let lhs = self.val(*lhs);
                let op = if *or {
                    quote_spanned!(span=> ||)
                } else {
                    quote_spanned!(span=> &&)
                };
                let stmts = self.block_stmts(rhs);
                let value = rhs.yields.first().map(|&v| self.val(v));
                if rhs
                    .ops
                    .iter()
                    .all(|o| o.results.iter().all(|r| self.inline.contains_key(r)))
                {
                    quote_spanned!(span=> #lhs #op #value)
                } else {
                    quote_spanned!(span=> #lhs #op { #stmts #value })
                }
            }
            OpKind::Field(base, member) => {
                let base = self.val(*base);
                quote_spanned!(span=> #base.#member)
            }
            OpKind::Index(base, index) => {
                let (base, index) = (self.val(*base), self.val(*index));
                quote_spanned!(span=> #base[#index])
            }
            OpKind::Ref { mutable, value } => {
                let value = self.val(*value);
                if *mutable {
                    quote_spanned!(span=> &mut #value)
                } else {
                    quote_spanned!(span=> &#value)
                }
            }
            OpKind::Call(call) => {
                // An owned container the callee takes is cloned if the reverse sweep passes it
                // again.
                let again = op.results.iter().any(|&r| self.func.is_active(r));
                let args = self.call_args(call, again);
                callee(&call.callee, "", &args, span)
            }
            OpKind::Method {
                recv,
                method,
                turbofish,
                args,
            } => {
                let (recv, args) = (self.val(*recv), self.vals(args));
                quote_spanned!(span=> #recv.#method #turbofish (#(#args),*))
            }
            OpKind::Effect { mac, .. } => mac.to_token_stream(),
            // Typed by the op's annotation, the return type.
            OpKind::Original(block) => quote_spanned!(span=> (|| #block)()),
            OpKind::Pullback { rule, args } => {
                let args: Vec<TokenStream> = args
                    .iter()
                    .map(|arg| match arg {
                        Arg::Value(v) => self.val(*v),
                        Arg::Clone(v) => {
                            let v = self.val(*v);
                            quote!(::core::clone::Clone::clone(&#v))
                        }
                        Arg::Ref(v) => {
                            let v = self.val(*v);
                            quote!(&#v)
                        }
                        Arg::Mut(v) => {
                            let v = self.val(*v);
                            quote!(&mut #v)
                        }
                        Arg::EmptyRef => quote!(&[]),
                        Arg::EmptyMut => quote!(&mut []),
                    })
                    .collect();
                match rule {
                    Rule::Runtime(name) => {
                        let rule = Ident::new(name, Span::call_site());
                        quote_spanned!(span=> #krate::rules::#rule(#(#args),*))
                    }
                    // Spanned at the user's path, where a signature mismatch is reported.
                    Rule::User(path) => quote_spanned!(span=> #path(#(#args),*)),
                }
            }
            OpKind::ZeroLike(v) => {
                let v = self.val(*v);
                quote_spanned!(span=> #krate::__private::zero_like(#v))
            }
            OpKind::Placeholder => quote_spanned!(span=> #krate::__private::placeholder()),
            OpKind::Matches(v, pat) => {
                let v = self.val(*v);
                quote_spanned!(span=> ::core::matches!(#v, #pat))
            }
            OpKind::Pop { stash } => {
                let stash = stash_ident(*stash);
                quote_spanned!(span=> #stash.pop())
            }
            OpKind::Progression(range) => self.range(
                range,
                Some(quote_spanned!(span=> #krate::__private::Progression::of)),
            ),
            OpKind::At(p, k) => {
                let (p, k) = (self.val(*p), self.val(*k));
                quote_spanned!(span=> #p.at(#k))
            }
            OpKind::Array(init) => match init {
                ArrayInit::Repeat { value, len, vec } => {
                    let value = self.val(*value);
                    let len = match len {
                        Len::Value(n) => self.val(*n),
                        Len::Const(e) => e.to_token_stream(),
                    };
                    if *vec {
                        quote_spanned!(span=> ::std::vec![#value; #len])
                    } else {
                        quote_spanned!(span=> [#value; #len])
                    }
                }
                ArrayInit::List { values, vec } => {
                    let values = self.vals(values);
                    if *vec {
                        quote_spanned!(span=> ::std::vec![#(#values),*])
                    } else {
                        quote_spanned!(span=> [#(#values),*])
                    }
                }
                // A `Vec` for a slice or a `Vec`, an array for an array.
                ArrayInit::Copy(v) => {
                    let v = self.val(*v);
                    quote_spanned!(span=> #v.to_owned())
                }
                ArrayInit::Empty { capacity: None } => {
                    quote_spanned!(span=> ::std::vec::Vec::new())
                }
                ArrayInit::Empty { capacity: Some(n) } => {
                    let n = self.val(*n);
                    quote_spanned!(span=> ::std::vec::Vec::with_capacity(#n))
                }
            },
            OpKind::Len(v) => {
                let v = self.val(*v);
                quote_spanned!(span=> #v.len())
            }
            OpKind::Buffer(v) => match op.results.first().and_then(|r| self.into.get(r)) {
                Some(buffer) => buffer.clone(),
                None => {
                    let v = self.val(*v);
                    quote_spanned!(span=> #krate::__private::AdjointBuffer::__ad_zeros(&#v))
                }
            },
            OpKind::BufferTake { buffer, index } => {
                let (buffer, index) = (self.val(*buffer), self.val(*index));
                quote_spanned!(span=> #krate::__private::take(&mut #buffer[#index]))
            }
            OpKind::BufferPop(v) => {
                let v = self.val(*v);
                quote_spanned!(span=> #krate::__private::pop(&mut #v))
            }
            OpKind::BufferSum(v) => {
                let v = self.val(*v);
                quote_spanned!(span=> #krate::__private::sum(&#v))
            }
            // Emitted as statements by `op`.
            OpKind::CallPullback { .. }
            | OpKind::If { .. }
            | OpKind::For { .. }
            | OpKind::Loop { .. }
            | OpKind::Push { .. }
            | OpKind::Store { .. }
            | OpKind::Append { .. }
            | OpKind::BufferAdd { .. }
            | OpKind::BufferAddAll { .. }
            | OpKind::AddTo { .. }
            | OpKind::CheckLen { .. } => quote!(),
        }
    }
}

impl Body<'_> {
    /// A call's arguments as the user wrote them; owned containers cloned if `clone`.
    fn call_args(&self, call: &Call, clone: bool) -> Vec<TokenStream> {
        let method = matches!(call.callee, Callee::Method { .. });
        call.args
            .iter()
            .enumerate()
            .map(|(i, arg)| {
                let v = self.val(arg.value);
                // A method's receiver is written as such: `self.layer.f(..)`.
                if method && i == 0 {
                    return v;
                }
                match arg.pass {
                    Pass::Value | Pass::Reborrow => v,
                    Pass::Moved if !clone => v,
                    Pass::Moved => quote!(::core::clone::Clone::clone(&#v)),
                    Pass::Ref => quote!(&#v),
                    Pass::Mut => quote!(&mut #v),
                }
            })
            .collect()
    }

    /// `let (da, _, ..) = g_pullback(args.., seed, slots..);`, each adjoint then checked to be
    /// one (`adjoint(da)`: the callee returns `Skip` for a parameter it does not differentiate,
    /// and the error says so).
    fn call_pullback(&self, op: &Op, call: &Call, seed: &Seed, slots: &[Slot]) -> TokenStream {
        let krate = self.krate;
        let span = op.span;
        let mut args = self.call_args(call, true);
        args.push(match seed {
            Seed::None => quote_spanned!(span=> ::core::option::Option::None),
            Seed::Value(v) => self.val(*v),
            Seed::Tuple(vs) => {
                let vs = self.vals(vs);
                quote!((#(#vs),*))
            }
            Seed::Buffer(b) => {
                let b = self.val(*b);
                quote_spanned!(span=> &mut #b)
            }
        });
        args.extend(slots.iter().map(|slot| match slot {
            Slot::Skip => quote_spanned!(span=> #krate::__private::Skip),
            Slot::Buffer(b) => {
                let b = self.val(*b);
                quote_spanned!(span=> &mut #b[..])
            }
            Slot::Struct(b) => {
                let b = self.val(*b);
                quote_spanned!(span=> &mut #b)
            }
        }));
        let patterns = op.results.iter().map(|&r| self.pattern(r));
        let checks = op
            .results
            .iter()
            .zip(&call.args)
            .filter(|(r, _)| self.used.contains(r))
            .map(|(&r, arg)| {
                let (r, like) = (self.func.ident(r), self.val(arg.value));
                let check = located_at(quote!(#krate::__private::adjoint(#like, #r)), span);
                quote_spanned!(span=> let #r = #check;)
            });
        let call = callee(&call.callee, "_pullback", &args, span);
        quote_spanned! {span=>
            let (#(#patterns,)*) = #call;
            #(#checks)*
        }
    }
}

/// `tokens` with their hygiene kept but located at `span`, so that errors in them point there.
fn located_at(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut token| {
            if let proc_macro2::TokenTree::Group(group) = &token {
                let mut inner =
                    proc_macro2::Group::new(group.delimiter(), located_at(group.stream(), span));
                inner.set_span(group.span().located_at(span));
                token = proc_macro2::TokenTree::Group(inner);
            } else {
                token.set_span(token.span().located_at(span));
            }
            token
        })
        .collect()
}

/// A call of `callee` with its name suffixed (`m::g_pullback::<T>(..)` for `m::g::<T>`, and
/// `a.g_pullback(..)` for a method), spanned at the user's callee, so that a callee without
/// a pullback is an error there.
fn callee(callee: &Callee, suffix: &str, args: &[TokenStream], span: Span) -> TokenStream {
    match callee {
        Callee::Path(path) => {
            let mut path = path.clone();
            if let Some(last) = path.path.segments.last_mut() {
                last.ident = format_ident!("{}{}", last.ident, suffix, span = last.ident.span());
            }
            quote_spanned!(span=> #path(#(#args),*))
        }
        Callee::Method { name, turbofish } => {
            let name = format_ident!("{}{}", name, suffix, span = name.span());
            let (recv, rest) = args
                .split_first()
                .map_or((None, args), |(r, rest)| (Some(r), rest));
            quote_spanned!(span=> #recv.#name #turbofish (#(#rest),*))
        }
    }
}

fn stash_ident(i: usize) -> Ident {
    format_ident!("__ad_stash{}", i, span = Span::mixed_site())
}
