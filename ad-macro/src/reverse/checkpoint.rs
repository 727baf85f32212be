//! `#[checkpoint]` loops: reversed by binomial checkpointing instead of stashing every
//! iteration.
//!
//! The forward sweep runs the loop as written and counts its trips: nothing is pushed per
//! iteration. Its reverse is one [`OpKind::Checkpointed`] op, which starts again from the
//! loop's initial state and follows the runtime's schedule (`ad_runtime::checkpoint`):
//! `advance` regions run iterations as written, `store`/`restore` keep and bring back the
//! carried values, and a `step` runs one iteration with the pushes the stash plan asked for
//! and then that iteration's reverse, which pops them at once. So the stashes hold one
//! iteration, and the loop keeps at most `snapshots` copies of what it carries.
//!
//! Both regions are copies of the loop body with fresh values, reading what the body reads
//! from outside as the reverse region reads it (through [`Sweep::read`], so an enclosing
//! region's plan keeps it). A container the loop carries is recomputed in a working copy (the
//! regions' versions of it all have that copy as storage), starting from a copy taken before
//! the loop, since the forward sweep changed the container in place; a container the body
//! only reads but that is written elsewhere is read from a copy taken before the loop too
//! ([`checkpoint_copies`]), since the reverse sweep runs after those writes.

use std::collections::{HashMap, HashSet};

use super::Sweep;
use super::regions::Carried;
use crate::ir::{
    ArrayInit, Block, Checkpoint, Checkpointed, Func, LoopView, Op, OpId, OpKind, Pass, Value,
};

/// The copies taken before one `#[checkpoint]` loop: (the value copied, the copy).
pub type Copies = Vec<(Value, Value)>;

/// Takes, before each `#[checkpoint]` loop of `func`, a copy of each value it carries (its
/// value on entry) and of each container its body reads that is written anywhere; returns
/// them by the loop's id.
pub fn checkpoint_copies(func: &mut Func) -> HashMap<OpId, Copies> {
    let mutated = {
        let mut out = HashSet::new();
        for op in &func.body.ops {
            func.writes(op, &mut out);
        }
        out
    };
    let mut copies = HashMap::new();
    let mut body = std::mem::take(&mut func.body);
    copy_block(func, &mut body, &mutated, &mut copies);
    func.body = body;
    copies
}

fn copy_block(
    func: &mut Func,
    block: &mut Block,
    mutated: &HashSet<Value>,
    copies: &mut HashMap<OpId, Copies>,
) {
    let mut ops = Vec::with_capacity(block.ops.len());
    for mut op in std::mem::take(&mut block.ops) {
        for inner in op.kind.blocks_mut() {
            copy_block(func, inner, mutated, copies);
        }
        if let Some(l) = op.kind.as_loop()
            && l.checkpoint.is_some()
        {
            // Every carried value's, since the forward sweep's loop changes a container in
            // place and moves a value that is not `Copy`.
            let mut copied = Vec::new();
            let carried: HashSet<Value> = (l.carried.iter())
                .filter_map(|&v| func.storage(v))
                .collect();
            for &v in l.init {
                if !copied.contains(&v) {
                    copied.push(v);
                }
            }
            for v in free_values(l.body) {
                if let Some(root) = func.storage(v)
                    && mutated.contains(&root)
                    && !carried.contains(&root)
                    && !copied.contains(&v)
                {
                    copied.push(v);
                }
            }
            let mut pairs = Vec::new();
            for v in copied {
                let name = func.info(v).name.clone();
                let copy = func.new_value(name);
                if func.storage(v).is_some() {
                    func.values[copy.index()].storage = Some(copy);
                }
                let init = ArrayInit::Copy {
                    source: v,
                    vec: false,
                };
                ops.push(Op::new(vec![copy], OpKind::Array(init), op.span));
                pairs.push((v, copy));
            }
            copies.insert(op.id, pairs);
        }
        ops.push(op);
    }
    block.ops = ops;
}

/// The values `block` (and the blocks nested in it) reads but does not define, once each,
/// in order of first use.
fn free_values(block: &Block) -> Vec<Value> {
    let mut inside = HashSet::new();
    super::fuse::defined(block, &mut inside);
    let mut reads = Vec::new();
    super::fuse::free_values(block, &inside, &mut reads);
    let mut seen = HashSet::new();
    reads.retain(|v| seen.insert(*v));
    reads
}

impl<'a> Sweep<'a> {
    /// The reverse of `#[checkpoint]` loop `op`: the op driving the schedule, made from the
    /// loop's reversed body (built as for any loop, its iterations counted) and two copies of
    /// its body.
    pub(super) fn reverse_checkpointed(
        &mut self,
        op: &'a Op,
        l: &LoopView<'a>,
        checkpoint: Checkpoint,
        carried: &Carried,
        init_adjoints: Vec<Value>,
    ) -> Vec<Value> {
        let span = op.span;
        let (visit, trips) = self.visit_counted(op, l);
        let (mut reversed, index_read) = self.reversed_body(op, l, carried, &visit);
        let progression = l.range.map(|range| {
            let range = self.read_range(range);
            let progression = self.func.new_value(None);
            self.out
                .push(Op::new(vec![progression], OpKind::Progression(range), span));
            progression
        });
        if index_read && let (Some(p), Some(at)) = (progression, visit.at) {
            let at = Op::new(vec![at], OpKind::At(p, visit.k), span);
            reversed.ops.insert(0, at);
        }
        // The iteration with its pushes, for `step`; the forward sweep runs the loop plain.
        let plan = self.plans.entry(op.id).or_default();
        let pushes = std::mem::take(plan.pushes_mut(0));
        plan.plain = true;
        plan.reserve.clear();
        let recorded = self.forward_block(l.body, pushes);

        // What the copies read from outside, as the reverse reads it.
        let copies = self
            .checkpoint_copies
            .get(&op.id)
            .cloned()
            .unwrap_or_default();
        let mut outside = HashMap::new();
        for v in free_values(l.body) {
            let source = copies.iter().find(|(c, _)| *c == v).map_or(v, |&(_, c)| c);
            outside.insert(v, self.read(source));
        }
        // A container from outside is the storage of its versions in the copies (an `if`
        // yielding it gives a version of its storage).
        let mut storages = HashMap::new();
        for (&v, &read) in &outside {
            if let Some(root) = self.primal.storage(v) {
                storages.insert(root, self.func.storage(read).unwrap_or(read));
            }
        }
        // The working copies of the carried containers, and the state's initial values.
        let mut working = Vec::new();
        let mut init = Vec::new();
        for (j, &v) in l.carried.iter().enumerate() {
            match self.primal.storage(v) {
                Some(root) => {
                    let name = self.primal.info(v).name.clone();
                    let copy = self.func.new_value(name);
                    self.func.values[copy.index()].storage = Some(copy);
                    storages.insert(root, copy);
                    working.push(Some(copy));
                    let first = copies.iter().find(|(c, _)| *c == l.init[j]);
                    let first = first.map_or(l.init[j], |&(_, c)| c);
                    init.push(self.read(first));
                }
                None => {
                    working.push(None);
                    let first = copies.iter().find(|(c, _)| *c == l.init[j]);
                    init.push(self.read(first.map_or(l.init[j], |&(_, c)| c)));
                }
            }
        }
        // Containers the copies hold themselves where the loop had a reference.
        let owned: HashSet<Value> = (storages.iter())
            .filter(|(root, copy)| root != copy)
            .map(|(_, &copy)| copy)
            .collect();
        let mut clone = Renumber {
            func: &mut self.func,
            map: outside.clone(),
            storages: &storages,
            owned: &owned,
        };
        // `advance`: its carried containers are the working copies themselves.
        for (&arg, w) in l.carried.iter().zip(&working) {
            if let Some(w) = w {
                clone.map.insert(arg, *w);
            }
        }
        let t = clone.func.new_value(Some("t".into()));
        let mut advance = clone.block(l.body);
        let go_on = usize::from(l.go_on.is_some());
        advance.yields.drain(..go_on);
        let index = (l.index.map(|i| clone.map[&i]), progression);
        if let (Some(index), Some(p)) = index {
            advance
                .ops
                .insert(0, Op::new(vec![index], OpKind::At(p, t), span));
        }
        match l.index {
            Some(_) => advance.args[0] = t,
            None => advance.args.insert(0, t),
        }
        // `step`: the recorded iteration (its pushes), then its reverse.
        clone.map = outside;
        let mut step = clone.block(&recorded);
        self.renumber_reversed_loops(&recorded, &step);
        let k = visit.k;
        if let (Some(_), Some(p)) = (l.index, progression) {
            let index = step.args.remove(0);
            step.ops
                .insert(0, Op::new(vec![index], OpKind::At(p, k), span));
        }
        step.ops.append(&mut reversed.ops);
        step.yields = reversed.yields;
        let args = std::iter::once(k)
            .chain(step.args.drain(..))
            .chain(reversed.args.into_iter().skip(1))
            .collect();
        step.args = args;

        let results: Vec<Value> = carried
            .of(l.init)
            .into_iter()
            .map(|v| self.adjoint_value(v))
            .collect();
        let driver = Checkpointed {
            snapshots: checkpoint.snapshots,
            trips,
            progression,
            init,
            adjoints: init_adjoints,
            advance,
            step,
        };
        self.out.push(Op::new(
            results.clone(),
            OpKind::Checkpointed(Box::new(driver)),
            span,
        ));
        results
    }

    /// Points the pairs of loops reversed by their range (`Func::reversed_loops`) whose forward
    /// loop is in `original` at its copy in `copy`, so that fusion can pair them in `step`.
    fn renumber_reversed_loops(&mut self, original: &Block, copy: &Block) {
        fn indices(block: &Block, out: &mut Vec<Value>) {
            for op in &block.ops {
                if let OpKind::For { body, .. } = &op.kind {
                    out.extend(body.args.first().copied());
                }
                for inner in op.kind.blocks() {
                    indices(inner, out);
                }
            }
        }
        let (mut before, mut after) = (Vec::new(), Vec::new());
        indices(original, &mut before);
        indices(copy, &mut after);
        for (forward, _) in &mut self.func.reversed_loops {
            if let Some(at) = before.iter().position(|v| v == forward) {
                *forward = after[at];
            }
        }
    }
}

/// Copies blocks with fresh values: `map` takes each value defined in a copied block to its
/// copy (and values from outside to what the copy reads instead); `storages` takes
/// containers from outside to the storage their versions in the copy have.
struct Renumber<'f> {
    func: &'f mut Func,
    map: HashMap<Value, Value>,
    storages: &'f HashMap<Value, Value>,
    /// The storages of `storages` that are owned copies where the loop read a reference: a
    /// call passing one on as is (`g(x)` of an `x: &mut [f64]`) lends it instead.
    owned: &'f HashSet<Value>,
}

impl Renumber<'_> {
    fn value(&mut self, v: Value) -> Value {
        if let Some(&copy) = self.map.get(&v) {
            return copy;
        }
        let mut info = self.func.info(v).clone();
        let copy = Value(self.func.values.len() as u32);
        info.storage = info.storage.map(|s| match self.storages.get(&s) {
            Some(&w) => w,
            None if s == v => copy,
            None => self.map.get(&s).copied().unwrap_or(s),
        });
        info.snapshot_of = info
            .snapshot_of
            .map(|s| self.map.get(&s).copied().unwrap_or(s));
        self.func.values.push(info);
        self.map.insert(v, copy);
        copy
    }

    /// A copy of `block`, without its side-effect macros: they ran in the forward sweep.
    fn block(&mut self, block: &Block) -> Block {
        let args = block.args.iter().map(|&a| self.value(a)).collect();
        let ops = (block.ops.iter())
            .filter(|op| !matches!(op.kind, OpKind::Effect { .. }))
            .map(|op| self.op(op))
            .collect();
        let yields = block.yields.iter().map(|y| self.use_of(*y)).collect();
        Block { args, ops, yields }
    }

    fn use_of(&self, v: Value) -> Value {
        self.map.get(&v).copied().unwrap_or(v)
    }

    fn op(&mut self, op: &Op) -> Op {
        let mut copy = op.clone();
        copy.kind
            .operands_mut(&mut |v| *v = self.map.get(v).copied().unwrap_or(*v));
        let blocks: Vec<Block> = op
            .kind
            .blocks()
            .into_iter()
            .map(|b| self.block(b))
            .collect();
        for (slot, block) in copy.kind.blocks_mut().into_iter().zip(blocks) {
            *slot = block;
        }
        copy.results = op.results.iter().map(|&r| self.value(r)).collect();
        if let OpKind::Call(call) = &mut copy.kind {
            for arg in &mut call.args {
                let root = self.func.storage(arg.value).unwrap_or(arg.value);
                if self.owned.contains(&root) {
                    arg.pass = match arg.pass {
                        Pass::Value => Pass::Ref,
                        Pass::Reborrow => Pass::Mut,
                        other => other,
                    };
                }
            }
        }
        copy
    }
}
