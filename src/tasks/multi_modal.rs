//! MultiModal: AutoKeras's functional AutoModel — several inputs (images, numbers, texts,
//! tables, windows of series), each through its own blocks, merged, optionally more blocks, then
//! one or more heads (multi-modal and multi-task).

use super::outcome::Outcome;
use crate::automodel::{AutoModel, InputScaling, ProgressFn, SearchConfig, SearchResult};
use crate::blocks::Block;
use crate::data::{ImageData, Targets};
use crate::error::{Error, Result};
use crate::export::{Model, Predictions};
use crate::graph::{HeadKind, Merge};
use crate::heads::{Head, MultiHead};
use crate::hyperparameters::{Tunable, Value};
use crate::inputs::{
    check_inputs, encode, fit_input, pack, to_inputs, Input, InputBranch, InputData, InputKind,
    InputsBlock,
};
use crate::preprocessing::{LabelEncoder, Preprocessing};
use crate::training::{Metrics, TrainData};
use std::collections::BTreeMap;
use std::sync::Arc;

/// A search over a graph of inputs → blocks → merge → blocks → heads.
///
/// Inputs are declared in order with [`MultiModal::input`] and given in the same order to
/// `fit`, `predict` and `evaluate`, as one [`InputData`] each: arrays for image and numeric
/// inputs, raw strings for text inputs, DataFrames for structured-data inputs, windows for
/// time-series inputs. Text inputs get a tokenizer and tables column encoders, fitted on the
/// training values and saved with the model, so that the exported model predicts from raw
/// strings and tables too.
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
///
/// Texts and a table (their default blocks: `TextBlock`, `StructuredDataBlock`):
///
/// ```no_run
/// use autocandle::prelude::*;
/// use autocandle::heads::{ClassificationHead, RegressionHead};
/// let table = autocandle::data::read_csv("passengers.csv")?; // feature columns only
/// let notes: Vec<String> = vec!["travelled with her sister".into(); table.height()];
/// # let (survived, fare) = (Targets::Int(vec![0; table.height()]), Targets::Float { values: vec![0.0; table.height()], dim: 1 });
/// let mut search = MultiModal::new(SearchConfig { max_trials: 2, ..Default::default() })
///     .input(InputKind::Text, vec![])
///     .input(InputKind::StructuredData, vec![])
///     .head(ClassificationHead::new(2))
///     .head(RegressionHead::new(1));
/// search.fit(&[InputData::from(&notes), InputData::from(&table)], &[&survived, &fare], None)?;
/// let per_head = search.predict(&[InputData::from(&notes), InputData::from(&table)])?;
/// # Ok::<(), autocandle::Error>(())
/// ```
pub struct MultiModal {
    /// Search settings.
    pub config: SearchConfig,
    /// How the inputs' branches are joined.
    pub merge: Merge,
    /// Configurations the greedy tuner tries first (partial; the rest are the blocks'
    /// defaults). By default one: every block's defaults, except that the default `TextBlock`
    /// of a text input starts as TF-IDF → Dense (the text tasks' first configuration).
    pub initial_hps: Vec<BTreeMap<String, Value>>,
    inputs: Vec<(Input, Vec<Arc<dyn Block>>)>,
    blocks: Vec<Arc<dyn Block>>,
    heads: Vec<Arc<dyn Head>>,
    progress: Option<ProgressFn>,
    outcome: Outcome,
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
            outcome: Outcome::default(),
        }
    }

    /// Adds an input (an [`InputKind`] with default settings, or an [`Input`] with its own)
    /// and the blocks of its branch, in order; no blocks gives the kind's default block
    /// (`ImageBlock`, `DenseBlock`, `TextBlock`, `StructuredDataBlock`, `TimeseriesBlock`).
    /// The blocks of a text input take token ids `[sequence_length, 1, 1]`; to shape its
    /// `TextBlock`, set [`TextInput::block`](crate::inputs::TextInput::block) and give no blocks.
    pub fn input(mut self, input: impl Into<Input>, blocks: Vec<Box<dyn Block>>) -> Self {
        self.inputs
            .push((input.into(), blocks.into_iter().map(Arc::from).collect()));
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

    /// Searches: `x` holds one value per input (arrays, texts, tables or windows; see
    /// [`InputData`]) and `y` one set of targets per head, row `i` of each being sample `i`.
    /// Text and table encoders are fitted on `x`. `validation` defaults to a seeded split.
    pub fn fit<'a, X: Clone + Into<InputData<'a>>>(
        &mut self,
        x: &[X],
        y: &[&Targets],
        validation: Option<(&[X], &[&Targets])>,
    ) -> Result<&SearchResult> {
        if self.inputs.is_empty() || self.heads.is_empty() {
            return Err(Error::Config(
                "a MultiModal search needs at least one input and one head".into(),
            ));
        }
        let x = to_inputs(x);
        let kinds: Vec<InputKind> = self.inputs.iter().map(|(i, _)| i.kind()).collect();
        check_inputs(&x, &kinds)?;
        let encoders = self.head_encoders(y)?;
        let mut branches: Vec<InputBranch> = Vec::with_capacity(x.len());
        let mut arrays = Vec::with_capacity(x.len());
        for (k, ((input, blocks), data)) in self.inputs.iter().zip(&x).enumerate() {
            let (branch, array) = fit_input(k, input, blocks, data)?;
            branches.push(branch);
            arrays.push(array);
        }
        let specs: Vec<_> = branches.iter().map(|b| b.spec.clone()).collect();
        let prep = Preprocessing {
            inputs: specs.clone(),
            head_encoders: encoders,
            ..Default::default()
        };
        let refs: Vec<&ImageData> = arrays.iter().map(|a| a.as_ref()).collect();
        let train = TrainData {
            x: pack(&refs, &specs)?,
            y: prep.encode_head_targets(y)?,
        };
        drop(arrays);
        let val = match validation {
            Some((vx, vy)) => Some(TrainData {
                x: encode(&to_inputs(vx), &specs)?,
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
        auto_model.initial_hps = self.initial_hps();
        if let Some(p) = self.progress.take() {
            auto_model.on_progress(p);
        }
        let head = MultiHead {
            heads: self.heads.clone(),
        };
        let (model, result) =
            auto_model.fit_train_data(&head, train, val, prep, InputScaling::None)?;
        Ok(self.outcome.set(model, result))
    }

    /// The user's initial configurations; untouched, the blocks' defaults with each default
    /// TextBlock whose family is searched starting as TF-IDF of n-grams → one dense layer.
    fn initial_hps(&self) -> Vec<BTreeMap<String, Value>> {
        if self.initial_hps != vec![BTreeMap::new()] {
            return self.initial_hps.clone();
        }
        let mut first = BTreeMap::new();
        for (k, (input, blocks)) in self.inputs.iter().enumerate() {
            let Input::Text(text) = input else { continue };
            if !blocks.is_empty() || text.block.block_type != Tunable::Tune {
                continue;
            }
            let tb = format!("input_{}/{}", k + 1, text.block.name);
            let db = format!("{tb}/dense_block_1");
            first.insert(format!("{tb}/block_type"), Value::from("ngram"));
            first.insert(format!("{db}/num_layers"), Value::from(1i64));
            first.insert(format!("{db}/units_0"), Value::from(32i64));
            first.insert(format!("{db}/use_batchnorm"), Value::from(false));
            first.insert(format!("{db}/dropout"), Value::from(0.5));
        }
        vec![first]
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
        self.outcome.model()
    }

    /// Each head's predictions for the inputs `x` (one raw value per input).
    pub fn predict<'a, X: Clone + Into<InputData<'a>>>(&self, x: &[X]) -> Result<Vec<Predictions>> {
        self.model()?.predict_inputs(x)
    }

    /// Each head's loss and metrics on the inputs `x` with one set of targets per head.
    pub fn evaluate<'a, X: Clone + Into<InputData<'a>>>(
        &self,
        x: &[X],
        y: &[&Targets],
    ) -> Result<Vec<Metrics>> {
        self.model()?.evaluate_inputs(x, y)
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
