//! The leaderboard of a search as a sortable HTML table, the best trial highlighted.

use super::html::{escape, fragment, num, sort_key, sortable_script, unique_id};
use crate::tuners::{Trial, TrialStatus};

/// Trials best first: by score (missing last), then by id.
pub fn ranked(trials: &[Trial]) -> Vec<&Trial> {
    let mut v: Vec<&Trial> = trials.iter().collect();
    v.sort_by(|a, b| {
        let key = |t: &Trial| t.score.filter(|s| !s.is_nan()).unwrap_or(f64::INFINITY);
        key(a)
            .partial_cmp(&key(b))
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| a.trial_id.cmp(&b.trial_id))
    });
    v
}

fn td_num(v: Option<f64>, digits: usize) -> String {
    format!(
        "<td class=\"num\" data-v=\"{}\">{}</td>",
        escape(&sort_key(v)),
        num(v, digits)
    )
}

/// The epochs a trial trained (sorted by their number), shown as a range for a trial that
/// continued another one (`4-9`).
fn td_epochs(t: &Trial) -> String {
    let n = t.history.len();
    let text = match t.epoch_range() {
        Some((a, b)) if t.initial_epoch > 0 => format!("{a}-{b}"),
        _ => n.to_string(),
    };
    format!(
        "<td class=\"num\" data-v=\"{}\">{}</td>",
        escape(&sort_key(Some(n as f64))),
        escape(&text)
    )
}

fn td_text(s: &str) -> String {
    let e = escape(s);
    format!("<td data-v=\"{e}\">{e}</td>")
}

/// The leaderboard table (no style sheet): one row per trial, best first, with id, status,
/// validation loss, validation accuracy or MAE (whichever the trials have), parameter count,
/// epochs, wall time, search overhead before the trial, and failure reason; when some trial
/// started from another one (Hyperband, network morphism), AutoKeras's "Father Model ID" and
/// "Added Operation" columns too. The best trial's row has the class `ac-best` and a
/// star; clicking a column header sorts by it.
pub fn leaderboard_table(trials: &[Trial]) -> String {
    let id = unique_id("ac-lb");
    let best = Trial::best(trials).map(|t| t.trial_id.as_str());
    let has_acc = trials
        .iter()
        .any(|t| t.best_metrics.is_some_and(|m| m.accuracy.is_some()));
    let has_mae = trials
        .iter()
        .any(|t| t.best_metrics.is_some_and(|m| m.mae.is_some()));
    let lineage = trials.iter().any(|t| t.parent.is_some());
    let mut s = format!("<table class=\"ac-sortable ac-leaderboard\" id=\"{id}\"><thead><tr>");
    s += "<th>Trial</th><th>Status</th><th class=\"num\">Val loss</th>";
    if has_acc {
        s += "<th class=\"num\">Val accuracy</th>";
    }
    if has_mae {
        s += "<th class=\"num\">Val MAE</th>";
    }
    s += "<th class=\"num\">Parameters</th><th class=\"num\">Epochs</th>\
<th class=\"num\">Time (s)</th><th class=\"num\">Overhead (s)</th>";
    if lineage {
        s += "<th>Father Model ID</th><th>Added Operation</th>";
    }
    s += "<th>Note</th></tr></thead><tbody>";
    for t in ranked(trials) {
        let is_best = best == Some(t.trial_id.as_str());
        let class = match (is_best, t.status) {
            (true, _) => " class=\"ac-best\" data-best=\"true\"",
            (false, TrialStatus::Failed) => " class=\"ac-failed\"",
            _ => "",
        };
        let label = escape(&t.trial_id);
        let star = if is_best {
            " <span title=\"best trial\">&#9733;</span>"
        } else {
            ""
        };
        s += &format!("<tr{class}><td data-v=\"{label}\">{label}{star}</td>");
        s += &td_text(t.status.as_str());
        s += &td_num(t.score, 4);
        if has_acc {
            s += &td_num(t.best_metrics.and_then(|m| m.accuracy), 4);
        }
        if has_mae {
            s += &td_num(t.best_metrics.and_then(|m| m.mae), 4);
        }
        s += &td_num(t.params.map(|p| p as f64), 0);
        s += &td_epochs(t);
        s += &td_num(Some(t.seconds), 1);
        s += &td_num(t.overhead_seconds, 2);
        if lineage {
            s += &td_text(t.parent.as_deref().unwrap_or(""));
            s += &td_text(t.operation.as_deref().unwrap_or(""));
        }
        s += &td_text(t.reason.as_deref().unwrap_or(""));
        s += "</tr>";
    }
    s += "</tbody></table>";
    s + &sortable_script(&id)
}

/// The leaderboard as a self-contained HTML fragment (style sheet included).
pub fn leaderboard_html(trials: &[Trial]) -> String {
    fragment(&leaderboard_table(trials))
}
