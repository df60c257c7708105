//! The Bayesian optimisation tuner on synthetic trials (scores set by hand), and one tiny search
//! with it on the digits compiled into the crate.

use autocandle::automodel::SearchConfig;
use autocandle::hyperparameters::{HyperParameters, Sampling, Value};
use autocandle::prelude::*;
use autocandle::tuners::{Acquisition, BayesianOracle, Oracle, Trial, TrialStatus};
use std::collections::BTreeMap;

/// A space with one real hyperparameter `x` in [0, 1].
fn explore_x(hp: &mut HyperParameters) -> autocandle::Result<()> {
    hp.float("x", 0.0, 1.0, Sampling::Linear, 0.5);
    Ok(())
}

/// A completed trial at `x` scored by `f(x)`.
fn trial_at(index: usize, x: f64, f: impl Fn(f64) -> f64) -> Trial {
    let mut hp = HyperParameters::new();
    explore_x(&mut hp).unwrap();
    hp.set("x", x).unwrap();
    let mut t = Trial::new(format!("{index:02}"), hp);
    t.status = TrialStatus::Completed;
    t.score = Some(f(x));
    t
}

fn quadratic(x: f64) -> f64 {
    (x - 0.3) * (x - 0.3)
}

fn x_of(hp: &HyperParameters) -> f64 {
    hp.get("x").and_then(Value::as_f64).expect("x is set")
}

/// Trials at 0, 0.2, ..., 1 scored by the quadratic with its minimum at 0.3.
fn grid_trials() -> Vec<Trial> {
    (0..6)
        .map(|i| trial_at(i, i as f64 / 5.0, quadratic))
        .collect()
}

fn propose(oracle: &mut BayesianOracle, index: usize, trials: &[Trial]) -> HyperParameters {
    oracle
        .propose(index, trials, &explore_x)
        .unwrap()
        .expect("the space is not exhausted")
}

#[test]
fn tuner_kind_parses_bayesian() {
    assert_eq!(
        "bayesian".parse::<TunerKind>().unwrap(),
        TunerKind::Bayesian
    );
    let err = "bayes".parse::<TunerKind>().unwrap_err().to_string();
    assert!(err.contains("bayesian"), "{err}");
    assert_eq!(BayesianOracle::new(0, vec![]).name(), "bayesian");
}

#[test]
fn ucb_proposes_near_the_minimum_of_a_quadratic() {
    let trials = grid_trials();
    let mut oracle = BayesianOracle::new(3, vec![]);
    let x = x_of(&propose(&mut oracle, trials.len(), &trials));
    assert!((x - 0.3).abs() < 0.06, "proposed x = {x}");
    // With β = 0 the proposal is the minimum of the posterior mean: closer still.
    oracle.acquisition = Acquisition::Ucb { beta: 0.0 };
    let x = x_of(&propose(&mut oracle, trials.len(), &trials));
    assert!((x - 0.3).abs() < 0.03, "proposed x = {x}");
    // Over a few rounds of the loop (propose, score, repeat), the best score closes in.
    oracle.acquisition = Acquisition::default();
    let mut trials = trials;
    for _ in 0..4 {
        let x = x_of(&propose(&mut oracle, trials.len(), &trials));
        trials.push(trial_at(trials.len(), x, quadratic));
    }
    let best = Trial::best(&trials).unwrap().score.unwrap();
    assert!(best < 1e-3, "best score {best}");
}

#[test]
fn ucb_follows_the_minimum_when_it_moves() {
    // Same x values, minimum at 0.8 instead: the proposal follows (the test can fail).
    let trials: Vec<Trial> = (0..6)
        .map(|i| trial_at(i, i as f64 / 5.0, |x| (x - 0.8) * (x - 0.8)))
        .collect();
    let mut oracle = BayesianOracle::new(3, vec![]);
    let x = x_of(&propose(&mut oracle, trials.len(), &trials));
    assert!((x - 0.8).abs() < 0.06, "proposed x = {x}");
}

#[test]
fn expected_improvement_proposes_near_the_minimum() {
    let trials = grid_trials();
    let mut oracle = BayesianOracle::new(5, vec![]);
    oracle.acquisition = Acquisition::ExpectedImprovement { xi: 0.01 };
    let x = x_of(&propose(&mut oracle, trials.len(), &trials));
    assert!((x - 0.3).abs() < 0.06, "proposed x = {x}");
}

#[test]
fn same_seed_and_trials_give_the_same_proposal() {
    let trials = grid_trials();
    let a = propose(&mut BayesianOracle::new(11, vec![]), 6, &trials);
    let b = propose(&mut BayesianOracle::new(11, vec![]), 6, &trials);
    assert_eq!(a, b);
    assert_eq!(x_of(&a).to_bits(), x_of(&b).to_bits());
    // Another seed draws other candidates, so another proposal.
    let c = propose(&mut BayesianOracle::new(12, vec![]), 6, &trials);
    assert_ne!(x_of(&a), x_of(&c));
    // Random phase too: same seed and index, same point.
    let d = propose(&mut BayesianOracle::new(11, vec![]), 0, &[]);
    let e = propose(&mut BayesianOracle::new(11, vec![]), 0, &[]);
    assert_eq!(d, e);
}

#[test]
fn failed_trials_are_left_out_of_the_gaussian_process() {
    let trials = grid_trials();
    let mut with_failures = trials.clone();
    // A failed trial (even one that carries a score) and a completed one without a score.
    let mut failed = trial_at(6, 0.9, |_| -100.0);
    failed.status = TrialStatus::Failed;
    failed.reason = Some("diverged".into());
    with_failures.push(failed);
    let mut no_score = trial_at(7, 0.95, |_| 0.0);
    no_score.score = None;
    with_failures.push(no_score);
    let mut nan = trial_at(8, 0.7, |_| 0.0);
    nan.score = Some(f64::NAN);
    with_failures.push(nan);
    let mut oracle = BayesianOracle::new(9, vec![]);
    let a = propose(&mut oracle, 9, &trials);
    let b = propose(&mut oracle, 9, &with_failures);
    assert_eq!(a, b, "a trial without a valid score changed the proposal");
    // Had the failed trial's score been used, the proposal would go near 0.9.
    let mut counted = trials.clone();
    counted.push(trial_at(6, 0.9, |_| -100.0));
    let c = propose(&mut oracle, 9, &counted);
    assert!((x_of(&c) - 0.9).abs() < 0.1, "{}", x_of(&c));
    assert!((x_of(&b) - 0.3).abs() < 0.1, "{}", x_of(&b));
}

#[test]
fn initial_configurations_come_first_then_random_points_until_enough_scores() {
    let mut init = BTreeMap::new();
    init.insert("x".to_string(), Value::Float(0.9));
    let mut oracle = BayesianOracle::new(1, vec![init]);
    oracle.num_initial_points = 3;
    assert_eq!(x_of(&propose(&mut oracle, 0, &[])), 0.9);
    // Index 1 with fewer than 3 scored trials: a random point, the same as the random tuner's.
    let t0 = vec![trial_at(0, 0.9, quadratic)];
    let hp = propose(&mut oracle, 1, &t0);
    let random = autocandle::tuners::RandomOracle::new(1)
        .propose(1, &t0, &explore_x)
        .unwrap()
        .unwrap();
    assert_eq!(hp, random);
    // An initial configuration already tried is not proposed again.
    let again = propose(&mut oracle, 0, &t0);
    assert_ne!(x_of(&again), 0.9);
}

#[test]
fn every_proposal_is_new_on_a_small_discrete_space() {
    // 2 × 3 = 6 points: the oracle proposes each once, then says the space is exhausted.
    let explore = |hp: &mut HyperParameters| -> autocandle::Result<()> {
        hp.boolean("b", false);
        hp.choice_i64("k", &[1, 2, 3], 1);
        Ok(())
    };
    let mut oracle = BayesianOracle::new(4, vec![]);
    oracle.num_initial_points = 2;
    oracle.num_candidates = 50;
    let mut trials: Vec<Trial> = Vec::new();
    for i in 0..6 {
        let hp = oracle
            .propose(i, &trials, &explore)
            .unwrap()
            .expect("points are left");
        let score = hp.get("k").and_then(Value::as_f64).unwrap()
            + if hp.get("b") == Some(&Value::Bool(true)) {
                0.5
            } else {
                0.0
            };
        assert!(
            trials
                .iter()
                .all(|t| t.hyperparameters.active_values() != hp.active_values()),
            "trial {i} repeats {:?}",
            hp.active_values()
        );
        let mut t = Trial::new(format!("{i:02}"), hp);
        t.status = TrialStatus::Completed;
        t.score = Some(score);
        trials.push(t);
    }
    assert!(oracle.propose(6, &trials, &explore).unwrap().is_none());
}

#[test]
fn bad_settings_are_config_errors() {
    let mut oracle = BayesianOracle::new(0, vec![]);
    oracle.alpha = 0.0;
    let err = oracle.propose(0, &[], &explore_x).unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err}");
    let mut oracle = BayesianOracle::new(0, vec![]);
    oracle.acquisition = Acquisition::Ucb { beta: f64::NAN };
    assert!(matches!(
        oracle.propose(0, &[], &explore_x),
        Err(Error::Config(_))
    ));
    let mut oracle = BayesianOracle::new(0, vec![]);
    oracle.num_candidates = 0;
    assert!(matches!(
        oracle.propose(0, &[], &explore_x),
        Err(Error::Config(_))
    ));
}

#[test]
fn a_small_bayesian_search_on_digits_completes_distinct_trials() {
    let data = autocandle::datasets::digits().unwrap().take(300);
    let dir = tempfile::tempdir().unwrap();
    let mut clf = ImageClassifier::new(SearchConfig {
        max_trials: 5,
        epochs: 1,
        batch_size: 32,
        seed: 7,
        tuner: TunerKind::Bayesian,
        directory: dir.path().to_path_buf(),
        project_name: "bayes".into(),
        overwrite: true,
        final_fit: false,
        ..Default::default()
    });
    // One known-good configuration, two random ones, then two from the Gaussian process.
    clf.auto_model.initial_hps.truncate(1);
    let r = clf.fit(&data, None).unwrap().clone();
    assert_eq!(r.trials.len(), 5);
    for t in &r.trials {
        assert_eq!(
            t.status,
            TrialStatus::Completed,
            "trial {}: {:?}",
            t.trial_id,
            t.reason
        );
        assert!(t.score.is_some_and(f64::is_finite));
    }
    for (i, a) in r.trials.iter().enumerate() {
        for b in &r.trials[..i] {
            assert_ne!(
                a.hyperparameters.active_values(),
                b.hyperparameters.active_values(),
                "trials {} and {} have the same hyperparameters",
                b.trial_id,
                a.trial_id
            );
        }
    }
    let saved = std::fs::read_to_string(dir.path().join("bayes").join("oracle.json")).unwrap();
    assert!(saved.contains("bayesian"), "{saved}");
}
