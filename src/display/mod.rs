//! Rendering of searches and models for people: the terminal (indicatif bars and leaderboard
//! tables), self-contained HTML views and SVG plots for notebooks and reports, and the evcxr
//! display methods (`evcxr_display`) of [`crate::automodel::SearchResult`],
//! [`crate::tuners::Trial`], [`crate::graph::Summary`] and [`crate::Model`]. Nothing in the
//! library depends on this module; the CLI and notebooks use it.

pub mod confusion;
pub mod hp_plot;
pub mod html;
pub mod leaderboard;
mod notebook;
pub mod plots;
pub mod report;
pub mod summary_view;
pub mod svg;
pub mod terminal;
pub mod trial_view;

pub use confusion::{confusion_matrix_plot, ConfusionMatrix};
pub use leaderboard::leaderboard_html;
pub use plots::{hyperparameter_plot, learning_curves_plot, objective_plot};
pub use report::report_html;
pub use summary_view::summary_html;
pub use svg::{save_svg, Svg};
pub use trial_view::trial_html;
