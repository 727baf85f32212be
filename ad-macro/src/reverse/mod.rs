//! Reverse mode: a primal [`Func`] → its adjoint program, another `Func` of the same IR.
//!
//! The adjoint program takes the primal parameters and a `seed` (the output's cotangent) and
//! yields the primal output followed by the adjoint of each active parameter. Its body is
//!
//! 1. the **forward sweep**: the primal ops, unchanged and with the same value numbers, so
//!    every primal value the reverse sweep needs is still in a local;
//! 2. the **reverse sweep**: the active ops in reverse order, each replaced by a call of its
//!    rule, `(da, db) = pullback mul a, b, y, dy`, whose results are added into the operands'
//!    adjoints.
//!
//! Adjoints are SSA values too. The first contribution to a value's adjoint *is* its adjoint;
//! each later one (fan-out: the value had several uses) adds to it, `dx.2 = add dx.1, dx.0`,
//! as the seed's "Accumulation at Shared Inputs". A value with no contribution needs no
//! zero: activity analysis left only values that reach the output, so the sole zeros are the
//! adjoints of active parameters the output does not depend on, and of the unused results of
//! a multi-result primitive.
//!
//! Before (`y = sin(x * x)`):
//! ```text
//! %s.1 = mul %x.0, %x.0
//! %y.2 = sin %s.1
//! ```
//! After:
//! ```text
//! %s.1 = mul %x.0, %x.0
//! %y.2 = sin %s.1
//! %ds.4 = pullback sin %s.1, %y.2, %seed.3
//! %dx.5, %dx.6 = pullback mul %x.0, %x.0, %s.1, %ds.4
//! %dx.7 = add %dx.5, %dx.6
//! yield %y.2, %dx.7
//! ```

use std::collections::HashMap;

use proc_macro2::{Ident, Span};

use crate::ir::{Func, Op, OpKind, Param, Value};
use crate::prims::{self, Derivative, Operand};
use crate::signature::Signature;

/// Builds the adjoint program of `primal`. `seed` names the cotangent parameter.
pub fn differentiate(primal: &Func, sig: &Signature, seed: Ident) -> Func {
    let mut adjoint = primal.clone();
    adjoint.name = format!("{}_vjp", primal.name);
    let seed_value = adjoint.new_value(Some("seed".into()));
    adjoint.params.push(Param {
        value: seed_value,
        ident: Some(seed),
    });
    let mut sweep = Sweep {
        func: &mut adjoint,
        adjoints: HashMap::new(),
        ops: Vec::new(),
    };
    let output = primal.body.yields[0];
    if primal.is_active(output) {
        sweep.adjoints.insert(output, seed_value);
    }
    for op in primal.body.ops.iter().rev() {
        sweep.reverse(op, sig);
    }
    let mut yields = vec![output];
    for (param, sig_param) in primal.params.iter().zip(&sig.params) {
        if sig_param.active {
            let adjoint = sweep.adjoint_or_zero(param.value, Span::call_site());
            yields.push(adjoint);
        }
    }
    let reverse_ops = std::mem::take(&mut sweep.ops);
    adjoint.body.ops.extend(reverse_ops);
    adjoint.body.yields = yields;
    adjoint
}

struct Sweep<'a> {
    func: &'a mut Func,
    /// The current adjoint of each primal value that has received a contribution.
    adjoints: HashMap<Value, Value>,
    /// The reverse sweep's ops, in execution order.
    ops: Vec<Op>,
}

impl Sweep<'_> {
    fn reverse(&mut self, op: &Op, sig: &Signature) {
        if !op.results.iter().any(|&r| self.func.is_active(r)) {
            return;
        }
        match &op.kind {
            OpKind::Prim(prim, operands) if prim.derivative == Derivative::Rule => {
                let inputs: Vec<(Value, bool)> = operands
                    .iter()
                    .zip(prim.operands)
                    .filter(|(_, kind)| **kind == Operand::Float)
                    .map(|(&v, _)| (v, self.func.is_active(v)))
                    .collect();
                let adjoints: Vec<Value> = op
                    .results
                    .iter()
                    .map(|&r| self.adjoint_or_zero(r, op.span))
                    .collect();
                // An argument the rule does not read is replaced by a result adjoint (same
                // type, always at hand), so that nothing is kept alive only to be ignored.
                let kinds = prim
                    .operands
                    .iter()
                    .chain(std::iter::repeat(&Operand::Float));
                let mut args: Vec<Value> = operands
                    .iter()
                    .chain(&op.results)
                    .zip(kinds)
                    .enumerate()
                    .map(|(i, (&v, kind))| {
                        if prim.reads(i) || *kind == Operand::Other {
                            v
                        } else {
                            adjoints[0]
                        }
                    })
                    .collect();
                args.extend(adjoints);
                self.pullback(prim.name, args, &inputs, op.span);
            }
            OpKind::Cast(v, ty) if sig.is_float(ty) => {
                let args = vec![
                    *v,
                    op.results[0],
                    self.adjoint_or_zero(op.results[0], op.span),
                ];
                self.pullback("cast", args, &[(*v, self.func.is_active(*v))], op.span);
            }
            // Activity analysis makes every other op inactive.
            _ => {}
        }
    }

    /// Emits `rule(args)`, whose results are the adjoints of `inputs`, and accumulates those
    /// of the active inputs.
    fn pullback(
        &mut self,
        rule: &'static str,
        args: Vec<Value>,
        inputs: &[(Value, bool)],
        span: Span,
    ) {
        let results: Vec<Value> = inputs
            .iter()
            .map(|&(v, _)| {
                let name = self.func.info(v).name.as_ref().map(|n| format!("d{n}"));
                self.func.new_value(name)
            })
            .collect();
        self.ops.push(Op {
            results: results.clone(),
            kind: OpKind::Pullback { rule, args },
            span,
            ty: None,
        });
        for (&(v, active), contribution) in inputs.iter().zip(results) {
            if active {
                self.accumulate(v, contribution, span);
            }
        }
    }

    /// `adjoint(v) += contribution`, in SSA form.
    fn accumulate(&mut self, v: Value, contribution: Value, span: Span) {
        let sum = match self.adjoints.get(&v) {
            None => contribution,
            Some(&previous) => {
                let sum = self
                    .func
                    .new_value(self.func.info(contribution).name.clone());
                self.ops.push(Op {
                    results: vec![sum],
                    kind: OpKind::Prim(prims::add(), vec![previous, contribution]),
                    span,
                    ty: None,
                });
                sum
            }
        };
        self.adjoints.insert(v, sum);
    }

    /// The adjoint of `v`, or a zero of its type if nothing has contributed to it.
    fn adjoint_or_zero(&mut self, v: Value, span: Span) -> Value {
        if let Some(&adjoint) = self.adjoints.get(&v) {
            return adjoint;
        }
        let name = self.func.info(v).name.as_ref().map(|n| format!("d{n}"));
        let zero = self.func.new_value(name);
        self.ops.push(Op {
            results: vec![zero],
            kind: OpKind::ZeroLike(v),
            span,
            ty: None,
        });
        self.adjoints.insert(v, zero);
        zero
    }
}
