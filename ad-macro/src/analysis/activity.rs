//! Activity analysis: which values the reverse sweep must differentiate.
//!
//! A value is *varied* if it depends on an active parameter through differentiable ops
//! (forward dataflow), and *useful* if the output depends on it through differentiable ops
//! (backward dataflow). It is *active* if both: only active values get adjoints, so a
//! computation on inactive parameters, or one whose result is dropped or only compared, costs
//! nothing in the reverse sweep. The standard formulation is Hascoët and Pascual, "The
//! Tapenade automatic differentiation tool", ACM TOMS 39(3), 2013, section 3.
//!
//! Across regions: an `if` result is varied if either arm's yield is, and its yields are
//! useful if the result is. A loop-carried value is varied if its initial value or the body's
//! yield for it is, and useful if its final value or its argument in the next iteration is:
//! both are fixpoints, iterated until nothing changes (each pass can only add). Its initial
//! value is useful if the argument is, or, since a `for` may run no iteration, if the final
//! value is.
//!
//! The forward pass is also where a varied value reaching an op with no derivative rule (a
//! method or function the table does not know) is reported.

use crate::errors::Errors;
use crate::ir::{
    Activity, ArrayInit, Block, FnPath, Func, Number, Op, OpKind, Through, UnOp, Value,
};
use crate::prims::{Derivative, Operand};
use crate::signature::{Shape, Signature};

/// Which values of `func` are active.
pub fn analyze(func: &Func, sig: &Signature, errors: &mut Errors) -> Activity {
    // Both analyses are fixpoints over the whole function: each pass can only add, and one
    // pass per loop level (not one per iteration of every enclosing loop's fixpoint) keeps
    // the cost linear in the nesting depth. Errors are reported by a last forward pass.
    let mut varied = varied(func, sig);
    forward(func, &func.body, sig, &mut varied, &mut Some(errors));

    let mut useful = vec![false; func.values.len()];
    for &v in &func.body.yields {
        useful[v.index()] = true;
    }
    loop {
        let before = useful.clone();
        backward(func, &func.body, sig, &mut useful);
        if useful == before {
            break;
        }
    }

    launderings(func, &varied, &useful, errors);
    let active = varied.into_iter().zip(useful).map(|(v, u)| v && u);
    Activity::new(active.collect())
}

/// Which values of `func` are varied: depend on an active parameter through differentiable
/// ops (the forward half of [`analyze`]).
pub fn varied(func: &Func, sig: &Signature) -> Vec<bool> {
    let mut varied = vec![false; func.values.len()];
    for (param, sig_param) in func.params.iter().zip(&sig.params) {
        varied[param.value.index()] = sig_param.active;
    }
    loop {
        let before = varied.clone();
        forward(func, &func.body, sig, &mut varied, &mut None);
        if varied == before {
            return varied;
        }
    }
}

/// Reports every op that brings the bits of an active float (`x.to_bits()`, and what is
/// computed from them) back into the computation of the output (`f64::from_bits(b) * y`): the
/// derivative through them would be lost. Bits compared or printed are fine; integers from
/// `as`, `floor` or comparisons are piecewise constant, so their derivative is zero indeed.
fn launderings(func: &Func, varied: &[bool], useful: &[bool], errors: &mut Errors) {
    let mut bits = vec![false; func.values.len()];
    loop {
        let before = bits.clone();
        taint(&func.body, varied, &mut bits);
        if bits == before {
            break;
        }
    }
    report_launderings(&func.body, &bits, useful, errors);
}

/// Forward: the bits of a varied float, and every value computed from them.
fn taint(block: &Block, varied: &[bool], bits: &mut [bool]) {
    for op in &block.ops {
        match &op.kind {
            OpKind::If { then, els, .. } => {
                taint(then, varied, bits);
                taint(els, varied, bits);
                for (j, &r) in op.results.iter().enumerate() {
                    bits[r.index()] |= bits[then.yields[j].index()] || bits[els.yields[j].index()];
                }
                continue;
            }
            OpKind::For { .. } | OpKind::Loop { .. } => {
                if let Some(l) = op.kind.as_loop() {
                    for ((&a, &i), &y) in l.carried.iter().zip(l.init).zip(l.next) {
                        bits[a.index()] |= bits[i.index()] || bits[y.index()];
                    }
                    taint(l.body, varied, bits);
                    for ((&r, &a), &y) in op.results.iter().zip(l.carried).zip(l.next) {
                        bits[r.index()] |= bits[a.index()] || bits[y.index()];
                    }
                }
                continue;
            }
            _ => {}
        }
        for inner in op.kind.blocks() {
            taint(inner, varied, bits);
        }
        let operands = op.kind.operands();
        let source = matches!(&op.kind, OpKind::Prim(prim, _) if prim.derivative == Derivative::Bits)
            && operands.iter().any(|v| varied[v.index()]);
        if source || operands.iter().any(|v| bits[v.index()]) {
            for &r in &op.results {
                bits[r.index()] = true;
            }
        }
    }
}

fn report_launderings(block: &Block, bits: &[bool], useful: &[bool], errors: &mut Errors) {
    for op in &block.ops {
        for inner in op.kind.blocks() {
            report_launderings(inner, bits, useful, errors);
        }
        // Branching on bits is fine: the derivative is that of the branch taken.
        let region = !op.kind.blocks().is_empty();
        let tainted = op.kind.operands().iter().any(|v| bits[v.index()]);
        if !region && tainted && op.results.iter().any(|r| useful[r.index()]) {
            errors.push(syn::Error::new(op.span, "this value is computed from the bits of a float that depends on an active parameter (`to_bits`), and the output depends on it: the derivative through the bits would be lost; compute with the float itself"));
            return;
        }
    }
}

/// The operands through which a derivative flows from `kind`'s results.
pub fn differentiable_operands(kind: &OpKind, sig: &Signature, func: &Func) -> Vec<Value> {
    match kind {
        // A container's elements: loaded, stored, pushed, or its initial values.
        OpKind::Index(array, _) if func.storage(*array).is_some() => vec![*array],
        OpKind::Store { array, value, .. } | OpKind::Append { array, value } => {
            vec![*array, *value]
        }
        OpKind::Array(init) => match init {
            ArrayInit::Repeat { value, .. } => vec![*value],
            ArrayInit::List { values, .. } => values.clone(),
            ArrayInit::Empty { .. } => Vec::new(),
            ArrayInit::Copy { source, .. } => vec![*source],
            ArrayInit::Uninit => Vec::new(),
        },
        // The old elements are overwritten: only the new ones' derivative flows.
        OpKind::Assign { from, .. } => vec![*from],
        // Varied in, varied out: the method changing the value reports the error.
        OpKind::Touched { array, .. } => vec![*array],
        OpKind::Fresh(v) => vec![*v],
        OpKind::Prim(prim, args) if prim.derivative == Derivative::Rule => args
            .iter()
            .zip(prim.operands)
            .filter(|(_, kind)| **kind != Operand::Other)
            .map(|(v, _)| *v)
            .collect(),
        OpKind::Cast(v, _, Number::Float) => vec![*v],
        OpKind::Call(call) if call.through == Through::Pullback => {
            call.args.iter().map(|a| a.value).collect()
        }
        // A field of a parameter struct.
        OpKind::Field(base, _) if is_struct_base(func, sig, *base) => vec![*base],
        // A reference is not differentiated, but the value behind it is still varied: the op
        // that uses the reference reports the error, where the user can see why.
        OpKind::Ref { value, .. } | OpKind::Unary(UnOp::Deref, value) => vec![*value],
        _ => Vec::new(),
    }
}

/// One forward pass of the varied analysis over `block` (see [`analyze`]): marks the values
/// that depend on an active parameter through differentiable ops. With `errors`, reports each
/// op that a varied value reaches but whose derivative would be lost ([`refusal`]).
fn forward(
    func: &Func,
    block: &Block,
    sig: &Signature,
    varied: &mut [bool],
    errors: &mut Option<&mut Errors>,
) {
    for op in &block.ops {
        match &op.kind {
            OpKind::If { then, els, .. } => {
                forward(func, then, sig, varied, errors);
                forward(func, els, sig, varied, errors);
                for (j, &r) in op.results.iter().enumerate() {
                    varied[r.index()] =
                        varied[then.yields[j].index()] || varied[els.yields[j].index()];
                }
            }
            OpKind::For { .. } | OpKind::Loop { .. } => {
                forward_loop(func, op, sig, varied, errors);
            }
            _ => forward_op(func, op, sig, varied, errors),
        }
    }
}

/// A loop: its carried values are varied if their initial values are or the body yields a
/// varied value for them; the fixpoint over iterations is [`analyze`]'s loop of passes.
fn forward_loop(
    func: &Func,
    op: &Op,
    sig: &Signature,
    varied: &mut [bool],
    errors: &mut Option<&mut Errors>,
) {
    let Some(l) = op.kind.as_loop() else {
        return;
    };
    let (init, args, yields, body) = (l.init, l.carried, l.next, l.body);
    // An argument is varied if the initial value is, or the yield of the previous
    // iteration (as the last pass left it).
    for ((&a, &i), &y) in args.iter().zip(init).zip(yields) {
        varied[a.index()] = varied[i.index()] || varied[y.index()];
    }
    forward(func, body, sig, varied, errors);
    for ((&r, &a), &y) in op.results.iter().zip(args).zip(yields) {
        varied[r.index()] = varied[a.index()] || varied[y.index()];
    }
}

/// Any other op: its results are varied if a differentiable operand is (and they can hold
/// floats); a varied operand that is not differentiable is reported, with `errors`.
fn forward_op(
    func: &Func,
    op: &Op,
    sig: &Signature,
    varied: &mut [bool],
    errors: &mut Option<&mut Errors>,
) {
    let any = |vs: &[Value], varied: &[bool]| vs.iter().any(|v| varied[v.index()]);
    for inner in op.kind.blocks() {
        forward(func, inner, sig, varied, errors);
    }
    let result_varied = any(&differentiable_operands(&op.kind, sig, func), varied);
    if any(&op.kind.operands(), varied)
        && let Some(errors) = errors
        && let Some(message) = refusal(func, sig, &op.kind)
    {
        errors.push(syn::Error::new(op.span, message));
    }
    for &r in &op.results {
        varied[r.index()] = result_varied && !holds_no_floats(func, sig, r);
    }
}

/// Why an op with a varied operand (`kind`) cannot be differentiated, if it cannot: the
/// error the user sees, which says what to write instead.
fn refusal(func: &Func, sig: &Signature, kind: &OpKind) -> Option<String> {
    match kind {
        // A chain the lowering did not rewrite: it ends in a way it does not model.
        OpKind::Method { method, .. }
            if matches!(method.to_string().as_str(), "iter" | "iter_mut" | "into_iter") =>
        {
            Some("this iterator over a container that depends on an active parameter is not one #[reverse] models: write the chain in one expression, ending in `sum`, `product`, `fold`, `for_each`, `count`, `all`, `any`, `collect`, or `max_by`/`min_by`/`reduce` followed by `unwrap`, `expect` or `unwrap_or`; or write a `for` loop".to_string())
        }
        // A shape query of an nalgebra or ndarray parameter: integers, no floats.
        OpKind::Method { recv, method, args, .. }
            if args.is_empty()
                && matches!(
                    method.to_string().as_str(),
                    "nrows" | "ncols" | "dim" | "shape" | "is_empty"
                )
                && func.library(*recv).is_some() =>
        {
            None
        }
        OpKind::Method { method, .. } => Some(format!(
            "no derivative rule for method `{method}`, and its receiver or an argument depends on an active parameter, so the derivative through it would be lost; use the differentiable `Float` methods (sin, exp, powf, ... listed in docs/supported.md), or call `{method}` with inactive values only"
        )),
        OpKind::Call(call) if matches!(call.through, Through::Constructor | Through::Std) => {
            let path = call.callee.path().map(path_text).unwrap_or_default();
            Some(if call.through == Through::Constructor {
                format!("cannot differentiate through `{path}`: convert between float types with `as` (`x as f64`), which is differentiated")
            } else {
                format!("cannot differentiate through `{path}`: a standard-library function with no derivative rule; use the differentiable `Float` methods (docs/supported.md), or write the computation in a `#[reverse]` function")
            })
        }
        // A float made an integer is piecewise constant; any other target (`as _`, an
        // alias of `f64`) the macro cannot classify.
        OpKind::Cast(_, ty, Number::Unknown) => {
            Some(format!("cannot tell what `{}` is: cast a value that depends on an active parameter to `f32`, `f64` or the function's float type (differentiated), or to an integer type (piecewise constant)", ty.to_string().replace(' ', "")))
        }
        // `&q` as a value (not a call's argument, not bound by `let`): the reference would
        // carry no adjoint back to `q`.
        OpKind::Ref {
            mutable: false,
            value,
        } if func.storage(*value).is_some() => Some(
            "a reference to a container that depends on an active parameter, used as a value here: pass the container to the function itself (`g(&q)`), or bind the reference with `let` first (`let r = &q;`)".to_string(),
        ),
        OpKind::Ref { value, .. }
            if func.storage(*value).is_none() && !is_struct_base(func, sig, *value) =>
        {
            Some("a `&mut` reference to a float that depends on an active parameter: writes through it are not modeled; assign the variable itself (`s = ..`)".to_string())
        }
        // `*v` of a float is the float (`references.rs`); of a container, it is refused.
        OpKind::Unary(UnOp::Deref, _) => Some(
            "`*` of a container that depends on an active parameter: use the container itself (`x[i]`, `x.len()`, `&x`)".to_string(),
        ),
        OpKind::Index(array, _) if func.storage(*array).is_some() => None,
        OpKind::Field(base, _) if is_struct_base(func, sig, *base) => None,
        OpKind::Field(..) | OpKind::Index(..) => Some(
            "this value depends on an active parameter and cannot have fields or be indexed: active values are floats, containers of floats and parameter structs; destructure a tuple a function returns at the call, `let (a, b) = g(x);`, and annotate the rows a function returns where they are bound, `let q: Vec<[f64; 2]> = g(x);`".to_string(),
        ),
        // A name binds the value (or is a constant compared with it): a test like `==`.
        OpKind::Matches(_, pat) if pat.is_name => None,
        OpKind::Bind { .. } => Some(
            "this pattern takes parts of a value that depends on an active parameter: active values are floats, containers of floats and parameter structs; bind the whole value (`v =>`) and test it with a guard (`v if v < 1.0 =>`)".to_string(),
        ),
        OpKind::Matches(..) => Some(
            "`match` on a value that depends on an active parameter compares floats with patterns; use guards instead (`v if v < 1.0 => ..`), or an `if`".to_string(),
        ),
        _ => None,
    }
}

/// A version of a container parameter whose elements are not floats (`&mut Vec<usize>`): a
/// call that writes it cannot make it depend on an active parameter.
fn holds_no_floats(func: &Func, sig: &Signature, v: Value) -> bool {
    let Some(root) = func.storage(v) else {
        return false;
    };
    func.params
        .iter()
        .zip(&sig.params)
        .find(|(p, _)| p.value == root)
        .and_then(|(_, p)| p.shape.elem())
        .is_some_and(|elem| !sig.is_float(elem))
}

fn backward(func: &Func, block: &Block, sig: &Signature, useful: &mut [bool]) {
    for op in block.ops.iter().rev() {
        let any_result = op.results.iter().any(|r| useful[r.index()]);
        match &op.kind {
            OpKind::If { then, els, .. } => {
                for (j, &r) in op.results.iter().enumerate() {
                    if useful[r.index()] {
                        useful[then.yields[j].index()] = true;
                        useful[els.yields[j].index()] = true;
                    }
                }
                backward(func, then, sig, useful);
                backward(func, els, sig, useful);
            }
            OpKind::For { .. } | OpKind::Loop { .. } => {
                let Some(l) = op.kind.as_loop() else {
                    continue;
                };
                let (init, args, yields, body) = (l.init, l.carried, l.next, l.body);
                // A yield is useful if the final value is, or the argument of the next
                // iteration (as the last pass left it).
                for ((&r, &a), &y) in op.results.iter().zip(args).zip(yields) {
                    if useful[r.index()] || useful[a.index()] {
                        useful[y.index()] = true;
                    }
                }
                backward(func, body, sig, useful);
                for (&i, &a) in init.iter().zip(args) {
                    if useful[a.index()] {
                        useful[i.index()] = true;
                    }
                }
                // A `for` may run no iteration: its results are then its initial values.
                if l.range.is_some() {
                    for (&r, &i) in op.results.iter().zip(init) {
                        if useful[r.index()] {
                            useful[i.index()] = true;
                        }
                    }
                }
            }
            kind if any_result => {
                for v in differentiable_operands(kind, sig, func) {
                    useful[v.index()] = true;
                }
            }
            _ => {}
        }
    }
}

/// Whether `v` is a parameter struct: a parameter of that shape, or a field of one that is
/// not a container (a float field is one only as long as nothing says otherwise).
pub fn is_struct(func: &Func, sig: &Signature, v: Value) -> bool {
    let info = func.info(v);
    if info.place.is_some() {
        return info.storage.is_none();
    }
    func.params
        .iter()
        .zip(&sig.params)
        .any(|(p, s)| p.value == v && matches!(s.shape, Shape::Struct { .. }))
}

/// Whether fields of `v` are places: `v` is a parameter struct or a place.
pub(crate) fn is_struct_base(func: &Func, sig: &Signature, v: Value) -> bool {
    func.info(v).place.is_some() || is_struct(func, sig, v)
}

fn path_text(path: &FnPath) -> String {
    path.tokens().to_string().replace(' ', "")
}
