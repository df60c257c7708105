//! Every tuner on the same image data, wall-clock budget and seed: best validation accuracy
//! against wall time, test accuracy of the final model, trials completed, and the search's own
//! time per trial (from one trial's end to the next trial's first batch).
//!
//! ```text
//! cargo run --release --example tuner_comparison -- --data digits --budget 120 --seed 1 --out bench/tuners_digits
//! cargo run --release --example tuner_comparison -- --data mnist:../shared/data/mnist --budget 900 --out bench/tuners_mnist
//! cargo run --release --example tuner_comparison -- --data cifar10:../shared/data/cifar10 --budget 1800 --seed 1 --out bench/tuners_cifar10
//! ```
//! Flags: `--data digits|mnist:<dir>|cifar10:<dir>`, `--budget <s>` (120), `--epochs <n>` (10),
//! `--seed <n>` (1), `--out <prefix>` (bench/tuners), `--tuners <a,b,..>` (all); `--help`.
//! Writes `<out>.md` (a table) and `<out>.svg` (best validation accuracy vs time per tuner).
//! Each tuner's result is also kept in `<out>.<tuner>.json` as soon as it ends, so that
//! `--tuners random,bayesian` runs only those and the table and plot still show every tuner
//! whose result is there for the same data, budget, epochs and seed (a long comparison can be
//! run in parts).

use autocandle::automodel::{SearchConfig, SearchEvent};
use autocandle::data::{datasets, ImageDataset};
use autocandle::prelude::*;
use plotters::prelude::*;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(serde::Serialize, serde::Deserialize)]
struct Run {
    tuner: String,
    /// What the run was given: data, budget (s), epochs, seed.
    setting: (String, u64, usize, u64),
    /// (seconds since the start, best validation accuracy so far) at each trial's end.
    curve: Vec<(f64, f64)>,
    best_val: f64,
    test: f64,
    trials: usize,
    completed: usize,
    overhead_mean: f64,
    overhead_max: f64,
    wall: f64,
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn load(spec: &str) -> autocandle::Result<(ImageDataset, ImageDataset)> {
    let (kind, path) = spec.split_once(':').unwrap_or((spec, ""));
    let p = (!path.is_empty()).then(|| std::path::PathBuf::from(path));
    match kind {
        "mnist" => datasets::mnist(p.as_deref()).map(|s| (s.train, s.test)),
        "cifar10" => datasets::cifar10(p.as_deref()).map(|s| (s.train, s.test)),
        "digits" => {
            // The CLI's split: a seeded 80/20 shuffle.
            use rand::seq::SliceRandom;
            use rand::SeedableRng;
            let d = datasets::digits()?;
            let mut idx: Vec<usize> = (0..d.len()).collect();
            idx.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(42));
            let n_test = d.len() / 5;
            Ok((d.select(&idx[n_test..]), d.select(&idx[..n_test])))
        }
        other => Err(autocandle::Error::Config(format!(
            "unknown data {other:?}: use digits, mnist:<dir> or cifar10:<dir>"
        ))),
    }
}

const TUNERS: [&str; 5] = ["greedy", "random", "bayesian", "hyperband", "morphism"];

fn run(
    tuner: &'static str,
    (train, test): (&ImageDataset, &ImageDataset),
    setting: &(String, u64, usize, u64),
    dir: &std::path::Path,
) -> autocandle::Result<Run> {
    let (budget, epochs, seed) = (Duration::from_secs(setting.1), setting.2, setting.3);
    let config = SearchConfig {
        max_trials: 1000,
        time_limit: Some(budget),
        tuner: tuner.parse()?,
        seed,
        epochs,
        directory: dir.to_path_buf(),
        project_name: tuner.into(),
        overwrite: true,
        ..Default::default()
    };
    let start = Instant::now();
    let curve = Arc::new(Mutex::new(Vec::<(f64, f64)>::new()));
    let c = curve.clone();
    let mut best = 0f64;
    let mut clf = ImageClassifier::new(config);
    clf.on_progress(Box::new(move |e: &SearchEvent| {
        if let SearchEvent::TrialEnd { trial, .. } = e {
            let acc = trial.best_metrics.and_then(|m| m.accuracy).unwrap_or(0.0);
            best = best.max(acc);
            if let Ok(mut v) = c.lock() {
                v.push((start.elapsed().as_secs_f64(), best));
            }
            eprintln!(
                "  [{tuner}] trial {} {:?} val_acc {acc:.4} ({:.0} s)",
                trial.trial_id,
                trial.status,
                start.elapsed().as_secs_f64()
            );
        }
    }));
    let result = clf.fit(train, None)?.clone();
    let wall = start.elapsed().as_secs_f64();
    let test_acc = clf.evaluate(test)?.accuracy.unwrap_or(0.0);
    let overheads: Vec<f64> = result
        .trials
        .iter()
        .filter_map(|t| t.overhead_seconds)
        .collect();
    let curve = curve.lock().map(|v| v.clone()).unwrap_or_default();
    Ok(Run {
        tuner: tuner.into(),
        setting: setting.clone(),
        best_val: curve.last().map_or(0.0, |p| p.1),
        curve,
        test: test_acc,
        trials: result.trials.len(),
        completed: result
            .trials
            .iter()
            .filter(|t| t.status == autocandle::tuners::TrialStatus::Completed)
            .count(),
        overhead_mean: overheads.iter().sum::<f64>() / overheads.len().max(1) as f64,
        overhead_max: overheads.iter().copied().fold(0.0, f64::max),
        wall,
    })
}

fn plot(
    runs: &[Run],
    title: &str,
    path: &str,
) -> std::result::Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::new(path, (760, 420)).into_drawing_area();
    root.fill(&WHITE)?;
    let t_max = runs.iter().map(|r| r.wall).fold(1.0, f64::max);
    let lo = runs
        .iter()
        .flat_map(|r| r.curve.iter().map(|p| p.1))
        .fold(1.0, f64::min)
        .min(0.99)
        - 0.01;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(56)
        .build_cartesian_2d(0.0..t_max * 1.02, lo.max(0.0)..1.0)?;
    chart
        .configure_mesh()
        .x_desc("wall time (s)")
        .y_desc("best validation accuracy")
        .draw()?;
    for (k, r) in runs.iter().enumerate() {
        let color = Palette99::pick(k).to_rgba();
        // A step line: the best so far holds until the next trial ends.
        let mut pts = Vec::new();
        let mut last = None;
        for &(t, v) in &r.curve {
            if let Some(prev) = last {
                pts.push((t, prev));
            }
            pts.push((t, v));
            last = Some(v);
        }
        if let Some(v) = last {
            pts.push((r.wall, v));
        }
        // A dot at each trial's end, so that a tuner with a single trial shows too.
        chart.draw_series(
            r.curve
                .iter()
                .map(|&(t, v)| Circle::new((t, v), 3, color.filled())),
        )?;
        chart
            .draw_series(LineSeries::new(pts, color.stroke_width(2)))?
            .label(r.tuner.as_str())
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], color.filled()));
    }
    chart
        .configure_series_labels()
        .border_style(BLACK)
        .background_style(WHITE.mix(0.9))
        .position(SeriesLabelPosition::UpperLeft)
        .draw()?;
    root.present()?;
    Ok(())
}

const USAGE: &str = "usage: tuner_comparison [--data digits|mnist:<dir>|cifar10:<dir>] \
[--budget <seconds, 120>] [--epochs <per trial, 10>] [--seed <1>] [--out <prefix, bench/tuners>] \
[--tuners greedy,random,bayesian,hyperband,morphism|none]";

/// The flags this example takes, each followed by its value.
const FLAGS: [&str; 6] = [
    "--data", "--budget", "--epochs", "--seed", "--out", "--tuners",
];

fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
    autocandle::allocator::set_up_for_training();
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{USAGE}");
        return Ok(());
    }
    // Every other argument is a known flag followed by its value.
    let mut rest = args.iter().skip(1);
    while let Some(a) = rest.next() {
        if !FLAGS.contains(&a.as_str()) || rest.next().is_none() {
            return Err(format!(
                "unexpected argument '{a}' (or a flag without its value)\n{USAGE}"
            )
            .into());
        }
    }
    let data = arg(&args, "--data").unwrap_or_else(|| "digits".into());
    let budget: u64 = arg(&args, "--budget").map_or(Ok(120), |s| s.parse())?;
    let epochs: usize = arg(&args, "--epochs").map_or(Ok(10), |s| s.parse())?;
    let seed: u64 = arg(&args, "--seed").map_or(Ok(1), |s| s.parse())?;
    let out = arg(&args, "--out").unwrap_or_else(|| "bench/tuners".into());
    let tuners: Vec<&'static str> = match arg(&args, "--tuners") {
        Some(list) => {
            if let Some(bad) = list
                .split(',')
                .find(|x| *x != "none" && !TUNERS.contains(x))
            {
                return Err(format!("unknown tuner '{bad}'\n{USAGE}").into());
            }
            TUNERS
                .into_iter()
                .filter(|t| list.split(',').any(|x| x == *t))
                .collect()
        }
        None => TUNERS.to_vec(),
    };
    if let Some(parent) = std::path::Path::new(&out).parent() {
        std::fs::create_dir_all(parent)?;
    }
    let setting = (data.clone(), budget, epochs, seed);
    let (train, test) = load(&data)?;
    let dir = tempfile_dir()?;
    for t in tuners {
        eprintln!("{t}: {budget} s budget on {data}");
        let r = run(t, (&train, &test), &setting, &dir)?;
        std::fs::write(format!("{out}.{t}.json"), serde_json::to_string(&r)?)?;
    }
    // Every tuner with a saved result for this setting, in the fixed order.
    let runs: Vec<Run> = TUNERS
        .iter()
        .filter_map(|t| std::fs::read_to_string(format!("{out}.{t}.json")).ok())
        .filter_map(|s| serde_json::from_str::<Run>(&s).ok())
        .filter(|r| r.setting == setting)
        .collect();
    let mut md = format!(
        "Data {data}, budget {budget} s per tuner, {epochs} epochs per trial at most, seed {seed}.\n\n\
         | tuner | best val acc | test acc | trials (completed) | wall s | search overhead per trial, mean / max s |\n\
         |---|---|---|---|---|---|\n"
    );
    for r in &runs {
        md += &format!(
            "| {} | {:.4} | {:.4} | {} ({}) | {:.0} | {:.2} / {:.2} |\n",
            r.tuner,
            r.best_val,
            r.test,
            r.trials,
            r.completed,
            r.wall,
            r.overhead_mean,
            r.overhead_max
        );
    }
    std::fs::write(format!("{out}.md"), &md)?;
    plot(
        &runs,
        &format!(
            "Tuners on {}, {budget} s each, seed {seed}",
            data.split(':').next().unwrap_or(&data)
        ),
        &format!("{out}.svg"),
    )?;
    print!("{md}");
    Ok(())
}

/// A scratch folder for the projects (kept: the trials can be inspected afterwards).
fn tempfile_dir() -> std::io::Result<std::path::PathBuf> {
    let d = std::env::temp_dir().join("autocandle_tuner_comparison");
    std::fs::create_dir_all(&d)?;
    Ok(d)
}
