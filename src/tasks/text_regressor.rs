//! TextRegressor.

use super::text::{initial_hps, TextSearch};
use crate::automodel::{AutoModel, ProgressFn, SearchConfig, SearchResult};
use crate::blocks::TextBlock;
use crate::data::{Targets, TextDataset};
use crate::error::{Error, Result};
use crate::export::{Model, Predictions};
use crate::heads::RegressionHead;
use crate::training::Metrics;

const HEAD: &str = "regression_head_1";

/// Finds a text regression network: tokenizer → TextBlock → RegressionHead (mean squared
/// error). `predict` takes raw strings.
pub struct TextRegressor {
    inner: TextSearch,
}

impl TextRegressor {
    /// A regressor searching with `config`.
    pub fn new(config: SearchConfig) -> Self {
        let mut auto_model = AutoModel::new(vec![], config);
        auto_model.task = "TextRegressor".into();
        auto_model.initial_hps = initial_hps(HEAD);
        TextRegressor {
            inner: TextSearch::new(auto_model),
        }
    }

    /// The search (its settings and initial configurations).
    pub fn auto_model(&mut self) -> &mut AutoModel {
        &mut self.inner.auto_model
    }

    /// The search space: fix or restrict its arguments before `fit`.
    pub fn text_block(&mut self) -> &mut TextBlock {
        &mut self.inner.text_block
    }

    /// Sets the size of the tokenizer's vocabulary and of the n-gram table (default 20,000).
    pub fn max_tokens(&mut self, n: usize) -> &mut Self {
        self.inner.max_tokens = n;
        self
    }

    /// Sets how many tokens of each text are kept (default 512).
    pub fn sequence_length(&mut self, n: usize) -> &mut Self {
        self.inner.sequence_length = n;
        self
    }

    /// Sets the progress callback.
    pub fn on_progress(&mut self, f: ProgressFn) -> &mut Self {
        self.inner.auto_model.on_progress(f);
        self
    }

    /// Searches, then retrains the best network on all the data.
    pub fn fit(
        &mut self,
        train: &TextDataset,
        validation: Option<&TextDataset>,
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
        self.inner
            .fit(&RegressionHead::new(dim), train, validation, None)
    }

    /// Predicted values for `texts`.
    pub fn predict<S: AsRef<str> + Sync>(&self, texts: &[S]) -> Result<Predictions> {
        self.inner.model()?.predict_texts(texts)
    }

    /// MSE and MAE on labelled texts.
    pub fn evaluate(&self, data: &TextDataset) -> Result<Metrics> {
        self.inner.model()?.evaluate_texts(data)
    }

    /// The search's outcome, after `fit`.
    pub fn result(&self) -> Option<&SearchResult> {
        self.inner.result()
    }

    /// The final model.
    pub fn export_model(&mut self) -> Result<Model> {
        self.inner.export_model()
    }
}
