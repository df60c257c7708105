//! Time-series forecasting: accuracy against the naive baselines on two real series (the
//! baselines are computed here, from the raw values), and the errors on bad input.
//!
//! Protocols (also in the README):
//! - Airline passengers (monthly, 144 points): the last 24 months are held out; the model is
//!   fitted on the first 120 with horizon 12 (predict_from 1, predict_until 12) and makes two
//!   12-month forecasts, from origins 120 and 132, each seeing the actual values up to its
//!   origin. The seasonal-naive forecast of month t is the value of month t - 12 (observed at
//!   both origins). The model's MAE over the 24 months must be at least 20 % below it.
//! - Melbourne daily minimum temperatures (3,650 days): the last 365 days are held out; a
//!   one-step forecaster predicts each of them from the actual values before it. Persistence
//!   predicts yesterday's value. The model's MAE must be at least 10 % below it.

use autocandle::automodel::SearchConfig;
use autocandle::data::{SeriesSpec, TimeSeries};
use autocandle::tasks::{series_config, TimeseriesForecaster};
use autocandle::Error;
use std::path::PathBuf;
use std::time::Instant;

fn data(rel: &str) -> PathBuf {
    let base = std::env::var("AUTOCANDLE_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data"));
    base.join(rel)
}

fn config(dir: &std::path::Path, name: &str, trials: usize) -> SearchConfig {
    series_config(SearchConfig {
        max_trials: trials,
        seed: 1,
        directory: dir.to_path_buf(),
        project_name: name.into(),
        overwrite: true,
        ..Default::default()
    })
}

fn mae(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum::<f64>() / a.len() as f64
}

#[test]
fn airline_beats_seasonal_naive_by_20_percent() {
    let t0 = Instant::now();
    let s = TimeSeries::read_csv(
        data("airline_passengers/airline-passengers.csv"),
        &SeriesSpec::target("Passengers"),
    )
    .unwrap();
    assert_eq!(s.len(), 144);
    let y = s.column("Passengers").unwrap().to_vec();
    let (train, test) = s.split_last(24).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut f = TimeseriesForecaster::new(config(dir.path(), "airline", 6));
    f.predict_until = 12;
    f.fit(&train).unwrap();
    // Two 12-month forecasts, each from the actual values up to its origin.
    let mut predicted = Vec::new();
    for origin in [120, 132] {
        let fc = f.predict_after(&s.slice(0, origin)).unwrap();
        assert_eq!(fc.steps, (1..=12).collect::<Vec<_>>());
        predicted.extend(fc.column("Passengers").unwrap());
    }
    let actual = &y[120..144];
    let seasonal_naive: Vec<f64> = (120..144).map(|t| y[t - 12]).collect();
    let model_mae = mae(&predicted, actual);
    let baseline = mae(&seasonal_naive, actual);
    let m = f.evaluate(&test).unwrap();
    eprintln!(
        "airline: MAE {model_mae:.2} vs seasonal naive {baseline:.2} in {:.1} s; lookbacks {:?}",
        t0.elapsed().as_secs_f64(),
        f.lookback_scores()
    );
    assert!(
        (m.mae - model_mae).abs() < 1e-6,
        "evaluate follows the same protocol"
    );
    assert_eq!((m.points, m.origins), (24, 2));
    assert!((m.seasonal_naive_mae.unwrap() - baseline).abs() < 1e-9);
    // Each compared value sits at its place in the held-out part, and the plot draws them
    // against it on the series' own time axis.
    assert_eq!(m.positions, (0..24).collect::<Vec<_>>());
    assert_eq!(m.predicted, predicted);
    let svg = m.plot(&test).to_string();
    assert!(svg.contains("Passengers (forecast)") && svg.contains("Passengers (actual)"));
    assert!(
        svg.contains("1959-01"),
        "the time axis is labelled by the months"
    );
    assert_eq!(svg.matches("<circle").count(), 24, "one dot per forecast");
    assert!(
        model_mae <= 0.8 * baseline,
        "MAE {model_mae:.2} is not 20 % below the seasonal-naive {baseline:.2}"
    );
}

#[test]
fn temperatures_beat_persistence_by_10_percent() {
    let t0 = Instant::now();
    let s = TimeSeries::read_csv(
        data("daily_min_temperatures/daily-min-temperatures.csv"),
        &SeriesSpec::target("Temp"),
    )
    .unwrap();
    let n = s.len();
    let y = s.column("Temp").unwrap().to_vec();
    let (train, test) = s.split_last(365).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut f = TimeseriesForecaster::new(config(dir.path(), "temperatures", 6));
    f.fit(&train).unwrap();
    let m = f.evaluate(&test).unwrap();
    // Each held-out day from the actual values before it.
    let actual = &y[n - 365..];
    let persistence: Vec<f64> = (n - 365..n).map(|t| y[t - 1]).collect();
    let baseline = mae(&persistence, actual);
    let model_mae = mae(&m.predicted, actual);
    for origin in [n - 365, n - 100, n - 1] {
        let fc = f.predict_after(&s.slice(0, origin)).unwrap();
        let k = origin - (n - 365);
        assert!((fc.values[0][0] - m.predicted[k]).abs() < 1e-6);
    }
    eprintln!(
        "temperatures: MAE {model_mae:.3} vs persistence {baseline:.3} in {:.1} s; lookbacks {:?}",
        t0.elapsed().as_secs_f64(),
        f.lookback_scores()
    );
    assert_eq!(m.points, 365);
    assert!((m.naive_mae - baseline).abs() < 1e-9);
    assert!(
        model_mae <= 0.9 * baseline,
        "MAE {model_mae:.3} is not 10 % below persistence {baseline:.3}"
    );
}

fn write_csv(dir: &std::path::Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn a_lookback_longer_than_the_series_names_both_and_the_fix() {
    let s = TimeSeries::read_csv(
        data("airline_passengers/airline-passengers.csv"),
        &SeriesSpec::target("Passengers"),
    )
    .unwrap();
    let (train, _) = s.split_last(24).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut f = TimeseriesForecaster::new(config(dir.path(), "too_long", 1));
    f.predict_until = 12;
    f.lookback = Some(200);
    let e = f.fit(&train).unwrap_err();
    let msg = e.to_string();
    assert!(
        matches!(e, Error::SeriesTooShort { points: 120, .. }),
        "{msg}"
    );
    assert!(
        msg.contains("lookback of 200") && msg.contains("120 points"),
        "{msg}"
    );
    assert!(msg.contains("at most 75"), "{msg}");
    // The longest lookback it suggests works.
    f.lookback = Some(75);
    assert_eq!(f.candidate_lookbacks(&train).unwrap(), vec![75]);
}

#[test]
fn a_missing_target_column_lists_the_columns() {
    let e = TimeSeries::read_csv(
        data("airline_passengers/airline-passengers.csv"),
        &SeriesSpec::target("passengers"),
    )
    .unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, Error::ColumnNotFound { .. }), "{msg}");
    assert!(
        msg.contains("\"passengers\"") && msg.contains("Month, Passengers"),
        "{msg}"
    );
}

#[test]
fn an_empty_series_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let p = write_csv(dir.path(), "empty.csv", "Month,Passengers\n");
    let e = TimeSeries::read_csv(&p, &SeriesSpec::target("Passengers")).unwrap_err();
    assert!(matches!(e, Error::EmptyDataset(_)), "{e}");
    assert!(e.to_string().contains("no data rows"), "{e}");
    let e = TimeSeries::from_values("y", vec![]).unwrap_err();
    assert!(matches!(e, Error::EmptyDataset(_)), "{e}");
    let p = write_csv(
        dir.path(),
        "blank.csv",
        "Month,Passengers\n1949-01,\n1949-02,\n",
    );
    let e = TimeSeries::read_csv(&p, &SeriesSpec::target("Passengers")).unwrap_err();
    assert!(e.to_string().contains("no values"), "{e}");
}

#[test]
fn non_numeric_target_values_are_reported_with_their_row() {
    let dir = tempfile::tempdir().unwrap();
    let p = write_csv(
        dir.path(),
        "bad.csv",
        "Month,Passengers\n1949-01,112\n1949-02,118\n1949-03,lots\n",
    );
    let e = TimeSeries::read_csv(&p, &SeriesSpec::target("Passengers")).unwrap_err();
    let msg = e.to_string();
    match &e {
        Error::NonNumeric {
            column, row, value, ..
        } => {
            assert_eq!(
                (column.as_str(), *row, value.as_str()),
                ("Passengers", 3, "lots")
            );
        }
        other => panic!("expected NonNumeric, got {other}"),
    }
    assert!(msg.contains("bad.csv"), "{msg}");
}

#[test]
fn rows_are_put_in_time_order_and_gaps_filled() {
    let dir = tempfile::tempdir().unwrap();
    let p = write_csv(
        dir.path(),
        "shuffled.csv",
        "Date,Temp,Note\n1981-01-03,3.0,c\n1981-01-01,1.0,a\n1981-01-02,,b\n1981-01-04,NA,d\n",
    );
    let s = TimeSeries::read_csv(&p, &SeriesSpec::target("Temp")).unwrap();
    assert_eq!(s.column("Temp").unwrap(), &[1.0, 2.0, 3.0, 3.0]);
    assert_eq!(s.filled, 2);
    assert_eq!(s.columns, vec!["Temp"], "the text column is left out");
    let time = s.time.as_ref().unwrap();
    assert_eq!(time.name, "Date");
    assert_eq!(time.labels[0], "1981-01-01");
    assert_eq!(s.frequency(), Some(autocandle::data::Frequency::Daily));
}

#[test]
fn a_saved_model_forecasts_from_raw_values() {
    let s = TimeSeries::read_csv(
        data("airline_passengers/airline-passengers.csv"),
        &SeriesSpec::target("Passengers"),
    )
    .unwrap();
    let (train, test) = s.split_last(12).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut f = TimeseriesForecaster::new(config(dir.path(), "saved", 1));
    f.lookback = Some(12);
    f.predict_from = 2;
    f.predict_until = 4;
    let fc = f.fit_and_predict(&train).unwrap();
    assert_eq!(fc.steps, vec![2, 3, 4]);
    assert_eq!(fc, f.predict_after(&train).unwrap());
    let path = f.result().unwrap().model_path.clone();
    let model = autocandle::Model::load(&path).unwrap();
    let again = autocandle::tasks::forecast(&model, None).unwrap();
    for (a, b) in fc
        .values
        .iter()
        .flatten()
        .zip(again.values.iter().flatten())
    {
        assert!((a - b).abs() < 1e-3 * a.abs(), "{a} vs {b}");
    }
    // Origins every 3 points from the end of the training series: 144-132 = 12 points, the
    // first forecast step 2 → origins 0, 3, 6, 9 of the continuation; the last covers 2 points.
    let m = autocandle::tasks::evaluate_forecasts(&model, &test).unwrap();
    assert_eq!((m.origins, m.points), (4, 11));
    let short = s.slice(0, 5);
    let e = f.predict_after(&short).unwrap_err();
    assert!(e.to_string().contains("last 12 points"), "{e}");
}

#[test]
fn the_cli_fits_a_series_and_reports_the_baselines() {
    let dir = tempfile::tempdir().unwrap();
    let csv = data("airline_passengers/airline-passengers.csv");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_autocandle"))
        .args([
            "fit",
            "--task",
            "timeseries-forecaster",
            "--target",
            "Passengers",
        ])
        .args([
            "--holdout",
            "24",
            "--predict-until",
            "12",
            "--max-trials",
            "2",
        ])
        .args(["--lookback", "24", "--overwrite", "--project"])
        .arg(dir.path().join("airline"))
        .arg("--data")
        .arg(format!("csv:{}", csv.display()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let last = stdout.lines().last().unwrap();
    let v: serde_json::Value = serde_json::from_str(last).unwrap();
    assert_eq!(v["lookback"], 24);
    assert_eq!(v["test_points"], 24);
    assert_eq!(v["test_origins"], 2);
    let mae = v["test_mae"].as_f64().unwrap();
    let baseline = v["test_seasonal_naive_mae"].as_f64().unwrap();
    assert!((baseline - 47.583).abs() < 1e-2, "{baseline}");
    assert!(mae < baseline, "{mae} vs {baseline}");
    // A saved forecaster forecasts after the end of a CSV series.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_autocandle"))
        .arg("predict")
        .arg("--model")
        .arg(v["model_path"].as_str().unwrap())
        .arg("--data")
        .arg(format!("csv:{}", csv.display()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "step,Passengers");
    assert_eq!(lines.len(), 13);
    let first: f64 = lines[1].split(',').nth(1).unwrap().parse().unwrap();
    assert!((300.0..700.0).contains(&first), "{first}");
}

/// A forecaster on the airline series (lookback 24, horizon 12) whose only trial is the
/// forecaster's own initial configuration of `block_type`, at Adam 1e-2.
fn one_block_type(dir: &std::path::Path, block_type: &str) -> TimeseriesForecaster {
    let mut f = TimeseriesForecaster::new(config(dir, block_type, 1));
    f.lookback = Some(24);
    f.predict_until = 12;
    let key = "timeseries_block_1/block_type";
    let mut hps: Vec<_> = f
        .auto_model
        .initial_hps
        .iter()
        .filter(|h| h.get(key).and_then(|v| v.as_str()) == Some(block_type))
        .cloned()
        .collect();
    assert_eq!(hps.len(), 1, "one initial configuration of {block_type}");
    hps[0].insert("learning_rate".into(), 1e-2.into());
    f.auto_model.initial_hps = hps;
    f
}

/// Fits one block type on the first 120 airline months and returns its MAE on the last 24
/// (two 12-month forecasts) with the naive and seasonal-naive MAE.
fn airline_with(block_type: &str) -> (f64, f64, f64, TimeseriesForecaster) {
    let t0 = Instant::now();
    let s = TimeSeries::read_csv(
        data("airline_passengers/airline-passengers.csv"),
        &SeriesSpec::target("Passengers"),
    )
    .unwrap();
    let (train, test) = s.split_last(24).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut f = one_block_type(dir.path(), block_type);
    f.fit(&train).unwrap();
    let m = f.evaluate(&test).unwrap();
    let seasonal = m.seasonal_naive_mae.unwrap();
    let result = f.result().unwrap();
    let arch = std::fs::read_to_string(result.model_path.join("architecture.json")).unwrap();
    eprintln!(
        "airline {block_type}: MAE {:.2}, naive {:.2}, seasonal naive {seasonal:.2} in {:.1} s",
        m.mae,
        m.naive_mae,
        t0.elapsed().as_secs_f64()
    );
    assert_eq!(result.trials.len(), 1);
    let layer = if block_type == "rnn" { "Rnn" } else { "Conv1d" };
    assert!(
        arch.contains(&format!("\"{layer}\"")),
        "the model has no {layer} layer: {arch}"
    );
    (m.mae, m.naive_mae, seasonal, f)
}

/// The block's forecast must use the window: a network that ignores it (the head's biases alone:
/// the window's mean plus an average seasonal profile) scores about 61 here, worse than the
/// seasonal-naive 47.6.
fn assert_below_baselines(mae: f64, naive: f64, seasonal: f64) {
    assert!(mae < 0.5 * naive, "MAE {mae:.2} vs naive {naive:.2}");
    assert!(
        mae < 0.8 * seasonal,
        "MAE {mae:.2} is not 20 % below the seasonal-naive {seasonal:.2}"
    );
}

#[test]
fn an_rnn_block_forecasts_the_airline_series_and_reloads_identically() {
    let (mae, naive, seasonal, mut f) = airline_with("rnn");
    assert_below_baselines(mae, naive, seasonal);
    // Exported, saved and loaded again, it forecasts the same values.
    let before = f.predict().unwrap();
    let model = f.export_model().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rnn_model");
    model.save(&path).unwrap();
    let loaded = autocandle::Model::load(&path).unwrap();
    assert_eq!(autocandle::tasks::forecast(&model, None).unwrap(), before);
    assert_eq!(autocandle::tasks::forecast(&loaded, None).unwrap(), before);
    let s = TimeSeries::read_csv(
        data("airline_passengers/airline-passengers.csv"),
        &SeriesSpec::target("Passengers"),
    )
    .unwrap();
    let recent = s.slice(0, 132);
    assert_eq!(
        autocandle::tasks::forecast(&loaded, Some(&recent)).unwrap(),
        autocandle::tasks::forecast(&model, Some(&recent)).unwrap()
    );
}

#[test]
fn a_conv1d_block_forecasts_the_airline_series() {
    let (mae, naive, seasonal, _) = airline_with("conv1d");
    assert_below_baselines(mae, naive, seasonal);
}
