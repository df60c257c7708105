//! The tokenizer: texts to word ids, fitted on the training texts, saved with the model so that
//! `predict` takes raw strings.
//!
//! Texts are lower-cased and split into words (runs of letters and digits, with apostrophes
//! inside words kept: `don't`) and punctuation marks (each one a token of its own); whitespace
//! separates. Ids: 0 is padding, 1 is out-of-vocabulary, 2.. are the words by frequency rank in
//! the training texts (ties in alphabetical order).
//!
//! ```
//! use autocandle::preprocessing::Tokenizer;
//! let tok = Tokenizer::fit(&["A good film.", "A bad film!", "good"], 100, 8).unwrap();
//! assert_eq!(tok.words()[..3], ["a", "film", "good"]);
//! assert_eq!(tok.encode("Good film, unseen"), vec![4, 3, 1, 1]); // "," and "unseen": OOV
//! ```

use crate::data::ImageData;
use crate::error::{Error, Result};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::OnceLock;

/// Padding id.
pub const PAD: u32 = 0;
/// Out-of-vocabulary id.
pub const OOV: u32 = 1;

/// Lower-cased tokens of `text`: words and single punctuation marks.
pub fn tokenize(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut word = String::new();
    for (i, &c) in chars.iter().enumerate() {
        let inner_apostrophe = (c == '\'' || c == '’')
            && !word.is_empty()
            && chars.get(i + 1).is_some_and(|n| n.is_alphanumeric());
        if c.is_alphanumeric() || inner_apostrophe {
            word.extend(c.to_lowercase());
            continue;
        }
        if !word.is_empty() {
            out.push(std::mem::take(&mut word));
        }
        if !c.is_whitespace() {
            out.extend(std::iter::once(c.to_lowercase().collect::<String>()));
        }
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

/// Maps texts to word ids with a vocabulary ranked by frequency.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Tokenizer {
    /// The vocabulary, most frequent first: word `i` has id `i + 2`.
    words: Vec<String>,
    /// Ids kept per text by [`Tokenizer::encode_batch`] (longer texts are cut, shorter ones
    /// padded with 0 at the end).
    pub sequence_length: usize,
    #[serde(skip)]
    index: OnceLock<HashMap<String, u32>>,
}

impl PartialEq for Tokenizer {
    fn eq(&self, other: &Self) -> bool {
        self.words == other.words && self.sequence_length == other.sequence_length
    }
}

impl Tokenizer {
    /// Learns the vocabulary of `texts`: at most `max_tokens - 2` words (ids 0 and 1 are padding
    /// and out-of-vocabulary), most frequent first. Fails when the texts hold no token.
    pub fn fit<S: AsRef<str> + Sync>(
        texts: &[S],
        max_tokens: usize,
        sequence_length: usize,
    ) -> Result<Self> {
        if texts.is_empty() {
            return Err(Error::EmptyDataset("no texts were given".into()));
        }
        if sequence_length == 0 {
            return Err(Error::Config(
                "the sequence length must be at least 1".into(),
            ));
        }
        let counts = texts
            .par_iter()
            .fold(HashMap::<String, u64>::new, |mut m, t| {
                for w in tokenize(t.as_ref()) {
                    *m.entry(w).or_insert(0) += 1;
                }
                m
            })
            .reduce(HashMap::new, |mut a, b| {
                for (w, c) in b {
                    *a.entry(w).or_insert(0) += c;
                }
                a
            });
        if counts.is_empty() {
            return Err(Error::EmptyDataset(
                "the texts hold no word or punctuation mark to learn a vocabulary from".into(),
            ));
        }
        let mut ranked: Vec<(String, u64)> = counts.into_iter().collect();
        ranked.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        ranked.truncate(max_tokens.saturating_sub(2));
        Ok(Tokenizer {
            words: ranked.into_iter().map(|(w, _)| w).collect(),
            sequence_length,
            index: OnceLock::new(),
        })
    }

    /// The vocabulary, most frequent first (word `i` has id `i + 2`).
    pub fn words(&self) -> &[String] {
        &self.words
    }

    /// Number of ids: the words plus padding and out-of-vocabulary.
    pub fn vocabulary_size(&self) -> usize {
        self.words.len() + 2
    }

    fn index(&self) -> &HashMap<String, u32> {
        self.index.get_or_init(|| {
            self.words
                .iter()
                .enumerate()
                .map(|(i, w)| (w.clone(), i as u32 + 2))
                .collect()
        })
    }

    /// The ids of every token of `text` (no padding, no cut).
    pub fn encode(&self, text: &str) -> Vec<u32> {
        let index = self.index();
        tokenize(text)
            .iter()
            .map(|w| index.get(w).copied().unwrap_or(OOV))
            .collect()
    }

    /// The ids of `texts` as an array `[n, sequence_length, 1, 1]` of `f32`, each text cut to
    /// its first `sequence_length` tokens and padded with 0 at the end: the encoded input a
    /// text network takes.
    pub fn encode_batch<S: AsRef<str> + Sync>(&self, texts: &[S]) -> Result<ImageData> {
        let l = self.sequence_length;
        let mut ids = vec![0f32; texts.len() * l];
        ids.par_chunks_mut(l.max(1))
            .zip(texts.par_iter())
            .for_each(|(dst, t)| {
                for (d, id) in dst.iter_mut().zip(self.encode(t.as_ref())) {
                    *d = id as f32;
                }
            });
        ImageData::from_f32(ids, &[texts.len(), l, 1, 1])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_lower_case_words_and_punctuation() {
        assert_eq!(
            tokenize("Don't STOP—it's 10/10!! <br />Ça va"),
            vec![
                "don't", "stop", "—", "it's", "10", "/", "10", "!", "!", "<", "br", "/", ">", "ça",
                "va"
            ]
        );
        assert_eq!(
            tokenize("  'quoted' end'"),
            vec!["'", "quoted", "'", "end", "'"]
        );
        assert!(tokenize(" \n\t").is_empty());
    }

    #[test]
    fn vocabulary_is_ranked_by_frequency_then_alphabetically_and_capped() {
        let texts = ["b a c b", "c b d", "a e"];
        let tok = Tokenizer::fit(&texts, 100, 4).unwrap();
        // b:3, a:2, c:2, d:1, e:1
        assert_eq!(tok.words(), ["b", "a", "c", "d", "e"]);
        assert_eq!(tok.vocabulary_size(), 7);
        let small = Tokenizer::fit(&texts, 5, 4).unwrap();
        assert_eq!(small.words(), ["b", "a", "c"]);
        assert_eq!(small.encode("e d c"), vec![OOV, OOV, 4]);
        let x = small.encode_batch(&["b a c b a", "", "zzz c"]).unwrap();
        assert_eq!(x.shape, [3, 4, 1, 1]);
        let v: Vec<f32> = (0..12).map(|i| x.pixels.get(i)).collect();
        assert_eq!(v, [2., 3., 4., 2., 0., 0., 0., 0., 1., 4., 0., 0.]);
    }

    #[test]
    fn json_round_trip_keeps_the_encoding() {
        let tok = Tokenizer::fit(&["x y z", "y"], 10, 3).unwrap();
        let back: Tokenizer = serde_json::from_str(&serde_json::to_string(&tok).unwrap()).unwrap();
        assert_eq!(back, tok);
        assert_eq!(back.encode("z y q"), tok.encode("z y q"));
    }

    #[test]
    fn empty_inputs_are_errors() {
        let none: [&str; 0] = [];
        assert!(matches!(
            Tokenizer::fit(&none, 10, 3),
            Err(Error::EmptyDataset(_))
        ));
        assert!(matches!(
            Tokenizer::fit(&["", "  "], 10, 3),
            Err(Error::EmptyDataset(_))
        ));
    }
}
