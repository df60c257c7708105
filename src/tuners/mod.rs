//! Tuners: an oracle proposes hyperparameters, a trial trains them (KerasTuner's split).
//!
//! Oracles here are functions of the trials so far (and the seed), so a resumed search makes the
//! same proposals as an uninterrupted one.

pub mod arch_distance;
mod bayesian;
mod greedy;
mod hyperband;
pub mod morphism;
mod morphism_oracle;
mod oracle;
mod random;
mod trial;

pub use bayesian::{Acquisition, BayesianOracle, DEFAULT_BETA};
pub use greedy::GreedyOracle;
pub use hyperband::{
    bracket_epochs, bracket_size, num_brackets, HyperbandOracle, Slot, DEFAULT_FACTOR,
};
pub use morphism::MorphOp;
pub use morphism_oracle::{MorphismOracle, MORPHISM_BETA};
pub use oracle::{complete_values, Oracle, Proposal, Start, TunerKind};
pub use random::RandomOracle;
pub use trial::{Trial, TrialStatus};
