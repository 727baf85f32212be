//! Binomial checkpointing: the order in which the reverse sweep of a `#[checkpoint]` loop
//! recomputes, keeps and reverses the loop's iterations.
//!
//! The loop ran forwards once, in the forward sweep, as written; its reverse knows the trip
//! count `ℓ` and starts from the loop's initial state. Reversing iteration `k` needs the
//! state at `k`; with `s` snapshot slots (the initial state's included) the schedule keeps
//! some states and recomputes the others from the nearest kept one. It is Griewank and
//! Walther's binomial schedule (Revolve): reversing the steps `[a, b)` with the state at `a`
//! kept and `f` more slots free, it advances to a split point `m`, keeps the state there,
//! reverses `[m, b)` with `f - 1` slots, frees the slot, and reverses `[a, m)` with `f`; the
//! split is the one that minimizes the number of steps advanced, which is then the least any
//! schedule with `s` slots needs ([`forward_steps`]). With no slot free, `[a, b)` is reversed
//! by advancing from `a` to each step in turn.
//!
//! The schedule is produced one [`Action`] at a time from a stack of at most `s` pending
//! intervals: its memory does not grow with `ℓ`.
//!
//! ```
//! use ad_runtime::reverse;
//!
//! /// 10,000 explicit Euler steps of `y' = -sin(y)`: the reverse sweep keeps 8 states
//! /// instead of 10,000.
//! #[reverse]
//! fn pendulum(y0: f64, steps: usize) -> f64 {
//!     let mut y = y0;
//!     #[checkpoint(snapshots = 8)]
//!     for _ in 0..steps {
//!         y -= 1e-4 * y.sin();
//!     }
//!     y
//! }
//!
//! let (y, dy0) = pendulum_grad(1.0, 10_000);
//! assert_eq!(y, pendulum(1.0, 10_000));
//! let h = 1e-6;
//! let central = (pendulum(1.0 + h, 10_000) - pendulum(1.0 - h, 10_000)) / (2.0 * h);
//! assert!((dy0 - central).abs() < 1e-8);
//! // The price: steps rerun forwards, here 6.9 times the loop's length (the state before
//! // the loop takes one of the 8 slots, 7 are free).
//! let reruns = ad_runtime::checkpoint::forward_steps(10_000, 7);
//! assert_eq!(reruns, 68_560);
//! ```

use alloc::vec::Vec;

/// What the reverse sweep of a checkpointed loop does next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Keep the current state in slot `.0` (slots are used in order `0, 1, ..`: a new one is
    /// always the next).
    Store(usize),
    /// Make the current state the one kept in slot `.0`.
    Restore(usize),
    /// Run iterations `from..to` forwards, as written (the state is then at `to`).
    Advance {
        /// The first iteration run.
        from: usize,
        /// The iteration after the last one run.
        to: usize,
    },
    /// Run iteration `.0` forwards, keeping what its reverse reads, then its reverse. The
    /// current state is lost: a `Restore` follows.
    Step(usize),
}

/// A pending interval of the binomial recursion: steps `a..b`, the state at `a` in `slot`,
/// `free` more slots to use.
#[derive(Clone, Copy, Debug)]
struct Interval {
    a: usize,
    b: usize,
    slot: usize,
    free: usize,
}

/// The binomial schedule reversing `steps` iterations with `snapshots` slots, as an iterator
/// of [`Action`]s. Generated code drives a checkpointed loop's reverse with it.
#[derive(Debug)]
pub struct Revolve {
    pending: Vec<Interval>,
    /// Where the current state is, if it is valid.
    current: Option<usize>,
    /// Slots in use: `0..used`.
    used: usize,
    /// Actions decided, not yet handed out (at most three per decision), last first.
    queue: Vec<Action>,
    /// Iterations advanced so far (`Advance`s' lengths), for the measurements.
    advanced: usize,
}

impl Revolve {
    /// The schedule for a loop of `steps` iterations whose reverse may keep `snapshots`
    /// states (at least one: the initial state).
    pub fn new(steps: usize, snapshots: usize) -> Revolve {
        // More slots than steps are never used.
        let snapshots = snapshots.clamp(1, steps.saturating_add(1));
        let mut pending = Vec::with_capacity(snapshots);
        let mut queue = Vec::new();
        if steps > 0 {
            pending.push(Interval {
                a: 0,
                b: steps,
                slot: 0,
                free: snapshots - 1,
            });
            queue.push(Action::Store(0));
        }
        Revolve {
            pending,
            current: Some(0),
            used: usize::from(steps > 0),
            queue,
            advanced: 0,
        }
    }

    /// The iterations advanced so far (not counting the `Step`s, one per iteration).
    pub fn advanced(&self) -> usize {
        self.advanced
    }

    /// Queues a `Restore` unless the current state is at `at`.
    fn restore(&mut self, slot: usize, at: usize, out: &mut Vec<Action>) {
        if self.current != Some(at) {
            out.push(Action::Restore(slot));
            self.current = Some(at);
        }
    }

    fn advance(&mut self, from: usize, to: usize, out: &mut Vec<Action>) {
        if to > from {
            out.push(Action::Advance { from, to });
            self.advanced += to - from;
            self.current = Some(to);
        }
    }

    /// Decides the next actions into `queue` (in order), or returns `false` when done.
    fn decide(&mut self) -> bool {
        let mut out = Vec::new();
        loop {
            let Some(&top) = self.pending.last() else {
                return false;
            };
            let Interval { a, b, slot, free } = top;
            if a == b {
                // Done with this interval: its slot (not the initial state's) is free again.
                self.pending.pop();
                if slot > 0 {
                    self.used -= 1;
                }
                continue;
            }
            let last = self.pending.len() - 1;
            if b - a == 1 || free == 0 {
                // Reverse the last step, advancing to it from `a`.
                self.restore(slot, a, &mut out);
                self.advance(a, b - 1, &mut out);
                out.push(Action::Step(b - 1));
                self.current = None;
                self.pending[last].b = b - 1;
            } else {
                let m = a + split(b - a, free);
                self.restore(slot, a, &mut out);
                self.advance(a, m, &mut out);
                let new = self.used;
                self.used += 1;
                out.push(Action::Store(new));
                self.pending[last].b = m;
                self.pending.push(Interval {
                    a: m,
                    b,
                    slot: new,
                    free: free - 1,
                });
            }
            out.reverse();
            self.queue = out;
            return true;
        }
    }
}

impl Iterator for Revolve {
    type Item = Action;

    fn next(&mut self) -> Option<Action> {
        if self.queue.is_empty() && !self.decide() {
            return None;
        }
        self.queue.pop()
    }
}

/// `C(n, k)`, saturating at `u128::MAX`.
fn binomial(n: usize, k: usize) -> u128 {
    let k = k.min(n - k.min(n));
    let mut c: u128 = 1;
    for i in 0..k {
        c = match c.checked_mul((n - i) as u128) {
            Some(p) => p / (i as u128 + 1),
            None => return u128::MAX,
        };
    }
    c
}

/// The most steps `free` slots (beyond the one holding the start) reverse with each step
/// advanced at most `r` times: `C(free + r + 1, free + 1)`.
fn reach(free: usize, r: usize) -> u128 {
    binomial(free + r + 1, free + 1)
}

/// The repetition number: the least `r` with `reach(free, r) >= steps`.
fn repetitions(steps: usize, free: usize) -> usize {
    if free == 0 {
        return steps.saturating_sub(1);
    }
    let mut r = 0;
    while reach(free, r) < steps as u128 {
        r += 1;
    }
    r
}

/// The fewest steps advanced to reverse `steps` steps with the state at the first kept and
/// `free` more slots: `r · steps - C(free + r + 1, free + 2)` with `r` the repetition number
/// (Griewank and Walther; a test checks it against the recursion it solves).
pub fn forward_steps(steps: usize, free: usize) -> u128 {
    if steps == 0 {
        return 0;
    }
    let r = repetitions(steps, free);
    if free == 0 {
        let l = steps as u128;
        return l * (l - 1) / 2;
    }
    let below = match r {
        0 => 0,
        _ => binomial(free + r + 1, free + 2),
    };
    (r as u128) * steps as u128 - below
}

/// The split point `m` (`1 <= m < steps`) of the binomial recursion: the least `m` with
/// `forward_steps(m, free) + m + forward_steps(steps - m, free - 1)` minimal. That sum is
/// convex in `m` (each part's increments are repetition numbers, which only grow), so the
/// least `m` where it stops decreasing is found by bisection: its increment at `m` is
/// `1 + rep(m + 1, free) - rep(steps - m, free - 1)`.
fn split(steps: usize, free: usize) -> usize {
    let increment_nonnegative =
        |m: usize| 1 + repetitions(m + 1, free) >= repetitions(steps - m, free - 1);
    let (mut lo, mut hi) = (1, steps - 1);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if increment_nonnegative(mid) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    lo
}

#[doc(hidden)]
/// Keeps `value` in slot `slot` of `kept` (the next slot, or one used before).
#[inline]
pub fn store<T: Snapshot>(kept: &mut Vec<T>, slot: usize, value: &T) {
    match kept.get_mut(slot) {
        Some(old) => old.clone_from(value),
        None => kept.push(value.clone()),
    }
}

#[doc(hidden)]
/// Makes `value` the one kept in slot `slot`.
#[inline]
pub fn restore<T: Snapshot>(kept: &[T], slot: usize, value: &mut T) {
    if let Some(old) = kept.get(slot) {
        value.clone_from(old);
    }
}

/// What a `#[checkpoint]` loop keeps of the values it carries: a copy.
#[diagnostic::on_unimplemented(
    message = "a value carried by a `#[checkpoint]` loop must be `Clone`: `{Self}` is not",
    label = "the loop keeps copies of this value to recompute its iterations"
)]
pub trait Snapshot: Clone {}

impl<T: Clone> Snapshot for T {}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    /// The fewest steps advanced, by the recursion itself (memoized).
    fn optimal(steps: usize, free: usize, memo: &mut Vec<Vec<u128>>) -> u128 {
        if steps <= 1 {
            return 0;
        }
        if free == 0 {
            let l = steps as u128;
            return l * (l - 1) / 2;
        }
        if memo[steps][free] != u128::MAX {
            return memo[steps][free];
        }
        let best = (1..steps)
            .map(|m| m as u128 + optimal(m, free, memo) + optimal(steps - m, free - 1, memo))
            .min()
            .unwrap_or(0);
        memo[steps][free] = best;
        best
    }

    /// Runs a schedule on a model of the state (the step it is at), checking every action.
    fn run(steps: usize, snapshots: usize) -> (Vec<usize>, usize, usize) {
        let mut schedule = Revolve::new(steps, snapshots);
        let mut current = Some(0);
        let mut kept: Vec<usize> = Vec::new();
        let mut reversed = Vec::new();
        let mut advanced = 0;
        for action in schedule.by_ref() {
            match action {
                Action::Store(slot) => {
                    let at = current.expect("storing a lost state");
                    assert!(slot <= kept.len(), "slot {slot} skips one");
                    store(&mut kept, slot, &at);
                    assert!(
                        kept.len() <= snapshots.max(1),
                        "more than {snapshots} slots"
                    );
                }
                Action::Restore(slot) => current = Some(kept[slot]),
                Action::Advance { from, to } => {
                    assert_eq!(current, Some(from));
                    advanced += to - from;
                    current = Some(to);
                }
                Action::Step(k) => {
                    assert_eq!(current, Some(k), "step {k} from the wrong state");
                    reversed.push(k);
                    current = None;
                }
            }
        }
        assert_eq!(schedule.advanced(), advanced);
        (reversed, advanced, kept.len())
    }

    #[test]
    fn every_step_is_reversed_once_in_reverse_order() {
        for steps in 0..60 {
            for snapshots in 0..7 {
                let (reversed, _, _) = run(steps, snapshots);
                let expected: Vec<usize> = (0..steps).rev().collect();
                assert_eq!(reversed, expected, "{steps} steps, {snapshots} snapshots");
            }
        }
    }

    #[test]
    fn the_schedule_advances_the_fewest_steps() {
        let mut memo = vec![vec![u128::MAX; 8]; 130];
        for steps in 1..130 {
            for free in 0..8 {
                let best = optimal(steps, free, &mut memo);
                assert_eq!(
                    forward_steps(steps, free),
                    best,
                    "{steps} steps, {free} free"
                );
                let (_, advanced, _) = run(steps, free + 1);
                assert_eq!(advanced as u128, best, "{steps} steps, {free} free");
            }
        }
    }

    #[test]
    fn long_loops_advance_about_r_times() {
        // 10^5 steps and 16 slots: C(23, 7) >= 10^5 > C(22, 6), so each step is advanced at
        // most r = 7 times.
        let steps = 100_000;
        let (_, advanced, used) = run(steps, 16);
        assert_eq!(repetitions(steps, 15), 7);
        assert!(advanced <= 7 * steps, "{advanced}");
        assert_eq!(advanced as u128, forward_steps(steps, 15));
        assert!(used <= 16);
    }

    #[test]
    fn absurd_snapshot_counts_allocate_nothing_for_them() {
        let (reversed, advanced, used) = run(3, usize::MAX);
        assert_eq!((reversed, advanced, used), (vec![2, 1, 0], 2, 3));
        assert_eq!(Revolve::new(0, usize::MAX).count(), 0);
    }

    #[test]
    fn one_slot_reverses_by_advancing_from_the_start() {
        let (_, advanced, used) = run(5, 1);
        assert_eq!((advanced, used), (4 + 3 + 2 + 1, 1));
        let (_, advanced, _) = run(5, 5);
        assert_eq!(advanced, 4);
    }
}
