//! AutoModel: the search (oracle → trial → training) and the final fit, over a graph of blocks
//! ending in a head.

use crate::blocks::{shape_after, Block, DataStats};
use crate::data::ImageDataset;
use crate::error::{Error, Result};
use crate::export::Model;
use crate::graph::{Architecture, Layer, Network, Node, ParamStore};
use crate::heads::Head;
use crate::hyperparameters::{HyperParameters, Value};
use crate::preprocessing::{
    channel_stats, encode_targets, input_scale, LabelEncoder, Preprocessing,
};
use crate::project::{OracleState, Project};
use crate::study::StudyFingerprint;
use crate::training::{fit, FitConfig, OptimizerKind, StopReason, TrainData, TrainEvent};
use crate::tuners::{
    morphism, GreedyOracle, HyperbandOracle, MorphismOracle, Oracle, Proposal, RandomOracle, Trial,
    TrialStatus, TunerKind,
};
use candle_core::Device;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::cell::Cell;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Budgets and settings of a search.
#[derive(Debug, Clone)]
pub struct SearchConfig {
    /// Most trials (completed or failed).
    pub max_trials: usize,
    /// Wall-clock budget of the search; a trial running when it ends stops at its next epoch
    /// boundary, and the final fit runs only if it fits in what is left.
    pub time_limit: Option<Duration>,
    /// The tuner; [`TunerKind::Auto`] (the default) is the task's own
    /// ([`AutoModel::default_tuner`]).
    pub tuner: TunerKind,
    /// Seed of everything random: same seed + data + machine ⇒ same leaderboard.
    pub seed: u64,
    /// Parent folder of the project.
    pub directory: PathBuf,
    /// Project folder name.
    pub project_name: String,
    /// Start over instead of resuming.
    pub overwrite: bool,
    /// Largest parameter count a trial may have; bigger ones fail without training.
    pub max_model_size: Option<usize>,
    /// Stop after this many failed trials in a row.
    pub max_consecutive_failed_trials: usize,
    /// Most epochs per trial.
    pub epochs: usize,
    /// Batch size.
    pub batch_size: usize,
    /// Fraction of the training data held out for validation when none is given.
    pub validation_split: f64,
    /// Early-stopping patience (epochs without a better validation loss).
    pub patience: usize,
    /// Retrain the best configuration on training + validation data after the search.
    pub final_fit: bool,
    /// Device to train on.
    pub device: Device,
    /// Classification: weight of each class (index = encoded class) in the training loss.
    pub class_weights: Option<Vec<f32>>,
    /// The final model averages the outputs of the final fit and of this many best trials'
    /// trained networks (0: the final fit alone). Small tables gain most: their validation
    /// sets are small, so single models vary a lot.
    pub ensemble_trials: usize,
}

impl Default for SearchConfig {
    fn default() -> Self {
        SearchConfig {
            max_trials: 100,
            time_limit: None,
            tuner: TunerKind::Auto,
            seed: 0,
            directory: PathBuf::from("autocandle_projects"),
            project_name: "auto_model".into(),
            overwrite: false,
            max_model_size: None,
            max_consecutive_failed_trials: 3,
            epochs: 10,
            batch_size: 128,
            validation_split: 0.2,
            patience: 3,
            final_fit: true,
            device: Device::Cpu,
            class_weights: None,
            ensemble_trials: 0,
        }
    }
}

/// The longest time limit a search takes (a year): anything longer is a typing slip.
pub const MAX_TIME_LIMIT: Duration = Duration::from_secs(365 * 24 * 3600);

impl SearchConfig {
    /// Checks every setting before anything is read or trained: a zero, negative or absurd
    /// value is an error that says what is allowed (none is silently replaced).
    ///
    /// ```
    /// use autocandle::prelude::*;
    /// assert!(SearchConfig::default().validate().is_ok());
    /// let err = SearchConfig { epochs: 0, ..Default::default() }.validate().unwrap_err();
    /// assert!(err.to_string().contains("epochs must be at least 1"));
    /// ```
    pub fn validate(&self) -> Result<()> {
        let at_least_one = |name: &str, v: usize| {
            if v == 0 {
                Err(Error::Config(format!("{name} must be at least 1, got 0")))
            } else {
                Ok(())
            }
        };
        at_least_one("max_trials", self.max_trials)?;
        at_least_one("epochs", self.epochs)?;
        at_least_one("batch_size", self.batch_size)?;
        at_least_one(
            "max_consecutive_failed_trials",
            self.max_consecutive_failed_trials,
        )?;
        if let Some(max) = self.max_model_size {
            at_least_one("max_model_size", max)?;
        }
        if let Some(t) = self.time_limit {
            if t.is_zero() || t > MAX_TIME_LIMIT {
                return Err(Error::Config(format!(
                    "time_limit must be more than 0 and at most 365 days, got {} s",
                    t.as_secs_f64()
                )));
            }
        }
        if let Some(w) = &self.class_weights {
            if let Some((i, v)) = w
                .iter()
                .enumerate()
                .find(|(_, v)| !v.is_finite() || **v < 0.0)
            {
                return Err(Error::Config(format!(
                    "class_weights[{i}] is {v}: class weights must be finite and not negative"
                )));
            }
        }
        Ok(())
    }
}

/// What a search reports as it runs.
#[derive(Debug, Clone)]
pub enum SearchEvent {
    /// A trial begins; `changed` lists the values that differ from the best trial so far;
    /// `parent` and `operation` say which trial's weights it starts from and what was done
    /// to them (Hyperband promotions, network-morphism children).
    TrialStart {
        trial_id: String,
        index: usize,
        max_trials: usize,
        changed: Vec<(String, Value)>,
        params: usize,
        parent: Option<String>,
        operation: Option<String>,
    },
    /// Training progress of the current trial (or of the final fit, with id `final`).
    Train { trial_id: String, event: TrainEvent },
    /// A trial ended; the leaderboard is sorted best first.
    TrialEnd {
        trial: Box<Trial>,
        leaderboard: Vec<Trial>,
    },
    /// A trial from an earlier, interrupted run was found and kept.
    Resumed { completed: usize },
    /// The final fit begins.
    FinalFitStart { epochs: usize, samples: usize },
    /// The final fit was skipped.
    FinalFitSkipped { reason: String },
}

/// The outcome of a search.
#[derive(Debug, Clone)]
pub struct SearchResult {
    /// Every trial, in order.
    pub trials: Vec<Trial>,
    /// Id of the best trial.
    pub best_trial: String,
    /// Whether the final model was retrained on all the data.
    pub final_fit: bool,
    /// Wall time of the search and final fit.
    pub wall_seconds: f64,
    /// Where the final model was saved.
    pub model_path: PathBuf,
}

/// Whether the network starts with a rescaling of its inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputScaling {
    /// `1/255` when the training inputs look like bytes (images), else none.
    Auto,
    /// The inputs go in as they are (token ids, encoded columns).
    None,
}

/// Progress callback.
pub type ProgressFn = Box<dyn FnMut(&SearchEvent) + Send>;

/// A graph of blocks ending in a head, searched over.
pub struct AutoModel {
    /// Blocks applied in order to the input.
    pub blocks: Vec<Box<dyn Block>>,
    /// Search settings.
    pub config: SearchConfig,
    /// Configurations the greedy tuner tries first.
    pub initial_hps: Vec<BTreeMap<String, Value>>,
    /// The tuner that [`TunerKind::Auto`] stands for: greedy, unless the task sets its own
    /// (`ImageClassifier` sets network morphism).
    pub default_tuner: TunerKind,
    /// The task's name, recorded in the study's fingerprint (`AutoModel` unless a task sets
    /// its own), so that a project is never resumed by another task.
    pub task: String,
    progress: Option<ProgressFn>,
}

impl std::fmt::Debug for AutoModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AutoModel")
            .field("blocks", &self.blocks)
            .field("config", &self.config)
            .finish()
    }
}

/// The data of a search, prepared.
struct Prepared {
    train: TrainData,
    val: TrainData,
    stats: DataStats,
    scale: f32,
    input_shape: Vec<usize>,
}

impl AutoModel {
    /// An AutoModel over `blocks`.
    pub fn new(blocks: Vec<Box<dyn Block>>, config: SearchConfig) -> Self {
        AutoModel {
            blocks,
            config,
            initial_hps: vec![],
            default_tuner: TunerKind::Greedy,
            task: "AutoModel".into(),
            progress: None,
        }
    }

    /// The tuner the search runs: [`SearchConfig::tuner`], with [`TunerKind::Auto`] replaced by
    /// [`AutoModel::default_tuner`] (and by greedy if that is `Auto` too).
    ///
    /// ```
    /// use autocandle::prelude::*;
    ///
    /// let clf = ImageClassifier::new(SearchConfig::default());
    /// assert_eq!(clf.auto_model.tuner(), TunerKind::Morphism);
    /// let clf = ImageClassifier::new(SearchConfig { tuner: TunerKind::Greedy, ..Default::default() });
    /// assert_eq!(clf.auto_model.tuner(), TunerKind::Greedy);
    /// ```
    pub fn tuner(&self) -> TunerKind {
        match (self.config.tuner, self.default_tuner) {
            (TunerKind::Auto, TunerKind::Auto) => TunerKind::Greedy,
            (TunerKind::Auto, own) => own,
            (chosen, _) => chosen,
        }
    }

    /// Sets the progress callback. Without one, a search shows its progress as
    /// [`crate::display::progress::auto`] picks (plain lines in a notebook, bars on a terminal).
    pub fn on_progress(&mut self, f: ProgressFn) {
        self.progress = Some(f);
    }

    fn emit(&mut self, e: SearchEvent) {
        if let Some(p) = self.progress.as_mut() {
            p(&e);
        }
    }

    /// The architecture for `hp` (declaring every hyperparameter it uses).
    pub fn build_architecture(
        blocks: &[Box<dyn Block>],
        head: &dyn Head,
        hp: &mut HyperParameters,
        stats: &DataStats,
        input_shape: &[usize],
        scale: f32,
    ) -> Result<Architecture> {
        let mut nodes: Vec<Node> = Vec::new();
        if (scale - 1.0).abs() > f32::EPSILON {
            nodes.push(Node::new(
                "rescaling",
                "input",
                Layer::Rescaling { scale, offset: 0.0 },
            ));
        }
        for b in blocks {
            let shape = shape_after(&nodes, input_shape)?;
            nodes.extend(b.build(hp, stats, &shape)?);
        }
        let shape = shape_after(&nodes, input_shape)?;
        nodes.extend(head.build(hp, stats, &shape)?);
        hp.choice_str("optimizer", &["adam", "adamw", "sgd"], "adam");
        hp.choice_f64("learning_rate", &[1e-1, 1e-2, 1e-3, 1e-4, 2e-5, 1e-5], 1e-3);
        Ok(Architecture {
            input_shape: input_shape.to_vec(),
            nodes,
            head: head.kind(),
        })
    }

    /// Searches on images: `train` is split for validation unless `validation` is given.
    /// Classification heads get a label encoder fitted on `train`.
    pub fn fit_images(
        &mut self,
        head: &dyn Head,
        train: &ImageDataset,
        validation: Option<&ImageDataset>,
        label_encoder: Option<LabelEncoder>,
    ) -> Result<(Model, SearchResult)> {
        let prep = Preprocessing {
            input_shape: train.x.image_shape().to_vec(),
            label_encoder,
            class_names: train.class_names.clone(),
            ..Default::default()
        };
        self.fit_encoded(head, train, validation, prep, InputScaling::Auto)
    }

    /// Searches on inputs a task has already encoded into arrays (token ids, encoded table
    /// columns, series windows), with the preprocessing state that turns raw inputs into such
    /// arrays. `prep.label_encoder` encodes the targets of classification heads.
    pub fn fit_encoded(
        &mut self,
        head: &dyn Head,
        train: &ImageDataset,
        validation: Option<&ImageDataset>,
        prep: Preprocessing,
        scaling: InputScaling,
    ) -> Result<(Model, SearchResult)> {
        let enc = prep.label_encoder.as_ref();
        let all = TrainData {
            x: train.x.clone(),
            y: encode_targets(&train.y, enc)?,
        };
        let val = match validation {
            Some(v) => Some(TrainData {
                x: v.x.clone(),
                y: encode_targets(&v.y, enc)?,
            }),
            None => None,
        };
        self.fit_train_data(head, all, val, prep, scaling)
    }

    /// Searches on encoded inputs and targets (several heads' targets as
    /// [`EncodedTargets::Multi`](crate::training::EncodedTargets::Multi)); `validation`
    /// defaults to a seeded split of `train`.
    pub fn fit_train_data(
        &mut self,
        head: &dyn Head,
        train: TrainData,
        validation: Option<TrainData>,
        mut prep: Preprocessing,
        scaling: InputScaling,
    ) -> Result<(Model, SearchResult)> {
        self.config.validate()?;
        let prepared = self.prepare(train, validation, scaling)?;
        prep.input_shape = prepared.input_shape.clone();
        self.search(head, &prepared, prep)
    }

    fn prepare(
        &self,
        all: TrainData,
        validation: Option<TrainData>,
        scaling: InputScaling,
    ) -> Result<Prepared> {
        let input_shape = all.x.image_shape().to_vec();
        if all.y.len() != all.len() {
            return Err(Error::BadShape(format!(
                "{} inputs but {} targets",
                all.len(),
                all.y.len()
            )));
        }
        let (tr, val) = match validation {
            Some(v) => {
                if v.x.image_shape() != all.x.image_shape() {
                    return Err(Error::BadShape(format!(
                        "validation inputs have shape {:?}, training inputs {:?}",
                        v.x.image_shape(),
                        all.x.image_shape()
                    )));
                }
                (all, v)
            }
            None => {
                let split = self.config.validation_split;
                if !(0.0..1.0).contains(&split) || split == 0.0 {
                    return Err(Error::Config(format!(
                        "validation_split must be in (0, 1), got {split}"
                    )));
                }
                let n = all.len();
                let n_val =
                    ((n as f64 * split).round() as usize).clamp(1, n.saturating_sub(1).max(1));
                if n < 2 {
                    return Err(Error::EmptyDataset(format!(
                        "{n} sample(s) cannot be split for validation"
                    )));
                }
                let mut idx: Vec<usize> = (0..n).collect();
                idx.shuffle(&mut ChaCha8Rng::seed_from_u64(self.config.seed ^ 0x5EED));
                let (v, t) = idx.split_at(n_val);
                (all.select(t), all.select(v))
            }
        };
        let scale = match scaling {
            InputScaling::Auto => input_scale(&tr.x),
            InputScaling::None => 1.0,
        };
        let stats = channel_stats(&tr.x, scale);
        Ok(Prepared {
            train: tr,
            val,
            stats,
            scale,
            input_shape,
        })
    }

    fn oracle(&self) -> Box<dyn Oracle> {
        match self.tuner() {
            TunerKind::Greedy | TunerKind::Auto => Box::new(GreedyOracle::new(
                self.config.seed,
                self.initial_hps.clone(),
            )),
            TunerKind::Random => Box::new(RandomOracle::new(self.config.seed)),
            TunerKind::Bayesian => Box::new(crate::tuners::BayesianOracle::new(
                self.config.seed,
                self.initial_hps.clone(),
            )),
            TunerKind::Hyperband => Box::new(HyperbandOracle::new(
                self.config.seed,
                self.initial_hps.clone(),
                self.config.epochs,
                self.config.max_trials,
            )),
            TunerKind::Morphism => {
                let mut o = MorphismOracle::new(self.config.seed, self.initial_hps.clone());
                o.max_params = self.config.max_model_size;
                Box::new(o)
            }
        }
    }

    /// The study's fingerprint for a search on `data` (see [`StudyFingerprint`]).
    fn fingerprint(
        &self,
        head: &dyn Head,
        data: &Prepared,
        prep: &Preprocessing,
        tuner: TunerKind,
    ) -> StudyFingerprint {
        let mut hp = HyperParameters::new();
        let space = match Self::build_architecture(
            &self.blocks,
            head,
            &mut hp,
            &data.stats,
            &data.input_shape,
            data.scale,
        ) {
            Ok(_) => hp.space().iter().map(|h| h.name.clone()).collect(),
            Err(_) => vec![],
        };
        StudyFingerprint::new(
            &self.task,
            &head.kind(),
            prep,
            space,
            tuner,
            self.config.seed,
            &data.train,
            &data.val,
        )
    }

    fn search(
        &mut self,
        head: &dyn Head,
        data: &Prepared,
        prep: Preprocessing,
    ) -> Result<(Model, SearchResult)> {
        let start = Instant::now();
        if self.progress.is_none() {
            // No callback given: plain lines in a notebook or a log, bars on a terminal.
            self.progress = Some(crate::display::progress::auto());
        }
        let cfg = self.config.clone();
        cfg.validate()?;
        let tuner = self.tuner();
        let deadline = cfg.time_limit.and_then(|d| start.checked_add(d));
        let study = self.fingerprint(head, data, &prep, tuner);
        let project = Project::open(&cfg.directory, &cfg.project_name, cfg.overwrite)?;
        let study = match project.load_oracle()? {
            Some(state) => {
                let recorded = state.study.clone().unwrap_or_else(|| StudyFingerprint {
                    // A project from before fingerprints: compare what it recorded.
                    tuner: state.tuner,
                    seed: state.seed,
                    ..study.clone()
                });
                let differences = recorded.differences(&study);
                if !differences.is_empty() {
                    return Err(Error::StudyMismatch {
                        dir: project.dir().to_path_buf(),
                        differences,
                    });
                }
                recorded
            }
            None => {
                // Recorded before the first trial, so that even a search killed in its first
                // trial is never resumed on other data.
                project.save_oracle(&OracleState {
                    tuner,
                    seed: cfg.seed,
                    trial_ids: vec![],
                    best_trial: None,
                    study: Some(study.clone()),
                })?;
                study
            }
        };
        let mut trials: Vec<Trial> = project
            .load_trials()?
            .into_iter()
            .filter(|t| t.status != TrialStatus::Running)
            .collect();
        if !trials.is_empty() {
            self.emit(SearchEvent::Resumed {
                completed: trials.len(),
            });
        }
        let blocks = std::mem::take(&mut self.blocks);
        let explore = |hp: &mut HyperParameters| -> Result<()> {
            Self::build_architecture(
                &blocks,
                head,
                hp,
                &data.stats,
                &data.input_shape,
                data.scale,
            )
            .map(|_| ())
        };
        let mut oracle = self.oracle();
        // End of the last trial's training: the overhead of the next trial counts from here.
        let mut last_end = Instant::now();
        let mut consecutive_failures = trials
            .iter()
            .rev()
            .take_while(|t| t.status == TrialStatus::Failed)
            .count();
        let result = (|| -> Result<()> {
            while trials.len() < cfg.max_trials {
                // With a time limit, the search keeps back the time the final fit of the best
                // trial so far will need, so that the budget ends with a retrained model.
                // (10 % more than its estimate, for the noise of a shared machine).
                let estimate = match Trial::best(&trials) {
                    Some(best) if cfg.final_fit => Some(final_fit_seconds(best, data)),
                    _ => None,
                };
                // Once the final fit no longer fits in what is left, it will be skipped anyway
                // (the model is then the best trial's): keeping time back for it would only
                // leave the rest of the budget unused, so the search goes on to its end.
                let final_fit_lost = match (estimate, deadline) {
                    (Some(e), Some(d)) => {
                        d.saturating_duration_since(Instant::now()).as_secs_f64() < e
                    }
                    _ => false,
                };
                let reserve = match estimate {
                    Some(e) if !final_fit_lost => 1.1 * e,
                    _ => 0.0,
                };
                let trial_deadline = deadline.map(|d| {
                    d.checked_sub(Duration::from_secs_f64(reserve))
                        .unwrap_or(start)
                });
                // A trial that runs into the time kept for the final fit (or, once that is lost,
                // into the end of the budget) is stopped mid-epoch; the first trial is not.
                let interrupt_at = trial_deadline.filter(|_| estimate.is_some());
                if trial_deadline.is_some_and(|d| Instant::now() >= d)
                    || consecutive_failures >= cfg.max_consecutive_failed_trials
                {
                    break;
                }
                let index = trials.len();
                let Some(proposal) = oracle.propose_trial(index, &trials, &explore)? else {
                    break;
                };
                let (trial, end) = self.run_trial(
                    &project,
                    &blocks,
                    head,
                    data,
                    proposal,
                    index,
                    &trials,
                    (trial_deadline, interrupt_at),
                    last_end,
                )?;
                last_end = end;
                match trial.status {
                    TrialStatus::Failed => consecutive_failures += 1,
                    _ => consecutive_failures = 0,
                }
                let stopped = trial.status == TrialStatus::Stopped;
                trials.push(trial.clone());
                let best = Trial::best(&trials).map(|t| t.trial_id.clone());
                let state = OracleState {
                    tuner,
                    seed: cfg.seed,
                    trial_ids: trials.iter().map(|t| t.trial_id.clone()).collect(),
                    best_trial: best,
                    study: Some(study.clone()),
                };
                project.save_oracle(&state)?;
                let mut board = trials.clone();
                board.sort_by(|a, b| {
                    let sa = a.score.unwrap_or(f64::INFINITY);
                    let sb = b.score.unwrap_or(f64::INFINITY);
                    sa.partial_cmp(&sb).unwrap_or(std::cmp::Ordering::Equal)
                });
                self.emit(SearchEvent::TrialEnd {
                    trial: Box::new(trial),
                    leaderboard: board,
                });
                if stopped {
                    break;
                }
            }
            Ok(())
        })();
        let outcome = result.and_then(|_| {
            let best = Trial::best(&trials).cloned().ok_or_else(|| {
                let reasons: Vec<String> = trials
                    .iter()
                    .filter_map(|t| {
                        t.reason
                            .as_ref()
                            .map(|r| format!("trial {}: {r}", t.trial_id))
                    })
                    .collect();
                Error::NoSuccessfulTrial(if reasons.is_empty() {
                    "the budget ended before any trial".into()
                } else {
                    reasons.join("; ")
                })
            })?;
            let (model, fitted) =
                self.final_model(&project, &blocks, head, data, prep, &best, deadline)?;
            let model =
                self.ensemble_model(&project, &blocks, head, data, model, fitted, &trials)?;
            Ok((model, fitted))
        });
        self.blocks = blocks;
        let (model, final_fit) = outcome?;
        let best = Trial::best(&trials)
            .map(|t| t.trial_id.clone())
            .unwrap_or_default();
        let model_path = project.model_dir();
        model.save(&model_path)?;
        Ok((
            model,
            SearchResult {
                trials,
                best_trial: best,
                final_fit,
                wall_seconds: start.elapsed().as_secs_f64(),
                model_path,
            },
        ))
    }

    /// Builds, trains and saves one trial; returns it with the instant its training ended.
    /// `previous_end` is when the previous trial's training ended (for the overhead).
    #[allow(clippy::too_many_arguments)]
    fn run_trial(
        &mut self,
        project: &Project,
        blocks: &[Box<dyn Block>],
        head: &dyn Head,
        data: &Prepared,
        proposal: Proposal,
        index: usize,
        trials: &[Trial],
        (deadline, interrupt_at): (Option<Instant>, Option<Instant>),
        previous_end: Instant,
    ) -> Result<(Trial, Instant)> {
        let t0 = Instant::now();
        let id = format!("{index:02}");
        let Proposal {
            hyperparameters: mut hp,
            epochs,
            start,
        } = proposal;
        // The network: built from the hyperparameters, or the parent's (edited) network.
        let parent_arch = match &start {
            Some(s) => {
                let parent = trials
                    .iter()
                    .find(|t| t.trial_id == s.parent)
                    .ok_or_else(|| {
                        Error::Config(format!(
                            "trial {id} starts from trial {}, which is not in the project",
                            s.parent
                        ))
                    })?;
                Some(match &parent.architecture {
                    Some(a) => a.clone(),
                    None => {
                        let mut php = parent.hyperparameters.clone();
                        Self::build_architecture(
                            blocks,
                            head,
                            &mut php,
                            &data.stats,
                            &data.input_shape,
                            data.scale,
                        )?
                    }
                })
            }
            None => None,
        };
        let arch = match (&parent_arch, start.as_ref().and_then(|s| s.morph.as_ref())) {
            (Some(pa), Some(op)) => morphism::apply_architecture(pa, op)?,
            (Some(pa), None) => pa.clone(),
            (None, _) => Self::build_architecture(
                blocks,
                head,
                &mut hp,
                &data.stats,
                &data.input_shape,
                data.scale,
            )?,
        };
        let initial_epoch = start.as_ref().map_or(0, |s| s.initial_epoch);
        let mut trial = Trial::new(id.clone(), hp.clone());
        let params = arch.param_count()?;
        trial.params = Some(params);
        trial.architecture = Some(arch.clone());
        trial.initial_epoch = initial_epoch;
        if let Some(s) = &start {
            trial.parent = Some(s.parent.clone());
            trial.operation = Some(s.operation.clone());
        }
        let best_values = Trial::best(trials)
            .map(|t| t.hyperparameters.active_values())
            .unwrap_or_default();
        let changed: Vec<(String, Value)> = hp
            .active_values()
            .into_iter()
            .filter(|(k, v)| best_values.get(k) != Some(v))
            .collect();
        self.emit(SearchEvent::TrialStart {
            trial_id: id.clone(),
            index,
            max_trials: self.config.max_trials,
            changed,
            params,
            parent: trial.parent.clone(),
            operation: trial.operation.clone(),
        });
        project.save_trial(&trial)?;
        if let Some(max) = self.config.max_model_size {
            if params > max {
                trial.status = TrialStatus::Failed;
                trial.reason = Some(Error::ModelTooLarge { params, max }.to_string());
                project.save_trial(&trial)?;
                return Ok((trial, Instant::now()));
            }
        }
        let seed = self
            .config
            .seed
            .wrapping_mul(1_000_003)
            .wrapping_add(index as u64);
        let mut fit_cfg = self.fit_config(
            &hp,
            seed,
            epochs.unwrap_or(self.config.epochs).max(1),
            Some(self.config.patience),
            deadline,
        )?;
        fit_cfg.interrupt_at = interrupt_at;
        let device = self.config.device.clone();
        let progress = &mut self.progress;
        let first_batch: Cell<Option<Instant>> = Cell::new(None);
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| -> Result<_> {
            let net = match (&parent_arch, &start) {
                (Some(pa), Some(s)) => {
                    let weights = ParamStore::load(pa, &project.trial_weights(&s.parent), &device)?;
                    match &s.morph {
                        Some(op) => {
                            let (arch, params) = morphism::apply(pa, &weights, op)?;
                            Network { arch, params }
                        }
                        None => Network {
                            arch: arch.clone(),
                            params: weights,
                        },
                    }
                }
                _ => Network::new(arch.clone(), &device, &mut ChaCha8Rng::seed_from_u64(seed))?,
            };
            let mut on_event = |e: &TrainEvent| {
                // Epochs count from the start of the trial's lineage.
                let e = match e {
                    TrainEvent::EpochStart {
                        epoch,
                        epochs,
                        batches,
                    } => {
                        if first_batch.get().is_none() {
                            first_batch.set(Some(Instant::now()));
                        }
                        TrainEvent::EpochStart {
                            epoch: epoch + initial_epoch,
                            epochs: epochs + initial_epoch,
                            batches: *batches,
                        }
                    }
                    TrainEvent::EpochEnd(r) => {
                        let mut r = r.clone();
                        r.epoch += initial_epoch;
                        TrainEvent::EpochEnd(r)
                    }
                    other => other.clone(),
                };
                if let Some(p) = progress.as_mut() {
                    p(&SearchEvent::Train {
                        trial_id: id.clone(),
                        event: e,
                    });
                }
            };
            let out = fit(&net, &data.train, Some(&data.val), &fit_cfg, &mut on_event)?;
            Ok((net, out))
        }));
        let end = Instant::now();
        trial.seconds = t0.elapsed().as_secs_f64();
        trial.overhead_seconds = first_batch
            .get()
            .map(|t| t.saturating_duration_since(previous_end).as_secs_f64());
        match outcome {
            Ok(Ok((net, mut out))) => {
                for r in &mut out.history {
                    r.epoch += initial_epoch;
                }
                let rec = &out.history[out.best_epoch - 1];
                trial.score = rec.val.map(|m| m.loss);
                trial.best_metrics = rec.val;
                trial.best_epoch = Some(out.best_epoch + initial_epoch);
                trial.history = out.history;
                trial.stop_reason = Some(out.stop);
                trial.status = TrialStatus::Completed;
                let w = project.trial_weights(&trial.trial_id);
                net.params.save(&w)?;
            }
            // The time limit, not the trial, ended it: no score, and the search ends.
            Ok(Err(Error::OutOfTime(why))) => {
                trial.status = TrialStatus::Stopped;
                trial.reason = Some(why);
            }
            Ok(Err(e)) => {
                trial.status = TrialStatus::Failed;
                trial.reason = Some(e.to_string());
            }
            Err(panic) => {
                let msg = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "unknown panic".into());
                trial.status = TrialStatus::Failed;
                trial.reason = Some(format!("training panicked: {msg}"));
            }
        }
        project.save_trial(&trial)?;
        Ok((trial, end))
    }

    fn fit_config(
        &self,
        hp: &HyperParameters,
        seed: u64,
        epochs: usize,
        patience: Option<usize>,
        deadline: Option<Instant>,
    ) -> Result<FitConfig> {
        let optimizer: OptimizerKind = hp
            .get("optimizer")
            .and_then(Value::as_str)
            .unwrap_or("adam")
            .parse()?;
        let learning_rate = hp
            .get("learning_rate")
            .and_then(Value::as_f64)
            .unwrap_or(1e-3);
        Ok(FitConfig {
            epochs,
            batch_size: self.config.batch_size,
            optimizer,
            learning_rate,
            patience,
            seed,
            deadline,
            interrupt_at: None,
            class_weights: self.config.class_weights.clone(),
        })
    }

    /// `model` averaged with the networks of the `ensemble_trials` best completed trials
    /// (loaded from their checkpoints); `model` itself when that is 0 or no other trial
    /// completed. Without a final fit, `model` is the best trial's network, which is then not
    /// taken twice.
    #[allow(clippy::too_many_arguments)]
    fn ensemble_model(
        &self,
        project: &Project,
        blocks: &[Box<dyn Block>],
        head: &dyn Head,
        data: &Prepared,
        model: Model,
        fitted: bool,
        trials: &[Trial],
    ) -> Result<Model> {
        let k = self.config.ensemble_trials;
        if k == 0
            || matches!(
                model.network().arch.head,
                crate::graph::HeadKind::Multi { .. }
            )
        {
            return Ok(model);
        }
        let mut ranked: Vec<&Trial> = trials
            .iter()
            .filter(|t| t.status == TrialStatus::Completed && t.score.is_some_and(f64::is_finite))
            .collect();
        ranked.sort_by(|a, b| {
            a.score
                .partial_cmp(&b.score)
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        let skip = usize::from(!fitted);
        let mut members = Vec::new();
        for t in ranked.into_iter().skip(skip).take(k) {
            let arch = match &t.architecture {
                Some(a) => a.clone(),
                None => Self::build_architecture(
                    blocks,
                    head,
                    &mut t.hyperparameters.clone(),
                    &data.stats,
                    &data.input_shape,
                    data.scale,
                )?,
            };
            let params = crate::graph::ParamStore::load(
                &arch,
                &project.trial_weights(&t.trial_id),
                &self.config.device,
            )?;
            members.push(Network { arch, params });
        }
        if members.is_empty() {
            return Ok(model);
        }
        let mut all = vec![model.network()];
        all.extend(members.iter());
        let network = crate::graph::ensemble(&all)?;
        Ok(Model::new(network, model.preprocessing().clone()))
    }

    #[allow(clippy::too_many_arguments)]
    fn final_model(
        &mut self,
        project: &Project,
        blocks: &[Box<dyn Block>],
        head: &dyn Head,
        data: &Prepared,
        prep: Preprocessing,
        best: &Trial,
        deadline: Option<Instant>,
    ) -> Result<(Model, bool)> {
        let mut hp = best.hyperparameters.clone();
        // The trial's own network (network-morphism children differ from what their
        // hyperparameters build).
        let arch = match &best.architecture {
            Some(a) => a.clone(),
            None => Self::build_architecture(
                blocks,
                head,
                &mut hp,
                &data.stats,
                &data.input_shape,
                data.scale,
            )?,
        };
        let epochs = best.best_epoch.unwrap_or(1).max(1);
        let samples = data.train.len() + data.val.len();
        let estimate = final_fit_seconds(best, data);
        let skip = if !self.config.final_fit {
            Some("final_fit is off".to_string())
        } else if let Some(d) = deadline {
            let left = d.saturating_duration_since(Instant::now()).as_secs_f64();
            (left < estimate).then(|| {
                format!("about {estimate:.0} s needed, {left:.0} s left in the time limit")
            })
        } else {
            None
        };
        if let Some(reason) = skip {
            self.emit(SearchEvent::FinalFitSkipped { reason });
            let params = crate::graph::ParamStore::load(
                &arch,
                &project.trial_weights(&best.trial_id),
                &self.config.device,
            )?;
            return Ok((Model::new(Network { arch, params }, prep), false));
        }
        self.emit(SearchEvent::FinalFitStart { epochs, samples });
        let all = TrainData {
            x: data.train.x.concat(&data.val.x)?,
            y: data.train.y.concat(&data.val.y),
        };
        let seed = self
            .config
            .seed
            .wrapping_mul(1_000_003)
            .wrapping_add(999_983);
        let cfg = self.fit_config(&hp, seed, epochs, None, None)?;
        let net = Network::new(
            arch,
            &self.config.device,
            &mut ChaCha8Rng::seed_from_u64(seed),
        )?;
        let progress = &mut self.progress;
        let mut on_event = |e: &TrainEvent| {
            if let Some(p) = progress.as_mut() {
                p(&SearchEvent::Train {
                    trial_id: "final".into(),
                    event: e.clone(),
                });
            }
        };
        let out = fit(&net, &all, None, &cfg, &mut on_event)?;
        debug_assert!(out.stop == StopReason::Completed);
        Ok((Model::new(net, prep), true))
    }
}

/// The wall time the final fit of `best` should take: its best epoch count at its measured
/// seconds per epoch, scaled to train + validation samples.
fn final_fit_seconds(best: &Trial, data: &Prepared) -> f64 {
    let epochs = best.best_epoch.unwrap_or(1).max(1);
    let samples = data.train.len() + data.val.len();
    let per_epoch =
        best.history.iter().map(|r| r.seconds).sum::<f64>() / best.history.len().max(1) as f64;
    per_epoch * epochs as f64 * samples as f64 / data.train.len().max(1) as f64
}
