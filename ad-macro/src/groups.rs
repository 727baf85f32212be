//! Invisible groups made visible. A `macro_rules!` that splices `$e:expr` into a function
//! under `#[reverse]` hands the macro the expression inside an invisible (`None`-delimited)
//! group, which syn keeps as `Expr::Group`: `2.0 * $e` with `$e = x + 1.0` is `2.0 * (x +
//! 1.0)`. Printed back as tokens for rustc, such a group may lose its precedence (rustc reads
//! `2.0 * x + 1.0`), so the original function the macro emits would compute something else
//! than what the user wrote. Every group in an operand position becomes parentheses before
//! anything else reads the function.

use syn::visit_mut::{self, VisitMut};
use syn::{Expr, ExprGroup, ExprParen};

/// Replaces the invisible groups of `item`'s operands by parentheses.
pub fn parenthesize(item: &mut syn::ItemFn) {
    Operands.visit_item_fn_mut(item);
}

struct Operands;

impl VisitMut for Operands {
    fn visit_expr_mut(&mut self, e: &mut Expr) {
        let operands: Vec<&mut Expr> = match e {
            Expr::Binary(b) => vec![&mut *b.left, &mut *b.right],
            Expr::Unary(u) => vec![&mut *u.expr],
            Expr::Cast(c) => vec![&mut *c.expr],
            Expr::MethodCall(m) => vec![&mut *m.receiver],
            Expr::Field(f) => vec![&mut *f.base],
            Expr::Index(i) => vec![&mut *i.expr],
            Expr::Call(c) => vec![&mut *c.func],
            Expr::Reference(r) => vec![&mut *r.expr],
            Expr::Try(t) => vec![&mut *t.expr],
            Expr::Await(a) => vec![&mut *a.base],
            Expr::Range(r) => r
                .start
                .iter_mut()
                .chain(r.end.iter_mut())
                .map(|e| &mut **e)
                .collect(),
            Expr::Assign(a) => vec![&mut *a.left],
            _ => Vec::new(),
        };
        for operand in operands {
            if let Expr::Group(ExprGroup {
                attrs,
                group_token,
                expr,
            }) = operand
                && !primary(expr)
            {
                *operand = Expr::Paren(ExprParen {
                    attrs: std::mem::take(attrs),
                    paren_token: syn::token::Paren(group_token.span),
                    expr: std::mem::replace(expr, Box::new(Expr::Verbatim(Default::default()))),
                });
            }
        }
        visit_mut::visit_expr_mut(self, e);
    }
}

/// Whether `e` binds at least as tightly as any operand position: it needs no parentheses
/// (and rustc's `unused_parens` would complain of some).
fn primary(e: &Expr) -> bool {
    matches!(
        e,
        Expr::Path(_)
            | Expr::Lit(_)
            | Expr::Paren(_)
            | Expr::Call(_)
            | Expr::MethodCall(_)
            | Expr::Macro(_)
            | Expr::Array(_)
            | Expr::Tuple(_)
            | Expr::Index(_)
            | Expr::Field(_)
            | Expr::Repeat(_)
    )
}
