//! An interpreter of the IR, for differential testing: it runs a primal [`Func`] with floats
//! or dual numbers (forward mode), and an adjoint program with floats, calling the runtime's
//! own rules for `pullback` ops. Containers are shared, mutable vectors, so every version of
//! a storage sees its writes, as the emitted code's one variable does.
//!
//! It covers what the program generator produces (scalars, slices, local arrays, control
//! flow, calls); other ops are reported as unsupported, never guessed.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use quote::ToTokens;

use super::math::{self, Dual};
use ad_runtime::checkpoint::Action;

use crate::ir::{
    Adaptor, Arg, ArrayInit, BinOp, Block, Call, Callee, Checkpointed, Func, Len, Literal,
    LoopView, Member, Nesting, Number, Op, OpKind, Pass, Range, Rule, Seed, Slot, Through, UnOp,
    Value,
};

/// The numbers a program computes with: `f64`, or [`Dual`] for forward mode.
pub trait Num: Copy + std::fmt::Debug + 'static {
    fn lit(v: f64) -> Self;
    fn value(self) -> f64;
    fn prim(name: &str, args: &[Self]) -> Vec<Self>;
    /// A runtime rule (adjoint programs, `f64` only).
    fn rule(name: &str, args: &[Self]) -> Result<Vec<Self>, String>;
}

impl Num for f64 {
    fn lit(v: f64) -> f64 {
        v
    }
    fn value(self) -> f64 {
        self
    }
    fn prim(name: &str, args: &[f64]) -> Vec<f64> {
        math::primal(name, args)
    }
    fn rule(name: &str, args: &[f64]) -> Result<Vec<f64>, String> {
        Ok(math::rule(name, args))
    }
}

impl Num for Dual {
    fn lit(v: f64) -> Dual {
        Dual { v, d: 0.0 }
    }
    fn value(self) -> f64 {
        self.v
    }
    fn prim(name: &str, args: &[Dual]) -> Vec<Dual> {
        math::forward(name, args)
    }
    fn rule(name: &str, _: &[Dual]) -> Result<Vec<Dual>, String> {
        Err(format!("rule `{name}` in a forward-mode run"))
    }
}

/// A value of the interpreted program.
#[derive(Clone, Debug)]
pub enum V<N> {
    F(N),
    I(i64),
    B(bool),
    /// A container, shared by its versions.
    C(Rc<RefCell<Vec<N>>>),
    T(Vec<V<N>>),
    /// Integers: the indices a range iterates (a `progression`), or the offsets of a
    /// container of `Vec`s' rows.
    P(Vec<i64>),
    Unit,
}

impl<N: Num> V<N> {
    fn float(&self) -> Result<N, String> {
        match self {
            V::F(x) => Ok(*x),
            V::I(i) => Ok(N::lit(*i as f64)),
            other => Err(format!("expected a float, found {other:?}")),
        }
    }

    fn int(&self) -> Result<i64, String> {
        match self {
            V::I(i) => Ok(*i),
            V::F(x) if x.value().fract() == 0.0 => Ok(x.value() as i64),
            other => Err(format!("expected an integer, found {other:?}")),
        }
    }

    fn bool(&self) -> Result<bool, String> {
        match self {
            V::B(b) => Ok(*b),
            other => Err(format!("expected a bool, found {other:?}")),
        }
    }

    fn container(&self) -> Result<Rc<RefCell<Vec<N>>>, String> {
        match self {
            V::C(c) => Ok(c.clone()),
            other => Err(format!("expected a container, found {other:?}")),
        }
    }

    /// A container with the same elements, not shared.
    fn copied(&self) -> Result<V<N>, String> {
        Ok(V::C(Rc::new(RefCell::new(
            self.container()?.borrow().clone(),
        ))))
    }
}

/// The functions a program may call: their primal and adjoint programs, by name.
#[derive(Default)]
pub struct Library {
    pub primals: HashMap<String, Func>,
    pub adjoints: HashMap<String, Func>,
}

std::thread_local! {
    /// Whether a float the machine computed was not finite since [`take_overflowed`].
    static OVERFLOWED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether a run on this thread computed a float that was not finite (an overflow or a
/// NaN inside the trace) since the last call; clears the flag. Derivatives through such a
/// trace are IEEE products like `0 * inf`, which reverse and forward mode order differently.
pub fn take_overflowed() -> bool {
    OVERFLOWED.replace(false)
}

/// Runs `func` on `args` (its parameters, in order); returns its yields.
pub fn run<N: Num>(lib: &Library, func: &Func, args: Vec<V<N>>) -> Result<Vec<V<N>>, String> {
    let mut machine = Machine {
        lib,
        values: vec![None; func.values.len()],
        stashes: vec![Vec::new(); func.stashes.len()],
        steps: 0,
    };
    // A container of `Vec`s is two arguments: its floats, flat, and its offsets.
    let inputs: Vec<Value> = func
        .params
        .iter()
        .flat_map(|p| std::iter::once(p.value).chain(p.offsets))
        .collect();
    if args.len() != inputs.len() {
        return Err(format!(
            "{} takes {} arguments, got {}",
            func.name,
            inputs.len(),
            args.len()
        ));
    }
    for (v, a) in inputs.into_iter().zip(args) {
        machine.set(v, a);
    }
    machine.block(&func.body)
}

struct Machine<'l, N> {
    lib: &'l Library,
    values: Vec<Option<V<N>>>,
    stashes: Vec<Vec<V<N>>>,
    /// Ops run, to stop a runaway program.
    steps: usize,
}

const MAX_STEPS: usize = 2_000_000;

impl<N: Num> Machine<'_, N> {
    fn get(&self, v: Value) -> Result<V<N>, String> {
        self.values
            .get(v.index())
            .cloned()
            .flatten()
            .ok_or_else(|| format!("{v:?} read before it is defined"))
    }

    fn set(&mut self, v: Value, x: V<N>) {
        if let V::F(f) = &x
            && !f.value().is_finite()
        {
            OVERFLOWED.set(true);
        }
        if v.index() >= self.values.len() {
            self.values.resize(v.index() + 1, None);
        }
        self.values[v.index()] = Some(x);
    }

    fn block(&mut self, block: &Block) -> Result<Vec<V<N>>, String> {
        for op in &block.ops {
            self.steps += 1;
            if self.steps > MAX_STEPS {
                return Err("too many steps".into());
            }
            let results = self.op(op)?;
            for (&r, x) in op.results.iter().zip(results) {
                self.set(r, x);
            }
        }
        block.yields.iter().map(|&v| self.get(v)).collect()
    }

    /// Runs `block` with its arguments bound to `args`.
    fn region(&mut self, block: &Block, args: Vec<V<N>>) -> Result<Vec<V<N>>, String> {
        for (&a, x) in block.args.iter().zip(args) {
            self.set(a, x);
        }
        self.block(block)
    }

    fn op(&mut self, op: &Op) -> Result<Vec<V<N>>, String> {
        let one = |x: V<N>| Ok(vec![x]);
        match &op.kind {
            OpKind::Lit(lit) => one(literal(lit)?),
            OpKind::Path(path) => {
                let text = path.to_token_stream().to_string().replace(' ', "");
                match text.rsplit("::").next() {
                    Some("PI") => one(V::F(N::lit(std::f64::consts::PI))),
                    Some("E") => one(V::F(N::lit(std::f64::consts::E))),
                    _ => Err(format!("unsupported path `{text}`")),
                }
            }
            OpKind::Prim(prim, args) => self.prim(prim.name, prim.syntax, args),
            OpKind::Cast(v, _, to) => {
                let x = self.get(*v)?;
                match to {
                    Number::Float => one(V::F(x.float()?)),
                    _ => one(V::I(match x {
                        V::F(f) => f.value() as i64,
                        other => other.int()?,
                    })),
                }
            }
            OpKind::Unary(UnOp::Not, v) => one(V::B(!self.get(*v)?.bool()?)),
            OpKind::Unary(_, v) => one(self.get(*v)?),
            OpKind::Binary(op, a, b) => one(self.binary(op, self.get(*a)?, self.get(*b)?)?),
            OpKind::Logic { or, lhs, rhs } => {
                let l = self.get(*lhs)?.bool()?;
                if l == *or {
                    return one(V::B(l));
                }
                let r = self.block(rhs)?;
                one(r.into_iter().next().ok_or("logic without a value")?)
            }
            OpKind::If { cond, then, els } => {
                let taken = if self.get(*cond)?.bool()? { then } else { els };
                let yields = self.block(taken)?;
                Ok(if op.results.is_empty() {
                    Vec::new()
                } else {
                    yields
                })
            }
            OpKind::For { .. } | OpKind::Loop { .. } => match op.kind.as_loop() {
                Some(parts) => self.run_loop(parts),
                None => Err("not a loop".into()),
            },
            OpKind::Checkpointed(c) => self.checkpointed(c),
            // A variable's value before anything set it: never read as a number.
            OpKind::Placeholder => one(V::F(N::lit(0.0))),
            OpKind::Matches(v, pat) => {
                // The interpreter reads the pattern the IR keeps verbatim.
                let pat = syn::parse::Parser::parse2(syn::Pat::parse_multi, pat.code.clone())
                    .map_err(|e| e.to_string())?;
                one(V::B(matches(&self.get(*v)?, &pat)?))
            }
            OpKind::Field(v, member) => match (self.get(*v)?, member) {
                (V::T(items), Member::Unnamed { index, .. }) => one(items
                    .get(*index as usize)
                    .cloned()
                    .ok_or("no such tuple field")?),
                (other, _) => Err(format!("field of {other:?}")),
            },
            OpKind::Index(..)
            | OpKind::Array(_)
            | OpKind::Store { .. }
            | OpKind::Append { .. }
            | OpKind::Assign { .. }
            | OpKind::Fresh(_)
            | OpKind::Touched { .. }
            | OpKind::Len(_)
            | OpKind::Count(_) => self.container_op(op),
            OpKind::Ref { value, .. } => one(self.get(*value)?),
            OpKind::Call(call) => self.call(op, call),
            OpKind::Effect { .. } => Ok(Vec::new()),
            OpKind::Pullback { rule, args } => self.pullback(rule, args),
            OpKind::CallPullback { call, seed, slots } => self.call_pullback(call, seed, slots),
            OpKind::ZeroLike(_) => one(V::F(N::lit(0.0))),
            OpKind::Push { .. }
            | OpKind::Pop { .. }
            | OpKind::Progression(_)
            | OpKind::At(..)
            | OpKind::Buffer(_)
            | OpKind::Shape(_)
            | OpKind::BufferAdd { .. }
            | OpKind::BufferTake { .. }
            | OpKind::BufferPop(_)
            | OpKind::BufferSum(_)
            | OpKind::BufferAddAll { .. }
            | OpKind::BufferReset { .. } => self.adjoint_op(op),
            OpKind::CheckLen { .. } => Ok(Vec::new()),
            OpKind::Method { method, .. } => Err(format!("unsupported method `{method}`")),
            OpKind::Bind { .. } => Err("pattern bindings are not interpreted".into()),
            OpKind::AddTo { .. } | OpKind::Original(_) => {
                Err("parameter structs and given derivatives are not interpreted".into())
            }
        }
    }

    fn prim(
        &mut self,
        name: &str,
        syntax: crate::prims::Syntax,
        args: &[Value],
    ) -> Result<Vec<V<N>>, String> {
        let values: Vec<V<N>> = args
            .iter()
            .map(|&v| self.get(v))
            .collect::<Result<_, _>>()?;
        if syntax == crate::prims::Syntax::Function("linalg") {
            return Err(format!("linalg `{name}` is not interpreted"));
        }
        // Integer arithmetic: the operators on indices and counters.
        if values.iter().all(|v| matches!(v, V::I(_))) && values.len() == 2 {
            let (a, b) = (values[0].int()?, values[1].int()?);
            let r = match name {
                "add" => a + b,
                "sub" => a - b,
                "mul" => a * b,
                "div" if b != 0 => a / b,
                "rem" if b != 0 => a % b,
                // The length of a `zip`.
                "min" => a.min(b),
                "max" => a.max(b),
                _ => return Err(format!("integer `{name}`")),
            };
            return Ok(vec![V::I(r)]);
        }
        if let Some(b) = math::query(name, values[0].float()?.value()) {
            return Ok(vec![V::B(b)]);
        }
        let operands: Vec<N> = values.iter().map(V::float).collect::<Result<_, _>>()?;
        Ok(N::prim(name, &operands).into_iter().map(V::F).collect())
    }

    fn binary(&self, op: &BinOp, a: V<N>, b: V<N>) -> Result<V<N>, String> {
        use BinOp::*;
        let cmp = |a: &V<N>, b: &V<N>| -> Result<Option<std::cmp::Ordering>, String> {
            Ok(match (a, b) {
                (V::I(x), V::I(y)) => Some(x.cmp(y)),
                _ => a.float()?.value().partial_cmp(&b.float()?.value()),
            })
        };
        Ok(match op {
            Eq => V::B(cmp(&a, &b)? == Some(std::cmp::Ordering::Equal)),
            Ne => V::B(cmp(&a, &b)? != Some(std::cmp::Ordering::Equal)),
            Lt => V::B(cmp(&a, &b)? == Some(std::cmp::Ordering::Less)),
            Gt => V::B(cmp(&a, &b)? == Some(std::cmp::Ordering::Greater)),
            Le => V::B(matches!(
                cmp(&a, &b)?,
                Some(std::cmp::Ordering::Less | std::cmp::Ordering::Equal)
            )),
            Ge => V::B(matches!(
                cmp(&a, &b)?,
                Some(std::cmp::Ordering::Greater | std::cmp::Ordering::Equal)
            )),
            And => V::B(a.bool()? && b.bool()?),
            Or => V::B(a.bool()? || b.bool()?),
            BitAnd => V::I(a.int()? & b.int()?),
            BitOr => V::I(a.int()? | b.int()?),
            BitXor => V::I(a.int()? ^ b.int()?),
            Shl => V::I(a.int()? << b.int()?),
            Shr => V::I(a.int()? >> b.int()?),
        })
    }

    /// Step of [`Self::op`]: the ops on containers (loads, stores, pushes, copies).
    fn container_op(&mut self, op: &Op) -> Result<Vec<V<N>>, String> {
        let one = |x: V<N>| Ok(vec![x]);
        match &op.kind {
            OpKind::Index(a, i) => {
                // Integers (a container of `Vec`s' offsets).
                if let (V::P(ints), V::I(i)) = (self.get(*a)?, self.get(*i)?) {
                    let at = usize::try_from(i).map_err(|_| "negative index")?;
                    let x = ints.get(at).copied();
                    return one(V::I(x.ok_or_else(|| format!("index {i} out of bounds"))?));
                }
                let (array, i) = (self.get(*a)?.container()?, self.get(*i)?.int()?);
                let x = array
                    .borrow()
                    .get(usize::try_from(i).map_err(|_| "negative index")?)
                    .copied()
                    .ok_or_else(|| format!("index {i} out of bounds"))?;
                one(V::F(x))
            }
            OpKind::Array(init) => one(self.array(init)?),
            OpKind::Store {
                array,
                index,
                value,
            } => {
                let c = self.get(*array)?.container()?;
                let i = self.get(*index)?.int()?;
                let x = self.get(*value)?.float()?;
                let mut data = c.borrow_mut();
                let len = data.len();
                *data
                    .get_mut(usize::try_from(i).map_err(|_| "negative index")?)
                    .ok_or_else(|| format!("store at {i} of {len}"))? = x;
                drop(data);
                one(V::C(c))
            }
            OpKind::Append { array, value } => {
                let c = self.get(*array)?.container()?;
                c.borrow_mut().push(self.get(*value)?.float()?);
                one(V::C(c))
            }
            OpKind::Assign { array, from, .. } => {
                let (c, from) = (
                    self.get(*array)?.container()?,
                    self.get(*from)?.container()?,
                );
                let elements = from.borrow().clone();
                *c.borrow_mut() = elements;
                one(V::C(c))
            }
            OpKind::Fresh(v) => one(self.get(*v)?),
            OpKind::Touched { array, .. } => one(V::C(self.get(*array)?.container()?)),
            OpKind::Len(a) | OpKind::Count(a) => match self.get(*a)? {
                V::P(ints) => one(V::I(ints.len() as i64)),
                other => one(V::I(other.container()?.borrow().len() as i64)),
            },
            _ => Err("not a container op".into()),
        }
    }

    /// Step of [`Self::op`]: the ops only adjoint programs have (stashes, progressions,
    /// adjoint buffers), but for the rules and pullbacks.
    fn adjoint_op(&mut self, op: &Op) -> Result<Vec<V<N>>, String> {
        let one = |x: V<N>| Ok(vec![x]);
        match &op.kind {
            OpKind::Push { stash, values } => {
                let items: Vec<V<N>> = values
                    .iter()
                    .map(|&v| self.get(v))
                    .collect::<Result<_, _>>()?;
                // A container is kept as it is now: later writes must not reach the stash.
                let items = items
                    .into_iter()
                    .map(|x| match x {
                        V::C(_) => x.copied(),
                        other => Ok(other),
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                self.stashes[*stash].push(V::T(items));
                Ok(Vec::new())
            }
            OpKind::Pop { stash } => match self.stashes[*stash].pop() {
                Some(V::T(items)) => Ok(items),
                other => Err(format!("pop of an empty stash ({other:?})")),
            },
            OpKind::Progression(range) => one(V::P(self.indices(range)?)),
            OpKind::At(p, k) => match (self.get(*p)?, self.get(*k)?.int()?) {
                (V::P(indices), k) => one(V::I(
                    *indices
                        .get(usize::try_from(k).map_err(|_| "negative k")?)
                        .ok_or("at beyond the progression")?,
                )),
                (other, _) => Err(format!("at of {other:?}")),
            },
            // A shape is modelled as zeros of the container's length, which is all a buffer
            // made from it takes.
            OpKind::Buffer(v) | OpKind::Shape(v) => {
                let len = self.get(*v)?.container()?.borrow().len();
                one(V::C(Rc::new(RefCell::new(vec![N::lit(0.0); len]))))
            }
            OpKind::BufferAdd {
                buffer,
                index,
                value,
            } => {
                let c = self.get(*buffer)?.container()?;
                let i = self.get(*index)?.int()? as usize;
                let x = self.get(*value)?.float()?;
                let mut data = c.borrow_mut();
                let slot = data.get_mut(i).ok_or("buffer_add out of bounds")?;
                *slot = add(*slot, x);
                Ok(Vec::new())
            }
            OpKind::BufferTake { buffer, index } => {
                let c = self.get(*buffer)?.container()?;
                let i = self.get(*index)?.int()? as usize;
                let mut data = c.borrow_mut();
                let slot = data.get_mut(i).ok_or("buffer_take out of bounds")?;
                let x = *slot;
                *slot = N::lit(0.0);
                one(V::F(x))
            }
            OpKind::BufferPop(b) => {
                // The runtime's `pop` panics on an empty buffer: a push without its pop.
                let x = self.get(*b)?.container()?.borrow_mut().pop();
                one(V::F(x.ok_or("buffer_pop of an empty buffer")?))
            }
            OpKind::BufferSum(b) => {
                let c = self.get(*b)?.container()?;
                let sum = c.borrow().iter().fold(N::lit(0.0), |a, &b| add(a, b));
                one(V::F(sum))
            }
            OpKind::BufferAddAll { buffer, from } => {
                let (to, from) = (
                    self.get(*buffer)?.container()?,
                    self.get(*from)?.container()?,
                );
                let from = from.borrow().clone();
                for (a, b) in to.borrow_mut().iter_mut().zip(from) {
                    *a = add(*a, b);
                }
                Ok(Vec::new())
            }
            OpKind::BufferReset { buffer, len } => {
                let c = self.get(*buffer)?.container()?;
                let len = usize::try_from(self.get(*len)?.int()?).map_err(|_| "negative length")?;
                *c.borrow_mut() = vec![N::lit(0.0); len];
                Ok(Vec::new())
            }
            _ => Err("not an adjoint op".into()),
        }
    }

    /// A `for` or a `loop`: the body run until its go-on flag is false or the range ends;
    /// the final carried values, then the trip count if the op records it.
    fn run_loop(&mut self, parts: LoopView<'_>) -> Result<Vec<V<N>>, String> {
        let indices = match parts.range {
            Some(range) => Some(self.indices(range)?.into_iter()),
            None => None,
        };
        let mut indices = indices.map(|i| i.map(V::I));
        let mut carried: Vec<V<N>> = parts
            .init
            .iter()
            .map(|&v| self.get(v))
            .collect::<Result<_, _>>()?;
        let mut count = 0i64;
        loop {
            let index = match &mut indices {
                Some(indices) => match indices.next() {
                    Some(i) => Some(i),
                    None => break,
                },
                None => None,
            };
            count += 1;
            let args = index.into_iter().chain(carried.clone()).collect();
            let mut yields = self.region(parts.body, args)?;
            let go_on = match parts.go_on {
                Some(_) => yields.remove(0).bool()?,
                None => true,
            };
            carried = yields;
            if !go_on {
                break;
            }
        }
        if parts.trips {
            carried.push(V::I(count));
        }
        Ok(carried)
    }

    /// The reverse of a `#[checkpoint]` loop, following the runtime's own schedule: the
    /// state's containers are working copies, kept and brought back as copies.
    fn checkpointed(&mut self, c: &Checkpointed) -> Result<Vec<V<N>>, String> {
        let copy = |x: &V<N>| match x {
            V::C(_) => x.copied(),
            other => Ok(other.clone()),
        };
        let trips = usize::try_from(self.get(c.trips)?.int()?).map_err(|_| "negative trips")?;
        let mut state = Vec::new();
        for &v in &c.init {
            state.push(copy(&self.get(v)?)?);
        }
        let mut adjoints: Vec<V<N>> = (c.adjoints.iter())
            .map(|&v| self.get(v))
            .collect::<Result<_, _>>()?;
        let mut kept: Vec<Vec<V<N>>> = Vec::new();
        for action in ad_runtime::checkpoint::Revolve::new(trips, c.snapshots) {
            match action {
                Action::Store(slot) => {
                    let snapshot = state.iter().map(copy).collect::<Result<Vec<_>, _>>()?;
                    match kept.get_mut(slot) {
                        Some(old) => *old = snapshot,
                        None => kept.push(snapshot),
                    }
                }
                Action::Restore(slot) => {
                    let snapshot = kept.get(slot).ok_or("restore of an empty slot")?;
                    state = snapshot.iter().map(copy).collect::<Result<_, _>>()?;
                }
                Action::Advance { from, to } => {
                    for t in from..to {
                        let args = std::iter::once(V::I(t as i64)).chain(state.clone());
                        state = self.region(&c.advance, args.collect())?;
                    }
                }
                Action::Step(k) => {
                    let args = std::iter::once(V::I(k as i64))
                        .chain(state.clone())
                        .chain(adjoints.clone());
                    adjoints = self.region(&c.step, args.collect())?;
                }
            }
        }
        Ok(adjoints)
    }

    fn indices(&self, range: &Range) -> Result<Vec<i64>, String> {
        let (start, end) = (self.get(range.start)?.int()?, self.get(range.end)?.int()?);
        let end = if range.inclusive { end + 1 } else { end };
        let mut indices: Vec<i64> = (start..end.max(start)).collect();
        for adaptor in &range.adaptors {
            match adaptor {
                Adaptor::Rev => indices.reverse(),
                Adaptor::StepBy(k) => {
                    let k = usize::try_from(self.get(*k)?.int()?).map_err(|_| "step")?;
                    indices = indices.into_iter().step_by(k.max(1)).collect();
                }
            }
        }
        Ok(indices)
    }

    fn array(&self, init: &ArrayInit) -> Result<V<N>, String> {
        let data = match init {
            ArrayInit::Repeat { value, len, .. } => {
                let x = self.get(*value)?.float()?;
                let n = match len {
                    Len::Value(n) => self.get(*n)?.int()?,
                    Len::Const(e) => e
                        .to_token_stream()
                        .to_string()
                        .parse::<i64>()
                        .map_err(|_| "array length is not a literal")?,
                };
                vec![x; usize::try_from(n).map_err(|_| "negative length")?]
            }
            ArrayInit::List { values, .. } => values
                .iter()
                .map(|&v| self.get(v)?.float())
                .collect::<Result<_, _>>()?,
            ArrayInit::Empty { .. } => Vec::new(),
            ArrayInit::Copy { source, .. } => {
                return match self.get(*source)? {
                    x @ V::C(_) => x.copied(),
                    // A value copied before a `#[checkpoint]` loop.
                    x => Ok(x),
                };
            }
            ArrayInit::Uninit => Vec::new(),
        };
        Ok(V::C(Rc::new(RefCell::new(data))))
    }

    /// The arguments of a call, containers shared unless moved.
    /// A call's arguments as [`run`] takes them: a container of `Vec`s, then its offsets.
    fn arguments(&self, call: &Call) -> Result<Vec<V<N>>, String> {
        let mut args = Vec::new();
        for a in &call.args {
            let x = self.get(a.value)?;
            args.push(match a.pass {
                Pass::Moved => x.copied()?,
                _ => x,
            });
            if let Some(Nesting::Vecs(offsets)) = a.rows {
                args.push(self.get(offsets)?);
            }
        }
        Ok(args)
    }

    fn call(&mut self, op: &Op, call: &Call) -> Result<Vec<V<N>>, String> {
        let args = self.arguments(call)?;
        if call.through == Through::Stopped {
            // `stop_gradient(x)`: the value, a constant.
            let x = args
                .into_iter()
                .next()
                .ok_or("stop_gradient without argument")?;
            return Ok(vec![constant(x)?]);
        }
        let func = self
            .lib
            .primals
            .get(&callee_name(&call.callee))
            .ok_or_else(|| format!("no function `{}`", callee_name(&call.callee)))?;
        // The callees drawn by the generator have no `&mut` outputs: every yield is returned.
        let yields = run(self.lib, func, args)?;
        let mut results = match (call.returned, yields.len()) {
            (1, 0) => vec![V::Unit],
            (1, 1) => yields,
            // A tuple the caller did not destructure.
            (1, _) => vec![V::T(yields)],
            (k, n) if k == n => yields,
            (k, n) => return Err(format!("{k} results for a function returning {n}")),
        };
        // The written containers' new versions are the same containers.
        for a in call.args.iter().filter(|a| a.pass.writes()) {
            results.push(self.get(a.value)?);
        }
        if op.results.is_empty() {
            results.clear();
        }
        Ok(results)
    }

    fn pullback(&mut self, rule: &Rule, args: &[Arg]) -> Result<Vec<V<N>>, String> {
        let Rule::Runtime(name) = rule else {
            return Err("user rules are not interpreted".into());
        };
        let mut values = Vec::new();
        for arg in args {
            match arg {
                Arg::Value(v) | Arg::Clone(v) => values.push(self.get(*v)?.float()?),
                other => return Err(format!("rule argument {:?}", std::mem::discriminant(other))),
            }
        }
        Ok(N::rule(name, &values)?.into_iter().map(V::F).collect())
    }

    /// Runs the callee's adjoint program: the arguments (containers it may write as they
    /// were before the call), the seed, then adds the adjoints of container arguments into
    /// the slots and returns those of the others, one per argument.
    fn call_pullback(
        &mut self,
        call: &Call,
        seed: &Seed,
        slots: &[Slot],
    ) -> Result<Vec<V<N>>, String> {
        let name = callee_name(&call.callee);
        let adjoint = self
            .lib
            .adjoints
            .get(&name)
            .ok_or_else(|| format!("no pullback of `{name}`"))?;
        let primal = self.lib.primals.get(&name).ok_or("no primal")?;
        let mut args = self.arguments(call)?;
        let returned = primal.body.yields.len();
        let seed = match seed {
            Seed::None => V::F(N::lit(0.0)),
            Seed::Value(v) => self.get(*v)?,
            Seed::Tuple(vs) => V::T(vs.iter().map(|&v| self.get(v)).collect::<Result<_, _>>()?),
            Seed::Buffer(b) => self.get(*b)?,
        };
        if returned > 0 {
            args.push(seed);
        }
        let yields = run(self.lib, adjoint, args)?;
        let grads = &yields[returned.min(yields.len())..];
        // The gradients follow the callee's active parameters; the generator's callees
        // differentiate every float and slice parameter.
        let mut grads = grads.iter();
        let mut results = Vec::new();
        for (arg, slot) in call.args.iter().zip(slots) {
            let active = self.is_float_or_container(arg.value)?;
            let grad = if active { grads.next().cloned() } else { None };
            match (slot, grad) {
                (Slot::Buffer(b), Some(g)) => {
                    let to = self.get(*b)?.container()?;
                    let from = g.container()?.borrow().clone();
                    for (a, b) in to.borrow_mut().iter_mut().zip(from) {
                        *a = add(*a, b);
                    }
                    results.push(V::Unit);
                }
                (_, Some(g @ V::F(_))) => results.push(g),
                _ => results.push(V::F(N::lit(0.0))),
            }
        }
        Ok(results)
    }

    fn is_float_or_container(&self, v: Value) -> Result<bool, String> {
        Ok(matches!(self.get(v)?, V::F(_) | V::C(_)))
    }
}

fn add<N: Num>(a: N, b: N) -> N {
    N::prim("add", &[a, b])[0]
}

/// `x` with its derivative cut (for dual numbers; floats are unchanged).
fn constant<N: Num>(x: V<N>) -> Result<V<N>, String> {
    Ok(match x {
        V::F(f) => V::F(N::lit(f.value())),
        V::C(c) => V::C(Rc::new(RefCell::new(
            c.borrow().iter().map(|f| N::lit(f.value())).collect(),
        ))),
        other => other,
    })
}

fn callee_name(callee: &Callee) -> String {
    match callee {
        Callee::Path(path) => path.name.to_string(),
        Callee::Method { name, .. } => name.to_string(),
    }
}

fn literal<N: Num>(lit: &Literal) -> Result<V<N>, String> {
    let lit = match lit {
        Literal::Bool(value, _) => return Ok(V::B(*value)),
        Literal::Token(token) => syn::Lit::new(token.clone()),
    };
    match lit {
        syn::Lit::Float(f) => Ok(V::F(N::lit(
            f.base10_parse::<f64>().map_err(|e| e.to_string())?,
        ))),
        syn::Lit::Int(i) => {
            // A suffix `f64` makes an integer literal a float.
            if i.suffix().starts_with('f') {
                return Ok(V::F(N::lit(
                    i.base10_parse::<f64>().map_err(|e| e.to_string())?,
                )));
            }
            Ok(V::I(i.base10_parse::<i64>().map_err(|e| e.to_string())?))
        }
        other => Err(format!("literal {}", other.to_token_stream())),
    }
}

/// Whether the integer `v` matches `pat` (literals, ranges, `|`, `_`, bindings).
fn matches<N: Num>(v: &V<N>, pat: &syn::Pat) -> Result<bool, String> {
    if let syn::Pat::Ident(p) = pat {
        return match &p.subpat {
            Some((_, sub)) => matches(v, sub),
            None => Ok(true),
        };
    }
    let x = v.int()?;
    let int = |e: &syn::Expr| -> Result<i64, String> {
        match e {
            syn::Expr::Lit(l) => match &l.lit {
                syn::Lit::Int(i) => i.base10_parse::<i64>().map_err(|e| e.to_string()),
                other => Err(format!("pattern literal {}", other.to_token_stream())),
            },
            other => Err(format!("pattern {}", other.to_token_stream())),
        }
    };
    Ok(match pat {
        syn::Pat::Wild(_) => true,
        syn::Pat::Lit(l) => x == int(&syn::Expr::Lit(l.clone()))?,
        syn::Pat::Or(o) => {
            for case in &o.cases {
                if matches(v, case)? {
                    return Ok(true);
                }
            }
            false
        }
        syn::Pat::Range(r) => {
            let lo = r.start.as_deref().map(int).transpose()?.unwrap_or(i64::MIN);
            let hi = r.end.as_deref().map(int).transpose()?.unwrap_or(i64::MAX);
            match r.limits {
                syn::RangeLimits::Closed(_) => lo <= x && x <= hi,
                syn::RangeLimits::HalfOpen(_) => lo <= x && x < hi,
            }
        }
        syn::Pat::Paren(p) => matches(v, &p.pat)?,
        other => return Err(format!("pattern {}", other.to_token_stream())),
    })
}
