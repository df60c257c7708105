//! 1-D convolution and pooling over the sequence axis of `[b, seq, c]`.

use super::super::{Activation, Padding};
use super::ParamFn;
use crate::error::Result;
use crate::kernels::{self, Conv2dParams};
use candle_core::{Tensor, D};

fn kernel_act(a: Activation) -> kernels::Activation {
    match a {
        Activation::Relu => kernels::Activation::Relu,
        Activation::Linear => kernels::Activation::None,
    }
}

/// `act(conv(x) + bias)` with stride 1; separable convolutions run depthwise then pointwise.
pub(super) fn conv1d(
    x: &Tensor,
    p: &ParamFn<'_>,
    kernel: usize,
    padding: Padding,
    activation: Activation,
    separable: bool,
) -> Result<Tensor> {
    let geo = Conv2dParams {
        padding: match padding {
            Padding::Valid => 0,
            Padding::Same => (kernel - 1) / 2,
        },
        ..Conv2dParams::default()
    };
    let act = kernel_act(activation);
    if separable {
        let c = x.dim(D::Minus1)?;
        let dw = kernels::conv1d(
            x,
            p("depthwise")?,
            None,
            Conv2dParams { groups: c, ..geo },
            kernels::Activation::None,
        )?;
        Ok(kernels::conv1d(
            &dw,
            p("pointwise")?,
            Some(p("bias")?),
            Conv2dParams::default(),
            act,
        )?)
    } else {
        Ok(kernels::conv1d(
            x,
            p("kernel")?,
            Some(p("bias")?),
            geo,
            act,
        )?)
    }
}

/// Max over windows of `size` steps, stride `size`; steps that do not fill a window are dropped.
pub(super) fn max_pool1d(x: &Tensor, size: usize) -> Result<Tensor> {
    let (b, s, c) = x.dims3()?;
    let out = s / size;
    Ok(x.narrow(1, 0, out * size)?
        .reshape((b, out, size, c))?
        .max(2)?)
}
