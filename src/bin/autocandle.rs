//! The `autocandle` command line.

use autocandle::automodel::{SearchConfig, SearchResult};
use autocandle::data::{datasets, ImageDataset, ImdbTarget, Split, TextDataset, TextSplit};
use autocandle::display::terminal;
use autocandle::export::{Model, Predictions};
use autocandle::prelude::*;
use clap::{Parser, Subcommand, ValueEnum};
use polars::prelude::DataFrame;
use serde_json::json;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "autocandle",
    version,
    about = "AutoML for deep learning: search, train and export networks"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Copy, Clone, PartialEq, Eq, ValueEnum)]
enum Task {
    ImageClassifier,
    ImageRegressor,
    TimeseriesForecaster,
    TextClassifier,
    TextRegressor,
    /// A table's label column (StructuredDataClassifier).
    StructuredClassifier,
    /// A table's numeric column (StructuredDataRegressor).
    StructuredRegressor,
}

impl Task {
    fn is_table(self) -> bool {
        matches!(self, Task::StructuredClassifier | Task::StructuredRegressor)
    }

    /// The default project folder's name, under autocandle_projects/.
    fn project(self) -> &'static str {
        match self {
            Task::ImageClassifier | Task::ImageRegressor => "image",
            Task::TimeseriesForecaster => "timeseries",
            Task::TextClassifier | Task::TextRegressor => "text",
            Task::StructuredClassifier | Task::StructuredRegressor => "structured",
        }
    }
}

/// The options of the structured-data tasks.
#[derive(Clone, Default, clap::Args)]
struct TableArgs {
    /// Structured classifier: `balanced` weighs each class n / (k * n_class) in the loss.
    #[arg(long)]
    class_weight: Option<String>,
    /// Structured tasks: column types overriding the inferred ones, as
    /// name=categorical,name=numerical.
    #[arg(long)]
    column_types: Option<String>,
    /// Structured tasks: quantile bins of the piecewise-linear encoding of numerical
    /// columns (0: off) [default: by the number of rows, 4 to 32].
    #[arg(long)]
    numeric_bins: Option<usize>,
}

/// The options of `autocandle fit`.
#[derive(clap::Args)]
struct FitArgs {
    /// The task.
    #[arg(long, value_enum)]
    task: Task,
    /// mnist:<dir>, cifar10:<tar.gz or dir>, images:<dir>, digits, imdb:<tar.gz or dir>
    /// (texts), csv:<path> (tables, series, or texts with --text-column) or
    /// california_housing:<dir>.
    #[arg(long)]
    data: String,
    /// The target column (tables, texts from a CSV file); the column(s) to forecast (series:
    /// repeat the flag or separate names with commas). California housing: medianHouseValue.
    #[arg(long, value_delimiter = ',')]
    target: Vec<String>,
    /// Test data, csv:<path>: a table or texts with the same columns as --data; for a
    /// series, the points right after --data. Tables without it: a seeded 20 % holdout
    /// of --data (California housing: its seeded 80/20 split).
    #[arg(long)]
    test: Option<String>,
    /// Text tasks on a CSV file: the column holding the texts.
    #[arg(long)]
    text_column: Option<String>,
    /// Series: hold out the last N points of --data as the test continuation.
    #[arg(long)]
    holdout: Option<usize>,
    /// Series: points per input window (a few following the data's frequency are tried
    /// when absent).
    #[arg(long)]
    lookback: Option<usize>,
    /// Series: first step ahead to forecast.
    #[arg(long, default_value_t = 1)]
    predict_from: usize,
    /// Series: last step ahead to forecast.
    #[arg(long, default_value_t = 1)]
    predict_until: usize,
    #[command(flatten)]
    table: Box<TableArgs>,
    /// Most trials.
    #[arg(long, default_value_t = 10)]
    max_trials: usize,
    /// Wall-clock budget: 90s, 30m, 1h30m.
    #[arg(long)]
    time_limit: Option<String>,
    /// Most epochs per trial [default: 10; 100 for structured tasks and 200 for
    /// timeseries-forecaster, with early stopping].
    #[arg(long)]
    epochs: Option<usize>,
    /// Early-stopping patience in epochs [default: 3; 10 for structured and series tasks].
    #[arg(long)]
    patience: Option<usize>,
    /// Seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Project folder (resumed unless --overwrite) [default: autocandle_projects/ and
    /// image, text, structured or timeseries].
    #[arg(long)]
    project: Option<PathBuf>,
    /// Start the project over.
    #[arg(long)]
    overwrite: bool,
    /// greedy, random, bayesian, hyperband or morphism.
    #[arg(long, default_value = "greedy")]
    tuner: String,
    /// Batch size [default: 128; 32 for structured tasks and timeseries-forecaster].
    #[arg(long)]
    batch_size: Option<usize>,
    /// Largest model, in parameters.
    #[arg(long)]
    max_model_size: Option<usize>,
    /// Skip the final fit on training + validation data.
    #[arg(long)]
    no_final_fit: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Search for a network and train it; prints a JSON summary as the last line.
    Fit(Box<FitArgs>),
    /// Predict labels (or values) for a dataset's test part (or all of it) with a saved model;
    /// a forecaster forecasts after the end of the series in csv:<path>.
    Predict {
        /// Folder of a saved model (a project's best_model/).
        #[arg(long)]
        model: PathBuf,
        /// Same forms as for fit.
        #[arg(long)]
        data: String,
        /// How many predictions to print (all when absent).
        #[arg(long)]
        limit: Option<usize>,
    },
    /// Evaluate a saved model on a dataset's test part (or all of it).
    Evaluate {
        /// Folder of a saved model.
        #[arg(long)]
        model: PathBuf,
        /// Same forms as for fit.
        #[arg(long)]
        data: String,
    },
    /// Print the leaderboard of a project folder; with --html, also write a self-contained HTML
    /// report (leaderboard, plots, the best model's summary, every trial).
    Report {
        /// The project folder.
        project: PathBuf,
        /// Write the HTML report to this file.
        #[arg(long)]
        html: Option<PathBuf>,
    },
    /// Run the quickstart on the digits compiled into the crate.
    Quickstart,
}

/// Parses 90s, 30m, 2h, 1h30m or plain seconds.
fn parse_duration(s: &str) -> autocandle::Result<Duration> {
    let bad = || {
        Error::Config(format!(
            "cannot read the time limit {s:?}: write it like 90s, 30m, 2h or 1h30m"
        ))
    };
    if let Ok(secs) = s.parse::<f64>() {
        return if secs > 0.0 {
            Ok(Duration::from_secs_f64(secs))
        } else {
            Err(bad())
        };
    }
    let mut total = 0f64;
    let mut num = String::new();
    for ch in s.chars() {
        if ch.is_ascii_digit() || ch == '.' {
            num.push(ch);
            continue;
        }
        let v: f64 = num.parse().map_err(|_| bad())?;
        num.clear();
        total += v * match ch {
            'h' => 3600.0,
            'm' => 60.0,
            's' => 1.0,
            _ => return Err(bad()),
        };
    }
    if !num.is_empty() || total <= 0.0 {
        return Err(bad());
    }
    Ok(Duration::from_secs_f64(total))
}

/// A data source's training part and, when it has one, its test part.
enum Data {
    /// Images (or other arrays).
    Images(ImageDataset, Option<ImageDataset>),
    /// Texts.
    Texts(TextDataset, Option<TextDataset>),
}

/// The data of `spec`; `ratings` picks IMDB's ratings (regression) over its sentiment labels.
fn load(spec: &str, ratings: bool) -> autocandle::Result<Data> {
    let (kind, path) = spec.split_once(':').unwrap_or((spec, ""));
    let p = (!path.is_empty()).then(|| PathBuf::from(path));
    if kind == "imdb" {
        let target = if ratings {
            ImdbTarget::Rating
        } else {
            ImdbTarget::Sentiment
        };
        let s: TextSplit = datasets::imdb(p.as_deref(), target)?;
        return Ok(Data::Texts(s.train, Some(s.test)));
    }
    load_images(kind, p).map(|(train, test)| Data::Images(train, test))
}

/// The images of source `kind` at `p`, and their test part when there is one.
fn load_images(
    kind: &str,
    p: Option<PathBuf>,
) -> autocandle::Result<(ImageDataset, Option<ImageDataset>)> {
    let split = |s: Split| (s.train, Some(s.test));
    match kind {
        "mnist" => datasets::mnist(p.as_deref()).map(split),
        "fashion_mnist" | "fashion-mnist" => datasets::fashion_mnist(p.as_deref()).map(split),
        "cifar10" => datasets::cifar10(p.as_deref()).map(split),
        "images" => {
            let dir = p.ok_or_else(|| Error::Config("images: needs a folder, as in images:path/to/folder".into()))?;
            Ok((datasets::image_folder(&dir, None)?, None))
        }
        "digits" => {
            let d = datasets::digits()?;
            let (train, test) = holdout(&d, 0.2, 42);
            Ok((train, Some(test)))
        }
        "csv" | "california_housing" => Err(Error::Config(format!(
            "{kind}: is a table: use it with --task structured-classifier or structured-regressor"
        ))),
        other => Err(Error::Config(format!(
            "unknown data source {other:?}: use mnist:<dir>, cifar10:<tar.gz or dir>, images:<dir>, digits or imdb:<tar.gz or dir>"
        ))),
    }
}

/// The seed of the holdout and California housing splits (fixed, so that every search is
/// measured on the same rows).
const SPLIT_SEED: u64 = 42;

/// A table source: the training table, its test part when the source has one, and the target
/// column when the source names it.
struct TableSource {
    train: DataFrame,
    test: Option<DataFrame>,
    target: Option<String>,
}

/// Reads `csv:<file>` or `california_housing:<dir>` (the latter split 80/20 with a fixed seed).
fn load_table(spec: &str) -> autocandle::Result<TableSource> {
    let (kind, path) = spec.split_once(':').unwrap_or((spec, ""));
    match kind {
        "csv" if !path.is_empty() => Ok(TableSource {
            train: autocandle::data::read_csv(path)?,
            test: None,
            target: None,
        }),
        "california_housing" => {
            let dir = if path.is_empty() {
                std::env::var_os("AUTOCANDLE_DATA")
                    .map(|d| PathBuf::from(d).join("california_housing"))
                    .ok_or_else(|| {
                        Error::Config(
                            "california_housing: needs a folder (california_housing:<dir>) or AUTOCANDLE_DATA"
                                .into(),
                        )
                    })?
            } else {
                PathBuf::from(path)
            };
            let df = datasets::california_housing(&dir)?;
            let (train, test) = autocandle::data::train_test_split(&df, 0.2, SPLIT_SEED)?;
            Ok(TableSource {
                train,
                test: Some(test),
                target: Some(autocandle::data::CALIFORNIA_TARGET.into()),
            })
        }
        _ => Err(Error::Config(format!(
            "unknown table source {spec:?}: use csv:<file> or california_housing:<dir>"
        ))),
    }
}

/// Parses `name=categorical,name=numerical`.
fn parse_column_types(s: &str) -> autocandle::Result<BTreeMap<String, ColumnType>> {
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

fn metrics_json(m: &autocandle::training::Metrics) -> serde_json::Value {
    let mut v = json!({ "test_loss": m.loss });
    if let Some(obj) = v.as_object_mut() {
        if let Some(a) = m.accuracy {
            obj.insert("test_accuracy".into(), json!(a));
        }
        if let Some(a) = m.mse {
            obj.insert("test_mse".into(), json!(a));
        }
        if let Some(a) = m.mae {
            obj.insert("test_mae".into(), json!(a));
        }
    }
    v
}

/// Searches on a table; the test part is `--test`, the source's own, or a seeded 20 % holdout.
fn fit_table(
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
    let mut spec = TableSpec {
        numeric_bins: args.numeric_bins,
        ..Default::default()
    };
    if let Some(ct) = &args.column_types {
        spec.column_types = parse_column_types(ct)?;
    }
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

/// A seeded shuffle split.
fn holdout(d: &ImageDataset, frac: f64, seed: u64) -> (ImageDataset, ImageDataset) {
    use rand::seq::SliceRandom;
    use rand::SeedableRng;
    let mut idx: Vec<usize> = (0..d.len()).collect();
    idx.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(seed));
    let n_test = (d.len() as f64 * frac).round() as usize;
    (d.select(&idx[n_test..]), d.select(&idx[..n_test]))
}

fn summary_json(
    result: &SearchResult,
    test: Option<serde_json::Value>,
    wall: f64,
) -> serde_json::Value {
    let mut v = json!({
        "best_trial": result.best_trial,
        "trials": result.trials.len(),
        "completed_trials": result.trials.iter().filter(|t| t.status == autocandle::tuners::TrialStatus::Completed).count(),
        "final_fit": result.final_fit,
        "wall_seconds": (wall * 10.0).round() / 10.0,
        "model_path": result.model_path.display().to_string(),
    });
    if let (Some(obj), Some(serde_json::Value::Object(t))) = (v.as_object_mut(), test) {
        obj.extend(t);
    }
    v
}

fn test_metrics(model: &Model, test: &Data) -> autocandle::Result<serde_json::Value> {
    let m = match test {
        Data::Images(train, test) => model.evaluate(test.as_ref().unwrap_or(train))?,
        Data::Texts(train, test) => model.evaluate_texts(test.as_ref().unwrap_or(train))?,
    };
    Ok(metrics_json(&m))
}

/// The texts and targets of a CSV table: `column` holds the texts, `target` the labels
/// (classifier) or values (regressor).
fn texts_of_table(
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
fn fit_text_csv(
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

#[allow(clippy::too_many_arguments)]
fn fit(task: Task, data: &str, config: SearchConfig) -> autocandle::Result<serde_json::Value> {
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

/// What the time-series task takes from the command line.
struct SeriesArgs {
    data: String,
    target: Vec<String>,
    test: Option<String>,
    holdout: Option<usize>,
    lookback: Option<usize>,
    predict_from: usize,
    predict_until: usize,
}

/// The path of a `csv:<path>` data spec.
fn csv_path(spec: &str, flag: &str) -> autocandle::Result<PathBuf> {
    match spec.split_once(':') {
        Some(("csv", p)) if !p.is_empty() => Ok(PathBuf::from(p)),
        _ => Err(Error::Config(format!(
            "{flag} {spec:?}: timeseries-forecaster reads CSV files, written csv:path/to/file.csv"
        ))),
    }
}

/// Fits a forecaster on a CSV series; with --test or --holdout, evaluates rolling forecasts
/// of the continuation against the naive baselines.
fn fit_series(args: &SeriesArgs, config: SearchConfig) -> autocandle::Result<serde_json::Value> {
    use autocandle::data::{SeriesSpec, TimeSeries};
    use autocandle::tasks::TimeseriesForecaster;
    let start = Instant::now();
    if args.target.is_empty() {
        return Err(Error::Config(
            "timeseries-forecaster needs --target <column> (the column to forecast)".into(),
        ));
    }
    let spec = SeriesSpec {
        targets: args.target.clone(),
        ..Default::default()
    };
    let series = TimeSeries::read_csv(csv_path(&args.data, "--data")?, &spec)?;
    let (train, test) = match (args.holdout, &args.test) {
        (Some(_), Some(_)) => {
            return Err(Error::Config(
                "give either --holdout or --test, not both".into(),
            ))
        }
        (Some(n), None) => {
            let (a, b) = series.split_last(n)?;
            (a, Some(b))
        }
        (None, Some(t)) => (
            series,
            Some(TimeSeries::read_csv(csv_path(t, "--test")?, &spec)?),
        ),
        (None, None) => (series, None),
    };
    eprintln!(
        "Training series: {} points of {} column(s) ({}), frequency {:?}, {} missing value(s) filled",
        train.len(),
        train.columns.len(),
        train.columns.join(", "),
        train.frequency(),
        train.filled
    );
    let mut f = TimeseriesForecaster::new(config);
    f.lookback = args.lookback;
    f.predict_from = args.predict_from;
    f.predict_until = args.predict_until;
    eprintln!("Lookbacks to try: {:?}", f.candidate_lookbacks(&train)?);
    f.on_progress(terminal::progress());
    let result = f.fit(&train)?.clone();
    let forecast = f.predict()?;
    let model = f.export_model()?;
    let state = autocandle::tasks::series_state(&model)?;
    let mut extra = json!({
        "lookback": state.lookback,
        "log_transform": state.log,
        "predict_from": state.predict_from,
        "predict_until": state.predict_until,
        "lookback_scores": f.lookback_scores(),
        "forecast_after_training": forecast.values,
    });
    if let (Some(t), Some(obj)) = (&test, extra.as_object_mut()) {
        let m = autocandle::tasks::evaluate_forecasts(&model, t)?;
        obj.insert("test_mae".into(), json!(m.mae));
        obj.insert("test_mse".into(), json!(m.mse));
        obj.insert("test_points".into(), json!(m.points));
        obj.insert("test_origins".into(), json!(m.origins));
        obj.insert("test_naive_mae".into(), json!(m.naive_mae));
        obj.insert(
            "test_seasonal_naive_mae".into(),
            json!(m.seasonal_naive_mae),
        );
    }
    Ok(summary_json(
        &result,
        Some(extra),
        start.elapsed().as_secs_f64(),
    ))
}

/// Prints the forecast of a saved forecaster after the end of the series in `data`.
fn predict_series(model: &Model, data: &str) -> autocandle::Result<()> {
    use autocandle::data::{SeriesSpec, TimeSeries};
    let state = autocandle::tasks::series_state(model)?;
    let spec = SeriesSpec {
        targets: state.targets.clone(),
        ..Default::default()
    };
    let series = TimeSeries::read_csv(csv_path(data, "--data")?, &spec)?;
    let fc = autocandle::tasks::forecast(model, Some(&series))?;
    println!("step,{}", fc.targets.join(","));
    for (step, row) in fc.steps.iter().zip(&fc.values) {
        let vals: Vec<String> = row.iter().map(|v| v.to_string()).collect();
        println!("{step},{}", vals.join(","));
    }
    Ok(())
}

/// Searches an image task.
fn image_fit(
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
fn is_regression(model: &Model) -> bool {
    matches!(
        model.architecture().head,
        autocandle::graph::HeadKind::Regression { .. }
    )
}

fn quickstart() -> autocandle::Result<serde_json::Value> {
    eprintln!("autocandle quickstart: an image classifier for scikit-learn's 8x8 digits (compiled into the crate).");
    let config = SearchConfig {
        max_trials: 3,
        epochs: 40,
        patience: 6,
        batch_size: 32,
        seed: 1,
        directory: std::env::temp_dir().join("autocandle_quickstart"),
        project_name: "digits".into(),
        overwrite: true,
        ..Default::default()
    };
    fit(Task::ImageClassifier, "digits", config)
}

/// The trials of a project folder, in id order.
fn project_trials(project: &std::path::Path) -> autocandle::Result<Vec<autocandle::tuners::Trial>> {
    let (dir, name) = match (project.parent(), project.file_name()) {
        (Some(d), Some(n)) => (d.to_path_buf(), n.to_string_lossy().into_owned()),
        _ => {
            return Err(Error::Config(format!(
                "{} is not a project folder",
                project.display()
            )))
        }
    };
    if !project.join("oracle.json").exists() {
        return Err(Error::DataNotFound {
            what: "project".into(),
            path: project.to_path_buf(),
            hint: "give the folder that holds oracle.json (the --project of fit)".into(),
        });
    }
    let p = autocandle::project::Project::open(&dir, &name, false)?;
    p.load_trials()
}

fn report(project: &std::path::Path) -> autocandle::Result<String> {
    let mut trials = project_trials(project)?;
    trials.sort_by(|a, b| {
        a.score
            .unwrap_or(f64::INFINITY)
            .partial_cmp(&b.score.unwrap_or(f64::INFINITY))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    Ok(terminal::leaderboard(&trials))
}

/// Writes the HTML report of `project` to `out`: the trials in the order they ran, and the
/// summary of `<project>/best_model` when it is there and loads.
fn report_html(project: &std::path::Path, out: &std::path::Path) -> autocandle::Result<()> {
    let trials = project_trials(project)?;
    let model_dir = project.join("best_model");
    let summary = if model_dir.exists() {
        match Model::load(&model_dir).and_then(|m| m.summary()) {
            Ok(s) => Some(s),
            Err(e) => {
                eprintln!("The report leaves out the model summary: {e}");
                None
            }
        }
    } else {
        None
    };
    let title = format!("autocandle report: {}", project.display());
    let html = autocandle::display::report_html(&title, &trials, summary.as_ref())?;
    autocandle::display::report::save_html(out, &html)?;
    eprintln!("HTML report written to {}", out.display());
    Ok(())
}

fn run(cli: Cli) -> autocandle::Result<()> {
    match cli.command.unwrap_or(Command::Quickstart) {
        Command::Quickstart => println!("{}", quickstart()?),
        Command::Fit(args) => {
            let FitArgs {
                task,
                data,
                target,
                test,
                text_column,
                holdout,
                lookback,
                predict_from,
                predict_until,
                table,
                max_trials,
                time_limit,
                epochs,
                patience,
                seed,
                project,
                overwrite,
                tuner,
                batch_size,
                max_model_size,
                no_final_fit,
            } = *args;
            let series = task == Task::TimeseriesForecaster;
            let project = project
                .unwrap_or_else(|| PathBuf::from("autocandle_projects").join(task.project()));
            let (directory, project_name) = match (project.parent(), project.file_name()) {
                (Some(d), Some(n)) => (d.to_path_buf(), n.to_string_lossy().into_owned()),
                _ => {
                    return Err(Error::Config(format!(
                        "--project {} must name a folder",
                        project.display()
                    )))
                }
            };
            let base = if task.is_table() {
                StructuredDataClassifier::default_config()
            } else if series {
                autocandle::tasks::series_config(SearchConfig::default())
            } else {
                SearchConfig::default()
            };
            let config = SearchConfig {
                max_trials,
                time_limit: time_limit.as_deref().map(parse_duration).transpose()?,
                tuner: tuner.parse()?,
                seed,
                directory,
                project_name,
                overwrite,
                max_model_size,
                epochs: epochs.unwrap_or(base.epochs),
                batch_size: batch_size.unwrap_or(base.batch_size),
                patience: patience.unwrap_or(base.patience),
                final_fit: !no_final_fit,
                ..base
            };
            let summary = if series {
                let args = SeriesArgs {
                    data,
                    target,
                    test,
                    holdout,
                    lookback,
                    predict_from,
                    predict_until,
                };
                fit_series(&args, config)?
            } else if task.is_table() {
                fit_table(task, &data, &target, test.as_deref(), &table, config)?
            } else if let Some(column) = text_column {
                fit_text_csv(task, &data, &target, &column, test.as_deref(), config)?
            } else {
                if !target.is_empty() || test.is_some() {
                    return Err(Error::Config(
                        "--target and --test are for CSV data (tables, series, texts with --text-column)"
                            .into(),
                    ));
                }
                fit(task, &data, config)?
            };
            println!("{summary}");
        }
        Command::Predict { model, data, limit } => {
            let m = Model::load(&model)?;
            if m.preprocessing().series.is_some() {
                return predict_series(&m, &data);
            }
            let predictions = if m.preprocessing().columns.is_some() {
                let t = load_table(&data)?;
                let d = t.test.unwrap_or(t.train);
                let n = limit.unwrap_or(d.height()).min(d.height());
                m.predict_table(&d.head(Some(n)))?
            } else {
                match load(&data, is_regression(&m))? {
                    Data::Images(train, test) => {
                        let d = test.unwrap_or(train);
                        m.predict(&d.take(limit.unwrap_or(d.len())).x)?
                    }
                    Data::Texts(train, test) => {
                        let d = test.unwrap_or(train);
                        m.predict_texts(&d.take(limit.unwrap_or(d.len())).texts)?
                    }
                }
            };
            match predictions {
                Predictions::Labels(l) => l.iter().for_each(|x| println!("{x}")),
                Predictions::Values { values, dim } => values.chunks(dim).for_each(|r| {
                    println!(
                        "{}",
                        r.iter()
                            .map(|v| v.to_string())
                            .collect::<Vec<_>>()
                            .join(",")
                    )
                }),
            }
        }
        Command::Evaluate { model, data } => {
            let m = Model::load(&model)?;
            if m.preprocessing().columns.is_some() {
                let t = load_table(&data)?;
                println!(
                    "{}",
                    metrics_json(&m.evaluate_table(t.test.as_ref().unwrap_or(&t.train))?)
                );
            } else {
                let data = load(&data, is_regression(&m))?;
                println!("{}", test_metrics(&m, &data)?);
            }
        }
        Command::Report { project, html } => {
            print!("{}", report(&project)?);
            if let Some(out) = html {
                report_html(&project, &out)?;
            }
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
