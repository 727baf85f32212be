//! Loop fusion: a `for` loop of the forward sweep and its reverse become one loop, when the
//! reverse can run its iterations in the forward order.
//!
//! The reverse sweep runs a loop's iterations backwards because, in general, iteration `i`'s
//! adjoints depend on those of the later iterations (`s = s * x[i]` carries `ds` through
//! them). Many loops carry nothing backwards: a sum `s += term(x[i])` passes `ds` through
//! unchanged, and the terms' adjoints only accumulate into buffers. The reverse of such a loop
//! can run forwards, in the same iteration as the primal: that is the adjoint a person writes
//! (one loop, each term's partials added where the term is computed), and it saves the second
//! pass over memory and every stash (a pushed value is popped in the same iteration).
//!
//! A forward loop `F` and its reverse `R` (same block, `R`'s range is `F`'s reversed) fuse
//! when:
//! - every value `R` carries is **invariant** (yielded unchanged: `ds` through `add`'s or
//!   `sub`'s rule) or an **accumulation** (`dv + contribution`, read nowhere else), so the
//!   order of iterations does not matter but for rounding;
//! - what `R` reads from outside is at hand before `F`, or made by pure ops between `F` and
//!   `R` that can move before `F` (the seed's share through `add` rules, a zeroed buffer);
//! - `R` only adds into the adjoint buffers it shares with the rest of the program, and no op
//!   between `F` and `R` reads those buffers (reading would see `R`'s additions early);
//! - every stash `F` pushes is popped in `R` and no other stash is: within one fused iteration
//!   the pops take back that iteration's pushes, in the same order as before.
//!
//! The fused loop runs `F`'s body, then `R`'s, per iteration. Fusion applies to the functions
//! that run both sweeps at once (`f_grad`, `f_vjp`, `f_grad_into`); `f_pullback` and
//! `f_jacobian` keep the sweeps apart (the seed is not known during a pullback's forward
//! sweep, and a Jacobian runs one forward sweep for many reverse sweeps).

use std::collections::{HashMap, HashSet};

use crate::ir::{Adaptor, Arg, Block, Func, Op, OpKind, Range, Rule, Value};

/// The adjoint program with each fusable pair of loops fused, or `None` when nothing fused.
/// A checkpointed loop's `step` pushes an iteration's values and pops them straight back, as
/// a fused loop does, so its round trips are bypassed too.
pub fn fuse(adjoint: &Func) -> Option<Func> {
    let mut checkpointed = false;
    walk(&adjoint.body.ops, &mut |op| {
        checkpointed |= matches!(op.kind, OpKind::Checkpointed(_));
    });
    if adjoint.reversed_loops.is_empty() && !checkpointed {
        return None;
    }
    let mut func = adjoint.clone();
    let pairs: HashMap<Value, Value> = adjoint.reversed_loops.iter().copied().collect();
    let buffers = buffers(&adjoint.body.ops);
    let mut body = std::mem::take(&mut func.body);
    let before = body.ops.len();
    let fused = fuse_block(&mut body, &pairs, &buffers);
    // Hoisted ops move from the reverse sweep into the forward one; `R` leaves the reverse.
    func.reverse_start = func.reverse_start.saturating_sub(before - body.ops.len());
    let bypassed = (fused || checkpointed) && bypass_round_trips(&mut body);
    func.body = body;
    (fused || bypassed).then_some(func)
}

/// Values a fused iteration pushes and pops straight back (a stash's only push, and its only
/// pop later in the same block) never go through the stash: the pop's results are the pushed
/// values, and both ops go.
/// Whether one was.
fn bypass_round_trips(body: &mut Block) -> bool {
    let counts = stash_op_counts(&body.ops);
    let mut names = HashMap::new();
    let mut bypassed = HashSet::new();
    bypass_in(body, &counts, &mut names, &mut bypassed);
    if bypassed.is_empty() {
        return false;
    }
    for op in &mut body.ops {
        rename_op(op, &names);
        drop_reserves(op, &bypassed);
    }
    for v in &mut body.yields {
        rename(v, &names);
    }
    true
}

fn bypass_in(
    block: &mut Block,
    counts: &HashMap<usize, (usize, usize)>,
    names: &mut HashMap<Value, Value>,
    bypassed: &mut HashSet<usize>,
) {
    for op in &mut block.ops {
        for inner in op.kind.blocks_mut() {
            bypass_in(inner, counts, names, bypassed);
        }
    }
    let mut p = 0;
    while p < block.ops.len() {
        let OpKind::Push { stash, .. } = block.ops[p].kind else {
            p += 1;
            continue;
        };
        // The stash's only push and pop: nothing between them can use it.
        let pop = (p + 1..block.ops.len())
            .find(|&q| matches!(block.ops[q].kind, OpKind::Pop { stash: s } if s == stash));
        match pop {
            Some(q) if counts.get(&stash) == Some(&(1, 1)) => {
                let pushed = block.ops[p].kind.operands();
                names.extend(block.ops[q].results.iter().copied().zip(pushed));
                bypassed.insert(stash);
                block.ops.remove(q);
                block.ops.remove(p);
            }
            _ => p += 1,
        }
    }
}

/// The number of `push` and `pop` ops of each stash in `ops`, nested ones included.
pub(super) fn stash_op_counts(ops: &[Op]) -> HashMap<usize, (usize, usize)> {
    let mut counts: HashMap<usize, (usize, usize)> = HashMap::new();
    walk(ops, &mut |op| match op.kind {
        OpKind::Push { stash, .. } => counts.entry(stash).or_default().0 += 1,
        OpKind::Pop { stash } => counts.entry(stash).or_default().1 += 1,
        _ => {}
    });
    counts
}

/// Removes the bypassed stashes from the loops' reservations, nested ones included.
pub(super) fn drop_reserves(op: &mut Op, bypassed: &HashSet<usize>) {
    if let OpKind::For { reserve, .. } = &mut op.kind {
        reserve.retain(|s| !bypassed.contains(s));
    }
    for inner in op.kind.blocks_mut() {
        for op in &mut inner.ops {
            drop_reserves(op, bypassed);
        }
    }
}

/// The adjoint buffers anywhere in `ops`: made by `buffer`, or used as one (a seed's).
pub(super) fn buffers(ops: &[Op]) -> HashSet<Value> {
    let mut out = HashSet::new();
    walk(ops, &mut |op| {
        out.extend(added_into(op));
        match &op.kind {
            OpKind::Buffer(_) => out.extend(&op.results),
            OpKind::BufferTake { buffer, .. }
            | OpKind::BufferReset { buffer, .. }
            | OpKind::BufferPop(buffer)
            | OpKind::BufferSum(buffer) => {
                out.insert(*buffer);
            }
            _ => {}
        }
    });
    out
}

/// The buffers `op` adds into (and does nothing else with).
fn added_into(op: &Op) -> Vec<Value> {
    match &op.kind {
        OpKind::BufferAdd { buffer, .. } | OpKind::BufferAddAll { buffer, .. } => vec![*buffer],
        OpKind::AddTo { place, .. } => vec![*place],
        OpKind::Pullback { args, .. } => args
            .iter()
            .filter_map(|a| match a {
                Arg::Mut(v) => Some(*v),
                _ => None,
            })
            .collect(),
        // The slot of a container the call wrote (`g(&mut v)`) is not only added into: the
        // callee's pullback turns the adjoint of what it wrote into that of what it read,
        // reading the buffer, which the later iterations' reverses must have filled first.
        OpKind::CallPullback { call, slots, .. } => (call.args.iter().zip(slots))
            .filter(|(arg, _)| !arg.pass.writes())
            .filter_map(|(_, s)| s.value())
            .collect(),
        _ => Vec::new(),
    }
}

/// Calls `f` on every op of `ops`, nested ones included, outer first.
fn walk(ops: &[Op], f: &mut impl FnMut(&Op)) {
    for op in ops {
        f(op);
        for inner in op.kind.blocks() {
            walk(&inner.ops, f);
        }
    }
}

/// Fuses the pairs of `block` and of its nested blocks; whether any fused.
fn fuse_block(block: &mut Block, pairs: &HashMap<Value, Value>, buffers: &HashSet<Value>) -> bool {
    let mut fused = false;
    for op in &mut block.ops {
        for inner in op.kind.blocks_mut() {
            fused |= fuse_block(inner, pairs, buffers);
        }
    }
    let mut p = 0;
    while p < block.ops.len() {
        let partner = index_arg(&block.ops[p])
            .and_then(|i| pairs.get(&i))
            .and_then(|&k| (p + 1..block.ops.len()).find(|&q| index_arg(&block.ops[q]) == Some(k)));
        if let Some(q) = partner
            && let Some(at) = try_fuse(block, p, q, buffers)
        {
            fused = true;
            // The fused body holds both loops' bodies: their inner pairs now share a block.
            for inner in block.ops[at].kind.blocks_mut() {
                fuse_block(inner, pairs, buffers);
            }
            p = at + 1;
        } else {
            p += 1;
        }
    }
    fused
}

/// The index argument of a `for` op.
pub(super) fn index_arg(op: &Op) -> Option<Value> {
    op.kind.as_loop().and_then(|l| l.index)
}

/// How the reverse loop carries one value.
pub(super) enum Carried {
    /// Yielded unchanged: every iteration sees the initial value.
    Invariant,
    /// Added to, and read nowhere else.
    Accumulated,
}

/// Fuses `block.ops[q]` (the reverse) into `block.ops[p]` (the forward loop) if it can;
/// returns the fused loop's position.
fn try_fuse(block: &mut Block, p: usize, q: usize, buffers: &HashSet<Value>) -> Option<usize> {
    let fusion = Fusion::plan(block, p, q, buffers)?;
    fusion.apply(block, p, q)
}

/// What fusing `F` and `R` takes, found before anything changes: every condition of the
/// module doc is checked first, so that a pair that cannot fuse leaves the block untouched.
struct Fusion {
    /// How `R` carries each of its values, by position among them.
    carried: Vec<(usize, Carried)>,
    /// The positions of the ops between `F` and `R` that `R` reads (through their operands):
    /// they must move before `F`, where `R`'s body will run.
    hoist: HashSet<usize>,
}

/// A forward loop `F` and its reverse `R`: `for` loops without early exits, `R`'s range
/// `F`'s reversed. What fusion and replay both start from.
pub(super) struct Pair<'a> {
    pub f_body: &'a Block,
    pub r_body: &'a Block,
    pub r_init: &'a [Value],
}

impl<'a> Pair<'a> {
    /// `block.ops[p]` and `block.ops[q]` as such a pair, if they are one.
    pub(super) fn of(block: &'a Block, p: usize, q: usize) -> Option<Pair<'a>> {
        let (
            OpKind::For {
                range: f_range,
                exits: false,
                trips: false,
                body: f_body,
                ..
            },
            OpKind::For {
                range: r_range,
                init: r_init,
                body: r_body,
                exits: false,
                trips: false,
                ..
            },
        ) = (&block.ops[p].kind, &block.ops[q].kind)
        else {
            return None;
        };
        reverses(block, f_range, r_range).then_some(Pair {
            f_body,
            r_body,
            r_init,
        })
    }
}

impl Fusion {
    /// The fusion of `block.ops[p]` (`F`) and `block.ops[q]` (`R`), if they meet the module
    /// doc's conditions.
    fn plan(block: &Block, p: usize, q: usize, buffers: &HashSet<Value>) -> Option<Fusion> {
        let Pair {
            f_body,
            r_body,
            r_init,
        } = Pair::of(block, p, q)?;
        let carried = carried_kinds(&block.ops[q])?;
        // Stashes: `F` pushes exactly what `R` pops.
        let (pushed, popped) = (stashes(&f_body.ops, true), stashes(&r_body.ops, false));
        if pushed != popped {
            return None;
        }
        let free = outside_reads(r_body, r_init, buffers)?;
        if !between_keeps_apart(&block.ops[p + 1..q], &free, &pushed, buffers) {
            return None;
        }
        let hoist = hoisted(block, p, q, free)?;
        Some(Fusion { carried, hoist })
    }

    /// Fuses: `[.., hoisted.., F+R, rest of p..q without the hoisted, ..]`; returns where
    /// `F+R` is.
    fn apply(self, block: &mut Block, p: usize, q: usize) -> Option<usize> {
        let reverse = block.ops.remove(q);
        let forward_index = index_arg(&block.ops[p])?;
        let (appended, after) = absorb(reverse, forward_index, self.carried)?;
        let at = hoist_before(block, p, self.hoist);
        appended.append_to(&mut block.ops[at]);
        // `R`'s invariant results are now its initial values, after the loop too.
        for op in &mut block.ops[at + 1..] {
            rename_op(op, &after);
        }
        for v in &mut block.yields {
            rename(v, &after);
        }
        Some(at)
    }
}

/// How `reverse` (`R`) carries each of its values, or `None` if one is neither invariant nor
/// an accumulation: that value would need the iterations in reverse order.
pub(super) fn carried_kinds(reverse: &Op) -> Option<Vec<(usize, Carried)>> {
    let r_loop = reverse.kind.as_loop()?;
    let uses = use_counts(r_loop.body);
    let mut carried = Vec::new();
    for (j, (&arg, &yielded)) in r_loop.carried.iter().zip(r_loop.next).enumerate() {
        let kind = if invariant(r_loop.body, arg, yielded) {
            Carried::Invariant
        } else if accumulated(r_loop.body, &uses, arg, yielded) {
            Carried::Accumulated
        } else {
            return None;
        };
        carried.push((j, kind));
    }
    Some(carried)
}

/// The outside values `R` reads (its range is `F`'s, at hand): its body's free values, then
/// its initial values; `None` if its body does more than add into the outside buffers, whose
/// other uses would see the additions of all iterations at once.
pub(super) fn outside_reads(
    r_body: &Block,
    r_init: &[Value],
    buffers: &HashSet<Value>,
) -> Option<Vec<Value>> {
    let mut inside = HashSet::new();
    defined(r_body, &mut inside);
    let mut free = Vec::new();
    free_values(r_body, &inside, &mut free);
    free.extend(r_init.iter().copied());
    if !adds_only(&r_body.ops, &|v| buffers.contains(v) && !inside.contains(v)) {
        return None;
    }
    Some(free)
}

/// Whether the ops `between` `F` and `R` can run after the fused loop: they only add into
/// the buffers `R` reads (`free`), whose reads would otherwise see `R`'s additions early,
/// and push and pop none of `F`'s stashes (`pushed`), whose order would otherwise change.
fn between_keeps_apart(
    between: &[Op],
    free: &[Value],
    pushed: &HashSet<usize>,
    buffers: &HashSet<Value>,
) -> bool {
    let shared: HashSet<Value> = free
        .iter()
        .copied()
        .filter(|v| buffers.contains(v))
        .collect();
    adds_only(between, &|v| shared.contains(v))
        && pushed.is_disjoint(&stashes(between, true))
        && pushed.is_disjoint(&stashes(between, false))
}

/// The positions of the ops of `block.ops[p..q]` that make what `R` reads (`free`), directly
/// or through their operands: they must move before `F`. `None` if one of them is `F` or
/// cannot move (not pure, or with regions).
fn hoisted(block: &Block, p: usize, q: usize, free: Vec<Value>) -> Option<HashSet<usize>> {
    let position: HashMap<Value, usize> = block.ops[p..q]
        .iter()
        .enumerate()
        .flat_map(|(at, op)| op.results.iter().map(move |&r| (r, p + at)))
        .collect();
    let mut hoist = HashSet::new();
    let mut stack = free;
    while let Some(v) = stack.pop() {
        let Some(&at) = position.get(&v) else {
            continue;
        };
        if !hoist.insert(at) {
            continue;
        }
        let op = &block.ops[at];
        if at == p || !hoistable(op) {
            return None;
        }
        stack.extend(op.kind.operands());
    }
    Some(hoist)
}

/// What `F` gains from `R`: `R`'s accumulations as more carried values (initial values,
/// body arguments, yields, loop results), and `R`'s body's ops after `F`'s.
#[derive(Default)]
struct Appended {
    init: Vec<Value>,
    args: Vec<Value>,
    ops: Vec<Op>,
    yields: Vec<Value>,
    results: Vec<Value>,
}

impl Appended {
    /// Makes the loop `fused` (`F`) run `R`'s body after its own in each iteration.
    fn append_to(self, fused: &mut Op) {
        fused.results.extend(self.results);
        if let OpKind::For {
            init,
            body,
            reserve,
            ..
        } = &mut fused.kind
        {
            init.extend(self.init);
            body.args.extend(self.args);
            body.ops.extend(self.ops);
            body.yields.extend(self.yields);
            // Each iteration pops what it pushed: the stacks never hold more than one.
            reserve.clear();
        }
    }
}

/// `R`'s body made to run in `F`'s iteration: its index renamed to `F`'s (`forward_index`),
/// each invariant carried value to its initial value (so are `R`'s results after the loop:
/// the returned renaming), each accumulation carried by `F` from now on.
fn absorb(
    reverse: Op,
    forward_index: Value,
    carried: Vec<(usize, Carried)>,
) -> Option<(Appended, HashMap<Value, Value>)> {
    let reverse_index = index_arg(&reverse)?;
    let OpKind::For {
        init: r_init,
        body: r_body,
        ..
    } = reverse.kind
    else {
        return None;
    };
    let mut substitute: HashMap<Value, Value> = HashMap::new();
    substitute.insert(reverse_index, forward_index);
    let mut after: HashMap<Value, Value> = HashMap::new();
    let mut appended = Appended::default();
    for (j, kind) in carried {
        match kind {
            Carried::Invariant => {
                substitute.insert(r_body.args[1 + j], r_init[j]);
                after.insert(reverse.results[j], r_init[j]);
            }
            Carried::Accumulated => {
                appended.init.push(r_init[j]);
                appended.args.push(r_body.args[1 + j]);
                appended.yields.push(r_body.yields[j]);
                appended.results.push(reverse.results[j]);
            }
        }
    }
    appended.ops = r_body.ops;
    for op in &mut appended.ops {
        rename_op(op, &substitute);
    }
    for v in &mut appended.yields {
        rename(v, &substitute);
    }
    Some((appended, after))
}

/// Moves the ops at `hoist` (positions between `F`, at `p`, and `R`) before `F`, in their
/// order; returns `F`'s new position.
fn hoist_before(block: &mut Block, p: usize, hoist: HashSet<usize>) -> usize {
    let mut moved: Vec<usize> = hoist.into_iter().collect();
    moved.sort_unstable();
    let mut hoisted = Vec::new();
    for &at in moved.iter().rev() {
        hoisted.push(block.ops.remove(at));
    }
    hoisted.reverse();
    let at = p + hoisted.len();
    block.ops.splice(p..p, hoisted);
    at
}

/// Whether `reverse` visits `forward`'s indices backwards: the same bounds, one of the two
/// reversed, no step.
pub(super) fn reverses(block: &Block, forward: &Range, reverse: &Range) -> bool {
    let rev = |r: &Range| match r.adaptors.as_slice() {
        [] => Some(false),
        [Adaptor::Rev] => Some(true),
        _ => None,
    };
    same(block, forward.start, reverse.start)
        && same(block, forward.end, reverse.end)
        && forward.inclusive == reverse.inclusive
        && matches!((rev(forward), rev(reverse)), (Some(a), Some(b)) if a != b)
}

/// Whether `a` and `b` are the same value, or equal literals of `block`, or the lengths of
/// the same container version (a reverse region recomputes the bounds of its loops). A
/// version's length is fixed: every op that changes a container's length (a push, a whole
/// assignment) makes a new version; and the reverse sweep recomputes a `len` only of a
/// container never changed after it (`plan::Cost::is_cheap`).
fn same(block: &Block, a: Value, b: Value) -> bool {
    let made = |v: Value| {
        block
            .ops
            .iter()
            .find(|op| op.results == [v])
            .map(|op| &op.kind)
    };
    let literal = |v: Value| match made(v) {
        Some(OpKind::Lit(lit)) => Some(quote::ToTokens::to_token_stream(lit).to_string()),
        _ => None,
    };
    let length = |v: Value| match made(v) {
        Some(OpKind::Len(container)) => Some(*container),
        _ => None,
    };
    a == b
        || literal(a).is_some_and(|a| literal(b) == Some(a))
        || length(a).is_some_and(|a| length(b) == Some(a))
}

/// Whether `yielded` is `arg` passed through unchanged: directly, or as the result of `add`'s
/// rule (both adjoints are the cotangent) or the first of `sub`'s.
fn invariant(body: &Block, arg: Value, yielded: Value) -> bool {
    let mut v = yielded;
    for _ in 0..=body.ops.len() {
        if v == arg {
            return true;
        }
        let Some(op) = body.ops.iter().find(|op| op.results.contains(&v)) else {
            return false;
        };
        let position = op.results.iter().position(|&r| r == v);
        match (&op.kind, position) {
            (
                OpKind::Pullback {
                    rule: Rule::Runtime("add"),
                    args,
                },
                Some(0 | 1),
            )
            | (
                OpKind::Pullback {
                    rule: Rule::Runtime("sub"),
                    args,
                },
                Some(0),
            ) => match args.last() {
                Some(Arg::Value(dy)) => v = *dy,
                _ => return false,
            },
            _ => return false,
        }
    }
    false
}

/// Whether `yielded` is `arg` plus contributions: from `arg`, each value's one use is an
/// `add` at the top of `body`, up to `yielded`. (Nothing else reads `arg` or a partial sum,
/// so no contribution depends on them.)
fn accumulated(body: &Block, uses: &HashMap<Value, usize>, arg: Value, yielded: Value) -> bool {
    let mut v = arg;
    for _ in 0..=body.ops.len() {
        if uses.get(&v).copied() != Some(1) {
            return false;
        }
        if v == yielded {
            return true;
        }
        let next = body.ops.iter().find(|op| op.kind.operands().contains(&v));
        match next {
            Some(Op {
                kind: OpKind::Prim(prim, operands),
                results,
                ..
            }) if prim.name == "add" && operands.len() == 2 && results.len() == 1 => {
                v = results[0];
            }
            _ => return false,
        }
    }
    false
}

/// How many times each value is read in `block` (nested blocks and yields included).
fn use_counts(block: &Block) -> HashMap<Value, usize> {
    let mut counts = HashMap::new();
    count_uses(block, &mut counts);
    counts
}

fn count_uses(block: &Block, counts: &mut HashMap<Value, usize>) {
    for op in &block.ops {
        for v in op.kind.operands() {
            *counts.entry(v).or_default() += 1;
        }
        for inner in op.kind.blocks() {
            count_uses(inner, counts);
        }
    }
    for &v in &block.yields {
        *counts.entry(v).or_default() += 1;
    }
}

/// The stashes pushed (`push`) or popped (`!push`) anywhere in `ops`.
pub(super) fn stashes(ops: &[Op], push: bool) -> HashSet<usize> {
    let mut out = HashSet::new();
    walk(ops, &mut |op| match op.kind {
        OpKind::Push { stash, .. } if push => {
            out.insert(stash);
        }
        OpKind::Pop { stash } if !push => {
            out.insert(stash);
        }
        _ => {}
    });
    out
}

/// The values defined in `block`: its arguments and its ops' results, nested ones included.
pub(super) fn defined(block: &Block, out: &mut HashSet<Value>) {
    out.extend(&block.args);
    for op in &block.ops {
        out.extend(&op.results);
        for inner in op.kind.blocks() {
            defined(inner, out);
        }
    }
}

/// The values `block` reads that it does not define.
pub(super) fn free_values(block: &Block, inside: &HashSet<Value>, out: &mut Vec<Value>) {
    let mut reads = Vec::new();
    walk(&block.ops, &mut |op| reads.extend(op.kind.operands()));
    fn yields(block: &Block, out: &mut Vec<Value>) {
        out.extend(&block.yields);
        for op in &block.ops {
            for inner in op.kind.blocks() {
                yields(inner, out);
            }
        }
    }
    yields(block, &mut reads);
    out.extend(reads.into_iter().filter(|v| !inside.contains(v)));
}

/// Whether `ops` use the buffers `shared` only by adding into them.
fn adds_only(ops: &[Op], shared: &impl Fn(&Value) -> bool) -> bool {
    let mut ok = true;
    walk(ops, &mut |op| {
        let mut operands = op.kind.operands();
        for added in added_into(op) {
            if let Some(i) = operands.iter().position(|&v| v == added) {
                operands.swap_remove(i);
            }
        }
        ok &= !operands.iter().any(shared);
    });
    ok
}

/// Ops that can move before `F`: pure, and without regions.
fn hoistable(op: &Op) -> bool {
    match &op.kind {
        OpKind::Lit(_)
        | OpKind::Path(_)
        | OpKind::Prim(..)
        | OpKind::ZeroLike(_)
        | OpKind::Buffer(_)
        | OpKind::Placeholder
        | OpKind::Cast(..)
        | OpKind::Unary(..)
        | OpKind::Binary(..)
        | OpKind::Field(..)
        | OpKind::Len(_)
        | OpKind::Count(_)
        | OpKind::Shape(_) => true,
        // A rule adding into buffers writes them.
        OpKind::Pullback { args, .. } => !args.iter().any(|a| matches!(a, Arg::Mut(_))),
        _ => false,
    }
}

fn rename(v: &mut Value, map: &HashMap<Value, Value>) {
    if let Some(&to) = map.get(v) {
        *v = to;
    }
}

/// Renames the values `op` reads, in its nested blocks too.
pub(super) fn rename_op(op: &mut Op, map: &HashMap<Value, Value>) {
    if map.is_empty() {
        return;
    }
    op.kind.operands_mut(&mut |v| rename(v, map));
    for inner in op.kind.blocks_mut() {
        for inner_op in &mut inner.ops {
            rename_op(inner_op, map);
        }
        for v in &mut inner.yields {
            rename(v, map);
        }
    }
}
