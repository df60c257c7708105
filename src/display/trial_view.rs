//! One trial as HTML: its facts, its hyperparameters and its learning curves.

use super::html::{escape, fragment, num};
use super::plots::learning_curves_plot;
use crate::training::StopReason;
use crate::tuners::Trial;

fn stop_text(r: StopReason) -> &'static str {
    match r {
        StopReason::Completed => "all epochs ran",
        StopReason::EarlyStopped => "early stopping",
        StopReason::TimeLimit => "time limit",
    }
}

/// The trial's hyperparameters (the active ones, by full name) as a two-column table.
pub fn hyperparameters_table(trial: &Trial) -> String {
    let values = trial.hyperparameters.active_values();
    if values.is_empty() {
        return "<p class=\"ac-muted\">No hyperparameters.</p>".into();
    }
    let mut s = String::from(
        "<table class=\"ac-hparams\"><thead><tr><th>Hyperparameter</th><th>Value</th></tr></thead><tbody>",
    );
    for (k, v) in &values {
        s += &format!(
            "<tr><td>{}</td><td>{}</td></tr>",
            escape(k),
            escape(&v.to_string())
        );
    }
    s + "</tbody></table>"
}

/// The body of a trial's view (no style sheet): a heading, a list of facts (status, objective,
/// best epoch, parameters, time, why it stopped or failed), the hyperparameters table and the
/// learning curves as inline SVG.
pub fn trial_body(trial: &Trial) -> String {
    let status = trial.status.as_str().to_ascii_lowercase();
    let mut s = format!(
        "<h3>Trial {} <span class=\"ac-muted\">({status})</span></h3><dl>",
        escape(&trial.trial_id)
    );
    let mut fact = |k: &str, v: String| s += &format!("<dt>{k}</dt><dd>{v}</dd>");
    fact("Validation loss", num(trial.score, 4));
    if let Some(m) = trial.best_metrics {
        if let Some(a) = m.accuracy {
            fact("Validation accuracy", num(Some(a), 4));
        }
        if let Some(a) = m.mae {
            fact("Validation MAE", num(Some(a), 4));
        }
    }
    if let Some(e) = trial.best_epoch {
        fact("Best epoch", format!("{e} of {}", trial.history.len()));
    }
    if let Some(p) = trial.params {
        fact("Parameters", p.to_string());
    }
    fact("Time", format!("{:.1} s", trial.seconds));
    if let Some(r) = trial.stop_reason {
        fact("Stopped by", stop_text(r).to_string());
    }
    if let Some(r) = &trial.reason {
        fact("Failure", escape(r));
    }
    s += "</dl>";
    s += &hyperparameters_table(trial);
    if !trial.history.is_empty() {
        match learning_curves_plot(std::slice::from_ref(trial)) {
            Ok(svg) => s += svg.as_str(),
            Err(e) => s += &format!("<p class=\"ac-muted\">{}</p>", escape(&e.to_string())),
        }
    }
    s
}

/// A trial as a self-contained HTML fragment (style sheet included).
pub fn trial_html(trial: &Trial) -> String {
    fragment(&trial_body(trial))
}
