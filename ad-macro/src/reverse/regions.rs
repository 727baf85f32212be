//! Reversing regions: `if` arms and loop bodies.
//!
//! **Reading primal values.** The reverse of a region runs where the region's own values are
//! out of scope (inside an `if` arm, or in a later iteration of the reversed loop). So while the
//! reverse of a region is built, every read of a value the region defines goes through its
//! [`Context`], which hands out a stand-in and records the read. When the region is done, the
//! stash plan (`plan.rs`) decides how each value read gets there (recomputed or stashed), and
//! [`Sweep::leave`] applies the decision: pushes at the end of the forward region, pops and
//! recomputations at the start of the reversed one.
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
use super::plan::{self, RegionPlan};
use crate::analysis::activity::{differentiable_operands, is_struct};
use crate::ir::{
    Adaptor, ArrayInit, Block, Literal, LoopView, Op, OpKind, Range, StashKind, Value,
};

/// The primal region whose reverse is being built.
pub(super) struct Context<'a> {
    /// The op owning the region, and the region's position among its blocks.
    pub(super) owner: &'a Op,
    pub(super) region: usize,
    /// Whether the region runs more than once per call (it is, or is inside, a loop body).
    pub(super) in_loop: bool,
    /// The values the region defines: its arguments and its ops' results.
    pub(super) internal: HashSet<Value>,
    /// The op defining each value among the region's own ops.
    pub(super) definers: HashMap<Value, (usize, &'a Op)>,
    /// Conditions of the region's `if`s: booleans, stashed as bits.
    pub(super) conditions: HashSet<Value>,
    /// The stand-in of each value read, and the order of first reads.
    pub(super) map: HashMap<Value, Value>,
    pub(super) order: Vec<Value>,
    /// The loop index: its primal value and its stand-in (given by the reversed loop).
    pub(super) index: Option<(Value, Value)>,
    pub(super) index_read: bool,
    /// Values of an enclosing region this `if` arm stashes for it (see [`Sweep::read`]).
    pub(super) captured: HashSet<Value>,
    /// The adjoint buffers of containers made in the region, made at the start of its
    /// reverse.
    pub(super) buffers: Vec<Op>,
    /// Containers of the region whose shape the buffers take, and the shapes' stand-ins: a
    /// shape is kept, not the container, unless the container is kept anyway.
    pub(super) shapes: Vec<(Value, Value)>,
}

impl Context<'_> {
    /// Whether `v` is the loop index of this region (a loop body's first argument).
    pub(super) fn is_index(&self, v: Value) -> bool {
        self.index.is_some_and(|(i, _)| i == v)
    }
}

impl<'a> Sweep<'a> {
    /// A value of the primal, as the reverse region being built can read it. A value an
    /// `if` arm reads may be kept by that arm.
    pub(super) fn read(&mut self, v: Value) -> Value {
        // A container is kept by its defining region, never by an arm: two arms reading it
        // would each stash it, moving it twice.
        let capture = self.primal.storage(v).is_none();
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

    /// The shape of container `root`, made in region `i`, as the start of that region's
    /// reverse has it (for the container's adjoint buffer): a stand-in the region's
    /// [`Sweep::leave`] defines, from the container if it keeps it, else from a kept shape.
    pub(super) fn shape_in_region(&mut self, i: usize, root: Value) -> Value {
        if let Some(&(_, shape)) = self.contexts[i].shapes.iter().find(|(r, _)| *r == root) {
            return shape;
        }
        let shape = self.func.new_value(None);
        self.contexts[i].shapes.push((root, shape));
        shape
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
            shapes: Vec::new(),
        });
    }

    /// Ends the reverse of the innermost region: asks the stash plan how each value its
    /// reverse read gets there ([`plan::region`]), then applies it: the pushes go to the
    /// forward sweep's plan of the owning op; the returned prologue of the reversed region
    /// pops, recomputes (in primal order) and makes the buffers of containers made in it.
    /// Also returns whether the reverse read the loop index.
    fn leave(&mut self) -> (Vec<Op>, bool) {
        let Some(cx) = self.contexts.last() else {
            return (Vec::new(), false);
        };
        let mut plan = plan::region(cx, &self.cost());
        // Reading a recomputed op's operands gives them stand-ins: those of the region are
        // in the plan already; those of enclosing regions are read from them, or kept by
        // this arm (see [`Sweep::read`]), which then stashes them too.
        let read_before = cx.order.len();
        let cost = self.cost();
        let operands: Vec<Value> = plan
            .recompute
            .iter()
            .filter_map(|v| cx.definers.get(v))
            .flat_map(|(_, op)| cost.recomputed_operands(op))
            .collect();
        for u in operands {
            self.read(u);
        }
        if let Some(cx) = self.contexts.last() {
            plan.stash_captured(cx, &cx.order[read_before..]);
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
        // A shape comes from its container if the plan keeps it (after the pops), else is
        // kept itself.
        let mut from_kept = Vec::new();
        let mut kept_shapes = Vec::new();
        for &(root, shape) in &cx.shapes {
            let kept = (plan.stash.iter()).find(|&&v| self.primal.storage(v).unwrap_or(v) == root);
            match kept {
                Some(v) => from_kept.push(Op::new(
                    vec![shape],
                    OpKind::Shape(cx.map[v]),
                    cx.owner.span,
                )),
                None => kept_shapes.push((root, shape)),
            }
        }
        let (pushes, mut prologue) = self.stash_ops(&cx, &plan, &kept_shapes);
        prologue.extend(from_kept);
        for &v in &plan.recompute {
            let Some(&(_, op)) = cx.definers.get(&v) else {
                continue;
            };
            let mut copy = self.cost().recomputed(op);
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
        let forward = self.plans.entry(cx.owner.id).or_default();
        if matches!(cx.owner.kind, OpKind::For { .. }) {
            forward
                .reserve
                .extend(pushes.iter().filter_map(|p| match p.kind {
                    OpKind::Push { stash, .. } => Some(stash),
                    _ => None,
                }));
            forward.reserve.dedup();
        }
        forward.pushes_mut(cx.region).extend(pushes);
        // A stashed container's other versions read the one stashed.
        let mut reversed = Block {
            ops: prologue,
            ..Block::default()
        };
        let mut rest = Block {
            ops: std::mem::take(&mut self.out),
            ..Block::default()
        };
        for &(alias, first) in &plan.aliases {
            reversed.replace_uses(cx.map[&alias], cx.map[&first]);
            rest.replace_uses(cx.map[&alias], cx.map[&first]);
        }
        self.out = rest.ops;
        (reversed.ops, cx.index_read)
    }

    /// The ops applying a region's stash plan: the pushes closing the region in the forward
    /// sweep, and the pops opening its reverse (last pushed, first popped).
    /// `shapes`: containers of the region whose shapes are kept (taken at the end of the
    /// region, after any push onto the container), and the shapes' stand-ins.
    fn stash_ops(
        &mut self,
        cx: &Context,
        plan: &RegionPlan,
        shapes: &[(Value, Value)],
    ) -> (Vec<Op>, Vec<Op>) {
        let span = cx.owner.span;
        let op = |kind, results| Op::new(results, kind, span);
        let (mut pushes, mut pops) = (Vec::new(), Vec::new());
        let shapes: Vec<(Value, Value)> = (shapes.iter())
            .map(|&(root, stand_in)| {
                let shape = self.func.new_value(None);
                pushes.push(op(OpKind::Shape(root), vec![shape]));
                (shape, stand_in)
            })
            .collect();
        if !plan.stash.is_empty() || !shapes.is_empty() {
            let stash = self.new_stash(plan.kind);
            // A container that outlives the region (made before it, written in it) is kept
            // as a copy: the stash must not take the variable later code still uses.
            let mut values = Vec::with_capacity(plan.stash.len());
            for &v in &plan.stash {
                match self.primal.storage(v) {
                    Some(root) if !cx.internal.contains(&root) => {
                        let copy = self.func.new_value(None);
                        self.func.values[copy.index()].storage = Some(copy);
                        let init = ArrayInit::Copy {
                            source: v,
                            vec: false,
                        };
                        pushes.push(op(OpKind::Array(init), vec![copy]));
                        values.push(copy);
                    }
                    _ => values.push(v),
                }
            }
            values.extend(shapes.iter().map(|&(shape, _)| shape));
            pushes.push(op(OpKind::Push { stash, values }, Vec::new()));
            let results = (plan.stash.iter().map(|v| cx.map[v]))
                .chain(shapes.iter().map(|&(_, stand_in)| stand_in))
                .collect();
            pops.push(op(OpKind::Pop { stash }, results));
        }
        if !plan.bits.is_empty() {
            let stash = self.new_stash(StashKind::Bits);
            for &b in &plan.bits {
                let values = vec![b];
                pushes.push(op(OpKind::Push { stash, values }, Vec::new()));
            }
            for &b in plan.bits.iter().rev() {
                pops.push(op(OpKind::Pop { stash }, vec![cx.map[&b]]));
            }
        }
        (pushes, pops)
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
                if self.active(y) {
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
        self.out.push(Op::new(
            results.clone(),
            OpKind::If { cond, then, els },
            span,
        ));
        for (v, r) in touched.into_iter().zip(results) {
            self.adjoints.insert(v, r);
        }
    }

    /// A `for` or `loop` reversed: a `for` over the same iterations backwards, carrying the
    /// adjoints of the differentiated carried values and of the outside values the body adds
    /// to.
    pub(super) fn reverse_loop(&mut self, op: &'a Op) {
        let Some(l) = op.kind.as_loop() else {
            return;
        };
        let span = op.span;
        let carried = self.carried_adjoints(op, &l);
        // The initial adjoints: of the results, and of the outside values so far.
        let init: Vec<Value> = carried
            .of(op.results.as_slice())
            .into_iter()
            .map(|v| self.adjoint_or_zero(v, span))
            .collect();
        let results = match l.checkpoint {
            Some(checkpoint) => self.reverse_checkpointed(op, &l, checkpoint, &carried, init),
            None => self.reverse_iterations(op, &l, &carried, init),
        };
        let n = carried.active.len();
        for (i, &v) in carried.outside.iter().enumerate() {
            self.adjoints.insert(v, results[n + i]);
        }
        for (i, &j) in carried.active.iter().enumerate() {
            if self.active(l.init[j]) {
                self.accumulate(l.init[j], results[i], span);
            }
        }
    }

    /// The reversed loop of `op`, iterating backwards; its results.
    fn reverse_iterations(
        &mut self,
        op: &'a Op,
        l: &LoopView<'a>,
        carried: &Carried,
        init: Vec<Value>,
    ) -> Vec<Value> {
        let visit = self.visit(op, l);
        let (mut body, index_read) = self.reversed_body(op, l, carried, &visit);
        let range = self.reversed_range(op, l, &visit, index_read, &mut body);
        let results: Vec<Value> = carried
            .of(l.init)
            .into_iter()
            .map(|v| self.adjoint_value(v))
            .collect();
        let kind = OpKind::For {
            range,
            init,
            body,
            exits: false,
            trips: false,
            reserve: Vec::new(),
            checkpoint: None,
        };
        self.out.push(Op::new(results.clone(), kind, op.span));
        results
    }

    /// What the reverse of loop `op` carries.
    fn carried_adjoints(&self, op: &Op, l: &LoopView) -> Carried {
        let active = (0..l.carried.len())
            .filter(|&j| self.active(l.carried[j]) || self.active(op.results[j]))
            .filter(|&j| self.primal.storage(l.carried[j]).is_none())
            .collect();
        let mut outside = BTreeSet::new();
        self.outside_targets(l.body, &defined_in_op(op), &mut outside);
        Carried {
            active,
            outside: outside.into_iter().collect(),
        }
    }

    /// How the reverse of loop `op` visits its iterations: the range reversed when that is an
    /// iterator, else the recorded trip count counted down.
    fn visit(&mut self, op: &Op, l: &LoopView) -> Visit {
        let order = match l.range {
            Some(range) if l.go_on.is_none() && range.is_simple() => {
                Iteration::Reversed(range.clone())
            }
            _ => Iteration::Counted(self.record_trips(op)),
        };
        self.visit_in(l, order)
    }

    /// How the reverse of loop `op` visits its iterations when they are counted, and the
    /// count (as the reverse reads it).
    pub(super) fn visit_counted(&mut self, op: &Op, l: &LoopView) -> (Visit, Value) {
        let trips = self.record_trips(op);
        (self.visit_in(l, Iteration::Counted(trips)), trips)
    }

    /// The trip count of loop `op`, which the forward sweep records, as the reverse reads it.
    fn record_trips(&mut self, op: &Op) -> Value {
        let trips = self.func.new_value(Some("trips".into()));
        self.plans.entry(op.id).or_default().trips = Some(trips);
        if let Some(cx) = self.contexts.last_mut() {
            cx.internal.insert(trips);
        }
        self.read(trips)
    }

    fn visit_in(&mut self, l: &LoopView, order: Iteration) -> Visit {
        let k_name = match (&order, l.index) {
            (Iteration::Reversed(_), Some(i)) => self.primal.info(i).name.clone(),
            _ => Some("k".into()),
        };
        let k = self.func.new_value(k_name);
        let progression = self.func.new_value(None);
        let at = l.index.map(|i| {
            let name = self.primal.info(i).name.clone();
            self.func.new_value(name)
        });
        if let (Iteration::Reversed(_), Some(i)) = (&order, l.index) {
            self.func.reversed_loops.push((i, k));
        }
        let index = match &order {
            Iteration::Reversed(_) => l.index.map(|i| (i, k)),
            Iteration::Counted(_) => l.index.zip(at),
        };
        Visit {
            order,
            k,
            progression,
            at,
            index,
        }
    }

    /// The body of the reversed loop, and whether it reads the primal index.
    pub(super) fn reversed_body(
        &mut self,
        op: &'a Op,
        l: &LoopView<'a>,
        carried: &Carried,
        visit: &Visit,
    ) -> (Block, bool) {
        let span = op.span;
        let n = carried.active.len();
        let args: Vec<Value> = carried
            .of(l.carried)
            .into_iter()
            .map(|v| self.adjoint_value(v))
            .collect();
        let before = self.adjoints.mark();
        let outer_ops = std::mem::take(&mut self.out);
        self.enter(op, 0, l.body, visit.index);
        for (i, &v) in carried.outside.iter().enumerate() {
            self.adjoints.insert(v, args[n + i]);
        }
        // Each iteration turns the adjoints of the yields into those of the arguments.
        for (i, &j) in carried.active.iter().enumerate() {
            if self.active(l.next[j]) {
                self.accumulate(l.next[j], args[i], span);
            }
        }
        self.reverse_block(l.body);
        let mut yields = Vec::new();
        for (i, &j) in carried.active.iter().enumerate() {
            let adjoint = match self.adjoints.get(&l.carried[j]) {
                Some(&a) => a,
                None => self.zero_like(l.carried[j], args[i], span),
            };
            yields.push(adjoint);
        }
        for (i, v) in carried.outside.iter().enumerate() {
            yields.push(self.adjoints.get(v).copied().unwrap_or(args[n + i]));
        }
        let (mut ops, index_read) = self.leave();
        ops.append(&mut std::mem::replace(&mut self.out, outer_ops));
        self.adjoints.undo(before);
        let args = std::iter::once(visit.k).chain(args).collect();
        (Block { args, ops, yields }, index_read)
    }

    /// The range of the reversed loop; with counted iterations, the index found again from
    /// the primal range's progression where the reversed `body` reads it.
    fn reversed_range(
        &mut self,
        op: &Op,
        l: &LoopView,
        visit: &Visit,
        index_read: bool,
        body: &mut Block,
    ) -> Range {
        let span = op.span;
        let trips = match &visit.order {
            Iteration::Reversed(range) => return reversed(self.read_range(range)),
            Iteration::Counted(trips) => *trips,
        };
        if index_read && let (Some(range), Some(at)) = (l.range, visit.at) {
            let range = self.read_range(range);
            let progression = OpKind::Progression(range);
            self.out
                .push(Op::new(vec![visit.progression], progression, span));
            let index = OpKind::At(visit.progression, visit.k);
            body.ops.insert(0, Op::new(vec![at], index, span));
        }
        let zero = self.func.new_value(None);
        let lit = Literal::int(0, span);
        self.out.push(Op::new(vec![zero], OpKind::Lit(lit), span));
        Range {
            start: zero,
            end: trips,
            inclusive: false,
            adaptors: vec![Adaptor::Rev],
        }
    }

    /// `range` with its values as the reverse region reads them.
    pub(super) fn read_range(&mut self, range: &Range) -> Range {
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
            if !op.results.iter().any(|&r| self.active(r)) {
                continue;
            }
            candidates.extend(differentiable_operands(&op.kind, self.sig, self.primal));
            if let Some(l) = op.kind.as_loop() {
                candidates.extend(l.init);
            }
            for inner in op.kind.blocks() {
                self.outside_targets(inner, inside, out);
            }
        }
        // Containers' and structs' adjoints are buffers, changed in place, not carried.
        out.extend(candidates.into_iter().filter(|v| {
            !inside.contains(v)
                && self.active(*v)
                && self.primal.storage(*v).is_none()
                && !is_struct(self.primal, self.sig, *v)
        }));
    }
}

/// The adjoints the reverse of a loop carries: those of the differentiated carried values
/// (by position), then those of the outside values the body adds to.
pub(super) struct Carried {
    active: Vec<usize>,
    outside: Vec<Value>,
}

impl Carried {
    /// The values of the differentiated positions of `per_position`, then the outside values.
    pub(super) fn of(&self, per_position: &[Value]) -> Vec<Value> {
        let active = self.active.iter().map(|&j| per_position[j]);
        active.chain(self.outside.iter().copied()).collect()
    }
}

/// How a reversed loop visits the primal loop's iterations.
pub(super) struct Visit {
    order: Iteration,
    /// The reversed loop's variable: the primal index itself when the range is reversed, the
    /// iteration number `k` when iterations are counted.
    pub(super) k: Value,
    /// With counted iterations, the range's arithmetic progression and the primal index found
    /// again from it, `at(progression, k)`, made if the reversed body reads the index.
    progression: Value,
    pub(super) at: Option<Value>,
    /// The primal index and its stand-in in the reversed body.
    index: Option<(Value, Value)>,
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
