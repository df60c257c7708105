//! The `autocandle` command line.

use autocandle::automodel::{SearchConfig, SearchResult};
use autocandle::data::{datasets, ImageDataset, ImdbTarget, Split, TextDataset, TextSplit};
use autocandle::display::terminal;
use autocandle::export::{Model, Predictions};
use autocandle::prelude::*;
use clap::{Parser, Subcommand, ValueEnum};
use serde_json::json;
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
}

#[derive(Subcommand)]
enum Command {
    /// Search for a network and train it; prints a JSON summary as the last line.
    Fit {
        /// The task.
        #[arg(long, value_enum)]
        task: Task,
        /// mnist:<dir>, cifar10:<tar.gz or dir>, images:<dir>, digits, imdb:<tar.gz or dir>
        /// (texts), or csv:<path> for timeseries-forecaster.
        #[arg(long)]
        data: String,
        /// Target column(s) to forecast (repeat the flag or separate names with commas).
        #[arg(long, value_delimiter = ',')]
        target: Vec<String>,
        /// Test data, csv:<path>; for a series, the points right after --data.
        #[arg(long)]
        test: Option<String>,
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
        /// Most trials.
        #[arg(long, default_value_t = 10)]
        max_trials: usize,
        /// Wall-clock budget: 90s, 30m, 1h30m.
        #[arg(long)]
        time_limit: Option<String>,
        /// Most epochs per trial [default: 10; 200 for timeseries-forecaster, with early stopping].
        #[arg(long)]
        epochs: Option<usize>,
        /// Seed.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Project folder (resumed unless --overwrite) [default: autocandle_projects/image, or
        /// autocandle_projects/timeseries].
        #[arg(long)]
        project: Option<PathBuf>,
        /// Start the project over.
        #[arg(long)]
        overwrite: bool,
        /// greedy, random, bayesian, hyperband or morphism.
        #[arg(long, default_value = "greedy")]
        tuner: String,
        /// Batch size [default: 128; 32 for timeseries-forecaster].
        #[arg(long)]
        batch_size: Option<usize>,
        /// Largest model, in parameters.
        #[arg(long)]
        max_model_size: Option<usize>,
        /// Skip the final fit on training + validation data.
        #[arg(long)]
        no_final_fit: bool,
    },
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
        other => Err(Error::Config(format!(
            "unknown data source {other:?}: use mnist:<dir>, cifar10:<tar.gz or dir>, images:<dir>, digits or imdb:<tar.gz or dir>"
        ))),
    }
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
    Ok(v)
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
        Command::Fit {
            task,
            data,
            target,
            test,
            holdout,
            lookback,
            predict_from,
            predict_until,
            max_trials,
            time_limit,
            epochs,
            seed,
            project,
            overwrite,
            tuner,
            batch_size,
            max_model_size,
            no_final_fit,
        } => {
            let series = task == Task::TimeseriesForecaster;
            let project = project.unwrap_or_else(|| {
                PathBuf::from(if series {
                    "autocandle_projects/timeseries"
                } else {
                    "autocandle_projects/image"
                })
            });
            let (directory, project_name) = match (project.parent(), project.file_name()) {
                (Some(d), Some(n)) => (d.to_path_buf(), n.to_string_lossy().into_owned()),
                _ => {
                    return Err(Error::Config(format!(
                        "--project {} must name a folder",
                        project.display()
                    )))
                }
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
                final_fit: !no_final_fit,
                ..Default::default()
            };
            if series {
                let config = SearchConfig {
                    epochs: epochs.unwrap_or(200),
                    batch_size: batch_size.unwrap_or(32),
                    ..autocandle::tasks::series_config(config)
                };
                let args = SeriesArgs {
                    data,
                    target,
                    test,
                    holdout,
                    lookback,
                    predict_from,
                    predict_until,
                };
                println!("{}", fit_series(&args, config)?);
            } else {
                let config = SearchConfig {
                    epochs: epochs.unwrap_or(10),
                    batch_size: batch_size.unwrap_or(128),
                    ..config
                };
                println!("{}", fit(task, &data, config)?);
            }
        }
        Command::Predict { model, data, limit } => {
            let m = Model::load(&model)?;
            if m.preprocessing().series.is_some() {
                return predict_series(&m, &data);
            }
            let predictions = match load(&data, is_regression(&m))? {
                Data::Images(train, test) => {
                    let d = test.unwrap_or(train);
                    m.predict(&d.take(limit.unwrap_or(d.len())).x)?
                }
                Data::Texts(train, test) => {
                    let d = test.unwrap_or(train);
                    m.predict_texts(&d.take(limit.unwrap_or(d.len())).texts)?
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
            let data = load(&data, is_regression(&m))?;
            println!("{}", test_metrics(&m, &data)?);
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
