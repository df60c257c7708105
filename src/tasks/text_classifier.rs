//! TextClassifier.

use super::text::{initial_hps, TextSearch};
use crate::automodel::{AutoModel, ProgressFn, SearchConfig, SearchResult};
use crate::blocks::TextBlock;
use crate::data::TextDataset;
use crate::error::Result;
use crate::export::{Model, Predictions};
use crate::heads::ClassificationHead;
use crate::preprocessing::LabelEncoder;
use crate::training::Metrics;

const HEAD: &str = "classification_head_1";

/// Finds a text classification network: tokenizer → TextBlock (vanilla / transformer / ngram /
/// rnn) → ClassificationHead. The tokenizer is fitted on the training texts and saved with the
/// model, so `predict` takes raw strings.
///
/// ```no_run
/// use autocandle::prelude::*;
/// let imdb = autocandle::datasets::imdb(None, ImdbTarget::Sentiment)?;
/// let mut clf = TextClassifier::new(SearchConfig { max_trials: 3, seed: 1, ..Default::default() });
/// clf.fit(&imdb.train, None)?;
/// println!("{:?}", clf.evaluate(&imdb.test)?);
/// let labels = clf.predict(&["A wonderful film.", "Dull and far too long."])?;
/// # Ok::<(), autocandle::Error>(())
/// ```
pub struct TextClassifier {
    inner: TextSearch,
}

impl TextClassifier {
    /// A classifier searching with `config`.
    pub fn new(config: SearchConfig) -> Self {
        let mut auto_model = AutoModel::new(vec![], config);
        auto_model.task = "TextClassifier".into();
        auto_model.initial_hps = initial_hps(HEAD);
        TextClassifier {
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

    /// Sets the size of the tokenizer's vocabulary and of the n-gram table (default 20,000):
    /// the largest `max_tokens` a network can use.
    pub fn max_tokens(&mut self, n: usize) -> &mut Self {
        self.inner.max_tokens = n;
        self
    }

    /// Sets how many tokens of each text are kept (default 512); sequence networks take the
    /// first `sequence_length` of them.
    pub fn sequence_length(&mut self, n: usize) -> &mut Self {
        self.inner.sequence_length = n;
        self
    }

    /// Sets the progress callback.
    pub fn on_progress(&mut self, f: ProgressFn) -> &mut Self {
        self.inner.auto_model.on_progress(f);
        self
    }

    /// Searches for the best network, then retrains it (the final fit). `validation` defaults
    /// to a seeded split of `train` (`validation_split`).
    pub fn fit(
        &mut self,
        train: &TextDataset,
        validation: Option<&TextDataset>,
    ) -> Result<&SearchResult> {
        let encoder = LabelEncoder::fit(&train.y)?;
        let head = ClassificationHead::new(encoder.classes.len());
        self.inner.fit(&head, train, validation, Some(encoder))
    }

    /// The labels predicted for `texts`.
    pub fn predict<S: AsRef<str> + Sync>(&self, texts: &[S]) -> Result<Predictions> {
        self.inner.model()?.predict_texts(texts)
    }

    /// Class probabilities for `texts`.
    pub fn predict_proba<S: AsRef<str> + Sync>(&self, texts: &[S]) -> Result<Vec<Vec<f32>>> {
        self.inner.model()?.predict_proba_texts(texts)
    }

    /// Loss and accuracy on labelled texts.
    pub fn evaluate(&self, data: &TextDataset) -> Result<Metrics> {
        self.inner.model()?.evaluate_texts(data)
    }

    /// The search's outcome, after `fit`.
    pub fn result(&self) -> Option<&SearchResult> {
        self.inner.result()
    }

    /// The final model (architecture, weights, tokenizer), to save or use on its own.
    pub fn export_model(&mut self) -> Result<Model> {
        self.inner.export_model()
    }
}
