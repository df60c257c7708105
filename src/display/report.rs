//! The report of a search as one self-contained HTML page: leaderboard, plots, the best
//! model's summary and every trial's details. It loads nothing from the network (its content
//! security policy forbids it), so it can be mailed or archived as a single file.

use super::html::{escape, num, CSS};
use super::leaderboard::leaderboard_table;
use super::plots::{
    hyperparameter_plot, learning_curves_plot, objective_plot, varied_hyperparameters,
};
use super::summary_view::summary_body;
use super::trial_view::trial_body;
use crate::error::Result;
use crate::graph::Summary;
use crate::project::write_atomic;
use crate::tuners::{Trial, TrialStatus};
use std::path::Path;

/// Most hyperparameter plots on one page (the ones that varied most come first).
const MAX_HP_PLOTS: usize = 12;

/// One line of facts: trial counts, the best trial, the total trial time.
pub fn overview(trials: &[Trial]) -> String {
    let count = |s: TrialStatus| trials.iter().filter(|t| t.status == s).count();
    let time: f64 = trials.iter().map(|t| t.seconds).sum();
    let best = match Trial::best(trials) {
        Some(b) => format!(
            "best trial <b>{}</b> (validation loss {})",
            escape(&b.trial_id),
            num(b.score, 4)
        ),
        None => "no completed trial".into(),
    };
    format!(
        "<p>{} trial(s): {} completed, {} failed, {} stopped by the time limit, {} running; {best}; \
         {:.1} s of training.</p>",
        trials.len(),
        count(TrialStatus::Completed),
        count(TrialStatus::Failed),
        count(TrialStatus::Stopped),
        count(TrialStatus::Running),
        time
    )
}

/// The whole page. `title` is shown as the heading; `summary` (the best model's) is added when
/// given. Trials are shown in the order given in the plots and best first in the leaderboard.
pub fn report_html(title: &str, trials: &[Trial], summary: Option<&Summary>) -> Result<String> {
    let t = escape(title);
    let mut s = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{t}</title>\
<style>{CSS}body{{margin:20px;}}.ac h1{{font-size:20px;}}</style></head>\n<body><div class=\"ac\"><h1>{t}</h1>"
    );
    s += &overview(trials);
    s += "<h2 id=\"leaderboard\">Leaderboard</h2>";
    s += &leaderboard_table(trials);
    s += "<h2 id=\"objective\">Objective per trial</h2>";
    s += objective_plot(trials)?.as_str();
    s += "<h2 id=\"learning-curves\">Learning curves</h2>";
    s += learning_curves_plot(trials)?.as_str();
    let varied = varied_hyperparameters(trials);
    if !varied.is_empty() {
        s += "<h2 id=\"hyperparameters\">Hyperparameters against the objective</h2>";
        if varied.len() > MAX_HP_PLOTS {
            s += &format!(
                "<p class=\"ac-muted\">The first {MAX_HP_PLOTS} of {} hyperparameters that varied.</p>",
                varied.len()
            );
        }
        for name in varied.iter().take(MAX_HP_PLOTS) {
            s += hyperparameter_plot(trials, name)?.as_str();
        }
    }
    if let Some(sum) = summary {
        s += "<h2 id=\"model\">Best model</h2>";
        s += &summary_body(sum);
    }
    s += "<h2 id=\"trials\">Trials</h2>";
    for tr in trials {
        s += &format!(
            "<details class=\"ac-trial\"><summary>Trial {} &mdash; {}</summary>{}</details>",
            escape(&tr.trial_id),
            num(tr.score, 4),
            trial_body(tr)
        );
    }
    s += "</div></body></html>\n";
    Ok(s)
}

/// Writes an HTML page to `path` atomically (a temp file in the same folder, then a rename).
pub fn save_html(path: impl AsRef<Path>, html: &str) -> Result<()> {
    write_atomic(path.as_ref(), html.as_bytes())
}
