//! `docs/bad_inputs.md`, kept true: every row of its table is a command line that must be
//! refused — exit code 1 or 2, no panic, the row's message on standard error — and that must
//! leave the paths it names as they were. The commands run in a folder of fixtures made here
//! (`$T`): small image folders, tables, a trained model and broken copies of it.

use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_autocandle");

/// One row of the table.
struct Case {
    line: usize,
    command: String,
    message: String,
    checks: Vec<String>,
}

/// The text between the first pair of backticks, and the rest after it.
fn backticked(cell: &str) -> Vec<String> {
    cell.split('`')
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, s)| s.to_string())
        .collect()
}

fn cases(doc: &str) -> Vec<Case> {
    doc.lines()
        .enumerate()
        .filter_map(|(i, l)| {
            let cells: Vec<&str> = l.trim().trim_matches('|').split(" | ").collect();
            if cells.len() < 3 {
                return None;
            }
            let command = backticked(cells[1]).into_iter().next()?;
            if !command.starts_with("autocandle ") {
                return None;
            }
            let message = backticked(cells[2]).into_iter().next()?;
            let checks = cells.get(3).map(|c| backticked(c)).unwrap_or_default();
            Some(Case {
                line: i + 1,
                command,
                message,
                checks,
            })
        })
        .collect()
}

fn write_png(path: &Path, pixels: &[u8], side: u32) {
    let img = image::GrayImage::from_raw(side, side, pixels.to_vec()).unwrap();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    img.save(path).unwrap();
}

/// An image folder of the first `per_class` digits of each class, at 8x8 (or 12x12 for
/// `big`), one sub-folder per class named by `name`.
fn digits_folder(dir: &Path, per_class: usize, name: impl Fn(i64) -> String) {
    let d = autocandle::datasets::digits().unwrap();
    let labels = match &d.y {
        autocandle::data::Targets::Int(v) => v.clone(),
        _ => unreachable!(),
    };
    let mut count = std::collections::BTreeMap::new();
    for (i, &l) in labels.iter().enumerate() {
        let c = count.entry(l).or_insert(0usize);
        if *c >= per_class {
            continue;
        }
        *c += 1;
        let px: Vec<u8> = (0..64)
            .map(|k| (d.x.pixels.get(i * 64 + k) * 255.0 / 16.0).round() as u8)
            .collect();
        write_png(&dir.join(name(l)).join(format!("{i}.png")), &px, 8);
    }
}

fn run(t: &Path, args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .current_dir(t)
        .env("AUTOCANDLE_OFFLINE", "1")
        .output()
        .unwrap()
}

/// Copies the model folder `from` to `to`, editing one of its JSON files with `edit`.
fn broken_model(from: &Path, to: &Path, file: &str, edit: impl Fn(&mut serde_json::Value)) {
    std::fs::create_dir_all(to).unwrap();
    for f in [
        "architecture.json",
        "preprocessing.json",
        "weights.safetensors",
    ] {
        std::fs::copy(from.join(f), to.join(f)).unwrap();
    }
    let p = to.join(file);
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
    edit(&mut v);
    std::fs::write(&p, serde_json::to_string_pretty(&v).unwrap()).unwrap();
}

/// The fixtures the table's commands name.
fn fixtures(t: &Path) {
    digits_folder(&t.join("digits_png"), 6, |l| format!("digit_{l}"));
    // Other images of the same shape and classes: the digits after the first six of each.
    digits_folder(&t.join("more_png"), 7, |l| format!("digit_{l}"));
    std::fs::create_dir_all(t.join("thesis")).unwrap();
    std::fs::write(t.join("thesis").join("thesis.txt"), b"chapter 1").unwrap();
    // A trained model and its project.
    let out = run(
        t,
        &[
            "fit",
            "--task",
            "image-classifier",
            "--data",
            "images:digits_png",
            "--max-trials",
            "1",
            "--epochs",
            "1",
            "--seed",
            "1",
            "--project",
            "trained",
        ],
    );
    assert!(
        out.status.success(),
        "the fixture model did not train:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let model = t.join("trained").join("best_model");
    broken_model(&model, &t.join("short_labels"), "preprocessing.json", |v| {
        if let Some(c) = v["label_encoder"]["classes"].as_array_mut() {
            c.truncate(3);
        }
    });
    broken_model(&model, &t.join("huge_units"), "architecture.json", |v| {
        if let Some(nodes) = v["nodes"].as_array_mut() {
            if let Some(n) = nodes.iter_mut().find(|n| n["layer"]["type"] == "Dense") {
                n["layer"]["units"] = serde_json::json!(1_000_000_000_000u64);
            }
        }
    });
    broken_model(&model, &t.join("head_mismatch"), "architecture.json", |v| {
        v["head"]["num_classes"] = serde_json::json!(3);
    });
    let titanic = std::fs::read_to_string(data_dir().join("titanic/train.csv")).unwrap();
    let eval = std::fs::read_to_string(data_dir().join("titanic/eval.csv")).unwrap();
    std::fs::write(t.join("titanic.csv"), &titanic).unwrap();
    // A test table with a class the training table never has, and one without the target.
    std::fs::write(t.join("eval_unseen.csv"), eval.replacen("\n0,", "\n7,", 1)).unwrap();
    let no_target: String = eval
        .lines()
        .map(|l| l.split_once(',').map_or(l, |(_, rest)| rest).to_string() + "\n")
        .collect();
    std::fs::write(t.join("eval_no_target.csv"), no_target).unwrap();
    // The same table as UTF-16 (with its byte-order mark), and one with a repeated column.
    let utf16: Vec<u8> = [0xff, 0xfe]
        .into_iter()
        .chain(titanic.encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    std::fs::write(t.join("utf16.csv"), utf16).unwrap();
    std::fs::write(t.join("twice.csv"), titanic.replacen("alone", "sex", 1)).unwrap();
}

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data")
}

/// Every file under `p`, with its bytes.
fn snapshot(p: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    if p.is_file() {
        out.push((p.to_path_buf(), std::fs::read(p).unwrap()));
    } else if p.is_dir() {
        let mut entries: Vec<_> = std::fs::read_dir(p)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for e in entries {
            out.extend(snapshot(&e));
        }
    }
    out
}

#[test]
fn every_bad_input_in_the_doc_is_refused_as_it_says() {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/bad_inputs.md"))
            .unwrap();
    let cases = cases(&doc);
    assert!(cases.len() >= 20, "the table lost its rows");
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    fixtures(t);
    let ts = t.display().to_string();
    let ds = data_dir().display().to_string();
    let mut failures = Vec::new();
    for c in &cases {
        let command = c.command.replace("$T", &ts).replace("$DATA", &ds);
        let paths: Vec<(bool, PathBuf)> = c
            .checks
            .iter()
            .map(|p| match p.strip_prefix('!') {
                Some(rest) => (false, PathBuf::from(rest.replace("$T", &ts))),
                None => (true, PathBuf::from(p.replace("$T", &ts))),
            })
            .collect();
        let before: Vec<_> = paths
            .iter()
            .filter(|(keep, _)| *keep)
            .map(|(_, p)| snapshot(p))
            .collect();
        let args: Vec<&str> = command.split_whitespace().skip(1).collect();
        let out = run(t, &args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let code = out.status.code();
        let mut problems = Vec::new();
        if !matches!(code, Some(1) | Some(2)) {
            problems.push(format!("exit code {code:?}, not 1 or 2"));
        }
        if stderr.contains("panicked") {
            problems.push("it panicked".into());
        }
        if !stderr.contains(&c.message) {
            problems.push(format!("the message {:?} is not in stderr", c.message));
        }
        let kept = paths.iter().filter(|(keep, _)| *keep).map(|(_, p)| p);
        for (p, was) in kept.zip(&before) {
            if was.is_empty() || snapshot(p) != *was {
                problems.push(format!("{} was not kept as it was", p.display()));
            }
        }
        for (_, p) in paths.iter().filter(|(keep, _)| !*keep) {
            if p.exists() {
                problems.push(format!("{} exists", p.display()));
            }
        }
        if !problems.is_empty() {
            failures.push(format!(
                "docs/bad_inputs.md:{}: `{}`: {}\nstderr:\n{stderr}",
                c.line,
                c.command,
                problems.join("; ")
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
