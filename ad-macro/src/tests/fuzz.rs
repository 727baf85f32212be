//! Fuzzing the macro's entry (tests only): odd but parseable functions, real-world functions
//! from the crates in the cargo registry, and mutated token streams of random programs go
//! through [`expand`]. Each must come back as code or spanned errors: never a panic, never an
//! internal error, always a token stream that parses as items when the input was a function.
//!
//! `AD_FUZZ_SEED` reproduces a run (docs/testing.md); `AD_FUZZ_MUTANTS` and `AD_FUZZ_FILES`
//! scale it.

use std::panic::{AssertUnwindSafe, catch_unwind};

use proc_macro2::{Delimiter, Group, Ident, Literal, Punct, Spacing, Span, TokenStream, TokenTree};
use quote::ToTokens;

use super::harness::panic_message;
use crate::expand;
use crate::interp::generator::{self, Rng};

/// What went wrong with one input, if anything.
fn problem(args: &TokenStream, item: &TokenStream) -> Option<String> {
    let output = match catch_unwind(AssertUnwindSafe(|| expand(args.clone(), item.clone()))) {
        Ok(output) => output,
        Err(panic) => return Some(format!("the macro panicked: {}", panic_message(&*panic))),
    };
    let text = output.to_string();
    // The macro's own prefix: an input's string literals may say "internal error" too.
    if text.contains("ad-macro internal error") {
        return Some(format!("an internal error: {text}"));
    }
    // An input that is a function comes back as items (the original, the generated functions
    // or their stubs, `compile_error!`s); anything else comes back as given, with an error.
    if syn::parse2::<syn::ItemFn>(item.clone()).is_ok() {
        if let Err(e) = syn::parse2::<syn::File>(output.clone()) {
            return Some(format!("the output does not parse as items ({e}): {text}"));
        }
        if let Some(line) = unspanned_error(&output) {
            return Some(format!("an error without a position in the input: {line}"));
        }
    } else if !text.contains("compile_error") {
        return Some(format!(
            "no error for an input that is not a function: {text}"
        ));
    }
    None
}

/// The message of a `compile_error!` whose tokens have no position in the input (what a
/// `Span::call_site()` error looks like here), if any.
fn unspanned_error(output: &TokenStream) -> Option<String> {
    let tokens: Vec<TokenTree> = output.clone().into_iter().collect();
    for window in tokens.windows(3) {
        if let [
            TokenTree::Ident(name),
            TokenTree::Punct(bang),
            TokenTree::Group(body),
        ] = window
            && name == "compile_error"
            && bang.as_char() == '!'
            && name.span().start().line == 0
        {
            return Some(body.to_string());
        }
    }
    for tree in tokens {
        if let TokenTree::Group(g) = tree
            && let Some(found) = unspanned_error(&g.stream())
        {
            return Some(found);
        }
    }
    None
}

/// Runs every input; panics with all the problems found (and how to reproduce them).
fn run(kind: &str, inputs: impl IntoIterator<Item = (TokenStream, TokenStream)>) -> usize {
    let mut count = 0;
    let mut problems = Vec::new();
    for (args, item) in inputs {
        count += 1;
        if let Some(p) = problem(&args, &item) {
            problems.push(format!("#[reverse({args})]\n{item}\n=> {p}"));
        }
    }
    assert!(
        problems.is_empty(),
        "{} of {count} {kind} inputs failed (seed {}):\n\n{}",
        problems.len(),
        seed(),
        problems.join("\n\n")
    );
    count
}

fn seed() -> u64 {
    generator::seed_from("AD_FUZZ_SEED")
}

fn env_count(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn tokens(source: &str) -> TokenStream {
    source.parse().expect("fuzz source tokenizes")
}

// ----- odd but parseable functions -----

/// Bodies covering every `syn::Expr` and `syn::Stmt` kind, in places the macro supports and
/// places it does not (`x: f64, y: f64, v: &[f64], n: usize` are in scope).
const BODIES: &[&str] = &[
    // Array, Repeat, Index, Assign, Binary, Unary, Paren, Lit, Path, Cast
    "let a = [x, y, 1.0]; a[n % 3] * -(x + 2.0) / (y as f64)",
    "let mut a = [0.0; 4]; a[1] = x; a[2] += y; a[n % 4]",
    "let mut s = 0.0; s = s + x; s *= y; s -= 1.0; s /= 2.0; s %= 3.0; s",
    "let b = !(x < y) && (x >= 0.0 || y != 1.0); if b { x } else { y }",
    "let k = n as f64 + (n << 2) as f64 + (n & 3 | 1 ^ 2) as f64; k * x",
    // Block, Const block, Unsafe, Async, Await, TryBlock, Closure
    "{ let z = x * y; z } + { x }",
    "const { 1.0 } * x",
    "unsafe { x * y }",
    "let f = async { x }; y",
    "let c = |t: f64| t * x; c(y)",
    "let c = move || x; c() * y",
    "x.await",
    // Call, MethodCall, Field, Tuple, Struct, Macro, Range
    "f64::max(x, y) + x.min(y) + x.powi(2) + x.powf(y) + x.mul_add(y, 1.0)",
    "let t = (x, y); t.0 * t.1",
    "let (a, (b, c)) = (x, (y, 1.0)); a * b + c",
    "let p = Point { x, y }; p.x",
    "let v2 = vec![x, y]; v2[0] + v2.len() as f64",
    "println!(\"{x} {}\", y); assert!(x == x, \"msg {}\", y); x",
    "format!(\"{}\", x).len() as f64",
    "let r = 0..n; let r2 = ..=n; let r3 = n..; x",
    "let r = (0..n).step_by(2).rev(); let mut s = x; for i in r { s += i as f64; } s",
    // If, Let (in if let / while let), Match, ForLoop, While, Loop, Break, Continue, Return
    "if let Some(z) = Some(x) { z } else { y }",
    "let Some(z) = Some(x) else { return y; }; z",
    "let mut it = v.iter(); let mut s = 0.0; while let Some(e) = it.next() { s += e; } s",
    "match n { 0 => x, 1 | 2 => y, k if k > 5 => x * y, _ => 1.0 }",
    "match x { t if t > 0.0 => t, _ => -x }",
    "match (n, x > y) { (0, true) => x, _ => y }",
    "let mut s = 0.0; for (i, e) in v.iter().enumerate() { if i == 2 { break; } s += e * x; } s",
    "let mut s = x; 'a: for i in 0..n { for j in 0..i { if j == 1 { continue 'a; } if i > 3 { break 'a; } s *= y; } } s",
    "let mut s = x; while s < 10.0 { s = s * 2.0 + y; } s",
    "let mut k = 0; let r = loop { k += 1; if k > n { break x * y; } }; r",
    "let mut s = x; loop { s += 1.0; if s > 3.0 { return s * y; } }",
    "if x > 0.0 { return x; } y",
    "return x * y",
    "return",
    // Reference, RawAddr, Try, Infer, Yield, Verbatim-ish, Group-ish
    "let r = &x; let m = &mut 1.0; *m += *r; *m",
    "let p = &raw const x; y",
    "let q: Result<f64, ()> = Ok(x); q? * y",
    "let z: Vec<_> = v.iter().map(|e| e * x).collect(); z.iter().sum()",
    "v.iter().map(|e| e * x).sum::<f64>()",
    "v.iter().zip(v.iter()).map(|(a, b)| a * b).fold(0.0, |s, t| s + t) * x",
    "yield x",
    "let _ = x; let _z = y; x",
    "let x = x * 2.0; let x = x.sin(); x",
    "let (mut a, mut b) = (x, y); std::mem::swap(&mut a, &mut b); a - b",
    "let mut w = v.to_vec(); w.push(x); w.sort_by(|a, b| a.total_cmp(b)); w[0]",
    "let s: f64 = v.iter().copied().sum(); s * x",
    "let s = v.iter().sum::<f64>(); s * x",
    "v.len() as f64 * x",
    "v[0] * v[v.len() - 1] * x",
    "let m = v.iter().cloned().fold(f64::NEG_INFINITY, f64::max); m * x",
    "std::f64::consts::PI * x + f64::EPSILON",
    "x.clamp(0.0, 1.0).sqrt().exp().ln_1p().tanh().atan2(y).hypot(y).cbrt()",
    "x.sin_cos().0 * x.sin_cos().1",
    "(x as f32).sin() as f64 * y",
    "(n as f64).sqrt() * x",
    "x.to_bits() as f64",
    "if x.is_nan() { 0.0 } else { x.abs().signum() * y.floor() * y.fract() }",
    // Items inside the body
    "fn inner(t: f64) -> f64 { t * 2.0 } inner(x) * y",
    "const K: f64 = 2.0; K * x",
    "static S: f64 = 3.0; S * x",
    "use std::f64::consts::E; E * x",
    "struct P { a: f64 } let p = P { a: x }; p.a * y",
    "macro_rules! twice { ($e:expr) => { $e * 2.0 }; } twice!(x)",
    "#[allow(unused)] let z = x; z * y",
    "let z = { #[allow(unused)] let w = 1.0; x }; z",
    // Expression statements with and without semicolons; empty statements
    ";;; x",
    "x;",
    "",
    "x * y;;",
    "loop {}",
    "todo!()",
    "panic!(\"no\")",
    "unimplemented!()",
];

/// Signatures the bodies go into (with `BODY` replaced).
const SIGNATURES: &[&str] = &[
    "fn f(x: f64, y: f64, v: &[f64], n: usize) -> f64 { BODY }",
    "fn f(x: f64, y: f64, v: &[f64], n: usize) -> (f64, f64) { (BODY, x) }",
    "fn f<T: num_traits::Float>(x: T, y: T, v: &[T], n: usize) -> T { BODY }",
    "pub(crate) fn f(x: f64, y: f64, v: &[f64], n: usize) -> f64 { BODY }",
    "fn f(x: f64, y: f64, v: &[f64], n: usize) { let _ = { BODY }; }",
    "fn f(x: f64, y: f64, v: &mut [f64], n: usize) -> f64 { BODY }",
    "fn f(&self, x: f64, y: f64, v: &[f64], n: usize) -> f64 { BODY }",
    "async fn f(x: f64, y: f64, v: &[f64], n: usize) -> f64 { BODY }",
    "const fn f(x: f64, y: f64, v: &[f64], n: usize) -> f64 { BODY }",
    "unsafe extern \"C\" fn f(x: f64, y: f64, v: &[f64], n: usize) -> f64 { BODY }",
    "fn f<'a>(x: f64, y: f64, v: &'a [f64], n: usize) -> impl Fn() -> f64 { move || BODY }",
    "fn f(x: f64, y: f64, v: &[f64], n: usize) -> Vec<f64> { vec![BODY] }",
    "fn f(x: f64, y: f64, v: &[f64], n: usize) -> [f64; 2] { [BODY, y] }",
    "fn f((x, y): (f64, f64), v: &[f64], n: usize) -> f64 { BODY }",
    "fn f(x: f64, y: f64, v: &[f64], n: usize) -> Option<f64> { Some(BODY) }",
    "fn f(x: f64, y: f64, v: &[f64], n: usize, _: f64, mut z: f64) -> f64 { z += 1.0; BODY }",
    "fn f(x: f64, y: f64, v: Vec<f64>, n: usize) -> f64 { BODY }",
    "fn f(x: f32, y: f32, v: &[f32], n: usize) -> f32 { BODY }",
    "fn f(x: f64, y: f64, v: &[f64], n: usize) -> f64 where f64: Copy { BODY }",
    "fn f(x: f64, y: f64, v: &[f64], n: usize, g: impl Fn(f64) -> f64) -> f64 { g(BODY) }",
    "fn f(x: f64, y: f64, v: &[f64], n: usize, args: ...) -> f64 { BODY }",
];

/// Attribute arguments: the options, misspelled and malformed ones.
const ARGS: &[&str] = &[
    "",
    "wrt(x)",
    "wrt(x, v)",
    "wrt(n)",
    "wrt(nope)",
    "wrt()",
    "wrt",
    "float(f64)",
    "float(T)",
    "float(1)",
    "crate = \"ad_runtime\"",
    "crate = 3",
    "rule = my_rule",
    "rule = ",
    "zero_derivative",
    "zero_derivative, rule = r",
    "unknown",
    "wrt(x) wrt(y)",
    "wrt(x),,",
    "= = =",
    "\"string\"",
];

#[test]
fn fuzz_every_expression_and_statement_kind() {
    let mut inputs = Vec::new();
    for body in BODIES {
        for sig in SIGNATURES {
            inputs.push((TokenStream::new(), sig.replace("BODY", body)));
        }
    }
    let sig = SIGNATURES[0];
    for args in ARGS {
        for body in &BODIES[..12] {
            inputs.push((tokens(args), sig.replace("BODY", body)));
        }
    }
    // Not functions at all.
    for item in [
        "struct S;",
        "const C: f64 = 1.0;",
        "impl S { fn f(x: f64) -> f64 { x } }",
        "fn",
        "fn f(",
        "x * 2.0",
        "",
    ] {
        inputs.push((TokenStream::new(), item.to_string()));
    }
    let inputs: Vec<(TokenStream, TokenStream)> = inputs
        .into_iter()
        .filter_map(|(args, source)| Some((args, source.parse().ok()?)))
        .collect();
    let count = run("syntax-kind", inputs);
    assert!(count > 1500, "only {count} syntax inputs");
}

// ----- real-world functions -----

/// Functions with bodies (free, in impls, default trait methods) in a parsed file.
#[derive(Default)]
struct Functions(Vec<TokenStream>);

impl<'ast> syn::visit::Visit<'ast> for Functions {
    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        self.0.push(f.to_token_stream());
        syn::visit::visit_item_fn(self, f);
    }
    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        self.0.push(f.to_token_stream());
        syn::visit::visit_impl_item_fn(self, f);
    }
    fn visit_trait_item_fn(&mut self, f: &'ast syn::TraitItemFn) {
        if f.default.is_some() {
            self.0.push(f.to_token_stream());
        }
        syn::visit::visit_trait_item_fn(self, f);
    }
}

/// The `.rs` files under the cargo registry's sources, in a stable order.
fn registry_files() -> Vec<std::path::PathBuf> {
    let home = std::env::var_os("CARGO_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".cargo")));
    let Some(home) = home else { return Vec::new() };
    let mut files = Vec::new();
    let mut dirs = vec![home.join("registry").join("src")];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

#[test]
fn fuzz_real_world_functions() {
    let files = registry_files();
    if files.is_empty() {
        eprintln!("fuzz: no cargo registry sources found; real-world functions skipped");
        return;
    }
    // A sample of the files, different in every run (reproducible from the seed).
    let mut rng = Rng::new(seed());
    let wanted = env_count("AD_FUZZ_FILES", 400).min(files.len());
    let mut functions = Vec::new();
    for _ in 0..wanted {
        let path = &files[rng.below(files.len())];
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        let Ok(file) = syn::parse_file(&text) else {
            continue;
        };
        let mut found = Functions::default();
        syn::visit::Visit::visit_file(&mut found, &file);
        // Very long functions cost time and add little.
        functions.extend(
            found
                .0
                .into_iter()
                .filter(|f| f.to_string().len() < 20_000)
                .map(|f| (TokenStream::new(), f)),
        );
    }
    let count = run("real-world", functions);
    eprintln!("fuzz: {count} real-world functions from {wanted} files");
}

// ----- mutated token streams -----

#[test]
fn fuzz_mutated_random_programs() {
    let seed = seed();
    let mut rng = Rng::new(seed ^ 0xf022);
    let config = generator::Config::default();
    let wanted = env_count("AD_FUZZ_MUTANTS", 4000);
    let mut inputs = Vec::new();
    let mut k = 0;
    while inputs.len() < wanted {
        let program = generator::Generator::program(seed.wrapping_add(k), &config, "f");
        k += 1;
        for f in &program.functions {
            let original = tokens(&f.print(""));
            for _ in 0..4 {
                let mut mutant = original.clone();
                for _ in 0..=rng.below(3) {
                    mutant = mutate(mutant, &mut rng);
                }
                inputs.push((TokenStream::new(), mutant));
            }
        }
    }
    run("mutated", inputs);
}

/// `stream` with one random token tree (at any depth) deleted, duplicated, swapped with the
/// next, or replaced by another token.
fn mutate(stream: TokenStream, rng: &mut Rng) -> TokenStream {
    let total = count_trees(&stream);
    let target = rng.below(total.max(1));
    let mut seen = 0;
    rewrite(stream, target, &mut seen, rng)
}

fn count_trees(stream: &TokenStream) -> usize {
    stream
        .clone()
        .into_iter()
        .map(|t| match &t {
            TokenTree::Group(g) => 1 + count_trees(&g.stream()),
            _ => 1,
        })
        .sum()
}

fn rewrite(stream: TokenStream, target: usize, seen: &mut usize, rng: &mut Rng) -> TokenStream {
    let mut trees: Vec<TokenTree> = stream.into_iter().collect();
    let mut i = 0;
    while i < trees.len() {
        if *seen == target {
            *seen += 1 << 30; // done: later trees are left alone
            match rng.below(4) {
                0 => {
                    trees.remove(i);
                }
                1 => {
                    let copy = trees[i].clone();
                    trees.insert(i, copy);
                }
                2 if i + 1 < trees.len() => trees.swap(i, i + 1),
                _ => trees[i] = replacement(rng),
            }
            break;
        }
        *seen += 1;
        if let TokenTree::Group(g) = &trees[i] {
            let inner = rewrite(g.stream(), target, seen, rng);
            let mut group = Group::new(g.delimiter(), inner);
            group.set_span(g.span());
            trees[i] = TokenTree::Group(group);
        }
        i += 1;
    }
    trees.into_iter().collect()
}

/// A token a mutant may get in place of another.
fn replacement(rng: &mut Rng) -> TokenTree {
    let span = Span::call_site();
    match rng.below(5) {
        0 => {
            let words = [
                "x0", "v", "n", "self", "return", "break", "continue", "loop", "let", "mut", "if",
                "else", "match", "fn", "as", "f32", "usize", "sin", "powi", "iter", "_", "move",
                "ref", "in", "for", "while", "unsafe", "async", "await", "Some", "None",
            ];
            let word: &str = words[rng.below(words.len())];
            TokenTree::Ident(Ident::new(word, span))
        }
        1 => {
            let puncts = [
                '+', '-', '*', '/', '%', '!', '&', '|', '^', '<', '>', '=', ';', ',', '.', '?',
                '#', '@', ':', '$', '~',
            ];
            let spacing = if rng.chance(0.3) {
                Spacing::Joint
            } else {
                Spacing::Alone
            };
            TokenTree::Punct(Punct::new(*rng.pick(&puncts), spacing))
        }
        2 => match rng.below(5) {
            0 => TokenTree::Literal(Literal::f64_unsuffixed(rng.float(-3.0, 3.0))),
            1 => TokenTree::Literal(Literal::usize_unsuffixed(rng.below(5))),
            2 => TokenTree::Literal(Literal::f32_suffixed(1.5)),
            3 => TokenTree::Literal(Literal::string("s")),
            _ => TokenTree::Literal(Literal::character('c')),
        },
        3 => {
            let delimiter = *rng.pick(&[
                Delimiter::Parenthesis,
                Delimiter::Brace,
                Delimiter::Bracket,
                Delimiter::None,
            ]);
            TokenTree::Group(Group::new(delimiter, TokenStream::new()))
        }
        _ => TokenTree::Ident(Ident::new(&format!("y{}", rng.below(3)), span)),
    }
}
