//! Where `break`, `continue` and `return` may stand.
//!
//! Early exits lower to flags (control.rs): the statements after one run guarded by "no flag
//! is set", and an `if` arm that exits yields a placeholder. That is exact as long as nothing
//! of the exiting statement runs after the exit on the path that took it. Inside a *pure*
//! operand (`s * (if c { break } else { x })`, the right side of `=` or `+=`), what runs after
//! is arithmetic on the placeholder, whose result nothing reads on that path, and the
//! assignment itself is guarded (`Lower::assign_guarded`). Inside any other operand (a call's
//! argument, a method's receiver, an index, a condition, a container literal, a macro's
//! arguments) a call, a store or a test would run on the placeholder: an exit there is an
//! error, whose message says to give it a statement of its own.
//!
//! Before: `for i in 0..n { s *= match i % 3 { 0 => x, _ => continue }; }`  (accepted)
//! Error:  `for i in 0..n { g(if i == 2 { break } else { x }); }`

use syn::visit::{self, Visit};
use syn::{Expr, Stmt};

use crate::errors::Errors;

/// Reports every exit that leaves an operand through an impure position, in `body`.
pub fn check(body: &syn::Block, errors: &mut Errors) {
    let mut walk = Walk {
        impure: 0,
        loops: Vec::new(),
        errors,
    };
    walk.visit_block(body);
}

struct Walk<'a> {
    /// How many impure positions lie between the function body and the current node.
    impure: usize,
    /// The loops entered, innermost last: their labels and `impure` at their bodies.
    loops: Vec<(Option<String>, usize)>,
    errors: &'a mut Errors,
}

impl Walk<'_> {
    fn impure(&mut self, e: &Expr) {
        self.impure += 1;
        self.visit_expr(e);
        self.impure -= 1;
    }

    fn body(&mut self, label: Option<&syn::Label>, body: &syn::Block) {
        let label = label.map(|l| l.name.ident.to_string());
        self.loops.push((label, self.impure));
        self.visit_block(body);
        self.loops.pop();
    }

    /// An exit to the loop labelled `label` (the innermost without one), or to the function.
    fn exit(&mut self, label: Option<&syn::Lifetime>, to_function: bool, at: &Expr) {
        let target = match (to_function, label) {
            (true, _) => Some(0),
            (false, None) => self.loops.last().map(|l| l.1),
            (false, Some(l)) => {
                let name = l.ident.to_string();
                self.loops
                    .iter()
                    .rev()
                    .find(|(label, _)| label.as_deref() == Some(&*name))
                    .map(|l| l.1)
            }
        };
        if target.is_some_and(|depth| self.impure > depth) {
            let what = match at {
                Expr::Return(_) => "`return`",
                Expr::Break(_) => "`break`",
                _ => "`continue`",
            };
            self.errors.spanned(at, format!("{what} inside this expression is not supported: the rest of the expression (a call, a test, an index or a write) would run on the path that leaves; give the exit a statement of its own (`if c {{ {} }}`) before the expression", &what[1..what.len() - 1]));
        }
    }

    /// `break`, `continue` or `return` (`e`): its value, if any, is an impure position (what
    /// the exit does with it runs on the path that leaves), then the exit itself is checked.
    fn exit_expr(&mut self, e: &Expr) {
        match e {
            Expr::Break(b) => {
                if let Some(value) = &b.expr {
                    self.impure(value);
                }
                self.exit(b.label.as_ref(), false, e);
            }
            Expr::Continue(c) => self.exit(c.label.as_ref(), false, e),
            Expr::Return(r) => {
                if let Some(value) = &r.expr {
                    self.impure(value);
                }
                self.exit(None, true, e);
            }
            _ => {}
        }
    }

    /// A binary operation: arithmetic keeps both operands pure; the right side of `&&` and
    /// `||` is a test (it may not run), and the left side of an assignment a write.
    fn binary(&mut self, b: &syn::ExprBinary) {
        match b.op {
            syn::BinOp::And(_) | syn::BinOp::Or(_) => {
                self.visit_expr(&b.left);
                self.impure(&b.right);
            }
            _ if super::is_assignment(&b.op) => {
                self.impure(&b.left);
                self.visit_expr(&b.right);
            }
            _ => {
                self.visit_expr(&b.left);
                self.visit_expr(&b.right);
            }
        }
    }

    /// `if`: the arms keep the position of the branch (an arm that exits yields a
    /// placeholder), the condition is a test.
    fn if_expr(&mut self, i: &syn::ExprIf) {
        self.impure(&i.cond);
        self.visit_block(&i.then_branch);
        if let Some((_, els)) = &i.else_branch {
            self.visit_expr(els);
        }
    }

    /// `match`: as `if`, the scrutinee and the patterns being tests.
    fn match_expr(&mut self, m: &syn::ExprMatch) {
        self.impure(&m.expr);
        for arm in &m.arms {
            self.impure += 1;
            self.visit_pat(&arm.pat);
            self.impure -= 1;
            self.visit_expr(&arm.body);
        }
    }
}

impl<'ast> Visit<'ast> for Walk<'_> {
    fn visit_expr(&mut self, e: &'ast Expr) {
        match e {
            Expr::Break(_) | Expr::Continue(_) | Expr::Return(_) => self.exit_expr(e),
            // Pure positions: what runs after an exit in them is arithmetic nothing reads.
            Expr::Binary(b) => self.binary(b),
            Expr::Assign(a) => {
                self.impure(&a.left);
                self.visit_expr(&a.right);
            }
            Expr::Unary(_)
            | Expr::Paren(_)
            | Expr::Group(_)
            | Expr::Cast(_)
            | Expr::Tuple(_)
            | Expr::Field(_)
            | Expr::Reference(_)
            | Expr::Block(_) => visit::visit_expr(self, e),
            // A primitive method is arithmetic too; other methods may have effects.
            Expr::MethodCall(m)
                if crate::prims::method(&m.method.to_string(), m.args.len() + 1).is_some() =>
            {
                visit::visit_expr(self, e);
            }
            // Branches: the arms keep the position of the branch, the test is impure.
            Expr::If(i) => self.if_expr(i),
            Expr::Match(m) => self.match_expr(m),
            Expr::Loop(l) => self.body(l.label.as_ref(), &l.body),
            Expr::While(w) => {
                self.impure(&w.cond);
                self.body(w.label.as_ref(), &w.body);
            }
            Expr::ForLoop(f) => {
                self.impure(&f.expr);
                self.body(f.label.as_ref(), &f.body);
            }
            // Closures are rejected where they are lowered; their exits are their own.
            Expr::Closure(_) => {}
            _ => {
                self.impure += 1;
                visit::visit_expr(self, e);
                self.impure -= 1;
            }
        }
    }

    fn visit_stmt(&mut self, s: &'ast Stmt) {
        match s {
            Stmt::Macro(m) => self.visit_macro(&m.mac),
            Stmt::Item(_) => {}
            other => visit::visit_stmt(self, other),
        }
    }

    fn visit_local(&mut self, local: &'ast syn::Local) {
        if let Some(init) = &local.init {
            self.visit_expr(&init.expr);
            if let Some((_, diverge)) = &init.diverge {
                self.visit_expr(diverge);
            }
        }
    }

    fn visit_item(&mut self, _: &'ast syn::Item) {}
}
