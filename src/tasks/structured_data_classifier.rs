//! StructuredDataClassifier.

use super::outcome::Outcome;
use super::structured_data::{
    block, csv, default_config, fit_encoder, fit_initial_hps, initial_hps,
};
use crate::automodel::{AutoModel, InputScaling, ProgressFn, SearchConfig, SearchResult};
use crate::data::ImageDataset;
use crate::error::{Error, Result};
use crate::export::{Model, Predictions};
use crate::heads::ClassificationHead;
use crate::preprocessing::{class_targets, LabelEncoder, Preprocessing, TableSpec};
use crate::training::Metrics;
use polars::prelude::DataFrame;
use std::collections::BTreeMap;
use std::path::Path;

const HEAD: &str = "classification_head_1";

/// How the classes weigh in the training loss.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum ClassWeight {
    /// Every sample weighs the same.
    #[default]
    None,
    /// Each class weighs `n / (k * n_class)`: rare classes count as much as frequent ones in
    /// total (scikit-learn's `"balanced"`).
    Balanced,
    /// A weight per class label (as the label prints: `"1"`, `"yes"`); unnamed classes weigh 1.
    Manual(BTreeMap<String, f32>),
}

impl ClassWeight {
    /// The weight of each encoded class, given the training labels' class indices.
    fn weights(&self, encoder: &LabelEncoder, labels: &[u32]) -> Result<Option<Vec<f32>>> {
        let k = encoder.classes.len();
        match self {
            ClassWeight::None => Ok(None),
            ClassWeight::Balanced => {
                let mut counts = vec![0usize; k];
                for &l in labels {
                    counts[l as usize] += 1;
                }
                let n = labels.len() as f32;
                Ok(Some(
                    counts
                        .iter()
                        .map(|&c| n / (k as f32 * c.max(1) as f32))
                        .collect(),
                ))
            }
            ClassWeight::Manual(map) => {
                let names: Vec<String> = encoder.classes.iter().map(|c| c.to_string()).collect();
                if let Some(unknown) = map.keys().find(|k| !names.contains(k)) {
                    return Err(Error::Config(format!(
                        "class_weight names class {unknown:?}, which is not among the classes {names:?}"
                    )));
                }
                if let Some((c, w)) = map.iter().find(|(_, w)| !(w.is_finite() && **w >= 0.0)) {
                    return Err(Error::Config(format!(
                        "the weight of class {c:?} must be a non-negative number, got {w}"
                    )));
                }
                Ok(Some(
                    names
                        .iter()
                        .map(|n| map.get(n).copied().unwrap_or(1.0))
                        .collect(),
                ))
            }
        }
    }
}

/// Finds a classification network for a table: StructuredDataBlock → ClassificationHead.
///
/// Columns are typed and encoded as [`TableEncoder`](crate::preprocessing::TableEncoder) says;
/// the encoders travel with the model, so `predict` takes a raw DataFrame.
///
/// ```no_run
/// use autocandle::prelude::*;
/// let train = autocandle::data::read_csv("titanic/train.csv")?;
/// let test = autocandle::data::read_csv("titanic/eval.csv")?;
/// let mut clf = StructuredDataClassifier::new(SearchConfig {
///     max_trials: 10,
///     ..StructuredDataClassifier::default_config()
/// });
/// clf.fit(&train, "survived", None)?;
/// println!("{:?}", clf.evaluate(&test)?);
/// let labels = clf.predict(&test)?;
/// # Ok::<(), autocandle::Error>(())
/// ```
pub struct StructuredDataClassifier {
    /// The search.
    pub auto_model: AutoModel,
    /// The feature columns, their types and the encoding of numbers.
    pub table: TableSpec,
    /// Class weights in the training loss (for imbalanced targets).
    pub class_weight: ClassWeight,
    outcome: Outcome,
}

impl StructuredDataClassifier {
    /// A classifier searching with `config`; see [`Self::default_config`] for settings that
    /// suit tables.
    pub fn new(config: SearchConfig) -> Self {
        let mut auto_model = AutoModel::new(vec![block()], config);
        auto_model.task = "StructuredDataClassifier".into();
        auto_model.initial_hps = initial_hps(HEAD, false);
        StructuredDataClassifier {
            auto_model,
            table: TableSpec::default(),
            class_weight: ClassWeight::None,
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

    /// Searches for the best network on the table `train` with the label column `target`,
    /// then retrains it (the final fit). `validation` (a table with the same columns) defaults
    /// to a seeded split of `train` (`validation_split`).
    pub fn fit(
        &mut self,
        train: &DataFrame,
        target: &str,
        validation: Option<&DataFrame>,
    ) -> Result<&SearchResult> {
        let (columns, x) = fit_encoder(&self.table, train, target)?;
        fit_initial_hps(&mut self.auto_model, HEAD, train.height());
        let y = class_targets(train, target)?;
        let encoder = LabelEncoder::fit(&y)?;
        let weights = self.class_weight.weights(&encoder, &encoder.encode(&y)?)?;
        let data = ImageDataset::new(x, y)?;
        let val = match validation {
            Some(v) => Some(ImageDataset::new(
                columns.transform(v)?,
                class_targets(v, target)?,
            )?),
            None => None,
        };
        let head = ClassificationHead::new(encoder.classes.len());
        let prep = Preprocessing {
            label_encoder: Some(encoder),
            columns: Some(columns),
            ..Default::default()
        };
        self.auto_model.config.class_weights = weights;
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

    /// The labels predicted for the rows of `x` (a target column there is ignored).
    pub fn predict(&self, x: &DataFrame) -> Result<Predictions> {
        self.model()?.predict_table(x)
    }

    /// The labels predicted for the rows of a CSV file.
    pub fn predict_csv(&self, path: impl AsRef<Path>) -> Result<Predictions> {
        self.predict(&csv(path.as_ref())?)
    }

    /// Class probabilities for the rows of `x`.
    pub fn predict_proba(&self, x: &DataFrame) -> Result<Vec<Vec<f32>>> {
        self.model()?.predict_proba_table(x)
    }

    /// Loss and accuracy on a table holding the target column.
    pub fn evaluate(&self, data: &DataFrame) -> Result<Metrics> {
        self.model()?.evaluate_table(data)
    }

    /// The search's outcome, after `fit`.
    pub fn result(&self) -> Option<&SearchResult> {
        self.outcome.result()
    }

    /// The final model, to save or use on its own.
    pub fn export_model(&mut self) -> Result<Model> {
        self.outcome.export_model()
    }
}
