//! Replayed recurrences: a reverse loop whose iterations may run in any order, but that could
//! not fuse with its forward loop, runs them in the forward order instead, and recomputes the
//! values its forward loop carries, rather than popping each iteration's copy from a stack.
//!
//! Why: in `for &c in x { r -= c * power; power *= t; }` the reverse needs `power` in every
//! iteration, and `power` is carried from the iteration before, so the forward loop pushes it
//! and the reverse pops it, backwards: a store and a load per iteration, where the hand-written
//! adjoint walks the coefficients forwards again and multiplies `power` by `t` as it goes.
//! The reverse cannot fuse with the forward loop (it needs `dr`, known only after the loop),
//! but its iterations are independent (fusion's criterion: what it carries passes through
//! unchanged or is only added to, and it only adds into buffers), so it can run them forwards
//! and replay the recurrence.
//!
//! Before (`F` pushes only carried values, made by cheap arithmetic from themselves, the index
//! and values from outside; `R` pops only them):
//! ```text
//! for %a..%b init(%p0) reserve @s |%i, %p| { ..; push @s %p; %p1 = mul %p, %t; yield .., %p1 }
//! ..
//! for %a..%b rev init(%d) |%k, %dd| { %q = pop @s; ..%q..; yield %dd }
//! ```
//! After:
//! ```text
//! for %a..%b init(%p0) |%i, %p| { ..; %p1 = mul %p, %t; yield .., %p1 }
//! ..
//! for %a..%b init(%d, %p0) |%k, %dd, %q| { ..%q..; %q1 = mul %q, %t; yield %dd, %q1 }
//! ```
//!
//! The replayed values are bitwise the values pushed (the same operations on the same
//! operands). What changes is the order in which `R`'s accumulations sum, as with fusion.
//! The pass runs on the program of `f_grad`, `f_vjp` and `f_grad_into`, after fusion.

use std::collections::{HashMap, HashSet};

use super::fuse::{
    Pair, buffers, carried_kinds, drop_reserves, index_arg, outside_reads, rename_op,
    stash_op_counts, stashes,
};
use crate::ir::{Block, Func, Op, OpKind, Range, Value};
use crate::prims::Operand;

/// Replays the recurrences of every eligible pair of loops of `func`; whether any.
pub fn replay_recurrences(func: &mut Func) -> bool {
    if func.reversed_loops.is_empty() {
        return false;
    }
    let pairs: HashMap<Value, Value> = func.reversed_loops.iter().copied().collect();
    let buffers = buffers(&func.body.ops);
    let uses = stash_op_counts(&func.body.ops);
    let mut body = std::mem::take(&mut func.body);
    let replayed = replay_block(func, &mut body, &pairs, &buffers, &uses);
    func.body = body;
    replayed
}

fn replay_block(
    func: &mut Func,
    block: &mut Block,
    pairs: &HashMap<Value, Value>,
    buffers: &HashSet<Value>,
    uses: &HashMap<usize, (usize, usize)>,
) -> bool {
    let mut replayed = false;
    for op in &mut block.ops {
        for inner in op.kind.blocks_mut() {
            replayed |= replay_block(func, inner, pairs, buffers, uses);
        }
    }
    for p in 0..block.ops.len() {
        let partner = index_arg(&block.ops[p])
            .and_then(|i| pairs.get(&i))
            .and_then(|&k| (p + 1..block.ops.len()).find(|&q| index_arg(&block.ops[q]) == Some(k)));
        if let Some(q) = partner
            && let Some(replay) = Replay::plan(func, block, p, q, buffers, uses)
        {
            replay.apply(func, block, p, q);
            replayed = true;
        }
    }
    replayed
}

/// What replaying takes, found before anything changes.
struct Replay {
    stash: usize,
    /// The positions of the `push` in `F`'s body and of the `pop` in `R`'s.
    push: usize,
    pop: usize,
    /// The carried values `F` pushes, and their initial values.
    pushed: Vec<Value>,
    init: Vec<Value>,
    /// `F`'s index and range.
    index: Value,
    range: Range,
    /// The ops of `F`'s body that make the pushed values' next values, in order, and those.
    recurrence: Vec<Op>,
    nexts: Vec<Value>,
}

impl Replay {
    fn plan(
        func: &Func,
        block: &Block,
        p: usize,
        q: usize,
        buffers: &HashSet<Value>,
        uses: &HashMap<usize, (usize, usize)>,
    ) -> Option<Replay> {
        let (forward, reverse) = (&block.ops[p], &block.ops[q]);
        let Pair {
            f_body,
            r_body,
            r_init,
        } = Pair::of(block, p, q)?;
        // The iterations of `R` are independent of one another's order.
        carried_kinds(reverse)?;
        outside_reads(r_body, r_init, buffers)?;
        // `F` pushes one stash, which `R` alone pops, once per iteration, at their top level.
        let pushed = stashes(&f_body.ops, true);
        if pushed.len() != 1
            || pushed != stashes(&r_body.ops, false)
            || !stashes(&f_body.ops, false).is_empty()
            || !stashes(&r_body.ops, true).is_empty()
        {
            return None;
        }
        let stash = *pushed.iter().next()?;
        if uses.get(&stash) != Some(&(1, 1)) {
            return None;
        }
        let push = f_body
            .ops
            .iter()
            .position(|op| matches!(op.kind, OpKind::Push { stash: s, .. } if s == stash))?;
        let pop = r_body
            .ops
            .iter()
            .position(|op| matches!(op.kind, OpKind::Pop { stash: s } if s == stash))?;
        let OpKind::Push { values, .. } = &f_body.ops[push].kind else {
            return None;
        };
        let f_loop = forward.kind.as_loop()?;
        let mut carried = Vec::new();
        for v in values {
            // Scalars only: a container carried through `R` would be moved there.
            if func.storage(*v).is_some() {
                return None;
            }
            let j = f_loop.carried.iter().position(|c| c == v)?;
            if carried.contains(&j) {
                return None;
            }
            carried.push(j);
        }
        let nexts: Vec<Value> = carried.iter().map(|&j| f_loop.next[j]).collect();
        let index = f_loop.index?;
        let mut allowed: HashSet<Value> = values.iter().copied().collect();
        allowed.insert(index);
        let recurrence = recurrence(f_body, &nexts, allowed)?;
        Some(Replay {
            stash,
            push,
            pop,
            pushed: values.clone(),
            init: carried.iter().map(|&j| f_loop.init[j]).collect(),
            index,
            range: f_loop.range?.clone(),
            recurrence: recurrence
                .iter()
                .map(|&at| f_body.ops[at].clone())
                .collect(),
            nexts,
        })
    }

    /// Rewrites `R` (`block.ops[q]`) first, then takes the push out of `F` (`block.ops[p]`).
    fn apply(self, func: &mut Func, block: &mut Block, p: usize, q: usize) {
        let OpKind::For {
            range, init, body, ..
        } = &mut block.ops[q].kind
        else {
            return;
        };
        // The recurrence, as `R` replays it: `F`'s carried values become the popped ones.
        let popped = body.ops.remove(self.pop).results;
        let mut names: HashMap<Value, Value> = (self.pushed.iter().copied())
            .zip(popped.iter().copied())
            .collect();
        names.insert(self.index, body.args[0]);
        for mut op in self.recurrence {
            for r in &mut op.results {
                let fresh = func.new_value(func.values[r.0 as usize].name.clone());
                names.insert(*r, fresh);
                *r = fresh;
            }
            rename_op(&mut op, &names);
            body.ops.push(op);
        }
        *range = self.range;
        init.extend(self.init);
        body.args.extend(&popped);
        body.yields.extend(
            self.nexts
                .iter()
                .map(|v| names.get(v).copied().unwrap_or(*v)),
        );
        let results: Vec<Value> = popped.iter().map(|_| func.new_value(None)).collect();
        block.ops[q].results.extend(results);
        let forward = &mut block.ops[p];
        if let Some(f_body) = forward.kind.blocks_mut().into_iter().next() {
            f_body.ops.remove(self.push);
        }
        drop_reserves(forward, &HashSet::from([self.stash]));
    }
}

/// The positions in `body` (in order) of the ops that make `nexts` from the values `allowed`
/// (the carried values pushed, the index) and values from outside the loop, if all are cheap
/// arithmetic at the body's top level.
fn recurrence(body: &Block, nexts: &[Value], allowed: HashSet<Value>) -> Option<Vec<usize>> {
    let mut inside = HashSet::new();
    super::fuse::defined(body, &mut inside);
    let made_by: HashMap<Value, usize> = (body.ops.iter().enumerate())
        .flat_map(|(at, op)| op.results.iter().map(move |&r| (r, at)))
        .collect();
    let mut taken = HashSet::new();
    let mut stack: Vec<Value> = nexts.to_vec();
    while let Some(v) = stack.pop() {
        if allowed.contains(&v) || !inside.contains(&v) {
            continue;
        }
        // Defined in the body, not at its top level (in a nested block) or not cheap.
        let &at = made_by.get(&v)?;
        let op = &body.ops[at];
        if !cheap(op) {
            return None;
        }
        if taken.insert(at) {
            stack.extend(op.kind.operands());
        }
    }
    let mut ops: Vec<usize> = taken.into_iter().collect();
    ops.sort_unstable();
    Some(ops)
}

/// Ops the recurrence may repeat in `R`: what the stash plan recomputes rather than keeps
/// (`plan::is_cheap`: no dereference, whose memory may have changed between `F` and `R`),
/// and no primitive reading a container.
fn cheap(op: &Op) -> bool {
    super::plan::is_cheap(op)
        && match &op.kind {
            OpKind::Prim(prim, _) => prim.operands.iter().all(|o| *o == Operand::Float),
            _ => true,
        }
}
