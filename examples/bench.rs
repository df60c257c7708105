//! Benchmarks, one JSON line per measurement (release build):
//!
//! ```text
//! cargo run --release --example bench -- reference-cnn --threads 2 [--impl ours|stock] [--batches 60]
//! cargo run --release --example bench -- mnist-search      # max_trials=2, seed=1
//! cargo run --release --example bench -- cifar-search      # time_limit=30m, epochs=20, seed=1
//! cargo run --release --example bench -- network-init [--runs 5] [--train-batches 0]  # 151 M params
//! ```
//! Data come from `$AUTOCANDLE_DATA` (default `../shared/data`).

use autocandle::automodel::SearchConfig;
use autocandle::datasets;
use autocandle::graph::{Activation, Architecture, HeadKind, Layer, Network, Node, Padding, Phase};
use autocandle::prelude::*;
use autocandle::training::{Optimizer, OptimizerKind};
use candle_core::{DType, Device, Tensor, D};
use candle_nn::{Module, Optimizer as _, VarBuilder, VarMap};
use rand::SeedableRng;
use serde_json::json;
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn data_dir() -> PathBuf {
    std::env::var_os("AUTOCANDLE_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data")))
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

/// A dense layer.
fn dense(units: usize, activation: Activation) -> Layer {
    Layer::Dense { units, activation }
}

/// A 10-class classifier of `nodes` over samples of `input_shape`.
fn ten_classes(input_shape: Vec<usize>, nodes: Vec<Node>) -> Architecture {
    Architecture {
        input_shape,
        nodes,
        head: HeadKind::Classification {
            num_classes: 10,
            sigmoid: false,
            multi_label: false,
        },
    }
}

/// The first `n` images of `data`, pixels scaled to [0, 1], and their class labels.
fn first_images(data: &ImageDataset, n: usize) -> autocandle::Result<(Vec<f32>, Vec<u32>)> {
    if data.len() < n {
        return Err(Error::Config(format!(
            "the benchmark needs {n} training images, the data have {}",
            data.len()
        )));
    }
    let per_image = data.x.shape[1..].iter().product::<usize>();
    let pixels = (0..n * per_image)
        .map(|i| data.x.pixels.get(i) / 255.0)
        .collect();
    match &data.y {
        Targets::Int(v) => Ok((pixels, v[..n].iter().map(|&l| l as u32).collect())),
        _ => Err(Error::Config("the labels are not class indices".into())),
    }
}

/// The reference CNN as an autocandle architecture (NHWC, our kernels).
fn reference_arch() -> Architecture {
    let conv = |f| Layer::Conv2d {
        filters: f,
        kernel: 3,
        stride: 1,
        padding: Padding::Valid,
        activation: Activation::Relu,
        separable: false,
    };
    ten_classes(
        vec![28, 28, 1],
        vec![
            Node::new("conv1", "ref", conv(32)),
            Node::new("pool1", "ref", Layer::MaxPool { size: 2, stride: 2 }),
            Node::new("conv2", "ref", conv(64)),
            Node::new("pool2", "ref", Layer::MaxPool { size: 2, stride: 2 }),
            Node::new("flatten", "ref", Layer::Flatten),
            Node::new("dense1", "ref", dense(128, Activation::Relu)),
            Node::new("dense2", "ref", dense(10, Activation::Linear)),
        ],
    )
}

/// Training throughput of the reference CNN on MNIST batches of 128 with Adam 1e-3.
fn reference_cnn(args: &[String]) -> autocandle::Result<()> {
    let imp = arg(args, "--impl").unwrap_or_else(|| "ours".into());
    let batches: usize = arg(args, "--batches")
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let split = datasets::mnist(Some(&data_dir().join("mnist")))?;
    let (pixels, labels) = first_images(&split.train, 128 * (batches + 5))?;
    let dev = Device::Cpu;
    let batch = |i: usize, nchw: bool| -> candle_core::Result<(Tensor, Tensor)> {
        let x = Tensor::from_slice(
            &pixels[i * 128 * 784..(i + 1) * 128 * 784],
            (128, 28, 28, 1),
            &dev,
        )?;
        let x = if nchw {
            x.permute((0, 3, 1, 2))?.contiguous()?
        } else {
            x
        };
        Ok((
            x,
            Tensor::from_slice(&labels[i * 128..(i + 1) * 128], 128, &dev)?,
        ))
    };
    let mut times = Vec::new();
    let mut phases: Vec<[f64; 3]> = Vec::new();
    let mut losses = Vec::new();
    match imp.as_str() {
        "stock" => {
            let vm = VarMap::new();
            let vb = VarBuilder::from_varmap(&vm, DType::F32, &dev);
            let c1 = candle_nn::conv2d(1, 32, 3, Default::default(), vb.pp("c1"))?;
            let c2 = candle_nn::conv2d(32, 64, 3, Default::default(), vb.pp("c2"))?;
            let l1 = candle_nn::linear(1600, 128, vb.pp("l1"))?;
            let l2 = candle_nn::linear(128, 10, vb.pp("l2"))?;
            let mut opt = candle_nn::AdamW::new(
                vm.all_vars(),
                candle_nn::ParamsAdamW {
                    lr: 1e-3,
                    weight_decay: 0.0,
                    ..Default::default()
                },
            )?;
            for i in 0..batches + 5 {
                let t = Instant::now();
                let (x, y) = batch(i, true)?;
                let h = c1.forward(&x)?.relu()?.max_pool2d(2)?;
                let h = c2.forward(&h)?.relu()?.max_pool2d(2)?.flatten_from(1)?;
                let out = l2.forward(&l1.forward(&h)?.relu()?)?;
                let loss = candle_nn::loss::cross_entropy(&out, &y)?;
                losses.push(loss.to_scalar::<f32>()?);
                opt.backward_step(&loss)?;
                if i >= 5 {
                    times.push(t.elapsed().as_secs_f64());
                }
            }
        }
        _ => {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
            let net = Network::new(reference_arch(), &dev, &mut rng)?;
            let mut opt =
                Optimizer::new(OptimizerKind::Adam, net.params.vars(), 1e-3, batches + 5)?;
            for i in 0..batches + 5 {
                let t = Instant::now();
                let (x, y) = batch(i, false)?;
                let out = net.forward(&x, &mut Phase::Train(&mut rng))?;
                let loss = candle_nn::loss::cross_entropy(&out, &y)?;
                losses.push(loss.to_scalar::<f32>()?);
                let t_fwd = t.elapsed().as_secs_f64();
                let grads = loss.backward()?;
                let t_bwd = t.elapsed().as_secs_f64();
                opt.step(&grads)?;
                if i >= 5 {
                    let total = t.elapsed().as_secs_f64();
                    times.push(total);
                    phases.push([t_fwd, t_bwd - t_fwd, total - t_bwd]);
                }
            }
            let _ = out_dim_check(&net);
        }
    }
    times.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    let median = times[times.len() / 2];
    let phase_ms = |k: usize| -> Option<f64> {
        let mut v: Vec<f64> = phases.iter().map(|p| p[k]).collect();
        v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
        v.get(v.len() / 2).map(|m| (m * 1e4).round() / 10.0)
    };
    let total: f64 = times.iter().sum();
    // Training FLOPs per image: forward (conv1 + conv2 + dense) x 3.
    let flops = 3.0
        * 2.0
        * (26.0 * 26.0 * 32.0 * 9.0 + 11.0 * 11.0 * 64.0 * 288.0 + 1600.0 * 128.0 + 1280.0);
    println!(
        "{}",
        json!({
            "bench": "reference_cnn_train",
            "impl": imp,
            "threads": rayon::current_num_threads(),
            "batches": batches,
            "mean_loss_last_10": losses.iter().rev().take(10).sum::<f32>() / 10.0,
            "images_per_s": (128.0 * batches as f64 / total).round(),
            "median_batch_ms": (median * 1e4).round() / 10.0,
            "median_forward_ms": phase_ms(0),
            "median_backward_ms": phase_ms(1),
            "median_step_ms": phase_ms(2),
            "gflops": (flops * 128.0 * batches as f64 / total / 1e9 * 10.0).round() / 10.0,
        })
    );
    Ok(())
}

fn out_dim_check(net: &Network) -> candle_core::Result<usize> {
    let x = Tensor::zeros((1, 28, 28, 1), DType::F32, &Device::Cpu)?;
    let y = net
        .forward(&x, &mut Phase::Eval)
        .map_err(|e| candle_core::Error::Msg(e.to_string()))?;
    y.dim(D::Minus1)
}

fn search(
    name: &str,
    data: autocandle::data::Split,
    config: SearchConfig,
) -> autocandle::Result<()> {
    let start = Instant::now();
    let mut clf = ImageClassifier::new(config);
    clf.on_progress(autocandle::display::terminal::progress());
    clf.fit(&data.train, None)?;
    let acc = clf.evaluate(&data.test)?.accuracy;
    let r = clf.result().cloned();
    println!(
        "{}",
        json!({
            "bench": name,
            "test_accuracy": acc,
            "wall_seconds": start.elapsed().as_secs_f64().round(),
            "trials": r.as_ref().map(|r| r.trials.len()),
            "best_trial": r.as_ref().map(|r| r.best_trial.clone()),
            "final_fit": r.as_ref().map(|r| r.final_fit),
            "peak_rss_mb": peak_rss_mb().round(),
            "threads": rayon::current_num_threads(),
        })
    );
    Ok(())
}

/// Initial weights of a 151 M-parameter network (CIFAR-sized input, flattened into a dense layer
/// of 49,152 units, the size of the largest network hyperband drew on CIFAR-10): our
/// `Network::new` against the same values drawn one by one and copied into a variable (what it
/// did before), alternately, `--runs` times each.
fn network_init(args: &[String]) -> autocandle::Result<()> {
    use rand::Rng;
    let runs: usize = arg(args, "--runs")
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let arch = ten_classes(
        vec![32, 32, 3],
        vec![
            Node::new("flatten", "dense_block_1", Layer::Flatten),
            Node::new("dense", "dense_block_1", dense(49_152, Activation::Relu)),
            Node::new("output", "head", dense(10, Activation::Linear)),
        ],
    );
    let params = arch.param_count()?;
    let (mut ours, mut before) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let t = Instant::now();
        let net = Network::new(
            arch.clone(),
            &Device::Cpu,
            &mut rand_chacha::ChaCha8Rng::seed_from_u64(1),
        )?;
        ours.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let mut vars = Vec::new();
        // He-uniform for the hidden layer, Glorot for the output layer, as `Network::new`.
        let limits = [(6.0f64 / 3072.0).sqrt(), (6.0f64 / 49_162.0).sqrt()];
        for (shape, limit) in [[3072usize, 49_152], [49_152, 10]].into_iter().zip(limits) {
            let n = shape[0] * shape[1];
            let v: Vec<f32> = (0..n)
                .map(|_| ((rng.random::<f64>() * 2.0 - 1.0) * limit) as f32)
                .collect();
            let t = Tensor::from_vec(v, &shape, &Device::Cpu)?;
            vars.push(candle_core::Var::from_tensor(&t)?);
        }
        before.push(t.elapsed().as_secs_f64());
        for (name, var) in ["dense.kernel", "output.kernel"].iter().zip(&vars) {
            let same = net.params.var(name)?.flatten_all()?.to_vec1::<f32>()?
                == var.flatten_all()?.to_vec1::<f32>()?;
            if !same {
                return Err(Error::Config(format!(
                    "{name}: the two ways drew different values"
                )));
            }
        }
        drop((net, vars));
    }
    let train = match arg(args, "--train-batches").and_then(|s| s.parse::<usize>().ok()) {
        Some(batches) if batches > 0 => Some(train_big_dense(&arch, batches)?),
        _ => None,
    };
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!(
        "{}",
        json!({
            "bench": "network_init",
            "params": params,
            "ours_s": ours.clone(),
            "one_by_one_s": before.clone(),
            "median_ours_s": median(&mut ours),
            "median_one_by_one_s": median(&mut before),
            "threads": rayon::current_num_threads(),
            "train": train,
        })
    );
    Ok(())
}

/// Training throughput of `arch` (the 151 M-parameter network) on CIFAR-10 batches of 32 with
/// Adam 1e-3: large tensors, where the allocator's page size could matter.
fn train_big_dense(arch: &Architecture, batches: usize) -> autocandle::Result<serde_json::Value> {
    let split = datasets::cifar10(Some(&data_dir().join("cifar10")))?;
    let (b, px) = (32, 3072);
    let (pixels, labels) = first_images(&split.train, b * (batches + 2))?;
    let dev = Device::Cpu;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let net = Network::new(arch.clone(), &dev, &mut rng)?;
    let mut opt = Optimizer::new(OptimizerKind::Adam, net.params.vars(), 1e-3, batches + 2)?;
    let mut times = Vec::new();
    for i in 0..batches + 2 {
        let t = Instant::now();
        let x = Tensor::from_slice(&pixels[i * b * px..(i + 1) * b * px], (b, 32, 32, 3), &dev)?;
        let y = Tensor::from_slice(&labels[i * b..(i + 1) * b], b, &dev)?;
        let out = net.forward(&x, &mut Phase::Train(&mut rng))?;
        let loss = candle_nn::loss::cross_entropy(&out, &y)?;
        opt.step(&loss.backward()?)?;
        // The first two batches warm the allocator up and are left out.
        if i >= 2 {
            times.push(t.elapsed().as_secs_f64());
        }
    }
    let total: f64 = times.iter().sum();
    times.sort_by(f64::total_cmp);
    Ok(json!({
        "batches": batches,
        "batch_size": b,
        "images_per_s": (b as f64 * batches as f64 / total).round(),
        "median_batch_ms": (times[times.len() / 2] * 1e4).round() / 10.0,
    }))
}

fn main() -> autocandle::Result<()> {
    autocandle::allocator::set_up_for_training();
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(t) = arg(&args, "--threads").and_then(|s| s.parse::<usize>().ok()) {
        std::env::set_var("CANDLE_NUM_THREADS", t.to_string());
        rayon::ThreadPoolBuilder::new()
            .num_threads(t)
            .build_global()
            .map_err(|e| Error::Config(e.to_string()))?;
    }
    let projects = std::env::temp_dir().join("autocandle_bench");
    match args.first().map(String::as_str) {
        Some("reference-cnn") => reference_cnn(&args),
        Some("mnist-search") => search(
            "mnist_search",
            datasets::mnist(Some(&data_dir().join("mnist")))?,
            SearchConfig {
                max_trials: 2,
                seed: 1,
                directory: projects,
                project_name: "mnist".into(),
                overwrite: true,
                ..Default::default()
            },
        ),
        Some("cifar-search") => search(
            "cifar10_search",
            datasets::cifar10(Some(&data_dir().join("cifar10")))?,
            SearchConfig {
                max_trials: 10,
                epochs: 20,
                time_limit: Some(Duration::from_secs(30 * 60)),
                seed: 1,
                directory: projects,
                project_name: "cifar10".into(),
                overwrite: true,
                ..Default::default()
            },
        ),
        Some("network-init") => network_init(&args),
        _ => Err(Error::Config(
            "usage: bench reference-cnn|mnist-search|cifar-search|network-init [--threads N]"
                .into(),
        )),
    }
}
