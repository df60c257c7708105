//! TF-IDF vectors of unigrams and bigrams, computed per batch from token ids.

use crate::error::{Error, Result};
use candle_core::{DType, Tensor};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// A ranked table of n-grams (unigrams `[id, 0]` and bigrams `[id, id]`, most frequent first)
/// with their inverse document frequencies, fitted on the training texts' token ids.
///
/// A text's vector has, for n-gram `j`, its count in the text times `idf[j]`, with Keras's
/// `idf = ln(1 + documents / (1 + document_frequency))`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NgramTable {
    /// The n-grams; a unigram has 0 as its second id.
    pub ngrams: Vec<[u32; 2]>,
    /// Inverse document frequency of each n-gram.
    pub idf: Vec<f32>,
}

/// Token ids below this are padding (0) and out-of-vocabulary (1): no n-gram holds them.
const FIRST_WORD: u32 = 2;

fn key(a: u32, b: u32) -> u64 {
    ((a as u64) << 32) | b as u64
}

impl NgramTable {
    /// Ranks the unigrams and bigrams of `ids` (`n` texts of `length` ids each, padding 0 at
    /// the end) by their total count (ties: smaller ids first) and keeps the first
    /// `max_ngrams`. Bigrams are pairs of adjacent in-vocabulary words.
    pub fn fit(ids: &[f32], length: usize, max_ngrams: usize) -> NgramTable {
        // count, document frequency, last document seen.
        let mut stats: HashMap<u64, (u64, u32, u32)> = HashMap::new();
        let mut docs = 0u32;
        for (d, row) in ids.chunks(length.max(1)).enumerate() {
            docs += 1;
            let d = d as u32;
            let mut bump = |k: u64| {
                let e = stats.entry(k).or_insert((0, 0, u32::MAX));
                e.0 += 1;
                if e.2 != d {
                    e.1 += 1;
                    e.2 = d;
                }
            };
            let mut prev = 0u32;
            for &v in row {
                let t = v as u32;
                if t == 0 {
                    break;
                }
                if t >= FIRST_WORD {
                    bump(key(t, 0));
                    if prev >= FIRST_WORD {
                        bump(key(prev, t));
                    }
                }
                prev = t;
            }
        }
        let mut ranked: Vec<(u64, u64, u32)> = stats
            .into_iter()
            .map(|(k, (c, df, _))| (k, c, df))
            .collect();
        ranked.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        ranked.truncate(max_ngrams);
        let n = docs as f64;
        NgramTable {
            ngrams: ranked
                .iter()
                .map(|&(k, _, _)| [(k >> 32) as u32, k as u32])
                .collect(),
            idf: ranked
                .iter()
                .map(|&(_, _, df)| (1.0 + n / (1.0 + df as f64)).ln() as f32)
                .collect(),
        }
    }

    /// Number of n-grams (the width of the vectors).
    pub fn len(&self) -> usize {
        self.ngrams.len()
    }

    /// True when the table holds no n-gram.
    pub fn is_empty(&self) -> bool {
        self.ngrams.is_empty()
    }

    /// The first `n` n-grams (the `n` most frequent).
    pub fn truncated(&self, n: usize) -> NgramTable {
        let n = n.min(self.len());
        NgramTable {
            ngrams: self.ngrams[..n].to_vec(),
            idf: self.idf[..n].to_vec(),
        }
    }

    /// TF-IDF vectors `[b, len]` of a batch of token ids `[b, L, ...]`.
    pub(super) fn transform(&self, x: &Tensor) -> Result<Tensor> {
        if self.ngrams.len() != self.idf.len() {
            return Err(Error::Config(format!(
                "the TF-IDF table has {} n-grams but {} idf weights",
                self.ngrams.len(),
                self.idf.len()
            )));
        }
        let b = x.dim(0)?;
        let l = x.elem_count() / b.max(1);
        let v = x.flatten_all()?.to_dtype(DType::F32)?.to_vec1::<f32>()?;
        let index: HashMap<u64, usize> = self
            .ngrams
            .iter()
            .enumerate()
            .map(|(j, &[a, b])| (key(a, b), j))
            .collect();
        let width = self.len();
        let mut out = vec![0f32; b * width];
        for (row, dst) in v.chunks(l.max(1)).zip(out.chunks_mut(width.max(1))) {
            let mut prev = 0u32;
            for &t in row {
                let t = t as u32;
                if t == 0 {
                    break;
                }
                if t >= FIRST_WORD {
                    if let Some(&j) = index.get(&key(t, 0)) {
                        dst[j] += 1.0;
                    }
                    if prev >= FIRST_WORD {
                        if let Some(&j) = index.get(&key(prev, t)) {
                            dst[j] += 1.0;
                        }
                    }
                }
                prev = t;
            }
            for (d, w) in dst.iter_mut().zip(&self.idf) {
                *d *= w;
            }
        }
        Ok(Tensor::from_vec(out, (b, width), x.device())?)
    }
}
