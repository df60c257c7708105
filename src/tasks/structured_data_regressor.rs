//! StructuredDataRegressor.

use super::outcome::Outcome;
use super::structured_data::{
    block, csv, default_config, fit_encoder, fit_initial_hps, initial_hps,
};
use crate::automodel::{AutoModel, InputScaling, ProgressFn, SearchConfig, SearchResult};
use crate::data::ImageDataset;
use crate::error::Result;
use crate::export::{Model, Predictions};
use crate::heads::RegressionHead;
use crate::preprocessing::{regression_targets, Preprocessing, TableSpec, TargetScaler};
use crate::training::Metrics;
use polars::prelude::DataFrame;
use std::path::Path;

const HEAD: &str = "regression_head_1";

/// Finds a regression network for a table: StructuredDataBlock → RegressionHead (mean squared
/// error).
///
/// The target is standardised with its training mean and deviation for training; `predict`
/// and `evaluate` give values and errors in the target's own units. During the search, the
/// trials' validation losses are in standardised units.
///
/// ```no_run
/// use autocandle::prelude::*;
/// let df = autocandle::datasets::california_housing("data/california_housing")?;
/// let (train, test) = autocandle::data::train_test_split(&df, 0.2, 42)?;
/// let mut reg = StructuredDataRegressor::new(StructuredDataRegressor::default_config());
/// reg.fit(&train, "medianHouseValue", None)?;
/// println!("test MSE {:?}", reg.evaluate(&test)?.mse);
/// # Ok::<(), autocandle::Error>(())
/// ```
pub struct StructuredDataRegressor {
    /// The search.
    pub auto_model: AutoModel,
    /// The feature columns, their types and the encoding of numbers.
    pub table: TableSpec,
    outcome: Outcome,
}

impl StructuredDataRegressor {
    /// A regressor searching with `config`; see [`Self::default_config`] for settings that
    /// suit tables.
    pub fn new(config: SearchConfig) -> Self {
        let mut auto_model = AutoModel::new(vec![block()], config);
        auto_model.task = "StructuredDataRegressor".into();
        auto_model.initial_hps = initial_hps(HEAD, false);
        StructuredDataRegressor {
            auto_model,
            table: TableSpec::default(),
            outcome: Outcome::default(),
        }
    }

    /// Search settings that suit tables: 10 trials of up to 100 epochs, early stopping after
    /// 10 epochs without progress, batches of 64.
    pub fn default_config() -> SearchConfig {
        default_config()
    }

    /// Sets the progress callback.
    pub fn on_progress(&mut self, f: ProgressFn) -> &mut Self {
        self.auto_model.on_progress(f);
        self
    }

    /// Searches on the table `train` with the numeric column `target`, then retrains the best
    /// network on all the data. `validation` defaults to a seeded split of `train`.
    pub fn fit(
        &mut self,
        train: &DataFrame,
        target: &str,
        validation: Option<&DataFrame>,
    ) -> Result<&SearchResult> {
        let (mut columns, x) = fit_encoder(&self.table, train, target)?;
        fit_initial_hps(&mut self.auto_model, HEAD, train.height());
        let y = regression_targets(train, target)?;
        let scaler = TargetScaler::fit(&y);
        let data = ImageDataset::new(x, scaler.apply(&y))?;
        let val = match validation {
            Some(v) => Some(ImageDataset::new(
                columns.transform(v)?,
                scaler.apply(&regression_targets(v, target)?),
            )?),
            None => None,
        };
        columns.target_scaler = Some(scaler);
        let prep = Preprocessing {
            columns: Some(columns),
            ..Default::default()
        };
        let head = RegressionHead::new(1);
        let (model, result) =
            self.auto_model
                .fit_encoded(&head, &data, val.as_ref(), prep, InputScaling::None)?;
        Ok(self.outcome.set(model, result))
    }

    /// [`Self::fit`] on CSV files.
    pub fn fit_csv(
        &mut self,
        train: impl AsRef<Path>,
        target: &str,
        validation: Option<&Path>,
    ) -> Result<&SearchResult> {
        let train = csv(train.as_ref())?;
        let val = validation.map(csv).transpose()?;
        self.fit(&train, target, val.as_ref())
    }

    fn model(&self) -> Result<&Model> {
        self.outcome.model()
    }

    /// Predicted values for the rows of `x`, in the target's units.
    pub fn predict(&self, x: &DataFrame) -> Result<Predictions> {
        self.model()?.predict_table(x)
    }

    /// Predicted values for the rows of a CSV file.
    pub fn predict_csv(&self, path: impl AsRef<Path>) -> Result<Predictions> {
        self.predict(&csv(path.as_ref())?)
    }

    /// MSE and MAE (in the target's units) on a table holding the target column.
    pub fn evaluate(&self, data: &DataFrame) -> Result<Metrics> {
        self.model()?.evaluate_table(data)
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
