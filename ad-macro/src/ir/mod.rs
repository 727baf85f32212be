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
//! Values are SSA's: `x = x * x` defines a new value, so every
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

use proc_macro2::{Ident, Span, TokenStream};
use quote::{ToTokens, format_ident};

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
    /// For a container (a slice, `Vec` or array): the value that created it (a parameter or
    /// an `array` op). Every store makes a new SSA value, a *version*, of the same storage,
    /// which emitted code mutates in place.
    pub storage: Option<Value>,
    /// For a field of an active parameter struct (a *place*, `p.w`): the struct and the field.
    /// Its adjoint is the same field of the struct's adjoint.
    pub place: Option<(Value, Member)>,
    /// A type annotation the user wrote on the binding of this value when it is one of
    /// several results of an op (`let r: f64 = loop { .. }`, a carried value); a sole
    /// result's annotation is on its op ([`Op::ty`]).
    pub ty: Option<Verbatim>,
    /// For a copy of a container taken right before the one op that reads it
    /// (`reverse::snapshot_operands`), the container copied: the copy's adjoint is the
    /// source's at that point, so the reverse sweep adds into the source's buffer directly.
    pub snapshot_of: Option<Value>,
    /// For a container of nalgebra or ndarray (a parameter, a product): which.
    pub library: Option<Library>,
}

/// A container type of nalgebra or ndarray (`signature::Library::of` reads it from a
/// parameter's type; a product of such containers has one too).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Library {
    /// `DVector<F>`, `SVector<F, N>`: `x[i]`.
    NalgebraVector,
    /// `DMatrix<F>`: `m[(i, j)]`, which the lowering makes `m[i + j * m.nrows()]` (nalgebra's
    /// linear index, column-major: the same element), since the IR has no tuples.
    NalgebraMatrix,
    /// `Array1<F>`, `ArrayView1<F>`: `x[i]`.
    NdarrayVector,
    /// `Array2<F>`, `ArrayView2<F>`: `a[[i, j]]` (and `a[(i, j)]`, made `a[[i, j]]`).
    NdarrayMatrix,
}

impl Library {
    /// A matrix rather than a vector.
    pub fn is_matrix(self) -> bool {
        matches!(self, Library::NalgebraMatrix | Library::NdarrayMatrix)
    }
}

/// Which values of a function are active: depend on an active parameter *and* reach the
/// output. Made by `analysis::activity`, kept beside the function (a side table, not in it);
/// values made later (by the reverse sweep) are inactive unless set.
#[derive(Clone, Default)]
pub struct Activity(Vec<bool>);

impl Activity {
    pub fn new(active: Vec<bool>) -> Activity {
        Activity(active)
    }

    pub fn is_active(&self, v: Value) -> bool {
        self.0.get(v.index()).copied().unwrap_or(false)
    }

    pub fn set(&mut self, v: Value, active: bool) {
        if self.0.len() <= v.index() {
            self.0.resize(v.index() + 1, false);
        }
        self.0[v.index()] = active;
    }
}

/// A function parameter.
#[derive(Clone)]
pub struct Param {
    pub value: Value,
    /// The user's name for it; `None` for `_`.
    pub ident: Option<Ident>,
    /// Of a container of `Vec`s (`&[Vec<F>]`), held flat in `value`: the offsets where its
    /// rows start, then its length (an inactive container of integers the generated code
    /// makes on entry, with the flat copy).
    pub offsets: Option<Value>,
}

/// A function: parameters, a body whose yields are the returned values, and the value table.
#[derive(Clone, Default)]
pub struct Func {
    pub name: String,
    /// One per parameter of the user's signature, in its order (emit pairs them with the
    /// signature's by position); an adjoint program's cotangents follow: `seed`, that of the
    /// returned value (none for `()`), then `seed_<name>` for each `&mut` output.
    pub params: Vec<Param>,
    /// An adjoint program's body yields the primal's returned values, then the gradients of
    /// the active parameters in the signature's order.
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
    pub written_paths: std::collections::HashMap<Value, Verbatim>,
    /// Of a function returning a container of `Vec`s (held flat): the offsets of its rows,
    /// those of the parameter it is shaped like ([`Param::offsets`]).
    pub returned_offsets: Option<Value>,
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
    /// Whether `.rev()` of this range is an iterator for every integer type (only `a..b` and
    /// `a..=b` with at most one `.rev()`; `step_by` needs `ExactSizeIterator` to reverse).
    pub fn is_simple(&self) -> bool {
        matches!(self.adaptors[..], [] | [Adaptor::Rev])
    }
}

/// The identity of a primal op, given by lowering: the key of the side tables the stages
/// keep about ops (the forward sweep's plan of each region op). An op of the adjoint program
/// that copies a primal op keeps its id; one of its own has [`OpId::NONE`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OpId(pub u32);

impl OpId {
    /// The id of ops that are no primal op's copy.
    pub const NONE: OpId = OpId(u32::MAX);
}

/// One operation. It keeps the span of the user's syntax it came from, so that emitted code
/// and errors point at it.
#[derive(Clone)]
pub struct Op {
    pub results: Vec<Value>,
    pub kind: OpKind,
    pub span: Span,
    pub id: OpId,
    /// A type annotation the user wrote on the binding (`let a: f32 = 2.0;`), kept so that
    /// type inference in the emitted code sees what it saw in the original.
    pub ty: Option<Verbatim>,
}

impl Op {
    /// An op with no type annotation that is no primal op's copy: the adjoint program's own.
    pub fn new(results: Vec<Value>, kind: OpKind, span: Span) -> Op {
        Op {
            results,
            kind,
            span,
            ty: None,
            id: OpId::NONE,
        }
    }
}

#[derive(Clone)]
pub enum OpKind {
    /// A literal: `2.5`, `3`, `true`.
    Lit(Literal),
    /// A path that is not a local: a constant (`f64::consts::PI`, a `const`), a unit value.
    Path(Verbatim),
    /// A primitive from the table, `+` or `sin`; differentiable if `Derivative::Rule`.
    Prim(&'static Prim, Vec<Value>),
    /// `x as ty`, and what `ty` is (settled by lowering). Differentiable between float types.
    Cast(Value, Verbatim, Number),
    /// `!x` or `*x`: never differentiated.
    Unary(UnOp, Value),
    /// Comparisons, bitwise and integer-only operators: never differentiated.
    Binary(BinOp, Value, Value),
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
        checkpoint: Option<Checkpoint>,
    },
    /// `loop` (and `while`): `body.args` are the carried values; `body.yields` a continue flag,
    /// then the carried values; the results the final carried values, then the trip count if
    /// `trips`.
    Loop {
        init: Vec<Value>,
        body: Block,
        trips: bool,
        checkpoint: Option<Checkpoint>,
    },
    /// A zero of a numeric type rustc infers from the uses: the value of a variable on a path
    /// where it has none yet (what a `break v` will set, before it has run), or an adjoint that
    /// is zero where the primal value giving its type is not at hand.
    Placeholder,
    /// `matches!(x, pattern)`: a `match` arm's test, the pattern as the user wrote it.
    Matches(Value, Pattern),
    /// The values the names of a `match` arm's pattern have in the arm: `match x { pattern =>
    /// (names..), _ => unreachable }`, one result per name. A name the pattern binds gives
    /// the part of `x` it binds; a name that is a constant (rustc decides), the constant.
    Bind {
        scrutinee: Value,
        pat: Pattern,
        names: Vec<Ident>,
    },
    /// `x.field` or `x.0` of a value that is not a tuple of the IR (an inactive struct).
    Field(Value, Member),
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
    /// The numbers container `x` holds: its length, times the width of its rows when they
    /// are a callee's result not annotated where it is bound (`Vec<[F; N]>` in emitted code,
    /// unknown to the lowering). Sizes the buffer of a container assigned whole.
    Count(Value),
    /// The shape of container `x` (`__private::Shape`: a length, or nothing for an array):
    /// what the reverse sweep keeps of a container it reads only to make its adjoint buffer.
    Shape(Value),
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
        turbofish: Option<Verbatim>,
        args: Vec<Value>,
    },
    /// A side-effect macro (`println!`, `assert!`) as the user wrote it, but for its variables:
    /// the `k`-th is the hole [`hole`]`(k)`, which emit fills with the name of `uses[k]`. Runs
    /// once, in the forward sweep.
    Effect { code: Verbatim, uses: Vec<Value> },
    /// The user's function body, unlowered, run as a closure of the parameters: the value of
    /// a function whose derivative the user gives (`#[reverse(rule = ..)]`).
    Original(Verbatim),

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
    /// The reverse of a `#[checkpoint]` loop, driven by the binomial schedule
    /// (`ad_runtime::checkpoint`): the results are the final adjoints.
    Checkpointed(Box<Checkpointed>),
    /// Panics, naming the cotangent parameter `name`, unless `seed` is as long as `like`.
    CheckLen {
        seed: Value,
        like: Value,
        name: String,
    },
}

/// `#[checkpoint]` on a loop: its reverse keeps `snapshots` states of what it carries and
/// recomputes the iterations between them.
#[derive(Clone, Copy)]
pub struct Checkpoint {
    pub snapshots: usize,
}

/// The reverse of a `#[checkpoint]` loop (`reverse/checkpoint.rs`). The forward sweep ran the
/// loop as written, counting its `trips`; this op starts again from the loop's initial state
/// and follows the schedule's actions: `advance` runs an iteration as written, `step` runs one
/// keeping what its reverse reads (the pushes), then that reverse. Both regions take the
/// iteration number, then the carried values (a container carried is the working copy that
/// `advance`'s argument names: every version in both regions has it as storage); `advance`
/// yields the carried values after the iteration, `step` takes the carried adjoints after
/// them and yields the adjoints before the iteration.
#[derive(Clone)]
pub struct Checkpointed {
    pub snapshots: usize,
    pub trips: Value,
    /// The range's progression, for the index of a `for` (the regions find it with `at`).
    pub progression: Option<Value>,
    /// The carried values at the loop's start (a container: a copy taken before the loop).
    pub init: Vec<Value>,
    /// The carried adjoints before the reverse (the loop's results' and the outside values').
    pub adjoints: Vec<Value>,
    pub advance: Block,
    pub step: Block,
}

/// What a cast converts to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Number {
    /// `f32`, `f64` or a float type parameter of the function.
    Float,
    /// A primitive integer type.
    Integer,
    /// Anything else (`as _`, an alias): the macro cannot tell.
    Unknown,
}

/// Rust the IR carries as the user wrote it, without looking into it: a type, a pattern, the
/// path of a constant or a function, a macro's tokens. Lowering has read from the syntax
/// whatever the later stages need (as [`Number`], [`Through`], [`Pattern::is_name`]); emit
/// writes the tokens back. The IR holds no `syn` tree.
pub type Verbatim = TokenStream;

/// A literal: `true` or `false`, or a number, string or character token as written.
#[derive(Clone)]
pub enum Literal {
    Bool(bool, Span),
    Token(proc_macro2::Literal),
}

impl quote::ToTokens for Literal {
    fn to_tokens(&self, out: &mut TokenStream) {
        match self {
            Literal::Bool(value, span) => {
                Ident::new(if *value { "true" } else { "false" }, *span).to_tokens(out)
            }
            Literal::Token(lit) => lit.to_tokens(out),
        }
    }
}

impl Literal {
    /// The integer `k`, unsuffixed (`0`): its type is inferred from its uses.
    pub fn int(k: usize, span: Span) -> Literal {
        let mut lit = proc_macro2::Literal::usize_unsuffixed(k);
        lit.set_span(span);
        Literal::Token(lit)
    }

    /// The `usize` `k` (`3usize`).
    pub fn usize(k: usize, span: Span) -> Literal {
        let mut lit = proc_macro2::Literal::usize_suffixed(k);
        lit.set_span(span);
        Literal::Token(lit)
    }
}

/// Whether `a` and `b` compute the same integer: the same literal, or the same `+`, `-`, `*`
/// of operands that are the same, down to leaves `same_leaf` accepts (a value compared with
/// itself). `def` finds a value's op; never a load, whose container may change.
pub fn same_arithmetic<'f>(
    a: Value,
    b: Value,
    def: &impl Fn(Value) -> Option<&'f Op>,
    same_leaf: &impl Fn(Value) -> bool,
) -> bool {
    if a == b {
        return same_leaf(a);
    }
    let (Some(x), Some(y)) = (def(a), def(b)) else {
        return false;
    };
    match (&x.kind, &y.kind) {
        (OpKind::Lit(p), OpKind::Lit(q)) => {
            p.to_token_stream().to_string() == q.to_token_stream().to_string()
        }
        (OpKind::Prim(p, xs), OpKind::Prim(q, ys)) => {
            p.name == q.name
                && matches!(p.name, "add" | "sub" | "mul")
                && xs.len() == ys.len()
                && (xs.iter().zip(ys)).all(|(&u, &v)| same_arithmetic(u, v, def, same_leaf))
        }
        _ => false,
    }
}

/// `!x` or `*x`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnOp {
    Not,
    Deref,
}

/// A binary operator that is never differentiated: a comparison, logic on two evaluated
/// `bool`s, a bitwise operator or a shift.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
    BitAnd,
    BitOr,
    BitXor,
    Shl,
    Shr,
}

impl BinOp {
    /// How Rust spells it.
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::And => "&&",
            BinOp::Or => "||",
            BinOp::BitAnd => "&",
            BinOp::BitOr => "|",
            BinOp::BitXor => "^",
            BinOp::Shl => "<<",
            BinOp::Shr => ">>",
        }
    }
}

/// A field of a struct or tuple: `x.name` or `x.0`.
#[derive(Clone)]
pub enum Member {
    Named(Ident),
    Unnamed { index: u32, span: Span },
}

impl quote::ToTokens for Member {
    fn to_tokens(&self, out: &mut TokenStream) {
        match self {
            Member::Named(name) => name.to_tokens(out),
            Member::Unnamed { index, span } => {
                let mut lit = proc_macro2::Literal::u32_unsuffixed(*index);
                lit.set_span(*span);
                lit.to_tokens(out)
            }
        }
    }
}

/// A pattern of a `match` arm, as the user wrote it.
#[derive(Clone)]
pub struct Pattern {
    pub code: Verbatim,
    /// Whether it is a name alone (`v`, `MAX`): it binds the whole value or names a constant
    /// compared with it, a test like `==` that takes no part of the value.
    pub is_name: bool,
}

/// The path of a called function, split where a pullback's name is made: `prefix`, the
/// function's `name`, then its `generics` (`m::` `g` `::<T>`; `<path>_pullback` appends to
/// `name`).
#[derive(Clone)]
pub struct FnPath {
    pub prefix: Verbatim,
    pub name: Ident,
    pub generics: Verbatim,
}

impl FnPath {
    /// The path as written: `m::g::<T>`.
    pub fn tokens(&self) -> TokenStream {
        let (prefix, name, generics) = (&self.prefix, &self.name, &self.generics);
        quote::quote!(#prefix #name #generics)
    }
}

/// The hole for the `k`-th value a verbatim macro uses ([`OpKind::Effect`]).
pub fn hole(k: usize, span: Span) -> Ident {
    format_ident!("__ad_use_{}", k, span = span)
}

/// Which value `ident` is the hole of, if it is one.
pub fn hole_index(ident: &Ident) -> Option<usize> {
    ident.to_string().strip_prefix("__ad_use_")?.parse().ok()
}

/// A rule: one of the runtime's, by name, or a user's function.
#[derive(Clone)]
pub enum Rule {
    Runtime(&'static str),
    User(Verbatim),
    /// The runtime's tangent rule of a primitive, `rules::<name>_jvp` (forward mode).
    Tangent(&'static str),
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
    /// A float and its tangent, as a dual number (`Dual::new(v, dv)`): a rule called on
    /// dual numbers returns its results' tangents beside them, and the op's results are the
    /// values, then the tangents (forward over reverse).
    Dual(Value, Value),
}

/// A call of a function: `path(args)`, or a method of a parameter struct.
#[derive(Clone)]
pub struct Call {
    pub callee: Callee,
    pub args: Vec<CallArg>,
    /// How the reverse sweep treats it, settled by lowering.
    pub through: Through,
    /// How many results the returned value is: 1, or the elements of a returned tuple that
    /// the caller destructures (`let (a, b) = g(x);`).
    pub returned: usize,
    /// In an adjoint program, whether the reverse sweep passes the arguments again (to the
    /// callee's pullback): owned containers the callee takes ([`Pass::Moved`]) are then
    /// passed as clones.
    pub passed_again: bool,
    /// The callee returns a container of rows (`Vec<[F; N]>`), which the caller holds flat:
    /// the result is flattened.
    pub rows_returned: bool,
}

/// How a call is differentiated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Through {
    /// By the callee's pullback (`<path>_pullback`, generated by its own `#[reverse]`).
    Pullback,
    /// `stop_gradient(x)`: the result is a constant to the reverse sweep.
    Stopped,
    /// A float constructor of generic code (`T::from(k)`, `T::one()`): a constant.
    Constructor,
    /// A function of the standard library (`std::`, `core::`, `num_traits::`): no derivative,
    /// an error where an active value reaches it.
    Std,
}

/// What is called.
#[derive(Clone)]
pub enum Callee {
    /// `path(args)`.
    Path(FnPath),
    /// `args[0].name::<..>(args[1..])`: a method whose receiver is a parameter struct.
    Method {
        name: Ident,
        turbofish: Option<Verbatim>,
    },
}

impl Callee {
    /// The path of a function call.
    pub fn path(&self) -> Option<&FnPath> {
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
    /// A container of rows, which the caller holds flat: passed as the rows the callee takes.
    pub rows: Option<Nesting>,
}

/// The rows of a container argument the caller holds flat.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Nesting {
    /// Arrays `[F; N]`: viewed as such (`&[[F; N]]`), no copy.
    Arrays,
    /// `Vec`s starting at the offsets held in a parameter's value (defined on entry, never
    /// changed, so not an operand): copied into a `Vec<Vec<F>>`.
    Vecs(Value),
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
    Const(Verbatim),
}

/// A loop op (`for` or `loop`) by the names of its parts: the one place that knows how a
/// loop body's arguments and yields are laid out.
#[derive(Clone, Copy)]
pub struct LoopView<'a> {
    /// The range of a `for`.
    pub range: Option<&'a Range>,
    /// The carried values' initial values.
    pub init: &'a [Value],
    pub body: &'a Block,
    /// The index of a `for`: the body's first argument.
    pub index: Option<Value>,
    /// The carried values at the start of an iteration: the body's other arguments.
    pub carried: &'a [Value],
    /// Whether the next iteration runs: the body's first yield, for a `loop` and for a `for`
    /// with early exits.
    pub go_on: Option<Value>,
    /// The carried values at the end of an iteration: the body's other yields.
    pub next: &'a [Value],
    /// Whether the op has the trip count as a last result (the forward sweep of an adjoint
    /// program records it for the reverse loop).
    pub trips: bool,
    /// `#[checkpoint]` on the loop.
    pub checkpoint: Option<Checkpoint>,
}

impl LoopView<'_> {
    /// The trip count, among the op's `results`, if it is recorded.
    pub fn trip_count(&self, results: &[Value]) -> Option<Value> {
        self.trips.then(|| results[self.init.len()])
    }
}

impl OpKind {
    /// This op's parts by name, if it is a loop.
    pub fn as_loop(&self) -> Option<LoopView<'_>> {
        let (range, init, body, go_on_first, trips, checkpoint) = match self {
            OpKind::For {
                range,
                init,
                body,
                exits,
                trips,
                checkpoint,
                ..
            } => (Some(range), init, body, *exits, *trips, checkpoint),
            OpKind::Loop {
                init,
                body,
                trips,
                checkpoint,
            } => (None, init, body, true, *trips, checkpoint),
            _ => return None,
        };
        let (index, carried) = match range {
            Some(_) => (
                body.args.first().copied(),
                body.args.get(1..).unwrap_or_default(),
            ),
            None => (None, &body.args[..]),
        };
        let (go_on, next) = match go_on_first {
            true => (
                body.yields.first().copied(),
                body.yields.get(1..).unwrap_or_default(),
            ),
            false => (None, &body.yields[..]),
        };
        Some(LoopView {
            range,
            init,
            body,
            index,
            carried,
            go_on,
            next,
            trips,
            checkpoint: *checkpoint,
        })
    }
}

/// The one list of which fields of each op kind are operands, read (`&OpKind`, `&Value`) or
/// written (`&mut OpKind`, `&mut Value`): default binding modes make the same arms serve both,
/// so [`OpKind::operands`] and [`OpKind::operands_mut`] cannot drift apart.
macro_rules! each_operand {
    ($kind:expr, $f:ident $(, $m:tt)?) => {
        match $kind {
            OpKind::Lit(_)
            | OpKind::Path(_)
            | OpKind::Placeholder
            | OpKind::Pop { .. }
            | OpKind::Original(_)
            | OpKind::Array(ArrayInit::Uninit) => {}
            OpKind::Prim(_, vs)
            | OpKind::Push { values: vs, .. }
            | OpKind::Effect { uses: vs, .. }
            | OpKind::Loop { init: vs, .. }
            | OpKind::Array(ArrayInit::List { values: vs, .. }) => {
                for v in vs {
                    $f(v);
                }
            }
            OpKind::Pullback { args, .. } => {
                for arg in args {
                    match arg {
                        Arg::Value(v) | Arg::Clone(v) | Arg::Ref(v) | Arg::Mut(v) => $f(v),
                        Arg::Dual(v, d) => {
                            $f(v);
                            $f(d);
                        }
                        Arg::EmptyRef | Arg::EmptyMut => {}
                    }
                }
            }
            OpKind::Call(call) => each_operand!(@call call, $f $(, $m)?),
            OpKind::CallPullback { call, seed, slots } => {
                each_operand!(@call call, $f $(, $m)?);
                match seed {
                    Seed::None => {}
                    Seed::Value(v) | Seed::Buffer(v) => $f(v),
                    Seed::Tuple(vs) => {
                        for v in vs {
                            $f(v);
                        }
                    }
                }
                for slot in slots {
                    if let Slot::Buffer(v) | Slot::Struct(v) = slot {
                        $f(v);
                    }
                }
            }
            OpKind::Cast(v, ..)
            | OpKind::Unary(_, v)
            | OpKind::Field(v, _)
            | OpKind::Ref { value: v, .. }
            | OpKind::ZeroLike(v)
            | OpKind::Logic { lhs: v, .. }
            | OpKind::Matches(v, _)
            | OpKind::Bind { scrutinee: v, .. }
            | OpKind::If { cond: v, .. }
            | OpKind::Len(v)
            | OpKind::Count(v)
            | OpKind::Shape(v)
            | OpKind::Fresh(v)
            | OpKind::Buffer(v)
            | OpKind::BufferPop(v)
            | OpKind::BufferSum(v)
            | OpKind::Array(ArrayInit::Copy { source: v, .. }) => $f(v),
            OpKind::Binary(_, a, b)
            | OpKind::Index(a, b)
            | OpKind::At(a, b)
            | OpKind::Append { array: a, value: b }
            | OpKind::Touched { array: a, len: b }
            | OpKind::BufferTake { buffer: a, index: b }
            | OpKind::BufferAddAll { buffer: a, from: b }
            | OpKind::BufferReset { buffer: a, len: b }
            | OpKind::AddTo { place: a, value: b }
            | OpKind::CheckLen { seed: a, like: b, .. } => {
                $f(a);
                $f(b);
            }
            OpKind::Store {
                array: a,
                index: b,
                value: c,
            }
            | OpKind::BufferAdd {
                buffer: a,
                index: b,
                value: c,
            } => {
                $f(a);
                $f(b);
                $f(c);
            }
            OpKind::Method { recv, args, .. } => {
                $f(recv);
                for v in args {
                    $f(v);
                }
            }
            OpKind::For { range, init, .. } => {
                each_operand!(@range range, $f $(, $m)?);
                for v in init {
                    $f(v);
                }
            }
            OpKind::Progression(range) => each_operand!(@range range, $f $(, $m)?),
            OpKind::Checkpointed(c) => {
                $f(& $($m)? c.trips);
                if let Some(p) = & $($m)? c.progression {
                    $f(p);
                }
                for v in & $($m)? c.init {
                    $f(v);
                }
                for v in & $($m)? c.adjoints {
                    $f(v);
                }
            }
            OpKind::Array(ArrayInit::Repeat { value, len, .. }) => {
                $f(value);
                if let Len::Value(n) = len {
                    $f(n);
                }
            }
            OpKind::Array(ArrayInit::Empty { capacity }) => {
                if let Some(n) = capacity {
                    $f(n);
                }
            }
            OpKind::Assign { array, from, len } => {
                $f(array);
                $f(from);
                if let Some(n) = len {
                    $f(n);
                }
            }
        }
    };
    // A call's arguments, then the copies of the containers it writes.
    (@call $call:ident, $f:ident $(, $m:tt)?) => {{
        for arg in & $($m)? $call.args {
            $f(& $($m)? arg.value);
        }
        for arg in & $($m)? $call.args {
            if let Some(entry) = & $($m)? arg.entry {
                $f(entry);
            }
        }
    }};
    (@range $range:ident, $f:ident $(, $m:tt)?) => {{
        $f(& $($m)? $range.start);
        $f(& $($m)? $range.end);
        for adaptor in & $($m)? $range.adaptors {
            if let Adaptor::StepBy(k) = adaptor {
                $f(k);
            }
        }
    }};
}

impl OpKind {
    /// The values this op reads directly (not those read inside its nested blocks).
    pub fn operands(&self) -> Vec<Value> {
        let mut out = Vec::new();
        let mut f = |v: &Value| out.push(*v);
        each_operand!(self, f);
        out
    }

    /// Calls `f` on every value this op reads directly, mutably.
    pub fn operands_mut(&mut self, f: &mut impl FnMut(&mut Value)) {
        each_operand!(self, f, mut);
    }

    /// The regions this op owns.
    pub fn blocks(&self) -> Vec<&Block> {
        match self {
            OpKind::Logic { rhs, .. } => vec![rhs],
            OpKind::If { then, els, .. } => vec![then, els],
            OpKind::For { body, .. } | OpKind::Loop { body, .. } => vec![body],
            OpKind::Checkpointed(c) => vec![&c.advance, &c.step],
            _ => Vec::new(),
        }
    }

    /// The regions this op owns, mutably.
    pub fn blocks_mut(&mut self) -> Vec<&mut Block> {
        match self {
            OpKind::Logic { rhs, .. } => vec![rhs],
            OpKind::If { then, els, .. } => vec![then, els],
            OpKind::For { body, .. } | OpKind::Loop { body, .. } => vec![body],
            OpKind::Checkpointed(c) => vec![&mut c.advance, &mut c.step],
            _ => Vec::new(),
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
    /// Gives every op its [`OpId`], in program order (lowering's last step).
    pub fn number_ops(&mut self) {
        fn walk(block: &mut Block, next: &mut u32) {
            for op in &mut block.ops {
                op.id = OpId(*next);
                *next += 1;
                for inner in op.kind.blocks_mut() {
                    walk(inner, next);
                }
            }
        }
        walk(&mut self.body, &mut 0);
    }

    pub fn new_value(&mut self, name: Option<String>) -> Value {
        let value = Value(self.values.len() as u32);
        self.values.push(ValueInfo {
            name,
            storage: None,
            place: None,
            ty: None,
            snapshot_of: None,
            library: None,
        });
        value
    }

    /// The nalgebra or ndarray container `v` is a version of, if it is one.
    pub fn library(&self, v: Value) -> Option<Library> {
        self.storage(v).and_then(|root| self.info(root).library)
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
