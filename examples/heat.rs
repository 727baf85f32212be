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
//! `cargo run --release --example heat` (about 15 s; `-- CELLS STEPS` to change the size);
//! `cargo run --release --example heat -- sweep` measures 10^3 to 10^5 steps and draws
//! `docs/checkpoint-heat.svg` (about a minute).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use ad_runtime::checkpoint::forward_steps;
use ad_runtime::reverse;

/// Counts the iterations run, forward sweep and recomputations alike (a side effect the
/// generated code keeps: a method of a static, on no differentiated value).
static STEPS: AtomicUsize = AtomicUsize::new(0);

/// `u_t = k u_xx - 0.001 u^3` on a grid of unit spacing with zero boundaries, explicit
/// steps, and the loss `sum(u^2)` at the end; the loop marked with `snapshots` if given.
macro_rules! heat {
    ($name:ident $(, $snapshots:literal)?) => {
        #[reverse]
        fn $name(u0: &[f64], k: f64, steps: usize) -> f64 {
            let n = u0.len();
            let mut u = u0.to_vec();
            $(#[checkpoint(snapshots = $snapshots)])?
            for _ in 0..steps {
                STEPS.fetch_add(1, Ordering::Relaxed);
                let mut next = vec![0.0; n];
                for i in 0..n {
                    let left = if i > 0 { u[i - 1] } else { 0.0 };
                    let right = if i + 1 < n { u[i + 1] } else { 0.0 };
                    next[i] = u[i] + k * (left - 2.0 * u[i] + right) - 0.001 * u[i] * u[i] * u[i];
                }
                u = next;
            }
            u.iter().map(|v| v * v).sum()
        }
    };
}

heat!(heat);
heat!(heat_8, 8);
heat!(heat_16, 16);
heat!(heat_64, 64);

type Gradient = fn(&[f64], f64, usize) -> (f64, (Vec<f64>, f64));

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

/// Runs `f`, returning its value, its time, the peak heap memory it added (MB) and the
/// loop iterations it ran.
fn measured<T>(f: impl FnOnce() -> T) -> (T, f64, f64, usize) {
    let base = IN_USE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    STEPS.store(0, Ordering::Relaxed);
    let start = Instant::now();
    let value = f();
    let seconds = start.elapsed().as_secs_f64();
    let peak = PEAK.load(Ordering::Relaxed) - base;
    (
        value,
        seconds,
        peak as f64 / 1e6,
        STEPS.load(Ordering::Relaxed),
    )
}

/// The primal, [`measured`], its fastest of five runs: the ratios' denominator is short, and
/// this machine's timings drift.
fn fastest_primal(u0: &[f64], k: f64, steps: usize) -> (f64, f64, f64, usize) {
    (0..5)
        .map(|_| measured(|| heat(u0, k, steps)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap_or_else(|| measured(|| heat(u0, k, steps)))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    if std::env::args().nth(1).as_deref() == Some("sweep") {
        return sweep();
    }
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
    println!("| | time | x primal | peak heap | iterations run (predicted) |");
    println!("|---|---|---|---|---|");
    let (value, primal, primal_mb, run) = fastest_primal(&u0, k, steps);
    println!("| primal | {primal:.3} s | 1.0 | {primal_mb:.3} MB | {run} |");
    let marked: [(usize, Gradient); 3] = [(8, heat_8_grad), (16, heat_16_grad), (64, heat_64_grad)];
    let mut gradients = Vec::new();
    for (snapshots, gradient) in marked {
        let ((v, g), seconds, mb, run) = measured(|| gradient(&u0, k, steps));
        assert_eq!(
            v, value,
            "the checkpointed gradient's value is the primal's"
        );
        // The forward sweep, the schedule's advances, and one recorded run per iteration.
        let predicted = 2 * steps as u128 + forward_steps(steps, snapshots - 1);
        assert_eq!(run as u128, predicted);
        println!(
            "| gradient, {snapshots} snapshots | {seconds:.3} s | {:.1} | {mb:.3} MB | {run} ({predicted}, {:.2} per iteration) |",
            seconds / primal,
            run as f64 / steps as f64,
        );
        gradients.push(g);
    }
    assert!(
        gradients.windows(2).all(|w| w[0] == w[1]),
        "the snapshots change the cost only"
    );
    let (du, dk) = &gradients[0];
    println!(
        "\ndL/dk = {dk:.6e}, |dL/du0| = {:.6e}",
        du.iter().map(|d| d * d).sum::<f64>().sqrt()
    );

    // The plain gradient keeps what every iteration's reverse reads: at a tenth of the
    // iterations it shows what the whole would take, and gives the checkpointed ones
    // something to equal.
    let short = (steps / 10).max(1);
    let (plain, seconds, mb, _) = measured(|| heat_grad(&u0, k, short));
    let (_, short_primal, _, _) = fastest_primal(&u0, k, short);
    for (_, gradient) in marked {
        assert_eq!(
            plain,
            gradient(&u0, k, short),
            "checkpointing changes nothing but the cost"
        );
    }
    println!(
        "\n| unmarked gradient, {short} steps | {seconds:.3} s | {:.1} x primal | {mb:.1} MB |",
        seconds / short_primal,
    );
    println!(
        "\nThe unmarked gradient at {steps} steps would keep about {:.0} MB; the checkpointed ones equal it bitwise at {short} steps.",
        mb * steps as f64 / short as f64
    );
    Ok(())
}

/// Time over the primal's and peak heap memory against the number of steps, 1000 cells, for
/// the unmarked gradient (up to 10^4 steps) and each snapshot count: a table on standard
/// output, and the plot `docs/checkpoint-heat.svg`.
fn sweep() -> Result<(), Box<dyn std::error::Error>> {
    use plotters::prelude::*;
    let cells = 1000;
    let u0: Vec<f64> = (0..cells)
        .map(|i| 0.5 + 0.4 * (i as f64 * 0.006).sin())
        .collect();
    let k = 0.2;
    let lengths = [1_000, 3_000, 10_000, 30_000, 100_000];
    let variants: [(&str, Option<Gradient>, usize, RGBColor); 4] = [
        ("unmarked", Some(heat_grad), 10_000, RGBColor(220, 50, 40)),
        (
            "8 snapshots",
            Some(heat_8_grad),
            usize::MAX,
            RGBColor(90, 170, 230),
        ),
        (
            "16 snapshots",
            Some(heat_16_grad),
            usize::MAX,
            RGBColor(0, 90, 200),
        ),
        (
            "64 snapshots",
            Some(heat_64_grad),
            usize::MAX,
            RGBColor(0, 150, 60),
        ),
    ];
    let mut series: Vec<Vec<(f64, f64, f64)>> = vec![Vec::new(); variants.len()];
    println!("| steps | primal | unmarked | 8 snapshots | 16 snapshots | 64 snapshots |");
    println!("|---|---|---|---|---|---|");
    for &steps in &lengths {
        let (_, primal, primal_mb, _) = fastest_primal(&u0, k, steps);
        let mut row = format!("| {steps} | {:.1} ms, {primal_mb:.2} MB |", primal * 1e3);
        for (j, (_, gradient, max, _)) in variants.iter().enumerate() {
            match gradient {
                Some(gradient) if steps <= *max => {
                    let (_, seconds, mb, _) = measured(|| gradient(&u0, k, steps));
                    row += &format!(" {:.1}x, {mb:.2} MB |", seconds / primal);
                    series[j].push((steps as f64, seconds / primal, mb));
                }
                _ => row += " - |",
            }
        }
        println!("{row}");
    }
    let path = format!("{}/docs/checkpoint-heat.svg", env!("CARGO_MANIFEST_DIR"));
    let root = SVGBackend::new(&path, (1000, 420)).into_drawing_area();
    root.fill(&WHITE)?;
    let panels = root.split_evenly((1, 2));
    let axes = [
        ("time / primal time", 1.0..100.0, 1),
        ("peak heap (MB)", 0.01..10_000.0, 2),
    ];
    for (panel, (desc, range, field)) in panels.iter().zip(axes) {
        let mut chart = ChartBuilder::on(panel)
            .caption(
                format!("Heat equation, 1000 cells: {desc}"),
                ("sans-serif", 16),
            )
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(56)
            .build_cartesian_2d((500.0..200_000.0).log_scale(), range.log_scale())?;
        chart
            .configure_mesh()
            .x_desc("steps")
            .y_desc(desc)
            .x_label_formatter(&|n| format!("{n:.0e}"))
            .draw()?;
        for ((label, _, _, color), points) in variants.iter().zip(&series) {
            let points: Vec<(f64, f64)> = (points.iter())
                .map(|p| (p.0, if field == 1 { p.1 } else { p.2 }))
                .collect();
            let style = ShapeStyle::from(color).stroke_width(2);
            chart
                .draw_series(LineSeries::new(points.clone(), style))?
                .label(*label)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
            chart.draw_series(
                points
                    .into_iter()
                    .map(|p| Circle::new(p, 3, color.filled())),
            )?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK.mix(0.3))
            .draw()?;
    }
    root.present()?;
    eprintln!("wrote {path}");
    Ok(())
}
