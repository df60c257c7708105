//! The training loop.

use super::batches::input_batch;
use super::metrics::{compute, compute_per_head, loss, weighted_loss};
use super::{
    EncodedTargets, EpochRecord, Metrics, Optimizer, OptimizerKind, TrainData, TrainEvent,
};
use crate::data::ImageData;
use crate::error::{Error, Result};
use crate::graph::{Network, Phase};
use candle_core::Tensor;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;
use std::time::Instant;

/// How to train one network.
#[derive(Debug, Clone)]
pub struct FitConfig {
    /// Most epochs to run.
    pub epochs: usize,
    /// Samples per batch.
    pub batch_size: usize,
    /// Optimiser.
    pub optimizer: OptimizerKind,
    /// Initial learning rate.
    pub learning_rate: f64,
    /// Stop when the validation loss has not improved for this many epochs (restoring the best
    /// weights); `None` trains every epoch.
    pub patience: Option<usize>,
    /// Seed of the shuffles, dropout masks and augmentations.
    pub seed: u64,
    /// Stop at the first epoch boundary after this instant.
    pub deadline: Option<Instant>,
    /// Abandon the epoch in progress at this instant (checked between batches): training ends
    /// with the best completed epoch, or fails with [`Error::OutOfTime`] when none completed.
    pub interrupt_at: Option<Instant>,
    /// Classification: the weight of each class (index = encoded class) in the training loss,
    /// for imbalanced data; `None` weighs every sample alike. Validation metrics stay unweighted.
    pub class_weights: Option<Vec<f32>>,
}

/// Why training stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// All epochs ran.
    Completed,
    /// Early stopping.
    EarlyStopped,
    /// The time limit ran out.
    TimeLimit,
}

/// What a training run gives back.
#[derive(Debug, Clone)]
pub struct FitOutcome {
    /// Per-epoch metrics.
    pub history: Vec<EpochRecord>,
    /// The epoch (1-based) whose weights the network holds at the end.
    pub best_epoch: usize,
    /// Why it stopped.
    pub stop: StopReason,
}

/// Trains `net` on `train`, validating on `val` after each epoch. With a validation set the
/// network ends with the weights of its best epoch (lowest validation loss).
pub fn fit(
    net: &Network,
    train: &TrainData,
    val: Option<&TrainData>,
    cfg: &FitConfig,
    on_event: &mut dyn FnMut(&TrainEvent),
) -> Result<FitOutcome> {
    if train.is_empty() {
        return Err(Error::EmptyDataset("no training samples".into()));
    }
    let device = net.params.device().clone();
    let n = train.len();
    let bs = cfg.batch_size.clamp(1, n);
    let batches = n.div_ceil(bs);
    let mut opt = Optimizer::new(
        cfg.optimizer,
        net.params.vars(),
        cfg.learning_rate,
        cfg.epochs * batches,
    )?;
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let mut order: Vec<usize> = (0..n).collect();
    let mut history = Vec::new();
    let mut best: Option<(f64, usize, BTreeMap<String, Tensor>)> = None;
    let mut stop = StopReason::Completed;
    let units = net.arch.head.output_units();
    for epoch in 1..=cfg.epochs {
        let t0 = Instant::now();
        let lr = opt.learning_rate();
        on_event(&TrainEvent::EpochStart {
            epoch,
            epochs: cfg.epochs,
            batches,
        });
        order.shuffle(&mut rng);
        let (mut loss_sum, mut seen) = (0f64, 0usize);
        let mut outputs = Vec::with_capacity(n * units);
        let mut targets_order = Vec::with_capacity(n);
        let mut interrupted = false;
        for (b, idx) in order.chunks(bs).enumerate() {
            if cfg.interrupt_at.is_some_and(|d| Instant::now() >= d) {
                interrupted = true;
                break;
            }
            let x = input_batch(&train.x, idx, &device)?;
            let y = train.y.batch(idx, &device)?;
            let out = net.forward(&x, &mut Phase::Train(&mut rng))?;
            let l = match (&cfg.class_weights, &train.y) {
                (Some(cw), EncodedTargets::Classes(labels)) => {
                    let w: Vec<f32> = idx
                        .iter()
                        .map(|&i| cw.get(labels[i] as usize).copied().unwrap_or(1.0))
                        .collect();
                    let w = Tensor::from_vec(w, idx.len(), &device)?;
                    weighted_loss(&net.arch.head, &out, &y, &w)?
                }
                _ => loss(&net.arch.head, &out, &y)?,
            };
            let lv = l.to_scalar::<f32>()?;
            if !lv.is_finite() {
                return Err(Error::Diverged(format!(
                    "{lv} at epoch {epoch}, batch {}",
                    b + 1
                )));
            }
            opt.backward_step(&l)?;
            loss_sum += lv as f64 * idx.len() as f64;
            seen += idx.len();
            outputs.extend(out.flatten_all()?.to_vec1::<f32>()?);
            targets_order.extend_from_slice(idx);
            on_event(&TrainEvent::Batch {
                batch: b + 1,
                batches,
                loss: lv,
            });
        }
        if interrupted {
            if history.is_empty() {
                return Err(Error::OutOfTime(format!(
                    "interrupted in epoch {epoch}, before any epoch completed"
                )));
            }
            stop = StopReason::TimeLimit;
            break;
        }
        let mut train_metrics = compute(
            &net.arch.head,
            &outputs,
            units,
            &train.y.select(&targets_order),
        );
        train_metrics.loss = loss_sum / seen.max(1) as f64;
        let val_metrics = match val {
            Some(v) => Some(evaluate(net, &v.x, &v.y)?),
            None => None,
        };
        let record = EpochRecord {
            epoch,
            train: train_metrics,
            val: val_metrics,
            seconds: t0.elapsed().as_secs_f64(),
            learning_rate: lr,
        };
        on_event(&TrainEvent::EpochEnd(record.clone()));
        history.push(record);
        if let Some(vm) = val_metrics {
            if !vm.loss.is_finite() {
                return Err(Error::Diverged(format!(
                    "validation loss {} at epoch {epoch}",
                    vm.loss
                )));
            }
            if best.as_ref().is_none_or(|(l, _, _)| vm.loss < *l) {
                best = Some((vm.loss, epoch, net.params.tensors()?));
            }
            if let (Some(p), Some((_, be, _))) = (cfg.patience, best.as_ref()) {
                if epoch - be >= p {
                    stop = StopReason::EarlyStopped;
                    break;
                }
            }
        }
        if cfg.deadline.is_some_and(|d| Instant::now() >= d) && epoch < cfg.epochs {
            stop = StopReason::TimeLimit;
            break;
        }
    }
    let best_epoch = match best {
        Some((_, epoch, tensors)) => {
            if epoch != history.len() {
                restore(net, &tensors)?;
            }
            epoch
        }
        None => history.len(),
    };
    Ok(FitOutcome {
        history,
        best_epoch,
        stop,
    })
}

fn restore(net: &Network, tensors: &BTreeMap<String, Tensor>) -> Result<()> {
    for (name, t) in tensors {
        net.params.set(name, t)?;
    }
    Ok(())
}

/// The network's raw outputs on `x` (inference mode), flattened, in batches of 256.
pub fn predict_outputs(net: &Network, x: &ImageData) -> Result<Vec<f32>> {
    let device = net.params.device().clone();
    let n = x.len();
    let mut out = Vec::with_capacity(n * net.arch.head.output_units());
    let idx: Vec<usize> = (0..n).collect();
    for chunk in idx.chunks(256) {
        let xb = input_batch(x, chunk, &device)?;
        let y = net.forward(&xb, &mut Phase::Eval)?;
        out.extend(y.flatten_all()?.to_vec1::<f32>()?);
    }
    Ok(out)
}

/// Loss and metrics of `net` on `(x, y)`.
pub fn evaluate(net: &Network, x: &ImageData, y: &EncodedTargets) -> Result<Metrics> {
    let out = predict_outputs(net, x)?;
    Ok(compute(
        &net.arch.head,
        &out,
        net.arch.head.output_units(),
        y,
    ))
}

/// Metrics of each head of `net` on `(x, y)` (one entry for a single-head network).
pub fn evaluate_heads(net: &Network, x: &ImageData, y: &EncodedTargets) -> Result<Vec<Metrics>> {
    let out = predict_outputs(net, x)?;
    Ok(compute_per_head(&net.arch.head, &out, y))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::ImageData;
    use crate::graph::{Activation, Architecture, HeadKind, Layer, Node};
    use candle_core::Device;
    use std::time::Duration;

    fn setup() -> (Network, TrainData) {
        let arch = Architecture {
            input_shape: vec![2, 2, 1],
            nodes: vec![
                Node::new("flatten", "t", Layer::Flatten),
                Node::new(
                    "dense",
                    "t",
                    Layer::Dense {
                        units: 2,
                        activation: Activation::Linear,
                    },
                ),
            ],
            head: HeadKind::Classification {
                num_classes: 2,
                sigmoid: false,
                multi_label: false,
            },
        };
        let net = Network::new(arch, &Device::Cpu, &mut ChaCha8Rng::seed_from_u64(0)).unwrap();
        // Class = whether the first pixel is bright.
        let n = 64;
        let pixels: Vec<f32> = (0..n * 4)
            .map(|i| ((i / 4) % 2 * (i % 4 == 0) as usize) as f32)
            .collect();
        let labels: Vec<u32> = (0..n).map(|i| (i % 2) as u32).collect();
        let data = TrainData {
            x: ImageData::from_f32(pixels, &[n, 2, 2, 1]).unwrap(),
            y: EncodedTargets::Classes(labels),
        };
        (net, data)
    }

    fn config(interrupt_at: Option<Instant>) -> FitConfig {
        FitConfig {
            epochs: 3,
            batch_size: 8,
            optimizer: OptimizerKind::Adam,
            learning_rate: 1e-2,
            patience: None,
            seed: 1,
            deadline: None,
            interrupt_at,
            class_weights: None,
        }
    }

    #[test]
    fn class_weights_scale_each_samples_loss() {
        use super::super::metrics::{loss, weighted_loss};
        let dev = Device::Cpu;
        let y = Tensor::new(&[1u32, 0, 1], &dev).unwrap();
        let scalar = |t: Tensor| t.to_scalar::<f32>().unwrap();
        for (sigmoid, out) in [
            (
                false,
                Tensor::new(&[[0.3f32, -1.2], [2.0, 0.5], [-0.7, 0.1]], &dev),
            ),
            (true, Tensor::new(&[[0.3f32], [2.0], [-0.7]], &dev)),
        ] {
            let out = out.unwrap();
            let head = HeadKind::Classification {
                num_classes: 2,
                sigmoid,
                multi_label: false,
            };
            let plain = scalar(loss(&head, &out, &y).unwrap());
            let w = |v: [f32; 3]| Tensor::new(&v, &dev).unwrap();
            let ones = scalar(weighted_loss(&head, &out, &y, &w([1.0, 1.0, 1.0])).unwrap());
            assert!((plain - ones).abs() < 1e-6, "{plain} vs {ones}");
            // Each sample's loss on its own, then a weight of 3 on the first one.
            let each: Vec<f32> = (0..3)
                .map(|i| {
                    let mut v = [0.0; 3];
                    v[i] = 3.0;
                    scalar(weighted_loss(&head, &out, &y, &w(v)).unwrap())
                })
                .collect();
            let sum: f32 = each.iter().sum::<f32>() / 3.0;
            assert!((sum - plain).abs() < 1e-5, "{each:?} vs {plain}");
            let first = scalar(weighted_loss(&head, &out, &y, &w([3.0, 1.0, 1.0])).unwrap());
            assert!((first - (plain + 2.0 * each[0] / 3.0)).abs() < 1e-5);
        }
    }

    #[test]
    fn an_interrupt_before_the_first_epoch_ends_is_out_of_time() {
        let (net, data) = setup();
        let past = Instant::now();
        let r = fit(&net, &data, Some(&data), &config(Some(past)), &mut |_| {});
        assert!(matches!(r, Err(Error::OutOfTime(_))), "{r:?}");
    }

    #[test]
    fn an_interrupt_that_does_not_come_changes_nothing() {
        let (net, data) = setup();
        let full = fit(&net, &data, Some(&data), &config(None), &mut |_| {}).unwrap();
        assert_eq!(full.history.len(), 3);
        assert_eq!(full.stop, StopReason::Completed);
        let (net, data) = setup();
        let later = Instant::now() + Duration::from_secs(3600);
        let out = fit(&net, &data, Some(&data), &config(Some(later)), &mut |_| {}).unwrap();
        let losses = |o: &FitOutcome| o.history.iter().map(|r| r.train.loss).collect::<Vec<_>>();
        assert_eq!(losses(&out), losses(&full));
        assert_eq!(out.stop, StopReason::Completed);
    }
}
