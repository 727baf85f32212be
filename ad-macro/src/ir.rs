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
//! [`Block`] is a region of the op that owns it (today the right operand of `&&`/`||`), so the
//! emitted Rust is structured again. The adjoint program built by `reverse` is a `Func` of the
//! same IR, so the verifier, the printer and the emitter serve both.

use std::collections::HashSet;
use std::fmt;

use proc_macro2::{Ident, Span};
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
    /// Depends on an active parameter *and* reaches the output (set by `analysis::activity`).
    pub active: bool,
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
}

/// A region: ops in order, then the values it yields to the op (or function) that owns it.
#[derive(Clone, Default)]
pub struct Block {
    pub ops: Vec<Op>,
    pub yields: Vec<Value>,
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
    /// A primitive from the table, `+` or `sin`; differentiable unless `Derivative::Zero`.
    Prim(&'static Prim, Vec<Value>),
    /// `x as ty`. Differentiable between float types.
    Cast(Value, Box<syn::Type>),
    /// `!x` or `*x`: never differentiated.
    Unary(syn::UnOp, Value),
    /// Comparisons, bitwise and integer-only operators: never differentiated.
    Binary(syn::BinOp, Value, Value),
    /// `lhs && rhs` or `lhs || rhs`: `rhs` is a region that runs only when needed.
    Logic { or: bool, lhs: Value, rhs: Block },
    /// `x.field` or `x.0` of a value that is not a tuple of the IR (an inactive struct).
    Field(Value, syn::Member),
    /// `x[i]` of an inactive container.
    Index(Value, Value),
    /// `&x` or `&mut x`.
    Ref { mutable: bool, value: Value },
    /// A call of a function with no rule: only on inactive values.
    Call(syn::ExprPath, Vec<Value>),
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

    // Only in adjoint programs.
    /// `rules::<rule>(args)`: the adjoints of a primitive's float operands.
    Pullback {
        rule: &'static str,
        args: Vec<Value>,
    },
    /// The zero of a value's type: the adjoint of something the output does not depend on.
    ZeroLike(Value),
}

impl OpKind {
    /// The values this op reads directly (not those read inside its nested blocks).
    pub fn operands(&self) -> Vec<Value> {
        match self {
            OpKind::Lit(_) | OpKind::Path(_) => Vec::new(),
            OpKind::Prim(_, args) | OpKind::Call(_, args) | OpKind::Pullback { args, .. } => {
                args.clone()
            }
            OpKind::Cast(v, _)
            | OpKind::Unary(_, v)
            | OpKind::Field(v, _)
            | OpKind::Ref { value: v, .. }
            | OpKind::ZeroLike(v)
            | OpKind::Logic { lhs: v, .. } => vec![*v],
            OpKind::Binary(_, a, b) | OpKind::Index(a, b) => vec![*a, *b],
            OpKind::Method { recv, args, .. } => {
                std::iter::once(*recv).chain(args.iter().copied()).collect()
            }
            OpKind::Effect { uses, .. } => uses.clone(),
        }
    }

    /// The regions this op owns.
    pub fn blocks(&self) -> Vec<&Block> {
        match self {
            OpKind::Logic { rhs, .. } => vec![rhs],
            _ => Vec::new(),
        }
    }
}

impl Func {
    pub fn new_value(&mut self, name: Option<String>) -> Value {
        let value = Value(self.values.len() as u32);
        self.values.push(ValueInfo {
            name,
            active: false,
        });
        value
    }

    pub fn info(&self, v: Value) -> &ValueInfo {
        &self.values[v.index()]
    }

    pub fn is_active(&self, v: Value) -> bool {
        self.values[v.index()].active
    }

    /// The Rust identifier emitted code uses for `v`: the user's name for a parameter,
    /// otherwise `__ad_<name>_<n>` (`__ad_<n>` for a temporary), hygienic (`Span::mixed_site`) so that user code can never
    /// name it.
    pub fn ident(&self, v: Value) -> Ident {
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

    /// Checks the invariants in the module documentation.
    pub fn verify(&self) -> Result<(), String> {
        let mut defined = vec![false; self.values.len()];
        let mut scopes: Vec<Vec<Value>> = vec![Vec::new()];
        let mut define = |v: Value, defined: &mut Vec<bool>, scope: &mut Vec<Value>| {
            match defined.get_mut(v.index()) {
                None => return Err(format!("{v} is not in the value table")),
                Some(true) => return Err(format!("{v} is defined twice")),
                Some(d) => *d = true,
            }
            scope.push(v);
            Ok(())
        };
        for p in &self.params {
            define(p.value, &mut defined, &mut scopes[0])?;
        }
        if self.body.yields.is_empty() {
            return Err("the function yields no output".to_string());
        }
        self.verify_block(&self.body, &mut defined, &mut scopes, &mut define)
    }

    fn verify_block(
        &self,
        block: &Block,
        defined: &mut Vec<bool>,
        scopes: &mut Vec<Vec<Value>>,
        define: &mut impl FnMut(Value, &mut Vec<bool>, &mut Vec<Value>) -> Result<(), String>,
    ) -> Result<(), String> {
        let visible = |v: Value, scopes: &Vec<Vec<Value>>| scopes.iter().any(|s| s.contains(&v));
        for op in &block.ops {
            for v in op.kind.operands() {
                if !visible(v, scopes) {
                    return Err(format!(
                        "{} uses {v} where it is not defined",
                        self.op_line(op)
                    ));
                }
            }
            for b in op.kind.blocks() {
                scopes.push(Vec::new());
                self.verify_block(b, defined, scopes, define)?;
                scopes.pop();
            }
            let results_ok = match &op.kind {
                OpKind::Prim(prim, args) => {
                    if args.len() != prim.operands.len() {
                        return Err(format!(
                            "{} has the wrong number of operands",
                            self.op_line(op)
                        ));
                    }
                    op.results.is_empty() || op.results.len() == prim.results
                }
                OpKind::Logic { rhs, .. } => rhs.yields.len() == 1 && op.results.len() <= 1,
                OpKind::Effect { .. } => op.results.is_empty(),
                OpKind::Pullback { .. } => !op.results.is_empty(),
                _ => op.results.len() <= 1,
            };
            if !results_ok {
                return Err(format!(
                    "{} has the wrong number of results",
                    self.op_line(op)
                ));
            }
            let Some(scope) = scopes.last_mut() else {
                return Err("scope stack underflow".to_string());
            };
            for &r in &op.results {
                define(r, defined, scope)?;
            }
        }
        for &v in &block.yields {
            if !visible(v, scopes) {
                return Err(format!("the block yields {v}, which is not defined there"));
            }
        }
        Ok(())
    }

    fn op_line(&self, op: &Op) -> String {
        let mut s = String::new();
        let _ = self.write_op(&mut s, op, 0);
        s.trim().to_string()
    }

    fn write_value(&self, out: &mut impl fmt::Write, v: Value) -> fmt::Result {
        match self.values.get(v.index()).and_then(|i| i.name.as_deref()) {
            Some(name) => write!(out, "%{name}.{}", v.0),
            None => write!(out, "%{}", v.0),
        }
    }

    fn write_values(&self, out: &mut impl fmt::Write, vs: &[Value]) -> fmt::Result {
        for (i, &v) in vs.iter().enumerate() {
            if i > 0 {
                out.write_str(", ")?;
            }
            self.write_value(out, v)?;
        }
        Ok(())
    }

    fn write_block(&self, out: &mut impl fmt::Write, block: &Block, depth: usize) -> fmt::Result {
        for op in &block.ops {
            self.write_op(out, op, depth)?;
        }
        write!(out, "{:1$}yield ", "", depth * 4)?;
        self.write_values(out, &block.yields)?;
        writeln!(out)
    }

    fn write_op(&self, out: &mut impl fmt::Write, op: &Op, depth: usize) -> fmt::Result {
        let tokens = |t: &dyn ToTokens| t.to_token_stream().to_string();
        write!(out, "{:1$}", "", depth * 4)?;
        if !op.results.is_empty() {
            self.write_values(out, &op.results)?;
            out.write_str(" = ")?;
        }
        let args = |out: &mut dyn fmt::Write, vs: &[Value]| -> fmt::Result {
            let mut s = String::new();
            self.write_values(&mut s, vs)?;
            out.write_str(&s)
        };
        match &op.kind {
            OpKind::Lit(lit) => write!(out, "lit {}", tokens(lit))?,
            OpKind::Path(path) => write!(out, "path {}", tokens(path))?,
            OpKind::Prim(prim, vs) => {
                write!(out, "{} ", prim.name)?;
                args(out, vs)?;
            }
            OpKind::Cast(v, ty) => {
                out.write_str("cast ")?;
                self.write_value(out, *v)?;
                write!(out, " as {}", tokens(ty))?;
            }
            OpKind::Unary(op, v) => {
                write!(out, "unary {} ", tokens(op))?;
                self.write_value(out, *v)?;
            }
            OpKind::Binary(op, a, b) => {
                write!(out, "binary {} ", tokens(op))?;
                args(out, &[*a, *b])?;
            }
            OpKind::Logic { or, lhs, rhs } => {
                out.write_str(if *or { "or " } else { "and " })?;
                self.write_value(out, *lhs)?;
                writeln!(out, " {{")?;
                self.write_block(out, rhs, depth + 1)?;
                write!(out, "{:1$}}}", "", depth * 4)?;
            }
            OpKind::Field(v, member) => {
                out.write_str("field ")?;
                self.write_value(out, *v)?;
                write!(out, ".{}", tokens(member))?;
            }
            OpKind::Index(a, i) => {
                out.write_str("index ")?;
                args(out, &[*a, *i])?;
            }
            OpKind::Ref { mutable, value } => {
                out.write_str(if *mutable { "ref mut " } else { "ref " })?;
                self.write_value(out, *value)?;
            }
            OpKind::Call(path, vs) => {
                write!(out, "call {}(", tokens(path))?;
                args(out, vs)?;
                out.write_str(")")?;
            }
            OpKind::Method {
                recv,
                method,
                args: vs,
                ..
            } => {
                out.write_str("method ")?;
                self.write_value(out, *recv)?;
                write!(out, ".{method}(")?;
                args(out, vs)?;
                out.write_str(")")?;
            }
            OpKind::Effect { mac, .. } => write!(out, "effect {}!(..)", tokens(&mac.path))?,
            OpKind::Pullback { rule, args: vs } => {
                write!(out, "pullback {rule} ")?;
                args(out, vs)?;
            }
            OpKind::ZeroLike(v) => {
                out.write_str("zero_like ")?;
                self.write_value(out, *v)?;
            }
        }
        if op
            .results
            .iter()
            .any(|&r| self.values.get(r.index()).is_some_and(|i| i.active))
        {
            out.write_str("    // active")?;
        }
        writeln!(out)
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "%{}", self.0)
    }
}

/// Prints the function; tests compare this text and `#[reverse(dump)]` shows it.
impl fmt::Display for Func {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "fn {}(", self.name)?;
        for (i, p) in self.params.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            self.write_value(f, p.value)?;
            if self.is_active(p.value) {
                f.write_str(" active")?;
            }
        }
        writeln!(f, ") {{")?;
        self.write_block(f, &self.body, 1)?;
        writeln!(f, "}}")
    }
}
