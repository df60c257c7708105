//! The exported model: architecture JSON + safetensors weights + preprocessing state, with
//! `save`, `load`, `predict`, `predict_proba`, `evaluate` and `summary`.

use crate::data::{ImageData, ImageDataset, Targets};
use crate::error::{Error, Result};
use crate::graph::{Architecture, HeadKind, Network, ParamStore, Summary};
use crate::preprocessing::{
    class_targets, encode_targets, regression_targets, Label, Preprocessing, TableEncoder,
};
use crate::project::{temp_path, write_atomic};
use crate::training::{evaluate, predict_outputs, EncodedTargets, Metrics};
use candle_core::Device;
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

    /// Writes `architecture.json`, `weights.safetensors` and `preprocessing.json` into `dir`.
    pub fn save(&self, dir: impl AsRef<Path>) -> Result<()> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let w = dir.join(WEIGHTS);
        let tmp = temp_path(&w);
        self.network.params.save(&tmp)?;
        std::fs::rename(&tmp, &w).map_err(|e| Error::io(&w, e))?;
        write_atomic(
            &dir.join(ARCH),
            serde_json::to_string_pretty(&self.network.arch)?.as_bytes(),
        )?;
        write_atomic(
            &dir.join(PREP),
            serde_json::to_string_pretty(&self.preprocessing)?.as_bytes(),
        )
    }

    /// Loads a model saved by [`Model::save`] (CPU).
    pub fn load(dir: impl AsRef<Path>) -> Result<Self> {
        Self::load_on(dir, &Device::Cpu)
    }

    /// Loads a model onto `device`.
    pub fn load_on(dir: impl AsRef<Path>, device: &Device) -> Result<Self> {
        let dir = dir.as_ref();
        let read = |name: &str| {
            let p = dir.join(name);
            std::fs::read_to_string(&p).map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => Error::DataNotFound {
                    what: format!("model file {name}"),
                    path: p.clone(),
                    hint: "point to a folder written by Model::save or `autocandle fit`".into(),
                },
                _ => Error::io(&p, e),
            })
        };
        let arch: Architecture = serde_json::from_str(&read(ARCH)?)?;
        let preprocessing: Preprocessing = serde_json::from_str(&read(PREP)?)?;
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
    pub fn predict_proba(&self, x: &ImageData) -> Result<Vec<Vec<f32>>> {
        self.check_input(x)?;
        let out = predict_outputs(&self.network, x)?;
        let units = self.network.arch.head.output_units();
        Ok(out
            .chunks(units)
            .map(|row| match &self.network.arch.head {
                HeadKind::Classification {
                    multi_label: true, ..
                } => row.iter().map(|z| sigmoid(*z)).collect(),
                HeadKind::Classification { .. } if units == 1 => {
                    let p = sigmoid(row[0]);
                    vec![1.0 - p, p]
                }
                HeadKind::Classification { .. } => softmax(row),
                HeadKind::Regression { .. } => row.to_vec(),
            })
            .collect())
    }

    /// Predictions decoded to the user's labels (classification) or values (regression).
    pub fn predict(&self, x: &ImageData) -> Result<Predictions> {
        let proba = self.predict_proba(x)?;
        match (&self.network.arch.head, &self.preprocessing.label_encoder) {
            (HeadKind::Classification { .. }, Some(enc)) => Ok(Predictions::Labels(
                proba
                    .iter()
                    .map(|p| enc.classes[crate::training::argmax(p)].clone())
                    .collect(),
            )),
            (_, _) => {
                let dim = self.network.arch.head.output_units();
                let values: Vec<f32> = proba.into_iter().flatten().collect();
                let values = match self.preprocessing.target_scaler() {
                    Some(s) => s.invert(&values),
                    None => values,
                };
                Ok(Predictions::Values { values, dim })
            }
        }
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

    /// Layers with output shapes and parameter counts.
    pub fn summary(&self) -> Result<Summary> {
        self.network.arch.summary()
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
