//! Shape inference and parameter counts: what `Model::summary()` prints.

use super::{Architecture, Layer, Merge, Node, Padding};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// One row of a model summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryRow {
    /// Layer name (nested residual layers are prefixed by their parent's name).
    pub name: String,
    /// Layer type (Keras's names).
    pub layer_type: String,
    /// The block that made it.
    pub block: String,
    /// Output shape of one sample.
    pub output_shape: Vec<usize>,
    /// Trainable parameters.
    pub params: usize,
    /// Nesting depth (0 for top-level layers).
    pub depth: usize,
}

/// A model summary: a row per layer and the totals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// The rows, in order.
    pub rows: Vec<SummaryRow>,
    /// Trainable parameters.
    pub total_params: usize,
    /// Non-trainable values (batch-norm statistics).
    pub non_trainable: usize,
    /// Output shape of the whole network.
    pub output_shape: Vec<usize>,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "{:<44} {:<24} {:<18} {:>10}",
            "Layer (type)", "Block", "Output shape", "Param #"
        )?;
        writeln!(f, "{}", "=".repeat(99))?;
        for r in &self.rows {
            let name = format!("{}{} ({})", "  ".repeat(r.depth), r.name, r.layer_type);
            let shape = format!("{:?}", r.output_shape);
            writeln!(
                f,
                "{:<44} {:<24} {:<18} {:>10}",
                name, r.block, shape, r.params
            )?;
        }
        writeln!(f, "{}", "=".repeat(99))?;
        writeln!(f, "Trainable params: {}", self.total_params)?;
        write!(f, "Non-trainable params: {}", self.non_trainable)
    }
}

/// Parameter tensors a layer owns, `(suffix, shape, trainable)`, given its input shape.
pub(crate) fn param_shapes(
    layer: &Layer,
    input: &[usize],
) -> Vec<(&'static str, Vec<usize>, bool)> {
    let c = input.last().copied().unwrap_or(0);
    match layer {
        Layer::Conv2d {
            filters,
            kernel,
            separable: false,
            ..
        } => {
            vec![
                ("kernel", vec![*kernel, *kernel, c, *filters], true),
                ("bias", vec![*filters], true),
            ]
        }
        Layer::Conv2d {
            filters,
            kernel,
            separable: true,
            ..
        } => vec![
            ("depthwise", vec![*kernel, *kernel, 1, c], true),
            ("pointwise", vec![1, 1, c, *filters], true),
            ("bias", vec![*filters], true),
        ],
        Layer::Dense { units, .. } => vec![
            ("kernel", vec![c, *units], true),
            ("bias", vec![*units], true),
        ],
        Layer::BatchNorm => vec![
            ("gamma", vec![c], true),
            ("beta", vec![c], true),
            ("running_mean", vec![c], false),
            ("running_var", vec![c], false),
        ],
        Layer::Sequence(s) => s.param_shapes(input),
        _ => vec![],
    }
}

fn conv_out(size: usize, kernel: usize, stride: usize, padding: Padding) -> Option<usize> {
    let pad = match padding {
        Padding::Valid => 0,
        Padding::Same => (kernel - 1) / 2,
    };
    (size + 2 * pad)
        .checked_sub(kernel)
        .map(|v| v / stride.max(1) + 1)
}

fn image_dims(name: &str, input: &[usize]) -> Result<(usize, usize, usize)> {
    match input {
        [h, w, c] => Ok((*h, *w, *c)),
        _ => Err(Error::BadShape(format!(
            "layer {name} needs an image input [h, w, c], got {input:?}"
        ))),
    }
}

/// Output shape (per sample) of `node` given its input shape.
pub(crate) fn output_shape(node: &Node, input: &[usize]) -> Result<Vec<usize>> {
    let name = &node.name;
    let too_small = || {
        Error::BadShape(format!("layer {name}: the input {input:?} is too small for its window; use fewer blocks or pooling layers"))
    };
    Ok(match &node.layer {
        Layer::Conv2d {
            filters,
            kernel,
            stride,
            padding,
            ..
        } => {
            let (h, w, _) = image_dims(name, input)?;
            let oh = conv_out(h, *kernel, *stride, *padding).ok_or_else(too_small)?;
            let ow = conv_out(w, *kernel, *stride, *padding).ok_or_else(too_small)?;
            vec![oh, ow, *filters]
        }
        Layer::MaxPool { size, stride } | Layer::AvgPool { size, stride } => {
            let (h, w, c) = image_dims(name, input)?;
            let oh = conv_out(h, *size, *stride, Padding::Valid).ok_or_else(too_small)?;
            let ow = conv_out(w, *size, *stride, Padding::Valid).ok_or_else(too_small)?;
            vec![oh, ow, c]
        }
        Layer::GlobalAvgPool | Layer::GlobalMaxPool => {
            let (_, _, c) = image_dims(name, input)?;
            vec![c]
        }
        Layer::Flatten => vec![input.iter().product()],
        Layer::Dense { units, .. } => {
            let mut s = input.to_vec();
            if let Some(last) = s.last_mut() {
                *last = *units;
            }
            s
        }
        Layer::Inputs { branches, merge } => {
            let packed: usize = input.iter().product();
            let mut outs = Vec::with_capacity(branches.len());
            for b in branches {
                if b.offset + b.len() > packed {
                    return Err(Error::BadShape(format!(
                        "{name}: an input of shape {:?} at offset {} does not fit a packed sample of {packed} values",
                        b.shape, b.offset
                    )));
                }
                outs.push(chain_shape(&b.nodes, &b.shape)?);
            }
            match merge {
                Merge::Concatenate => vec![outs.iter().map(|s| s.iter().product::<usize>()).sum()],
                Merge::Add => {
                    let first = outs.first().cloned().unwrap_or_default();
                    if let Some(o) = outs.iter().find(|o| **o != first) {
                        return Err(Error::BadShape(format!(
                            "{name}: adding branches of shapes {first:?} and {o:?}; use concatenate, or blocks that give the same shape"
                        )));
                    }
                    first
                }
            }
        }
        Layer::Heads { heads } => {
            let mut units = 0;
            for h in heads {
                units += chain_shape(h, input)?.iter().product::<usize>();
            }
            vec![units]
        }
        Layer::Residual { main, shortcut } => {
            let a = chain_shape(main, input)?;
            let b = chain_shape(shortcut, input)?;
            if a != b {
                return Err(Error::BadShape(format!(
                    "residual {name}: main branch gives {a:?}, shortcut {b:?}"
                )));
            }
            a
        }
        Layer::Sequence(s) => s.output_shape(name, input)?,
        _ => input.to_vec(),
    })
}

/// The node lists nested in a layer, each with its input shape, given the layer's input.
pub(crate) fn nested<'a>(layer: &'a Layer, input: &[usize]) -> Vec<(&'a [Node], Vec<usize>)> {
    match layer {
        Layer::Residual { main, shortcut } => {
            vec![
                (main.as_slice(), input.to_vec()),
                (shortcut, input.to_vec()),
            ]
        }
        Layer::Inputs { branches, .. } => branches
            .iter()
            .map(|b| (b.nodes.as_slice(), b.shape.clone()))
            .collect(),
        Layer::Heads { heads } => heads
            .iter()
            .map(|h| (h.as_slice(), input.to_vec()))
            .collect(),
        _ => vec![],
    }
}

fn chain_shape(nodes: &[Node], input: &[usize]) -> Result<Vec<usize>> {
    nodes
        .iter()
        .try_fold(input.to_vec(), |s, n| output_shape(n, &s))
}

fn walk(
    nodes: &[Node],
    input: &[usize],
    depth: usize,
    rows: &mut Vec<SummaryRow>,
    nt: &mut usize,
) -> Result<Vec<usize>> {
    let mut shape = input.to_vec();
    for node in nodes {
        let out = output_shape(node, &shape)?;
        let ps = param_shapes(&node.layer, &shape);
        let params = ps
            .iter()
            .filter(|p| p.2)
            .map(|p| p.1.iter().product::<usize>())
            .sum();
        *nt += ps
            .iter()
            .filter(|p| !p.2)
            .map(|p| p.1.iter().product::<usize>())
            .sum::<usize>();
        rows.push(SummaryRow {
            name: node.name.clone(),
            layer_type: node.layer.type_name().to_string(),
            block: node.block.clone(),
            output_shape: out.clone(),
            params,
            depth,
        });
        for (inner, input) in nested(&node.layer, &shape) {
            walk(inner, &input, depth + 1, rows, nt)?;
        }
        shape = out;
    }
    Ok(shape)
}

pub(crate) fn summarize(arch: &Architecture) -> Result<Summary> {
    let mut rows = Vec::new();
    let mut non_trainable = 0;
    let output_shape = walk(
        &arch.nodes,
        &arch.input_shape,
        0,
        &mut rows,
        &mut non_trainable,
    )?;
    let total_params = rows.iter().map(|r| r.params).sum();
    Ok(Summary {
        rows,
        total_params,
        non_trainable,
        output_shape,
    })
}
