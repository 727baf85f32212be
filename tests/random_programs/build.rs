//! Writes the end-to-end layer of the differential tests: a few hundred random functions, each
//! with `#[reverse]`, compiled by rustc with the real macro and checked by `random_programs.rs`
//! beside this file (see docs/testing.md). Only that test includes them.
//!
//! The programs come from `AD_FUZZ_SEED`: a fixed seed when unset (every CI run checks the
//! same programs), a number, or `time`; the seed is written into the output and printed by
//! the test.

use std::fmt::Write;

use program_generator as generator;

/// Programs per build, of `Config::default().functions` functions each.
const PROGRAMS: u64 = 100;
/// Programs per build without the forms forward mode does not model yet.
const FORWARD_PROGRAMS: u64 = 24;

fn main() {
    // The generator is a build-dependency: cargo reruns this script when it changes.
    println!("cargo:rerun-if-env-changed=AD_FUZZ_SEED");
    println!("cargo:rerun-if-changed=build.rs");
    // Fixed unless asked otherwise, so that every CI run checks the same programs; hunts set
    // AD_FUZZ_SEED to a number or to `time`.
    let seed = generator::seed_from("AD_FUZZ_SEED");
    // Shown by cargo when a hunt draws other programs than CI's: the seed of this run.
    if std::env::var_os("AD_FUZZ_SEED").is_some() {
        println!(
            "cargo:warning=random programs for the random-programs test drawn from AD_FUZZ_SEED={seed}"
        );
    }
    let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(out.join("random_programs.rs"), source(seed)).expect("OUT_DIR is writable");
}

/// The generated module: the functions, and one `Case` per function with its source, its
/// parameters and monomorphic wrappers over the function and its `_grad`/`_vjp` that take
/// the arguments grouped (floats, slices, integers) and return the gradient flat.
fn source(seed: u64) -> String {
    // rustc runs what the IR interpreter cannot: the idioms too.
    let config = generator::Config {
        idioms: true,
        structs: true,
        outputs: true,
        ..generator::Config::default()
    };
    // Forward mode does not model containers of rows, parameter structs, and calls of
    // `#[reverse]` functions returning other than a float yet: programs without them (whose
    // functions return floats), for its checks.
    let forward = generator::Config {
        rows: false,
        structs: false,
        outputs: false,
        ..config.clone()
    };
    let mut functions = String::new();
    let mut cases = String::new();
    let batches = [(&config, "p", PROGRAMS), (&forward, "q", FORWARD_PROGRAMS)];
    for (config, prefix, programs) in batches {
        for k in 0..programs {
            let program_seed = seed.wrapping_add(k);
            let name = format!("{prefix}{k}_f");
            let program = generator::Generator::program(program_seed, config, &name);
            for f in &program.functions {
                let mut printed = f.print("#[reverse]\npub ");
                // Every fifth program checks its floats for NaN and infinities, which
                // changes nothing where none appears (the checks are tested to compile
                // wherever the macro accepts a function, and to leave values and gradients
                // as they are).
                if prefix == "p" && k % 5 == 0 {
                    printed = printed
                        .replacen("#[reverse]", "#[reverse(debug_nonfinite)]", 1)
                        .replacen("#[reverse(wrt(", "#[reverse(debug_nonfinite, wrt(", 1);
                }
                functions.push_str(&printed);
                functions.push('\n');
                case(f, program_seed, false, &mut cases);
                // Functions of slices again with nalgebra's `DVector`s in their place, where
                // the body is one the twin can have.
                if prefix == "p" && nalgebra_twin(f, &printed) {
                    functions.push_str(&twin(&printed, &f.name));
                    functions.push('\n');
                    case(f, program_seed, true, &mut cases);
                }
            }
        }
    }
    format!(
        "/// The seed the programs below were drawn from.\n\
         const SEED: u64 = {seed};\n\n\
         #[allow(clippy::all, unused_parens, unused_variables, unused_mut, unused_assignments, unused_labels)]\n\
         mod programs {{\n    use ad_runtime::reverse;\n\n    /// The parameter struct of `Config::structs`.\n    #[derive(ad_runtime::Params, Clone)]\n    pub struct P {{\n        pub b: f64,\n        pub w: Vec<f64>,\n    }}\n\n    /// The rows helpers of `Config::outputs`: rows returned, rows written in place.\n    #[reverse]\n    pub fn rows_step(r: &[[f64; 2]], t: f64) -> Vec<[f64; 2]> {{\n        let mut out: Vec<[f64; 2]> = Vec::new();\n        for p in r {{\n            out.push([p[0] + t * p[1], (p[1] * t).sin()]);\n        }}\n        out\n    }}\n\n    #[reverse]\n    pub fn rows_sum(r: &[[f64; 2]]) -> f64 {{\n        r.iter().map(|p| p[0] * p[1] + p[1]).sum()\n    }}\n\n    #[reverse]\n    pub fn rows_kick(r: &mut [[f64; 2]], t: f64) {{\n        for p in r.iter_mut() {{\n            p[1] -= t * p[0].sin();\n            p[0] += t * p[1];\n        }}\n    }}\n\n{functions}}}\n\n\
         /// One `Case` per generated function.\n\
         const CASES: &[Case] = &[\n{cases}];\n"
    )
}

/// Whether `f`'s twin with `&DVector<f64>` for `&[f64]` compiles: slices are its only
/// containers, and its body uses none of what a `DVector` lacks (sub-slices, slice methods,
/// `linalg`'s slice functions, calls passing slices to other functions).
fn nalgebra_twin(f: &generator::Function, source: &str) -> bool {
    use generator::Param;
    let slices = f.params.iter().any(|p| matches!(p, Param::Slice(_)));
    let others = f.params.iter().any(|p| {
        matches!(
            p,
            Param::Array(..) | Param::Rows(_) | Param::Ragged(_) | Param::Struct(_)
        )
    });
    let lacking = [
        "..]",
        "..=",
        "linalg::",
        ".first(",
        ".last(",
        ".to_vec(",
        ".contains(",
        "&mut",
        "iter_mut",
        ".get(",
        ".clone()",
        ".to_owned()",
        ".windows(",
        ".chunks(",
        ".split",
    ];
    slices
        && !others
        && !calls_reverse_function(source, b'p')
        && !lacking.iter().any(|l| source.contains(l))
}

/// `printed` (the source of function `name`) as `name_na`, its `&[f64]` parameters
/// `&nalgebra::DVector<f64>`.
fn twin(printed: &str, name: &str) -> String {
    let (signature, body) = printed
        .split_once("{\n")
        .expect("a printed function has a body");
    let signature = signature
        .replacen(&format!("fn {name}("), &format!("fn {name}_na("), 1)
        .replace(": &[f64]", ": &nalgebra::DVector<f64>");
    format!("{signature}{{\n{body}")
}

/// The `Case` of `f`, or with `nalgebra` of its twin (`twin`).
fn case(f: &generator::Function, program_seed: u64, nalgebra: bool, out: &mut String) {
    use generator::Param;
    let (mut floats, mut slices, mut ints) = (0, 0, 0);
    let mut args = Vec::new();
    let mut kinds: Vec<String> = Vec::new();
    for p in &f.params {
        match p {
            Param::Float(_) => {
                args.push(format!("a.x[{floats}]"));
                floats += 1;
                kinds.push("Kind::Float".into());
            }
            Param::Slice(_) if nalgebra => {
                args.push(format!(
                    "&nalgebra::DVector::from_column_slice(&a.s[{slices}])"
                ));
                slices += 1;
                kinds.push("Kind::Slice".into());
            }
            Param::Slice(_) => {
                args.push(format!("&a.s[{slices}]"));
                slices += 1;
                kinds.push("Kind::Slice".into());
            }
            Param::Array(_, len, _) => {
                args.push(format!(
                    "<[f64; {len}]>::try_from(&a.s[{slices}][..]).unwrap()"
                ));
                slices += 1;
                kinds.push(format!("Kind::Array({len})"));
            }
            Param::Rows(_) => {
                args.push(format!("&rows(&a.s[{slices}])"));
                slices += 1;
                kinds.push("Kind::Rows".into());
            }
            Param::Ragged(_) => {
                args.push(format!("&ragged(&a.s[{slices}])"));
                slices += 1;
                kinds.push("Kind::Ragged".into());
            }
            Param::Struct(_) => {
                args.push(format!(
                    "&programs::P {{ b: a.s[{slices}][0], w: a.s[{}].clone() }}",
                    slices + 1
                ));
                slices += 2;
                kinds.push("Kind::Struct".into());
            }
            Param::Pairs(_) => {
                args.push(generator::PAIRS.into());
                kinds.push("Kind::Pairs".into());
            }
            Param::Int(_) => {
                args.push(format!("a.n[{ints}]"));
                ints += 1;
                kinds.push("Kind::Int".into());
            }
        }
    }
    // The gradient's shape: one component per active parameter in order, bare if only one.
    let active: Vec<(String, &Param)> = f
        .params
        .iter()
        .filter(|p| !matches!(p, Param::Int(_) | Param::Pairs(_)))
        .enumerate()
        .map(|(i, p)| (format!("g{i}"), p))
        .collect();
    let names: Vec<&str> = active.iter().map(|(n, _)| n.as_str()).collect();
    let pattern = if names.len() == 1 {
        names[0].to_string()
    } else {
        format!("({})", names.join(", "))
    };
    let parts: Vec<String> = active
        .iter()
        .map(|(name, p)| match p {
            Param::Slice(_) if nalgebra => format!("{name}.as_slice().to_vec()"),
            Param::Slice(_) => name.clone(),
            Param::Array(..) => format!("{name}.to_vec()"),
            Param::Rows(_) | Param::Ragged(_) => format!("{name}.concat()"),
            Param::Struct(_) => format!("vec![{name}.b], {name}.w.clone()"),
            _ => format!("vec![{name}]"),
        })
        .collect();
    let flatten = format!("[{}].concat()", parts.join(", "));
    let name = &match nalgebra {
        true => format!("{}_na", f.name),
        false => f.name.clone(),
    };
    let args = args.join(", ");
    let source = f.print("");
    // Forward mode where the macro models the function (docs/supported.md, "Forward mode"):
    // float, slice and array parameters, calls only of the forward batch's functions (which
    // return floats); second order also without calls, `#[checkpoint]` loops and `linalg`.
    let (mut floats, mut slices) = (0, 0);
    let mut tangents = Vec::new();
    let calls = calls_reverse_function(&source, b'p');
    // Forward mode does not model library containers yet.
    let mut forward = !calls && !nalgebra;
    for p in &f.params {
        match p {
            Param::Float(_) => {
                tangents.push(format!("d.x[{floats}]"));
                floats += 1;
            }
            Param::Slice(_) => {
                tangents.push(format!("&d.s[{slices}]"));
                slices += 1;
            }
            Param::Array(_, len, _) => {
                tangents.push(format!(
                    "<[f64; {len}]>::try_from(&d.s[{slices}][..]).unwrap()"
                ));
                slices += 1;
            }
            Param::Int(_) | Param::Pairs(_) => {}
            _ => forward = false,
        }
    }
    let second = forward
        && !calls_reverse_function(&source, b'q')
        && !source.contains("#[checkpoint")
        && !source.contains("linalg::");
    let tangents = tangents.join(", ");
    let hessian_pattern = pattern.replace('g', "h");
    let hessian_flatten = flatten.replace('g', "h");
    let jvp = match forward {
        true => format!("Some(|a, d| programs::{name}_jvp({args}, {tangents}))"),
        false => "None".into(),
    };
    let hvp = match second {
        true => format!(
            "Some(|a, d| {{\n            let (v, {pattern}, {hessian_pattern}) = programs::{name}_hvp({args}, {tangents});\n            (v, {flatten}, {hessian_flatten})\n        }})"
        ),
        false => "None".into(),
    };
    writeln!(
        out,
        "    Case {{\n        name: {name:?},\n        program_seed: {program_seed},\n        source: {source:?},\n        params: &[{kinds}],\n        call: |a| programs::{name}({args}),\n        grad: |a| {{\n            let (v, {pattern}) = programs::{name}_grad({args});\n            (v, {flatten})\n        }},\n        vjp: |a, seed| {{\n            let (v, {pattern}) = programs::{name}_vjp({args}, seed);\n            (v, {flatten})\n        }},\n        jvp: {jvp},\n        hvp: {hvp},\n    }},",
        kinds = kinds.join(", "),
    )
    .unwrap();
}

/// Whether `source` calls another `#[reverse]` function of the batch named by `prefix`
/// (`p3_f0(..)`; for `p`, also `rows_step(..)`).
fn calls_reverse_function(source: &str, prefix: u8) -> bool {
    let bytes = source.as_bytes();
    (prefix == b'p' && source.contains("rows_"))
        || (0..bytes.len()).any(|i| {
            let starts = bytes[i] == prefix
                && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric())
                && !source[..i].ends_with("fn ");
            let rest = &source[i + 1..];
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            starts && digits > 0 && rest[digits..].starts_with("_f")
        })
}
