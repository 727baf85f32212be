//! `#[derive(Params)]`: a struct of parameters (`ad_runtime::Params`).
//!
//! Each field is classified by its type's syntax: the scalar (`f32`, `f64`, a type parameter),
//! a `Vec` or array of it, or another parameter struct (any other named type, which must
//! implement `Params` itself: rustc checks). A field marked `#[params(skip)]` is cloned, not
//! differentiated. Types that cannot hold parameters (integers, `bool`, references, tuples,
//! `String`, `Option`, ...) are a spanned error suggesting `#[params(skip)]`.
//!
//! Besides `Params`, the struct gets `AdjointBuffer` (its adjoint is a zeroed copy) and
//! `Flatten` (its gradient is a Jacobian row segment), which generated code uses.

use proc_macro2::TokenStream;
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, Member, Type};

/// What a field is.
enum Kind {
    Scalar(Type),
    /// A `Vec` or an array of the scalar.
    Container(Type),
    /// Another parameter struct.
    Nested(Type),
    /// `#[params(skip)]`.
    Skip,
}

/// Types whose values are never parameters.
const NOT_PARAMETERS: &[&str] = &[
    "bool",
    "char",
    "str",
    "String",
    "usize",
    "isize",
    "u8",
    "u16",
    "u32",
    "u64",
    "u128",
    "i8",
    "i16",
    "i32",
    "i64",
    "i128",
    "Option",
    "Result",
    "Box",
    "Rc",
    "Arc",
    "Cell",
    "RefCell",
    "HashMap",
    "BTreeMap",
    "HashSet",
    "BTreeSet",
    "VecDeque",
    "Cow",
    "PhantomData",
];

pub fn params(input: TokenStream) -> TokenStream {
    match syn::parse2::<DeriveInput>(input).and_then(|item| expand(&item)) {
        Ok(tokens) => tokens,
        Err(error) => error.to_compile_error(),
    }
}

/// The impls of `Params`, `AdjointBuffer` and `Flatten` for the struct `item`.
fn expand(item: &DeriveInput) -> syn::Result<TokenStream> {
    let Data::Struct(data) = &item.data else {
        return Err(syn::Error::new(
            item.ident.span(),
            "`Params` is derived for structs: put the parameters of a model in a struct's fields",
        ));
    };
    let krate = runtime_path(item)?;
    let fields = classify_fields(item, data)?;
    let scalar = scalar_type(item, &fields, &krate)?;
    let private = quote!(#krate::__private);
    let f = format_ident!("__ad_f");
    let other = format_ident!("__ad_other");
    let FieldCode {
        zeros,
        visit,
        visit_mut,
        zip,
    } = field_code(&fields, &krate, &f, &other);
    let skipped = fields.iter().filter_map(|(m, field, kind)| {
        let span = field.ty.span();
        match kind {
            Kind::Skip => {
                Some(quote_spanned!(span=> self.#m = ::core::clone::Clone::clone(&#other.#m);))
            }
            Kind::Nested(_) => Some(
                quote_spanned!(span=> #krate::Params::__ad_copy_skipped(&mut self.#m, &#other.#m);),
            ),
            Kind::Scalar(_) | Kind::Container(_) => None,
        }
    });
    let ident = &item.ident;
    let (impl_generics, ty_generics, where_clause) = item.generics.split_for_impl();
    Ok(quote! {
        impl #impl_generics #krate::Params for #ident #ty_generics #where_clause {
            type Scalar = #scalar;

            fn zeros_like(&self) -> Self {
                Self { #(#zeros),* }
            }

            fn for_each<G: ::core::ops::FnMut(Self::Scalar)>(&self, #f: &mut G) {
                #(#visit)*
            }

            fn for_each_mut<G: ::core::ops::FnMut(&mut Self::Scalar)>(&mut self, #f: &mut G) {
                #(#visit_mut)*
            }

            fn zip_mut<G: ::core::ops::FnMut(&mut Self::Scalar, Self::Scalar)>(
                &mut self,
                #other: &Self,
                #f: &mut G,
            ) {
                #(#zip)*
            }

            fn __ad_copy_skipped(&mut self, #other: &Self) {
                #(#skipped)*
            }
        }

        impl #impl_generics #private::AdjointBuffer for #ident #ty_generics #where_clause {
            type Buffer = Self;
            fn __ad_zeros(&self) -> Self {
                #krate::Params::zeros_like(self)
            }
        }

        impl #impl_generics #private::Flatten<#scalar> for #ident #ty_generics #where_clause {
            fn flatten_into(&self, row: &mut #private::Vec<#scalar>) {
                #krate::Params::for_each(self, &mut |v| row.push(v));
            }
        }
    })
}

/// Step of [`expand`]: the runtime's path, `::ad_runtime` unless `#[params(crate = "..")]`
/// names another.
fn runtime_path(item: &DeriveInput) -> syn::Result<syn::Path> {
    let mut krate: syn::Path = syn::parse_quote!(::ad_runtime);
    for attr in item.attrs.iter().filter(|a| a.path().is_ident("params")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("crate") {
                krate = meta.value()?.parse::<syn::LitStr>()?.parse()?;
                Ok(())
            } else {
                Err(meta.error("expected `crate = \"...\"`"))
            }
        })?;
    }
    Ok(krate)
}

/// Step of [`expand`]: each field with what it is to differentiation; the errors of all
/// fields together if any is not a parameter field, a nested struct or skipped.
fn classify_fields<'a>(
    item: &DeriveInput,
    data: &'a syn::DataStruct,
) -> syn::Result<Vec<(Member, &'a syn::Field, Kind)>> {
    let type_params: Vec<&syn::Ident> = item.generics.type_params().map(|p| &p.ident).collect();
    let mut fields = Vec::new();
    let mut errors: Option<syn::Error> = None;
    let members: Vec<(Member, &syn::Field)> = match &data.fields {
        Fields::Named(named) => named
            .named
            .iter()
            .filter_map(|f| f.ident.clone().map(|i| (Member::Named(i), f)))
            .collect(),
        Fields::Unnamed(unnamed) => unnamed
            .unnamed
            .iter()
            .enumerate()
            .map(|(k, f)| (Member::Unnamed(k.into()), f))
            .collect(),
        Fields::Unit => Vec::new(),
    };
    for (member, field) in members {
        let kind = match skipped(field) {
            Ok(true) => Ok(Kind::Skip),
            Ok(false) => classify(&field.ty, &type_params, &member),
            Err(e) => Err(e),
        };
        match kind {
            Ok(kind) => fields.push((member, field, kind)),
            Err(e) => match &mut errors {
                Some(errors) => errors.combine(e),
                None => errors = Some(e),
            },
        }
    }
    match errors {
        Some(errors) => Err(errors),
        None => Ok(fields),
    }
}

/// Step of [`expand`]: the struct's scalar type, that of its first parameter field; an error
/// if it has none.
fn scalar_type(
    item: &DeriveInput,
    fields: &[(Member, &syn::Field, Kind)],
    krate: &syn::Path,
) -> syn::Result<TokenStream> {
    let scalar = fields.iter().find_map(|(_, _, kind)| match kind {
        Kind::Scalar(ty) | Kind::Container(ty) => Some(ty.to_token_stream()),
        Kind::Nested(ty) => Some(quote!(<#ty as #krate::Params>::Scalar)),
        Kind::Skip => None,
    });
    scalar.ok_or_else(|| {
        syn::Error::new(
            item.ident.span(),
            "a `Params` struct needs at least one parameter field (a float, a `Vec` or array of floats, or a nested `Params` struct)",
        )
    })
}

/// What each field contributes to the methods of `Params` ([`field_code`]).
struct FieldCode {
    /// `zeros_like`'s field initializers.
    zeros: Vec<TokenStream>,
    /// The statements of `for_each`, `for_each_mut` and `zip_mut`.
    visit: Vec<TokenStream>,
    visit_mut: Vec<TokenStream>,
    zip: Vec<TokenStream>,
}

/// Step of [`expand`]: each field's part of the methods of `Params`, spanned at its type;
/// `f` is the closure the visits call, `other` the struct `zip_mut` reads.
fn field_code(
    fields: &[(Member, &syn::Field, Kind)],
    krate: &syn::Path,
    f: &syn::Ident,
    other: &syn::Ident,
) -> FieldCode {
    let private = quote!(#krate::__private);
    let mut code = FieldCode {
        zeros: Vec::new(),
        visit: Vec::new(),
        visit_mut: Vec::new(),
        zip: Vec::new(),
    };
    for (m, field, kind) in fields {
        let span = field.ty.span();
        let name = m.to_token_stream().to_string();
        code.zeros.push(match kind {
            Kind::Scalar(_) => quote_spanned!(span=> #m: #krate::num_traits::Zero::zero()),
            Kind::Container(_) => {
                quote_spanned!(span=> #m: #private::AdjointBuffer::__ad_zeros(&self.#m))
            }
            Kind::Nested(_) => quote_spanned!(span=> #m: #krate::Params::zeros_like(&self.#m)),
            Kind::Skip => quote_spanned!(span=> #m: ::core::clone::Clone::clone(&self.#m)),
        });
        match kind {
            Kind::Scalar(_) => {
                code.visit.push(quote_spanned!(span=> #f(self.#m);));
                code.visit_mut
                    .push(quote_spanned!(span=> #f(&mut self.#m);));
                code.zip
                    .push(quote_spanned!(span=> #f(&mut self.#m, #other.#m);));
            }
            Kind::Container(_) => {
                code.visit
                    .push(quote_spanned!(span=> for &v in self.#m.iter() { #f(v); }));
                code.visit_mut
                    .push(quote_spanned!(span=> for v in self.#m.iter_mut() { #f(v); }));
                code.zip.push(quote_spanned!(span=> #private::field::zip_mut(&mut self.#m, &#other.#m, #name, #f);));
            }
            Kind::Nested(_) => {
                code.visit
                    .push(quote_spanned!(span=> #krate::Params::for_each(&self.#m, #f);));
                code.visit_mut
                    .push(quote_spanned!(span=> #krate::Params::for_each_mut(&mut self.#m, #f);));
                code.zip.push(
                    quote_spanned!(span=> #krate::Params::zip_mut(&mut self.#m, &#other.#m, #f);),
                );
            }
            Kind::Skip => {}
        }
    }
    code
}

/// Whether the field is marked `#[params(skip)]`.
fn skipped(field: &syn::Field) -> syn::Result<bool> {
    let mut skip = false;
    for attr in field.attrs.iter().filter(|a| a.path().is_ident("params")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("skip") {
                skip = true;
                Ok(())
            } else {
                Err(meta.error(
                    "expected `skip`: `#[params(skip)]` marks a field that is not a parameter",
                ))
            }
        })?;
    }
    Ok(skip)
}

/// A type as written, without the spaces token printing puts between punctuation.
fn type_text(ty: &Type) -> String {
    let printed = ty.to_token_stream().to_string();
    let chars: Vec<char> = printed.chars().collect();
    let word = |c: char| c.is_alphanumeric() || c == '_';
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        let keep = c != ' '
            || (i > 0
                && i + 1 < chars.len()
                && (word(chars[i - 1]) || chars[i - 1] == ',' || chars[i - 1] == ';')
                && word(chars[i + 1]));
        if keep {
            out.push(c);
        }
    }
    out
}

fn classify(ty: &Type, type_params: &[&syn::Ident], member: &Member) -> syn::Result<Kind> {
    let unsupported = || {
        let name = member.to_token_stream().to_string();
        let text = type_text(ty);
        syn::Error::new(
            ty.span(),
            format!(
                "field `{name}` of type `{text}` cannot hold parameters: the fields of a `Params` struct are floats (`f32`, `f64`, a `T: Float`), `Vec`s or arrays of them, or other `Params` structs; mark a field that is not a parameter (a size, a name) with `#[params(skip)]`"
            ),
        )
    };
    let is_scalar = |ty: &Type| match ty {
        Type::Path(p) if p.qself.is_none() => p
            .path
            .get_ident()
            .is_some_and(|i| i == "f32" || i == "f64" || type_params.contains(&i)),
        _ => false,
    };
    match ty {
        Type::Paren(p) => classify(&p.elem, type_params, member),
        Type::Group(g) => classify(&g.elem, type_params, member),
        _ if is_scalar(ty) => Ok(Kind::Scalar(ty.clone())),
        Type::Array(a) if is_scalar(&a.elem) => Ok(Kind::Container((*a.elem).clone())),
        Type::Path(p) if p.qself.is_none() => {
            let Some(last) = p.path.segments.last() else {
                return Err(unsupported());
            };
            if last.ident == "Vec" {
                return match &last.arguments {
                    syn::PathArguments::AngleBracketed(args) => match args.args.first() {
                        Some(syn::GenericArgument::Type(elem)) if is_scalar(elem) => {
                            Ok(Kind::Container(elem.clone()))
                        }
                        _ => Err(unsupported()),
                    },
                    _ => Err(unsupported()),
                };
            }
            if NOT_PARAMETERS.iter().any(|n| last.ident == n) {
                return Err(unsupported());
            }
            Ok(Kind::Nested(ty.clone()))
        }
        _ => Err(unsupported()),
    }
}
