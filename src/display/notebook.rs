//! Rich output in notebooks: `evcxr_display` for the types a notebook shows (evcxr, the Rust
//! Jupyter kernel, calls a method of that name on a cell's value and reads what it prints), and
//! plot shortcuts on [`SearchResult`]. Each display prints the HTML view and a `text/plain`
//! fallback as one output (a MIME bundle); the data previews are in
//! [`crate::display::preview`].

use super::confusion::ConfusionMatrix;
use super::html::{escape, evcxr_print_html, fragment, num};
use super::leaderboard::{leaderboard_table, ranked};
use super::plots::{hyperparameter_plot, learning_curves_plot, objective_plot, PLOT_SIZE};
use super::report::overview;
use super::summary_view::summary_html;
use super::svg::Svg;
use super::terminal::leaderboard;
use super::trial_view::trial_html;
use crate::automodel::SearchResult;
use crate::error::Result;
use crate::export::Model;
use crate::graph::Summary;
use crate::tuners::Trial;

/// A plot, or an image that says why it could not be drawn.
fn or_message(r: Result<Svg>) -> Svg {
    r.unwrap_or_else(|e| Svg::message(&e.to_string(), PLOT_SIZE))
}

impl SearchResult {
    /// The result as an HTML fragment: the overview, the final model's facts and the
    /// sortable leaderboard with the best trial highlighted.
    pub fn to_html(&self) -> String {
        let mut s = String::from("<h2>Search result</h2>");
        s += &overview(&self.trials);
        s += &format!(
            "<p>Best trial <b>{}</b>; final fit: {}; {} s in all; model saved in <code>{}</code>.</p>",
            escape(&self.best_trial),
            if self.final_fit { "yes" } else { "no" },
            num(Some(self.wall_seconds), 1),
            escape(&self.model_path.display().to_string())
        );
        s += &leaderboard_table(&self.trials);
        fragment(&s)
    }

    /// The result as plain text: the best trial, the final fit and the leaderboard, best first.
    pub fn to_text(&self) -> String {
        let board: Vec<Trial> = ranked(&self.trials).into_iter().cloned().collect();
        format!(
            "Search result: {} trial(s), best trial {}; final fit: {}; {:.1} s in all; model saved in {}\n{}",
            self.trials.len(),
            self.best_trial,
            if self.final_fit { "yes" } else { "no" },
            self.wall_seconds,
            self.model_path.display(),
            leaderboard(&board)
        )
    }

    /// Shows [`SearchResult::to_html`] in evcxr ([`SearchResult::to_text`] as the fallback).
    pub fn evcxr_display(&self) {
        evcxr_print_html(&self.to_html(), &self.to_text());
    }

    /// The validation loss of each trial with the best so far (see
    /// [`crate::display::plots::objective_plot`]).
    pub fn plot_trials(&self) -> Svg {
        or_message(objective_plot(&self.trials))
    }

    /// Training and validation loss per epoch of every trial.
    pub fn plot_learning_curves(&self) -> Svg {
        or_message(learning_curves_plot(&self.trials))
    }

    /// One hyperparameter (full name, e.g. `"optimizer"` or `"conv_block_1/filters_0_0"`)
    /// against the objective; an unknown name is [`crate::Error::Config`] listing the known
    /// ones.
    pub fn plot_hyperparameter(&self, name: &str) -> Result<Svg> {
        hyperparameter_plot(&self.trials, name)
    }
}

impl Trial {
    /// The trial as an HTML fragment: facts, hyperparameters and learning curves.
    pub fn to_html(&self) -> String {
        trial_html(self)
    }

    /// The trial as plain text: status, objective, parameters, time and hyperparameters.
    pub fn to_text(&self) -> String {
        let status = self.status.as_str().to_ascii_lowercase();
        let mut s = format!(
            "Trial {} ({status}): validation loss {}, {} epoch(s), {:.1} s",
            self.trial_id,
            num(self.score, 4),
            self.history.len(),
            self.seconds
        );
        if let Some(a) = self.best_metrics.and_then(|m| m.accuracy) {
            s += &format!(", validation accuracy {a:.4}");
        }
        if let Some(p) = self.params {
            s += &format!(", {p} parameters");
        }
        if let Some(r) = &self.reason {
            s += &format!("\nFailure: {r}");
        }
        for (k, v) in self.hyperparameters.active_values() {
            s += &format!("\n  {k} = {v}");
        }
        s
    }

    /// Shows [`Trial::to_html`] in evcxr ([`Trial::to_text`] as the fallback).
    pub fn evcxr_display(&self) {
        evcxr_print_html(&self.to_html(), &self.to_text());
    }

    /// This trial's training and validation loss per epoch.
    pub fn plot_learning_curves(&self) -> Svg {
        or_message(learning_curves_plot(std::slice::from_ref(self)))
    }
}

impl Summary {
    /// The summary as searchable HTML (see [`crate::display::summary_view`]).
    pub fn to_html(&self) -> String {
        summary_html(self)
    }

    /// Shows [`Summary::to_html`] in evcxr (the text table as the fallback).
    pub fn evcxr_display(&self) {
        evcxr_print_html(&self.to_html(), &self.to_string());
    }
}

impl Model {
    /// The model's summary as searchable HTML.
    pub fn summary_html(&self) -> Result<String> {
        Ok(self.summary()?.to_html())
    }

    /// Shows the model's summary in evcxr (or why it could not be made), the text table as the
    /// fallback.
    pub fn evcxr_display(&self) {
        match self.summary() {
            Ok(sum) => sum.evcxr_display(),
            Err(e) => evcxr_print_html(
                &fragment(&format!("<p>No summary: {}</p>", escape(&e.to_string()))),
                &format!("No summary: {e}"),
            ),
        }
    }
}

impl ConfusionMatrix {
    /// The matrix as a text table: true classes down, predicted across, and the accuracy.
    pub fn to_text(&self) -> String {
        let w = self
            .classes
            .iter()
            .map(|c| c.chars().count())
            .chain(self.counts.iter().flatten().map(|n| n.to_string().len()))
            .max()
            .unwrap_or(1)
            .max(4);
        let mut s = format!("{:>w$} |", "true");
        for c in &self.classes {
            s += &format!(" {c:>w$}");
        }
        s += "  (columns: predicted)\n";
        for (c, row) in self.classes.iter().zip(&self.counts) {
            s += &format!("{c:>w$} |");
            for n in row {
                s += &format!(" {n:>w$}");
            }
            s += "\n";
        }
        s + &format!("accuracy {:.4}", self.accuracy())
    }
}
