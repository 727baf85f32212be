//! Which values `#[reverse(debug_nonfinite)]` checks, and how a report names them.
//!
//! In the adjoint program: the floats the forward sweep computes from active values (the
//! results of differentiable primitives and float casts), the derivatives the reverse sweep's
//! rules return, and the sums and products of those. Only values known to be floats are
//! checked (a primitive such as `+` also adds indices), so the check, a generic function of
//! `F: Float`, always has a float to take. Emit writes a check after each such value's `let`.

use std::collections::HashMap;

use crate::ir::{Arg, Block, Func, Number, OpKind, Rule, Value};

use crate::prims::{Derivative, Operand, Syntax};

/// A checked value: what made it, and the values the report shows it was made from.
pub struct Site {
    /// The operation as the report names it: `` `ln` ``, `` the derivative of `ln` ``.
    pub what: String,
    /// Made in the reverse sweep.
    pub reverse: bool,
    /// Floats it was computed from, shown when it is not finite.
    pub from: Vec<Value>,
}

/// The checked values of the adjoint program `func`, whose primal values `active` says are
/// active (only those of the primal are floats for certain), and whose active scalar
/// parameters are `float_params`.
pub fn sites(
    func: &Func,
    active: &crate::ir::Activity,
    float_params: &[Value],
) -> HashMap<Value, Site> {
    let mut finder = Finder {
        active,
        floats: float_params.iter().copied().collect(),
        sites: HashMap::new(),
    };
    for (k, op) in func.body.ops.iter().enumerate() {
        finder.op(op, k >= func.reverse_start);
    }
    finder.sites
}

struct Finder<'a> {
    active: &'a crate::ir::Activity,
    /// Values known to be floats (of some float type).
    floats: std::collections::HashSet<Value>,
    sites: HashMap<Value, Site>,
}

impl Finder<'_> {
    fn block(&mut self, block: &Block, reverse: bool) {
        for op in &block.ops {
            self.op(op, reverse);
        }
    }

    fn op(&mut self, op: &crate::ir::Op, reverse: bool) {
        match &op.kind {
            OpKind::Prim(prim, args)
                if prim.derivative == Derivative::Rule && !prim.array_result =>
            {
                // A result is a float if the primal says it is active, or (in the reverse
                // sweep, whose values the primal does not know) if a float went in.
                let known = op.results.iter().all(|r| self.active.is_active(*r))
                    || args.iter().any(|a| self.floats.contains(a));
                if !known {
                    return;
                }
                let from = args
                    .iter()
                    .zip(
                        prim.operands
                            .iter()
                            .chain(std::iter::repeat(&Operand::Float)),
                    )
                    .filter(|(_, kind)| matches!(kind, Operand::Float | Operand::Borrowed))
                    .map(|(a, _)| *a)
                    .collect::<Vec<_>>();
                let what = match prim.syntax {
                    Syntax::Infix(c) | Syntax::Prefix(c) => format!("`{c}`"),
                    Syntax::Method | Syntax::Library => format!("`{}`", prim.name),
                    Syntax::Function(module) => format!("`{module}::{}`", prim.name),
                };
                self.define(&op.results, what, reverse, from);
            }
            OpKind::Cast(from, _, Number::Float) if self.active.is_active(op.results[0]) => {
                self.define(&op.results, "`as`".into(), reverse, vec![*from]);
            }
            OpKind::Pullback { rule, args } => {
                let what = match rule {
                    Rule::Runtime(name) => format!("the derivative of `{name}`"),
                    // A user's rule may return the adjoint of a struct, not only floats.
                    Rule::User(_) | Rule::Tangent(_) => return,
                };
                // The rule's float arguments: the operands of float kind, then the results
                // and their cotangents (`rules::<name>(operands.., results.., cotangents..)`).
                let operands = crate::prims::PRIMS
                    .iter()
                    .find(|p| matches!(rule, Rule::Runtime(name) if *name == p.name))
                    .map_or(&[][..], |p| p.operands);
                let from = (args.iter().enumerate())
                    .filter_map(|(k, a)| match (a, operands.get(k)) {
                        (Arg::Value(v), None | Some(Operand::Float | Operand::Borrowed)) => {
                            Some(*v)
                        }
                        _ => None,
                    })
                    .collect();
                self.define(&op.results, what, true, from);
            }
            _ => {
                for block in op.kind.blocks() {
                    self.block(block, reverse);
                }
            }
        }
    }

    fn define(&mut self, results: &[Value], what: String, reverse: bool, from: Vec<Value>) {
        for &r in results {
            self.floats.insert(r);
            let site = Site {
                what: what.clone(),
                reverse,
                from: from.clone(),
            };
            self.sites.insert(r, site);
        }
    }
}
