//! Draws the plots of docs/performance.md, the gradient's time over the primal's against the
//! problem's size, ours next to the hand-written adjoint and the peers, from the medians of
//! the last `cargo bench` run of each problem: `docs/rosenbrock-scaling.svg` (against n),
//! `docs/ode-scaling.svg` (against n, s = 10) and `docs/gmm-scaling.svg` (against d, K = 10).
//! A plot whose bench has not run is skipped.
//!
//! Run: `cargo bench --bench rosenbrock --bench ode --bench gmm && cargo run --release
//! --example plot_scaling`.

use plotters::prelude::*;

#[path = "../benches/support/mod.rs"]
mod support;

/// The plotted variants: criterion's function name, the legend, the colour.
const SERIES: [(&str, &str, RGBColor); 7] = [
    ("grad", "#[reverse] f_grad", RGBColor(0, 90, 200)),
    (
        "grad_into",
        "#[reverse] f_grad_into",
        RGBColor(90, 170, 230),
    ),
    ("hand", "hand-written adjoint", RGBColor(0, 150, 60)),
    (
        "echidna_tape",
        "echidna, recorded tape",
        RGBColor(200, 110, 0),
    ),
    ("echidna_grad", "echidna::grad", RGBColor(220, 50, 40)),
    ("easy_ml", "easy-ml WengertList", RGBColor(130, 60, 160)),
    (
        "num_dual",
        "num-dual (n forward passes)",
        RGBColor(120, 120, 120),
    ),
];

/// One plot: a bench group, its parameters with their x coordinates, the axes and the target.
struct Plot {
    group: &'static str,
    /// (x, criterion's parameter name).
    sizes: Vec<(f64, String)>,
    caption: &'static str,
    x_desc: &'static str,
    x_range: std::ops::Range<f64>,
    y_range: std::ops::Range<f64>,
    /// A horizontal line: the target for t_grad / t_primal.
    target: Option<(f64, &'static str)>,
    file: &'static str,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let plots = [
        Plot {
            group: "rosenbrock",
            sizes: [10, 1_000, 100_000, 1_000_000]
                .map(|n| (n as f64, n.to_string()))
                .to_vec(),
            caption: "Rosenbrock: gradient time / primal time",
            x_desc: "n (dimensions)",
            x_range: 5.0..2e6,
            y_range: 0.5..5000.0,
            target: Some((2.0, "target: 2x")),
            file: "rosenbrock-scaling.svg",
        },
        Plot {
            group: "ode",
            sizes: [10, 100, 1_000, 10_000]
                .map(|n| (n as f64, n.to_string()))
                .to_vec(),
            caption: "RK4 ODE (s = 10): gradient time / primal time",
            x_desc: "n (dimensions)",
            x_range: 5.0..2e4,
            y_range: 1.0..500.0,
            target: Some((4.0, "target: 4x")),
            file: "ode-scaling.svg",
        },
        Plot {
            group: "gmm",
            sizes: [2, 10, 20, 64]
                .map(|d| (d as f64, format!("d{d}_K10")))
                .to_vec(),
            caption: "GMM (K = 10, N = 1000): gradient time / primal time",
            x_desc: "d (dimensions of a point)",
            x_range: 1.5..100.0,
            y_range: 0.5..200.0,
            target: None,
            file: "gmm-scaling.svg",
        },
    ];
    let mut drawn = 0;
    for plot in &plots {
        drawn += usize::from(draw(plot)?);
    }
    if drawn == 0 {
        return Err(
            "no measurements: run `cargo bench --bench rosenbrock --bench ode --bench gmm` first"
                .into(),
        );
    }
    Ok(())
}

/// Draws `plot`; whether its bench had run.
fn draw(plot: &Plot) -> Result<bool, Box<dyn std::error::Error>> {
    let ratio = |function: &str, parameter: &str| {
        let primal = support::median_ns(plot.group, "primal", parameter)?;
        Some(support::median_ns(plot.group, function, parameter)? / primal)
    };
    if plot.sizes.iter().all(|(_, p)| ratio("grad", p).is_none()) {
        eprintln!("skipped {}: no measurements", plot.file);
        return Ok(false);
    }
    let path = format!("{}/docs/{}", env!("CARGO_MANIFEST_DIR"), plot.file);
    let root = SVGBackend::new(&path, (760, 460)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(plot.caption, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(56)
        .build_cartesian_2d(
            plot.x_range.clone().log_scale(),
            plot.y_range.clone().log_scale(),
        )?;
    chart
        .configure_mesh()
        .x_desc(plot.x_desc)
        .y_desc("t_grad / t_primal")
        .x_label_formatter(&|n| format!("{n:.0e}"))
        .draw()?;
    if let Some((target, label)) = plot.target {
        let (start, end) = (plot.x_range.start, plot.x_range.end);
        chart
            .draw_series(LineSeries::new(
                [(start, target), (end, target)],
                ShapeStyle::from(&BLACK.mix(0.4)).stroke_width(1),
            ))?
            .label(label)
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK.mix(0.4)));
    }
    for (function, label, color) in SERIES {
        let points: Vec<(f64, f64)> = (plot.sizes.iter())
            .filter_map(|(x, parameter)| Some((*x, ratio(function, parameter)?)))
            .collect();
        if points.is_empty() {
            continue;
        }
        let style = ShapeStyle::from(&color).stroke_width(2);
        chart
            .draw_series(LineSeries::new(points.clone(), style))?
            .label(label)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
        chart.draw_series(
            points
                .into_iter()
                .map(|p| Circle::new(p, 3, color.filled())),
        )?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.3))
        .draw()?;
    root.present()?;
    eprintln!("wrote {path}");
    Ok(true)
}
