//! The `autocandle` command line.

use autocandle::automodel::{SearchConfig, SearchResult};
use autocandle::data::{datasets, ImageDataset, Split};
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
    /// A table's label column (StructuredDataClassifier).
    StructuredClassifier,
    /// A table's numeric column (StructuredDataRegressor).
    StructuredRegressor,
}

impl Task {
    fn is_table(self) -> bool {
        matches!(self, Task::StructuredClassifier | Task::StructuredRegressor)
    }
}

/// The options of the structured-data tasks.
#[derive(Clone, Default, clap::Args)]
struct TableArgs {
    /// Structured tasks: the target column (California housing: medianHouseValue).
    #[arg(long)]
    target: Option<String>,
    /// Structured tasks: a separate test table, csv:<file>. Without it a seeded 20 %
    /// holdout of --data is the test part (California housing: its seeded 80/20 split).
    #[arg(long)]
    test: Option<String>,
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

#[derive(Subcommand)]
enum Command {
    /// Search for a network and train it; prints a JSON summary as the last line.
    Fit {
        /// The task.
        #[arg(long, value_enum)]
        task: Task,
        /// mnist:<dir>, cifar10:<tar.gz or dir>, images:<dir> or digits; for the structured
        /// tasks csv:<file> or california_housing:<dir>.
        #[arg(long)]
        data: String,
        #[command(flatten)]
        table: Box<TableArgs>,
        /// Most trials.
        #[arg(long, default_value_t = 10)]
        max_trials: usize,
        /// Wall-clock budget: 90s, 30m, 1h30m.
        #[arg(long)]
        time_limit: Option<String>,
        /// Most epochs per trial [default: 10; structured tasks 100].
        #[arg(long)]
        epochs: Option<usize>,
        /// Early-stopping patience in epochs [default: 3; structured tasks 10].
        #[arg(long)]
        patience: Option<usize>,
        /// Seed.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Project folder (resumed unless --overwrite).
        #[arg(long, default_value = "autocandle_projects/image")]
        project: PathBuf,
        /// Start the project over.
        #[arg(long)]
        overwrite: bool,
        /// greedy, random or bayesian.
        #[arg(long, default_value = "greedy")]
        tuner: String,
        /// Batch size [default: 128; structured tasks 32].
        #[arg(long)]
        batch_size: Option<usize>,
        /// Largest model, in parameters.
        #[arg(long)]
        max_model_size: Option<usize>,
        /// Skip the final fit on training + validation data.
        #[arg(long)]
        no_final_fit: bool,
    },
    /// Predict labels (or values) for a dataset's test part (or all of it) with a saved model.
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

/// The training data and, when the source has one, the test part.
fn load(spec: &str) -> autocandle::Result<(ImageDataset, Option<ImageDataset>)> {
    let (kind, path) = spec.split_once(':').unwrap_or((spec, ""));
    let p = (!path.is_empty()).then(|| PathBuf::from(path));
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
            "unknown data source {other:?}: use mnist:<dir>, cifar10:<tar.gz or dir>, images:<dir> or digits"
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

/// Whether `spec` names a table source.
fn is_table_spec(spec: &str) -> bool {
    spec.starts_with("csv:") || spec.starts_with("california_housing")
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
    args: &TableArgs,
    config: SearchConfig,
) -> autocandle::Result<serde_json::Value> {
    let start = Instant::now();
    let source = load_table(data)?;
    let target = args
        .target
        .clone()
        .or(source.target)
        .ok_or_else(|| Error::Config("the structured tasks need --target <column>".into()))?;
    let (train, test, test_source) = match (&args.test, source.test) {
        (Some(spec), _) => {
            let t = load_table(spec)?;
            (source.train, t.train, spec.clone())
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

fn test_metrics(model: &Model, test: &ImageDataset) -> autocandle::Result<serde_json::Value> {
    Ok(metrics_json(&model.evaluate(test)?))
}

#[allow(clippy::too_many_arguments)]
fn fit(task: Task, data: &str, config: SearchConfig) -> autocandle::Result<serde_json::Value> {
    let start = Instant::now();
    let (train, test) = load(data)?;
    eprintln!(
        "Training data: {} images of shape {:?}",
        train.len(),
        train.x.image_shape()
    );
    let (model, result) = match task {
        Task::ImageClassifier => {
            let mut clf = ImageClassifier::new(config);
            clf.on_progress(terminal::progress());
            clf.fit(&train, None)?;
            let result = clf.result().cloned();
            (clf.export_model()?, result)
        }
        Task::ImageRegressor => {
            let mut reg = ImageRegressor::new(config);
            reg.on_progress(terminal::progress());
            reg.fit(&train, None)?;
            let result = reg.result().cloned();
            (reg.export_model()?, result)
        }
        Task::StructuredClassifier | Task::StructuredRegressor => {
            return Err(Error::Config(
                "structured tasks take a table: use fit_table".into(),
            ))
        }
    };
    let result = result.ok_or_else(|| Error::Config("the search returned no result".into()))?;
    let test_json = match &test {
        Some(t) => Some(test_metrics(&model, t)?),
        None => None,
    };
    Ok(summary_json(
        &result,
        test_json,
        start.elapsed().as_secs_f64(),
    ))
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
        } => {
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
            let summary = if task.is_table() {
                fit_table(task, &data, &table, config)?
            } else {
                if table.target.is_some() || table.test.is_some() {
                    return Err(Error::Config(
                        "--target and --test are for the structured tasks".into(),
                    ));
                }
                fit(task, &data, config)?
            };
            println!("{summary}");
        }
        Command::Predict { model, data, limit } => {
            let m = Model::load(&model)?;
            let predictions = if is_table_spec(&data) {
                let t = load_table(&data)?;
                let d = t.test.unwrap_or(t.train);
                let n = limit.unwrap_or(d.height()).min(d.height());
                m.predict_table(&d.head(Some(n)))?
            } else {
                let (train, test) = load(&data)?;
                let d = test.unwrap_or(train);
                let n = limit.unwrap_or(d.len()).min(d.len());
                let idx: Vec<usize> = (0..n).collect();
                m.predict(&d.select(&idx).x)?
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
            if is_table_spec(&data) {
                let t = load_table(&data)?;
                println!(
                    "{}",
                    metrics_json(&m.evaluate_table(t.test.as_ref().unwrap_or(&t.train))?)
                );
            } else {
                let (train, test) = load(&data)?;
                println!("{}", test_metrics(&m, test.as_ref().unwrap_or(&train))?);
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
