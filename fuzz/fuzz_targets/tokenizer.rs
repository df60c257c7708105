//! The text tokenizer on arbitrary bytes: decoded as a review file is, split into texts at
//! newlines, fitted, and the texts encoded.
#![no_main]

use autocandle::preprocessing::Tokenizer;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = autocandle::data::decode_utf8(data.to_vec(), || "review.txt".into());
    let text = String::from_utf8_lossy(data);
    let texts: Vec<&str> = text.split('\n').collect();
    let len = 1 + data.first().map_or(0, |b| usize::from(*b) % 64);
    let Ok(tok) = Tokenizer::fit(&texts, 2 + data.len() % 50, len) else {
        return;
    };
    let x = tok.encode_batch(&texts).expect("encoding fitted texts");
    assert_eq!(x.shape, [texts.len(), len, 1, 1]);
    for t in &texts {
        for id in tok.encode(t) {
            assert!((id as usize) < tok.vocabulary_size());
        }
    }
    let owned: Vec<Vec<u8>> = data.split(|b| *b == b'\n').map(<[u8]>::to_vec).collect();
    let n = owned.len();
    let _ = autocandle::data::TextDataset::from_bytes(owned, vec![0i64; n]);
});
