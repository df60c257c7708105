//! One hyperparameter against the objective: a scatter plot with a numeric (linear or
//! logarithmic) or categorical x axis.

use super::plots::{
    category_label, legend_box, objective, padded_range, render, with_headroom, BEST, FONT,
    PLOT_SIZE, POINT,
};
use super::svg::Svg;
use crate::error::{Error, Result};
use crate::hyperparameters::{Kind, Sampling, Value};
use crate::tuners::Trial;
use plotters::prelude::*;

/// The names of the hyperparameters that `trials` declare, in first-declared order.
pub fn hyperparameter_names(trials: &[Trial]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for t in trials {
        for h in t.hyperparameters.space() {
            if !names.contains(&h.name) {
                names.push(h.name.clone());
            }
        }
    }
    names
}

/// The hyperparameters whose (active) value differs between the completed trials: the ones
/// worth a plot against the objective.
pub fn varied_hyperparameters(trials: &[Trial]) -> Vec<String> {
    let scored: Vec<_> = trials
        .iter()
        .filter(|t| objective(t).is_some())
        .map(|t| t.hyperparameters.active_values())
        .collect();
    hyperparameter_names(trials)
        .into_iter()
        .filter(|n| {
            let mut seen: Vec<&Value> = Vec::new();
            for v in scored.iter().filter_map(|a| a.get(n)) {
                if !seen.contains(&v) {
                    seen.push(v);
                }
            }
            seen.len() > 1
        })
        .collect()
}

/// The category order of a non-numeric hyperparameter: the declared choices first, then any
/// other value seen, by its text.
fn categories(trials: &[Trial], name: &str, seen: &[&Value]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let declared = trials
        .iter()
        .flat_map(|t| t.hyperparameters.space())
        .find(|h| h.name == name);
    match declared.map(|h| &h.kind) {
        Some(Kind::Choice { values }) => out.extend(values.iter().map(|v| v.to_string())),
        Some(Kind::Boolean) => out.extend(["false".to_string(), "true".to_string()]),
        _ => {}
    }
    let mut rest: Vec<String> = seen
        .iter()
        .map(|v| v.to_string())
        .filter(|s| !out.contains(s))
        .collect();
    rest.sort();
    rest.dedup();
    out.extend(rest);
    out
}

/// One hyperparameter (full name, as in the trials' `hyperparameters`) on the x axis against
/// the objective, one point per completed trial where it is active; the best trial is drawn in
/// green. Numbers get a numeric axis (logarithmic when they are positive and either declared
/// with log sampling or spanning two decades or more), anything else one slot per value. An unknown name is [`Error::Config`].
pub fn hyperparameter_plot(trials: &[Trial], name: &str) -> Result<Svg> {
    let names = hyperparameter_names(trials);
    if !names.iter().any(|n| n == name) {
        let mut known = names.join(", ");
        if known.is_empty() {
            known = "none".into();
        }
        return Err(Error::Config(format!(
            "no trial has a hyperparameter named {name:?}; known: {known}"
        )));
    }
    let best = Trial::best(trials).map(|t| t.trial_id.clone());
    let pts: Vec<(Value, f64, bool)> = trials
        .iter()
        .filter_map(|t| {
            let s = objective(t)?;
            let v = t.hyperparameters.active_values().get(name)?.clone();
            Some((v, s, best.as_deref() == Some(t.trial_id.as_str())))
        })
        .collect();
    if pts.is_empty() {
        return Ok(Svg::message(
            &format!("No completed trial used {name}."),
            PLOT_SIZE,
        ));
    }
    let numeric: Option<Vec<f64>> = pts
        .iter()
        .map(|(v, _, _)| match v {
            Value::Int(_) | Value::Float(_) => v.as_f64().filter(|x| x.is_finite()),
            _ => None,
        })
        .collect();
    let (ylo, yhi) = with_headroom(padded_range(pts.iter().map(|p| p.1)));
    let caption = format!("{name} vs objective");
    match numeric {
        Some(xs) => {
            let lo = xs.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let declared_log = trials
                .iter()
                .flat_map(|t| t.hyperparameters.space())
                .find(|h| h.name == name)
                .is_some_and(|h| {
                    matches!(
                        h.kind,
                        Kind::Float {
                            sampling: Sampling::Log,
                            ..
                        } | Kind::Int {
                            sampling: Sampling::Log,
                            ..
                        }
                    )
                });
            let log = lo > 0.0 && (declared_log || hi / lo >= 100.0);
            let xs: Vec<f64> = if log {
                xs.iter().map(|x| x.log10()).collect()
            } else {
                xs
            };
            let (xlo, xhi) = padded_range(xs.iter().copied());
            let data: Vec<(f64, f64, bool)> = xs
                .iter()
                .zip(&pts)
                .map(|(&x, (_, y, b))| (x, *y, *b))
                .collect();
            let fmt = move |x: &f64| {
                if log {
                    format!("{:.1e}", 10f64.powf(*x))
                } else {
                    format!("{}", (x * 1e6).round() / 1e6)
                }
            };
            let desc = if log {
                format!("{name} (log scale)")
            } else {
                name.to_string()
            };
            scatter(&caption, &desc, xlo..xhi, (ylo, yhi), &data, &fmt, 8)
        }
        None => {
            let seen: Vec<&Value> = pts.iter().map(|p| &p.0).collect();
            let cats = categories(trials, name, &seen);
            let data: Vec<(f64, f64, bool)> = pts
                .iter()
                .enumerate()
                .map(|(k, (v, y, b))| {
                    let s = v.to_string();
                    let i = cats.iter().position(|c| *c == s).unwrap_or(0);
                    // A small fixed spread so that equal values stay visible.
                    let jitter = ((k as f64 * 0.618_034).fract() - 0.5) * 0.3;
                    (i as f64 + jitter, *y, *b)
                })
                .collect();
            let fmt = |x: &f64| category_label(&cats, *x);
            let n = cats.len();
            scatter(
                &caption,
                name,
                -0.5..(n as f64 - 0.5),
                (ylo, yhi),
                &data,
                &fmt,
                n + 1,
            )
        }
    }
}

fn scatter(
    caption: &str,
    x_desc: &str,
    x: std::ops::Range<f64>,
    (ylo, yhi): (f64, f64),
    data: &[(f64, f64, bool)],
    fmt: &dyn Fn(&f64) -> String,
    x_labels: usize,
) -> Result<Svg> {
    render(PLOT_SIZE, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(caption, (FONT, 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(64)
            .build_cartesian_2d(x, ylo..yhi)?;
        chart
            .configure_mesh()
            .max_light_lines(2)
            .light_line_style(RGBColor(240, 240, 240))
            .bold_line_style(RGBColor(215, 215, 215))
            .label_style((FONT, 14))
            .axis_desc_style((FONT, 15))
            .x_labels(x_labels.min(13))
            .x_label_formatter(fmt)
            .x_desc(x_desc)
            .y_desc("Validation loss")
            .draw()?;
        chart
            .draw_series(
                data.iter()
                    .filter(|p| !p.2)
                    .map(|&(x, y, _)| Circle::new((x, y), 4, POINT.filled())),
            )?
            .label("trial")
            .legend(legend_box(POINT));
        chart
            .draw_series(
                data.iter()
                    .filter(|p| p.2)
                    .map(|&(x, y, _)| Circle::new((x, y), 5, BEST.filled())),
            )?
            .label("best trial")
            .legend(legend_box(BEST));
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
