//! What the random programs cover (tests only). "A construct the generator does not produce is
//! a construct nobody has tested": every syntax kind docs/design.md says the lowering models,
//! and every kind of IR op, must turn up in the programs the differential tests draw, or be
//! named below with the reason and the tests that cover it instead. The lists are the gap, kept
//! in view; adding a modeled construct or an op kind without generating it fails here.

use std::collections::BTreeSet;

use syn::visit::Visit;

use super::generator::{Config, Generator};
use crate::ir::{Block, Func, OpKind};
use crate::pipeline::Pipeline;
use crate::tests::harness;

/// Modeled syntax the generator does not produce yet, and why. Each must at least appear in
/// a hand-written `#[reverse]` function of the root package's tests (checked).
const SYNTAX_NOT_GENERATED: &[(&str, &str)] = &[
    ("Pat::Paren", "parenthesized patterns"),
    ("Pat::Range", "match arms on ranges"),
    ("Pat::Or", "match arms with alternatives"),
    ("Pat::Slice", "slice patterns in arms"),
    ("Pat::Rest", "slice patterns in arms"),
];

/// Modeled syntax that no source text has: `Expr::Group` is the invisible group a
/// `macro_rules!` expansion puts around a `$e:expr` (tests/rules.rs expands one).
const NOT_IN_SOURCE: &[&str] = &["Expr::Group"];

/// Op kinds the generated programs do not make, and why. Each must turn up in the
/// hand-written `#[reverse]` functions of the root package's tests (checked).
const OPS_NOT_GENERATED: &[(&str, &str)] = &[
    ("original", "custom derivatives"),
    ("add_to", "adjoints of parameter-struct fields"),
    ("check_len", "container outputs"),
    (
        "count",
        "rows a callee returns, not annotated, assigned whole",
    ),
];

#[test]
fn random_programs_cover_what_the_lowering_models() {
    let mut syntax = SyntaxSeen::default();
    let mut ops = BTreeSet::new();
    // The IR layer's programs, and the end-to-end layer's (tests/random_programs/build.rs), which have the idioms.
    let layers = [
        Config::default(),
        Config {
            idioms: true,
            ..Config::default()
        },
    ];
    for (seed, config) in (0..1_000u64).flat_map(|s| layers.iter().map(move |c| (s, c))) {
        let program = Generator::program(seed, config, "f");
        for f in &program.functions {
            let source = f.print("");
            let item: syn::ItemFn = syn::parse_str(&source).expect("generated code parses");
            syntax.visit_item_fn(&item);
            // Functions the macro refuses are the fuzz tests' business; they are rare.
            if let Ok(pipeline) = harness::pipeline(&source) {
                pipeline.primal.iter().for_each(|f| op_kinds(f, &mut ops));
                op_kinds(&pipeline.adjoint, &mut ops);
            }
        }
    }

    let (hand_syntax, hand_ops) = hand_written();
    let design = include_str!("../../../docs/design.md");
    let modeled = modeled_syntax(design);
    assert!(
        modeled.len() > 40,
        "the tables of docs/design.md were not found"
    );
    let excused = |list: &[(&str, &str)], name: &str| list.iter().any(|(n, _)| *n == name);
    let missing: Vec<&String> = modeled
        .iter()
        .filter(|k| !syntax.0.contains(*k) && !excused(SYNTAX_NOT_GENERATED, k))
        .filter(|k| !NOT_IN_SOURCE.contains(&k.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/design.md says the lowering models {missing:?}, but no random program has them: generate them (tests/support/generator.rs)"
    );
    let stale = listed(SYNTAX_NOT_GENERATED, |n| {
        syntax.0.contains(n) || !modeled.contains(n)
    });
    let untested = listed(SYNTAX_NOT_GENERATED, |n| !hand_syntax.0.contains(n));
    assert!(
        untested.is_empty(),
        "neither generated nor in a hand-written test: {untested:?}"
    );
    assert!(
        stale.is_empty(),
        "generated now, or not modeled: take {stale:?} off SYNTAX_NOT_GENERATED"
    );

    let missing: Vec<&str> = ALL_OP_KINDS
        .iter()
        .copied()
        .filter(|k| !ops.contains(k) && !excused(OPS_NOT_GENERATED, k))
        .collect();
    assert!(
        missing.is_empty(),
        "no random program lowers to or differentiates into {missing:?}: generate what makes them"
    );
    let stale = listed(OPS_NOT_GENERATED, |n| ops.contains(n));
    let untested = listed(OPS_NOT_GENERATED, |n| !hand_ops.contains(n));
    assert!(
        untested.is_empty(),
        "op kinds neither generated nor made by a hand-written test: {untested:?}"
    );
    assert!(
        stale.is_empty(),
        "generated now: take {stale:?} off OPS_NOT_GENERATED"
    );
}

/// The names on `list` for which `pick` holds.
fn listed<'a>(list: &[(&'a str, &str)], pick: impl Fn(&str) -> bool) -> Vec<&'a str> {
    list.iter().map(|(n, _)| *n).filter(|n| pick(n)).collect()
}

/// The syntax and op kinds of the `#[reverse]` functions in the root package's tests.
fn hand_written() -> (SyntaxSeen, BTreeSet<&'static str>) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests");
    let (mut syntax, mut ops) = (SyntaxSeen::default(), BTreeSet::new());
    let entries = std::fs::read_dir(&dir).expect("the root package's tests are beside ad-macro");
    for entry in entries {
        let path = entry.expect("a readable directory").path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("a readable test file");
        let Ok(file) = syn::parse_file(&text) else {
            continue;
        };
        for item in &file.items {
            let syn::Item::Fn(f) = item else { continue };
            let reverse = f.attrs.iter().any(|a| {
                a.path()
                    .segments
                    .last()
                    .is_some_and(|s| s.ident == "reverse")
            });
            if !reverse {
                continue;
            }
            syntax.visit_item_fn(f);
            for func in with_options(f) {
                op_kinds(&func, &mut ops);
            }
        }
    }
    (syntax, ops)
}

/// The primal and adjoint programs of a `#[reverse(..)]` function, as the macro makes them
/// with the attribute's options (`wrt`, `custom`); none if the macro refuses it.
fn with_options(f: &syn::ItemFn) -> Vec<Func> {
    let Some(attr) = f.attrs.iter().find(|a| {
        a.path()
            .segments
            .last()
            .is_some_and(|s| s.ident == "reverse")
    }) else {
        return Vec::new();
    };
    let args = match &attr.meta {
        syn::Meta::List(list) => list.tokens.clone(),
        _ => proc_macro2::TokenStream::new(),
    };
    match Pipeline::run(args, f.clone()) {
        Ok(pipeline) => pipeline
            .primal
            .into_iter()
            .chain([pipeline.adjoint])
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// The syntax kinds (`Expr::If`, `Pat::Ident`, ...) the "modeled" column of docs/design.md's
/// tables of `syn::Expr`, `syn::Stmt` and `syn::Pat` names.
fn modeled_syntax(design: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut table = None;
    for line in design.lines() {
        if !line.starts_with('|') {
            table = None;
            continue;
        }
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        for kind in ["Expr", "Stmt", "Pat"] {
            if cells.get(1) == Some(&format!("`syn::{kind}`").as_str()) {
                table = Some(kind);
            }
        }
        let (Some(kind), Some(names), Some(modeled)) = (table, cells.get(1), cells.get(2)) else {
            continue;
        };
        if names.starts_with('`') || names.starts_with("---") || modeled.is_empty() {
            continue;
        }
        for name in names.split(',') {
            out.insert(format!("{kind}::{}", name.trim()));
        }
    }
    out
}

#[derive(Default)]
struct SyntaxSeen(BTreeSet<String>);

impl<'ast> Visit<'ast> for SyntaxSeen {
    fn visit_expr(&mut self, e: &'ast syn::Expr) {
        use syn::Expr as E;
        let name = match e {
            E::Array(_) => "Array",
            E::Assign(_) => "Assign",
            E::Async(_) => "Async",
            E::Await(_) => "Await",
            E::Binary(_) => "Binary",
            E::Block(_) => "Block",
            E::Break(_) => "Break",
            E::Call(_) => "Call",
            E::Cast(_) => "Cast",
            E::Closure(_) => "Closure",
            E::Const(_) => "Const",
            E::Continue(_) => "Continue",
            E::Field(_) => "Field",
            E::ForLoop(_) => "ForLoop",
            E::Group(_) => "Group",
            E::If(_) => "If",
            E::Index(_) => "Index",
            E::Infer(_) => "Infer",
            E::Let(_) => "Let",
            E::Lit(_) => "Lit",
            E::Loop(_) => "Loop",
            E::Macro(_) => "Macro",
            E::Match(_) => "Match",
            E::MethodCall(_) => "MethodCall",
            E::Paren(_) => "Paren",
            E::Path(_) => "Path",
            E::Range(_) => "Range",
            E::RawAddr(_) => "RawAddr",
            E::Reference(_) => "Reference",
            E::Repeat(_) => "Repeat",
            E::Return(_) => "Return",
            E::Struct(_) => "Struct",
            E::Try(_) => "Try",
            E::TryBlock(_) => "TryBlock",
            E::Tuple(_) => "Tuple",
            E::Unary(_) => "Unary",
            E::Unsafe(_) => "Unsafe",
            E::Verbatim(_) => "Verbatim",
            E::While(_) => "While",
            E::Yield(_) => "Yield",
            _ => "unknown",
        };
        self.0.insert(format!("Expr::{name}"));
        syn::visit::visit_expr(self, e);
    }

    fn visit_stmt(&mut self, s: &'ast syn::Stmt) {
        let name = match s {
            syn::Stmt::Local(_) => "Local",
            syn::Stmt::Item(_) => "Item",
            syn::Stmt::Expr(..) => "Expr",
            syn::Stmt::Macro(_) => "Macro",
        };
        self.0.insert(format!("Stmt::{name}"));
        syn::visit::visit_stmt(self, s);
    }

    fn visit_pat(&mut self, p: &'ast syn::Pat) {
        use syn::Pat as P;
        let name = match p {
            P::Const(_) => "Const",
            P::Ident(_) => "Ident",
            P::Lit(_) => "Lit",
            P::Macro(_) => "Macro",
            P::Or(_) => "Or",
            P::Paren(_) => "Paren",
            P::Path(_) => "Path",
            P::Range(_) => "Range",
            P::Reference(_) => "Reference",
            P::Rest(_) => "Rest",
            P::Slice(_) => "Slice",
            P::Struct(_) => "Struct",
            P::Tuple(_) => "Tuple",
            P::TupleStruct(_) => "TupleStruct",
            P::Type(_) => "Type",
            P::Verbatim(_) => "Verbatim",
            P::Wild(_) => "Wild",
            _ => "unknown",
        };
        self.0.insert(format!("Pat::{name}"));
        syn::visit::visit_pat(self, p);
    }
}

/// Every op kind, by the name the IR printer uses. The match in [`kind_name`] is exhaustive,
/// so a new kind cannot be added without deciding here whether programs make it.
const ALL_OP_KINDS: &[&str] = &[
    "lit",
    "path",
    "prim",
    "cast",
    "unary",
    "binary",
    "logic",
    "if",
    "for",
    "loop",
    "placeholder",
    "matches",
    "bind",
    "field",
    "index",
    "array",
    "store",
    "append",
    "assign",
    "len",
    "touched",
    "fresh",
    "ref",
    "call",
    "method",
    "effect",
    "original",
    "pullback",
    "call_pullback",
    "zero_like",
    "push",
    "pop",
    "progression",
    "at",
    "buffer",
    "shape",
    "buffer_add",
    "add_to",
    "buffer_take",
    "buffer_pop",
    "buffer_sum",
    "buffer_add_all",
    "buffer_reset",
    "check_len",
    "checkpointed",
];

fn kind_name(kind: &OpKind) -> &'static str {
    match kind {
        OpKind::Lit(_) => "lit",
        OpKind::Path(_) => "path",
        OpKind::Prim(..) => "prim",
        OpKind::Cast(..) => "cast",
        OpKind::Unary(..) => "unary",
        OpKind::Binary(..) => "binary",
        OpKind::Logic { .. } => "logic",
        OpKind::If { .. } => "if",
        OpKind::For { .. } => "for",
        OpKind::Loop { .. } => "loop",
        OpKind::Placeholder => "placeholder",
        OpKind::Matches(..) => "matches",
        OpKind::Bind { .. } => "bind",
        OpKind::Field(..) => "field",
        OpKind::Index(..) => "index",
        OpKind::Array(_) => "array",
        OpKind::Store { .. } => "store",
        OpKind::Append { .. } => "append",
        OpKind::Assign { .. } => "assign",
        OpKind::Len(_) => "len",
        OpKind::Count(_) => "count",
        OpKind::Shape(_) => "shape",
        OpKind::Touched { .. } => "touched",
        OpKind::Fresh(_) => "fresh",
        OpKind::Ref { .. } => "ref",
        OpKind::Call(_) => "call",
        OpKind::Method { .. } => "method",
        OpKind::Effect { .. } => "effect",
        OpKind::Original(_) => "original",
        OpKind::Pullback { .. } => "pullback",
        OpKind::CallPullback { .. } => "call_pullback",
        OpKind::ZeroLike(_) => "zero_like",
        OpKind::Push { .. } => "push",
        OpKind::Pop { .. } => "pop",
        OpKind::Progression(_) => "progression",
        OpKind::At(..) => "at",
        OpKind::Buffer(_) => "buffer",
        OpKind::BufferAdd { .. } => "buffer_add",
        OpKind::AddTo { .. } => "add_to",
        OpKind::BufferTake { .. } => "buffer_take",
        OpKind::BufferPop(_) => "buffer_pop",
        OpKind::BufferSum(_) => "buffer_sum",
        OpKind::BufferAddAll { .. } => "buffer_add_all",
        OpKind::BufferReset { .. } => "buffer_reset",
        OpKind::CheckLen { .. } => "check_len",
        OpKind::Checkpointed(_) => "checkpointed",
    }
}

fn op_kinds(func: &Func, out: &mut BTreeSet<&'static str>) {
    fn walk(block: &Block, out: &mut BTreeSet<&'static str>) {
        for op in &block.ops {
            out.insert(kind_name(&op.kind));
            for inner in op.kind.blocks() {
                walk(inner, out);
            }
        }
    }
    walk(&func.body, out);
}
