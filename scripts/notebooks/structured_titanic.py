from common import *
cells = [
md('''
# Titanic: a classifier for a table

Who survived the Titanic? `StructuredDataClassifier` takes a table (a polars `DataFrame` or a CSV
file) and the name of the label column. It types each column (categorical or numerical), encodes
it, searches over dense networks, and keeps the encoders with the model, so that `predict` takes
raw rows.

`AUTOCANDLE_QUICK=1` shortens the search (every cell still runs).
'''),
SETUP,
md('''
## The data

The train and evaluation tables of the AutoKeras / TensorFlow tutorial: 627 and 264 passengers.
Each cell below reads the tables it uses (a few milliseconds): the kernel compiles every cell into
its own library with its own copy of polars, and a `DataFrame` kept from an earlier cell is not
found by column name in a later one.
'''),
code('''
    /// The Titanic table `part` ("train" or "eval").
    fn titanic(data_dir: &std::path::Path, part: &str) -> autocandle::Result<polars::prelude::DataFrame> {
        autocandle::data::read_csv(data_dir.join("titanic").join(format!("{part}.csv")))
    }
    let train = titanic(&data_dir, "train")?;
    let test = titanic(&data_dir, "eval")?;
    println!("train: {:?}, test: {:?}", train.shape(), test.shape());
    train.preview(5)
'''),
md('''
## Column types

A column is categorical when it holds strings or booleans, or numbers with fewer than 5 % distinct
values (AutoKeras's rule); numerical otherwise. Categorical columns become one-hot vectors;
numerical ones are imputed, standardised and binned. `clf.table.column_types` overrides the
inferred type of any column.
'''),
code('''
    let train = titanic(&data_dir, "train")?;
    let encoder = autocandle::preprocessing::TableEncoder::fit(&train, "survived", &TableSpec::default())?;
    encoder
'''),
md('''
## Class balance

Fewer passengers survived than died. `ClassWeight::Balanced` weighs each class by
`n / (k · n_class)` in the training loss, so that both count as much in total.
'''),
code('''
    let (train, test) = (titanic(&data_dir, "train")?, titanic(&data_dir, "eval")?);
    for (name, df) in [("train", &train), ("test", &test)] {
        let y = autocandle::preprocessing::class_targets(df, "survived")?;
        let counts = autocandle::display::preview::class_counts(&y, None).unwrap_or_default();
        let n: usize = counts.iter().map(|(_, c)| c).sum();
        for (class, c) in &counts {
            let weight = n as f64 / (counts.len() * c) as f64;
            println!("{name}: survived = {class}: {c} passengers ({:.1} %), balanced weight {weight:.3}", 100.0 * *c as f64 / n as f64);
        }
    };
'''),
md('''
## The search

Tables suit many short trials: `default_config()` gives up to 100 epochs with early stopping after
10 without progress, batches of 64.
'''),
code('''
    let mut clf = StructuredDataClassifier::new(SearchConfig {
        max_trials: if quick { 2 } else { 10 },
        epochs: if quick { 10 } else { 100 },
        seed: 1,
        directory: projects.clone(),
        project_name: "titanic".into(),
        overwrite: true,
        ..StructuredDataClassifier::default_config()
    });
    clf.class_weight = ClassWeight::Balanced;
    clf.on_progress(Box::new(|e: &SearchEvent| {
        if let SearchEvent::TrialEnd { trial, .. } = e {
            println!(
                "trial {} {:?}: val loss {}, val accuracy {}, {} epochs, {:.1} s",
                trial.trial_id,
                trial.status,
                trial.score.map(|s| format!("{s:.4}")).unwrap_or_else(|| "-".into()),
                trial.best_metrics.and_then(|m| m.accuracy).map(|a| format!("{a:.4}")).unwrap_or_else(|| "-".into()),
                trial.history.len(),
                trial.seconds
            );
        }
    }));
    let train = titanic(&data_dir, "train")?;
    let result = clf.fit(&train, "survived", None)?.clone();
'''),
code('''
    result
'''),
code('''
    result.plot_trials()
'''),
code('''
    result.plot_hyperparameter("learning_rate")?
'''),
md('''
## The model

Its accuracy on the evaluation table, its summary, and the confusion matrix.
'''),
code('''
    let test = titanic(&data_dir, "eval")?;
    let metrics = clf.evaluate(&test)?;
    println!("test loss {:.4}, test accuracy {:.4}", metrics.loss, metrics.accuracy.unwrap_or(f64::NAN));
    let model = clf.export_model()?;
    model.summary()?
'''),
code('''
    let test = titanic(&data_dir, "eval")?;
    model.confusion_matrix_table(&test)?
'''),
md('''
Predictions take raw rows (the label column, if present, is ignored):
'''),
code('''
    let some = titanic(&data_dir, "eval")?.head(Some(5));
    let proba = model.predict_proba_table(&some)?;
    for (i, p) in proba.iter().enumerate() {
        println!("passenger {i}: P(survived) = {:.3}", p.get(1).copied().unwrap_or(f32::NAN));
    }
    some.preview(5)
'''),
]
notebook(cells, "structured_titanic", TABLES)
