//! The printer. Tests compare its text and `#[reverse(dump)]` shows it:
//!
//! ```text
//! fn f(%x.0 active, %n.1) {
//!     %2 = lit 0
//!     %s.4 = for %2..%n.1 init(%x.0) |%i.3, %s.5| {
//!         %s.6 = sin %s.5    // active
//!         yield %s.6
//!     }    // active
//!     yield %s.4
//! }
//! ```
//!
//! `%s.4` is value 4, bound to the user's `s`; `|..|` are a region's arguments. The activity
//! marks are printed when the activity is given ([`Func::marked`]); `Display` leaves them out.

use std::fmt::{self, Write};

use quote::ToTokens;

use super::{
    Activity, Adaptor, Arg, ArrayInit, Block, Call, Callee, Func, Len, Op, OpKind, Pass, Range,
    Rule, Seed, Slot, Through, UnOp, Value,
};

/// Where the printer writes, and the activity it marks values with, if any.
struct Out<'a> {
    w: &'a mut dyn Write,
    activity: Option<&'a Activity>,
}

impl Write for Out<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.w.write_str(s)
    }
}

impl Out<'_> {
    fn is_active(&self, v: Value) -> bool {
        self.activity.is_some_and(|a| a.is_active(v))
    }
}

/// A function printed with its values' activity marked.
pub struct Marked<'a>(&'a Func, &'a Activity);

impl Func {
    /// One op, on one line (its regions elided), for error messages.
    pub(super) fn op_line(&self, op: &Op) -> String {
        let mut s = String::new();
        let mut out = Out {
            w: &mut s,
            activity: None,
        };
        let _ = self.write_op(&mut out, op, 0);
        s.lines().next().unwrap_or_default().trim().to_string()
    }

    /// This function printed with `activity` marked (`active` after a parameter, `// active`
    /// after an op with an active result).
    pub fn marked<'a>(&'a self, activity: &'a Activity) -> Marked<'a> {
        Marked(self, activity)
    }

    fn write_func(&self, out: &mut Out<'_>) -> fmt::Result {
        write!(out, "fn {}(", self.name)?;
        for (i, p) in self.params.iter().enumerate() {
            if i > 0 {
                out.write_str(", ")?;
            }
            self.write_value(out, p.value)?;
            if out.is_active(p.value) {
                out.write_str(" active")?;
            }
        }
        writeln!(out, ") {{")?;
        for (i, kind) in self.stashes.iter().enumerate() {
            writeln!(out, "    stash @{i}: {kind:?}")?;
        }
        self.write_block(out, &self.body, 1)?;
        writeln!(out, "}}")
    }

    fn write_value(&self, out: &mut Out<'_>, v: Value) -> fmt::Result {
        match self.values.get(v.index()).and_then(|i| i.name.as_deref()) {
            Some(name) => write!(out, "%{name}.{}", v.0),
            None => write!(out, "%{}", v.0),
        }
    }

    fn write_values(&self, out: &mut Out<'_>, vs: &[Value]) -> fmt::Result {
        for (i, &v) in vs.iter().enumerate() {
            if i > 0 {
                out.write_str(", ")?;
            }
            self.write_value(out, v)?;
        }
        Ok(())
    }

    /// `path(a, &b, &mut c entry %d)`.
    fn write_call(&self, out: &mut Out<'_>, call: &Call) -> fmt::Result {
        if call.through == Through::Stopped {
            out.write_str("constant ")?;
        }
        match &call.callee {
            Callee::Path(path) => write!(out, "{}(", path.tokens())?,
            Callee::Method { name, .. } => write!(out, "method {name}(")?,
        }
        for (i, arg) in call.args.iter().enumerate() {
            if i > 0 {
                out.write_str(", ")?;
            }
            out.write_str(match arg.pass {
                Pass::Value => "",
                Pass::Ref => "&",
                Pass::Mut => "&mut ",
                Pass::Reborrow => "reborrow ",
                Pass::Moved => "move ",
            })?;
            self.write_value(out, arg.value)?;
            if let Some(entry) = arg.entry {
                out.write_str(" entry ")?;
                self.write_value(out, entry)?;
            }
        }
        out.write_str(")")
    }

    fn write_range(&self, out: &mut Out<'_>, range: &Range) -> fmt::Result {
        self.write_value(out, range.start)?;
        out.write_str(if range.inclusive { "..=" } else { ".." })?;
        self.write_value(out, range.end)?;
        for adaptor in &range.adaptors {
            match adaptor {
                Adaptor::Rev => out.write_str(" rev")?,
                Adaptor::StepBy(k) => {
                    out.write_str(" step_by ")?;
                    self.write_value(out, *k)?;
                }
            }
        }
        Ok(())
    }

    /// `|args| {`, the ops, `yield ..`, `}` (without a newline after the brace).
    fn write_region(&self, out: &mut Out<'_>, block: &Block, depth: usize) -> fmt::Result {
        if !block.args.is_empty() {
            out.write_str("|")?;
            self.write_values(out, &block.args)?;
            out.write_str("| ")?;
        }
        writeln!(out, "{{")?;
        self.write_block(out, block, depth + 1)?;
        write!(out, "{:1$}}}", "", depth * 4)
    }

    fn write_block(&self, out: &mut Out<'_>, block: &Block, depth: usize) -> fmt::Result {
        for op in &block.ops {
            self.write_op(out, op, depth)?;
        }
        write!(out, "{:1$}yield ", "", depth * 4)?;
        self.write_values(out, &block.yields)?;
        writeln!(out)
    }

    /// One op on a line (its regions indented below it): its results, `=`, its kind and
    /// operands, and the activity mark.
    fn write_op(&self, out: &mut Out<'_>, op: &Op, depth: usize) -> fmt::Result {
        write!(out, "{:1$}", "", depth * 4)?;
        if !op.results.is_empty() {
            self.write_values(out, &op.results)?;
            out.write_str(" = ")?;
        }
        match &op.kind {
            OpKind::Lit(_)
            | OpKind::Path(_)
            | OpKind::Placeholder
            | OpKind::Prim(..)
            | OpKind::Cast(..)
            | OpKind::Unary(..)
            | OpKind::Binary(..)
            | OpKind::Matches(..)
            | OpKind::Bind { .. }
            | OpKind::Field(..)
            | OpKind::Index(..)
            | OpKind::Ref { .. } => self.write_operator_op(out, &op.kind)?,
            OpKind::Logic { .. }
            | OpKind::If { .. }
            | OpKind::For { .. }
            | OpKind::Loop { .. }
            | OpKind::Checkpointed(_) => {
                self.write_region_op(out, &op.kind, depth)?;
            }
            OpKind::Call(_)
            | OpKind::CallPullback { .. }
            | OpKind::Method { .. }
            | OpKind::Effect { .. }
            | OpKind::Original(_)
            | OpKind::Pullback { .. } => self.write_call_op(out, &op.kind)?,
            OpKind::Array(_)
            | OpKind::Store { .. }
            | OpKind::Append { .. }
            | OpKind::Len(_)
            | OpKind::Count(_)
            | OpKind::Shape(_)
            | OpKind::Fresh(_)
            | OpKind::Touched { .. }
            | OpKind::Assign { .. } => self.write_container_op(out, &op.kind)?,
            OpKind::ZeroLike(_)
            | OpKind::Push { .. }
            | OpKind::Pop { .. }
            | OpKind::Progression(_)
            | OpKind::At(..)
            | OpKind::Buffer(_)
            | OpKind::BufferAdd { .. }
            | OpKind::BufferTake { .. }
            | OpKind::BufferPop(_)
            | OpKind::CheckLen { .. }
            | OpKind::BufferAddAll { .. }
            | OpKind::BufferReset { .. }
            | OpKind::AddTo { .. }
            | OpKind::BufferSum(_) => self.write_adjoint_op(out, &op.kind)?,
        }
        if op.results.iter().any(|&r| out.is_active(r)) {
            out.write_str("    // active")?;
        }
        writeln!(out)
    }

    /// Step of [`Self::write_op`]: literals, paths, primitives, Rust's operators, pattern
    /// tests and bindings, field and index reads, references.
    fn write_operator_op(&self, out: &mut Out<'_>, kind: &OpKind) -> fmt::Result {
        match kind {
            OpKind::Lit(lit) => write!(out, "lit {}", tokens(lit))?,
            OpKind::Path(path) => write!(out, "path {}", tokens(path))?,
            OpKind::Placeholder => out.write_str("placeholder")?,
            OpKind::Prim(prim, vs) => {
                write!(out, "{} ", prim.name)?;
                self.write_values(out, vs)?;
            }
            OpKind::Cast(v, ty, _) => {
                out.write_str("cast ")?;
                self.write_value(out, *v)?;
                write!(out, " as {}", tokens(ty))?;
            }
            OpKind::Unary(op, v) => {
                write!(out, "unary {} ", if *op == UnOp::Not { "!" } else { "*" })?;
                self.write_value(out, *v)?;
            }
            OpKind::Binary(op, a, b) => {
                write!(out, "binary {} ", op.symbol())?;
                self.write_values(out, &[*a, *b])?;
            }
            OpKind::Matches(v, pat) => {
                out.write_str("matches ")?;
                self.write_value(out, *v)?;
                write!(out, ", {}", pat.code)?;
            }
            OpKind::Bind {
                scrutinee,
                pat,
                names,
            } => {
                out.write_str("bind ")?;
                self.write_value(out, *scrutinee)?;
                let names: Vec<String> = names.iter().map(ToString::to_string).collect();
                write!(out, ", {} => ({})", pat.code, names.join(", "))?;
            }
            OpKind::Field(v, member) => {
                out.write_str("field ")?;
                self.write_value(out, *v)?;
                write!(out, ".{}", tokens(member))?;
            }
            OpKind::Index(a, i) => {
                out.write_str("index ")?;
                self.write_values(out, &[*a, *i])?;
            }
            OpKind::Ref { mutable, value } => {
                out.write_str(if *mutable { "ref mut " } else { "ref " })?;
                self.write_value(out, *value)?;
            }
            // [`Self::write_op`] forwards only the kinds above.
            _ => {}
        }
        Ok(())
    }

    /// Step of [`Self::write_op`]: the ops with regions (`&&`/`||`, `if`, `for`, `loop`),
    /// their regions indented one level below `depth`.
    fn write_region_op(&self, out: &mut Out<'_>, kind: &OpKind, depth: usize) -> fmt::Result {
        match kind {
            OpKind::Logic { or, lhs, rhs } => {
                out.write_str(if *or { "or " } else { "and " })?;
                self.write_value(out, *lhs)?;
                out.write_str(" ")?;
                self.write_region(out, rhs, depth)?;
            }
            OpKind::If { cond, then, els } => {
                out.write_str("if ")?;
                self.write_value(out, *cond)?;
                out.write_str(" ")?;
                self.write_region(out, then, depth)?;
                out.write_str(" else ")?;
                self.write_region(out, els, depth)?;
            }
            OpKind::For {
                range,
                init,
                body,
                exits,
                trips,
                reserve,
                checkpoint,
            } => {
                if let Some(c) = checkpoint {
                    write!(out, "checkpoint({}) ", c.snapshots)?;
                }
                out.write_str("for ")?;
                self.write_range(out, range)?;
                out.write_str(" init(")?;
                self.write_values(out, init)?;
                out.write_str(")")?;
                if *exits {
                    out.write_str(" exits")?;
                }
                if *trips {
                    out.write_str(" trips")?;
                }
                for stash in reserve {
                    write!(out, " reserve @{stash}")?;
                }
                out.write_str(" ")?;
                self.write_region(out, body, depth)?;
            }
            OpKind::Loop {
                init,
                body,
                trips,
                checkpoint,
            } => {
                if let Some(c) = checkpoint {
                    write!(out, "checkpoint({}) ", c.snapshots)?;
                }
                out.write_str("loop init(")?;
                self.write_values(out, init)?;
                out.write_str(if *trips { ") trips " } else { ") " })?;
                self.write_region(out, body, depth)?;
            }
            OpKind::Checkpointed(c) => {
                write!(out, "checkpointed({}) trips ", c.snapshots)?;
                self.write_value(out, c.trips)?;
                if let Some(p) = c.progression {
                    out.write_str(" progression ")?;
                    self.write_value(out, p)?;
                }
                out.write_str(" init(")?;
                self.write_values(out, &c.init)?;
                out.write_str(") adjoints(")?;
                self.write_values(out, &c.adjoints)?;
                out.write_str(") advance ")?;
                self.write_region(out, &c.advance, depth)?;
                out.write_str(" step ")?;
                self.write_region(out, &c.step, depth)?;
            }
            // [`Self::write_op`] forwards only the kinds above.
            _ => {}
        }
        Ok(())
    }

    /// Step of [`Self::write_op`]: calls (and the reverse of a call), method and macro
    /// calls, the original body, the rules' pullbacks.
    fn write_call_op(&self, out: &mut Out<'_>, kind: &OpKind) -> fmt::Result {
        match kind {
            OpKind::Call(call) => {
                out.write_str("call ")?;
                self.write_call(out, call)?;
            }
            OpKind::CallPullback { call, seed, slots } => {
                out.write_str("pullback ")?;
                self.write_call(out, call)?;
                out.write_str(" seed ")?;
                self.write_seed(out, seed)?;
                out.write_str(" slots (")?;
                for (i, slot) in slots.iter().enumerate() {
                    if i > 0 {
                        out.write_str(", ")?;
                    }
                    match slot {
                        Slot::Skip => out.write_str("_")?,
                        Slot::Buffer(v) | Slot::Struct(v) => self.write_value(out, *v)?,
                    }
                }
                out.write_str(")")?;
            }
            OpKind::Method {
                recv, method, args, ..
            } => {
                out.write_str("method ")?;
                self.write_value(out, *recv)?;
                write!(out, ".{method}(")?;
                self.write_values(out, args)?;
                out.write_str(")")?;
            }
            OpKind::Effect { code, .. } => write!(out, "effect {}!(..)", macro_name(code))?,
            OpKind::Original(_) => out.write_str("original body")?,
            OpKind::Pullback { rule, args } => {
                match rule {
                    Rule::Runtime(name) => write!(out, "pullback {name} ")?,
                    Rule::User(path) => write!(out, "pullback user {path} ")?,
                    Rule::Tangent(name) => write!(out, "tangent {name} ")?,
                }
                for (i, arg) in args.iter().enumerate() {
                    if i > 0 {
                        out.write_str(", ")?;
                    }
                    self.write_rule_arg(out, arg)?;
                }
            }
            // [`Self::write_op`] forwards only the kinds above.
            _ => {}
        }
        Ok(())
    }

    /// Step of [`Self::write_call_op`]: the cotangent a call's pullback gets.
    fn write_seed(&self, out: &mut Out<'_>, seed: &Seed) -> fmt::Result {
        match seed {
            Seed::None => out.write_str("none"),
            Seed::Value(v) => self.write_value(out, *v),
            Seed::Tuple(vs) => {
                out.write_str("(")?;
                self.write_values(out, vs)?;
                out.write_str(")")
            }
            Seed::Buffer(v) => {
                out.write_str("&mut ")?;
                self.write_value(out, *v)
            }
        }
    }

    /// Step of [`Self::write_call_op`]: an argument of a rule's pullback, with how it is
    /// passed.
    fn write_rule_arg(&self, out: &mut Out<'_>, arg: &Arg) -> fmt::Result {
        match arg {
            Arg::Value(v) => self.write_value(out, *v),
            Arg::Clone(v) => {
                out.write_str("clone ")?;
                self.write_value(out, *v)
            }
            Arg::Ref(v) => {
                out.write_str("&")?;
                self.write_value(out, *v)
            }
            Arg::Mut(v) => {
                out.write_str("&mut ")?;
                self.write_value(out, *v)
            }
            Arg::EmptyRef => out.write_str("&[]"),
            Arg::EmptyMut => out.write_str("&mut []"),
            Arg::Dual(v, d) => {
                out.write_str("dual(")?;
                self.write_value(out, *v)?;
                out.write_str(", ")?;
                self.write_value(out, *d)?;
                out.write_str(")")
            }
        }
    }

    /// Step of [`Self::write_op`]: making, writing and measuring containers.
    fn write_container_op(&self, out: &mut Out<'_>, kind: &OpKind) -> fmt::Result {
        match kind {
            OpKind::Array(init) => self.write_array_init(out, init)?,
            OpKind::Store {
                array,
                index,
                value,
            } => {
                out.write_str("store ")?;
                self.write_values(out, &[*array, *index, *value])?;
            }
            OpKind::Append { array, value } => {
                out.write_str("append ")?;
                self.write_values(out, &[*array, *value])?;
            }
            OpKind::Len(v) => {
                out.write_str("len ")?;
                self.write_value(out, *v)?;
            }
            OpKind::Count(v) => {
                out.write_str("count ")?;
                self.write_value(out, *v)?;
            }
            OpKind::Shape(v) => {
                out.write_str("shape ")?;
                self.write_value(out, *v)?;
            }
            OpKind::Fresh(v) => {
                out.write_str("fresh ")?;
                self.write_value(out, *v)?;
            }
            OpKind::Touched { array, len } => {
                out.write_str("touched ")?;
                self.write_value(out, *array)?;
                out.write_str(" len ")?;
                self.write_value(out, *len)?;
            }
            OpKind::Assign { array, from, len } => {
                out.write_str("assign ")?;
                self.write_values(out, &[*array, *from])?;
                if let Some(len) = len {
                    out.write_str(" len ")?;
                    self.write_value(out, *len)?;
                }
            }
            // [`Self::write_op`] forwards only the kinds above.
            _ => {}
        }
        Ok(())
    }

    /// Step of [`Self::write_container_op`]: a new array or `Vec`.
    fn write_array_init(&self, out: &mut Out<'_>, init: &ArrayInit) -> fmt::Result {
        match init {
            ArrayInit::Repeat { value, len, vec } => {
                out.write_str(if *vec { "vec [" } else { "array [" })?;
                self.write_value(out, *value)?;
                out.write_str("; ")?;
                match len {
                    Len::Value(n) => self.write_value(out, *n)?,
                    Len::Const(e) => write!(out, "{e}")?,
                }
                out.write_str("]")?;
            }
            ArrayInit::List { values, vec } => {
                out.write_str(if *vec { "vec [" } else { "array [" })?;
                self.write_values(out, values)?;
                out.write_str("]")?;
            }
            ArrayInit::Copy { source, vec } => {
                out.write_str(if *vec { "to_vec " } else { "copy " })?;
                self.write_value(out, *source)?;
            }
            ArrayInit::Uninit => out.write_str("uninit")?,
            ArrayInit::Empty { capacity } => {
                out.write_str("vec []")?;
                if let Some(n) = capacity {
                    out.write_str(" capacity ")?;
                    self.write_value(out, *n)?;
                }
            }
        }
        Ok(())
    }

    /// Step of [`Self::write_op`]: what only adjoint programs have: zeros, the tape (stash
    /// pushes and pops, loop progressions) and the adjoint buffers of containers.
    fn write_adjoint_op(&self, out: &mut Out<'_>, kind: &OpKind) -> fmt::Result {
        match kind {
            OpKind::ZeroLike(v) => {
                out.write_str("zero_like ")?;
                self.write_value(out, *v)?;
            }
            OpKind::Push { stash, values } => {
                write!(out, "push @{stash} ")?;
                self.write_values(out, values)?;
            }
            OpKind::Pop { stash } => write!(out, "pop @{stash}")?,
            OpKind::Progression(range) => {
                out.write_str("progression ")?;
                self.write_range(out, range)?;
            }
            OpKind::At(p, k) => {
                out.write_str("at ")?;
                self.write_values(out, &[*p, *k])?;
            }
            OpKind::Buffer(v) => {
                out.write_str("buffer ")?;
                self.write_value(out, *v)?;
            }
            OpKind::BufferAdd {
                buffer,
                index,
                value,
            } => {
                out.write_str("buffer_add ")?;
                self.write_values(out, &[*buffer, *index, *value])?;
            }
            OpKind::BufferTake { buffer, index } => {
                out.write_str("buffer_take ")?;
                self.write_values(out, &[*buffer, *index])?;
            }
            OpKind::BufferPop(v) => {
                out.write_str("buffer_pop ")?;
                self.write_value(out, *v)?;
            }
            OpKind::CheckLen { seed, like, name } => {
                write!(out, "check_len {name} ")?;
                self.write_values(out, &[*seed, *like])?;
            }
            OpKind::BufferAddAll { buffer, from } => {
                out.write_str("buffer_add_all ")?;
                self.write_values(out, &[*buffer, *from])?;
            }
            OpKind::BufferReset { buffer, len } => {
                out.write_str("buffer_reset ")?;
                self.write_values(out, &[*buffer, *len])?;
            }
            OpKind::AddTo { place, value } => {
                out.write_str("add_to ")?;
                self.write_values(out, &[*place, *value])?;
            }
            OpKind::BufferSum(v) => {
                out.write_str("buffer_sum ")?;
                self.write_value(out, *v)?;
            }
            // [`Self::write_op`] forwards only the kinds above.
            _ => {}
        }
        Ok(())
    }
}

/// The text of tokens, as `quote` prints them.
/// The name of a macro invocation `path!(..)`: its tokens before the `!`.
fn macro_name(code: &proc_macro2::TokenStream) -> proc_macro2::TokenStream {
    code.clone()
        .into_iter()
        .take_while(|t| !matches!(t, proc_macro2::TokenTree::Punct(p) if p.as_char() == '!'))
        .collect()
}

fn tokens(t: &dyn ToTokens) -> String {
    t.to_token_stream().to_string()
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "%{}", self.0)
    }
}

impl fmt::Display for Func {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_func(&mut Out {
            w: f,
            activity: None,
        })
    }
}

impl fmt::Display for Marked<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.write_func(&mut Out {
            w: f,
            activity: Some(self.1),
        })
    }
}
