//! Network morphism: edits of a trained network that keep the function it computes (AutoKeras
//! 0.x after Net2Net), so that a child starts where its parent ended.
//!
//! - **deeper**: a layer initialised to the identity is inserted where the activations are
//!   non-negative (after a ReLU), so its own ReLU changes nothing: a 3×3 convolution with
//!   `same` padding on images, a dense layer on features.
//! - **wider**: a dense or convolution layer gets more units, each a copy of a randomly chosen
//!   one (incoming weights, bias, and the batch-norm statistics in between copied); the next
//!   layer's incoming weights of a unit and its copies are split between them in shares that
//!   sum to one (the share is `1 / copies` plus a little zero-sum noise, which breaks the
//!   symmetry of the copies without changing the outputs).
//! - **skip**: a span of layers ending in a ReLU is wrapped in a residual whose added branch (a
//!   1×1 or valid convolution, or a dense layer) starts at zero: `relu(span(x) + 0)` is
//!   `span(x)`.
//!
//! Only top-level layers before the output layer are edited. Outputs are preserved in inference
//! mode (dropout, augmentation and batch statistics are training-time effects).

use crate::error::{Error, Result};
use crate::graph::{Activation, Architecture, Layer, Node, Padding, ParamStore};
use candle_core::{Tensor, D};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The block name of the layers morphism adds.
pub const MORPH_BLOCK: &str = "morphism";

/// Widest dense layer a wider edit makes.
const MAX_UNITS: usize = 1024;
/// Most filters a wider edit gives a convolution.
const MAX_FILTERS: usize = 512;
/// Largest kernel of a skip connection's shortcut convolution.
const MAX_SHORTCUT_KERNEL: usize = 5;
/// Longest span (in top-level layers) a skip connection goes around.
const MAX_SKIP_SPAN: usize = 4;
/// Relative size of the noise on the shares of a copied unit.
const SHARE_NOISE: f64 = 0.1;

/// One function-preserving edit, by the names of the layers it touches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum MorphOp {
    /// Insert an identity-initialised layer `name` after top-level layer `after`.
    Deeper {
        /// The layer after which the new one goes.
        after: String,
        /// The new layer's name.
        name: String,
    },
    /// Add `add` units to dense or convolution layer `layer`, copying randomly chosen ones
    /// (drawn from `seed`).
    Wider {
        /// The widened layer.
        layer: String,
        /// Units (filters) added.
        add: usize,
        /// Seed of the copied units and of the noise on their shares.
        seed: u64,
    },
    /// Wrap top-level layers `from ..= to` in a residual `name` whose shortcut starts at zero.
    Skip {
        /// First layer of the span.
        from: String,
        /// Last layer of the span.
        to: String,
        /// The residual's name (its shortcut layers are named under it).
        name: String,
    },
}

impl std::fmt::Display for MorphOp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MorphOp::Deeper { after, .. } => write!(f, "to_deeper_model(after {after})"),
            MorphOp::Wider { layer, add, .. } => write!(f, "to_wider_model({layer}, +{add})"),
            MorphOp::Skip { from, to, .. } => write!(f, "to_add_skip_model({from} .. {to})"),
        }
    }
}

fn err(msg: String) -> Error {
    Error::Config(format!("network morphism: {msg}"))
}

/// The input shape of every top-level node, then the network's output shape.
fn top_shapes(arch: &Architecture) -> Result<Vec<Vec<usize>>> {
    let summary = arch.summary()?;
    let mut shapes = vec![arch.input_shape.clone()];
    shapes.extend(
        summary
            .rows
            .iter()
            .filter(|r| r.depth == 0)
            .map(|r| r.output_shape.clone()),
    );
    if shapes.len() != arch.nodes.len() + 1 {
        return Err(err("the summary does not match the layers".into()));
    }
    Ok(shapes)
}

fn position(nodes: &[Node], name: &str) -> Result<usize> {
    nodes
        .iter()
        .position(|n| n.name == name)
        .ok_or_else(|| err(format!("no top-level layer {name}")))
}

/// Index of the output layer: the last top-level dense or convolution layer.
fn output_layer(nodes: &[Node]) -> Option<usize> {
    nodes
        .iter()
        .rposition(|n| matches!(n.layer, Layer::Dense { .. } | Layer::Conv2d { .. }))
}

/// Whether the layer's output is never negative whatever its input.
fn ends_in_relu(layer: &Layer) -> bool {
    match layer {
        Layer::Conv2d { activation, .. }
        | Layer::Dense { activation, .. }
        | Layer::Activation { activation } => *activation == Activation::Relu,
        Layer::Residual { .. } => true,
        _ => false,
    }
}

/// Layers that keep the sign of their input (in inference).
fn keeps_sign(layer: &Layer) -> bool {
    matches!(
        layer,
        Layer::Dropout { .. }
            | Layer::MaxPool { .. }
            | Layer::AvgPool { .. }
            | Layer::GlobalAvgPool
            | Layer::GlobalMaxPool
            | Layer::Flatten
    )
}

/// Whether the output of `nodes` (run in order) is never negative.
fn non_negative(nodes: &[Node]) -> bool {
    for n in nodes.iter().rev() {
        if ends_in_relu(&n.layer) {
            return true;
        }
        if !keeps_sign(&n.layer) {
            return false;
        }
    }
    false
}

/// Per-channel layers a wider edit may cross between the widened layer and the next one.
fn channelwise(layer: &Layer) -> bool {
    keeps_sign(layer) || matches!(layer, Layer::BatchNorm | Layer::Activation { .. })
}

fn width(layer: &Layer) -> Option<(usize, usize)> {
    match layer {
        Layer::Dense { units, .. } => Some((*units, MAX_UNITS)),
        Layer::Conv2d {
            filters,
            separable: false,
            ..
        } => Some((*filters, MAX_FILTERS)),
        _ => None,
    }
}

/// The layer that consumes the output of widened layer `i`: the next dense or convolution,
/// across per-channel layers only.
fn consumer(nodes: &[Node], i: usize) -> Option<usize> {
    for (j, n) in nodes.iter().enumerate().skip(i + 1) {
        match n.layer {
            Layer::Dense { .. } | Layer::Conv2d { .. } => return Some(j),
            ref l if channelwise(l) => continue,
            _ => return None,
        }
    }
    None
}

/// The identity-initialised layer for activations of shape `shape`.
fn identity_layer(shape: &[usize]) -> Option<Layer> {
    match shape {
        [_, _, _] => Some(Layer::Conv2d {
            filters: shape[2],
            kernel: 3,
            stride: 1,
            padding: Padding::Same,
            activation: Activation::Relu,
            separable: false,
        }),
        [f] if *f <= MAX_UNITS => Some(Layer::Dense {
            units: *f,
            activation: Activation::Relu,
        }),
        _ => None,
    }
}

/// The shortcut layers (named under `name`) from `input` to `output` shapes, to be
/// zero-initialised.
fn shortcut(name: &str, input: &[usize], output: &[usize]) -> Option<Vec<Node>> {
    let node = |suffix: &str, layer| Node::new(format!("{name}/{suffix}"), MORPH_BLOCK, layer);
    let conv = |filters, kernel| Layer::Conv2d {
        filters,
        kernel,
        stride: 1,
        padding: Padding::Valid,
        activation: Activation::Linear,
        separable: false,
    };
    let dense = |units| Layer::Dense {
        units,
        activation: Activation::Linear,
    };
    match (input, output) {
        ([h, w, _], [oh, ow, c]) if oh <= h && ow <= w && h - oh == w - ow => {
            let k = h - oh + 1;
            (k <= MAX_SHORTCUT_KERNEL).then(|| vec![node("conv", conv(*c, k))])
        }
        ([_, _, _], [g]) => Some(vec![
            node("pool", Layer::GlobalAvgPool),
            node("dense", dense(*g)),
        ]),
        ([_], [g]) => Some(vec![node("dense", dense(*g))]),
        _ => None,
    }
}

/// Every edit that applies to `arch`, in a fixed order; new layers are named under `prefix`
/// (unique per trial), and widening draws its seed from `rng`.
pub fn candidates(arch: &Architecture, prefix: &str, rng: &mut ChaCha8Rng) -> Result<Vec<MorphOp>> {
    let nodes = &arch.nodes;
    let Some(out) = output_layer(nodes) else {
        return Ok(vec![]);
    };
    let shapes = top_shapes(arch)?;
    let mut ops = Vec::new();
    for i in 0..out {
        let next_passes = matches!(
            nodes[i + 1].layer,
            Layer::Dropout { .. } | Layer::MaxPool { .. } | Layer::AvgPool { .. }
        );
        if !next_passes && non_negative(&nodes[..=i]) && identity_layer(&shapes[i + 1]).is_some() {
            ops.push(MorphOp::Deeper {
                after: nodes[i].name.clone(),
                name: format!("{prefix}/deeper"),
            });
        }
    }
    for i in 0..out {
        if let (Some((w, max)), Some(_)) = (width(&nodes[i].layer), consumer(nodes, i)) {
            let add = w.min(max.saturating_sub(w));
            if add > 0 {
                ops.push(MorphOp::Wider {
                    layer: nodes[i].name.clone(),
                    add,
                    seed: rng.random(),
                });
            }
        }
    }
    for a in 0..out {
        if width(&nodes[a].layer).is_none() {
            continue;
        }
        for b in a..out.min(a + MAX_SKIP_SPAN) {
            let span = &nodes[a..=b];
            let allowed = span.iter().all(|n| {
                channelwise(&n.layer)
                    || matches!(
                        n.layer,
                        Layer::Dense { .. } | Layer::Conv2d { .. } | Layer::Residual { .. }
                    )
            });
            if !allowed {
                break;
            }
            let name = format!("{prefix}/skip");
            if ends_in_relu(&nodes[b].layer)
                && shortcut(&name, &shapes[a], &shapes[b + 1]).is_some()
            {
                ops.push(MorphOp::Skip {
                    from: nodes[a].name.clone(),
                    to: nodes[b].name.clone(),
                    name,
                });
            }
        }
    }
    Ok(ops)
}

/// The architecture after `op` (no weights).
pub fn apply_architecture(arch: &Architecture, op: &MorphOp) -> Result<Architecture> {
    let mut out = arch.clone();
    let shapes = top_shapes(arch)?;
    let nodes = &mut out.nodes;
    match op {
        MorphOp::Deeper { after, name } => {
            let i = position(nodes, after)?;
            let layer = identity_layer(&shapes[i + 1])
                .ok_or_else(|| err(format!("cannot go deeper after {after}")))?;
            nodes.insert(i + 1, Node::new(name.clone(), MORPH_BLOCK, layer));
        }
        MorphOp::Wider { layer, add, .. } => {
            let i = position(nodes, layer)?;
            match &mut nodes[i].layer {
                Layer::Dense { units: w, .. }
                | Layer::Conv2d {
                    filters: w,
                    separable: false,
                    ..
                } => *w += add,
                _ => return Err(err(format!("{layer} cannot be widened"))),
            }
        }
        MorphOp::Skip { from, to, name } => {
            let (a, b) = (position(nodes, from)?, position(nodes, to)?);
            if b < a {
                return Err(err(format!("{to} comes before {from}")));
            }
            let sc = shortcut(name, &shapes[a], &shapes[b + 1])
                .ok_or_else(|| err(format!("no shortcut fits around {from} .. {to}")))?;
            let main: Vec<Node> = nodes.drain(a..=b).collect();
            nodes.insert(
                a,
                Node::new(
                    name.clone(),
                    MORPH_BLOCK,
                    Layer::Residual { main, shortcut: sc },
                ),
            );
        }
    }
    out.summary()?;
    Ok(out)
}

/// The network after `op`: its architecture and weights, computing the same outputs as
/// `(arch, params)` in inference.
pub fn apply(
    arch: &Architecture,
    params: &ParamStore,
    op: &MorphOp,
) -> Result<(Architecture, ParamStore)> {
    let new_arch = apply_architecture(arch, op)?;
    let device = params.device().clone();
    let store = ParamStore::init(&new_arch, &device, &mut ChaCha8Rng::seed_from_u64(0))?;
    let mut tensors = params.tensors()?;
    let fresh = store.tensors()?;
    let mut overrides: BTreeMap<String, Tensor> = BTreeMap::new();
    match op {
        MorphOp::Deeper { name, .. } => {
            let kernel = &fresh[&format!("{name}.kernel")];
            overrides.insert(format!("{name}.kernel"), identity_kernel(kernel)?);
            let bias = &fresh[&format!("{name}.bias")];
            overrides.insert(format!("{name}.bias"), bias.zeros_like()?);
        }
        MorphOp::Skip { name, .. } => {
            let prefix = format!("{name}/");
            for (k, t) in &fresh {
                if k.starts_with(&prefix) {
                    overrides.insert(k.clone(), t.zeros_like()?);
                }
            }
        }
        MorphOp::Wider { layer, add, seed } => {
            widen(arch, &mut tensors, layer, *add, *seed)?;
        }
    }
    for (k, t) in &fresh {
        let v = match overrides.remove(k) {
            Some(v) => v,
            None => tensors
                .remove(k)
                .ok_or_else(|| err(format!("the parent has no tensor {k}")))?,
        };
        if v.dims() != t.dims() {
            return Err(err(format!(
                "tensor {k} has shape {:?}, the child needs {:?}",
                v.dims(),
                t.dims()
            )));
        }
        store.set(k, &v)?;
    }
    Ok((new_arch, store))
}

/// `[k, k, c, c]` with the identity at the centre tap, or `[f, f]` identity.
fn identity_kernel(like: &Tensor) -> Result<Tensor> {
    let dims = like.dims().to_vec();
    let mut v = vec![0f32; like.elem_count()];
    match dims.as_slice() {
        [k, k2, c, c2] if c == c2 && k == k2 => {
            let centre = k / 2;
            for i in 0..*c {
                v[((centre * k + centre) * c + i) * c + i] = 1.0;
            }
        }
        [f, f2] if f == f2 => {
            for i in 0..*f {
                v[i * f + i] = 1.0;
            }
        }
        _ => return Err(err(format!("no identity kernel of shape {dims:?}"))),
    }
    Ok(Tensor::from_vec(v, dims, like.device())?)
}

/// Net2Net widening of `layer` by `add` units in `tensors` (the parent's weights, by name).
fn widen(
    arch: &Architecture,
    tensors: &mut BTreeMap<String, Tensor>,
    layer: &str,
    add: usize,
    seed: u64,
) -> Result<()> {
    let nodes = &arch.nodes;
    let i = position(nodes, layer)?;
    let (w, _) = width(&nodes[i].layer).ok_or_else(|| err(format!("{layer} cannot be widened")))?;
    let j = consumer(nodes, i).ok_or_else(|| err(format!("nothing consumes {layer}")))?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    // Channel c of the wider layer copies channel src[c] and passes on share[c] of its weight.
    let mut src: Vec<usize> = (0..w).collect();
    src.extend((0..add).map(|_| rng.random_range(0..w)));
    let mut raw: Vec<f64> = src
        .iter()
        .map(|_| 1.0 + SHARE_NOISE * (rng.random::<f64>() - 0.5))
        .collect();
    let mut total = vec![0f64; w];
    for (c, s) in src.iter().enumerate() {
        total[*s] += raw[c];
    }
    for (c, s) in src.iter().enumerate() {
        raw[c] /= total[*s];
    }
    let share: Vec<f32> = raw.iter().map(|v| *v as f32).collect();
    let device = tensors
        .values()
        .next()
        .map(|t| t.device().clone())
        .unwrap_or(candle_core::Device::Cpu);
    let index = |v: &[usize]| -> Result<Tensor> {
        let v: Vec<u32> = v.iter().map(|x| *x as u32).collect();
        Ok(Tensor::from_vec(v.clone(), v.len(), &device)?)
    };
    let take = |tensors: &mut BTreeMap<String, Tensor>, key: &str| -> Result<Tensor> {
        tensors
            .remove(key)
            .ok_or_else(|| err(format!("the parent has no tensor {key}")))
    };
    let src_idx = index(&src)?;
    // The widened layer's outgoing units, and the per-channel layers up to the consumer.
    let copy_last = |t: Tensor| -> Result<Tensor> { Ok(t.index_select(&src_idx, t.rank() - 1)?) };
    for suffix in ["kernel", "bias"] {
        let key = format!("{layer}.{suffix}");
        let t = take(tensors, &key)?;
        tensors.insert(key, copy_last(t)?);
    }
    let mut flatten_positions = 1;
    let shapes = top_shapes(arch)?;
    for n in &nodes[i + 1..j] {
        match n.layer {
            Layer::BatchNorm => {
                for suffix in ["gamma", "beta", "running_mean", "running_var"] {
                    let key = format!("{}.{suffix}", n.name);
                    let t = take(tensors, &key)?;
                    tensors.insert(key, copy_last(t)?);
                }
            }
            Layer::Flatten => {
                let pos = position(nodes, &n.name)?;
                let s = &shapes[pos];
                flatten_positions = s[..s.len().saturating_sub(1)].iter().product::<usize>();
            }
            _ => {}
        }
    }
    // The consumer's incoming weights: rows (or input channels) follow the copies, scaled
    // by their shares.
    let next = &nodes[j];
    let wide = w + add;
    match &next.layer {
        Layer::Dense { .. } => {
            let key = format!("{}.kernel", next.name);
            let t = take(tensors, &key)?;
            let mut rows = Vec::with_capacity(flatten_positions * wide);
            let mut scale = Vec::with_capacity(flatten_positions * wide);
            for p in 0..flatten_positions {
                for c in 0..wide {
                    rows.push(p * w + src[c]);
                    scale.push(share[c]);
                }
            }
            let n = scale.len();
            let s = Tensor::from_vec(scale, (n, 1), &device)?;
            let t = t.index_select(&index(&rows)?, 0)?.broadcast_mul(&s)?;
            tensors.insert(key, t);
        }
        Layer::Conv2d {
            separable: false, ..
        } => {
            let key = format!("{}.kernel", next.name);
            let t = take(tensors, &key)?;
            let s = Tensor::from_vec(share, (1, 1, wide, 1), &device)?;
            let t = t.index_select(&src_idx, 2)?.broadcast_mul(&s)?;
            tensors.insert(key, t);
        }
        Layer::Conv2d {
            separable: true, ..
        } => {
            let dw = format!("{}.depthwise", next.name);
            let t = take(tensors, &dw)?;
            tensors.insert(dw, t.index_select(&src_idx, D::Minus1)?);
            let pw = format!("{}.pointwise", next.name);
            let t = take(tensors, &pw)?;
            let s = Tensor::from_vec(share, (1, 1, wide, 1), &device)?;
            tensors.insert(pw, t.index_select(&src_idx, 2)?.broadcast_mul(&s)?);
        }
        _ => return Err(err(format!("{} cannot take a wider input", next.name))),
    }
    Ok(())
}
