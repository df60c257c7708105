//! `fit` and `predict` for the time-series forecaster.

use crate::summary_json;
use autocandle::automodel::SearchConfig;
use autocandle::display::terminal;
use autocandle::export::Model;
use autocandle::prelude::*;
use serde_json::json;
use std::path::PathBuf;
use std::time::Instant;

/// What the time-series task takes from the command line.
pub(crate) struct SeriesArgs {
    pub(crate) data: String,
    pub(crate) target: Vec<String>,
    pub(crate) test: Option<String>,
    pub(crate) holdout: Option<usize>,
    pub(crate) lookback: Option<usize>,
    pub(crate) predict_from: usize,
    pub(crate) predict_until: usize,
}

/// The path of a `csv:<path>` data spec.
pub(crate) fn csv_path(spec: &str, flag: &str) -> autocandle::Result<PathBuf> {
    match spec.split_once(':') {
        Some(("csv", p)) if !p.is_empty() => Ok(PathBuf::from(p)),
        _ => Err(Error::Config(format!(
            "{flag} {spec:?}: timeseries-forecaster reads CSV files, written csv:path/to/file.csv"
        ))),
    }
}

/// Fits a forecaster on a CSV series; with --test or --holdout, evaluates rolling forecasts
/// of the continuation against the naive baselines.
pub(crate) fn fit_series(
    args: &SeriesArgs,
    config: SearchConfig,
) -> autocandle::Result<serde_json::Value> {
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
pub(crate) fn predict_series(model: &Model, data: &str) -> autocandle::Result<()> {
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
