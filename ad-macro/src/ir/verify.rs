//! The verifier: the invariants of the module documentation, checked after lowering and after
//! differentiation in debug builds of the macro (as Cranelift's `verify_function`).

use super::{Block, Func, Op, OpKind, Value};

impl Func {
    /// Checks the IR's invariants; the error names the first offending op.
    pub fn verify(&self) -> Result<(), String> {
        let mut checker = Checker {
            func: self,
            defined: vec![false; self.values.len()],
            visible: vec![false; self.values.len()],
            scopes: vec![Vec::new()],
        };
        for p in &self.params {
            checker.define(p.value)?;
            if let Some(offsets) = p.offsets {
                checker.define(offsets)?;
            }
        }
        if self.body.yields.is_empty() {
            return Err("the function yields no output".to_string());
        }
        checker.block(&self.body)
    }
}

struct Checker<'a> {
    func: &'a Func,
    defined: Vec<bool>,
    /// Whether each value is defined in the current region or an enclosing one: a lookup per
    /// operand, so that verifying stays linear in the size of the function.
    visible: Vec<bool>,
    /// The values defined in each enclosing region, innermost last: they stop being visible
    /// when their region ends.
    scopes: Vec<Vec<Value>>,
}

impl Checker<'_> {
    fn define(&mut self, v: Value) -> Result<(), String> {
        match self.defined.get_mut(v.index()) {
            None => return Err(format!("{v} is not in the value table")),
            Some(true) => return Err(format!("{v} is defined twice")),
            Some(d) => *d = true,
        }
        self.visible[v.index()] = true;
        if let Some(scope) = self.scopes.last_mut() {
            scope.push(v);
        }
        Ok(())
    }

    fn visible(&self, v: Value) -> bool {
        self.visible.get(v.index()).copied().unwrap_or(false)
    }

    fn block(&mut self, block: &Block) -> Result<(), String> {
        for &arg in &block.args {
            self.define(arg)?;
        }
        for op in &block.ops {
            self.op(op)?;
        }
        for &v in &block.yields {
            if !self.visible(v) {
                return Err(format!("a block yields {v}, which is not defined there"));
            }
        }
        Ok(())
    }

    fn op(&mut self, op: &Op) -> Result<(), String> {
        let line = || self.func.op_line(op);
        for v in op.kind.operands() {
            if !self.visible(v) {
                return Err(format!("{} uses {v} where it is not defined", line()));
            }
        }
        for b in op.kind.blocks() {
            self.scopes.push(Vec::new());
            let result = self.block(b);
            for v in self.scopes.pop().unwrap_or_default() {
                self.visible[v.index()] = false;
            }
            result?;
        }
        let (results, yields) = (op.results.len(), |b: &Block| b.yields.len());
        let shape_ok = match &op.kind {
            OpKind::Prim(prim, args) => {
                args.len() == prim.operands.len() && (results == 0 || results == prim.results)
            }
            OpKind::Logic { rhs, .. } => yields(rhs) == 1 && results <= 1,
            OpKind::If { then, els, .. } => {
                yields(then) == yields(els) && (results == yields(then) || results == 0)
            }
            OpKind::For {
                init,
                body,
                exits,
                trips,
                ..
            } => {
                body.args.len() == 1 + init.len()
                    && yields(body) == usize::from(*exits) + init.len()
                    && results == init.len() + usize::from(*trips)
            }
            OpKind::Loop {
                init, body, trips, ..
            } => {
                body.args.len() == init.len()
                    && yields(body) == 1 + init.len()
                    && results == init.len() + usize::from(*trips)
            }
            OpKind::Checkpointed(c) => {
                let n = c.init.len();
                c.advance.args.len() == 1 + n
                    && yields(&c.advance) == n
                    && c.step.args.len() == 1 + n + c.adjoints.len()
                    && yields(&c.step) == c.adjoints.len()
                    && results == c.adjoints.len()
            }
            OpKind::Effect { .. }
            | OpKind::Push { .. }
            | OpKind::BufferAdd { .. }
            | OpKind::BufferAddAll { .. }
            | OpKind::AddTo { .. }
            | OpKind::BufferReset { .. }
            | OpKind::CheckLen { .. } => results == 0,
            OpKind::Bind { names, .. } => results == names.len(),
            OpKind::Pop { .. } => results > 0,
            OpKind::Pullback { .. } => true,
            OpKind::Call(call) => {
                let writes = call.args.iter().filter(|a| a.pass.writes()).count();
                results == 0 || results == call.returned + writes
            }
            OpKind::CallPullback { call, slots, .. } => {
                slots.len() == call.args.len() && (results == 0 || results == call.args.len())
            }
            _ => results <= 1,
        };
        if !shape_ok {
            return Err(format!(
                "{} has the wrong number of operands, results or yields",
                line()
            ));
        }
        if let OpKind::Push { stash, .. } | OpKind::Pop { stash } = &op.kind
            && *stash >= self.func.stashes.len()
        {
            return Err(format!("{} names a stash that is not declared", line()));
        }
        for &r in &op.results {
            self.define(r)?;
        }
        Ok(())
    }
}
