//! Rich output in notebooks: `evcxr_display` for the types a notebook shows (evcxr, the Rust
//! Jupyter kernel, calls a method of that name on a cell's value and reads what it prints), and
//! plot shortcuts on [`SearchResult`].

use super::html::{escape, evcxr_print, fragment, num};
use super::leaderboard::leaderboard_table;
use super::plots::{hyperparameter_plot, learning_curves_plot, objective_plot, PLOT_SIZE};
use super::report::overview;
use super::summary_view::summary_html;
use super::svg::Svg;
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

    /// Shows [`SearchResult::to_html`] in evcxr.
    pub fn evcxr_display(&self) {
        evcxr_print("text/html", &self.to_html());
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

    /// Shows [`Trial::to_html`] in evcxr.
    pub fn evcxr_display(&self) {
        evcxr_print("text/html", &self.to_html());
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

    /// Shows [`Summary::to_html`] in evcxr.
    pub fn evcxr_display(&self) {
        evcxr_print("text/html", &self.to_html());
    }
}

impl Model {
    /// The model's summary as searchable HTML.
    pub fn summary_html(&self) -> Result<String> {
        Ok(self.summary()?.to_html())
    }

    /// Shows the model's summary in evcxr (or why it could not be made).
    pub fn evcxr_display(&self) {
        let html = self.summary_html().unwrap_or_else(|e| {
            fragment(&format!("<p>No summary: {}</p>", escape(&e.to_string())))
        });
        evcxr_print("text/html", &html);
    }
}
