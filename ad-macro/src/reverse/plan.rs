//! The stash plan: how each primal value the reverse of a region reads gets there.
//!
//! The reverse of a region (an `if` arm, a loop body) runs where the region's values are out of
//! scope, so while it is built every read of such a value is recorded (`regions.rs`, the
//! region's [`Context`]). When the region is done, [`region`] decides for each value read:
//!
//! - **recompute** it at the start of the reversed region, if its op is cheap and pure and its
//!   operands are at hand anyway: values from outside the region, the loop index, or values
//!   kept for another reason ("recompute before you stash": memory traffic, not arithmetic,
//!   decides the speed of a reverse loop);
//! - **stash** it: the forward sweep pushes it at the end of the region and the reversed region
//!   pops it: one `Slot` outside loops, a `Stack` of tuples in a loop body, `Bits` for branch
//!   conditions in a loop. Versions of one container are one variable, stashed once.
//!
//! The decision is this module's alone; `regions.rs` applies it (pushes, pops, recomputing
//! copies) without deciding anything. A different policy (checkpointing, which keeps only
//! snapshots of a loop's carried state; a tuned cost model) replaces [`region`] or [`Cost`].

use std::collections::{HashMap, HashSet};

use super::Sweep;
use super::regions::Context;
use crate::ir::{Func, Op, OpKind, StashKind, Through, UnOp, Value};
use crate::prims;

/// The decision for one region. Values are the primal's; the region's context maps them to
/// their stand-ins in the reversed region.
pub(super) struct RegionPlan {
    /// Kept in one stash of this kind, in the order of first read.
    pub kind: StashKind,
    pub stash: Vec<Value>,
    /// Branch conditions of a loop body: one bit each.
    pub bits: Vec<Value>,
    /// Recomputed from stashed, outside and other recomputed values, in primal order.
    pub recompute: Vec<Value>,
    /// Versions of a stashed container that are not the one stashed: (version, stashed).
    pub aliases: Vec<(Value, Value)>,
}

impl RegionPlan {
    /// Adds the values of enclosing regions that the region's `if` arm keeps for them (see
    /// `Sweep::read`) and that reading the operands of recomputed ops brought in: stashed.
    pub(super) fn stash_captured(&mut self, cx: &Context, read: &[Value]) {
        let captured = read.iter().filter(|v| cx.captured.contains(v));
        self.stash.extend(captured);
    }
}

/// Decides, for every value the reverse of `cx`'s region read, whether to recompute or stash it.
pub(super) fn region(cx: &Context, cost: &Cost) -> RegionPlan {
    // Values no cheap op computes must be stashed, and so must those an `if` arm keeps for
    // the region; the others are recomputed if they can be from stashed and outside values,
    // else stashed themselves (one stash either way).
    let cheap = |v: &Value| cx.definers.get(v).is_some_and(|(_, op)| cost.is_cheap(op));
    let forced: HashSet<Value> = cx
        .order
        .iter()
        .copied()
        .filter(|v| cx.captured.contains(v) || !cheap(v))
        .collect();
    let mut memo = HashMap::new();
    let mut queue = cx.order.clone();
    let mut seen: HashSet<Value> = queue.iter().copied().collect();
    let (mut recompute, mut stash) = (Vec::new(), Vec::new());
    let mut next = 0;
    while let Some(&v) = queue.get(next) {
        next += 1;
        let recomputed = !forced.contains(&v) && covered(cx, cost, v, &forced, &mut memo);
        if !recomputed {
            stash.push(v);
            continue;
        }
        recompute.push(v);
        // Its operands from the region are read too: covered, so recomputed as well.
        let operands = (cx.definers.get(&v)).map(|(_, op)| cost.recomputed_operands(op));
        for u in operands.unwrap_or_default() {
            if cx.internal.contains(&u) && !cx.is_index(u) && seen.insert(u) {
                queue.push(u);
            }
        }
    }
    recompute.sort_by_key(|v| cx.definers.get(v).map(|(position, _)| *position));
    // Versions of one container are one variable, kept once (as it is at the end of the
    // region).
    let mut first_of: HashMap<Value, Value> = HashMap::new();
    let mut aliases = Vec::new();
    stash.retain(|&v| match cost.primal.storage(v) {
        None => true,
        Some(root) => match first_of.get(&root) {
            Some(&first) => {
                aliases.push((v, first));
                false
            }
            None => {
                first_of.insert(root, v);
                true
            }
        },
    });
    let kind = if cx.in_loop {
        StashKind::Stack
    } else {
        StashKind::Slot
    };
    let (bits, stash) = match kind {
        StashKind::Stack => stash.into_iter().partition(|v| cx.conditions.contains(v)),
        _ => (Vec::new(), stash),
    };
    RegionPlan {
        kind,
        stash,
        bits,
        recompute,
        aliases,
    }
}

/// What deciding between recomputing and stashing needs to know.
pub(super) struct Cost<'c> {
    primal: &'c Func,
    mutated: &'c HashSet<Value>,
    final_versions: &'c HashSet<Value>,
    stable_loads: &'c HashMap<Value, Value>,
}

impl Sweep<'_> {
    pub(super) fn cost(&self) -> Cost<'_> {
        Cost {
            primal: self.primal,
            mutated: &self.mutated,
            final_versions: &self.final_versions,
            stable_loads: &self.stable_loads,
        }
    }
}

impl Cost<'_> {
    /// Whether `op` is worth recomputing rather than stashing its result: pure, one result,
    /// and a few cycles at most (arithmetic, comparisons, casts, loads from containers that
    /// are never written; not transcendental functions).
    pub(super) fn is_cheap(&self, op: &Op) -> bool {
        match &op.kind {
            OpKind::Index(array, _) if self.primal.storage(*array).is_some() => {
                self.loads_constant(*array) || self.stable_root(op).is_some()
            }
            // A length changes when the container is pushed onto.
            OpKind::Len(array) | OpKind::Count(array) => self.loads_constant(*array),
            _ => is_cheap(op),
        }
    }

    /// Whether `array`'s elements are the same wherever it is at hand: the version is never
    /// written after it is made, or the container never at all.
    fn loads_constant(&self, array: Value) -> bool {
        self.final_versions.contains(&array)
            || (self.primal.storage(array)).is_some_and(|s| !self.mutated.contains(&s))
    }

    /// The storage a recomputed copy of `op` loads from, for a load whose container is written
    /// but not where it loaded (`analysis::stable`): the container as the reverse sweep has
    /// it, whichever version the load named. `None` for every other op.
    pub(super) fn stable_root(&self, op: &Op) -> Option<Value> {
        let OpKind::Index(array, _) = &op.kind else {
            return None;
        };
        let [result] = op.results[..] else {
            return None;
        };
        (!self.loads_constant(*array))
            .then(|| self.stable_loads.get(&result).copied())
            .flatten()
    }

    /// The operands a recomputed copy of `op` reads: a stable load reads its storage.
    pub(super) fn recomputed_operands(&self, op: &Op) -> Vec<Value> {
        match (&op.kind, self.stable_root(op)) {
            (OpKind::Index(_, index), Some(root)) => vec![root, *index],
            _ => op.kind.operands(),
        }
    }

    /// A recomputed copy of `op`, reading what [`Cost::recomputed_operands`] says.
    pub(super) fn recomputed(&self, op: &Op) -> Op {
        let mut copy = op.clone();
        if let (OpKind::Index(array, _), Some(root)) = (&mut copy.kind, self.stable_root(op)) {
            *array = root;
        }
        copy
    }
}

/// Whether `op` is worth recomputing rather than stashing its result: pure, one result, and
/// a few cycles at most (arithmetic, comparisons, casts; not transcendental functions).
pub(super) fn is_cheap(op: &Op) -> bool {
    op.results.len() == 1
        && match &op.kind {
            OpKind::Lit(_)
            | OpKind::Path(_)
            | OpKind::Placeholder
            | OpKind::Cast(..)
            | OpKind::Binary(..)
            | OpKind::Matches(..) => true,
            // `*r` reads memory that may have changed since: kept, not read again.
            OpKind::Unary(op, _) => *op != UnOp::Deref,
            // The table's cost class (`prims.rs`).
            OpKind::Prim(prim, _) => prim.cost == prims::Cost::Cheap,
            // The constants of generic code: `T::from(k).unwrap()`, `T::one()`.
            OpKind::Call(call) => call.through == Through::Constructor,
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
    if !cx.internal.contains(&v) || cx.is_index(v) || stashed.contains(&v) {
        return true;
    }
    if let Some(&known) = memo.get(&v) {
        return known;
    }
    memo.insert(v, false);
    let covered = cx.definers.get(&v).is_some_and(|(_, op)| {
        cost.is_cheap(op)
            && (cost.recomputed_operands(op).into_iter())
                .all(|u| covered(cx, cost, u, stashed, memo))
    });
    memo.insert(v, covered);
    covered
}
