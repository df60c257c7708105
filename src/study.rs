//! The study's fingerprint: what a project was started on — the task, the head, the inputs, the
//! search space, the tuner, the seed and a cheap hash of the training data. It is recorded in
//! `oracle.json` when the project is created and compared on every resume, so that a project
//! is never resumed with other data, another task or another search space: the difference is
//! named before anything is trained.

use crate::data::{ImageData, Pixels};
use crate::graph::HeadKind;
use crate::preprocessing::Preprocessing;
use crate::training::{EncodedTargets, TrainData};
use crate::tuners::TunerKind;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// How many rows of each of the training and validation sets the data hash reads (evenly
/// spaced, always the same ones for the same row count).
pub const SAMPLE_ROWS: usize = 64;

/// What a study was started on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StudyFingerprint {
    /// The task (`ImageClassifier`, `StructuredDataRegressor`, ..., `AutoModel`).
    pub task: String,
    /// The head: its kind and output size.
    pub head: String,
    /// Classification: the classes, in encoded order (per head for several heads).
    pub classes: Vec<String>,
    /// Each input's kind and shape (a table's columns and their types).
    pub inputs: Vec<String>,
    /// The names of the hyperparameters of the search space.
    pub search_space: Vec<String>,
    /// The tuner.
    pub tuner: TunerKind,
    /// The search seed.
    pub seed: u64,
    /// Training and validation rows.
    pub rows: (usize, usize),
    /// sha256 (first 16 hex digits) of a fixed sample of the encoded rows and their targets.
    pub data_hash: String,
}

/// The values that [`StudyFingerprint::describe`] compares, by name.
type Field = (&'static str, String);

impl StudyFingerprint {
    /// The fingerprint of a search about to start.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        task: &str,
        head: &HeadKind,
        prep: &Preprocessing,
        search_space: Vec<String>,
        tuner: TunerKind,
        seed: u64,
        train: &TrainData,
        val: &TrainData,
    ) -> Self {
        let mut h = Sha256::new();
        hash_sample(&mut h, train);
        hash_sample(&mut h, val);
        let digest = h.finalize();
        let data_hash = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        StudyFingerprint {
            task: task.to_string(),
            head: describe_head(head),
            classes: classes(prep),
            inputs: inputs(prep),
            search_space,
            tuner,
            seed,
            rows: (train.len(), val.len()),
            data_hash,
        }
    }

    fn fields(&self) -> Vec<Field> {
        vec![
            ("task", self.task.clone()),
            ("head", self.head.clone()),
            ("classes", list(&self.classes)),
            ("inputs", list(&self.inputs)),
            ("search space", list(&self.search_space)),
            ("tuner", format!("{:?}", self.tuner)),
            ("seed", self.seed.to_string()),
            (
                "training data",
                format!(
                    "{} training + {} validation rows, sample hash {}",
                    self.rows.0, self.rows.1, self.data_hash
                ),
            ),
        ]
    }

    /// What differs between the recorded fingerprint (`self`) and `now`, one line each:
    /// `name: recorded … now …`. Empty when they agree.
    pub fn differences(&self, now: &StudyFingerprint) -> Vec<String> {
        self.fields()
            .into_iter()
            .zip(now.fields())
            .filter(|((_, a), (_, b))| a != b)
            .map(|((name, a), (_, b))| format!("{name}: recorded {a}, now {b}"))
            .collect()
    }
}

/// A long list, shortened for a message: the first and the last few, and how many in all.
fn list(items: &[String]) -> String {
    if items.len() <= 12 {
        return format!("[{}]", items.join(", "));
    }
    format!(
        "[{}, ... {}] ({} in all)",
        items[..6].join(", "),
        items[items.len() - 3..].join(", "),
        items.len()
    )
}

fn describe_head(head: &HeadKind) -> String {
    serde_json::to_string(head).unwrap_or_else(|_| format!("{head:?}"))
}

fn classes(prep: &Preprocessing) -> Vec<String> {
    let names = |e: &crate::preprocessing::LabelEncoder| -> Vec<String> {
        e.classes.iter().map(|l| l.to_string()).collect()
    };
    if let Some(e) = &prep.label_encoder {
        return names(e);
    }
    prep.head_encoders
        .iter()
        .enumerate()
        .flat_map(|(i, e)| match e {
            Some(e) => names(e)
                .into_iter()
                .map(|c| format!("head {i}: {c}"))
                .collect(),
            None => vec![format!("head {i}: values")],
        })
        .collect()
}

fn inputs(prep: &Preprocessing) -> Vec<String> {
    let shape = |s: &[usize]| {
        s.iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join("x")
    };
    if !prep.inputs.is_empty() {
        return prep
            .inputs
            .iter()
            .map(|i| format!("{} {}", i.kind.describe(), shape(&i.shape)))
            .collect();
    }
    if let Some(t) = &prep.columns {
        return t
            .columns
            .iter()
            .map(|c| format!("column {:?}: {}", c.name, c.column_type()))
            .collect();
    }
    let kind = if prep.tokenizer.is_some() {
        "text"
    } else if prep.series.is_some() {
        "series windows"
    } else {
        "images"
    };
    vec![format!("{kind} {}", shape(&prep.input_shape))]
}

/// Hashes the row count and up to [`SAMPLE_ROWS`] evenly spaced rows of inputs and targets.
fn hash_sample(h: &mut Sha256, d: &TrainData) {
    let n = d.len();
    h.update((n as u64).to_le_bytes());
    if n == 0 {
        return;
    }
    let take = n.min(SAMPLE_ROWS);
    for k in 0..take {
        // Evenly spaced, first and last included when there are enough rows.
        let i = if take == 1 {
            0
        } else {
            k * (n - 1) / (take - 1)
        };
        hash_row(h, &d.x, i);
        hash_target(h, &d.y, i);
    }
}

fn hash_row(h: &mut Sha256, x: &ImageData, i: usize) {
    let size = x.sample_size();
    let start = i * size;
    match &x.pixels {
        Pixels::U8(v) => h.update(&v[start..start + size]),
        Pixels::F32(v) => v[start..start + size]
            .iter()
            .for_each(|p| h.update(p.to_le_bytes())),
    }
}

fn hash_target(h: &mut Sha256, y: &EncodedTargets, i: usize) {
    match y {
        EncodedTargets::Classes(v) => h.update(v[i].to_le_bytes()),
        EncodedTargets::Values { values, dim } => values[i * dim..(i + 1) * dim]
            .iter()
            .for_each(|p| h.update(p.to_le_bytes())),
        EncodedTargets::Multi(parts) => parts.iter().for_each(|p| hash_target(h, p, i)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(pixels: Vec<u8>, classes: Vec<u32>) -> TrainData {
        let n = classes.len();
        TrainData {
            x: ImageData::from_u8(pixels, &[n, 2, 2]).unwrap(),
            y: EncodedTargets::Classes(classes),
        }
    }

    fn fp(train: &TrainData, seed: u64) -> StudyFingerprint {
        let head = HeadKind::Classification {
            num_classes: 2,
            sigmoid: false,
            multi_label: false,
        };
        StudyFingerprint::new(
            "ImageClassifier",
            &head,
            &Preprocessing {
                input_shape: vec![2, 2, 1],
                ..Default::default()
            },
            vec!["optimizer".into()],
            TunerKind::Greedy,
            seed,
            train,
            &data(vec![0; 4], vec![0]),
        )
    }

    #[test]
    fn the_same_data_agrees_and_one_changed_pixel_or_label_differs() {
        let a = data((0..12).collect(), vec![0, 1, 0]);
        assert!(fp(&a, 1).differences(&fp(&a, 1)).is_empty());
        let mut pixels: Vec<u8> = (0..12).collect();
        pixels[5] = 99;
        let b = data(pixels, vec![0, 1, 0]);
        let d = fp(&a, 1).differences(&fp(&b, 1));
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(
            d[0].starts_with("training data: recorded 3 training"),
            "{d:?}"
        );
        let c = data((0..12).collect(), vec![0, 1, 1]);
        assert_eq!(fp(&a, 1).differences(&fp(&c, 1)).len(), 1);
        let d = fp(&a, 1).differences(&fp(&a, 2));
        assert_eq!(d, vec!["seed: recorded 1, now 2".to_string()]);
    }
}
