//! The first stage: which parameters are active, and what the generated functions return.
//!
//! Types are classified by syntax alone: `f32`, `f64` and a generic parameter bounded by a
//! trait named `Float` (`T: Float`, `T: num_traits::Float + Debug`, `where T: Float`) are
//! float types; every other parameter is inactive and passed through.

use proc_macro2::Ident;
use syn::{FnArg, GenericParam, Pat, ReturnType, Type, TypeParamBound, WherePredicate};

use crate::errors::Errors;

/// A parameter of the user's function.
pub struct Param {
    /// `None` for `_`.
    pub ident: Option<Ident>,
    pub ty: Type,
    /// Differentiated with respect to.
    pub active: bool,
}

/// What the rest of the pipeline needs to know about the user's signature.
pub struct Signature {
    pub params: Vec<Param>,
    /// The scalar float return type.
    pub ret: Type,
    /// Generic type parameters bounded by `Float`.
    pub float_generics: Vec<Ident>,
}

impl Signature {
    /// Classifies the parameters of `sig`; `None` (with the errors recorded) if the signature
    /// itself cannot be differentiated.
    pub fn analyze(
        sig: &syn::Signature,
        wrt: Option<&[Ident]>,
        errors: &mut Errors,
    ) -> Option<Signature> {
        let before = errors.count();
        if let Some(token) = &sig.asyncness {
            errors.spanned(token, "async functions are not supported: differentiate the synchronous computation and call it from async code");
        }
        if let syn::Safety::Unsafe(token) = &sig.safety {
            errors.spanned(token, "unsafe functions are not supported: #[reverse] differentiates safe code; move the unsafe part out");
        }
        if let Some(abi) = &sig.abi {
            errors.spanned(abi, "`extern` functions are not supported: put #[reverse] on a plain Rust function and call it from the `extern` one");
        }
        if let Some(variadic) = &sig.variadic {
            errors.spanned(variadic, "variadic functions are not supported");
        }
        let float_generics = float_generics(&sig.generics);
        let mut params = Vec::new();
        for arg in &sig.inputs {
            match arg {
                FnArg::Receiver(receiver) => {
                    errors.spanned(receiver, "methods with a `self` receiver are not supported yet: write a free function (or an associated function without `self`) that takes the values it needs");
                }
                FnArg::Typed(pat_type) => {
                    let ident = match &*pat_type.pat {
                        Pat::Ident(p) if p.by_ref.is_none() && p.subpat.is_none() => {
                            Some(p.ident.clone())
                        }
                        Pat::Wild(_) => None,
                        other => {
                            errors.spanned(other, "only identifiers and `_` are supported as parameter patterns: take the parameter by name and destructure it in the body");
                            continue;
                        }
                    };
                    if let Type::ImplTrait(impl_trait) = &*pat_type.ty {
                        errors.spanned(impl_trait, "`impl Trait` parameters are not supported: name a generic parameter, as in `fn f<T: Float>(x: T)`");
                        continue;
                    }
                    let ty = (*pat_type.ty).clone();
                    let is_float = is_float(&ty, &float_generics);
                    let active = match wrt {
                        Some(names) => ident.as_ref().is_some_and(|i| names.contains(i)),
                        None => is_float && ident.is_some(),
                    };
                    params.push(Param { ident, ty, active });
                }
            }
        }
        for name in wrt.unwrap_or_default() {
            match params.iter().find(|p| p.ident.as_ref() == Some(name)) {
                None => {
                    let names: Vec<String> = params
                        .iter()
                        .filter_map(|p| p.ident.as_ref().map(|i| format!("`{i}`")))
                        .collect();
                    let message = format!(
                        "`wrt` names `{name}`, which is not a parameter of this function; its parameters are {}",
                        names.join(", ")
                    );
                    errors.spanned(name, message);
                }
                Some(p) if !is_float(&p.ty, &float_generics) => {
                    errors.spanned(name, format!("`{name}` cannot be differentiated with respect to: only parameters of type f32, f64 or a generic `T: Float` can be active"));
                }
                Some(_) => {}
            }
        }
        if wrt.is_none() {
            for arg in &sig.inputs {
                if let FnArg::Typed(t) = arg
                    && let Pat::Wild(_) = &*t.pat
                    && is_float(&t.ty, &float_generics)
                {
                    errors.spanned(t, "a float parameter named `_` cannot be active: give it a name (`_x` if it is unused), or list the active parameters in `wrt(...)`");
                }
            }
        }
        let ret = match &sig.output {
            ReturnType::Type(_, ty) if is_float(ty, &float_generics) => Some((**ty).clone()),
            ReturnType::Type(_, ty) => {
                errors.spanned(ty, "#[reverse] functions must return a scalar float (f32, f64 or a generic `T: Float`); tuple, array and Vec outputs are not supported yet");
                None
            }
            ReturnType::Default => {
                errors.spanned(&sig.ident, "#[reverse] functions must return a scalar float: add `-> f64` (or f32, or a generic `T: Float`)");
                None
            }
        };
        if !params.iter().any(|p| p.active) && wrt.is_none() {
            errors.spanned(&sig.ident, format!("`{}` has no parameter to differentiate with respect to: #[reverse] differentiates with respect to parameters of type f32, f64 or a generic `T: Float`; add one (`x: f64`), or name an existing one in `wrt(...)`", sig.ident));
        }
        if errors.count() != before {
            return None;
        }
        Some(Signature {
            params,
            ret: ret?,
            float_generics,
        })
    }

    /// Whether `ty` is one of the float types (an active value has one of them).
    pub fn is_float(&self, ty: &Type) -> bool {
        is_float(ty, &self.float_generics)
    }

    /// Whether the type named `ident` is a float type.
    pub fn is_float_name(&self, ident: &Ident) -> bool {
        ident == "f32" || ident == "f64" || self.float_generics.contains(ident)
    }

    /// The active parameters, in order.
    pub fn active(&self) -> impl Iterator<Item = &Param> {
        self.params.iter().filter(|p| p.active)
    }
}

/// `f32`, `f64` or one of the `Float`-bounded generic parameters.
fn is_float(ty: &Type, float_generics: &[Ident]) -> bool {
    match ty {
        Type::Paren(t) => is_float(&t.elem, float_generics),
        Type::Group(t) => is_float(&t.elem, float_generics),
        Type::Path(t) if t.qself.is_none() => t.path.get_ident().is_some_and(|ident| {
            ident == "f32" || ident == "f64" || float_generics.contains(ident)
        }),
        _ => false,
    }
}

/// The type parameters with a bound whose last path segment is `Float`, inline or in the
/// where-clause.
fn float_generics(generics: &syn::Generics) -> Vec<Ident> {
    fn has_float<'a>(mut bounds: impl Iterator<Item = &'a TypeParamBound>) -> bool {
        bounds.any(|b| match b {
            TypeParamBound::Trait(t) => t.path.segments.last().is_some_and(|s| s.ident == "Float"),
            _ => false,
        })
    }
    let mut out = Vec::new();
    for param in &generics.params {
        if let GenericParam::Type(t) = param
            && has_float(t.bounds.iter())
        {
            out.push(t.ident.clone());
        }
    }
    if let Some(where_clause) = &generics.where_clause {
        for predicate in &where_clause.predicates {
            if let WherePredicate::Type(p) = predicate
                && let Type::Path(path) = &p.bounded_ty
                && let Some(ident) = path.path.get_ident()
                && has_float(p.bounds.iter())
                && !out.contains(ident)
            {
                out.push(ident.clone());
            }
        }
    }
    out
}
