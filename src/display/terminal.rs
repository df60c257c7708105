//! Terminal progress: a header per trial with what changed, a progress bar per epoch (plain
//! lines when stderr is not a terminal), and a leaderboard after each trial.

use crate::automodel::SearchEvent;
use crate::training::{EpochRecord, Metrics, TrainEvent};
use crate::tuners::Trial;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;

/// Renders [`SearchEvent`]s on standard error.
pub struct TerminalProgress {
    bar: Option<ProgressBar>,
    interactive: bool,
}

impl Default for TerminalProgress {
    fn default() -> Self {
        TerminalProgress {
            bar: None,
            interactive: std::io::stderr().is_terminal(),
        }
    }
}

/// A progress callback for [`crate::automodel::AutoModel::on_progress`] that draws on the terminal.
pub fn progress() -> crate::automodel::ProgressFn {
    let mut t = TerminalProgress::default();
    Box::new(move |e| t.handle(e))
}

fn metrics_text(m: &Metrics) -> String {
    let mut s = format!("loss {:.4}", m.loss);
    if let Some(a) = m.accuracy {
        s += &format!(" acc {a:.4}");
    }
    if let Some(a) = m.mae {
        s += &format!(" mae {a:.4}");
    }
    s
}

fn epoch_line(id: &str, r: &EpochRecord) -> String {
    let mut s = format!("  [{id}] epoch {:>3}  {}", r.epoch, metrics_text(&r.train));
    if let Some(v) = &r.val {
        s += &format!(" | val {}", metrics_text(v));
    }
    s + &format!("  ({:.1} s)", r.seconds)
}

/// The leaderboard as a text table, best first: with the epochs each trial trained, the search
/// overhead before it, and, when some trial started from another one, the parent ("father
/// model") and the operation.
pub fn leaderboard(trials: &[Trial]) -> String {
    let lineage = trials.iter().any(|t| t.parent.is_some());
    let mut s = format!(
        "{:<8} {:<10} {:>10} {:>10} {:>10} {:>7} {:>9} {:>9}",
        "Trial", "Status", "Val loss", "Val acc", "Params", "Epochs", "Time (s)", "Overhead"
    );
    if lineage {
        s += &format!("  {:<7} {:<40}", "Parent", "Operation");
    }
    s += "  Note\n";
    for t in trials {
        let acc = t
            .best_metrics
            .and_then(|m| m.accuracy)
            .map(|a| format!("{a:.4}"))
            .unwrap_or_else(|| "-".into());
        let score = t
            .score
            .map(|a| format!("{a:.4}"))
            .unwrap_or_else(|| "-".into());
        let status = t.status.as_str();
        let note = t.reason.clone().unwrap_or_default();
        let epochs = match t.epoch_range() {
            Some((a, b)) if a == b => a.to_string(),
            Some((a, b)) => format!("{a}-{b}"),
            None => "-".into(),
        };
        let overhead = t
            .overhead_seconds
            .map(|o| format!("{o:.2}"))
            .unwrap_or_else(|| "-".into());
        s += &format!(
            "{:<8} {:<10} {:>10} {:>10} {:>10} {:>7} {:>9.1} {:>9}",
            t.trial_id,
            status,
            score,
            acc,
            t.params.map(|p| p.to_string()).unwrap_or_default(),
            epochs,
            t.seconds,
            overhead,
        );
        if lineage {
            s += &format!(
                "  {:<7} {:<40}",
                t.parent.as_deref().unwrap_or("-"),
                t.operation.as_deref().unwrap_or("-")
            );
        }
        s += &format!("  {note}\n");
    }
    s
}

impl TerminalProgress {
    /// Draws one event.
    pub fn handle(&mut self, e: &SearchEvent) {
        match e {
            SearchEvent::Resumed { completed } => {
                eprintln!("Resuming: {completed} trial(s) already done.")
            }
            SearchEvent::TrialStart {
                trial_id,
                index,
                max_trials,
                changed,
                params,
                parent,
                operation,
            } => {
                eprintln!(
                    "\nTrial {trial_id} ({}/{max_trials}), {params} parameters",
                    index + 1
                );
                if let Some(p) = parent {
                    eprintln!(
                        "  from trial {p}: {}",
                        operation.as_deref().unwrap_or("continued")
                    );
                }
                for (k, v) in changed {
                    eprintln!("  {k:<60} {v}");
                }
            }
            SearchEvent::Train { trial_id, event } => self.train(trial_id, event),
            SearchEvent::TrialEnd {
                trial,
                leaderboard: board,
            } => {
                if let Some(r) = &trial.reason {
                    eprintln!("Trial {} failed: {r}", trial.trial_id);
                }
                eprintln!("\n{}", leaderboard(board));
            }
            SearchEvent::FinalFitStart { epochs, samples } => {
                eprintln!("Final fit: the best configuration on all {samples} training samples for {epochs} epoch(s).")
            }
            SearchEvent::FinalFitSkipped { reason } => {
                eprintln!("Final fit skipped ({reason}): the best trial's weights are the model.")
            }
        }
    }

    fn train(&mut self, id: &str, e: &TrainEvent) {
        match e {
            TrainEvent::EpochStart {
                epoch,
                epochs,
                batches,
            } if self.interactive => {
                let bar = ProgressBar::new(*batches as u64);
                let style = ProgressStyle::with_template(
                    "  [{prefix}] {msg} {bar:30} {pos}/{len} {elapsed} loss {wide_msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar());
                bar.set_style(style);
                bar.set_prefix(id.to_string());
                bar.set_message(format!("epoch {epoch}/{epochs}"));
                self.bar = Some(bar);
            }
            TrainEvent::Batch { batch, loss, .. } => {
                if let Some(b) = &self.bar {
                    b.set_position(*batch as u64);
                    if batch % 10 == 0 {
                        b.set_message(format!("{loss:.4}"));
                    }
                }
            }
            TrainEvent::EpochEnd(r) => {
                if let Some(b) = self.bar.take() {
                    b.finish_and_clear();
                }
                eprintln!("{}", epoch_line(id, r));
            }
            _ => {}
        }
    }
}
