//! Progress events that training emits; the terminal, the notebook and the CLI render them.

use super::EpochRecord;

/// Something that happened during training.
#[derive(Debug, Clone)]
pub enum TrainEvent {
    /// An epoch begins.
    EpochStart {
        epoch: usize,
        epochs: usize,
        batches: usize,
    },
    /// A batch finished, with its loss.
    Batch {
        batch: usize,
        batches: usize,
        loss: f32,
    },
    /// An epoch finished, with its metrics.
    EpochEnd(EpochRecord),
}
