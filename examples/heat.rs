//! A long simulation differentiated in bounded memory: a 1-D reaction-diffusion equation
//! stepped 100,000 times, its loss's gradient with respect to the initial state and the
//! diffusion coefficient.
//!
//! The loop is marked `#[checkpoint(snapshots = S)]`: its reverse keeps `S` copies of the
//! state and recomputes the steps between them (binomial checkpointing), where the plain
//! gradient would keep what every step's reverse reads, a state's worth per step. The example
//! prints time and peak heap memory (a counting allocator) for the primal, the checkpointed
//! gradients, and the plain gradient at a tenth of the steps (it would not fit the budget at
//! full length), checks the checkpointed gradient equals the plain one bitwise there, and
//! counts the steps the schedule recomputes.
//!
//! `cargo run --release --example heat` (about 10 s; `-- CELLS STEPS` to change the size).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use ad_runtime::checkpoint::forward_steps;
use ad_runtime::reverse;

/// One explicit step of `u_t = k u_xx + r u (1 - u)` on a grid of unit spacing with zero
/// boundaries, written out in each function below (a step per loop iteration).
const REACTION: f64 = 0.05;

#[reverse]
fn heat(u0: &[f64], k: f64, steps: usize) -> f64 {
    let n = u0.len();
    let mut u = u0.to_vec();
    for _ in 0..steps {
        let mut next = vec![0.0; n];
        for i in 0..n {
            let left = if i > 0 { u[i - 1] } else { 0.0 };
            let right = if i + 1 < n { u[i + 1] } else { 0.0 };
            next[i] = u[i] + k * (left - 2.0 * u[i] + right) + REACTION * u[i] * (1.0 - u[i]);
        }
        u = next;
    }
    u.iter().map(|v| v * v).sum()
}

#[reverse]
fn heat_16(u0: &[f64], k: f64, steps: usize) -> f64 {
    let n = u0.len();
    let mut u = u0.to_vec();
    #[checkpoint(snapshots = 16)]
    for _ in 0..steps {
        let mut next = vec![0.0; n];
        for i in 0..n {
            let left = if i > 0 { u[i - 1] } else { 0.0 };
            let right = if i + 1 < n { u[i + 1] } else { 0.0 };
            next[i] = u[i] + k * (left - 2.0 * u[i] + right) + REACTION * u[i] * (1.0 - u[i]);
        }
        u = next;
    }
    u.iter().map(|v| v * v).sum()
}

#[reverse]
fn heat_64(u0: &[f64], k: f64, steps: usize) -> f64 {
    let n = u0.len();
    let mut u = u0.to_vec();
    #[checkpoint(snapshots = 64)]
    for _ in 0..steps {
        let mut next = vec![0.0; n];
        for i in 0..n {
            let left = if i > 0 { u[i - 1] } else { 0.0 };
            let right = if i + 1 < n { u[i + 1] } else { 0.0 };
            next[i] = u[i] + k * (left - 2.0 * u[i] + right) + REACTION * u[i] * (1.0 - u[i]);
        }
        u = next;
    }
    u.iter().map(|v| v * v).sum()
}

/// The system allocator, counting the bytes in use and their peak.
struct Counting;

static IN_USE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded to the system allocator with the caller's layout.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = IN_USE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        IN_USE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: `p` was allocated by `alloc` above with this layout.
        unsafe { System.dealloc(p, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Runs `f`, returning its value, its time and the peak heap memory it added (MB).
fn measured<T>(f: impl FnOnce() -> T) -> (T, f64, f64) {
    let base = IN_USE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let start = Instant::now();
    let value = f();
    let seconds = start.elapsed().as_secs_f64();
    let peak = PEAK.load(Ordering::Relaxed) - base;
    (value, seconds, peak as f64 / 1e6)
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let cells = args.first().copied().unwrap_or(1000);
    let steps = args.get(1).copied().unwrap_or(100_000);
    let u0: Vec<f64> = (0..cells)
        .map(|i| 0.5 + 0.4 * (i as f64 * 6.0 / cells as f64).sin())
        .collect();
    let k = 0.2;
    let state_mb = (cells * 8) as f64 / 1e6;
    println!("{cells} cells ({state_mb:.3} MB a state), {steps} steps\n");
    println!("| | time | x primal | peak heap | steps run |");
    println!("|---|---|---|---|---|");

    let (value, primal, primal_mb) = measured(|| heat(&u0, k, steps));
    println!("| primal | {primal:.3} s | 1.0 | {primal_mb:.2} MB | {steps} |");
    for (snapshots, gradient) in [
        (
            16,
            heat_16_grad as fn(&[f64], f64, usize) -> (f64, (Vec<f64>, f64)),
        ),
        (64, heat_64_grad),
    ] {
        let ((v, (du, dk)), seconds, mb) = measured(|| gradient(&u0, k, steps));
        assert_eq!(
            v, value,
            "the checkpointed gradient's value is the primal's"
        );
        // The forward sweep, the schedule's advances, one recorded step each.
        let run = steps as u128 + forward_steps(steps, snapshots - 1) + steps as u128;
        println!(
            "| gradient, {snapshots} snapshots | {seconds:.3} s | {:.1} | {mb:.2} MB | {run} ({:.2} per step) |",
            seconds / primal,
            run as f64 / steps as f64,
        );
        println!(
            "|  (dL/dk = {dk:.6e}, |dL/du0| = {:.6e}) | | | | |",
            du.iter().map(|d| d * d).sum::<f64>().sqrt()
        );
    }

    // The plain gradient keeps a state's worth per step: at a tenth of the steps it shows
    // what the whole would take, and gives the checkpointed one something to equal.
    let short = (steps / 10).max(1);
    let (plain, seconds, mb) = measured(|| heat_grad(&u0, k, short));
    let (checkpointed, _, _) = measured(|| heat_16_grad(&u0, k, short));
    assert_eq!(
        plain, checkpointed,
        "checkpointing changes nothing but the cost"
    );
    let (_, short_primal, _) = measured(|| heat(&u0, k, short));
    println!(
        "| plain gradient, {short} steps | {seconds:.3} s | {:.1} | {mb:.2} MB | {} |",
        seconds / short_primal,
        2 * short
    );
    println!(
        "\nThe plain gradient at {steps} steps would keep about {:.0} MB; the checkpointed ones equal it bitwise at {short} steps.",
        mb * steps as f64 / short as f64
    );
}
