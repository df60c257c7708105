//! Tuners: an oracle proposes hyperparameters, a trial trains them (KerasTuner's split).
//!
//! Oracles here are functions of the trials so far (and the seed), so a resumed search makes the
//! same proposals as an uninterrupted one.

mod bayesian;
mod greedy;
mod oracle;
mod random;
mod trial;

pub use bayesian::{Acquisition, BayesianOracle, DEFAULT_BETA};
pub use greedy::GreedyOracle;
pub use oracle::{complete_values, Oracle, TunerKind};
pub use random::RandomOracle;
pub use trial::{Trial, TrialStatus};
