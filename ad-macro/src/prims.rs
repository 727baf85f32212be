//! The table of primitives: every operator and `Float` method the macro can differentiate.
//!
//! The macro knows only names and shapes; the math lives in the runtime. A differentiable
//! entry named `sin` is reversed by a call to `<runtime>::rules::sin(operands.., results..,
//! result adjoints..)`, which returns the adjoints of the float operands. Adding a primitive
//! is one function in `ad-runtime/src/rules.rs` and one line here.

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
    /// `linalg::name(a, b, ..)`: a function of `ad_runtime::linalg`.
    Function,
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
}

/// How the results depend on the operands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Derivative {
    /// Differentiable almost everywhere: reversed by `rules::<name>`.
    Rule,
    /// Piecewise constant (`floor`, `signum`) or not a float at all (`is_nan`): the results
    /// are constants to the reverse sweep and no rule exists.
    Zero,
    /// Not a float, yet all of the operand (`to_bits`): no rule exists, and a value computed
    /// from the result must not reach the output, since the derivative through it would be
    /// lost (`analysis::activity` reports it).
    Bits,
}

/// Which primal values a rule reads, among its operands and results. What it does not read
/// need not be kept for the reverse sweep (in a loop: stashed); the generated code passes the
/// result's adjoint in its place, so a wrong entry here gives wrong gradients in every test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reads {
    Nothing,
    Operands,
    Results,
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
    /// The method name, and the name of the rule in the runtime.
    pub name: &'static str,
    pub syntax: Syntax,
    pub operands: &'static [Operand],
    /// Number of results (2 for `sin_cos`).
    pub results: usize,
    pub derivative: Derivative,
    pub reads: Reads,
    /// The result is a new container (`Vec<F>`) rather than a float.
    pub array_result: bool,
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

use Derivative::{Bits, Rule, Zero};
use Operand::{Array as A, Float as F, Other as I};
use Reads::{All, For, Mask, Nothing, Operands, Results};
use Syntax::{Infix, Method, Prefix};

const fn p(
    name: &'static str,
    syntax: Syntax,
    operands: &'static [Operand],
    results: usize,
    derivative: Derivative,
    reads: Reads,
) -> Prim {
    Prim {
        name,
        syntax,
        operands,
        results,
        derivative,
        reads,
        array_result: false,
    }
}

/// A function of `ad_runtime::linalg`.
const fn linalg(
    name: &'static str,
    operands: &'static [Operand],
    array_result: bool,
    reads: Reads,
) -> Prim {
    Prim {
        name,
        syntax: Syntax::Function,
        operands,
        results: 1,
        derivative: Rule,
        reads,
        array_result,
    }
}

#[rustfmt::skip]
pub static PRIMS: &[Prim] = &[
    // arithmetic
    p("add",        Infix('+'),  &[F, F],    1, Rule, Nothing),
    p("sub",        Infix('-'),  &[F, F],    1, Rule, Nothing),
    p("mul",        Infix('*'),  &[F, F],    1, Rule, For(&[&[1], &[0], &[]])),
    p("div",        Infix('/'),  &[F, F],    1, Rule, For(&[&[], &[0, 1], &[1]])),
    p("rem",        Infix('%'),  &[F, F],    1, Rule, Operands),
    p("neg",        Prefix('-'), &[F],       1, Rule, Nothing),
    p("mul_add",    Method,      &[F, F, F], 1, Rule, Mask(&[true, true, false, false])),
    p("recip",      Method,      &[F],       1, Rule, Results),
    // powers and roots
    p("sqrt",       Method,      &[F],       1, Rule, Results),
    p("cbrt",       Method,      &[F],       1, Rule, Results),
    p("powi",       Method,      &[F, I],    1, Rule, Operands),
    p("powf",       Method,      &[F, F],    1, Rule, All),
    p("hypot",      Method,      &[F, F],    1, Rule, All),
    // exponentials and logarithms
    p("exp",        Method,      &[F],       1, Rule, Results),
    p("exp2",       Method,      &[F],       1, Rule, Results),
    p("exp_m1",     Method,      &[F],       1, Rule, Results),
    p("ln",         Method,      &[F],       1, Rule, All),
    p("log",        Method,      &[F, F],    1, Rule, All),
    p("log10",      Method,      &[F],       1, Rule, All),
    p("log2",       Method,      &[F],       1, Rule, All),
    p("ln_1p",      Method,      &[F],       1, Rule, All),
    // trigonometry
    p("sin",        Method,      &[F],       1, Rule, Operands),
    p("cos",        Method,      &[F],       1, Rule, Operands),
    p("tan",        Method,      &[F],       1, Rule, Results),
    p("sin_cos",    Method,      &[F],       2, Rule, Results),
    p("asin",       Method,      &[F],       1, Rule, Operands),
    p("acos",       Method,      &[F],       1, Rule, Operands),
    p("atan",       Method,      &[F],       1, Rule, Operands),
    p("atan2",      Method,      &[F, F],    1, Rule, Operands),
    p("sinh",       Method,      &[F],       1, Rule, Operands),
    p("cosh",       Method,      &[F],       1, Rule, Operands),
    p("tanh",       Method,      &[F],       1, Rule, Results),
    p("asinh",      Method,      &[F],       1, Rule, Operands),
    p("acosh",      Method,      &[F],       1, Rule, All),
    p("atanh",      Method,      &[F],       1, Rule, All),
    p("to_degrees", Method,      &[F],       1, Rule, Nothing),
    p("to_radians", Method,      &[F],       1, Rule, Nothing),
    // piecewise
    p("abs",        Method,      &[F],       1, Rule, Operands),
    // |x| sign(s): x and s are read for x's adjoint only; s's adjoint is always 0.
    p("copysign",   Method,      &[F, F],    1, Rule, For(&[&[0], &[0], &[]])),
    p("max",        Method,      &[F, F],    1, Rule, All),
    p("min",        Method,      &[F, F],    1, Rule, All),
    p("clamp",      Method,      &[F, F, F], 1, Rule, Mask(&[true, true, false, true])),
    p("fract",      Method,      &[F],       1, Rule, Nothing),
    p("floor",      Method,      &[F],       1, Zero, Nothing),
    p("ceil",       Method,      &[F],       1, Zero, Nothing),
    p("round",      Method,      &[F],       1, Zero, Nothing),
    p("trunc",      Method,      &[F],       1, Zero, Nothing),
    p("signum",     Method,      &[F],       1, Zero, Nothing),
    // queries: their results are not floats
    p("is_nan",           Method, &[F], 1, Zero, Nothing),
    p("is_infinite",      Method, &[F], 1, Zero, Nothing),
    p("is_finite",        Method, &[F], 1, Zero, Nothing),
    p("is_normal",        Method, &[F], 1, Zero, Nothing),
    p("is_sign_positive", Method, &[F], 1, Zero, Nothing),
    p("is_sign_negative", Method, &[F], 1, Zero, Nothing),
    p("classify",         Method, &[F], 1, Zero, Nothing),
    p("to_bits",          Method, &[F], 1, Bits, Nothing),
    // linear algebra: `linalg::name(..)`; `sum` also as `x.iter().sum()`
    linalg("dot",       &[A, A],          false, Operands),
    linalg("sum",       &[A],             false, Nothing),
    linalg("norm2",     &[A],             false, All),
    linalg("logsumexp", &[A],             false, All),
    linalg("softmax",   &[A],             true,  Results),
    linalg("matvec",    &[A, A, I, I],    true,  Operands),
    linalg("matmul",    &[A, A, I, I, I], true,  Operands),
    linalg("axpy",      &[F, A, A],       true,  Mask(&[true, true, false, false])),
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

/// The function `linalg::name` taking `operands` arguments.
pub fn function(name: &str, operands: usize) -> Option<&'static Prim> {
    PRIMS
        .iter()
        .find(|p| p.syntax == Syntax::Function && p.name == name && p.operands.len() == operands)
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
    }
}
