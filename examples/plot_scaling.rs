//! Draws `docs/rosenbrock-scaling.svg`: the gradient's time over the primal's against n for
//! the Rosenbrock bench, ours next to the hand-written adjoint and the peers, from the medians
//! of the last `cargo bench --bench rosenbrock` run.
//!
//! Run: `cargo bench --bench rosenbrock && cargo run --release --example plot_scaling`.

use plotters::prelude::*;

#[path = "../benches/support/mod.rs"]
mod support;

const SIZES: [usize; 4] = [10, 1_000, 100_000, 1_000_000];

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

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/rosenbrock-scaling.svg");
    let ratio = |function: &str, n: usize| {
        let primal = support::median_ns("rosenbrock", "primal", &n.to_string())?;
        Some(support::median_ns("rosenbrock", function, &n.to_string())? / primal)
    };
    if ratio("grad", SIZES[0]).is_none() {
        return Err("no measurements: run `cargo bench --bench rosenbrock` first".into());
    }
    let root = SVGBackend::new(path, (760, 460)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Rosenbrock: gradient time / primal time",
            ("sans-serif", 20),
        )
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(56)
        .build_cartesian_2d((5.0..2e6).log_scale(), (0.5..5000.0).log_scale())?;
    chart
        .configure_mesh()
        .x_desc("n (dimensions)")
        .y_desc("t_grad / t_primal")
        .x_label_formatter(&|n| format!("{n:.0e}"))
        .draw()?;
    // The target: at most twice the primal, at every n.
    chart
        .draw_series(LineSeries::new(
            [(5.0, 2.0), (2e6, 2.0)],
            ShapeStyle::from(&BLACK.mix(0.4)).stroke_width(1),
        ))?
        .label("target: 2x")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK.mix(0.4)));
    for (function, label, color) in SERIES {
        let points: Vec<(f64, f64)> = SIZES
            .iter()
            .filter_map(|&n| Some((n as f64, ratio(function, n)?)))
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
    Ok(())
}
