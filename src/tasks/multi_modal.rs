//! MultiModal: AutoKeras's functional AutoModel — several inputs, each through its own blocks,
//! merged, optionally more blocks, then one or more heads (multi-modal and multi-task).

use crate::automodel::{AutoModel, InputScaling, ProgressFn, SearchConfig, SearchResult};
use crate::blocks::Block;
use crate::data::{ImageData, Targets};
use crate::error::{Error, Result};
use crate::export::{Model, Predictions};
use crate::graph::{HeadKind, Merge};
use crate::heads::{Head, MultiHead};
use crate::hyperparameters::Value;
use crate::inputs::{pack, InputBranch, InputKind, InputsBlock};
use crate::preprocessing::{LabelEncoder, Preprocessing};
use crate::training::{Metrics, TrainData};
use std::collections::BTreeMap;
use std::sync::Arc;

/// A search over a graph of inputs → blocks → merge → blocks → heads.
///
/// ```no_run
/// use autocandle::prelude::*;
/// use autocandle::blocks::{DenseBlock, ImageBlock};
/// use autocandle::heads::{ClassificationHead, RegressionHead};
/// let digits = autocandle::datasets::digits()?;
/// let n = digits.len();
/// // A second input: one number per image; a second target: that number doubled.
/// let ink: Vec<f32> = (0..n).map(|i| (0..64).map(|j| digits.x.pixels.get(i * 64 + j)).sum::<f32>() / 64.0).collect();
/// let numbers = ImageData::from_f32(ink.clone(), &[n, 1, 1, 1])?;
/// let doubled = Targets::Float { values: ink.iter().map(|v| 2.0 * v).collect(), dim: 1 };
/// let mut search = MultiModal::new(SearchConfig { max_trials: 1, ..Default::default() })
///     .input(InputKind::Image, vec![Box::new(ImageBlock::default())])
///     .input(InputKind::Numeric, vec![Box::new(DenseBlock::default())])
///     .head(ClassificationHead::new(10))
///     .head(RegressionHead::new(1));
/// search.fit(&[&digits.x, &numbers], &[&digits.y, &doubled], None)?;
/// let per_head = search.predict(&[&digits.x, &numbers])?;
/// assert_eq!(per_head.len(), 2);
/// # Ok::<(), autocandle::Error>(())
/// ```
pub struct MultiModal {
    /// Search settings.
    pub config: SearchConfig,
    /// How the inputs' branches are joined.
    pub merge: Merge,
    /// Configurations the greedy tuner tries first (partial; the rest are the blocks'
    /// defaults). By default one: every block's defaults.
    pub initial_hps: Vec<BTreeMap<String, Value>>,
    inputs: Vec<(InputKind, Vec<Arc<dyn Block>>)>,
    blocks: Vec<Arc<dyn Block>>,
    heads: Vec<Arc<dyn Head>>,
    progress: Option<ProgressFn>,
    model: Option<Model>,
    result: Option<SearchResult>,
}

impl MultiModal {
    /// An empty graph searching with `config`; add inputs and heads.
    pub fn new(config: SearchConfig) -> Self {
        MultiModal {
            config,
            merge: Merge::Concatenate,
            initial_hps: vec![BTreeMap::new()],
            inputs: vec![],
            blocks: vec![],
            heads: vec![],
            progress: None,
            model: None,
            result: None,
        }
    }

    /// Adds an input and the blocks of its branch (in order).
    pub fn input(mut self, kind: InputKind, blocks: Vec<Box<dyn Block>>) -> Self {
        self.inputs
            .push((kind, blocks.into_iter().map(Arc::from).collect()));
        self
    }

    /// Adds a block after the merge.
    pub fn block(mut self, block: impl Block + 'static) -> Self {
        self.blocks.push(Arc::new(block));
        self
    }

    /// Adds a head; targets are given in the order of the heads.
    pub fn head(mut self, head: impl Head + 'static) -> Self {
        self.heads.push(Arc::new(head));
        self
    }

    /// Sets the progress callback.
    pub fn on_progress(&mut self, f: ProgressFn) -> &mut Self {
        self.progress = Some(f);
        self
    }

    /// Searches: `x` holds one array per input and `y` one set of targets per head, row `i` of
    /// each being sample `i`. `validation` defaults to a seeded split.
    pub fn fit(
        &mut self,
        x: &[&ImageData],
        y: &[&Targets],
        validation: Option<(&[&ImageData], &[&Targets])>,
    ) -> Result<&SearchResult> {
        if self.inputs.is_empty() || self.heads.is_empty() {
            return Err(Error::Config(
                "a MultiModal search needs at least one input and one head".into(),
            ));
        }
        if x.len() != self.inputs.len() {
            return Err(Error::Config(format!(
                "the graph has {} inputs but {} arrays were given; pass one per input, in order",
                self.inputs.len(),
                x.len()
            )));
        }
        let encoders = self.head_encoders(y)?;
        let branches: Vec<InputBranch> = self
            .inputs
            .iter()
            .zip(x)
            .map(|((kind, blocks), x)| InputBranch::new(*kind, blocks.clone(), x))
            .collect();
        let specs: Vec<_> = branches.iter().map(|b| b.spec.clone()).collect();
        let prep = Preprocessing {
            inputs: specs.clone(),
            head_encoders: encoders,
            ..Default::default()
        };
        let train = TrainData {
            x: pack(x, &specs)?,
            y: prep.encode_head_targets(y)?,
        };
        let val = match validation {
            Some((vx, vy)) => Some(TrainData {
                x: pack(vx, &specs)?,
                y: prep.encode_head_targets(vy)?,
            }),
            None => None,
        };
        let mut blocks: Vec<Box<dyn Block>> = vec![Box::new(InputsBlock {
            branches,
            merge: self.merge,
        })];
        blocks.extend(
            self.blocks
                .iter()
                .map(|b| Box::new(b.clone()) as Box<dyn Block>),
        );
        let mut auto_model = AutoModel::new(blocks, self.config.clone());
        auto_model.initial_hps = self.initial_hps.clone();
        if let Some(p) = self.progress.take() {
            auto_model.on_progress(p);
        }
        let head = MultiHead {
            heads: self.heads.clone(),
        };
        let (model, result) =
            auto_model.fit_train_data(&head, train, val, prep, InputScaling::None)?;
        self.model = Some(model);
        Ok(self.result.insert(result))
    }

    /// A label encoder for each classification head, checked against the head's class count.
    fn head_encoders(&self, y: &[&Targets]) -> Result<Vec<Option<LabelEncoder>>> {
        if y.len() != self.heads.len() {
            return Err(Error::Config(format!(
                "the graph has {} heads but {} sets of targets were given; pass one per head, in order",
                self.heads.len(),
                y.len()
            )));
        }
        self.heads
            .iter()
            .zip(y)
            .map(|(h, y)| match h.kind() {
                HeadKind::Classification { num_classes, .. } => {
                    let enc = LabelEncoder::fit(y)?;
                    if enc.classes.len() != num_classes {
                        return Err(Error::Config(format!(
                            "head {} was made for {num_classes} classes but its targets hold {}; use ClassificationHead::new({})",
                            h.name(),
                            enc.classes.len(),
                            enc.classes.len()
                        )));
                    }
                    Ok(Some(enc))
                }
                _ => Ok(None),
            })
            .collect()
    }

    fn model(&self) -> Result<&Model> {
        self.model.as_ref().ok_or_else(|| {
            Error::Config("call fit before predict, evaluate or export_model".into())
        })
    }

    /// Each head's predictions for the inputs `x` (one array per input).
    pub fn predict(&self, x: &[&ImageData]) -> Result<Vec<Predictions>> {
        self.model()?.predict_inputs(x)
    }

    /// Each head's loss and metrics.
    pub fn evaluate(&self, x: &[&ImageData], y: &[&Targets]) -> Result<Vec<Metrics>> {
        self.model()?.evaluate_inputs(x, y)
    }

    /// The search's outcome, after `fit`.
    pub fn result(&self) -> Option<&SearchResult> {
        self.result.as_ref()
    }

    /// The final model, to save or use on its own.
    pub fn export_model(&mut self) -> Result<Model> {
        self.model
            .take()
            .ok_or_else(|| Error::Config("call fit before export_model".into()))
    }
}
