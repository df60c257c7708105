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

#[test]
fn the_default_tuner_is_the_tasks_own_morphism_for_image_classification() {
    assert_eq!(SearchConfig::default().tuner, TunerKind::Auto);
    assert_eq!("auto".parse::<TunerKind>().unwrap(), TunerKind::Auto);
    let image = ImageClassifier::new(SearchConfig::default());
    assert_eq!(image.auto_model.tuner(), TunerKind::Morphism);
    // The tasks the comparison did not cover keep the greedy tuner.
    let regressor = ImageRegressor::new(SearchConfig::default());
    assert_eq!(regressor.auto_model.tuner(), TunerKind::Greedy);
    let mut text = TextClassifier::new(SearchConfig::default());
    assert_eq!(text.auto_model().tuner(), TunerKind::Greedy);
    // A tuner named in the config wins over the task's own.
    let chosen = ImageClassifier::new(SearchConfig {
        tuner: TunerKind::Hyperband,
        ..Default::default()
    });
    assert_eq!(chosen.auto_model.tuner(), TunerKind::Hyperband);
}

#[test]
fn a_default_image_search_runs_morphism_and_resumes_only_with_it() {
    let data = autocandle::datasets::digits().unwrap().take(300);
    let dir = tempfile::tempdir().unwrap();
    let config = SearchConfig {
        max_trials: 3,
        epochs: 1,
        batch_size: 32,
        seed: 2,
        directory: dir.path().to_path_buf(),
        project_name: "default".into(),
        overwrite: true,
        final_fit: false,
        ..Default::default()
    };
    let mut clf = ImageClassifier::new(config.clone());
    let r = clf.fit(&data, None).unwrap().clone();
    assert_eq!(r.trials.len(), 3);
    // Two initial configurations, then a child of one of them, on its parent's weights.
    assert!(r.trials[..2].iter().all(|t| t.parent.is_none()));
    let child = &r.trials[2];
    assert!(child.parent.is_some(), "trial 02 is a morphism child");
    assert!(child
        .operation
        .as_deref()
        .is_some_and(|o| o.starts_with("to_")));
    let saved = std::fs::read_to_string(dir.path().join("default").join("oracle.json")).unwrap();
    assert!(saved.contains("morphism"), "{saved}");
    // The project records the tuner that ran: resuming it with another one is refused.
    let mut greedy = ImageClassifier::new(SearchConfig {
        tuner: TunerKind::Greedy,
        overwrite: false,
        max_trials: 4,
        ..config
    });
    let err = greedy.fit(&data, None).unwrap_err().to_string();
    assert!(err.contains("Morphism") && err.contains("resume"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// Hyperband.

mod hyperband {
    use super::*;
    use autocandle::tuners::{
        bracket_epochs, bracket_size, num_brackets, HyperbandOracle, Proposal,
    };

    #[test]
    fn bracket_schedule_matches_keras_tuner() {
        // max_epochs = 81, factor 3: the table of the Hyperband paper, with KerasTuner's end
        // sizes (ceil(1 + log_3 81) = 5 trials at 81 epochs in bracket 0).
        assert_eq!(num_brackets(81, 3), 5);
        let b4: Vec<(usize, usize)> = (0..5)
            .map(|r| (bracket_size(81, 3, 4, r), bracket_epochs(81, 3, 4, r)))
            .collect();
        assert_eq!(b4, [(81, 1), (27, 3), (9, 9), (3, 27), (1, 81)]);
        assert_eq!(
            (bracket_size(81, 3, 0, 0), bracket_epochs(81, 3, 0, 0)),
            (5, 81)
        );
        for me in [1, 2, 3, 5, 9, 10, 27, 50, 81, 100] {
            let nb = num_brackets(me, 3);
            assert!(3f64.powi(nb as i32 - 1) <= me as f64 && (me as f64) < 3f64.powi(nb as i32));
            for b in 0..nb {
                assert_eq!(
                    bracket_epochs(me, 3, b, b),
                    me,
                    "last round trains max_epochs"
                );
                for r in 0..=b {
                    // Each round keeps about a third of the one before.
                    if r > 0 {
                        let (before, now) =
                            (bracket_size(me, 3, b, r - 1), bracket_size(me, 3, b, r));
                        assert!(now < before && now * 3 >= before, "{me}: {before} -> {now}");
                    }
                    let want = (me as f64 / 3f64.powi((b - r) as i32)).ceil() as usize;
                    assert_eq!(bracket_epochs(me, 3, b, r), want);
                }
            }
        }
    }

    #[test]
    fn one_sweep_runs_the_brackets_in_keras_tuner_order() {
        // 9 epochs: bracket 2 (9 × 1, 3 × 3, 1 × 9), bracket 1 (5 × 3, 2 × 9), bracket 0 (3 × 9).
        let o = HyperbandOracle::new(0, vec![], 9, 23);
        let s = o.schedule(1000);
        assert_eq!(s.len(), 23);
        let runs: Vec<(usize, usize, usize, usize)> = {
            let mut v: Vec<(usize, usize, usize, usize)> = Vec::new();
            for x in &s {
                match v.last_mut() {
                    Some(l) if (l.0, l.1) == (x.bracket, x.round) => l.2 += 1,
                    _ => v.push((x.bracket, x.round, 1, x.epochs)),
                }
            }
            v
        };
        assert_eq!(
            runs,
            [
                (2, 0, 9, 1),
                (2, 1, 3, 3),
                (2, 2, 1, 9),
                (1, 0, 5, 3),
                (1, 1, 2, 9),
                (0, 0, 3, 9)
            ]
        );
        assert!(s.iter().all(|x| x.iteration == 0));
        // The next sweep starts over with the most aggressive bracket.
        let more = HyperbandOracle::new(0, vec![], 9, 30).schedule(30);
        assert_eq!(
            (more[23].iteration, more[23].bracket, more[23].epochs),
            (1, 1, 3)
        );
    }

    fn scored_trial(index: usize, hp: &HyperParameters, score: f64) -> Trial {
        let mut t = Trial::new(format!("{index:02}"), hp.clone());
        t.status = TrialStatus::Completed;
        t.score = Some(score);
        t
    }

    fn next(o: &mut HyperbandOracle, trials: &[Trial]) -> Proposal {
        o.propose_trial(trials.len(), trials, &explore_x)
            .unwrap()
            .expect("a proposal")
    }

    #[test]
    fn the_best_third_is_promoted_with_its_checkpoint_and_epochs() {
        let mut o = HyperbandOracle::new(5, vec![], 9, 23);
        let mut trials: Vec<Trial> = Vec::new();
        // Round 0 of bracket 2: nine new trials of 1 epoch.
        for i in 0..9 {
            let p = next(&mut o, &trials);
            assert_eq!((p.epochs, p.start.is_none()), (Some(1), true), "trial {i}");
            // Scores: trial 4 best, then 7, then 1; trial 2 failed with the best score.
            let score = [0.9, 0.3, 0.1, 0.8, 0.1, 0.7, 0.6, 0.2, 0.5][i] + i as f64 * 1e-3;
            let mut t = scored_trial(i, &p.hyperparameters, score);
            if i == 2 {
                t.status = TrialStatus::Failed;
            }
            trials.push(t);
        }
        let xs: Vec<f64> = trials.iter().map(|t| x_of(&t.hyperparameters)).collect();
        for (i, want) in ["04", "07", "01"].iter().enumerate() {
            let p = next(&mut o, &trials);
            let s = p.start.clone().expect("a promotion");
            assert_eq!(&s.parent, want);
            assert_eq!(s.initial_epoch, 1);
            assert_eq!(p.epochs, Some(2), "trains epochs 2 and 3");
            assert!(s.morph.is_none());
            let parent: usize = want.parse().unwrap();
            assert_eq!(x_of(&p.hyperparameters), xs[parent]);
            trials.push(scored_trial(
                9 + i,
                &p.hyperparameters,
                [0.05, 0.01, 0.2][i],
            ));
        }
        // Round 2: the best of round 1 (trial 10) goes on to 9 epochs.
        let p = next(&mut o, &trials);
        let s = p.start.expect("a promotion");
        assert_eq!(
            (s.parent.as_str(), s.initial_epoch, p.epochs),
            ("10", 3, Some(6))
        );
        assert!(s.operation.contains("epoch 9"), "{}", s.operation);
    }

    #[test]
    fn a_round_with_too_few_completed_trials_starts_new_ones() {
        let mut o = HyperbandOracle::new(1, vec![], 3, 4);
        // 3 epochs, 4 trials: bracket 1 (3 × 1 epoch, then the best to 3 epochs).
        let mut trials: Vec<Trial> = Vec::new();
        for i in 0..3 {
            let p = next(&mut o, &trials);
            let mut t = scored_trial(i, &p.hyperparameters, 1.0);
            t.status = TrialStatus::Failed;
            trials.push(t);
        }
        let p = next(&mut o, &trials);
        assert!(p.start.is_none());
        assert_eq!(
            p.epochs,
            Some(3),
            "a new trial trained from scratch to the round's epochs"
        );
        trials.push(scored_trial(3, &p.hyperparameters, 1.0));
        assert!(o.propose_trial(4, &trials, &explore_x).unwrap().is_none());
    }

    /// The first-batch loss of each trial, recorded from the progress events.
    pub(super) fn first_batch_losses() -> (
        autocandle::automodel::ProgressFn,
        std::sync::Arc<std::sync::Mutex<BTreeMap<String, f32>>>,
    ) {
        let seen = std::sync::Arc::new(std::sync::Mutex::new(BTreeMap::new()));
        let s = seen.clone();
        let f: autocandle::automodel::ProgressFn = Box::new(move |e: &SearchEvent| {
            if let SearchEvent::Train {
                trial_id,
                event: autocandle::training::TrainEvent::Batch { loss, .. },
            } = e
            {
                s.lock().unwrap().entry(trial_id.clone()).or_insert(*loss);
            }
        });
        (f, seen)
    }

    #[test]
    fn a_promoted_trial_resumes_from_its_parents_checkpoint() {
        let data = autocandle::datasets::digits().unwrap().take(800);
        let dir = tempfile::tempdir().unwrap();
        let mut clf = ImageClassifier::new(SearchConfig {
            max_trials: 4,
            epochs: 3,
            batch_size: 16,
            seed: 3,
            tuner: TunerKind::Hyperband,
            directory: dir.path().to_path_buf(),
            project_name: "hb".into(),
            overwrite: true,
            final_fit: false,
            ..Default::default()
        });
        // Three small vanilla networks (the first initial configuration with other widths).
        let base = clf.auto_model.initial_hps[0].clone();
        clf.auto_model.initial_hps = [128i64, 64, 32]
            .iter()
            .map(|u| {
                let mut v = base.clone();
                v.insert("image_block_1/dense_block_1/units_0".into(), Value::Int(*u));
                v
            })
            .collect();
        let (progress, losses) = first_batch_losses();
        clf.on_progress(progress);
        let r = clf.fit(&data, None).unwrap().clone();
        assert_eq!(r.trials.len(), 4);
        let best_first = r.trials[..3]
            .iter()
            .min_by(|a, b| a.score.partial_cmp(&b.score).unwrap())
            .unwrap();
        let child = &r.trials[3];
        assert_eq!(child.status, TrialStatus::Completed, "{:?}", child.reason);
        assert_eq!(child.parent.as_deref(), Some(best_first.trial_id.as_str()));
        assert_eq!(child.initial_epoch, 1);
        assert_eq!(child.epoch_range(), Some((2, 3)));
        assert!(child.best_epoch.is_some_and(|e| (2..=3).contains(&e)));
        assert_eq!(child.hyperparameters, best_first.hyperparameters);
        for t in &r.trials[..3] {
            assert_eq!((t.parent.as_ref(), t.epoch_range()), (None, Some((1, 1))));
        }
        // The child's first batch starts where the parent ended, not at a fresh network's loss.
        let losses = losses.lock().unwrap();
        let child_first = losses[&child.trial_id] as f64;
        let parent_last = best_first.history[0].train.loss;
        let fresh_first = losses[&best_first.trial_id] as f64;
        assert!(
            (child_first - parent_last).abs() < 0.5 * (fresh_first - parent_last).abs(),
            "child's first batch {child_first}, parent's last epoch {parent_last}, a fresh \
             network's first batch {fresh_first}"
        );
        for t in &r.trials {
            assert!(
                t.overhead_seconds.is_some_and(|o| (0.0..5.0).contains(&o)),
                "{t:?}"
            );
        }
        let saved =
            std::fs::read_to_string(dir.path().join("hb").join("trial_03").join("trial.json"))
                .unwrap();
        assert!(saved.contains("\"parent\"") && saved.contains("\"initial_epoch\": 1"));
    }
}

// ---------------------------------------------------------------------------------------------
// Network morphism.

mod morphism {
    use super::*;
    use autocandle::automodel::AutoModel;
    use autocandle::blocks::{DataStats, ImageBlock};
    use autocandle::graph::{
        Activation, Architecture, HeadKind, Layer, Network, Node, Padding, Phase,
    };
    use autocandle::heads::ClassificationHead;
    use autocandle::tuners::morphism::{apply, apply_architecture, candidates};
    use autocandle::tuners::{complete_values, MorphOp, MorphismOracle};
    use candle_core::{Device, Tensor};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn node(name: &str, layer: Layer) -> Node {
        Node::new(name, "test", layer)
    }

    fn dense(units: usize, relu: bool) -> Layer {
        Layer::Dense {
            units,
            activation: if relu {
                Activation::Relu
            } else {
                Activation::Linear
            },
        }
    }

    fn conv(filters: usize, padding: Padding, separable: bool) -> Layer {
        Layer::Conv2d {
            filters,
            kernel: 3,
            stride: 1,
            padding,
            activation: Activation::Relu,
            separable,
        }
    }

    fn head() -> HeadKind {
        HeadKind::Classification {
            num_classes: 3,
            sigmoid: false,
            multi_label: false,
        }
    }

    /// Dense layers with batch norm (as the dense block makes them) and dropout.
    fn dense_net() -> Architecture {
        Architecture {
            input_shape: vec![12],
            nodes: vec![
                node("dense_0", dense(16, false)),
                node("bn_0", Layer::BatchNorm),
                node(
                    "relu_0",
                    Layer::Activation {
                        activation: Activation::Relu,
                    },
                ),
                node("dropout_0", Layer::Dropout { rate: 0.5 }),
                node("dense_1", dense(8, true)),
                node("out", dense(3, false)),
            ],
            head: head(),
        }
    }

    /// Convolutions with batch norm, pooling, a separable convolution, flatten and dense.
    fn conv_net() -> Architecture {
        Architecture {
            input_shape: vec![8, 8, 2],
            nodes: vec![
                node("conv_0", conv(4, Padding::Valid, false)),
                node("bn_0", Layer::BatchNorm),
                node(
                    "relu_0",
                    Layer::Activation {
                        activation: Activation::Relu,
                    },
                ),
                node("pool_0", Layer::MaxPool { size: 2, stride: 2 }),
                node("conv_1", conv(6, Padding::Same, false)),
                node("sep_2", conv(5, Padding::Same, true)),
                node("conv_3", conv(3, Padding::Same, false)),
                node("flatten", Layer::Flatten),
                node("dense_0", dense(10, true)),
                node("out", dense(3, false)),
            ],
            head: head(),
        }
    }

    /// Weights with random values everywhere, biases and batch-norm statistics included
    /// (fresh ones have zero biases and identity batch norm).
    fn random_network(arch: &Architecture, seed: u64) -> Network {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let net = Network::new(arch.clone(), &Device::Cpu, &mut rng).unwrap();
        for (name, t) in net.params.tensors().unwrap() {
            let n = t.elem_count();
            let v: Vec<f32> = (0..n)
                .map(|_| {
                    let u: f32 = rng.random::<f32>();
                    if name.ends_with("running_var") {
                        0.5 + u
                    } else if name.ends_with("gamma") {
                        0.8 + 0.4 * u
                    } else {
                        u - 0.5
                    }
                })
                .collect();
            let r = Tensor::from_vec(v, t.dims(), &Device::Cpu).unwrap();
            net.params.set(&name, &r).unwrap();
        }
        net
    }

    fn inputs(shape: &[usize], n: usize, seed: u64) -> Tensor {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut dims = vec![n];
        dims.extend_from_slice(shape);
        let len: usize = dims.iter().product();
        let v: Vec<f32> = (0..len).map(|_| rng.random::<f32>() * 2.0).collect();
        Tensor::from_vec(v, dims, &Device::Cpu).unwrap()
    }

    fn outputs(net: &Network, x: &Tensor) -> Vec<f32> {
        net.forward(x, &mut Phase::Eval)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap()
    }

    /// Applies every candidate edit of `arch`, checks that each child computes what its parent
    /// does, and returns the edits by kind.
    fn check_every_edit(arch: &Architecture, seed: u64) -> BTreeMap<&'static str, usize> {
        let parent = random_network(arch, seed);
        let x = inputs(&arch.input_shape, 6, seed + 1);
        let want = outputs(&parent, &x);
        let scale = want.iter().fold(1f32, |m, v| m.max(v.abs()));
        let ops = candidates(arch, "morph_t", &mut ChaCha8Rng::seed_from_u64(seed)).unwrap();
        let mut kinds = BTreeMap::new();
        let mut worst = 0f32;
        for op in &ops {
            let (child_arch, params) = apply(arch, &parent.params, op).unwrap();
            assert_eq!(child_arch, apply_architecture(arch, op).unwrap());
            assert_ne!(&child_arch, arch, "{op} changed nothing");
            let child = Network {
                arch: child_arch,
                params,
            };
            let got = outputs(&child, &x);
            assert_eq!(got.len(), want.len());
            let err = got
                .iter()
                .zip(&want)
                .map(|(a, b)| (a - b).abs())
                .fold(0f32, f32::max);
            // 1e-4 absolute, or 1e-5 relative to outputs larger than 10.
            assert!(
                err <= 1e-4 * (scale / 10.0).max(1.0),
                "{op}: outputs moved by {err} (scale {scale})"
            );
            worst = worst.max(err);
            let kind = match op {
                MorphOp::Deeper { .. } => "deeper",
                MorphOp::Wider { .. } => "wider",
                MorphOp::Skip { .. } => "skip",
            };
            *kinds.entry(kind).or_insert(0) += 1;
        }
        eprintln!(
            "{} edits, largest change {worst:e} (outputs up to {scale})",
            ops.len()
        );
        kinds
    }

    #[test]
    fn every_edit_of_a_dense_network_with_batch_norm_preserves_its_outputs() {
        let kinds = check_every_edit(&dense_net(), 1);
        assert!(
            kinds["deeper"] >= 2 && kinds["wider"] == 2 && kinds["skip"] >= 2,
            "{kinds:?}"
        );
    }

    #[test]
    fn every_edit_of_a_conv_network_with_batch_norm_preserves_its_outputs() {
        let kinds = check_every_edit(&conv_net(), 2);
        // conv_0 (through batch norm and pooling), conv_1 (into the separable one), conv_3
        // (through flatten), dense_0: four wider edits.
        assert!(
            kinds["deeper"] >= 3 && kinds["wider"] == 4 && kinds["skip"] >= 3,
            "{kinds:?}"
        );
    }

    #[test]
    fn wider_copies_units_and_splits_their_outgoing_weights() {
        let arch = dense_net();
        let parent = random_network(&arch, 3);
        let op = MorphOp::Wider {
            layer: "dense_0".into(),
            add: 16,
            seed: 9,
        };
        let (child, params) = apply(&arch, &parent.params, &op).unwrap();
        assert!(matches!(
            child.nodes[0].layer,
            Layer::Dense { units: 32, .. }
        ));
        let old = parent
            .params
            .var("dense_0.kernel")
            .unwrap()
            .to_vec2::<f32>()
            .unwrap();
        let new = params
            .var("dense_0.kernel")
            .unwrap()
            .to_vec2::<f32>()
            .unwrap();
        let gamma = params.var("bn_0.gamma").unwrap().to_vec1::<f32>().unwrap();
        let old_gamma = parent
            .params
            .var("bn_0.gamma")
            .unwrap()
            .to_vec1::<f32>()
            .unwrap();
        let out_old = parent
            .params
            .var("dense_1.kernel")
            .unwrap()
            .to_vec2::<f32>()
            .unwrap();
        let out_new = params
            .var("dense_1.kernel")
            .unwrap()
            .to_vec2::<f32>()
            .unwrap();
        // The first 16 units keep their weights' direction; each new one copies some unit
        // (incoming weights and batch-norm scale), and the shares of a unit's outgoing
        // weights sum to one.
        let mut shares = vec![0f32; 16];
        for c in 0..32 {
            let src = (0..16)
                .find(|s| (0..12).all(|r| new[r][c] == old[r][*s]))
                .expect("a copied unit");
            assert!(c >= 16 || src == c);
            assert_eq!(gamma[c], old_gamma[src]);
            let share = out_new[c][0] / out_old[src][0];
            assert!(share > 0.0 && share <= 1.0, "{share}");
            shares[src] += share;
        }
        assert!(shares.iter().all(|s| (s - 1.0).abs() < 1e-5), "{shares:?}");
        // Not all shares are equal: the copies are not exact twins.
        let distinct: std::collections::BTreeSet<u32> = (0..32)
            .map(|c| (out_new[c][0] / out_old[c.min(15)][0]).to_bits())
            .collect();
        assert!(distinct.len() > 16);
    }

    #[test]
    fn deeper_inserts_an_identity_and_skip_a_zero_branch() {
        let arch = conv_net();
        let net = random_network(&arch, 4);
        let deeper = MorphOp::Deeper {
            after: "pool_0".into(),
            name: "m/deeper".into(),
        };
        let (a, p) = apply(&arch, &net.params, &deeper).unwrap();
        assert_eq!(a.nodes[4].name, "m/deeper");
        assert!(matches!(
            a.nodes[4].layer,
            Layer::Conv2d {
                filters: 4,
                kernel: 3,
                padding: Padding::Same,
                ..
            }
        ));
        let k = p.var("m/deeper.kernel").unwrap().flatten_all().unwrap();
        let k: Vec<f32> = k.to_vec1().unwrap();
        assert_eq!(k.iter().sum::<f32>(), 4.0);
        let skip = MorphOp::Skip {
            from: "conv_1".into(),
            to: "conv_3".into(),
            name: "m/skip".into(),
        };
        let (a, p) = apply(&arch, &net.params, &skip).unwrap();
        let Layer::Residual { main, shortcut } = &a.nodes[4].layer else {
            panic!("{:?}", a.nodes[4]);
        };
        assert_eq!(main.len(), 3);
        assert_eq!(shortcut.len(), 1);
        let w: Vec<f32> = p
            .var("m/skip/conv.kernel")
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        assert!(w.iter().all(|v| *v == 0.0));
        // A span that does not end in a ReLU (batch norm) cannot take a skip connection.
        let bad = MorphOp::Skip {
            from: "conv_0".into(),
            to: "bn_0".into(),
            name: "m/skip".into(),
        };
        assert!(!candidates(&arch, "m", &mut ChaCha8Rng::seed_from_u64(0))
            .unwrap()
            .contains(&bad));
    }

    /// The image classifier's initial architectures for 8×8 digits.
    fn image_architectures() -> Vec<Architecture> {
        let clf = ImageClassifier::new(SearchConfig::default());
        let blocks: Vec<Box<dyn autocandle::blocks::Block>> = vec![Box::new(ImageBlock::default())];
        let head = ClassificationHead::new(10);
        let stats = DataStats {
            channel_mean: vec![0.3],
            channel_var: vec![0.1],
        };
        let build = |hp: &mut HyperParameters| {
            AutoModel::build_architecture(&blocks, &head, hp, &stats, &[8, 8, 1], 1.0 / 16.0)
        };
        let explore = |hp: &mut HyperParameters| build(hp).map(|_| ());
        clf.auto_model
            .initial_hps
            .iter()
            .map(|init| {
                let mut rng = ChaCha8Rng::seed_from_u64(0);
                let mut hp = complete_values(init, &explore, &mut rng, &|_| false).unwrap();
                build(&mut hp).unwrap()
            })
            .collect()
    }

    #[test]
    fn every_edit_of_the_image_classifiers_networks_preserves_their_outputs() {
        // Vanilla, vanilla with augmentation, ResNet (batch norm, residuals), Xception.
        for (i, arch) in image_architectures().iter().enumerate() {
            let kinds = check_every_edit(arch, 10 + i as u64);
            assert!(
                kinds.get("deeper").is_some_and(|n| *n > 0),
                "{i}: {kinds:?}"
            );
            assert!(kinds.get("skip").is_some_and(|n| *n > 0), "{i}: {kinds:?}");
        }
    }

    #[test]
    fn the_oracle_proposes_a_new_child_of_a_good_trial_deterministically() {
        let archs = image_architectures();
        let explore = |_: &mut HyperParameters| -> autocandle::Result<()> { Ok(()) };
        let mut trials = Vec::new();
        for (i, (arch, score)) in archs.iter().zip([0.3, 0.5, 0.9, 1.2]).enumerate() {
            let mut t = Trial::new(format!("{i:02}"), HyperParameters::new());
            t.status = TrialStatus::Completed;
            t.score = Some(score);
            t.best_epoch = Some(4);
            t.architecture = Some(arch.clone());
            trials.push(t);
        }
        let mut oracle = MorphismOracle::new(0, vec![]);
        let p = oracle.propose_trial(4, &trials, &explore).unwrap().unwrap();
        let again = MorphismOracle::new(0, vec![])
            .propose_trial(4, &trials, &explore)
            .unwrap()
            .unwrap();
        assert_eq!(p, again);
        let s = p.start.expect("a child");
        let op = s.morph.expect("an edit");
        assert!(["00", "01"].contains(&s.parent.as_str()), "{}", s.parent);
        assert_eq!(s.initial_epoch, 4);
        assert_eq!(s.operation, op.to_string());
        let parent: usize = s.parent.parse().unwrap();
        let child = apply_architecture(&archs[parent], &op).unwrap();
        // Marking that child as tried makes the oracle propose another one.
        let mut t = Trial::new("04".into(), HyperParameters::new());
        t.status = TrialStatus::Completed;
        t.score = Some(0.25);
        t.architecture = Some(child);
        trials.push(t);
        let q = oracle.propose_trial(5, &trials, &explore).unwrap().unwrap();
        assert_ne!(q.start.unwrap().morph.unwrap(), op);
        // A size limit below every child leaves the greedy tuner's fresh proposal.
        oracle.max_params = Some(10);
        let r = oracle
            .propose_trial(5, &trials, &explore_x)
            .unwrap()
            .unwrap();
        assert!(r.start.is_none());
    }

    #[test]
    fn a_morphism_search_trains_children_from_their_parents_weights() {
        let data = autocandle::datasets::digits().unwrap().take(800);
        let dir = tempfile::tempdir().unwrap();
        let mut clf = ImageClassifier::new(SearchConfig {
            max_trials: 3,
            epochs: 2,
            batch_size: 16,
            seed: 5,
            tuner: TunerKind::Morphism,
            directory: dir.path().to_path_buf(),
            project_name: "morph".into(),
            overwrite: true,
            final_fit: true,
            ..Default::default()
        });
        clf.auto_model.initial_hps.truncate(2);
        let (progress, losses) = super::hyperband::first_batch_losses();
        clf.on_progress(progress);
        let r = clf.fit(&data, None).unwrap().clone();
        assert_eq!(r.trials.len(), 3);
        let child = &r.trials[2];
        assert_eq!(child.status, TrialStatus::Completed, "{:?}", child.reason);
        let parent_id = child.parent.clone().expect("a parent");
        let parent = r.trials.iter().find(|t| t.trial_id == parent_id).unwrap();
        assert!(["00", "01"].contains(&parent.trial_id.as_str()));
        assert!(child
            .operation
            .as_deref()
            .is_some_and(|o| o.starts_with("to_")));
        assert_ne!(child.architecture, parent.architecture);
        assert_eq!(child.initial_epoch, parent.best_epoch.unwrap());
        assert_eq!(child.hyperparameters, parent.hyperparameters);
        let losses = losses.lock().unwrap();
        let child_first = losses[&child.trial_id] as f64;
        let parent_last = parent.history.last().unwrap().train.loss;
        let fresh_first = losses[&parent.trial_id] as f64;
        assert!(
            (child_first - parent_last).abs() < 0.5 * (fresh_first - parent_last).abs(),
            "child's first batch {child_first}, parent's last epoch {parent_last}, a fresh \
             network's first batch {fresh_first}"
        );
        // trial.json keeps the child's network; the final model is that network.
        let saved: Trial = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join("morph").join("trial_02").join("trial.json"))
                .unwrap(),
        )
        .unwrap();
        assert_eq!(saved.architecture, child.architecture);
        assert_eq!(saved.parent.as_deref(), Some(parent_id.as_str()));
        let best = Trial::best(&r.trials).unwrap();
        let model = clf.export_model().unwrap();
        assert_eq!(Some(&model.network().arch), best.architecture.as_ref());
        // The leaderboards show the parent and the operation.
        let html = autocandle::display::leaderboard_html(&r.trials);
        assert!(html.contains("Father Model ID") && html.contains("Added Operation"));
        assert!(html.contains(
            child
                .operation
                .as_deref()
                .unwrap()
                .split('(')
                .next()
                .unwrap()
        ));
        let text = autocandle::display::terminal::leaderboard(&r.trials);
        assert!(
            text.contains("Parent") && text.contains("Overhead"),
            "{text}"
        );
    }
}
