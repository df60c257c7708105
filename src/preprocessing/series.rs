//! The window state of a forecaster: how a raw series becomes network inputs (windows of
//! `lookback` points, optionally log-transformed, normalised per window) and how network
//! outputs become forecasts again. It travels with the exported model, with the end of the
//! training series, so that a saved model forecasts from raw values.

use crate::data::{Frequency, ImageData, TimeSeries};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// How each window is normalised before the network sees it (and the forecast is
/// de-normalised after). Every mode then divides by the column's standard deviation on the
/// training series, so that validation losses compare across lookbacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum WindowNorm {
    /// Subtract the training series' mean.
    None,
    /// Subtract the window's own mean ("instance normalisation", RevIN-style): the network
    /// learns the shape of the series, not its level.
    #[default]
    Mean,
    /// Subtract the window's last value: the network learns changes.
    Last,
}

impl std::str::FromStr for WindowNorm {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "none" => Ok(WindowNorm::None),
            "mean" => Ok(WindowNorm::Mean),
            "last" => Ok(WindowNorm::Last),
            other => Err(Error::Config(format!(
                "unknown window normalisation {other:?}: use none, mean or last"
            ))),
        }
    }
}

/// The window settings and scalers of a forecaster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesPreprocessing {
    /// The input columns, in the order of the window's last axis; the targets come first.
    pub columns: Vec<String>,
    /// The columns forecast (the first `targets.len()` of `columns`).
    pub targets: Vec<String>,
    /// Points per input window.
    pub lookback: usize,
    /// First step ahead forecast (1 = the point right after the window).
    pub predict_from: usize,
    /// Last step ahead forecast.
    pub predict_until: usize,
    /// Per column: whether values go through `ln` (positive series whose seasonal swing grows
    /// with their level).
    pub log: Vec<bool>,
    /// Per-window normalisation.
    pub norm: WindowNorm,
    /// Per column: mean of the (transformed) training series.
    pub center: Vec<f64>,
    /// Per column: standard deviation of the (transformed) training series.
    pub scale: Vec<f64>,
    /// The season length in points, when known (for the seasonal-naive baseline).
    pub period: Option<usize>,
    /// The sampling frequency, when the series had time stamps.
    pub frequency: Option<Frequency>,
    /// The last `max(lookback, period)` raw values of each column of the training series: what
    /// `predict` continues from.
    pub history: Vec<Vec<f64>>,
}

/// Inputs of windows, with the offsets that undo their normalisation.
#[derive(Debug, Clone)]
pub struct Windows {
    /// `[n, lookback, 1, columns]`.
    pub x: ImageData,
    /// Per window and column, the value subtracted before scaling.
    pub offsets: Vec<f64>,
}

impl SeriesPreprocessing {
    /// Fits the scalers on `train`. `log` forces the log transform on or off for every column;
    /// `None` decides per column from the data.
    pub fn fit(
        train: &TimeSeries,
        lookback: usize,
        (predict_from, predict_until): (usize, usize),
        norm: WindowNorm,
        log: Option<bool>,
        period: Option<usize>,
    ) -> Result<Self> {
        if lookback == 0 {
            return Err(Error::Config("lookback must be at least 1".into()));
        }
        check_horizon(predict_from, predict_until)?;
        let log: Vec<bool> = train
            .values
            .iter()
            .map(|v| match log {
                Some(true) => v.iter().all(|x| *x > 0.0),
                Some(false) => false,
                None => multiplicative(v, period),
            })
            .collect();
        let mut center = Vec::new();
        let mut scale = Vec::new();
        for (v, &lg) in train.values.iter().zip(&log) {
            let t: Vec<f64> = v.iter().map(|x| if lg { x.ln() } else { *x }).collect();
            let n = t.len().max(1) as f64;
            let mean = t.iter().sum::<f64>() / n;
            let var = t.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
            center.push(mean);
            scale.push(if var.sqrt() > 1e-12 { var.sqrt() } else { 1.0 });
        }
        let keep = lookback.max(period.unwrap_or(0)).min(train.len());
        let history = train
            .values
            .iter()
            .map(|v| v[v.len() - keep..].to_vec())
            .collect();
        Ok(SeriesPreprocessing {
            columns: train.columns.clone(),
            targets: train.targets.clone(),
            lookback,
            predict_from,
            predict_until,
            log,
            norm,
            center,
            scale,
            period,
            frequency: train.frequency(),
            history,
        })
    }

    /// Steps forecast per window (`predict_until - predict_from + 1`).
    pub fn steps(&self) -> usize {
        self.predict_until + 1 - self.predict_from
    }

    /// Network outputs per window: one per step and target, step-major.
    pub fn output_dim(&self) -> usize {
        self.steps() * self.targets.len()
    }

    /// The columns of `series` this model takes, transformed (log where fitted), in order.
    pub fn transform(&self, series: &TimeSeries) -> Result<Vec<Vec<f64>>> {
        let cols = series.values_of(&self.columns)?;
        cols.iter()
            .zip(&self.columns)
            .zip(&self.log)
            .map(|((v, name), &lg)| {
                if !lg {
                    return Ok(v.to_vec());
                }
                match v.iter().position(|x| *x <= 0.0) {
                    Some(i) => Err(Error::Config(format!(
                        "column {name:?} has the value {} at row {}, but the model forecasts its logarithm (it was fitted on positive values only)",
                        v[i],
                        i + 1
                    ))),
                    None => Ok(v.iter().map(|x| x.ln()).collect()),
                }
            })
            .collect()
    }

    /// The normalised input windows that end just before each origin (`origin` = the index of
    /// the first point after the window; it must be at least `lookback`).
    pub fn windows(&self, transformed: &[Vec<f64>], origins: &[usize]) -> Result<Windows> {
        let (l, f) = (self.lookback, self.columns.len());
        let mut x = Vec::with_capacity(origins.len() * l * f);
        let mut offsets = Vec::with_capacity(origins.len() * f);
        for &o in origins {
            if o < l || o > transformed.first().map_or(0, Vec::len) {
                return Err(Error::BadShape(format!(
                    "a window of {l} points cannot end before point {o}"
                )));
            }
            let off: Vec<f64> = transformed
                .iter()
                .enumerate()
                .map(|(c, v)| {
                    let w = &v[o - l..o];
                    match self.norm {
                        WindowNorm::None => self.center[c],
                        WindowNorm::Mean => w.iter().sum::<f64>() / l as f64,
                        WindowNorm::Last => w[l - 1],
                    }
                })
                .collect();
            for t in o - l..o {
                for ((col, off), scale) in transformed.iter().zip(&off).zip(&self.scale) {
                    x.push(((col[t] - off) / scale) as f32);
                }
            }
            offsets.extend(off);
        }
        Ok(Windows {
            x: ImageData::from_f32(x, &[origins.len(), l, 1, f])?,
            offsets,
        })
    }

    /// The normalised targets of windows (all steps must lie inside the series).
    pub fn targets(
        &self,
        transformed: &[Vec<f64>],
        origins: &[usize],
        offsets: &[f64],
    ) -> Vec<f32> {
        let f = self.columns.len();
        let mut y = Vec::with_capacity(origins.len() * self.output_dim());
        for (i, &o) in origins.iter().enumerate() {
            for s in self.predict_from..=self.predict_until {
                for c in 0..self.targets.len() {
                    let v = transformed[c][o + s - 1];
                    y.push(((v - offsets[i * f + c]) / self.scale[c]) as f32);
                }
            }
        }
        y
    }

    /// Forecasts in the series' own units from network outputs (`output_dim` per window).
    pub fn decode(&self, outputs: &[f32], offsets: &[f64]) -> Vec<f64> {
        let (f, k) = (self.columns.len(), self.targets.len());
        outputs
            .chunks(self.output_dim())
            .enumerate()
            .flat_map(|(i, row)| {
                row.iter().enumerate().map(move |(j, &z)| {
                    let c = j % k;
                    let t = z as f64 * self.scale[c] + offsets[i * f + c];
                    if self.log[c] {
                        t.exp()
                    } else {
                        t
                    }
                })
            })
            .collect()
    }
}

/// Checks `1 <= predict_from <= predict_until`.
pub fn check_horizon(predict_from: usize, predict_until: usize) -> Result<()> {
    if predict_from == 0 || predict_until < predict_from {
        return Err(Error::Config(format!(
            "predict_from ({predict_from}) must be at least 1 and at most predict_until ({predict_until}): 1 is the point right after the last observed one"
        )));
    }
    Ok(())
}

/// Whether a series looks multiplicative: positive, its level changes by half or more, and its
/// swing within a season grows with the level (correlation of per-season mean and spread above
/// 0.5). Such series are easier to forecast in log units.
pub fn multiplicative(v: &[f64], period: Option<usize>) -> bool {
    if v.iter().any(|x| *x <= 0.0 || !x.is_finite()) {
        return false;
    }
    let chunk = period.unwrap_or(12).max(4);
    let stats: Vec<(f64, f64)> = v
        .chunks_exact(chunk)
        .map(|c| {
            let m = c.iter().sum::<f64>() / c.len() as f64;
            let s = (c.iter().map(|x| (x - m).powi(2)).sum::<f64>() / c.len() as f64).sqrt();
            (m, s)
        })
        .collect();
    if stats.len() < 4 {
        return false;
    }
    let lo = stats.iter().map(|s| s.0).fold(f64::INFINITY, f64::min);
    let hi = stats.iter().map(|s| s.0).fold(0.0, f64::max);
    hi / lo >= 1.5 && correlation(&stats) > 0.5
}

fn correlation(pairs: &[(f64, f64)]) -> f64 {
    let n = pairs.len() as f64;
    let (ma, mb) = pairs
        .iter()
        .fold((0.0, 0.0), |(a, b), (x, y)| (a + x / n, b + y / n));
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in pairs {
        sab += (x - ma) * (y - mb);
        saa += (x - ma).powi(2);
        sbb += (y - mb).powi(2);
    }
    if saa <= 0.0 || sbb <= 0.0 {
        0.0
    } else {
        sab / (saa * sbb).sqrt()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_and_targets_round_trip() {
        let v: Vec<f64> = (1..=20).map(|i| i as f64 * 10.0).collect();
        let s = TimeSeries::from_values("y", v.clone()).unwrap();
        let p =
            SeriesPreprocessing::fit(&s, 4, (1, 2), WindowNorm::Mean, Some(true), None).unwrap();
        let t = p.transform(&s).unwrap();
        let w = p.windows(&t, &[4, 10]).unwrap();
        assert_eq!(w.x.shape, [2, 4, 1, 1]);
        let y = p.targets(&t, &[4, 10], &w.offsets);
        let back = p.decode(&y, &w.offsets);
        let want = [v[4], v[5], v[10], v[11]];
        for (a, b) in back.iter().zip(want) {
            assert!((a - b).abs() < 1e-3, "{a} vs {b}");
        }
    }

    #[test]
    fn growing_seasonal_swing_is_multiplicative() {
        let v: Vec<f64> = (0..96)
            .map(|i| {
                let level = 100.0 * 1.02f64.powi(i);
                level * (1.0 + 0.2 * (i as f64 * std::f64::consts::PI / 6.0).sin())
            })
            .collect();
        assert!(multiplicative(&v, Some(12)));
        let flat: Vec<f64> = (0..96).map(|i| 10.0 + (i % 12) as f64).collect();
        assert!(!multiplicative(&flat, Some(12)));
    }
}
