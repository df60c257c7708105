//! The `autocandle` command line.

mod builtin;
mod kernel;
mod report;
mod series;
mod sources;
mod tables;
mod texts;

use autocandle::automodel::{SearchConfig, SearchResult};
use autocandle::export::{Model, Predictions};
use autocandle::prelude::*;
use clap::{Parser, Subcommand, ValueEnum};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use builtin::{fit, is_regression, test_metrics};
use series::{fit_series, predict_series, SeriesArgs};
use sources::{load, load_table, Data};
use tables::fit_table;
use texts::fit_text_csv;

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

    /// The default project folder's name, under autocandle_projects/: one per task, so that
    /// two tasks run one after the other never share a study.
    fn project(self) -> &'static str {
        match self {
            Task::ImageClassifier => "image_classifier",
            Task::ImageRegressor => "image_regressor",
            Task::TimeseriesForecaster => "timeseries_forecaster",
            Task::TextClassifier => "text_classifier",
            Task::TextRegressor => "text_regressor",
            Task::StructuredClassifier => "structured_classifier",
            Task::StructuredRegressor => "structured_regressor",
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
    #[arg(long, allow_negative_numbers = true, value_parser = at_least_one)]
    holdout: Option<usize>,
    /// Series: points per input window (a few following the data's frequency are tried
    /// when absent).
    #[arg(long, allow_negative_numbers = true, value_parser = at_least_one)]
    lookback: Option<usize>,
    /// Series: first step ahead to forecast.
    #[arg(long, default_value_t = 1, allow_negative_numbers = true, value_parser = at_least_one)]
    predict_from: usize,
    /// Series: last step ahead to forecast.
    #[arg(long, default_value_t = 1, allow_negative_numbers = true, value_parser = at_least_one)]
    predict_until: usize,
    #[command(flatten)]
    table: Box<TableArgs>,
    /// Most trials.
    #[arg(long, default_value_t = 10, allow_negative_numbers = true, value_parser = at_least_one)]
    max_trials: usize,
    /// Wall-clock budget: 90s, 30m, 1h30m.
    #[arg(long)]
    time_limit: Option<String>,
    /// Most epochs per trial [default: 10; 100 for structured tasks and 200 for
    /// timeseries-forecaster, with early stopping].
    #[arg(long, allow_negative_numbers = true, value_parser = at_least_one)]
    epochs: Option<usize>,
    /// Early-stopping patience in epochs [default: 3; 10 for structured and series tasks].
    #[arg(long)]
    patience: Option<usize>,
    /// Seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Project folder (resumed unless --overwrite) [default: autocandle_projects/<task>, e.g.
    /// autocandle_projects/image_classifier].
    #[arg(long)]
    project: Option<PathBuf>,
    /// Start the project over.
    #[arg(long)]
    overwrite: bool,
    /// auto (the task's own: morphism for image-classifier, greedy for the others), greedy,
    /// random, bayesian, hyperband or morphism.
    #[arg(long, default_value = "auto")]
    tuner: String,
    /// Batch size [default: 128; 32 for structured tasks and timeseries-forecaster].
    #[arg(long, allow_negative_numbers = true, value_parser = at_least_one)]
    batch_size: Option<usize>,
    /// Largest model, in parameters.
    #[arg(long, allow_negative_numbers = true, value_parser = at_least_one)]
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
    /// The Jupyter kernel "Rust (autocandle)": install, warm, uninstall.
    Kernel {
        #[command(subcommand)]
        command: kernel::KernelCommand,
    },
}

/// A count flag's value: a whole number of at least 1.
fn at_least_one(s: &str) -> std::result::Result<usize, String> {
    match s.trim().parse::<i128>() {
        Ok(v) if v >= 1 => usize::try_from(v).map_err(|_| format!("{s} is too large")),
        Ok(_) => Err(format!("must be at least 1, got {s}")),
        Err(_) => Err(format!("must be a whole number of at least 1, got {s:?}")),
    }
}

/// Parses 90s, 30m, 2h, 1h30m or plain seconds: more than 0, at most 365 days.
fn parse_duration(s: &str) -> autocandle::Result<Duration> {
    let bad = || {
        Error::Config(format!(
            "cannot read the time limit {s:?}: write it like 90s, 30m, 2h or 1h30m"
        ))
    };
    let total = match s.parse::<f64>() {
        Ok(secs) => secs,
        Err(_) => {
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
            if !num.is_empty() {
                return Err(bad());
            }
            total
        }
    };
    let max = autocandle::automodel::MAX_TIME_LIMIT;
    if total.is_nan() || total <= 0.0 || total > max.as_secs_f64() {
        return Err(Error::Config(format!(
            "the time limit {s:?} must be more than 0 and at most 365 days (8760h)"
        )));
    }
    Duration::try_from_secs_f64(total).map_err(|_| bad())
}

/// Refuses a project folder that is, is inside, or holds a data path: `--overwrite` could
/// otherwise delete the data, and a search would write trials among the images.
fn check_project_apart(project: &Path, data: &[&str]) -> autocandle::Result<()> {
    let project = resolved(project);
    for spec in data {
        let Some((_, path)) = spec.split_once(':') else {
            continue;
        };
        if path.is_empty() {
            continue;
        }
        let d = resolved(Path::new(path));
        if project.starts_with(&d) || d.starts_with(&project) {
            return Err(Error::Config(format!(
                "--project {} is, is inside, or holds the data {spec}: a project folder must be \
                 apart from the data (choose another --project)",
                project.display()
            )));
        }
    }
    Ok(())
}

/// `p` made absolute with its symbolic links resolved, as far as it exists.
fn resolved(p: &Path) -> PathBuf {
    let abs = std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let mut existing = abs.as_path();
    let mut rest = Vec::new();
    loop {
        if let Ok(c) = std::fs::canonicalize(existing) {
            return rest.iter().rev().fold(c, |acc: PathBuf, n| acc.join(n));
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                existing = parent;
            }
            _ => return abs,
        }
    }
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

fn run(cli: Cli) -> autocandle::Result<()> {
    match cli.command.unwrap_or(Command::Quickstart) {
        Command::Quickstart => println!("{}", quickstart()?),
        Command::Kernel { command } => kernel::run(command)?,
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
            let mut sources = vec![data.as_str()];
            sources.extend(test.as_deref());
            check_project_apart(&project, &sources)?;
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
            print!("{}", report::report(&project)?);
            if let Some(out) = html {
                report::report_html(&project, &out)?;
            }
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    autocandle::allocator::set_up_for_training();
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
