//! `fit` for the structured-data tasks.

use crate::sources::{load_table, SPLIT_SEED};
use crate::{metrics_json, summary_json, TableArgs, Task};
use autocandle::automodel::SearchConfig;
use autocandle::data::Targets;
use autocandle::display::terminal;
use autocandle::prelude::*;
use polars::prelude::DataFrame;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

/// Parses `name=categorical,name=numerical`.
pub(crate) fn parse_column_types(s: &str) -> autocandle::Result<BTreeMap<String, ColumnType>> {
    s.split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|pair| {
            let (name, ty) = pair.split_once('=').ok_or_else(|| {
                Error::Config(format!(
                    "cannot read the column type {pair:?}: write name=categorical or name=numerical"
                ))
            })?;
            Ok((name.trim().to_string(), ty.parse()?))
        })
        .collect()
}

/// Searches on a table; the test part is `--test`, the source's own, or a seeded 20 % holdout.
pub(crate) fn fit_table(
    task: Task,
    data: &str,
    target: &[String],
    test: Option<&str>,
    args: &TableArgs,
    config: SearchConfig,
) -> autocandle::Result<serde_json::Value> {
    let start = Instant::now();
    let source = load_table(data)?;
    let target = match target {
        [] => source
            .target
            .ok_or_else(|| Error::Config("the structured tasks need --target <column>".into()))?,
        [one] => one.clone(),
        more => {
            return Err(Error::Config(format!(
                "the structured tasks take one --target column, {} were given",
                more.len()
            )))
        }
    };
    // The targets, checked on the table as read (so errors give its CSV lines), and the
    // warnings about its columns, before any split or training.
    let mut spec = TableSpec {
        numeric_bins: args.numeric_bins,
        ..Default::default()
    };
    if let Some(ct) = &args.column_types {
        spec.column_types = parse_column_types(ct)?;
    }
    let classifier = task == Task::StructuredClassifier;
    let train_targets = if classifier {
        Some(autocandle::preprocessing::class_targets(
            &source.train,
            &target,
        )?)
    } else {
        autocandle::preprocessing::regression_targets(&source.train, &target)?;
        None
    };
    for w in spec.warnings(&source.train, Some(&target))? {
        eprintln!("warning: {w}");
    }
    let (train, test, test_source) = match (test, source.test) {
        (Some(spec), _) => {
            let t = load_table(spec)?;
            (source.train, t.train, spec.to_string())
        }
        (None, Some(test)) => (source.train, test, "the source's 20 % test split".into()),
        (None, None) => {
            let (train, test) = autocandle::data::train_test_split(&source.train, 0.2, SPLIT_SEED)?;
            (
                train,
                test,
                "a 20 % holdout of --data (no --test given)".into(),
            )
        }
    };
    eprintln!(
        "Training table: {} rows x {} columns, target {target:?}; test: {} rows ({test_source})",
        train.height(),
        train.width(),
        test.height()
    );
    check_test_table(&train, &test, &target, &test_source, train_targets.as_ref())?;
    let (model, result) = match task {
        Task::StructuredClassifier => {
            let mut clf = StructuredDataClassifier::new(config);
            clf.table = spec;
            clf.class_weight = match args.class_weight.as_deref() {
                None | Some("none") => ClassWeight::None,
                Some("balanced") => ClassWeight::Balanced,
                Some(other) => {
                    return Err(Error::Config(format!(
                        "unknown --class-weight {other:?}: use balanced or none"
                    )))
                }
            };
            clf.on_progress(terminal::progress());
            clf.fit(&train, &target, None)?;
            let result = clf.result().cloned();
            (clf.export_model()?, result)
        }
        _ => {
            if args.class_weight.is_some() {
                return Err(Error::Config(
                    "--class-weight is for the structured classifier".into(),
                ));
            }
            let mut reg = StructuredDataRegressor::new(config);
            reg.table = spec;
            reg.on_progress(terminal::progress());
            reg.fit(&train, &target, None)?;
            let result = reg.result().cloned();
            (reg.export_model()?, result)
        }
    };
    let result = result.ok_or_else(|| Error::Config("the search returned no result".into()))?;
    let mut test_json = metrics_json(&model.evaluate_table(&test)?);
    if let Some(obj) = test_json.as_object_mut() {
        obj.insert("test_rows".into(), json!(test.height()));
        obj.insert("test_source".into(), json!(test_source));
    }
    Ok(summary_json(
        &result,
        Some(test_json),
        start.elapsed().as_secs_f64(),
    ))
}

/// Everything that can be checked about the test table before the search: the target and
/// every training column are there, and (classification) every test class was seen in
/// training.
fn check_test_table(
    train: &DataFrame,
    test: &DataFrame,
    target: &str,
    test_source: &str,
    train_targets: Option<&Targets>,
) -> autocandle::Result<()> {
    let have: Vec<String> = test
        .get_column_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    for name in train.get_column_names() {
        if !have.iter().any(|h| h == name.as_str()) {
            return Err(Error::Config(format!(
                "the test data ({test_source}) has no column {:?}, which the training data has{}; its columns are: {}",
                name.as_str(),
                if name.as_str() == target { " as its target" } else { "" },
                have.join(", ")
            )));
        }
    }
    if let Some(train_y) = train_targets {
        let known: BTreeSet<String> = labels(train_y).into_iter().collect();
        let test_y = autocandle::preprocessing::class_targets(test, target)?;
        if let Some((row, l)) = labels(&test_y)
            .into_iter()
            .enumerate()
            .find(|(_, l)| !known.contains(l))
        {
            return Err(Error::Config(format!(
                "the test data ({test_source}) has the class {l:?} in its target {target:?} at data row {} (line {} of a CSV file), which the training data never has; its classes are: {}",
                row + 1,
                row + 2,
                known.iter().cloned().collect::<Vec<_>>().join(", ")
            )));
        }
    }
    Ok(())
}

/// Class labels as text.
fn labels(y: &Targets) -> Vec<String> {
    match y {
        Targets::Int(v) => v.iter().map(|i| i.to_string()).collect(),
        Targets::Str(v) => v.clone(),
        Targets::Float { values, .. } => values.iter().map(|v| v.to_string()).collect(),
    }
}
