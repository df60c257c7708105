//! `fit` on the image sources and IMDB.

use crate::sources::{load, Data};
use crate::{metrics_json, summary_json, Task};
use autocandle::automodel::{SearchConfig, SearchResult};
use autocandle::data::ImageDataset;
use autocandle::display::terminal;
use autocandle::export::Model;
use autocandle::prelude::*;
use std::time::Instant;

pub(crate) fn test_metrics(model: &Model, test: &Data) -> autocandle::Result<serde_json::Value> {
    let m = match test {
        Data::Images(train, test) => model.evaluate(test.as_ref().unwrap_or(train))?,
        Data::Texts(train, test) => model.evaluate_texts(test.as_ref().unwrap_or(train))?,
    };
    Ok(metrics_json(&m))
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn fit(
    task: Task,
    data: &str,
    config: SearchConfig,
) -> autocandle::Result<serde_json::Value> {
    let start = Instant::now();
    let text_task = matches!(task, Task::TextClassifier | Task::TextRegressor);
    let data = load(data, task == Task::TextRegressor)?;
    let (model, result) = match (task, &data) {
        (Task::TimeseriesForecaster, _) => {
            return Err(Error::Config(
                "timeseries-forecaster reads csv:<path> data with --target".into(),
            ))
        }
        (Task::TextClassifier | Task::TextRegressor, Data::Texts(train, _)) => {
            eprintln!("Training data: {} texts", train.len());
            if task == Task::TextClassifier {
                let mut clf = TextClassifier::new(config);
                clf.on_progress(terminal::progress());
                clf.fit(train, None)?;
                let result = clf.result().cloned();
                (clf.export_model()?, result)
            } else {
                let mut reg = TextRegressor::new(config);
                reg.on_progress(terminal::progress());
                reg.fit(train, None)?;
                let result = reg.result().cloned();
                (reg.export_model()?, result)
            }
        }
        (_, Data::Texts(..)) | (_, Data::Images(..)) if text_task => {
            return Err(Error::Config(
                "text tasks take texts: use --data imdb:<aclImdb_v1.tar.gz or folder>".into(),
            ))
        }
        (_, Data::Texts(..)) => {
            return Err(Error::Config(
                "this source holds texts: use --task text-classifier or text-regressor".into(),
            ))
        }
        (_, Data::Images(train, _)) => {
            eprintln!(
                "Training data: {} images of shape {:?}",
                train.len(),
                train.x.image_shape()
            );
            image_fit(task, train, config)?
        }
    };
    let result = result.ok_or_else(|| Error::Config("the search returned no result".into()))?;
    let has_test = match &data {
        Data::Images(_, t) => t.is_some(),
        Data::Texts(_, t) => t.is_some(),
    };
    let test_json = if has_test {
        Some(test_metrics(&model, &data)?)
    } else {
        None
    };
    Ok(summary_json(
        &result,
        test_json,
        start.elapsed().as_secs_f64(),
    ))
}

/// Searches an image task.
pub(crate) fn image_fit(
    task: Task,
    train: &ImageDataset,
    config: SearchConfig,
) -> autocandle::Result<(Model, Option<SearchResult>)> {
    Ok(match task {
        Task::ImageClassifier => {
            let mut clf = ImageClassifier::new(config);
            clf.on_progress(terminal::progress());
            clf.fit(train, None)?;
            let result = clf.result().cloned();
            (clf.export_model()?, result)
        }
        _ => {
            let mut reg = ImageRegressor::new(config);
            reg.on_progress(terminal::progress());
            reg.fit(train, None)?;
            let result = reg.result().cloned();
            (reg.export_model()?, result)
        }
    })
}

/// Whether `model` predicts values (so that IMDB gives ratings rather than labels).
pub(crate) fn is_regression(model: &Model) -> bool {
    matches!(
        model.architecture().head,
        autocandle::graph::HeadKind::Regression { .. }
    )
}
