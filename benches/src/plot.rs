//! SVG and PNG plots: throughput vs size per signing algorithm and per
//! encryption cipher, and vs thread count.

use std::path::{Path, PathBuf};

use plotters::coord::combinators::{LogCoord, WithKeyPoints};
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

/// Width of the panel beside each chart that holds its legend, so that no
/// legend covers a line.
const LEGEND_WIDTH: u32 = 230;

/// The run's CPU and date, for the titles.
fn machine(r: &Report) -> String {
    format!("{}, {}", r.host.cpu_model, r.date)
}

/// Splits `area` into the chart's part and a legend panel on its right.
fn with_legend_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
) -> (DrawingArea<DB, Shift>, DrawingArea<DB, Shift>) {
    let (w, _) = area.dim_in_pixel();
    area.split_horizontally(w.saturating_sub(LEGEND_WIDTH))
}

/// Draws one legend entry per (label, colour, line width) into `panel`.
fn legend<DB: DrawingBackend>(
    panel: &DrawingArea<DB, Shift>,
    entries: &[(String, RGBColor, u32)],
) -> Result<(), DynErr>
where
    DB::ErrorType: 'static,
{
    let style = ("sans-serif", 14).into_font().color(&BLACK);
    for (i, (label, color, width)) in entries.iter().enumerate() {
        let y = 40 + 22 * i as i32;
        panel.draw(&PathElement::new(
            vec![(8, y), (32, y)],
            color.stroke_width(*width),
        ))?;
        panel.draw(&Text::new(label.clone(), (38, y - 8), style.clone()))?;
    }
    Ok(())
}

/// The x axis of a size plot: logarithmic, with a tick at each measured size,
/// labelled in binary units (64 B, 1 KiB, 64 KiB, 1 MiB).
fn size_axis(sizes: &[usize]) -> WithKeyPoints<LogCoord<f64>> {
    let lo = sizes.first().copied().unwrap_or(64) as f64;
    let hi = sizes.last().copied().unwrap_or(128).max(2 * lo as usize) as f64;
    (lo / 1.25..hi * 1.25)
        .log_scale()
        .with_key_points(sizes.iter().map(|&s| s as f64).collect())
}

/// One measured point of a size plot.
struct SizePoint {
    backend: &'static str,
    size: usize,
    gbps: f64,
    copy_gbps: f64,
}

/// One panel per (caption, points): throughput vs size, a line per backend
/// (labelled `{op} (backend)`) and memcpy of the same bytes.
fn size_panels<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    op: &str,
    x_desc: &str,
    panels: &[(&str, Vec<SizePoint>)],
) -> Result<(), DynErr>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let root = root.titled(title, ("sans-serif", 18))?;
    let areas = root.split_evenly((panels.len().max(1), 1));
    for ((caption, cells), area) in panels.iter().zip(areas.iter()) {
        if cells.is_empty() {
            continue;
        }
        let (area, panel) = with_legend_panel(area);
        let mut sizes: Vec<usize> = cells.iter().map(|c| c.size).collect();
        sizes.sort_unstable();
        sizes.dedup();
        // Slow tiers (portable CMAC, a debug build) reach far below 1 MB/s.
        let ymin = cells
            .iter()
            .map(|c| c.gbps)
            .filter(|&g| g > 0.0)
            .fold(0.001, f64::min);
        let ymax = cells
            .iter()
            .map(|c| c.gbps.max(c.copy_gbps))
            .fold(0.1, f64::max);
        let mut chart = ChartBuilder::on(&area)
            .caption(*caption, ("sans-serif", 16))
            .margin(8)
            .x_label_area_size(30)
            .y_label_area_size(50)
            .build_cartesian_2d(size_axis(&sizes), (ymin / 1.5..ymax * 1.5).log_scale())?;
        chart
            .configure_mesh()
            .x_desc(x_desc)
            .y_desc("GB/s")
            .x_label_formatter(&|v| crate::report::human_size(*v as usize))
            .draw()?;
        let mut backends: Vec<&str> = cells.iter().map(|c| c.backend).collect();
        backends.dedup();
        let mut entries = Vec::new();
        for (i, b) in backends.iter().enumerate() {
            let color = COLORS[i % COLORS.len()];
            let pts: Vec<(f64, f64)> = cells
                .iter()
                .filter(|c| c.backend == *b)
                .map(|c| (c.size as f64, c.gbps))
                .collect();
            chart.draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))?;
            chart.draw_series(pts.iter().map(|&p| Circle::new(p, 3, color.filled())))?;
            entries.push((format!("{op} ({b})"), color, 2));
        }
        let first = backends.first().copied().unwrap_or_default();
        let copy: Vec<(f64, f64)> = cells
            .iter()
            .filter(|c| c.backend == first)
            .map(|c| (c.size as f64, c.copy_gbps))
            .collect();
        chart.draw_series(LineSeries::new(copy, BLACK.stroke_width(1)))?;
        entries.push(("memcpy".into(), BLACK, 1));
        legend(&panel, &entries)?;
    }
    root.present()?;
    Ok(())
}

fn throughput<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, r: &Report) -> Result<(), DynErr>
where
    DB::ErrorType: 'static,
{
    let panels: Vec<(&str, Vec<SizePoint>)> = ["hmac-sha256", "aes-cmac", "aes-gmac"]
        .into_iter()
        .map(|alg| {
            let pts = r
                .single_core
                .iter()
                .filter(|c| c.algorithm == alg)
                .map(|c| SizePoint {
                    backend: c.backend,
                    size: c.size,
                    gbps: c.sign_gbps,
                    copy_gbps: c.size as f64 / c.memcpy_ns,
                })
                .collect();
            (alg, pts)
        })
        .collect();
    size_panels(
        root,
        &format!("Single-core signing throughput: {}", machine(r)),
        "sign",
        "PDU size",
        &panels,
    )
}

/// The ciphers in the order the plots show them.
const CIPHERS: [&str; 4] = ["aes-128-gcm", "aes-256-gcm", "aes-128-ccm", "aes-256-ccm"];

fn encryption<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, r: &Report) -> Result<(), DynErr>
where
    DB::ErrorType: 'static,
{
    let panels: Vec<(&str, Vec<SizePoint>)> = CIPHERS
        .into_iter()
        .map(|c| {
            let pts = r
                .encryption
                .single_core
                .iter()
                .filter(|e| e.cipher == c)
                .map(|e| SizePoint {
                    backend: e.backend,
                    size: e.size,
                    gbps: e.encrypt_gbps,
                    copy_gbps: e.size as f64 / e.memcpy_ns,
                })
                .collect();
            (c, pts)
        })
        .filter(|(_, pts): &(&str, Vec<SizePoint>)| !pts.is_empty())
        .collect();
    size_panels(
        root,
        &format!("Single-core encryption throughput: {}", machine(r)),
        "encrypt",
        "SMB2 message size",
        &panels,
    )
}

/// One line of a threads plot: its label and (threads, GB/s) points.
type ThreadSeries = (String, Vec<(usize, f64)>);

fn threads_plot<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    series: &[ThreadSeries],
) -> Result<(), DynErr>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let pts = series.iter().flat_map(|s| s.1.iter());
    let tmax = pts.clone().map(|p| p.0).max().unwrap_or(1).max(2);
    let ymax = pts.map(|p| p.1).fold(0.1, f64::max);
    let (area, panel) = with_legend_panel(root);
    let mut chart = ChartBuilder::on(&area)
        .caption(title, ("sans-serif", 16))
        .margin(8)
        .x_label_area_size(30)
        .y_label_area_size(50)
        .build_cartesian_2d(1usize..tmax, 0f64..ymax * 1.15)?;
    chart
        .configure_mesh()
        .x_desc("threads")
        .y_desc("GB/s (aggregate)")
        .x_labels(tmax) // whole thread counts only
        .draw()?;
    let mut entries = Vec::new();
    for (i, (label, pts)) in series.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        chart.draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))?;
        chart.draw_series(pts.iter().map(|&p| Circle::new(p, 3, color.filled())))?;
        entries.push((label.clone(), color, 2));
    }
    legend(&panel, &entries)?;
    root.present()?;
    Ok(())
}

/// Groups `(name, backend, size, threads, gbps)` rows into one series per
/// (name, backend, size), in first-seen order.
fn series_of(
    rows: impl Iterator<Item = (&'static str, &'static str, usize, usize, f64)>,
) -> Vec<ThreadSeries> {
    let mut keys: Vec<(&str, &str, usize)> = Vec::new();
    let mut pts: Vec<Vec<(usize, f64)>> = Vec::new();
    for (a, b, size, t, g) in rows {
        let i = keys
            .iter()
            .position(|k| *k == (a, b, size))
            .unwrap_or_else(|| {
                keys.push((a, b, size));
                pts.push(Vec::new());
                keys.len() - 1
            });
        pts[i].push((t, g));
    }
    keys.into_iter()
        .zip(pts)
        .map(|((a, b, size), p)| (format!("{a} ({b}, {})", crate::report::human_size(size)), p))
        .collect()
}

fn scaling<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, r: &Report) -> Result<(), DynErr>
where
    DB::ErrorType: 'static,
{
    let series = series_of(
        r.scaling
            .iter()
            .map(|s| (s.algorithm, s.backend, s.size, s.threads, s.gbps)),
    );
    threads_plot(
        root,
        &format!("Signing throughput vs threads: {}", machine(r)),
        &series,
    )
}

fn encryption_scaling<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    r: &Report,
) -> Result<(), DynErr>
where
    DB::ErrorType: 'static,
{
    let series = series_of(
        r.encryption
            .scaling
            .iter()
            .map(|s| (s.cipher, s.backend, s.size, s.threads, s.gbps)),
    );
    threads_plot(
        root,
        &format!("Encryption throughput vs threads: {}", machine(r)),
        &series,
    )
}

/// Writes throughput.{svg,png} and, when there is scaling data, scaling.{svg,png}
/// into `dir`; for encryption rows encryption.{svg,png} and
/// encryption-scaling.{svg,png}. Returns the files written.
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
    let e = &r.encryption;
    if !e.single_core.is_empty() {
        let (svg, png) = (dir.join("encryption.svg"), dir.join("encryption.png"));
        let panels = CIPHERS
            .iter()
            .filter(|c| e.single_core.iter().any(|x| x.cipher == **c))
            .count() as u32;
        let dim = (900, 100 + 330 * panels.max(1));
        encryption(&SVGBackend::new(&svg, dim).into_drawing_area(), r)?;
        encryption(&BitMapBackend::new(&png, dim).into_drawing_area(), r)?;
        out.extend([svg, png]);
    }
    if !e.scaling.is_empty() {
        let (svg, png) = (
            dir.join("encryption-scaling.svg"),
            dir.join("encryption-scaling.png"),
        );
        encryption_scaling(&SVGBackend::new(&svg, (900, 500)).into_drawing_area(), r)?;
        encryption_scaling(&BitMapBackend::new(&png, (900, 500)).into_drawing_area(), r)?;
        out.extend([svg, png]);
    }
    Ok(out)
}
