//! Shrinking a failing random program to a small counterexample: the failing function (with
//! the functions before it, which it may call) loses statements, and its expressions are
//! replaced by their parts or by literals, as long as it fails the same way.

use super::differential::check_program;
use super::generator::{Arg, Cond, Container, Expr, Function, Program, Stmt};

/// What kind of failure a message reports: shrinking keeps the kind. A rejection or an
/// interpreter error keeps its message too (but for numbers), or shrinking would end at a
/// program that names an undeclared variable.
fn kind(failure: &str) -> String {
    if failure.contains("panicked") {
        "panic".into()
    } else if failure.contains("reverse mode gives") || failure.contains("differs from") {
        "mismatch".into()
    } else {
        failure.chars().filter(|c| !c.is_ascii_digit()).collect()
    }
}

/// The smallest failing function found (the program's failing function if nothing smaller
/// fails the same way).
pub fn shrink(program: &Program, seed: u64, fd: bool) -> Function {
    let failing = |p: &Program| check_program(p, seed, fd).err();
    // The first failing function, with the functions before it.
    let mut k = program.functions.len();
    for n in 1..=program.functions.len() {
        let prefix = Program {
            seed,
            functions: program.functions[..n].to_vec(),
        };
        if failing(&prefix).is_some() {
            k = n;
            break;
        }
    }
    let mut current = Program {
        seed,
        functions: program.functions[..k].to_vec(),
    };
    let Some(target) = failing(&current).map(|f| kind(&f)) else {
        return program.functions[k - 1].clone();
    };
    let still_fails = |p: &Program| failing(p).is_some_and(|f| kind(&f) == target);
    // Rounds of single edits until none applies.
    for _ in 0..50 {
        let last = current.functions.len() - 1;
        let Some(smaller) = candidates(&current.functions[last]).into_iter().find(|f| {
            let mut p = current.clone();
            p.functions[last] = f.clone();
            still_fails(&p)
        }) else {
            break;
        };
        current.functions[last] = smaller;
    }
    current
        .functions
        .pop()
        .unwrap_or_else(|| program.functions[0].clone())
}

/// Functions one edit smaller than `f`.
fn candidates(f: &Function) -> Vec<Function> {
    let mut out = Vec::new();
    // Drop a statement, or replace a compound one by one of its blocks.
    for body in edited_blocks(&f.body) {
        out.push(Function { body, ..f.clone() });
    }
    // Replace an expression by one of its parts, or by a literal.
    let count = count_exprs(f);
    for target in 0..count {
        for choice in 0..4 {
            let mut g = f.clone();
            let mut n = 0;
            if edit_function_expr(&mut g, target, choice, &mut n) {
                out.push(g);
            }
        }
    }
    out
}

/// Every block one statement edit away from `stmts`.
fn edited_blocks(stmts: &[Stmt]) -> Vec<Vec<Stmt>> {
    let mut out = Vec::new();
    for i in 0..stmts.len() {
        let mut without = stmts.to_vec();
        without.remove(i);
        out.push(without);
        let replace = |inner: &[Stmt]| {
            let mut v = stmts[..i].to_vec();
            v.extend(inner.iter().cloned());
            v.extend(stmts[i + 1..].iter().cloned());
            v
        };
        match &stmts[i] {
            Stmt::If { cond, then, els } => {
                out.push(replace(then));
                out.push(replace(els));
                for edited in edited_blocks(then) {
                    let mut v = stmts.to_vec();
                    v[i] = Stmt::If {
                        cond: cond.clone(),
                        then: edited,
                        els: els.clone(),
                    };
                    out.push(v);
                }
                for edited in edited_blocks(els) {
                    let mut v = stmts.to_vec();
                    v[i] = Stmt::If {
                        cond: cond.clone(),
                        then: then.clone(),
                        els: edited,
                    };
                    out.push(v);
                }
            }
            Stmt::LetIf {
                then_body,
                els_body,
                ..
            } => {
                for (k, block) in [then_body, els_body].into_iter().enumerate() {
                    for edited in edited_blocks(block) {
                        let mut v = stmts.to_vec();
                        if let Stmt::LetIf {
                            then_body,
                            els_body,
                            ..
                        } = &mut v[i]
                        {
                            *[then_body, els_body][k] = edited;
                        }
                        out.push(v);
                    }
                }
            }
            Stmt::For { body, .. }
            | Stmt::While { body, .. }
            | Stmt::Iter { body, .. }
            | Stmt::LoopValue { body, .. } => {
                for edited in edited_blocks(body) {
                    let mut v = stmts.to_vec();
                    match &mut v[i] {
                        Stmt::For { body, .. }
                        | Stmt::While { body, .. }
                        | Stmt::Iter { body, .. }
                        | Stmt::LoopValue { body, .. } => *body = edited,
                        _ => {}
                    }
                    out.push(v);
                }
            }
            _ => {}
        }
    }
    out
}

fn count_exprs(f: &Function) -> usize {
    let mut g = f.clone();
    let mut n = 0;
    edit_function_expr(&mut g, usize::MAX, 0, &mut n);
    n
}

/// Replaces the `target`-th expression (in a fixed walk order) by its `choice`-th part, or a
/// literal past its parts. Counts the expressions seen in `n`.
fn edit_function_expr(f: &mut Function, target: usize, choice: usize, n: &mut usize) -> bool {
    edit_stmts(&mut f.body, target, choice, n) || edit_expr(&mut f.ret, target, choice, n)
}

fn edit_stmts(stmts: &mut [Stmt], target: usize, choice: usize, n: &mut usize) -> bool {
    stmts.iter_mut().any(|s| match s {
        Stmt::Let { value, .. } | Stmt::Assign { value, .. } | Stmt::Store { value, .. } => {
            edit_expr(value, target, choice, n)
        }
        Stmt::Array { init, .. } => edit_expr(init, target, choice, n),
        Stmt::Record { a, b, .. } => {
            edit_expr(a, target, choice, n) || edit_expr(b, target, choice, n)
        }
        Stmt::Idiom { .. }
        | Stmt::Stencil { .. }
        | Stmt::Polynomial { .. }
        | Stmt::Scratch { .. }
        | Stmt::Chain(_)
        | Stmt::Closure { .. }
        | Stmt::Slices { .. } => false,
        Stmt::Rows(rows) => rows
            .exprs_mut()
            .into_iter()
            .any(|e| edit_expr(e, target, choice, n)),
        Stmt::If { cond, then, els } => {
            edit_cond(cond, target, choice, n)
                || edit_stmts(then, target, choice, n)
                || edit_stmts(els, target, choice, n)
        }
        Stmt::For { body, .. } => edit_stmts(body, target, choice, n),
        Stmt::While { cond, body, .. } => {
            edit_cond(cond, target, choice, n) || edit_stmts(body, target, choice, n)
        }
        Stmt::Break(c) | Stmt::Continue(c) | Stmt::BreakTo(_, c) => edit_cond(c, target, choice, n),
        Stmt::Return(c, v) => edit_cond(c, target, choice, n) || edit_expr(v, target, choice, n),
        Stmt::SinCos { value, .. } | Stmt::Push { value, .. } => {
            edit_expr(value, target, choice, n)
        }
        Stmt::Iter { body, .. } => edit_stmts(body, target, choice, n),
        Stmt::LoopValue {
            body, cond, value, ..
        } => {
            edit_stmts(body, target, choice, n)
                || edit_cond(cond, target, choice, n)
                || edit_expr(value, target, choice, n)
        }
        Stmt::AssignWhole { value, .. } | Stmt::LetContainer { value, .. } => {
            edit_container(value, target, choice, n)
        }
        Stmt::LetIf {
            cond,
            then_body,
            then,
            els_body,
            els,
            ..
        } => {
            edit_cond(cond, target, choice, n)
                || edit_stmts(then_body, target, choice, n)
                || edit_container(then, target, choice, n)
                || edit_stmts(els_body, target, choice, n)
                || edit_container(els, target, choice, n)
        }
    })
}

fn edit_container(c: &mut Container, target: usize, choice: usize, n: &mut usize) -> bool {
    c.exprs_mut()
        .into_iter()
        .any(|e| edit_expr(e, target, choice, n))
}

fn edit_cond(c: &mut Cond, target: usize, choice: usize, n: &mut usize) -> bool {
    match c {
        Cond::Less(a, b, _) => edit_expr(a, target, choice, n) || edit_expr(b, target, choice, n),
        Cond::IntIs(..) => false,
        Cond::And(a, b) | Cond::Or(a, b) => {
            edit_cond(a, target, choice, n) || edit_cond(b, target, choice, n)
        }
        Cond::Not(a) => edit_cond(a, target, choice, n),
    }
}

fn edit_expr(e: &mut Expr, target: usize, choice: usize, n: &mut usize) -> bool {
    if *n == target {
        *n += 1;
        let parts: Vec<Expr> = e.children().into_iter().cloned().collect();
        *e = match parts.get(choice) {
            Some(part) => part.clone(),
            None if choice == parts.len() && !matches!(e, Expr::Lit(_)) => Expr::Lit(0.5),
            None => return false,
        };
        return true;
    }
    *n += 1;
    match e {
        Expr::Var(_)
        | Expr::Lit(_)
        | Expr::Index(..)
        | Expr::Row(..)
        | Expr::Ragged(..)
        | Expr::Field(..)
        | Expr::Cast(_) => false,
        Expr::Bin(_, a, b) | Expr::Div(a, b, _) | Expr::Binary(_, a, b) => {
            edit_expr(a, target, choice, n) || edit_expr(b, target, choice, n)
        }
        Expr::Neg(a) | Expr::Unary(_, a) => edit_expr(a, target, choice, n),
        Expr::MulAdd(a, b, c) => {
            edit_expr(a, target, choice, n)
                || edit_expr(b, target, choice, n)
                || edit_expr(c, target, choice, n)
        }
        Expr::Call(_, args) => args.iter_mut().any(|a| match a {
            Arg::Float(e) => edit_expr(e, target, choice, n),
            Arg::Array(c) => edit_container(c, target, choice, n),
            _ => false,
        }),
        Expr::If(c, a, b) => {
            edit_cond(c, target, choice, n)
                || edit_expr(a, target, choice, n)
                || edit_expr(b, target, choice, n)
        }
        Expr::Match(_, arms) => arms.iter_mut().any(|a| edit_expr(a, target, choice, n)),
    }
}
