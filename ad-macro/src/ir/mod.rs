//! The intermediate representation: SSA with structured control flow.
//!
//! ```text
//! func  := fn name(param, ..) { block }
//! block := op* yield value*             a region: ops in order, then the values it yields
//! op    := value* = kind operand* block*
//! ```
//!
//! Invariants, checked by [`Func::verify`] after lowering and after differentiation:
//!
//! - every [`Value`] is defined exactly once, by a parameter or by one result of one op;
//! - a value is used only after its definition, in the defining block or a block nested in it
//!   (regions see the values of enclosing regions, never those of nested or sibling regions);
//! - an op has as many results as its kind defines (a primitive's `results`, a nested block's
//!   yields).
//!
//! Names follow the seed's "Mutability" section: `x = x * x` defines a new value, so every
//! value has one definition and the reverse sweep can refer to any version of a variable.
//! Control flow stays structured, as in MLIR's `scf` dialect and JAX's `cond`/`scan`: a nested
//! [`Block`] is a region of the op that owns it (the arms of an `if`, the body of a loop, the
//! right operand of `&&`), so the emitted Rust is structured again. A region's arguments are
//! the SSA "phi" of a loop: the loop-carried values at the start of an iteration. Early exits
//! (`return`, `break`, `continue`) are not ops: lowering turns them into flags and guarded
//! regions. The adjoint program built by `reverse` is a `Func` of the same IR, so the
//! verifier, the printer and the emitter serve both.

mod print;
mod verify;

use std::collections::HashSet;

use proc_macro2::{Ident, Span};
use quote::format_ident;

use crate::prims::Prim;

/// An SSA value: an index into [`Func::values`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Value(pub u32);

impl Value {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// What is known about a value.
#[derive(Clone)]
pub struct ValueInfo {
    /// The user's variable name it was bound to, for readable printing and generated names.
    pub name: Option<String>,
    /// Depends on an active parameter *and* reaches the output (set by `analysis::activity`).
    pub active: bool,
    /// For a container (a slice, `Vec` or array): the value that created it (a parameter or
    /// an `array` op). Every store makes a new SSA value, a *version*, of the same storage,
    /// which emitted code mutates in place.
    pub storage: Option<Value>,
    /// For a field of an active parameter struct (a *place*, `p.w`): the struct and the field.
    /// Its adjoint is the same field of the struct's adjoint.
    pub place: Option<(Value, syn::Member)>,
    /// A type annotation the user wrote on the binding of this value when it is one of
    /// several results of an op (`let r: f64 = loop { .. }`, a carried value); a sole
    /// result's annotation is on its op ([`Op::ty`]).
    pub ty: Option<Box<syn::Type>>,
}

/// A function parameter.
#[derive(Clone)]
pub struct Param {
    pub value: Value,
    /// The user's name for it; `None` for `_`.
    pub ident: Option<Ident>,
}

/// A function: parameters, a body whose yields are the returned values, and the value table.
#[derive(Clone)]
pub struct Func {
    pub name: String,
    pub params: Vec<Param>,
    pub body: Block,
    pub values: Vec<ValueInfo>,
    /// The stashes of an adjoint program: where the forward sweep keeps values for the reverse
    /// sweep. Indexed by [`OpKind::Push`] and [`OpKind::Pop`].
    pub stashes: Vec<StashKind>,
    /// In an adjoint program, the position of the first op of the reverse sweep in `body`.
    pub reverse_start: usize,
    /// In an adjoint program, the `for` loops reversed by running their range backwards: the
    /// index argument of the forward sweep's loop and that of its reverse (`reverse::fuse`
    /// fuses such pairs).
    pub reversed_loops: Vec<(Value, Value)>,
    /// The paths the user wrote for runtime-function primitives (`linalg::dot`,
    /// `special::erf`), by the op's result: the emitted call checks that the path is the
    /// runtime's function (a module of the user's named `linalg` or `special` would otherwise
    /// be differentiated by the runtime's rule).
    pub written_paths: std::collections::HashMap<Value, syn::ExprPath>,
}

/// A region: arguments, ops in order, then the values it yields to the op that owns it (or,
/// for the function body, the returned values).
#[derive(Clone, Default)]
pub struct Block {
    pub args: Vec<Value>,
    pub ops: Vec<Op>,
    pub yields: Vec<Value>,
}

/// Where a stash keeps its values: a region outside loops runs at most once per call, so one
/// slot does; inside a loop, a stack; branch flags inside a loop, a stack of bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StashKind {
    Slot,
    Stack,
    Bits,
}

/// An integer range as `for` iterates it: `start..end` or `start..=end`, then adaptors.
#[derive(Clone)]
pub struct Range {
    pub start: Value,
    pub end: Value,
    pub inclusive: bool,
    pub adaptors: Vec<Adaptor>,
}

#[derive(Clone, Copy)]
pub enum Adaptor {
    /// `.rev()`
    Rev,
    /// `.step_by(k)`
    StepBy(Value),
}

impl Range {
    pub fn values(&self) -> Vec<Value> {
        let mut vs = vec![self.start, self.end];
        vs.extend(self.adaptors.iter().filter_map(|a| match a {
            Adaptor::StepBy(k) => Some(*k),
            Adaptor::Rev => None,
        }));
        vs
    }

    /// Whether `.rev()` of this range is an iterator for every integer type (only `a..b` and
    /// `a..=b` with at most one `.rev()`; `step_by` needs `ExactSizeIterator` to reverse).
    pub fn is_simple(&self) -> bool {
        matches!(self.adaptors[..], [] | [Adaptor::Rev])
    }
}

/// One operation. It keeps the span of the user's syntax it came from, so that emitted code
/// and errors point at it.
#[derive(Clone)]
pub struct Op {
    pub results: Vec<Value>,
    pub kind: OpKind,
    pub span: Span,
    /// A type annotation the user wrote on the binding (`let a: f32 = 2.0;`), kept so that
    /// type inference in the emitted code sees what it saw in the original.
    pub ty: Option<Box<syn::Type>>,
}

#[derive(Clone)]
pub enum OpKind {
    /// A literal: `2.5`, `3`, `true`.
    Lit(syn::Lit),
    /// A path that is not a local: a constant (`f64::consts::PI`, a `const`), a unit value.
    Path(syn::ExprPath),
    /// A primitive from the table, `+` or `sin`; differentiable if `Derivative::Rule`.
    Prim(&'static Prim, Vec<Value>),
    /// `x as ty`. Differentiable between float types.
    Cast(Value, Box<syn::Type>),
    /// `!x` or `*x`: never differentiated.
    Unary(syn::UnOp, Value),
    /// Comparisons, bitwise and integer-only operators: never differentiated.
    Binary(syn::BinOp, Value, Value),
    /// `lhs && rhs` or `lhs || rhs`: `rhs` is a region that runs only when needed.
    Logic { or: bool, lhs: Value, rhs: Block },
    /// `if cond { then } else { els }`: the results are the yields of the arm taken.
    If {
        cond: Value,
        then: Block,
        els: Block,
    },
    /// `for i in range`: `body.args` are the index, then the carried values; `body.yields`
    /// are a continue flag if `exits`, then the carried values; the results are the final
    /// carried values, then the trip count if `trips`. `reserve` lists the stashes to reserve
    /// the range's length in before the loop.
    For {
        range: Range,
        init: Vec<Value>,
        body: Block,
        exits: bool,
        trips: bool,
        reserve: Vec<usize>,
    },
    /// `loop` (and `while`): `body.args` are the carried values; `body.yields` a continue flag,
    /// then the carried values; the results the final carried values, then the trip count if
    /// `trips`.
    Loop {
        init: Vec<Value>,
        body: Block,
        trips: bool,
    },
    /// A zero of a numeric type rustc infers from the uses: the value of a variable on a path
    /// where it has none yet (what a `break v` will set, before it has run), or an adjoint that
    /// is zero where the primal value giving its type is not at hand.
    Placeholder,
    /// `matches!(x, pattern)`: a `match` arm's test, the pattern as the user wrote it.
    Matches(Value, Box<syn::Pat>),
    /// The values the names of a `match` arm's pattern have in the arm: `match x { pattern =>
    /// (names..), _ => unreachable }`, one result per name. A name the pattern binds gives
    /// the part of `x` it binds; a name that is a constant (rustc decides), the constant.
    Bind {
        scrutinee: Value,
        pat: Box<syn::Pat>,
        names: Vec<Ident>,
    },
    /// `x.field` or `x.0` of a value that is not a tuple of the IR (an inactive struct).
    Field(Value, syn::Member),
    /// `x[i]`: an element of a container (or an indexing of an inactive value).
    Index(Value, Value),
    /// A new container: `vec![v; n]`, `[v; N]`, `vec![a, b]`, `[a, b]`, `Vec::new()`,
    /// `Vec::with_capacity(n)`.
    Array(ArrayInit),
    /// `x[i] = v`: the result is the new version of `x`.
    Store {
        array: Value,
        index: Value,
        value: Value,
    },
    /// `x.push(v)`: the result is the new version of `x`.
    Append { array: Value, value: Value },
    /// `x = from` as a whole (`p = [p[0] * a, p[1]]`, `cur = next`): the result is the new
    /// version of `x`, holding a copy of `from`'s elements; `from` keeps its own storage.
    /// `len` is `x`'s length before, for the reverse sweep to reset its buffer to (`None`
    /// when `x` had no contents yet: an [`ArrayInit::Uninit`]).
    Assign {
        array: Value,
        from: Value,
        len: Option<Value>,
    },
    /// `x.len()`.
    Len(Value),
    /// A new version of `array`'s storage, which the op before changed in place (a method
    /// such as `sort` or `truncate`, which the macro does not model): only its existence
    /// matters, so that nothing reads the old elements after the change. `len` is the length
    /// before, for the reverse sweep to reset the buffer to.
    Touched { array: Value, len: Value },
    /// A copy of a local that the next op changes in place (`&mut k` passed to a function, a
    /// method that may change its receiver): the variable's new value, so that the old one,
    /// which the reverse sweep may read, stays as it was. `let mut k2 = k;`
    Fresh(Value),
    /// `&x` or `&mut x`.
    Ref { mutable: bool, value: Value },
    /// A call of a function by its path. With active arguments, the reverse sweep calls the
    /// callee's pullback (`<path>_pullback`, generated by its own `#[reverse]`). The results
    /// are the returned value, then a new version of each container the call may write.
    Call(Box<Call>),
    /// A method call with no rule: only on inactive values.
    Method {
        recv: Value,
        method: Ident,
        turbofish: Option<syn::AngleBracketedGenericArguments>,
        args: Vec<Value>,
    },
    /// A side-effect macro (`println!`, `assert!`), its variables renamed to the values in
    /// `uses`. Runs once, in the forward sweep.
    Effect { mac: syn::Macro, uses: Vec<Value> },
    /// The user's function body, unlowered, run as a closure of the parameters: the value of
    /// a function whose derivative the user gives (`#[reverse(rule = ..)]`).
    Original(Box<syn::Block>),

    // Only in adjoint programs.
    /// `rules::<rule>(args)`, or a user's rule: the adjoints of the float operands.
    Pullback { rule: Rule, args: Vec<Arg> },
    /// `<path>_pullback(args.., seed, slots..)`: the reverse of a call. The callee adds the
    /// adjoints of container arguments into the slots and returns those of scalar arguments,
    /// one result per argument.
    CallPullback {
        call: Box<Call>,
        seed: Seed,
        slots: Vec<Slot>,
    },
    /// The zero of a value's type: the adjoint of something the output does not depend on.
    ZeroLike(Value),
    /// Keeps `values` in a stash for the reverse sweep.
    Push { stash: usize, values: Vec<Value> },
    /// Takes back what the matching `Push` kept: the results.
    Pop { stash: usize },
    /// The arithmetic progression a range iterates, to find its `k`-th index in the reverse
    /// sweep (`ad_runtime::__private::Progression`).
    Progression(Range),
    /// The `k`-th index (operands: the progression, `k`).
    At(Value, Value),
    /// A zeroed adjoint buffer shaped like a container (`Vec<F>` for slices and `Vec`s,
    /// `[F; N]` for arrays): mutated in place by the reverse sweep, not versioned.
    Buffer(Value),
    /// `buffer[index] += value`.
    BufferAdd {
        buffer: Value,
        index: Value,
        value: Value,
    },
    /// `place += value`, for a place of an adjoint struct (`dp.b`).
    AddTo { place: Value, value: Value },
    /// `buffer[index]`, then `buffer[index] = 0`: the adjoint of a stored value.
    BufferTake { buffer: Value, index: Value },
    /// The last element, removed: the adjoint of a pushed value.
    BufferPop(Value),
    /// The sum of the elements: the adjoint of the `v` of `vec![v; n]`.
    BufferSum(Value),
    /// `buffer[i] += from[i]` for every `i`.
    BufferAddAll { buffer: Value, from: Value },
    /// `buffer` made `len` zeros: the adjoint of a container's contents before a whole
    /// assignment overwrote them.
    BufferReset { buffer: Value, len: Value },
    /// Panics, naming the cotangent parameter `name`, unless `seed` is as long as `like`.
    CheckLen {
        seed: Value,
        like: Value,
        name: String,
    },
}

/// A rule: one of the runtime's, by name, or a user's function.
#[derive(Clone)]
pub enum Rule {
    Runtime(&'static str),
    User(syn::Path),
}

/// An argument of a rule, and how it is passed.
#[derive(Clone, Copy)]
pub enum Arg {
    /// A scalar, by value.
    Value(Value),
    /// An owned container, cloned (the rule may be called again).
    Clone(Value),
    /// A container, as `&x`.
    Ref(Value),
    /// An adjoint buffer to accumulate into, as `&mut dx`.
    Mut(Value),
    /// An empty slice, for a container the rule does not read.
    EmptyRef,
    /// An empty buffer, for an operand that is not differentiated.
    EmptyMut,
}

impl Arg {
    pub fn value(&self) -> Option<Value> {
        match self {
            Arg::Value(v) | Arg::Clone(v) | Arg::Ref(v) | Arg::Mut(v) => Some(*v),
            Arg::EmptyRef | Arg::EmptyMut => None,
        }
    }

    fn value_mut(&mut self) -> Option<&mut Value> {
        match self {
            Arg::Value(v) | Arg::Clone(v) | Arg::Ref(v) | Arg::Mut(v) => Some(v),
            Arg::EmptyRef | Arg::EmptyMut => None,
        }
    }
}

/// A call of a function: `path(args)`, or a method of a parameter struct.
#[derive(Clone)]
pub struct Call {
    pub callee: Callee,
    pub args: Vec<CallArg>,
    /// `false` for `stop_gradient(x)`: its result is a constant to the reverse sweep.
    pub differentiable: bool,
    /// How many results the returned value is: 1, or the elements of a returned tuple that
    /// the caller destructures (`let (a, b) = g(x);`).
    pub returned: usize,
}

/// What is called.
#[derive(Clone)]
pub enum Callee {
    /// `path(args)`.
    Path(syn::ExprPath),
    /// `args[0].name::<..>(args[1..])`: a method whose receiver is a parameter struct.
    Method {
        name: Ident,
        turbofish: Option<syn::AngleBracketedGenericArguments>,
    },
}

impl Callee {
    /// The path of a function call.
    pub fn path(&self) -> Option<&syn::ExprPath> {
        match self {
            Callee::Path(path) => Some(path),
            Callee::Method { .. } => None,
        }
    }
}

/// An argument of a call, and how the user wrote it.
#[derive(Clone, Copy)]
pub struct CallArg {
    pub value: Value,
    pub pass: Pass,
    /// For a container the call may write: a copy of its contents before the call, which the
    /// reverse sweep passes to the callee's pullback (set by `reverse`).
    pub entry: Option<Value>,
}

/// How an argument is passed.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    /// `x`.
    Value,
    /// `&x` of a container.
    Ref,
    /// `&mut x` of a container: the call makes a new version of it.
    Mut,
    /// `x`, a `&mut` container parameter passed on: the call makes a new version of it.
    Reborrow,
    /// `x`, an owned container (a `Vec` or an array) the callee takes by value: the adjoint
    /// program passes a clone, as its reverse sweep passes it again.
    Moved,
}

impl Pass {
    /// Whether the callee may write the container passed this way.
    pub fn writes(self) -> bool {
        matches!(self, Pass::Mut | Pass::Reborrow)
    }
}

/// The cotangent a call's pullback gets for the returned value.
#[derive(Clone)]
pub enum Seed {
    /// No adjoint reaches the returned value (`None`: the callee uses zeros).
    None,
    /// The adjoint of a returned float.
    Value(Value),
    /// The adjoints of a returned tuple's elements.
    Tuple(Vec<Value>),
    /// The adjoint buffer of a returned container, as `&mut buffer`.
    Buffer(Value),
}

impl Seed {
    pub fn values(&self) -> Vec<Value> {
        match self {
            Seed::None => Vec::new(),
            Seed::Value(v) | Seed::Buffer(v) => vec![*v],
            Seed::Tuple(vs) => vs.clone(),
        }
    }
}

/// Where a call's pullback adds the adjoint of one argument.
#[derive(Clone, Copy)]
pub enum Slot {
    /// Nowhere: the argument is a scalar (its adjoint is returned) or inactive.
    Skip,
    /// The adjoint buffer of a container argument.
    Buffer(Value),
    /// The adjoint of a parameter struct argument.
    Struct(Value),
}

impl Slot {
    pub fn value(self) -> Option<Value> {
        match self {
            Slot::Skip => None,
            Slot::Buffer(v) | Slot::Struct(v) => Some(v),
        }
    }
}

/// How a new container is made.
#[derive(Clone)]
pub enum ArrayInit {
    /// `vec![value; len]` (`vec` true) or `[value; len]`, `len` as written (a constant).
    Repeat { value: Value, len: Len, vec: bool },
    /// `vec![a, b, ..]` or `[a, b, ..]`.
    List { values: Vec<Value>, vec: bool },
    /// `Vec::new()` or `Vec::with_capacity(n)`.
    Empty { capacity: Option<Value> },
    /// A copy of a container's elements, a storage of its own: `let b = a;` of an owned
    /// container, `a.clone()` (`to_owned`, the same type), `a.to_vec()` (`vec`: a `Vec`), or
    /// a snapshot of a container that is written later, for a rule that reads it in the
    /// reverse sweep.
    Copy { source: Value, vec: bool },
    /// A storage declared without contents (`let mut z;`), which every path then assigns
    /// ([`OpKind::Assign`]): the variable an `if` merges containers made in its arms into.
    Uninit,
}

/// The length of a repeat: a value (for `vec!`) or a constant expression (for arrays).
#[derive(Clone)]
pub enum Len {
    Value(Value),
    Const(Box<syn::Expr>),
}

impl OpKind {
    /// The values this op reads directly (not those read inside its nested blocks).
    pub fn operands(&self) -> Vec<Value> {
        match self {
            OpKind::Lit(_)
            | OpKind::Path(_)
            | OpKind::Placeholder
            | OpKind::Pop { .. }
            | OpKind::Original(_) => Vec::new(),
            OpKind::Prim(_, args) | OpKind::Push { values: args, .. } => args.clone(),
            OpKind::Call(call) => call.operands(),
            OpKind::CallPullback { call, seed, slots } => {
                let mut vs = call.operands();
                vs.extend(seed.values());
                vs.extend(slots.iter().filter_map(|s| s.value()));
                vs
            }
            OpKind::Pullback { args, .. } => args.iter().filter_map(Arg::value).collect(),
            OpKind::Cast(v, _)
            | OpKind::Unary(_, v)
            | OpKind::Field(v, _)
            | OpKind::Ref { value: v, .. }
            | OpKind::ZeroLike(v)
            | OpKind::Logic { lhs: v, .. }
            | OpKind::Matches(v, _)
            | OpKind::Bind { scrutinee: v, .. }
            | OpKind::If { cond: v, .. } => vec![*v],
            OpKind::Binary(_, a, b) | OpKind::Index(a, b) | OpKind::At(a, b) => vec![*a, *b],
            OpKind::Method { recv, args, .. } => {
                std::iter::once(*recv).chain(args.iter().copied()).collect()
            }
            OpKind::Effect { uses, .. } => uses.clone(),
            OpKind::For { range, init, .. } => {
                let mut vs = range.values();
                vs.extend(init);
                vs
            }
            OpKind::Loop { init, .. } => init.clone(),
            OpKind::Progression(range) => range.values(),
            OpKind::Array(init) => match init {
                ArrayInit::Repeat { value, len, .. } => match len {
                    Len::Value(n) => vec![*value, *n],
                    Len::Const(_) => vec![*value],
                },
                ArrayInit::List { values, .. } => values.clone(),
                ArrayInit::Empty { capacity } => capacity.iter().copied().collect(),
                ArrayInit::Copy { source, .. } => vec![*source],
                ArrayInit::Uninit => Vec::new(),
            },
            OpKind::Store {
                array,
                index,
                value,
            } => vec![*array, *index, *value],
            OpKind::Append { array, value } => vec![*array, *value],
            OpKind::Assign { array, from, len } => {
                let mut vs = vec![*array, *from];
                vs.extend(len);
                vs
            }
            OpKind::Len(v)
            | OpKind::Fresh(v)
            | OpKind::Buffer(v)
            | OpKind::BufferPop(v)
            | OpKind::BufferSum(v) => {
                vec![*v]
            }
            OpKind::Touched { array, len } => vec![*array, *len],
            OpKind::BufferAdd {
                buffer,
                index,
                value,
            } => vec![*buffer, *index, *value],
            OpKind::BufferTake { buffer, index } => vec![*buffer, *index],
            OpKind::BufferAddAll { buffer, from } => vec![*buffer, *from],
            OpKind::BufferReset { buffer, len } => vec![*buffer, *len],
            OpKind::AddTo { place, value } => vec![*place, *value],
            OpKind::CheckLen { seed, like, .. } => vec![*seed, *like],
        }
    }

    /// The regions this op owns.
    pub fn blocks(&self) -> Vec<&Block> {
        match self {
            OpKind::Logic { rhs, .. } => vec![rhs],
            OpKind::If { then, els, .. } => vec![then, els],
            OpKind::For { body, .. } | OpKind::Loop { body, .. } => vec![body],
            _ => Vec::new(),
        }
    }

    /// The regions this op owns, mutably.
    pub fn blocks_mut(&mut self) -> Vec<&mut Block> {
        match self {
            OpKind::Logic { rhs, .. } => vec![rhs],
            OpKind::If { then, els, .. } => vec![then, els],
            OpKind::For { body, .. } | OpKind::Loop { body, .. } => vec![body],
            _ => Vec::new(),
        }
    }

    /// Calls `f` on every value this op reads directly, mutably.
    pub fn operands_mut(&mut self, f: &mut impl FnMut(&mut Value)) {
        let range_values = |range: &mut Range, f: &mut dyn FnMut(&mut Value)| {
            f(&mut range.start);
            f(&mut range.end);
            for a in &mut range.adaptors {
                if let Adaptor::StepBy(k) = a {
                    f(k);
                }
            }
        };
        match self {
            OpKind::Lit(_)
            | OpKind::Path(_)
            | OpKind::Placeholder
            | OpKind::Pop { .. }
            | OpKind::Original(_) => {}
            OpKind::Pullback { args, .. } => args.iter_mut().filter_map(Arg::value_mut).for_each(f),
            OpKind::Call(call) => call.operands_mut(f),
            OpKind::CallPullback { call, seed, slots } => {
                call.operands_mut(f);
                match seed {
                    Seed::None => {}
                    Seed::Value(v) | Seed::Buffer(v) => f(v),
                    Seed::Tuple(vs) => vs.iter_mut().for_each(&mut *f),
                }
                for slot in slots {
                    if let Slot::Buffer(v) | Slot::Struct(v) = slot {
                        f(v);
                    }
                }
            }
            OpKind::Prim(_, args)
            | OpKind::Push { values: args, .. }
            | OpKind::Effect { uses: args, .. }
            | OpKind::Loop { init: args, .. } => args.iter_mut().for_each(f),
            OpKind::Cast(v, _)
            | OpKind::Unary(_, v)
            | OpKind::Field(v, _)
            | OpKind::Ref { value: v, .. }
            | OpKind::ZeroLike(v)
            | OpKind::Logic { lhs: v, .. }
            | OpKind::Matches(v, _)
            | OpKind::Bind { scrutinee: v, .. }
            | OpKind::If { cond: v, .. } => f(v),
            OpKind::Binary(_, a, b) | OpKind::Index(a, b) | OpKind::At(a, b) => {
                f(a);
                f(b);
            }
            OpKind::Method { recv, args, .. } => {
                f(recv);
                args.iter_mut().for_each(f);
            }
            OpKind::For { range, init, .. } => {
                range_values(range, f);
                init.iter_mut().for_each(f);
            }
            OpKind::Progression(range) => range_values(range, f),
            OpKind::Array(init) => match init {
                ArrayInit::Repeat { value, len, .. } => {
                    f(value);
                    if let Len::Value(n) = len {
                        f(n);
                    }
                }
                ArrayInit::List { values, .. } => values.iter_mut().for_each(f),
                ArrayInit::Empty { capacity } => capacity.iter_mut().for_each(f),
                ArrayInit::Copy { source, .. } => f(source),
                ArrayInit::Uninit => {}
            },
            OpKind::Store {
                array,
                index,
                value,
            } => {
                f(array);
                f(index);
                f(value);
            }
            OpKind::Append { array, value } => {
                f(array);
                f(value);
            }
            OpKind::Assign { array, from, len } => {
                f(array);
                f(from);
                len.iter_mut().for_each(f);
            }
            OpKind::Len(v)
            | OpKind::Fresh(v)
            | OpKind::Buffer(v)
            | OpKind::BufferPop(v)
            | OpKind::BufferSum(v) => {
                f(v);
            }
            OpKind::Touched { array, len } => {
                f(array);
                f(len);
            }
            OpKind::BufferAdd {
                buffer,
                index,
                value,
            } => {
                f(buffer);
                f(index);
                f(value);
            }
            OpKind::BufferTake { buffer, index } => {
                f(buffer);
                f(index);
            }
            OpKind::BufferAddAll { buffer, from } => {
                f(buffer);
                f(from);
            }
            OpKind::BufferReset { buffer, len } => {
                f(buffer);
                f(len);
            }
            OpKind::AddTo { place, value } => {
                f(place);
                f(value);
            }
            OpKind::CheckLen { seed, like, .. } => {
                f(seed);
                f(like);
            }
        }
    }
}

impl Call {
    /// The arguments' values, then the copies of written containers.
    fn operands(&self) -> Vec<Value> {
        let values = self.args.iter().map(|a| a.value);
        values
            .chain(self.args.iter().filter_map(|a| a.entry))
            .collect()
    }

    fn operands_mut(&mut self, f: &mut impl FnMut(&mut Value)) {
        for arg in &mut self.args {
            f(&mut arg.value);
        }
        for arg in &mut self.args {
            if let Some(entry) = &mut arg.entry {
                f(entry);
            }
        }
    }
}

impl Block {
    /// Replaces every use of `from` in this block and the blocks nested in it by `to`.
    pub fn replace_uses(&mut self, from: Value, to: Value) {
        let swap = &mut |v: &mut Value| {
            if *v == from {
                *v = to;
            }
        };
        for op in &mut self.ops {
            op.kind.operands_mut(swap);
            for block in op.kind.blocks_mut() {
                block.replace_uses(from, to);
            }
        }
        self.yields.iter_mut().for_each(swap);
    }
}

impl Func {
    pub fn new_value(&mut self, name: Option<String>) -> Value {
        let value = Value(self.values.len() as u32);
        self.values.push(ValueInfo {
            name,
            active: false,
            storage: None,
            place: None,
            ty: None,
        });
        value
    }

    /// The storage `v` is a version of, if it is a container.
    /// Adds the storages `op` (and the ops in its regions) may write.
    pub fn writes(&self, op: &Op, out: &mut HashSet<Value>) {
        let written: Vec<Value> = match &op.kind {
            OpKind::Store { array, .. }
            | OpKind::Append { array, .. }
            | OpKind::Touched { array, .. }
            | OpKind::Assign { array, .. } => vec![*array],
            OpKind::Call(call) => call
                .args
                .iter()
                .filter(|a| a.pass.writes())
                .map(|a| a.value)
                .collect(),
            _ => Vec::new(),
        };
        out.extend(written.into_iter().filter_map(|v| self.storage(v)));
        for block in op.kind.blocks() {
            for inner in &block.ops {
                self.writes(inner, out);
            }
        }
    }

    /// The storages written (stored into, pushed onto, passed to a call that may write them)
    /// anywhere: loads from them cannot be recomputed later, since the element may have
    /// changed, and a parameter among them taken by value needs an adjoint buffer of its own.
    pub fn mutated_storages(&self) -> HashSet<Value> {
        let mut out = HashSet::new();
        for op in &self.body.ops {
            self.writes(op, &mut out);
        }
        out
    }

    pub fn storage(&self, v: Value) -> Option<Value> {
        self.values.get(v.index()).and_then(|i| i.storage)
    }

    pub fn info(&self, v: Value) -> &ValueInfo {
        &self.values[v.index()]
    }

    pub fn is_active(&self, v: Value) -> bool {
        self.values[v.index()].active
    }

    /// The Rust identifier emitted code uses for `v`: the user's name for a parameter,
    /// otherwise `__ad_<name>_<n>` (`__ad_<n>` for a temporary), hygienic
    /// (`Span::mixed_site`) so that user code can never name it.
    pub fn ident(&self, v: Value) -> Ident {
        // Every version of a container is the container's variable.
        let v = self.storage(v).unwrap_or(v);
        if let Some(ident) = self
            .params
            .iter()
            .find(|p| p.value == v)
            .and_then(|p| p.ident.as_ref())
        {
            return ident.clone();
        }
        let span = Span::mixed_site();
        match &self.info(v).name {
            Some(name) => format_ident!(
                "__ad_{}_{}",
                name.trim_start_matches("r#"),
                v.0,
                span = span
            ),
            None => format_ident!("__ad_{}", v.0, span = span),
        }
    }

    /// Every value some op or yield reads (emit binds the others to `_`).
    pub fn used_values(&self) -> HashSet<Value> {
        fn walk(block: &Block, used: &mut HashSet<Value>) {
            for op in &block.ops {
                used.extend(op.kind.operands());
                for b in op.kind.blocks() {
                    walk(b, used);
                }
            }
            used.extend(block.yields.iter().copied());
        }
        let mut used = HashSet::new();
        walk(&self.body, &mut used);
        used
    }
}
