//! Random programs in the subset `#[reverse]` supports, for differential testing.
//!
//! A [`Program`] is a few functions; later ones may call earlier ones. Each function has float,
//! slice and integer parameters and a body of `let`s, reassignments, compound assignments,
//! local arrays written and overwritten, `if`/`else` and `match`, `for` and `while` loops with
//! carried values, `break`, `continue` and early `return`, calls, and every primitive, each
//! with its argument kept inside its domain (`(e * e + 1.0).ln()`, `e.tanh().asin()`), and
//! values kept bounded (loops update through squashing functions). Everything is drawn from a
//! seeded generator, so a program is reproduced from its seed and [`Config`].
//!
//! This crate (`program-generator`, a dev-dependency) serves the in-process differential test
//! of the IR and the fuzz test of the macro's entry (`ad-macro`), and the end-to-end test
//! (`tests/random_programs/`, whose build script writes the programs).

use std::fmt::Write;

mod rng;

pub use rng::{DEFAULT_SEED, Rng, seed_from};

/// How big and how varied the programs are.
#[derive(Clone, Debug)]
pub struct Config {
    /// Functions per program (each may call the earlier ones).
    pub functions: usize,
    /// Statements per block, at most.
    pub statements: usize,
    /// Nesting of blocks (and of expressions, doubled).
    pub depth: usize,
    pub loops: bool,
    pub arrays: bool,
    pub calls: bool,
    /// `break`, `continue`, early `return`.
    pub exits: bool,
    /// Containers as values: whole assignment (`p = [p[1], p[0] * x];`, `p = q;`,
    /// `v = vec![..];`), copies (`let prev = u;`, `let w = v.clone();`), containers yielded by
    /// `if` (`let w = if c { [a, b] } else { q };`, `let w; if c { w = .. } else { w = .. }`).
    pub values: bool,
    /// By-value array parameters (`y: [f64; 2]`, `mut y: [f64; 2]` written in the callee), and
    /// callers that pass a local array and write it after the call.
    pub array_params: bool,
    /// `break`, `continue`, `return` in the arms of `let w; if c { ..; w = .. } else { .. }`
    /// before `w` is assigned.
    pub exits_before_init: bool,
    /// `let w: [f64; 2] = if c { [0.5, 1.0] } else { [1.5; 2] };` and `let w: [f64; 2]; if c
    /// { w = [0.5, 1.0]; } else { w = [1.5; 2]; }`: both arms literals only.
    pub literal_arms: bool,
    /// Forms only rustc runs (the end-to-end layer; the IR interpreter has no enums, items
    /// or methods without a rule), on inactive values next to active ones: an enum declared
    /// in the body and matched with payload bindings, a constant path, a method that changes
    /// an integer array, `&mut` of a counter lent to a helper declared in the body, a branch
    /// on the bits of an active float, a side-effect macro.
    pub idioms: bool,
    /// Containers of rows: a `&[[f64; 2]]` parameter, `[[f64; 2]; 2]`, `vec![[e; 2]; 2]` and
    /// `Vec<[f64; 2]>` locals, read `m[i][j]`, written by element and by row, copied by row,
    /// iterated (`iter()`, `iter_mut()`), pushed onto, passed to callees.
    pub rows: bool,
    /// A parameter struct `p: &P` (`#[derive(Params)] struct P { b: f64, w: Vec<f64> }`,
    /// declared by the end-to-end layer; the IR interpreter has no structs), its fields read
    /// (`p.b`, `p.w[i % p.w.len()]`) and it passed to callees.
    pub structs: bool,
    /// Rows as outputs (the end-to-end layer, which declares the helpers `rows_step`,
    /// returning `Vec<[f64; 2]>`, and `rows_kick`, writing `&mut [[f64; 2]]`): a container of
    /// rows stepped into an annotated local, kicked in place, and read.
    pub outputs: bool,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            functions: 3,
            statements: 5,
            depth: 3,
            loops: true,
            arrays: true,
            calls: true,
            exits: true,
            values: true,
            array_params: true,
            exits_before_init: true,
            literal_arms: true,
            idioms: false,
            rows: true,
            structs: false,
            outputs: false,
        }
    }
}

/// A program: functions in order, each callable by the ones after it.
#[derive(Clone, Debug)]
pub struct Program {
    pub seed: u64,
    pub functions: Vec<Function>,
}

#[derive(Clone, Debug)]
pub struct Function {
    pub name: String,
    pub params: Vec<Param>,
    pub body: Vec<Stmt>,
    pub ret: Expr,
}

/// A parameter: a float, a slice of floats (`&[f64]`, never empty), an array of floats by
/// value (`[f64; len]`, `mut` if the callee writes it), or a small integer (`usize`, a loop
/// bound).
#[derive(Clone, Debug, PartialEq)]
pub enum Param {
    Float(String),
    Slice(String),
    Array(String, usize, bool),
    Int(String),
    /// `&[[f64; 2]]`, two rows.
    Rows(String),
    /// `&[Vec<f64>]`, rows of [`RAGGED_ROWS`] elements.
    Ragged(String),
    /// `&P`, a parameter struct ([`Config::structs`]): its `b`, then its `w` of three.
    Struct(String),
    /// `&[(usize, usize)]`, pairs of indices, inactive ([`Config::idioms`]): [`PAIRS`].
    Pairs(String),
}

/// The argument of a `&[(usize, usize)]` parameter ([`Param::Pairs`]).
pub const PAIRS: &str = "&[(0usize, 1usize), (2, 0), (1, 2)]";

/// The lengths of the rows of a `&[Vec<f64>]` parameter ([`Param::Ragged`]).
pub const RAGGED_ROWS: [usize; 3] = [2, 1, 3];

impl Param {
    pub fn name(&self) -> &str {
        match self {
            Param::Float(n)
            | Param::Slice(n)
            | Param::Array(n, ..)
            | Param::Int(n)
            | Param::Rows(n)
            | Param::Ragged(n)
            | Param::Struct(n)
            | Param::Pairs(n) => n,
        }
    }
}

/// How a loop over a container's elements writes its iterator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IterForm {
    /// `for &v in h.iter()`
    Iter,
    /// `for v in h.iter().copied()`
    Copied,
    /// `for &v in &h` (an owned container) or `for &v in h` (a slice parameter).
    IntoIter { owned: bool },
    /// `for v in h` of a local array, which the body may write: the items are a copy.
    ByValue,
}

#[derive(Clone, Debug)]
pub enum Stmt {
    Let {
        name: String,
        mutable: bool,
        value: Expr,
    },
    /// `x = e` (`op: None`) or `x op= e`.
    Assign {
        name: String,
        op: Option<char>,
        value: Expr,
    },
    /// `let mut h = vec![e; len];` or `[e; len]`.
    Array {
        name: String,
        len: usize,
        init: Expr,
        vec: bool,
    },
    /// `h[index % len] = e` or `op=`.
    Store {
        array: String,
        index: IExpr,
        len: Len,
        op: Option<char>,
        value: Expr,
    },
    If {
        cond: Cond,
        then: Vec<Stmt>,
        els: Vec<Stmt>,
    },
    /// `for var in start..end` (or `(start..end).rev()`), labelled `'label:` if `label`.
    For {
        label: Option<String>,
        var: String,
        start: IExpr,
        end: IExpr,
        rev: bool,
        body: Vec<Stmt>,
        /// `#[checkpoint(snapshots = k)]` on the loop.
        checkpoint: Option<usize>,
    },
    /// `let mut k = 0; while k < bound && cond { k += 1; body }` (the counter keeps it
    /// finite, also through `continue`).
    While {
        counter: String,
        bound: usize,
        cond: Cond,
        body: Vec<Stmt>,
        checkpoint: Option<usize>,
    },
    /// `if cond { break; }`, `continue`, `return e`.
    Break(Cond),
    Continue(Cond),
    Return(Cond, Expr),
    /// `if cond { break 'label; }`, out of an enclosing labelled `for`.
    BreakTo(String, Cond),
    /// `let (s, c) = e.sin_cos();`
    SinCos {
        sin: String,
        cos: String,
        value: Expr,
    },
    /// `for &v in h.iter() { body }`, or with `.enumerate()` and an index name; the
    /// iterator written as `form` says.
    Iter {
        var: String,
        index: Option<String>,
        array: String,
        form: IterForm,
        body: Vec<Stmt>,
    },
    /// `h.push(e)` onto a local `Vec`.
    Push {
        array: String,
        value: Expr,
    },
    /// `let mut k = 0; let r = loop { k += 1; body; if k >= bound || cond { break e; } };`
    LoopValue {
        name: String,
        counter: String,
        bound: usize,
        body: Vec<Stmt>,
        cond: Cond,
        value: Expr,
    },
    /// One of [`Config::idioms`], printed as is: statements that read and assign the float
    /// variable `target` (mutable), numbered `n` for the names of the items it declares.
    Idiom {
        kind: usize,
        target: String,
        n: usize,
    },
    /// A struct declared in the body and made by a literal, written and read by field,
    /// destructured: `struct Pair{n} { a: f64, b: f64 }`, `let mut s{n} = Pair{n} { a, b };`,
    /// `s{n}.b = ..;`, `let Pair{n} { a: p, b: q } = s{n};`, then `target` assigned from them.
    Record {
        target: String,
        n: usize,
        a: Expr,
        b: Expr,
    },
    /// A stencil sum over a container of at least `ahead` elements, its adjoints carried
    /// between iterations (`reverse/carry.rs`): `let mut st{n} = 0.0; for i{n} in
    /// 0..a.len() - ahead { st{n} += a[i{n} + ahead] * a[i{n}] + (a[i{n}] * 0.5).sin(); }`
    /// (plus `a[i{n} + 1]` for `ahead` 2), then `target` assigned from it.
    Stencil {
        target: String,
        array: String,
        ahead: usize,
        n: usize,
    },
    /// A polynomial with the container's elements as coefficients, its powers carried by the
    /// loop, squared after it: `let mut pv{n} = target; let mut pw{n} = 1.0; for i{n} in
    /// 0..a.len() { pv{n} -= a[i{n}] * pw{n}; pw{n} *= 0.5 + i{n} as f64 * 0.25; }`, then
    /// `target` assigned from `pv{n} * pv{n}`. The reverse loop cannot fuse (it needs the
    /// square's adjoint) but replays the powers forwards (`reverse/replay.rs`).
    Polynomial {
        target: String,
        array: String,
        n: usize,
    },
    /// A scratch matrix of three rows, `array.len()` wide, flat and row-major: each row filled
    /// (`sc[r * w + j] = ..`), rewritten in place, then read, in one iteration of the loop over
    /// rows; its reads folded into `target`. Forms: 0 reads its own row (lower triangle, as
    /// GMM does); 1 reads every row after the fill; 2 writes the row again after reading it;
    /// 3 reads the row before (`(r - 1) * w + j`); 4 reads its own row, the width carried by
    /// the loop and shrinking by one per row (a row starts inside the one before). The reverse
    /// sweep loads the elements of 0 and 1 again (nothing writes over them,
    /// `analysis/stable.rs`); 2, 3 and 4 keep them.
    Scratch {
        target: String,
        array: String,
        form: usize,
        n: usize,
    },
    /// `let name = <chain>;` (or `<chain>.for_each(..)`): an iterator chain over a container.
    Chain(Box<Chain>),
    /// A statement on containers of rows ([`Config::rows`]).
    Rows(RowsStmt),
    /// Sub-slices of a container (`windows`, `chunks`, `x[1..]`) folded into the mutable
    /// float `target` ([`Config::rows`]).
    Slices {
        form: usize,
        container: String,
        target: String,
    },
    /// `let f = |u: f64| body; let name = f(a) + f(b);` (or `h.iter().map(|&v| f(v))` summed):
    /// a closure bound with `let`, capturing what `body` reads.
    Closure {
        closure: String,
        param: String,
        body: Expr,
        name: String,
        args: Vec<Expr>,
        /// Also mapped over this container, the results summed.
        mapped: Option<String>,
        /// `move |u: f64| ..` (when every container it may read is an array, which it copies),
        /// then maybe `h[k] = ..;`, a write its copy must not see.
        moved: Option<Option<(String, usize)>>,
    },
    /// `p = [e, ..];`, `v = vec![..];`, `p = q;`, `v = w.clone();`: the whole container.
    AssignWhole {
        array: String,
        value: Container,
    },
    /// `let [mut] w = value;`: a copy (`u`, `v.clone()`) or a new container.
    LetContainer {
        name: String,
        mutable: bool,
        /// `[f64; N]` or `Vec<f64>`, printed if `typed`.
        ty: String,
        typed: bool,
        value: Container,
    },
    /// `let [mut] w = if cond { then } else { els };` (`declared: false`), or
    /// `let [mut] w; if cond { then_body; w = then; } else { els_body; w = els; }`.
    LetIf {
        name: String,
        mutable: bool,
        ty: String,
        typed: bool,
        declared: bool,
        cond: Cond,
        then_body: Vec<Stmt>,
        then: Container,
        els_body: Vec<Stmt>,
        els: Container,
    },
}

/// An iterator chain: `array.iter()`, zipped with another container, reversed, its items
/// through `stages`, ending in `end`.
#[derive(Clone, Debug)]
pub struct Chain {
    pub name: String,
    pub array: String,
    /// `.iter().copied()` (else `.iter()`, the first stage taking `&v`).
    pub copied: bool,
    /// `.zip(other.iter().copied())`, its pairs combined by `(a, b, e)`: `.map(|(a, b)| e)`.
    pub zip: Option<(String, String, String, Expr)>,
    pub rev: bool,
    pub stages: Vec<ChainStage>,
    pub end: ChainEnd,
}

#[derive(Clone, Debug)]
pub enum ChainStage {
    /// `.map(|v| e)`
    Map(String, Expr),
    /// `.filter(|&v| cond)`
    Filter(String, Cond),
    /// `.enumerate().map(|(i, v)| e)`
    Enumerate(String, String, Expr),
    Skip(usize),
    Take(usize),
    StepBy(usize),
}

#[derive(Clone, Debug)]
pub enum ChainEnd {
    /// `.sum::<f64>()`
    Sum,
    /// `.map(|v| v.tanh()).product::<f64>()`
    Product,
    /// `.fold(init, |acc, v| e)`
    Fold(Expr, String, String, Expr),
    /// `.fold(init, f64::max)` (`min` if false).
    FoldMax(Expr, bool),
    /// `.count() as f64`
    Count,
    /// `.reduce(|a, b| e).unwrap_or(default)`
    Reduce(String, String, Expr, Expr),
    /// `.max_by(|a, b| a.total_cmp(b))` (`min_by` with `partial_cmp(b).unwrap()` if false),
    /// then `.unwrap_or(default)` (an idiom: the interpreter has no `Ordering`).
    Best(bool, Expr),
    /// `.for_each(|v| target += e)`: no value.
    ForEach(String, String, Expr),
    /// `for v in <chain> { body }`.
    Loop(String, Vec<Stmt>),
}

impl Chain {
    /// The chain before its consumer, and whether its items are references still.
    fn iterator(&self) -> (String, bool) {
        let e = |e: &Expr| {
            let mut s = String::new();
            e.print(&mut s);
            s
        };
        let mut out = format!("{}.iter()", self.array);
        // The first closure's parameter is `&v` while the items are references.
        let mut by_ref = !self.copied;
        if self.copied {
            out.push_str(".copied()");
        }
        if let Some((other, a, b, value)) = &self.zip {
            let a = if by_ref { format!("&{a}") } else { a.clone() };
            out.push_str(&format!(
                ".zip({other}.iter().copied()).map(|({a}, {b})| {})",
                e(value)
            ));
            by_ref = false;
        }
        if self.rev {
            out.push_str(".rev()");
        }
        let param = |v: &str, by_ref: bool| {
            if by_ref {
                format!("&{v}")
            } else {
                v.to_string()
            }
        };
        for stage in &self.stages {
            match stage {
                ChainStage::Map(v, value) => {
                    out.push_str(&format!(".map(|{}| {})", param(v, by_ref), e(value)));
                    by_ref = false;
                }
                // `filter` lends each item: `&v` of a value, `&&v` of a reference.
                ChainStage::Filter(v, cond) => {
                    let pat = if by_ref {
                        format!("&&{v}")
                    } else {
                        format!("&{v}")
                    };
                    out.push_str(&format!(".filter(|{pat}| {})", cond.print()));
                }
                ChainStage::Enumerate(i, v, value) => {
                    out.push_str(&format!(
                        ".enumerate().map(|({i}, {})| {})",
                        param(v, by_ref),
                        e(value)
                    ));
                    by_ref = false;
                }
                ChainStage::Skip(k) => out.push_str(&format!(".skip({k})")),
                ChainStage::Take(k) => out.push_str(&format!(".take({k})")),
                ChainStage::StepBy(k) => out.push_str(&format!(".step_by({k})")),
            }
        }
        (out, by_ref)
    }

    fn print(&self) -> String {
        let e = |e: &Expr| {
            let mut s = String::new();
            e.print(&mut s);
            s
        };
        let param = |v: &str, by_ref: bool| {
            if by_ref {
                format!("&{v}")
            } else {
                v.to_string()
            }
        };
        let (out, by_ref) = self.iterator();
        let name = &self.name;
        match &self.end {
            ChainEnd::Sum => format!("let {name} = {out}.sum::<f64>();"),
            ChainEnd::Product => format!("let {name}: f64 = {out}.map(|v| v.tanh()).product();"),
            ChainEnd::Fold(init, acc, v, value) => format!(
                "let {name} = {out}.fold({}, |{acc}, {}| {});",
                e(init),
                param(v, by_ref),
                e(value)
            ),
            ChainEnd::FoldMax(init, max) => {
                let f = if *max { "max" } else { "min" };
                let out = if by_ref {
                    format!("{out}.copied()")
                } else {
                    out
                };
                format!("let {name} = {out}.fold({}, f64::{f});", e(init))
            }
            ChainEnd::Count => format!("let {name} = {out}.count() as f64;"),
            ChainEnd::Reduce(a, b, value, default) => {
                let out = if by_ref {
                    format!("{out}.copied()")
                } else {
                    out
                };
                format!(
                    "let {name} = {out}.reduce(|{a}, {b}| {}).unwrap_or({});",
                    e(value),
                    e(default)
                )
            }
            ChainEnd::Best(max, default) => {
                let out = if by_ref {
                    format!("{out}.copied()")
                } else {
                    out
                };
                let f = if *max {
                    "max_by(|a, b| a.total_cmp(b))"
                } else {
                    "min_by(|a, b| a.partial_cmp(b).unwrap())"
                };
                format!("let {name} = {out}.{f}.unwrap_or({});", e(default))
            }
            ChainEnd::ForEach(target, v, value) => format!(
                "{out}.for_each(|{}| {target} += {});",
                param(v, by_ref),
                e(value)
            ),
            // Printed by `print_stmt`, which has the body's indentation.
            ChainEnd::Loop(..) => String::new(),
        }
    }
}

/// `acc * 0.5 + item`: a `fold` or `reduce` step. The accumulator appears only in arithmetic
/// with the item, which types it: a method called on it alone would need a type the generated
/// code cannot give (docs/supported.md).
fn damped(acc: &str, item: Expr) -> Expr {
    let half = Expr::Bin(
        '*',
        Box::new(Expr::Var(acc.to_string())),
        Box::new(Expr::Lit(0.5)),
    );
    Expr::Bin('+', Box::new(half), Box::new(item))
}

/// How many forms [`Stmt::Slices`] has.
const SLICE_FORMS: usize = 5;

/// A statement on a container of rows (`[f64; 2]` rows).
#[derive(Clone, Debug)]
pub enum RowsStmt {
    /// `let mut name = [[a, b], [c, d]];`, or `vec![[a; 2]; 2]` (`vec`, one item).
    Local {
        name: String,
        items: Vec<Expr>,
        vec: bool,
    },
    /// `let name = rows[i % rows.len()];`: a row copied, an array from then on.
    Copy {
        name: String,
        rows: String,
        index: IExpr,
    },
    /// `rows[i % rows.len()][col] = value;`
    Store {
        rows: String,
        index: IExpr,
        col: usize,
        value: Expr,
    },
    /// `rows[i % rows.len()] = [a, b];`
    Write {
        rows: String,
        index: IExpr,
        values: Vec<Expr>,
    },
    /// `for p in rows.iter() { target = (target * 0.5 + p[0] * p[1]).sin(); }`
    Loop { rows: String, target: String },
    /// `for p in rows.iter_mut() { p[1] = p[0] * 0.5 + p[1].sin(); }`
    Update { rows: String },
    /// Over a container of `Vec`s `q`: `for r in q.iter() { for (j, &v) in
    /// r.iter().enumerate() { target = (target * 0.5 + v * r[r.len() - 1 - j]).sin(); } }`
    RaggedLoop { rows: String, target: String },
    /// `let mut name: Vec<Vec<f64>> = vec![vec![value; width]; count];`: a container of
    /// `Vec`s of one length, a local (typed: of literals alone it would be `{float}`).
    Grid {
        name: String,
        width: usize,
        count: usize,
        value: Expr,
    },
    /// `let mut name: Vec<[f64; 2]> = rows_step(&rows, t);`, `rows_kick(&mut name, k);`,
    /// then `target` assigned from a row of it ([`Config::outputs`]); a writable container of
    /// rows in scope kicked too (`kicked`: in a loop, a container the calls carry).
    Out {
        name: String,
        rows: String,
        kicked: Option<String>,
        target: String,
        t: Expr,
        k: Expr,
        index: IExpr,
    },
    /// `let mut name = rows_step(&rows, t); if target < 0.5 { name = rows_step(&name, k); }
    /// target = (target * 0.5 + rows_sum(&name)).sin();`: rows a callee returns, not
    /// annotated, passed on whole ([`Config::outputs`]).
    Passed {
        name: String,
        rows: String,
        target: String,
        t: Expr,
        k: Expr,
    },
    /// `grid[i % count][col % width] = value;`
    GridStore {
        grid: String,
        width: usize,
        count: usize,
        index: IExpr,
        col: IExpr,
        value: Expr,
    },
    /// `let mut name: Vec<[f64; 2]> = Vec::new(); for pt in rows.iter() { name.push([pt[1],
    /// pt[0] * factor]); }` (not `p`: the factor may read the parameter struct `p`)
    Pushed {
        name: String,
        rows: String,
        factor: Expr,
    },
}

impl RowsStmt {
    fn print(&self) -> String {
        let e = |e: &Expr| {
            let mut s = String::new();
            e.print(&mut s);
            s
        };
        // Every container of rows has two (`% rows.len()` in a place would borrow it twice).
        let at = |rows: &str, index: &IExpr| format!("{rows}[{} % 2]", index.print());
        match self {
            RowsStmt::Local { name, items, vec } => match (vec, &items[..]) {
                // Typed: rows of literals alone would be `{float}`.
                (true, [item]) => {
                    format!("let mut {name}: Vec<[f64; 2]> = vec![[{}; 2]; 2];", e(item))
                }
                (_, [a, b, c, d]) => {
                    format!(
                        "let mut {name}: [[f64; 2]; 2] = [[{}, {}], [{}, {}]];",
                        e(a),
                        e(b),
                        e(c),
                        e(d)
                    )
                }
                _ => String::new(),
            },
            RowsStmt::Copy { name, rows, index } => format!("let {name} = {};", at(rows, index)),
            RowsStmt::Store {
                rows,
                index,
                col,
                value,
            } => format!("{}[{col}] = {};", at(rows, index), e(value)),
            RowsStmt::Write {
                rows,
                index,
                values,
            } => {
                let values: Vec<String> = values.iter().map(e).collect();
                format!("{} = [{}];", at(rows, index), values.join(", "))
            }
            RowsStmt::Loop { rows, target } => format!(
                "for p in {rows}.iter() {{ {target} = ({target} * 0.5 + p[0] * p[1]).sin(); }}"
            ),
            RowsStmt::RaggedLoop { rows, target } => format!(
                "for r in {rows}.iter() {{\n    for (j, &v) in r.iter().enumerate() {{ {target} = ({target} * 0.5 + v * r[r.len() - 1 - j]).sin(); }}\n}}"
            ),
            RowsStmt::Grid {
                name,
                width,
                count,
                value,
            } => format!(
                "let mut {name}: Vec<Vec<f64>> = vec![vec![{}; {width}]; {count}];",
                e(value)
            ),
            RowsStmt::Out {
                name,
                rows,
                kicked,
                target,
                t,
                k,
                index,
            } => {
                let kick = match kicked {
                    Some(m) => format!("\nrows_kick(&mut {m}, 0.25);"),
                    None => String::new(),
                };
                format!(
                    "let mut {name}: Vec<[f64; 2]> = rows_step(&{rows}, {});\nrows_kick(&mut {name}, {});{kick}\n{target} = ({target} * 0.5 + {name}[{} % {name}.len()][1]).sin();",
                    e(t),
                    e(k),
                    index.print()
                )
            }
            RowsStmt::Passed {
                name,
                rows,
                target,
                t,
                k,
            } => format!(
                "let mut {name} = rows_step(&{rows}, {});\nif {target} < 0.5 {{\n{name} = rows_step(&{name}, {});\n}}\n{target} = ({target} * 0.5 + rows_sum(&{name})).sin();",
                e(t),
                e(k)
            ),
            RowsStmt::GridStore {
                grid,
                width,
                count,
                index,
                col,
                value,
            } => format!(
                "{grid}[{} % {count}][{} % {width}] = {};",
                index.print(),
                col.print(),
                e(value)
            ),
            RowsStmt::Update { rows } => {
                format!("for p in {rows}.iter_mut() {{ p[1] = p[0] * 0.5 + p[1].sin(); }}")
            }
            RowsStmt::Pushed { name, rows, factor } => format!(
                "let mut {name}: Vec<[f64; 2]> = Vec::new();\nfor pt in {rows}.iter() {{ {name}.push([pt[1], pt[0] * {}]); }}",
                e(factor)
            ),
        }
    }

    /// The expressions in it, for shrinking.
    pub fn exprs_mut(&mut self) -> Vec<&mut Expr> {
        match self {
            RowsStmt::Local { items, .. } => items.iter_mut().collect(),
            RowsStmt::Store { value, .. } => vec![value],
            RowsStmt::Write { values, .. } => values.iter_mut().collect(),
            RowsStmt::Pushed { factor, .. } => vec![factor],
            RowsStmt::Grid { value, .. } | RowsStmt::GridStore { value, .. } => vec![value],
            RowsStmt::Out { t, k, .. } | RowsStmt::Passed { t, k, .. } => vec![t, k],
            RowsStmt::Copy { .. }
            | RowsStmt::Loop { .. }
            | RowsStmt::Update { .. }
            | RowsStmt::RaggedLoop { .. } => Vec::new(),
        }
    }
}

/// A container value: a list (`[a, b]`, `vec![a, b]`), a repetition (`vec![e; k]`), or a copy
/// of another container (`q` of an array, `q.clone()` of a `Vec`).
#[derive(Clone, Debug)]
pub enum Container {
    List(Vec<Expr>, bool),
    Repeat(Expr, usize, bool),
    Copy(String, bool),
}

impl Container {
    pub fn print(&self) -> String {
        let e = |e: &Expr| {
            let mut s = String::new();
            e.print(&mut s);
            s
        };
        match self {
            Container::List(items, vec) => {
                let items: Vec<String> = items.iter().map(e).collect();
                let open = if *vec { "vec![" } else { "[" };
                format!("{open}{}]", items.join(", "))
            }
            Container::Repeat(item, len, vec) => {
                let open = if *vec { "vec![" } else { "[" };
                format!("{open}{}; {len}]", e(item))
            }
            Container::Copy(name, true) => format!("{name}.clone()"),
            Container::Copy(name, false) => name.clone(),
        }
    }

    /// Made of literals only: its element type is an unsuffixed `{float}`.
    pub fn is_constant(&self) -> bool {
        match self {
            Container::List(items, _) => items.iter().all(Expr::is_constant),
            Container::Repeat(item, ..) => item.is_constant(),
            Container::Copy(..) => false,
        }
    }

    /// The element expressions, for shrinking.
    pub fn exprs_mut(&mut self) -> Vec<&mut Expr> {
        match self {
            Container::List(items, _) => items.iter_mut().collect(),
            Container::Repeat(item, ..) => vec![item],
            Container::Copy(..) => Vec::new(),
        }
    }
}

/// The length an index is taken modulo: a literal (local arrays) or `x.len()` (slices).
#[derive(Clone, Debug)]
pub enum Len {
    Lit(usize),
    Of(String),
}

/// Integer expressions: indices and loop bounds.
#[derive(Clone, Debug)]
pub enum IExpr {
    Lit(usize),
    Var(String),
    Add(Box<IExpr>, usize),
    Mul(Box<IExpr>, usize),
    Len(String),
}

#[derive(Clone, Debug)]
pub enum Cond {
    /// `a < b` (or `>`).
    Less(Expr, Expr, bool),
    /// `i % m == r`.
    IntIs(IExpr, usize, usize),
    And(Box<Cond>, Box<Cond>),
    Or(Box<Cond>, Box<Cond>),
    Not(Box<Cond>),
}

#[derive(Clone, Debug)]
pub enum Expr {
    Var(String),
    Lit(f64),
    /// `a op b` for `+ - *`.
    Bin(char, Box<Expr>, Box<Expr>),
    /// `a / (b * b + c)`: a denominator away from 0.
    Div(Box<Expr>, Box<Expr>, f64),
    Neg(Box<Expr>),
    /// A primitive applied inside its domain (see [`Expr::print`]).
    Unary(&'static str, Box<Expr>),
    Binary(&'static str, Box<Expr>, Box<Expr>),
    /// `a.mul_add(b, c)`.
    MulAdd(Box<Expr>, Box<Expr>, Box<Expr>),
    /// `h[index % len]`.
    Index(String, IExpr, Len),
    /// `m[index % m.len()][col]` of a container of rows.
    Row(String, IExpr, usize),
    /// Of a container of `Vec`s `q`: `q[i % q.len()][j % q[i % q.len()].len()]`, or with no
    /// column the row's sum, `q[i % q.len()].iter().sum::<f64>()`.
    Ragged(String, IExpr, Option<IExpr>),
    /// Of a parameter struct `p`: `p.b`, or `p.w[i % p.w.len()]`.
    Field(String, Option<IExpr>),
    /// `name(args)` of an earlier function.
    Call(String, Vec<Arg>),
    If(Box<Cond>, Box<Expr>, Box<Expr>),
    /// `match i % n { 0 => a, 1 => b, .., _ => z }`.
    Match(IExpr, Vec<Expr>),
    /// `(i as f64)`.
    Cast(IExpr),
}

#[derive(Clone, Debug)]
pub enum Arg {
    Float(Expr),
    /// `&h` of a local array or `x` of a slice parameter.
    Slice(String, bool),
    /// An array by value: `h` of a local array (a copy), or `[a, b]`.
    Array(Container),
    Int(IExpr),
    /// `&[[a, b], [c, d]]`: rows written in place.
    Rows(Vec<Expr>),
}

/// The macro's table of primitives (`ad-macro/src/prims.rs`, free of dependencies), from which
/// [`unary`] and [`binary`] draw.
#[path = "../../ad-macro/src/prims.rs"]
#[allow(
    dead_code,
    reason = "the generator reads the rows, not the macro's lookups"
)]
mod prims;

/// Primitives the generator makes by other means: `Expr::Bin`, `Div`, `Neg`, `MulAdd`.
const DRAWN_ELSEWHERE: &[&str] = &["add", "sub", "mul", "div", "neg", "mul_add"];

/// The table's primitives on floats giving floats (not queries, not `to_bits`, not the
/// `linalg` functions on containers) with `floats` float operands (and any integer ones, as
/// `powi`'s exponent), in table order, so that a seed draws the same programs until the table
/// changes.
fn drawable(floats: impl Fn(usize) -> bool) -> impl Iterator<Item = &'static prims::Prim> {
    use prims::{Derivative, Operand};
    prims::PRIMS.iter().filter(move |p| {
        matches!(p.derivative, Derivative::Rule | Derivative::Zero)
            && !p.array_result
            && !p.operands.contains(&Operand::Array)
            && floats(p.operands.iter().filter(|o| **o == Operand::Float).count())
            && !DRAWN_ELSEWHERE.contains(&p.name)
    })
}

/// Unary primitives: every primitive of the table with one float operand; one name per
/// result of a multi-result one (`sin_cos0`, `sin_cos1`: the tuple's elements).
pub fn unary() -> &'static [&'static str] {
    static NAMES: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    NAMES.get_or_init(|| {
        let mut names = Vec::new();
        for p in drawable(|n| n == 1) {
            match p.results {
                1 => names.push(p.name),
                // A handful of strings, made once per process.
                n => names
                    .extend((0..n).map(|k| -> &'static str { format!("{}{k}", p.name).leak() })),
            }
        }
        // A cast between float types (`as f64` of an `f64`: a cast of another width would
        // round, which central differences would see), differentiated by the cast's rules.
        names.push("as_f64");
        names
    })
}

/// Binary primitives: every primitive of the table with two or more float operands (`rem`,
/// which `Expr::Bin` does not draw, `clamp`, drawn with a constant lower bound).
pub fn binary() -> &'static [&'static str] {
    static NAMES: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    NAMES.get_or_init(|| drawable(|n| n >= 2).map(|p| p.name).collect())
}

/// `name(args..)` as the table writes it (`a.name(b)`, `ad_runtime::special::name(a)`), each
/// argument kept inside the primitive's domain: the form of a primitive `Expr::print` has no
/// form of its own for. Its operands must be floats (an integer operand, as `powi`'s, needs a
/// form of its own).
fn table_form(name: &str, args: &[String]) -> String {
    use prims::{Domain, Syntax};
    let Some(p) = prims::PRIMS.iter().find(|p| p.name == name) else {
        panic!("generator: no primitive `{name}` in prims.rs");
    };
    // A primitive of more operands than the expression has (a ternary one drawn as binary)
    // gets the last again.
    let last = args.last().cloned().unwrap_or_default();
    let padded = args.iter().cloned().chain(std::iter::repeat(last));
    let args: Vec<String> = padded
        .take(p.operands.len().max(args.len()))
        .map(|a| match p.domain {
            Domain::Real => a.clone(),
            Domain::Small => format!("({a}.tanh() * 2.0)"),
            Domain::Unit => format!("({a}.tanh() * 0.9)"),
            Domain::Positive => format!("({a} * {a} + 0.5)"),
            Domain::AboveMinusOne => format!("({a} * {a})"),
            Domain::AboveOne => format!("({a} * {a} + 1.5)"),
        })
        .collect();
    match p.syntax {
        Syntax::Function(module) => format!("ad_runtime::{module}::{name}({})", args.join(", ")),
        _ => format!("{}.{name}({})", args[0], args[1..].join(", ")),
    }
}

impl Expr {
    /// The Rust source of the expression.
    pub fn print(&self, out: &mut String) {
        self.print_as(out, false);
    }

    /// The source, with `f64` suffixes on literals if `typed`. A method receiver made of
    /// literals only gets them: rustc cannot call a method on an unsuffixed `{float}`.
    fn print_as(&self, out: &mut String, typed: bool) {
        let p = |e: &Expr| {
            let mut s = String::new();
            e.print_as(&mut s, typed);
            s
        };
        let r = |e: &Expr| {
            let mut s = String::new();
            e.print_as(&mut s, typed || e.is_constant());
            s
        };
        let text = match self {
            Expr::Var(n) => n.clone(),
            Expr::Lit(v) if typed => float_typed(*v),
            Expr::Lit(v) => float(*v),
            Expr::Bin(op, a, b) => format!("({} {op} {})", p(a), p(b)),
            Expr::Div(a, b, c) => {
                let b = p(b);
                format!("({} / ({b} * {b} + {}))", p(a), float(*c))
            }
            Expr::Neg(a) => format!("(-{})", p(a)),
            Expr::Unary(name, a) => {
                let a = r(a);
                match *name {
                    // Kept inside the domain, and small enough not to overflow.
                    "tan" => format!("{a}.tanh().tan()"),
                    "asin" | "acos" => format!("({a}.tanh() * 0.9).{name}()"),
                    "atanh" => format!("({a}.tanh() * 0.9).atanh()"),
                    "sinh" | "cosh" | "exp" | "exp2" | "exp_m1" => {
                        format!("({a}.tanh() * 2.0).{name}()")
                    }
                    "acosh" => format!("({a} * {a} + 1.5).acosh()"),
                    "ln" | "log10" | "log2" => format!("({a} * {a} + 0.5).{name}()"),
                    "ln_1p" => format!("({a} * {a}).ln_1p()"),
                    "sqrt" => format!("({a} * {a} + 0.25).sqrt()"),
                    "recip" => format!("({a} * {a} + 1.0).recip()"),
                    "powi" => format!("{a}.tanh().powi(3)"),
                    "as_f64" => format!("({a} as f64)"),
                    "sin_cos0" => format!("{a}.sin_cos().0"),
                    "sin_cos1" => format!("{a}.sin_cos().1"),
                    "to_degrees" => format!("({a}.tanh().to_degrees() * 0.01)"),
                    _ => table_form(name, &[a]),
                }
            }
            Expr::Binary(name, a, b) => {
                let (a, b) = (r(a), r(b));
                match *name {
                    "powf" => format!("({a} * {a} + 0.5).powf({b}.tanh())"),
                    "log" => format!("({a} * {a} + 0.5).log({b} * {b} + 1.5)"),
                    "rem" => format!("({a} % ({b} * {b} + 0.5))"),
                    "clamp" => format!("{a}.clamp(-0.5, {b}.abs() + 0.5)"),
                    // Both operands of either sign and at least 0.5 away from 0: the value
                    // (a² + 0.5) sign(s) has no kink in a, even where signum(a) flips x's
                    // sign, and jumps only where b crosses 0 (as `signum` does).
                    "copysign" => {
                        let x = format!("{a}.signum() * ({a} * {a} + 0.5)");
                        let s = format!("{b}.signum() * ({b} * {b} + 0.5)");
                        format!("({x}).copysign({s})")
                    }
                    _ => table_form(name, &[a, b]),
                }
            }
            Expr::MulAdd(a, b, c) => format!("{}.mul_add({}, {})", r(a), p(b), p(c)),
            Expr::Index(array, index, len) => {
                format!("{array}[{} % {}]", index.print(), len.print())
            }
            Expr::Row(rows, index, col) => {
                format!("{rows}[{} % {rows}.len()][{col}]", index.print())
            }
            Expr::Field(p, None) => format!("{p}.b"),
            Expr::Field(p, Some(index)) => format!("{p}.w[{} % {p}.w.len()]", index.print()),
            Expr::Ragged(q, index, col) => {
                let row = format!("{q}[{} % {q}.len()]", index.print());
                match col {
                    Some(col) => format!("{row}[{} % {row}.len()]", col.print()),
                    None => format!("{row}.iter().sum::<f64>()"),
                }
            }
            Expr::Call(name, args) => {
                let args: Vec<String> = args.iter().map(Arg::print).collect();
                format!("{name}({})", args.join(", "))
            }
            Expr::If(c, a, b) => format!("(if {} {{ {} }} else {{ {} }})", c.print(), p(a), p(b)),
            Expr::Match(i, arms) => {
                let mut s = format!("(match {} % {} {{ ", i.print(), arms.len());
                for (k, arm) in arms.iter().enumerate() {
                    if k + 1 == arms.len() {
                        let _ = write!(s, "_ => {} }})", p(arm));
                    } else {
                        let _ = write!(s, "{k} => {}, ", p(arm));
                    }
                }
                s
            }
            Expr::Cast(i) => format!("({} as f64)", i.print()),
        };
        out.push_str(&text);
    }

    /// Made of literals only: its type is an unsuffixed `{float}` until something pins it.
    pub fn is_constant(&self) -> bool {
        match self {
            Expr::Lit(_) => true,
            Expr::Var(_)
            | Expr::Index(..)
            | Expr::Row(..)
            | Expr::Ragged(..)
            | Expr::Field(..)
            | Expr::Call(..)
            | Expr::Cast(_) => false,
            _ => self.children().into_iter().all(Expr::is_constant),
        }
    }

    /// The sub-expressions, for shrinking.
    pub fn children(&self) -> Vec<&Expr> {
        match self {
            Expr::Var(_)
            | Expr::Lit(_)
            | Expr::Index(..)
            | Expr::Row(..)
            | Expr::Ragged(..)
            | Expr::Field(..)
            | Expr::Cast(_) => Vec::new(),
            Expr::Bin(_, a, b) | Expr::Div(a, b, _) | Expr::Binary(_, a, b) => vec![a, b],
            Expr::Neg(a) | Expr::Unary(_, a) => vec![a],
            Expr::MulAdd(a, b, c) => vec![a, b, c],
            Expr::Call(_, args) => args
                .iter()
                .flat_map(|a| match a {
                    Arg::Float(e) => vec![e],
                    Arg::Array(Container::List(items, _)) => items.iter().collect(),
                    Arg::Array(Container::Repeat(item, ..)) => vec![item],
                    _ => Vec::new(),
                })
                .collect(),
            Expr::If(_, a, b) => vec![a, b],
            Expr::Match(_, arms) => arms.iter().collect(),
        }
    }
}

impl Arg {
    fn print(&self) -> String {
        match self {
            Arg::Float(e) => {
                let mut s = String::new();
                e.print(&mut s);
                s
            }
            Arg::Slice(name, true) => format!("&{name}"),
            Arg::Slice(name, false) => name.clone(),
            Arg::Array(c) => c.print(),
            Arg::Int(i) => i.print(),
            Arg::Rows(items) => {
                let items: Vec<String> = items
                    .iter()
                    .map(|e| {
                        let mut s = String::new();
                        e.print(&mut s);
                        s
                    })
                    .collect();
                format!(
                    "&[[{}, {}], [{}, {}]]",
                    items[0], items[1], items[2], items[3]
                )
            }
        }
    }
}

impl IExpr {
    pub fn print(&self) -> String {
        match self {
            IExpr::Lit(k) => k.to_string(),
            IExpr::Var(n) => n.clone(),
            IExpr::Add(a, k) => format!("({} + {k})", a.print()),
            IExpr::Mul(a, k) => format!("({} * {k})", a.print()),
            IExpr::Len(n) => format!("{n}.len()"),
        }
    }
}

impl Len {
    fn print(&self) -> String {
        match self {
            Len::Lit(k) => k.to_string(),
            Len::Of(n) => format!("{n}.len()"),
        }
    }
}

impl Cond {
    pub fn print(&self) -> String {
        let p = |e: &Expr| {
            let mut s = String::new();
            e.print(&mut s);
            s
        };
        match self {
            Cond::Less(a, b, true) => format!("{} < {}", p(a), p(b)),
            Cond::Less(a, b, false) => format!("{} > {}", p(a), p(b)),
            Cond::IntIs(i, m, r) => format!("{} % {m} == {r}", i.print()),
            Cond::And(a, b) => format!("({} && {})", a.print(), b.print()),
            Cond::Or(a, b) => format!("({} || {})", a.print(), b.print()),
            Cond::Not(a) => format!("!({})", a.print()),
        }
    }
}

/// A type annotation for a `let` of `value` if rustc needs one: `value` is made of literals
/// only, and a method called on the variable would not compile with its type unknown.
fn ty(value: &Expr, ty: &str) -> String {
    if value.is_constant() {
        format!(": {ty}")
    } else {
        String::new()
    }
}

/// `v` with an `f64` suffix.
fn float_typed(v: f64) -> String {
    let s = format!("{v:?}_f64");
    if v.is_sign_negative() {
        format!("({s})")
    } else {
        s
    }
}

fn float(v: f64) -> String {
    let s = format!("{v:?}");
    if v.is_sign_negative() {
        format!("({s})")
    } else {
        s
    }
}

impl Function {
    /// `#[reverse] fn name(params) -> f64 { body ret }` (without the attribute if `attr` is
    /// empty).
    pub fn print(&self, attr: &str) -> String {
        let params: Vec<String> = self
            .params
            .iter()
            .map(|p| match p {
                Param::Float(n) => format!("{n}: f64"),
                Param::Slice(n) => format!("{n}: &[f64]"),
                Param::Array(n, len, true) => format!("mut {n}: [f64; {len}]"),
                Param::Array(n, len, false) => format!("{n}: [f64; {len}]"),
                Param::Int(n) => format!("{n}: usize"),
                Param::Rows(n) => format!("{n}: &[[f64; 2]]"),
                Param::Ragged(n) => format!("{n}: &[Vec<f64>]"),
                Param::Struct(n) => format!("{n}: &P"),
                Param::Pairs(n) => format!("{n}: &[(usize, usize)]"),
            })
            .collect();
        // A parameter struct is active when `wrt` names it, with the other active ones.
        let attr = match self.params.iter().any(|p| matches!(p, Param::Struct(_))) {
            true => {
                let active: Vec<&str> = (self.params.iter())
                    .filter(|p| !matches!(p, Param::Int(_) | Param::Pairs(_)))
                    .map(Param::name)
                    .collect();
                attr.replacen(
                    "#[reverse]",
                    &format!("#[reverse(wrt({}))]", active.join(", ")),
                    1,
                )
            }
            false => attr.to_string(),
        };
        let mut out = format!("{attr}fn {}({}) -> f64 {{\n", self.name, params.join(", "));
        for stmt in &self.body {
            print_stmt(stmt, 1, &mut out);
        }
        out.push_str("    ");
        self.ret.print(&mut out);
        out.push_str("\n}\n");
        out
    }
}

impl Program {
    /// Every function, each with `attr` before it.
    pub fn print(&self, attr: &str) -> String {
        self.functions
            .iter()
            .map(|f| f.print(attr))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

fn print_stmt(stmt: &Stmt, depth: usize, out: &mut String) {
    let pad = "    ".repeat(depth);
    let e = |e: &Expr| {
        let mut s = String::new();
        e.print(&mut s);
        s
    };
    let block = |stmts: &[Stmt], out: &mut String| {
        for s in stmts {
            print_stmt(s, depth + 1, out);
        }
    };
    match stmt {
        Stmt::Let {
            name,
            mutable,
            value,
        } => {
            let m = if *mutable { "mut " } else { "" };
            let _ = writeln!(
                out,
                "{pad}let {m}{name}{} = {};",
                ty(value, "f64"),
                e(value)
            );
        }
        Stmt::Assign { name, op, value } => {
            let op = op.map(String::from).unwrap_or_default();
            let _ = writeln!(out, "{pad}{name} {op}= {};", e(value));
        }
        Stmt::Array {
            name,
            len,
            init,
            vec,
        } => {
            let (open, close, array) = if *vec {
                ("vec![", "]", "Vec<f64>".to_string())
            } else {
                ("[", "]", format!("[f64; {len}]"))
            };
            let _ = writeln!(
                out,
                "{pad}let mut {name}{} = {open}{}; {len}{close};",
                ty(init, &array),
                e(init)
            );
        }
        Stmt::Store {
            array,
            index,
            len,
            op,
            value,
        } => {
            let op = op.map(String::from).unwrap_or_default();
            let _ = writeln!(
                out,
                "{pad}{array}[{} % {}] {op}= {};",
                index.print(),
                len.print(),
                e(value)
            );
        }
        Stmt::If { cond, then, els } => {
            let _ = writeln!(out, "{pad}if {} {{", cond.print());
            block(then, out);
            if els.is_empty() {
                let _ = writeln!(out, "{pad}}}");
            } else {
                let _ = writeln!(out, "{pad}}} else {{");
                block(els, out);
                let _ = writeln!(out, "{pad}}}");
            }
        }
        Stmt::For {
            label,
            var,
            start,
            end,
            rev,
            body,
            checkpoint,
        } => {
            if let Some(k) = checkpoint {
                let _ = writeln!(out, "{pad}#[checkpoint(snapshots = {k})]");
            }
            let range = format!("{}..{}", start.print(), end.print());
            let range = if *rev {
                format!("({range}).rev()")
            } else {
                range
            };
            let label = label
                .as_ref()
                .map(|l| format!("'{l}: "))
                .unwrap_or_default();
            let _ = writeln!(out, "{pad}{label}for {var} in {range} {{");
            block(body, out);
            let _ = writeln!(out, "{pad}}}");
        }
        Stmt::While {
            counter,
            bound,
            cond,
            body,
            checkpoint,
        } => {
            let _ = writeln!(out, "{pad}let mut {counter} = 0;");
            if let Some(k) = checkpoint {
                let _ = writeln!(out, "{pad}#[checkpoint(snapshots = {k})]");
            }
            // Every other loop counts in its condition (a condition that assigns), the same
            // iterations.
            if counter.bytes().last().is_some_and(|b| b % 2 == 0) {
                let _ = writeln!(
                    out,
                    "{pad}while {{ {counter} += 1; {counter} }} <= {bound} && {} {{",
                    cond.print()
                );
            } else {
                let _ = writeln!(out, "{pad}while {counter} < {bound} && {} {{", cond.print());
                let _ = writeln!(out, "{pad}    {counter} += 1;");
            }
            block(body, out);
            let _ = writeln!(out, "{pad}}}");
        }
        Stmt::Break(c) => {
            let _ = writeln!(out, "{pad}if {} {{ break; }}", c.print());
        }
        Stmt::Continue(c) => {
            let _ = writeln!(out, "{pad}if {} {{ continue; }}", c.print());
        }
        Stmt::Return(c, v) => {
            let _ = writeln!(out, "{pad}if {} {{ return {}; }}", c.print(), e(v));
        }
        Stmt::BreakTo(label, c) => {
            let _ = writeln!(out, "{pad}if {} {{ break '{label}; }}", c.print());
        }
        Stmt::Record { target, n, a, b } => {
            let t = target;
            let text = format!(
                "struct Pair{n} {{ a: f64, b: f64 }}\n\
                 let mut s{n} = Pair{n} {{ b: {}, a: {} }};\n\
                 s{n}.b = s{n}.a * 0.5 + s{n}.b;\n\
                 s{n}.a += {t} * 0.25;\n\
                 let Pair{n} {{ a: pa{n}, b: pb{n} }} = s{n};\n\
                 {t} = ({t} * pa{n}).sin() + pb{n};",
                e(b),
                e(a)
            );
            for line in text.lines() {
                let _ = writeln!(out, "{pad}{line}");
            }
        }
        Stmt::Stencil {
            target,
            array: a,
            ahead,
            n,
        } => {
            let middle = match ahead {
                2 => format!(" + {a}[i{n} + 1]"),
                _ => String::new(),
            };
            let text = format!(
                "let mut st{n} = 0.0;\n\
                 for i{n} in 0..{a}.len() - {ahead} {{\n    \
                     st{n} += {a}[i{n} + {ahead}] * {a}[i{n}] + ({a}[i{n}] * 0.5).sin(){middle};\n\
                 }}\n\
                 {target} = ({target} * 0.5 + st{n}).tanh();"
            );
            for line in text.lines() {
                let _ = writeln!(out, "{pad}{line}");
            }
        }
        Stmt::Polynomial {
            target,
            array: a,
            n,
        } => {
            let text = format!(
                "let mut pv{n} = {target};\n\
                 let mut pw{n} = 1.0;\n\
                 for i{n} in 0..{a}.len() {{\n    \
                     pv{n} -= {a}[i{n}] * pw{n};\n    \
                     pw{n} *= 0.5 + i{n} as f64 * 0.25;\n\
                 }}\n\
                 {target} = ({target} * 0.5 + pv{n} * pv{n}).tanh();"
            );
            for line in text.lines() {
                let _ = writeln!(out, "{pad}{line}");
            }
        }
        Stmt::Scratch {
            target,
            array: a,
            form,
            n,
        } => {
            let t = target;
            // The row-major index, written the ways people write it.
            let at = |row: &str, col: &str| match n % 3 {
                0 => format!("{row} * w{n} + {col}"),
                1 => format!("w{n} * {row} + {col}"),
                _ => format!("{col} + {row} * w{n}"),
            };
            let (rj, rc) = (
                at(&format!("r{n}"), &format!("j{n}")),
                at(&format!("r{n}"), &format!("c{n}")),
            );
            // Form 4's rows are two wider than the container and shrink by one per row.
            let element = match form {
                4 => format!("{a}[j{n} % {a}.len()]"),
                _ => format!("{a}[j{n}]"),
            };
            let fill = format!(
                "    for j{n} in 0..w{n} {{\n        \
                         sc{n}[{rj}] = {element} * (r{n} as f64 + 0.5) - {t};\n    \
                     }}\n    \
                     for j{n} in 0..w{n} {{\n        \
                         sc{n}[{rj}] = sc{n}[{rj}] * 0.5 + {element};\n    \
                     }}\n"
            );
            let body = match form {
                0 => format!(
                    "for r{n} in 0..3 {{\n{fill}    \
                         for c{n} in 0..w{n} {{\n        \
                             for j{n} in c{n}..w{n} {{\n            \
                                 sa{n} += (sc{n}[{rj}] * sc{n}[{rc}]).sin();\n        \
                             }}\n    \
                         }}\n\
                     }}\n"
                ),
                1 => format!(
                    "for r{n} in 0..3 {{\n{fill}}}\n\
                     for r{n} in 0..3 {{\n    \
                         for j{n} in 0..w{n} {{\n        \
                             sa{n} += sc{n}[{rj}] * sc{n}[{rj}];\n    \
                         }}\n\
                     }}\n"
                ),
                2 => format!(
                    "for r{n} in 0..3 {{\n{fill}    \
                         for j{n} in 0..w{n} {{\n        \
                             sa{n} += sc{n}[{rj}].sin();\n    \
                         }}\n    \
                         for j{n} in 0..w{n} {{\n        \
                             sc{n}[{rj}] *= 1.5;\n    \
                         }}\n\
                     }}\n"
                ),
                4 => format!(
                    "for r{n} in 0..3 {{\n{fill}    \
                         for j{n} in 0..w{n} {{\n        \
                             sa{n} += sc{n}[{rj}].sin();\n    \
                         }}\n    \
                         w{n} -= 1;\n\
                     }}\n"
                ),
                _ => {
                    let before = at(&format!("(r{n} - 1)"), &format!("j{n}"));
                    format!(
                        "for r{n} in 0..3 {{\n{fill}    \
                             if r{n} > 0 {{\n        \
                                 for j{n} in 0..w{n} {{\n            \
                                     sa{n} += sc{n}[{before}] * sc{n}[{rj}];\n        \
                                 }}\n    \
                             }}\n\
                         }}\n"
                    )
                }
            };
            let width = match form {
                4 => format!("let mut w{n} = {a}.len() + 2;"),
                _ => format!("let w{n} = {a}.len();"),
            };
            let text = format!(
                "{width}\n\
                 let mut sc{n} = vec![0.0; 3 * w{n}];\n\
                 let mut sa{n} = 0.0;\n\
                 {body}\
                 {t} = ({t} * 0.5 + sa{n}).tanh();"
            );
            for line in text.lines() {
                let _ = writeln!(out, "{pad}{line}");
            }
        }
        Stmt::Idiom { kind, target, n } => {
            for line in idiom(*kind, target, *n).lines() {
                let _ = writeln!(out, "{pad}{line}");
            }
        }
        Stmt::Rows(rows) => {
            for line in rows.print().lines() {
                let _ = writeln!(out, "{pad}{line}");
            }
        }
        Stmt::Slices {
            form,
            container: c,
            target: t,
        } => {
            let line = match form % SLICE_FORMS {
                0 => {
                    format!("for w in {c}.windows(2) {{ {t} = ({t} * 0.5 + w[0] * w[1]).sin(); }}")
                }
                1 => format!(
                    "for w in {c}.chunks(2) {{ {t} = ({t} * 0.5 + w[0] * w[w.len() - 1]).sin(); }}"
                ),
                2 => format!("{t} = ({t} + {c}[1..].iter().map(|v| v * v).sum::<f64>()).sin();"),
                3 => format!(
                    "{t} = ({t} + {c}.iter().zip({c}.iter().skip(1)).map(|(a, b)| a * b).sum::<f64>()).sin();"
                ),
                _ => format!(
                    "{t} = ({t} * {c}.windows(2).map(|w| w[1] - w[0]).sum::<f64>()).tanh();"
                ),
            };
            let _ = writeln!(out, "{pad}{line}");
        }
        Stmt::Chain(chain) => match &chain.end {
            ChainEnd::Loop(v, body) => {
                let (iterator, by_ref) = chain.iterator();
                let v = if by_ref { format!("&{v}") } else { v.clone() };
                let _ = writeln!(out, "{pad}for {v} in {iterator} {{");
                block(body, out);
                let _ = writeln!(out, "{pad}}}");
            }
            _ => {
                let _ = writeln!(out, "{pad}{}", chain.print());
            }
        },
        Stmt::Closure {
            closure,
            param,
            body,
            name,
            args,
            mapped,
            moved,
        } => {
            let capture = if moved.is_some() { "move " } else { "" };
            let _ = writeln!(
                out,
                "{pad}let {closure} = {capture}|{param}: f64| {};",
                e(body)
            );
            if let Some(Some((array, k))) = moved {
                let _ = writeln!(out, "{pad}{array}[{k}] = {array}[{k}] * 0.5 + 0.25;");
            }
            let mut calls: Vec<String> = args
                .iter()
                .map(|a| format!("{closure}({})", e(a)))
                .collect();
            if let Some(array) = mapped {
                calls.push(format!(
                    "{array}.iter().map(|&v| {closure}(v)).sum::<f64>()"
                ));
            }
            let _ = writeln!(out, "{pad}let {name}: f64 = {};", calls.join(" + "));
        }
        Stmt::SinCos { sin, cos, value } => {
            let mut receiver = String::new();
            value.print_as(&mut receiver, value.is_constant());
            let _ = writeln!(out, "{pad}let ({sin}, {cos}) = {receiver}.sin_cos();");
        }
        Stmt::Iter {
            var,
            index,
            array,
            form,
            body,
        } => {
            let (pattern, iterator) = match form {
                IterForm::Iter => (format!("&{var}"), format!("{array}.iter()")),
                IterForm::Copied => (var.clone(), format!("{array}.iter().copied()")),
                // A slice parameter is a reference already; an owned container is borrowed.
                IterForm::IntoIter { owned: true } => (format!("&{var}"), format!("&{array}")),
                IterForm::IntoIter { owned: false } => (format!("&{var}"), array.clone()),
                IterForm::ByValue => (var.clone(), array.clone()),
            };
            let _ = match index {
                Some(i) => writeln!(
                    out,
                    "{pad}for ({i}, {pattern}) in {iterator}.enumerate() {{"
                ),
                None => writeln!(out, "{pad}for {pattern} in {iterator} {{"),
            };
            block(body, out);
            let _ = writeln!(out, "{pad}}}");
        }
        Stmt::Push { array, value } => {
            let _ = writeln!(out, "{pad}{array}.push({});", e(value));
        }
        Stmt::LoopValue {
            name,
            counter,
            bound,
            body,
            cond,
            value,
        } => {
            let _ = writeln!(out, "{pad}let mut {counter} = 0;");
            let _ = writeln!(out, "{pad}let {name}{} = loop {{", ty(value, "f64"));
            let _ = writeln!(out, "{pad}    {counter} += 1;");
            block(body, out);
            let _ = writeln!(
                out,
                "{pad}    if {counter} >= {bound} || {} {{ break {}; }}",
                cond.print(),
                e(value)
            );
            let _ = writeln!(out, "{pad}}};");
        }
        Stmt::AssignWhole { array, value } => {
            let _ = writeln!(out, "{pad}{array} = {};", value.print());
        }
        Stmt::LetContainer {
            name,
            mutable,
            ty,
            typed,
            value,
        } => {
            let m = if *mutable { "mut " } else { "" };
            let ty = if *typed {
                format!(": {ty}")
            } else {
                String::new()
            };
            let _ = writeln!(out, "{pad}let {m}{name}{ty} = {};", value.print());
        }
        Stmt::LetIf {
            name,
            mutable,
            ty,
            typed,
            declared,
            cond,
            then_body,
            then,
            els_body,
            els,
        } => {
            let m = if *mutable { "mut " } else { "" };
            let ty = if *typed {
                format!(": {ty}")
            } else {
                String::new()
            };
            if *declared {
                let _ = writeln!(out, "{pad}let {m}{name}{ty};");
                let _ = writeln!(out, "{pad}if {} {{", cond.print());
                block(then_body, out);
                let _ = writeln!(out, "{pad}    {name} = {};", then.print());
                let _ = writeln!(out, "{pad}}} else {{");
                block(els_body, out);
                let _ = writeln!(out, "{pad}    {name} = {};", els.print());
                let _ = writeln!(out, "{pad}}}");
            } else {
                let _ = writeln!(
                    out,
                    "{pad}let {m}{name}{ty} = if {} {{ {} }} else {{ {} }};",
                    cond.print(),
                    then.print(),
                    els.print()
                );
            }
        }
    }
}

/// What is in scope while a body is drawn.
#[derive(Clone, Default)]
struct Scope {
    floats: Vec<String>,
    mutable: Vec<String>,
    /// Local containers and by-value array parameters.
    arrays: Vec<Local>,
    /// Slice parameters.
    slices: Vec<String>,
    /// Containers of rows, and whether they may be written (locals).
    rows: Vec<(String, bool)>,
    /// Containers of `Vec`s (parameters, and the grids).
    ragged: Vec<String>,
    /// Local containers of `Vec`s of one length, writable: their width and rows.
    grids: Vec<(String, usize, usize)>,
    /// Parameter structs.
    structs: Vec<String>,
    /// Whether the `pairs: &[(usize, usize)]` parameter is in scope.
    pairs: bool,
    ints: Vec<String>,
    /// Loop nesting, for `break` and `continue`.
    loops: usize,
    /// Labels of the enclosing labelled loops.
    labels: Vec<String>,
    /// Arrays being iterated: not written (Rust would refuse the borrow).
    frozen: Vec<String>,
}

/// A container variable: an array `[f64; len]` or a `Vec` at least `len` long.
#[derive(Clone)]
struct Local {
    name: String,
    len: usize,
    vec: bool,
    mutable: bool,
}

impl Local {
    fn ty(&self) -> String {
        if self.vec {
            "Vec<f64>".into()
        } else {
            format!("[f64; {}]", self.len)
        }
    }
}

impl Scope {
    /// The containers that may be written here.
    fn writable(&self) -> Vec<Local> {
        self.arrays
            .iter()
            .filter(|a| a.mutable && !self.frozen.contains(&a.name))
            .cloned()
            .collect()
    }
}

/// Draws programs.
pub struct Generator {
    pub rng: Rng,
    pub config: Config,
    next_name: usize,
    /// The functions drawn so far: callable by the next ones.
    signatures: Vec<(String, Vec<Param>)>,
    /// Statements drawn with the last one, to follow it.
    pending: Vec<Stmt>,
}

impl Generator {
    pub fn new(seed: u64, config: Config) -> Generator {
        Generator {
            rng: Rng::new(seed),
            config,
            next_name: 0,
            signatures: Vec::new(),
            pending: Vec::new(),
        }
    }

    /// A program of `config.functions` functions, named `{prefix}0`, `{prefix}1`, ...
    pub fn program(seed: u64, config: &Config, prefix: &str) -> Program {
        let mut g = Generator::new(seed, config.clone());
        let functions = (0..config.functions)
            .map(|k| g.function(&format!("{prefix}{k}")))
            .collect();
        Program { seed, functions }
    }

    /// `#[checkpoint(snapshots = k)]` on one loop in four, with 1 to 4 snapshots: few, so that
    /// short loops are recomputed too.
    fn checkpoint(&mut self) -> Option<usize> {
        self.rng.chance(0.25).then(|| 1 + self.rng.below(4))
    }

    fn fresh(&mut self, stem: &str) -> String {
        self.next_name += 1;
        format!("{stem}{}", self.next_name)
    }

    fn function(&mut self, name: &str) -> Function {
        self.next_name = 0;
        let mut params = Vec::new();
        let floats = 1 + self.rng.below(3);
        for k in 0..floats {
            params.push(Param::Float(format!("x{k}")));
        }
        if self.config.arrays && self.rng.chance(0.5) {
            params.push(Param::Slice("v".into()));
        }
        if self.config.array_params && self.rng.chance(0.4) {
            let len = 1 + self.rng.below(3);
            params.push(Param::Array("y".into(), len, self.rng.chance(0.5)));
        }
        if self.config.loops && self.rng.chance(0.6) {
            params.push(Param::Int("n".into()));
        }
        if self.config.rows && self.rng.chance(0.3) {
            params.push(Param::Rows("r".into()));
        }
        if self.config.rows && self.rng.chance(0.25) {
            params.push(Param::Ragged("q".into()));
        }
        if self.config.structs && self.rng.chance(0.3) {
            params.push(Param::Struct("p".into()));
        }
        if self.config.idioms && self.rng.chance(0.3) {
            params.push(Param::Pairs("pairs".into()));
        }
        let mut scope = Scope::default();
        for p in &params {
            match p {
                Param::Float(n) => scope.floats.push(n.clone()),
                Param::Slice(n) => scope.slices.push(n.clone()),
                Param::Array(n, len, mutable) => scope.arrays.push(Local {
                    name: n.clone(),
                    len: *len,
                    vec: false,
                    mutable: *mutable,
                }),
                Param::Int(n) => scope.ints.push(n.clone()),
                Param::Rows(n) => scope.rows.push((n.clone(), false)),
                Param::Ragged(n) => scope.ragged.push(n.clone()),
                Param::Struct(n) => scope.structs.push(n.clone()),
                Param::Pairs(_) => scope.pairs = true,
            }
        }
        let mut body = self.block(&mut scope, 0, false);
        // A `mut` array parameter written (an element, or the whole) somewhere in the body,
        // and often read by the value returned.
        let mut ret = self.expr(&scope, self.config.depth);
        // A polynomial or scratch matrix of the body's own often read by the value returned:
        // the pass replaying powers only runs when their adjoint is needed, and a load the
        // reverse sweep repeats is only checked if its adjoint reaches the value.
        let polynomial = body.iter().find_map(|s| match s {
            Stmt::Polynomial { target, .. } | Stmt::Scratch { target, .. } => Some(target.clone()),
            _ => None,
        });
        if let Some(target) = polynomial.filter(|_| self.rng.chance(0.7)) {
            ret = Expr::Bin('+', Box::new(ret), Box::new(Expr::Var(target)));
        }
        if let Some(y) = scope
            .writable()
            .into_iter()
            .next()
            .filter(|_| self.rng.chance(0.6))
        {
            if self.rng.chance(0.5) {
                let element = Expr::Index(y.name.clone(), self.iexpr(&scope), Len::Lit(y.len));
                ret = Expr::Bin('+', Box::new(ret), Box::new(element));
            }
            let write = if self.rng.chance(0.3) && self.config.values {
                let (value, _) = self.container(&scope, false, y.len, Some(&y));
                Stmt::AssignWhole {
                    array: y.name,
                    value,
                }
            } else {
                Stmt::Store {
                    index: self.iexpr(&scope),
                    len: Len::Lit(y.len),
                    op: *self.rng.pick(&[None, Some('+'), Some('*')]),
                    value: Expr::Unary("tanh", Box::new(self.expr(&scope, 2))),
                    array: y.name,
                }
            };
            let at = self.rng.below(body.len() + 1);
            body.insert(at, write);
        }
        self.signatures.push((name.to_string(), params.clone()));
        Function {
            name: name.to_string(),
            params,
            body,
            ret,
        }
    }

    /// A block: statements drawn one by one; names declared inside stay inside.
    fn block(&mut self, scope: &mut Scope, depth: usize, in_loop: bool) -> Vec<Stmt> {
        let count = 1 + self.rng.below(self.config.statements);
        let mut inner = scope.clone();
        let mut out = Vec::new();
        for _ in 0..count {
            let stmt = self.stmt(&mut inner, depth, in_loop);
            out.push(stmt);
            // The statements that go with it (a write after a call).
            out.append(&mut self.pending);
        }
        // Mutations of outer variables are visible after the block; declarations are not.
        out
    }

    fn stmt(&mut self, scope: &mut Scope, depth: usize, in_loop: bool) -> Stmt {
        let nested = depth < self.config.depth;
        loop {
            // A scratch matrix filled and read row by row (its own draw: the statements below
            // are many, and it is what the reverse sweep's reloads rely on).
            if self.rng.chance(0.03) && !scope.mutable.is_empty() {
                let containers: Vec<String> = (scope.slices.iter().cloned())
                    .chain(scope.arrays.iter().map(|a| a.name.clone()))
                    .filter(|name| !scope.frozen.contains(name))
                    .collect();
                if !containers.is_empty() {
                    self.next_name += 1;
                    return Stmt::Scratch {
                        target: self.rng.pick(&scope.mutable).clone(),
                        array: self.rng.pick(&containers).clone(),
                        form: self.rng.below(5),
                        n: self.next_name,
                    };
                }
            }
            match self.rng.below(if self.config.rows { 28 } else { 25 }) {
                25 | 26 => return Stmt::Rows(self.rows_stmt(scope)),
                27 if !scope.mutable.is_empty()
                    && (!scope.slices.is_empty() || !scope.arrays.is_empty()) =>
                {
                    let containers: Vec<String> = (scope.slices.iter().cloned())
                        .chain(scope.arrays.iter().map(|a| a.name.clone()))
                        .collect();
                    return Stmt::Slices {
                        form: self.rng.below(SLICE_FORMS),
                        container: self.rng.pick(&containers).clone(),
                        target: self.rng.pick(&scope.mutable).clone(),
                    };
                }
                23 if !scope.arrays.is_empty() || !scope.slices.is_empty() => {
                    return self.chain(scope, nested.then_some(depth));
                }
                24 => {
                    let (closure, param, name) =
                        (self.fresh("cl"), self.fresh("u"), self.fresh("a"));
                    let mut inner = scope.clone();
                    inner.floats.push(param.clone());
                    let body = match self.expr(&inner, 2) {
                        e if e.is_constant() => {
                            Expr::Bin('*', Box::new(Expr::Var(param.clone())), Box::new(e))
                        }
                        e => e,
                    };
                    let args = (0..1 + self.rng.below(2))
                        .map(|_| self.expr(scope, 1))
                        .collect();
                    let containers = self.iterable(scope);
                    let mapped = (!containers.is_empty() && self.rng.chance(0.5))
                        .then(|| self.rng.pick(&containers).clone());
                    // `move` copies arrays; a `Vec` it moved would be gone for the rest. (Chosen
                    // without the random stream, which the programs of the fixed seeds keep.)
                    let moved = (scope.arrays.iter().all(|a| !a.vec)
                        && scope.rows.iter().all(|(_, local)| !local)
                        && scope.grids.is_empty()
                        && self.next_name.is_multiple_of(2))
                    .then(|| {
                        let writable = scope.writable();
                        writable
                            .first()
                            .map(|a| (a.name.clone(), self.next_name % a.len))
                    });
                    scope.floats.push(name.clone());
                    return Stmt::Closure {
                        closure,
                        param,
                        body,
                        name,
                        args,
                        mapped,
                        moved,
                    };
                }
                0 | 1 => {
                    let name = self.fresh("a");
                    let value = self.expr(scope, 2);
                    let mutable = self.rng.chance(0.5);
                    scope.floats.push(name.clone());
                    if mutable {
                        scope.mutable.push(name.clone());
                    }
                    return Stmt::Let {
                        name,
                        mutable,
                        value,
                    };
                }
                2 | 3 if !scope.mutable.is_empty() => {
                    let name = self.rng.pick(&scope.mutable).clone();
                    let op = *self.rng.pick(&[None, Some('+'), Some('-'), Some('*')]);
                    let value = match op {
                        // Products are squashed so that loops do not blow up.
                        Some('*') => Expr::Unary("tanh", Box::new(self.expr(scope, 2))),
                        None => Expr::Unary(
                            ["sin", "tanh", "atan", "cos"][self.rng.below(4)],
                            Box::new(self.expr(scope, 2)),
                        ),
                        _ => self.expr(scope, 2),
                    };
                    return Stmt::Assign { name, op, value };
                }
                4 if self.config.arrays => {
                    let name = self.fresh("h");
                    // Often an array fit for an array parameter of a callee.
                    let fits: Vec<usize> = (self.signatures.iter())
                        .flat_map(|(_, params)| params)
                        .filter_map(|p| match p {
                            Param::Array(_, len, _) => Some(*len),
                            _ => None,
                        })
                        .collect();
                    let vec = self.rng.chance(0.5);
                    let len = if !vec && !fits.is_empty() && self.rng.chance(0.6) {
                        *self.rng.pick(&fits)
                    } else {
                        1 + self.rng.below(4)
                    };
                    let init = self.expr(scope, 1);
                    scope.arrays.push(Local {
                        name: name.clone(),
                        len,
                        vec,
                        mutable: true,
                    });
                    return Stmt::Array {
                        name,
                        len,
                        init,
                        vec,
                    };
                }
                5 if !scope.writable().is_empty() => {
                    let writable = scope.writable();
                    let Local {
                        name: array, len, ..
                    } = self.rng.pick(&writable).clone();
                    let index = self.iexpr(scope);
                    let op = *self.rng.pick(&[None, Some('+'), Some('-')]);
                    let value = Expr::Unary("tanh", Box::new(self.expr(scope, 2)));
                    return Stmt::Store {
                        array,
                        index,
                        len: Len::Lit(len),
                        op,
                        value,
                    };
                }
                6 if nested => {
                    let cond = self.cond(scope);
                    let then = self.block(scope, depth + 1, in_loop);
                    let els = if self.rng.chance(0.5) {
                        self.block(scope, depth + 1, in_loop)
                    } else {
                        Vec::new()
                    };
                    return Stmt::If { cond, then, els };
                }
                7 if nested && self.config.loops => {
                    let var = self.fresh("i");
                    let label = self.rng.chance(0.3).then(|| self.fresh("l"));
                    let start = IExpr::Lit(self.rng.below(2));
                    let end = match scope.ints.first() {
                        Some(n) if self.rng.chance(0.5) => IExpr::Var(n.clone()),
                        _ => IExpr::Lit(self.rng.below(5)),
                    };
                    let mut inner = scope.clone();
                    inner.ints.push(var.clone());
                    inner.loops += 1;
                    inner.labels.extend(label.clone());
                    let body = self.block(&mut inner, depth + 1, true);
                    return Stmt::For {
                        label,
                        var,
                        start,
                        end,
                        rev: self.rng.chance(0.3),
                        body,
                        checkpoint: self.checkpoint(),
                    };
                }
                8 if nested && self.config.loops => {
                    let counter = self.fresh("k");
                    let cond = self.cond(scope);
                    let mut inner = scope.clone();
                    inner.ints.push(counter.clone());
                    inner.loops += 1;
                    let body = self.block(&mut inner, depth + 1, true);
                    return Stmt::While {
                        counter,
                        bound: 1 + self.rng.below(4),
                        cond,
                        body,
                        checkpoint: self.checkpoint(),
                    };
                }
                9 if self.config.exits && in_loop && scope.loops > 0 => {
                    let cond = self.cond(scope);
                    return if self.rng.chance(0.5) {
                        Stmt::Break(cond)
                    } else {
                        Stmt::Continue(cond)
                    };
                }
                10 if self.config.exits && depth > 0 => {
                    let cond = self.cond(scope);
                    let value = self.expr(scope, 2);
                    return Stmt::Return(cond, value);
                }
                11 if !scope.floats.is_empty() => {
                    // A new mutable accumulator, updated from now on.
                    let name = self.fresh("s");
                    let value = Expr::Var(self.rng.pick(&scope.floats).clone());
                    scope.floats.push(name.clone());
                    scope.mutable.push(name.clone());
                    return Stmt::Let {
                        name,
                        mutable: true,
                        value,
                    };
                }
                // Shadowing: a name in scope bound again, immutable from now on.
                12 if !scope.floats.is_empty() => {
                    let name = self.rng.pick(&scope.floats).clone();
                    let value = self.expr(scope, 2);
                    scope.mutable.retain(|m| *m != name);
                    return Stmt::Let {
                        name,
                        mutable: false,
                        value,
                    };
                }
                // More often in a function's own body, where the polynomial's pair of loops
                // share a block (a pass replays its powers there).
                13 if !scope.mutable.is_empty()
                    && self.rng.chance(if depth == 0 { 0.5 } else { 0.2 }) =>
                {
                    // A stencil over a slice (three elements) or a container of two or more.
                    let containers: Vec<(String, usize)> = (scope.slices.iter())
                        .map(|s| (s.clone(), 3))
                        .chain(scope.arrays.iter().map(|a| (a.name.clone(), a.len)))
                        .filter(|(name, _)| !scope.frozen.contains(name))
                        .collect();
                    if !containers.is_empty() && self.rng.chance(if depth == 0 { 0.6 } else { 0.2 })
                    {
                        let target = self.rng.pick(&scope.mutable).clone();
                        let (array, _) = self.rng.pick(&containers).clone();
                        self.next_name += 1;
                        return Stmt::Polynomial {
                            target,
                            array,
                            n: self.next_name,
                        };
                    }
                    if !containers.is_empty() && self.rng.chance(0.5) {
                        let target = self.rng.pick(&scope.mutable).clone();
                        let (array, len) = self.rng.pick(&containers).clone();
                        self.next_name += 1;
                        return Stmt::Stencil {
                            target,
                            array,
                            ahead: 1 + usize::from(len >= 2 && self.rng.chance(0.5)),
                            n: self.next_name,
                        };
                    }
                    let target = self.rng.pick(&scope.mutable).clone();
                    self.next_name += 1;
                    let (a, b) = (self.expr(scope, 2), self.expr(scope, 2));
                    return Stmt::Record {
                        target,
                        n: self.next_name,
                        a,
                        b,
                    };
                }
                13 if self.config.idioms && !scope.mutable.is_empty() && self.rng.chance(0.5) => {
                    let target = self.rng.pick(&scope.mutable).clone();
                    self.next_name += 1;
                    let n = self.next_name;
                    let kind = match scope.pairs && self.rng.chance(0.6) {
                        true => PAIRS_IDIOM,
                        false => self.rng.below(IDIOMS),
                    };
                    return Stmt::Idiom { kind, target, n };
                }
                13 => {
                    let (sin, cos) = (self.fresh("sn"), self.fresh("cs"));
                    let value = self.expr(scope, 2);
                    scope.floats.push(sin.clone());
                    scope.floats.push(cos.clone());
                    return Stmt::SinCos { sin, cos, value };
                }
                14 if nested && (!scope.arrays.is_empty() || !scope.slices.is_empty()) => {
                    let arrays: Vec<String> = scope
                        .arrays
                        .iter()
                        .map(|a| a.name.clone())
                        .chain(scope.slices.iter().cloned())
                        .collect();
                    let array = self.rng.pick(&arrays).clone();
                    let var = self.fresh("e");
                    let index = self.rng.chance(0.5).then(|| self.fresh("j"));
                    let form = match (self.rng.below(3), &index) {
                        (1, _) => IterForm::Copied,
                        // `(&x).enumerate()` is not a method call Rust accepts as written.
                        (2, None) => IterForm::IntoIter {
                            owned: !scope.slices.contains(&array),
                        },
                        _ => IterForm::Iter,
                    };
                    // An array iterated by value, which the body may then write. (Chosen
                    // without the random stream, which the programs of the fixed seeds keep.)
                    let local_array = scope.arrays.iter().any(|a| a.name == array && !a.vec);
                    let form = match form {
                        IterForm::IntoIter { owned: true }
                            if local_array && self.next_name.is_multiple_of(2) =>
                        {
                            IterForm::ByValue
                        }
                        other => other,
                    };
                    let mut inner = scope.clone();
                    inner.floats.push(var.clone());
                    inner.ints.extend(index.clone());
                    if form != IterForm::ByValue {
                        inner.frozen.push(array.clone());
                    }
                    inner.loops += 1;
                    let body = self.block(&mut inner, depth + 1, true);
                    return Stmt::Iter {
                        var,
                        index,
                        array,
                        form,
                        body,
                    };
                }
                15 if scope.writable().iter().any(|a| a.vec) => {
                    let vecs: Vec<String> = scope
                        .writable()
                        .into_iter()
                        .filter(|a| a.vec)
                        .map(|a| a.name)
                        .collect();
                    let array = self.rng.pick(&vecs).clone();
                    let value = Expr::Unary("tanh", Box::new(self.expr(scope, 2)));
                    return Stmt::Push { array, value };
                }
                16 if nested && self.config.loops => {
                    let (name, counter) = (self.fresh("r"), self.fresh("k"));
                    let mut inner = scope.clone();
                    inner.ints.push(counter.clone());
                    // No `break`/`continue` of this loop: its only exit is the `break value`.
                    inner.loops = 0;
                    inner.labels.clear();
                    let body = self.block(&mut inner, depth + 1, false);
                    let cond = self.cond(&inner);
                    let value = self.expr(&inner, 2);
                    scope.floats.push(name.clone());
                    return Stmt::LoopValue {
                        name,
                        counter,
                        bound: 1 + self.rng.below(4),
                        body,
                        cond,
                        value,
                    };
                }
                17 if self.config.exits && in_loop && !scope.labels.is_empty() => {
                    let label = self.rng.pick(&scope.labels).clone();
                    return Stmt::BreakTo(label, self.cond(scope));
                }
                // The whole container replaced: by new elements (often from its old ones),
                // or by a copy of another container.
                18 if self.config.values && !scope.writable().is_empty() => {
                    let writable = scope.writable();
                    let target = self.rng.pick(&writable).clone();
                    let (value, _) = self.container(scope, target.vec, target.len, Some(&target));
                    return Stmt::AssignWhole {
                        array: target.name,
                        value,
                    };
                }
                // A copy: `let prev = u;`, `let mut w = v.clone();`.
                19 if self.config.values && !scope.arrays.is_empty() => {
                    let from = self.rng.pick(&scope.arrays).clone();
                    let name = self.fresh("w");
                    let mutable = self.rng.chance(0.6);
                    let local = Local {
                        name: name.clone(),
                        mutable,
                        ..from.clone()
                    };
                    scope.arrays.push(local);
                    return Stmt::LetContainer {
                        name,
                        mutable,
                        ty: from.ty(),
                        typed: self.rng.chance(0.3),
                        value: Container::Copy(from.name, from.vec),
                    };
                }
                // A container yielded by `if`, or declared and assigned in both arms.
                20 if self.config.values && self.config.arrays && nested => {
                    let vec = self.rng.chance(0.5);
                    let lens: Vec<usize> = scope
                        .arrays
                        .iter()
                        .filter(|a| a.vec == vec)
                        .map(|a| a.len)
                        .collect();
                    let len = if !lens.is_empty() && self.rng.chance(0.7) {
                        *self.rng.pick(&lens)
                    } else {
                        1 + self.rng.below(3)
                    };
                    let cond = self.cond(scope);
                    let declared = self.rng.chance(0.5);
                    let (then_body, els_body) = if declared && self.rng.chance(0.5) {
                        let exits = self.config.exits;
                        self.config.exits &= self.config.exits_before_init;
                        let bodies = (
                            self.block(scope, depth + 1, in_loop),
                            self.block(scope, depth + 1, in_loop),
                        );
                        self.config.exits = exits;
                        bodies
                    } else {
                        (Vec::new(), Vec::new())
                    };
                    let (then, then_len) = self.container(scope, vec, len, None);
                    let (mut els, mut els_len) = self.container(scope, vec, len, None);
                    while !self.config.literal_arms && then.is_constant() && els.is_constant() {
                        (els, els_len) = self.container(scope, vec, len, None);
                    }
                    let name = self.fresh("w");
                    let mutable = self.rng.chance(0.5);
                    let local = Local {
                        name: name.clone(),
                        len: then_len.min(els_len),
                        vec,
                        mutable,
                    };
                    let ty = local.ty();
                    scope.arrays.push(local);
                    // Literal elements only: the type is needed (a `{float}` has no methods).
                    let typed = (then.is_constant() && els.is_constant()) || self.rng.chance(0.3);
                    return Stmt::LetIf {
                        name,
                        mutable,
                        ty,
                        typed,
                        declared,
                        cond,
                        then_body,
                        then,
                        els_body,
                        els,
                    };
                }
                // A local array passed by value, written after the call (if mutable) and read
                // again: `let r = g(y); y[0] = ..; let a = r + y[0];`.
                21 | 22 if self.config.array_params && self.config.calls => {
                    let mut options = Vec::new();
                    for (name, params) in &self.signatures {
                        for p in params {
                            if let Param::Array(_, len, _) = p {
                                for a in &scope.arrays {
                                    if !a.vec && a.len == *len {
                                        options.push((name.clone(), params.clone(), a.clone()));
                                    }
                                }
                            }
                        }
                    }
                    if options.is_empty() {
                        continue;
                    }
                    let (callee, params, target) = self.rng.pick(&options).clone();
                    let call = self.call_of(scope, 2, callee, &params, Some(&target));
                    let index = IExpr::Lit(self.rng.below(target.len));
                    let element =
                        Expr::Index(target.name.clone(), index.clone(), Len::Lit(target.len));
                    let (r, sum) = (self.fresh("r"), self.fresh("a"));
                    let value = Expr::Unary("tanh", Box::new(self.expr(scope, 2)));
                    if target.mutable && !scope.frozen.contains(&target.name) {
                        self.pending.push(Stmt::Store {
                            array: target.name.clone(),
                            index,
                            len: Len::Lit(target.len),
                            op: *self.rng.pick(&[None, Some('+')]),
                            value,
                        });
                    }
                    self.pending.push(Stmt::Let {
                        name: sum.clone(),
                        mutable: false,
                        value: Expr::Bin('+', Box::new(Expr::Var(r.clone())), Box::new(element)),
                    });
                    scope.floats.push(r.clone());
                    scope.floats.push(sum);
                    return Stmt::Let {
                        name: r,
                        mutable: false,
                        value: call,
                    };
                }
                _ => {}
            }
        }
    }

    /// The containers a chain may iterate: local ones and slice parameters.
    fn iterable(&self, scope: &Scope) -> Vec<String> {
        let locals = scope.arrays.iter().map(|a| a.name.clone());
        locals.chain(scope.slices.iter().cloned()).collect()
    }

    /// `let name = <an iterator chain over a container>;`, or a `for_each` into a mutable
    /// float.
    fn chain(&mut self, scope: &mut Scope, depth: Option<usize>) -> Stmt {
        let containers = self.iterable(scope);
        let array = self.rng.pick(&containers).clone();
        let kind = match depth {
            Some(_) => self.rng.below(10),
            None => self.rng.below(9),
        };
        // `for_each` assigns its target: no other closure of the chain may read it.
        let target =
            (kind == 6 && !scope.mutable.is_empty()).then(|| self.rng.pick(&scope.mutable).clone());
        let mut reads = scope.clone();
        reads.floats.retain(|f| Some(f) != target.as_ref());
        // A `for` body may assign what the stages' closures would borrow for the whole loop.
        if kind == 9 {
            reads.floats.retain(|f| !scope.mutable.contains(f));
            reads.arrays.clear();
            reads.rows.retain(|(_, writable)| !writable);
            // (Grids are among the containers of `Vec`s too, which calls may take whole.)
            let grids: Vec<String> = reads.grids.drain(..).map(|(g, _, _)| g).collect();
            reads.ragged.retain(|r| !grids.contains(r));
        }
        let scope_before = scope;
        let scope = &reads;
        // An item's expression reads it and what the scope has.
        // (Not a constant: rustc could not type a closure returning only literals where the
        // generated code calls a method on its value.)
        let item_expr = |g: &mut Generator, vars: &[&str]| {
            let mut inner = scope.clone();
            inner.floats.extend(vars.iter().map(|v| v.to_string()));
            let e = g.expr(&inner, 2);
            match e.is_constant() {
                true => Expr::Bin('+', Box::new(Expr::Var(vars[0].to_string())), Box::new(e)),
                false => e,
            }
        };
        let zip = self.rng.chance(0.25).then(|| {
            let (a, b) = (self.fresh("p"), self.fresh("q"));
            let value = item_expr(self, &[&a, &b]);
            (self.rng.pick(&containers).clone(), a, b, value)
        });
        let mut stages = Vec::new();
        for _ in 0..self.rng.below(4) {
            stages.push(match self.rng.below(6) {
                0 => {
                    let v = self.fresh("v");
                    ChainStage::Map(v.clone(), item_expr(self, &[&v]))
                }
                1 => {
                    let v = self.fresh("v");
                    let mut inner = scope.clone();
                    inner.floats.push(v.clone());
                    ChainStage::Filter(v, self.simple_cond(&inner))
                }
                2 => {
                    let (i, v) = (self.fresh("i"), self.fresh("v"));
                    let mut inner = scope.clone();
                    inner.floats.push(v.clone());
                    inner.ints.push(i.clone());
                    let value = match self.expr(&inner, 2) {
                        e if e.is_constant() => {
                            Expr::Bin('+', Box::new(Expr::Var(v.clone())), Box::new(e))
                        }
                        e => e,
                    };
                    ChainStage::Enumerate(i, v, value)
                }
                3 => ChainStage::Skip(self.rng.below(3)),
                4 => ChainStage::Take(self.rng.below(4)),
                _ => ChainStage::StepBy(1 + self.rng.below(2)),
            });
        }
        let name = self.fresh("a");
        let end = match kind {
            0 => ChainEnd::Product,
            1 => {
                let (acc, v) = (self.fresh("acc"), self.fresh("v"));
                let init = self.expr(scope, 1);
                let value = damped(&acc, item_expr(self, &[&v]));
                ChainEnd::Fold(init, acc, v, value)
            }
            2 => ChainEnd::FoldMax(self.expr(scope, 1), self.rng.chance(0.5)),
            3 => ChainEnd::Count,
            4 => {
                let (a, b) = (self.fresh("x"), self.fresh("y"));
                let value = damped(&a, item_expr(self, &[&b]));
                ChainEnd::Reduce(a, b, value, self.expr(scope, 1))
            }
            5 if self.config.idioms => ChainEnd::Best(self.rng.chance(0.5), self.expr(scope, 1)),
            6 if target.is_some() => {
                let v = self.fresh("v");
                let value = Expr::Unary("tanh", Box::new(item_expr(self, &[&v])));
                ChainEnd::ForEach(target.unwrap_or_default(), v, value)
            }
            9 => {
                let v = self.fresh("v");
                let mut inner = scope_before.clone();
                inner.floats.push(v.clone());
                inner.frozen.push(array.clone());
                inner.frozen.extend(zip.as_ref().map(|z| z.0.clone()));
                inner.loops += 1;
                let body = self.block(&mut inner, depth.unwrap_or_default() + 1, true);
                ChainEnd::Loop(v, body)
            }
            _ => ChainEnd::Sum,
        };
        if !matches!(end, ChainEnd::ForEach(..) | ChainEnd::Loop(..)) {
            scope_before.floats.push(name.clone());
        }
        Stmt::Chain(Box::new(Chain {
            name,
            array,
            copied: self.rng.chance(0.5),
            zip,
            rev: self.rng.chance(0.3),
            stages,
            end,
        }))
    }

    /// A container value of kind `vec` and length `len` (at least `len` for a `Vec`), with
    /// the length it is sure to have: new elements (often from the old ones of `from`, the
    /// container it replaces), a repetition, or a copy of another container.
    fn container(
        &mut self,
        scope: &Scope,
        vec: bool,
        len: usize,
        from: Option<&Local>,
    ) -> (Container, usize) {
        let copies: Vec<Local> = scope
            .arrays
            .iter()
            .filter(|a| {
                a.vec == vec
                    && from.is_none_or(|f| f.name != a.name)
                    && if vec { a.len >= len } else { a.len == len }
            })
            .cloned()
            .collect();
        if !copies.is_empty() && self.rng.chance(0.3) {
            let a = self.rng.pick(&copies).clone();
            return (Container::Copy(a.name, vec), a.len);
        }
        // A `Vec` may grow.
        let len = if vec { len + self.rng.below(2) } else { len };
        // Literals only: a value with no derivative replacing one that has one.
        if self.rng.chance(0.2) {
            return if self.rng.chance(0.5) {
                let items = (0..len).map(|_| Expr::Lit(self.rng.float(-2.0, 2.0)));
                (Container::List(items.collect(), vec), len)
            } else {
                let item = Expr::Lit(self.rng.float(-2.0, 2.0));
                (Container::Repeat(item, len, vec), len)
            };
        }
        if self.rng.chance(0.15) {
            return (Container::Repeat(self.element(scope, None), len, vec), len);
        }
        let items = (0..len).map(|_| self.element(scope, from)).collect();
        (Container::List(items, vec), len)
    }

    /// An element of a new container value: often from an old element of `from`
    /// (`p[1] * e.tanh()`, `p[0] + e.sin()`, `p[1]`), a literal, or a squashed expression.
    fn element(&mut self, scope: &Scope, from: Option<&Local>) -> Expr {
        if let Some(a) = from.filter(|_| self.rng.chance(0.6)) {
            let old = Expr::Index(
                a.name.clone(),
                IExpr::Lit(self.rng.below(a.len)),
                Len::Lit(a.len),
            );
            let squashed =
                |g: &mut Generator, f| Box::new(Expr::Unary(f, Box::new(g.expr(scope, 1))));
            return match self.rng.below(3) {
                0 => Expr::Bin('*', Box::new(old), squashed(self, "tanh")),
                1 => Expr::Bin('+', Box::new(old), squashed(self, "sin")),
                _ => old,
            };
        }
        if self.rng.chance(0.15) {
            return Expr::Lit(self.rng.float(-2.0, 2.0));
        }
        let f = *self.rng.pick(&["tanh", "sin", "atan"]);
        Expr::Unary(f, Box::new(self.expr(scope, 2)))
    }

    /// A statement on containers of rows: a new local one (always possible), or one on
    /// those in scope.
    fn rows_stmt(&mut self, scope: &mut Scope) -> RowsStmt {
        let writable: Vec<String> = (scope.rows.iter())
            .filter(|(name, local)| *local && !scope.frozen.contains(name))
            .map(|(name, _)| name.clone())
            .collect();
        let kind = match scope.rows.is_empty() {
            true => 0,
            false => self.rng.below(7),
        };
        let grids: Vec<(String, usize, usize)> = (scope.grids.iter())
            .filter(|(name, ..)| !scope.frozen.contains(name))
            .cloned()
            .collect();
        if !grids.is_empty() && self.rng.chance(0.3) {
            let (grid, width, count) = self.rng.pick(&grids).clone();
            return RowsStmt::GridStore {
                grid,
                width,
                count,
                index: self.iexpr(scope),
                col: self.iexpr(scope),
                value: Expr::Unary("sin", Box::new(self.expr(scope, 2))),
            };
        }
        if self.config.outputs
            && !scope.rows.is_empty()
            && !scope.mutable.is_empty()
            && self.rng.chance(0.3)
        {
            let name = self.fresh("o");
            let rows = self.rng.pick(&scope.rows).0.clone();
            let target = self.rng.pick(&scope.mutable).clone();
            let (t, k) = (self.expr(scope, 1), self.expr(scope, 1));
            if self.rng.chance(0.3) {
                return RowsStmt::Passed {
                    name,
                    rows,
                    target,
                    t,
                    k,
                };
            }
            let index = self.iexpr(scope);
            let kicked = (!writable.is_empty() && self.rng.chance(0.5))
                .then(|| self.rng.pick(&writable).clone());
            scope.rows.push((name.clone(), true));
            return RowsStmt::Out {
                name,
                rows,
                kicked,
                target,
                t,
                k,
                index,
            };
        }
        if self.rng.chance(0.15) {
            let (name, width, count) = (
                self.fresh("g"),
                1 + self.rng.below(3),
                1 + self.rng.below(3),
            );
            let value = self.expr(scope, 1);
            scope.ragged.push(name.clone());
            scope.grids.push((name.clone(), width, count));
            return RowsStmt::Grid {
                name,
                width,
                count,
                value,
            };
        }
        if !scope.ragged.is_empty() && !scope.mutable.is_empty() && self.rng.chance(0.3) {
            return RowsStmt::RaggedLoop {
                rows: self.rng.pick(&scope.ragged).clone(),
                target: self.rng.pick(&scope.mutable).clone(),
            };
        }
        match kind {
            1 => {
                let name = self.fresh("q");
                let rows = self.rng.pick(&scope.rows).0.clone();
                let index = self.iexpr(scope);
                scope.arrays.push(Local {
                    name: name.clone(),
                    len: 2,
                    vec: false,
                    mutable: false,
                });
                RowsStmt::Copy { name, rows, index }
            }
            2 if !writable.is_empty() => RowsStmt::Store {
                rows: self.rng.pick(&writable).clone(),
                index: self.iexpr(scope),
                col: self.rng.below(2),
                value: Expr::Unary("tanh", Box::new(self.expr(scope, 2))),
            },
            3 if !writable.is_empty() => RowsStmt::Write {
                rows: self.rng.pick(&writable).clone(),
                index: self.iexpr(scope),
                values: (0..2)
                    .map(|_| Expr::Unary("sin", Box::new(self.expr(scope, 2))))
                    .collect(),
            },
            4 if !scope.mutable.is_empty() => RowsStmt::Loop {
                rows: self.rng.pick(&scope.rows).0.clone(),
                target: self.rng.pick(&scope.mutable).clone(),
            },
            5 if !writable.is_empty() => RowsStmt::Update {
                rows: self.rng.pick(&writable).clone(),
            },
            6 => {
                let name = self.fresh("w");
                let rows = self.rng.pick(&scope.rows).0.clone();
                let factor = self.expr(scope, 1);
                scope.rows.push((name.clone(), true));
                RowsStmt::Pushed { name, rows, factor }
            }
            _ => {
                let name = self.fresh("m");
                let vec = self.rng.chance(0.3);
                let items = (0..if vec { 1 } else { 4 })
                    .map(|_| self.expr(scope, 1))
                    .collect();
                scope.rows.push((name.clone(), true));
                RowsStmt::Local { name, items, vec }
            }
        }
    }

    fn iexpr(&mut self, scope: &Scope) -> IExpr {
        let base = match self.rng.below(4) {
            0 | 1 if !scope.ints.is_empty() => IExpr::Var(self.rng.pick(&scope.ints).clone()),
            2 if !scope.slices.is_empty() => IExpr::Len(self.rng.pick(&scope.slices).clone()),
            _ => IExpr::Lit(self.rng.below(4)),
        };
        match self.rng.below(4) {
            0 => IExpr::Add(Box::new(base), 1 + self.rng.below(3)),
            1 => IExpr::Mul(Box::new(base), 2),
            _ => base,
        }
    }

    fn cond(&mut self, scope: &Scope) -> Cond {
        match self.rng.below(6) {
            0 if !scope.ints.is_empty() => {
                let m = 2 + self.rng.below(2);
                Cond::IntIs(
                    IExpr::Var(self.rng.pick(&scope.ints).clone()),
                    m,
                    self.rng.below(m),
                )
            }
            1 => Cond::And(
                Box::new(self.simple_cond(scope)),
                Box::new(self.simple_cond(scope)),
            ),
            2 => Cond::Or(
                Box::new(self.simple_cond(scope)),
                Box::new(self.simple_cond(scope)),
            ),
            3 => Cond::Not(Box::new(self.simple_cond(scope))),
            _ => self.simple_cond(scope),
        }
    }

    fn simple_cond(&mut self, scope: &Scope) -> Cond {
        Cond::Less(
            self.expr(scope, 1),
            Expr::Lit(self.rng.float(-1.0, 1.0)),
            self.rng.chance(0.5),
        )
    }

    /// A float expression of depth at most `depth`.
    fn expr(&mut self, scope: &Scope, depth: usize) -> Expr {
        if depth == 0 || self.rng.chance(0.25) {
            return self.leaf(scope);
        }
        let sub = |g: &mut Generator| Box::new(g.expr(scope, depth - 1));
        match self.rng.below(14) {
            0..=2 => Expr::Bin(*self.rng.pick(&['+', '-', '*']), sub(self), sub(self)),
            3 => Expr::Div(sub(self), sub(self), self.rng.float(0.5, 2.0)),
            // Casts get a draw of their own: among the unary primitives they would be rare.
            4 if self.rng.chance(0.5) => Expr::Unary("as_f64", sub(self)),
            4 => Expr::Neg(sub(self)),
            5..=7 => Expr::Unary(unary()[self.rng.below(unary().len())], sub(self)),
            8 => Expr::Binary(
                binary()[self.rng.below(binary().len())],
                sub(self),
                sub(self),
            ),
            9 => Expr::MulAdd(sub(self), sub(self), sub(self)),
            10 if self.config.calls && !self.signatures.is_empty() => self.call(scope, depth),
            11 => Expr::If(Box::new(self.cond(scope)), sub(self), sub(self)),
            12 if !scope.ints.is_empty() => {
                let arms = (0..2 + self.rng.below(2)).map(|_| *sub(self)).collect();
                Expr::Match(IExpr::Var(self.rng.pick(&scope.ints).clone()), arms)
            }
            13 if !scope.ints.is_empty() => Expr::Bin(
                '*',
                Box::new(Expr::Cast(IExpr::Var(self.rng.pick(&scope.ints).clone()))),
                sub(self),
            ),
            _ => self.leaf(scope),
        }
    }

    fn leaf(&mut self, scope: &Scope) -> Expr {
        match self.rng.below(5) {
            0 => Expr::Lit(self.rng.float(-2.0, 2.0)),
            1 if !scope.rows.is_empty() && self.rng.chance(0.4) => {
                let rows = self.rng.pick(&scope.rows).0.clone();
                Expr::Row(rows, self.iexpr(scope), self.rng.below(2))
            }
            1 if !scope.structs.is_empty() && self.rng.chance(0.4) => {
                let p = self.rng.pick(&scope.structs).clone();
                Expr::Field(p, self.rng.chance(0.5).then(|| self.iexpr(scope)))
            }
            1 if !scope.ragged.is_empty() && self.rng.chance(0.4) => {
                let q = self.rng.pick(&scope.ragged).clone();
                let col = self.rng.chance(0.7).then(|| self.iexpr(scope));
                Expr::Ragged(q, self.iexpr(scope), col)
            }
            1 if !scope.arrays.is_empty() || !scope.slices.is_empty() => {
                let index = self.iexpr(scope);
                let from_slice =
                    !scope.slices.is_empty() && (scope.arrays.is_empty() || self.rng.chance(0.5));
                if from_slice {
                    let name = self.rng.pick(&scope.slices).clone();
                    Expr::Index(name.clone(), index, Len::Of(name))
                } else {
                    let Local { name, len, .. } = self.rng.pick(&scope.arrays).clone();
                    Expr::Index(name, index, Len::Lit(len))
                }
            }
            _ if !scope.floats.is_empty() => Expr::Var(self.rng.pick(&scope.floats).clone()),
            _ => Expr::Lit(self.rng.float(-2.0, 2.0)),
        }
    }

    fn call(&mut self, scope: &Scope, depth: usize) -> Expr {
        let (name, params) = self.rng.pick(&self.signatures).clone();
        self.call_of(scope, depth, name, &params, None)
    }

    /// A call of `name`, passing `given` (a local array) to its array parameters of that
    /// length, if any.
    fn call_of(
        &mut self,
        scope: &Scope,
        depth: usize,
        name: String,
        params: &[Param],
        given: Option<&Local>,
    ) -> Expr {
        let mut args = Vec::new();
        for p in params {
            args.push(match p {
                Param::Float(_) => Arg::Float(self.expr(scope, depth.saturating_sub(1).min(1))),
                Param::Slice(_) => {
                    let arrays: Vec<(String, bool)> = scope
                        .arrays
                        .iter()
                        .map(|a| (a.name.clone(), true))
                        .chain(scope.slices.iter().map(|n| (n.clone(), false)))
                        .collect();
                    if arrays.is_empty() {
                        // No container at hand: a literal one.
                        return Expr::Lit(self.rng.float(-1.0, 1.0));
                    }
                    let (name, local) = self.rng.pick(&arrays).clone();
                    Arg::Slice(name, local)
                }
                Param::Array(_, len, _) => {
                    let fits: Vec<String> = given
                        .filter(|a| a.len == *len)
                        .map(|a| vec![a.name.clone()])
                        .unwrap_or_else(|| {
                            scope
                                .arrays
                                .iter()
                                .filter(|a| !a.vec && a.len == *len)
                                .map(|a| a.name.clone())
                                .collect()
                        });
                    if fits.is_empty() || (given.is_none() && self.rng.chance(0.3)) {
                        let depth = depth.saturating_sub(1).min(1);
                        Arg::Array(Container::List(
                            (0..*len).map(|_| self.expr(scope, depth)).collect(),
                            false,
                        ))
                    } else {
                        Arg::Array(Container::Copy(self.rng.pick(&fits).clone(), false))
                    }
                }
                Param::Int(_) => Arg::Int(IExpr::Lit(self.rng.below(3))),
                // A callee taking pairs is called where they are in scope (a list of tuples
                // written in the body is not supported).
                Param::Pairs(_) => match scope.pairs {
                    true => Arg::Slice("pairs".into(), false),
                    false => return Expr::Lit(self.rng.float(-1.0, 1.0)),
                },
                Param::Struct(_) => match scope.structs.first() {
                    Some(p) => Arg::Slice(p.clone(), false),
                    None => return Expr::Lit(self.rng.float(-1.0, 1.0)),
                },
                // A container of `Vec`s parameter passed on whole (a grid is not).
                Param::Ragged(_) => {
                    let params: Vec<&String> = (scope.ragged.iter())
                        .filter(|q| scope.grids.iter().all(|(g, ..)| g != *q))
                        .collect();
                    if params.is_empty() {
                        return Expr::Lit(self.rng.float(-1.0, 1.0));
                    }
                    Arg::Slice(self.rng.pick(&params).to_string(), false)
                }
                Param::Rows(_) => match scope.rows.is_empty() {
                    true => {
                        let depth = depth.saturating_sub(1).min(1);
                        Arg::Rows((0..4).map(|_| self.expr(scope, depth)).collect())
                    }
                    false => {
                        let (name, local) = self.rng.pick(&scope.rows).clone();
                        Arg::Slice(name, local)
                    }
                },
            });
        }
        // Squashed: a callee's value may be large.
        Expr::Unary("tanh", Box::new(Expr::Call(name, args)))
    }
}

/// The arguments a test calls a function with: floats in `[-1.5, 1.5]`, slices of 3 such
/// floats, arrays of such floats, integers in `0..4`. Slices and arrays are in parameter
/// order.
/// How many kinds of [`Stmt::Idiom`] there are, drawn at random; then [`PAIRS_IDIOM`], drawn
/// where the `pairs` parameter is in scope.
const IDIOMS: usize = 10;
const PAIRS_IDIOM: usize = IDIOMS;

/// The statements of idiom `kind` on the float variable `a`, their names numbered `n`.
fn idiom(kind: usize, a: &str, n: usize) -> String {
    match kind {
        // An enum declared in the body; payloads bound by the arms (inactive) scale or shift
        // the active `a`.
        0 => format!(
            "#[derive(Clone, Copy)]\n\
             enum Mode{n} {{ Scale(f64), Shift(f64, f64), Keep }}\n\
             let m{n} = if {a} > 0.3 {{ Mode{n}::Scale(0.75) }} else if {a} < -0.4 {{ Mode{n}::Shift(0.25, 2.0) }} else {{ Mode{n}::Keep }};\n\
             {a} = match m{n} {{\n    Mode{n}::Scale(s) => {a} * s,\n    Mode{n}::Shift(by, _) => ({a} + by).tanh(),\n    Mode{n}::Keep => {a},\n}};"
        ),
        // A constant path.
        1 => format!("{a} = ({a} * std::f64::consts::FRAC_PI_4).sin();"),
        // A method that changes an integer array, read after.
        2 => format!(
            "let mut idx{n} = [1usize, 0, 2];\n\
             idx{n}.swap(0, 2);\n\
             {a} = ({a} * (idx{n}[0] as f64 + 0.5)).tanh();"
        ),
        // `&mut` of a counter lent to a helper declared in the body.
        3 => format!(
            "fn bump{n}(k: &mut usize) {{\n    *k += 2;\n}}\n\
             let mut k{n} = 1usize;\n\
             bump{n}(&mut k{n});\n\
             {a} = ({a} * (k{n} as f64)).atan();"
        ),
        // A branch on the bits of an active float (its derivative is the branch taken's).
        4 => format!("if {a}.to_bits() > 0x3fd0_0000_0000_0000 {{\n    {a} = {a} * 0.5;\n}}"),
        // A destructuring assignment: both places read before either is written.
        6 => format!(
            "let mut q{n} = ({a} * 0.5).cos();\n\
             ({a}, q{n}, _) = (q{n} * {a} + 0.25, ({a} - q{n}).sin(), {a} * 2.0);\n\
             {a} = {a} * q{n};"
        ),
        // The standard library's swap of two floats.
        7 => format!(
            "let mut q{n} = ({a} * 0.3).cos();\n\
             std::mem::swap(&mut {a}, &mut q{n});\n\
             {a} = {a} * q{n} + 0.125;"
        ),
        // `if let` / `let else` on an inactive `Option`, a tuple-struct pattern, `while let`.
        8 => format!(
            "#[derive(Clone, Copy)]\n\
             struct Step{n}(f64, usize);\n\
             let pick{n} = [0.5f64, 1.5].get(({a} > 0.0) as usize + 1).copied();\n\
             if let Some(w) = pick{n} {{ {a} = {a} * w; }} else {{ {a} = ({a} * 0.5).sin(); }}\n\
             let Step{n}(by, times) = Step{n}(0.25, 2);\n\
             let mut left{n} = vec![times; times];\n\
             while let Some(t) = left{n}.pop() {{ {a} = ({a} + by * t as f64).tanh(); }}\n\
             let Some(first{n}) = [by].first().copied() else {{ return {a}; }};\n\
             let unit{n}: Result<usize, ()> = if {a} > 0.0 {{ Ok(2) }} else {{ Err(()) }};\n\
             if let Ok(k) = unit{n} {{ {a} = {a} * (k as f64 - 0.5); }}\n\
             {a} = {a} * first{n} + 0.5;"
        ),
        // A labelled block whose value leaves early.
        9 => format!(
            "let b{n} = 'blk{n}: {{\n    \
                 if {a} > 0.5 {{ break 'blk{n} {a} * 0.5; }}\n    \
                 for k in 0..3 {{ if {a} < -0.5 * k as f64 {{ break 'blk{n} ({a} * k as f64).sin(); }} }}\n    \
                 {a} + 1.0\n\
             }};\n\
             {a} = b{n} * {a};"
        ),
        // Tuple patterns over the inactive `pairs: &[(usize, usize)]`: a loop, a chain of
        // `.copied()`, one element destructured.
        PAIRS_IDIOM => format!(
            "for &(i, j) in pairs {{ {a} = ({a} * 0.5 + i as f64 - 0.25 * j as f64).sin(); }}\n\
             let picked{n}: usize = pairs.iter().copied().map(|(i, j)| i * j).sum();\n\
             let (i{n}, w{n}) = pairs[{n} % pairs.len()];\n\
             {a} = {a} * (1.0 + (i{n} + w{n} + picked{n}) as f64 * 0.125);"
        ),
        // A side-effect macro reading the active value.
        _ => format!("assert!({a}.is_finite() || !{a}.is_finite(), \"{a} = {{}}\", {a});"),
    }
}

pub fn arguments(params: &[Param], rng: &mut Rng) -> (Vec<f64>, Vec<Vec<f64>>, Vec<usize>) {
    let mut floats = Vec::new();
    let mut slices = Vec::new();
    let mut ints = Vec::new();
    for p in params {
        match p {
            Param::Float(_) => floats.push(rng.float(-1.5, 1.5)),
            Param::Slice(_) => slices.push((0..3).map(|_| rng.float(-1.5, 1.5)).collect()),
            Param::Array(_, len, _) => {
                slices.push((0..*len).map(|_| rng.float(-1.5, 1.5)).collect());
            }
            Param::Int(_) => ints.push(rng.below(4)),
            Param::Rows(_) => slices.push((0..4).map(|_| rng.float(-1.5, 1.5)).collect()),
            Param::Ragged(_) => {
                let len = RAGGED_ROWS.iter().sum();
                slices.push((0..len).map(|_| rng.float(-1.5, 1.5)).collect());
            }
            // `b`, then `w`.
            Param::Pairs(_) => {}
            Param::Struct(_) => {
                slices.push(vec![rng.float(-1.5, 1.5)]);
                slices.push((0..3).map(|_| rng.float(-1.5, 1.5)).collect());
            }
        }
    }
    (floats, slices, ints)
}
