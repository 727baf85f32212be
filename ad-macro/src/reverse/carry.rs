//! Carried adjoints: in a fused loop counting up by one, what an iteration adds to a buffer's
//! elements ahead of it (`dx[i + 1]`) is carried to the iteration that owns the element, in a
//! register, and each iteration writes its own element (`dx[i]`) once.
//!
//! Why: a fused loop (`fuse.rs`) adds into `dx[i]` and `dx[i + 1]` in every iteration. LLVM's
//! SLP vectorizer may pair the two read-modify-writes into one 16-byte load and store, and the
//! next iteration's 8-byte load of `dx[i + 1]`, the upper half of that store, waits for the
//! store to retire (it is not forwarded): about 20 cycles per iteration, the Rosenbrock
//! gradient at three times the hand-written one. The hand-written adjoint carries `x[i + 1]`'s
//! share in a register; this pass makes the fused loop do the same.
//!
//! Before (a buffer `dx` made outside the loop, touched in the body only by these adds):
//! ```text
//! for %a..%b |%i| { ..; buffer_add %dx, %i, %u; %j = add %i, 1; buffer_add %dx, %j, %v; .. }
//! ```
//! After (`%c`: the share of `dx[i]` from the iterations before; a zero at first):
//! ```text
//! %z = placeholder
//! %r = for %a..%b init(%z) |%i, %c| { ..; %t = add %c, %u; ..; buffer_add %dx, %i, %t; yield %v }
//! if %a < %b { buffer_add %dx, %b, %r }
//! ```
//!
//! The element's sum is formed in the order the adds ran (the earliest iteration's share first),
//! so into a zeroed buffer the gradient is the same, bit for bit; into a caller's buffer
//! (`f_grad_into`'s, a pullback's slot) its old value is added last instead of first.

use std::collections::{HashMap, HashSet};

use proc_macro2::Span;

use crate::ir::{BinOp, Block, Func, Literal, Op, OpKind, Value, same_arithmetic};
use crate::prims;

/// Carries the adjoints of every eligible loop of `func`.
pub fn carry_adjoints(func: &mut Func) {
    let mut lits = HashMap::new();
    integer_literals(&func.body, &mut lits);
    let mut body = std::mem::take(&mut func.body);
    rewrite_loops(func, &mut body, &mut |func, op| carry_loop(func, op, &lits));
    func.body = body;
}

/// The value of each `lit` op giving a non-negative integer.
fn integer_literals(block: &Block, out: &mut HashMap<Value, usize>) {
    for op in &block.ops {
        if let OpKind::Lit(Literal::Token(lit)) = &op.kind {
            let text = lit.to_string();
            let digits = text.trim_end_matches("usize");
            if let (Ok(k), [result]) = (digits.parse::<usize>(), &op.results[..]) {
                out.insert(*result, k);
            }
        }
        for inner in op.kind.blocks() {
            integer_literals(inner, out);
        }
    }
}

/// The ops a loop rewrite puts before and after the loop it rewrote.
type Around = (Vec<Op>, Vec<Op>);

/// Applies `rewrite` to every op of `block` and its nested blocks, inner loops first, as
/// often as it applies (each time to one buffer: the rewrite moves the body's ops, so the
/// loop is looked at again). Whether anything changed.
fn rewrite_loops(
    func: &mut Func,
    block: &mut Block,
    rewrite: &mut impl FnMut(&mut Func, &mut Op) -> Option<Around>,
) -> bool {
    let mut changed = false;
    let mut at = 0;
    while at < block.ops.len() {
        for inner in block.ops[at].kind.blocks_mut() {
            changed |= rewrite_loops(func, inner, rewrite);
        }
        while let Some((before, after)) = rewrite(func, &mut block.ops[at]) {
            changed = true;
            block.ops.splice(at + 1..at + 1, after);
            let ahead = before.len();
            block.ops.splice(at..at, before);
            at += ahead;
        }
        at += 1;
    }
    changed
}

/// A buffer whose adds the pass moves: where they are (op positions in the body) and each
/// one's offset from the index.
struct Carried {
    buffer: Value,
    adds: Vec<(usize, usize)>,
    /// The largest offset: how many shares are carried.
    ahead: usize,
}

/// Rewrites `op` if it is an eligible loop: the ops to put before and after it.
fn carry_loop(func: &mut Func, op: &mut Op, lits: &HashMap<Value, usize>) -> Option<Around> {
    let span = op.span;
    let OpKind::For {
        range,
        init,
        body,
        exits: false,
        trips: false,
        ..
    } = &mut op.kind
    else {
        return None;
    };
    if !range.adaptors.is_empty() || range.inclusive {
        return None;
    }
    let c = eligible(body, lits)?;
    let (start, end) = (range.start, range.end);
    let index = body.args[0];
    let (mut before, mut after) = (Vec::new(), Vec::new());
    // shares[j]: the sum so far of what goes to `buffer[i + j]` (shares[0]: from the
    // iterations before, then this one's).
    let args: Vec<Value> = (0..c.ahead).map(|_| func.new_value(None)).collect();
    let mut shares: Vec<Option<Value>> = args.iter().copied().map(Some).collect();
    shares.push(None);
    let mut replaced: HashMap<usize, Option<Op>> = HashMap::new();
    for &(position, offset) in &c.adds {
        let OpKind::BufferAdd { value, .. } = body.ops[position].kind else {
            continue;
        };
        let sum = match shares[offset] {
            Some(so_far) => {
                let sum = func.new_value(None);
                let add = OpKind::Prim(prims::add(), vec![so_far, value]);
                replaced.insert(position, Some(Op::new(vec![sum], add, span)));
                sum
            }
            None => {
                replaced.insert(position, None);
                value
            }
        };
        shares[offset] = Some(sum);
    }
    let ops = std::mem::take(&mut body.ops);
    for (position, old) in ops.into_iter().enumerate() {
        match replaced.remove(&position) {
            Some(new) => body.ops.extend(new),
            None => body.ops.push(old),
        }
    }
    if let Some(own) = shares[0] {
        let add = OpKind::BufferAdd {
            buffer: c.buffer,
            index,
            value: own,
        };
        body.ops.push(Op::new(Vec::new(), add, span));
    }
    body.args.extend(&args);
    body.yields.extend(shares[1..].iter().flatten());
    let results: Vec<Value> = (0..c.ahead).map(|_| func.new_value(None)).collect();
    for _ in 0..c.ahead {
        let zero = func.new_value(None);
        before.push(Op::new(vec![zero], OpKind::Placeholder, span));
        init.push(zero);
    }
    op.results.extend(&results);
    // What the last iterations carried goes to the elements past the range, if it ran.
    if c.ahead > 0 {
        let mut then = Block::default();
        for (j, &share) in results.iter().enumerate() {
            let element = match j {
                0 => end,
                _ => {
                    let (lit, element) = (func.new_value(None), func.new_value(None));
                    let k = OpKind::Lit(Literal::int(j, Span::call_site()));
                    then.ops.push(Op::new(vec![lit], k, span));
                    let add = OpKind::Prim(prims::add(), vec![end, lit]);
                    then.ops.push(Op::new(vec![element], add, span));
                    element
                }
            };
            let add = OpKind::BufferAdd {
                buffer: c.buffer,
                index: element,
                value: share,
            };
            then.ops.push(Op::new(Vec::new(), add, span));
        }
        after.extend(if_it_ran(func, (start, end, false), then, span));
    }
    Some((before, after))
}

/// The buffers of `body` (a loop body whose first argument is its index) that the pass can
/// carry: made outside the body, and touched in it only by adds at its top level to
/// `index + k` for literal `k`; with something to gain (an element ahead, or several adds).
/// Only the first (by value): the rewrite moves ops, so the loop is looked at again.
fn eligible(body: &Block, lits: &HashMap<Value, usize>) -> Option<Carried> {
    let index = body.args[0];
    let mut offsets: HashMap<Value, usize> = HashMap::from([(index, 0)]);
    for op in &body.ops {
        if let (OpKind::Prim(prim, operands), [result]) = (&op.kind, &op.results[..])
            && prim.name == "add"
        {
            match operands[..] {
                [a, b] if a == index && lits.contains_key(&b) => {
                    offsets.insert(*result, lits[&b]);
                }
                [a, b] if b == index && lits.contains_key(&a) => {
                    offsets.insert(*result, lits[&a]);
                }
                _ => {}
            }
        }
    }
    let mut adds: HashMap<Value, Vec<(usize, usize)>> = HashMap::new();
    let mut other = HashSet::new();
    let mut defined: HashSet<Value> = body.args.iter().copied().collect();
    for (position, op) in body.ops.iter().enumerate() {
        defined.extend(&op.results);
        match &op.kind {
            OpKind::BufferAdd {
                buffer,
                index,
                value,
            } if offsets.contains_key(index) => {
                adds.entry(*buffer)
                    .or_default()
                    .push((position, offsets[index]));
                other.insert(*value);
            }
            kind => {
                other.extend(kind.operands());
                for inner in kind.blocks() {
                    mentioned(inner, &mut other, &mut defined);
                }
            }
        }
    }
    other.extend(&body.yields);
    adds.into_iter()
        .filter(|(buffer, _)| !other.contains(buffer) && !defined.contains(buffer))
        .map(|(buffer, adds)| {
            let ahead = adds.iter().map(|&(_, k)| k).max().unwrap_or(0);
            Carried {
                buffer,
                adds,
                ahead,
            }
        })
        .filter(|c| c.ahead > 0 || c.adds.len() > 1)
        .min_by_key(|c| c.buffer)
}

/// Every value `block` and its nested blocks read, and every value they define.
fn mentioned(block: &Block, read: &mut HashSet<Value>, defined: &mut HashSet<Value>) {
    defined.extend(&block.args);
    read.extend(&block.yields);
    for op in &block.ops {
        defined.extend(&op.results);
        read.extend(op.kind.operands());
        for inner in op.kind.blocks() {
            mentioned(inner, read, defined);
        }
    }
}

/// Sums in a register what a loop's iterations add to one element of a buffer (the same
/// element in every iteration: `dmean[c]` in a loop over a row's entries), and adds the sum to
/// the element once after the loop, if it ran. Whether anything changed.
///
/// Why: a read-modify-write of one address in every iteration is a chain through memory (the
/// next load waits for the store to forward, about 5 cycles on top of the add), and LLVM keeps
/// it in memory because it cannot tell the buffer from the others the loop writes. The
/// hand-written adjoint keeps the sum in a local; this pass does the same.
///
/// Before (`%k` made outside the loop, or from outside values by integer arithmetic):
/// ```text
/// for %a..%b |%j| { ..; buffer_add %dm, %k, %u; .. }
/// ```
/// After:
/// ```text
/// %z = placeholder
/// %s = for %a..%b init(%z) |%j, %c| { ..; %t = add %c, %u; ..; yield %t }
/// if %a < %b { buffer_add %dm, %k, %s }
/// ```
///
/// The element gets the loop's sum in one add instead of one add per iteration: the same
/// value but for rounding, as with fusion.
pub fn promote_invariant_adds(func: &mut Func) -> bool {
    let mut body = std::mem::take(&mut func.body);
    let changed = rewrite_loops(func, &mut body, &mut promote_loop);
    func.body = body;
    changed
}

/// Rewrites `op` if it is a loop adding to one element of a buffer: the ops to put before
/// and after it.
fn promote_loop(func: &mut Func, op: &mut Op) -> Option<Around> {
    let span = op.span;
    let OpKind::For {
        range,
        init,
        body,
        exits: false,
        trips: false,
        ..
    } = &mut op.kind
    else {
        return None;
    };
    let (buffer, element, adds) = invariant_adds(body)?;
    let (start, end, inclusive) = (range.start, range.end, range.inclusive);
    let arg = func.new_value(None);
    let mut sum = arg;
    for &position in &adds {
        let OpKind::BufferAdd { value, .. } = body.ops[position].kind else {
            continue;
        };
        let next = func.new_value(None);
        let add = OpKind::Prim(prims::add(), vec![sum, value]);
        body.ops[position] = Op::new(vec![next], add, span);
        sum = next;
    }
    body.args.push(arg);
    body.yields.push(sum);
    let zero = func.new_value(None);
    init.push(zero);
    let result = func.new_value(None);
    op.results.push(result);
    let before = vec![Op::new(vec![zero], OpKind::Placeholder, span)];
    // The element's index again after the loop, from the outside values it is made of.
    let mut then = Block::default();
    let index = copy_outside(func, &element, &mut then.ops);
    let add = OpKind::BufferAdd {
        buffer,
        index,
        value: result,
    };
    then.ops.push(Op::new(Vec::new(), add, span));
    let after = if_it_ran(func, (start, end, inclusive), then, span);
    Some((before, after))
}

/// `if start < end { then }` (`<=` for an inclusive range): `then` after a loop over the range,
/// if it ran.
fn if_it_ran(
    func: &mut Func,
    (start, end, inclusive): (Value, Value, bool),
    then: Block,
    span: Span,
) -> Vec<Op> {
    let ran = func.new_value(None);
    let compare = if inclusive { BinOp::Le } else { BinOp::Lt };
    let kind = OpKind::If {
        cond: ran,
        then,
        els: Block::default(),
    };
    vec![
        Op::new(vec![ran], OpKind::Binary(compare, start, end), span),
        Op::new(Vec::new(), kind, span),
    ]
}

/// How a loop body computes an index from values made outside it: the ops, the index last
/// (none when the index itself is made outside).
struct Element {
    index: Value,
    ops: Vec<Op>,
}

/// The first buffer (by value) that `body` touches only by top-level adds to one element
/// whose index the body computes from outside values by integer arithmetic (or takes from
/// outside): the buffer, the element, and the adds' positions.
fn invariant_adds(body: &Block) -> Option<(Value, Element, Vec<usize>)> {
    let defined_at: HashMap<Value, usize> = (body.ops.iter().enumerate())
        .flat_map(|(k, op)| op.results.iter().map(move |&r| (r, k)))
        .collect();
    let mut adds: HashMap<Value, Vec<usize>> = HashMap::new();
    let mut other = HashSet::new();
    let mut defined: HashSet<Value> = body.args.iter().copied().collect();
    for (position, op) in body.ops.iter().enumerate() {
        defined.extend(&op.results);
        match &op.kind {
            OpKind::BufferAdd { buffer, value, .. } => {
                adds.entry(*buffer).or_default().push(position);
                other.insert(*value);
            }
            kind => {
                other.extend(kind.operands());
                for inner in kind.blocks() {
                    mentioned(inner, &mut other, &mut defined);
                }
            }
        }
    }
    other.extend(&body.yields);
    let mut candidates: Vec<(Value, Vec<usize>)> = (adds.into_iter())
        .filter(|(buffer, _)| !other.contains(buffer) && !defined.contains(buffer))
        .collect();
    candidates.sort_by_key(|(buffer, _)| *buffer);
    candidates.into_iter().find_map(|(buffer, positions)| {
        let index_of = |position: usize| match body.ops[position].kind {
            OpKind::BufferAdd { index, .. } => Some(index),
            _ => None,
        };
        let first = index_of(*positions.first()?)?;
        let element = outside(body, &defined_at, first)?;
        let same = positions[1..].iter().all(|&p| {
            index_of(p).is_some_and(|i| {
                let def = |v| defined_at.get(&v).map(|&k| &body.ops[k]);
                same_arithmetic(i, first, &def, &|v| !body.args.contains(&v))
            })
        });
        same.then_some((buffer, element, positions))
    })
}

/// `index` as arithmetic on values made outside `body`: `None` if it depends on anything
/// the body makes otherwise (the loop index, a load, a carried value).
fn outside(body: &Block, defined_at: &HashMap<Value, usize>, index: Value) -> Option<Element> {
    if body.args.contains(&index) {
        return None;
    }
    let Some(&at) = defined_at.get(&index) else {
        return Some(Element {
            index,
            ops: Vec::new(),
        });
    };
    let op = &body.ops[at];
    let pure = match &op.kind {
        OpKind::Lit(_) => true,
        OpKind::Prim(prim, _) => matches!(prim.name, "add" | "sub" | "mul"),
        _ => false,
    };
    if !pure || op.results.len() != 1 {
        return None;
    }
    let mut ops = Vec::new();
    for u in op.kind.operands() {
        ops.extend(outside(body, defined_at, u)?.ops);
    }
    ops.push(op.clone());
    Some(Element { index, ops })
}

/// Copies the ops of `element` (fresh results) into `out`: the index's value there.
fn copy_outside(func: &mut Func, element: &Element, out: &mut Vec<Op>) -> Value {
    let mut copies = HashMap::new();
    for op in &element.ops {
        let [result] = op.results[..] else {
            continue;
        };
        if copies.contains_key(&result) {
            continue;
        }
        let mut copy = op.clone();
        copy.kind.operands_mut(&mut |u| {
            if let Some(&c) = copies.get(u) {
                *u = c;
            }
        });
        let fresh = func.new_value(None);
        copy.results = vec![fresh];
        copies.insert(result, fresh);
        out.push(copy);
    }
    copies.get(&element.index).copied().unwrap_or(element.index)
}
