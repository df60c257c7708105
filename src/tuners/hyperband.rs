//! Hyperband (KerasTuner's `Hyperband`): successive halving over epochs.
//!
//! A bracket starts many trials for a few epochs, keeps the best `1/factor` of them and trains
//! those further (resuming from their checkpoint), and so on until a few reach `max_epochs`.
//! Brackets go from the most aggressive (many trials, 1 epoch first) to the last one, plain
//! random search at `max_epochs`; then the sweep starts again. The sizes and epochs are
//! KerasTuner's formulas ([`bracket_size`], [`bracket_epochs`], [`num_brackets`]).

use super::oracle::{already_tried, complete_values, Explore, Proposal, Start};
use super::{Oracle, RandomOracle, Trial, TrialStatus};
use crate::error::{Error, Result};
use crate::hyperparameters::{HyperParameters, Value};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeMap, HashMap};
use std::ops::Range;

/// KerasTuner's default reduction factor.
pub const DEFAULT_FACTOR: usize = 3;

/// Number of brackets for `max_epochs` and `factor`: how many times `max_epochs` can be
/// divided by `factor` before it falls below one epoch (KerasTuner's `_get_num_brackets`).
pub fn num_brackets(max_epochs: usize, factor: usize) -> usize {
    let mut epochs = max_epochs as f64;
    let mut brackets = 0;
    while epochs >= 1.0 && factor >= 2 {
        epochs /= factor as f64;
        brackets += 1;
    }
    brackets
}

/// Trials in round `round` of bracket `bracket` (KerasTuner's `_get_size`): each bracket
/// costs about the same number of epochs.
///
/// Computed in floating point as KerasTuner does (`ceil(1 + ln(max_epochs) / ln(factor))` in
/// `f64`, as Python's `math.log(x, base)`), so the sizes are Python's, rounding included.
pub fn bracket_size(max_epochs: usize, factor: usize, bracket: usize, round: usize) -> usize {
    let b0_end = (1.0 + (max_epochs as f64).ln() / (factor as f64).ln()).ceil();
    let end = b0_end / (bracket + 1) as f64;
    let k = bracket.saturating_sub(round);
    (end * (factor as f64).powi(k as i32)).ceil() as usize
}

/// The epoch a trial of round `round` of bracket `bracket` is trained to (KerasTuner's
/// `_get_epochs`), counted from the start of its lineage.
pub fn bracket_epochs(max_epochs: usize, factor: usize, bracket: usize, round: usize) -> usize {
    let k = bracket.saturating_sub(round);
    ((max_epochs as f64 / (factor as f64).powi(k as i32)).ceil() as usize).max(1)
}

/// One place in the schedule: which trial index runs what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    /// The sweep over all brackets (0, 1, ...).
    pub iteration: usize,
    /// The bracket (its number of halving rounds).
    pub bracket: usize,
    /// The round in the bracket (0: new trials).
    pub round: usize,
    /// Position in the round: the slot of rank `k` promotes the `k`-th best trial of the
    /// round before.
    pub rank: usize,
    /// The epoch this slot trains to.
    pub epochs: usize,
    /// The epoch the promoted trial had reached (0 in round 0).
    pub initial_epoch: usize,
    /// Trial indices of the round before (empty in round 0).
    pub previous_round: Range<usize>,
}

/// Hyperband over a trial budget.
///
/// Trial indices follow a fixed schedule of [`Slot`]s (see [`HyperbandOracle::schedule`]), so the
/// oracle keeps no state and a resumed search continues it. Round 0 of a bracket trains new
/// trials (the initial configurations first, then random ones) for
/// [`bracket_epochs`]`(.., 0)` epochs; the slot of rank `k` in a later round loads the
/// checkpoint of the `k`-th best completed trial of the round before and trains it on to the
/// round's epochs. Where the round before has too few completed trials, the slot trains a new
/// random trial from scratch to the round's epochs.
///
/// KerasTuner's Hyperband ignores `max_trials` and runs whole sweeps; here the budget is
/// `max_trials`, so a bracket that would not finish in the trials left is skipped (the next,
/// smaller one runs), and when none fits, the cheapest bracket runs cut to the budget. With a
/// budget of a whole sweep or more the order is KerasTuner's.
#[derive(Debug, Clone)]
pub struct HyperbandOracle {
    seed: u64,
    initial: Vec<BTreeMap<String, Value>>,
    max_epochs: usize,
    max_trials: usize,
    /// Reduction factor of trials and epochs between rounds (default 3; at least 2).
    pub factor: usize,
}

impl HyperbandOracle {
    /// A Hyperband oracle whose trials train at most `max_epochs` epochs, over `max_trials`
    /// trials; round-0 trials try the `initial` configurations first.
    pub fn new(
        seed: u64,
        initial: Vec<BTreeMap<String, Value>>,
        max_epochs: usize,
        max_trials: usize,
    ) -> Self {
        HyperbandOracle {
            seed,
            initial,
            max_epochs,
            max_trials,
            factor: DEFAULT_FACTOR,
        }
    }

    fn check(&self) -> Result<()> {
        if self.factor < 2 {
            return Err(Error::Config(format!(
                "hyperband tuner: factor must be at least 2, got {}",
                self.factor
            )));
        }
        if self.max_epochs == 0 {
            return Err(Error::Config(
                "hyperband tuner: epochs must be at least 1".into(),
            ));
        }
        Ok(())
    }

    fn bracket_total(&self, bracket: usize) -> usize {
        (0..=bracket)
            .map(|r| bracket_size(self.max_epochs, self.factor, bracket, r))
            .sum()
    }

    /// Appends bracket `bracket`'s slots, at most `limit` of them.
    fn push_bracket(&self, slots: &mut Vec<Slot>, iteration: usize, bracket: usize, limit: usize) {
        let (me, f) = (self.max_epochs, self.factor);
        let mut previous = 0..0;
        let mut pushed = 0;
        for round in 0..=bracket {
            let start = slots.len();
            for rank in 0..bracket_size(me, f, bracket, round) {
                if pushed == limit {
                    return;
                }
                slots.push(Slot {
                    iteration,
                    bracket,
                    round,
                    rank,
                    epochs: bracket_epochs(me, f, bracket, round),
                    initial_epoch: if round == 0 {
                        0
                    } else {
                        bracket_epochs(me, f, bracket, round - 1)
                    },
                    previous_round: previous.clone(),
                });
                pushed += 1;
            }
            previous = start..slots.len();
        }
    }

    /// The schedule of the first `n` trials (fewer when the budget ends before).
    pub fn schedule(&self, n: usize) -> Vec<Slot> {
        let n = n.min(self.max_trials);
        let mut slots = Vec::new();
        let brackets = num_brackets(self.max_epochs, self.factor).max(1);
        let mut iteration = 0;
        while slots.len() < n {
            let mut pushed_any = false;
            for b in (0..brackets).rev() {
                let left = self.max_trials - slots.len();
                if self.bracket_total(b) <= left && left > 0 {
                    self.push_bracket(&mut slots, iteration, b, usize::MAX);
                    pushed_any = true;
                }
                if slots.len() >= n {
                    break;
                }
            }
            if !pushed_any {
                // No bracket fits in what is left: the cheapest one, cut to the budget.
                let left = self.max_trials - slots.len();
                let cheapest = (0..brackets)
                    .min_by_key(|b| (self.bracket_total(*b), *b))
                    .unwrap_or(0);
                self.push_bracket(&mut slots, iteration, cheapest, left);
            }
            iteration += 1;
        }
        slots.truncate(n);
        slots
    }

    /// A new trial: the first initial configuration not tried yet, else a random one.
    fn new_values(
        &self,
        trial_index: usize,
        trials: &[Trial],
        explore: Explore,
    ) -> Result<Option<HyperParameters>> {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed.wrapping_add(trial_index as u64 * 7919));
        for init in &self.initial {
            let hp = complete_values(init, explore, &mut rng, &|_| false)?;
            if !already_tried(&hp, trials) {
                return Ok(Some(hp));
            }
        }
        RandomOracle::new(self.seed).propose(trial_index, trials, explore)
    }
}

impl Oracle for HyperbandOracle {
    fn name(&self) -> &'static str {
        "hyperband"
    }

    fn propose(
        &mut self,
        trial_index: usize,
        trials: &[Trial],
        explore: Explore,
    ) -> Result<Option<HyperParameters>> {
        Ok(self
            .propose_trial(trial_index, trials, explore)?
            .map(|p| p.hyperparameters))
    }

    fn propose_trial(
        &mut self,
        trial_index: usize,
        trials: &[Trial],
        explore: Explore,
    ) -> Result<Option<Proposal>> {
        self.check()?;
        let Some(slot) = self.schedule(trial_index + 1).into_iter().nth(trial_index) else {
            return Ok(None);
        };
        if slot.round > 0 {
            let by_id: HashMap<&str, &Trial> =
                trials.iter().map(|t| (t.trial_id.as_str(), t)).collect();
            let mut ranked: Vec<&Trial> = slot
                .previous_round
                .clone()
                .filter_map(|i| by_id.get(format!("{i:02}").as_str()).copied())
                .filter(|t| {
                    t.status == TrialStatus::Completed && t.score.is_some_and(f64::is_finite)
                })
                .collect();
            ranked.sort_by(|a, b| {
                a.score
                    .partial_cmp(&b.score)
                    .unwrap_or(std::cmp::Ordering::Equal)
                    .then_with(|| a.trial_id.cmp(&b.trial_id))
            });
            if let Some(parent) = ranked.get(slot.rank) {
                return Ok(Some(Proposal {
                    hyperparameters: parent.hyperparameters.clone(),
                    epochs: Some(slot.epochs.saturating_sub(slot.initial_epoch).max(1)),
                    start: Some(Start {
                        parent: parent.trial_id.clone(),
                        initial_epoch: slot.initial_epoch,
                        morph: None,
                        operation: format!(
                            "continue to epoch {} (bracket {}, round {})",
                            slot.epochs, slot.bracket, slot.round
                        ),
                    }),
                }));
            }
        }
        let Some(hp) = self.new_values(trial_index, trials, explore)? else {
            return Ok(None);
        };
        Ok(Some(Proposal {
            hyperparameters: hp,
            epochs: Some(slot.epochs),
            start: None,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keras_tuner_sizes_and_epochs_for_9_epochs() {
        assert_eq!(num_brackets(9, 3), 3);
        // Bracket 2: 9 trials × 1 epoch → 3 × 3 → 1 × 9.
        let b2: Vec<(usize, usize)> = (0..3)
            .map(|r| (bracket_size(9, 3, 2, r), bracket_epochs(9, 3, 2, r)))
            .collect();
        assert_eq!(b2, [(9, 1), (3, 3), (1, 9)]);
        let b1: Vec<(usize, usize)> = (0..2)
            .map(|r| (bracket_size(9, 3, 1, r), bracket_epochs(9, 3, 1, r)))
            .collect();
        assert_eq!(b1, [(5, 3), (2, 9)]);
        assert_eq!(
            (bracket_size(9, 3, 0, 0), bracket_epochs(9, 3, 0, 0)),
            (3, 9)
        );
    }

    /// `ceil(1 + math.log(max_epochs, factor))` as Python computes it (KerasTuner's trials in
    /// bracket 0), for max_epochs 1, 2, 3, 5, 8, 9, 10, 16, 27, 50, 64, 81, 100, 243, 1000.
    #[test]
    fn bracket_0_sizes_match_python() {
        let epochs = [1, 2, 3, 5, 8, 9, 10, 16, 27, 50, 64, 81, 100, 243, 1000];
        let python: [(usize, [usize; 15]); 3] = [
            (2, [1, 2, 3, 4, 4, 5, 5, 5, 6, 7, 7, 8, 8, 9, 11]),
            (3, [1, 2, 2, 3, 3, 3, 4, 4, 4, 5, 5, 5, 6, 6, 8]),
            (4, [1, 2, 2, 3, 3, 3, 3, 3, 4, 4, 4, 5, 5, 5, 6]),
        ];
        for (f, sizes) in python {
            for (me, want) in epochs.iter().zip(sizes) {
                assert_eq!(
                    bracket_size(*me, f, 0, 0),
                    want,
                    "max_epochs {me}, factor {f}"
                );
            }
        }
    }

    /// Whole tables from KerasTuner's formulas run in Python: (size, epochs) per round.
    #[test]
    fn bracket_tables_match_python() {
        let table = |me: usize| -> Vec<Vec<(usize, usize)>> {
            (0..num_brackets(me, 3))
                .map(|b| {
                    (0..=b)
                        .map(|r| (bracket_size(me, 3, b, r), bracket_epochs(me, 3, b, r)))
                        .collect()
                })
                .collect()
        };
        assert_eq!(
            table(27),
            vec![
                vec![(4, 27)],
                vec![(6, 9), (2, 27)],
                vec![(12, 3), (4, 9), (2, 27)],
                vec![(27, 1), (9, 3), (3, 9), (1, 27)],
            ]
        );
        assert_eq!(table(243)[3], vec![(41, 9), (14, 27), (5, 81), (2, 243)]);
        assert_eq!(table(1000).len(), 7);
        assert_eq!(
            table(1000)[6],
            vec![
                (834, 2),
                (278, 5),
                (93, 13),
                (31, 38),
                (11, 112),
                (4, 334),
                (2, 1000)
            ]
        );
        assert_eq!(num_brackets(1, 3), 1);
        assert_eq!(table(1), vec![vec![(1, 1)]]);
    }

    #[test]
    fn schedule_fills_the_budget_with_brackets_that_fit() {
        let o = HyperbandOracle::new(0, vec![], 9, 8);
        let s = o.schedule(100);
        assert_eq!(s.len(), 8);
        // Bracket 2 needs 13 trials: skipped; bracket 1 (5 + 2) fits; then one trial of
        // bracket 0 (plain random search at 9 epochs).
        let shape: Vec<(usize, usize, usize)> =
            s.iter().map(|x| (x.bracket, x.round, x.epochs)).collect();
        let mut want = vec![(1, 0, 3); 5];
        want.extend([(1, 1, 9), (1, 1, 9), (0, 0, 9)]);
        assert_eq!(shape, want);
        assert_eq!(s[5].previous_round, 0..5);
        assert_eq!((s[5].rank, s[6].rank), (0, 1));
        assert_eq!(s[6].initial_epoch, 3);
        assert_eq!(s[7].iteration, 1);
    }
}
