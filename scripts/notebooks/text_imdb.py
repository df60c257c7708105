from common import *
cells = [
md('''
# IMDB: a text classifier

Movie reviews labelled positive or negative (Maas et al., 2011). `TextClassifier` fits a tokenizer
on the training texts (saved with the model, so predictions take raw strings) and searches over
text networks: TF-IDF of unigrams and bigrams into dense layers, 1-D convolutions over word
embeddings, a Transformer encoder and bidirectional recurrent layers.

`AUTOCANDLE_QUICK=1` shrinks the data and the search (every cell still runs).
'''),
SETUP,
md('''
## The data

25,000 training and 25,000 test reviews, read from the official archive without extracting it.
The loader sorts them by label, so the reviews are taken in a fixed pseudo-random order (all
25,000 for training, 10,000 for the test; both classes in about equal numbers).
'''),
code('''
    let imdb = autocandle::datasets::imdb(Some(&data_dir.join("imdb")), ImdbTarget::Sentiment)?;
    /// `n` indices spread over `0..len` in a fixed pseudo-random order.
    fn spread(len: usize, n: usize) -> Vec<usize> {
        (0..n.min(len)).map(|i| (i * 7_919 + 13) % len).collect()
    }
    let train = imdb.train.select(&spread(imdb.train.len(), if quick { 1_500 } else { 25_000 }));
    let test = imdb.test.select(&spread(imdb.test.len(), if quick { 500 } else { 10_000 }));
    /// How many texts have label 1 (positive).
    fn positives(d: &TextDataset) -> usize {
        match &d.y {
            Targets::Int(v) => v.iter().filter(|&&l| l == 1).count(),
            _ => 0,
        }
    }
    println!("train: {} reviews ({} positive), test: {} ({} positive)", train.len(), positives(&train), test.len(), positives(&test));
    println!("classes: {:?}", train.class_names.clone().unwrap_or_default());
'''),
code('''
    train.preview(5)
'''),
md('''
## The search

The greedy tuner starts with TF-IDF → Dense (fast and strong on reviews), then a 1-D convolution,
a Transformer and a bidirectional GRU on short sequences.
'''),
code('''
    let mut clf = TextClassifier::new(SearchConfig {
        max_trials: if quick { 1 } else { 2 },
        epochs: if quick { 1 } else { 4 },
        seed: 1,
        directory: projects.clone(),
        project_name: "imdb".into(),
        overwrite: true,
        ..Default::default()
    });
    if quick {
        clf.max_tokens(5_000).sequence_length(128);
    }
    let result = clf.fit(&train, None)?.clone();
'''),
code('''
    result
'''),
code('''
    result.plot_trials()
'''),
code('''
    result.plot_learning_curves()
'''),
md('''
## The model

Its accuracy on the test reviews, its summary, and predictions on new sentences.
'''),
code('''
    let metrics = clf.evaluate(&test)?;
    println!("test loss {:.4}, test accuracy {:.4}", metrics.loss, metrics.accuracy.unwrap_or(f64::NAN));
    let model = clf.export_model()?;
    model.summary()?
'''),
code('''
    let sentences = [
        "A moving, beautifully acted film. I loved every minute of it.",
        "Dull, far too long, and the ending makes no sense. A waste of time.",
        "The plot was thin but the actors were wonderful.",
    ];
    let proba = model.predict_proba_texts(&sentences)?;
    for (s, p) in sentences.iter().zip(&proba) {
        println!("P(positive) = {:.3}  {s}", p.get(1).copied().unwrap_or(f32::NAN));
    };
'''),
md('''
## Where it errs

Confusion matrix on the test reviews (0 = negative, 1 = positive); the model reads the raw texts
through its own tokenizer.
'''),
code('''
    model.confusion_matrix_texts(&test)?
'''),
]
notebook(cells, "text_imdb")
