//! The forward sweep: the primal ops, with the same value numbers, plus what the reverse
//! sweep asked to keep from inside regions, recorded in a [`Plan`] per region op while the
//! reverse sweep was built.
//!
//! Before: `%s.4 = for %2..%n.1 init(%s.0) |%i.3, %s.5| { %s.6 = mul %s.5, %x.0; yield %s.6 }`
//! After:  `%s.4 = for %2..%n.1 init(%s.0) reserve @0 |%i.3, %s.5| {
//!             %s.6 = mul %s.5, %x.0; push @0 %s.5; yield %s.6 }`

use super::Sweep;
use crate::ir::{Block, Op, OpKind, Value};

/// What the forward sweep adds to one region op.
#[derive(Default)]
pub(super) struct Plan {
    /// The trip count to record, as a new last result of a loop.
    pub trips: Option<Value>,
    /// Ops to append to each region (by position in `OpKind::blocks`): the pushes.
    pub pushes: Vec<Vec<Op>>,
    /// The stashes to reserve the trip count in before a `for` loop.
    pub reserve: Vec<usize>,
    /// A call whose pullback the reverse sweep calls with the same arguments.
    pub passed_again: bool,
    /// A `#[checkpoint]` loop: run as written, nothing kept from inside it (its reverse
    /// recomputes its iterations, `checkpoint.rs`).
    pub plain: bool,
}

impl Plan {
    pub fn pushes_mut(&mut self, region: usize) -> &mut Vec<Op> {
        if self.pushes.len() <= region {
            self.pushes.resize_with(region + 1, Vec::new);
        }
        &mut self.pushes[region]
    }
}

impl Sweep<'_> {
    /// The forward copy of a primal region, with `extra` ops appended.
    pub(super) fn forward_block(&self, block: &Block, extra: Vec<Op>) -> Block {
        let mut ops: Vec<Op> = block.ops.iter().map(|op| self.forward_op(op)).collect();
        ops.extend(extra);
        Block {
            args: block.args.clone(),
            ops,
            yields: block.yields.clone(),
        }
    }

    fn forward_op(&self, op: &Op) -> Op {
        let plan = self.plans.get(&op.id);
        let mut copy = op.clone();
        let regions = match plan {
            Some(plan) if plan.plain => Vec::new(),
            _ => op.kind.blocks(),
        };
        for (i, (region, original)) in copy.kind.blocks_mut().into_iter().zip(regions).enumerate() {
            let extra = plan
                .and_then(|p| p.pushes.get(i))
                .cloned()
                .unwrap_or_default();
            *region = self.forward_block(original, extra);
        }
        if let Some(plan) = plan {
            if let OpKind::For { trips, reserve, .. } = &mut copy.kind {
                reserve.clone_from(&plan.reserve);
                *trips = plan.trips.is_some();
            }
            if let OpKind::Loop { trips, .. } = &mut copy.kind {
                *trips = plan.trips.is_some();
            }
            copy.results.extend(plan.trips);
            if let OpKind::Call(call) = &mut copy.kind {
                call.passed_again = plan.passed_again;
            }
        }
        copy
    }
}
