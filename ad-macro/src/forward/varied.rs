//! Which values of a program vary with the seeded parameters, for the tangent transform: a
//! forward dependence analysis, iterated to a fixed point over loops (a value carried around
//! a loop varies if it does on entry or after an iteration).
//!
//! Unlike `analysis::activity` it runs on adjoint programs too (the stashes, buffers and
//! rules of the reverse sweep), and it does not ask whether a value reaches the output: a
//! tangent nobody reads is a dead `let` that rustc removes.
//!
//! A container varies as a whole: every version of a storage does if one does, so that its
//! tangent exists from the op that makes it.

use std::collections::HashMap;

use crate::ir::{Arg, Block, Func, Op, OpKind, Through, Value};
use crate::prims::{Derivative, Operand};

use super::Unsupported;

pub struct Varied {
    set: Vec<bool>,
    /// For each stash, the positions of its pushes that vary.
    stashes: HashMap<usize, Vec<bool>>,
}

impl Varied {
    pub fn analyze(func: &Func, seeds: &[Value]) -> Result<Varied, Unsupported> {
        let mut varied = Varied {
            set: vec![false; func.values.len()],
            stashes: HashMap::new(),
        };
        for &s in seeds {
            varied.mark(func, s);
        }
        loop {
            let mut changed = false;
            varied.walk(func, &func.body, &mut changed);
            if !changed {
                break;
            }
        }
        // Every version of a varying storage varies (the fixed point asked `is_in`; the
        // transform asks `is`).
        for v in 0..func.values.len() {
            if let Some(storage) = func.values[v].storage
                && varied.is(storage)
            {
                varied.set[v] = true;
            }
        }
        varied.check(func, &func.body)?;
        // A container parameter that is not seeded has no tangent to hold what is written
        // into it.
        for p in &func.params {
            if varied.is(p.value) && !seeds.contains(&p.value) {
                return Err(Unsupported {
                    span: p
                        .ident
                        .as_ref()
                        .map_or_else(proc_macro2::Span::call_site, |i| i.span()),
                    why: "writes_varying_values_into_a_mut_parameter",
                });
            }
        }
        Ok(varied)
    }

    /// Whether `v` varies.
    pub fn is(&self, v: Value) -> bool {
        self.set.get(v.index()).copied().unwrap_or(false)
    }

    /// The positions of stash `stash`'s pushes that vary, if any does.
    pub fn stash_positions(&self, stash: usize) -> Option<Vec<usize>> {
        let positions: Vec<usize> = self
            .stashes
            .get(&stash)?
            .iter()
            .enumerate()
            .filter(|(_, v)| **v)
            .map(|(k, _)| k)
            .collect();
        (!positions.is_empty()).then_some(positions)
    }

    fn set_one(&mut self, v: Value, changed: &mut bool) {
        if let Some(slot) = self.set.get_mut(v.index())
            && !*slot
        {
            *slot = true;
            *changed = true;
        }
    }

    fn mark(&mut self, func: &Func, v: Value) -> bool {
        let mut changed = false;
        self.set_one(v, &mut changed);
        if let Some(storage) = func.storage(v) {
            self.set_one(storage, &mut changed);
        }
        changed
    }

    /// Whether `v` varies, or the storage it is a version of does.
    fn is_in(&self, func: &Func, v: Value) -> bool {
        self.is(v) || func.storage(v).is_some_and(|s| self.is(s))
    }

    fn walk(&mut self, func: &Func, block: &Block, changed: &mut bool) {
        for op in &block.ops {
            self.walk_op(func, op, changed);
        }
    }

    fn walk_op(&mut self, func: &Func, op: &Op, changed: &mut bool) {
        let any = |this: &Self, vs: &[Value]| vs.iter().any(|&v| this.is_in(func, v));
        let results_vary = match &op.kind {
            OpKind::Prim(prim, operands) => {
                prim.derivative == Derivative::Rule
                    && operands.iter().zip(prim.operands).any(|(&v, k)| {
                        matches!(k, Operand::Float | Operand::Array) && self.is_in(func, v)
                    })
            }
            OpKind::Cast(v, _, crate::ir::Number::Float)
            | OpKind::Index(v, _)
            | OpKind::Field(v, _)
            | OpKind::Fresh(v)
            | OpKind::Ref { value: v, .. }
            | OpKind::BufferTake { buffer: v, .. }
            | OpKind::BufferPop(v)
            | OpKind::BufferSum(v) => self.is_in(func, *v),
            OpKind::Array(_)
            | OpKind::Store { .. }
            | OpKind::Append { .. }
            | OpKind::Assign { .. } => {
                let operands: Vec<Value> = op
                    .kind
                    .operands()
                    .into_iter()
                    .filter(|v| !matches!(&op.kind, OpKind::Store { index, .. } if index == v))
                    .collect();
                any(self, &operands)
            }
            OpKind::Call(call) if forward_through(func, op, call) => {
                call.args.iter().any(|a| self.is_in(func, a.value))
            }
            OpKind::Pullback { args, .. } => args.iter().any(|a| match a {
                Arg::Value(v) | Arg::Clone(v) | Arg::Ref(v) => self.is_in(func, *v),
                _ => false,
            }),
            OpKind::BufferAdd { buffer, value, .. } => {
                if self.is_in(func, *value) {
                    *changed |= self.mark(func, *buffer);
                }
                false
            }
            OpKind::BufferAddAll { buffer, from } => {
                if self.is_in(func, *from) {
                    *changed |= self.mark(func, *buffer);
                }
                false
            }
            OpKind::Push { stash, values } => {
                let flags: Vec<bool> = values.iter().map(|&v| self.is_in(func, v)).collect();
                let known = self.stashes.entry(*stash).or_default();
                known.resize(known.len().max(flags.len()), false);
                for (k, f) in flags.into_iter().enumerate() {
                    if f && !known[k] {
                        known[k] = true;
                        *changed = true;
                    }
                }
                false
            }
            OpKind::Pop { stash } => {
                let positions = self.stashes.get(stash).cloned().unwrap_or_default();
                for (k, &r) in op.results.iter().enumerate() {
                    if positions.get(k).copied().unwrap_or(false) {
                        *changed |= self.mark(func, r);
                    }
                }
                false
            }
            OpKind::If { then, els, .. } => {
                self.walk(func, then, changed);
                self.walk(func, els, changed);
                for (k, &r) in op.results.iter().enumerate() {
                    let arms = [then.yields.get(k), els.yields.get(k)];
                    if arms.into_iter().flatten().any(|&y| self.is_in(func, y)) {
                        *changed |= self.mark(func, r);
                    }
                }
                false
            }
            OpKind::For { .. } | OpKind::Loop { .. } => {
                if let Some(parts) = op.kind.as_loop() {
                    for k in 0..parts.init.len() {
                        let vary = self.is_in(func, parts.init[k])
                            || self.is_in(func, parts.next[k])
                            || self.is_in(func, parts.carried[k]);
                        if vary {
                            *changed |= self.mark(func, parts.carried[k]);
                            *changed |= self.mark(func, op.results[k]);
                        }
                    }
                    self.walk(func, parts.body, changed);
                }
                false
            }
            OpKind::Logic { rhs, .. } => {
                self.walk(func, rhs, changed);
                false
            }
            _ => false,
        };
        if results_vary {
            for &r in &op.results {
                *changed |= self.mark(func, r);
            }
        }
    }

    /// The ops the transform does not model, where an operand varies.
    fn check(&self, func: &Func, block: &Block) -> Result<(), Unsupported> {
        for op in &block.ops {
            let varies = op.kind.operands().iter().any(|&v| self.is_in(func, v));
            let what = match &op.kind {
                OpKind::Call(call)
                    if varies
                        && call.through == Through::Pullback
                        && !forward_through(func, op, call) =>
                {
                    Some("calls_another_reverse_function")
                }
                OpKind::Call(call)
                    if call.through != Through::Pullback
                        && op.results.iter().skip(1).any(|&r| self.is_in(func, r)) =>
                {
                    Some("changes_a_varying_container_in_a_call")
                }
                OpKind::CallPullback { .. } if varies => Some("calls_another_reverse_function"),
                OpKind::Touched { .. } if varies => Some("changes_a_varying_container_in_a_method"),
                OpKind::Bind { .. } if varies => Some("binds_parts_of_a_varying_value"),
                OpKind::Unary(..) if varies => Some("dereferences_a_varying_value"),
                OpKind::AddTo { .. } if varies => Some("has_a_parameter_struct"),
                OpKind::Checkpointed(_) => Some("has_a_checkpointed_loop"),
                OpKind::Original(_) => Some("has_a_given_derivative"),
                OpKind::Pullback { args, .. }
                    if varies && args.iter().any(|a| matches!(a, Arg::Mut(_))) =>
                {
                    Some("needs_second_derivatives_of_linalg")
                }
                _ => None,
            };
            if let Some(what) = what {
                return Err(Unsupported {
                    span: op.span,
                    why: what,
                });
            }
            for inner in op.kind.blocks() {
                self.check(func, inner)?;
            }
        }
        Ok(())
    }
}

/// Whether the tangent of `call`, a call of another `#[reverse]` function, is taken through
/// its pullback (`Transform::call`): a float returned, no container written or returned, no
/// rows passed.
pub fn forward_through(func: &Func, op: &Op, call: &crate::ir::Call) -> bool {
    call.through == Through::Pullback
        && call.returned == 1
        && op.results.len() == 1
        && !call.rows_returned
        && func.storage(op.results[0]).is_none()
        && call
            .args
            .iter()
            .all(|a| !a.pass.writes() && a.entry.is_none() && a.rows.is_none())
}
