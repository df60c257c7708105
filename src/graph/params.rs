//! Weights of a network: trainable variables and non-trainable buffers, saved as safetensors.

use super::summary::{nested, output_shape, param_shapes};
use super::{Architecture, Layer, Node};
use crate::error::{Error, Result};
use candle_core::{DType, Device, Tensor, Var};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

/// The weights of a network by name (`<layer>.<param>`).
#[derive(Debug)]
pub struct ParamStore {
    vars: BTreeMap<String, Var>,
    buffers: Mutex<BTreeMap<String, Tensor>>,
    device: Device,
}

impl ParamStore {
    /// Fresh weights for `arch`: He-uniform kernels (Glorot for the last layer), zero biases,
    /// batch-norm at identity. Deterministic in `rng`.
    pub fn init(arch: &Architecture, device: &Device, rng: &mut ChaCha8Rng) -> Result<Self> {
        let mut vars = BTreeMap::new();
        let mut buffers = BTreeMap::new();
        let last_dense = last_dense_name(&arch.nodes);
        init_nodes(
            &arch.nodes,
            &arch.input_shape,
            device,
            rng,
            last_dense.as_deref(),
            &mut vars,
            &mut buffers,
        )?;
        Ok(ParamStore {
            vars,
            buffers: Mutex::new(buffers),
            device: device.clone(),
        })
    }

    /// The device the weights live on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Trainable variables, in name order.
    pub fn vars(&self) -> Vec<Var> {
        self.vars.values().cloned().collect()
    }

    /// A trainable tensor.
    pub fn var(&self, name: &str) -> Result<&Tensor> {
        self.vars
            .get(name)
            .map(|v| v.as_tensor())
            .ok_or_else(|| Error::Config(format!("the weights have no tensor {name}")))
    }

    /// A non-trainable buffer.
    pub fn buffer(&self, name: &str) -> Result<Tensor> {
        let b = self
            .buffers
            .lock()
            .map_err(|_| Error::Config("weights lock poisoned".into()))?;
        b.get(name)
            .cloned()
            .ok_or_else(|| Error::Config(format!("the weights have no buffer {name}")))
    }

    /// Replaces a non-trainable buffer.
    pub fn set_buffer(&self, name: &str, t: Tensor) -> Result<()> {
        let mut b = self
            .buffers
            .lock()
            .map_err(|_| Error::Config("weights lock poisoned".into()))?;
        b.insert(name.to_string(), t);
        Ok(())
    }

    /// Sets a variable or buffer by name.
    pub fn set(&self, name: &str, t: &Tensor) -> Result<()> {
        match self.vars.get(name) {
            Some(v) => Ok(v.set(t)?),
            None => self.set_buffer(name, t.clone()),
        }
    }

    /// All tensors (trainable and buffers) by name, as copies that later training leaves alone.
    pub fn tensors(&self) -> Result<BTreeMap<String, Tensor>> {
        // A deep copy: variables are updated in place, so a shared-storage view would change.
        let mut out = BTreeMap::new();
        for (k, v) in &self.vars {
            out.insert(k.clone(), v.as_tensor().copy()?.detach());
        }
        let b = self
            .buffers
            .lock()
            .map_err(|_| Error::Config("weights lock poisoned".into()))?;
        out.extend(b.iter().map(|(k, v)| (k.clone(), v.detach())));
        Ok(out)
    }

    /// Copies every tensor from `other` (same names and shapes).
    pub fn copy_from(&self, other: &ParamStore) -> Result<()> {
        for (k, v) in &self.vars {
            v.set(other.var(k)?)?;
        }
        let src = other
            .buffers
            .lock()
            .map_err(|_| Error::Config("weights lock poisoned".into()))?
            .clone();
        let mut b = self
            .buffers
            .lock()
            .map_err(|_| Error::Config("weights lock poisoned".into()))?;
        for (k, v) in src {
            b.insert(k, v);
        }
        Ok(())
    }

    /// Saves every tensor to a safetensors file.
    pub fn save(&self, path: &Path) -> Result<()> {
        let tensors = self.tensors()?;
        let tensors: std::collections::HashMap<String, Tensor> = tensors.into_iter().collect();
        candle_core::safetensors::save(&tensors, path)?;
        Ok(())
    }

    /// Loads weights for `arch` from a safetensors file, checking names and shapes.
    pub fn load(arch: &Architecture, path: &Path, device: &Device) -> Result<Self> {
        let mut loaded =
            candle_core::safetensors::load(path, device).map_err(|e| Error::Format {
                path: path.to_path_buf(),
                format: "safetensors",
                detail: e.to_string(),
            })?;
        let mut rng = <ChaCha8Rng as rand::SeedableRng>::seed_from_u64(0);
        let fresh = ParamStore::init(arch, device, &mut rng)?;
        for (k, v) in fresh.tensors()? {
            let t = loaded.remove(&k).ok_or_else(|| Error::Format {
                path: path.to_path_buf(),
                format: "weights",
                detail: format!("tensor {k} is missing"),
            })?;
            if t.dims() != v.dims() {
                return Err(Error::Format {
                    path: path.to_path_buf(),
                    format: "weights",
                    detail: format!(
                        "tensor {k} has shape {:?}, the architecture needs {:?}",
                        t.dims(),
                        v.dims()
                    ),
                });
            }
            let t = t.to_dtype(DType::F32)?;
            if let Some(var) = fresh.vars.get(&k) {
                var.set(&t)?;
            } else {
                fresh.set_buffer(&k, t)?;
            }
        }
        Ok(fresh)
    }
}

fn last_dense_name(nodes: &[Node]) -> Option<String> {
    nodes
        .iter()
        .rev()
        .find(|n| matches!(n.layer, Layer::Dense { .. }))
        .map(|n| n.name.clone())
}

fn uniform(shape: &[usize], limit: f64, device: &Device, rng: &mut ChaCha8Rng) -> Result<Tensor> {
    let n: usize = shape.iter().product();
    let v: Vec<f32> = (0..n)
        .map(|_| ((rng.random::<f64>() * 2.0 - 1.0) * limit) as f32)
        .collect();
    Ok(Tensor::from_vec(v, shape, device)?)
}

fn init_nodes(
    nodes: &[Node],
    input: &[usize],
    device: &Device,
    rng: &mut ChaCha8Rng,
    last_dense: Option<&str>,
    vars: &mut BTreeMap<String, Var>,
    buffers: &mut BTreeMap<String, Tensor>,
) -> Result<Vec<usize>> {
    let mut shape = input.to_vec();
    for node in nodes {
        for (suffix, pshape, trainable) in param_shapes(&node.layer, &shape) {
            let key = format!("{}.{}", node.name, suffix);
            let t = match suffix {
                _ if matches!(node.layer, Layer::Sequence(_)) => {
                    sequence_init(&node.layer, suffix, &pshape, device, rng)?
                }
                "kernel" | "depthwise" | "pointwise" => {
                    let (fan_in, fan_out) = fans(&pshape);
                    let limit = if Some(node.name.as_str()) == last_dense {
                        (6.0 / (fan_in + fan_out) as f64).sqrt()
                    } else {
                        (6.0 / fan_in as f64).sqrt()
                    };
                    uniform(&pshape, limit, device, rng)?
                }
                "gamma" | "running_var" => Tensor::ones(pshape.as_slice(), DType::F32, device)?,
                _ => Tensor::zeros(pshape.as_slice(), DType::F32, device)?,
            };
            if trainable {
                vars.insert(key, Var::from_tensor(&t)?);
            } else {
                buffers.insert(key, t);
            }
        }
        for (inner, input) in nested(&node.layer, &shape) {
            // Each head of a multi-task network ends with its own output layer.
            let last = match &node.layer {
                Layer::Heads { .. } => last_dense_name(inner),
                _ => last_dense.map(str::to_string),
            };
            init_nodes(inner, &input, device, rng, last.as_deref(), vars, buffers)?;
        }
        shape = output_shape(node, &shape)?;
    }
    Ok(shape)
}

/// Initial values of a sequence layer's parameter (the layer decides).
fn sequence_init(
    layer: &Layer,
    suffix: &str,
    shape: &[usize],
    device: &Device,
    rng: &mut ChaCha8Rng,
) -> Result<Tensor> {
    let v = match layer {
        Layer::Sequence(s) => s.init_param(suffix, shape, rng),
        _ => vec![0.0; shape.iter().product()],
    };
    Ok(Tensor::from_vec(v, shape, device)?)
}

fn fans(shape: &[usize]) -> (usize, usize) {
    match shape {
        [k1, k2, c, f] => (k1 * k2 * c, k1 * k2 * f),
        [i, o] => (*i, *o),
        _ => (1, 1),
    }
}
