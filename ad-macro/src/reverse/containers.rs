//! Reversing container ops. A container's adjoint is a *buffer* of the same length, mutated in
//! place by the reverse sweep (not versioned): it holds, at each point of the reverse sweep,
//! the adjoint of the container's version at the matching point of the forward sweep.
//!
//! | forward | reverse |
//! |---|---|
//! | `t = x[i]` | `dx[i] += dt` |
//! | `x[i] = v` | `dv = dx[i]; dx[i] = 0` (the overwritten element's adjoint starts at 0) |
//! | `x.push(v)` | `dv = dx.pop()` |
//! | `vec![v; n]` | `dv = sum(dx)` |
//! | `vec![a, b]` | `da = dx[0]; db = dx[1]` |
//!
//! A parameter's buffer is its gradient. A buffer is made where its container is at hand: at
//! the start of the reverse sweep for containers of the function's scope, at the start of a
//! reversed region for containers made inside it (which the region then stashes whole).

use std::collections::HashSet;

use proc_macro2::Span;

use super::Sweep;
use crate::ir::{Activity, ArrayInit, Block, Func, Literal, Op, OpKind, Value};

impl<'a> Sweep<'a> {
    /// `d(source) += buffer`, elementwise, if `source` (a container whose elements were
    /// copied) is active.
    fn add_all_into(&mut self, source: Value, buffer: Value, span: Span) {
        if self.active(source) {
            let into = self.buffer(source, span);
            let add = OpKind::BufferAddAll {
                buffer: into,
                from: buffer,
            };
            self.emit(add, span, Vec::new());
        }
    }

    /// Reverses `op` if it is a container op; `false` otherwise.
    pub(super) fn reverse_container(&mut self, op: &'a Op) -> bool {
        let span = op.span;
        let active = op.results.iter().any(|&r| self.active(r));
        match &op.kind {
            OpKind::Index(array, index) if self.primal.storage(*array).is_some() => {
                if active {
                    self.reverse_index(op, *array, *index);
                }
            }
            OpKind::Store {
                array,
                index,
                value,
            } => {
                if active {
                    let buffer = self.buffer(*array, span);
                    let index = self.read(*index);
                    self.take_into(*value, OpKind::BufferTake { buffer, index }, span);
                }
            }
            OpKind::Assign { array, from, len } => self.reverse_assign(*array, *from, *len, span),
            // Changed in place by an op with no model, on inactive elements: only the buffer's
            // length needs restoring.
            OpKind::Touched { array, len } => {
                if self.active_storage(*array) {
                    let buffer = self.buffer(*array, span);
                    let len = self.read(*len);
                    self.emit(OpKind::BufferReset { buffer, len }, span, Vec::new());
                }
            }
            OpKind::Append { array, value } => {
                // Every push pops, active or not, so that buffer positions stay aligned.
                if self.active_storage(*array) {
                    let buffer = self.buffer(*array, span);
                    self.take_into(*value, OpKind::BufferPop(buffer), span);
                }
            }
            OpKind::Array(init) => {
                if active {
                    self.reverse_array(op, init);
                }
            }
            _ => return false,
        }
        true
    }

    /// `t = x[i]` (active `t`): `dx[i] += dt`.
    fn reverse_index(&mut self, op: &Op, array: Value, index: Value) {
        let span = op.span;
        let dt = self.adjoint_or_zero(op.results[0], span);
        let buffer = self.buffer(array, span);
        let index = self.read(index);
        self.emit(
            OpKind::BufferAdd {
                buffer,
                index,
                value: dt,
            },
            span,
            Vec::new(),
        );
    }

    /// `x = from`: `from`'s elements receive `x`'s adjoints, and `x`'s old elements,
    /// overwritten, start at zero (as many as there were: a `Vec` may change length).
    fn reverse_assign(&mut self, array: Value, from: Value, len: Option<Value>, span: Span) {
        if self.active_storage(array) {
            let buffer = self.buffer(array, span);
            self.add_all_into(from, buffer, span);
            if let Some(len) = len {
                let len = self.read(len);
                self.emit(OpKind::BufferReset { buffer, len }, span, Vec::new());
            }
        }
    }

    /// A new active container (`op`, made by `init`): its buffer gives each element's
    /// adjoint to the value it was made of (`[a, b]`: `da = dx[0]; db = dx[1]`; `[v; n]`:
    /// `dv = sum(dx)`), or adds into the copied container's buffer.
    fn reverse_array(&mut self, op: &Op, init: &ArrayInit) {
        let span = op.span;
        let buffer = self.buffer(op.results[0], span);
        match init {
            ArrayInit::Repeat { value, .. } => {
                self.take_into(*value, OpKind::BufferSum(buffer), span);
            }
            ArrayInit::List { values, .. } => {
                for (k, &value) in values.iter().enumerate() {
                    let lit = Literal::usize(k, span);
                    let index = self.func.new_value(None);
                    self.emit(OpKind::Lit(lit), span, vec![index]);
                    self.take_into(value, OpKind::BufferTake { buffer, index }, span);
                }
            }
            ArrayInit::Empty { .. } | ArrayInit::Uninit => {}
            // A snapshot's buffer is its source's (see [`Sweep::buffer`]).
            ArrayInit::Copy { .. } if self.primal.info(op.results[0]).snapshot_of.is_some() => {}
            ArrayInit::Copy { source, .. } => {
                self.add_all_into(*source, buffer, span);
            }
        }
    }

    /// A field of a parameter struct read as a float adds its adjoint into the same field of
    /// the struct's adjoint; a container field's buffer is that field already, and a struct
    /// field's adjoint is made of its own fields'.
    pub(super) fn reverse_place(&mut self, op: &Op) {
        let place = op.results[0];
        if self.primal.storage(place).is_some() {
            return;
        }
        if let Some(&adjoint) = self.adjoints.get(&place) {
            let buffer = self.buffer(place, op.span);
            self.emit(
                OpKind::AddTo {
                    place: buffer,
                    value: adjoint,
                },
                op.span,
                Vec::new(),
            );
        }
    }

    /// Emits `kind` (an op giving the adjoint of `value`) if `value` is active, and
    /// accumulates; emits it anyway if it changes the buffer.
    fn take_into(&mut self, value: Value, kind: OpKind, span: Span) {
        let active = self.active(value);
        let changes_buffer = matches!(kind, OpKind::BufferTake { .. } | OpKind::BufferPop(_));
        if !active && !changes_buffer {
            return;
        }
        let adjoint = self.adjoint_value(value);
        self.emit(kind, span, vec![adjoint]);
        if active {
            self.accumulate(value, adjoint, span);
        }
    }

    fn emit(&mut self, kind: OpKind, span: Span, results: Vec<Value>) {
        self.out.push(Op::new(results, kind, span));
    }

    /// Whether any version of `array`'s storage is active: it has a buffer.
    /// Whether `op` is a region that may change the length of a container with a buffer.
    /// Such a region is reversed even when nothing it yields is useful: its reverse gives the
    /// buffer back the length it had before the region (the container's gradient before is
    /// shaped like the container before).
    pub(super) fn resizes_active(&self, op: &Op) -> bool {
        op.kind.blocks().iter().any(|block| {
            block.ops.iter().any(|inner| match &inner.kind {
                OpKind::Assign { array, .. }
                | OpKind::Touched { array, .. }
                | OpKind::Append { array, .. } => self.active_storage(*array),
                _ => self.resizes_active(inner),
            })
        })
    }

    pub(super) fn active_storage(&self, array: Value) -> bool {
        self.primal
            .storage(array)
            .is_some_and(|s| self.active_storages.contains(&s))
    }

    /// Makes the cotangent `seed` (a container of the output's shape) the buffer of the
    /// output container `output`, after checking their lengths.
    pub(super) fn seed_buffer(&mut self, output: Value, seed: Value, name: &str) {
        let root = self.primal.storage(output).unwrap_or(output);
        self.buffers.insert(root, seed);
        let span = Span::call_site();
        self.buffer_ops.push(Op::new(
            Vec::new(),
            OpKind::CheckLen {
                seed,
                like: output,
                name: name.to_string(),
            },
            span,
        ));
    }

    /// The adjoint buffer of `array`'s storage, made where the storage is at hand; for a
    /// place (`p.w`), the same field of the struct's buffer (`dp.w`); for a snapshot, its
    /// source's.
    pub(super) fn buffer(&mut self, array: Value, span: Span) -> Value {
        let root = self.primal.storage(array).unwrap_or(array);
        if let Some(&buffer) = self.buffers.get(&root) {
            return buffer;
        }
        // A snapshot taken right before the op reading it has its source's adjoint there.
        if let Some(source) = self.primal.info(root).snapshot_of {
            let buffer = self.buffer(source, span);
            self.buffers.insert(root, buffer);
            return buffer;
        }
        if let Some((base, member)) = self.primal.info(root).place.clone() {
            let parent = self.buffer(base, span);
            let buffer = self.func.new_value(None);
            self.buffers.insert(root, buffer);
            self.buffer_ops
                .push(Op::new(vec![buffer], OpKind::Field(parent, member), span));
            return buffer;
        }
        let name = self
            .primal
            .info(root)
            .name
            .as_ref()
            .map(|n| format!("d{n}"));
        let buffer = self.func.new_value(name);
        self.buffers.insert(root, buffer);
        match self.region_of(root) {
            // Made at the start of the reversed region, from the container's shape.
            Some(i) => {
                let like = self.shape_in_region(i, root);
                self.contexts[i]
                    .buffers
                    .push(Op::new(vec![buffer], OpKind::Buffer(like), span));
            }
            None => self
                .buffer_ops
                .push(Op::new(vec![buffer], OpKind::Buffer(root), span)),
        }
        buffer
    }
}

/// Replaces every container operand of a linear-algebra primitive or an active call whose
/// container is written somewhere by a snapshot taken right before the call, so that the
/// reverse sweep can read the container as the call saw it. A container an active call may
/// write keeps its place in the call; the snapshot is its `entry`, for the callee's pullback.
///
/// Before: `%d.4 = dot %h.3, %x.0` (and `%h.3` is stored into later)
/// After:  `%5 = copy %h.3; %d.4 = dot %5, %x.0`
///
/// Only containers that may be written after the operation need one: by a later op, or, in a
/// loop, by the next iterations (unless the container is made anew in each).
/// A snapshot is active if it replaces an active operand, and `activity` says so.
pub fn snapshot_operands(func: &mut Func, activity: &mut Activity) {
    let mut body = std::mem::take(&mut func.body);
    snapshot_block(func, activity, &mut body, &HashSet::new());
    func.body = body;
}

/// `later`: the storages that may be written after `block` has run.
fn snapshot_block(
    func: &mut Func,
    activity: &mut Activity,
    block: &mut Block,
    later: &HashSet<Value>,
) {
    // after[i]: the storages that may be written once op `i - 1` has run.
    let mut after = vec![later.clone(); block.ops.len() + 1];
    for (i, op) in block.ops.iter().enumerate().rev() {
        let mut written = after[i + 1].clone();
        func.writes(op, &mut written);
        after[i] = written;
    }
    let mut ops = Vec::with_capacity(block.ops.len());
    for (i, mut op) in std::mem::take(&mut block.ops).into_iter().enumerate() {
        let later = &after[i + 1];
        // A loop body's writes happen again after it, to the containers made outside it.
        let mut inner_later = later.clone();
        if matches!(op.kind, OpKind::For { .. } | OpKind::Loop { .. }) {
            let mut repeated = HashSet::new();
            func.writes(&op, &mut repeated);
            let made = made_in(func, &op);
            inner_later.extend(repeated.difference(&made).copied());
        }
        for inner in op.kind.blocks_mut() {
            snapshot_block(func, activity, inner, &inner_later);
        }
        let written = |func: &Func, v: Value| func.storage(v).is_some_and(|s| later.contains(&s));
        // A copy is differentiated through if it replaces the operand (`active`), not if it
        // only gives the pullback of a call the contents on entry.
        let copy = |func: &mut Func,
                    activity: &mut Activity,
                    v: Value,
                    active: bool,
                    ops: &mut Vec<Op>| {
            let copy = func.new_value(None);
            func.values[copy.index()].storage = Some(copy);
            func.values[copy.index()].snapshot_of = Some(v);
            activity.set(copy, active && activity.is_active(v));
            ops.push(Op::new(
                vec![copy],
                OpKind::Array(ArrayInit::Copy {
                    source: v,
                    vec: false,
                }),
                op.span,
            ));
            copy
        };
        let active = op.results.iter().any(|&r| activity.is_active(r));
        match &mut op.kind {
            OpKind::Prim(prim, operands) => {
                for (operand, kind) in operands.iter_mut().zip(prim.operands) {
                    if *kind == crate::prims::Operand::Array && written(func, *operand) {
                        *operand = copy(func, activity, *operand, true, &mut ops);
                    }
                }
            }
            OpKind::Call(call) if active => {
                for arg in &mut call.args {
                    if func.storage(arg.value).is_none() {
                        continue;
                    }
                    if arg.pass.writes() {
                        arg.entry = Some(copy(func, activity, arg.value, false, &mut ops));
                    } else if written(func, arg.value) {
                        arg.value = copy(func, activity, arg.value, true, &mut ops);
                    }
                }
            }
            _ => {}
        }
        ops.push(op);
    }
    block.ops = ops;
}

/// The container versions made at the function's top level that are never written after they
/// are made: never the base of a store, push or writing call, never carried into a loop or
/// yielded by a region (where a later write could reach them). Their elements are those of the
/// storage until the function returns, so a load from one can be recomputed in the reverse
/// sweep, like a load from a container that is never written. (Versions made inside regions
/// are left out: a load recomputed from one would need the version kept per run.)
pub(super) fn final_versions(func: &Func) -> HashSet<Value> {
    fn passed_on(block: &Block, out: &mut HashSet<Value>) {
        out.extend(&block.yields);
        for op in &block.ops {
            match &op.kind {
                OpKind::Store { array, .. }
                | OpKind::Append { array, .. }
                | OpKind::Touched { array, .. }
                | OpKind::Assign { array, .. } => {
                    out.insert(*array);
                }
                OpKind::Call(call) => {
                    out.extend(
                        call.args
                            .iter()
                            .filter(|a| a.pass.writes())
                            .map(|a| a.value),
                    );
                }
                OpKind::For { init, .. } | OpKind::Loop { init, .. } => out.extend(init),
                _ => {}
            }
            for inner in op.kind.blocks() {
                passed_on(inner, out);
            }
        }
    }
    let mut passed = HashSet::new();
    passed_on(&func.body, &mut passed);
    func.body
        .ops
        .iter()
        .flat_map(|op| op.results.iter().copied())
        .filter(|&v| func.storage(v).is_some() && !passed.contains(&v))
        .collect()
}

/// The storages made inside `op`'s regions: made anew each time a region runs.
fn made_in(func: &Func, op: &Op) -> HashSet<Value> {
    let mut out = HashSet::new();
    for block in op.kind.blocks() {
        for inner in &block.ops {
            out.extend(
                inner
                    .results
                    .iter()
                    .filter(|&&r| func.storage(r) == Some(r)),
            );
            out.extend(made_in(func, inner));
        }
    }
    out
}

/// The storages some version of which is active.
pub(super) fn active_storages(func: &Func, activity: &Activity) -> HashSet<Value> {
    (0..func.values.len() as u32)
        .map(Value)
        .filter(|&v| activity.is_active(v))
        .filter_map(|v| func.storage(v))
        .collect()
}
