//! `fit` for the text tasks on a CSV file's text column.

use crate::sources::{load_table, SPLIT_SEED};
use crate::{metrics_json, summary_json, Task};
use autocandle::automodel::SearchConfig;
use autocandle::data::TextDataset;
use autocandle::display::terminal;
use autocandle::prelude::*;
use polars::prelude::DataFrame;
use serde_json::json;
use std::time::Instant;

/// The texts and targets of a CSV table: `column` holds the texts, `target` the labels
/// (classifier) or values (regressor).
pub(crate) fn texts_of_table(
    df: &DataFrame,
    column: &str,
    target: &str,
    regression: bool,
) -> autocandle::Result<TextDataset> {
    let texts = autocandle::data::text_column(df, column)?;
    let y = if regression {
        Targets::Float {
            values: autocandle::preprocessing::regression_targets(df, target)?,
            dim: 1,
        }
    } else {
        autocandle::preprocessing::class_targets(df, target)?
    };
    TextDataset::new(texts, y)
}

/// Searches a text task on a CSV file's text column; the test part is `--test` or a seeded
/// 20 % holdout.
pub(crate) fn fit_text_csv(
    task: Task,
    data: &str,
    target: &[String],
    column: &str,
    test: Option<&str>,
    config: SearchConfig,
) -> autocandle::Result<serde_json::Value> {
    let start = Instant::now();
    let regression = match task {
        Task::TextClassifier => false,
        Task::TextRegressor => true,
        _ => {
            return Err(Error::Config(
                "--text-column is for text-classifier and text-regressor".into(),
            ))
        }
    };
    let [target] = target else {
        return Err(Error::Config(
            "texts from a CSV file need one --target <column> (the labels or values)".into(),
        ));
    };
    let source = load_table(data)?;
    let (train, test, test_source) = match test {
        Some(spec) => (source.train, load_table(spec)?.train, spec.to_string()),
        None => {
            let (train, test) = autocandle::data::train_test_split(&source.train, 0.2, SPLIT_SEED)?;
            (
                train,
                test,
                "a 20 % holdout of --data (no --test given)".into(),
            )
        }
    };
    let train = texts_of_table(&train, column, target, regression)?;
    let test = texts_of_table(&test, column, target, regression)?;
    eprintln!(
        "Training data: {} texts from column {column:?}, target {target:?}; test: {} texts ({test_source})",
        train.len(),
        test.len()
    );
    let (model, result) = if regression {
        let mut reg = TextRegressor::new(config);
        reg.on_progress(terminal::progress());
        reg.fit(&train, None)?;
        let result = reg.result().cloned();
        (reg.export_model()?, result)
    } else {
        let mut clf = TextClassifier::new(config);
        clf.on_progress(terminal::progress());
        clf.fit(&train, None)?;
        let result = clf.result().cloned();
        (clf.export_model()?, result)
    };
    let result = result.ok_or_else(|| Error::Config("the search returned no result".into()))?;
    let mut test_json = metrics_json(&model.evaluate_texts(&test)?);
    if let Some(obj) = test_json.as_object_mut() {
        obj.insert("test_rows".into(), json!(test.len()));
        obj.insert("test_source".into(), json!(test_source));
    }
    Ok(summary_json(
        &result,
        Some(test_json),
        start.elapsed().as_secs_f64(),
    ))
}
