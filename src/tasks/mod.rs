//! Tasks: thin presets of [`AutoModel`](crate::automodel::AutoModel), one per kind of problem.

mod image_classifier;
mod image_regressor;
mod multi_modal;
mod outcome;
mod timeseries_forecaster;

pub use image_classifier::ImageClassifier;
pub use image_regressor::ImageRegressor;
pub use multi_modal::MultiModal;
pub use timeseries_forecaster::{
    evaluate_forecasts, forecast, series_config, series_state, Forecast, ForecastMetrics,
    LookbackScore, TimeseriesForecaster,
};
mod text;
mod text_classifier;
mod text_regressor;
pub use text_classifier::TextClassifier;
pub use text_regressor::TextRegressor;
#[cfg(feature = "tables")]
mod structured_data;
#[cfg(feature = "tables")]
mod structured_data_classifier;
#[cfg(feature = "tables")]
mod structured_data_regressor;
#[cfg(feature = "tables")]
pub use structured_data_classifier::{ClassWeight, StructuredDataClassifier};
#[cfg(feature = "tables")]
pub use structured_data_regressor::StructuredDataRegressor;
