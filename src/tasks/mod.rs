//! Tasks: thin presets of [`AutoModel`](crate::automodel::AutoModel), one per kind of problem.

mod image_classifier;
mod image_regressor;
mod structured_data;
mod structured_data_classifier;
mod structured_data_regressor;

pub use image_classifier::ImageClassifier;
pub use image_regressor::ImageRegressor;
pub use structured_data_classifier::{ClassWeight, StructuredDataClassifier};
pub use structured_data_regressor::StructuredDataRegressor;
