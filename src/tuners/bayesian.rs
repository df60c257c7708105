//! Bayesian optimisation (KerasTuner's `BayesianOptimization`): a Gaussian process over the
//! scores of the trials so far, and an acquisition function that trades its predicted loss
//! against its uncertainty.
//!
//! Each trial's hyperparameters are encoded as a point of the unit cube: one-hot for choices and
//! booleans, `(v - min) / (max - min)` for integer and real ranges (in the logarithm for
//! log-sampled ones), and all zeros for a hyperparameter the trial leaves inactive. A Gaussian
//! process with a Matérn 5/2 kernel is fitted to the normalised scores of the completed trials
//! (its length scale and signal variance chosen on a small grid by the marginal likelihood), and
//! the next trial is the candidate that minimises the lower confidence bound `μ − β·σ` (or
//! maximises the expected improvement) among a thousand drawn with
//! [`complete_values`](super::complete_values).

use super::oracle::{complete_values, tunable_names, Explore};
use super::{Oracle, RandomOracle, Trial, TrialStatus};
use crate::error::{Error, Result};
use crate::hyperparameters::{HyperParameter, HyperParameters, Kind, Sampling, Value};
use rand::seq::IndexedRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;

/// KerasTuner's default exploration weight of the confidence bound.
pub const DEFAULT_BETA: f64 = 2.6;

/// How the next trial is chosen from the Gaussian process's prediction `μ ± σ` of its loss.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Acquisition {
    /// The confidence bound of KerasTuner: the candidate with the lowest `μ − β·σ` (the loss is
    /// minimised). A larger `beta` explores more.
    Ucb {
        /// Weight of the standard deviation (KerasTuner: 2.6).
        beta: f64,
    },
    /// The candidate with the largest expected improvement over the best score so far, less a
    /// margin `xi` (in units of the scores' standard deviation).
    ExpectedImprovement {
        /// Improvement margin; 0.01 is usual.
        xi: f64,
    },
}

impl Default for Acquisition {
    fn default() -> Self {
        Acquisition::Ucb { beta: DEFAULT_BETA }
    }
}

/// Bayesian optimisation with a Gaussian process.
///
/// Trial `i` first tries initial configuration `i` (partial values, the rest defaults), as the
/// greedy tuner does. Until `num_initial_points` trials have completed with a score, the other
/// trials are random. From then on, the completed trials (failed ones are left out) fit a
/// Gaussian process, and the candidate with the best acquisition value among `num_candidates`
/// is proposed: three quarters drawn at random over the whole space, one quarter the best trial
/// so far with one hyperparameter drawn anew. Candidates already tried are skipped.
///
/// The oracle keeps no state: the candidates of trial `i` come from a generator seeded by
/// `(seed, i)`, so the same seed and the same trials give the same proposal.
///
/// ```
/// use autocandle::tuners::{Acquisition, BayesianOracle, Oracle};
/// use autocandle::hyperparameters::{HyperParameters, Sampling};
/// let mut oracle = BayesianOracle::new(0, vec![]);
/// oracle.acquisition = Acquisition::ExpectedImprovement { xi: 0.01 };
/// let explore = |hp: &mut HyperParameters| -> autocandle::Result<()> {
///     hp.float("learning_rate", 1e-4, 1e-1, Sampling::Log, 1e-3);
///     Ok(())
/// };
/// let hp = oracle.propose(0, &[], &explore)?.unwrap();
/// assert!(hp.get("learning_rate").is_some());
/// # Ok::<(), autocandle::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct BayesianOracle {
    seed: u64,
    initial: Vec<BTreeMap<String, Value>>,
    /// The acquisition function (default: [`Acquisition::Ucb`] with β = 2.6).
    pub acquisition: Acquisition,
    /// Completed trials needed before the Gaussian process takes over (default 3; the
    /// initial configurations count). The trials of a deep-learning search are expensive, so
    /// this is far below KerasTuner's three per hyperparameter.
    pub num_initial_points: usize,
    /// Candidates on which the acquisition is evaluated per proposal (default 1000: drawing a
    /// candidate builds the architecture a few times, ~0.2 ms each, and the proposal is part of
    /// the search overhead between two trials, which stays well under a second).
    pub num_candidates: usize,
    /// Noise added to the diagonal of the kernel matrix, in units of the scores' variance
    /// (default 1e-4, as KerasTuner).
    pub alpha: f64,
}

impl BayesianOracle {
    /// A Bayesian oracle trying `initial` configurations first (partial: the rest are defaults),
    /// with the default settings.
    pub fn new(seed: u64, initial: Vec<BTreeMap<String, Value>>) -> Self {
        BayesianOracle {
            seed,
            initial,
            acquisition: Acquisition::default(),
            num_initial_points: 3,
            num_candidates: 1000,
            alpha: 1e-4,
        }
    }

    fn check(&self) -> Result<()> {
        let bad = |what: String| Err(Error::Config(format!("bayesian tuner: {what}")));
        match self.acquisition {
            Acquisition::Ucb { beta } if !(beta.is_finite() && beta >= 0.0) => {
                return bad(format!("beta must be finite and >= 0, got {beta}"))
            }
            Acquisition::ExpectedImprovement { xi } if !xi.is_finite() => {
                return bad(format!("xi must be finite, got {xi}"))
            }
            _ => {}
        }
        if !(self.alpha.is_finite() && self.alpha > 0.0) {
            return bad(format!("alpha must be finite and > 0, got {}", self.alpha));
        }
        if self.num_candidates == 0 {
            return bad("num_candidates must be at least 1".into());
        }
        Ok(())
    }

    /// The generator of trial `trial_index`'s draws.
    fn rng(&self, trial_index: usize) -> ChaCha8Rng {
        let i = (trial_index as u64).wrapping_add(1);
        ChaCha8Rng::seed_from_u64(
            self.seed.wrapping_mul(0x2545_F491_4F6C_DD1D)
                ^ i.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(23)
                ^ 0xBA7E_5140_0000_0000,
        )
    }

    /// Candidates not tried yet: random points, then neighbours of the best trial.
    fn candidates(
        &self,
        rng: &mut ChaCha8Rng,
        trials: &[Trial],
        explore: Explore,
    ) -> Result<Vec<HyperParameters>> {
        let tried: Vec<BTreeMap<String, Value>> = trials
            .iter()
            .map(|t| t.hyperparameters.active_values())
            .collect();
        let n_local = self.num_candidates / 4;
        let mut out = Vec::with_capacity(self.num_candidates);
        for _ in 0..self.num_candidates - n_local {
            let hp = complete_values(&BTreeMap::new(), explore, rng, &|_| true)?;
            if !tried.contains(&hp.active_values()) {
                out.push(hp);
            }
        }
        let Some(best) = Trial::best(trials) else {
            return Ok(out);
        };
        let best_values = best.hyperparameters.active_values();
        let tunable = tunable_names(&best.hyperparameters);
        for _ in 0..n_local {
            let Some(name) = tunable.choose(rng) else {
                break;
            };
            let mut keep = best_values.clone();
            keep.remove(name);
            let hp = complete_values(&keep, explore, rng, &|_| true)?;
            if !tried.contains(&hp.active_values()) {
                out.push(hp);
            }
        }
        Ok(out)
    }
}

impl Oracle for BayesianOracle {
    fn name(&self) -> &'static str {
        "bayesian"
    }

    fn propose(
        &mut self,
        trial_index: usize,
        trials: &[Trial],
        explore: Explore,
    ) -> Result<Option<HyperParameters>> {
        self.check()?;
        let mut rng = self.rng(trial_index);
        if let Some(init) = self.initial.get(trial_index) {
            let hp = complete_values(init, explore, &mut rng, &|_| false)?;
            let v = hp.active_values();
            if !trials
                .iter()
                .any(|t| t.hyperparameters.active_values() == v)
            {
                return Ok(Some(hp));
            }
        }
        let scored: Vec<(BTreeMap<String, Value>, &HyperParameters, f64)> = trials
            .iter()
            .filter_map(|t| match t.score {
                Some(s) if t.status == TrialStatus::Completed && s.is_finite() => {
                    Some((t.hyperparameters.active_values(), &t.hyperparameters, s))
                }
                _ => None,
            })
            .collect();
        if scored.len() < self.num_initial_points.max(1) {
            return RandomOracle::new(self.seed).propose(trial_index, trials, explore);
        }
        let mut candidates = self.candidates(&mut rng, trials, explore)?;
        if candidates.is_empty() {
            return RandomOracle::new(self.seed).propose(trial_index, trials, explore);
        }
        let encoder = Encoder::new(scored.iter().map(|(_, hp, _)| *hp).chain(candidates.iter()));
        let x: Vec<Vec<f64>> = scored.iter().map(|(v, _, _)| encoder.encode(v)).collect();
        let y: Vec<f64> = scored.iter().map(|(_, _, s)| *s).collect();
        let Some(gp) = GaussianProcess::fit_ml(x, &y, self.alpha) else {
            // The kernel matrix could not be factorised: fall back to the first candidate.
            return Ok(Some(candidates.swap_remove(0)));
        };
        let best_y = y.iter().copied().fold(f64::INFINITY, f64::min);
        let mut pick: Option<(usize, f64)> = None;
        for (i, c) in candidates.iter().enumerate() {
            let (mu, sigma) = gp.predict(&encoder.encode(&c.active_values()));
            let cost = acquisition_cost(self.acquisition, mu, sigma, best_y, gp.y_std);
            if cost.is_finite() && pick.is_none_or(|(_, b)| cost < b) {
                pick = Some((i, cost));
            }
        }
        let i = pick.map_or(0, |(i, _)| i);
        Ok(Some(candidates.swap_remove(i)))
    }
}

/// The value to minimise for a predicted score `mu ± sigma`, given the best score so far and
/// the scores' standard deviation `y_std` (the unit of EI's margin).
fn acquisition_cost(acq: Acquisition, mu: f64, sigma: f64, best_y: f64, y_std: f64) -> f64 {
    match acq {
        Acquisition::Ucb { beta } => mu - beta * sigma,
        Acquisition::ExpectedImprovement { xi } => {
            -expected_improvement(mu, sigma, best_y, xi * y_std)
        }
    }
}

/// `E[max(best - xi - Y, 0)]` for `Y ~ N(mu, sigma²)`.
fn expected_improvement(mu: f64, sigma: f64, best: f64, xi: f64) -> f64 {
    let imp = best - xi - mu;
    if sigma <= 0.0 {
        return imp.max(0.0);
    }
    let z = imp / sigma;
    imp * normal_cdf(z) + sigma * normal_pdf(z)
}

fn normal_pdf(z: f64) -> f64 {
    (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

fn normal_cdf(z: f64) -> f64 {
    0.5 * erfc(-z / std::f64::consts::SQRT_2)
}

/// The complementary error function (Numerical Recipes' Chebyshev fit, relative error below
/// 1.2e-7 everywhere).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * (-z * z + poly).exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

// ---------------------------------------------------------------------------------------------
// Encoding of hyperparameter values into the unit cube.

/// Maps the active values of a trial to a point of `[0, 1]^width`, over the union of the
/// hyperparameters declared in a set of spaces (the first declaration of a name wins).
#[derive(Debug, Clone)]
struct Encoder {
    /// Each encoded hyperparameter with the offset of its first coordinate.
    params: Vec<(HyperParameter, usize)>,
    width: usize,
}

/// Coordinates a hyperparameter takes.
fn encoded_width(h: &HyperParameter) -> usize {
    match &h.kind {
        Kind::Choice { values } => values.len(),
        Kind::Boolean => 2,
        Kind::Int { .. } | Kind::Float { .. } => 1,
        Kind::Fixed { .. } => 0,
    }
}

/// Equality of values, with integers and reals compared as numbers.
fn same_value(a: &Value, b: &Value) -> bool {
    a == b
        || matches!(
            (a, b),
            (
                Value::Int(_) | Value::Float(_),
                Value::Int(_) | Value::Float(_)
            )
        ) && a.as_f64() == b.as_f64()
}

/// `v` scaled to `[0, 1]` over `[min, max]`, in the logarithm for log sampling (over
/// `[max(min, tiny), max]`, as sampling does).
fn scale(v: f64, min: f64, max: f64, sampling: Sampling, floor: f64) -> f64 {
    let (v, lo, hi) = match sampling {
        Sampling::Log if max > 0.0 => {
            let lo = min.max(floor);
            (v.max(lo).ln(), lo.ln(), max.ln())
        }
        _ => (v, min, max),
    };
    if hi > lo && v.is_finite() {
        ((v - lo) / (hi - lo)).clamp(0.0, 1.0)
    } else {
        0.0
    }
}

impl Encoder {
    fn new<'a>(spaces: impl Iterator<Item = &'a HyperParameters>) -> Self {
        let mut params: Vec<(HyperParameter, usize)> = Vec::new();
        let mut seen: std::collections::BTreeSet<String> = Default::default();
        let mut width = 0;
        for space in spaces {
            for h in space.space() {
                if seen.insert(h.name.clone()) {
                    params.push((h.clone(), width));
                    width += encoded_width(h);
                }
            }
        }
        Encoder { params, width }
    }

    /// The point for `active` (a trial's active values): inactive hyperparameters are zeros.
    fn encode(&self, active: &BTreeMap<String, Value>) -> Vec<f64> {
        let mut out = vec![0.0; self.width];
        for (h, offset) in &self.params {
            let Some(v) = active.get(&h.name) else {
                continue;
            };
            match &h.kind {
                Kind::Choice { values } => {
                    if let Some(k) = values.iter().position(|c| same_value(c, v)) {
                        out[offset + k] = 1.0;
                    }
                }
                Kind::Boolean => {
                    if let Some(b) = v.as_bool() {
                        out[offset + usize::from(b)] = 1.0;
                    }
                }
                Kind::Int {
                    min, max, sampling, ..
                } => {
                    if let Some(x) = v.as_f64() {
                        out[*offset] = scale(x, *min as f64, *max as f64, *sampling, 1.0);
                    }
                }
                Kind::Float { min, max, sampling } => {
                    if let Some(x) = v.as_f64() {
                        out[*offset] = scale(x, *min, *max, *sampling, f64::MIN_POSITIVE);
                    }
                }
                Kind::Fixed { .. } => {}
            }
        }
        out
    }
}

// ---------------------------------------------------------------------------------------------
// Gaussian process regression.

/// The Matérn 5/2 correlation at distance `r` (in length scales).
fn matern52(r: f64) -> f64 {
    let s = 5f64.sqrt() * r;
    (1.0 + s + s * s / 3.0) * (-s).exp()
}

fn distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y) * (x - y))
        .sum::<f64>()
        .sqrt()
}

/// `y` standardised: its mean, its standard deviation (1 when the values are all alike) and
/// the standardised values.
pub(super) fn standardise(y: &[f64]) -> (f64, f64, Vec<f64>) {
    let n = y.len().max(1) as f64;
    let mean = y.iter().sum::<f64>() / n;
    let sd = (y.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
    let sd = if sd > 1e-12 && sd.is_finite() {
        sd
    } else {
        1.0
    };
    (mean, sd, y.iter().map(|v| (v - mean) / sd).collect())
}

/// The Cholesky factor of the Gram matrix `kernel(i, j)` of `n` points plus `alpha` on the
/// diagonal; when that is not positive definite, with ten times more, `tries` times in all;
/// `None` when every try fails.
pub(super) fn gram_cholesky(
    n: usize,
    kernel: impl Fn(usize, usize) -> f64,
    alpha: f64,
    tries: u32,
) -> Option<Vec<f64>> {
    let mut k = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let v = kernel(i, j);
            k[i * n + j] = v;
            k[j * n + i] = v;
        }
    }
    let mut jitter = alpha;
    for _ in 0..tries {
        let mut kj = k.clone();
        for i in 0..n {
            kj[i * n + i] += jitter;
        }
        if let Some(l) = cholesky(&kj, n) {
            return Some(l);
        }
        jitter *= 10.0;
    }
    None
}

/// The lower-triangular `L` with `L·Lᵀ = a` (`a`: `n × n`, row-major, symmetric), or `None`
/// when `a` is not positive definite.
pub(super) fn cholesky(a: &[f64], n: usize) -> Option<Vec<f64>> {
    if a.len() != n * n {
        return None;
    }
    let mut l = vec![0.0; n * n];
    for j in 0..n {
        let mut d = a[j * n + j];
        for k in 0..j {
            d -= l[j * n + k] * l[j * n + k];
        }
        if !d.is_finite() || d <= 0.0 {
            return None;
        }
        let djj = d.sqrt();
        l[j * n + j] = djj;
        for i in j + 1..n {
            let mut s = a[i * n + j];
            for k in 0..j {
                s -= l[i * n + k] * l[j * n + k];
            }
            l[i * n + j] = s / djj;
        }
    }
    Some(l)
}

/// Solves `L·x = b` for lower-triangular `l`.
pub(super) fn solve_lower(l: &[f64], n: usize, b: &[f64]) -> Vec<f64> {
    let mut x = b.to_vec();
    for i in 0..n {
        let mut s = x[i];
        for k in 0..i {
            s -= l[i * n + k] * x[k];
        }
        x[i] = s / l[i * n + i];
    }
    x
}

/// Solves `Lᵀ·x = b` for lower-triangular `l`.
fn solve_lower_transposed(l: &[f64], n: usize, b: &[f64]) -> Vec<f64> {
    let mut x = b.to_vec();
    for i in (0..n).rev() {
        let mut s = x[i];
        for k in i + 1..n {
            s -= l[k * n + i] * x[k];
        }
        x[i] = s / l[i * n + i];
    }
    x
}

/// Solves `A·x = b` given the Cholesky factor `l` of `A`.
pub(super) fn cho_solve(l: &[f64], n: usize, b: &[f64]) -> Vec<f64> {
    solve_lower_transposed(l, n, &solve_lower(l, n, b))
}

/// A Gaussian process fitted to normalised observations (zero mean, unit variance).
#[derive(Debug, Clone)]
struct GaussianProcess {
    x: Vec<Vec<f64>>,
    y_mean: f64,
    y_std: f64,
    length_scale: f64,
    variance: f64,
    /// Cholesky factor of `K + alpha·I`.
    l: Vec<f64>,
    /// `(K + alpha·I)⁻¹ y`.
    weights: Vec<f64>,
    log_marginal_likelihood: f64,
}

impl GaussianProcess {
    /// Fits with a fixed length scale and signal variance; `None` when the kernel matrix
    /// cannot be factorised (even with ten and a hundred times more jitter) or the data are
    /// empty or ragged.
    fn fit(
        x: Vec<Vec<f64>>,
        y: &[f64],
        length_scale: f64,
        variance: f64,
        alpha: f64,
    ) -> Option<Self> {
        let n = x.len();
        if n == 0 || y.len() != n || x.iter().any(|r| r.len() != x[0].len()) {
            return None;
        }
        let (y_mean, y_std, yn) = standardise(y);
        let kernel =
            |i: usize, j: usize| variance * matern52(distance(&x[i], &x[j]) / length_scale);
        let l = gram_cholesky(n, kernel, alpha, 3)?;
        let weights = cho_solve(&l, n, &yn);
        let fit: f64 = yn.iter().zip(&weights).map(|(a, b)| a * b).sum();
        let log_det: f64 = (0..n).map(|i| l[i * n + i].ln()).sum();
        let log_marginal_likelihood =
            -0.5 * fit - log_det - 0.5 * n as f64 * (2.0 * std::f64::consts::PI).ln();
        Some(GaussianProcess {
            x,
            y_mean,
            y_std,
            length_scale,
            variance,
            l,
            weights,
            log_marginal_likelihood,
        })
    }

    /// Fits with the length scale (a grid from 1/16 to 4 times `√d`, `d` the dimension) and
    /// signal variance (1/4, 1, 4) of highest marginal likelihood.
    fn fit_ml(x: Vec<Vec<f64>>, y: &[f64], alpha: f64) -> Option<Self> {
        let d = x.first().map_or(1, Vec::len).max(1) as f64;
        let mut best: Option<GaussianProcess> = None;
        for k in -4..=2 {
            let length_scale = d.sqrt() * 2f64.powi(k);
            for variance in [0.25, 1.0, 4.0] {
                let Some(gp) = Self::fit(x.clone(), y, length_scale, variance, alpha) else {
                    continue;
                };
                if gp.log_marginal_likelihood.is_finite()
                    && best
                        .as_ref()
                        .is_none_or(|b| gp.log_marginal_likelihood > b.log_marginal_likelihood)
                {
                    best = Some(gp);
                }
            }
        }
        best
    }

    /// Posterior mean and standard deviation at `q`, in normalised units.
    fn predict_normalised(&self, q: &[f64]) -> (f64, f64) {
        let n = self.x.len();
        let ks: Vec<f64> = self
            .x
            .iter()
            .map(|xi| self.variance * matern52(distance(xi, q) / self.length_scale))
            .collect();
        let mean = ks.iter().zip(&self.weights).map(|(a, b)| a * b).sum();
        let v = solve_lower(&self.l, n, &ks);
        let var = self.variance - v.iter().map(|a| a * a).sum::<f64>();
        (mean, var.max(0.0).sqrt())
    }

    /// Posterior mean and standard deviation at `q`, in the units of the observations.
    fn predict(&self, q: &[f64]) -> (f64, f64) {
        let (m, s) = self.predict_normalised(q);
        (self.y_mean + self.y_std * m, self.y_std * s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cholesky_factorises_and_solves_a_known_spd_matrix() {
        let a = [4.0, 12.0, -16.0, 12.0, 37.0, -43.0, -16.0, -43.0, 98.0];
        let l = cholesky(&a, 3).expect("the matrix is positive definite");
        let want = [2.0, 0.0, 0.0, 6.0, 1.0, 0.0, -8.0, 5.0, 3.0];
        for (got, want) in l.iter().zip(want) {
            assert!((got - want).abs() < 1e-12, "{l:?}");
        }
        // A·x = b with x = (1, -2, 3).
        let x_true = [1.0, -2.0, 3.0];
        let b: Vec<f64> = (0..3)
            .map(|i| (0..3).map(|j| a[i * 3 + j] * x_true[j]).sum())
            .collect();
        let x = cho_solve(&l, 3, &b);
        for (got, want) in x.iter().zip(x_true) {
            assert!((got - want).abs() < 1e-9, "{x:?}");
        }
        // Not positive definite, and a wrong size.
        assert!(cholesky(&[1.0, 2.0, 2.0, 1.0], 2).is_none());
        assert!(cholesky(&[1.0, 0.0, 0.0], 2).is_none());
    }

    #[test]
    fn matern_kernel_and_normal_functions_have_known_values() {
        assert_eq!(matern52(0.0), 1.0);
        // (1 + √5 + 5/3)·e^{−√5} at r = 1.
        assert!((matern52(1.0) - 0.523_994_108_4).abs() < 1e-9);
        assert!((normal_cdf(0.0) - 0.5).abs() < 1e-7);
        assert!((normal_cdf(1.959_964) - 0.975).abs() < 1e-6);
        assert!((normal_cdf(-1.959_964) - 0.025).abs() < 1e-6);
        // EI of N(0, 1) against best 0 is φ(0).
        assert!((expected_improvement(0.0, 1.0, 0.0, 0.0) - normal_pdf(0.0)).abs() < 1e-7);
        assert_eq!(expected_improvement(1.0, 0.0, 0.5, 0.0), 0.0);
    }

    /// Eight observations of sin(2πx) on [0, 1].
    fn sin_data() -> (Vec<f64>, Vec<f64>) {
        let xs: Vec<f64> = (0..8).map(|i| i as f64 / 7.0).collect();
        let y = xs
            .iter()
            .map(|x| (2.0 * std::f64::consts::PI * x).sin())
            .collect();
        (xs, y)
    }

    fn sin_gp() -> (GaussianProcess, Vec<f64>) {
        let (xs, y) = sin_data();
        let gp = GaussianProcess::fit_ml(xs.iter().map(|x| vec![*x]).collect(), &y, 1e-4)
            .expect("the fit succeeds");
        (gp, xs)
    }

    #[test]
    fn gp_posterior_interpolates_sin_and_is_uncertain_away_from_the_data() {
        let (gp, xs) = sin_gp();
        let f = |x: f64| (2.0 * std::f64::consts::PI * x).sin();
        let prior = gp.y_std * gp.variance.sqrt();
        let mut max_std_at_data: f64 = 0.0;
        for &x in &xs {
            let (m, s) = gp.predict(&[x]);
            assert!((m - f(x)).abs() < 1e-3, "mean {m} at {x}, want {}", f(x));
            assert!(s < 0.01 * prior, "std {s} at observed {x} (prior {prior})");
            max_std_at_data = max_std_at_data.max(s);
        }
        // Between observations the mean still follows sin, with more uncertainty.
        for i in 0..7 {
            let x = (i as f64 + 0.5) / 7.0;
            let (m, s) = gp.predict(&[x]);
            assert!((m - f(x)).abs() < 0.1, "mean {m} at {x}, want {}", f(x));
            assert!(s > 3.0 * max_std_at_data, "std {s} at {x}");
        }
        // Outside the data, the std grows with the distance towards the prior's.
        let stds: Vec<f64> = [1.05, 1.2, 1.5, 3.0]
            .iter()
            .map(|x| gp.predict(&[*x]).1)
            .collect();
        assert!(stds.windows(2).all(|w| w[1] > w[0]), "{stds:?}");
        assert!(
            (stds[3] - prior).abs() < 0.05 * prior,
            "{stds:?} vs {prior}"
        );
    }

    #[test]
    fn gp_marginal_likelihood_prefers_a_length_scale_that_fits() {
        let (gp, _) = sin_gp();
        let (xs, y) = sin_data();
        let x: Vec<Vec<f64>> = xs.iter().map(|x| vec![*x]).collect();
        let tiny = GaussianProcess::fit(x.clone(), &y, 0.01, gp.variance, 1e-4).expect("fit");
        let huge = GaussianProcess::fit(x, &y, 100.0, gp.variance, 1e-4).expect("fit");
        assert!(gp.log_marginal_likelihood > tiny.log_marginal_likelihood);
        assert!(gp.log_marginal_likelihood > huge.log_marginal_likelihood);
        // A length scale far below the spacing forgets the data between observations.
        let (m, _) = tiny.predict_normalised(&[0.5 / 7.0]);
        assert!(m.abs() < 1e-3);
    }

    fn space() -> HyperParameters {
        let mut hp = HyperParameters::new();
        hp.choice_str("block_type", &["vanilla", "resnet", "xception"], "vanilla");
        hp.conditional("block_type", &["resnet".into()], |hp| {
            hp.int("depth", 1, 9, 1, 1)
        });
        hp.boolean("augment", false);
        hp.float("lr", 1e-4, 1e-1, Sampling::Log, 1e-3);
        hp.float("dropout", 0.0, 0.5, Sampling::Linear, 0.0);
        hp.choice_f64("momentum", &[0.0, 0.9], 0.9);
        hp.fixed("kernel", 3i64);
        hp
    }

    #[test]
    fn encoding_is_one_hot_log_scaled_and_zero_when_inactive() {
        let base = space();
        let enc = Encoder::new([&base].into_iter());
        // 3 (choice) + 1 (int) + 2 (boolean) + 1 + 1 (floats) + 2 (choice) + 0 (fixed).
        assert_eq!(enc.width, 10);
        let mut hp = base.clone();
        hp.set("block_type", "resnet").unwrap();
        hp.set("depth", 5i64).unwrap();
        hp.set("augment", true).unwrap();
        hp.set("lr", 1e-2).unwrap();
        hp.set("dropout", 0.125).unwrap();
        hp.set("momentum", 0.0).unwrap();
        let x = enc.encode(&hp.active_values());
        let want = [0.0, 1.0, 0.0, 0.5, 0.0, 1.0, 2.0 / 3.0, 0.25, 1.0, 0.0];
        assert_eq!(x.len(), want.len());
        for (i, (g, w)) in x.iter().zip(want).enumerate() {
            assert!((g - w).abs() < 1e-12, "coordinate {i}: {x:?}");
        }
        // Vanilla leaves depth inactive: encoded as 0 whatever value it holds.
        hp.set("block_type", "vanilla").unwrap();
        let x = enc.encode(&hp.active_values());
        assert_eq!(&x[..4], &[1.0, 0.0, 0.0, 0.0]);
        // An integer given as a real still matches a numeric choice; a hyperparameter absent
        // from a trial's space is all zeros.
        let mut other = BTreeMap::new();
        other.insert("momentum".to_string(), Value::Int(0));
        let x = enc.encode(&other);
        assert_eq!(x, [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0]);
    }

    #[test]
    fn encoding_covers_the_union_of_spaces() {
        let a = space();
        let mut b = HyperParameters::new();
        b.int("units", 16, 256, 16, 32);
        b.float("lr", 1.0, 2.0, Sampling::Linear, 1.5); // same name: the first declaration wins
        let enc = Encoder::new([&a, &b].into_iter());
        assert_eq!(enc.width, 11);
        let mut v = BTreeMap::new();
        v.insert("units".to_string(), Value::Int(256));
        v.insert("lr".to_string(), Value::Float(1e-4));
        let x = enc.encode(&v);
        assert_eq!(x[10], 1.0);
        assert_eq!(
            x[6], 0.0,
            "lr is scaled over the first declaration's log range"
        );
        assert_eq!(x.iter().sum::<f64>(), 1.0);
    }
}
