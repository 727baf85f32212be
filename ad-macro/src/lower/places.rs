//! Parameter structs. A field of an active parameter struct (a parameter named in `wrt(..)`,
//! or `&self`) is a *place*: `p.w`, `p.layer.b`. The struct is never written, so each place is
//! one value, defined once at the top of the function and written inline as the user wrote
//! it; its adjoint is the same field of the struct's adjoint. A place used as a container
//! (indexed, iterated, ...) becomes one, like the result of a call.
//!
//! Before: `p.w[i] * p.b` (in a loop)
//! After:  `%3 = field %p.0.w; %4 = field %p.0.b` (hoisted), then `%7 = index %3, %i.5`

use proc_macro2::Span;
use quote::ToTokens;

use super::Lower;
use crate::ir::{Op, OpKind, Value};
use crate::signature::Shape;

impl Lower<'_> {
    /// Whether `v` is an active parameter struct, or a field of one that is not a container.
    pub(super) fn is_struct(&self, v: Value) -> bool {
        let info = self.func.info(v);
        if info.place.is_some() {
            return info.storage.is_none();
        }
        self.func
            .params
            .iter()
            .zip(&self.sig.params)
            .any(|(p, s)| p.value == v && s.active && matches!(s.shape, Shape::Struct { .. }))
    }

    /// Whether `v` is `self` or a parameter named in `wrt(..)` as a struct, active or not:
    /// its methods are other `#[reverse]` functions.
    pub(super) fn has_methods(&self, v: Value) -> bool {
        self.is_struct(v)
            || self
                .func
                .params
                .iter()
                .zip(&self.sig.params)
                .any(|(p, s)| p.value == v && matches!(s.shape, Shape::Struct { .. }))
    }

    /// The place `base.member`, made at the top of the function the first time it is read.
    pub(super) fn field_place(&mut self, base: Value, member: &syn::Member, span: Span) -> Value {
        let key = (base, member.to_token_stream().to_string());
        if let Some(&place) = self.places.get(&key) {
            return place;
        }
        let place = self.func.new_value(None);
        self.func.values[place.index()].place = Some((base, super::ir_member(member)));
        self.hoisted.push(Op::new(
            vec![place],
            OpKind::Field(base, super::ir_member(member)),
            span,
        ));
        self.places.insert(key, place);
        self.maybe_containers.insert(place);
        place
    }
}
