//! Progress of a search in a notebook, and the automatic choice of a progress renderer.
//!
//! A notebook cell shows what a program writes as plain text, live, but draws terminal escape
//! codes (indicatif's bars) as garbage. [`NotebookProgress`] writes one readable line per
//! event: the trial (`Trial 3 of 10`), each epoch's metrics, a heartbeat inside long epochs,
//! and how each trial ended against the best so far. [`auto`] picks it inside evcxr (the Rust
//! Jupyter kernel) and whenever standard error is not a terminal; in a terminal it picks the
//! indicatif bars of [`crate::display::terminal`]. Every search that was given no callback
//! uses [`auto`].

use crate::automodel::{ProgressFn, SearchEvent};
use crate::training::{EpochRecord, Metrics, TrainEvent};
use crate::tuners::{Trial, TrialStatus};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// The variable evcxr sets in the process that runs a notebook's code (its "runtime" child:
/// `EVCXR_IS_RUNTIME=1`, set in evcxr's `child_process.rs` before it spawns the child).
pub const EVCXR_RUNTIME_VAR: &str = "EVCXR_IS_RUNTIME";

/// The variable that overrides the automatic choice: `notebook` (or `plain`), `terminal`, or
/// `off` (or `none`, `quiet`).
pub const PROGRESS_VAR: &str = "AUTOCANDLE_PROGRESS";

/// A heartbeat line inside an epoch at most this often (long epochs only).
pub const HEARTBEAT: Duration = Duration::from_secs(15);

/// Where the progress of a search goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Renderer {
    /// Plain lines on standard output (evcxr streams them into the cell as they come).
    NotebookStdout,
    /// Plain lines on standard error (a log file, a pipe, CI).
    NotebookStderr,
    /// indicatif bars on the terminal ([`crate::display::terminal`]).
    Terminal,
    /// Nothing.
    Silent,
}

/// The renderer for a process: `override_value` is [`PROGRESS_VAR`]'s value, `in_evcxr` whether
/// [`EVCXR_RUNTIME_VAR`] is set, `stderr_is_terminal` whether standard error is a terminal.
/// An unknown override is ignored.
pub fn choose(override_value: Option<&str>, in_evcxr: bool, stderr_is_terminal: bool) -> Renderer {
    let notebook = if in_evcxr {
        Renderer::NotebookStdout
    } else {
        Renderer::NotebookStderr
    };
    match override_value
        .map(|v| v.trim().to_ascii_lowercase())
        .as_deref()
    {
        Some("off" | "none" | "quiet" | "0") => return Renderer::Silent,
        Some("notebook" | "plain" | "lines") => return notebook,
        Some("terminal" | "bars") => return Renderer::Terminal,
        _ => {}
    }
    if in_evcxr || !stderr_is_terminal {
        notebook
    } else {
        Renderer::Terminal
    }
}

/// The renderer for this process (see [`choose`]).
pub fn detect() -> Renderer {
    choose(
        std::env::var(PROGRESS_VAR).ok().as_deref(),
        std::env::var_os(EVCXR_RUNTIME_VAR).is_some(),
        std::io::stderr().is_terminal(),
    )
}

/// The progress callback [`detect`] picks: what a search uses when it was given none.
pub fn auto() -> ProgressFn {
    match detect() {
        Renderer::Terminal => super::terminal::progress(),
        Renderer::NotebookStdout => notebook(false),
        Renderer::NotebookStderr => notebook(true),
        Renderer::Silent => silent(),
    }
}

/// A callback that shows nothing.
pub fn silent() -> ProgressFn {
    Box::new(|_| {})
}

/// A callback that writes [`NotebookProgress`] lines on standard output (`to_stderr == false`,
/// what a notebook cell shows) or standard error.
pub fn notebook(to_stderr: bool) -> ProgressFn {
    let mut p = NotebookProgress::default();
    Box::new(move |e| {
        for line in p.lines(e) {
            if to_stderr {
                eprintln!("{line}");
            } else {
                println!("{line}");
            }
        }
    })
}

/// Turns search events into plain lines: no escape codes, one line per fact, so that they read
/// well as a notebook cell's output.
#[derive(Debug)]
pub struct NotebookProgress {
    /// Shortest time between two heartbeat lines inside an epoch (`None`: no heartbeat).
    pub heartbeat: Option<Duration>,
    epochs: usize,
    last_beat: Option<Instant>,
}

impl Default for NotebookProgress {
    fn default() -> Self {
        NotebookProgress {
            heartbeat: Some(HEARTBEAT),
            epochs: 0,
            last_beat: None,
        }
    }
}

/// `loss 0.1234 acc 0.9500` (the metrics a record has).
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

/// The validation metrics a trial scored, for its closing line.
fn score_text(t: &Trial) -> String {
    let mut s = match t.score {
        Some(v) => format!("val loss {v:.4}"),
        None => "no score".into(),
    };
    if let Some(m) = t.best_metrics {
        if let Some(a) = m.accuracy {
            s += &format!(", val acc {a:.4}");
        }
        if let Some(a) = m.mae {
            s += &format!(", val mae {a:.4}");
        }
    }
    s
}

impl NotebookProgress {
    /// A renderer with the given heartbeat interval (`None`: no heartbeat lines).
    pub fn with_heartbeat(heartbeat: Option<Duration>) -> Self {
        NotebookProgress {
            heartbeat,
            ..Default::default()
        }
    }

    /// The lines to show for one event (often none: batches only give a heartbeat now and
    /// then).
    pub fn lines(&mut self, e: &SearchEvent) -> Vec<String> {
        match e {
            SearchEvent::Resumed { completed } => {
                vec![format!("Resuming: {completed} trial(s) already done.")]
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
                let mut v = vec![format!(
                    "Trial {} of {max_trials} (id {trial_id}): {} parameters",
                    index + 1,
                    super::html::thousands(*params)
                )];
                if let Some(p) = parent {
                    v.push(format!(
                        "  from trial {p}: {}",
                        operation.as_deref().unwrap_or("continued")
                    ));
                }
                v.extend(changed.iter().map(|(k, val)| format!("  {k} = {val}")));
                v
            }
            SearchEvent::Train { trial_id, event } => self.train(trial_id, event),
            SearchEvent::TrialEnd { trial, leaderboard } => {
                vec![self.trial_end(trial, leaderboard)]
            }
            SearchEvent::FinalFitStart { epochs, samples } => vec![format!(
                "Final fit: the best configuration on all {samples} training samples, {epochs} epoch(s)."
            )],
            SearchEvent::FinalFitSkipped { reason } => vec![format!(
                "Final fit skipped ({reason}): the best trial's weights are the model."
            )],
        }
    }

    fn train(&mut self, id: &str, e: &TrainEvent) -> Vec<String> {
        let who = if id == "final" { "final fit" } else { id };
        match e {
            TrainEvent::EpochStart { epochs, .. } => {
                self.epochs = *epochs;
                self.last_beat = Some(Instant::now());
                vec![]
            }
            TrainEvent::Batch {
                batch,
                batches,
                loss,
            } => {
                let due = match (self.heartbeat, self.last_beat) {
                    (Some(every), Some(last)) => last.elapsed() >= every,
                    (Some(_), None) => true,
                    (None, _) => false,
                };
                if due && batch < batches {
                    self.last_beat = Some(Instant::now());
                    vec![format!("  [{who}] batch {batch}/{batches}, loss {loss:.4}")]
                } else {
                    vec![]
                }
            }
            TrainEvent::EpochEnd(r) => vec![self.epoch_line(who, r)],
        }
    }

    fn epoch_line(&self, who: &str, r: &EpochRecord) -> String {
        let of = if self.epochs > 0 {
            format!("/{}", self.epochs)
        } else {
            String::new()
        };
        let mut s = format!(
            "  [{who}] epoch {}{of}: {}",
            r.epoch,
            metrics_text(&r.train)
        );
        if let Some(v) = &r.val {
            s += &format!(" | val {}", metrics_text(v));
        }
        s + &format!(" ({:.1} s)", r.seconds)
    }

    fn trial_end(&self, t: &Trial, board: &[Trial]) -> String {
        if t.status == TrialStatus::Stopped {
            return format!(
                "Trial {} stopped by the time limit before its first epoch ended.",
                t.trial_id
            );
        }
        if t.status == TrialStatus::Failed {
            return format!(
                "Trial {} failed: {}",
                t.trial_id,
                t.reason.as_deref().unwrap_or("no reason given")
            );
        }
        let best = board
            .iter()
            .find(|b| b.status == TrialStatus::Completed && b.score.is_some());
        let verdict = match best {
            Some(b) if b.trial_id == t.trial_id => "best so far".to_string(),
            Some(b) => format!("best so far: trial {} ({})", b.trial_id, score_text(b)),
            None => "no completed trial yet".into(),
        };
        format!(
            "Trial {} done in {:.1} s: {}; {verdict}.",
            t.trial_id,
            t.seconds,
            score_text(t)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evcxr_and_pipes_get_plain_lines_terminals_get_bars() {
        assert_eq!(choose(None, true, true), Renderer::NotebookStdout);
        assert_eq!(choose(None, true, false), Renderer::NotebookStdout);
        assert_eq!(choose(None, false, false), Renderer::NotebookStderr);
        assert_eq!(choose(None, false, true), Renderer::Terminal);
        assert_eq!(choose(Some("off"), true, true), Renderer::Silent);
        assert_eq!(choose(Some(" Terminal "), false, false), Renderer::Terminal);
        assert_eq!(
            choose(Some("notebook"), false, true),
            Renderer::NotebookStderr
        );
        assert_eq!(choose(Some("plain"), true, true), Renderer::NotebookStdout);
        assert_eq!(choose(Some("bogus"), false, true), Renderer::Terminal);
    }
}
