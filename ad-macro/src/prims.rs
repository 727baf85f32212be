//! The table of primitives: every operator, `Float` method and runtime function the macro can
//! differentiate, one row each.
//!
//! The macro knows only names and shapes; the math lives in the runtime. A differentiable
//! entry named `sin` is reversed by a call to `<runtime>::rules::sin(operands.., results..,
//! result adjoints..)`, which returns the adjoints of the float operands; its tangent rule is
//! `rules::sin_jvp`. Adding a primitive is a row here and, in the runtime, its function (for a
//! [`Syntax::Function`]), its pullback and tangent rule in `rules.rs` and a row of the
//! runtime's registry (`ad-runtime/src/registry.rs`), which gives the differential tests'
//! interpreter its `f64` functions by name; a test of the interpreter checks that the two
//! tables agree. Nothing else names primitives: the lowering recognizes the row's syntax, the
//! reverse pass its operands and `reads`, the recompute-or-stash choice its `cost`, and the
//! random program generator draws from this table (`tests/support/generator.rs`, which
//! includes this file by `#[path]`: it must stay free of dependencies).

/// How a primitive is written in the primal program.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Syntax {
    /// `a + b`, with this operator character.
    Infix(char),
    /// `-a`.
    Prefix(char),
    /// `a.name(b, ..)`, also accepted in path form `f64::name(a, b)`, `T::name(a, b)`,
    /// `Float::name(a, b)`.
    Method,
    /// `module::name(a, b, ..)`: the function `name` of the runtime's module `module`
    /// (`linalg::dot`, `special::erf`), called by any path ending in those two segments; the
    /// emitted code checks that the path names the runtime's function.
    Function(&'static str),
    /// A product of nalgebra's or ndarray's containers (`x.dot(&y)`, `m * v`, `a.dot(&b)`,
    /// `m.transpose()`, `a.t()`), recognized by the lowering from the operands' library:
    /// computed by `__private::library::name(&a, ..)`, which calls the library's own
    /// operation (so the value is the user's, bit for bit), reversed by `name_pullback`.
    Library,
}

/// What an operand is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operand {
    /// A float of the function's type: it gets an adjoint.
    Float,
    /// Anything else (the `i32` of `powi`, the dimensions of `matvec`): passed to the rule,
    /// never differentiated.
    Other,
    /// A container of floats, passed as `&x`; its adjoint is a buffer the rule adds into.
    Array,
    /// A float passed by reference, `&b` (the argument of `partial_cmp`): only queries take
    /// one. The lowering reads the argument without its `&`, the emitted call adds it back.
    Borrowed,
}

/// How the results depend on the operands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Derivative {
    /// Differentiable almost everywhere: reversed by `rules::<name>`.
    Rule,
    /// Piecewise constant (`floor`, `signum`): the results are constants to the reverse sweep
    /// and no rule exists.
    Zero,
    /// Not a float at all (`is_nan`, `classify`): a constant to the reverse sweep, no rule.
    Query,
    /// Not a float, yet all of the operand (`to_bits`): no rule exists, and a value computed
    /// from the result must not reach the output, since the derivative through it would be
    /// lost (`analysis::activity` reports it).
    Bits,
}

/// Whether recomputing the result in the reverse sweep is cheaper than stashing it: the
/// reverse pass recomputes a value only from cheap ops (`reverse/regions.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cost {
    /// A few cycles: arithmetic, comparisons, the piecewise functions and queries.
    Cheap,
    /// Transcendental functions, special functions, loops over containers.
    Expensive,
}

/// Where a primitive is smooth and tame, for the tests: the random program generator keeps
/// each float argument of a primitive it draws inside (`(e * e + 0.5).ln()`), and
/// `tests/rules.rs` checks the rules against central differences at points there. Not read by
/// the macro.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Domain {
    /// Every real (the tests step aside from kinks and jumps).
    Real,
    /// Every real, but growing exponentially: `|x| ≤ 2` (`exp`, `sinh`).
    Small,
    /// `-1 < x < 1` (`asin`, `atanh`; `tan`, away from its poles).
    Unit,
    /// `x > 0` (`ln`, `sqrt`, `ln_gamma`).
    Positive,
    /// `x > -1` (`ln_1p`).
    AboveMinusOne,
    /// `x > 1` (`acosh`).
    AboveOne,
}

/// Which primal values a rule reads, among its operands and results. What it does not read
/// need not be kept for the reverse sweep (in a loop: stashed); the generated code passes the
/// result's adjoint in its place, so a wrong entry here gives wrong gradients in every test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reads {
    /// Neither (`add`: the adjoints alone).
    Nothing,
    /// The operands only.
    Operands,
    /// The results only (`exp` reads `y`).
    Results,
    /// Operands and results.
    All,
    /// One flag per operand, then per result.
    Mask(&'static [bool]),
    /// Per operand, then per result: the operands whose adjoints need it. What only the
    /// adjoint of an operand that is not differentiated needs is not read (`c * x` with `c`
    /// constant does not need `x`).
    For(&'static [&'static [usize]]),
}

/// One primitive.
#[derive(Debug, PartialEq, Eq)]
pub struct Prim {
    /// The method or function name, and the name of the rules in the runtime
    /// (`rules::name`, `rules::name_jvp`).
    pub name: &'static str,
    /// How it is written: an operator, a method, a runtime function.
    pub syntax: Syntax,
    /// What each operand is, the receiver first.
    pub operands: &'static [Operand],
    /// Number of results (2 for `sin_cos`).
    pub results: usize,
    /// Whether it has rules, and of what kind its results are.
    pub derivative: Derivative,
    /// Which operands and results the pullback reads.
    pub reads: Reads,
    /// The result is a new container (`Vec<F>`) rather than a float.
    pub array_result: bool,
    /// Recompute in the reverse sweep, or stash.
    pub cost: Cost,
    /// Where the tests draw its arguments.
    pub domain: Domain,
}

impl Prim {
    /// Whether the rule reads argument `i` (operands first, then results), when `active`
    /// says which operands are differentiated.
    pub fn reads(&self, i: usize, active: &[bool]) -> bool {
        match self.reads {
            Reads::Nothing => false,
            Reads::Operands => i < self.operands.len(),
            Reads::Results => i >= self.operands.len(),
            Reads::All => true,
            Reads::Mask(mask) => mask.get(i).copied().unwrap_or(true),
            Reads::For(needed_by) => needed_by.get(i).is_none_or(|operands| {
                operands
                    .iter()
                    .any(|&o| active.get(o).copied().unwrap_or(true))
            }),
        }
    }
}

use Cost::{Cheap, Expensive};
use Derivative::{Bits, Query, Rule, Zero};
use Domain::{AboveMinusOne, AboveOne, Positive, Real, Small, Unit};
use Operand::{Array as A, Borrowed as B, Float as F, Other as I};
use Reads::{All, For, Mask, Nothing, Operands, Results};
use Syntax::{Function, Infix, Library, Method, Prefix};

/// A scalar primitive.
#[allow(
    clippy::too_many_arguments,
    reason = "one argument per column of the table"
)]
const fn p(
    name: &'static str,
    syntax: Syntax,
    operands: &'static [Operand],
    results: usize,
    derivative: Derivative,
    reads: Reads,
    cost: Cost,
    domain: Domain,
) -> Prim {
    Prim {
        name,
        syntax,
        operands,
        results,
        derivative,
        reads,
        array_result: false,
        cost,
        domain,
    }
}

/// A primitive of containers, one result: a function of `ad_runtime::linalg`, or a product
/// of a library's containers (`Syntax::Library`).
const fn container_prim(
    name: &'static str,
    syntax: Syntax,
    operands: &'static [Operand],
    array_result: bool,
    reads: Reads,
) -> Prim {
    Prim {
        name,
        syntax,
        operands,
        results: 1,
        derivative: Rule,
        reads,
        array_result,
        cost: Expensive,
        domain: Real,
    }
}

/// A function of `ad_runtime::linalg`.
const fn linalg(
    name: &'static str,
    operands: &'static [Operand],
    array_result: bool,
    reads: Reads,
) -> Prim {
    container_prim(name, Function("linalg"), operands, array_result, reads)
}

/// A product of nalgebra's or ndarray's containers.
const fn library(
    name: &'static str,
    operands: &'static [Operand],
    array_result: bool,
    reads: Reads,
) -> Prim {
    container_prim(name, Library, operands, array_result, reads)
}

#[rustfmt::skip]
pub static PRIMS: &[Prim] = &[
    // name          syntax              operands  results derivative reads                cost       domain
    // arithmetic
    p("add",        Infix('+'),         &[F, F],    1, Rule,  Nothing,                      Cheap,     Real),
    p("sub",        Infix('-'),         &[F, F],    1, Rule,  Nothing,                      Cheap,     Real),
    p("mul",        Infix('*'),         &[F, F],    1, Rule,  For(&[&[1], &[0], &[]]),      Cheap,     Real),
    p("div",        Infix('/'),         &[F, F],    1, Rule,  For(&[&[], &[0, 1], &[1]]),   Cheap,     Real),
    p("rem",        Infix('%'),         &[F, F],    1, Rule,  Operands,                     Cheap,     Real),
    p("neg",        Prefix('-'),        &[F],       1, Rule,  Nothing,                      Cheap,     Real),
    p("mul_add",    Method,             &[F, F, F], 1, Rule,  Mask(&[true, true, false, false]), Cheap, Real),
    p("recip",      Method,             &[F],       1, Rule,  Results,                      Cheap,     Positive),
    // powers and roots
    p("sqrt",       Method,             &[F],       1, Rule,  Results,                      Expensive, Positive),
    p("cbrt",       Method,             &[F],       1, Rule,  Results,                      Expensive, Real),
    p("powi",       Method,             &[F, I],    1, Rule,  Operands,                     Cheap,     Real),
    p("powf",       Method,             &[F, F],    1, Rule,  All,                          Expensive, Positive),
    p("hypot",      Method,             &[F, F],    1, Rule,  All,                          Expensive, Real),
    // exponentials and logarithms
    p("exp",        Method,             &[F],       1, Rule,  Results,                      Expensive, Small),
    p("exp2",       Method,             &[F],       1, Rule,  Results,                      Expensive, Small),
    p("exp_m1",     Method,             &[F],       1, Rule,  Results,                      Expensive, Small),
    p("ln",         Method,             &[F],       1, Rule,  All,                          Expensive, Positive),
    p("log",        Method,             &[F, F],    1, Rule,  All,                          Expensive, AboveOne),
    p("log10",      Method,             &[F],       1, Rule,  All,                          Expensive, Positive),
    p("log2",       Method,             &[F],       1, Rule,  All,                          Expensive, Positive),
    p("ln_1p",      Method,             &[F],       1, Rule,  All,                          Expensive, AboveMinusOne),
    // trigonometry
    p("sin",        Method,             &[F],       1, Rule,  Operands,                     Expensive, Real),
    p("cos",        Method,             &[F],       1, Rule,  Operands,                     Expensive, Real),
    p("tan",        Method,             &[F],       1, Rule,  Results,                      Expensive, Unit),
    p("sin_cos",    Method,             &[F],       2, Rule,  Results,                      Expensive, Real),
    p("asin",       Method,             &[F],       1, Rule,  Operands,                     Expensive, Unit),
    p("acos",       Method,             &[F],       1, Rule,  Operands,                     Expensive, Unit),
    p("atan",       Method,             &[F],       1, Rule,  Operands,                     Expensive, Real),
    p("atan2",      Method,             &[F, F],    1, Rule,  Operands,                     Expensive, Real),
    p("sinh",       Method,             &[F],       1, Rule,  Operands,                     Expensive, Small),
    p("cosh",       Method,             &[F],       1, Rule,  Operands,                     Expensive, Small),
    p("tanh",       Method,             &[F],       1, Rule,  Results,                      Expensive, Real),
    p("asinh",      Method,             &[F],       1, Rule,  Operands,                     Expensive, Real),
    p("acosh",      Method,             &[F],       1, Rule,  All,                          Expensive, AboveOne),
    p("atanh",      Method,             &[F],       1, Rule,  All,                          Expensive, Unit),
    p("to_degrees", Method,             &[F],       1, Rule,  Nothing,                      Cheap,     Real),
    p("to_radians", Method,             &[F],       1, Rule,  Nothing,                      Cheap,     Real),
    // piecewise
    p("abs",        Method,             &[F],       1, Rule,  Operands,                     Cheap,     Real),
    // |x| sign(s): x and s are read for x's adjoint only; s's adjoint is always 0.
    p("copysign",   Method,             &[F, F],    1, Rule,  For(&[&[0], &[0], &[]]),      Expensive, Real),
    p("max",        Method,             &[F, F],    1, Rule,  All,                          Cheap,     Real),
    p("min",        Method,             &[F, F],    1, Rule,  All,                          Cheap,     Real),
    p("clamp",      Method,             &[F, F, F], 1, Rule,  Mask(&[true, true, false, true]), Cheap, Real),
    p("fract",      Method,             &[F],       1, Rule,  Nothing,                      Cheap,     Real),
    p("floor",      Method,             &[F],       1, Zero,  Nothing,                      Cheap,     Real),
    p("ceil",       Method,             &[F],       1, Zero,  Nothing,                      Cheap,     Real),
    p("round",      Method,             &[F],       1, Zero,  Nothing,                      Cheap,     Real),
    p("trunc",      Method,             &[F],       1, Zero,  Nothing,                      Cheap,     Real),
    p("signum",     Method,             &[F],       1, Zero,  Nothing,                      Cheap,     Real),
    // queries: their results are not floats
    p("is_nan",           Method,       &[F],       1, Query, Nothing,                      Cheap,     Real),
    p("is_infinite",      Method,       &[F],       1, Query, Nothing,                      Cheap,     Real),
    p("is_finite",        Method,       &[F],       1, Query, Nothing,                      Cheap,     Real),
    p("is_normal",        Method,       &[F],       1, Query, Nothing,                      Cheap,     Real),
    p("is_sign_positive", Method,       &[F],       1, Query, Nothing,                      Cheap,     Real),
    p("is_sign_negative", Method,       &[F],       1, Query, Nothing,                      Cheap,     Real),
    p("classify",         Method,       &[F],       1, Query, Nothing,                      Cheap,     Real),
    p("partial_cmp",      Method,       &[F, B],    1, Query, Nothing,                      Cheap,     Real),
    p("total_cmp",        Method,       &[F, B],    1, Query, Nothing,                      Cheap,     Real),
    p("to_bits",          Method,       &[F],       1, Bits,  Nothing,                      Cheap,     Real),
    // linear algebra: `linalg::name(..)`; `sum` also as `x.iter().sum()`
    linalg("dot",       &[A, A],          false, Operands),
    linalg("sum",       &[A],             false, Nothing),
    linalg("norm2",     &[A],             false, All),
    linalg("logsumexp", &[A],             false, All),
    linalg("softmax",   &[A],             true,  Results),
    linalg("matvec",    &[A, A, I, I],    true,  Operands),
    linalg("matmul",    &[A, A, I, I, I], true,  Operands),
    linalg("axpy",      &[F, A, A],       true,  Mask(&[true, true, false, false])),
    // nalgebra's and ndarray's products: `x.dot(&y)`, `m * v`, `a.dot(&x)`, `m.transpose()`
    library("lib_dot",       &[A, A], false, Operands),
    library("lib_matvec",    &[A, A], true,  Operands),
    library("lib_matmul",    &[A, A], true,  Operands),
    library("lib_transpose", &[A],    true,  Nothing),
    // special functions: `special::name(x)`
    p("erf",        Function("special"), &[F],      1, Rule,  Operands,                     Expensive, Real),
    p("erfc",       Function("special"), &[F],      1, Rule,  Operands,                     Expensive, Real),
    p("ln_gamma",   Function("special"), &[F],      1, Rule,  Operands,                     Expensive, Positive),
    p("digamma",    Function("special"), &[F],      1, Rule,  Operands,                     Expensive, Positive),
];

/// The primitive for method `name` called with `operands` operands (receiver included).
pub fn method(name: &str, operands: usize) -> Option<&'static Prim> {
    PRIMS
        .iter()
        .find(|p| p.syntax == Method && p.name == name && p.operands.len() == operands)
}

/// The primitive for a binary operator such as `+`.
pub fn infix(op: char) -> Option<&'static Prim> {
    PRIMS.iter().find(|p| p.syntax == Infix(op))
}

/// The function `module::name` of the runtime taking `operands` arguments.
pub fn function(module: &str, name: &str, operands: usize) -> Option<&'static Prim> {
    PRIMS.iter().find(|p| {
        matches!(p.syntax, Function(m) if m == module)
            && p.name == name
            && p.operands.len() == operands
    })
}

/// The product of library containers named `name` (`lib_dot`, ..).
pub fn library_product(name: &str) -> Option<&'static Prim> {
    PRIMS.iter().find(|p| p.syntax == Library && p.name == name)
}

/// `+`, which the reverse sweep uses to add contributions to an adjoint.
pub fn add() -> &'static Prim {
    &PRIMS[0]
}

/// The primitive for a prefix operator (`-`).
pub fn prefix(op: char) -> Option<&'static Prim> {
    PRIMS.iter().find(|p| p.syntax == Prefix(op))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_lookups_work() {
        for (i, a) in PRIMS.iter().enumerate() {
            assert!(
                PRIMS[..i].iter().all(|b| b.name != a.name),
                "duplicate {}",
                a.name
            );
        }
        assert_eq!(method("sin", 1).map(|p| p.name), Some("sin"));
        assert_eq!(method("sin", 2), None);
        assert_eq!(infix('*').map(|p| p.name), Some("mul"));
        assert_eq!(prefix('-').map(|p| p.name), Some("neg"));
        assert_eq!(add().name, "add");
        assert_eq!(function("special", "erf", 1).map(|p| p.name), Some("erf"));
        assert_eq!(function("linalg", "erf", 1), None);
        assert_eq!(function("linalg", "dot", 2).map(|p| p.name), Some("dot"));
    }

    /// What has no rule costs a few cycles (a comparison, a rounding, a bit test): recomputing
    /// it never costs more than stashing it, as `reverse/regions.rs` assumed before the table
    /// had a cost column.
    #[test]
    fn primitives_without_a_rule_are_cheap() {
        for p in PRIMS.iter().filter(|p| p.derivative != Rule) {
            assert_eq!(p.cost, Cheap, "{}", p.name);
        }
    }
}
