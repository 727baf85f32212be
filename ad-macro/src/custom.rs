//! Functions whose derivative the user gives: `#[reverse(rule = path)]` and
//! `#[reverse(zero_derivative)]`. Their bodies are not lowered (they may call into other
//! crates, run solvers, use any Rust); the adjoint program is built directly:
//!
//! ```text
//! %y = original body              (the function's value, as `f` computes it)
//! %dx = buffer %x                 (one per active container parameter)
//! %da, %db = pullback user rule(%a, %b, %x, %y, %seed, &mut %dx)
//! yield %y, %da, %db, %dx
//! ```
//!
//! A rule has the shape of the runtime's rules: the parameters as `f` takes them, the value
//! (`&y` for a container), its cotangent (`&dy` for a container), then `&mut [F]` for each active
//! container parameter, whose adjoint it adds there; it returns the adjoints of the active
//! float parameters (bare if one, a tuple if several, `()` if none). The call is spanned at the
//! rule's path, so a rule of the wrong shape is a type error there. Every generated function
//! (`f_grad`, `f_vjp`, `f_pullback`, ...) is emitted from this program as from any other.

use proc_macro2::Ident;
use quote::{ToTokens, quote};

use crate::errors::Errors;
use crate::ir::{Arg, Block, Func, Member, Op, OpId, OpKind, Param, Rule, Value};
use crate::options::Custom;
use crate::signature::{Output, Shape, Signature};

/// Reports what a user-given derivative cannot cover: `&mut` outputs.
pub fn check(sig: &Signature, errors: &mut Errors) {
    for param in sig.params.iter().filter(|p| p.is_output()) {
        if let Some(ident) = &param.ident {
            errors.spanned(ident, "a function with a given derivative (`rule = ..` or `zero_derivative`) cannot write into `&mut` parameters: return the result instead, or leave the parameter out with `wrt(...)`");
        }
    }
}

/// The adjoint program of a function with a user-given derivative; its seed parameter is
/// named `seed`.
pub fn adjoint(item: &syn::ItemFn, sig: &Signature, custom: &Custom, seed_ident: Ident) -> Func {
    let span = match custom {
        Custom::Rule(path) => syn::spanned::Spanned::span(path),
        Custom::Zero(ident) => ident.span(),
    };
    let mut build = Build::new(format!("{}_vjp", item.sig.ident), span);
    let seed = build.params(sig, seed_ident);
    let (y, returned) = build.original(item, sig);
    let container = matches!(sig.output, Output::Vec(_) | Output::Array { .. });
    let reverse_start = build.ops.len();
    let params: Vec<(Value, &crate::signature::Param)> = (build.func.params.iter())
        .map(|p| p.value)
        .zip(&sig.params)
        .collect();
    let buffers = build.buffers(&params);
    let scalars: Vec<(Value, Option<String>)> = params
        .iter()
        .filter(|(_, p)| p.active && matches!(p.shape, Shape::Scalar))
        .map(|&(v, p)| (v, p.ident.as_ref().map(|i| format!("d{i}"))))
        .collect();
    let adjoints: Vec<Value> = match custom {
        Custom::Rule(path) => {
            build.rule_pullback(path, &params, &scalars, (y, seed), &buffers, container)
        }
        Custom::Zero(_) => (scalars.iter())
            .map(|(v, name)| build.push(OpKind::ZeroLike(*v), name.clone()))
            .collect(),
    };
    let yields = yields(returned, &params, adjoints, buffers);
    let mut func = build.func;
    func.body = Block {
        args: Vec::new(),
        ops: build.ops,
        yields,
    };
    func.reverse_start = reverse_start;
    func
}

/// The tangent program of a function whose derivative is given, for `f_jvp`: the original
/// body's value, then the tangent from the user's tangent rule (`jvp = path`: the parameters
/// as `f` takes them, the value, by reference for a container, then the tangent of each active
/// parameter, in the shape `f_jvp` takes them; it returns the output's tangent), or a zero
/// for `zero_derivative`. `None` for `rule = ..` without a tangent rule.
pub fn tangent(
    item: &syn::ItemFn,
    sig: &Signature,
    custom: &Custom,
    jvp: Option<&syn::Path>,
    names: &[Ident],
) -> Option<Func> {
    let span = match (custom, jvp) {
        (Custom::Rule(_), None) => return None,
        (Custom::Rule(_), Some(path)) => syn::spanned::Spanned::span(path),
        (Custom::Zero(ident), _) => ident.span(),
    };
    let mut build = Build::new(format!("{}_jvp", item.sig.ident), span);
    build.params(sig, Ident::new("seed", span));
    // The tangents take the place of the seed.
    build.func.params.pop();
    let params: Vec<(Value, &crate::signature::Param)> = (build.func.params.iter())
        .map(|p| p.value)
        .zip(&sig.params)
        .collect();
    let mut tangents = Vec::new();
    for (param, name) in sig.params.iter().filter(|p| p.active).zip(names) {
        let value = build.func.new_value(Some(name.to_string()));
        if param.shape.is_container() {
            build.func.values[value.index()].storage = Some(value);
        }
        build.func.params.push(Param {
            value,
            ident: Some(name.clone()),
            offsets: None,
        });
        tangents.push((value, param));
    }
    let (y, returned) = build.original(item, sig);
    let container = matches!(sig.output, Output::Vec(_) | Output::Array { .. });
    let tangent = match (custom, jvp) {
        (Custom::Rule(_), Some(path)) => {
            let owned = |p: &crate::signature::Param| {
                matches!(
                    (&p.shape, &p.ty),
                    (
                        Shape::Slice { .. } | Shape::Array { .. },
                        syn::Type::Path(_)
                    )
                )
            };
            let pass = |(v, p): (Value, &crate::signature::Param)| match owned(p) {
                true => Arg::Clone(v),
                false => Arg::Value(v),
            };
            let mut args: Vec<Arg> = params.iter().map(|&vp| pass(vp)).collect();
            args.push(if container {
                Arg::Ref(y)
            } else {
                Arg::Value(y)
            });
            args.extend(tangents.iter().map(|&vp| pass(vp)));
            let t = build.func.new_value(Some("dy".into()));
            build.ops.push(Op {
                results: vec![t],
                kind: OpKind::Pullback {
                    rule: Rule::User(path.to_token_stream()),
                    args,
                },
                span,
                ty: Some(sig.ret.to_token_stream()),
                id: OpId::NONE,
            });
            t
        }
        _ if container => build.push(OpKind::Buffer(y), Some("dy".into())),
        _ => build.push(OpKind::ZeroLike(y), Some("dy".into())),
    };
    let mut yields = returned.clone();
    match &sig.output {
        Output::Tuple(_) => {
            for (k, &component) in returned.iter().enumerate() {
                let member = Member::Unnamed {
                    index: k as u32,
                    span,
                };
                let part = match custom {
                    Custom::Zero(_) => OpKind::ZeroLike(component),
                    Custom::Rule(_) => OpKind::Field(tangent, member),
                };
                yields.push(build.push(part, None));
            }
        }
        Output::Unit => {}
        _ => yields.push(tangent),
    }
    let mut func = build.func;
    func.body = Block {
        args: Vec::new(),
        ops: build.ops,
        yields,
    };
    Some(func)
}

/// The adjoint program of a given derivative as it is built: its function, the ops of its
/// body so far, and the span they all get (the rule's path).
struct Build {
    func: Func,
    ops: Vec<Op>,
    span: proc_macro2::Span,
}

impl Build {
    fn new(name: String, span: proc_macro2::Span) -> Build {
        Build {
            func: Func {
                name,
                ..Func::default()
            },
            ops: Vec::new(),
            span,
        }
    }

    /// Pushes an op with one result.
    fn push(&mut self, kind: OpKind, name: Option<String>) -> Value {
        let v = self.func.new_value(name);
        self.ops.push(Op::new(vec![v], kind, self.span));
        v
    }

    /// Step of [`adjoint`]: the primal's parameters, containers being their own storage,
    /// then the seed.
    fn params(&mut self, sig: &Signature, seed_ident: Ident) -> Value {
        let func = &mut self.func;
        for param in &sig.params {
            let value = func.new_value(param.ident.as_ref().map(ToString::to_string));
            if param.shape.is_container() {
                func.values[value.index()].storage = Some(value);
            }
            func.params.push(Param {
                value,
                ident: param.ident.clone(),
                offsets: None,
            });
        }
        let seed = func.new_value(Some("seed".into()));
        func.params.push(Param {
            value: seed,
            ident: Some(seed_ident),
            offsets: None,
        });
        seed
    }

    /// Step of [`adjoint`]: the value, as the original computes it (typed by the return
    /// type), and the returned values: its components if a tuple, else itself.
    fn original(&mut self, item: &syn::ItemFn, sig: &Signature) -> (Value, Vec<Value>) {
        let span = self.span;
        let y = self.push(
            OpKind::Original(item.block.to_token_stream()),
            Some("y".into()),
        );
        let container = matches!(sig.output, Output::Vec(_) | Output::Array { .. });
        if container {
            self.func.values[y.index()].storage = Some(y);
        }
        if let Some(op) = self.ops.last_mut() {
            op.ty = Some(sig.ret.to_token_stream());
        }
        let returned = match &sig.output {
            Output::Tuple(types) => (0..types.len())
                .map(|k| {
                    let member = Member::Unnamed {
                        index: k as u32,
                        span,
                    };
                    self.push(OpKind::Field(y, member), None)
                })
                .collect(),
            _ => vec![y],
        };
        (y, returned)
    }

    /// Step of [`adjoint`]: the adjoint buffers of active containers, which the rule adds
    /// into.
    fn buffers(&mut self, params: &[(Value, &crate::signature::Param)]) -> Vec<Value> {
        let mut buffers = Vec::new();
        for &(value, param) in params {
            if param.active && param.shape.is_container() {
                let name = param.ident.as_ref().map(|i| format!("d{i}"));
                buffers.push(self.push(OpKind::Buffer(value), name));
            }
        }
        buffers
    }

    /// Step of [`adjoint`] with `rule = path`: the call of the user's rule, in the shape of
    /// the runtime's rules (the parameters, the value `y` and its cotangent `seed`, by
    /// reference for a container, then the adjoint buffers); its results are the adjoints
    /// of the active float parameters `scalars`.
    fn rule_pullback(
        &mut self,
        path: &syn::Path,
        params: &[(Value, &crate::signature::Param)],
        scalars: &[(Value, Option<String>)],
        (y, seed): (Value, Value),
        buffers: &[Value],
        container: bool,
    ) -> Vec<Value> {
        let mut args: Vec<Arg> = params
            .iter()
            .map(|&(v, p)| match (&p.shape, &p.ty) {
                (Shape::Slice { .. } | Shape::Array { .. }, syn::Type::Path(_)) => Arg::Clone(v),
                _ => Arg::Value(v),
            })
            .collect();
        args.push(if container {
            Arg::Ref(y)
        } else {
            Arg::Value(y)
        });
        args.push(if container {
            Arg::Ref(seed)
        } else {
            Arg::Value(seed)
        });
        args.extend(buffers.iter().map(|&b| Arg::Mut(b)));
        let results: Vec<Value> = scalars
            .iter()
            .map(|(_, name)| self.func.new_value(name.clone()))
            .collect();
        // The adjoints' types, so that a rule returning the wrong ones is an error saying
        // what it should return.
        let types: Vec<&syn::Type> = params
            .iter()
            .filter(|(_, p)| p.active && matches!(p.shape, Shape::Scalar))
            .map(|(_, p)| &p.ty)
            .collect();
        let ty = match types.as_slice() {
            [one] => one.to_token_stream(),
            many => quote!((#(#many),*)),
        };
        self.ops.push(Op {
            results: results.clone(),
            kind: OpKind::Pullback {
                rule: Rule::User(path.to_token_stream()),
                args,
            },
            span: self.span,
            ty: Some(ty),
            id: OpId::NONE,
        });
        results
    }
}

/// Step of [`adjoint`]: what the program yields, the returned values, then the adjoint of
/// each active parameter in order (a buffer for a container, else a rule's result).
fn yields(
    returned: Vec<Value>,
    params: &[(Value, &crate::signature::Param)],
    adjoints: Vec<Value>,
    buffers: Vec<Value>,
) -> Vec<Value> {
    let mut adjoints = adjoints.into_iter();
    let mut buffers = buffers.into_iter();
    let mut yields = returned;
    for (_, param) in params {
        if param.active {
            let next = match param.shape.is_container() {
                true => buffers.next(),
                false => adjoints.next(),
            };
            yields.extend(next);
        }
    }
    yields
}
