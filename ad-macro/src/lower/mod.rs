//! Lowering: `syn::ItemFn` → [`ir::Func`].
//!
//! A scoped environment maps each Rust name to its current value. `let` binds a name in the
//! innermost scope (shadowing is a new binding), and every assignment binds the name to a new
//! value in the scope that declared it, so `x = x * x` defines `x.1 = mul x.0, x.0`: a
//! variable's versions are distinct values, as SSA has them. Expressions are flattened into ops whose operands are values;
//! tuples (`(a, b)`, `x.sin_cos()`) exist only at lowering time, as [`Val::Tuple`].
//!
//! Control flow (`control.rs`) lowers to structured regions whose results merge the
//! variables each path assigned; early exits become flags and guarded regions.
//!
//! Unsupported syntax is reported with its span and lowering goes on with the next statement,
//! so one compilation shows every error of the function.

pub(crate) mod attrs;
mod calls;
mod chains;
mod containers;
mod control;
mod effect;
mod exits;
mod iteration;
mod places;
mod rows;
mod sugar;

use std::collections::{HashMap, HashSet};

use proc_macro2::Span;
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{BinOp, Expr, Pat, Stmt, UnOp};

use crate::errors::{Errors, Reported};
use crate::ir::{self, ArrayInit, Callee, Func, Number, Op, OpKind, Param, Through, Value};
use crate::prims;
use crate::signature::{Output, Rows, Signature};

type R<T> = Result<T, Reported>;

/// What a name is bound to.
#[derive(Clone)]
enum Binding {
    Val(Val),
    /// An element of a container variable (the `v` of `for v in x.iter()`): reading it loads
    /// the element, `*v = ..` stores it.
    Element {
        container: String,
        index: Value,
        /// Of `iter_mut()`: `*v = ..` writes it.
        writable: bool,
    },
    /// Declared without a value: `let x;`, or `let x: T;` with its type, which the first
    /// assignment's value gets (rustc reads the type from the declaration; the generated code
    /// has none).
    Unassigned(Declared),
    /// Its `let` had an error, already reported: uses stay silent instead of cascading.
    Poisoned,
    /// A closure, inlined where it is called (`chains.rs`).
    Closure(std::rc::Rc<chains::Closure>),
}

impl PartialEq for Binding {
    fn eq(&self, other: &Binding) -> bool {
        match (self, other) {
            (Binding::Val(a), Binding::Val(b)) => a == b,
            (
                Binding::Element {
                    container,
                    index,
                    writable,
                },
                Binding::Element {
                    container: c,
                    index: i,
                    writable: w,
                },
            ) => container == c && index == i && writable == w,
            (Binding::Unassigned(a), Binding::Unassigned(b)) => a == b,
            (Binding::Poisoned, Binding::Poisoned) => true,
            (Binding::Closure(a), Binding::Closure(b)) => std::rc::Rc::ptr_eq(a, b),
            _ => false,
        }
    }
}

/// The type a variable was declared with, if any. Equal only to itself: bindings compare
/// to find what an arm changed, and a declaration changes nothing.
#[derive(Clone)]
pub(super) struct Declared(Option<std::rc::Rc<syn::Type>>);

impl PartialEq for Declared {
    fn eq(&self, other: &Declared) -> bool {
        match (&self.0, &other.0) {
            (Some(a), Some(b)) => std::rc::Rc::ptr_eq(a, b),
            (None, None) => true,
            _ => false,
        }
    }
}

/// The lowering-time value of an expression.
#[derive(Clone, PartialEq)]
enum Val {
    Unit,
    One(Value),
    Tuple(Vec<Val>),
    /// A struct literal's fields by name (`Point { x: a, y: b }`): read by field (`p.x`),
    /// written by field, destructured; not a value of the IR.
    Struct(Vec<(String, Val)>),
    /// The expression does not complete: `return`, `break`, `continue`.
    Never,
}

/// Lowers the body of `item`. Returns the function and the items declared inside the body
/// (`const`, `use`, `fn`), which the emitted functions declare again.
pub fn lower(item: &syn::ItemFn, sig: &Signature, errors: &mut Errors) -> (Func, Vec<syn::Item>) {
    let mut lower = Lower {
        func: Func {
            name: item.sig.ident.to_string(),
            ..Func::default()
        },
        ops: Vec::new(),
        scopes: vec![HashMap::new()],
        sig,
        errors,
        items: Vec::new(),
        loops: Vec::new(),
        returns: false,
        next_loop: 0,
        checkpoint_next: None,
        maybe_containers: HashSet::new(),
        container_names: control::container_names(&item.block),
        merged_calls: HashMap::new(),
        vacant: HashSet::new(),
        shared_unknown: HashSet::new(),
        stopped_borrows: HashSet::new(),
        places: HashMap::new(),
        hoisted: Vec::new(),
        rows: HashMap::new(),
        row_lens: HashMap::new(),
        array_lens: HashMap::new(),
        empties: HashSet::new(),
        flat_used: HashSet::new(),
        row_writebacks: Vec::new(),
        index_bounds: HashMap::new(),
        borrowed: HashSet::new(),
        next_hidden: 0,
        calling_bound: false,
        expected: Vec::new(),
        output_ty: match &item.sig.output {
            syn::ReturnType::Type(_, ty) => Some((**ty).clone()),
            syn::ReturnType::Default => None,
        },
    };
    // The function's value has its return type (an iterator's `sum` needs one).
    if let (Some(ty), Some(Stmt::Expr(tail, None))) =
        (lower.output_ty.clone(), item.block.stmts.last())
    {
        lower.expect(tail, &ty);
    }
    lower.params();
    attrs::check(&item.block, lower.errors);
    exits::check(&item.block, lower.errors);
    let result = lower.function_body(&item.block);
    let returned = lower.returned(result, &item.block);
    if let Some(mut yields) = returned {
        for param in sig.params.iter().filter(|p| p.is_output()) {
            let name = param
                .ident
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default();
            if let Some(Binding::Val(Val::One(last))) = lower.lookup(&name).cloned() {
                yields.push(last);
            }
        }
        lower.func.body.yields = yields;
    }
    let mut ops = std::mem::take(&mut lower.hoisted);
    ops.append(&mut lower.ops);
    lower.func.body.ops = ops;
    lower.func.number_ops();
    containers::check_matrix_indices(&lower.func, &lower.func.body, lower.errors);
    (lower.func, lower.items)
}

impl Lower<'_> {
    /// The function's parameters, bound in the outermost scope; a container parameter is
    /// the storage of its versions.
    fn params(&mut self) {
        for param in &self.sig.params {
            let name = param.ident.as_ref().map(ToString::to_string);
            let value = self.func.new_value(name.clone());
            let offsets = matches!(param.shape.row(), Some(Rows::Vec)).then(|| {
                self.func
                    .new_value(Some(format!("{}_rows", name.as_deref().unwrap_or(""))))
            });
            self.func.params.push(Param {
                value,
                ident: param.ident.clone(),
                offsets,
            });
            if param.shape.is_container() {
                self.func.values[value.index()].storage = Some(value);
                self.func.values[value.index()].library = param.library;
            }
            if let Some(offsets) = offsets {
                self.func.values[offsets.index()].storage = Some(offsets);
                self.make_vec_rows(value, offsets);
            } else if let Some(Rows::Array(row)) = param.shape.row() {
                let span = syn::spanned::Spanned::span(&param.ty);
                self.make_rows(value, row.to_token_stream(), span);
            } else if let crate::signature::Shape::Array { len, .. } = &param.shape {
                self.array_lens.insert(value, len.to_token_stream());
            }
            if let Some(name) = name {
                self.scopes[0].insert(name, Binding::Val(Val::One(value)));
            }
        }
    }

    /// The values the body yields for the function's returned value (several for a tuple),
    /// or `None` after an error: checked against the return type's shape.
    fn returned(&mut self, result: R<Val>, block: &syn::Block) -> Option<Vec<Value>> {
        match (result, &self.sig.output) {
            (Ok(Val::Never), output) if !matches!(output, Output::Unit) => {
                self.errors.spanned(
                    block,
                    "this function never returns a value (its body does not complete): there is nothing to differentiate",
                );
                None
            }
            (Ok(Val::One(v)), Output::Scalar(_)) => Some(vec![v]),
            (Ok(Val::One(v)), Output::Array { .. } | Output::Vec(_)) => {
                self.is_container(v);
                // A call returning the rows (`step(&q, dt)` as the tail).
                if let (Some(Rows::Array(n)), None) = (&self.sig.rows_output, self.row(v)) {
                    self.call_returns_rows(v, n.to_token_stream(), Span::call_site());
                }
                match (&self.sig.rows_output, self.row(v)) {
                    (None, _) | (Some(Rows::Array(_)), Some(rows::Row::Array { .. })) => {}
                    (Some(Rows::Vec), Some(rows::Row::Vec { offsets })) => {
                        self.func.returned_offsets = Some(offsets);
                    }
                    (Some(Rows::Array(_)), _) => {
                        self.errors.spanned(block, "the rows of the returned container are not known here: give it its type where it is made (`let mut out: Vec<[f64; 3]> = Vec::new();`)");
                        return None;
                    }
                    (Some(Rows::Vec), _) => {
                        self.errors.spanned(block, "a container of `Vec`s is returned shaped like a parameter (a copy of it, `x.clone()` or `x.to_vec()`, written by element): the rows of this one are not a parameter's; return a grid flat (`Vec<F>`, row `i` at `i * m..`)");
                        return None;
                    }
                }
                Some(vec![v])
            }
            (Ok(Val::Tuple(vals)), Output::Tuple(types))
                if vals.len() == types.len() && vals.iter().all(|v| matches!(v, Val::One(_))) =>
            {
                Some(
                    vals.iter()
                        .filter_map(|v| match v {
                            Val::One(v) => Some(*v),
                            _ => None,
                        })
                        .collect(),
                )
            }
            (Ok(Val::Unit | Val::Never), Output::Unit) => Some(Vec::new()),
            (Ok(_), _) => {
                self.errors.spanned(
                    block,
                    "the function body's value does not have the return type's shape",
                );
                None
            }
            (Err(Reported), _) => None,
        }
    }
}

struct Lower<'a> {
    func: Func,
    /// The ops of the block being lowered.
    ops: Vec<Op>,
    /// Innermost last.
    scopes: Vec<HashMap<String, Binding>>,
    sig: &'a Signature,
    errors: &'a mut Errors,
    items: Vec<syn::Item>,
    /// The loops being lowered, innermost last: the targets of `break` and `continue`.
    loops: Vec<control::LoopCx>,
    /// Whether the body has an early `return`, so that the `$ret` flag and `$retval` exist.
    returns: bool,
    next_loop: usize,
    /// A `#[checkpoint]` read from a loop expression, for the loop it lowers to, and the loop
    /// depth it was read at.
    checkpoint_next: Option<(crate::ir::Checkpoint, usize)>,
    /// The values calls returned, and places: containers once used as containers.
    maybe_containers: HashSet<Value>,
    /// The names the body uses as containers: a call's result bound to one is a container
    /// from its `let` on (`let mut q = step(&p); for .. { q = step(&q); }`).
    container_names: HashSet<String>,
    /// Results of branches between calls' results (`if c { f(x) } else { g(x) }`), which
    /// may be containers: where each branch is.
    merged_calls: HashMap<Value, Span>,
    /// Placeholders: what a variable holds on a path where it has no value yet (it exits
    /// first, or assigns it later). Never read.
    vacant: HashSet<Value>,
    /// Calls' results bound to a second name before they were known to be containers.
    shared_unknown: HashSet<Value>,
    /// Results of `stop_gradient(x)` of a borrowed container: references, as `x` is.
    stopped_borrows: HashSet<Value>,
    /// The places read so far, by struct and field, and the ops that make them (they open
    /// the function body).
    places: HashMap<(Value, String), Value>,
    hoisted: Vec<Op>,
    /// The containers of rows, by storage (`rows.rs`).
    rows: HashMap<Value, rows::Row>,
    /// The values of the rows' lengths, made at the top of the function, by their tokens.
    row_lens: HashMap<String, Value>,
    /// The lengths of arrays, by storage, where known: a row pushed or repeated has one.
    array_lens: HashMap<Value, proc_macro2::TokenStream>,
    /// The storages `Vec::new()` made, which may become containers of rows at their first
    /// push of a row, unless they were already used as flat (`flat_used`).
    empties: HashSet<Value>,
    flat_used: HashSet<Value>,
    /// Rows lent to a call being lowered as `&mut x[i]`: the copy's variable, the container
    /// variable and the row, written back after the call.
    row_writebacks: Vec<(String, String, calls::Lent)>,
    /// Loop indices below an end written as a constant (`d` of `for d in 0..3`), by value.
    index_bounds: HashMap<Value, String>,
    /// The names bound to a borrow of a container (`let t = &y;`, a window), by scope depth:
    /// passed on as `g(t)`, they are references.
    borrowed: HashSet<(usize, String)>,
    /// Numbers the variables of rewritten iterator chains (`chains.rs`).
    next_hidden: usize,
    /// Lowering the body of a closure bound with `let` at a call: its captures are those it
    /// was made with (a `move` one's copies included).
    calling_bound: bool,
    /// The types expressions are expected to have, where the code says (`let s: f64 = e`,
    /// the function's value): keyed by the expression's address while it is lowered.
    expected: Vec<(usize, syn::Type)>,
    /// The function's return type, which `return e` gives `e`.
    output_ty: Option<syn::Type>,
}

impl Lower<'_> {
    // ----- building ops -----

    fn push(&mut self, kind: OpKind, span: Span, results: usize) -> Vec<Value> {
        let results: Vec<Value> = (0..results).map(|_| self.func.new_value(None)).collect();
        self.ops.push(Op::new(results.clone(), kind, span));
        results
    }

    fn push1(&mut self, kind: OpKind, span: Span) -> Val {
        Val::One(self.push(kind, span, 1)[0])
    }

    fn error(&mut self, tokens: impl quote::ToTokens, message: impl std::fmt::Display) -> Reported {
        self.errors.spanned(tokens, message)
    }

    // ----- scopes -----

    fn lookup(&self, name: &str) -> Option<&Binding> {
        self.scopes.iter().rev().find_map(|s| s.get(name))
    }

    /// The value of local variable `ident`: `Ok(None)` if it is not a local, `Err` (reported
    /// here, unless its `let` already was) if it has no value.
    fn local(&mut self, ident: &proc_macro2::Ident) -> R<Option<Val>> {
        match self.lookup(&ident.to_string()).cloned() {
            None => Ok(None),
            Some(Binding::Val(val)) => Ok(Some(val)),
            Some(Binding::Element {
                container, index, ..
            }) => {
                let Some(Binding::Val(Val::One(array))) = self.lookup(&container).cloned() else {
                    return Err(self.error(
                        ident,
                        format!("`{container}` is no longer a container here"),
                    ));
                };
                if self.row(array).is_some() {
                    return self.row_copy(&container, index, ident.span()).map(Some);
                }
                let load = self.push(OpKind::Index(array, index), ident.span(), 1)[0];
                Ok(Some(Val::One(load)))
            }
            Some(Binding::Poisoned) => Err(Reported),
            Some(Binding::Closure(_)) => Err(self.error(ident, ESCAPING_CLOSURE)),
            Some(Binding::Unassigned(_)) => {
                Err(self.error(ident, format!("`{ident}` is used before it is assigned")))
            }
        }
    }

    /// Binds `name` in the innermost scope, naming a fresh unnamed value after it.
    fn declare(&mut self, name: String, binding: Binding) {
        if let Binding::Val(Val::One(v)) = &binding {
            self.name_value(*v, &name);
        }
        let depth = self.scopes.len().saturating_sub(1);
        self.borrowed.remove(&(depth, name.clone()));
        if let Some(scope) = self.scopes.last_mut() {
            scope.insert(name, binding);
        }
    }

    /// Whether the innermost binding of `name` is a borrow of a container.
    fn is_borrowed(&self, name: &str) -> bool {
        self.scopes
            .iter()
            .rposition(|s| s.contains_key(name))
            .is_some_and(|depth| self.borrowed.contains(&(depth, name.to_string())))
    }

    /// Binds every name of `pat` as [`Binding::Poisoned`].
    fn poison(&mut self, pat: &Pat) {
        match pat {
            Pat::Ident(p) => self.declare(p.ident.to_string(), Binding::Poisoned),
            Pat::Tuple(p) => p.elems.iter().for_each(|p| self.poison(p)),
            Pat::TupleStruct(p) => p.elems.iter().for_each(|p| self.poison(p)),
            Pat::Slice(p) => p.elems.iter().for_each(|p| self.poison(p)),
            Pat::Struct(p) => p.fields.iter().for_each(|f| self.poison(&f.pat)),
            Pat::Or(p) => p.cases.iter().for_each(|p| self.poison(p)),
            Pat::Type(p) => self.poison(&p.pat),
            Pat::Paren(p) => self.poison(&p.pat),
            Pat::Reference(p) => self.poison(&p.pat),
            _ => {}
        }
    }

    /// Rebinds `name` where it was declared. `false` if it is not a local.
    fn reassign(&mut self, name: &str, val: Val) -> bool {
        if let Val::One(v) = &val {
            self.name_value(*v, name);
        }
        match self.scopes.iter_mut().rev().find_map(|s| s.get_mut(name)) {
            Some(slot) => {
                *slot = Binding::Val(val);
                true
            }
            None => false,
        }
    }

    fn name_value(&mut self, v: Value, name: &str) {
        let info = &mut self.func.values[v.index()];
        // A place stays unnamed: it is written inline (`p.w`), never moved into a local.
        if info.name.is_none() && info.place.is_none() {
            // Flags (`$ret`) are named after what they are, without the `$` that keeps them
            // apart from Rust names.
            info.name = Some(
                name.trim_start_matches("r#")
                    .trim_start_matches('$')
                    .trim_start_matches("__ad_")
                    .to_string(),
            );
        }
    }

    /// Runs `f` in a fresh scope.
    fn scoped<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> T {
        self.scopes.push(HashMap::new());
        let out = f(self);
        self.scopes.pop();
        out
    }

    // ----- statements -----

    /// A block: its statements in a new scope; its value is the tail expression's.
    fn block(&mut self, block: &syn::Block) -> R<Val> {
        self.scoped(|this| this.seq(&block.stmts))
    }

    /// Lowers statements in order, recording the errors of each and going on with the next.
    /// The value is the tail expression's, `()` without one, `Never` if the statements always
    /// exit. After a statement that may exit (`return`, `break`, `continue` inside), the rest
    /// runs in a region guarded by "no exit flag is set".
    fn seq(&mut self, stmts: &[Stmt]) -> R<Val> {
        for (i, stmt) in stmts.iter().enumerate() {
            let rest = &stmts[i + 1..];
            if let (Stmt::Expr(e, None), true) = (stmt, rest.is_empty()) {
                return self.expr(e);
            }
            if matches!(self.stmt(stmt), Ok(Val::Never)) {
                // The rest is unreachable (rustc warns about it in the original).
                return Ok(Val::Never);
            }
            if !rest.is_empty() && control::may_exit(stmt) {
                return self.guarded(|this| this.seq(rest));
            }
        }
        Ok(Val::Unit)
    }

    /// Lowers one statement; `Ok(Val::Never)` if it never completes, `Ok(Val::Unit)` otherwise.
    fn stmt(&mut self, stmt: &Stmt) -> R<Val> {
        match stmt {
            Stmt::Local(local) => self.local_stmt(local),
            Stmt::Item(item) => self.item_stmt(item),
            Stmt::Expr(e, _) => self.expr_stmt(e),
            Stmt::Macro(m) => self.effect(&m.mac).map(|()| Val::Unit),
        }
    }

    /// `let pat = init;` (or `let pat;`): the value bound to the pattern's names.
    fn local_stmt(&mut self, local: &syn::Local) -> R<Val> {
        if let Some(init) = &local.init
            && init.diverge.is_none()
            && let Some(names) = array_pattern(&local.pat)
        {
            return self.let_array(&names, &init.expr);
        }
        // `let P = e else { .. };` and `let S { a, b } = e;`: a `match` (but of a struct made
        // by a literal here, which `bind` destructures).
        let literal_struct = local
            .init
            .as_ref()
            .is_some_and(|init| match unparen(&init.expr) {
                Expr::Struct(_) => true,
                Expr::Path(p) => p.path.get_ident().is_some_and(|i| {
                    matches!(
                        self.lookup(&i.to_string()),
                        Some(Binding::Val(Val::Struct(_)))
                    )
                }),
                _ => false,
            });
        if !literal_struct && let Some(rewritten) = sugar::let_match(local) {
            return self.stmt(&rewritten);
        }
        if let Some(init) = &local.init
            && self.aliases_element(&local.pat, &init.expr)
        {
            self.bind_alias(&local.pat, &init.expr);
            return Ok(Val::Unit);
        }
        if let (Some(init), Pat::Ident(p)) = (&local.init, &local.pat)
            && let Expr::Closure(c) = unparen(&init.expr)
            && p.by_ref.is_none()
            && p.subpat.is_none()
        {
            let closure = chains::Closure {
                expr: c.clone(),
                scopes: self.captured(c),
            };
            self.declare(
                p.ident.to_string(),
                Binding::Closure(std::rc::Rc::new(closure)),
            );
            return Ok(Val::Unit);
        }
        let expected = self.expected.len();
        if let (Pat::Type(t), Some(init)) = (&local.pat, &local.init) {
            self.expect(&init.expr, &t.ty);
        }
        let first_new = self.func.values.len();
        // `let r = t;` of a name bound to a borrow (`let t = &q;`, a closure's parameter given
        // `&q`) copies the reference: `r` borrows `q` too.
        let reborrow = local
            .init
            .as_ref()
            .and_then(|init| calls::variable_name(&init.expr))
            .is_some_and(|n| self.is_borrowed(&n));
        let val = match &local.init {
            // `let b = a;` of a container binds a copy (a borrow `&a` binds `a`).
            Some(init) if matches!(&*init.expr, Expr::Reference(_)) => {
                self.let_init(&init.expr).map(Some)
            }
            Some(init) if reborrow => self.expr(&init.expr).map(Some),
            Some(init) => self
                .expr(&init.expr)
                .and_then(|val| self.owned(val, first_new, &init.expr))
                .map(Some),
            None => Ok(None),
        };
        self.expected.truncate(expected);
        if let Ok(Some(Val::Never)) = val {
            return Ok(Val::Never);
        }
        let borrow = reborrow
            || match &local.init {
                Some(init) => matches!(&*init.expr, Expr::Reference(r) if r.mutability.is_none()),
                None => false,
            };
        if let (Ok(Some(Val::One(v))), Pat::Ident(p)) = (&val, strip_type(&local.pat)) {
            self.container_by_use(*v, &p.ident)?;
        }
        let container = matches!(&val, Ok(Some(Val::One(v))) if self.func.storage(*v).is_some());
        let result = val.and_then(|val| self.bind(&local.pat, val, None, first_new));
        if result.is_err() {
            self.poison(&local.pat);
        }
        if let (true, true, Pat::Ident(p)) = (borrow, container, strip_type(&local.pat)) {
            let depth = self.scopes.len().saturating_sub(1);
            self.borrowed.insert((depth, p.ident.to_string()));
        }
        result.map(|()| Val::Unit)
    }

    /// A call's result bound to `name`, which the body uses as a container, is one (what it
    /// is is not known here otherwise: the callee's signature is not in view).
    fn container_by_use(&mut self, v: Value, name: &proc_macro2::Ident) -> R<()> {
        if !self.container_names.contains(&name.to_string()) {
            return Ok(());
        }
        if let Some(&span) = self.merged_calls.get(&v) {
            return Err(self.errors.push(syn::Error::new(span, format!("`{name}` is used as a container, and a container chosen by a branch between calls' results is not supported: bind one before the branch and assign the other in it, `let mut {name} = f(x); if !c {{ {name} = g(x); }}`"))));
        }
        if self.maybe_containers.contains(&v) {
            self.is_container(v);
        }
        Ok(())
    }

    /// `let [a, b, _] = e;` of an array: each name its element (a row, for a container of
    /// rows), read at once, as Rust copies them.
    fn let_array(&mut self, names: &[Option<&proc_macro2::Ident>], e: &Expr) -> R<Val> {
        let array = self.value(e)?;
        let span = op_span(e);
        if !self.is_container(array) {
            // An inactive array (`[usize; 2]`): its elements by index.
            for (k, name) in names.iter().enumerate() {
                let Some(name) = name else { continue };
                let Val::One(at) = self.push1(OpKind::Lit(ir::Literal::int(k, span)), span) else {
                    continue;
                };
                let value = self.push1(OpKind::Index(array, at), span);
                self.declare(name.to_string(), Binding::Val(value));
            }
            return Ok(Val::Unit);
        }
        let hidden = self.hidden("array", span).to_string();
        self.declare(hidden.clone(), Binding::Val(Val::One(array)));
        for (k, name) in names.iter().enumerate() {
            let Some(name) = name else { continue };
            let Val::One(at) = self.push1(OpKind::Lit(ir::Literal::int(k, span)), span) else {
                continue;
            };
            let value = match self.row(array) {
                Some(_) => self.row_copy(&hidden, at, span)?,
                None => self.push1(OpKind::Index(array, at), span),
            };
            self.declare(name.to_string(), Binding::Val(value));
        }
        Ok(Val::Unit)
    }

    /// Whether `let pat = e;` binds an element of a container (`let w = v;` with `v` of
    /// `iter_mut()`), in a tuple or alone (`let (i, w) = (k, v);`): then its names are bound
    /// to the element itself, which they write, as the references they are in Rust. (An
    /// element only read is loaded: the same value, as nothing can write it meanwhile.)
    fn aliases_element(&self, pat: &Pat, e: &Expr) -> bool {
        match (pat, e) {
            (Pat::Type(t), e) => self.aliases_element(&t.pat, e),
            (Pat::Tuple(p), Expr::Tuple(t)) if p.elems.len() == t.elems.len() => {
                let leaves = p.elems.iter().zip(&t.elems);
                let mut any = false;
                for (pat, e) in leaves {
                    match (pat, self.alias_source(e)) {
                        (Pat::Wild(_), _) => {}
                        (Pat::Tuple(_), _) if self.aliases_element(pat, e) => any = true,
                        (Pat::Ident(p), Some(b)) if is_plain_name(p) => {
                            any |= matches!(b, Binding::Element { writable: true, .. });
                        }
                        _ => return false,
                    }
                }
                any
            }
            (Pat::Ident(p), e) if is_plain_name(p) => match self.alias_source(e) {
                Some(Binding::Element { writable: true, .. }) => true,
                // A row only read is borrowed in Rust: nothing writes it meanwhile.
                Some(Binding::Element { container, .. }) => self.lookup(container).is_some_and(
                    |b| matches!(b, Binding::Val(Val::One(v)) if self.row(*v).is_some()),
                ),
                _ => false,
            },
            _ => false,
        }
    }

    /// The binding a name or element alias copies: an element, or a local that is not a
    /// container (a container bound again is a copy, [`Self::owned`]).
    fn alias_source(&self, e: &Expr) -> Option<&Binding> {
        let Expr::Path(p) = e else { return None };
        let name = p.path.get_ident()?.to_string();
        match self.lookup(&name)? {
            b @ Binding::Element { .. } => Some(b),
            b @ Binding::Val(Val::One(v)) if self.func.storage(*v).is_none() => Some(b),
            _ => None,
        }
    }

    /// Binds the names of `pat` as [`Self::aliases_element`] accepted.
    fn bind_alias(&mut self, pat: &Pat, e: &Expr) {
        match (pat, e) {
            (Pat::Type(t), e) => self.bind_alias(&t.pat, e),
            (Pat::Tuple(p), Expr::Tuple(t)) => {
                for (pat, e) in p.elems.iter().zip(&t.elems) {
                    self.bind_alias(pat, e);
                }
            }
            (Pat::Ident(p), e) => {
                if let Some(binding) = self.alias_source(e).cloned() {
                    self.declare(p.ident.to_string(), binding);
                }
            }
            _ => {}
        }
    }

    /// Records that `e` has type `ty`, and so do the values it may take: the tails of its
    /// blocks and of the arms of its `if` and `match`.
    fn expect(&mut self, e: &Expr, ty: &syn::Type) {
        self.expected.push((expr_key(e), ty.clone()));
        fn tail(b: &syn::Block) -> Option<&Expr> {
            match b.stmts.last() {
                Some(Stmt::Expr(e, None)) => Some(e),
                _ => None,
            }
        }
        match e {
            Expr::Paren(p) => self.expect(&p.expr, ty),
            Expr::Block(b) => {
                if let Some(e) = tail(&b.block) {
                    self.expect(e, ty);
                }
            }
            Expr::If(i) => {
                if let Some(e) = tail(&i.then_branch) {
                    self.expect(e, ty);
                }
                if let Some((_, els)) = &i.else_branch {
                    self.expect(els, ty);
                }
            }
            Expr::Match(m) => {
                for arm in &m.arms {
                    self.expect(&arm.body, ty);
                }
            }
            _ => {}
        }
    }

    /// An item declared in the body (`const`, `use`, `fn`), kept for the generated functions
    /// to declare again; refused if declaring it once per generated function changes what it
    /// means.
    fn item_stmt(&mut self, item: &syn::Item) -> R<Val> {
        // Each generated function declares the body's items again: state (a
        // `static`) would not be shared, and an `impl` would be defined twice.
        let message = match item {
            syn::Item::Static(_) => Some(
                "a `static` declared inside a #[reverse] function would be a different one in each generated function: declare it outside the function",
            ),
            syn::Item::Impl(_) => Some(
                "an `impl` inside a #[reverse] function would be repeated in each generated function: write it outside the function",
            ),
            syn::Item::Macro(m)
                if m.ident.is_some()
                    && m.attrs.iter().any(|a| a.path().is_ident("macro_export")) =>
            {
                Some(
                    "an exported macro inside a #[reverse] function would be exported by each generated function: declare it outside the function",
                )
            }
            _ => None,
        };
        let attrs: &[syn::Attribute] = match item {
            syn::Item::Fn(f) => &f.attrs,
            _ => &[],
        };
        let exported = attrs.iter().any(|a| {
            ["no_mangle", "export_name", "unsafe"]
                .iter()
                .any(|name| a.path().is_ident(name))
        });
        if let Some(message) = message.or(exported.then_some("an item with an exported symbol inside a #[reverse] function would be defined once per generated function: declare it outside the function")) {
                return Err(self.error(item, message));
            }
        self.items.push(item.clone());
        Ok(Val::Unit)
    }

    /// `e;` or the block's tail `e`.
    fn expr_stmt(&mut self, e: &Expr) -> R<Val> {
        let start = self.ops.len();
        let val = self.expr(e)?;
        // A value computed only to be dropped (`v.push(1);`): emit it as a statement.
        // (Not when a variable holds it: `{ s = x * x; s };`.)
        if let Val::One(v) = val
            && self.func.info(v).name.is_none()
            && let Some(op) = self.ops[start..].last_mut()
            && op.results == [v]
            && !matches!(op.kind, OpKind::If { .. })
        {
            op.results.clear();
        }
        Ok(if val == Val::Never {
            Val::Never
        } else {
            Val::Unit
        })
    }

    /// The value a `let` binds: `let w = &x;` of a container or parameter struct binds `w` to
    /// `x` itself (it is read through `w`), any other reference is a reference.
    pub(super) fn let_init(&mut self, e: &Expr) -> R<Val> {
        if let Expr::Reference(r) = e
            && r.mutability.is_some()
            && matches!(&*r.expr, Expr::Index(i) if matches!(&*i.index, Expr::Range(_)))
        {
            return Err(self.error(e, "writing through a sub-slice (`&mut x[a..b]`) is not supported yet: write the elements of `x` by index"));
        }
        if let Expr::Reference(r) = e
            && r.mutability.is_none()
        {
            let value = self.value(&r.expr)?;
            if self.is_struct(value) || self.func.storage(value).is_some() {
                return Ok(Val::One(value));
            }
            let reference = OpKind::Ref {
                mutable: false,
                value,
            };
            return Ok(self.push1(reference, op_span(e)));
        }
        self.expr(e)
    }

    /// Binds a `let` pattern to `val`. Values numbered from `first_new` on were created by
    /// this statement, so a type annotation can be put on the op that defines them.
    fn bind(
        &mut self,
        pat: &Pat,
        val: Option<Val>,
        ty: Option<&syn::Type>,
        first_new: usize,
    ) -> R<()> {
        match pat {
            Pat::Ident(p) if p.by_ref.is_none() && p.subpat.is_none() => {
                if let (Some(ty), Some(Val::One(v))) = (ty, &val) {
                    self.annotate(*v, ty, first_new);
                }
                let binding = match val {
                    Some(val) => Binding::Val(val),
                    None => Binding::Unassigned(Declared(ty.cloned().map(std::rc::Rc::new))),
                };
                self.declare(p.ident.to_string(), binding);
                Ok(())
            }
            Pat::Wild(_) => Ok(()),
            Pat::Type(p) => self.bind(&p.pat, val, Some(&p.ty), first_new),
            Pat::Paren(p) => self.bind(&p.pat, val, ty, first_new),
            // `let Point { x, y: b } = p;` of a struct made by a literal.
            Pat::Struct(p) if matches!(val, Some(Val::Struct(_))) => {
                let Some(Val::Struct(fields)) = val else {
                    return Err(Reported);
                };
                let mut result = Ok(());
                for field in &p.fields {
                    let name = field.member.to_token_stream().to_string();
                    let val = fields.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone());
                    if val.is_none() {
                        return Err(self.error(&field.member, "no such field in the struct literal"));
                    }
                    result = result.and(self.bind(&field.pat, val, None, first_new));
                }
                result
            }
            Pat::Tuple(p) => {
                // A tuple returned by a call, destructured.
                let val = match val {
                    Some(Val::One(v)) => match self.returned_tuple(v, p.elems.len()) {
                        Some(elements) => Some(Val::Tuple(elements.into_iter().map(Val::One).collect())),
                        // A tuple held whole (an element of an inactive `&[(usize, f64)]`):
                        // its fields, which a later check refuses of an active value.
                        None if self.func.storage(v).is_none() => {
                            let span = op_span(&syn::Expr::Verbatim(p.to_token_stream()));
                            let fields = (0..p.elems.len()).map(|k| {
                                let member = ir::Member::Unnamed { index: k as u32, span };
                                Val::One(self.push(OpKind::Field(v, member), span, 1)[0])
                            });
                            Some(Val::Tuple(fields.collect()))
                        }
                        None => Some(Val::One(v)),
                    },
                    other => other,
                };
                let elems: Vec<Option<Val>> = match val {
                    None => vec![None; p.elems.len()],
                    Some(Val::Tuple(vals)) if vals.len() == p.elems.len() => {
                        vals.into_iter().map(Some).collect()
                    }
                    Some(_) => {
                        return Err(self.error(p, "this tuple pattern does not match the value's shape"));
                    }
                };
                let tys: Vec<Option<&syn::Type>> = match ty {
                    Some(syn::Type::Tuple(t)) if t.elems.len() == p.elems.len() => {
                        t.elems.iter().map(Some).collect()
                    }
                    _ => vec![None; p.elems.len()],
                };
                let mut result = Ok(());
                for ((pat, val), ty) in p.elems.iter().zip(elems).zip(tys) {
                    result = result.and(self.bind(pat, val, ty, first_new));
                }
                result
            }
            other => Err(self.error(
                other,
                "only identifiers, `_` and tuples of them are supported in `let` patterns: bind a name and use its parts",
            )),
        }
    }

    /// Puts the annotation `ty` on the op of this statement that defines `v`.
    fn annotate(&mut self, v: Value, ty: &syn::Type, first_new: usize) {
        if v.index() < first_new {
            return;
        }
        // A call's result annotated as rows: the callee returns rows, held flat here.
        let from_call =
            (self.ops.iter()).any(|op| op.results == [v] && matches!(op.kind, OpKind::Call(_)));
        if from_call && rows::vec_of_vecs(ty).is_some() {
            self.errors.spanned(ty, "a container of `Vec`s returned by a function is not read by a #[reverse] caller yet: return rows of one length (`Vec<[f64; 3]>`), or the floats flat");
            return;
        }
        if let Some((_, len)) = rows::rows_type(ty) {
            self.call_returns_rows(v, len.to_token_stream(), syn::spanned::Spanned::span(ty));
        }
        // `let a: [f64; 2] = step(..);`: the type says the call's result is a container.
        if from_call && container_type(ty) {
            self.is_container(v);
        }
        let flat;
        let ty = match self.flat_annotation(v, ty) {
            Some(Some(ty)) => {
                flat = ty;
                &flat
            }
            Some(None) => return,
            None => ty,
        };
        match self.ops.iter_mut().rev().find(|op| op.results.contains(&v)) {
            Some(op) if op.results == [v] => op.ty = Some(ty.to_token_stream()),
            Some(_) => self.func.values[v.index()].ty = Some(ty.to_token_stream()),
            None => {}
        }
        // A container an `if` merged lives in a storage declared before it (`uninit`), which
        // the generated code declares: the type goes there too.
        if let Some(storage) = self.func.storage(v).filter(|&s| s != v)
            && let Some(op) = self.ops.iter_mut().rev().find(|op| op.results == [storage])
            && matches!(op.kind, OpKind::Array(ArrayInit::Uninit))
        {
            op.ty = Some(ty.to_token_stream());
        }
    }

    // ----- expressions -----

    /// Lowers an expression that must be a single value.
    fn value(&mut self, e: &Expr) -> R<Value> {
        match self.expr(e)? {
            Val::One(v) => Ok(v),
            // `()` written as a value (`Err(())`): the unit constant.
            Val::Unit if matches!(unparen(e), Expr::Tuple(t) if t.elems.is_empty()) => {
                Ok(self.push(OpKind::Path(quote::quote!(())), op_span(e), 1)[0])
            }
            Val::Unit => Err(self.error(e, "expected a value, found `()`")),
            Val::Tuple(_) => Err(self.error(
                e,
                "expected a single value, found a tuple: take one element with `.0`, `.1`, ...",
            )),
            Val::Struct(_) => Err(self.error(
                e,
                "a struct made by a literal in this function is used by its fields (`p.x`), not as one value (passed on, returned, compared): pass or return its fields",
            )),
            Val::Never => Err(self.error(
                e,
                "`return`, `break` and `continue` cannot be used as values: write them as statements",
            )),
        }
    }

    fn values<'e>(&mut self, es: impl IntoIterator<Item = &'e Expr>) -> R<Vec<Value>> {
        // Lower every argument even after an error, to report all errors at once.
        let results: Vec<R<Value>> = es.into_iter().map(|e| self.value(e)).collect();
        results.into_iter().collect()
    }

    fn expr(&mut self, e: &Expr) -> R<Val> {
        let span = op_span(e);
        match e {
            Expr::Lit(lit) => match literal(&lit.lit) {
                Some(lit) => Ok(self.push1(OpKind::Lit(lit), span)),
                None => Err(self.unsupported(e)),
            },
            Expr::Path(path) => {
                if path.qself.is_none()
                    && let Some(ident) = path.path.get_ident()
                    && let Some(val) = self.local(ident)?
                {
                    return Ok(val);
                }
                Ok(self.push1(OpKind::Path(path.to_token_stream()), span))
            }
            Expr::Paren(p) => self.expr(&p.expr),
            Expr::Group(g) => self.expr(&g.expr),
            Expr::Block(b) => match sugar::labelled_block(b) {
                Some(rewritten) => self.expr(&rewritten),
                None => self.block(&b.block),
            },
            Expr::If(_)
            | Expr::Match(_)
            | Expr::ForLoop(_)
            | Expr::While(_)
            | Expr::Loop(_)
            | Expr::Break(_)
            | Expr::Continue(_)
            | Expr::Return(_) => self.control(e),
            Expr::Tuple(t) => self.tuple(t),
            Expr::Struct(s) => self.struct_literal(s),
            Expr::Unary(u) if matches!(u.op, UnOp::Deref(_)) && self.element(&u.expr).is_some() => {
                // `*v` of an element binding is the element.
                self.expr(&u.expr)
            }
            Expr::Unary(u) => self.unary(u, e, span),
            Expr::Binary(b) => self.binary(b, span),
            Expr::Assign(a) => self.assign_expr(a),
            Expr::Cast(c) => self.cast(c, span),
            Expr::MethodCall(m) => match self.chain_expr(e)? {
                Some(rewritten) => self.expr(&rewritten),
                None => self.method_call(m, e, span),
            },
            Expr::Call(call) => {
                let val = self.call_expr(call, e, span)?;
                // A call where a container is expected (the returned value of a function
                // returning one) gives a container.
                if let Val::One(v) = val
                    && self.maybe_containers.contains(&v)
                    && self.expected_type(e).is_some_and(|ty| container_type(&ty))
                {
                    self.is_container(v);
                }
                Ok(val)
            }
            Expr::Field(f) => self.field(f, span),
            Expr::Index(i) => self.index(i, span),
            Expr::Repeat(r) => self.repeat(r, span),
            Expr::Array(a) => self.array_literal(a, span),
            Expr::Reference(r) => {
                let value = self.value(&r.expr)?;
                let mutable = r.mutability.is_some();
                Ok(self.push1(OpKind::Ref { mutable, value }, span))
            }
            Expr::Macro(m) => {
                if let Some(array) = self.vec_macro(&m.mac, span) {
                    return array;
                }
                self.effect(&m.mac)?;
                Ok(Val::Unit)
            }
            _ => Err(self.unsupported(e)),
        }
    }

    /// `(a, b, ..)`: a tuple of the IR, whose elements are values of their own.
    fn tuple(&mut self, t: &syn::ExprTuple) -> R<Val> {
        let results: Vec<R<Val>> = t.elems.iter().map(|e| self.expr(e)).collect();
        let vals = results.into_iter().collect::<R<Vec<Val>>>()?;
        // A tuple with an element that does not complete (`(loop {}, x)`) does not.
        Ok(if vals.is_empty() {
            Val::Unit
        } else if vals.iter().any(|v| matches!(v, Val::Never)) {
            Val::Never
        } else {
            Val::Tuple(vals)
        })
    }

    /// `-x` (the primitive `neg`), `!x` or `*x`.
    fn unary(&mut self, u: &syn::ExprUnary, e: &Expr, span: Span) -> R<Val> {
        let operand = self.value(&u.expr)?;
        Ok(match u.op {
            UnOp::Neg(_) => self.prim(prims::prefix('-'), vec![operand], span, e)?,
            UnOp::Not(_) => self.push1(OpKind::Unary(ir::UnOp::Not, operand), span),
            UnOp::Deref(_) => self.push1(OpKind::Unary(ir::UnOp::Deref, operand), span),
            _ => return Err(self.unsupported(e)),
        })
    }

    /// `x as ty`, with what `ty` is settled here ([`Number`]), for the stages after, which
    /// do not read types.
    fn cast(&mut self, c: &syn::ExprCast, span: Span) -> R<Val> {
        let v = self.value(&c.expr)?;
        let to = if self.sig.is_float(&c.ty) {
            Number::Float
        } else if crate::signature::is_integer(&c.ty) {
            Number::Integer
        } else {
            Number::Unknown
        };
        Ok(self.push1(OpKind::Cast(v, c.ty.to_token_stream(), to), span))
    }

    /// `place = value`: a variable, an element, or a whole container.
    fn assign_expr(&mut self, a: &syn::ExprAssign) -> R<Val> {
        let first_new = self.func.values.len();
        let val = self.expr(&a.right)?;
        self.assign_guarded(&a.right, |this| {
            if let Some(val) = this.whole_assignment(&a.left, &a.right, val, first_new)? {
                this.assign(&a.left, val)?;
            }
            Ok(())
        })?;
        Ok(Val::Unit)
    }

    /// `receiver.method(args)`: a primitive (`x.sin()`), a container method (`v.len()`), a
    /// method of a parameter struct (a call of another `#[reverse]` function), or a method
    /// with no rule on inactive values.
    fn method_call(&mut self, m: &syn::ExprMethodCall, e: &Expr, span: Span) -> R<Val> {
        if let Some(sum) = self.iter_sum(m, span) {
            return sum;
        }
        // The length of a row, without copying it.
        if m.method == "len" && m.args.is_empty() && self.is_row(&m.receiver) {
            let Some((name, row)) = self.row_place(&m.receiver)? else {
                return Err(self.unsupported(e));
            };
            return Ok(Val::One(self.row_length(&name, row, span)?));
        }
        let recv = self.value(&m.receiver)?;
        if let Some(product) = self.library_method(m, recv, span) {
            return product;
        }
        // A method of a parameter struct (not a `Float` or container method of a field
        // that turns out to be a float or a container): a call of another `#[reverse]`
        // function.
        let name = m.method.to_string();
        let known = prims::method(&name, m.args.len() + 1).is_some()
            || matches!(name.as_str(), "len" | "is_empty" | "push")
            // A copy of a container field (`p.w.clone()`).
            || (matches!(name.as_str(), "clone" | "to_vec" | "to_owned")
                && self.is_container(recv));
        if self.has_methods(recv) && !known {
            let callee = Callee::Method {
                name: m.method.clone(),
                turbofish: m.turbofish.as_ref().map(ToTokens::to_token_stream),
            };
            return self.call(callee, Through::Pullback, Some(recv), &m.args, span);
        }
        let args = match prims::method(&name, m.args.len() + 1) {
            // `a.partial_cmp(&b)`: the float `b`, which the emitted call borrows again.
            Some(prim) if prim.operands.contains(&prims::Operand::Borrowed) => {
                let borrowed = m.args.iter().map(|arg| match arg {
                    Expr::Reference(r) if r.mutability.is_none() => self.value(&r.expr),
                    other => self.value(other),
                });
                borrowed.collect::<R<Vec<Value>>>()?
            }
            _ => self.values(&m.args)?,
        };
        if let Some(result) = self.container_method(m, recv, &args, span) {
            return result;
        }
        let prim = match &m.turbofish {
            None => prims::method(&m.method.to_string(), args.len() + 1),
            Some(_) => None,
        };
        match prim {
            Some(prim) => {
                let operands = std::iter::once(recv).chain(args).collect();
                self.prim(Some(prim), operands, span, e)
            }
            None => self.method(m, recv, args, span),
        }
    }

    /// `path(args)`: a container constructor, a runtime function, a primitive written as a
    /// function (`f64::sin(x)`), or a call of another function.
    fn call_expr(&mut self, call: &syn::ExprCall, e: &Expr, span: Span) -> R<Val> {
        // `(|v| v * v)(x)`: the closure inlined in place.
        if let Expr::Closure(_) = unparen(&call.func) {
            let args = call.args.iter().cloned().collect();
            let inlined = self.inline(&call.func, args)?;
            return self.expr(&inlined);
        }
        let Expr::Path(func) = &*call.func else {
            return Err(self.error(
                &call.func,
                "only calls of named functions are supported: call the function by its path",
            ));
        };
        if func.qself.is_none()
            && let Some(ident) = func.path.get_ident()
            && let Some(Binding::Closure(closure)) = self.lookup(&ident.to_string()).cloned()
        {
            return self.call_closure(&closure, &call.args, span);
        }
        if func.qself.is_none()
            && let Some(ident) = func.path.get_ident()
            && self.local(ident)?.is_some()
        {
            return Err(self.error(ident, "calls through local variables (closures, function pointers) are not supported: call a named function"));
        }
        if let Some(array) = self.vec_constructor(func, &call.args, span) {
            return array;
        }
        if is_mem_swap(func) && call.args.len() == 2 {
            return self.swap(&call.args[0], &call.args[1]);
        }
        if let Some(result) = self.runtime_function_call(func, &call.args, span) {
            return result;
        }
        if let Some(prim) = self.path_prim(func, call.args.len()) {
            let args = self.values(&call.args)?;
            return self.prim(Some(prim), args, span, e);
        }
        self.path_call(func, &call.args, span)
    }

    /// `std::mem::swap(&mut a, &mut b)`: each place assigned the other's value. Containers
    /// are refused, as in a destructuring assignment.
    fn swap(&mut self, a: &Expr, b: &Expr) -> R<Val> {
        fn place(e: &Expr) -> Option<&Expr> {
            match unparen(e) {
                Expr::Reference(r) if r.mutability.is_some() => Some(&*r.expr),
                _ => None,
            }
        }
        let (Some(pa), Some(pb)) = (place(a), place(b)) else {
            return Err(self.error(
                a,
                "`mem::swap` takes two places as `&mut`: `std::mem::swap(&mut a, &mut b)`",
            ));
        };
        let (va, vb) = (self.value(pa)?, self.value(pb)?);
        for (e, v) in [(pa, va), (pb, vb)] {
            if self.func.storage(v).is_some() {
                return Err(self.error(e, "`mem::swap` of containers is not supported: swap their elements, or assign one at a time (`x = y;` copies `y`'s elements)"));
            }
        }
        self.assign(pa, Val::One(vb))?;
        self.assign(pb, Val::One(va))?;
        Ok(Val::Unit)
    }

    /// `Path { a: e1, b: e2 }`: its fields, lowered in the order written (Rust's), held by
    /// name for the reads and writes of its fields; no `..base`.
    fn struct_literal(&mut self, s: &syn::ExprStruct) -> R<Val> {
        if let Some(rest) = &s.rest {
            return Err(self.error(
                rest,
                "`..base` in a struct literal is not supported: write every field",
            ));
        }
        let mut fields = Vec::new();
        for field in &s.fields {
            let val = self.expr(&field.expr)?;
            fields.push((field.member.to_token_stream().to_string(), val));
        }
        Ok(Val::Struct(fields))
    }

    /// `base.member`: an element of a tuple of the IR, a field of a parameter struct (a
    /// place), or a field of an inactive value.
    fn field(&mut self, f: &syn::ExprField, span: Span) -> R<Val> {
        let base = self.expr(&f.base)?;
        match (base, &f.member) {
            (Val::Struct(fields), member) => {
                let name = member.to_token_stream().to_string();
                match fields.into_iter().find(|(n, _)| *n == name) {
                    Some((_, val)) => Ok(val),
                    None => Err(self.error(member, "no such field in the struct literal")),
                }
            }
            (Val::Tuple(vals), syn::Member::Unnamed(index)) => {
                match vals.get(index.index as usize) {
                    Some(val) => Ok(val.clone()),
                    None => Err(self.error(index, "no such tuple element")),
                }
            }
            (Val::One(v), member) if self.is_struct(v) => {
                Ok(Val::One(self.field_place(v, member, span)))
            }
            (Val::One(v), member) => {
                let field = self.push1(OpKind::Field(v, ir_member(member)), span);
                // Behind a `&mut` parameter, the field may change later (a method of
                // the parameter): the value read here is kept, a clone bound now.
                match (field, root_variable(&f.base)) {
                    (Val::One(field), Some(name)) if self.mut_param(&name) => {
                        let clone = syn::Ident::new("clone", span);
                        Ok(self.push1(
                            OpKind::Method {
                                recv: field,
                                method: clone,
                                turbofish: None,
                                args: Vec::new(),
                            },
                            span,
                        ))
                    }
                    (field, _) => Ok(field),
                }
            }
            _ => Err(self.error(&f.member, "no such field")),
        }
    }

    /// A method with no rule (on inactive values: activity reports the others). One that may
    /// change its receiver (not [`read_only`]) called on a variable gives the variable a new
    /// value: a container a new version (`touched`), so that nothing reads the old elements
    /// after; any other value a copy the method then changes (`fresh`), so that the old value,
    /// which the reverse sweep may read, stays as it was.
    ///
    /// Before: `let y = x * c; c.add_assign(1.0);`  (`c` a local)
    /// After:  `%y.4 = mul %x.0, %c.2; %c.5 = fresh %c.2; %6 = method %c.5.add_assign(..)`
    fn method(
        &mut self,
        m: &syn::ExprMethodCall,
        recv: Value,
        args: Vec<Value>,
        span: Span,
    ) -> R<Val> {
        let call = |recv| OpKind::Method {
            recv,
            method: m.method.clone(),
            turbofish: m.turbofish.as_ref().map(ToTokens::to_token_stream),
            args,
        };
        if read_only(&m.method.to_string()) {
            return Ok(self.push1(call(recv), span));
        }
        let receiver = unparen(&m.receiver);
        let variable = match receiver {
            Expr::Path(p) if p.qself.is_none() => p.path.get_ident().map(ToString::to_string),
            _ => None,
        };
        match variable.as_ref().and_then(|name| self.lookup(name)) {
            Some(Binding::Val(Val::One(_))) => {}
            Some(Binding::Element { .. }) => {
                return Err(self.error(receiver, format!("`{}` may change the element it is called on, which #[reverse] does not model: compute the new value and assign it (`*v = ..`)", m.method)));
            }
            _ if root_variable(receiver).is_some_and(|name| self.lookup(&name).is_some()) => {
                return Err(self.error(receiver, format!("`{}` may change the field it is called on, which #[reverse] does not model: call it on a variable of its own", m.method)));
            }
            _ => return Ok(self.push1(call(recv), span)),
        }
        let Some(name) = variable else {
            return Ok(self.push1(call(recv), span));
        };
        // A `&mut` parameter is changed where it points: its fields are read into values of
        // their own (see `Expr::Field`), so the reference itself stays.
        if self.mut_param(&name) {
            return Ok(self.push1(call(recv), span));
        }
        if self.func.storage(recv).is_some() {
            self.check_unshared(recv, receiver)?;
            let len = self.push(OpKind::Len(recv), span, 1)[0];
            let result = self.push1(call(recv), span);
            let version = self.push(OpKind::Touched { array: recv, len }, span, 1)[0];
            self.inherit_storage(version, recv);
            self.reassign(&name, Val::One(version));
            return Ok(result);
        }
        let fresh = self.push(OpKind::Fresh(recv), span, 1)[0];
        self.reassign(&name, Val::One(fresh));
        Ok(self.push1(call(fresh), span))
    }

    /// Whether `name` is, here, a parameter taken as `&mut T` (not a container).
    fn mut_param(&self, name: &str) -> bool {
        let innermost = self.scopes.iter().rposition(|s| s.contains_key(name));
        innermost == Some(0)
            && self.sig.params.iter().any(|p| {
                p.ident.as_ref().is_some_and(|i| i == name)
                    && !p.shape.is_container()
                    && matches!(&p.ty, syn::Type::Reference(r) if r.mutability.is_some())
            })
    }

    /// Pushes a primitive; `None` (no primitive for this operator) is reported on `e`.
    fn prim(
        &mut self,
        prim: Option<&'static prims::Prim>,
        operands: Vec<Value>,
        span: Span,
        e: &Expr,
    ) -> R<Val> {
        let Some(prim) = prim else {
            return Err(self.error(e, "this operator has no derivative rule"));
        };
        let results = self.push(OpKind::Prim(prim, operands), span, prim.results);
        Ok(match results.as_slice() {
            [one] => Val::One(*one),
            many => Val::Tuple(many.iter().map(|&v| Val::One(v)).collect()),
        })
    }

    fn binary(&mut self, b: &syn::ExprBinary, span: Span) -> R<Val> {
        if let BinOp::And(_) | BinOp::Or(_) = b.op {
            return self.logic(b, span);
        }
        let element_place = match &*b.left {
            Expr::Unary(u) if matches!(u.op, UnOp::Deref(_)) => self.element(&u.expr),
            _ => None,
        };
        if let Some((container, index)) = element_place
            && (is_compound(&b.op) || compound_prim(&b.op).is_some())
        {
            // `*v op= x` of an element binding.
            let array = self.container(&container, &b.left)?;
            return self.update(&container, array, index, b, span);
        }
        if let Expr::Index(place) = &*b.left
            && (is_compound(&b.op) || compound_prim(&b.op).is_some())
        {
            // `x[i] op= v`: the right side first (the Rust reference, "Compound assignment
            // expressions": `v[i] += { i = 2; s }` adds to `v[2]`), then the place, lowered
            // once, read, and written; nothing of it runs if the right side exits.
            let rhs = self.value(&b.right)?;
            self.assign_guarded(&b.right, |this| {
                let (name, array, index) = this.place(place)?;
                let old = this.push(OpKind::Index(array, index), op_span(&b.left), 1)[0];
                let new = this.combine(b, old, rhs, span)?;
                this.store(&name, array, index, new, span)
            })?;
            return Ok(Val::Unit);
        }
        // `m * v` of nalgebra's containers (written `&m * &v` too): a product.
        if let BinOp::Mul(_) = b.op {
            let lhs = self.value(containers::strip_ref(&b.left));
            let rhs = self.value(containers::strip_ref(&b.right));
            let (lhs, rhs) = (lhs?, rhs?);
            if let Some(product) = self.library_mul(lhs, rhs, b, span) {
                return product;
            }
            let mul = prims::infix('*').ok_or(Reported)?;
            return Ok(self.push1(OpKind::Prim(mul, vec![lhs, rhs]), span));
        }
        // A compound assignment of primitives evaluates its right side first (the Rust
        // reference, "Compound assignment expressions"): `s += { s = 1.0; s }` adds to 1.
        let (lhs, rhs) = if is_assignment(&b.op) {
            let rhs = self.value(&b.right);
            (self.value(&b.left), rhs)
        } else {
            let lhs = self.value(&b.left);
            (lhs, self.value(&b.right))
        };
        let (lhs, rhs) = (lhs?, rhs?);
        let arithmetic = |c: char| prims::infix(c).map(|p| (p, false));
        let compound = |c: char| prims::infix(c).map(|p| (p, true));
        let prim = match b.op {
            BinOp::Add(_) => arithmetic('+'),
            BinOp::Sub(_) => arithmetic('-'),
            BinOp::Mul(_) => arithmetic('*'),
            BinOp::Div(_) => arithmetic('/'),
            BinOp::Rem(_) => arithmetic('%'),
            BinOp::AddAssign(_) => compound('+'),
            BinOp::SubAssign(_) => compound('-'),
            BinOp::MulAssign(_) => compound('*'),
            BinOp::DivAssign(_) => compound('/'),
            BinOp::RemAssign(_) => compound('%'),
            _ => None,
        };
        match prim {
            Some((prim, false)) => Ok(self.push1(OpKind::Prim(prim, vec![lhs, rhs]), span)),
            Some((prim, true)) => {
                let val = self.push1(OpKind::Prim(prim, vec![lhs, rhs]), span);
                self.assign_guarded(&b.right, |this| this.assign(&b.left, val))?;
                Ok(Val::Unit)
            }
            None => {
                let Some(op) = ir_binop(&b.op) else {
                    return Err(self.error(b.op, "this operator is not supported"));
                };
                let val = self.push1(OpKind::Binary(op, lhs, rhs), span);
                if !is_compound(&b.op) {
                    return Ok(val);
                }
                // `a <<= b` and friends: integer-only, rebuilt as `a = a << b`.
                self.assign_guarded(&b.right, |this| this.assign(&b.left, val))?;
                Ok(Val::Unit)
            }
        }
    }

    /// Runs `effect` (the write of an assignment whose right side is `rhs`) only on the paths
    /// where `rhs` did not exit (`s *= match k { 0 => x, _ => continue };`, exits.rs).
    fn assign_guarded(&mut self, rhs: &Expr, effect: impl FnOnce(&mut Self) -> R<()>) -> R<()> {
        if !control::expr_may_exit(rhs) {
            return effect(self);
        }
        self.guarded(|this| effect(this).map(|()| Val::Unit))
            .map(|_| ())
    }

    /// `container[index] op= b.right`: read, combine, write.
    fn update(
        &mut self,
        container: &str,
        array: Value,
        index: Value,
        b: &syn::ExprBinary,
        span: Span,
    ) -> R<Val> {
        let rhs = self.value(&b.right)?;
        let old = self.push(OpKind::Index(array, index), op_span(&b.left), 1)[0];
        let new = self.combine(b, old, rhs, span)?;
        self.assign_guarded(&b.right, |this| {
            // The container's version after the right side (its exits may have merged it).
            let array = this.container(container, &b.left)?;
            this.store(container, array, index, new, span)
        })?;
        Ok(Val::Unit)
    }

    /// `old op rhs` of the compound assignment `b`.
    fn combine(&mut self, b: &syn::ExprBinary, old: Value, rhs: Value, span: Span) -> R<Val> {
        Ok(match compound_prim(&b.op) {
            Some(prim) => self.push1(OpKind::Prim(prim, vec![old, rhs]), span),
            None => match ir_binop(&b.op) {
                Some(op) => self.push1(OpKind::Binary(op, old, rhs), span),
                None => return Err(self.error(b.op, "this operator is not supported")),
            },
        })
    }

    /// The container and index of an element binding `e` (a path to one), if it is one.
    fn element(&self, e: &Expr) -> Option<(String, Value)> {
        let Expr::Path(p) = e else { return None };
        let ident = p.path.get_ident()?;
        match self.lookup(&ident.to_string())? {
            Binding::Element {
                container, index, ..
            } => Some((container.clone(), *index)),
            _ => None,
        }
    }

    /// Whether the element binding `e` (a path to one) may be written.
    fn writable_element(&self, e: &Expr) -> bool {
        let Expr::Path(p) = e else { return false };
        p.path.get_ident().is_some_and(|ident| {
            matches!(
                self.lookup(&ident.to_string()),
                Some(Binding::Element { writable: true, .. })
            )
        })
    }

    /// The current version of the container variable `name`.
    fn container(&mut self, name: &str, at: &Expr) -> R<Value> {
        match self.lookup(name).cloned() {
            Some(Binding::Val(Val::One(array))) if self.is_container(array) => Ok(array),
            _ => Err(self.error(at, format!("`{name}` is no longer a container here"))),
        }
    }

    /// `a && b`, `a || b`: `b` is lowered into a region that runs only when needed.
    fn logic(&mut self, b: &syn::ExprBinary, span: Span) -> R<Val> {
        let lhs = self.value(&b.left)?;
        let or = matches!(b.op, BinOp::Or(_));
        let rhs = |this: &mut Self| this.expr(&b.right);
        self.short_circuit(or, lhs, &b.right, rhs, span)
            .map(Val::One)
    }

    /// `place = val`, for a local variable `place`.
    fn assign(&mut self, place: &Expr, val: Val) -> R<()> {
        // `p.x = v` of a struct made by a literal: the struct with that field replaced.
        if let Expr::Field(f) = place
            && let Expr::Path(base) = unparen(&f.base)
            && let Some(ident) = base.path.get_ident()
            && let Some(Binding::Val(Val::Struct(fields))) =
                self.lookup(&ident.to_string()).cloned()
        {
            let field = f.member.to_token_stream().to_string();
            if !fields.iter().any(|(n, _)| *n == field) {
                return Err(self.error(&f.member, "no such field in the struct literal"));
            }
            let fields = (fields.into_iter())
                .map(|(n, v)| match n == field {
                    true => (n, val.clone()),
                    false => (n, v),
                })
                .collect();
            self.reassign(&ident.to_string(), Val::Struct(fields));
            return Ok(());
        }
        match place {
            Expr::Paren(p) => self.assign(&p.expr, val),
            Expr::Path(path) if path.qself.is_none() && path.path.get_ident().is_some() => {
                let name = path.path.segments[0].ident.to_string();
                if self.reassign(&name, val) {
                    Ok(())
                } else {
                    Err(self.error(place, format!("`{name}` is not a local variable: only locals and parameters can be assigned")))
                }
            }
            Expr::Index(_) | Expr::Unary(_) if self.is_row(place) => {
                let Some((name, row)) = self.row_place(place)? else {
                    return Err(Reported);
                };
                self.row_write(&name, row, val, op_span(place))
            }
            Expr::Index(i) => {
                let (name, array, index) = self.place(i)?;
                self.store(&name, array, index, val, op_span(place))
            }
            Expr::Unary(u) if matches!(u.op, UnOp::Deref(_)) => match self.element(&u.expr) {
                Some((container, index)) => {
                    let array = self.container(&container, place)?;
                    self.store(&container, array, index, val, op_span(place))
                }
                None => Err(self.error(
                    place,
                    "writing through a reference is supported only for the elements of `iter_mut()`: assign a local variable, or an element `x[i]` of a `&mut [F]` parameter",
                )),
            },
            Expr::Tuple(t) => self.assign_tuple(t, val),
            // `_ = e;` and the `_` of `(a, _) = ..`: the value is dropped.
            Expr::Infer(_) => Ok(()),
            _ => Err(self.error(
                place,
                "only local variables can be assigned: assign to a `let` binding",
            )),
        }
    }

    /// `(a, b) = (b, a + b);`: the right side is evaluated whole, then each place assigned,
    /// left to right. A tuple a call returns is taken apart at the call (as `let (a, b) =
    /// g(x);` does). Containers are refused: a whole assignment copies a container's
    /// elements, which a tuple of them does not say; assign them one at a time.
    fn assign_tuple(&mut self, t: &syn::ExprTuple, val: Val) -> R<()> {
        let arity = t.elems.len();
        let vals = match val {
            Val::Tuple(vals) => vals,
            Val::One(v) => match self.returned_tuple(v, arity) {
                Some(values) => values.into_iter().map(Val::One).collect(),
                None => Vec::new(),
            },
            _ => Vec::new(),
        };
        if vals.len() != arity {
            return Err(self.error(
                t,
                format!("the right side is not a tuple of {arity} values: assign the places one at a time"),
            ));
        }
        for (place, val) in t.elems.iter().zip(vals) {
            let old = control::assigned_name(place).and_then(|name| match self.lookup(&name) {
                Some(Binding::Val(Val::One(old))) => Some(*old),
                _ => None,
            });
            let container = |v: Option<Value>| v.is_some_and(|v| self.func.storage(v).is_some());
            let new = match &val {
                Val::One(v) => Some(*v),
                _ => None,
            };
            // A variable that holds a container (not an element of one, `p[0]`).
            let variable = matches!(unparen(place), Expr::Path(_));
            if (variable && container(old)) || container(new) {
                return Err(self.error(
                    place,
                    "a container in a destructuring assignment: assign containers one at a time (`x = y;` copies `y`'s elements)",
                ));
            }
            self.assign(place, val)?;
        }
        Ok(())
    }

    /// The primitive named by a path-form call: `f64::sin(x)`, `T::sin(x)`, `Float::sin(x)`,
    /// `num_traits::Float::sin(x)`, `<T as Float>::sin(x)`.
    fn path_prim(&self, func: &syn::ExprPath, operands: usize) -> Option<&'static prims::Prim> {
        let segments = &func.path.segments;
        let last = segments.last()?;
        if !last.arguments.is_none() {
            return None;
        }
        let prim = prims::method(&last.ident.to_string(), operands)?;
        let is_float_trait = |s: &syn::PathSegment| s.ident == "Float";
        let prefix: Vec<&syn::PathSegment> = segments.iter().take(segments.len() - 1).collect();
        let ok = match (&func.qself, prefix.as_slice()) {
            (Some(qself), [.., trait_]) => self.sig.is_float(&qself.ty) && is_float_trait(trait_),
            (None, [only]) => {
                only.arguments.is_none()
                    && (is_float_trait(only) || self.sig.is_float_name(&only.ident))
            }
            (None, [.., trait_]) => is_float_trait(trait_),
            _ => false,
        };
        ok.then_some(prim)
    }

    /// The error for an expression outside the supported subset, saying what to do instead.
    fn unsupported(&mut self, e: &Expr) -> Reported {
        let message = match e {
            Expr::Closure(_) => ESCAPING_CLOSURE,
            Expr::Unsafe(_) => {
                "`unsafe` blocks are not supported: #[reverse] differentiates safe code; move the unsafe part out of the function"
            }
            Expr::Async(_) | Expr::Await(_) => {
                "async code is not supported: differentiate the synchronous computation"
            }
            Expr::Try(_) => {
                "the `?` operator is not supported: a #[reverse] function returns floats, so there is no `Option` or `Result` to return; handle the case with `let Some(v) = e else { return .. };`, `match`, or `.unwrap()`"
            }
            Expr::Range(_) => "ranges are supported only as the bounds of a `for` loop",
            Expr::Let(_) => {
                "`let` is supported as the whole condition of `if let` and `while let`: nest a further test inside"
            }
            Expr::TryBlock(_) | Expr::Yield(_) | Expr::Const(_) | Expr::RawAddr(_) => {
                "this expression is not supported by #[reverse]"
            }
            _ => "this expression is not supported by #[reverse]",
        };
        self.error(e, message)
    }
}

/// A name bound without `mut`, `ref` or a subpattern: `let w = v;` of an element aliases it
/// (`let mut w = v;` is a copy the body may change).
/// The identifier `name` (a raw one, `r#box`, as written).
fn ident(name: &str, span: Span) -> proc_macro2::Ident {
    match name.strip_prefix("r#") {
        Some(raw) => proc_macro2::Ident::new_raw(raw, span),
        None => proc_macro2::Ident::new(name, span),
    }
}

/// Whether `ty` is written as a container: an array, a slice, a `Vec`, or a reference to one.
pub(super) fn container_type(ty: &syn::Type) -> bool {
    match ty {
        syn::Type::Array(_) | syn::Type::Slice(_) => true,
        syn::Type::Reference(r) => container_type(&r.elem),
        syn::Type::Paren(p) => container_type(&p.elem),
        syn::Type::Path(p) => {
            p.qself.is_none() && p.path.segments.last().is_some_and(|s| s.ident == "Vec")
        }
        _ => false,
    }
}

/// `pat` without its type annotation.
fn strip_type(pat: &Pat) -> &Pat {
    match pat {
        Pat::Type(t) => &t.pat,
        other => other,
    }
}

/// The names of an array pattern of names and `_` (`[a, _, c]`, `[x, y]: [f64; 2]`), in
/// order (`None` for `_`).
fn array_pattern(pat: &Pat) -> Option<Vec<Option<&proc_macro2::Ident>>> {
    match pat {
        Pat::Type(t) => array_pattern(&t.pat),
        Pat::Slice(s) => s
            .elems
            .iter()
            .map(|p| match p {
                Pat::Ident(p) if p.by_ref.is_none() && p.subpat.is_none() => Some(Some(&p.ident)),
                Pat::Wild(_) => Some(None),
                _ => None,
            })
            .collect(),
        _ => None,
    }
}

fn is_plain_name(p: &syn::PatIdent) -> bool {
    p.by_ref.is_none() && p.mutability.is_none() && p.subpat.is_none()
}

/// Why a closure may not be used as a value.
const ESCAPING_CLOSURE: &str = "a closure can be called, bound with `let` and called, or passed to an iterator adaptor (`map`, `filter`, `fold`, `for_each`, ...): #[reverse] inlines it at each call, so it cannot be returned, stored, or passed to a function or method";

/// The key of `e` in [`Lower::expected`]: its address, stable while the syntax is borrowed.
fn expr_key(e: &Expr) -> usize {
    e as *const Expr as usize
}

/// Methods that only read their receiver, as far as their names tell (the macro sees no
/// types): any other method called on a variable is taken to change it.
const READ_ONLY_METHODS: &[&str] = &[
    "len",
    "is_empty",
    // The shape queries of nalgebra's and ndarray's containers.
    "nrows",
    "ncols",
    "dim",
    "shape",
    "iter",
    "into_iter",
    "contains",
    "contains_key",
    "get",
    "first",
    "last",
    "clone",
    "to_owned",
    "to_vec",
    "to_string",
    "binary_search",
    "starts_with",
    "ends_with",
    "as_slice",
    "as_str",
    "as_ref",
    "as_bytes",
    "chars",
    "bytes",
    "lines",
    "trim",
    "parse",
    "unwrap",
    "expect",
    "unwrap_or",
    "unwrap_or_default",
    "is_some",
    "is_none",
    "is_ok",
    "is_err",
    "ok",
    "err",
    "copied",
    "cloned",
    "pow",
    "abs",
    "min",
    "max",
    "count_ones",
    "count_zeros",
    "leading_zeros",
    "trailing_zeros",
    "is_power_of_two",
    "checked_add",
    "checked_sub",
    "checked_mul",
    "checked_div",
    "wrapping_add",
    "wrapping_sub",
    "wrapping_mul",
    "saturating_add",
    "saturating_sub",
    "saturating_mul",
    "rem_euclid",
    "div_euclid",
    "abs_diff",
    "partial_cmp",
    "cmp",
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
    "windows",
    "chunks",
    "chunks_exact",
    "keys",
    "values",
    "rev",
    "enumerate",
    "zip",
    "step_by",
    "skip",
    "count",
    "is_positive",
    "is_negative",
    "signum",
    "to_le_bytes",
    "to_be_bytes",
    "to_ne_bytes",
    "is_ascii",
    "is_alphabetic",
    "is_numeric",
    "to_digit",
];

/// Whether a method with no rule only reads its receiver (by its name).
pub(super) fn read_only(method: &str) -> bool {
    READ_ONLY_METHODS.contains(&method) || prims::PRIMS.iter().any(|p| p.name == method)
}

/// `e` without parentheses and invisible groups.
fn unparen(e: &Expr) -> &Expr {
    match e {
        Expr::Paren(p) => unparen(&p.expr),
        Expr::Group(g) => unparen(&g.expr),
        other => other,
    }
}

/// The variable a field path starts from: `st` of `st.rng.state`.
fn root_variable(e: &Expr) -> Option<String> {
    match unparen(e) {
        Expr::Path(p) if p.qself.is_none() => p.path.get_ident().map(ToString::to_string),
        Expr::Field(f) => root_variable(&f.base),
        Expr::Index(i) => root_variable(&i.expr),
        _ => None,
    }
}

/// The span an op keeps: its operator, method or function name rather than its first token,
/// which is all `Spanned::span` gives on stable Rust.
fn op_span(e: &Expr) -> Span {
    match e {
        Expr::Binary(b) => b.op.span(),
        Expr::Unary(u) => u.op.span(),
        Expr::Cast(c) => c.as_token.span,
        Expr::MethodCall(m) => m.method.span(),
        Expr::Call(c) => match &*c.func {
            Expr::Path(p) => p
                .path
                .segments
                .last()
                .map_or_else(|| c.func.span(), |s| s.ident.span()),
            other => other.span(),
        },
        Expr::Field(f) => f.member.span(),
        Expr::Index(i) => i.bracket_token.span.join(),
        Expr::Reference(r) => r.and_token.span,
        // The first token of a compound expression, without walking it (`Spanned::span`
        // prints the whole expression, which made lowering quadratic in its size).
        Expr::Lit(l) => l.lit.span(),
        Expr::Path(p) => p
            .path
            .segments
            .first()
            .map_or_else(|| p.span(), |s| s.ident.span()),
        Expr::Paren(p) => p.paren_token.span.open(),
        Expr::Tuple(t) => t.paren_token.span.open(),
        Expr::Array(a) => a.bracket_token.span.open(),
        Expr::Repeat(r) => r.bracket_token.span.open(),
        Expr::Block(b) => b.block.brace_token.span.open(),
        Expr::If(i) => i.if_token.span,
        Expr::Match(m) => m.match_token.span,
        Expr::ForLoop(f) => f.for_token.span,
        Expr::While(w) => w.while_token.span,
        Expr::Loop(l) => l.loop_token.span,
        Expr::Return(r) => r.return_token.span,
        Expr::Break(b) => b.break_token.span,
        Expr::Continue(c) => c.continue_token.span,
        Expr::Assign(a) => a.eq_token.span,
        Expr::Group(g) => op_span(&g.expr),
        other => other.span(),
    }
}

/// The primitive of an arithmetic compound assignment (`+=` → `add`).
fn compound_prim(op: &BinOp) -> Option<&'static prims::Prim> {
    match op {
        BinOp::AddAssign(_) => prims::infix('+'),
        BinOp::SubAssign(_) => prims::infix('-'),
        BinOp::MulAssign(_) => prims::infix('*'),
        BinOp::DivAssign(_) => prims::infix('/'),
        BinOp::RemAssign(_) => prims::infix('%'),
        _ => None,
    }
}

/// `=` excluded, every assignment operator: `+=`, `<<=`, ...
pub(super) fn is_assignment(op: &BinOp) -> bool {
    is_compound(op) || compound_prim(op).is_some()
}

fn is_compound(op: &BinOp) -> bool {
    matches!(
        op,
        BinOp::BitXorAssign(_)
            | BinOp::BitAndAssign(_)
            | BinOp::BitOrAssign(_)
            | BinOp::ShlAssign(_)
            | BinOp::ShrAssign(_)
    )
}

/// Whether `path` is the standard library's `swap`: `std::mem::swap` or `core::mem::swap`
/// (a `mem::swap` alone may be a module of the user's, and is called as written).
fn is_mem_swap(path: &syn::ExprPath) -> bool {
    let segments = &path.path.segments;
    let names: Vec<String> = segments.iter().map(|s| s.ident.to_string()).collect();
    path.qself.is_none()
        && segments.iter().all(|s| s.arguments.is_none())
        && matches!(
            names.iter().map(String::as_str).collect::<Vec<_>>()[..],
            ["std" | "core", "mem", "swap"]
        )
}

/// The IR's operator for a Rust operator that is never differentiated; for a compound
/// assignment (`a <<= b`), the `op` of `a = a op b`.
fn ir_binop(op: &BinOp) -> Option<ir::BinOp> {
    Some(match op {
        BinOp::Eq(_) => ir::BinOp::Eq,
        BinOp::Ne(_) => ir::BinOp::Ne,
        BinOp::Lt(_) => ir::BinOp::Lt,
        BinOp::Le(_) => ir::BinOp::Le,
        BinOp::Gt(_) => ir::BinOp::Gt,
        BinOp::Ge(_) => ir::BinOp::Ge,
        BinOp::And(_) => ir::BinOp::And,
        BinOp::Or(_) => ir::BinOp::Or,
        BinOp::BitAnd(_) | BinOp::BitAndAssign(_) => ir::BinOp::BitAnd,
        BinOp::BitOr(_) | BinOp::BitOrAssign(_) => ir::BinOp::BitOr,
        BinOp::BitXor(_) | BinOp::BitXorAssign(_) => ir::BinOp::BitXor,
        BinOp::Shl(_) | BinOp::ShlAssign(_) => ir::BinOp::Shl,
        BinOp::Shr(_) | BinOp::ShrAssign(_) => ir::BinOp::Shr,
        _ => return None,
    })
}

/// The IR's literal for a Rust literal: `true`, `false`, or its one token.
fn literal(lit: &syn::Lit) -> Option<ir::Literal> {
    if let syn::Lit::Bool(b) = lit {
        return Some(ir::Literal::Bool(b.value, b.span));
    }
    match lit.to_token_stream().into_iter().next() {
        Some(proc_macro2::TokenTree::Literal(token)) => Some(ir::Literal::Token(token)),
        _ => None,
    }
}

/// The IR's field for a Rust one.
pub(super) fn ir_member(member: &syn::Member) -> ir::Member {
    match member {
        syn::Member::Named(name) => ir::Member::Named(name.clone()),
        syn::Member::Unnamed(index) => ir::Member::Unnamed {
            index: index.index,
            span: index.span,
        },
    }
}
