//! The first stage: which parameters are active, and what the generated functions return.
//!
//! Types are classified by syntax alone: `f32`, `f64` and a generic parameter bounded by a
//! trait named `Float` (`T: Float`, `T: num_traits::Float + Debug`, `where T: Float`) are
//! float types; `&[F]`, `&mut [F]`, `Vec<F>`, `&Vec<F>`, `[F; N]`, `&[F; N]` of a float type
//! are float containers. Both are active unless `wrt(...)` says otherwise; every other
//! parameter is inactive and passed through (a container of another type still is a container:
//! it can be indexed).
//!
//! Outputs: the returned value (a float, a tuple of floats, `[F; M]` or `Vec<F>`) and every
//! active `&mut` container parameter, whose final contents are outputs too.

use proc_macro2::Ident;
use syn::{FnArg, GenericParam, Pat, ReturnType, Type, TypeParamBound, WherePredicate};

use crate::errors::Errors;
pub use crate::ir::Library;
use crate::options::Options;

/// What a type is, as far as differentiation is concerned.
#[derive(Clone)]
pub enum Shape {
    /// `f32`, `f64`, `T: Float`.
    Scalar,
    /// `&[E]`, `Vec<E>`, `&Vec<E>`, `&mut [E]`, `&mut Vec<E>`: a gradient `Vec<E>`. With a
    /// `row`, the elements are rows (`&[[E; 3]]`, `Vec<[E; 3]>`, `&[Vec<E>]`): a gradient
    /// `Vec` of rows, and the generated code holds the floats flat.
    Slice {
        elem: Type,
        mutable: bool,
        row: Option<Rows>,
    },
    /// `[E; N]`, `&[E; N]`, `&mut [E; N]`: a gradient `[E; N]`; with a `row`, `[[E; row];
    /// N]`.
    Array {
        elem: Type,
        len: Box<syn::Expr>,
        mutable: bool,
        row: Option<Rows>,
    },
    /// A parameter struct, `&P` or `P` (`P: Params`), active when named in `wrt(...)` (or
    /// `&self`): a gradient `P`.
    Struct { ty: Type },
    /// Anything else.
    Other,
}

impl Shape {
    /// Whether values of this shape are indexed containers.
    pub fn is_container(&self) -> bool {
        matches!(self, Shape::Slice { .. } | Shape::Array { .. })
    }

    /// Whether an active value of this shape has an adjoint buffer (a container or a struct)
    /// rather than a scalar adjoint.
    pub fn has_buffer(&self) -> bool {
        matches!(
            self,
            Shape::Slice { .. } | Shape::Array { .. } | Shape::Struct { .. }
        )
    }

    /// The element type of a container.
    pub fn elem(&self) -> Option<&Type> {
        match self {
            Shape::Slice { elem, .. } | Shape::Array { elem, .. } => Some(elem),
            _ => None,
        }
    }

    /// The rows of a nested container (`[f64; 3]` of `&[[f64; 3]]`).
    pub fn row(&self) -> Option<&Rows> {
        match self {
            Shape::Slice { row, .. } | Shape::Array { row, .. } => row.as_ref(),
            _ => None,
        }
    }

    fn mutable(&self) -> bool {
        matches!(
            self,
            Shape::Slice { mutable: true, .. } | Shape::Array { mutable: true, .. }
        )
    }
}

/// The rows of a nested container parameter.
#[derive(Clone)]
pub enum Rows {
    /// Arrays of one length (`[E; 3]`), a constant as written.
    Array(Box<syn::Expr>),
    /// `Vec<E>`s, each of its own length (`&[Vec<E>]`, `Vec<Vec<E>>`): the generated code
    /// holds their floats flat beside the offsets where each row starts.
    Vec,
}

impl Rows {
    /// The type of a row of `elem`s: `[E; N]` or `Vec<E>` (`krate`: the runtime's path).
    pub fn ty(&self, elem: &Type, krate: &syn::Path) -> proc_macro2::TokenStream {
        match self {
            Rows::Array(len) => quote::quote!([#elem; #len]),
            Rows::Vec => quote::quote!(#krate::__private::Vec<#elem>),
        }
    }
}

/// A parameter of the user's function.
pub struct Param {
    /// `None` for `_`.
    pub ident: Option<Ident>,
    pub ty: Type,
    pub shape: Shape,
    /// Differentiated with respect to.
    pub active: bool,
    /// A vector or matrix of nalgebra or ndarray (`&DVector<F>`, `Array2<F>`): a container
    /// (a [`Shape::Slice`] of its elements) indexed as the library indexes it, whose gradient
    /// is the library's type (`__private::AdjointBuffer`'s buffer, zeros of its shape).
    pub library: Option<Library>,
}

impl Library {
    /// `ty` without its reference, every lifetime `'static` (`&ArrayView1<'a, F>` ->
    /// `ArrayView1<'static, F>`, `ArrayView1<F>` too): a type the gradient's type
    /// (`<T as AdjointBuffer>::Buffer`, owned) can be named by in a signature, where an
    /// elided lifetime would be an error.
    pub fn owned_static(ty: &Type) -> Type {
        let mut inner = match ty {
            Type::Reference(r) => (*r.elem).clone(),
            other => other.clone(),
        };
        if let Type::Path(p) = &mut inner
            && let Some(last) = p.path.segments.last_mut()
            && let syn::PathArguments::AngleBracketed(args) = &mut last.arguments
        {
            let mut has_lifetime = false;
            for arg in args.args.iter_mut() {
                if let syn::GenericArgument::Lifetime(l) = arg {
                    *l = syn::Lifetime::new("'static", l.span());
                    has_lifetime = true;
                }
            }
            if !has_lifetime && last.ident.to_string().starts_with("ArrayView") {
                args.args.insert(0, syn::parse_quote!('static));
            }
        }
        inner
    }

    /// The library container a type names (by the last segment of its path, as for `Vec`),
    /// and its element type.
    fn of(ty: &Type) -> Option<(Library, Type)> {
        let Type::Path(p) = ty else { return None };
        let last = p.path.segments.last()?;
        let library = match last.ident.to_string().as_str() {
            "DVector" | "SVector" => Library::NalgebraVector,
            "DMatrix" => Library::NalgebraMatrix,
            "Array1" | "ArrayView1" => Library::NdarrayVector,
            "Array2" | "ArrayView2" => Library::NdarrayMatrix,
            _ => return None,
        };
        let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
            return None;
        };
        // The element is the first type argument (`ArrayView1<'a, F>` starts with a lifetime).
        let elem = args.args.iter().find_map(|arg| match arg {
            syn::GenericArgument::Type(t) => Some(t.clone()),
            _ => None,
        })?;
        Some((library, elem))
    }
}

impl Param {
    /// An active `&mut` container: its final contents are an output.
    pub fn is_output(&self) -> bool {
        self.active && self.shape.mutable()
    }

    /// The element type of an active container of floats.
    pub fn elem_if_active(&self) -> Option<&Type> {
        self.shape.elem().filter(|_| self.active)
    }

    /// The type of this parameter's gradient (`krate`: the runtime's path, through which a
    /// `Vec` is named, since the user's crate may be `no_std`).
    pub fn grad_ty(&self, krate: &syn::Path) -> proc_macro2::TokenStream {
        if self.library.is_some() {
            let ty = Library::owned_static(&self.ty);
            return quote::quote!(<#ty as #krate::__private::AdjointBuffer>::Buffer);
        }
        match &self.shape {
            Shape::Slice {
                elem, row: None, ..
            } => quote::quote!(#krate::__private::Vec<#elem>),
            Shape::Slice {
                elem,
                row: Some(row),
                ..
            } => {
                let row = row.ty(elem, krate);
                quote::quote!(#krate::__private::Vec<#row>)
            }
            Shape::Array {
                elem,
                len,
                row: None,
                ..
            } => quote::quote!([#elem; #len]),
            Shape::Array {
                elem,
                len,
                row: Some(row),
                ..
            } => {
                let row = row.ty(elem, krate);
                quote::quote!([#row; #len])
            }
            Shape::Struct { ty } => quote::ToTokens::to_token_stream(ty),
            _ => quote::ToTokens::to_token_stream(&self.ty),
        }
    }
}

/// The value a function returns.
#[derive(Clone)]
pub enum Output {
    /// `()`: only `&mut` outputs.
    Unit,
    Scalar(Type),
    Tuple(Vec<Type>),
    Array {
        elem: Type,
        len: Box<syn::Expr>,
    },
    Vec(Type),
}

/// What the rest of the pipeline needs to know about the user's signature.
pub struct Signature {
    pub params: Vec<Param>,
    pub output: Output,
    /// The return type as written (`()` if none).
    pub ret: Type,
    /// Generic type parameters bounded by `Float`.
    pub float_generics: Vec<Ident>,
    /// The runtime's path (`crate = ".."`), for the stubs' types.
    pub krate: syn::Path,
    /// The returned value is a container of rows (`Vec<[F; N]>`, `[[F; N]; M]`,
    /// `Vec<Vec<F>>`), whose floats the generated code holds flat: `output` is then `Vec<F>`,
    /// and the generated functions shape the value (and take the cotangent) as the return
    /// type.
    pub rows_output: Option<Rows>,
}

impl Signature {
    /// Classifies the parameters of `sig`; `None` (with the errors recorded) if the signature
    /// itself cannot be differentiated.
    pub fn analyze(
        sig: &syn::Signature,
        options: &Options,
        errors: &mut Errors,
    ) -> Option<Signature> {
        let wrt = options.wrt.as_deref();
        let given = options.custom.is_some();
        let before = errors.count();
        check_qualifiers(sig, errors);
        let mut float_generics = float_generics(&sig.generics);
        float_generics.extend(options.floats.iter().cloned());
        let params: Vec<Param> = (sig.inputs.iter())
            .filter_map(|arg| match arg {
                FnArg::Receiver(receiver) => receiver_param(receiver, wrt, errors),
                FnArg::Typed(pat_type) => typed_param(pat_type, wrt, &float_generics, errors),
            })
            .collect();
        check_wrt(wrt.unwrap_or_default(), &params, &float_generics, errors);
        if wrt.is_none() {
            check_implicitly_inactive(sig, &float_generics, errors);
        }
        let has_outputs = params.iter().any(Param::is_output);
        let (ret, output) = return_type(sig, has_outputs, &float_generics, errors);
        // A function whose derivative is given (a zero one) may have no float parameter.
        if !params.iter().any(|p| p.active) && wrt.is_none() && !given && errors.count() == before {
            errors.spanned(&sig.ident, format!("`{}` has no parameter to differentiate with respect to: #[reverse] differentiates with respect to parameters of type f32, f64, a generic `T: Float`, or slices, Vecs and arrays of those; add one (`x: f64`), or name an existing one in `wrt(...)`", sig.ident));
        }
        if errors.count() != before {
            return None;
        }
        let rows_output = ret.as_ref().and_then(|ty| rows_output(ty, &float_generics));
        if rows_output.is_some() && given {
            errors.spanned(&sig.output, "a function with a given derivative returns floats, a tuple, `[F; M]` or `Vec<F>`: return the rows' floats flat");
            return None;
        }
        Some(Signature {
            params,
            output: output?,
            ret: ret?,
            float_generics,
            krate: options.krate.clone(),
            rows_output,
        })
    }

    /// Whether the output is one float and nothing else: `f_grad` exists.
    pub fn scalar_output(&self) -> bool {
        matches!(self.output, Output::Scalar(_)) && !self.params.iter().any(Param::is_output)
    }

    /// Whether `ty` is one of the float types (an active value has one of them).
    pub fn is_float(&self, ty: &Type) -> bool {
        is_float(ty, &self.float_generics)
    }

    /// Whether the type named `ident` is a float type.
    pub fn is_float_name(&self, ident: &Ident) -> bool {
        ident == "f32" || ident == "f64" || self.float_generics.contains(ident)
    }

    /// An associated function of a float type (`T::from`, `f64::one`, `Float::from`,
    /// `<T as NumCast>::from`): pure conversions and constants.
    pub fn is_float_constructor(&self, path: &syn::ExprPath) -> bool {
        let segments: Vec<&syn::PathSegment> = path.path.segments.iter().collect();
        match (&path.qself, segments.as_slice()) {
            (Some(qself), [..]) => self.is_float(&qself.ty),
            (None, [owner, _]) => {
                self.is_float_name(&owner.ident)
                    || owner.ident == "Float"
                    || owner.ident == "NumCast"
            }
            _ => false,
        }
    }

    /// The active parameters, in order.
    pub fn active(&self) -> impl Iterator<Item = &Param> {
        self.params.iter().filter(|p| p.active)
    }
}

/// Step of [`Signature::analyze`]: reports the kinds of function #[reverse] does not take
/// (`async`, `unsafe`, `extern`, variadic).
fn check_qualifiers(sig: &syn::Signature, errors: &mut Errors) {
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
}

/// Step of [`Signature::analyze`]: the parameter of a `self` or `&self` receiver, a
/// parameter struct, active unless `wrt(...)` leaves it out; `None` (with an error) for
/// other receivers.
fn receiver_param(
    receiver: &syn::Receiver,
    wrt: Option<&[Ident]>,
    errors: &mut Errors,
) -> Option<Param> {
    let ty: Type = match &receiver.kind {
        syn::ReceiverKind::Value if receiver.mutability.is_none() => syn::parse_quote!(Self),
        syn::ReceiverKind::Reference(_, _, None) => syn::parse_quote!(&Self),
        _ => {
            errors.spanned(receiver, "only `&self` and `self` receivers are supported: a #[reverse] method reads its parameter struct and does not write it");
            return None;
        }
    };
    Some(Param {
        ident: Some(Ident::new("self", receiver.self_token.span)),
        ty,
        shape: Shape::Struct {
            ty: syn::parse_quote!(Self),
        },
        active: wrt.is_none_or(|names| names.iter().any(|n| n == "self")),
        library: None,
    })
}

/// Step of [`Signature::analyze`]: a typed parameter, its shape and whether it is active;
/// `None` (with an error) for patterns and `impl Trait` types it does not take.
fn typed_param(
    pat_type: &syn::PatType,
    wrt: Option<&[Ident]>,
    float_generics: &[Ident],
    errors: &mut Errors,
) -> Option<Param> {
    let ident = match &*pat_type.pat {
        Pat::Ident(p) if p.by_ref.is_none() && p.subpat.is_none() => Some(p.ident.clone()),
        Pat::Wild(_) => None,
        other => {
            errors.spanned(other, "only identifiers and `_` are supported as parameter patterns: take the parameter by name and destructure it in the body");
            return None;
        }
    };
    if let Type::ImplTrait(impl_trait) = &*pat_type.ty {
        errors.spanned(impl_trait, "`impl Trait` parameters are not supported: name a generic parameter, as in `fn f<T: Float>(x: T)`");
        return None;
    }
    let ty = (*pat_type.ty).clone();
    let mut shape = shape(&ty, float_generics);
    let library = library(&ty, float_generics, errors)?;
    let named = |names: &[Ident]| ident.as_ref().is_some_and(|i| names.contains(i));
    // A struct is a parameter struct when `wrt(...)` names it.
    if let (Shape::Other, Some(names), Some(inner)) = (&shape, wrt, struct_type(&ty))
        && named(names)
    {
        shape = Shape::Struct { ty: inner };
    }
    let differentiable = is_differentiable(&shape, float_generics);
    let active = match wrt {
        Some(names) => named(names),
        None => differentiable && ident.is_some() && !matches!(shape, Shape::Struct { .. }),
    };
    if let (Some(Rows::Vec), Shape::Array { .. }) = (shape.row(), &shape) {
        errors.spanned(&pat_type.ty, "an array of `Vec`s is not supported: take a slice of them (`&[Vec<f64>]`), or rows of one length (`[[f64; 3]; 4]`)");
        return None;
    }
    // An inactive `&mut` container of `Vec`s is the caller's to change, rows and all: it
    // stays a container of `Vec`s the function indexes (`x[i][j]`), not a flat one.
    if let (Some(Rows::Vec), true, false, Some(elem)) =
        (shape.row(), shape.mutable(), active, shape.elem())
    {
        shape = Shape::Slice {
            elem: syn::parse_quote!(Vec<#elem>),
            mutable: true,
            row: None,
        };
    }
    let mut_vec = matches!(&ty, Type::Reference(r) if r.mutability.is_some() && matches!(&*r.elem, Type::Path(_)));
    if shape.row().is_some() && shape.mutable() && mut_vec {
        errors.spanned(&pat_type.ty, "a `&mut Vec` of rows is not supported yet: take `&mut [[f64; 3]]` (its rows written in place), or return the rows (`-> Vec<[f64; 3]>`)");
        return None;
    }
    if let Some(Rows::Array(n)) = shape.row()
        && quote::ToTokens::to_token_stream(n).to_string() == "0"
    {
        errors.spanned(
            &pat_type.ty,
            "rows of no elements (`[F; 0]`) are not supported",
        );
        return None;
    }
    if active && shape.mutable() && matches!(shape.row(), Some(Rows::Vec)) {
        errors.spanned(&pat_type.ty, "an active `&mut` container of `Vec`s is not supported: take the rows by reference (`&[Vec<f64>]`) and return a copy written by element (`-> Vec<Vec<f64>>`)");
        return None;
    }
    Some(Param {
        ident,
        ty,
        shape,
        active,
        library,
    })
}

/// Step of [`typed_param`]: the nalgebra or ndarray container of floats a parameter is
/// (`&DVector<F>`, `DVector<F>`, `ArrayView2<F>`); `None` inside for another type, `None`
/// (with an error) for a `&mut` one.
fn library(ty: &Type, float_generics: &[Ident], errors: &mut Errors) -> Option<Option<Library>> {
    let (inner, mutable) = match ty {
        Type::Reference(r) => (&*r.elem, r.mutability.is_some()),
        other => (other, false),
    };
    let Some((library, elem)) = Library::of(inner) else {
        return Some(None);
    };
    if !is_float(&elem, float_generics) {
        return Some(None);
    }
    if mutable {
        errors.spanned(ty, "a `&mut` nalgebra or ndarray container is not supported yet: take it by reference and return the new values, or pass `x.as_mut_slice()` as a `&mut [F]`");
        return None;
    }
    Some(Some(library))
}

/// Step of [`Signature::analyze`]: reports each name in `wrt(...)` that is not a parameter
/// or not one that can be differentiated with respect to.
fn check_wrt(wrt: &[Ident], params: &[Param], float_generics: &[Ident], errors: &mut Errors) {
    for name in wrt {
        match params.iter().find(|p| p.ident.as_ref() == Some(name)) {
            None if name == "self" => {
                errors.spanned(
                    name,
                    "`wrt` names `self`, but this function has no `self` receiver",
                );
            }
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
            Some(p) if !is_differentiable(&p.shape, float_generics) => {
                errors.spanned(name, format!("`{name}` cannot be differentiated with respect to: only parameters of type f32, f64, a generic `T: Float`, a slice, Vec or array of those, or a parameter struct (`&P` with `#[derive(Params)]`) can be active"));
            }
            Some(_) => {}
        }
    }
}

/// Step of [`Signature::analyze`] without `wrt(...)`: reports the parameters whose floats
/// would silently be constants (a float named `_`, floats in a shape not differentiated).
fn check_implicitly_inactive(sig: &syn::Signature, float_generics: &[Ident], errors: &mut Errors) {
    for arg in &sig.inputs {
        let FnArg::Typed(t) = arg else { continue };
        let shape = shape(&t.ty, float_generics);
        if let Pat::Wild(_) = &*t.pat
            && is_differentiable(&shape, float_generics)
        {
            errors.spanned(t, "a float parameter named `_` cannot be active: give it a name (`_x` if it is unused), or list the active parameters in `wrt(...)`");
        }
        // Floats in a shape that is not differentiated would be constants without a
        // word: the user must say so.
        if !is_differentiable(&shape, float_generics) && mentions_float(&t.ty, float_generics) {
            let name = quote::ToTokens::to_token_stream(&t.pat).to_string();
            let nested = shape.elem().is_some_and(|e| {
                matches!(e, Type::Array(_) | Type::Slice(_))
                    || matches!(e, Type::Path(p) if vec_elem(&p.path).is_some())
            });
            let instead = match nested {
                true => {
                    "write it as rows of one length (`&[[f64; 3]]`, `Vec<[f64; 3]>`, `[[f64; 3]; 4]`) or flat (`&[f64]`, indexed `x[i * n + j]`)"
                }
                false => "flatten it (`&[f64]`, indexed `x[i * n + j]`)",
            };
            errors.spanned(&t.ty, format!("`{name}` holds floats in a shape #[reverse] does not differentiate (a nested container, a tuple, a reference to a float, ...), so its derivative would be lost: {instead}, pass the floats as separate parameters, or list the parameters to differentiate in `wrt(...)` to make `{name}` a constant"));
        }
    }
}

/// Step of [`Signature::analyze`]: the return type as written and the output it is; `None`
/// (with an error) for a return type #[reverse] does not take, or none without `&mut`
/// outputs.
fn return_type(
    sig: &syn::Signature,
    has_outputs: bool,
    float_generics: &[Ident],
    errors: &mut Errors,
) -> (Option<Type>, Option<Output>) {
    match &sig.output {
        ReturnType::Type(_, ty) => match output(ty, float_generics) {
            Some(Output::Unit) if !has_outputs => {
                errors.spanned(ty, "a #[reverse] function must have an output: return a float, a tuple of floats, `[F; M]` or `Vec<F>`, or write into a `&mut [F]` parameter");
                (None, None)
            }
            Some(output) => (Some((**ty).clone()), Some(output)),
            None if shape(ty, float_generics).row().is_some() => {
                errors.spanned(ty, "a container of `Vec`s is not supported as an output: return rows of one length (`Vec<[f64; 3]>`), or the floats flat (`Vec<F>`, row `i` at `offsets[i]..`)");
                (None, None)
            }
            None => {
                errors.spanned(ty, "#[reverse] functions return a float (f32, f64 or a generic `T: Float`), a tuple of floats, `[F; M]` or `Vec<F>`; other outputs are not supported");
                (None, None)
            }
        },
        ReturnType::Default if has_outputs => (Some(syn::parse_quote!(())), Some(Output::Unit)),
        ReturnType::Default => {
            errors.spanned(&sig.ident, "#[reverse] functions must return a float: add `-> f64` (or f32, a generic `T: Float`, a tuple, `[F; M]` or `Vec<F>`), or write into a `&mut [F]` parameter");
            (None, None)
        }
    }
}

/// The shape of a parameter type.
fn shape(ty: &Type, float_generics: &[Ident]) -> Shape {
    let (inner, mutable) = match ty {
        Type::Reference(r) => (&*r.elem, r.mutability.is_some()),
        Type::Paren(t) => return shape(&t.elem, float_generics),
        Type::Group(t) => return shape(&t.elem, float_generics),
        other => (other, false),
    };
    let by_ref = matches!(ty, Type::Reference(_));
    match inner {
        _ if !by_ref && is_float(ty, float_generics) => Shape::Scalar,
        Type::Slice(s) if by_ref => {
            let (elem, row) = row_of(&s.elem, float_generics);
            Shape::Slice { elem, mutable, row }
        }
        Type::Array(a) => {
            let (elem, row) = row_of(&a.elem, float_generics);
            Shape::Array {
                elem,
                len: Box::new(a.len.clone()),
                mutable,
                row,
            }
        }
        Type::Path(p) if p.qself.is_none() => match vec_elem(&p.path) {
            Some(elem) => {
                let (elem, row) = row_of(&elem, float_generics);
                Shape::Slice { elem, mutable, row }
            }
            // A vector or matrix of nalgebra or ndarray: its elements, as a slice's.
            None => match Library::of(inner) {
                Some((_, elem)) if is_float(&elem, float_generics) => Shape::Slice {
                    elem,
                    mutable,
                    row: None,
                },
                _ => Shape::Other,
            },
        },
        _ => Shape::Other,
    }
}

/// A container's element type: `F` and its rows for rows `[F; N]` or `Vec<F>` of floats,
/// else the type itself and `None`.
fn row_of(elem: &Type, float_generics: &[Ident]) -> (Type, Option<Rows>) {
    match elem {
        Type::Array(a) if is_float(&a.elem, float_generics) => (
            (*a.elem).clone(),
            Some(Rows::Array(Box::new(a.len.clone()))),
        ),
        Type::Path(p) if p.qself.is_none() => match vec_elem(&p.path) {
            Some(e) if is_float(&e, float_generics) => (e, Some(Rows::Vec)),
            _ => (elem.clone(), None),
        },
        Type::Paren(t) => row_of(&t.elem, float_generics),
        other => (other.clone(), None),
    }
}

/// `E` of `Vec<E>` (also `std::vec::Vec<E>`).
pub(crate) fn vec_elem(path: &syn::Path) -> Option<Type> {
    let last = path.segments.last()?;
    if last.ident != "Vec" {
        return None;
    }
    match &last.arguments {
        syn::PathArguments::AngleBracketed(args) if args.args.len() == 1 => match &args.args[0] {
            syn::GenericArgument::Type(elem) => Some(elem.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// The struct behind `&P` or `P`, for a type that may be a parameter struct: a named type
/// that is not a primitive or a standard container (`&mut P` is not: parameters are read).
fn struct_type(ty: &Type) -> Option<Type> {
    let inner = match ty {
        Type::Reference(r) if r.mutability.is_none() => &*r.elem,
        Type::Reference(_) => return None,
        other => other,
    };
    let Type::Path(p) = inner else { return None };
    let last = p.path.segments.last()?;
    let primitive = [
        "bool", "char", "str", "String", "usize", "isize", "u8", "u16", "u32", "u64", "u128", "i8",
        "i16", "i32", "i64", "i128", "Option",
    ];
    (!primitive.iter().any(|n| last.ident == n)).then(|| inner.clone())
}

/// A float, a container of floats, or a parameter struct.
fn is_differentiable(shape: &Shape, float_generics: &[Ident]) -> bool {
    match shape {
        Shape::Scalar | Shape::Struct { .. } => true,
        Shape::Slice { elem, .. } | Shape::Array { elem, .. } => is_float(elem, float_generics),
        Shape::Other => false,
    }
}

/// The kind of output a return type is, if it is one.
fn output(ty: &Type, float_generics: &[Ident]) -> Option<Output> {
    match ty {
        Type::Tuple(t) if t.elems.is_empty() => Some(Output::Unit),
        Type::Tuple(t) if t.elems.iter().all(|e| is_float(e, float_generics)) => {
            Some(Output::Tuple(t.elems.iter().cloned().collect()))
        }
        Type::Array(a) if is_float(&a.elem, float_generics) => Some(Output::Array {
            elem: (*a.elem).clone(),
            len: Box::new(a.len.clone()),
        }),
        // Rows, held flat.
        Type::Array(a) if rows_output(ty, float_generics).is_some() => {
            Some(Output::Vec(row_of(&a.elem, float_generics).0))
        }
        Type::Path(p) if p.qself.is_none() => match vec_elem(&p.path) {
            Some(elem) if is_float(&elem, float_generics) => Some(Output::Vec(elem)),
            Some(elem) if rows_output(ty, float_generics).is_some() => {
                Some(Output::Vec(row_of(&elem, float_generics).0))
            }
            Some(_) => None,
            None => is_float(ty, float_generics).then(|| Output::Scalar(ty.clone())),
        },
        Type::Paren(t) => output(&t.elem, float_generics),
        _ => None,
    }
}

/// The rows of `ty` if it is a container of rows of floats as an output takes it:
/// `Vec<[F; N]>`, `[[F; N]; M]` or `Vec<Vec<F>>`.
fn rows_output(ty: &Type, float_generics: &[Ident]) -> Option<Rows> {
    match ty {
        Type::Paren(t) => rows_output(&t.elem, float_generics),
        Type::Array(a) => match row_of(&a.elem, float_generics).1 {
            Some(Rows::Array(n)) => Some(Rows::Array(n)),
            _ => None,
        },
        Type::Path(p) if p.qself.is_none() => row_of(&vec_elem(&p.path)?, float_generics).1,
        _ => None,
    }
}

/// Whether a float type appears anywhere in `ty` (`&[[f64; 3]]`, `Option<T>`, `&f64`).
fn mentions_float(ty: &Type, float_generics: &[Ident]) -> bool {
    let any = |tys: &mut dyn Iterator<Item = &Type>| {
        let mut found = false;
        for t in tys {
            found |= mentions_float(t, float_generics);
        }
        found
    };
    match ty {
        _ if is_float(ty, float_generics) => true,
        Type::Reference(r) => mentions_float(&r.elem, float_generics),
        Type::Ptr(p) => mentions_float(&p.elem, float_generics),
        Type::Slice(s) => mentions_float(&s.elem, float_generics),
        Type::Array(a) => mentions_float(&a.elem, float_generics),
        Type::Paren(t) => mentions_float(&t.elem, float_generics),
        Type::Group(t) => mentions_float(&t.elem, float_generics),
        Type::Tuple(t) => any(&mut t.elems.iter()),
        Type::Path(p) => p.path.segments.iter().any(|s| match &s.arguments {
            syn::PathArguments::AngleBracketed(args) => {
                any(&mut args.args.iter().filter_map(|a| match a {
                    syn::GenericArgument::Type(t) => Some(t),
                    _ => None,
                }))
            }
            _ => false,
        }),
        _ => false,
    }
}

/// `f32`, `f64` (also as `core::primitive::f64`) or one of the `Float`-bounded generic
/// parameters.
fn is_float(ty: &Type, float_generics: &[Ident]) -> bool {
    match ty {
        Type::Paren(t) => is_float(&t.elem, float_generics),
        Type::Group(t) => is_float(&t.elem, float_generics),
        Type::Path(t) if t.qself.is_none() => match t.path.get_ident() {
            Some(ident) => ident == "f32" || ident == "f64" || float_generics.contains(ident),
            None => primitive(&t.path).is_some_and(|name| name == "f32" || name == "f64"),
        },
        _ => false,
    }
}

/// The name of a primitive type written as a path: `f64`, `core::primitive::f64`,
/// `std::primitive::usize`.
fn primitive(path: &syn::Path) -> Option<String> {
    let names: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    match names.as_slice() {
        [name] => Some(name.clone()),
        [root, module, name] if (root == "core" || root == "std") && module == "primitive" => {
            Some(name.clone())
        }
        _ => None,
    }
}

/// An integer type (a cast of a float to one is piecewise constant).
pub fn is_integer(ty: &Type) -> bool {
    const INTEGERS: &[&str] = &[
        "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize",
    ];
    match ty {
        Type::Paren(t) => is_integer(&t.elem),
        Type::Group(t) => is_integer(&t.elem),
        Type::Path(t) if t.qself.is_none() => {
            primitive(&t.path).is_some_and(|name| INTEGERS.contains(&name.as_str()))
        }
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
