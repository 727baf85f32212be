//! Reversing regions: `if` arms and loop bodies.
//!
//! **Reading primal values.** The reverse of a region runs where the region's own values are
//! out of scope (inside an `if` arm, or in a later iteration of the reversed loop). So while the
//! reverse of a region is built, every read of a value the region defines goes through its
//! [`Context`], which hands out a stand-in and records the read. When the region is done, each
//! value read is either
//!
//! - **recomputed** at the start of the reversed region, if its op is cheap and pure and its
//!   operands are available anyway: values from outside the region, the loop index (found
//!   again from the range), literals, or values kept for another reason; or
//! - **stashed**: the forward sweep pushes it at the end of the region and the reversed region
//!   pops it. Outside loops a region runs at most once, so a `Slot` holds its values; a loop
//!   body pushes one tuple per iteration onto a `Stack`, and branch conditions a bit each onto
//!   `Bits`.
//!
//! "Recompute before you stash" (ARCHITECTURE.md): memory traffic, not arithmetic, decides
//! the speed of a reverse loop. A loop that only accumulates (`s += c * x`) reads nothing of
//! its own and stashes nothing.
//!
//! **Branches.** `if c { A } else { B }` reverses to `if c { A' } else { B' }`: each arm seeds
//! the adjoints of its yields with the adjoints of the `if`'s results, runs its ops backwards,
//! and yields the adjoints of the values from outside it that it added to; the arm that did
//! not touch one yields it unchanged.
//!
//! **Loops.** A loop reverses to a loop over the same iterations backwards: the range reversed
//! when that is an iterator (`a..b`, `(a..b).rev()`), otherwise `(0..trips).rev()` with the
//! index recomputed from the range's arithmetic progression. The reversed loop carries the
//! adjoints of the loop-carried values (its results seed them; each iteration turns the
//! adjoints of the yields into those of the arguments) and the adjoints of outside values the
//! body adds to (`s += c * x` adds to `x`'s adjoint every iteration).

use std::collections::{BTreeSet, HashMap, HashSet};

use super::Sweep;
use crate::analysis::activity::{carried, differentiable_operands, is_struct};
use crate::ir::{Adaptor, ArrayInit, Block, Func, Op, OpKind, Range, StashKind, Value};
use crate::prims;
use crate::signature::Signature;

/// The primal region whose reverse is being built.
pub(super) struct Context<'a> {
    /// The op owning the region, and the region's position among its blocks.
    owner: &'a Op,
    region: usize,
    /// Whether the region runs more than once per call (it is, or is inside, a loop body).
    in_loop: bool,
    /// The values the region defines: its arguments and its ops' results.
    internal: HashSet<Value>,
    /// The op defining each value among the region's own ops.
    definers: HashMap<Value, (usize, &'a Op)>,
    /// Conditions of the region's `if`s: booleans, stashed as bits.
    conditions: HashSet<Value>,
    /// The stand-in of each value read, and the order of first reads.
    map: HashMap<Value, Value>,
    order: Vec<Value>,
    /// The loop index: its primal value and its stand-in (given by the reversed loop).
    index: Option<(Value, Value)>,
    index_read: bool,
    /// Values of an enclosing region this `if` arm stashes for it (see [`Sweep::read`]).
    captured: HashSet<Value>,
    /// The adjoint buffers of containers made in the region, made at the start of its
    /// reverse.
    pub(super) buffers: Vec<Op>,
}

impl<'a> Sweep<'a> {
    /// A value of the primal, as the reverse region being built can read it.
    pub(super) fn read(&mut self, v: Value) -> Value {
        self.read_from(v, true)
    }

    /// A value of the primal as the region defining it reads it, never kept by an `if` arm
    /// inside that region: for what the start of the reversed region needs (the buffer of a
    /// container made in it).
    pub(super) fn read_in_defining_region(&mut self, v: Value) -> Value {
        self.read_from(v, false)
    }

    /// `capture`: a value an `if` arm reads may be kept by that arm (see [`Sweep::read`]).
    fn read_from(&mut self, v: Value, capture: bool) -> Value {
        // A container is kept by its defining region, never by an arm: two arms reading it
        // (nested, or one and the region making its adjoint buffer) would each stash it,
        // moving it twice.
        let capture = capture && self.primal.storage(v).is_none();
        for i in (0..self.contexts.len()).rev() {
            let cx = &mut self.contexts[i];
            if !cx.internal.contains(&v) {
                continue;
            }
            if let Some((index, stand_in)) = cx.index
                && index == v
            {
                cx.index_read = true;
                return stand_in;
            }
            if let Some(&stand_in) = cx.map.get(&v) {
                return stand_in;
            }
            // A value the region must stash anyway, read from inside `if` arms of it (and no
            // loop between): the innermost arm stashes it, so iterations that do not take
            // that arm keep nothing.
            let definer = cx.definers.get(&v).map(|&(_, op)| op);
            let cheap = definer.is_some_and(|op| self.cost().is_cheap(op));
            let inner = &self.contexts[i + 1..];
            let target = match inner.last() {
                Some(_)
                    if capture
                        && !cheap
                        && inner
                            .iter()
                            .all(|c| matches!(c.owner.kind, OpKind::If { .. })) =>
                {
                    self.contexts.len() - 1
                }
                _ => i,
            };
            if let Some(&stand_in) = self.contexts[target].map.get(&v) {
                return stand_in;
            }
            let name = self.func.info(v).name.clone();
            let stand_in = self.func.new_value(name);
            let cx = &mut self.contexts[target];
            if target != i {
                cx.captured.insert(v);
            }
            cx.map.insert(v, stand_in);
            cx.order.push(v);
            return stand_in;
        }
        v
    }

    /// The innermost open region defining `v`, if any.
    pub(super) fn region_of(&self, v: Value) -> Option<usize> {
        self.contexts
            .iter()
            .rposition(|cx| cx.internal.contains(&v))
    }

    /// `v` as the reverse region can read it without stashing anything new: outside every
    /// region, the loop index, or already read.
    pub(super) fn at_hand(&self, v: Value) -> Option<Value> {
        for cx in self.contexts.iter().rev() {
            if cx.internal.contains(&v) {
                return match cx.index {
                    Some((index, stand_in)) if index == v => Some(stand_in),
                    _ => cx.map.get(&v).copied(),
                };
            }
        }
        Some(v)
    }

    fn enter(
        &mut self,
        owner: &'a Op,
        region: usize,
        block: &'a Block,
        index: Option<(Value, Value)>,
    ) {
        let in_loop = matches!(owner.kind, OpKind::For { .. } | OpKind::Loop { .. })
            || self.contexts.last().is_some_and(|cx| cx.in_loop);
        let mut internal: HashSet<Value> = block.args.iter().copied().collect();
        let mut definers = HashMap::new();
        let mut conditions = HashSet::new();
        for (position, op) in block.ops.iter().enumerate() {
            for &r in &op.results {
                internal.insert(r);
                definers.insert(r, (position, op));
            }
            if let OpKind::If { cond, .. } = &op.kind {
                conditions.insert(*cond);
            }
        }
        self.contexts.push(Context {
            owner,
            region,
            in_loop,
            internal,
            definers,
            conditions,
            map: HashMap::new(),
            order: Vec::new(),
            index,
            index_read: false,
            captured: HashSet::new(),
            buffers: Vec::new(),
        });
    }

    /// Ends the reverse of the innermost region: decides, for every value it read, whether to
    /// recompute or stash it; records the pushes for the forward sweep; returns the prologue
    /// of the reversed region (pops, then recomputations, in primal order).
    fn leave(&mut self) -> (Vec<Op>, bool) {
        let Some(cx) = self.contexts.last() else {
            return (Vec::new(), false);
        };
        // Values read by the reverse ops. Those no cheap op computes must be stashed; the
        // others are recomputed if they can be from stashed and outside values, else stashed
        // themselves (one stash either way).
        let forced: HashSet<Value> = cx
            .order
            .iter()
            .copied()
            .filter(|v| {
                cx.captured.contains(v)
                    || !cx
                        .definers
                        .get(v)
                        .is_some_and(|(_, op)| self.cost().is_cheap(op))
            })
            .collect();
        let mut recompute: Vec<Value> = Vec::new();
        let mut stash: Vec<Value> = Vec::new();
        let mut memo = HashMap::new();
        let mut next = 0;
        loop {
            let (v, recomputed, operands) = {
                let Some(cx) = self.contexts.last() else {
                    break;
                };
                let Some(&v) = cx.order.get(next) else { break };
                let recomputed = !forced.contains(&v)
                    && !cx.captured.contains(&v)
                    && covered(cx, &self.cost(), v, &forced, &mut memo);
                let operands = cx.definers.get(&v).map(|(_, op)| op.kind.operands());
                (v, recomputed, operands.unwrap_or_default())
            };
            next += 1;
            if recomputed {
                // Reading the operands gives them stand-ins (those of the region are queued:
                // covered too, or stashed).
                for u in operands {
                    self.read(u);
                }
                recompute.push(v);
            } else {
                stash.push(v);
            }
        }
        let Some(cx) = self.contexts.pop() else {
            return (Vec::new(), false);
        };
        let depth = self.contexts.len();
        for (zero, v, _) in self.untyped_zeros.extract_if(.., |z| z.2 == depth) {
            if let Some(&like) = cx.map.get(&v) {
                self.typed_zeros.insert(zero, like);
            }
        }
        // Versions of one container are one variable, kept once (as it is at the end of the
        // region): the stand-ins of the others are replaced by the first's.
        let mut first_of: HashMap<Value, Value> = HashMap::new();
        let mut aliases = Vec::new();
        stash.retain(|&v| {
            let Some(root) = self.primal.storage(v) else {
                return true;
            };
            match first_of.get(&root) {
                Some(first) => {
                    aliases.push((cx.map[&v], cx.map[first]));
                    false
                }
                None => {
                    first_of.insert(root, v);
                    true
                }
            }
        });

        let mut prologue = Vec::new();
        let kind = if cx.in_loop {
            StashKind::Stack
        } else {
            StashKind::Slot
        };
        let (bits, values): (Vec<Value>, Vec<Value>) = match kind {
            StashKind::Stack => stash.iter().partition(|v| cx.conditions.contains(v)),
            _ => (Vec::new(), stash.clone()),
        };
        let mut pushes = Vec::new();
        let span = cx.owner.span;
        if !values.is_empty() {
            let id = self.new_stash(kind);
            // A container that outlives the region (made before it, written in it) is kept
            // as a copy: the stash must not take the variable later code still uses.
            let mut pushed = Vec::with_capacity(values.len());
            for &v in &values {
                match self.primal.storage(v) {
                    Some(root) if !cx.internal.contains(&root) => {
                        let copy = self.func.new_value(None);
                        self.func.values[copy.index()].storage = Some(copy);
                        let init = ArrayInit::Copy {
                            source: v,
                            vec: false,
                        };
                        pushes.push(Op {
                            results: vec![copy],
                            kind: OpKind::Array(init),
                            span,
                            ty: None,
                        });
                        pushed.push(copy);
                    }
                    _ => pushed.push(v),
                }
            }
            pushes.push(Op {
                results: Vec::new(),
                kind: OpKind::Push {
                    stash: id,
                    values: pushed,
                },
                span,
                ty: None,
            });
            prologue.push(Op {
                results: values.iter().map(|v| cx.map[v]).collect(),
                kind: OpKind::Pop { stash: id },
                span,
                ty: None,
            });
        }
        if !bits.is_empty() {
            let id = self.new_stash(StashKind::Bits);
            for &b in &bits {
                pushes.push(Op {
                    results: Vec::new(),
                    kind: OpKind::Push {
                        stash: id,
                        values: vec![b],
                    },
                    span,
                    ty: None,
                });
            }
            // Last pushed, first popped.
            for &b in bits.iter().rev() {
                prologue.push(Op {
                    results: vec![cx.map[&b]],
                    kind: OpKind::Pop { stash: id },
                    span,
                    ty: None,
                });
            }
        }
        recompute.sort_by_key(|v| cx.definers.get(v).map(|(position, _)| *position));
        for v in recompute {
            let Some(&(_, op)) = cx.definers.get(&v) else {
                continue;
            };
            let mut copy = op.clone();
            let outer = &self.contexts;
            copy.kind
                .operands_mut(&mut |u| *u = stand_in(&cx, outer, *u));
            copy.results = op
                .results
                .iter()
                .map(|r| stand_in(&cx, outer, *r))
                .collect();
            prologue.push(copy);
        }
        // Buffers of containers made in the region, from their stand-ins (popped above).
        for buffer in &cx.buffers {
            self.buffers.retain(|_, b| !buffer.results.contains(b));
        }
        prologue.extend(cx.buffers.iter().cloned());
        let plan = self.plans.entry(std::ptr::from_ref(cx.owner)).or_default();
        if matches!(cx.owner.kind, OpKind::For { .. }) {
            plan.reserve
                .extend(pushes.iter().filter_map(|p| match p.kind {
                    OpKind::Push { stash, .. } => Some(stash),
                    _ => None,
                }));
            plan.reserve.dedup();
        }
        plan.pushes_mut(cx.region).extend(pushes);
        let mut reversed = Block {
            args: Vec::new(),
            ops: prologue,
            yields: Vec::new(),
        };
        let mut rest = Block {
            args: Vec::new(),
            ops: std::mem::take(&mut self.out),
            yields: Vec::new(),
        };
        for (alias, first) in aliases {
            reversed.replace_uses(alias, first);
            rest.replace_uses(alias, first);
        }
        self.out = rest.ops;
        (reversed.ops, cx.index_read)
    }

    fn new_stash(&mut self, kind: StashKind) -> usize {
        self.func.stashes.push(kind);
        self.func.stashes.len() - 1
    }

    /// `if cond { then } else { els }` reversed.
    pub(super) fn reverse_if(&mut self, op: &'a Op, cond: Value, then: &'a Block, els: &'a Block) {
        let span = op.span;
        let cond = self.read(cond);
        // A result without an adjoint seeds nothing.
        let seeds: Vec<(usize, Value)> = op
            .results
            .iter()
            .enumerate()
            .filter_map(|(j, r)| self.adjoints.get(r).map(|&a| (j, a)))
            .collect();
        let inside = defined_in_op(op);
        let before = self.adjoints.mark();
        let mut arms = Vec::new();
        for (region, block) in [then, els].into_iter().enumerate() {
            let outer_ops = std::mem::take(&mut self.out);
            self.enter(op, region, block, None);
            for &(j, seed) in &seeds {
                let y = block.yields[j];
                if self.primal.is_active(y) {
                    self.accumulate(y, seed, span);
                }
            }
            self.reverse_block(block);
            let (mut ops, _) = self.leave();
            ops.append(&mut self.out);
            self.out = outer_ops;
            // Back to the adjoints before the `if`, keeping those the arm changed.
            arms.push((ops, self.adjoints.undo(before)));
        }
        // The outside values either arm added to.
        let touched: BTreeSet<Value> = arms
            .iter()
            .flat_map(|(_, after)| after.iter())
            .filter(|&(v, a)| !inside.contains(v) && self.adjoints.get(v) != Some(a))
            .map(|(v, _)| *v)
            .collect();
        // An arm that did not touch a value yields its adjoint from before the `if`, or zero.
        let mut blocks = Vec::new();
        for (mut ops, after) in arms {
            let mut yields = Vec::new();
            for &v in &touched {
                let adjoint = match (after.get(&v), self.adjoints.get(&v)) {
                    (Some(&a), _) if self.adjoints.get(&v) != Some(&a) => a,
                    (_, Some(&a)) => a,
                    _ => {
                        let outer = std::mem::replace(&mut self.out, ops);
                        let zero = self.zero(v, span);
                        ops = std::mem::replace(&mut self.out, outer);
                        zero
                    }
                };
                yields.push(adjoint);
            }
            blocks.push(Block {
                args: Vec::new(),
                ops,
                yields,
            });
        }
        let results: Vec<Value> = touched.iter().map(|&v| self.adjoint_value(v)).collect();
        let (Some(els), Some(then)) = (blocks.pop(), blocks.pop()) else {
            return;
        };
        self.out.push(Op {
            results: results.clone(),
            kind: OpKind::If { cond, then, els },
            span,
            ty: None,
        });
        for (v, r) in touched.into_iter().zip(results) {
            self.adjoints.insert(v, r);
        }
    }

    /// A `for` or `loop` reversed.
    pub(super) fn reverse_loop(&mut self, op: &'a Op) {
        let (OpKind::For { body, .. } | OpKind::Loop { body, .. }) = &op.kind else {
            return;
        };
        let Some((init, args, yields)) = carried(&op.kind) else {
            return;
        };
        let span = op.span;
        let inside = defined_in_op(op);
        // The loop-carried values that are differentiated, and the outside values whose
        // adjoints the body adds to.
        let active: Vec<usize> = (0..args.len())
            .filter(|&j| self.primal.is_active(args[j]) || self.primal.is_active(op.results[j]))
            .filter(|&j| self.primal.storage(args[j]).is_none())
            .collect();
        let mut outside = BTreeSet::new();
        self.outside_targets(body, &inside, &mut outside);
        let outside: Vec<Value> = outside.into_iter().collect();

        // The initial adjoints: of the results, and of the outside values so far.
        let mut carried_init: Vec<Value> = active
            .iter()
            .map(|&j| self.adjoint_or_zero(op.results[j], span))
            .collect();
        for &v in &outside {
            let adjoint = self.adjoint_or_zero(v, span);
            carried_init.push(adjoint);
        }

        // How the reversed loop visits the iterations.
        let index = match &op.kind {
            OpKind::For {
                range,
                exits: false,
                ..
            } if range.is_simple() => Iteration::Reversed(range.clone()),
            _ => {
                let trips = self.func.new_value(Some("trips".into()));
                self.plans.entry(std::ptr::from_ref(op)).or_default().trips = Some(trips);
                if let Some(cx) = self.contexts.last_mut() {
                    cx.internal.insert(trips);
                }
                Iteration::Counted(self.read(trips))
            }
        };
        let primal_index = match &op.kind {
            OpKind::For { .. } => body.args.first().copied(),
            _ => None,
        };
        // The reversed loop's variable: the index itself when the range is reversed, the
        // iteration number `k` when iterations are counted.
        let k_name = match (&index, primal_index) {
            (Iteration::Reversed(_), Some(i)) => self.primal.info(i).name.clone(),
            _ => Some("k".into()),
        };
        let k = self.func.new_value(k_name);
        // With a counted loop, the index is found again from the range: `at(progression, k)`.
        let (progression, at) = (
            self.func.new_value(None),
            primal_index.map(|i| {
                let name = self.primal.info(i).name.clone();
                self.func.new_value(name)
            }),
        );
        if let (Iteration::Reversed(_), Some(i)) = (&index, primal_index) {
            self.func.reversed_loops.push((i, k));
        }
        let index_stand_in = match &index {
            Iteration::Reversed(_) => primal_index.map(|i| (i, k)),
            Iteration::Counted(_) => primal_index.zip(at),
        };

        // The reversed body.
        let carried_args: Vec<Value> = active
            .iter()
            .map(|&j| args[j])
            .chain(outside.iter().copied())
            .collect::<Vec<_>>()
            .into_iter()
            .map(|v| self.adjoint_value(v))
            .collect();
        let before = self.adjoints.mark();
        let outer_ops = std::mem::take(&mut self.out);
        self.enter(op, 0, body, index_stand_in);
        for (i, &v) in outside.iter().enumerate() {
            self.adjoints.insert(v, carried_args[active.len() + i]);
        }
        for (i, &j) in active.iter().enumerate() {
            if self.primal.is_active(yields[j]) {
                self.accumulate(yields[j], carried_args[i], span);
            }
        }
        self.reverse_block(body);
        let mut body_yields = Vec::new();
        for (i, &j) in active.iter().enumerate() {
            let adjoint = match self.adjoints.get(&args[j]) {
                Some(&a) => a,
                None => self.zero_like(args[j], carried_args[i], span),
            };
            body_yields.push(adjoint);
        }
        for (i, &v) in outside.iter().enumerate() {
            body_yields.push(
                self.adjoints
                    .get(&v)
                    .copied()
                    .unwrap_or(carried_args[active.len() + i]),
            );
        }
        let (mut prologue, index_read) = self.leave();
        let reverse_ops = std::mem::replace(&mut self.out, outer_ops);
        self.adjoints.undo(before);
        let range = match index {
            Iteration::Reversed(range) => reversed(self.read_range(&range)),
            Iteration::Counted(trips) => {
                if index_read && let (OpKind::For { range, .. }, Some(at)) = (&op.kind, at) {
                    let range = self.read_range(range);
                    self.out.push(Op {
                        results: vec![progression],
                        kind: OpKind::Progression(range),
                        span,
                        ty: None,
                    });
                    prologue.insert(
                        0,
                        Op {
                            results: vec![at],
                            kind: OpKind::At(progression, k),
                            span,
                            ty: None,
                        },
                    );
                }
                let zero = self.func.new_value(None);
                let lit = syn::Lit::Int(syn::LitInt::new("0", span));
                self.out.push(Op {
                    results: vec![zero],
                    kind: OpKind::Lit(lit),
                    span,
                    ty: None,
                });
                Range {
                    start: zero,
                    end: trips,
                    inclusive: false,
                    adaptors: vec![Adaptor::Rev],
                }
            }
        };
        let results: Vec<Value> = active
            .iter()
            .map(|&j| init[j])
            .chain(outside.iter().copied())
            .collect::<Vec<_>>()
            .into_iter()
            .map(|v| self.adjoint_value(v))
            .collect();
        prologue.extend(reverse_ops);
        let body = Block {
            args: std::iter::once(k).chain(carried_args).collect(),
            ops: prologue,
            yields: body_yields,
        };
        self.out.push(Op {
            results: results.clone(),
            kind: OpKind::For {
                range,
                init: carried_init,
                body,
                exits: false,
                trips: false,
                reserve: Vec::new(),
            },
            span,
            ty: None,
        });
        for (i, &v) in outside.iter().enumerate() {
            self.adjoints.insert(v, results[active.len() + i]);
        }
        for (i, &j) in active.iter().enumerate() {
            if self.primal.is_active(init[j]) {
                self.accumulate(init[j], results[i], span);
            }
        }
    }

    /// `range` with its values as the reverse region reads them.
    fn read_range(&mut self, range: &Range) -> Range {
        Range {
            start: self.read(range.start),
            end: self.read(range.end),
            inclusive: range.inclusive,
            adaptors: range
                .adaptors
                .iter()
                .map(|a| match a {
                    Adaptor::StepBy(k) => Adaptor::StepBy(self.read(*k)),
                    Adaptor::Rev => Adaptor::Rev,
                })
                .collect(),
        }
    }

    /// The active values from outside the loop that the body's derivative flows into.
    fn outside_targets(&self, block: &Block, inside: &HashSet<Value>, out: &mut BTreeSet<Value>) {
        let mut candidates: Vec<Value> = block.yields.clone();
        for op in &block.ops {
            if !op.results.iter().any(|&r| self.primal.is_active(r)) {
                continue;
            }
            candidates.extend(differentiable_operands(&op.kind, self.sig, self.primal));
            if let Some((init, _, _)) = carried(&op.kind) {
                candidates.extend(init);
            }
            for inner in op.kind.blocks() {
                self.outside_targets(inner, inside, out);
            }
        }
        // Containers' and structs' adjoints are buffers, changed in place, not carried.
        out.extend(candidates.into_iter().filter(|v| {
            !inside.contains(v)
                && self.primal.is_active(*v)
                && self.primal.storage(*v).is_none()
                && !is_struct(self.primal, self.sig, *v)
        }));
    }
}

enum Iteration {
    /// The primal range reversed is an iterator.
    Reversed(Range),
    /// `(0..trips).rev()`, with the recorded trip count.
    Counted(Value),
}

/// `a..b` ↔ `(a..b).rev()`.
fn reversed(mut range: Range) -> Range {
    match range.adaptors.as_slice() {
        [] => range.adaptors.push(Adaptor::Rev),
        _ => range.adaptors.clear(),
    }
    range
}

/// The stand-in of `v` in context `cx` or an enclosing one, or `v` itself.
fn stand_in(cx: &Context, outer: &[Context], v: Value) -> Value {
    std::iter::once(cx)
        .chain(outer.iter().rev())
        .find_map(|c| match c.index {
            Some((index, stand_in)) if index == v => Some(stand_in),
            _ => c.map.get(&v).copied(),
        })
        .unwrap_or(v)
}

/// Every value defined inside `op`'s regions.
fn defined_in_op(op: &Op) -> HashSet<Value> {
    fn walk(block: &Block, out: &mut HashSet<Value>) {
        out.extend(block.args.iter().copied());
        for op in &block.ops {
            out.extend(op.results.iter().copied());
            for inner in op.kind.blocks() {
                walk(inner, out);
            }
        }
    }
    let mut out = HashSet::new();
    for block in op.kind.blocks() {
        walk(block, &mut out);
    }
    out
}

/// What deciding between recomputing and stashing needs to know.
pub(super) struct Cost<'c> {
    sig: &'c Signature,
    primal: &'c Func,
    mutated: &'c HashSet<Value>,
    final_versions: &'c HashSet<Value>,
}

impl<'a> Sweep<'a> {
    fn cost(&self) -> Cost<'_> {
        Cost {
            sig: self.sig,
            primal: self.primal,
            mutated: &self.mutated,
            final_versions: &self.final_versions,
        }
    }
}

impl Cost<'_> {
    /// Whether `op` is worth recomputing rather than stashing its result: pure, one result,
    /// and a few cycles at most (arithmetic, comparisons, casts, loads from containers that
    /// are never written; not transcendental functions).
    fn is_cheap(&self, op: &Op) -> bool {
        let loads_constant = |array: &Value| {
            self.final_versions.contains(array)
                || self
                    .primal
                    .storage(*array)
                    .is_some_and(|s| !self.mutated.contains(&s))
        };
        match &op.kind {
            OpKind::Index(array, _) if self.primal.storage(*array).is_some() => {
                loads_constant(array)
            }
            // A length changes when the container is pushed onto.
            OpKind::Len(array) => loads_constant(array),
            _ => is_cheap(op, self.sig),
        }
    }
}

/// Whether `op` is worth recomputing rather than stashing its result: pure, one result, and
/// a few cycles at most (arithmetic, comparisons, casts; not transcendental functions).
fn is_cheap(op: &Op, sig: &Signature) -> bool {
    op.results.len() == 1
        && match &op.kind {
            OpKind::Lit(_)
            | OpKind::Path(_)
            | OpKind::Placeholder
            | OpKind::Cast(..)
            | OpKind::Binary(..)
            | OpKind::Matches(..) => true,
            // `*r` reads memory that may have changed since: kept, not read again.
            OpKind::Unary(op, _) => !matches!(op, syn::UnOp::Deref(_)),
            // The table's cost class (`prims.rs`).
            OpKind::Prim(prim, _) => prim.cost == prims::Cost::Cheap,
            // The constants of generic code: `T::from(k).unwrap()`, `T::one()`.
            OpKind::Call(call) => call
                .callee
                .path()
                .is_some_and(|p| sig.is_float_constructor(p)),
            OpKind::Method { method, args, .. } => method == "unwrap" && args.is_empty(),
            _ => false,
        }
}

/// Whether `v` can be recomputed in the reversed region from what is there anyway: it is
/// not the region's (an outer value), it is the loop index, it is in `stashed`, or a cheap op
/// computes it from such values.
fn covered(
    cx: &Context,
    cost: &Cost,
    v: Value,
    stashed: &HashSet<Value>,
    memo: &mut HashMap<Value, bool>,
) -> bool {
    if !cx.internal.contains(&v) || cx.index.is_some_and(|(i, _)| i == v) || stashed.contains(&v) {
        return true;
    }
    if let Some(&known) = memo.get(&v) {
        return known;
    }
    memo.insert(v, false);
    let covered = cx.definers.get(&v).is_some_and(|(_, op)| {
        cost.is_cheap(op)
            && op
                .kind
                .operands()
                .into_iter()
                .all(|u| covered(cx, cost, u, stashed, memo))
    });
    memo.insert(v, covered);
    covered
}
