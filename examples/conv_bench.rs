//! Times stock candle (NCHW conv2d / max_pool2d) against autocandle's CPU kernels (NHWC) on the
//! reference CNN's layers; prints one JSON line per case and pass.
//!
//! Run with `cargo run --release --example conv_bench [-- [REPS] [--ours-only] [FILTER]]`
//! (default 9 repetitions, median reported; FILTER keeps the cases whose name contains it).
//! Pin the thread count with `RAYON_NUM_THREADS` and run on a quiet machine.

use autocandle::kernels::{self, Activation, Conv2dParams};
use candle_core::{Device, Result, Tensor, Var};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::time::Instant;

// candle allocates a fresh buffer for every op; mimalloc, set up as in `autocandle::allocator`,
// keeps freed pages instead of returning them to the OS. Both sides of the comparison use it.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn random(rng: &mut ChaCha8Rng, shape: &[usize]) -> Result<Tensor> {
    let n: usize = shape.iter().product();
    let v: Vec<f32> = (0..n).map(|_| rng.random_range(-1.0f32..1.0)).collect();
    Tensor::from_vec(v, shape, &Device::Cpu)
}

/// Median wall time of `f` in milliseconds, after two warm-up runs.
fn median_ms(reps: usize, mut f: impl FnMut() -> Result<()>) -> Result<f64> {
    for _ in 0..2 {
        f()?;
    }
    let mut times = Vec::with_capacity(reps);
    for _ in 0..reps {
        let t = Instant::now();
        f()?;
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    Ok(times[times.len() / 2])
}

/// Command-line options: `[REPS] [--ours-only] [FILTER]`.
struct Opts {
    reps: usize,
    /// Skip stock candle (for profiling our kernels).
    ours_only: bool,
    /// Run only the cases whose name contains this.
    filter: Option<String>,
}

impl Opts {
    fn parse() -> Opts {
        let mut o = Opts {
            reps: 9,
            ours_only: false,
            filter: None,
        };
        for a in std::env::args().skip(1) {
            if let Ok(n) = a.parse() {
                o.reps = n;
            } else if a == "--ours-only" {
                o.ours_only = true;
            } else {
                o.filter = Some(a);
            }
        }
        o
    }

    fn wants(&self, case: &str) -> bool {
        self.filter
            .as_ref()
            .is_none_or(|f| case.contains(f.as_str()))
    }

    /// Times stock candle (unless `--ours-only`) and ours; NaN stands for "not measured".
    fn time(
        &self,
        stock: impl FnMut() -> Result<()>,
        ours: impl FnMut() -> Result<()>,
    ) -> Result<(f64, f64)> {
        let s = if self.ours_only {
            f64::NAN
        } else {
            median_ms(self.reps, stock)?
        };
        Ok((s, median_ms(self.reps, ours)?))
    }
}

fn report(case: &str, pass: &str, (stock_ms, ours_ms): (f64, f64), flops: Option<f64>) {
    let num = |v: f64, scale: f64| {
        if v.is_finite() {
            serde_json::json!((v * scale).round() / scale)
        } else {
            serde_json::Value::Null
        }
    };
    let mut line = serde_json::json!({
        "case": case,
        "pass": pass,
        "stock_ms": num(stock_ms, 100.0),
        "ours_ms": num(ours_ms, 100.0),
        "speedup": num(stock_ms / ours_ms, 100.0),
    });
    if let Some(f) = flops {
        line["stock_gflops"] = num(f / stock_ms / 1e6, 10.0);
        line["ours_gflops"] = num(f / ours_ms / 1e6, 10.0);
    }
    println!("{line}");
}

/// One 3x3 convolution layer with bias and relu.
struct ConvSpec {
    name: &'static str,
    /// Input `[b, h, w, c]`.
    dims: [usize; 4],
    /// Output channels (ignored for depthwise: `c`).
    oc: usize,
    padding: usize,
    depthwise: bool,
    /// Whether the input needs a gradient (not for a network's first layer).
    input_grad: bool,
}

fn conv_case(rng: &mut ChaCha8Rng, opts: &Opts, spec: &ConvSpec) -> Result<()> {
    let name = spec.name;
    if !opts.wants(name) {
        return Ok(());
    }
    let [b, h, w, c] = spec.dims;
    let (groups, cg, oc) = if spec.depthwise {
        (c, 1, c)
    } else {
        (1, c, spec.oc)
    };
    let pad = spec.padding;
    let (oh, ow) = (h + 2 * pad - 2, w + 2 * pad - 2);
    let x = random(rng, &spec.dims)?;
    let wt = random(rng, &[3, 3, cg, oc])?;
    let bias = random(rng, &[oc])?;
    // Stock candle: NCHW input, [oc, c / groups, kh, kw] kernel.
    let xn = x.permute((0, 3, 1, 2))?.contiguous()?;
    let wn = wt.permute((3, 2, 0, 1))?.contiguous()?;
    let (xv, wv, bv) = (
        Var::from_tensor(&x)?,
        Var::from_tensor(&wt)?,
        Var::from_tensor(&bias)?,
    );
    let (xnv, wnv, bnv) = (
        Var::from_tensor(&xn)?,
        Var::from_tensor(&wn)?,
        Var::from_tensor(&bias)?,
    );
    let x_in = if spec.input_grad {
        xv.as_tensor().clone()
    } else {
        x.clone()
    };
    let xn_in = if spec.input_grad {
        xnv.as_tensor().clone()
    } else {
        xn.clone()
    };

    let stock = |x: &Tensor, w: &Tensor, b: &Tensor| -> Result<Tensor> {
        x.conv2d(w, pad, 1, 1, groups)?
            .broadcast_add(&b.reshape((1, oc, 1, 1))?)?
            .relu()
    };
    let params = Conv2dParams {
        padding: pad,
        groups,
        ..Default::default()
    };
    let ours = |x: &Tensor, w: &Tensor, b: &Tensor| -> Result<Tensor> {
        kernels::conv2d(x, w, Some(b), params, Activation::Relu)
    };
    let fwd_flops = 2.0 * (b * oh * ow) as f64 * (9 * cg) as f64 * oc as f64;
    // Useful work of a training step: forward, dW, and dX when the input needs a gradient.
    let train_flops = fwd_flops * if spec.input_grad { 3.0 } else { 2.0 };

    let t = opts.time(
        || stock(&xn, &wn, &bias).map(|_| ()),
        || ours(&x, &wt, &bias).map(|_| ()),
    )?;
    report(name, "forward", t, Some(fwd_flops));
    let t = opts.time(
        || stock(&xn_in, &wnv, &bnv)?.sum_all()?.backward().map(|_| ()),
        || ours(&x_in, &wv, &bv)?.sum_all()?.backward().map(|_| ()),
    )?;
    report(name, "forward+backward", t, Some(train_flops));
    Ok(())
}

fn pool_case(rng: &mut ChaCha8Rng, opts: &Opts) -> Result<()> {
    let name = "maxpool 2x2 on 128x26x26x32";
    if !opts.wants(name) {
        return Ok(());
    }
    let x = random(rng, &[128, 26, 26, 32])?;
    let xn = x.permute((0, 3, 1, 2))?.contiguous()?;
    let (xv, xnv) = (Var::from_tensor(&x)?, Var::from_tensor(&xn)?);
    let t = opts.time(
        || xn.max_pool2d(2).map(|_| ()),
        || kernels::max_pool2d(&x, 2, 2).map(|_| ()),
    )?;
    report(name, "forward", t, None);
    let t = opts.time(
        || xnv.max_pool2d(2)?.sum_all()?.backward().map(|_| ()),
        || {
            kernels::max_pool2d(&xv, 2, 2)?
                .sum_all()?
                .backward()
                .map(|_| ())
        },
    )?;
    report(name, "forward+backward", t, None);
    Ok(())
}

/// Conv 3x3 + ReLU then 2x2 max pooling: two ops in a row against the fused kernel.
fn fused_case(rng: &mut ChaCha8Rng, opts: &Opts, dims: [usize; 4], oc: usize) -> Result<()> {
    let [b, h, w, c] = dims;
    let name = format!("conv3x3 {c}->{oc} + maxpool2 on {b}x{h}x{w}x{c}");
    if !opts.wants(&name) {
        return Ok(());
    }
    let x = random(rng, &dims)?;
    let wv = Var::from_tensor(&random(rng, &[3, 3, c, oc])?)?;
    let bv = Var::from_tensor(&random(rng, &[oc])?)?;
    let xv = Var::from_tensor(&x)?;
    let p = Conv2dParams::default();
    let separate = |x: &Tensor| -> Result<Tensor> {
        kernels::max_pool2d(
            &kernels::conv2d(x, &wv, Some(&bv), p, Activation::Relu)?,
            2,
            2,
        )
    };
    let fused = |x: &Tensor| kernels::conv2d_max_pool2d(x, &wv, &bv, p, Activation::Relu, 2, 2);
    for (pass, input) in [("forward", &x), ("forward+backward", xv.as_tensor())] {
        let train = pass != "forward";
        let run = |f: &dyn Fn(&Tensor) -> Result<Tensor>| -> Result<()> {
            let y = f(input)?;
            if train {
                y.sum_all()?.backward()?;
            }
            Ok(())
        };
        let (a, f) = (
            median_ms(opts.reps, || run(&separate))?,
            median_ms(opts.reps, || run(&fused))?,
        );
        println!(
            "{}",
            serde_json::json!({"case": name, "pass": pass, "separate_ms": (a * 100.0).round() / 100.0,
                "fused_ms": (f * 100.0).round() / 100.0, "speedup": (a / f * 100.0).round() / 100.0})
        );
    }
    Ok(())
}

/// Batch norm (training) on a ResNet stage's activations: candle ops against the fused op.
fn batch_norm_case(rng: &mut ChaCha8Rng, opts: &Opts) -> Result<()> {
    let name = "batch norm train on 128x32x32x16";
    if !opts.wants(name) {
        return Ok(());
    }
    let (rows, c) = (128 * 32 * 32, 16);
    let x = Var::from_tensor(&random(rng, &[rows, c])?)?;
    let gamma = Var::from_tensor(&random(rng, &[c])?)?;
    let beta = Var::from_tensor(&random(rng, &[c])?)?;
    let stock = || -> Result<()> {
        let mean = x.mean(0)?;
        let centered = x.broadcast_sub(&mean)?;
        let var = centered.sqr()?.mean(0)?;
        let inv = (&var + 1e-3)?.sqrt()?.recip()?;
        let y = centered
            .broadcast_mul(&(inv * gamma.as_tensor())?)?
            .broadcast_add(&beta)?;
        y.sum_all()?.backward().map(|_| ())
    };
    let ours = || -> Result<()> {
        let (y, _) = kernels::batch_norm_train(&x, &gamma, &beta, 1e-3)?;
        y.sum_all()?.backward().map(|_| ())
    };
    let t = opts.time(stock, ours)?;
    report(name, "forward+backward", t, None);
    Ok(())
}

fn main() -> Result<()> {
    autocandle::allocator::set_up_for_training();
    let opts = Opts::parse();
    eprintln!(
        "rayon threads: {}, median of {} repetitions",
        rayon::current_num_threads(),
        opts.reps
    );
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let convs = [
        // (a) The reference CNN's second convolution.
        ConvSpec {
            name: "conv2 3x3 32->64 on 128x13x13x32",
            dims: [128, 13, 13, 32],
            oc: 64,
            padding: 0,
            depthwise: false,
            input_grad: true,
        },
        // (b) Its first convolution, on the images (no input gradient).
        ConvSpec {
            name: "conv1 3x3 1->32 on 128x28x28x1",
            dims: [128, 28, 28, 1],
            oc: 32,
            padding: 0,
            depthwise: false,
            input_grad: false,
        },
        // The depthwise half of a separable convolution.
        ConvSpec {
            name: "depthwise 3x3 pad 1 on 128x14x14x64",
            dims: [128, 14, 14, 64],
            oc: 64,
            padding: 1,
            depthwise: true,
            input_grad: true,
        },
    ];
    for spec in &convs {
        conv_case(&mut rng, &opts, spec)?;
    }
    pool_case(&mut rng, &opts)?;
    fused_case(&mut rng, &opts, [128, 28, 28, 1], 32)?;
    fused_case(&mut rng, &opts, [128, 13, 13, 32], 64)?;
    batch_norm_case(&mut rng, &opts)?;
    Ok(())
}
