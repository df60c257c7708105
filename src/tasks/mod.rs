//! Tasks: thin presets of [`AutoModel`](crate::automodel::AutoModel), one per kind of problem.

mod image_classifier;
mod image_regressor;
mod multi_modal;

pub use image_classifier::ImageClassifier;
pub use image_regressor::ImageRegressor;
pub use multi_modal::MultiModal;
