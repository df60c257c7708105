//! ImageRegressor.

use super::image_classifier::{fit_initial_hps, initial_hps};
use super::outcome::Outcome;
use crate::automodel::{AutoModel, ProgressFn, SearchConfig, SearchResult};
use crate::blocks::ImageBlock;
use crate::data::{ImageData, ImageDataset, Targets};
use crate::error::{Error, Result};
use crate::export::{Model, Predictions};
use crate::heads::RegressionHead;
use crate::training::Metrics;

const HEAD: &str = "regression_head_1";

/// Finds an image regression network: ImageBlock → RegressionHead (mean squared error).
pub struct ImageRegressor {
    /// The search.
    pub auto_model: AutoModel,
    outcome: Outcome,
}

impl ImageRegressor {
    /// A regressor searching with `config`.
    pub fn new(config: SearchConfig) -> Self {
        let mut auto_model = AutoModel::new(vec![Box::new(ImageBlock::default())], config);
        auto_model.task = "ImageRegressor".into();
        auto_model.initial_hps = initial_hps(HEAD, false);
        ImageRegressor {
            auto_model,
            outcome: Outcome::default(),
        }
    }

    /// Sets the progress callback.
    pub fn on_progress(&mut self, f: ProgressFn) -> &mut Self {
        self.auto_model.on_progress(f);
        self
    }

    /// Searches, then retrains the best network on all the data.
    pub fn fit(
        &mut self,
        train: &ImageDataset,
        validation: Option<&ImageDataset>,
    ) -> Result<&SearchResult> {
        let dim = match &train.y {
            Targets::Float { dim, .. } => *dim,
            Targets::Int(_) => 1,
            Targets::Str(_) => {
                return Err(Error::Config(
                    "regression targets must be numbers, got strings".into(),
                ))
            }
        };
        fit_initial_hps(&mut self.auto_model, HEAD, &train.x);
        let head = RegressionHead::new(dim);
        let (model, result) = self.auto_model.fit_images(&head, train, validation, None)?;
        Ok(self.outcome.set(model, result))
    }

    fn model(&self) -> Result<&Model> {
        self.outcome.model()
    }

    /// Predicted values.
    pub fn predict(&self, x: &ImageData) -> Result<Predictions> {
        self.model()?.predict(x)
    }

    /// MSE and MAE on labelled data.
    pub fn evaluate(&self, data: &ImageDataset) -> Result<Metrics> {
        self.model()?.evaluate(data)
    }

    /// The search's outcome, after `fit`.
    pub fn result(&self) -> Option<&SearchResult> {
        self.outcome.result()
    }

    /// The final model.
    pub fn export_model(&mut self) -> Result<Model> {
        self.outcome.export_model()
    }
}
