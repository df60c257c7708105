//! Tasks: thin presets of [`AutoModel`](crate::automodel::AutoModel), one per kind of problem.

mod image_classifier;
mod image_regressor;
mod text;
mod text_classifier;
mod text_regressor;

pub use image_classifier::ImageClassifier;
pub use image_regressor::ImageRegressor;
pub use text_classifier::TextClassifier;
pub use text_regressor::TextRegressor;
