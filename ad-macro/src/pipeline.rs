//! The pipeline: one function's way through the stages, each stage's result kept.
//!
//! ```text
//! groups      `macro_rules!` groups in the item made parentheses       groups.rs
//! options     #[reverse(wrt(..), float(..), rule = .., crate = "..", dump)]   options.rs
//! signature   which parameters are active, what the output is          signature.rs
//! lower       syn::ItemFn -> ir::Func (SSA, structured regions)         lower/
//! activity    which values depend on the input and reach the output    analysis/activity.rs
//!   or        a given derivative (rule = .., zero_derivative): checked custom.rs
//! verify      SSA invariants (debug builds of the macro, and its tests) ir/verify.rs
//! reverse     ir::Func -> adjoint ir::Func (forward + reverse sweep)    reverse/
//!   or        a given derivative -> adjoint ir::Func                   custom.rs
//! verify
//! fuse        loops fused with their reverses, where they can be       reverse/fuse.rs
//! verify
//! forward     tangent programs of the primal and the adjoint program   forward/
//! verify
//! emit        adjoint ir::Func -> f_grad, f_vjp, f_pullback, ..        emit/
//! ```
//!
//! Every stage up to `activity` reports into one collector (`errors.rs`), and goes on with
//! defaults where an earlier one failed, so that the user sees every error at once; `reverse`
//! and what follows cannot fail on user input, only by a bug the verifier catches.
//!
//! [`Pipeline::run`] runs every stage but `emit` and keeps what each made; [`Pipeline::emit`]
//! writes the generated functions. `expand` (lib.rs) is the two calls; the macro's tests call
//! the same to look at a stage's result (`tests/harness.rs`), and the compile-cost test times
//! the stages through [`Pipeline::run_observed`].

use proc_macro2::{Span, TokenStream};
use quote::format_ident;

use crate::errors::Errors;
use crate::forward::Unsupported;
use crate::options::Options;
use crate::signature::{Shape, Signature};
use crate::{analysis, custom, emit, forward, groups, ir, lower, reverse};

/// What each stage made of a function the macro accepts.
pub struct Pipeline {
    /// The user's function, `macro_rules!` groups made parentheses (what is emitted again).
    pub item: syn::ItemFn,
    pub options: Options,
    pub sig: Signature,
    /// The lowered function; `None` when the derivative is given (`rule = ..`,
    /// `zero_derivative`): the body is not lowered.
    pub primal: Option<ir::Func>,
    /// Which values of the primal (and so of the adjoint program, which keeps their numbers)
    /// are active.
    pub activity: ir::Activity,
    /// Items declared in the body: declared again in each generated function.
    pub items: Vec<syn::Item>,
    /// The adjoint program: the forward sweep, then the reverse sweep.
    pub adjoint: ir::Func,
    /// The adjoint program with loops fused with their reverses (`None`: nothing fused), for
    /// the generated functions that run both sweeps in one call.
    pub fused: Option<ir::Func>,
    /// The tangent program of the primal (`f_jvp`), or why there is none.
    pub jvp: Result<ir::Func, Unsupported>,
    /// For a scalar output, the tangent program of the adjoint program (`f_hvp`,
    /// `f_hessian`), or why there is none.
    pub hvp: Result<Option<ir::Func>, Unsupported>,
}

/// A function the pipeline stopped on, and why.
pub struct Failed {
    pub item: syn::ItemFn,
    /// The signature, if it was valid: the stubs of the generated functions need it.
    pub sig: Option<Signature>,
    pub reason: Reason,
}

pub enum Reason {
    /// Errors in the user's function, every stage's, in source order.
    Rejected(syn::Error),
    /// A bug of the macro: the IR after a stage (`after`) breaks an invariant.
    Invalid {
        after: &'static str,
        message: String,
        ir: String,
    },
    /// A bug of the macro: a stage failed without reporting an error.
    Unreported(&'static str),
}

/// The stages, as [`Pipeline::run_observed`] reports their ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    Groups,
    Options,
    Signature,
    Lower,
    /// Activity analysis, or the check of a given derivative; the errors of every stage so
    /// far are then reported.
    Activity,
    Verify,
    Reverse,
    Fuse,
    /// The tangent programs of forward mode.
    Forward,
}

/// Whether the IR is verified after each stage: in debug builds of the macro (the default
/// for `cargo build`) and in its own tests.
const VERIFY: bool = cfg!(any(debug_assertions, test));

impl Pipeline {
    /// Runs every stage but `emit` on `item` with the attribute's arguments `args`.
    pub fn run(args: TokenStream, item: syn::ItemFn) -> Result<Pipeline, Box<Failed>> {
        Self::run_observed(args, item, &mut |_| {})
    }

    /// [`Pipeline::run`], calling `observe` at the end of each stage.
    pub fn run_observed(
        args: TokenStream,
        mut item: syn::ItemFn,
        observe: &mut dyn FnMut(Stage),
    ) -> Result<Pipeline, Box<Failed>> {
        groups::parenthesize(&mut item);
        observe(Stage::Groups);
        let (checked, reported) = check(args, &item, observe);
        // Read by the lowering; rustc would reject them in the function emitted unchanged.
        crate::lower::attrs::strip_checkpoints(&mut item);
        let Checked {
            options,
            sig,
            lowered,
        } = checked;
        if let Err(error) = reported {
            let reason = Reason::Rejected(error);
            return Err(Box::new(Failed { item, sig, reason }));
        }
        let (Some(options), Some(sig)) = (options, sig) else {
            let reason = Reason::Unreported("a stage");
            return Err(Box::new(Failed {
                item,
                sig: None,
                reason,
            }));
        };
        let derived = derive_adjoint(&item, &options, &sig, lowered, observe).and_then(|derived| {
            let (jvp, hvp) = match &options.custom {
                _ if !options.forward => {
                    let why = Unsupported {
                        span: Span::call_site(),
                        why: "has_forward_mode_turned_off",
                    };
                    (Err(why.clone()), Err(why))
                }
                Some(custom) => {
                    let names = tangent_names(&sig);
                    let jvp = custom::tangent(&item, &sig, custom, options.jvp.as_ref(), &names);
                    let why = Unsupported {
                        span: Span::call_site(),
                        why: "has_a_given_derivative",
                    };
                    (jvp.ok_or_else(|| why.clone()), Err(why))
                }
                None => tangent_programs(&sig, derived.primal.as_ref(), &derived.adjoint),
            };
            let programs = [
                jvp.as_ref().ok(),
                hvp.as_ref().ok().and_then(Option::as_ref),
            ];
            for program in programs.into_iter().flatten() {
                verify(program, "the tangent transform", observe)?;
            }
            observe(Stage::Forward);
            Ok((derived, jvp, hvp))
        });
        match derived {
            Ok((derived, jvp, hvp)) => Ok(Pipeline {
                item,
                options,
                sig,
                primal: derived.primal,
                activity: derived.activity,
                items: derived.items,
                adjoint: derived.adjoint,
                fused: derived.fused,
                jvp,
                hvp,
            }),
            Err(reason) => Err(Box::new(Failed {
                item,
                sig: Some(sig),
                reason,
            })),
        }
    }

    /// The generated functions (`emit` cannot fail); with `#[reverse(dump)]`, the stages are
    /// printed too.
    pub fn emit(&self) -> TokenStream {
        let name = self.item.sig.ident.to_string();
        // With `debug_nonfinite`, the reverse-mode functions run the unfused program, whose
        // ops are all in the forward or in the reverse sweep, as the report says.
        let (sites, fused) = match self.options.debug_nonfinite {
            true => {
                let params = self.scalar_params();
                let sites = analysis::nonfinite::sites(&self.adjoint, &self.activity, &params);
                (Some(sites), None)
            }
            false => (None, self.fused.as_ref()),
        };
        let cx = emit::Context {
            item: &self.item,
            sig: &self.sig,
            krate: &self.options.krate,
            items: &self.items,
            checks: sites.as_ref().map(|sites| (sites, name.as_str())),
        };
        let mut generated = emit::functions(&cx, &self.adjoint, fused);
        let hvp = self.hvp.as_ref().map(Option::as_ref);
        generated.extend(emit::forward_functions(&cx, self.jvp.as_ref(), hvp));
        if self.options.dump {
            let adjoint = self.fused.as_ref().unwrap_or(&self.adjoint);
            dump(self.primal.as_ref(), &self.activity, adjoint, &generated);
        }
        generated
    }
}

impl Pipeline {
    /// The adjoint program's values of the active float parameters.
    fn scalar_params(&self) -> Vec<ir::Value> {
        (self.sig.params.iter().zip(&self.adjoint.params))
            .filter(|(param, _)| param.active && matches!(param.shape, Shape::Scalar))
            .map(|(_, p)| p.value)
            .collect()
    }
}

/// What the stages up to `activity` made; `None` where a stage failed (and reported why),
/// or, for `lowered`, where the derivative is given.
struct Checked {
    options: Option<Options>,
    sig: Option<Signature>,
    lowered: Option<Lowered>,
}

/// The lowered body, which values of it are active, and the items it declares.
struct Lowered {
    func: ir::Func,
    activity: ir::Activity,
    items: Vec<syn::Item>,
}

/// The stages up to `activity`, and every error they reported. A stage that fails reports
/// into one collector and the next goes on where it can (with the default options when the
/// attribute's are malformed), so that the user fixes every error in one round.
fn check(
    args: TokenStream,
    item: &syn::ItemFn,
    observe: &mut dyn FnMut(Stage),
) -> (Checked, syn::Result<()>) {
    let mut errors = Errors::new();
    let options = Options::parse(args).map_err(|e| errors.push(e)).ok();
    observe(Stage::Options);
    let defaults = Options::default();
    let sig = Signature::analyze(
        &item.sig,
        options.as_ref().unwrap_or(&defaults),
        &mut errors,
    );
    observe(Stage::Signature);
    let custom = options.as_ref().and_then(|o| o.custom.as_ref());
    let lowered = match (&sig, custom) {
        (Some(sig), None) => {
            let (mut func, items) = lower::lower(item, sig, &mut errors);
            analysis::references::see_through(&mut func, sig);
            observe(Stage::Lower);
            let activity = analysis::activity::analyze(&func, sig, &mut errors);
            Some(Lowered {
                func,
                activity,
                items,
            })
        }
        (Some(sig), Some(_)) => {
            custom::check(sig, &mut errors);
            None
        }
        (None, _) => None,
    };
    let reported = errors.finish();
    observe(Stage::Activity);
    let checked = Checked {
        options,
        sig,
        lowered,
    };
    (checked, reported)
}

/// What the stages after `activity` made: the adjoint programs, and the primal they were
/// made from (`None`, with no activity and no items, when the derivative is given).
struct Derived {
    primal: Option<ir::Func>,
    activity: ir::Activity,
    items: Vec<syn::Item>,
    adjoint: ir::Func,
    fused: Option<ir::Func>,
}

/// The stages after `activity`, on a function they accepted: the adjoint program of the
/// given derivative, or of the lowered body (`lowered`). From here on nothing fails on user
/// input: only the verifier, on a bug.
fn derive_adjoint(
    item: &syn::ItemFn,
    options: &Options,
    sig: &Signature,
    lowered: Option<Lowered>,
    observe: &mut dyn FnMut(Stage),
) -> Result<Derived, Reason> {
    let seed = seed_ident(sig);
    match (&options.custom, lowered) {
        (Some(custom), _) => {
            let adjoint = custom::adjoint(item, sig, custom, seed);
            observe(Stage::Reverse);
            verify(&adjoint, "differentiation", observe)?;
            Ok(Derived {
                primal: None,
                activity: ir::Activity::default(),
                items: vec![],
                adjoint,
                fused: None,
            })
        }
        (None, Some(lowered)) => {
            let (adjoint, fused) =
                differentiate(&lowered.func, &lowered.activity, sig, seed, observe)?;
            Ok(Derived {
                primal: Some(lowered.func),
                activity: lowered.activity,
                items: lowered.items,
                adjoint,
                fused,
            })
        }
        (None, None) => Err(Reason::Unreported("lowering")),
    }
}

/// Differentiates the primal and fuses the loops of the adjoint program, verifying each.
fn differentiate(
    primal: &ir::Func,
    activity: &ir::Activity,
    sig: &Signature,
    seed: proc_macro2::Ident,
    observe: &mut dyn FnMut(Stage),
) -> Result<(ir::Func, Option<ir::Func>), Reason> {
    verify(primal, "lowering", observe)?;
    let adjoint = reverse::differentiate(primal, activity, sig, seed);
    observe(Stage::Reverse);
    verify(&adjoint, "differentiation", observe)?;
    // `f_grad`, `f_vjp` and `f_grad_into` run both sweeps at once: they get the program
    // whose loops are fused with their reverses where that is possible.
    // Reverse loops that could not fuse but whose iterations are independent run forwards and
    // replay the recurrences they would pop. Fused loops carry the adjoints of elements ahead
    // in registers.
    // Loops adding to one element in every iteration sum in a register.
    let fused = reverse::fuse(&adjoint);
    let changed = fused.is_some();
    let mut both = fused.unwrap_or_else(|| adjoint.clone());
    let changed = reverse::replay_recurrences(&mut both) || changed;
    if changed {
        reverse::carry_adjoints(&mut both);
    }
    let changed = reverse::promote_invariant_adds(&mut both) || changed;
    let fused = changed.then_some(both);
    observe(Stage::Fuse);
    if let Some(fused) = &fused {
        verify(fused, "loop fusion and replay", observe)?;
    }
    Ok((adjoint, fused))
}

/// The tangent programs of the primal (for `f_jvp`) and, for a scalar output, of the adjoint
/// program (for `f_hvp`): the tangent transform seeded with the active parameters.
#[allow(clippy::type_complexity, reason = "the two programs, each or why not")]
fn tangent_programs(
    sig: &Signature,
    primal: Option<&ir::Func>,
    adjoint: &ir::Func,
) -> (
    Result<ir::Func, Unsupported>,
    Result<Option<ir::Func>, Unsupported>,
) {
    let refused = |what: &'static str| Unsupported {
        span: Span::call_site(),
        why: what,
    };
    let Some(primal) = primal else {
        let why = refused("has_a_given_derivative");
        return (Err(why.clone()), Err(why));
    };
    let shapes = sig.params.iter().filter(|p| p.active).find_map(|p| {
        let span = p.ident.as_ref().map_or_else(Span::call_site, |i| i.span());
        let what = match &p.shape {
            _ if p.is_output() => "has_a_mut_output",
            _ if p.library.is_some() => "has_nalgebra_or_ndarray_parameters",
            crate::signature::Shape::Struct { .. } => "has_a_parameter_struct",
            shape if shape.row().is_some() => "has_containers_of_rows",
            _ => return None,
        };
        Some(Unsupported { span, why: what })
    });
    let shapes = shapes.or_else(|| {
        sig.rows_output
            .as_ref()
            .map(|_| refused("has_containers_of_rows"))
    });
    if let Some(why) = shapes {
        return (Err(why.clone()), Err(why));
    }
    let seeded: Vec<usize> = (sig.params.iter().enumerate())
        .filter(|(_, p)| p.active)
        .map(|(k, _)| k)
        .collect();
    let names = tangent_names(sig);
    let returned = primal.body.yields.len();
    let jvp = forward::tangent(primal, &seeded, &names, 0..returned);
    let hvp = match sig.scalar_output() {
        true => forward::tangent(
            adjoint,
            &seeded,
            &names,
            returned..adjoint.body.yields.len(),
        )
        .map(Some),
        false => Ok(None),
    };
    (jvp, hvp)
}

/// The tangent parameters' names: `d<name>` for each active parameter (`tangent_<name>` if
/// the user has a parameter `d<name>`, or it is a keyword).
fn tangent_names(sig: &Signature) -> Vec<proc_macro2::Ident> {
    let taken = |name: &str| {
        sig.params
            .iter()
            .any(|p| p.ident.as_ref().is_some_and(|i| i == name))
    };
    (sig.params.iter().enumerate())
        .filter(|(_, p)| p.active)
        .map(|(k, p)| {
            let name = p
                .ident
                .as_ref()
                .map_or_else(|| format!("_{k}"), |i| i.to_string());
            let name = name.trim_start_matches("r#");
            match format!("d{name}") {
                // Not a keyword (`do`, `dyn`) or a parameter's name.
                short if !taken(&short) && syn::parse_str::<syn::Ident>(&short).is_ok() => {
                    format_ident!("{}", short)
                }
                _ => format_ident!("tangent_{}", name),
            }
        })
        .collect()
}

/// Runs the IR verifier (see [`VERIFY`]).
fn verify(
    func: &ir::Func,
    after: &'static str,
    observe: &mut dyn FnMut(Stage),
) -> Result<(), Reason> {
    if VERIFY {
        let verified = func.verify();
        observe(Stage::Verify);
        verified.map_err(|message| Reason::Invalid {
            after,
            message,
            ir: func.to_string(),
        })?;
    }
    Ok(())
}

/// The cotangent parameter of `f_vjp`: `seed`, unless the user has a parameter of that name.
fn seed_ident(sig: &Signature) -> proc_macro2::Ident {
    let taken = sig
        .params
        .iter()
        .any(|p| p.ident.as_ref().is_some_and(|i| i == "seed"));
    format_ident!(
        "{}",
        if taken { "__ad_seed" } else { "seed" },
        span = Span::mixed_site()
    )
}

impl Reason {
    /// The error the user sees.
    pub fn into_error(self) -> syn::Error {
        match self {
            Reason::Rejected(error) => error,
            Reason::Invalid { after, message, ir } => {
                internal(&format!("invalid IR after {after}: {message}\n{ir}"))
            }
            Reason::Unreported(stage) => {
                internal(&format!("{stage} failed without reporting an error"))
            }
        }
    }
}

impl std::fmt::Display for Reason {
    /// One line for a bug (the IR left out), the user's errors as reported.
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            Reason::Rejected(error) => write!(f, "the macro reported: {error}"),
            Reason::Invalid { after, message, .. } => {
                write!(f, "invalid IR after {after}: {message}")
            }
            Reason::Unreported(stage) => write!(f, "{stage} failed without reporting an error"),
        }
    }
}

fn internal(message: &str) -> syn::Error {
    syn::Error::new(
        Span::call_site(),
        format!("ad-macro internal error, please report it with this function: {message}"),
    )
}

/// `#[reverse(dump)]`: prints the IR, the adjoint IR and the generated Rust to the compiler's
/// standard error.
fn dump(
    primal: Option<&ir::Func>,
    activity: &ir::Activity,
    adjoint: &ir::Func,
    generated: &TokenStream,
) {
    let rust = format_rust(generated);
    let primal = primal.map_or_else(
        || "(not lowered: the derivative is given)\n".into(),
        |primal| primal.marked(activity).to_string(),
    );
    let adjoint_text = adjoint.marked(activity);
    eprintln!(
        "// #[reverse(dump)] of `{}`\n// IR\n{primal}\n// adjoint IR\n{adjoint_text}\n// generated Rust\n{rust}",
        adjoint.name
    );
}

/// The generated Rust as `prettyplease` formats it (feature `dump`).
#[cfg(feature = "dump")]
fn format_rust(generated: &TokenStream) -> String {
    match syn::parse2::<syn::File>(generated.clone()) {
        Ok(file) => prettyplease::unparse(&file),
        Err(_) => generated.to_string(),
    }
}

/// The generated Rust with a line per statement and braces indented: readable enough without
/// a formatter, which would be a build dependency of every user's crate (feature `dump` of
/// `ad-runtime` brings `prettyplease`).
#[cfg(not(feature = "dump"))]
fn format_rust(generated: &TokenStream) -> String {
    use proc_macro2::{Delimiter, Spacing, TokenTree};

    fn newline(out: &mut String, depth: usize) {
        out.truncate(out.trim_end_matches(' ').len());
        out.push('\n');
        out.push_str(&"    ".repeat(depth));
    }
    fn write(tokens: TokenStream, depth: usize, out: &mut String) {
        let mut attribute = false;
        for tree in tokens {
            match tree {
                TokenTree::Group(g) if g.delimiter() == Delimiter::Brace => {
                    out.push('{');
                    newline(out, depth + 1);
                    write(g.stream(), depth + 1, out);
                    newline(out, depth);
                    out.push('}');
                    newline(out, depth);
                }
                TokenTree::Punct(p) if p.as_char() == ';' => {
                    out.push(';');
                    newline(out, depth);
                }
                TokenTree::Punct(p) => {
                    out.push(p.as_char());
                    attribute = p.as_char() == '#';
                    if p.spacing() == Spacing::Alone && !attribute {
                        out.push(' ');
                    }
                    continue;
                }
                TokenTree::Group(g) if attribute && g.delimiter() == Delimiter::Bracket => {
                    out.push_str(&g.to_string());
                    newline(out, depth);
                }
                other => {
                    out.push_str(&other.to_string());
                    out.push(' ');
                }
            }
            attribute = false;
        }
    }
    let mut out = String::new();
    write(generated.clone(), 0, &mut out);
    // Blank lines left where a brace and a `;` or another brace met.
    out.lines()
        .filter(|line| !line.trim().is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(all(test, not(feature = "dump")))]
mod format_tests {
    #[test]
    fn dump_without_prettyplease_has_a_line_per_statement() {
        let tokens = quote::quote!(
            #[inline]
            fn f(x: f64) -> f64 {
                let y = x * 2.0;
                if y > 0.0 { y } else { -y }
            }
        );
        let want = "\
#[inline]
fn f (x : f64) -> f64 {
    let y = x * 2.0 ;
    if y > 0.0 {
        y
    }
    else {
        - y
    }
}";
        assert_eq!(super::format_rust(&tokens), want);
    }
}
