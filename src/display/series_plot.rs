//! Plots of time series: columns of a [`TimeSeries`] against time, and a forecast after the
//! end of a series next to what actually happened.

use super::plots::{legend_box, padded_range, render, with_headroom, FONT, PALETTE, PLOT_SIZE};
use super::svg::Svg;
use crate::data::TimeSeries;
use crate::error::{Error, Result};
use crate::tasks::{Forecast, ForecastMetrics};
use plotters::prelude::*;

/// The label of position `x` on a time axis: the source's time stamp at an integer position
/// when there is one, else the position itself.
fn time_label(labels: Option<&[String]>, x: f64) -> String {
    let r = x.round();
    if (x - r).abs() > 1e-6 || r < 0.0 {
        return String::new();
    }
    match labels.and_then(|l| l.get(r as usize)) {
        Some(s) => s.clone(),
        None => format!("{r}"),
    }
}

/// One coloured line: its name and its `(position, value)` points.
struct Line {
    name: String,
    color: RGBColor,
    points: Vec<(f64, f64)>,
    dots: bool,
}

fn check_columns<'a>(series: &'a TimeSeries, columns: &[String]) -> Result<Vec<&'a [f64]>> {
    if series.is_empty() {
        return Err(Error::EmptyDataset(
            "the series has no points to plot".into(),
        ));
    }
    if columns.is_empty() {
        return Err(Error::Config("name at least one column to plot".into()));
    }
    series.values_of(columns)
}

/// Draws `lines` on a time axis of `0..len` positions labelled by `labels`.
fn draw_lines(
    caption: &str,
    lines: &[Line],
    len: usize,
    labels: Option<&[String]>,
    x_desc: &str,
    split_at: Option<f64>,
) -> Result<Svg> {
    let all = || lines.iter().flat_map(|l| l.points.iter());
    let (ylo, yhi) = with_headroom(padded_range(all().map(|p| p.1)));
    let xmax = all()
        .map(|p| p.0)
        .fold(len.saturating_sub(1) as f64, f64::max)
        .max(1.0);
    // From the first point drawn (a forecast shows only the end of its history).
    let xmin = all().map(|p| p.0).fold(xmax, f64::min).min(xmax - 1.0);
    render(PLOT_SIZE, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(caption, (FONT, 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(64)
            .build_cartesian_2d(xmin..xmax, ylo..yhi)?;
        let fmt = |x: &f64| time_label(labels, *x);
        chart
            .configure_mesh()
            .max_light_lines(2)
            .light_line_style(RGBColor(240, 240, 240))
            .bold_line_style(RGBColor(215, 215, 215))
            .label_style((FONT, 13))
            .axis_desc_style((FONT, 15))
            .x_labels(7)
            .x_label_formatter(&fmt)
            .x_desc(x_desc)
            .y_desc("Value")
            .draw()?;
        if let Some(x) = split_at {
            chart.draw_series(LineSeries::new(
                [(x, ylo), (x, yhi)],
                BLACK.mix(0.35).stroke_width(1),
            ))?;
        }
        for l in lines {
            chart
                .draw_series(LineSeries::new(
                    l.points.iter().copied(),
                    l.color.stroke_width(2),
                ))?
                .label(l.name.as_str())
                .legend(legend_box(l.color));
            if l.dots {
                chart.draw_series(
                    l.points
                        .iter()
                        .map(|&p| Circle::new(p, 3, l.color.filled())),
                )?;
            }
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.3))
            .label_font((FONT, 13))
            .draw()?;
        Ok(())
    })
}

/// The columns `columns` of `series` against time (the time column's stamps on the axis when
/// the series has one, else the position), one colour each.
pub fn series_plot(series: &TimeSeries, columns: &[String]) -> Result<Svg> {
    let values = check_columns(series, columns)?;
    let lines: Vec<Line> = columns
        .iter()
        .zip(values)
        .enumerate()
        .map(|(i, (name, v))| Line {
            name: name.clone(),
            color: PALETTE[i % PALETTE.len()],
            points: v
                .iter()
                .enumerate()
                .filter(|(_, y)| y.is_finite())
                .map(|(x, &y)| (x as f64, y))
                .collect(),
            dots: false,
        })
        .collect();
    let labels = series.time.as_ref().map(|t| t.labels.as_slice());
    let x_desc = series.time.as_ref().map_or("Position", |t| t.name.as_str());
    draw_lines(
        &columns.join(", "),
        &lines,
        series.len(),
        labels,
        x_desc,
        None,
    )
}

/// A forecast after the end of `history` (its last points, enough to see the pattern), drawn
/// with dots from the end of the history on, and, when given, `actual`: the points that came
/// after the history, over the forecast's horizon. One colour per target; the actual values
/// in a darker shade of the same colour. A vertical line marks the end of the history.
pub fn forecast_plot(
    history: &TimeSeries,
    forecast: &Forecast,
    actual: Option<&TimeSeries>,
) -> Result<Svg> {
    let hist = check_columns(history, &forecast.targets)?;
    let horizon = forecast.steps.iter().copied().max().unwrap_or(1);
    let n = history.len();
    let keep = n.min((4 * horizon).max(60));
    let start = n - keep;
    let mut lines: Vec<Line> = Vec::new();
    for (j, (name, h)) in forecast.targets.iter().zip(&hist).enumerate() {
        let color = PALETTE[(2 * j) % PALETTE.len()];
        lines.push(Line {
            name: format!("{name} (history)"),
            color,
            points: (start..n).map(|i| (i as f64, h[i])).collect(),
            dots: false,
        });
        if let Some(a) = actual {
            let values = a.values_of(std::slice::from_ref(name))?;
            let points: Vec<(f64, f64)> = values[0]
                .iter()
                .take(horizon)
                .enumerate()
                .map(|(k, &y)| ((n + k) as f64, y))
                .collect();
            if !points.is_empty() {
                lines.push(Line {
                    name: format!("{name} (actual)"),
                    color: RGBColor(color.0 / 2, color.1 / 2, color.2 / 2),
                    points,
                    dots: false,
                });
            }
        }
        let fc = PALETTE[(2 * j + 1) % PALETTE.len()];
        let points: Vec<(f64, f64)> = forecast
            .steps
            .iter()
            .zip(&forecast.values)
            .filter_map(|(&s, row)| row.get(j).map(|&y| ((n + s - 1) as f64, y)))
            .collect();
        lines.push(Line {
            name: format!("{name} (forecast)"),
            color: fc,
            points,
            dots: true,
        });
    }
    let labels = history.time.as_ref().map(|t| {
        let mut l = t.labels.clone();
        if let Some(at) = actual.and_then(|a| a.time.as_ref()) {
            l.extend(at.labels.iter().cloned());
        }
        l
    });
    let x_desc = history
        .time
        .as_ref()
        .map_or("Position", |t| t.name.as_str());
    let caption = format!("Forecast, {} step(s) ahead", horizon);
    draw_lines(
        &caption,
        &lines,
        n,
        labels.as_deref(),
        x_desc,
        Some(n as f64 - 0.5),
    )
}

impl Forecast {
    /// This forecast after the end of `history` with, when given, the actual continuation
    /// (see [`forecast_plot`]); a drawing failure is shown in the image.
    pub fn plot(&self, history: &TimeSeries, actual: Option<&TimeSeries>) -> Svg {
        forecast_plot(history, self, actual)
            .unwrap_or_else(|e| Svg::message(&e.to_string(), PLOT_SIZE))
    }
}

/// The forecasts an evaluation compared (dots) against the actual `continuation` it was
/// given (lines), one colour per target, on the continuation's time axis.
pub fn evaluation_plot(metrics: &ForecastMetrics, continuation: &TimeSeries) -> Result<Svg> {
    let actual = check_columns(continuation, &metrics.targets)?;
    let k = metrics.targets.len().max(1);
    let mut lines: Vec<Line> = Vec::new();
    for (j, (name, a)) in metrics.targets.iter().zip(&actual).enumerate() {
        lines.push(Line {
            name: format!("{name} (actual)"),
            color: PALETTE[(2 * j) % PALETTE.len()],
            points: a.iter().enumerate().map(|(i, &y)| (i as f64, y)).collect(),
            dots: false,
        });
        lines.push(Line {
            name: format!("{name} (forecast)"),
            color: PALETTE[(2 * j + 1) % PALETTE.len()],
            points: metrics
                .positions
                .iter()
                .zip(&metrics.predicted)
                .skip(j)
                .step_by(k)
                .map(|(&at, &y)| (at as f64, y))
                .collect(),
            dots: true,
        });
    }
    let labels = continuation.time.as_ref().map(|t| t.labels.as_slice());
    let x_desc = continuation
        .time
        .as_ref()
        .map_or("Position", |t| t.name.as_str());
    let caption = format!(
        "Forecasts from {} origin(s): MAE {}",
        metrics.origins,
        super::html::num(Some(metrics.mae), 3)
    );
    draw_lines(&caption, &lines, continuation.len(), labels, x_desc, None)
}

impl ForecastMetrics {
    /// The forecasts compared against `continuation`, the held-out part given to `evaluate`
    /// (see [`evaluation_plot`]); a drawing failure is shown in the image.
    pub fn plot(&self, continuation: &TimeSeries) -> Svg {
        evaluation_plot(self, continuation)
            .unwrap_or_else(|e| Svg::message(&e.to_string(), PLOT_SIZE))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_labels_come_from_the_source_at_integer_positions() {
        let l = vec!["1949-01".to_string(), "1949-02".to_string()];
        assert_eq!(time_label(Some(&l), 1.0), "1949-02");
        assert_eq!(time_label(Some(&l), 0.5), "");
        assert_eq!(time_label(Some(&l), 5.0), "5");
        assert_eq!(time_label(None, 3.0), "3");
    }
}
