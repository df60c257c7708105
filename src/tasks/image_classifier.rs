//! ImageClassifier.

use super::outcome::Outcome;
use crate::automodel::{AutoModel, ProgressFn, SearchConfig, SearchResult};
use crate::blocks::ImageBlock;
use crate::data::{ImageData, ImageDataset};
use crate::error::Result;
use crate::export::{Model, Predictions};
use crate::heads::ClassificationHead;
use crate::hyperparameters::Value;
use crate::preprocessing::LabelEncoder;
use crate::training::Metrics;
use crate::tuners::TunerKind;
use std::collections::BTreeMap;

/// Finds an image classification network: ImageBlock → ClassificationHead.
///
/// ```no_run
/// use autocandle::prelude::*;
/// let data = autocandle::datasets::digits()?;
/// let mut clf = ImageClassifier::new(SearchConfig { max_trials: 2, seed: 1, ..Default::default() });
/// clf.fit(&data, None)?;
/// let labels = clf.predict(&data.x)?;
/// # Ok::<(), autocandle::Error>(())
/// ```
pub struct ImageClassifier {
    /// The search.
    pub auto_model: AutoModel,
    /// Independent sigmoid per class (targets must then be 0/1 vectors).
    pub multi_label: bool,
    outcome: Outcome,
}

const HEAD: &str = "classification_head_1";

fn v(x: impl Into<Value>) -> Value {
    x.into()
}

/// The configurations the tuners try first (greedy, Bayesian and Hyperband all of them, network
/// morphism the first two before it edits the best). For grayscale images (digits, MNIST): two
/// small vanilla networks that train fast (plain, then with augmentation), a CIFAR-style ResNet
/// and an Xception-style network. For colour images (`colour`: photographs such as CIFAR-10),
/// a deeper vanilla network with flips and shifts comes first, as such data needs both, then
/// the cheaper ones (a ResNet costs several times a vanilla network's time per epoch on a CPU).
pub(crate) fn initial_hps(head: &str, colour: bool) -> Vec<BTreeMap<String, Value>> {
    let ib = "image_block_1";
    let cb = "image_block_1/conv_block_1";
    let common = |m: &mut BTreeMap<String, Value>| {
        m.insert(format!("{ib}/normalize"), v(true));
        m.insert("optimizer".into(), v("adamw"));
        m.insert("learning_rate".into(), v(1e-3));
    };
    let mut vanilla = BTreeMap::new();
    common(&mut vanilla);
    vanilla.insert(format!("{ib}/block_type"), v("vanilla"));
    vanilla.insert(format!("{ib}/augment"), v(false));
    vanilla.insert(format!("{cb}/kernel_size"), v(3i64));
    vanilla.insert(format!("{cb}/num_blocks"), v(2i64));
    vanilla.insert(format!("{cb}/num_layers"), v(1i64));
    vanilla.insert(format!("{cb}/max_pooling"), v(true));
    vanilla.insert(format!("{cb}/separable"), v(false));
    vanilla.insert(format!("{cb}/dropout"), v(0.0));
    vanilla.insert(format!("{cb}/filters_0_0"), v(32i64));
    vanilla.insert(format!("{cb}/filters_1_0"), v(64i64));
    let db = "image_block_1/dense_block_1";
    vanilla.insert(format!("{db}/num_layers"), v(1i64));
    vanilla.insert(format!("{db}/units_0"), v(128i64));
    vanilla.insert(format!("{db}/use_batchnorm"), v(false));
    vanilla.insert(format!("{db}/dropout"), v(0.0));
    vanilla.insert(format!("{head}/dropout"), v(0.25));
    let mut augmented = vanilla.clone();
    augmented.insert(format!("{ib}/augment"), v(true));
    augmented.insert(
        format!("{ib}/image_augmentation_1/translation_factor"),
        v(0.1),
    );
    augmented.insert(
        format!("{ib}/image_augmentation_1/horizontal_flip"),
        v(false),
    );
    let mut resnet = BTreeMap::new();
    common(&mut resnet);
    resnet.insert(format!("{ib}/block_type"), v("resnet"));
    resnet.insert(format!("{ib}/augment"), v(true));
    resnet.insert(
        format!("{ib}/image_augmentation_1/translation_factor"),
        v(0.1),
    );
    resnet.insert(
        format!("{ib}/image_augmentation_1/horizontal_flip"),
        v(true),
    );
    resnet.insert(format!("{ib}/res_net_block_1/depth"), v(1i64));
    resnet.insert(format!("{ib}/res_net_block_1/width"), v(16i64));
    resnet.insert(
        format!("{head}/spatial_reduction_1/reduction_type"),
        v("global_avg"),
    );
    resnet.insert(format!("{head}/dropout"), v(0.0));
    resnet.insert("learning_rate".into(), v(1e-2));
    let mut xception = resnet.clone();
    xception.insert(format!("{ib}/block_type"), v("xception"));
    xception.insert(format!("{ib}/xception_block_1/width"), v(32i64));
    xception.insert(format!("{ib}/xception_block_1/num_blocks"), v(3i64));
    xception.insert("learning_rate".into(), v(1e-3));
    if !colour {
        return vec![vanilla, augmented, resnet, xception];
    }
    let mut photo = augmented.clone();
    photo.insert(
        format!("{ib}/image_augmentation_1/horizontal_flip"),
        v(true),
    );
    photo.insert(format!("{cb}/num_blocks"), v(3i64));
    photo.insert(format!("{cb}/filters_2_0"), v(128i64));
    photo.insert(format!("{db}/units_0"), v(256i64));
    vec![photo, augmented, resnet, xception]
}

/// Whether `x` holds colour images (3 channels, at least 16x16).
fn is_colour(x: &ImageData) -> bool {
    let [_, h, w, c] = x.shape;
    c == 3 && h >= 16 && w >= 16
}

/// Makes the default initial configurations follow the data `x` (for the head named `head`);
/// a user's own list stays as it is.
pub(crate) fn fit_initial_hps(auto_model: &mut AutoModel, head: &str, x: &ImageData) {
    if auto_model.initial_hps == initial_hps(head, false) {
        auto_model.initial_hps = initial_hps(head, is_colour(x));
    }
}

impl ImageClassifier {
    /// A classifier searching with `config`.
    pub fn new(config: SearchConfig) -> Self {
        let mut auto_model = AutoModel::new(vec![Box::new(ImageBlock::default())], config);
        auto_model.task = "ImageClassifier".into();
        auto_model.initial_hps = initial_hps(HEAD, false);
        // The tuner comparison in BENCHMARKS.md (digits, MNIST, CIFAR-10 on the same budget)
        // found network morphism best for image classification.
        auto_model.default_tuner = TunerKind::Morphism;
        ImageClassifier {
            auto_model,
            multi_label: false,
            outcome: Outcome::default(),
        }
    }

    /// Sets the progress callback.
    pub fn on_progress(&mut self, f: ProgressFn) -> &mut Self {
        self.auto_model.on_progress(f);
        self
    }

    /// Searches for the best network, then retrains it (the final fit). `validation` defaults
    /// to a seeded split of `train` (`validation_split`).
    pub fn fit(
        &mut self,
        train: &ImageDataset,
        validation: Option<&ImageDataset>,
    ) -> Result<&SearchResult> {
        let encoder = LabelEncoder::fit(&train.y)?;
        fit_initial_hps(&mut self.auto_model, HEAD, &train.x);
        let mut head = ClassificationHead::new(encoder.classes.len());
        head.multi_label = self.multi_label;
        let (model, result) =
            self.auto_model
                .fit_images(&head, train, validation, Some(encoder))?;
        Ok(self.outcome.set(model, result))
    }

    fn model(&self) -> Result<&Model> {
        self.outcome.model()
    }

    /// The labels predicted for `x`.
    pub fn predict(&self, x: &ImageData) -> Result<Predictions> {
        self.model()?.predict(x)
    }

    /// Class probabilities for `x`.
    pub fn predict_proba(&self, x: &ImageData) -> Result<Vec<Vec<f32>>> {
        self.model()?.predict_proba(x)
    }

    /// Loss and accuracy on labelled data.
    pub fn evaluate(&self, data: &ImageDataset) -> Result<Metrics> {
        self.model()?.evaluate(data)
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
