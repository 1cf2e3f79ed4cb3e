//! SVG and PNG plots: throughput vs size per algorithm, and vs thread count.

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::report::Report;

/// Where Debian's fonts-dejavu-core puts the font the plots are labelled with.
pub const FONT: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

const COLORS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(127, 127, 127),
];

type DynErr = Box<dyn std::error::Error>;

fn register_font() -> Result<(), DynErr> {
    let bytes: &'static [u8] = Box::leak(std::fs::read(FONT)?.into_boxed_slice());
    plotters::style::register_font("sans-serif", FontStyle::Normal, bytes)
        .map_err(|_| "font not usable")?;
    Ok(())
}

fn throughput<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, r: &Report) -> Result<(), DynErr>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let algs = ["hmac-sha256", "aes-cmac", "aes-gmac"];
    let areas = root.split_evenly((algs.len(), 1));
    for (alg, area) in algs.iter().zip(areas.iter()) {
        let cells: Vec<_> = r
            .single_core
            .iter()
            .filter(|c| c.algorithm == *alg)
            .collect();
        if cells.is_empty() {
            continue;
        }
        let xmax = cells.iter().map(|c| c.size).max().unwrap_or(64) as f64;
        let ymax = cells
            .iter()
            .map(|c| c.sign_gbps.max(c.size as f64 / c.memcpy_ns))
            .fold(0.1, f64::max);
        let mut chart = ChartBuilder::on(area)
            .caption(
                format!("{alg}: single-core signing throughput"),
                ("sans-serif", 18),
            )
            .margin(8)
            .x_label_area_size(30)
            .y_label_area_size(50)
            .build_cartesian_2d(
                (64f64..xmax.max(128.0)).log_scale(),
                (0.001f64..ymax * 1.5).log_scale(),
            )?;
        chart
            .configure_mesh()
            .x_desc("PDU size (bytes)")
            .y_desc("GB/s")
            .x_label_formatter(&|v| crate::report::human_size(*v as usize))
            .draw()?;
        let mut backends: Vec<&str> = cells.iter().map(|c| c.backend).collect();
        backends.dedup();
        for (i, b) in backends.iter().enumerate() {
            let color = COLORS[i % COLORS.len()];
            let pts: Vec<(f64, f64)> = cells
                .iter()
                .filter(|c| c.backend == *b)
                .map(|c| (c.size as f64, c.sign_gbps))
                .collect();
            chart
                .draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))?
                .label(format!("sign ({b})"))
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2))
                });
            chart.draw_series(pts.iter().map(|&p| Circle::new(p, 3, color.filled())))?;
        }
        let first = backends.first().copied().unwrap_or_default();
        let copy: Vec<(f64, f64)> = cells
            .iter()
            .filter(|c| c.backend == first)
            .map(|c| (c.size as f64, c.size as f64 / c.memcpy_ns))
            .collect();
        chart
            .draw_series(LineSeries::new(copy, BLACK.stroke_width(1)))?
            .label("memcpy")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], BLACK));
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()?;
    }
    root.present()?;
    Ok(())
}

fn scaling<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, r: &Report) -> Result<(), DynErr>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let tmax = r
        .scaling
        .iter()
        .map(|s| s.threads)
        .max()
        .unwrap_or(1)
        .max(2) as f64;
    let ymax = r.scaling.iter().map(|s| s.gbps).fold(0.1, f64::max);
    let mut chart = ChartBuilder::on(root)
        .caption("Signing throughput vs threads", ("sans-serif", 18))
        .margin(8)
        .x_label_area_size(30)
        .y_label_area_size(50)
        .build_cartesian_2d(1f64..tmax, 0f64..ymax * 1.15)?;
    chart
        .configure_mesh()
        .x_desc("threads")
        .y_desc("GB/s (aggregate)")
        .draw()?;
    let mut series: Vec<(&str, &str, usize)> = r
        .scaling
        .iter()
        .map(|s| (s.algorithm, s.backend, s.size))
        .collect();
    series.dedup();
    for (i, (a, b, size)) in series.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        let pts: Vec<(f64, f64)> = r
            .scaling
            .iter()
            .filter(|s| s.algorithm == *a && s.backend == *b && s.size == *size)
            .map(|s| (s.threads as f64, s.gbps))
            .collect();
        chart
            .draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))?
            .label(format!("{a} ({b}, {})", crate::report::human_size(*size)))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2))
            });
        chart.draw_series(pts.iter().map(|&p| Circle::new(p, 3, color.filled())))?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}

/// Writes throughput.{svg,png} and, when there is scaling data, scaling.{svg,png}
/// into `dir`. Returns the files written.
pub fn write_all(dir: &Path, r: &Report) -> Result<Vec<PathBuf>, DynErr> {
    register_font()?;
    std::fs::create_dir_all(dir)?;
    let mut out = Vec::new();
    if !r.single_core.is_empty() {
        let (svg, png) = (dir.join("throughput.svg"), dir.join("throughput.png"));
        throughput(&SVGBackend::new(&svg, (900, 1100)).into_drawing_area(), r)?;
        throughput(
            &BitMapBackend::new(&png, (900, 1100)).into_drawing_area(),
            r,
        )?;
        out.extend([svg, png]);
    }
    if !r.scaling.is_empty() {
        let (svg, png) = (dir.join("scaling.svg"), dir.join("scaling.png"));
        scaling(&SVGBackend::new(&svg, (900, 500)).into_drawing_area(), r)?;
        scaling(&BitMapBackend::new(&png, (900, 500)).into_drawing_area(), r)?;
        out.extend([svg, png]);
    }
    Ok(out)
}
