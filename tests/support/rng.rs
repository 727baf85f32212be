//! The random source of the programs and of the points they are checked at: `fastrand`'s
//! seeded generator (WyRand), the one generator of the workspace, behind the few draws the
//! generator makes. A program is reproduced from its seed.

/// A seeded generator.
#[derive(Clone, Debug)]
pub struct Rng(fastrand::Rng);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(fastrand::Rng::with_seed(seed))
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        self.0.usize(..n)
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        self.0.f64()
    }

    /// Uniform in `[lo, hi)`, rounded to two decimals so that printed literals are short.
    pub fn float(&mut self, lo: f64, hi: f64) -> f64 {
        let v = lo + (hi - lo) * self.unit();
        (v * 100.0).round() / 100.0
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// The seed a test draws from when its variable is unset: fixed, so that `cargo test` (and
/// CI) checks the same programs every time and a failure is never a matter of luck. Hunts
/// for new failures set the variable to `time` or to a number.
pub const DEFAULT_SEED: u64 = 20_261_203;

/// The seed in the environment variable `name` (`AD_DIFF_SEED`, `AD_FUZZ_SEED`): a number,
/// `time` for the clock, or [`DEFAULT_SEED`] when unset.
pub fn seed_from(name: &str) -> u64 {
    match std::env::var(name).ok().as_deref() {
        None => DEFAULT_SEED,
        Some("time") => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1),
        Some(s) => s
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a number or `time`, not {s:?}")),
    }
}
