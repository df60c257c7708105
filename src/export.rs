//! The exported model: architecture JSON + safetensors weights + preprocessing state, with
//! `save`, `load`, `predict`, `predict_proba`, `evaluate` and `summary`.

use crate::data::{ImageData, ImageDataset, Targets};
use crate::error::{Error, Result};
use crate::graph::{Architecture, HeadKind, Network, ParamStore, Summary};
use crate::inputs::{to_inputs, InputData};
#[cfg(feature = "tables")]
use crate::preprocessing::{class_targets, regression_targets, TableEncoder};
use crate::preprocessing::{encode_targets, Label, Preprocessing};
use crate::project::write_atomic;
use crate::training::{evaluate, evaluate_heads, predict_outputs, EncodedTargets, Metrics};
use candle_core::Device;
#[cfg(feature = "tables")]
use polars::prelude::DataFrame;
use std::path::Path;

/// What `predict` returns.
#[derive(Debug, Clone, PartialEq)]
pub enum Predictions {
    /// One decoded label per sample (classification).
    Labels(Vec<Label>),
    /// `dim` values per sample (regression), row-major.
    Values { values: Vec<f32>, dim: usize },
}

/// A trained network with everything needed to use it on raw inputs.
#[derive(Debug)]
pub struct Model {
    network: Network,
    preprocessing: Preprocessing,
}

const ARCH: &str = "architecture.json";
const WEIGHTS: &str = "weights.safetensors";
const PREP: &str = "preprocessing.json";

impl Model {
    /// A model from a trained network and its preprocessing state.
    pub fn new(network: Network, preprocessing: Preprocessing) -> Self {
        Model {
            network,
            preprocessing,
        }
    }

    /// The architecture.
    pub fn architecture(&self) -> &Architecture {
        &self.network.arch
    }

    /// The preprocessing state.
    pub fn preprocessing(&self) -> &Preprocessing {
        &self.preprocessing
    }

    /// The network.
    pub fn network(&self) -> &Network {
        &self.network
    }

    /// Writes `architecture.json`, `weights.safetensors` and `preprocessing.json` into `dir`:
    /// built in a folder beside it, synced, and swapped in with one rename, so `dir` holds
    /// either the old model or the new one, never a mix.
    pub fn save(&self, dir: impl AsRef<Path>) -> Result<()> {
        let dir = dir.as_ref();
        if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        crate::durable::replace_dir(dir, |staging| {
            self.network.params.save(&staging.join(WEIGHTS))?;
            write_atomic(
                &staging.join(ARCH),
                serde_json::to_string_pretty(&self.network.arch)?.as_bytes(),
            )?;
            write_atomic(
                &staging.join(PREP),
                serde_json::to_string_pretty(&self.preprocessing)?.as_bytes(),
            )
        })
    }

    /// Loads a model saved by [`Model::save`] (CPU).
    pub fn load(dir: impl AsRef<Path>) -> Result<Self> {
        Self::load_on(dir, &Device::Cpu)
    }

    /// Loads a model onto `device`. Its three files are checked against each other first: the
    /// network's output against its head, the head against the label encoder, the weights
    /// file's tensors against the architecture.
    pub fn load_on(dir: impl AsRef<Path>, device: &Device) -> Result<Self> {
        let dir = dir.as_ref();
        let read = |name: &str| {
            let p = dir.join(name);
            let text = std::fs::read_to_string(&p).map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => Error::DataNotFound {
                    what: format!("model file {name}"),
                    path: p.clone(),
                    hint: "point to a folder written by Model::save or `autocandle fit`".into(),
                },
                _ => Error::io(&p, e),
            })?;
            Ok::<_, Error>((p, text))
        };
        let json_error = |path: &Path, format: &'static str, e: serde_json::Error| Error::Format {
            path: path.to_path_buf(),
            format,
            detail: e.to_string(),
        };
        let (arch_path, text) = read(ARCH)?;
        let arch: Architecture = serde_json::from_str(&text)
            .map_err(|e| json_error(&arch_path, "architecture.json", e))?;
        let (prep_path, text) = read(PREP)?;
        let preprocessing: Preprocessing = serde_json::from_str(&text)
            .map_err(|e| json_error(&prep_path, "preprocessing.json", e))?;
        check_model_files(&arch, &preprocessing, &arch_path, &prep_path)?;
        let params = ParamStore::load(&arch, &dir.join(WEIGHTS), device)?;
        Ok(Model {
            network: Network { arch, params },
            preprocessing,
        })
    }

    fn check_input(&self, x: &ImageData) -> Result<()> {
        if x.image_shape().as_slice() != self.preprocessing.input_shape.as_slice() {
            return Err(Error::BadShape(format!(
                "the model takes images of shape {:?} (h, w, c), got {:?}",
                self.preprocessing.input_shape,
                x.image_shape()
            )));
        }
        if x.is_empty() {
            return Err(Error::EmptyDataset("no images to predict".into()));
        }
        Ok(())
    }

    /// Class probabilities (classification; one row per sample) or raw outputs (regression).
    /// A multi-task model gives each head's rows side by side; see [`Model::predict_heads`].
    pub fn predict_proba(&self, x: &ImageData) -> Result<Vec<Vec<f32>>> {
        self.check_input(x)?;
        let head = &self.network.arch.head;
        let out = predict_outputs(&self.network, x)?;
        Ok(out
            .chunks(head.output_units())
            .map(|row| {
                let mut off = 0;
                head.parts()
                    .into_iter()
                    .flat_map(|h| {
                        let u = h.output_units();
                        off += u;
                        activate(h, &row[off - u..off])
                    })
                    .collect()
            })
            .collect())
    }

    /// Predictions decoded to the user's labels (classification) or values (regression).
    /// A multi-task model has one set per head: use [`Model::predict_heads`].
    pub fn predict(&self, x: &ImageData) -> Result<Predictions> {
        let mut heads = self.predict_heads(x)?;
        if heads.len() != 1 {
            return Err(Error::Config(format!(
                "this model has {} heads; use predict_heads to get each head's predictions",
                heads.len()
            )));
        }
        heads
            .pop()
            .ok_or_else(|| Error::Config("the model has no head".into()))
    }

    /// Each head's predictions, in the order of the heads (one entry for a single head).
    pub fn predict_heads(&self, x: &ImageData) -> Result<Vec<Predictions>> {
        self.check_input(x)?;
        let head = &self.network.arch.head;
        let units = head.output_units();
        let out = predict_outputs(&self.network, x)?;
        let n = out.len() / units.max(1);
        let mut off = 0;
        let mut preds = Vec::new();
        for (k, h) in head.parts().into_iter().enumerate() {
            let u = h.output_units();
            let rows: Vec<Vec<f32>> = (0..n)
                .map(|i| activate(h, &out[i * units + off..i * units + off + u]))
                .collect();
            off += u;
            preds.push(match (h, self.preprocessing.encoder(k)) {
                (HeadKind::Classification { .. }, Some(enc)) => Predictions::Labels(
                    rows.iter()
                        .map(|p| enc.classes[crate::training::argmax(p)].clone())
                        .collect(),
                ),
                _ => {
                    let values: Vec<f32> = rows.into_iter().flatten().collect();
                    // A table regressor's network predicts the standardised target.
                    let values = match self.preprocessing.target_scaler() {
                        Some(s) if self.preprocessing.head_encoders.is_empty() => s.invert(&values),
                        _ => values,
                    };
                    Predictions::Values {
                        dim: h.output_units(),
                        values,
                    }
                }
            });
        }
        Ok(preds)
    }

    /// Each head's predictions for a multi-input model, given one raw value per input (in the
    /// order of the model's inputs): arrays, raw strings, DataFrames or windows, as in training
    /// (see [`InputData`]). A single-input model takes one value too.
    pub fn predict_inputs<'a, X: Clone + Into<InputData<'a>>>(
        &self,
        x: &[X],
    ) -> Result<Vec<Predictions>> {
        self.predict_heads(&self.encode_inputs(x)?)
    }

    /// Each head's loss and metrics for a multi-input model, given one raw value per input and
    /// one set of targets per head.
    pub fn evaluate_inputs<'a, X: Clone + Into<InputData<'a>>>(
        &self,
        x: &[X],
        y: &[&Targets],
    ) -> Result<Vec<Metrics>> {
        let x = self.encode_inputs(x)?;
        if let Some(t) = y.iter().find(|t| t.len() != x.len()) {
            return Err(Error::LengthMismatch {
                x: x.len(),
                y: t.len(),
            });
        }
        self.evaluate_heads(&x, y)
    }

    /// The array the network takes for one raw value per input: texts through the saved
    /// tokenizer, tables through the saved column encoders, inputs packed side by side.
    pub fn encode_inputs<'a, X: Clone + Into<InputData<'a>>>(&self, x: &[X]) -> Result<ImageData> {
        let x = to_inputs(x);
        if !self.preprocessing.inputs.is_empty() {
            return crate::inputs::encode(&x, &self.preprocessing.inputs);
        }
        match x.as_slice() {
            [InputData::Array(a) | InputData::Windows(a)] => Ok((*a).clone()),
            [InputData::Texts(t)] => self.encode_texts(t),
            #[cfg(feature = "tables")]
            [InputData::Table(df)] => self.table_encoder()?.transform(df),
            _ => Err(Error::Config(format!(
                "this model takes one input, {} were given",
                x.len()
            ))),
        }
    }

    /// Each head's loss and metrics on inputs `x` with one set of targets per head (a
    /// multi-task model; a single-head model takes one).
    pub fn evaluate_heads(&self, x: &ImageData, targets: &[&Targets]) -> Result<Vec<Metrics>> {
        self.check_input(x)?;
        let y = self.preprocessing.encode_head_targets(targets)?;
        evaluate_heads(&self.network, x, &y)
    }

    /// Loss and metrics on a labelled dataset.
    pub fn evaluate(&self, data: &ImageDataset) -> Result<Metrics> {
        self.check_input(&data.x)?;
        let y = encode_targets(&data.y, self.preprocessing.label_encoder.as_ref())?;
        match (self.preprocessing.target_scaler(), y) {
            // The network predicts standardised targets: metrics in the target's own units.
            (Some(s), EncodedTargets::Values { values, dim }) => {
                let y = EncodedTargets::Values {
                    values: s.apply(&values),
                    dim,
                };
                let m = evaluate(&self.network, &data.x, &y)?;
                let sd = s.std as f64;
                let mse = m.mse.map(|v| v * sd * sd);
                Ok(Metrics {
                    loss: mse.unwrap_or(m.loss),
                    mse,
                    mae: m.mae.map(|v| v * sd),
                    ..m
                })
            }
            (_, y) => evaluate(&self.network, &data.x, &y),
        }
    }

    /// Layers with output shapes and parameter counts.
    pub fn summary(&self) -> Result<Summary> {
        self.network.arch.summary()
    }
}

/// One head's raw outputs for a sample as probabilities (classification) or values.
fn activate(head: &HeadKind, row: &[f32]) -> Vec<f32> {
    match head {
        HeadKind::Classification {
            multi_label: true, ..
        } => row.iter().map(|z| sigmoid(*z)).collect(),
        HeadKind::Classification { .. } if row.len() == 1 => {
            let p = sigmoid(row[0]);
            vec![1.0 - p, p]
        }
        HeadKind::Classification { .. } => softmax(row),
        HeadKind::Regression { .. } | HeadKind::Multi { .. } => row.to_vec(),
    }
}

fn sigmoid(z: f32) -> f32 {
    1.0 / (1.0 + (-z).exp())
}

fn softmax(row: &[f32]) -> Vec<f32> {
    let m = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let e: Vec<f32> = row.iter().map(|v| (v - m).exp()).collect();
    let s: f32 = e.iter().sum();
    e.iter().map(|v| v / s).collect()
}

/// Models trained on tables take raw polars `DataFrame`s (feature `tables`).
#[cfg(feature = "tables")]
impl Model {
    /// The encoder of a model trained on a table (by a structured-data task).
    fn table_encoder(&self) -> Result<&TableEncoder> {
        self.preprocessing.columns.as_ref().ok_or_else(|| {
            Error::Config(
                "this model was not trained on a table: give it arrays, not a DataFrame".into(),
            )
        })
    }

    /// Predictions for the rows of a raw table (the columns as in training; other columns,
    /// the target among them, are ignored).
    pub fn predict_table(&self, df: &DataFrame) -> Result<Predictions> {
        self.predict(&self.table_encoder()?.transform(df)?)
    }

    /// Class probabilities for the rows of a raw table.
    pub fn predict_proba_table(&self, df: &DataFrame) -> Result<Vec<Vec<f32>>> {
        self.predict_proba(&self.table_encoder()?.transform(df)?)
    }

    /// Loss and metrics on a raw table holding the target column the model was trained for.
    pub fn evaluate_table(&self, df: &DataFrame) -> Result<Metrics> {
        let enc = self.table_encoder()?;
        let x = enc.transform(df)?;
        let y = if self.preprocessing.label_encoder.is_some() {
            class_targets(df, &enc.target)?
        } else {
            Targets::Float {
                values: regression_targets(df, &enc.target)?,
                dim: 1,
            }
        };
        self.evaluate(&ImageDataset::new(x, y)?)
    }
}

/// The head of `arch` against its last layer's width, and its classes against the label
/// encoder of `prep`: a disagreement would give wrong predictions or an out-of-range label.
fn check_model_files(
    arch: &Architecture,
    prep: &Preprocessing,
    arch_path: &Path,
    prep_path: &Path,
) -> Result<()> {
    let bad = |path: &Path, format: &'static str, detail: String| Error::Format {
        path: path.to_path_buf(),
        format,
        detail: format!("{detail}: the model folder's files are not of one model; save it again"),
    };
    let outputs = arch.summary()?.output_shape.last().copied().unwrap_or(0);
    let wanted = arch.head.output_units();
    if outputs != wanted {
        return Err(bad(
            arch_path,
            "architecture.json",
            format!("its head needs {wanted} outputs but its last layer gives {outputs}"),
        ));
    }
    if let (HeadKind::Classification { num_classes, .. }, Some(e)) =
        (&arch.head, &prep.label_encoder)
    {
        if e.classes.len() != *num_classes {
            return Err(bad(
                prep_path,
                "preprocessing.json",
                format!(
                    "its label encoder has {} classes but the head in architecture.json has {num_classes}",
                    e.classes.len()
                ),
            ));
        }
    }
    Ok(())
}
