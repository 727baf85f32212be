//! The peers every gradient bench compares against, written once. A bench states its problem
//! as a [`Problem`] (the objective for any peer's number type) and, per size, which peers are
//! affordable ([`Peers`]); [`bench`] checks each peer's gradient against ours, then times it
//! under the peer's name ([`NAMES`], the columns of the bench's report):
//!
//! - `echidna_grad`: echidna's `Reverse`, a tape recorded at every call;
//! - `echidna_tape`: echidna's `BReverse`, a bytecode tape recorded once outside the timing
//!   and replayed;
//! - `easy_ml`: easy-ml's Wengert list;
//! - `num_dual`: num-dual's `Dual64`, forward mode, one pass per input;
//! - `fd`: central differences of the primal, `2n` calls.

#![allow(dead_code, reason = "each bench uses the part it needs")]

use std::fmt::Display;
use std::hint::black_box;

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, BenchmarkId};
use easy_ml::differentiation::WengertList;

use super::real::{self, Real, assert_close};

/// How close a peer's value must be to ours, relative: each sums in its own order, which
/// over a million terms moves the last few digits.
const VALUE_TOLERANCE: f64 = 1e-9;

/// The peers' names, in the order of the report's columns.
pub const NAMES: [&str; 5] = ["echidna_grad", "echidna_tape", "easy_ml", "num_dual", "fd"];

/// A problem with flat parameters and a scalar output, written once for every peer.
pub trait Problem {
    /// The objective for a peer's number type.
    fn peer<T: Real>(&self, x: &[T]) -> T;

    /// The objective in `f64`: ours, the primal finite differences call.
    fn primal(&self, x: &[f64]) -> f64 {
        self.peer(x)
    }
}

/// How easy-ml is run.
#[derive(Clone, Copy, PartialEq)]
pub enum EasyMl {
    /// Not at this size: its list of every scalar operation would dominate the run.
    Off,
    /// A new Wengert list per gradient.
    NewList,
    /// One list, cleared before each gradient as easy-ml prescribes (its allocation reused).
    ReusedList,
}

/// Which peers run at one size, and how close their gradients must be to ours.
#[derive(Clone, Copy)]
pub struct Peers {
    /// Both echidna variants.
    pub echidna: bool,
    pub easy_ml: EasyMl,
    /// num-dual: `n` forward passes.
    pub num_dual: bool,
    /// Finite differences: `2n` primal calls.
    pub fd: bool,
    /// Relative tolerance of the AD peers' gradients against ours.
    pub tolerance: f64,
    /// The same for finite differences.
    pub fd_tolerance: f64,
    /// The magnitude below which the tolerances are absolute: 1 for values of order one, the
    /// largest of ours for a gradient whose entries are all far smaller.
    pub floor: f64,
}

impl Peers {
    /// Every peer, at the given tolerances.
    pub fn all(tolerance: f64, fd_tolerance: f64) -> Peers {
        Peers {
            echidna: true,
            easy_ml: EasyMl::NewList,
            num_dual: true,
            fd: true,
            tolerance,
            fd_tolerance,
            floor: 1.0,
        }
    }
}

/// Panics unless every peer in `peers` computes `problem`'s value and our gradient `ours` at
/// `x`. [`bench`] runs it first; a bench calls it alone where a size is checked but not timed.
pub fn check<P: Problem>(problem: &P, x: &[f64], ours: &[f64], peers: &Peers) {
    let close = |name: &str, got: &[f64], want: &[f64], tolerance: f64| {
        assert_close(name, got, want, tolerance, peers.floor);
    };
    let value = problem.primal(x);
    close("peer value", &[problem.peer(x)], &[value], VALUE_TOLERANCE);
    if peers.echidna {
        let g = echidna::grad(|p| problem.peer(p), x);
        close("echidna_grad", &g, ours, peers.tolerance);
        let (mut tape, tape_value) = echidna::record(|p| problem.peer(p), x);
        close(
            "echidna_tape value",
            &[tape_value],
            &[value],
            VALUE_TOLERANCE,
        );
        close("echidna_tape", &tape.gradient(x), ours, peers.tolerance);
    }
    if peers.easy_ml != EasyMl::Off {
        let g = real::easy_ml_gradient(|p| problem.peer(p), x);
        close("easy_ml", &g, ours, peers.tolerance);
    }
    if peers.num_dual {
        let g = real::num_dual_gradient(|p| problem.peer(p), x);
        close("num_dual", &g, ours, peers.tolerance);
    }
    if peers.fd {
        let g = real::central_differences(|p| problem.primal(p), x);
        close("fd", &g, ours, peers.fd_tolerance);
    }
}

/// Checks the peers ([`check`]), then times each in `group` as `<peer name>/<parameter>`.
pub fn bench<P: Problem>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    parameter: impl Display,
    problem: &P,
    x: &[f64],
    ours: &[f64],
    peers: &Peers,
) {
    check(problem, x, ours, peers);
    let id = |name: &str| BenchmarkId::new(name, &parameter);
    if peers.echidna {
        group.bench_function(id("echidna_grad"), |b| {
            b.iter(|| echidna::grad(|p| problem.peer(p), black_box(x)))
        });
        let (mut tape, _) = echidna::record(|p| problem.peer(p), x);
        group.bench_function(id("echidna_tape"), |b| {
            b.iter(|| tape.gradient(black_box(x)))
        });
    }
    match peers.easy_ml {
        EasyMl::Off => {}
        EasyMl::NewList => {
            group.bench_function(id("easy_ml"), |b| {
                b.iter(|| real::easy_ml_gradient(|p| problem.peer(p), black_box(x)))
            });
        }
        EasyMl::ReusedList => {
            let list = WengertList::new();
            group.bench_function(id("easy_ml"), |b| {
                b.iter(|| real::easy_ml_gradient_on(&list, |p| problem.peer(p), black_box(x)))
            });
        }
    }
    if peers.num_dual {
        group.bench_function(id("num_dual"), |b| {
            b.iter(|| real::num_dual_gradient(|p| problem.peer(p), black_box(x)))
        });
    }
    if peers.fd {
        group.bench_function(id("fd"), |b| {
            b.iter(|| real::central_differences(|p| problem.primal(p), black_box(x)))
        });
    }
}

/// [`super::report`] against the primal: `ours` (the bench's own variants), then the peers.
pub fn report(group: &str, ours: &[&str], parameters: &[impl Display]) {
    let functions: Vec<&str> = ours.iter().copied().chain(NAMES).collect();
    super::report(group, "primal", &functions, parameters);
}
