//! Lowering control flow to structured regions.
//!
//! **Branches.** Both arms of an `if` are lowered from the same bindings, each in its own
//! region; every variable either arm assigns becomes a result of the `if` op (the SSA phi),
//! and so does the arm's value. `match` on a scalar becomes a chain of `if`s whose tests are
//! `matches!(x, pattern)` and whose guards run only when the pattern matched.
//!
//! Before: `let mut y = x; if c { y = y * 2.0; }`
//! After:  `%y.3 = if %c.1 { %y.2 = mul %x.0, %lit; yield %y.2 } else { yield %x.0 }`
//!
//! **Loops.** `for` over an integer range, `while` and `loop` become a `For` or `Loop` op whose
//! region arguments are the variables the body assigns (the loop-carried values), and whose
//! results are their values after the last iteration. A `while` is a `loop` whose body tests
//! the condition first.
//!
//! **Early exits** are not jumps. `return e` sets the flag `$ret` and the variable `$retval`;
//! `break` and `continue` set a flag of their loop (`break v` also sets its value). After a
//! statement that may exit, the rest of the block runs in a region guarded by "no flag is
//! set", and a loop's body yields "go on" unless a flag that leaves it is set. These flags are
//! ordinary variables, merged and carried like any other, so the reverse pass only ever sees
//! `if`s and loops: early exits are lowered to this shape, not special-cased.

use std::collections::{HashMap, HashSet};

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::visit::{self, Visit};
use syn::{Expr, Pat, Stmt};

use super::{Binding, Lower, R, Val};
use crate::errors::Reported;
use crate::ir::{
    Adaptor, ArrayInit, BinOp, Block, Literal, Op, OpKind, Pattern, Range, UnOp, Value,
};

const RET: &str = "$ret";
const RETVAL: &str = "$retval";

/// A loop being lowered: the target of `break` and `continue`.
pub(super) struct LoopCx {
    label: Option<String>,
    id: usize,
    /// `loop` (the only kind `break value` may leave).
    plain: bool,
    has_break: bool,
    has_continue: bool,
    has_value: bool,
}

impl LoopCx {
    fn break_flag(&self) -> String {
        format!("$break{}", self.id)
    }
    fn continue_flag(&self) -> String {
        format!("$continue{}", self.id)
    }
    fn value_var(&self) -> String {
        format!("$value{}", self.id)
    }
}

/// What lowering a loop needs to know of its kind.
enum Kind<'e> {
    For {
        range: Range,
        /// The names the loop pattern binds.
        bindings: Vec<(String, Source)>,
        /// Containers the body writes through element bindings (`iter_mut`).
        writes: Vec<String>,
    },
    While(&'e Expr),
    Loop,
}

/// The variables a loop carries, each with the shape of its value before the loop, and the
/// values before the loop, flat.
#[derive(Default)]
struct Carried {
    vars: Vec<(String, Val)>,
    init: Vec<Value>,
}

/// What a name bound by a loop pattern is.
pub(super) enum Source {
    /// The index (`for i in 0..n`, the `i` of `enumerate`), and the end it stays below as
    /// written, if known (`n`).
    Index(Option<String>),
    /// An element of a container, at the index (`for v in x.iter()`).
    Element(String),
    /// The `k`-th part of an element that is a row (`[a, b]` of `for [a, b] in x.iter()`).
    Part(String, usize),
    /// The `k`-th field of an element that is a tuple (`(i, j)` of `for &(i, j) in pairs`,
    /// `pairs: &[(usize, usize)]`, inactive: a later check refuses fields of active values).
    Field(String, usize),
    /// A copy of an element (`mut v`, which the body may change).
    Copy(String),
}

impl Lower<'_> {
    /// `if`, `match`, loops, `break`, `continue` and `return`.
    pub(super) fn control(&mut self, e: &Expr) -> R<Val> {
        let span = super::op_span(e);
        // `#[checkpoint]` marks the loop this expression lowers to (`while let`'s rewrite, an
        // iterator chain's index loop): the next loop made at this depth takes it.
        let attrs = match e {
            Expr::ForLoop(f) => Some(&f.attrs),
            Expr::While(w) => Some(&w.attrs),
            Expr::Loop(l) => Some(&l.attrs),
            _ => None,
        };
        if let Some(Ok(Some(checkpoint))) = attrs.map(|a| super::attrs::checkpoint(a)) {
            self.checkpoint_next = Some((checkpoint, self.loops.len()));
        }
        let rewritten = match e {
            Expr::If(i) => super::sugar::if_let(i),
            Expr::While(w) => super::sugar::while_let(w),
            _ => None,
        };
        match rewritten {
            Some(Ok(rewritten)) => {
                // The value's expected type (`.sum()` in an arm) carries over to the rewrite.
                let expected = self.expected.len();
                if let Some(ty) = self.expected_type(e) {
                    self.expect(&rewritten, &ty);
                }
                let val = self.expr(&rewritten);
                self.expected.truncate(expected);
                return val;
            }
            Some(Err(error)) => return Err(self.errors.push(error)),
            None => {}
        }
        match e {
            Expr::If(i) => {
                let cond = self.value(&i.cond)?;
                let els = i.else_branch.as_ref().map(|(_, e)| &**e);
                self.branch(
                    cond,
                    span,
                    |this| this.block(&i.then_branch),
                    |this| els.map_or(Ok(Val::Unit), |e| this.expr(e)),
                )
            }
            Expr::Match(m) => {
                // A tuple (`match (i, j)`, a tuple variable) is matched part by part.
                let scrutinee = match super::unparen(&m.expr) {
                    Expr::Tuple(t) if !t.elems.is_empty() => self.expr(&m.expr)?,
                    Expr::Path(_) => match self.expr(&m.expr)? {
                        tuple @ Val::Tuple(_) => tuple,
                        _ => Val::One(self.value(&m.expr)?),
                    },
                    _ => Val::One(self.value(&m.expr)?),
                };
                if m.arms.is_empty() {
                    return Err(self.error(m, "a `match` without arms is not supported"));
                }
                self.arms(&scrutinee, &m.arms)
            }
            Expr::ForLoop(f) => self.for_loop(f, span),
            Expr::While(w) => {
                let label = w.label.as_ref().map(|l| l.name.ident.to_string());
                self.lower_loop(Kind::While(&w.cond), &w.body, label, span)
            }
            Expr::Loop(l) => {
                let label = l.label.as_ref().map(|l| l.name.ident.to_string());
                self.lower_loop(Kind::Loop, &l.body, label, span)
            }
            Expr::Break(b) => self.break_expr(b, e, span),
            Expr::Continue(c) => {
                let target = self.target(c.label.as_ref(), e)?;
                let flag = self.loops[target].continue_flag();
                let yes = self.lit_bool(true, span);
                self.reassign(&flag, yes);
                Ok(Val::Never)
            }
            Expr::Return(r) => self.return_expr(r, span),
            _ => Err(self.unsupported(e)),
        }
    }

    /// `for pat in iter { body }`: over a range (the index bound to `pat`), or over a
    /// container's elements (`iteration.rs`).
    fn for_loop(&mut self, f: &syn::ExprForLoop, span: Span) -> R<Val> {
        // What the range or the iterated expression lowers first must not take the mark.
        let checkpoint = self.checkpoint_next.take();
        if let Some(rewritten) = self.chain_loop(f)? {
            self.checkpoint_next = checkpoint;
            return self.expr(&rewritten);
        }
        if let Some(rewritten) = self.windows_loop(f) {
            self.checkpoint_next = checkpoint;
            return self.expr(&rewritten);
        }
        // `for v in x` of an array the body writes iterates a copy, as Rust's `IntoIterator`
        // of a `Copy` array does: the body's writes do not reach the items.
        let iterated = match super::unparen(&f.expr) {
            Expr::MethodCall(m) if m.method == "into_iter" && m.args.is_empty() => &*m.receiver,
            other => other,
        };
        if let Some(name) = assigned_name(iterated).filter(|_| matches!(iterated, Expr::Path(_)))
            && self.lookup(&name).is_some()
            && Scan::block(&f.body, None).assigned.contains(&name)
        {
            let copy = syn::Ident::new(&format!("__ad_items{}", self.next_loop), span);
            let (label, pat, body) = (&f.label, &f.pat, &f.body);
            let x = super::ident(&name, span);
            let rewritten: Expr = syn::parse_quote_spanned!(span=> {
                let #copy = #x;
                #label for #pat in #copy #body
            });
            self.checkpoint_next = checkpoint;
            return self.expr(&rewritten);
        }
        let label = f.label.as_ref().map(|l| l.name.ident.to_string());
        let (range, bindings, writes) = match self.iteration(&f.expr, &f.pat)? {
            Some(iteration) => iteration,
            None => {
                let range = self.range(&f.expr)?;
                // The end of `a..N` as written: an index below it needs no check against rows
                // of length `N` (`rows.rs`).
                let below = match super::unparen(&f.expr) {
                    Expr::Range(r) if matches!(r.limits, syn::RangeLimits::HalfOpen(_)) => r
                        .end
                        .as_ref()
                        .map(|end| quote::ToTokens::to_token_stream(end).to_string()),
                    _ => None,
                };
                let bindings = match &*f.pat {
                    Pat::Ident(p) if p.by_ref.is_none() && p.subpat.is_none() => {
                        vec![(p.ident.to_string(), Source::Index(below))]
                    }
                    Pat::Wild(_) => Vec::new(),
                    other => {
                        return Err(
                            self.error(other, "the loop variable of a range must be a name or `_`")
                        );
                    }
                };
                (range, bindings, Vec::new())
            }
        };
        let kind = Kind::For {
            range,
            bindings,
            writes,
        };
        self.checkpoint_next = checkpoint;
        self.lower_loop(kind, &f.body, label, span)
    }

    /// `break` (with a value, of a `loop`): sets the target loop's break flag, so that the
    /// rest of its body is skipped and it stops.
    fn break_expr(&mut self, b: &syn::ExprBreak, e: &Expr, span: Span) -> R<Val> {
        let target = self.target(b.label.as_ref(), e)?;
        let cx = &self.loops[target];
        let (flag, value_var, plain) = (cx.break_flag(), cx.value_var(), cx.plain);
        if let Some(value) = &b.expr {
            let value = self.expr(value)?;
            // The loop's value is one value (declared before the loop, of one shape).
            if plain && matches!(value, Val::Tuple(_) | Val::Struct(_)) {
                return Err(self.error(
                    b,
                    "a tuple as the value of a `loop` or labelled block is not supported yet: assign its parts to variables declared before it, `let (mut p, mut q) = (0.0, 0.0);`, and `break`",
                ));
            }
            // Outside a `loop`, rustc reports the value on the original function.
            if plain {
                self.reassign(&value_var, value);
            }
        }
        let yes = self.lit_bool(true, span);
        self.reassign(&flag, yes);
        Ok(Val::Never)
    }

    /// `return value`: the value and the `$ret` flag, unless it is the function's last
    /// statement.
    fn return_expr(&mut self, r: &syn::ExprReturn, span: Span) -> R<Val> {
        let Some(value) = &r.expr else {
            return Err(self.error(
                r,
                "`return;` without a value: return the function's float result",
            ));
        };
        let expected = self.expected.len();
        if let Some(ty) = self.output_ty.clone() {
            self.expect(value, &ty);
        }
        let value = self.expr(value);
        self.expected.truncate(expected);
        let value = value?;
        if !self.returns {
            // `function_body` declares the flags for every `return` but a last one.
            return Ok(value);
        }
        // A tuple where the output is not one (rustc reports the type; the merge of
        // `$retval` needs one shape).
        let tuple = matches!(self.sig.output, crate::signature::Output::Tuple(_));
        if matches!(value, Val::Tuple(_) | Val::Struct(_)) && !tuple {
            return Err(self.error(r, "this value does not have the return type's shape"));
        }
        self.reassign(RETVAL, value);
        let yes = self.lit_bool(true, span);
        self.reassign(RET, yes);
        Ok(Val::Never)
    }

    /// The function's body. Without an early `return`, its value (a last `return e;` gives
    /// `e`); with one, `$retval` if the flag `$ret` is set, the body's value otherwise.
    pub(super) fn function_body(&mut self, block: &syn::Block) -> R<Val> {
        let stmts = &block.stmts;
        // What the function returns has its output type: a call returning a container there
        // is one, known before an early return's value is merged with it.
        if self.sig.rows_output.is_none() && super::container_type(&self.sig.ret) {
            let ty = self.sig.ret.clone();
            let mut returned = Returned::default();
            returned.visit_block(block);
            if let Some(Stmt::Expr(tail, None)) = stmts.last() {
                returned.0.push(tail.clone());
            }
            for e in &returned.0 {
                self.expect(e, &ty);
            }
        }
        let last_returns = matches!(stmts.last(), Some(Stmt::Expr(Expr::Return(_), _)));
        let before_last = &stmts[..stmts.len() - usize::from(last_returns)];
        if !before_last.iter().any(|s| Scan::stmt(s).returns) {
            return self.scoped(|this| match stmts.last() {
                Some(Stmt::Expr(ret @ Expr::Return(_), _)) => match this.seq(before_last)? {
                    Val::Never => Ok(Val::Never),
                    _ => this.control(ret),
                },
                _ => this.seq(stmts),
            });
        }
        self.returns = true;
        let span = block.brace_token.span.open();
        let no = self.lit_bool(false, span);
        self.declare(RET.to_string(), Binding::Val(no));
        // The returned value's shape: a tuple output returns a tuple of values.
        let retval = match &self.sig.output {
            crate::signature::Output::Tuple(types) => Val::Tuple(
                (0..types.len())
                    .map(|_| Val::One(self.placeholder(span)))
                    .collect(),
            ),
            _ => Val::One(self.placeholder(span)),
        };
        self.declare(RETVAL.to_string(), Binding::Val(retval));
        let value = self.block(block)?;
        let (Some(Binding::Val(Val::One(ret))), Some(Binding::Val(retval))) =
            (self.lookup(RET).cloned(), self.lookup(RETVAL).cloned())
        else {
            return Err(Reported);
        };
        if value == Val::Never {
            return Ok(retval);
        }
        self.branch(ret, span, |_| Ok(retval), |_| Ok(value))
    }

    /// Runs `rest` only if no exit flag is set.
    pub(super) fn guarded(&mut self, rest: impl FnOnce(&mut Self) -> R<Val>) -> R<Val> {
        let flags: Vec<String> = self.exit_flags(None).into_iter().collect();
        let span = Span::call_site();
        let Some(exit) = self.any(&flags, span) else {
            return rest(self);
        };
        let go = self.not(exit, span);
        self.branch(go, span, rest, |_| Ok(Val::Never))
    }

    /// The flags that leave the current statement: `$ret`, and the `break` and `continue`
    /// flags of the enclosing loops (but `continue` of `except`, which stays in its loop).
    fn exit_flags(&self, except: Option<usize>) -> Vec<String> {
        let mut flags = Vec::new();
        if self.returns {
            flags.push(RET.to_string());
        }
        for cx in &self.loops {
            if cx.has_break {
                flags.push(cx.break_flag());
            }
            if cx.has_continue && Some(cx.id) != except {
                flags.push(cx.continue_flag());
            }
        }
        flags
    }

    /// `flags[0] || flags[1] || ..`, or `None` without flags.
    fn any(&mut self, flags: &[String], span: Span) -> Option<Value> {
        let mut any: Option<Value> = None;
        for flag in flags {
            let Some(Binding::Val(Val::One(v))) = self.lookup(flag).cloned() else {
                continue;
            };
            any = Some(match any {
                None => v,
                Some(acc) => self.push(OpKind::Binary(BinOp::Or, acc, v), span, 1)[0],
            });
        }
        any
    }

    fn not(&mut self, v: Value, span: Span) -> Value {
        self.push(OpKind::Unary(UnOp::Not, v), span, 1)[0]
    }

    fn lit_bool(&mut self, value: bool, span: Span) -> Val {
        self.push1(OpKind::Lit(Literal::Bool(value, span)), span)
    }

    fn placeholder(&mut self, span: Span) -> Value {
        let p = self.push(OpKind::Placeholder, span, 1)[0];
        self.vacant.insert(p);
        p
    }

    /// Runs `f` in a fresh scope and op list: the ops of a region.
    fn region<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> (T, Vec<Op>) {
        let outer = std::mem::take(&mut self.ops);
        let out = self.scoped(f);
        (out, std::mem::replace(&mut self.ops, outer))
    }

    /// `if cond { then } else { els }`, lowered from the current bindings; the variables
    /// either arm assigns are merged into results of the `if` op.
    fn branch(
        &mut self,
        cond: Value,
        span: Span,
        then: impl FnOnce(&mut Self) -> R<Val>,
        els: impl FnOnce(&mut Self) -> R<Val>,
    ) -> R<Val> {
        let before = self.scopes.clone();
        let (then_val, then_ops) = self.region(then);
        let then_scopes = std::mem::replace(&mut self.scopes, before.clone());
        let (else_val, else_ops) = self.region(els);
        let else_scopes = std::mem::replace(&mut self.scopes, before.clone());
        let (then_val, else_val) = (then_val?, else_val?);

        let Some(shape) = merge(&then_val, &else_val) else {
            return Err(self.errors.push(syn::Error::new(
                span,
                "the arms of this branch have values of different shapes",
            )));
        };
        let changed = assigned_in_arms(&before, [&then_scopes, &else_scopes]);
        let mut arms = [
            (then_val, then_ops, then_scopes),
            (else_val, else_ops, else_scopes),
        ];
        let mut yields = [Vec::new(), Vec::new()];
        for ((val, ops, scopes), yields) in arms.iter_mut().zip(&mut yields) {
            self.flatten(val, &shape, ops, yields, span);
            for (depth, name, merged) in &changed {
                if let Some(merged) = merged {
                    let value = match scopes[*depth].get(name) {
                        Some(Binding::Val(v)) => v.clone(),
                        _ => Val::Never,
                    };
                    self.flatten(&value, merged, ops, yields, span);
                }
            }
        }
        let results: Vec<Value> = (0..yields[0].len())
            .map(|_| self.func.new_value(None))
            .collect();
        // A container merged from the arms is a version of one storage: the arms' own if
        // they share it, else a new one each arm assigns.
        for (j, &r) in results.iter().enumerate() {
            let [then_arm, else_arm] = &mut arms;
            let ops = [&mut then_arm.1, &mut else_arm.1];
            let storage = self.merge_storages(j, ops, &mut yields, span)?;
            self.func.values[r.index()].storage = storage;
            // Calls' results in both arms: containers or not, which only their uses say.
            if storage.is_none() && yields.iter().all(|y| self.maybe_containers.contains(&y[j])) {
                self.merged_calls.insert(r, span);
            }
        }
        let [(_, then_ops, _), (_, else_ops, _)] = arms;
        let [then_yields, else_yields] = yields;
        let arm = |ops, yields| Block {
            args: Vec::new(),
            ops,
            yields,
        };
        let (then, els) = (arm(then_ops, then_yields), arm(else_ops, else_yields));
        let kind = OpKind::If { cond, then, els };
        self.ops.push(Op::new(results.clone(), kind, span));
        Ok(self.rebind_merged(results, &shape, changed))
    }

    /// Step of [`Self::branch`]: the value of the `if` from its `results` (in the shape of
    /// the arms' value), and each variable an arm assigned bound to the results that follow.
    fn rebind_merged(&mut self, results: Vec<Value>, shape: &Val, changed: Vec<Changed>) -> Val {
        let mut results = results.into_iter();
        let value = rebuild(shape, &mut results);
        for (depth, name, merged) in changed {
            let binding = match merged {
                Some(shape) => {
                    let val = rebuild(&shape, &mut results);
                    self.name_val(&val, &name);
                    Binding::Val(val)
                }
                None => Binding::Poisoned,
            };
            self.scopes[depth].insert(name, binding);
        }
        value
    }

    /// The storage the `j`-th results of an `if` belong to, if they are containers. Arms that
    /// yield versions of one storage keep it; arms that yield different ones (`let z = if c {
    /// [a, b] } else { [b, a] };`) each assign theirs to a new storage declared before the
    /// `if`, since emitted code changes containers in place and a container made in an arm
    /// would not outlive it.
    ///
    /// Before: `%z.9 = if %c { %4 = array [..]; yield %4 } else { %7 = array [..]; yield %7 }`
    /// After:  `%8 = uninit; %z.9 = if %c { ..; %10 = assign %8, %4; yield %10 } else { .. }`
    fn merge_storages(
        &mut self,
        j: usize,
        ops: [&mut Vec<Op>; 2],
        yields: &mut [Vec<Value>; 2],
        span: Span,
    ) -> R<Option<Value>> {
        let (a, b) = (yields[0][j], yields[1][j]);
        let container = |this: &mut Self, v: Value| {
            if this.maybe_containers.contains(&v) && this.func.storage(v).is_none() {
                // A call's result meeting a container: it is one.
                return None;
            }
            this.func.storage(v)
        };
        let (sa, sb) = (container(self, a), container(self, b));
        let (vacant_a, vacant_b) = (self.vacant.contains(&a), self.vacant.contains(&b));
        match (sa, sb) {
            (None, None) => return Ok(None),
            (Some(s), Some(t)) if s == t => return Ok(Some(s)),
            (Some(_), Some(_)) => {}
            (Some(_), None) if vacant_b || self.is_container(b) => {}
            (None, Some(_)) if vacant_a || self.is_container(a) => {}
            _ => {
                let returned = [a, b]
                    .iter()
                    .any(|&v| self.func.info(v).name.as_deref() == Some("retval"));
                let message = match returned {
                    // The variable the returned value is kept in, carried by a loop from a
                    // placeholder.
                    true => RETURN_IN_LOOP,
                    false => {
                        "one path through this branch gives a container and another gives a scalar"
                    }
                };
                return Err(self.errors.push(syn::Error::new(span, message)));
            }
        }
        for &v in [a, b].iter() {
            let root = self.func.storage(v).unwrap_or(v);
            if self.func.params.iter().zip(&self.sig.params).any(|(p, s)| {
                p.value == root
                    && matches!(&s.ty, syn::Type::Reference(r) if r.mutability.is_some())
            }) {
                return Err(self.errors.push(syn::Error::new(span, "a branch giving a `&mut` container parameter as its value would bind it to a second name: write through the parameter itself")));
            }
        }
        let merged = self.func.new_value(None);
        self.func.values[merged.index()].storage = Some(merged);
        self.ops.push(Op::new(
            vec![merged],
            OpKind::Array(ArrayInit::Uninit),
            span,
        ));
        for (ops, yields) in ops.into_iter().zip(yields.iter_mut()) {
            // A path with no container (it exits, or never assigns one) gives the storage
            // as it was declared.
            if self.vacant.contains(&yields[j]) {
                let p = yields[j];
                ops.retain(|op| op.results != [p]);
                yields[j] = merged;
                continue;
            }
            if let Some(row) = self.row(yields[j]) {
                // The lengths of `vec![vec![..; m]; n]` are values of the branch that made it.
                if let super::rows::Row::Uniform { .. } = row {
                    return Err(self.errors.push(syn::Error::new(span, "a container of `Vec`s given by a branch is not supported: make it before the branch (`let mut g = vec![vec![0.0; m]; n];`) and write its elements in the branch")));
                }
                if self.rows.get(&merged).is_some_and(|other| !row.same(other)) {
                    return Err(self
                        .errors
                        .push(syn::Error::new(span, super::rows::DIFFERENT_VEC_ROWS)));
                }
                self.rows.insert(merged, row);
            }
            let version = self.func.new_value(None);
            self.func.values[version.index()].storage = Some(merged);
            ops.push(Op::new(
                vec![version],
                OpKind::Assign {
                    array: merged,
                    from: yields[j],
                    len: None,
                },
                span,
            ));
            yields[j] = version;
        }
        Ok(Some(merged))
    }

    /// Appends the leaves of `val` (of the shape `shape`) to `yields`; where `val` has no
    /// value (`Never`), placeholders, added to `ops`.
    fn flatten(
        &mut self,
        val: &Val,
        shape: &Val,
        ops: &mut Vec<Op>,
        yields: &mut Vec<Value>,
        span: Span,
    ) {
        match (val, shape) {
            (Val::One(v), _) => yields.push(*v),
            (Val::Tuple(vals), Val::Tuple(shapes)) => {
                for (v, s) in vals.iter().zip(shapes) {
                    self.flatten(v, s, ops, yields, span);
                }
            }
            (Val::Never, Val::One(_)) => {
                let p = self.func.new_value(None);
                self.vacant.insert(p);
                ops.push(Op::new(vec![p], OpKind::Placeholder, span));
                yields.push(p);
            }
            (Val::Never, Val::Tuple(shapes)) => {
                for s in shapes {
                    self.flatten(&Val::Never, s, ops, yields, span);
                }
            }
            (Val::Struct(vals), Val::Struct(shapes)) => {
                for ((_, v), (_, s)) in vals.iter().zip(shapes) {
                    self.flatten(v, s, ops, yields, span);
                }
            }
            (Val::Never, Val::Struct(shapes)) => {
                for (_, s) in shapes {
                    self.flatten(&Val::Never, s, ops, yields, span);
                }
            }
            _ => {}
        }
    }

    fn name_val(&mut self, val: &Val, name: &str) {
        match val {
            Val::One(v) => self.name_value(*v, name),
            Val::Tuple(vals) => vals.iter().for_each(|v| self.name_val(v, name)),
            Val::Struct(fields) => fields.iter().for_each(|(_, v)| self.name_val(v, name)),
            _ => {}
        }
    }

    /// The index in `self.loops` of the loop `break` or `continue` (`e`) leaves.
    fn target(&mut self, label: Option<&syn::Lifetime>, e: &Expr) -> R<usize> {
        let index = match label {
            None => self.loops.len().checked_sub(1),
            Some(l) => {
                let name = l.ident.to_string();
                self.loops
                    .iter()
                    .rposition(|cx| cx.label.as_deref() == Some(&*name))
            }
        };
        index.ok_or_else(|| self.error(e, "`break` or `continue` outside of a loop"))
    }

    /// The arms of a `match`: the first whose pattern (and guard) accepts the scrutinee; the
    /// last is taken when no other is (rustc checked the `match` is exhaustive).
    ///
    /// Each test is the arm's pattern exactly as written (`matches!(s, pattern)`), so that rustc
    /// decides, as it does in the original, whether a name in it is a binding or a constant.
    /// The names a pattern may bind are bound in the guard and the body ([`Lower::bind_arm`]).
    fn arms(&mut self, scrutinee: &Val, arms: &[syn::Arm]) -> R<Val> {
        let Some((arm, rest)) = arms.split_first() else {
            return Ok(Val::Never);
        };
        if let Some(bad) = unsupported_pattern(&arm.pat) {
            return Err(self.error(bad, "this pattern is not supported in a `match` arm: match with literals, ranges, paths, names, tuples, slices, and tuple-struct and struct patterns of those"));
        }
        if rest.is_empty() {
            return self.arm_body(scrutinee, arm);
        }
        let span = arm.pat.span();
        match self.arm_test(scrutinee, arm)? {
            None => self.arm_body(scrutinee, arm),
            Some(test) => self.branch(
                test,
                span,
                |this| this.arm_body(scrutinee, arm),
                |this| this.arms(scrutinee, rest),
            ),
        }
    }

    fn arm_body(&mut self, scrutinee: &Val, arm: &syn::Arm) -> R<Val> {
        self.scoped(|this| {
            this.bind_arm(scrutinee, split_guard(&arm.pat).0)?;
            this.expr(&arm.body)
        })
    }

    /// Binds the names `pat` may bind, as the arm's guard and body see them. A pattern that is
    /// a name (`v =>`, `v @ 1..=3 =>`) binds the scrutinee itself, differentiated through if
    /// it is active; the names inside a pattern (`Some(d)`, `Loss::Huber { delta }`, `ref n`)
    /// are taken out of the scrutinee by one `bind` op, which evaluates each name in the
    /// arm: a binding's value, or, for a name that is a constant, the constant, which is what
    /// the original's body sees under that name either way.
    fn bind_arm(&mut self, scrutinee: &Val, pat: &Pat) -> R<()> {
        let scrutinee = match scrutinee {
            Val::One(v) => *v,
            Val::Tuple(parts) => return self.bind_parts(parts, pat),
            _ => return Ok(()),
        };
        if let Pat::Ident(p) = pat
            && p.by_ref.is_none()
        {
            self.declare(p.ident.to_string(), Binding::Val(Val::One(scrutinee)));
            return match &p.subpat {
                Some((_, sub)) => self.bind_arm(&Val::One(scrutinee), sub),
                None => Ok(()),
            };
        }
        let mut names = Vec::new();
        pattern_names(pat, &mut names);
        if names.is_empty() {
            return Ok(());
        }
        let span = pat.span();
        let results = self.push(
            OpKind::Bind {
                scrutinee,
                pat: pattern(pat),
                names: names.clone(),
            },
            span,
            names.len(),
        );
        for (name, value) in names.iter().zip(results) {
            self.declare(name.to_string(), Binding::Val(Val::One(value)));
        }
        Ok(())
    }

    /// [`Self::bind_arm`] for a tuple written in place: each part by its sub-pattern; a
    /// name binds the whole tuple.
    fn bind_parts(&mut self, parts: &[Val], pat: &Pat) -> R<()> {
        match pat {
            Pat::Paren(p) => self.bind_parts(parts, &p.pat),
            Pat::Tuple(t) if tuple_parts(t, parts.len()).is_some() => {
                let subs = tuple_parts(t, parts.len()).unwrap_or_default();
                for (part, sub) in parts.iter().zip(subs) {
                    if let Some(sub) = sub {
                        self.bind_arm(part, sub)?;
                    }
                }
                Ok(())
            }
            other => {
                let mut names = Vec::new();
                pattern_names(other, &mut names);
                match names.is_empty() {
                    true => Ok(()),
                    false => Err(self.error(other, "this pattern of a tuple written in place binds names where #[reverse] cannot take them apart: write the tuple's parts as a tuple pattern, `(a, b) =>`")),
                }
            }
        }
    }

    /// Whether `scrutinee` matches `pat`: `None` if always. A tuple written in place is
    /// tested part by part.
    fn pattern_test(&mut self, scrutinee: &Val, pat: &Pat) -> R<Option<Value>> {
        let span = pat.span();
        let parts = match (scrutinee, pat) {
            (_, Pat::Wild(_)) => return Ok(None),
            (Val::One(v), other) => {
                return Ok(Some(
                    self.push(OpKind::Matches(*v, pattern(other)), span, 1)[0],
                ));
            }
            (Val::Tuple(parts), _) => parts,
            _ => return Ok(None),
        };
        let combine = |this: &mut Self, or: bool, tests: Vec<Option<Value>>| -> Option<Value> {
            let op = if or {
                crate::ir::BinOp::Or
            } else {
                crate::ir::BinOp::And
            };
            let mut acc: Option<Value> = None;
            for test in tests {
                let Some(test) = test else {
                    // An alternative that always matches makes the `|` always match.
                    if or {
                        return None;
                    }
                    continue;
                };
                acc = Some(match acc {
                    None => test,
                    Some(a) => this.push(OpKind::Binary(op, a, test), span, 1)[0],
                });
            }
            acc
        };
        match pat {
            Pat::Paren(p) => self.pattern_test(scrutinee, &p.pat),
            Pat::Tuple(t) if tuple_parts(t, parts.len()).is_some() => {
                let subs = tuple_parts(t, parts.len()).unwrap_or_default();
                let mut tests = Vec::new();
                for (part, sub) in parts.iter().zip(subs) {
                    if let Some(sub) = sub {
                        tests.push(self.pattern_test(part, sub)?);
                    }
                }
                Ok(combine(self, false, tests))
            }
            Pat::Or(o) => {
                let mut tests = Vec::new();
                for case in &o.cases {
                    tests.push(self.pattern_test(scrutinee, case)?);
                }
                Ok(combine(self, true, tests))
            }
            // A name could be a constant of the tuple's type or a binding of the whole:
            // rustc decides, which a tuple the macro takes apart cannot follow.
            other => Err(self.error(other, "a tuple written in place is matched by tuple patterns of its parts (`(0, _) =>`, `(a, b) =>`, `(0, ..) =>`) or `_`; a constant of the tuple's type is matched by its parts (`(0, 1) =>`)")),
        }
    }

    /// The test of an arm: `None` if it accepts everything (`_`, without a guard).
    fn arm_test(&mut self, scrutinee: &Val, arm: &syn::Arm) -> R<Option<Value>> {
        let (pat, guard) = split_guard(&arm.pat);
        let span = pat.span();
        let test = self.pattern_test(scrutinee, pat)?;
        let Some(guard) = guard else {
            return Ok(test);
        };
        let lower_guard = |this: &mut Self| {
            this.scoped(|this| {
                this.bind_arm(scrutinee, pat)?;
                this.expr(guard)
            })
        };
        match test {
            None => {
                let guard_span = guard.span();
                match lower_guard(self)? {
                    Val::One(v) => Ok(Some(v)),
                    _ => Err(self
                        .errors
                        .push(syn::Error::new(guard_span, "expected a `bool` guard"))),
                }
            }
            Some(test) => self
                .short_circuit(false, test, guard, lower_guard, span)
                .map(Some),
        }
    }

    /// An integer range and its adaptors, as `for` iterates it.
    fn range(&mut self, e: &Expr) -> R<Range> {
        match e {
            Expr::Paren(p) => self.range(&p.expr),
            Expr::Group(g) => self.range(&g.expr),
            Expr::Range(r) => {
                let (Some(start), Some(end)) = (&r.start, &r.end) else {
                    return Err(self.error(r, "`for` needs a range with both bounds, as `a..b` or `a..=b`"));
                };
                let (start, end) = (self.value(start), self.value(end));
                Ok(Range {
                    start: start?,
                    end: end?,
                    inclusive: matches!(r.limits, syn::RangeLimits::Closed(_)),
                    adaptors: Vec::new(),
                })
            }
            Expr::MethodCall(m) if m.method == "rev" && m.args.is_empty() => {
                let mut range = self.range(&m.receiver)?;
                range.adaptors.push(Adaptor::Rev);
                Ok(range)
            }
            Expr::MethodCall(m) if m.method == "step_by" && m.args.len() == 1 => {
                let mut range = self.range(&m.receiver)?;
                let step = self.value(&m.args[0])?;
                range.adaptors.push(Adaptor::StepBy(step));
                Ok(range)
            }
            other => Err(self.error(other, "loops over iterators are not supported yet: write an index loop over a range, as `for i in 0..n` (with `.rev()` or `.step_by(k)` if needed)")),
        }
    }

    /// A loop. Its region's arguments are the variables the body may assign, and the flags
    /// its exits may set; those the body leaves unchanged are pruned afterwards.
    fn lower_loop(
        &mut self,
        kind: Kind,
        body: &syn::Block,
        label: Option<String>,
        span: Span,
    ) -> R<Val> {
        let checkpoint = match self.checkpoint_next.take() {
            Some((checkpoint, depth)) if depth == self.loops.len() => Some(checkpoint),
            other => {
                self.checkpoint_next = other;
                None
            }
        };
        let mut scan = Scan::block(body, label.as_deref());
        // A `while` condition runs in every iteration too: what it assigns is carried.
        if let Kind::While(cond) = &kind {
            let mut inner = Scan::default();
            inner.visit_expr(cond);
            scan.assigned.extend(inner.assigned);
            scan.passed.extend(inner.passed);
        }
        let id = self.open_loop(&kind, &scan, label, span);
        let exits = self.leaving_flags(&scan, id);
        let names = self.carried_names(&scan, &kind, &exits, id);
        let carried = self.carry(names, span);
        let index = matches!(kind, Kind::For { .. }).then(|| self.func.new_value(None));
        let args = self.carried_args(&carried);

        // The body, in its region.
        let outer_ops = std::mem::take(&mut self.ops);
        self.scopes.push(Default::default());
        let continue_flag = self.loops.last().and_then(|cx| {
            let cx: &LoopCx = cx;
            cx.has_continue.then(|| cx.continue_flag())
        });
        if let Some(flag) = &continue_flag {
            let no = self.lit_bool(false, span);
            self.reassign(flag, no);
        }
        let body_result = self.loop_body(&kind, body, index, span);
        let go_on = self.go_on(&kind, &body_result, &exits, span);
        let flag_slot = usize::from(go_on.is_some());
        let yields = self.carried_yields(go_on, &carried, span);
        self.scopes.pop();
        let mut body_block = Block {
            args: index.into_iter().chain(args.iter().copied()).collect(),
            ops: std::mem::replace(&mut self.ops, outer_ops),
            yields,
        };
        self.loops.pop();
        body_result?;
        self.check_carried_containers(&args, &body_block.yields[flag_slot..], span)?;

        let kept = prune_unchanged(&mut body_block, &args, &carried.init, index, flag_slot);
        // (After pruning: a parameter the body may change, carried, is read as itself.)
        if checkpoint.is_some() {
            self.check_recomputable(&body_block)?;
        }
        let results: Vec<Value> = kept
            .iter()
            .map(|&j| {
                let name = self.func.info(args[j]).name.clone();
                let result = self.func.new_value(name);
                self.inherit_storage(result, args[j]);
                result
            })
            .collect();
        let init: Vec<Value> = kept.iter().map(|&j| carried.init[j]).collect();
        let plain = matches!(kind, Kind::Loop);
        let kind = match kind {
            Kind::For { range, .. } => OpKind::For {
                range,
                init,
                body: body_block,
                exits: flag_slot == 1,
                trips: false,
                reserve: Vec::new(),
                checkpoint,
            },
            Kind::While(_) | Kind::Loop => OpKind::Loop {
                init,
                body: body_block,
                trips: false,
                checkpoint,
            },
        };
        self.ops.push(Op::new(results.clone(), kind, span));

        self.rebind_after_loop(&carried, &kept, &results);
        // A `loop` nothing leaves does not complete (what follows it is unreachable).
        if plain && !scan.breaks_here && !scan.leaves && !scan.returns {
            return Ok(Val::Never);
        }
        let value_var = format!("$value{id}");
        Ok(match self.lookup(&value_var) {
            Some(Binding::Val(v)) if carried.vars.iter().any(|(n, _)| *n == value_var) => v.clone(),
            _ => Val::Unit,
        })
    }

    /// Step of [`Self::lower_loop`]: the body's yields, the go-on flag (if any) then the
    /// carried variables' values at the end of an iteration.
    fn carried_yields(
        &mut self,
        go_on: Option<Value>,
        carried: &Carried,
        span: Span,
    ) -> Vec<Value> {
        let mut yields: Vec<Value> = go_on.into_iter().collect();
        for (name, shape) in &carried.vars {
            let val = match self.lookup(name) {
                Some(Binding::Val(v)) => v.clone(),
                _ => Val::Never,
            };
            let mut ops = std::mem::take(&mut self.ops);
            self.flatten(&val, shape, &mut ops, &mut yields, span);
            self.ops = ops;
        }
        yields
    }

    /// Step of [`Self::lower_loop`]: after the loop, each carried variable holds its last
    /// value, a result of the loop op (its value before the loop, if the body left it
    /// unchanged and it was pruned).
    fn rebind_after_loop(&mut self, carried: &Carried, kept: &[usize], results: &[Value]) {
        let mut finals = (0..carried.init.len()).map(|j| match kept.iter().position(|&k| k == j) {
            Some(i) => results[i],
            None => carried.init[j],
        });
        for (name, shape) in &carried.vars {
            let val = rebuild(shape, &mut finals);
            self.reassign(name, val);
        }
    }

    /// Enters a loop: declares its flags (and the variable of `break value`) before it and
    /// pushes its context. Returns the loop's id.
    fn open_loop(&mut self, kind: &Kind, scan: &Scan, label: Option<String>, span: Span) -> usize {
        let cx = LoopCx {
            label,
            id: self.next_loop,
            plain: matches!(kind, Kind::Loop),
            has_break: scan.breaks_here,
            has_continue: scan.continues_here,
            // Outside a `loop`, `break value` is rustc's error to report.
            has_value: scan.break_value && matches!(kind, Kind::Loop),
        };
        self.next_loop += 1;
        if cx.has_break {
            let no = self.lit_bool(false, span);
            self.declare(cx.break_flag(), Binding::Val(no));
        }
        if cx.has_continue {
            let no = self.lit_bool(false, span);
            self.declare(cx.continue_flag(), Binding::Val(no));
        }
        if cx.has_value {
            let placeholder = self.placeholder(span);
            self.declare(cx.value_var(), Binding::Val(Val::One(placeholder)));
        }
        let id = cx.id;
        self.loops.push(cx);
        id
    }

    /// The flags the body of loop `id` may set that leave it.
    fn leaving_flags(&self, scan: &Scan, id: usize) -> Vec<String> {
        let mut exits = Vec::new();
        if scan.returns {
            exits.push(RET.to_string());
        }
        for cx in &self.loops {
            let this = cx.id == id;
            if cx.has_break && (this || scan.leaves) {
                exits.push(cx.break_flag());
            }
            if cx.has_continue && !this && scan.leaves {
                exits.push(cx.continue_flag());
            }
        }
        exits
    }

    /// The variables loop `id` carries: those its body may assign (a write through an element
    /// binding, `*v = ..`, is a write of its container), `&mut` container parameters it passes
    /// on, its exit flags, its own `continue` flag, and the values of `break 'label value`.
    fn carried_names(&self, scan: &Scan, kind: &Kind, exits: &[String], id: usize) -> Vec<String> {
        let mut names: Vec<String> = scan
            .assigned
            .iter()
            .filter_map(|n| match self.lookup(n) {
                Some(Binding::Element { container, .. }) => Some(container.clone()),
                Some(_) => Some(n.clone()),
                None => None,
            })
            .collect();
        let passed_on = |n: &&String| match self.lookup(n) {
            Some(Binding::Val(Val::One(v))) => self.is_mut_param(*v),
            _ => false,
        };
        names.extend(scan.passed.iter().filter(passed_on).cloned());
        if let Kind::For { writes, .. } = kind {
            names.extend(writes.iter().cloned());
        }
        names.extend(exits.iter().cloned());
        if let Some(cx) = self.loops.iter().find(|cx| cx.id == id && cx.has_continue) {
            names.push(cx.continue_flag());
        }
        if scan.returns {
            names.push(RETVAL.to_string());
        }
        // This loop's `break` value, and outer loops' if the body may leave to them.
        for cx in &self.loops {
            if cx.has_value && (cx.id == id || scan.leaves) {
                names.push(cx.value_var());
            }
        }
        names.sort();
        names.dedup();
        names
    }

    /// The carried variables' values before the loop (a variable declared without one gets a
    /// placeholder).
    fn carry(&mut self, names: Vec<String>, span: Span) -> Carried {
        let mut carried = Carried::default();
        for name in names {
            let val = match self.lookup(&name).cloned() {
                // A parameter struct is never changed: its methods are `#[reverse]` calls.
                Some(Binding::Val(Val::One(v)))
                    if self.has_methods(v) && self.func.params.iter().any(|p| p.value == v) =>
                {
                    continue;
                }
                Some(Binding::Val(val)) => val,
                Some(Binding::Unassigned(declared)) => {
                    let p = self.placeholder(span);
                    // `let best: f64;`: the placeholder has the declared type.
                    if let Some(ty) = &declared.0
                        && let Some(op) = self.ops.last_mut()
                    {
                        op.ty = Some(quote::ToTokens::to_token_stream(&**ty));
                    }
                    Val::One(p)
                }
                _ => continue,
            };
            leaves(&val, &mut carried.init);
            carried.vars.push((name, val));
        }
        carried
    }

    /// The region's arguments, one per carried value and named after its variable, which
    /// from now on holds them.
    fn carried_args(&mut self, carried: &Carried) -> Vec<Value> {
        let mut args = Vec::new();
        for (name, shape) in &carried.vars {
            let mut count = Vec::new();
            leaves(shape, &mut count);
            for _ in count {
                let value = self.func.new_value(None);
                self.name_value(value, name);
                args.push(value);
            }
        }
        for (&arg, &before) in args.iter().zip(&carried.init) {
            self.inherit_storage(arg, before);
        }
        let mut arg_iter = args.iter().copied();
        for (name, shape) in &carried.vars {
            let val = rebuild(shape, &mut arg_iter);
            self.reassign(name, val);
        }
        args
    }

    /// The loop body's statements, after the names a `for` pattern binds; for `while`, the
    /// condition, then the body in a branch on it (the result is the condition).
    fn loop_body(
        &mut self,
        kind: &Kind,
        body: &syn::Block,
        index: Option<Value>,
        span: Span,
    ) -> R<Val> {
        match kind {
            Kind::For {
                bindings, writes, ..
            } => {
                if let Some(index) = index {
                    for (name, source) in bindings {
                        let binding = match source {
                            Source::Index(below) => {
                                self.name_value(index, name);
                                if let Some(end) = below {
                                    self.index_bounds.insert(index, end.clone());
                                }
                                Binding::Val(Val::One(index))
                            }
                            Source::Element(container) => Binding::Element {
                                container: container.clone(),
                                index,
                                writable: writes.contains(container),
                            },
                            Source::Part(container, k) => {
                                Binding::Val(self.row_part(container, index, *k, span)?)
                            }
                            Source::Field(container, k) => {
                                let element = self.item_copy(container, index, span)?;
                                let Val::One(element) = element else {
                                    return Err(self.errors.push(syn::Error::new(
                                        span,
                                        "a tuple pattern binds the fields of a container's tuples",
                                    )));
                                };
                                let member = super::ir::Member::Unnamed {
                                    index: *k as u32,
                                    span,
                                };
                                Binding::Val(self.push1(OpKind::Field(element, member), span))
                            }
                            Source::Copy(container) => {
                                Binding::Val(self.item_copy(container, index, span)?)
                            }
                        };
                        self.declare(name.clone(), binding);
                    }
                }
                self.block(body)
            }
            Kind::Loop => self.block(body),
            Kind::While(cond) => self.value(cond).and_then(|c| {
                self.branch(c, span, |this| this.block(body), |_| Ok(Val::Unit))?;
                Ok(Val::One(c))
            }),
        }
    }

    /// Whether the next iteration runs: unless a flag that leaves this loop is set (and, for
    /// `while`, if the condition held). `None` for a `for` nothing leaves early.
    fn go_on(&mut self, kind: &Kind, body: &R<Val>, exits: &[String], span: Span) -> Option<Value> {
        let leave = self.any(exits, span);
        match (kind, body, leave) {
            (Kind::While(_), Ok(Val::One(c)), Some(leave)) => {
                let stay = self.not(leave, span);
                Some(self.push(OpKind::Binary(BinOp::And, *c, stay), span, 1)[0])
            }
            (Kind::While(_), Ok(Val::One(c)), None) => Some(*c),
            (_, _, Some(leave)) => Some(self.not(leave, span)),
            (Kind::Loop, _, None) => match self.lit_bool(true, span) {
                Val::One(v) => Some(v),
                _ => None,
            },
            (Kind::For { .. }, _, None) | (Kind::While(_), _, None) => None,
        }
    }

    /// A carried container stays in its storage (whole assignments write into it); one that
    /// gets another (declared without a value, or the value of `break`) would not outlive
    /// the iteration in emitted code.
    fn check_carried_containers(&mut self, args: &[Value], next: &[Value], span: Span) -> R<()> {
        for (&arg, &yielded) in args.iter().zip(next) {
            if let Some(storage) = self.func.storage(yielded)
                && self.func.storage(arg) != Some(storage)
            {
                let name = self.func.info(arg).name.clone().unwrap_or_default();
                let message = match name.as_str() {
                    "retval" => RETURN_IN_LOOP.to_string(),
                    _ if name.starts_with("value") => "`break` with a container value is not supported yet: assign it to a variable declared before the loop and `break`".to_string(),
                    _ => format!("`{name}` is given a container inside this loop but has none before it: declare it with a value before the loop (`let mut {name} = vec![..];`) and assign it inside"),
                };
                return Err(self.errors.push(syn::Error::new(span, message)));
            }
        }
        Ok(())
    }

    /// A `#[checkpoint]` loop runs its body again in the reverse sweep. A `&mut` parameter
    /// that is not a container is changed where it points, not in a value the loop carries
    /// (and copies): a call or a method that may change it would change it again, silently.
    fn check_recomputable(&mut self, body: &Block) -> R<()> {
        let outside: Vec<(Value, String)> = (self.func.params.iter().zip(&self.sig.params))
            .filter(|(p, s)| {
                self.func.storage(p.value).is_none()
                    && matches!(&s.ty, syn::Type::Reference(r) if r.mutability.is_some())
            })
            .map(|(p, s)| {
                (
                    p.value,
                    s.ident
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default(),
                )
            })
            .collect();
        fn find(block: &Block, outside: &[(Value, String)]) -> Option<(Span, String)> {
            for op in &block.ops {
                let changed = match &op.kind {
                    OpKind::Call(call) => call.args.iter().map(|a| a.value).collect(),
                    OpKind::Method { recv, method, .. }
                        if !super::read_only(&method.to_string()) =>
                    {
                        vec![*recv]
                    }
                    OpKind::Ref {
                        mutable: true,
                        value,
                    } => vec![*value],
                    _ => Vec::new(),
                };
                if let Some((_, name)) = outside.iter().find(|(p, _)| changed.contains(p)) {
                    return Some((op.span, name.clone()));
                }
                for inner in op.kind.blocks() {
                    if let Some(found) = find(inner, outside) {
                        return Some(found);
                    }
                }
            }
            None
        }
        match find(body, &outside) {
            Some((span, name)) => Err(self.errors.push(syn::Error::new(span, format!("this may change `{name}`, a `&mut` parameter, which a `#[checkpoint]` loop cannot restore when it runs its body again in the reverse sweep: copy it into a local before the loop (`let mut local = (*{name}).clone();`), use `&mut local` inside, and write it back after the loop (`*{name} = local;`)")))),
            None => Ok(()),
        }
    }

    /// `lhs && rhs` (or `||`), with `rhs` lowered by `lower_rhs` in a region that runs only
    /// when needed and may not assign variables.
    pub(super) fn short_circuit(
        &mut self,
        or: bool,
        lhs: Value,
        rhs: &Expr,
        lower_rhs: impl FnOnce(&mut Self) -> R<Val>,
        span: Span,
    ) -> R<Value> {
        let bindings = self.scopes.clone();
        let (value, ops) = self.region(lower_rhs);
        if self.scopes != bindings || matches!(value, Ok(Val::Never)) {
            self.scopes = bindings;
            return Err(self.error(rhs, "assignments, `return`, `break` and `continue` inside the right operand of `&&` or `||` are not supported: use an `if`"));
        }
        let value = match value? {
            Val::One(v) => v,
            _ => return Err(self.error(rhs, "expected a `bool` value")),
        };
        let rhs = Block {
            args: Vec::new(),
            ops,
            yields: vec![value],
        };
        Ok(self.push(OpKind::Logic { or, lhs, rhs }, span, 1)[0])
    }
}

/// The shape both values can take: `Never` takes the other's.
fn merge(a: &Val, b: &Val) -> Option<Val> {
    match (a, b) {
        (Val::Never, other) | (other, Val::Never) => Some(other.clone()),
        (Val::Unit, Val::Unit) => Some(Val::Unit),
        (Val::One(v), Val::One(_)) => Some(Val::One(*v)),
        (Val::Tuple(a), Val::Tuple(b)) if a.len() == b.len() => a
            .iter()
            .zip(b)
            .map(|(a, b)| merge(a, b))
            .collect::<Option<Vec<_>>>()
            .map(Val::Tuple),
        (Val::Struct(a), Val::Struct(b))
            if a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.0 == y.0) =>
        {
            a.iter()
                .zip(b)
                .map(|((name, a), (_, b))| merge(a, b).map(|v| (name.clone(), v)))
                .collect::<Option<Vec<_>>>()
                .map(Val::Struct)
        }
        _ => None,
    }
}

fn leaves(val: &Val, out: &mut Vec<Value>) {
    match val {
        Val::One(v) => out.push(*v),
        Val::Tuple(vals) => vals.iter().for_each(|v| leaves(v, out)),
        Val::Struct(fields) => fields.iter().for_each(|(_, v)| leaves(v, out)),
        Val::Unit | Val::Never => {}
    }
}

/// A value of `shape` whose leaves are taken from `values`.
fn rebuild(shape: &Val, values: &mut impl Iterator<Item = Value>) -> Val {
    match shape {
        Val::One(_) => values.next().map_or(Val::Never, Val::One),
        Val::Tuple(shapes) => Val::Tuple(shapes.iter().map(|s| rebuild(s, values)).collect()),
        Val::Struct(fields) => Val::Struct(
            (fields.iter())
                .map(|(name, s)| (name.clone(), rebuild(s, values)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// An arm's pattern and its guard (`pat if guard`).
fn split_guard(pat: &Pat) -> (&Pat, Option<&Expr>) {
    match pat {
        Pat::Guard(g) => (&g.pat, Some(&g.guard)),
        other => (other, None),
    }
}

/// The names `pat` may bind, in order (one per name: the cases of an `|` bind the same
/// ones). Whether each is a binding or a constant is rustc's to decide.
fn pattern_names(pat: &Pat, out: &mut Vec<proc_macro2::Ident>) {
    for p in pattern_bindings(pat) {
        if !out.contains(&p.ident) {
            out.push(p.ident.clone());
        }
    }
}

/// The name patterns of `pat` (`mut`, `ref` and subpatterns as written), in order; of an
/// `|`, those of its first case, which every case binds.
pub(super) fn pattern_bindings(pat: &Pat) -> Vec<&syn::PatIdent> {
    fn walk<'p>(pat: &'p Pat, out: &mut Vec<&'p syn::PatIdent>) {
        match pat {
            Pat::Ident(p) => {
                out.push(p);
                if let Some((_, sub)) = &p.subpat {
                    walk(sub, out);
                }
            }
            Pat::Or(p) => p.cases.iter().take(1).for_each(|p| walk(p, out)),
            Pat::Paren(p) => walk(&p.pat, out),
            Pat::Reference(p) => walk(&p.pat, out),
            Pat::Type(p) => walk(&p.pat, out),
            Pat::Tuple(p) => p.elems.iter().for_each(|p| walk(p, out)),
            Pat::TupleStruct(p) => p.elems.iter().for_each(|p| walk(p, out)),
            Pat::Slice(p) => p.elems.iter().for_each(|p| walk(p, out)),
            Pat::Struct(p) => p.fields.iter().for_each(|f| walk(&f.pat, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(pat, &mut out);
    out
}

/// A sub-pattern an arm cannot have, if any: macros and verbatim tokens, whose bindings are
/// not visible, and `const` blocks.
fn unsupported_pattern(pat: &Pat) -> Option<&Pat> {
    match pat {
        Pat::Macro(_) | Pat::Verbatim(_) | Pat::Const(_) => Some(pat),
        Pat::Ident(p) => p
            .subpat
            .as_ref()
            .and_then(|(_, sub)| unsupported_pattern(sub)),
        Pat::Or(p) => p.cases.iter().find_map(unsupported_pattern),
        Pat::Paren(p) => unsupported_pattern(&p.pat),
        Pat::Reference(p) => unsupported_pattern(&p.pat),
        Pat::Type(p) => unsupported_pattern(&p.pat),
        Pat::Tuple(p) => p.elems.iter().find_map(unsupported_pattern),
        Pat::TupleStruct(p) => p.elems.iter().find_map(unsupported_pattern),
        Pat::Slice(p) => p.elems.iter().find_map(unsupported_pattern),
        Pat::Struct(p) => p.fields.iter().find_map(|f| unsupported_pattern(&f.pat)),
        Pat::Guard(p) => unsupported_pattern(&p.pat),
        Pat::Lit(_) | Pat::Range(_) | Pat::Path(_) | Pat::Wild(_) | Pat::Rest(_) => None,
        _ => Some(pat),
    }
}

/// Whether a statement may leave the block it is in: it contains a `return`, or a `break` or
/// `continue` of a loop outside it.
pub(super) fn may_exit(stmt: &Stmt) -> bool {
    let scan = Scan::stmt(stmt);
    scan.returns || scan.leaves
}

/// Whether an expression may leave the statement it is in (see [`may_exit`]).
pub(super) fn expr_may_exit(e: &Expr) -> bool {
    let mut scan = Scan::default();
    scan.visit_expr(e);
    scan.returns || scan.leaves
}

/// What a piece of syntax does to control flow.
#[derive(Default)]
struct Scan {
    /// Whether a loop body is scanned (else a statement), and that loop's label.
    loop_body: bool,
    label: Option<String>,
    /// Loops entered inside the scanned syntax.
    depth: usize,
    inner_labels: Vec<String>,
    returns: bool,
    /// A `break`/`continue` of the scanned loop.
    breaks_here: bool,
    continues_here: bool,
    break_value: bool,
    /// A `break`/`continue` of a loop outside the scanned syntax (outside the loop, for a
    /// loop body).
    leaves: bool,
    /// Names assigned (`x = ..`, `x += ..`, `&mut x` passed to a call).
    assigned: Vec<String>,
    /// Names passed to calls as they are (`f(x)`): written if they are `&mut` containers.
    passed: Vec<String>,
    /// Names used as containers: borrowed (`&x`), indexed (`x[i]`) or the receiver of a
    /// container's method (`x.iter()`).
    containers: Vec<String>,
}

/// A container returned from inside a loop, refused.
const RETURN_IN_LOOP: &str = "returning a container from inside a loop is not supported yet: assign it to a variable declared before the loop, `break`, and return the variable";

/// Methods only a container has (a float's, `x.sin()`, say nothing).
const CONTAINER_METHODS: &[&str] = &[
    "iter",
    "iter_mut",
    "into_iter",
    "len",
    "is_empty",
    "windows",
    "chunks",
    "chunks_exact",
    "to_vec",
    "first",
    "last",
    "get",
    "swap",
    "push",
    "contains",
];

/// The names `body` uses as containers anywhere (borrowed, indexed, a method's receiver): a
/// call's result bound to one is a container ([`Lower::local_stmt`](super::Lower)).
pub(super) fn container_names(body: &syn::Block) -> HashSet<String> {
    let mut scan = Scan::default();
    scan.visit_block(body);
    scan.containers.into_iter().collect()
}

impl Scan {
    fn stmt(stmt: &Stmt) -> Scan {
        let mut scan = Scan::default();
        scan.visit_stmt(stmt);
        scan
    }

    /// A loop body: `break` and `continue` without a label, or with `label`, are its own.
    fn block(body: &syn::Block, label: Option<&str>) -> Scan {
        let mut scan = Scan {
            loop_body: true,
            label: label.map(str::to_string),
            ..Scan::default()
        };
        scan.visit_block(body);
        scan
    }

    fn exit(&mut self, label: Option<&syn::Lifetime>, is_break: bool, has_value: bool) {
        let name = label.map(|l| l.ident.to_string());
        let inner = match &name {
            None => self.depth > 0,
            Some(n) => self.inner_labels.contains(n),
        };
        if inner {
            return;
        }
        let here = self.loop_body && (name.is_none() || name == self.label);
        match (here, is_break) {
            (true, true) => {
                self.breaks_here = true;
                self.break_value |= has_value;
            }
            (true, false) => self.continues_here = true,
            (false, _) => self.leaves = true,
        }
    }

    fn enter(&mut self, label: Option<&syn::Label>, visit: impl FnOnce(&mut Self)) {
        self.depth += 1;
        let pushed = label
            .map(|l| self.inner_labels.push(l.name.ident.to_string()))
            .is_some();
        visit(self);
        if pushed {
            self.inner_labels.pop();
        }
        self.depth -= 1;
    }
}

/// The values of a function's `return`s (not those of closures or nested items).
#[derive(Default)]
struct Returned(Vec<Expr>);

impl<'ast> Visit<'ast> for Returned {
    fn visit_expr_return(&mut self, e: &'ast syn::ExprReturn) {
        if let Some(value) = &e.expr {
            self.0.push((**value).clone());
        }
        visit::visit_expr_return(self, e);
    }
    fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
    fn visit_item(&mut self, _: &'ast syn::Item) {}
}

impl<'ast> Visit<'ast> for Scan {
    fn visit_expr_return(&mut self, e: &'ast syn::ExprReturn) {
        self.returns = true;
        visit::visit_expr_return(self, e);
    }
    fn visit_expr_break(&mut self, e: &'ast syn::ExprBreak) {
        self.exit(e.label.as_ref(), true, e.expr.is_some());
        visit::visit_expr_break(self, e);
    }
    fn visit_expr_continue(&mut self, e: &'ast syn::ExprContinue) {
        self.exit(e.label.as_ref(), false, false);
    }
    fn visit_expr_for_loop(&mut self, e: &'ast syn::ExprForLoop) {
        self.visit_expr(&e.expr);
        self.enter(e.label.as_ref(), |s| s.visit_block(&e.body));
    }
    fn visit_expr_while(&mut self, e: &'ast syn::ExprWhile) {
        self.enter(e.label.as_ref(), |s| {
            s.visit_expr(&e.cond);
            s.visit_block(&e.body);
        });
    }
    fn visit_expr_loop(&mut self, e: &'ast syn::ExprLoop) {
        self.enter(e.label.as_ref(), |s| s.visit_block(&e.body));
    }
    // A labelled block is the target of its `break 'label` (it is lowered as a `loop`).
    fn visit_expr_block(&mut self, e: &'ast syn::ExprBlock) {
        match &e.label {
            Some(label) => self.enter(Some(label), |s| s.visit_block(&e.block)),
            None => visit::visit_expr_block(self, e),
        }
    }
    fn visit_expr_assign(&mut self, e: &'ast syn::ExprAssign) {
        assigned_names(&e.left, &mut self.assigned);
        visit::visit_expr_assign(self, e);
    }
    fn visit_expr_binary(&mut self, e: &'ast syn::ExprBinary) {
        if super::is_assignment(&e.op)
            && let Some(name) = assigned_name(&e.left)
        {
            self.assigned.push(name);
        }
        visit::visit_expr_binary(self, e);
    }
    fn visit_expr_reference(&mut self, e: &'ast syn::ExprReference) {
        // `&mut x` anywhere (`for q in &mut x`, `let r = &mut x;`) may write `x`.
        if e.mutability.is_some() {
            self.assigned.extend(assigned_name(&e.expr));
        }
        self.containers.extend(assigned_name(&e.expr));
        visit::visit_expr_reference(self, e);
    }
    fn visit_expr_index(&mut self, e: &'ast syn::ExprIndex) {
        self.containers.extend(assigned_name(&e.expr));
        visit::visit_expr_index(self, e);
    }
    fn visit_expr_call(&mut self, e: &'ast syn::ExprCall) {
        for arg in &e.args {
            match arg {
                Expr::Reference(r) if r.mutability.is_some() => {
                    self.assigned.extend(assigned_name(&r.expr));
                }
                Expr::Path(_) => self.passed.extend(assigned_name(arg)),
                _ => {}
            }
        }
        visit::visit_expr_call(self, e);
    }
    fn visit_expr_method_call(&mut self, e: &'ast syn::ExprMethodCall) {
        // `v.push(x)` makes a new version of `v`; a method that may change its receiver
        // gives it a new value (`Lower::method`).
        if (e.method == "push" || !super::read_only(&e.method.to_string()))
            && let Some(name) = assigned_name(&e.receiver)
        {
            self.assigned.push(name);
        }
        if let Expr::Path(_) = &*e.receiver
            && CONTAINER_METHODS.contains(&e.method.to_string().as_str())
        {
            self.containers.extend(assigned_name(&e.receiver));
        }
        visit::visit_expr_method_call(self, e);
    }
    // A closure is inlined where it is called or passed to an adaptor (`chains.rs`): the
    // variables it assigns are assigned there. Its exits are its own (`return` in a closure
    // is refused).
    fn visit_expr_closure(&mut self, c: &'ast syn::ExprClosure) {
        let mut inner = Scan::default();
        inner.visit_expr(&c.body);
        self.assigned.extend(inner.assigned);
        self.passed.extend(inner.passed);
        self.containers.extend(inner.containers);
    }
    fn visit_item(&mut self, _: &'ast syn::Item) {}
}

/// The variables an assignment to `place` rebinds: those of every place of a destructuring
/// assignment `(a, b[i]) = ..`.
fn assigned_names(place: &Expr, out: &mut Vec<String>) {
    match place {
        Expr::Tuple(t) => t.elems.iter().for_each(|e| assigned_names(e, out)),
        Expr::Paren(p) => assigned_names(&p.expr, out),
        other => out.extend(assigned_name(other)),
    }
}

/// The variable an assignment to `place` rebinds: `x` of `x = ..` and of `x[i] = ..`.
pub(super) fn assigned_name(place: &Expr) -> Option<String> {
    match place {
        Expr::Path(p) => p.path.get_ident().map(ToString::to_string),
        Expr::Paren(p) => assigned_name(&p.expr),
        Expr::Index(i) => assigned_name(&i.expr),
        // `p.x = ..` of a struct made by a literal rebinds `p`.
        Expr::Field(f) => assigned_name(&f.base),
        Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => assigned_name(&u.expr),
        _ => None,
    }
}

/// The sub-pattern of each of the `n` parts a tuple pattern matches (`None`: any, for the
/// parts a `..` covers); `None` if it does not have `n` parts.
fn tuple_parts(t: &syn::PatTuple, n: usize) -> Option<Vec<Option<&Pat>>> {
    let rest = t.elems.iter().position(|p| matches!(p, Pat::Rest(_)));
    match rest {
        None => (t.elems.len() == n).then(|| t.elems.iter().map(Some).collect()),
        Some(at) => {
            let (before, after) = (at, t.elems.len() - at - 1);
            if before + after > n {
                return None;
            }
            let mut parts: Vec<Option<&Pat>> = t.elems.iter().take(before).map(Some).collect();
            parts.extend(std::iter::repeat_n(None, n - before - after));
            parts.extend(t.elems.iter().skip(at + 1).map(Some));
            Some(parts)
        }
    }
}

/// The IR's pattern for a Rust one.
fn pattern(pat: &Pat) -> Pattern {
    Pattern {
        code: quote::ToTokens::to_token_stream(pat),
        is_name: matches!(pat, Pat::Ident(p) if p.subpat.is_none()),
    }
}

/// A variable an arm of a branch assigned: its scope depth, its name, and its merged shape
/// (`None`: poisoned, the arms disagree).
type Changed = (usize, String, Option<Val>);

/// The variables of the scopes `before` a branch that either arm (`arms`, the scopes after
/// each) assigned, in a fixed order.
fn assigned_in_arms(
    before: &[HashMap<String, Binding>],
    arms: [&[HashMap<String, Binding>]; 2],
) -> Vec<Changed> {
    let mut changed: Vec<Changed> = Vec::new();
    for (depth, scope) in before.iter().enumerate() {
        for (name, old) in scope {
            let (a, b) = (
                arms[0][depth].get(name).unwrap_or(old),
                arms[1][depth].get(name).unwrap_or(old),
            );
            if a == old && b == old {
                continue;
            }
            let merged = match (a, b) {
                (Binding::Val(a), Binding::Val(b)) => merge(a, b),
                (Binding::Val(v), Binding::Unassigned(_))
                | (Binding::Unassigned(_), Binding::Val(v)) => Some(v.clone()),
                _ => None,
            };
            changed.push((depth, name.clone(), merged));
        }
    }
    changed.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    changed
}

/// Step of `lower_loop`: drops the carried variables the body left unchanged (its yield is
/// its argument) from the body's arguments and yields, the body reading their value before
/// the loop instead. Returns the positions of those kept.
fn prune_unchanged(
    body: &mut Block,
    args: &[Value],
    init: &[Value],
    index: Option<Value>,
    flag_slot: usize,
) -> Vec<usize> {
    let kept: Vec<usize> = (0..args.len())
        .filter(|&j| body.yields[flag_slot + j] != args[j])
        .collect();
    for (j, (&arg, &before)) in args.iter().zip(init).enumerate() {
        if !kept.contains(&j) {
            body.replace_uses(arg, before);
        }
    }
    let keep = |vs: &[Value], offset: usize| -> Vec<Value> {
        let kept_values = kept.iter().map(|&j| vs[offset + j]);
        vs[..offset].iter().copied().chain(kept_values).collect()
    };
    body.args = keep(&body.args, usize::from(index.is_some()));
    body.yields = keep(&body.yields, flag_slot);
    kept
}
