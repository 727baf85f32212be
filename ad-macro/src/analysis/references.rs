//! References to floats are the floats.
//!
//! Rust code reads floats through references all the time: `*v` of an element, `**v` in a
//! `filter` closure, `&best` handed to a comparison. The generated code holds every float that
//! depends on an active parameter as a value, so `&v` and `*v` of one are the value itself:
//! this pass removes those ops before activity analysis, and the later stages never see a
//! reference to a varied float. A shared reference to a container or a parameter struct stays
//! (it is how they are passed), and so does `&mut v` of a float, which the activity analysis
//! refuses (writing through it is not modeled).
//!
//! Before: `%r = ref %v; %d = deref %r; %y = mul %d, %d`
//! After:  `%y = mul %v, %v`

use std::collections::HashMap;

use super::activity::{is_struct_base, varied};
use crate::ir::{Block, Func, OpKind, UnOp, Value};
use crate::signature::Signature;

/// Removes `&v` and `*v` of every varied float of `func`, and `*v` of every value the
/// generated code holds as a value where Rust had a reference (an integer element or index
/// bound by a closure's pattern, `filter(|(i, _)| *i > 0)`), its uses reading `v` instead.
pub fn see_through(func: &mut Func, sig: &Signature) {
    let varied = varied(func, sig);
    let mut values = vec![false; func.values.len()];
    plain_values(&func.body, &mut values);
    let mut same = HashMap::new();
    find(func, &func.body, sig, &varied, &values, &mut same);
    if same.is_empty() {
        return;
    }
    remove(&mut func.body, &same);
    func.number_ops();
}

/// Records `result -> operand` for each reference op to see through.
fn find(
    func: &Func,
    block: &Block,
    sig: &Signature,
    varied: &[bool],
    values: &[bool],
    same: &mut HashMap<Value, Value>,
) {
    for op in &block.ops {
        for inner in op.kind.blocks() {
            find(func, inner, sig, varied, values, same);
        }
        if let (OpKind::Unary(UnOp::Deref, v), [result]) = (&op.kind, &op.results[..])
            && values[v.index()]
        {
            same.insert(*result, *v);
            continue;
        }
        let operand = match &op.kind {
            OpKind::Ref {
                mutable: false,
                value,
            }
            | OpKind::Unary(UnOp::Deref, value) => *value,
            _ => continue,
        };
        let float = func.storage(operand).is_none() && !is_struct_base(func, sig, operand);
        if varied[operand.index()]
            && float
            && let [result] = op.results[..]
        {
            same.insert(result, operand);
        }
    }
}

/// Marks the values that are certainly not references in the generated code: literals,
/// arithmetic, comparisons, casts, lengths, an element read by indexing (a copy), the index of
/// a `for`, and what a pattern binds of one of those.
fn plain_values(block: &Block, values: &mut [bool]) {
    for op in &block.ops {
        if let OpKind::For { body, .. } = &op.kind
            && let Some(index) = body.args.first()
        {
            values[index.index()] = true;
        }
        for inner in op.kind.blocks() {
            plain_values(inner, values);
        }
        let plain = match &op.kind {
            OpKind::Lit(_)
            | OpKind::Prim(..)
            | OpKind::Binary(..)
            | OpKind::Cast(..)
            | OpKind::Len(_)
            | OpKind::Count(_) => true,
            OpKind::Unary(UnOp::Not, _) | OpKind::Index(..) => true,
            // A pattern matched against a value binds values (`match sh { S { i } => .. }`
            // with `sh` an element: `i` is `&usize` in Rust, `usize` here).
            OpKind::Bind { scrutinee, .. } => values[scrutinee.index()],
            _ => false,
        };
        if plain {
            for r in &op.results {
                values[r.index()] = true;
            }
        }
    }
}

/// Drops the ops of `same` and renames their results, through chains (`**v`).
fn remove(block: &mut Block, same: &HashMap<Value, Value>) {
    let resolve = |v: &mut Value| {
        while let Some(&to) = same.get(v) {
            *v = to;
        }
    };
    block
        .ops
        .retain(|op| !op.results.first().is_some_and(|r| same.contains_key(r)));
    for op in &mut block.ops {
        op.kind.operands_mut(&mut |v| resolve(v));
        for inner in op.kind.blocks_mut() {
            remove(inner, same);
        }
    }
    block.yields.iter_mut().for_each(resolve);
}
