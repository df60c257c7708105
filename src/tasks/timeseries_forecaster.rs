//! TimeseriesForecaster: forecasts the `predict_from..=predict_until` steps after the end of a
//! series from the `lookback` points before it.
//!
//! How it works:
//! - Windows: each training sample is the `lookback` points before an *origin* (all input
//!   columns), and its targets are the target columns at `origin + predict_from - 1 ..=
//!   origin + predict_until - 1` (direct multi-step: one output per step and target).
//! - Scaling (state in [`SeriesPreprocessing`], saved with the model): an optional log
//!   transform (positive series whose seasonal swing grows with their level, decided from the
//!   training data unless set), then per-window normalisation (subtract the window's mean by
//!   default) and division by the training series' standard deviation; forecasts are mapped back.
//! - Validation is the latest part of the series, never a shuffle: the last windows (a
//!   `validation_split` share) are the validation set, and training windows whose targets would
//!   overlap the validation targets are left out.
//! - When `lookback` is not given, a few lookbacks that follow the data's frequency are tried
//!   (12, 24, 36 for monthly data; 7, 14, 30 for daily; ...), each with its own search (the
//!   trials are shared among them); their validation losses compare (same validation targets,
//!   same units) and the best lookback's model is kept.
//!
//! [`TimeseriesForecaster::evaluate`] forecasts a held-out continuation the way a forecaster is
//! used: from origins `predict_until - predict_from + 1` points apart, each seeing the actual
//! values up to its origin (two 12-month forecasts for 24 held-out months with horizon 12; one
//! forecast a day for a one-step forecaster), and reports the naive (last value) and
//! seasonal-naive (same point one season before) forecasts from the same origins.

use super::outcome::Outcome;
use crate::automodel::{AutoModel, InputScaling, ProgressFn, SearchConfig, SearchResult};
use crate::blocks::TimeseriesBlock;
use crate::data::{ImageDataset, Targets, TimeSeries};
use crate::error::{Error, Result};
use crate::export::Model;
use crate::heads::RegressionHead;
use crate::hyperparameters::Value;
use crate::preprocessing::{check_horizon, Preprocessing, SeriesPreprocessing, WindowNorm};
use crate::training::predict_outputs;
use std::collections::BTreeMap;
use std::time::Instant;

const HEAD: &str = "regression_head_1";
const BLOCK: &str = "timeseries_block_1";

/// Fewest training windows an automatically chosen lookback must leave.
const MIN_TRAIN_WINDOWS: usize = 8;

fn v(x: impl Into<Value>) -> Value {
    x.into()
}

/// The configurations the greedy tuner tries first: a linear map over the window (fast and
/// strong on small, regular series), then a one-layer perceptron, then a two-layer one, then a
/// recurrent network (one GRU layer of 32 units over the window's steps), then a 1-D
/// convolutional one (two convolutions of 32 filters, kernel 3, no pooling, flattened: pooling
/// loses the position of the latest points), all with Adam at `learning_rate`. A search of five
/// trials or more on one lookback tries each block type; with the lookback searched, the trials
/// are shared among the lookbacks (five per lookback for each type on each).
pub(crate) fn initial_hps(learning_rate: f64) -> Vec<BTreeMap<String, Value>> {
    let mut linear = BTreeMap::new();
    linear.insert(format!("{BLOCK}/block_type"), v("linear"));
    linear.insert(format!("{HEAD}/dropout"), v(0.0));
    linear.insert("optimizer".into(), v("adam"));
    linear.insert("learning_rate".into(), v(learning_rate));
    let db = format!("{BLOCK}/dense_block_1");
    let mut dense = linear.clone();
    dense.insert(format!("{BLOCK}/block_type"), v("dense"));
    dense.insert(format!("{db}/num_layers"), v(1i64));
    dense.insert(format!("{db}/units_0"), v(64i64));
    dense.insert(format!("{db}/use_batchnorm"), v(false));
    dense.insert(format!("{db}/dropout"), v(0.0));
    let mut deeper = dense.clone();
    deeper.insert(format!("{db}/num_layers"), v(2i64));
    deeper.insert(format!("{db}/units_1"), v(64i64));
    let rb = format!("{BLOCK}/rnn_block_1");
    let mut rnn = linear.clone();
    rnn.insert(format!("{BLOCK}/block_type"), v("rnn"));
    rnn.insert(format!("{BLOCK}/units"), v(32i64));
    rnn.insert(format!("{rb}/layer_type"), v("gru"));
    rnn.insert(format!("{rb}/num_layers"), v(1i64));
    rnn.insert(format!("{rb}/bidirectional"), v(false));
    let cb = format!("{BLOCK}/conv_block_1");
    let mut conv1d = linear.clone();
    conv1d.insert(format!("{BLOCK}/block_type"), v("conv1d"));
    conv1d.insert(format!("{cb}/kernel_size"), v(3i64));
    conv1d.insert(format!("{cb}/num_blocks"), v(2i64));
    conv1d.insert(format!("{cb}/num_layers"), v(1i64));
    conv1d.insert(format!("{cb}/filters_0_0"), v(32i64));
    conv1d.insert(format!("{cb}/filters_1_0"), v(32i64));
    conv1d.insert(format!("{cb}/max_pooling"), v(false));
    conv1d.insert(format!("{cb}/separable"), v(false));
    conv1d.insert(format!("{cb}/dropout"), v(0.0));
    conv1d.insert(
        format!("{BLOCK}/spatial_reduction_1/reduction_type"),
        v("flatten"),
    );
    vec![linear, dense, deeper, rnn, conv1d]
}

/// The learning rate of the initial configurations for `windows` training windows: 1e-2 when
/// an epoch is fewer than 16 batches (a short series: Adam at 1e-3 would need thousands of
/// epochs), else 1e-3 (steadier, and enough steps).
fn initial_learning_rate(windows: usize, batch_size: usize) -> f64 {
    if windows.div_ceil(batch_size.max(1)) < 16 {
        1e-2
    } else {
        1e-3
    }
}

/// Search settings suited to series: many short epochs (a series gives few windows), batches of
/// 32, patience 10, constant-rate Adam from the initial configurations.
pub fn series_config(config: SearchConfig) -> SearchConfig {
    SearchConfig {
        epochs: 200,
        batch_size: 32,
        patience: 10,
        ..config
    }
}

/// A forecast: `values[i][j]` is target `targets[j]` at `steps[i]` steps after the last
/// observed point.
#[derive(Debug, Clone, PartialEq)]
pub struct Forecast {
    /// Steps ahead, `predict_from..=predict_until`.
    pub steps: Vec<usize>,
    /// The target columns.
    pub targets: Vec<String>,
    /// One row per step, one value per target.
    pub values: Vec<Vec<f64>>,
}

impl Forecast {
    /// The forecast of one target, step by step.
    pub fn column(&self, target: &str) -> Option<Vec<f64>> {
        let j = self.targets.iter().position(|t| t == target)?;
        Some(self.values.iter().map(|row| row[j]).collect())
    }
}

/// Forecast errors on a held-out continuation, with the naive baselines from the same origins.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ForecastMetrics {
    /// Mean absolute error, in the series' units.
    pub mae: f64,
    /// Mean squared error.
    pub mse: f64,
    /// Forecast values compared (points × targets).
    pub points: usize,
    /// Forecast origins used.
    pub origins: usize,
    /// MAE of the naive forecast (the last observed value at each origin).
    pub naive_mae: f64,
    /// MAE of the seasonal-naive forecast (the latest value one or more whole seasons before
    /// each point, observed at its origin), when the season is known.
    pub seasonal_naive_mae: Option<f64>,
    /// The season length used, in points.
    pub period: Option<usize>,
    /// The forecasts compared, in order (origin, step, target).
    #[serde(skip)]
    pub predicted: Vec<f64>,
    /// The actual values, in the same order.
    #[serde(skip)]
    pub actual: Vec<f64>,
    /// Where each compared value is in the continuation (0: its first point), in the same
    /// order.
    #[serde(skip)]
    pub positions: Vec<usize>,
    /// The target columns, in the order they take in each (origin, step).
    #[serde(skip)]
    pub targets: Vec<String>,
}

/// How one lookback did in the search.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LookbackScore {
    /// The lookback.
    pub lookback: usize,
    /// Its best validation loss (mean squared error in scaled units), if any trial completed.
    pub score: Option<f64>,
    /// Trials it got.
    pub trials: usize,
}

/// Finds a forecasting network: TimeseriesBlock → RegressionHead with one output per step
/// ahead and target.
///
/// ```no_run
/// use autocandle::prelude::*;
/// use autocandle::data::{SeriesSpec, TimeSeries};
/// let s = TimeSeries::read_csv("airline-passengers.csv", &SeriesSpec::target("Passengers"))?;
/// let (train, test) = s.split_last(24)?;
/// let mut f = TimeseriesForecaster::new(series_config(SearchConfig { max_trials: 3, ..Default::default() }));
/// f.predict_until = 12;
/// f.fit(&train)?;
/// println!("{:?}", f.evaluate(&test)?);
/// # Ok::<(), autocandle::Error>(())
/// ```
pub struct TimeseriesForecaster {
    /// The search (its config, initial configurations and progress callback).
    pub auto_model: AutoModel,
    /// Points per input window; tried among a few that follow the data's frequency when `None`.
    pub lookback: Option<usize>,
    /// First step ahead to forecast (1 = the point right after the last observed one).
    pub predict_from: usize,
    /// Last step ahead to forecast.
    pub predict_until: usize,
    /// Log-transform the series: forced on or off, or decided from the data (`None`).
    pub log_transform: Option<bool>,
    /// Per-window normalisation.
    pub normalization: WindowNorm,
    outcome: Outcome,
    scores: Vec<LookbackScore>,
}

impl TimeseriesForecaster {
    /// A one-step forecaster searching with `config` (see [`series_config`] for settings
    /// suited to series).
    pub fn new(config: SearchConfig) -> Self {
        let mut auto_model = AutoModel::new(vec![Box::new(TimeseriesBlock::default())], config);
        auto_model.task = "TimeseriesForecaster".into();
        auto_model.initial_hps = initial_hps(1e-3);
        TimeseriesForecaster {
            auto_model,
            lookback: None,
            predict_from: 1,
            predict_until: 1,
            log_transform: None,
            normalization: WindowNorm::default(),
            outcome: Outcome::default(),
            scores: vec![],
        }
    }

    /// Sets the progress callback.
    pub fn on_progress(&mut self, f: ProgressFn) -> &mut Self {
        self.auto_model.on_progress(f);
        self
    }

    /// The lookbacks `fit` will try on `series` (one when `lookback` is set), after checking
    /// that the series is long enough for them.
    pub fn candidate_lookbacks(&self, series: &TimeSeries) -> Result<Vec<usize>> {
        check_horizon(self.predict_from, self.predict_until)?;
        let n = series.len();
        if n == 0 {
            return Err(Error::EmptyDataset("the series has no points".into()));
        }
        if let Some(l) = self.lookback {
            if l == 0 {
                return Err(Error::Config("lookback must be at least 1".into()));
            }
            self.plan(n, l)?;
            return Ok(vec![l]);
        }
        let split = self.plan(n, 1)?;
        let period = series.frequency().and_then(|f| f.season());
        let base: Vec<usize> = match period {
            Some(7) => vec![7, 14, 30],
            Some(p) => vec![p, 2 * p, 3 * p],
            None => vec![8, 16, 32],
        };
        let fits = |l: usize| {
            self.plan(n, l)
                .is_ok_and(|p| p.train.len() >= MIN_TRAIN_WINDOWS.max(split.val.len()))
        };
        let mut out: Vec<usize> = base.into_iter().filter(|&l| fits(l)).collect();
        if out.is_empty() {
            // The longest lookback that still leaves enough training windows.
            let best = (1..n).rev().find(|&l| fits(l));
            out.extend(best.or_else(|| (1..n).rev().find(|&l| self.plan(n, l).is_ok())));
        }
        if out.is_empty() {
            self.plan(n, 1)?;
        }
        Ok(out)
    }

    /// Training and validation origins for a lookback on a series of `n` points.
    fn plan(&self, n: usize, lookback: usize) -> Result<Plan> {
        let (from, until) = (self.predict_from, self.predict_until);
        let gap = until - from; // training targets end before the first validation target
        let split = self.auto_model.config.validation_split;
        // Origins run from `lookback` to `last` (the last one whose targets are all observed).
        // The validation origins are the same for every lookback, so that their losses compare.
        let last = n.checked_sub(until);
        let n_val = last.map_or(1, |l| {
            (((l + 1) as f64 * split).round() as usize).clamp(1, l.max(1))
        });
        let train_end = last.and_then(|l| (l + 1).checked_sub(n_val + gap)); // exclusive
        let longest = train_end.and_then(|e| e.checked_sub(1)).filter(|m| *m >= 1);
        match (last, train_end) {
            (Some(last), Some(train_end)) if lookback < train_end => Ok(Plan {
                train: (lookback..train_end).collect(),
                val: (last + 1 - n_val..=last).collect(),
            }),
            _ => {
                let needed = lookback + until + n_val + gap;
                let fix = match longest {
                    Some(m) => format!(
                        "use a lookback of at most {m} (shorter ones leave more training windows), or give a longer series"
                    ),
                    None => "give a longer series, or forecast fewer steps ahead".to_string(),
                };
                Err(Error::SeriesTooShort {
                    points: n,
                    needed,
                    detail: format!(
                        "a lookback of {lookback} points with predict_until {until} leaves no training window besides the {n_val} validation window(s) at the end of the series; {fix}"
                    ),
                })
            }
        }
    }

    /// Searches a network for each candidate lookback (trials and time shared among them) and
    /// keeps the best, retrained on training + validation windows.
    pub fn fit(&mut self, series: &TimeSeries) -> Result<&SearchResult> {
        let start = Instant::now();
        let lookbacks = self.candidate_lookbacks(series)?;
        let base = self.auto_model.config.clone();
        base.validate()?;
        // The folder holds one project per lookback and the chosen model: nothing else.
        let group = base.directory.join(&base.project_name);
        if let Some(file) = crate::project::foreign_entry_in_group(&group, "lookback_")? {
            return Err(Error::NotAProject {
                dir: group,
                file,
                action: if base.overwrite {
                    "overwrite (delete) it"
                } else {
                    "write a search into it"
                },
            });
        }
        let period = series.frequency().and_then(|f| f.season());
        let k = lookbacks.len().min(base.max_trials.max(1));
        let mut best: Option<(f64, Model, SearchResult)> = None;
        let mut trials = Vec::new();
        let mut errors = Vec::new();
        self.scores.clear();
        for (i, &lookback) in lookbacks.iter().take(k).enumerate() {
            let share = base.max_trials / k + usize::from(i < base.max_trials % k);
            let time_limit = base.time_limit.map(|t| {
                let left = t.saturating_sub(start.elapsed());
                left / (k - i) as u32
            });
            self.auto_model.config = SearchConfig {
                max_trials: share,
                time_limit,
                directory: base.directory.join(&base.project_name),
                project_name: format!("lookback_{lookback}"),
                ..base.clone()
            };
            let outcome = self.fit_lookback(series, lookback, period);
            self.auto_model.config = base.clone();
            let (model, result) = match outcome {
                Ok(r) => r,
                Err(e @ Error::NoSuccessfulTrial(_)) => {
                    errors.push(format!("lookback {lookback}: {e}"));
                    self.scores.push(LookbackScore {
                        lookback,
                        score: None,
                        trials: share,
                    });
                    continue;
                }
                Err(e) => return Err(e),
            };
            let score = result
                .trials
                .iter()
                .find(|t| t.trial_id == result.best_trial)
                .and_then(|t| t.score);
            self.scores.push(LookbackScore {
                lookback,
                score,
                trials: result.trials.len(),
            });
            trials.extend(result.trials.iter().cloned().map(|mut t| {
                t.trial_id = format!("lookback_{lookback}/{}", t.trial_id);
                t
            }));
            let s = score.unwrap_or(f64::INFINITY);
            if best.as_ref().is_none_or(|(b, _, _)| s < *b) {
                best = Some((s, model, result));
            }
        }
        let (_, model, chosen) = best.ok_or_else(|| Error::NoSuccessfulTrial(errors.join("; ")))?;
        let model_path = base.directory.join(&base.project_name).join("best_model");
        model.save(&model_path)?;
        let lookback = model
            .preprocessing()
            .series
            .as_ref()
            .map_or(0, |s| s.lookback);
        let result = SearchResult {
            trials,
            best_trial: format!("lookback_{lookback}/{}", chosen.best_trial),
            final_fit: chosen.final_fit,
            wall_seconds: start.elapsed().as_secs_f64(),
            model_path,
        };
        Ok(self.outcome.set(model, result))
    }

    fn fit_lookback(
        &mut self,
        series: &TimeSeries,
        lookback: usize,
        period: Option<usize>,
    ) -> Result<(Model, SearchResult)> {
        let plan = self.plan(series.len(), lookback)?;
        let sp = SeriesPreprocessing::fit(
            series,
            lookback,
            (self.predict_from, self.predict_until),
            self.normalization,
            self.log_transform,
            period,
        )?;
        let t = sp.transform(series)?;
        let dataset = |origins: &[usize]| -> Result<ImageDataset> {
            let w = sp.windows(&t, origins)?;
            let y = sp.targets(&t, origins, &w.offsets);
            ImageDataset::new(
                w.x,
                Targets::Float {
                    values: y,
                    dim: sp.output_dim(),
                },
            )
        };
        let train = dataset(&plan.train)?;
        let val = dataset(&plan.val)?;
        // The default initial configurations follow the data; a user's own list stays.
        let defaults = [initial_hps(1e-2), initial_hps(1e-3)];
        if defaults.contains(&self.auto_model.initial_hps) {
            let lr = initial_learning_rate(train.len(), self.auto_model.config.batch_size);
            self.auto_model.initial_hps = initial_hps(lr);
        }
        let head = RegressionHead::new(sp.output_dim());
        let prep = Preprocessing {
            input_shape: train.x.image_shape().to_vec(),
            series: Some(sp),
            ..Default::default()
        };
        self.auto_model
            .fit_encoded(&head, &train, Some(&val), prep, InputScaling::None)
    }

    fn model(&self) -> Result<&Model> {
        self.outcome.model()
    }

    /// The forecast after the end of the training series.
    pub fn predict(&self) -> Result<Forecast> {
        forecast(self.model()?, None)
    }

    /// The forecast after the end of `recent` (a newer stretch of the same series, with the
    /// same columns and at least `lookback` points).
    pub fn predict_after(&self, recent: &TimeSeries) -> Result<Forecast> {
        forecast(self.model()?, Some(recent))
    }

    /// `fit`, then the forecast after the end of `series`.
    pub fn fit_and_predict(&mut self, series: &TimeSeries) -> Result<Forecast> {
        self.fit(series)?;
        self.predict()
    }

    /// Errors of rolling forecasts over `continuation`, the points right after the training
    /// series (see the module documentation), with the naive baselines.
    pub fn evaluate(&self, continuation: &TimeSeries) -> Result<ForecastMetrics> {
        evaluate_forecasts(self.model()?, continuation)
    }

    /// The search's outcome, after `fit` (trial ids are prefixed by their lookback).
    pub fn result(&self) -> Option<&SearchResult> {
        self.outcome.result()
    }

    /// The validation score of each lookback tried, after `fit`.
    pub fn lookback_scores(&self) -> &[LookbackScore] {
        &self.scores
    }

    /// The final model (it forecasts on its own through [`forecast`]).
    pub fn export_model(&mut self) -> Result<Model> {
        self.outcome.export_model()
    }
}

/// Training and validation origins of one lookback.
struct Plan {
    train: Vec<usize>,
    val: Vec<usize>,
}

/// The window state of a forecasting model.
pub fn series_state(model: &Model) -> Result<&SeriesPreprocessing> {
    model.preprocessing().series.as_ref().ok_or_else(|| {
        Error::Config(
            "this model is not a time-series forecaster (its preprocessing has no window state)"
                .into(),
        )
    })
}

/// The values of the model's columns: the end of the training series kept in the model, or the
/// columns of `recent`.
fn columns_of(sp: &SeriesPreprocessing, recent: Option<&TimeSeries>) -> Result<Vec<Vec<f64>>> {
    match recent {
        None => Ok(sp.history.clone()),
        Some(s) => Ok(s
            .values_of(&sp.columns)?
            .into_iter()
            .map(<[f64]>::to_vec)
            .collect()),
    }
}

fn as_series(sp: &SeriesPreprocessing, values: Vec<Vec<f64>>) -> TimeSeries {
    TimeSeries {
        columns: sp.columns.clone(),
        values,
        targets: sp.targets.clone(),
        time: None,
        filled: 0,
    }
}

/// Forecasts with a saved forecasting model: after the end of its training series, or after
/// the end of `recent` (the same columns, at least `lookback` points).
pub fn forecast(model: &Model, recent: Option<&TimeSeries>) -> Result<Forecast> {
    let sp = series_state(model)?;
    let values = columns_of(sp, recent)?;
    let n = values.first().map_or(0, Vec::len);
    if n < sp.lookback {
        return Err(Error::SeriesTooShort {
            points: n,
            needed: sp.lookback,
            detail: format!(
                "the model forecasts from the last {} points; give at least that many",
                sp.lookback
            ),
        });
    }
    let t = sp.transform(&as_series(sp, values))?;
    let w = sp.windows(&t, &[n])?;
    let out = predict_outputs(model.network(), &w.x)?;
    let flat = sp.decode(&out, &w.offsets);
    let k = sp.targets.len();
    Ok(Forecast {
        steps: (sp.predict_from..=sp.predict_until).collect(),
        targets: sp.targets.clone(),
        values: flat.chunks(k).map(<[f64]>::to_vec).collect(),
    })
}

/// Rolling forecasts over `continuation`, the points right after the model's training series:
/// origins `predict_until - predict_from + 1` points apart starting at the end of the training
/// series, each forecast from the actual values before its origin; points past the end are
/// left out. The naive and seasonal-naive forecasts use the same origins.
pub fn evaluate_forecasts(model: &Model, continuation: &TimeSeries) -> Result<ForecastMetrics> {
    let sp = series_state(model)?;
    let next = columns_of(sp, Some(continuation))?;
    if continuation.is_empty() {
        return Err(Error::EmptyDataset(
            "the continuation to evaluate on has no points".into(),
        ));
    }
    let h = sp.history.first().map_or(0, Vec::len);
    let values: Vec<Vec<f64>> = sp
        .history
        .iter()
        .zip(&next)
        .map(|(a, b)| [a.as_slice(), b.as_slice()].concat())
        .collect();
    let total = h + continuation.len();
    let origins: Vec<usize> = (h..total)
        .step_by(sp.steps())
        .filter(|o| o + sp.predict_from - 1 < total)
        .collect();
    if origins.is_empty() {
        return Err(Error::SeriesTooShort {
            points: continuation.len(),
            needed: sp.predict_from,
            detail: format!(
                "the first forecast step is {} points after the end of the training series",
                sp.predict_from
            ),
        });
    }
    let t = sp.transform(&as_series(sp, values.clone()))?;
    let w = sp.windows(&t, &origins)?;
    let out = predict_outputs(model.network(), &w.x)?;
    let flat = sp.decode(&out, &w.offsets);
    let k = sp.targets.len();
    let (mut predicted, mut actual, mut naive, mut seasonal) = (vec![], vec![], vec![], vec![]);
    let mut positions = vec![];
    for (i, &o) in origins.iter().enumerate() {
        for (si, s) in (sp.predict_from..=sp.predict_until).enumerate() {
            let at = o + s - 1;
            if at >= total {
                break;
            }
            for c in 0..k {
                predicted.push(flat[(i * sp.steps() + si) * k + c]);
                actual.push(values[c][at]);
                positions.push(at - h);
                naive.push(values[c][o - 1]);
                if let Some(p) = sp.period {
                    let back = p * (at + 1 - o).div_ceil(p);
                    seasonal.push(at.checked_sub(back).map(|j| values[c][j]));
                }
            }
        }
    }
    let mae = |p: &[f64]| {
        p.iter()
            .zip(&actual)
            .map(|(a, b)| (a - b).abs())
            .sum::<f64>()
            / actual.len() as f64
    };
    let seasonal_naive_mae = match seasonal.iter().copied().collect::<Option<Vec<f64>>>() {
        Some(s) if sp.period.is_some() => Some(mae(&s)),
        _ => None,
    };
    Ok(ForecastMetrics {
        mae: mae(&predicted),
        mse: predicted
            .iter()
            .zip(&actual)
            .map(|(a, b)| (a - b).powi(2))
            .sum::<f64>()
            / actual.len() as f64,
        points: actual.len(),
        origins: origins.len(),
        naive_mae: mae(&naive),
        seasonal_naive_mae,
        period: sp.period,
        predicted,
        actual,
        positions,
        targets: sp.targets.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_is_the_end_of_the_series_and_training_targets_stop_before_it() {
        let mut f = TimeseriesForecaster::new(SearchConfig::default());
        f.predict_until = 12;
        let p = f.plan(120, 24).unwrap();
        // 109 origins (0..=108) hold all their targets; the last 22 of them validate.
        assert_eq!(p.val, (87..=108).collect::<Vec<_>>());
        // Training windows: their last target (origin + 11) comes before the first validation
        // target (index 87).
        assert_eq!(p.train.first(), Some(&24));
        assert_eq!(p.train.last(), Some(&75));
        f.predict_from = 12;
        assert_eq!(f.plan(120, 24).unwrap().train.last(), Some(&86));
    }

    #[cfg(feature = "tables")]
    #[test]
    fn lookbacks_follow_the_frequency_and_fit_the_series() {
        let months: Vec<String> = (0..120)
            .map(|i| format!("{}-{:02}", 1950 + i / 12, i % 12 + 1))
            .collect();
        let y: Vec<f64> = (0..120).map(|i| 100.0 + i as f64).collect();
        let df = polars::df!("month" => months, "y" => y).unwrap();
        let s = TimeSeries::from_dataframe(&df, &crate::data::SeriesSpec::target("y")).unwrap();
        let mut f = TimeseriesForecaster::new(SearchConfig::default());
        assert_eq!(f.candidate_lookbacks(&s).unwrap(), vec![12, 24, 36]);
        f.predict_until = 30;
        // 36 would leave 8 training windows, fewer than the 18 validation windows.
        assert_eq!(f.candidate_lookbacks(&s).unwrap(), vec![12, 24]);
    }
}
