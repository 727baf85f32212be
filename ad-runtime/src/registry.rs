//! Every scalar primitive as three `f64` function pointers, primal, tangent rule and pullback,
//! by name: what the macro's IR interpreter (its differential tests) and the rule tests run;
//! and every container primitive (`linalg`) as its function and pullback on argument lists.
//!
//! The macro's table of primitives (`ad-macro/src/prims.rs`) says how a primitive is written
//! and what its operands are; this table says what it computes. Generated code never reads
//! it: it calls the functions directly (`x.sin()`, `rules::sin(x, y, dy)`). A test of the
//! macro crate checks that the two tables name the same primitives with the same shapes, so
//! adding a primitive is a row there, and its functions and a row here.
//!
//! The primal of an operator or a `Float` method is `num_traits::Float`'s, which with the
//! `std` feature is the inherent `f64` method user code calls, so the interpreter's values are
//! bitwise those of compiled code.

use alloc::vec;
use alloc::vec::Vec;

use num_traits::Float;

use crate::rules as r;

/// The pullback of a ternary primitive: `(ā, b̄, c̄) = p(a, b, c, y, ȳ)`.
pub type TernaryPullback = fn(f64, f64, f64, f64, f64) -> (f64, f64, f64);

/// The functions of one primitive, by shape (its operands and results).
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    /// One float operand, one float result: primal `y = f(x)`, tangent `ẏ = t(x, y, ẋ)`,
    /// pullback `x̄ = p(x, y, ȳ)`.
    Unary {
        /// `y = f(x)`.
        primal: fn(f64) -> f64,
        /// `ẏ = t(x, y, ẋ)`.
        tangent: fn(f64, f64, f64) -> f64,
        /// `x̄ = p(x, y, ȳ)`.
        pullback: fn(f64, f64, f64) -> f64,
    },
    /// Two float operands, one float result.
    Binary {
        /// `y = f(a, b)`.
        primal: fn(f64, f64) -> f64,
        /// `ẏ = t(a, b, y, ȧ, ḃ)`.
        tangent: fn(f64, f64, f64, f64, f64) -> f64,
        /// `(ā, b̄) = p(a, b, y, ȳ)`.
        pullback: fn(f64, f64, f64, f64) -> (f64, f64),
    },
    /// Three float operands, one float result.
    Ternary {
        /// `y = f(a, b, c)`.
        primal: fn(f64, f64, f64) -> f64,
        /// `ẏ = t(a, b, c, y, ȧ, ḃ, ċ)`.
        tangent: fn(f64, f64, f64, f64, f64, f64, f64) -> f64,
        /// `(ā, b̄, c̄) = p(a, b, c, y, ȳ)`.
        pullback: TernaryPullback,
    },
    /// A float and an `i32` operand (`powi`), one float result.
    FloatInt {
        /// `y = f(x, n)`.
        primal: fn(f64, i32) -> f64,
        /// `ẏ = t(x, n, y, ẋ)`.
        tangent: fn(f64, i32, f64, f64) -> f64,
        /// `x̄ = p(x, n, y, ȳ)`.
        pullback: fn(f64, i32, f64, f64) -> f64,
    },
    /// One float operand, two float results (`sin_cos`).
    Pair {
        /// `(s, c) = f(x)`.
        primal: fn(f64) -> (f64, f64),
        /// `(ṡ, ċ) = t(x, s, c, ẋ)`.
        tangent: fn(f64, f64, f64, f64) -> (f64, f64),
        /// `x̄ = p(x, s, c, s̄, c̄)`.
        pullback: fn(f64, f64, f64, f64, f64) -> f64,
    },
    /// Piecewise constant (`floor`): derivative zero wherever it exists, no rules.
    Constant {
        /// `y = f(x)`.
        primal: fn(f64) -> f64,
    },
    /// A boolean query (`is_nan`): not a float, no rules.
    Query {
        /// `f(x)`.
        primal: fn(f64) -> bool,
    },
}

/// One scalar primitive: its name in the macro's table and its functions.
#[derive(Clone, Copy, Debug)]
pub struct Scalar {
    /// The name, as in the macro's table and in `rules` (the pullback's name).
    pub name: &'static str,
    /// The functions.
    pub kind: Kind,
}

impl Scalar {
    /// Number of operands (`i32` ones included).
    pub fn operands(&self) -> usize {
        match self.kind {
            Kind::Unary { .. } | Kind::Pair { .. } | Kind::Constant { .. } | Kind::Query { .. } => {
                1
            }
            Kind::Binary { .. } | Kind::FloatInt { .. } => 2,
            Kind::Ternary { .. } => 3,
        }
    }

    /// Number of float operands: those with a tangent and an adjoint.
    pub fn float_operands(&self) -> usize {
        match self.kind {
            Kind::FloatInt { .. } => 1,
            _ => self.operands(),
        }
    }

    /// Number of results.
    pub fn results(&self) -> usize {
        match self.kind {
            Kind::Pair { .. } => 2,
            _ => 1,
        }
    }

    /// Whether it has a tangent rule and a pullback (not piecewise constant, not a query).
    pub fn differentiable(&self) -> bool {
        !matches!(self.kind, Kind::Constant { .. } | Kind::Query { .. })
    }

    /// The results at `operands` (an `i32` operand as an `f64` holding it).
    ///
    /// # Panics
    ///
    /// For a wrong number of operands, an `i32` operand that is not one, or a query.
    pub fn primal(&self, operands: &[f64]) -> Vec<f64> {
        self.check(operands.len(), self.operands(), "operands");
        match self.kind {
            Kind::Unary { primal, .. } | Kind::Constant { primal } => vec![primal(operands[0])],
            Kind::Binary { primal, .. } => vec![primal(operands[0], operands[1])],
            Kind::Ternary { primal, .. } => vec![primal(operands[0], operands[1], operands[2])],
            Kind::FloatInt { primal, .. } => vec![primal(operands[0], int(operands[1]))],
            Kind::Pair { primal, .. } => {
                let (s, c) = primal(operands[0]);
                vec![s, c]
            }
            Kind::Query { .. } => panic!("`{}` is a query: use `query`", self.name),
        }
    }

    /// The boolean result of a query at `x`; `None` if this is not a query.
    pub fn query(&self, x: f64) -> Option<bool> {
        match self.kind {
            Kind::Query { primal } => Some(primal(x)),
            _ => None,
        }
    }

    /// The tangents of the results, from the `operands`, the `results` and the tangents of
    /// the float operands (`dots`). Piecewise-constant primitives have tangent 0.
    ///
    /// # Panics
    ///
    /// For wrong lengths, or a query.
    pub fn tangent(&self, operands: &[f64], results: &[f64], dots: &[f64]) -> Vec<f64> {
        self.check(operands.len(), self.operands(), "operands");
        self.check(results.len(), self.results(), "results");
        self.check(dots.len(), self.float_operands(), "tangents");
        let (o, y, d) = (operands, results[0], dots);
        match self.kind {
            Kind::Unary { tangent, .. } => vec![tangent(o[0], y, d[0])],
            Kind::Binary { tangent, .. } => vec![tangent(o[0], o[1], y, d[0], d[1])],
            Kind::Ternary { tangent, .. } => {
                vec![tangent(o[0], o[1], o[2], y, d[0], d[1], d[2])]
            }
            Kind::FloatInt { tangent, .. } => vec![tangent(o[0], int(o[1]), y, d[0])],
            Kind::Pair { tangent, .. } => {
                let (ds, dc) = tangent(o[0], results[0], results[1], d[0]);
                vec![ds, dc]
            }
            Kind::Constant { .. } => vec![0.0],
            Kind::Query { .. } => panic!("`{}` is a query: it has no tangent", self.name),
        }
    }

    /// The pullback, called as generated code calls `rules::<name>`: `args` are the operands,
    /// the results and the results' adjoints; returns the adjoints of the float operands.
    ///
    /// # Panics
    ///
    /// For a wrong number of arguments, or a primitive without a rule.
    pub fn pullback(&self, args: &[f64]) -> Vec<f64> {
        let (n, m) = (self.operands(), self.results());
        self.check(args.len(), n + 2 * m, "arguments");
        let a = args;
        match self.kind {
            Kind::Unary { pullback, .. } => vec![pullback(a[0], a[1], a[2])],
            Kind::Binary { pullback, .. } => {
                let (da, db) = pullback(a[0], a[1], a[2], a[3]);
                vec![da, db]
            }
            Kind::Ternary { pullback, .. } => {
                let (da, db, dc) = pullback(a[0], a[1], a[2], a[3], a[4]);
                vec![da, db, dc]
            }
            Kind::FloatInt { pullback, .. } => vec![pullback(a[0], int(a[1]), a[2], a[3])],
            Kind::Pair { pullback, .. } => vec![pullback(a[0], a[1], a[2], a[3], a[4])],
            Kind::Constant { .. } | Kind::Query { .. } => {
                panic!("`{}` has no rule: its derivative is zero", self.name)
            }
        }
    }

    fn check(&self, got: usize, want: usize, what: &str) {
        assert!(
            got == want,
            "`{}` takes {want} {what}, not {got}",
            self.name
        );
    }
}

/// An `i32` operand carried as an `f64`.
///
/// # Panics
///
/// If `n` is not an integer in `i32`'s range: truncating it would hide that a float was passed
/// where the program has an `i32`.
fn int(n: f64) -> i32 {
    assert!(
        n.fract() == 0.0 && (f64::from(i32::MIN)..=f64::from(i32::MAX)).contains(&n),
        "the i32 operand is {n}, not an i32"
    );
    n as i32
}

/// The scalar primitive `name`.
pub fn scalar(name: &str) -> Option<&'static Scalar> {
    SCALARS.iter().chain(SPECIAL).find(|s| s.name == name)
}

/// The special functions (feature `special`).
#[cfg(feature = "special")]
pub static SPECIAL: &[Scalar] = {
    use crate::special;
    &[
        unary("erf", special::erf, r::erf_jvp, r::erf),
        unary("erfc", special::erfc, r::erfc_jvp, r::erfc),
        unary("ln_gamma", special::ln_gamma, r::ln_gamma_jvp, r::ln_gamma),
        unary("digamma", special::digamma, r::digamma_jvp, r::digamma),
    ]
};

/// The special functions: none without the feature `special`.
#[cfg(not(feature = "special"))]
pub static SPECIAL: &[Scalar] = &[];

const fn unary(
    name: &'static str,
    primal: fn(f64) -> f64,
    tangent: fn(f64, f64, f64) -> f64,
    pullback: fn(f64, f64, f64) -> f64,
) -> Scalar {
    Scalar {
        name,
        kind: Kind::Unary {
            primal,
            tangent,
            pullback,
        },
    }
}

const fn binary(
    name: &'static str,
    primal: fn(f64, f64) -> f64,
    tangent: fn(f64, f64, f64, f64, f64) -> f64,
    pullback: fn(f64, f64, f64, f64) -> (f64, f64),
) -> Scalar {
    Scalar {
        name,
        kind: Kind::Binary {
            primal,
            tangent,
            pullback,
        },
    }
}

const fn constant(name: &'static str, primal: fn(f64) -> f64) -> Scalar {
    Scalar {
        name,
        kind: Kind::Constant { primal },
    }
}

const fn query(name: &'static str, primal: fn(f64) -> bool) -> Scalar {
    Scalar {
        name,
        kind: Kind::Query { primal },
    }
}

/// Every scalar primitive, and `cast` (`x as f64` from `f64`, the identity: the macro treats
/// casts apart, but the IR holds them). Each row: name, primal, tangent rule, pullback.
#[rustfmt::skip]
pub static SCALARS: &[Scalar] = &[
    // arithmetic
    binary("add",        |a, b| a + b,     r::add_jvp,        r::add),
    binary("sub",        |a, b| a - b,     r::sub_jvp,        r::sub),
    binary("mul",        |a, b| a * b,     r::mul_jvp,        r::mul),
    binary("div",        |a, b| a / b,     r::div_jvp,        r::div),
    binary("rem",        |a, b| a % b,     r::rem_jvp,        r::rem),
    unary("neg",         |a| -a,           r::neg_jvp,        r::neg),
    Scalar { name: "mul_add", kind: Kind::Ternary {
        primal: Float::mul_add, tangent: r::mul_add_jvp, pullback: r::mul_add } },
    unary("recip",       Float::recip,     r::recip_jvp,      r::recip),
    unary("cast",        |x| x,            r::cast_jvp,       r::cast),
    // powers and roots
    unary("sqrt",        Float::sqrt,      r::sqrt_jvp,       r::sqrt),
    unary("cbrt",        Float::cbrt,      r::cbrt_jvp,       r::cbrt),
    Scalar { name: "powi", kind: Kind::FloatInt {
        primal: Float::powi, tangent: r::powi_jvp, pullback: r::powi } },
    binary("powf",       Float::powf,      r::powf_jvp,       r::powf),
    binary("hypot",      Float::hypot,     r::hypot_jvp,      r::hypot),
    // exponentials and logarithms
    unary("exp",         Float::exp,       r::exp_jvp,        r::exp),
    unary("exp2",        Float::exp2,      r::exp2_jvp,       r::exp2),
    unary("exp_m1",      Float::exp_m1,    r::exp_m1_jvp,     r::exp_m1),
    unary("ln",          Float::ln,        r::ln_jvp,         r::ln),
    binary("log",        Float::log,       r::log_jvp,        r::log),
    unary("log10",       Float::log10,     r::log10_jvp,      r::log10),
    unary("log2",        Float::log2,      r::log2_jvp,       r::log2),
    unary("ln_1p",       Float::ln_1p,     r::ln_1p_jvp,      r::ln_1p),
    // trigonometry
    unary("sin",         Float::sin,       r::sin_jvp,        r::sin),
    unary("cos",         Float::cos,       r::cos_jvp,        r::cos),
    unary("tan",         Float::tan,       r::tan_jvp,        r::tan),
    Scalar { name: "sin_cos", kind: Kind::Pair {
        primal: Float::sin_cos, tangent: r::sin_cos_jvp, pullback: r::sin_cos } },
    unary("asin",        Float::asin,      r::asin_jvp,       r::asin),
    unary("acos",        Float::acos,      r::acos_jvp,       r::acos),
    unary("atan",        Float::atan,      r::atan_jvp,       r::atan),
    binary("atan2",      Float::atan2,     r::atan2_jvp,      r::atan2),
    unary("sinh",        Float::sinh,      r::sinh_jvp,       r::sinh),
    unary("cosh",        Float::cosh,      r::cosh_jvp,       r::cosh),
    unary("tanh",        Float::tanh,      r::tanh_jvp,       r::tanh),
    unary("asinh",       Float::asinh,     r::asinh_jvp,      r::asinh),
    unary("acosh",       Float::acosh,     r::acosh_jvp,      r::acosh),
    unary("atanh",       Float::atanh,     r::atanh_jvp,      r::atanh),
    unary("to_degrees",  Float::to_degrees, r::to_degrees_jvp, r::to_degrees),
    unary("to_radians",  Float::to_radians, r::to_radians_jvp, r::to_radians),
    // piecewise
    unary("abs",         Float::abs,       r::abs_jvp,        r::abs),
    binary("copysign",   Float::copysign,  r::copysign_jvp,   r::copysign),
    binary("max",        Float::max,       r::max_jvp,        r::max),
    binary("min",        Float::min,       r::min_jvp,        r::min),
    Scalar { name: "clamp", kind: Kind::Ternary {
        primal: Float::clamp, tangent: r::clamp_jvp, pullback: r::clamp } },
    unary("fract",       Float::fract,     r::fract_jvp,      r::fract),
    constant("floor",    Float::floor),
    constant("ceil",     Float::ceil),
    constant("round",    Float::round),
    constant("trunc",    Float::trunc),
    constant("signum",   Float::signum),
    // queries
    query("is_nan",           Float::is_nan),
    query("is_infinite",      Float::is_infinite),
    query("is_finite",        Float::is_finite),
    query("is_normal",        Float::is_normal),
    query("is_sign_positive", Float::is_sign_positive),
    query("is_sign_negative", Float::is_sign_negative),
];

/// An argument of a container primitive (`linalg`) or of its pullback, as an interpreter holds
/// it.
#[derive(Clone, Debug, PartialEq)]
pub enum Arg {
    /// A float, passed by value (`axpy`'s `alpha`, a scalar result or its adjoint).
    F(f64),
    /// A dimension, passed by value (`m`, `n`, `k` of `matvec` and `matmul`).
    I(usize),
    /// A container passed as `&[f64]`: an operand, a vector result or its adjoint.
    Slice(Vec<f64>),
    /// An adjoint buffer passed as `&mut [f64]`: the rule adds into it, and the caller reads
    /// it back from the argument list afterwards. Empty stands for "not differentiated".
    Mut(Vec<f64>),
}

/// The result of a container primitive.
#[derive(Clone, Debug, PartialEq)]
pub enum Out {
    /// A scalar (`dot`, `sum`, `norm2`, `logsumexp`).
    F(f64),
    /// A new container (`softmax`, `matvec`, `matmul`, `axpy`).
    Vec(Vec<f64>),
}

/// A primitive on containers: its function and pullback on [`Arg`] lists, and operands at a
/// generic point for tests. No tangent rules yet.
#[derive(Clone, Copy, Debug)]
pub struct Container {
    /// The name, as in the macro's table and in `rules`.
    pub name: &'static str,
    /// The function, its arguments in its parameter order: containers as [`Arg::Slice`],
    /// dimensions as [`Arg::I`], floats as [`Arg::F`].
    pub primal: fn(&[Arg]) -> Out,
    /// The pullback, its arguments in its parameter order (operands, result, result adjoint,
    /// then one [`Arg::Mut`] buffer per container operand, which it adds into); returns the
    /// adjoints of the float operands (`axpy`'s `alpha`), in order.
    pub pullback: fn(&mut [Arg]) -> Vec<f64>,
    /// Operands at a fixed, generic point: no ties, not the zero vector, dimensions that fit.
    pub sample: fn() -> Vec<Arg>,
}

/// The container primitive `name`.
pub fn container(name: &str) -> Option<&'static Container> {
    CONTAINERS.iter().find(|c| c.name == name)
}

/// A call of a container primitive's function or rule with arguments of the wrong kinds.
fn wrong(name: &str, args: &[Arg]) -> ! {
    panic!("`{name}` does not take {args:?}")
}

/// Sample vectors and matrices for [`Container::sample`].
fn x3() -> Vec<f64> {
    vec![0.4, -1.3, 0.9]
}
fn y3() -> Vec<f64> {
    vec![1.1, 0.2, -0.6]
}
fn a23() -> Vec<f64> {
    (0..6).map(|i| 0.3 * f64::from(i) - 0.7).collect()
}
fn b34() -> Vec<f64> {
    (0..12).map(|i| (f64::from(i) * 0.37).sin()).collect()
}

/// Every container primitive of `crate::linalg`: function, pullback, sample operands.
pub static CONTAINERS: &[Container] = {
    use crate::linalg as l;
    use Arg::{F, I, Mut as M, Slice as S};
    &[
        Container {
            name: "dot",
            primal: |a| match a {
                [S(x), S(y)] => Out::F(l::dot(x, y)),
                _ => wrong("dot", a),
            },
            pullback: |a| match a {
                [S(x), S(y), F(out), F(dout), M(dx), M(dy)] => {
                    r::dot(x, y, *out, *dout, dx, dy);
                    vec![]
                }
                _ => wrong("dot", a),
            },
            sample: || vec![S(x3()), S(y3())],
        },
        Container {
            name: "sum",
            primal: |a| match a {
                [S(x)] => Out::F(l::sum(x)),
                _ => wrong("sum", a),
            },
            pullback: |a| match a {
                [S(x), F(out), F(dout), M(dx)] => {
                    r::sum(x, *out, *dout, dx);
                    vec![]
                }
                _ => wrong("sum", a),
            },
            sample: || vec![S(x3())],
        },
        Container {
            name: "norm2",
            primal: |a| match a {
                [S(x)] => Out::F(l::norm2(x)),
                _ => wrong("norm2", a),
            },
            pullback: |a| match a {
                [S(x), F(out), F(dout), M(dx)] => {
                    r::norm2(x, *out, *dout, dx);
                    vec![]
                }
                _ => wrong("norm2", a),
            },
            sample: || vec![S(x3())],
        },
        Container {
            name: "logsumexp",
            primal: |a| match a {
                [S(x)] => Out::F(l::logsumexp(x)),
                _ => wrong("logsumexp", a),
            },
            pullback: |a| match a {
                [S(x), F(out), F(dout), M(dx)] => {
                    r::logsumexp(x, *out, *dout, dx);
                    vec![]
                }
                _ => wrong("logsumexp", a),
            },
            sample: || vec![S(x3())],
        },
        Container {
            name: "softmax",
            primal: |a| match a {
                [S(x)] => Out::Vec(l::softmax(x)),
                _ => wrong("softmax", a),
            },
            pullback: |a| match a {
                [S(x), S(y), S(dy), M(dx)] => {
                    r::softmax(x, y, dy, dx);
                    vec![]
                }
                _ => wrong("softmax", a),
            },
            sample: || vec![S(x3())],
        },
        Container {
            name: "matvec",
            primal: |a| match a {
                [S(m), S(x), I(rows), I(cols)] => Out::Vec(l::matvec(m, x, *rows, *cols)),
                _ => wrong("matvec", a),
            },
            pullback: |a| match a {
                [S(m), S(x), I(rows), I(cols), S(y), S(dy), M(dm), M(dx)] => {
                    r::matvec(m, x, *rows, *cols, y, dy, dm, dx);
                    vec![]
                }
                _ => wrong("matvec", a),
            },
            sample: || vec![S(a23()), S(x3()), I(2), I(3)],
        },
        Container {
            name: "matmul",
            primal: |a| match a {
                [S(p), S(q), I(m), I(k), I(n)] => Out::Vec(l::matmul(p, q, *m, *k, *n)),
                _ => wrong("matmul", a),
            },
            pullback: |a| match a {
                [S(p), S(q), I(m), I(k), I(n), S(c), S(dc), M(dp), M(dq)] => {
                    r::matmul(p, q, *m, *k, *n, c, dc, dp, dq);
                    vec![]
                }
                _ => wrong("matmul", a),
            },
            sample: || vec![S(a23()), S(b34()), I(2), I(3), I(4)],
        },
        Container {
            name: "axpy",
            primal: |a| match a {
                [F(alpha), S(x), S(y)] => Out::Vec(l::axpy(*alpha, x, y)),
                _ => wrong("axpy", a),
            },
            pullback: |a| match a {
                [F(alpha), S(x), S(y), S(out), S(dout), M(dx), M(dy)] => {
                    vec![r::axpy(*alpha, x, y, out, dout, dx, dy)]
                }
                _ => wrong("axpy", a),
            },
            sample: || vec![F(0.7), S(x3()), S(y3())],
        },
    ]
};
