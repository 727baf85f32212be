//! Forward mode: the tangent transform, `ir::Func -> ir::Func`.
//!
//! Beside every value that varies with the seeded parameters the transformed program computes
//! its tangent, the derivative along the direction the tangent parameters give: a primitive's
//! from its operands' by the runtime's tangent rule (`rules::<name>_jvp`, named by the same
//! table row as its pullback), a container's in a container of the same type that every
//! store, push and assignment of the original writes too, a loop's carried values' carried
//! beside them. Values that do not vary get no tangent, and where one is needed (an operand of
//! a rule, a yield) a zero of the value's type stands for it.
//!
//! Applied to the primal program it gives `f_jvp`; applied to the adjoint program (forward
//! over reverse) it gives `f_hvp`: the tangent of the gradient is the Hessian times the
//! direction. The adjoint program's own ops are linear in their adjoint operands (buffers,
//! stashes) and transform as themselves, but for the pullback rules, whose tangents come from
//! the same generic rules evaluated on dual numbers (`ad_runtime::Dual`): a rule written
//! once for any `Float` is its own tangent rule.
//!
//! What the transform does not model (a call of another `#[reverse]` function, a user's rule,
//! an enum payload that varies, a container changed by a method) is [`Unsupported`]: the
//! forward functions are then not generated, and asking for them is an error naming why
//! (`emit`).
//!
//! ```text
//! %y = sin %x                      %y = sin %x
//!                           ->     %dy = tangent sin %x, %y, %dx
//! ```

mod varied;

use std::collections::{HashMap, HashSet};

use proc_macro2::Span;

use crate::ir::{
    Arg, ArrayInit, Block, Call, Func, Number, Op, OpKind, Param, Rule, Seed, Slot, StashKind,
    Through, Value,
};
use crate::prims::{self, Derivative, Operand};
use varied::Varied;

/// Why a program has no tangent program, at the construct that stops it.
#[derive(Clone, Debug)]
pub struct Unsupported {
    pub span: Span,
    /// The reason: the name of a trait of the runtime's `__private::no_forward_mode`, whose
    /// message the error at a call of a missing forward function shows.
    pub why: &'static str,
}

/// `func` with tangents: its parameters, then one tangent parameter for each parameter in
/// `seeded` (indices into `func.params`, named `names`); its yields, then the tangents of the
/// yields in `outputs` (a zero where one does not vary).
pub fn tangent(
    func: &Func,
    seeded: &[usize],
    names: &[proc_macro2::Ident],
    outputs: std::ops::Range<usize>,
) -> Result<Func, Unsupported> {
    let seeds: Vec<Value> = seeded.iter().map(|&k| func.params[k].value).collect();
    let varied = Varied::analyze(func, &seeds)?;
    let mut out = func.clone();
    out.body = Block::default();
    // The check that a runtime function's path is the runtime's is `f_grad`'s to report:
    // once is enough.
    out.written_paths.clear();
    let mut containers = HashSet::new();
    made_containers(&func.body, &mut containers);
    let mut t = Transform {
        src: func,
        func: out,
        varied,
        tangent: HashMap::new(),
        stashes: HashMap::new(),
        containers,
    };
    for (&v, ident) in seeds.iter().zip(names) {
        let dv = t.new_tangent(v);
        t.func.params.push(Param {
            value: dv,
            ident: Some(ident.clone()),
            offsets: None,
        });
    }
    let outputs: Vec<usize> = outputs.collect();
    t.func.body = t.region(&func.body, &[], &outputs, Span::call_site())?;
    Ok(t.func)
}

struct Transform<'a> {
    src: &'a Func,
    func: Func,
    varied: Varied,
    tangent: HashMap<Value, Value>,
    /// The stash of the tangents of each stash's varying positions.
    stashes: HashMap<usize, usize>,
    /// The containers that are no storage's version: buffers, containers a rule returns.
    containers: HashSet<Value>,
}

/// Adds the values of `block` that are containers but no storage's version: adjoint buffers
/// and containers a rule returns (their zero tangent is a zeroed container, not `zero_like`).
fn made_containers(block: &Block, out: &mut HashSet<Value>) {
    for op in &block.ops {
        match &op.kind {
            OpKind::Buffer(_) => out.extend(&op.results),
            OpKind::Prim(prim, _) if prim.array_result => out.extend(&op.results),
            _ => {}
        }
        for inner in op.kind.blocks() {
            made_containers(inner, out);
        }
    }
}

impl Transform<'_> {
    /// A new value for the tangent of `v`: its name with a `d`, its type annotation, and
    /// for a container version the tangent of its storage as storage.
    fn new_tangent(&mut self, v: Value) -> Value {
        let info = self.src.info(v).clone();
        let dv = self
            .func
            .new_value(info.name.as_ref().map(|n| format!("d{n}")));
        self.func.values[dv.index()].ty = info.ty;
        self.tangent.insert(v, dv);
        if let Some(storage) = info.storage {
            let dstorage = match storage == v {
                true => dv,
                false => self.tangent.get(&storage).copied().unwrap_or(dv),
            };
            self.func.values[dv.index()].storage = Some(dstorage);
        }
        dv
    }

    /// A region op's annotation of its sole result (`let r: f64 = if ..`), once tangents
    /// are results too, annotates the result and its tangent, each in the value table.
    fn spread_annotation(&mut self, op: &mut Op, sole: Value) {
        let Some(dr) = self.get(sole) else { return };
        if let Some(ty) = op.ty.take() {
            self.func.values[sole.index()].ty = Some(ty.clone());
            self.func.values[dr.index()].ty = Some(ty);
        }
    }

    /// The tangent of `v`, if it varies.
    fn get(&self, v: Value) -> Option<Value> {
        self.tangent.get(&v).copied()
    }

    /// The tangent of `v`, or a zero of its type (a zeroed container for a container).
    fn tangent_or_zero(&mut self, v: Value, span: Span, out: &mut Vec<Op>) -> Value {
        if let Some(dv) = self.get(v) {
            return dv;
        }
        let zero = self.func.new_value(None);
        let kind = match self.src.storage(v).is_some() || self.containers.contains(&v) {
            true => OpKind::Buffer(v),
            false => OpKind::ZeroLike(v),
        };
        out.push(Op::new(vec![zero], kind, span));
        zero
    }

    /// `block` transformed; `extra_args`: tangents of the block's arguments, made by the op
    /// that owns it.
    fn block(&mut self, block: &Block, extra_args: &[Value]) -> Result<Block, Unsupported> {
        let mut out = Block {
            args: block.args.clone(),
            ops: Vec::with_capacity(block.ops.len() * 2),
            yields: block.yields.clone(),
        };
        out.args.extend(extra_args);
        for op in &block.ops {
            self.op(op, &mut out.ops)?;
        }
        Ok(out)
    }

    /// A region of `op` transformed, yielding after its own yields the tangents of those at
    /// `varying` (a zero where one does not vary).
    fn region(
        &mut self,
        block: &Block,
        args: &[Value],
        varying: &[usize],
        span: Span,
    ) -> Result<Block, Unsupported> {
        let mut out = self.block(block, args)?;
        for &k in varying {
            let y = block.yields[k];
            let dy = self.tangent_or_zero(y, span, &mut out.ops);
            out.yields.push(dy);
        }
        Ok(out)
    }

    fn unsupported(op: &Op, why: &'static str) -> Unsupported {
        Unsupported { span: op.span, why }
    }

    /// Pushes `kind`, defining the tangent of `op`'s sole result.
    fn define(&mut self, op: &Op, kind: OpKind, out: &mut Vec<Op>) -> Result<(), Unsupported> {
        let dr = self.new_tangent(op.results[0]);
        out.push(Op::new(vec![dr], kind, op.span));
        Ok(())
    }

    fn op(&mut self, op: &Op, out: &mut Vec<Op>) -> Result<(), Unsupported> {
        let span = op.span;
        let varies = op.results.iter().any(|&r| self.varied.is(r));
        match &op.kind {
            OpKind::If { cond, then, els } => {
                let varying: Vec<usize> = (0..op.results.len())
                    .filter(|&k| self.varied.is(op.results[k]))
                    .collect();
                let then = self.region(then, &[], &varying, span)?;
                let els = self.region(els, &[], &varying, span)?;
                let mut copy = op.clone();
                copy.kind = OpKind::If {
                    cond: *cond,
                    then,
                    els,
                };
                for &k in &varying {
                    let d = self.new_tangent(op.results[k]);
                    copy.results.push(d);
                }
                if let [r] = op.results[..] {
                    self.spread_annotation(&mut copy, r);
                }
                out.push(copy);
                return Ok(());
            }
            OpKind::For { .. } | OpKind::Loop { .. } => return self.loop_op(op, out),
            OpKind::Pullback { rule, args } if varies => return self.pullback(op, rule, args, out),
            OpKind::Call(call) if varies && varied::forward_through(self.src, op, call) => {
                return self.call(op, call, out);
            }
            OpKind::Logic { lhs, or, rhs } => {
                let rhs = self.block(rhs, &[])?;
                let mut copy = op.clone();
                copy.kind = OpKind::Logic {
                    or: *or,
                    lhs: *lhs,
                    rhs,
                };
                out.push(copy);
                return Ok(());
            }
            _ => {}
        }
        out.push(op.clone());
        if !varies && !self.writes_varied(op) {
            return Ok(());
        }
        match &op.kind {
            OpKind::Prim(prim, operands) => self.prim(op, prim, operands, out),
            OpKind::Cast(v, _, Number::Float) => {
                let dv = self.tangent_or_zero(*v, span, out);
                let args = vec![Arg::Value(*v), Arg::Value(op.results[0]), Arg::Value(dv)];
                self.rule_tangent(op, "cast", args, out);
                Ok(())
            }
            OpKind::Index(c, i) => {
                let dc = self.known(op, *c)?;
                self.define(op, OpKind::Index(dc, *i), out)
            }
            OpKind::Field(v, member) => {
                let dv = self.known(op, *v)?;
                self.define(op, OpKind::Field(dv, member.clone()), out)
            }
            OpKind::Fresh(v) => {
                let dv = self.tangent_or_zero(*v, span, out);
                self.define(op, OpKind::Fresh(dv), out)
            }
            OpKind::Ref { mutable, value } => {
                let value = self.tangent_or_zero(*value, span, out);
                let mutable = *mutable;
                self.define(op, OpKind::Ref { mutable, value }, out)
            }
            OpKind::Array(init) => self.array(op, init, out),
            OpKind::Store {
                array,
                index,
                value,
            } => {
                let (array, index) = (self.known(op, *array)?, *index);
                let value = self.tangent_or_zero(*value, span, out);
                self.define(
                    op,
                    OpKind::Store {
                        array,
                        index,
                        value,
                    },
                    out,
                )
            }
            OpKind::Append { array, value } => {
                let array = self.known(op, *array)?;
                let value = self.tangent_or_zero(*value, span, out);
                self.define(op, OpKind::Append { array, value }, out)
            }
            OpKind::Assign { array, from, len } => {
                let (array, len) = (self.known(op, *array)?, *len);
                let from = self.tangent_or_zero(*from, span, out);
                self.define(op, OpKind::Assign { array, from, len }, out)
            }
            OpKind::Push { stash, values } => {
                let Some(positions) = self.varied.stash_positions(*stash) else {
                    return Ok(());
                };
                let dstash = self.tangent_stash(*stash);
                let dvalues = positions
                    .iter()
                    .map(|&k| self.tangent_or_zero(values[k], span, out))
                    .collect();
                out.push(Op::new(
                    Vec::new(),
                    OpKind::Push {
                        stash: dstash,
                        values: dvalues,
                    },
                    span,
                ));
                Ok(())
            }
            OpKind::Pop { stash } => {
                let Some(positions) = self.varied.stash_positions(*stash) else {
                    return Ok(());
                };
                let dstash = self.tangent_stash(*stash);
                let results = positions
                    .iter()
                    .map(|&k| self.new_tangent(op.results[k]))
                    .collect();
                out.push(Op::new(results, OpKind::Pop { stash: dstash }, span));
                Ok(())
            }
            OpKind::Buffer(like) => self.define(op, OpKind::Buffer(*like), out),
            OpKind::BufferAdd {
                buffer,
                index,
                value,
            } => {
                if let Some(dvalue) = self.get(*value) {
                    let db = self.known(op, *buffer)?;
                    let kind = OpKind::BufferAdd {
                        buffer: db,
                        index: *index,
                        value: dvalue,
                    };
                    out.push(Op::new(Vec::new(), kind, span));
                }
                Ok(())
            }
            OpKind::BufferAddAll { buffer, from } => {
                if let Some(dfrom) = self.get(*from) {
                    let db = self.known(op, *buffer)?;
                    let kind = OpKind::BufferAddAll {
                        buffer: db,
                        from: dfrom,
                    };
                    out.push(Op::new(Vec::new(), kind, span));
                }
                Ok(())
            }
            OpKind::BufferReset { buffer, len } => {
                if let Some(db) = self.get(*buffer) {
                    let kind = OpKind::BufferReset {
                        buffer: db,
                        len: *len,
                    };
                    out.push(Op::new(Vec::new(), kind, span));
                }
                Ok(())
            }
            OpKind::BufferTake { buffer, index } => {
                let (buffer, index) = (self.known(op, *buffer)?, *index);
                self.define(op, OpKind::BufferTake { buffer, index }, out)
            }
            OpKind::BufferPop(buffer) => {
                let buffer = self.known(op, *buffer)?;
                self.define(op, OpKind::BufferPop(buffer), out)
            }
            OpKind::BufferSum(buffer) => {
                let buffer = self.known(op, *buffer)?;
                self.define(op, OpKind::BufferSum(buffer), out)
            }
            // A container some other op makes (a call's or a method's result), which varies
            // only because values that vary are stored into it later: its tangent starts as
            // zeros. A call of this kind differentiates nothing (`stop_gradient`, a function
            // without a rule: `varied` gives its results no tangent, as activity analysis
            // does); another op may not have varying operands. (`varied` reported every other
            // kind an operand of which varies.)
            _ if op
                .results
                .iter()
                .all(|&r| !self.varied.is(r) || self.src.storage(r) == Some(r))
                && (matches!(op.kind, OpKind::Call(_))
                    || !op.kind.operands().iter().any(|&v| self.get(v).is_some())) =>
            {
                for &r in &op.results {
                    if self.varied.is(r) {
                        let dr = self.new_tangent(r);
                        out.push(Op::new(vec![dr], OpKind::Buffer(r), span));
                    }
                }
                Ok(())
            }
            _ => Err(Self::unsupported(op, "hit_a_bug_of_the_macro")),
        }
    }

    /// Whether `op` writes into a varying buffer without results (the adjoint program's
    /// accumulations), or pushes varying values.
    fn writes_varied(&self, op: &Op) -> bool {
        match &op.kind {
            OpKind::BufferAdd { value, .. } => self.varied.is(*value),
            OpKind::BufferAddAll { from, .. } => self.varied.is(*from),
            OpKind::BufferReset { buffer, .. } => self.varied.is(*buffer),
            OpKind::Push { stash, .. } => self.varied.stash_positions(*stash).is_some(),
            _ => false,
        }
    }

    /// The tangent of `v`, which the analysis says varies.
    fn known(&self, op: &Op, v: Value) -> Result<Value, Unsupported> {
        self.get(v)
            .ok_or_else(|| Self::unsupported(op, "hit_a_bug_of_the_macro"))
    }

    fn tangent_stash(&mut self, stash: usize) -> usize {
        if let Some(&d) = self.stashes.get(&stash) {
            return d;
        }
        let kind = match self.func.stashes[stash] {
            StashKind::Bits => StashKind::Stack,
            kind => kind,
        };
        self.func.stashes.push(kind);
        let d = self.func.stashes.len() - 1;
        self.stashes.insert(stash, d);
        d
    }

    /// `rules::<name>_jvp(operands.., results.., operand tangents..)`: the results' tangents.
    fn prim(
        &mut self,
        op: &Op,
        prim: &'static prims::Prim,
        operands: &[Value],
        out: &mut Vec<Op>,
    ) -> Result<(), Unsupported> {
        if prim.derivative != Derivative::Rule {
            return Ok(());
        }
        let span = op.span;
        let mut args: Vec<Arg> = Vec::new();
        for (&v, kind) in operands.iter().zip(prim.operands) {
            args.push(match kind {
                Operand::Array => Arg::Ref(v),
                _ => Arg::Value(v),
            });
        }
        for &r in &op.results {
            args.push(match prim.array_result {
                true => Arg::Ref(r),
                false => Arg::Value(r),
            });
        }
        for (&v, kind) in operands.iter().zip(prim.operands) {
            match kind {
                Operand::Float => args.push(Arg::Value(self.tangent_or_zero(v, span, out))),
                Operand::Array => args.push(match self.get(v) {
                    Some(dv) => Arg::Ref(dv),
                    None => Arg::EmptyRef,
                }),
                Operand::Other | Operand::Borrowed => {}
            }
        }
        self.rule_tangent(op, prim.name, args, out);
        Ok(())
    }

    /// The op `tangent <name>(args)` defining the tangents of `op`'s results.
    fn rule_tangent(&mut self, op: &Op, name: &'static str, args: Vec<Arg>, out: &mut Vec<Op>) {
        let results = op.results.iter().map(|&r| self.new_tangent(r)).collect();
        let mut tangent = Op::new(
            results,
            OpKind::Pullback {
                rule: Rule::Tangent(name),
                args,
            },
            op.span,
        );
        // The annotation of a sole result (`let a: f32 = ..`) types its tangent too.
        if op.results.len() == 1 {
            tangent.ty = op.ty.clone();
        }
        out.push(tangent);
    }

    /// The tangent of a pullback rule's call: the same rule on dual numbers, whose results
    /// split into the adjoints and their tangents.
    fn pullback(
        &mut self,
        op: &Op,
        rule: &Rule,
        args: &[Arg],
        out: &mut Vec<Op>,
    ) -> Result<(), Unsupported> {
        let span = op.span;
        // The cast's pullback `dx = S::from(dy)` is linear in `dy` and reads `x` for its type
        // only: its tangent is the same cast of `dy`'s tangent. (On dual numbers `NumCast`
        // makes a constant, which would drop the tangent.)
        if let (Rule::Runtime("cast"), [x, Arg::Value(dy), _]) = (rule, args) {
            out.push(op.clone());
            let ddy = self.tangent_or_zero(*dy, span, out);
            let kind = OpKind::Pullback {
                rule: rule.clone(),
                args: vec![*x, Arg::Value(ddy), Arg::Value(ddy)],
            };
            return self.define(op, kind, out);
        }
        let Rule::Runtime(name) = rule else {
            return Err(Self::unsupported(op, "has_a_given_derivative"));
        };
        // Every argument of the scalar rules and of `cast` is a float or an `Other` operand.
        let kinds: Vec<bool> = match prims::PRIMS.iter().find(|p| p.name == *name) {
            Some(prim)
                if prim
                    .operands
                    .iter()
                    .all(|o| matches!(o, Operand::Float | Operand::Other))
                    && !prim.array_result =>
            {
                let floats = prim.operands.iter().map(|o| *o == Operand::Float);
                floats
                    .chain(std::iter::repeat(true))
                    .take(args.len())
                    .collect()
            }
            _ => {
                return Err(Self::unsupported(op, "needs_second_derivatives_of_linalg"));
            }
        };
        let mut dual = Vec::with_capacity(args.len());
        for (arg, float) in args.iter().zip(kinds) {
            dual.push(match (arg, float) {
                (Arg::Value(v), true) => {
                    let dv = self.tangent_or_zero(*v, span, out);
                    Arg::Dual(*v, dv)
                }
                (arg, _) => *arg,
            });
        }
        let mut results = op.results.clone();
        for &r in &op.results {
            let dr = self.new_tangent(r);
            results.push(dr);
        }
        out.push(Op::new(
            results,
            OpKind::Pullback {
                rule: rule.clone(),
                args: dual,
            },
            span,
        ));
        Ok(())
    }

    /// The tangent of a call of another `#[reverse]` function that returns a float: the
    /// callee's gradient, from its pullback with seed 1, times the arguments' tangents
    /// (`Σ ∂g/∂a · ȧ`, a dot product for a container). Exact, and it needs of the callee only
    /// what reverse mode does; one reverse sweep of the callee per call.
    fn call(&mut self, op: &Op, call: &Call, out: &mut Vec<Op>) -> Result<(), Unsupported> {
        let span = op.span;
        // The arguments are passed again, to the pullback: owned ones are cloned.
        let mut copy = op.clone();
        if let OpKind::Call(c) = &mut copy.kind {
            c.passed_again = true;
        }
        out.push(copy);
        let one = self.func.new_value(None);
        let seed_op = OpKind::Pullback {
            rule: Rule::Runtime("one_like"),
            args: vec![Arg::Value(op.results[0])],
        };
        out.push(Op::new(vec![one], seed_op, span));
        let mut slots = Vec::new();
        let mut adjoints = Vec::new();
        for a in &call.args {
            let container = self.src.storage(a.value).is_some();
            slots.push(match (container, self.get(a.value)) {
                (true, Some(_)) => {
                    let buffer = self.func.new_value(None);
                    out.push(Op::new(vec![buffer], OpKind::Buffer(a.value), span));
                    Slot::Buffer(buffer)
                }
                _ => Slot::Skip,
            });
            adjoints.push(self.func.new_value(None));
        }
        let pullback = Call {
            callee: call.callee.clone(),
            args: call.args.clone(),
            through: Through::Pullback,
            returned: call.returned,
            passed_again: true,
            rows_returned: call.rows_returned,
        };
        out.push(Op::new(
            adjoints.clone(),
            OpKind::CallPullback {
                call: Box::new(pullback),
                seed: Seed::Value(one),
                slots: slots.clone(),
            },
            span,
        ));
        let mut terms = Vec::new();
        for ((a, slot), &adjoint) in call.args.iter().zip(&slots).zip(&adjoints) {
            let Some(da) = self.get(a.value) else {
                continue;
            };
            let (prim, gradient) = match slot {
                Slot::Buffer(buffer) => ("dot", *buffer),
                _ => ("mul", adjoint),
            };
            terms.push(self.prim_op(op, prim, vec![gradient, da], out)?);
        }
        let mut total = terms.first().copied();
        for &t in terms.iter().skip(1) {
            total = total
                .map(|acc| self.prim_op(op, "add", vec![acc, t], out))
                .transpose()?;
        }
        let kind = match total {
            Some(total) => OpKind::Fresh(total),
            None => OpKind::ZeroLike(op.results[0]),
        };
        self.define(op, kind, out)
    }

    /// `name(operands)` of the primitives' table, at `op`: its one result.
    fn prim_op(
        &mut self,
        op: &Op,
        name: &str,
        operands: Vec<Value>,
        out: &mut Vec<Op>,
    ) -> Result<Value, Unsupported> {
        let prim = (prims::PRIMS.iter().find(|p| p.name == name))
            .ok_or_else(|| Self::unsupported(op, "hit_a_bug_of_the_macro"))?;
        let v = self.func.new_value(None);
        out.push(Op::new(vec![v], OpKind::Prim(prim, operands), op.span));
        Ok(v)
    }

    fn array(&mut self, op: &Op, init: &ArrayInit, out: &mut Vec<Op>) -> Result<(), Unsupported> {
        let span = op.span;
        let init = match init {
            ArrayInit::Repeat { value, len, vec } => ArrayInit::Repeat {
                value: self.tangent_or_zero(*value, span, out),
                len: len.clone(),
                vec: *vec,
            },
            ArrayInit::List { values, vec } => ArrayInit::List {
                values: values
                    .iter()
                    .map(|&v| self.tangent_or_zero(v, span, out))
                    .collect(),
                vec: *vec,
            },
            ArrayInit::Empty { capacity } => ArrayInit::Empty {
                capacity: *capacity,
            },
            ArrayInit::Copy { source, vec } => ArrayInit::Copy {
                source: self.tangent_or_zero(*source, span, out),
                vec: *vec,
            },
            ArrayInit::Uninit => ArrayInit::Uninit,
        };
        let dr = self.new_tangent(op.results[0]);
        let mut tangent = Op::new(vec![dr], OpKind::Array(init), span);
        tangent.ty = op.ty.clone();
        out.push(tangent);
        Ok(())
    }

    /// A loop with the tangents of its varying carried values carried beside them, after
    /// them: initial values, body arguments, yields and results (before the trip count).
    fn loop_op(&mut self, op: &Op, out: &mut Vec<Op>) -> Result<(), Unsupported> {
        let span = op.span;
        let Some(parts) = op.kind.as_loop() else {
            return Err(Self::unsupported(op, "hit_a_bug_of_the_macro"));
        };
        let carried = parts.init.len();
        let varying: Vec<usize> = (0..carried)
            .filter(|&k| self.varied.is(parts.carried[k]))
            .collect();
        let dinit: Vec<Value> = varying
            .iter()
            .map(|&k| self.tangent_or_zero(parts.init[k], span, out))
            .collect();
        let dargs: Vec<Value> = varying
            .iter()
            .map(|&k| self.new_tangent(parts.carried[k]))
            .collect();
        // The yields' positions: the carried values follow the go-on flag, if any.
        let offset = parts.body.yields.len() - carried;
        let yields: Vec<usize> = varying.iter().map(|&k| k + offset).collect();
        let body = self.region(parts.body, &dargs, &yields, span)?;
        let mut copy = op.clone();
        match &mut copy.kind {
            OpKind::For {
                init,
                body: b,
                reserve,
                checkpoint,
                ..
            } => {
                init.extend(dinit);
                *b = body;
                let more: Vec<usize> = reserve
                    .iter()
                    .filter_map(|s| self.stashes.get(s).copied())
                    .collect();
                reserve.extend(more);
                *checkpoint = None;
            }
            OpKind::Loop {
                init,
                body: b,
                checkpoint,
                ..
            } => {
                init.extend(dinit);
                *b = body;
                *checkpoint = None;
            }
            _ => {}
        }
        let dresults: Vec<Value> = varying
            .iter()
            .map(|&k| self.new_tangent(op.results[k]))
            .collect();
        let trips = copy.results.split_off(carried);
        copy.results.extend(dresults);
        copy.results.extend(trips);
        if carried == 1 {
            self.spread_annotation(&mut copy, op.results[0]);
        }
        out.push(copy);
        Ok(())
    }
}
