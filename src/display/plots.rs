//! SVG plots of a search, drawn with plotters' SVG backend (text is left to the viewer's
//! fonts, so no font file is needed): the objective per trial and the learning curves, and the
//! helpers the other plots share. One hyperparameter against the objective is in
//! [`crate::display::hp_plot`], re-exported here.

use super::svg::Svg;
use crate::error::{Error, Result};
use crate::tuners::{Trial, TrialStatus};
use plotters::coord::Shift;
use plotters::prelude::*;

pub use super::hp_plot::{hyperparameter_names, hyperparameter_plot, varied_hyperparameters};

/// Width and height of the trial plots, in pixels.
pub const PLOT_SIZE: (u32, u32) = (720, 420);

/// Colours of the trials (Tableau 10), used in turn.
pub const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

pub(crate) const POINT: RGBColor = PALETTE[0];
pub(crate) const BEST: RGBColor = PALETTE[2];
const FAIL: RGBColor = PALETTE[3];
pub(crate) const FONT: &str = "sans-serif";

/// Most trials named in a legend; beyond that the legend is left out.
const MAX_LEGEND: usize = 20;

pub(crate) type DrawResult = std::result::Result<(), Box<dyn std::error::Error>>;

/// Draws on a white SVG canvas of `size` and returns the document.
pub(crate) fn render(
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> DrawResult,
) -> Result<Svg> {
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, size).into_drawing_area();
        root.fill(&WHITE).map_err(draw_error)?;
        draw(&root).map_err(draw_error)?;
        root.present().map_err(draw_error)?;
    }
    Ok(Svg::new(buf))
}

fn draw_error(e: impl std::fmt::Display) -> Error {
    Error::io(
        "(SVG plot in memory)",
        std::io::Error::other(format!("cannot draw the plot: {e}")),
    )
}

/// A legend sample: a small filled box of colour `c`.
pub(crate) fn legend_box(c: RGBColor) -> impl Fn((i32, i32)) -> Rectangle<(i32, i32)> {
    move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], c.filled())
}

/// `(lo, hi)` around the finite values of `vals`, padded by 5 % (a unit band when they are
/// all equal); `(0, 1)` when there is none.
pub(crate) fn padded_range(vals: impl IntoIterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = vals
        .into_iter()
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if !lo.is_finite() || !hi.is_finite() {
        return (0.0, 1.0);
    }
    let span = hi - lo;
    if span <= f64::EPSILON * hi.abs().max(1.0) {
        let pad = (hi.abs() * 0.1).max(1e-3);
        return (lo - pad, hi + pad);
    }
    (lo - span * 0.05, hi + span * 0.05)
}

/// `(lo, hi)` with 30 % more room on top, where the legend goes.
pub(crate) fn with_headroom((lo, hi): (f64, f64)) -> (f64, f64) {
    (lo, hi + (hi - lo) * 0.3)
}

/// The label of tick `x` on an axis of categories `0..names.len()`: the name at an integer
/// position, nothing between.
pub(crate) fn category_label(names: &[String], x: f64) -> String {
    let r = x.round();
    if (x - r).abs() > 1e-6 || r < 0.0 {
        return String::new();
    }
    names.get(r as usize).cloned().unwrap_or_default()
}

/// The objective of a trial when it has one: a completed trial's finite validation loss.
pub(crate) fn objective(t: &Trial) -> Option<f64> {
    t.score
        .filter(|s| s.is_finite() && t.status == TrialStatus::Completed)
}

/// The objective (validation loss) of each trial as a point, in the order given, with a
/// best-so-far step line; failed trials are crosses along the top.
pub fn objective_plot(trials: &[Trial]) -> Result<Svg> {
    let scored: Vec<(f64, f64)> = trials
        .iter()
        .enumerate()
        .filter_map(|(i, t)| objective(t).map(|s| (i as f64, s)))
        .collect();
    if scored.is_empty() {
        return Ok(Svg::message(
            "No completed trial with a validation loss yet.",
            PLOT_SIZE,
        ));
    }
    let failed: Vec<f64> = trials
        .iter()
        .enumerate()
        .filter(|(_, t)| t.status == TrialStatus::Failed)
        .map(|(i, _)| i as f64)
        .collect();
    let mut steps: Vec<(f64, f64)> = Vec::new();
    let mut best = f64::INFINITY;
    for &(x, y) in &scored {
        if best.is_finite() {
            steps.push((x, best));
        }
        best = best.min(y);
        steps.push((x, best));
    }
    if let Some(&(_, b)) = steps.last() {
        steps.push(((trials.len() as f64 - 1.0).max(0.0), b));
    }
    let ids: Vec<String> = trials.iter().map(|t| t.trial_id.clone()).collect();
    let (ylo, data_top) = padded_range(scored.iter().map(|p| p.1));
    let (_, yhi) = with_headroom((ylo, data_top));
    let top = data_top;
    let n = trials.len();
    render(PLOT_SIZE, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption("Objective per trial", (FONT, 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(64)
            .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), ylo..yhi)?;
        let fmt = |x: &f64| category_label(&ids, *x);
        chart
            .configure_mesh()
            .max_light_lines(2)
            .light_line_style(RGBColor(240, 240, 240))
            .bold_line_style(RGBColor(215, 215, 215))
            .label_style((FONT, 14))
            .axis_desc_style((FONT, 15))
            .disable_x_mesh()
            .x_labels(n.min(12) + 1)
            .x_label_formatter(&fmt)
            .x_desc("Trial")
            .y_desc("Validation loss")
            .draw()?;
        chart
            .draw_series(LineSeries::new(steps, BEST.stroke_width(2)))?
            .label("best so far")
            .legend(legend_box(BEST));
        chart
            .draw_series(scored.iter().map(|&p| Circle::new(p, 4, POINT.filled())))?
            .label("validation loss")
            .legend(legend_box(POINT));
        if !failed.is_empty() {
            chart
                .draw_series(
                    failed
                        .iter()
                        .map(|&x| Cross::new((x, top), 5, FAIL.stroke_width(2))),
                )?
                .label("failed")
                .legend(legend_box(FAIL));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.3))
            .label_font((FONT, 13))
            .draw()?;
        Ok(())
    })
}

struct Curve {
    label: String,
    color: RGBColor,
    train: Vec<(f64, f64)>,
    val: Vec<(f64, f64)>,
}

/// Training (faint line) and validation (solid line with a dot per epoch) loss per epoch,
/// one colour per trial.
pub fn learning_curves_plot(trials: &[Trial]) -> Result<Svg> {
    let curves: Vec<Curve> = trials
        .iter()
        .enumerate()
        .map(|(i, t)| Curve {
            label: format!("trial {}", t.trial_id),
            color: PALETTE[i % PALETTE.len()],
            train: t
                .history
                .iter()
                .filter(|r| r.train.loss.is_finite())
                .map(|r| (r.epoch as f64, r.train.loss))
                .collect(),
            val: t
                .history
                .iter()
                .filter_map(|r| r.val.map(|v| (r.epoch as f64, v.loss)))
                .filter(|p| p.1.is_finite())
                .collect(),
        })
        .filter(|c| !c.train.is_empty() || !c.val.is_empty())
        .collect();
    if curves.is_empty() {
        return Ok(Svg::message(
            "No trial has trained an epoch yet.",
            PLOT_SIZE,
        ));
    }
    let points = || curves.iter().flat_map(|c| c.train.iter().chain(&c.val));
    let max_epoch = points().map(|p| p.0).fold(1.0, f64::max);
    let (ylo, yhi) = with_headroom(padded_range(points().map(|p| p.1)));
    let legend = curves.len() <= MAX_LEGEND;
    render(PLOT_SIZE, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(
                "Learning curves (solid: validation, faint: training)",
                (FONT, 20),
            )
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(64)
            .build_cartesian_2d(0.7f64..(max_epoch + 0.3), ylo..yhi)?;
        let fmt = |x: &f64| {
            let r = x.round();
            if (x - r).abs() < 1e-6 {
                format!("{r}")
            } else {
                String::new()
            }
        };
        chart
            .configure_mesh()
            .max_light_lines(2)
            .light_line_style(RGBColor(240, 240, 240))
            .bold_line_style(RGBColor(215, 215, 215))
            .label_style((FONT, 14))
            .axis_desc_style((FONT, 15))
            .x_labels((max_epoch as usize).min(15) + 1)
            .x_label_formatter(&fmt)
            .x_desc("Epoch")
            .y_desc("Loss")
            .draw()?;
        for c in &curves {
            if !c.train.is_empty() {
                chart.draw_series(LineSeries::new(
                    c.train.iter().copied(),
                    c.color.mix(0.45).stroke_width(1),
                ))?;
            }
            if !c.val.is_empty() {
                let s = chart.draw_series(LineSeries::new(
                    c.val.iter().copied(),
                    c.color.stroke_width(2),
                ))?;
                if legend {
                    s.label(c.label.as_str()).legend(legend_box(c.color));
                }
                chart.draw_series(c.val.iter().map(|&p| Circle::new(p, 2, c.color.filled())))?;
            }
        }
        if legend {
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperRight)
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK.mix(0.3))
                .label_font((FONT, 12))
                .draw()?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padded_range_handles_flat_empty_and_non_finite() {
        assert_eq!(padded_range([]), (0.0, 1.0));
        assert_eq!(padded_range([f64::NAN, f64::INFINITY]), (0.0, 1.0));
        let (lo, hi) = padded_range([2.0, 2.0]);
        assert!(lo < 2.0 && hi > 2.0);
        let (lo, hi) = padded_range([0.0, 10.0, f64::NAN]);
        assert!((lo + 0.5).abs() < 1e-12 && (hi - 10.5).abs() < 1e-12);
    }

    #[test]
    fn category_labels_only_at_integers() {
        let names = vec!["a".to_string(), "b".to_string()];
        assert_eq!(category_label(&names, 1.0), "b");
        assert_eq!(category_label(&names, 0.5), "");
        assert_eq!(category_label(&names, -1.0), "");
        assert_eq!(category_label(&names, 7.0), "");
    }
}
