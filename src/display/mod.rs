//! Rendering of searches, models and data for people: the terminal (indicatif bars and
//! leaderboard tables), plain progress lines for notebooks and logs, self-contained HTML views
//! and SVG plots for notebooks and reports, and the evcxr display methods (`evcxr_display`,
//! HTML or SVG with a `text/plain` fallback) of [`crate::automodel::SearchResult`],
//! [`crate::tuners::Trial`], [`crate::graph::Summary`], [`crate::Model`], the datasets
//! ([`crate::data::ImageDataset`], [`crate::data::TextDataset`], [`crate::data::TimeSeries`])
//! and polars `DataFrame`s (through [`DataFramePreview`]). The library depends on this module
//! only for the progress of a search given no callback ([`progress::auto`]).

pub mod columns_view;
pub mod confusion;
pub mod hp_plot;
pub mod html;
pub mod leaderboard;
mod notebook;
pub mod plots;
pub mod predictions;
pub mod preview;
pub mod progress;
pub mod report;
pub mod series_plot;
pub mod summary_view;
pub mod svg;
pub mod terminal;
pub mod trial_view;

pub use confusion::{confusion_matrix_plot, ConfusionMatrix};
pub use leaderboard::leaderboard_html;
pub use plots::{hyperparameter_plot, learning_curves_plot, objective_plot};
pub use preview::HtmlView;
#[cfg(feature = "tables")]
pub use preview::{dataframe_head, DataFramePreview};
pub use progress::NotebookProgress;
pub use report::report_html;
pub use series_plot::{evaluation_plot, forecast_plot, series_plot};
pub use summary_view::summary_html;
pub use svg::{save_svg, Svg};
pub use trial_view::trial_html;
