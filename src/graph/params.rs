//! Weights of a network: trainable variables and non-trainable buffers, saved as safetensors.

use super::summary::{nested, output_shape, param_shapes};
use super::{Architecture, Layer, Node};
use crate::error::{Error, Result};
use candle_core::{DType, Device, Tensor, Var};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
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

    /// Saves every tensor to a safetensors file, durably and atomically
    /// ([`crate::durable::write_atomic`]: a plain file, readable as the umask allows).
    pub fn save(&self, path: &Path) -> Result<()> {
        let tensors = self.tensors()?;
        let tensors: std::collections::HashMap<String, Tensor> = tensors.into_iter().collect();
        let bytes = safetensors::tensor::serialize(&tensors, None).map_err(|e| Error::Format {
            path: path.to_path_buf(),
            format: "safetensors",
            detail: e.to_string(),
        })?;
        crate::durable::write_atomic(path, &bytes)
    }

    /// Loads weights for `arch` from a safetensors file, checking names and shapes. The file's
    /// header is compared with the architecture before anything is allocated, so an
    /// architecture asking for more values than the file holds is an error, not an abort.
    pub fn load(arch: &Architecture, path: &Path, device: &Device) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let format = |detail: String| Error::Format {
            path: path.to_path_buf(),
            format: "safetensors",
            detail,
        };
        let header =
            safetensors::SafeTensors::deserialize(&bytes).map_err(|e| format(e.to_string()))?;
        let in_file: usize = header
            .tensors()
            .iter()
            .map(|(_, t)| t.shape().iter().product::<usize>())
            .sum();
        let summary = arch.summary()?;
        let needed = summary.total_params.saturating_add(summary.non_trainable);
        if needed > in_file {
            return Err(format(format!(
                "the architecture needs {needed} values but the file holds {in_file}: the \
                 weights and architecture.json are not of the same model"
            )));
        }
        let mut loaded = candle_core::safetensors::load_buffer(&bytes, device)
            .map_err(|e| format(e.to_string()))?;
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

/// Values drawn in parallel chunks.
const CHUNK: usize = 1 << 16;

/// `n` values uniform in `[-limit, limit)`: the same values, in the same order, as `n` draws of
/// `rng.random::<f64>()` one after the other, and `rng` ends where those draws would leave it.
/// Large kernels are drawn in parallel: each chunk seeks its own copy of the stream (every f64
/// draw takes two 32-bit words of it), so a 150 M-parameter network is initialised in a fraction
/// of the time (it counts in the search overhead before its trial).
fn uniform(n: usize, limit: f64, rng: &mut ChaCha8Rng) -> Vec<f32> {
    let draw = |r: &mut ChaCha8Rng, out: &mut [f32]| {
        for x in out {
            *x = ((r.random::<f64>() * 2.0 - 1.0) * limit) as f32;
        }
    };
    let mut v = vec![0f32; n];
    if n <= CHUNK {
        draw(rng, &mut v);
        return v;
    }
    let start = rng.get_word_pos();
    let base = rng.clone();
    v.par_chunks_mut(CHUNK).enumerate().for_each(|(i, out)| {
        let mut r = base.clone();
        r.set_word_pos(start + 2 * (i * CHUNK) as u128);
        draw(&mut r, out);
    });
    rng.set_word_pos(start + 2 * n as u128);
    v
}

/// A parameter's initial value.
enum Init {
    Values(Vec<f32>),
    Ones,
    Zeros,
}

impl Init {
    fn tensor(self, shape: &[usize], device: &Device) -> Result<Tensor> {
        Ok(match self {
            Init::Values(v) => Tensor::from_vec(v, shape, device)?,
            Init::Ones => Tensor::ones(shape, DType::F32, device)?,
            Init::Zeros => Tensor::zeros(shape, DType::F32, device)?,
        })
    }

    /// As a variable, built in place (`Var::from_tensor` would copy it).
    fn var(self, shape: &[usize], device: &Device) -> Result<Var> {
        Ok(match self {
            Init::Values(v) => Var::from_vec(v, shape, device)?,
            Init::Ones => Var::ones(shape, DType::F32, device)?,
            Init::Zeros => Var::zeros(shape, DType::F32, device)?,
        })
    }
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
            let init = match suffix {
                _ if matches!(node.layer, Layer::Sequence(_)) => {
                    Init::Values(sequence_init(&node.layer, suffix, &pshape, rng))
                }
                "kernel" | "depthwise" | "pointwise" => {
                    let (fan_in, fan_out) = fans(&pshape);
                    let limit = if Some(node.name.as_str()) == last_dense {
                        (6.0 / (fan_in + fan_out) as f64).sqrt()
                    } else {
                        (6.0 / fan_in as f64).sqrt()
                    };
                    Init::Values(uniform(pshape.iter().product(), limit, rng))
                }
                "gamma" | "running_var" => Init::Ones,
                _ => Init::Zeros,
            };
            if trainable {
                vars.insert(key, init.var(&pshape, device)?);
            } else {
                buffers.insert(key, init.tensor(&pshape, device)?);
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
fn sequence_init(layer: &Layer, suffix: &str, shape: &[usize], rng: &mut ChaCha8Rng) -> Vec<f32> {
    match layer {
        Layer::Sequence(s) => s.init_param(suffix, shape, rng),
        _ => vec![0.0; shape.iter().product()],
    }
}

fn fans(shape: &[usize]) -> (usize, usize) {
    match shape {
        [k1, k2, c, f] => (k1 * k2 * c, k1 * k2 * f),
        [i, o] => (*i, *o),
        _ => (1, 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngCore, SeedableRng};

    /// The parallel draw gives exactly the values, and leaves the generator exactly where,
    /// drawing one value after the other would (from an odd word position, across chunks).
    #[test]
    fn parallel_uniform_draws_the_sequential_stream() {
        let n = 3 * CHUNK + 17;
        let mut a = ChaCha8Rng::seed_from_u64(7);
        let mut b = ChaCha8Rng::seed_from_u64(7);
        a.next_u32();
        b.next_u32();
        let fast = uniform(n, 0.5, &mut a);
        let slow: Vec<f32> = (0..n)
            .map(|_| ((b.random::<f64>() * 2.0 - 1.0) * 0.5) as f32)
            .collect();
        assert_eq!(fast, slow);
        assert_eq!(a.next_u64(), b.next_u64());
        assert!(fast.iter().all(|x| x.abs() <= 0.5));
        assert!(fast.iter().any(|&x| x > 0.4) && fast.iter().any(|&x| x < -0.4));
    }
}
