//! What the generated code allocates, counted by a global allocator: nothing for straight-line
//! code and for loops whose reverse needs nothing of their own (pure accumulations), one
//! reserved stack for a loop whose reverse needs a value per iteration.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use ad_runtime::reverse;

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator; the counter is a const-initialized thread local,
// which does not allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        // SAFETY: the caller upholds `alloc`'s contract.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller upholds `dealloc`'s contract.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        // SAFETY: the caller upholds `realloc`'s contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The allocations `f` makes on this thread.
fn allocations<T>(f: impl FnOnce() -> T) -> usize {
    let before = ALLOCATIONS.with(Cell::get);
    std::hint::black_box(f());
    ALLOCATIONS.with(Cell::get) - before
}

#[reverse]
fn straight(x: f64, y: f64) -> f64 {
    let s = x * y;
    (s.sin() + x.powi(3)) / y.hypot(1.0)
}

/// `s += c * x` with an inactive factor and a loop-invariant active one: the reverse of an
/// iteration reads nothing the iteration defined.
#[reverse]
fn accumulate(x: f64, c: f64, n: usize) -> f64 {
    let mut s = 0.0;
    for i in 0..n {
        s += c * x + (i as f64) * x;
    }
    s
}

/// Branches whose conditions the reverse sweep recomputes from the index.
#[reverse]
fn accumulate_in_branches(x: f64, n: usize) -> f64 {
    let mut s = x;
    for i in 0..n {
        if i % 3 == 0 {
            s += x;
        } else {
            s -= 2.0 * x;
        }
    }
    s
}

/// `s = s * x` needs the old `s` in each reverse iteration: one stack, reserved once.
#[reverse]
fn product(x: f64, n: usize) -> f64 {
    let mut s = 1.0;
    for _ in 0..n {
        s *= x;
    }
    s
}

#[test]
fn straight_line_code_allocates_nothing() {
    assert_eq!(allocations(|| straight_grad(0.3, 1.2)), 0);
    assert_eq!(allocations(|| straight_vjp(0.3, 1.2, 2.0)), 0);
}

#[test]
fn accumulation_loops_allocate_nothing() {
    assert_eq!(allocations(|| accumulate_grad(0.3, 2.0, 10_000)), 0);
    assert_eq!(
        accumulate_grad(0.5, 2.0, 4),
        (0.5 * 2.0 * 4.0 + 0.5 * 6.0, (14.0, 2.0))
    );
    assert_eq!(allocations(|| accumulate_in_branches_grad(0.3, 10_000)), 0);
    let (_, d) = accumulate_in_branches_grad(0.3, 7);
    // i = 0, 3, 6 add x; the 4 others subtract 2x: 1 + 3 - 8.
    assert_eq!(d, -4.0);
}

#[test]
fn a_loop_that_needs_its_values_allocates_one_reserved_stack() {
    assert_eq!(allocations(|| product_grad(0.9, 10_000)), 1);
    assert_eq!(allocations(|| product_grad(0.9, 0)), 0);
    let (v, d) = product_grad(0.9, 5);
    assert_eq!(v, 0.9f64.powi(5));
    assert!((d - 5.0 * 0.9f64.powi(4)).abs() < 1e-15);
}

#[reverse]
fn rosenbrock(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() - 1 {
        let a = x[i + 1] - x[i] * x[i];
        let b = 1.0 - x[i];
        s += 100.0 * a * a + b * b;
    }
    s
}

#[test]
fn gradients_into_caller_buffers_allocate_nothing() {
    let x: Vec<f64> = (0..10_000).map(|i| (i as f64 * 0.01).sin()).collect();
    let mut dx = vec![0.0; x.len()];
    assert_eq!(allocations(|| rosenbrock_grad_into(&x, &mut dx)), 0);
    // `f_grad` allocates exactly the returned gradient.
    assert_eq!(allocations(|| rosenbrock_grad(&x)), 1);
    assert_eq!(rosenbrock_grad(&x).1, dx);
}

#[reverse]
fn bump(s: f64, x: f64, k: f64) -> f64 {
    (s * x).sin() + k * x
}

/// A call in a loop: in joint mode the caller keeps one float per iteration (the old `s`,
/// which the call reads), the callee nothing.
#[reverse]
fn calls_in_a_loop(x: f64, n: usize) -> f64 {
    let mut s = 0.0;
    for k in 0..n {
        s = bump(s, x, k as f64);
    }
    s
}

/// The derivative of `s` through the loop: `(s, ds/dx)` propagated forward.
fn calls_in_a_loop_forward(x: f64, n: usize) -> (f64, f64) {
    let (mut s, mut ds) = (0.0f64, 0.0f64);
    for k in 0..n {
        let c = (s * x).cos();
        (s, ds) = ((s * x).sin() + k as f64 * x, c * (ds * x + s) + k as f64);
    }
    (s, ds)
}

#[reverse]
fn sum_of_calls(x: &[f64], c: f64) -> f64 {
    let mut total = 0.0;
    for &v in x.iter() {
        total += bump(v, c, 1.0);
    }
    total
}

#[test]
fn calls_allocate_nothing_of_their_own() {
    assert_eq!(allocations(|| bump_grad(0.3, 1.2, 2.0)), 0);
    // One reserved stack for the caller's loop, nothing per call.
    assert_eq!(allocations(|| calls_in_a_loop_grad(0.7, 10_000)), 1);
    let (v, d) = calls_in_a_loop_grad(0.7, 25);
    let (want_v, want_d) = calls_in_a_loop_forward(0.7, 25);
    assert_eq!(v, want_v);
    assert!(
        (d - want_d).abs() < 1e-12 * want_d.abs().max(1.0),
        "{d} vs {want_d}"
    );
    // Arguments read from a parameter are recomputed, not kept: only the gradient buffer.
    let x: Vec<f64> = (0..10_000).map(|i| (i as f64 * 0.01).sin()).collect();
    let mut dx = vec![0.0; x.len()];
    assert_eq!(allocations(|| sum_of_calls_grad_into(&x, 0.4, &mut dx)), 0);
}

/// A stack large enough to keep (64 KiB and more) is reused by the next gradient on the
/// thread: the second call allocates nothing.
#[test]
fn a_large_stack_is_reused_by_the_next_gradient() {
    let first = product_grad(0.9, 10_000);
    assert_eq!(allocations(|| product_grad(0.9, 10_000)), 0);
    assert_eq!(product_grad(0.9, 10_000), first);
    // A smaller one takes the kept block too; a larger one allocates its own.
    assert_eq!(allocations(|| product_grad(0.9, 9_000)), 0);
    assert_eq!(allocations(|| product_grad(0.9, 20_000)), 1);
    ad_runtime::release_stash_memory();
    assert_eq!(allocations(|| product_grad(0.9, 10_000)), 1);
}

/// `Σ_j c_j t^j` with the powers carried by the loop, squared: the reverse loop needs `dr`,
/// known only after the loop, so it cannot fuse; it runs forwards and multiplies the powers
/// again instead of keeping them (`reverse/replay.rs`).
#[reverse]
fn polynomial_residual(c: &[f64], y: f64, n: usize) -> f64 {
    let t = 1.0 - 1.0 / n as f64;
    let mut r = y;
    let mut power = 1.0;
    for &coefficient in c {
        r -= coefficient * power;
        power *= t;
    }
    r * r
}

#[test]
fn powers_carried_by_a_loop_are_replayed_not_kept() {
    let c: Vec<f64> = (0..10_000).map(|j| (j as f64 * 0.37).sin()).collect();
    let mut dc = vec![0.0; c.len()];
    let mut dy = 0.0;
    assert_eq!(
        allocations(|| dy = polynomial_residual_grad_into(&c, 0.3, 4, &mut dc).1),
        0
    );
    // d/dc_j (y − Σ c_j t^j)² = −2 r t^j, d/dy = 2 r.
    let t: f64 = 0.75;
    let r = 0.3
        - (c.iter().enumerate())
            .map(|(j, v)| v * t.powi(j as i32))
            .sum::<f64>();
    assert!((dy - 2.0 * r).abs() < 1e-12, "{dy} vs {}", 2.0 * r);
    for (j, d) in dc.iter().enumerate().take(60) {
        let want = -2.0 * r * t.powi(j as i32);
        assert!(
            (d - want).abs() < 1e-12 * want.abs().max(1e-300) + 1e-300,
            "{j}: {d} vs {want}"
        );
    }
    let (value, _) = polynomial_residual_grad(&c, 0.3, 4);
    assert_eq!(value, polynomial_residual(&c, 0.3, 4));
}

/// Threads keep their own stash memory: gradients computed on several threads at once agree
/// with the same gradients computed on this one, and a thread's kept blocks go with it.
#[test]
fn threads_keep_their_own_stash_memory() {
    let want: Vec<(f64, f64)> = (0..4).map(|k| product_grad(0.999, 20_000 + k)).collect();
    let handles: Vec<_> = (0..4)
        .map(|k| {
            std::thread::spawn(move || {
                // Twice: the second reuses what the first kept.
                let first = product_grad(0.999, 20_000 + k);
                let second = product_grad(0.999, 20_000 + k);
                assert_eq!(first, second);
                first
            })
        })
        .collect();
    for (handle, want) in handles.into_iter().zip(want) {
        assert_eq!(handle.join().expect("no panic"), want);
    }
}

/// A container made in every iteration (the user's: one allocation each), whose reverse needs
/// its adjoint buffer: the buffer is made once per gradient, in the allocation the previous
/// iteration gave back.
#[allow(
    clippy::needless_range_loop,
    reason = "index loops, as the row's elements pair up from both ends"
)]
#[reverse]
fn rows_made_per_iteration(x: &[f64], width: usize) -> f64 {
    let mut total = 0.0;
    for &xi in x {
        let mut row = vec![0.0; width];
        for j in 0..width {
            row[j] = xi * (j as f64 + 1.0);
        }
        let mut s = 0.0;
        for j in 0..width {
            s += row[j] * row[width - 1 - j];
        }
        total += s.sin();
    }
    total
}

#[test]
fn adjoint_buffers_of_per_iteration_containers_are_made_once() {
    let x: Vec<f64> = (0..100).map(|i| 0.01 * i as f64).collect();
    let primal = allocations(|| rows_made_per_iteration(&x, 4));
    assert_eq!(primal, 100);
    // The rows (100), the gradient (1), one adjoint buffer (1): not one per row.
    let gradient = allocations(|| rows_made_per_iteration_grad(&x, 4));
    assert!(gradient <= primal + 3, "{gradient} allocations");
    let (value, dx) = rows_made_per_iteration_grad(&x, 4);
    assert_eq!(value, rows_made_per_iteration(&x, 4));
    // d/dx_i sin(Σ_j (j+1)(4−j) x_i²) = cos(20 x_i²) · 40 x_i.
    for (i, d) in dx.iter().enumerate() {
        let xi = x[i];
        let want = (20.0 * xi * xi).cos() * 40.0 * xi;
        assert!((d - want).abs() < 1e-12, "{i}: {d} vs {want}");
    }
}
