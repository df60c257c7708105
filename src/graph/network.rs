//! A runnable network: an architecture with its weights.

use super::{Activation, Architecture, Layer, Merge, Node, Padding, ParamStore};
use crate::error::{Error, Result};
use crate::kernels::{self, Conv2dParams};
use candle_core::{Device, Tensor, D};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// Training or inference.
pub enum Phase<'a> {
    /// Training: dropout and augmentation are on, batch norm uses and updates batch statistics.
    Train(&'a mut ChaCha8Rng),
    /// Inference.
    Eval,
}

impl Phase<'_> {
    fn training(&self) -> bool {
        matches!(self, Phase::Train(_))
    }
}

/// An architecture with weights, ready to run.
#[derive(Debug)]
pub struct Network {
    /// The architecture.
    pub arch: Architecture,
    /// The weights.
    pub params: ParamStore,
}

const BN_MOMENTUM: f64 = 0.99;
const BN_EPS: f64 = 1e-3;

impl Network {
    /// A network with fresh weights drawn from `rng`.
    pub fn new(arch: Architecture, device: &Device, rng: &mut ChaCha8Rng) -> Result<Self> {
        let params = ParamStore::init(&arch, device, rng)?;
        Ok(Network { arch, params })
    }

    /// Runs the network on a batch `[b, ...input_shape]`; returns the head's raw outputs
    /// (logits for classification).
    pub fn forward(&self, x: &Tensor, phase: &mut Phase) -> Result<Tensor> {
        self.run(&self.arch.nodes, x.clone(), phase)
    }

    fn run(&self, nodes: &[Node], mut x: Tensor, phase: &mut Phase) -> Result<Tensor> {
        let mut i = 0;
        while i < nodes.len() {
            if let Some(y) = self.conv_then_pool(&nodes[i..], &x)? {
                x = y;
                i += 2;
            } else {
                x = self.layer(&nodes[i], x, phase)?;
                i += 1;
            }
        }
        Ok(x)
    }

    /// A plain convolution followed by max pooling runs as one fused kernel.
    fn conv_then_pool(&self, nodes: &[Node], x: &Tensor) -> Result<Option<Tensor>> {
        let [conv, pool, ..] = nodes else {
            return Ok(None);
        };
        let (
            Layer::Conv2d {
                kernel,
                stride,
                padding,
                activation,
                separable: false,
                ..
            },
            Layer::MaxPool {
                size,
                stride: pool_stride,
            },
        ) = (&conv.layer, &pool.layer)
        else {
            return Ok(None);
        };
        let p = |s: &str| self.params.var(&format!("{}.{}", conv.name, s));
        Ok(Some(kernels::conv2d_max_pool2d(
            x,
            p("kernel")?,
            p("bias")?,
            conv_params(*kernel, *stride, *padding),
            kernel_act(*activation),
            *size,
            *pool_stride,
        )?))
    }

    fn layer(&self, node: &Node, x: Tensor, phase: &mut Phase) -> Result<Tensor> {
        let p = |s: &str| self.params.var(&format!("{}.{}", node.name, s));
        Ok(match &node.layer {
            Layer::Rescaling { scale, offset } => x.affine(*scale as f64, *offset as f64)?,
            Layer::Normalization { mean, variance } => {
                let c = mean.len();
                let m = Tensor::from_slice(mean, c, x.device())?;
                let inv: Vec<f32> = variance.iter().map(|v| 1.0 / v.max(1e-12).sqrt()).collect();
                let s = Tensor::from_slice(&inv, c, x.device())?;
                x.broadcast_sub(&m)?.broadcast_mul(&s)?
            }
            Layer::Augmentation {
                horizontal_flip,
                translation,
                pad_crop,
            } => match phase {
                Phase::Train(rng) => augment(&x, *horizontal_flip, *translation, *pad_crop, rng)?,
                Phase::Eval => x,
            },
            Layer::Conv2d {
                kernel,
                stride,
                padding,
                activation,
                separable,
                ..
            } => {
                let act = kernel_act(*activation);
                let geo = conv_params(*kernel, *stride, *padding);
                if *separable {
                    let c = x.dim(D::Minus1)?;
                    let dw = kernels::conv2d(
                        &x,
                        p("depthwise")?,
                        None,
                        Conv2dParams { groups: c, ..geo },
                        kernels::Activation::None,
                    )?;
                    kernels::conv2d(
                        &dw,
                        p("pointwise")?,
                        Some(p("bias")?),
                        Conv2dParams::default(),
                        act,
                    )?
                } else {
                    kernels::conv2d(&x, p("kernel")?, Some(p("bias")?), geo, act)?
                }
            }
            Layer::Dense { activation, .. } => {
                let w = p("kernel")?;
                let dims = x.dims().to_vec();
                let (i, o) = w.dims2()?;
                let x2 = x.reshape(((), i))?;
                let y = x2.matmul(w)?.broadcast_add(p("bias")?)?;
                let y = if *activation == Activation::Relu {
                    y.relu()?
                } else {
                    y
                };
                let mut out = dims;
                if let Some(last) = out.last_mut() {
                    *last = o;
                }
                y.reshape(out)?
            }
            Layer::BatchNorm => self.batch_norm(node, &x, phase.training())?,
            Layer::Activation { activation } => match activation {
                Activation::Relu => x.relu()?,
                Activation::Linear => x,
            },
            Layer::Dropout { rate } => match phase {
                Phase::Train(rng) if *rate > 0.0 => dropout(&x, *rate, rng)?,
                _ => x,
            },
            Layer::MaxPool { size, stride } => kernels::max_pool2d(&x, *size, *stride)?,
            Layer::AvgPool { size, stride } => kernels::avg_pool2d(&x, *size, *stride)?,
            Layer::GlobalAvgPool => x.mean(2)?.mean(1)?,
            Layer::GlobalMaxPool => x.max(2)?.max(1)?,
            Layer::Flatten => x.flatten_from(1)?,
            Layer::Inputs { branches, merge } => {
                let b = x.dim(0)?;
                let flat = x.flatten_from(1)?;
                let mut outs = Vec::with_capacity(branches.len());
                for br in branches {
                    let mut shape = vec![b];
                    shape.extend(&br.shape);
                    let part = flat.narrow(1, br.offset, br.len())?.reshape(shape)?;
                    outs.push(self.run(&br.nodes, part, phase)?);
                }
                match merge {
                    Merge::Concatenate => {
                        let flat: Vec<Tensor> = outs
                            .iter()
                            .map(|o| o.flatten_from(1))
                            .collect::<candle_core::Result<_>>()?;
                        Tensor::cat(&flat, 1)?
                    }
                    Merge::Add => {
                        let mut it = outs.into_iter();
                        let first = it
                            .next()
                            .ok_or_else(|| Error::Config("a merge of no inputs".into()))?;
                        it.try_fold(first, |acc, o| acc + o)?
                    }
                }
            }
            Layer::Heads { heads } => {
                let outs: Vec<Tensor> = heads
                    .iter()
                    .map(|h| {
                        self.run(h, x.clone(), phase)?
                            .flatten_from(1)
                            .map_err(Into::into)
                    })
                    .collect::<Result<_>>()?;
                Tensor::cat(&outs, 1)?
            }
            Layer::Residual { main, shortcut } => {
                let a = self.run(main, x.clone(), phase)?;
                let b = self.run(shortcut, x, phase)?;
                (a + b)?.relu()?
            }
            Layer::Sequence(s) => s.forward(&x, &p, phase)?,
        })
    }

    fn batch_norm(&self, node: &Node, x: &Tensor, training: bool) -> Result<Tensor> {
        let key = |s: &str| format!("{}.{}", node.name, s);
        let gamma = self.params.var(&key("gamma"))?;
        let beta = self.params.var(&key("beta"))?;
        let c = x.dim(D::Minus1)?;
        let flat = x.reshape(((), c))?;
        let (mean, var) = if training {
            let (y, stats) = kernels::batch_norm_train(&flat, gamma, beta, BN_EPS)?;
            let rm = self.params.buffer(&key("running_mean"))?;
            let rv = self.params.buffer(&key("running_var"))?;
            let n = flat.dim(0)? as f32;
            let unbiased: Vec<f32> = stats
                .var
                .iter()
                .map(|v| v * n / (n - 1.0).max(1.0))
                .collect();
            let batch_mean = Tensor::from_vec(stats.mean, c, x.device())?;
            let batch_var = Tensor::from_vec(unbiased, c, x.device())?;
            self.params.set_buffer(
                &key("running_mean"),
                ((rm * BN_MOMENTUM)? + (batch_mean * (1.0 - BN_MOMENTUM))?)?,
            )?;
            self.params.set_buffer(
                &key("running_var"),
                ((rv * BN_MOMENTUM)? + (batch_var * (1.0 - BN_MOMENTUM))?)?,
            )?;
            return Ok(y.reshape(x.dims())?);
        } else {
            (
                self.params.buffer(&key("running_mean"))?,
                self.params.buffer(&key("running_var"))?,
            )
        };
        // Inference: fold into one scale and shift.
        let scale = ((var + BN_EPS)?.sqrt()?.recip()? * gamma)?;
        let shift = (beta - (&mean * &scale)?)?;
        Ok(flat
            .broadcast_mul(&scale)?
            .broadcast_add(&shift)?
            .reshape(x.dims())?)
    }
}

fn conv_params(kernel: usize, stride: usize, padding: Padding) -> Conv2dParams {
    Conv2dParams {
        stride,
        padding: match padding {
            Padding::Valid => 0,
            Padding::Same => (kernel - 1) / 2,
        },
        dilation: 1,
        groups: 1,
    }
}

fn kernel_act(a: Activation) -> kernels::Activation {
    match a {
        Activation::Relu => kernels::Activation::Relu,
        Activation::Linear => kernels::Activation::None,
    }
}

/// Inverted dropout with a mask drawn from the trial's seeded generator.
pub(super) fn dropout(x: &Tensor, rate: f32, rng: &mut ChaCha8Rng) -> Result<Tensor> {
    let n = x.elem_count();
    let keep = 1.0 - rate;
    let scale = 1.0 / keep;
    let mask: Vec<f32> = (0..n)
        .map(|_| {
            if rng.random::<f32>() < keep {
                scale
            } else {
                0.0
            }
        })
        .collect();
    let m = Tensor::from_vec(mask, x.dims(), x.device())?;
    Ok((x * m)?)
}

/// Random horizontal flip, translation (fraction of the size, zero fill) and pad-and-crop, per
/// image, on NHWC batches.
fn augment(
    x: &Tensor,
    flip: bool,
    translation: f32,
    pad_crop: usize,
    rng: &mut ChaCha8Rng,
) -> Result<Tensor> {
    let (b, h, w, c) = x
        .dims4()
        .map_err(|_| Error::BadShape("augmentation needs [b, h, w, c] images".into()))?;
    let src = x.flatten_all()?.to_vec1::<f32>()?;
    let mut out = vec![0f32; src.len()];
    let max_dy = (translation * h as f32).round() as i64 + pad_crop as i64;
    let max_dx = (translation * w as f32).round() as i64 + pad_crop as i64;
    let per = h * w * c;
    for i in 0..b {
        let flip_it = flip && rng.random::<bool>();
        let dy = if max_dy > 0 {
            rng.random_range(-max_dy..=max_dy)
        } else {
            0
        };
        let dx = if max_dx > 0 {
            rng.random_range(-max_dx..=max_dx)
        } else {
            0
        };
        let img = &src[i * per..(i + 1) * per];
        let dst = &mut out[i * per..(i + 1) * per];
        for y in 0..h {
            let sy = y as i64 + dy;
            if sy < 0 || sy >= h as i64 {
                continue;
            }
            for xx in 0..w {
                let sx0 = xx as i64 + dx;
                if sx0 < 0 || sx0 >= w as i64 {
                    continue;
                }
                let sx = if flip_it { w as i64 - 1 - sx0 } else { sx0 } as usize;
                let s = (sy as usize * w + sx) * c;
                let d = (y * w + xx) * c;
                dst[d..d + c].copy_from_slice(&img[s..s + c]);
            }
        }
    }
    Ok(Tensor::from_vec(out, (b, h, w, c), x.device())?)
}
