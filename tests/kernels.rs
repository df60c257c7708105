//! The fast CPU kernels against candle's own operations: values and gradients.
//!
//! Run with `cargo test --release --test kernels` (debug builds are ~50x slower).

use autocandle::kernels::{self, Activation, Conv2dParams};
use candle_core::{DType, Device, Tensor, Var, D};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const TOL: f32 = 1e-4;

fn random(rng: &mut ChaCha8Rng, shape: &[usize]) -> Tensor {
    let n: usize = shape.iter().product();
    let v: Vec<f32> = (0..n).map(|_| rng.random_range(-1.0f32..1.0)).collect();
    Tensor::from_vec(v, shape, &Device::Cpu).unwrap()
}

/// `max |a - b| / max(max |b|, 1e-3)`.
fn rel_err(a: &Tensor, b: &Tensor) -> f32 {
    assert_eq!(a.dims(), b.dims(), "shapes differ");
    let a = a.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    let b = b.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    let diff = a
        .iter()
        .zip(&b)
        .map(|(x, y)| (x - y).abs())
        .fold(0f32, f32::max);
    let scale = b.iter().map(|y| y.abs()).fold(0f32, f32::max).max(1e-3);
    if a.iter().any(|v| !v.is_finite()) {
        return f32::INFINITY;
    }
    diff / scale
}

fn assert_close(what: &str, a: &Tensor, b: &Tensor) {
    let e = rel_err(a, b);
    assert!(e <= TOL, "{what}: relative error {e:e} > {TOL:e}");
}

/// The reference: candle's NCHW conv2d with permutes (the formulas of the fallback).
fn ref_conv2d(
    x: &Tensor,
    w: &Tensor,
    bias: Option<&Tensor>,
    p: Conv2dParams,
    act: Activation,
) -> Tensor {
    let xn = x.permute((0, 3, 1, 2)).unwrap().contiguous().unwrap();
    let wn = w.permute((3, 2, 0, 1)).unwrap().contiguous().unwrap();
    let mut y = xn
        .conv2d(&wn, p.padding, p.stride, p.dilation, p.groups)
        .unwrap();
    if let Some(b) = bias {
        y = y
            .broadcast_add(&b.reshape((1, b.dims1().unwrap(), 1, 1)).unwrap())
            .unwrap();
    }
    if act == Activation::Relu {
        y = y.relu().unwrap();
    }
    y.permute((0, 2, 3, 1)).unwrap().contiguous().unwrap()
}

#[derive(Debug, Clone, Copy)]
struct Case {
    b: usize,
    h: usize,
    w: usize,
    c: usize,
    oc: usize,
    k: (usize, usize),
    stride: usize,
    padding: usize,
    dilation: usize,
    depthwise: bool,
    relu: bool,
    bias: bool,
    /// Whether the input needs a gradient (false: like the network input of a first conv).
    input_grad: bool,
}

impl Case {
    fn new(b: usize, h: usize, w: usize, c: usize, oc: usize, k: usize) -> Case {
        Case {
            b,
            h,
            w,
            c,
            oc,
            k: (k, k),
            stride: 1,
            padding: 0,
            dilation: 1,
            depthwise: false,
            relu: false,
            bias: true,
            input_grad: true,
        }
    }
    fn stride(self, stride: usize) -> Case {
        Case { stride, ..self }
    }
    fn pad(self, padding: usize) -> Case {
        Case { padding, ..self }
    }
    fn dil(self, dilation: usize) -> Case {
        Case { dilation, ..self }
    }
    fn relu(self) -> Case {
        Case { relu: true, ..self }
    }
    fn no_bias(self) -> Case {
        Case {
            bias: false,
            ..self
        }
    }
    fn depthwise(self) -> Case {
        Case {
            depthwise: true,
            oc: self.c,
            ..self
        }
    }
    fn frozen_input(self) -> Case {
        Case {
            input_grad: false,
            ..self
        }
    }
    fn params(&self) -> Conv2dParams {
        Conv2dParams {
            stride: self.stride,
            padding: self.padding,
            dilation: self.dilation,
            groups: if self.depthwise { self.c } else { 1 },
        }
    }
    fn act(&self) -> Activation {
        if self.relu {
            Activation::Relu
        } else {
            Activation::None
        }
    }
}

/// A direct f64 convolution (any groups) and its exact gradients for the loss `sum(y * r)`.
struct Naive {
    y: Tensor,
    dx: Tensor,
    dw: Tensor,
    db: Tensor,
}

#[allow(clippy::too_many_arguments)]
fn naive_conv2d(
    x: &Tensor,
    w: &Tensor,
    b: Option<&Tensor>,
    r: Option<&Tensor>,
    p: Conv2dParams,
    (pad_h, pad_w): (usize, usize),
    act: Activation,
) -> Naive {
    let (bs, h, wd, c) = x.dims4().unwrap();
    let (kh, kw, cg, oc) = w.dims4().unwrap();
    let oh = (h + 2 * pad_h - p.dilation * (kh - 1) - 1) / p.stride + 1;
    let ow = (wd + 2 * pad_w - p.dilation * (kw - 1) - 1) / p.stride + 1;
    let og = oc / p.groups;
    let f64s = |t: &Tensor| {
        t.flatten_all()
            .unwrap()
            .to_dtype(DType::F64)
            .unwrap()
            .to_vec1::<f64>()
            .unwrap()
    };
    let xs = f64s(x);
    let ws = f64s(w);
    let bsv = b.map(f64s).unwrap_or_else(|| vec![0.0; oc]);
    let rs = r.map(f64s).unwrap_or_else(|| vec![0.0; bs * oh * ow * oc]);
    let (mut y, mut dx, mut dw, mut db) = (
        vec![0f64; bs * oh * ow * oc],
        vec![0f64; xs.len()],
        vec![0f64; ws.len()],
        vec![0f64; oc],
    );
    // Visits every (output, input, weight) triple of the convolution.
    let taps = |n: usize, oy: usize, ox: usize, o: usize, f: &mut dyn FnMut(usize, usize)| {
        let gi = o / og;
        for ky in 0..kh {
            for kx in 0..kw {
                let iy = (oy * p.stride + ky * p.dilation) as isize - pad_h as isize;
                let ix = (ox * p.stride + kx * p.dilation) as isize - pad_w as isize;
                if iy < 0 || ix < 0 || iy >= h as isize || ix >= wd as isize {
                    continue;
                }
                for j in 0..cg {
                    let xi = ((n * h + iy as usize) * wd + ix as usize) * c + gi * cg + j;
                    let wi = ((ky * kw + kx) * cg + j) * oc + o;
                    f(xi, wi);
                }
            }
        }
    };
    for n in 0..bs {
        for oy in 0..oh {
            for ox in 0..ow {
                for o in 0..oc {
                    let yi = ((n * oh + oy) * ow + ox) * oc + o;
                    let mut acc = bsv[o];
                    taps(n, oy, ox, o, &mut |xi, wi| acc += xs[xi] * ws[wi]);
                    let live = act == Activation::None || acc > 0.0;
                    y[yi] = if live { acc } else { 0.0 };
                    let g = if live { rs[yi] } else { 0.0 };
                    db[o] += g;
                    taps(n, oy, ox, o, &mut |xi, wi| {
                        dx[xi] += ws[wi] * g;
                        dw[wi] += xs[xi] * g;
                    });
                }
            }
        }
    }
    let t = |v: Vec<f64>, shape: &[usize]| {
        Tensor::from_vec(v, shape, &Device::Cpu)
            .unwrap()
            .to_dtype(DType::F32)
            .unwrap()
    };
    Naive {
        y: t(y, &[bs, oh, ow, oc]),
        dx: t(dx, x.dims()),
        dw: t(dw, w.dims()),
        db: t(db, &[oc]),
    }
}

/// Runs one case through our kernel, candle's NCHW conv2d and a direct f64 convolution;
/// compares outputs and the gradients of `sum(y * r)` for a random `r`.
fn check_conv(rng: &mut ChaCha8Rng, case: Case) {
    let cg = if case.depthwise { 1 } else { case.c };
    let x = random(rng, &[case.b, case.h, case.w, case.c]);
    let w = random(rng, &[case.k.0, case.k.1, cg, case.oc]);
    let b = random(rng, &[case.oc]);
    let (p, act) = (case.params(), case.act());
    let what = format!("{case:?}");

    let xv = Var::from_tensor(&x).unwrap();
    let wv = Var::from_tensor(&w).unwrap();
    let bv = Var::from_tensor(&b).unwrap();
    let xin = if case.input_grad {
        xv.as_tensor().clone()
    } else {
        x.clone()
    };
    let y = kernels::conv2d(&xin, &wv, case.bias.then_some(bv.as_tensor()), p, act).unwrap();
    let r = random(rng, y.dims());
    let g = (&y * &r).unwrap().sum_all().unwrap().backward().unwrap();
    let dw = g.get(&wv).unwrap();
    let db = g.get(&bv);
    let dx = g.get(&xv);
    assert_eq!(db.is_some(), case.bias, "{what}: bias gradient presence");
    assert_eq!(
        dx.is_some(),
        case.input_grad,
        "{what}: input gradient presence"
    );

    // candle (values; gradients where candle's own backward handles the shape).
    let bias = case.bias.then_some(&b);
    assert_close(
        &format!("{what} output vs candle"),
        &y,
        &ref_conv2d(&x, &w, bias, p, act),
    );
    let (xr, wr, br) = (
        Var::from_tensor(&x).unwrap(),
        Var::from_tensor(&w).unwrap(),
        Var::from_tensor(&b).unwrap(),
    );
    let yr = ref_conv2d(&xr, &wr, case.bias.then_some(br.as_tensor()), p, act);
    if let Ok(gr) = (&yr * &r).unwrap().sum_all().unwrap().backward() {
        assert_close(&format!("{what} dW vs candle"), dw, gr.get(&wr).unwrap());
        if let Some(db) = db {
            assert_close(&format!("{what} dB vs candle"), db, gr.get(&br).unwrap());
        }
        if let Some(dx) = dx {
            assert_close(&format!("{what} dX vs candle"), dx, gr.get(&xr).unwrap());
        }
    }

    // The direct f64 convolution.
    let n = naive_conv2d(&x, &w, bias, Some(&r), p, (p.padding, p.padding), act);
    assert_close(&format!("{what} output vs direct"), &y, &n.y);
    assert_close(&format!("{what} dW vs direct"), dw, &n.dw);
    if let Some(db) = db {
        assert_close(&format!("{what} dB vs direct"), db, &n.db);
    }
    if let Some(dx) = dx {
        assert_close(&format!("{what} dX vs direct"), dx, &n.dx);
    }
}

#[test]
fn conv2d_fixed_cases_match_candle() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let cases = [
        // The reference CNN's two convolutions (smaller batch).
        Case::new(4, 13, 13, 32, 64, 3).relu(),
        Case::new(4, 28, 28, 1, 32, 3).relu().frozen_input(),
        // Large enough to take the multi-threaded paths.
        Case::new(16, 13, 13, 32, 64, 3).relu(),
        Case::new(16, 28, 28, 1, 32, 3).relu(),
        // Odd sizes, stride, padding, dilation, batch 1.
        Case::new(3, 7, 9, 5, 6, 3).stride(2),
        Case::new(2, 11, 8, 4, 7, 3).pad(1),
        Case::new(2, 9, 10, 3, 5, 5).pad(2).stride(2),
        Case::new(2, 12, 11, 4, 3, 3).dil(2),
        Case::new(1, 15, 13, 6, 8, 3).dil(2).pad(2).stride(2).relu(),
        Case::new(1, 6, 6, 3, 4, 3).no_bias(),
        Case::new(1, 5, 7, 2, 3, 2).pad(1).no_bias().relu(),
        // Non-square kernel.
        Case {
            k: (1, 3),
            ..Case::new(2, 6, 9, 4, 5, 1)
        }
        .pad(1),
        Case {
            k: (3, 2),
            ..Case::new(2, 8, 7, 3, 4, 1)
        }
        .stride(2),
        // Pointwise (skips im2col), and 1x1 with stride and padding.
        Case::new(3, 7, 5, 8, 6, 1).relu(),
        Case::new(32, 12, 12, 32, 48, 1),
        Case::new(3, 7, 5, 8, 6, 1).stride(2).pad(1),
        // Kernel as large as the padded input.
        Case::new(2, 5, 5, 3, 4, 5),
        Case::new(2, 3, 3, 2, 2, 5).pad(1),
        // Depthwise.
        Case::new(2, 9, 9, 8, 8, 3).depthwise().pad(1).relu(),
        Case::new(1, 10, 7, 5, 5, 3).depthwise().stride(2).no_bias(),
        Case::new(3, 11, 11, 4, 4, 3).depthwise().dil(2).pad(2),
        Case::new(16, 16, 16, 32, 32, 3).depthwise().pad(1).relu(),
        Case::new(2, 9, 9, 6, 6, 3).depthwise().frozen_input(),
    ];
    for case in cases {
        check_conv(&mut rng, case);
    }
}

#[test]
fn conv2d_random_cases_match_candle() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    for _ in 0..40 {
        let k: usize = rng.random_range(1..=4);
        let dilation: usize = rng.random_range(1..=2);
        let padding: usize = rng.random_range(0..=2);
        let ek = dilation * (k - 1) + 1;
        let min = ek.saturating_sub(2 * padding).max(1);
        let h = rng.random_range(min..min + 10);
        let w = rng.random_range(min..min + 10);
        let c = rng.random_range(1..=9);
        let depthwise = c > 1 && rng.random_bool(0.25);
        let oc = if depthwise {
            c
        } else {
            rng.random_range(1..=9)
        };
        let case = Case {
            b: rng.random_range(1..=4),
            h,
            w,
            c,
            oc,
            k: (k, k),
            stride: rng.random_range(1..=3),
            padding,
            dilation,
            depthwise,
            relu: rng.random_bool(0.5),
            bias: rng.random_bool(0.7),
            input_grad: rng.random_bool(0.8),
        };
        check_conv(&mut rng, case);
    }
}

#[test]
fn conv2d_other_groups_fall_back() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let x = random(&mut rng, &[2, 6, 6, 4]);
    let w = random(&mut rng, &[3, 3, 2, 6]);
    let p = Conv2dParams {
        groups: 2,
        ..Default::default()
    };
    let y = kernels::conv2d(&x, &w, None, p, Activation::None).unwrap();
    assert_close(
        "groups=2",
        &y,
        &ref_conv2d(&x, &w, None, p, Activation::None),
    );
    // Depthwise with a channel multiplier of 2.
    let w = random(&mut rng, &[3, 3, 1, 8]);
    let p = Conv2dParams {
        groups: 4,
        ..Default::default()
    };
    let y = kernels::conv2d(&x, &w, None, p, Activation::Relu).unwrap();
    assert_close(
        "multiplier 2",
        &y,
        &ref_conv2d(&x, &w, None, p, Activation::Relu),
    );
}

#[test]
fn conv2d_bad_shapes_are_errors() {
    let x = Tensor::zeros((1, 5, 5, 3), DType::F32, &Device::Cpu).unwrap();
    let p = Conv2dParams::default();
    let w_bad_c = Tensor::zeros((3, 3, 4, 2), DType::F32, &Device::Cpu).unwrap();
    assert!(kernels::conv2d(&x, &w_bad_c, None, p, Activation::None).is_err());
    let w = Tensor::zeros((3, 3, 3, 2), DType::F32, &Device::Cpu).unwrap();
    let bad_bias = Tensor::zeros(3, DType::F32, &Device::Cpu).unwrap();
    assert!(kernels::conv2d(&x, &w, Some(&bad_bias), p, Activation::None).is_err());
    let w_big = Tensor::zeros((7, 7, 3, 2), DType::F32, &Device::Cpu).unwrap();
    assert!(kernels::conv2d(&x, &w_big, None, p, Activation::None).is_err());
    assert!(kernels::conv2d(
        &x,
        &w,
        None,
        Conv2dParams { stride: 0, ..p },
        Activation::None
    )
    .is_err());
    // Empty images and zero channels are errors, not panics.
    let empty = Tensor::zeros((1, 0, 5, 3), DType::F32, &Device::Cpu).unwrap();
    let wp = Tensor::zeros((1, 1, 3, 2), DType::F32, &Device::Cpu).unwrap();
    let p1 = Conv2dParams { padding: 1, ..p };
    assert!(kernels::conv2d(&empty, &wp, None, p1, Activation::None).is_err());
    let no_c = Tensor::zeros((1, 5, 5, 0), DType::F32, &Device::Cpu).unwrap();
    let w0 = Tensor::zeros((3, 3, 0, 2), DType::F32, &Device::Cpu).unwrap();
    assert!(kernels::conv2d(&no_c, &w0, None, p, Activation::None).is_err());
}

#[test]
fn conv2d_accepts_non_contiguous_input() {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    // NCHW data viewed as NHWC through a permute.
    let xn = random(&mut rng, &[2, 5, 7, 6]);
    let x = xn.permute((0, 2, 3, 1)).unwrap();
    assert!(!x.is_contiguous());
    let w = random(&mut rng, &[3, 3, 5, 4]);
    let p = Conv2dParams {
        padding: 1,
        ..Default::default()
    };
    let y = kernels::conv2d(&x, &w, None, p, Activation::None).unwrap();
    assert_close(
        "non-contiguous",
        &y,
        &ref_conv2d(&x, &w, None, p, Activation::None),
    );
}

#[test]
fn conv2d_is_deterministic() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let x = random(&mut rng, &[32, 13, 13, 32]);
    let w = random(&mut rng, &[3, 3, 32, 64]);
    let b = random(&mut rng, &[64]);
    let r = random(&mut rng, &[32, 11, 11, 64]);
    let run = || {
        let (xv, wv, bv) = (
            Var::from_tensor(&x).unwrap(),
            Var::from_tensor(&w).unwrap(),
            Var::from_tensor(&b).unwrap(),
        );
        let y = kernels::conv2d(
            &xv,
            &wv,
            Some(&bv),
            Conv2dParams::default(),
            Activation::Relu,
        )
        .unwrap();
        let g = (&y * &r).unwrap().sum_all().unwrap().backward().unwrap();
        [
            y,
            g.get(&xv).unwrap().clone(),
            g.get(&wv).unwrap().clone(),
            g.get(&bv).unwrap().clone(),
        ]
        .map(|t| t.flatten_all().unwrap().to_vec1::<f32>().unwrap())
    };
    let first = run();
    for _ in 0..3 {
        assert!(run() == first, "results differ between runs");
    }
}

#[test]
fn conv1d_matches_candle() {
    let mut rng = ChaCha8Rng::seed_from_u64(6);
    // (b, l, c, oc, k, stride, padding, dilation, depthwise, relu)
    let cases = [
        (2, 17, 4, 6, 3, 1, 1, 1, false, true),
        (3, 20, 5, 3, 5, 2, 2, 1, false, false),
        (1, 15, 3, 4, 3, 1, 2, 2, false, true),
        (2, 9, 1, 8, 3, 1, 0, 1, false, false),
        (2, 16, 6, 6, 3, 1, 1, 1, true, true),
        (8, 64, 16, 32, 5, 1, 2, 1, false, true),
    ];
    let mut checked_vs_candle = 0;
    for (b, l, c, oc, k, stride, padding, dilation, depthwise, relu) in cases {
        let groups = if depthwise { c } else { 1 };
        let x = random(&mut rng, &[b, l, c]);
        let w = random(&mut rng, &[k, c / groups, oc]);
        let bias = random(&mut rng, &[oc]);
        let p = Conv2dParams {
            stride,
            padding,
            dilation,
            groups,
        };
        let act = if relu {
            Activation::Relu
        } else {
            Activation::None
        };
        let (xv, wv, bv) = (
            Var::from_tensor(&x).unwrap(),
            Var::from_tensor(&w).unwrap(),
            Var::from_tensor(&bias).unwrap(),
        );
        let y = kernels::conv1d(&xv, &wv, Some(&bv), p, act).unwrap();
        // candle's conv1d: NCL input, [oc, c / groups, k] kernel.
        let xn = x.permute((0, 2, 1)).unwrap().contiguous().unwrap();
        let wn = w.permute((2, 1, 0)).unwrap().contiguous().unwrap();
        let mut yr = xn.conv1d(&wn, padding, stride, dilation, groups).unwrap();
        yr = yr
            .broadcast_add(&bias.reshape((1, oc, 1)).unwrap())
            .unwrap();
        if relu {
            yr = yr.relu().unwrap();
        }
        let yr = yr.permute((0, 2, 1)).unwrap().contiguous().unwrap();
        let what = format!("conv1d b={b} l={l} c={c} oc={oc} k={k} {p:?}");
        assert_close(&format!("{what} output vs candle"), &y, &yr);
        let r = random(&mut rng, yr.dims());
        let g = (&y * &r).unwrap().sum_all().unwrap().backward().unwrap();
        let (dx, dw, db) = (
            g.get(&xv).unwrap(),
            g.get(&wv).unwrap(),
            g.get(&bv).unwrap(),
        );
        // The direct f64 convolution on a height-1 image, padded along the length only.
        let n = naive_conv2d(
            &x.reshape((b, 1, l, c)).unwrap(),
            &w.reshape((1, k, c / groups, oc)).unwrap(),
            Some(&bias),
            Some(&r.reshape((b, 1, r.dim(1).unwrap(), oc)).unwrap()),
            p,
            (0, padding),
            act,
        );
        assert_close(
            &format!("{what} output vs direct"),
            &y,
            &n.y.squeeze(1).unwrap(),
        );
        assert_close(
            &format!("{what} dX vs direct"),
            dx,
            &n.dx.squeeze(1).unwrap(),
        );
        assert_close(
            &format!("{what} dW vs direct"),
            dw,
            &n.dw.squeeze(0).unwrap(),
        );
        assert_close(&format!("{what} dB vs direct"), db, &n.db);
        // candle's conv1d backward is wrong for batches > 1 in 0.11.1 (both dX and dW disagree
        // with the direct convolution), so the gradients are checked against candle's conv2d
        // on a height-1 image instead, where candle's backward handles the shape.
        let (xr, wr, br) = (
            Var::from_tensor(&x).unwrap(),
            Var::from_tensor(&w).unwrap(),
            Var::from_tensor(&bias).unwrap(),
        );
        let xn = xr
            .permute((0, 2, 1))
            .unwrap()
            .unsqueeze(2)
            .unwrap()
            .pad_with_zeros(3, padding, padding)
            .unwrap();
        let wn = wr
            .permute((2, 1, 0))
            .unwrap()
            .unsqueeze(2)
            .unwrap()
            .contiguous()
            .unwrap();
        let yr = xn
            .contiguous()
            .unwrap()
            .conv2d(&wn, 0, stride, dilation, groups)
            .unwrap();
        let mut yr = yr
            .broadcast_add(&br.reshape((1, oc, 1, 1)).unwrap())
            .unwrap();
        if relu {
            yr = yr.relu().unwrap();
        }
        let yr = yr.squeeze(2).unwrap().permute((0, 2, 1)).unwrap();
        assert_close(&format!("{what} output vs candle conv2d"), &y, &yr);
        let gr = (&yr * &r).unwrap().sum_all().unwrap().backward();
        if let Ok(gr) = gr {
            checked_vs_candle += 1;
            assert_close(&format!("{what} dX vs candle"), dx, gr.get(&xr).unwrap());
            assert_close(&format!("{what} dW vs candle"), dw, gr.get(&wr).unwrap());
            assert_close(&format!("{what} dB vs candle"), db, gr.get(&br).unwrap());
        }
    }
    assert!(
        checked_vs_candle >= 4,
        "only {checked_vs_candle} cases checked against candle"
    );
}

/// Reference pooling: stacks the `k * k` window taps (strided `index_select`s) on a new axis and
/// reduces it with candle's `max` / `mean`, whose gradients are exact.
fn ref_pool(x: &Tensor, k: usize, stride: usize, max: bool) -> Tensor {
    let (_, h, w, _) = x.dims4().unwrap();
    let (oh, ow) = ((h - k) / stride + 1, (w - k) / stride + 1);
    let idx = |start: usize, n: usize| {
        let v: Vec<u32> = (0..n).map(|i| (start + i * stride) as u32).collect();
        Tensor::new(v, &Device::Cpu).unwrap()
    };
    let mut taps = Vec::new();
    for ky in 0..k {
        for kx in 0..k {
            taps.push(
                x.index_select(&idx(ky, oh), 1)
                    .unwrap()
                    .index_select(&idx(kx, ow), 2)
                    .unwrap(),
            );
        }
    }
    let s = Tensor::stack(&taps, 0).unwrap();
    if max {
        s.max(0).unwrap()
    } else {
        s.mean(0).unwrap()
    }
}

fn check_pool(rng: &mut ChaCha8Rng, dims: [usize; 4], k: usize, stride: usize, max: bool) {
    let x = random(rng, &dims);
    let (xv, xr) = (Var::from_tensor(&x).unwrap(), Var::from_tensor(&x).unwrap());
    let y = if max {
        kernels::max_pool2d(&xv, k, stride)
    } else {
        kernels::avg_pool2d(&xv, k, stride)
    }
    .unwrap();
    let yr = ref_pool(&xr, k, stride, max);
    let what = format!(
        "{} pool {dims:?} k={k} s={stride}",
        if max { "max" } else { "avg" }
    );
    assert_close(&format!("{what} output"), &y, &yr);
    let r = random(rng, yr.dims());
    let g = (&y * &r).unwrap().sum_all().unwrap().backward().unwrap();
    let gr = (&yr * &r).unwrap().sum_all().unwrap().backward().unwrap();
    assert_close(
        &format!("{what} dX"),
        g.get(&xv).unwrap(),
        gr.get(&xr).unwrap(),
    );
}

#[test]
fn max_pool2d_matches_exact_formulation() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    // Against the reshape + max formulation (kernel == stride).
    for (dims, k) in [
        ([2, 8, 8, 3], 2),
        ([3, 11, 11, 4], 2),
        ([1, 9, 7, 5], 3),
        ([16, 26, 26, 32], 2),
    ] {
        let x = random(&mut rng, &dims);
        let (xv, xr) = (Var::from_tensor(&x).unwrap(), Var::from_tensor(&x).unwrap());
        let y = kernels::max_pool2d(&xv, k, k).unwrap();
        let [b, h, w, c] = dims;
        let (oh, ow) = (h / k, w / k);
        let xc = xr
            .narrow(1, 0, oh * k)
            .unwrap()
            .narrow(2, 0, ow * k)
            .unwrap();
        let yr = xc
            .reshape((b, oh, k, ow, k, c))
            .unwrap()
            .max(4)
            .unwrap()
            .max(2)
            .unwrap();
        assert_close("max pool output", &y, &yr);
        let r = random(&mut rng, yr.dims());
        let g = (&y * &r).unwrap().sum_all().unwrap().backward().unwrap();
        let gr = (&yr * &r).unwrap().sum_all().unwrap().backward().unwrap();
        assert_close(
            &format!("max pool {dims:?} k={k} dX"),
            g.get(&xv).unwrap(),
            gr.get(&xr).unwrap(),
        );
    }
    // Overlapping and gapped windows against the stacked-taps formulation.
    for (dims, k, s) in [
        ([2, 9, 9, 3], 3, 2),
        ([2, 7, 8, 2], 2, 1),
        ([1, 10, 10, 4], 3, 1),
        ([2, 11, 9, 3], 2, 3),
    ] {
        check_pool(&mut rng, dims, k, s, true);
    }
}

#[test]
fn max_pool2d_gradient_matches_finite_differences() {
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    // Distinct values at least 0.05 apart, so that no perturbation below changes an argmax.
    let mut vals: Vec<f32> = (0..2 * 7 * 7 * 3).map(|i| i as f32 * 0.05 - 7.0).collect();
    for i in (1..vals.len()).rev() {
        vals.swap(i, rng.random_range(0..=i));
    }
    let x = Tensor::from_vec(vals, (2, 7, 7, 3), &Device::Cpu).unwrap();
    let r = random(&mut rng, &[2, 3, 3, 3]);
    let loss = |x: &Tensor| {
        let y = kernels::max_pool2d(x, 3, 2).unwrap();
        (&y * &r).unwrap().sum_all().unwrap()
    };
    let xv = Var::from_tensor(&x).unwrap();
    let grad = loss(&xv)
        .backward()
        .unwrap()
        .get(&xv)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1::<f32>()
        .unwrap();
    let base = x.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    let eps = 1e-2f32;
    for (i, &gv) in grad.iter().enumerate() {
        let eval = |d: f32| {
            let mut v = base.clone();
            v[i] += d;
            loss(&Tensor::from_vec(v, x.dims(), &Device::Cpu).unwrap())
                .to_scalar::<f32>()
                .unwrap()
        };
        let fd = (eval(eps) - eval(-eps)) / (2.0 * eps);
        assert!(
            (fd - gv).abs() < 1e-3,
            "element {i}: finite difference {fd}, gradient {gv}"
        );
    }
}

#[test]
fn avg_pool2d_matches_candle() {
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    for (dims, k, s) in [
        ([2, 8, 8, 3], 2, 2),
        ([3, 11, 11, 4], 2, 2),
        ([2, 9, 9, 3], 3, 2),
        ([1, 7, 8, 2], 2, 1),
        ([16, 26, 26, 32], 2, 2),
    ] {
        check_pool(&mut rng, dims, k, s, false);
        // candle's own avg_pool2d (forward) on NCHW.
        let x = random(&mut rng, &dims);
        let y = kernels::avg_pool2d(&x, k, s).unwrap();
        let xn = x.permute((0, 3, 1, 2)).unwrap().contiguous().unwrap();
        let yr = xn
            .avg_pool2d_with_stride(k, s)
            .unwrap()
            .permute((0, 2, 3, 1))
            .unwrap();
        assert_close("avg pool vs candle", &y, &yr);
    }
}

#[test]
fn pools_reject_zero_sizes_and_drop_partial_windows() {
    let x = Tensor::arange(0f32, 50.0, &Device::Cpu)
        .unwrap()
        .reshape((1, 5, 5, 2))
        .unwrap();
    assert!(kernels::max_pool2d(&x, 0, 1).is_err());
    assert!(kernels::avg_pool2d(&x, 2, 0).is_err());
    let y = kernels::max_pool2d(&x, 2, 2).unwrap();
    assert_eq!(y.dims(), &[1, 2, 2, 2]);
    // The window at (1, 1) covers rows 2..4 and columns 2..4: the maximum is at (3, 3).
    let v = y
        .get(0)
        .unwrap()
        .get(1)
        .unwrap()
        .get(1)
        .unwrap()
        .to_vec1::<f32>()
        .unwrap();
    assert_eq!(v, vec![36.0, 37.0]);
    let m = y.max_keepdim(D::Minus1).unwrap();
    assert_eq!(m.dims(), &[1, 2, 2, 1]);
}

#[test]
fn other_dtypes_take_the_fallback() {
    let mut rng = ChaCha8Rng::seed_from_u64(10);
    let x = random(&mut rng, &[2, 8, 8, 3]);
    let w = random(&mut rng, &[3, 3, 3, 4]);
    let b = random(&mut rng, &[4]);
    let p = Conv2dParams {
        padding: 1,
        stride: 2,
        ..Default::default()
    };
    let f64s = |t: &Tensor| t.to_dtype(DType::F64).unwrap();
    let y32 = kernels::conv2d(&x, &w, Some(&b), p, Activation::Relu).unwrap();
    let y64 = kernels::conv2d(&f64s(&x), &f64s(&w), Some(&f64s(&b)), p, Activation::Relu).unwrap();
    assert_eq!(y64.dtype(), DType::F64);
    assert_close("f64 conv", &y64.to_dtype(DType::F32).unwrap(), &y32);
    for k in [2, 3] {
        let m32 = kernels::max_pool2d(&x, k, k).unwrap();
        let m64 = kernels::max_pool2d(&f64s(&x), k, k).unwrap();
        assert_close("f64 max pool", &m64.to_dtype(DType::F32).unwrap(), &m32);
        let a32 = kernels::avg_pool2d(&x, k, k).unwrap();
        let a64 = kernels::avg_pool2d(&f64s(&x), k, k).unwrap();
        assert_close("f64 avg pool", &a64.to_dtype(DType::F32).unwrap(), &a32);
    }
}

#[test]
fn max_pool2d_ties_go_to_the_first_maximum() {
    // Every window is constant: the whole gradient goes to its first (top-left) position,
    // as with an argmax, never split or duplicated.
    let x =
        Var::from_tensor(&Tensor::ones((2, 5, 5, 3), DType::F32, &Device::Cpu).unwrap()).unwrap();
    for (k, s) in [(2, 2), (3, 2), (2, 1)] {
        let y = kernels::max_pool2d(&x, k, s).unwrap();
        let g = y.sum_all().unwrap().backward().unwrap();
        let dx = g
            .get(&x)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap();
        let (oh, ow) = ((5 - k) / s + 1, (5 - k) / s + 1);
        let mut want = vec![0f32; 2 * 5 * 5 * 3];
        for n in 0..2 {
            for oy in 0..oh {
                for ox in 0..ow {
                    for c in 0..3 {
                        want[((n * 5 + oy * s) * 5 + ox * s) * 3 + c] += 1.0;
                    }
                }
            }
        }
        assert_eq!(dx, want, "k={k} s={s}");
    }
}

/// The fused conv + max-pool op against the two ops in a row: same values, same gradients for
/// the input, the kernel and the bias (loss: a random projection of the output).
fn check_conv_pool(
    rng: &mut ChaCha8Rng,
    dims: [usize; 4],
    oc: usize,
    p: Conv2dParams,
    pool: (usize, usize),
    act: Activation,
) {
    let [_, _, _, c] = dims;
    let x = Var::from_tensor(&random(rng, &dims)).unwrap();
    let w = Var::from_tensor(&random(rng, &[3, 3, c, oc])).unwrap();
    let b = Var::from_tensor(&random(rng, &[oc])).unwrap();
    let (k, s) = pool;
    let fused = kernels::conv2d_max_pool2d(&x, &w, &b, p, act, k, s).unwrap();
    let conv = kernels::conv2d(&x, &w, Some(&b), p, act).unwrap();
    let separate = kernels::max_pool2d(&conv, k, s).unwrap();
    let what = format!("{dims:?} oc {oc} {p:?} pool {pool:?} {act:?}");
    assert_eq!(fused.dims(), separate.dims(), "{what}: shapes");
    // The same arithmetic in the same order: identical values.
    assert_eq!(
        fused.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
        separate.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
        "{what}: values"
    );
    let proj = random(rng, fused.dims());
    let gf = (&fused * &proj)
        .unwrap()
        .sum_all()
        .unwrap()
        .backward()
        .unwrap();
    let gs = (&separate * &proj)
        .unwrap()
        .sum_all()
        .unwrap()
        .backward()
        .unwrap();
    for (name, v) in [("dx", &x), ("dw", &w), ("db", &b)] {
        let a = gf
            .get(v.as_tensor())
            .unwrap_or_else(|| panic!("{what}: no fused {name}"));
        let e = gs.get(v.as_tensor()).unwrap();
        assert_close(&format!("{what}: {name}"), a, e);
    }
}

#[test]
fn conv2d_max_pool2d_matches_the_two_ops() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let relu = Activation::Relu;
    let plain = Conv2dParams::default();
    // The reference CNN's two layers (odd 11x11 output: the last row and column are dropped).
    check_conv_pool(&mut rng, [3, 28, 28, 1], 8, plain, (2, 2), relu);
    check_conv_pool(&mut rng, [2, 13, 13, 32], 16, plain, (2, 2), relu);
    // Batch 1, padding, no activation, overlapping 3x3 windows with stride 2, stride-2 conv.
    check_conv_pool(&mut rng, [1, 9, 7, 3], 5, plain, (2, 2), relu);
    let same = Conv2dParams {
        padding: 1,
        ..plain
    };
    check_conv_pool(&mut rng, [2, 8, 8, 4], 6, same, (2, 2), Activation::None);
    check_conv_pool(&mut rng, [2, 11, 10, 3], 7, same, (3, 2), relu);
    let strided = Conv2dParams {
        stride: 2,
        padding: 1,
        ..plain
    };
    check_conv_pool(&mut rng, [3, 15, 15, 2], 4, strided, (2, 2), relu);
}

#[test]
fn conv2d_max_pool2d_ties_and_dead_relus_get_no_gradient_twice() {
    // All-zero input and weights with a negative bias: every ReLU output is 0, every window is
    // a four-way tie, and no gradient may flow.
    let x =
        Var::from_tensor(&Tensor::zeros((1, 6, 6, 2), DType::F32, &Device::Cpu).unwrap()).unwrap();
    let w =
        Var::from_tensor(&Tensor::zeros((3, 3, 2, 3), DType::F32, &Device::Cpu).unwrap()).unwrap();
    let b = Var::from_tensor(&Tensor::new(&[-1f32, -0.5, -2.0], &Device::Cpu).unwrap()).unwrap();
    let y = kernels::conv2d_max_pool2d(&x, &w, &b, Conv2dParams::default(), Activation::Relu, 2, 2)
        .unwrap();
    assert_eq!(y.dims(), &[1, 2, 2, 3]);
    let g = y.sum_all().unwrap().backward().unwrap();
    let db = g.get(b.as_tensor()).unwrap().to_vec1::<f32>().unwrap();
    assert_eq!(db, vec![0.0; 3]);
    // Positive bias: every window ties at the bias value; the gradient goes to exactly one tap
    // per window, so the bias gradient counts the windows (4).
    let b = Var::from_tensor(&Tensor::new(&[1f32, 0.5, 2.0], &Device::Cpu).unwrap()).unwrap();
    let y = kernels::conv2d_max_pool2d(&x, &w, &b, Conv2dParams::default(), Activation::Relu, 2, 2)
        .unwrap();
    let g = y.sum_all().unwrap().backward().unwrap();
    let db = g.get(b.as_tensor()).unwrap().to_vec1::<f32>().unwrap();
    assert_eq!(db, vec![4.0; 3]);
}

/// Batch norm in training mode against the same formula in candle ops: output, statistics and
/// the gradients of the input, the scale and the shift.
#[test]
fn batch_norm_train_matches_candle() {
    let mut rng = ChaCha8Rng::seed_from_u64(21);
    for (rows, c) in [(2, 3), (7, 5), (128, 16), (4096, 24), (1, 4)] {
        let x = Var::from_tensor(
            &(random(&mut rng, &[rows, c]) * 3.0)
                .unwrap()
                .affine(1.0, 0.5)
                .unwrap(),
        )
        .unwrap();
        let gamma = Var::from_tensor(&random(&mut rng, &[c])).unwrap();
        let beta = Var::from_tensor(&random(&mut rng, &[c])).unwrap();
        let eps = 1e-3;
        let (y, stats) = kernels::batch_norm_train(&x, &gamma, &beta, eps).unwrap();
        let mean = x.mean(0).unwrap();
        let centered = x.broadcast_sub(&mean).unwrap();
        let var = centered.sqr().unwrap().mean(0).unwrap();
        let inv = (&var + eps).unwrap().sqrt().unwrap().recip().unwrap();
        let reference = centered
            .broadcast_mul(&(inv * gamma.as_tensor()).unwrap())
            .unwrap()
            .broadcast_add(&beta)
            .unwrap();
        let what = format!("{rows}x{c}");
        assert_close(&format!("{what}: output"), &y, &reference);
        assert_close(
            &format!("{what}: mean"),
            &Tensor::new(stats.mean.as_slice(), &Device::Cpu).unwrap(),
            &mean,
        );
        assert_close(
            &format!("{what}: variance"),
            &Tensor::new(stats.var.as_slice(), &Device::Cpu).unwrap(),
            &var,
        );
        let proj = random(&mut rng, &[rows, c]);
        let g1 = (&y * &proj).unwrap().sum_all().unwrap().backward().unwrap();
        let g2 = (&reference * &proj)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        for (name, v) in [("dx", &x), ("dgamma", &gamma), ("dbeta", &beta)] {
            let a = g1
                .get(v.as_tensor())
                .unwrap_or_else(|| panic!("{what}: no {name}"));
            let b = g2.get(v.as_tensor()).unwrap();
            assert_close(&format!("{what}: {name}"), a, b);
        }
    }
}
