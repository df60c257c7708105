//! What a task keeps after `fit`: the final model and the search's outcome.

use crate::automodel::SearchResult;
use crate::error::{Error, Result};
use crate::export::Model;

/// The final model (until exported) and the search result of a task's last `fit`.
#[derive(Default)]
pub(crate) struct Outcome {
    model: Option<Model>,
    result: Option<SearchResult>,
}

impl Outcome {
    /// Keeps a finished search's model and result; returns the result.
    pub(crate) fn set(&mut self, model: Model, result: SearchResult) -> &SearchResult {
        self.model = Some(model);
        self.result.insert(result)
    }

    /// The final model; an error before `fit` or after `export_model`.
    pub(crate) fn model(&self) -> Result<&Model> {
        self.model.as_ref().ok_or_else(|| {
            Error::Config(
                "no model: call fit first (after export_model, use the exported model)".into(),
            )
        })
    }

    /// The search's outcome, after `fit`.
    pub(crate) fn result(&self) -> Option<&SearchResult> {
        self.result.as_ref()
    }

    /// Hands the final model over (once).
    pub(crate) fn export_model(&mut self) -> Result<Model> {
        self.model
            .take()
            .ok_or_else(|| Error::Config("call fit before export_model".into()))
    }
}
