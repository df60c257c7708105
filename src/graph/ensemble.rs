//! Ensembles: several trained networks with the same input and head combined into one network
//! that averages their outputs (logits for a classification head, values for regression).
//!
//! The members become the branches of one [`Layer::Inputs`] node that all read the whole
//! sample and are merged by addition; each member's output layer is scaled by `1/k`, so the
//! sum is the mean. The result is an ordinary [`Network`]: it saves, loads, predicts and
//! evaluates like any other.

use super::{Activation, Architecture, Branch, HeadKind, Layer, Merge, Network, Node, ParamStore};
use crate::error::{Error, Result};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The name of the ensemble's node; members' layers are renamed `member_<i>/<name>`.
pub const ENSEMBLE_NODE: &str = "ensemble";

/// One network averaging the outputs of `members` (at least one; all with the same input
/// shape and a single head of the same kind). Weights are copied, so the members stay usable.
///
/// ```
/// use autocandle::graph::{ensemble, Activation, Architecture, HeadKind, Layer, Network, Node, Phase};
/// use candle_core::{Device, Tensor};
/// let dense = |units| Layer::Dense { units, activation: Activation::Relu };
/// let arch = Architecture {
///     input_shape: vec![3],
///     nodes: vec![
///         Node::new("dense_1", "dense_block_1", dense(8)),
///         Node::new("dense_2", "regression_head_1", Layer::Dense { units: 2, activation: Activation::Linear }),
///     ],
///     head: HeadKind::Regression { dim: 2 },
/// };
/// let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(1);
/// let a = Network::new(arch.clone(), &Device::Cpu, &mut rng)?;
/// let b = Network::new(arch, &Device::Cpu, &mut rng)?;
/// let x = Tensor::new(&[[1f32, 2.0, 3.0]], &Device::Cpu)?;
/// let out = |n: &Network| n.forward(&x, &mut Phase::Eval);
/// let mean = ((out(&a)? + out(&b)?)? / 2.0)?;
/// let both = ensemble(&[&a, &b])?;
/// let diff = (out(&both)? - mean)?.abs()?.max_all()?.to_scalar::<f32>()?;
/// assert!(diff < 1e-5);
/// # Ok::<(), autocandle::Error>(())
/// ```
pub fn ensemble(members: &[&Network]) -> Result<Network> {
    let first = members
        .first()
        .ok_or_else(|| Error::Config("an ensemble needs at least one network".into()))?;
    let input_shape = first.arch.input_shape.clone();
    let head = first.arch.head.clone();
    if matches!(head, HeadKind::Multi { .. }) {
        return Err(Error::Config(
            "ensembles of multi-head networks are not supported".into(),
        ));
    }
    let k = members.len();
    let mut branches = Vec::with_capacity(k);
    let mut renamed = Vec::with_capacity(k);
    for (i, m) in members.iter().enumerate() {
        if m.arch.input_shape != input_shape || m.arch.head != head {
            return Err(Error::Config(format!(
                "ensemble member {i} takes {:?} with head {:?}, member 0 {input_shape:?} with {head:?}: members must share input and head",
                m.arch.input_shape, m.arch.head
            )));
        }
        let prefix = format!("member_{i}/");
        let output = m
            .arch
            .nodes
            .iter()
            .rev()
            .find(|n| matches!(n.layer, Layer::Dense { .. }))
            .filter(|n| {
                matches!(
                    n.layer,
                    Layer::Dense {
                        activation: Activation::Linear,
                        ..
                    }
                )
            })
            .map(|n| format!("{prefix}{}", n.name))
            .ok_or_else(|| {
                Error::Config(format!(
                    "ensemble member {i} does not end in a linear dense layer whose outputs can be averaged"
                ))
            })?;
        let mut nodes = m.arch.nodes.clone();
        rename(&mut nodes, &prefix);
        branches.push(Branch {
            offset: 0,
            shape: input_shape.clone(),
            nodes,
        });
        renamed.push((prefix, output));
    }
    let arch = Architecture {
        input_shape,
        nodes: vec![Node::new(
            ENSEMBLE_NODE,
            ENSEMBLE_NODE,
            Layer::Inputs {
                branches,
                merge: Merge::Add,
            },
        )],
        head,
    };
    let device = first.params.device().clone();
    let params = ParamStore::init(&arch, &device, &mut ChaCha8Rng::seed_from_u64(0))?;
    let scale = 1.0 / k as f64;
    for (m, (prefix, output)) in members.iter().zip(&renamed) {
        for (name, t) in m.params.tensors()? {
            let new = format!("{prefix}{name}");
            let is_output = new
                .strip_prefix(output.as_str())
                .is_some_and(|rest| rest.starts_with('.'));
            let t = if is_output { (t * scale)? } else { t };
            params.set(&new, &t)?;
        }
    }
    Ok(Network { arch, params })
}

/// Prefixes every node name, nested ones included.
fn rename(nodes: &mut [Node], prefix: &str) {
    for n in nodes {
        n.name = format!("{prefix}{}", n.name);
        match &mut n.layer {
            Layer::Residual { main, shortcut } => {
                rename(main, prefix);
                rename(shortcut, prefix);
            }
            Layer::Inputs { branches, .. } => {
                for b in branches {
                    rename(&mut b.nodes, prefix);
                }
            }
            Layer::Heads { heads } => {
                for h in heads {
                    rename(h, prefix);
                }
            }
            _ => {}
        }
    }
}
