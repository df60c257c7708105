from common import *
cells = [
md('''
# Time series: airline passengers and Melbourne temperatures

`TimeseriesForecaster` forecasts the next points of a series from a window of the points before
them. Two classic series: monthly international airline passengers 1949–1960 (trend and a
seasonal swing that grows with the level) and daily minimum temperatures in Melbourne 1981–1990
(a yearly cycle and a lot of day-to-day noise). Each forecaster is scored on the end of its series,
held out from the search, against the naive and seasonal-naive forecasts.

`AUTOCANDLE_QUICK=1` shortens the searches (every cell still runs).
'''),
SETUP,
md('''
## Airline passengers: twelve months ahead

The last 24 months are held out. The forecaster predicts steps 1 to 12 after its origin
(`predict_until = 12`); without a `lookback` it tries 12, 24 and 36 months (the trials are shared
among them). A positive series whose seasonal swing grows with its level is log-transformed
first, and each window is scaled by its own mean.
'''),
code('''
    let airline = TimeSeries::read_csv(
        data_dir.join("airline_passengers/airline-passengers.csv"),
        &SeriesSpec::target("Passengers"),
    )?;
    let (air_train, air_test) = airline.split_last(24)?;
    println!("{} months: {} to search on, {} held out; frequency {:?}", airline.len(), air_train.len(), air_test.len(), airline.frequency());
    airline.preview()
'''),
code('''
    /// Prints one line per finished trial (the series searches train many short epochs).
    fn trial_lines() -> autocandle::automodel::ProgressFn {
        let mut n = 0;
        Box::new(move |e: &SearchEvent| {
            if let SearchEvent::TrialEnd { trial, .. } = e {
                n += 1;
                println!(
                    "trial {n}: {:?}, val loss {}, {} epochs",
                    trial.status,
                    trial.score.map(|s| format!("{s:.4}")).unwrap_or_else(|| "-".into()),
                    trial.history.len()
                );
            }
        })
    }
    let mut air = TimeseriesForecaster::new(series_config(SearchConfig {
        max_trials: if quick { 2 } else { 9 },
        epochs: if quick { 30 } else { 200 },
        seed: 1,
        directory: projects.clone(),
        project_name: "airline".into(),
        overwrite: true,
        ..Default::default()
    }));
    air.predict_until = 12;
    air.on_progress(trial_lines());
    let air_result = air.fit(&air_train)?.clone();
    println!("lookbacks: {:?}", air.lookback_scores());
'''),
code('''
    air_result
'''),
code('''
    air_result.plot_trials()
'''),
md('''
Two 12-month forecasts over the held-out years, each from an origin that sees the actual values
up to it, against the actual passengers and the errors of the naive baselines from the same
origins.
'''),
code('''
    let air_eval = air.evaluate(&air_test)?;
    println!(
        "MAE {:.1} (naive {:.1}, seasonal naive {:.1}) over {} points from {} origins",
        air_eval.mae, air_eval.naive_mae, air_eval.seasonal_naive_mae.unwrap_or(f64::NAN),
        air_eval.points, air_eval.origins
    );
    air_eval.plot(&air_test)
'''),
md('''
A forecast from the end of the whole series (the model sees the held-out years as history):
'''),
code('''
    let next_year = air.predict_after(&airline)?;
    next_year.plot(&airline, None)
'''),
md('''
## Melbourne daily minimum temperatures: one day ahead

The last 365 days are held out; the forecaster predicts the next day from the days before it
(lookbacks of 7, 14 and 30 days are tried).
'''),
code('''
    let temps = TimeSeries::read_csv(
        data_dir.join("daily_min_temperatures/daily-min-temperatures.csv"),
        &SeriesSpec::target("Temp"),
    )?;
    let temps = if quick { temps.slice(temps.len() - 1_000, temps.len()) } else { temps };
    let (temp_train, temp_test) = temps.split_last(if quick { 60 } else { 365 })?;
    println!("{} days: {} to search on, {} held out; frequency {:?}", temps.len(), temp_train.len(), temp_test.len(), temps.frequency());
    let mut melbourne = TimeseriesForecaster::new(series_config(SearchConfig {
        max_trials: if quick { 2 } else { 6 },
        epochs: if quick { 10 } else { 200 },
        seed: 1,
        directory: projects.clone(),
        project_name: "melbourne".into(),
        overwrite: true,
        ..Default::default()
    }));
    melbourne.on_progress(trial_lines());
    let temp_result = melbourne.fit(&temp_train)?.clone();
    println!("lookbacks: {:?}", melbourne.lookback_scores());
'''),
code('''
    temp_result
'''),
code('''
    let temp_eval = melbourne.evaluate(&temp_test)?;
    println!(
        "MAE {:.2} °C (naive {:.2}, seasonal naive {:.2}) over {} days",
        temp_eval.mae, temp_eval.naive_mae, temp_eval.seasonal_naive_mae.unwrap_or(f64::NAN), temp_eval.points
    );
    temp_eval.plot(&temp_test)
'''),
md('''
The day-to-day noise is most of what is left: a one-day-ahead forecast cannot know tomorrow's
weather front. Saved forecasters keep their window settings and the end of their training series:
`autocandle::tasks::forecast(&model, None)` continues the series.
'''),
]
notebook(cells, "timeseries", TABLES)
