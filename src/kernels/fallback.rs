//! The same operations through candle's stock kernels (NCHW), for devices without a fast path.

use super::{Activation, Conv2dParams};
use candle_core::{Result, Tensor};

pub(super) fn conv2d(
    x: &Tensor,
    w: &Tensor,
    bias: Option<&Tensor>,
    p: Conv2dParams,
    act: Activation,
) -> Result<Tensor> {
    let xn = x.permute((0, 3, 1, 2))?.contiguous()?;
    // [kh, kw, cg, oc] -> [oc, cg, kh, kw]
    let wn = w.permute((3, 2, 0, 1))?.contiguous()?;
    let mut y = xn.conv2d(&wn, p.padding, p.stride, p.dilation, p.groups)?;
    if let Some(b) = bias {
        y = y.broadcast_add(&b.reshape((1, b.dims1()?, 1, 1))?)?;
    }
    if act == Activation::Relu {
        y = y.relu()?;
    }
    y.permute((0, 2, 3, 1))?.contiguous()
}

pub(super) fn max_pool2d(x: &Tensor, k: usize, stride: usize) -> Result<Tensor> {
    let (b, h, w, c) = x.dims4()?;
    if k == stride && k > 0 {
        // Exact gradients: crop to a multiple of k and take the max over window axes
        // (candle's max_pool2d backward is wrong in 0.11).
        let (oh, ow) = (h / k, w / k);
        let xc = x.narrow(1, 0, oh * k)?.narrow(2, 0, ow * k)?;
        return xc.reshape((b, oh, k, ow, k, c))?.max(4)?.max(2);
    }
    let xn = x.permute((0, 3, 1, 2))?.contiguous()?;
    xn.max_pool2d_with_stride(k, stride)?
        .permute((0, 2, 3, 1))?
        .contiguous()
}

pub(super) fn avg_pool2d(x: &Tensor, k: usize, stride: usize) -> Result<Tensor> {
    let (b, h, w, c) = x.dims4()?;
    if k == stride && k > 0 {
        let (oh, ow) = (h / k, w / k);
        let xc = x.narrow(1, 0, oh * k)?.narrow(2, 0, ow * k)?;
        return xc.reshape((b, oh, k, ow, k, c))?.mean(4)?.mean(2);
    }
    let xn = x.permute((0, 3, 1, 2))?.contiguous()?;
    xn.avg_pool2d_with_stride(k, stride)?
        .permute((0, 2, 3, 1))?
        .contiguous()
}
