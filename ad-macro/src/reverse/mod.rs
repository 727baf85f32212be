//! Reverse mode: a primal [`Func`] → its adjoint program, another `Func` of the same IR.
//!
//! The adjoint program takes the primal parameters and a `seed` (the output's cotangent) and
//! yields the primal output followed by the adjoint of each active parameter. Its body is
//!
//! 1. the **forward sweep**: the primal ops, unchanged and with the same value numbers, plus
//!    what the reverse sweep needs kept from inside regions (`push`es at the end of a region,
//!    the trip count of a loop; `forward.rs`);
//! 2. the **reverse sweep**: the active ops in reverse order, each replaced by a call of its
//!    rule, `(da, db) = pullback mul a, b, y, dy`, whose results are added into the operands'
//!    adjoints; an `if` by an `if` on the same condition whose arms are the reversed arms; a
//!    loop by a loop running its iterations backwards (`regions.rs`).
//!
//! Adjoints are SSA values too. The first contribution to a value's adjoint *is* its adjoint;
//! each later one (fan-out: the value had several uses) adds to it, `dx.2 = add dx.1, dx.0`,
//! the accumulation at shared inputs of reverse mode. A value with no contribution needs no zero:
//! activity analysis left only values that reach the output, so the zeros are the adjoints of
//! active parameters the output does not depend on, of an unused result of a multi-result
//! primitive, and of a variable on the path a branch did not take.
//!
//! Before (`y = sin(x * x)`):
//! ```text
//! %s.1 = mul %x.0, %x.0
//! %y.2 = sin %s.1
//! ```
//! After (a rule's unread arguments are replaced by an adjoint, here `sin` reads only `x`):
//! ```text
//! %s.1 = mul %x.0, %x.0
//! %y.2 = sin %s.1
//! %ds.4 = pullback sin %s.1, %seed.3, %seed.3
//! %dx.5, %dx.6 = pullback mul %x.0, %x.0, %ds.4, %ds.4
//! %dx.7 = add %dx.5, %dx.6
//! yield %y.2, %dx.7
//! ```

mod carry;
mod checkpoint;
mod containers;
mod forward;
mod fuse;
mod plan;
mod regions;
mod replay;

pub use carry::{carry_adjoints, promote_invariant_adds};
pub use fuse::fuse;
pub use replay::replay_recurrences;

use std::collections::{HashMap, HashSet};

use proc_macro2::{Ident, Span};

use crate::analysis::activity::is_struct;
use crate::ir::{
    Activity, Arg, Block, Call, CallArg, Func, Member, Number, Op, OpId, OpKind, Param, Pass, Seed,
    Slot, Through, Value,
};
use crate::prims::{self, Derivative, Operand};
use crate::signature::{Output, Signature};

/// Builds the adjoint program of `primal`. Its parameters are the primal's, then the
/// cotangent of the returned value (`seed`, unless the function returns `()`), then one per
/// `&mut` output (`seed_<name>`). It yields the returned value(s), then the gradient of each
/// active parameter.
pub fn differentiate(primal: &Func, activity: &Activity, sig: &Signature, seed: Ident) -> Func {
    let mut snapshotted = primal.clone();
    let mut activity = activity.clone();
    containers::snapshot_operands(&mut snapshotted, &mut activity);
    let checkpoint_copies = checkpoint::checkpoint_copies(&mut snapshotted);
    let primal = &snapshotted;
    let mut func = primal.clone();
    func.name = format!("{}_vjp", primal.name);
    let returned = match &sig.output {
        Output::Unit => 0,
        Output::Tuple(types) => types.len(),
        _ => 1,
    };
    let seeds = Seeds::params(&mut func, primal, sig, seed, returned);
    let mut sweep = Sweep::new(primal, activity, sig, func);
    sweep.checkpoint_copies = checkpoint_copies;
    sweep.seed_outputs(&seeds, returned);
    sweep.reverse_block(&primal.body);
    let yields = sweep.gradient_yields(returned);
    sweep.assemble(yields)
}

/// The cotangent parameters of the adjoint program, which start the reverse sweep.
struct Seeds {
    /// The returned value's (`None` when the function returns `()`).
    returned: Option<Value>,
    /// The `&mut` outputs': (parameter, its final version, its cotangent).
    outputs: Vec<(Value, Value, Value)>,
}

impl Seeds {
    /// Adds the cotangent parameters to `func` (the adjoint program): `seed` for the
    /// `returned` values, then `seed_<name>` for each `&mut` output, whose final version is
    /// one of the primal's yields after the returned ones.
    fn params(
        func: &mut Func,
        primal: &Func,
        sig: &Signature,
        seed: Ident,
        returned: usize,
    ) -> Seeds {
        let seed_value = (returned > 0).then(|| {
            let value = func.new_value(Some("seed".into()));
            func.params.push(Param {
                value,
                ident: Some(seed),
                offsets: None,
            });
            value
        });
        let mut outputs = Vec::new();
        for ((param, sig_param), &last) in primal
            .params
            .iter()
            .zip(&sig.params)
            .filter(|(_, p)| p.is_output())
            .zip(&primal.body.yields[returned..])
        {
            let name = sig_param
                .ident
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default();
            let value = func.new_value(Some(format!("seed_{name}")));
            let ident = quote::format_ident!("seed_{}", name, span = Span::mixed_site());
            func.params.push(Param {
                value,
                ident: Some(ident),
                offsets: None,
            });
            outputs.push((param.value, last, value));
        }
        Seeds {
            returned: seed_value,
            outputs,
        }
    }
}

impl<'a> Sweep<'a> {
    /// A sweep over `primal` building the adjoint program `func`, no adjoint known yet.
    fn new(primal: &'a Func, activity: Activity, sig: &'a Signature, func: Func) -> Self {
        Sweep {
            primal,
            active_storages: containers::active_storages(primal, &activity),
            activity,
            sig,
            func,
            adjoints: Adjoints::default(),
            out: Vec::new(),
            contexts: Vec::new(),
            plans: HashMap::new(),
            buffers: HashMap::new(),
            buffer_ops: Vec::new(),
            mutated: primal.mutated_storages(),
            final_versions: containers::final_versions(primal),
            stable_loads: crate::analysis::stable::loads(primal),
            untyped_zeros: Vec::new(),
            typed_zeros: HashMap::new(),
            checkpoint_copies: HashMap::new(),
        }
    }

    /// Seeds the outputs' adjoints with the cotangent parameters, before the reverse sweep
    /// starts: values for floats, buffers for containers.
    fn seed_outputs(&mut self, seeds: &Seeds, returned: usize) {
        let primal = self.primal;
        if let Some(seed) = seeds.returned {
            match &self.sig.output {
                Output::Tuple(_) => self.seed_tuple(seed, returned),
                Output::Array { .. } | Output::Vec(_) => {
                    let output = primal.body.yields[0];
                    self.seed_buffer(output, seed, "seed");
                }
                _ => {
                    let output = primal.body.yields[0];
                    if self.active(output) {
                        self.adjoints.insert(output, seed);
                    }
                }
            }
        }
        for &(_, last, seed) in &seeds.outputs {
            let name = self.func.info(seed).name.clone().unwrap_or_default();
            self.seed_buffer(last, seed, &name);
        }
    }

    /// Seeds each active element of a returned tuple with its field of `seed`: the tuple
    /// itself is no value of the IR, its `returned` elements are the primal's first yields.
    fn seed_tuple(&mut self, seed: Value, returned: usize) {
        let span = Span::call_site();
        let primal = self.primal;
        for (k, &y) in primal.body.yields[..returned].iter().enumerate() {
            if self.active(y) {
                let field = self.func.new_value(Some("seed".into()));
                let member = Member::Unnamed {
                    index: k as u32,
                    span,
                };
                self.buffer_ops
                    .push(Op::new(vec![field], OpKind::Field(seed, member), span));
                self.adjoints.insert(y, field);
            }
        }
    }

    /// What the adjoint program yields after the reverse sweep: the `returned` values, then
    /// the gradient of each active parameter (its buffer for a container, a zero for a
    /// parameter the output does not depend on).
    fn gradient_yields(&mut self, returned: usize) -> Vec<Value> {
        let primal = self.primal;
        let mut yields = primal.body.yields[..returned].to_vec();
        for (param, sig_param) in primal.params.iter().zip(&self.sig.params) {
            if sig_param.active {
                let span = Span::call_site();
                let adjoint = match sig_param.shape.has_buffer() {
                    true => self.buffer(param.value, span),
                    false => self.adjoint_or_zero(param.value, span),
                };
                yields.push(adjoint);
            }
        }
        yields
    }

    /// The adjoint program: the forward sweep (built last: the reverse sweep decides what it
    /// must keep), then the buffers of the function's scope and the reverse sweep, yielding
    /// `yields`.
    fn assemble(mut self, yields: Vec<Value>) -> Func {
        let primal = self.primal;
        let mut reverse = std::mem::take(&mut self.buffer_ops);
        reverse.append(&mut self.out);
        let mut body = self.forward_block(&primal.body, Vec::new());
        let reverse_start = body.ops.len();
        body.ops.extend(reverse);
        body.yields = yields;
        type_zeros(&mut body, &self.typed_zeros);
        let mut func = self.func;
        func.body = body;
        func.reverse_start = reverse_start;
        func
    }
}

/// Turns the placeholder zeros in `typed` into `zero_like` of the value each was typed by.
fn type_zeros(block: &mut Block, typed: &HashMap<Value, Value>) {
    for op in &mut block.ops {
        if let (OpKind::Placeholder, [zero]) = (&op.kind, &op.results[..])
            && let Some(&like) = typed.get(zero)
        {
            op.kind = OpKind::ZeroLike(like);
        }
        for inner in op.kind.blocks_mut() {
            type_zeros(inner, typed);
        }
    }
}

/// The buffers lent to the container arguments of one call, and the temporaries of those
/// passed twice.
#[derive(Default)]
struct Lending {
    lent: Vec<Value>,
    temporaries: Vec<(Value, Value)>,
}

/// The state of the reverse sweep being built.
/// The current adjoint of each primal value, with an undo log: the arms of an `if` each start
/// from the adjoints before it, and a loop's body from the loop's, restored by undoing the
/// changes since then rather than by copying the map, which would make differentiating a
/// function quadratic in its number of branches and loops.
#[derive(Default)]
struct Adjoints {
    map: HashMap<Value, Value>,
    /// Each insertion's key and the value it replaced, in order.
    log: Vec<(Value, Option<Value>)>,
}

impl Adjoints {
    fn get(&self, v: &Value) -> Option<&Value> {
        self.map.get(v)
    }

    fn insert(&mut self, v: Value, adjoint: Value) {
        let previous = self.map.insert(v, adjoint);
        self.log.push((v, previous));
    }

    /// The point to come back to with [`Adjoints::undo`].
    fn mark(&self) -> usize {
        self.log.len()
    }

    /// Restores the adjoints as they were at `mark`; returns the values changed since then,
    /// each with the adjoint it had before the undo.
    fn undo(&mut self, mark: usize) -> HashMap<Value, Value> {
        let mut changed = HashMap::new();
        while self.log.len() > mark {
            let Some((v, previous)) = self.log.pop() else {
                break;
            };
            let last = match previous {
                Some(previous) => self.map.insert(v, previous),
                None => self.map.remove(&v),
            };
            // Undone latest first: the first undo of a value holds its final adjoint.
            if let Some(last) = last {
                changed.entry(v).or_insert(last);
            }
        }
        changed
    }
}

struct Sweep<'a> {
    primal: &'a Func,
    /// Which values of the primal are active (its snapshots' too).
    activity: Activity,
    sig: &'a Signature,
    /// The adjoint program: its value table grows as values are created.
    func: Func,
    /// The current adjoint of each primal value that has received a contribution.
    adjoints: Adjoints,
    /// The ops of the reverse region being built, in execution order.
    out: Vec<Op>,
    /// The primal regions whose reverse is being built, innermost last (`regions.rs`).
    contexts: Vec<regions::Context<'a>>,
    /// What the forward sweep must add to each region op of the primal (`forward.rs`).
    plans: HashMap<OpId, forward::Plan>,
    /// The adjoint buffer of each container storage, and the ops making those of the
    /// function's scope (they open the reverse sweep).
    buffers: HashMap<Value, Value>,
    buffer_ops: Vec<Op>,
    /// Storages with an active version; storages written somewhere.
    active_storages: HashSet<Value>,
    mutated: HashSet<Value>,
    /// Container versions never written after they are made (`containers::final_versions`).
    final_versions: HashSet<Value>,
    /// Loads whose element nothing writes over later, and the storage each reads
    /// (`analysis::stable`): recomputed from the storage rather than stashed.
    stable_loads: HashMap<Value, Value>,
    /// Zeros made as placeholders because their primal was not at hand yet: (zero, primal,
    /// depth of the region defining the primal). If that region ends up reading the primal
    /// anyway, the zero becomes `zero_like` of it, so that rustc knows its type where an
    /// accumulation (`dy + c`) needs it.
    untyped_zeros: Vec<(Value, Value, usize)>,
    /// Those zeros, with the value each is made like.
    typed_zeros: HashMap<Value, Value>,
    /// The copies taken before each `#[checkpoint]` loop (`checkpoint.rs`).
    checkpoint_copies: HashMap<OpId, checkpoint::Copies>,
}

impl<'a> Sweep<'a> {
    fn active(&self, v: Value) -> bool {
        self.activity.is_active(v)
    }

    fn reverse_block(&mut self, block: &'a Block) {
        for op in block.ops.iter().rev() {
            self.reverse(op);
        }
    }

    fn reverse(&mut self, op: &'a Op) {
        if self.reverse_container(op) {
            return;
        }
        if !op.results.iter().any(|&r| self.active(r)) && !self.resizes_active(op) {
            return;
        }
        match &op.kind {
            OpKind::Prim(prim, operands) if prim.derivative == Derivative::Rule => {
                self.reverse_prim(op, prim, operands);
            }
            OpKind::Cast(v, _, Number::Float) => {
                let dy = self.adjoint_or_zero(op.results[0], op.span);
                // The operand is read for its type only; the result is not read.
                let args = vec![Arg::Value(self.read(*v)), Arg::Value(dy), Arg::Value(dy)];
                self.pullback("cast", args, &[(*v, self.active(*v))], op.span);
            }
            OpKind::Call(call) if call.through == Through::Pullback => self.reverse_call(op, call),
            OpKind::Field(..) if self.primal.info(op.results[0]).place.is_some() => {
                self.reverse_place(op);
            }
            OpKind::If { cond, then, els } => self.reverse_if(op, *cond, then, els),
            OpKind::For { .. } | OpKind::Loop { .. } => self.reverse_loop(op),
            // Activity analysis makes every other op inactive.
            _ => {}
        }
    }

    /// `rules::<prim>(operands.., results.., result adjoints.., operand buffers..)`: float
    /// operands get their adjoints back, containers' adjoints are added into their buffers.
    fn reverse_prim(&mut self, op: &'a Op, prim: &'static prims::Prim, operands: &[Value]) {
        let span = op.span;
        let inputs: Vec<(Value, bool)> = operands
            .iter()
            .zip(prim.operands)
            .filter(|(_, kind)| **kind == Operand::Float)
            .map(|(&v, _)| (v, self.active(v)))
            .collect();
        // The results' adjoints: values, or the buffer of a container result.
        let adjoints: Vec<Arg> = op
            .results
            .iter()
            .map(|&r| match prim.array_result {
                true => Arg::Ref(self.buffer(r, span)),
                false => Arg::Value(self.adjoint_or_zero(r, span)),
            })
            .collect();
        // An argument the rule does not read is replaced by a result adjoint (same type,
        // always at hand) or, for a container, an empty slice, so that nothing is kept alive
        // only to be ignored.
        let kinds = prim
            .operands
            .iter()
            .chain(std::iter::repeat(match prim.array_result {
                true => &Operand::Array,
                false => &Operand::Float,
            }));
        let active: Vec<bool> = operands.iter().map(|&v| self.active(v)).collect();
        let mut args: Vec<Arg> = Vec::new();
        for (i, (&v, kind)) in operands.iter().chain(&op.results).zip(kinds).enumerate() {
            let read = prim.reads(i, &active) || *kind == Operand::Other;
            args.push(match (kind, read, adjoints[0]) {
                (Operand::Array, true, _) => Arg::Ref(self.read(v)),
                (Operand::Array, false, _) => Arg::EmptyRef,
                (_, false, dummy @ Arg::Value(_)) => dummy,
                _ => Arg::Value(self.read(v)),
            });
        }
        args.extend(adjoints);
        let mut lending = Lending::default();
        for (&v, kind) in operands.iter().zip(prim.operands) {
            if *kind == Operand::Array {
                args.push(match self.active(v) {
                    false => Arg::EmptyMut,
                    true => Arg::Mut(self.lend(v, &mut lending, span)),
                });
            }
        }
        self.pullback(prim.name, args, &inputs, span);
        self.return_lent(lending, span);
    }

    /// The buffer of container `v` for one argument of a rule or pullback call. A container
    /// passed twice (`dot(&q, &q)`) cannot lend its buffer twice: the second use gets a
    /// temporary buffer, added into the first after the call ([`Sweep::return_lent`]).
    fn lend(&mut self, v: Value, lending: &mut Lending, span: Span) -> Value {
        let buffer = self.buffer(v, span);
        if !lending.lent.contains(&buffer) {
            lending.lent.push(buffer);
            return buffer;
        }
        let like = self.read(v);
        let temporary = self.func.new_value(None);
        self.out
            .push(Op::new(vec![temporary], OpKind::Buffer(like), span));
        lending.temporaries.push((buffer, temporary));
        temporary
    }

    fn return_lent(&mut self, lending: Lending, span: Span) {
        for (buffer, temporary) in lending.temporaries {
            self.out.push(Op::new(
                Vec::new(),
                OpKind::BufferAddAll {
                    buffer,
                    from: temporary,
                },
                span,
            ));
        }
    }

    /// `y = g(args)` reversed: `g_pullback(args, dy, slots)`, which recomputes what `g`'s
    /// reverse sweep needs, adds the adjoints of container arguments into their buffers and
    /// returns those of scalar arguments. Containers `g` may write are passed as they were
    /// before the call (a copy taken then), and their buffers go from the adjoint after the
    /// call to the adjoint before it.
    fn reverse_call(&mut self, op: &'a Op, call: &'a Call) {
        let span = op.span;
        self.plans.entry(op.id).or_default().passed_again = true;
        let returned = op.results[0];
        let elements = &op.results[..call.returned];
        let seed = if call.returned > 1 {
            match elements.iter().any(|&r| self.active(r)) {
                true => Seed::Tuple(
                    elements
                        .iter()
                        .map(|&r| self.adjoint_or_zero(r, span))
                        .collect(),
                ),
                false => Seed::None,
            }
        } else if self.primal.storage(returned).is_some() {
            match self.active_storage(returned) {
                true => Seed::Buffer(self.buffer(returned, span)),
                false => Seed::None,
            }
        } else if self.active(returned) {
            Seed::Value(self.adjoint_or_zero(returned, span))
        } else {
            Seed::None
        };
        let args: Vec<CallArg> = call
            .args
            .iter()
            .map(|a| CallArg {
                value: self.read(a.entry.unwrap_or(a.value)),
                pass: match a.entry {
                    Some(_) => Pass::Mut,
                    None => a.pass,
                },
                entry: None,
                rows: a.rows,
            })
            .collect();
        let mut lending = Lending::default();
        let mut slots = Vec::new();
        let mut inputs = Vec::new();
        for a in &call.args {
            let container = self.primal.storage(a.value).is_some();
            // A parameter struct, or a field of one passed by reference.
            let structure = is_struct(self.primal, self.sig, a.value)
                && (a.pass == Pass::Ref || self.primal.info(a.value).place.is_none());
            slots.push(match (container, structure) {
                (true, _) if self.active_storage(a.value) => {
                    Slot::Buffer(self.lend(a.value, &mut lending, span))
                }
                (_, true) if self.active(a.value) => {
                    Slot::Struct(self.lend(a.value, &mut lending, span))
                }
                _ => Slot::Skip,
            });
            inputs.push((a.value, !container && !structure && self.active(a.value)));
        }
        let results: Vec<Value> = inputs.iter().map(|&(v, _)| self.adjoint_value(v)).collect();
        let call = Call {
            callee: call.callee.clone(),
            args,
            through: Through::Pullback,
            returned: call.returned,
            passed_again: true,
            rows_returned: call.rows_returned,
        };
        self.out.push(Op::new(
            results.clone(),
            OpKind::CallPullback {
                call: Box::new(call),
                seed,
                slots,
            },
            span,
        ));
        for (&(v, active), adjoint) in inputs.iter().zip(results) {
            if active {
                self.accumulate(v, adjoint, span);
            }
        }
        self.return_lent(lending, span);
    }

    /// Emits `rule(args)`, whose results are the adjoints of `inputs`, and accumulates those
    /// of the active inputs.
    fn pullback(
        &mut self,
        rule: &'static str,
        args: Vec<Arg>,
        inputs: &[(Value, bool)],
        span: Span,
    ) {
        let results: Vec<Value> = inputs.iter().map(|&(v, _)| self.adjoint_value(v)).collect();
        self.out.push(Op::new(
            results.clone(),
            OpKind::Pullback {
                rule: crate::ir::Rule::Runtime(rule),
                args,
            },
            span,
        ));
        for (&(v, active), contribution) in inputs.iter().zip(results) {
            if active {
                self.accumulate(v, contribution, span);
            }
        }
    }

    /// A new value, named as the adjoint of `v`.
    fn adjoint_value(&mut self, v: Value) -> Value {
        let name = self.primal.info(v).name.as_ref().map(|n| format!("d{n}"));
        self.func.new_value(name)
    }

    /// `adjoint(v) += contribution`, in SSA form; for a float field of a parameter struct
    /// (a place, `p.b`), added into the same field of the struct's buffer where it is made:
    /// the place may be read outside the loop or branch whose reverse contributes, which
    /// does not carry a struct's adjoints out.
    fn accumulate(&mut self, v: Value, contribution: Value, span: Span) {
        if self.primal.info(v).place.is_some() && self.primal.storage(v).is_none() {
            let buffer = self.buffer(v, span);
            let kind = OpKind::AddTo {
                place: buffer,
                value: contribution,
            };
            self.out.push(Op::new(Vec::new(), kind, span));
            return;
        }
        let sum = match self.adjoints.get(&v) {
            None => contribution,
            Some(&previous) => {
                let sum = self
                    .func
                    .new_value(self.func.info(contribution).name.clone());
                self.out.push(Op::new(
                    vec![sum],
                    OpKind::Prim(prims::add(), vec![previous, contribution]),
                    span,
                ));
                sum
            }
        };
        self.adjoints.insert(v, sum);
    }

    /// The adjoint of `v`, or a zero of its type if nothing has contributed to it.
    fn adjoint_or_zero(&mut self, v: Value, span: Span) -> Value {
        if let Some(&adjoint) = self.adjoints.get(&v) {
            return adjoint;
        }
        let zero = self.zero(v, span);
        self.adjoints.insert(v, zero);
        zero
    }

    /// A zero of `v`'s type, named as its adjoint: `zero_like(v)` if `v` is at hand; else
    /// (inside a region that would have to stash `v` only for its type) a zero whose type
    /// rustc infers from its uses.
    fn zero(&mut self, v: Value, span: Span) -> Value {
        let zero = self.adjoint_value(v);
        let kind = match self.at_hand(v) {
            Some(source) => OpKind::ZeroLike(source),
            None => {
                if let Some(depth) = self.region_of(v)
                    && self.primal.storage(v).is_none()
                {
                    self.untyped_zeros.push((zero, v, depth));
                }
                OpKind::Placeholder
            }
        };
        self.out.push(Op::new(vec![zero], kind, span));
        zero
    }

    /// `zero_like(source)`, a value named as the adjoint of `v`.
    fn zero_like(&mut self, v: Value, source: Value, span: Span) -> Value {
        let zero = self.adjoint_value(v);
        self.out
            .push(Op::new(vec![zero], OpKind::ZeroLike(source), span));
        zero
    }
}
