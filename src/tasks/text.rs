//! What the text tasks share: fitting the tokenizer and the n-gram table, encoding texts for
//! the search, the default initial configurations, and [`Model`]'s methods on raw strings.

use super::outcome::Outcome;
use crate::automodel::{AutoModel, InputScaling, SearchResult};
use crate::blocks::{TextBlock, TextStats};
use crate::data::{ImageData, ImageDataset, Pixels, TextDataset};
use crate::error::{Error, Result};
use crate::export::{Model, Predictions};
use crate::graph::NgramTable;
use crate::heads::Head;
use crate::hyperparameters::Value;
use crate::preprocessing::{LabelEncoder, Preprocessing, Tokenizer};
use crate::training::Metrics;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Default size of the tokenizer's vocabulary and of the n-gram table.
pub(crate) const MAX_TOKENS: usize = 20_000;
/// Default number of token ids kept per text.
pub(crate) const SEQUENCE_LENGTH: usize = 512;

fn v(x: impl Into<Value>) -> Value {
    x.into()
}

/// The configurations the greedy tuner tries first (for the head named `head`): TF-IDF of
/// unigrams and bigrams into a small dense layer (strong and fast on reviews), then cheap
/// sequence networks on the first tokens: a 1-D convolution with max pooling over time (128
/// tokens), a one-layer Transformer (64), a bidirectional GRU (128).
pub(crate) fn initial_hps(head: &str) -> Vec<BTreeMap<String, Value>> {
    let tb = "text_block_1";
    let mut ngram = BTreeMap::new();
    ngram.insert(format!("{tb}/block_type"), v("ngram"));
    ngram.insert(format!("{tb}/max_tokens"), v(20_000i64));
    let db = format!("{tb}/dense_block_1");
    ngram.insert(format!("{db}/num_layers"), v(1i64));
    ngram.insert(format!("{db}/units_0"), v(32i64));
    ngram.insert(format!("{db}/use_batchnorm"), v(false));
    ngram.insert(format!("{db}/dropout"), v(0.5));
    ngram.insert(format!("{head}/dropout"), v(0.0));
    ngram.insert("optimizer".into(), v("adam"));
    ngram.insert("learning_rate".into(), v(1e-3));

    let mut vanilla = BTreeMap::new();
    vanilla.insert(format!("{tb}/block_type"), v("vanilla"));
    vanilla.insert(format!("{tb}/max_tokens"), v(20_000i64));
    vanilla.insert(format!("{tb}/sequence_length"), v(128i64));
    vanilla.insert(format!("{tb}/embedding_1/embedding_dim"), v(64i64));
    vanilla.insert(format!("{tb}/embedding_1/dropout"), v(0.25));
    let cb = format!("{tb}/conv_block_1");
    vanilla.insert(format!("{cb}/kernel_size"), v(5i64));
    vanilla.insert(format!("{cb}/num_blocks"), v(1i64));
    vanilla.insert(format!("{cb}/num_layers"), v(1i64));
    vanilla.insert(format!("{cb}/filters_0_0"), v(64i64));
    vanilla.insert(format!("{cb}/max_pooling"), v(false));
    vanilla.insert(format!("{cb}/separable"), v(false));
    vanilla.insert(format!("{cb}/dropout"), v(0.0));
    vanilla.insert(
        format!("{tb}/spatial_reduction_1/reduction_type"),
        v("global_max"),
    );
    vanilla.insert(format!("{db}/num_layers"), v(1i64));
    vanilla.insert(format!("{db}/units_0"), v(64i64));
    vanilla.insert(format!("{db}/use_batchnorm"), v(false));
    vanilla.insert(format!("{db}/dropout"), v(0.25));
    vanilla.insert(format!("{head}/dropout"), v(0.0));
    vanilla.insert("optimizer".into(), v("adam"));
    vanilla.insert("learning_rate".into(), v(1e-3));

    let mut transformer = BTreeMap::new();
    transformer.insert(format!("{tb}/block_type"), v("transformer"));
    transformer.insert(format!("{tb}/max_tokens"), v(20_000i64));
    transformer.insert(format!("{tb}/sequence_length"), v(64i64));
    let tr = format!("{tb}/transformer_1");
    transformer.insert(format!("{tr}/embedding_dim"), v(64i64));
    transformer.insert(format!("{tr}/num_heads"), v(8i64));
    transformer.insert(format!("{tr}/dense_dim"), v(128i64));
    transformer.insert(format!("{tr}/dropout"), v(0.25));
    transformer.insert(
        format!("{tb}/spatial_reduction_1/reduction_type"),
        v("global_avg"),
    );
    transformer.insert(format!("{db}/num_layers"), v(1i64));
    transformer.insert(format!("{db}/units_0"), v(32i64));
    transformer.insert(format!("{db}/use_batchnorm"), v(false));
    transformer.insert(format!("{db}/dropout"), v(0.0));
    transformer.insert(format!("{head}/dropout"), v(0.25));
    transformer.insert("optimizer".into(), v("adam"));
    transformer.insert("learning_rate".into(), v(1e-3));

    let mut rnn = BTreeMap::new();
    rnn.insert(format!("{tb}/block_type"), v("rnn"));
    rnn.insert(format!("{tb}/max_tokens"), v(20_000i64));
    rnn.insert(format!("{tb}/sequence_length"), v(128i64));
    rnn.insert(format!("{tb}/embedding_1/embedding_dim"), v(64i64));
    rnn.insert(format!("{tb}/embedding_1/dropout"), v(0.25));
    let rb = format!("{tb}/rnn_block_1");
    rnn.insert(format!("{rb}/bidirectional"), v(true));
    rnn.insert(format!("{rb}/num_layers"), v(1i64));
    rnn.insert(format!("{rb}/layer_type"), v("gru"));
    rnn.insert(format!("{head}/dropout"), v(0.25));
    rnn.insert("optimizer".into(), v("adam"));
    rnn.insert("learning_rate".into(), v(1e-3));
    vec![ngram, vanilla, transformer, rnn]
}

/// The settings and state of a text task: the search, its TextBlock, how texts become ids,
/// and the fitted model.
pub(crate) struct TextSearch {
    pub auto_model: AutoModel,
    pub text_block: TextBlock,
    pub max_tokens: usize,
    pub sequence_length: usize,
    outcome: Outcome,
}

impl TextSearch {
    pub fn new(auto_model: AutoModel) -> Self {
        TextSearch {
            auto_model,
            text_block: TextBlock::default(),
            max_tokens: MAX_TOKENS,
            sequence_length: SEQUENCE_LENGTH,
            outcome: Outcome::default(),
        }
    }

    /// Fits the tokenizer and the n-gram table on `train`, encodes the texts and searches with
    /// `head` (`label_encoder` for classification).
    pub fn fit(
        &mut self,
        head: &dyn Head,
        train: &TextDataset,
        validation: Option<&TextDataset>,
        label_encoder: Option<LabelEncoder>,
    ) -> Result<&SearchResult> {
        let tokenizer = Tokenizer::fit(&train.texts, self.max_tokens, self.sequence_length)?;
        let encode = |d: &TextDataset| -> Result<ImageDataset> {
            if d.is_empty() {
                return Err(Error::EmptyDataset("no texts were given".into()));
            }
            if d.texts.len() != d.y.len() {
                return Err(Error::LengthMismatch {
                    x: d.texts.len(),
                    y: d.y.len(),
                });
            }
            Ok(ImageDataset {
                x: tokenizer.encode_batch(&d.texts)?,
                y: d.y.clone(),
                class_names: d.class_names.clone(),
            })
        };
        let train_ids = encode(train)?;
        let val_ids = validation.map(encode).transpose()?;
        let ngrams = match &train_ids.x.pixels {
            Pixels::F32(ids) => NgramTable::fit(ids, tokenizer.sequence_length, self.max_tokens),
            Pixels::U8(_) => NgramTable {
                ngrams: vec![],
                idf: vec![],
            },
        };
        let stats = TextStats {
            vocabulary_size: tokenizer.vocabulary_size(),
            ngrams: Arc::new(ngrams),
        };
        let block = TextBlock {
            text: Some(Arc::new(stats)),
            ..self.text_block.clone()
        };
        self.auto_model.blocks = vec![Box::new(block)];
        let prep = Preprocessing {
            label_encoder,
            class_names: train.class_names.clone(),
            tokenizer: Some(tokenizer),
            ..Default::default()
        };
        let (model, result) = self.auto_model.fit_encoded(
            head,
            &train_ids,
            val_ids.as_ref(),
            prep,
            InputScaling::None,
        )?;
        Ok(self.outcome.set(model, result))
    }

    pub fn model(&self) -> Result<&Model> {
        self.outcome.model()
    }

    pub fn result(&self) -> Option<&SearchResult> {
        self.outcome.result()
    }

    pub fn export_model(&mut self) -> Result<Model> {
        self.outcome.export_model()
    }
}

/// Text models: predictions and evaluation on raw strings, through the tokenizer saved with
/// the model.
impl Model {
    /// The tokenizer of a text model; an error for models of other inputs.
    pub fn tokenizer(&self) -> Result<&Tokenizer> {
        self.preprocessing().tokenizer.as_ref().ok_or_else(|| {
            Error::Config(
                "this model does not take texts (it has no tokenizer): give it the inputs it was trained on".into(),
            )
        })
    }

    /// The token ids the network takes for `texts` (`[n, sequence_length, 1, 1]`).
    pub fn encode_texts<S: AsRef<str> + Sync>(&self, texts: &[S]) -> Result<ImageData> {
        if texts.is_empty() {
            return Err(Error::EmptyDataset("no texts to predict".into()));
        }
        self.tokenizer()?.encode_batch(texts)
    }

    /// Labels (classification) or values (regression) for raw `texts`.
    pub fn predict_texts<S: AsRef<str> + Sync>(&self, texts: &[S]) -> Result<Predictions> {
        self.predict(&self.encode_texts(texts)?)
    }

    /// Class probabilities (one row per text) for raw `texts`.
    pub fn predict_proba_texts<S: AsRef<str> + Sync>(&self, texts: &[S]) -> Result<Vec<Vec<f32>>> {
        self.predict_proba(&self.encode_texts(texts)?)
    }

    /// Loss and metrics on labelled texts.
    pub fn evaluate_texts(&self, data: &TextDataset) -> Result<Metrics> {
        let x = self.encode_texts(&data.texts)?;
        if x.len() != data.y.len() {
            return Err(Error::LengthMismatch {
                x: x.len(),
                y: data.y.len(),
            });
        }
        self.evaluate(&ImageDataset {
            x,
            y: data.y.clone(),
            class_names: data.class_names.clone(),
        })
    }
}
