//! Activity analysis: which values the reverse sweep must differentiate.
//!
//! A value is *varied* if it depends on an active parameter through differentiable ops
//! (forward dataflow), and *useful* if the output depends on it through differentiable ops
//! (backward dataflow). It is *active* if both: only active values get adjoints, so a
//! computation on inactive parameters, or one whose result is dropped or only compared, costs
//! nothing in the reverse sweep. The standard formulation is Hascoët and Pascual, "The
//! Tapenade automatic differentiation tool", ACM TOMS 39(3), 2013, section 3.
//!
//! The forward pass is also where a varied value reaching an op with no derivative rule (a
//! method or function the table does not know) is reported.

use crate::errors::Errors;
use crate::ir::{Block, Func, OpKind, Value};
use crate::prims::{Derivative, Operand};
use crate::signature::Signature;

/// Sets [`ValueInfo::active`](crate::ir::ValueInfo) on every value of `func`.
pub fn analyze(func: &mut Func, sig: &Signature, errors: &mut Errors) {
    let mut varied = vec![false; func.values.len()];
    for (param, sig_param) in func.params.iter().zip(&sig.params) {
        varied[param.value.index()] = sig_param.active;
    }
    forward(&func.body, sig, &mut varied, errors);

    let mut useful = vec![false; func.values.len()];
    for &v in &func.body.yields {
        useful[v.index()] = true;
    }
    backward(&func.body, sig, &mut useful);

    for (info, (v, u)) in func.values.iter_mut().zip(varied.into_iter().zip(useful)) {
        info.active = v && u;
    }
}

/// The operands through which a derivative flows from `kind`'s results.
fn differentiable_operands(kind: &OpKind, sig: &Signature) -> Vec<Value> {
    match kind {
        OpKind::Prim(prim, args) if prim.derivative == Derivative::Rule => args
            .iter()
            .zip(prim.operands)
            .filter(|(_, kind)| **kind == Operand::Float)
            .map(|(v, _)| *v)
            .collect(),
        OpKind::Cast(v, ty) if sig.is_float(ty) => vec![*v],
        // A reference is not differentiated, but the value behind it is still varied: the op
        // that uses the reference reports the error, where the user can see why.
        OpKind::Ref { value, .. } => vec![*value],
        _ => Vec::new(),
    }
}

fn forward(block: &Block, sig: &Signature, varied: &mut [bool], errors: &mut Errors) {
    for op in &block.ops {
        for inner in op.kind.blocks() {
            forward(inner, sig, varied, errors);
        }
        let is_varied = |v: &Value| varied[v.index()];
        let result_varied = differentiable_operands(&op.kind, sig).iter().any(is_varied);
        let culprit = op.kind.operands().into_iter().any(|v| varied[v.index()]);
        if culprit {
            let message = match &op.kind {
                OpKind::Method { method, .. } => Some(format!(
                    "no derivative rule for method `{method}`, and its receiver or an argument depends on an active parameter, so the derivative through it would be lost; use the differentiable `Float` methods (sin, exp, powf, ... listed in docs/supported.md), or call `{method}` with inactive values only"
                )),
                OpKind::Call(path, _) => Some(format!(
                    "cannot differentiate through a call to `{}`: it has no derivative rule and calls to other functions are not supported yet; inline its body here, or pass it inactive values only",
                    path_text(path)
                )),
                OpKind::Field(..) | OpKind::Index(..) => Some(
                    "this value depends on an active parameter and cannot be indexed or have fields: active values are scalar floats".to_string(),
                ),
                _ => None,
            };
            if let Some(message) = message {
                errors.push(syn::Error::new(op.span, message));
            }
        }
        for &r in &op.results {
            varied[r.index()] = result_varied;
        }
    }
}

fn backward(block: &Block, sig: &Signature, useful: &mut [bool]) {
    for op in block.ops.iter().rev() {
        if op.results.iter().any(|r| useful[r.index()]) {
            for v in differentiable_operands(&op.kind, sig) {
                useful[v.index()] = true;
            }
        }
    }
}

fn path_text(path: &syn::ExprPath) -> String {
    quote::ToTokens::to_token_stream(path)
        .to_string()
        .replace(' ', "")
}
