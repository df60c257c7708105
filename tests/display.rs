//! The HTML views and SVG plots: hostile strings are escaped everywhere, the best trial is
//! marked, the summary lists every layer, each plot draws what it should, and `report --html`
//! writes a self-contained page for a real search.

use autocandle::automodel::SearchResult;
use autocandle::data::{ImageDataset, Targets};
use autocandle::display::html::{escape, thousands};
use autocandle::display::*;
use autocandle::graph::{Activation, Architecture, HeadKind, Layer, Node, Padding, Summary};
use autocandle::hyperparameters::{HyperParameters, Sampling};
use autocandle::prelude::*;
use autocandle::training::{EpochRecord, Metrics};
use autocandle::tuners::{Trial, TrialStatus};
use std::path::PathBuf;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_autocandle");

const HOSTILE_ID: &str = "<script>alert('id')</script>";
const HOSTILE_REASON: &str = "\"><img src=x onerror=alert(1)> & co";
const HOSTILE_HP: &str = "<b>opt</b>";
const HOSTILE_VALUE: &str = "<script>alert(\"v\")</script>";
const HOSTILE_LAYER: &str = "<script>alert('layer')</script>";
const HOSTILE_BLOCK: &str = "blk\"'&<i>";

fn epochs(n: usize, lr: f64, scale: f64) -> Vec<EpochRecord> {
    (1..=n)
        .map(|e| EpochRecord {
            epoch: e,
            train: Metrics {
                loss: scale * 2.0 / e as f64,
                accuracy: Some(0.5),
                ..Default::default()
            },
            val: Some(Metrics {
                loss: scale * 2.2 / e as f64,
                accuracy: Some(0.4),
                ..Default::default()
            }),
            seconds: 1.0,
            learning_rate: lr,
        })
        .collect()
}

/// A trial with a learning rate, an optimizer and `n` epochs of history.
fn trial(id: &str, score: Option<f64>, status: TrialStatus, lr: f64, opt: &str, n: usize) -> Trial {
    let mut hp = HyperParameters::new();
    hp.set("learning_rate", lr).unwrap();
    hp.set("optimizer", opt).unwrap();
    hp.float("learning_rate", 1e-4, 1e-1, Sampling::Log, 1e-3);
    hp.choice_str("optimizer", &["adam", "sgd", "adamw"], "adam");
    let mut t = Trial::new(id.into(), hp);
    t.status = status;
    t.score = score;
    t.best_metrics = score.map(|s| Metrics {
        loss: s,
        accuracy: Some(1.0 - s / 4.0),
        ..Default::default()
    });
    t.best_epoch = (n > 0).then_some(n);
    t.history = epochs(n, lr, score.unwrap_or(1.0));
    t.params = Some(12_345);
    t.seconds = 3.25;
    t
}

/// Four trials: `01` is the best; `03` failed.
fn trials() -> Vec<Trial> {
    let mut failed = trial("03", None, TrialStatus::Failed, 1e-1, "adam", 0);
    failed.reason = Some("training diverged".into());
    vec![
        trial("00", Some(0.50), TrialStatus::Completed, 1e-3, "adam", 3),
        trial("01", Some(0.20), TrialStatus::Completed, 1e-2, "sgd", 4),
        trial("02", Some(0.90), TrialStatus::Completed, 1e-4, "adamw", 2),
        failed,
    ]
}

/// A trial whose id, failure reason, hyperparameter name and value are markup.
fn hostile_trial() -> Trial {
    let mut hp = HyperParameters::new();
    hp.set(HOSTILE_HP, HOSTILE_VALUE).unwrap();
    hp.choice_str(HOSTILE_HP, &[HOSTILE_VALUE, "plain"], "plain");
    let mut t = Trial::new(HOSTILE_ID.into(), hp);
    t.status = TrialStatus::Completed;
    t.score = Some(0.1);
    t.history = epochs(2, 1e-3, 0.1);
    t.reason = Some(HOSTILE_REASON.into());
    t
}

/// A real summary of a small architecture with a nested residual block.
fn summary(first_layer: &str, first_block: &str) -> Summary {
    let conv = |name: &str, block: &str| {
        Node::new(
            name,
            block,
            Layer::Conv2d {
                filters: 16,
                kernel: 3,
                stride: 1,
                padding: Padding::Same,
                activation: Activation::Relu,
                separable: false,
            },
        )
    };
    let arch = Architecture {
        input_shape: vec![8, 8, 1],
        nodes: vec![
            Node::new(
                "rescaling",
                "input",
                Layer::Rescaling {
                    scale: 1.0 / 16.0,
                    offset: 0.0,
                },
            ),
            conv(first_layer, first_block),
            Node::new(
                "res_1",
                "resnet_block_1",
                Layer::Residual {
                    main: vec![
                        conv("res_1/conv", "resnet_block_1"),
                        Node::new("res_1/bn", "resnet_block_1", Layer::BatchNorm),
                    ],
                    shortcut: vec![],
                },
            ),
            Node::new("gap", "spatial_reduction_1", Layer::GlobalAvgPool),
            Node::new(
                "dense",
                "classification_head_1",
                Layer::Dense {
                    units: 10,
                    activation: Activation::Linear,
                },
            ),
        ],
        head: HeadKind::Classification {
            num_classes: 10,
            sigmoid: false,
            multi_label: false,
        },
    };
    arch.summary().unwrap()
}

fn count(s: &str, pat: &str) -> usize {
    s.matches(pat).count()
}

/// Every `<script` in `html` is one of ours (they all start the same way).
fn assert_only_own_scripts(html: &str) {
    for (i, _) in html.match_indices("<script") {
        assert!(
            html[i..].starts_with("<script>(function(){"),
            "foreign script at {i}: {}",
            &html[i..(i + 60).min(html.len())]
        );
    }
}

/// The `<tr ...>...</tr>` rows of the first `<tbody>` of `html`.
fn body_rows(html: &str) -> Vec<&str> {
    let start = html.find("<tbody>").expect("a tbody") + "<tbody>".len();
    let end = start + html[start..].find("</tbody>").expect("a closing tbody");
    html[start..end]
        .split("</tr>")
        .filter(|r| r.contains("<tr"))
        .collect()
}

/// The first cell's sort key (`data-v`) of a row: the trial id.
fn row_id(row: &str) -> String {
    let a = row.find("data-v=\"").expect("a data-v") + "data-v=\"".len();
    let b = a + row[a..].find('"').expect("a closing quote");
    row[a..b].to_string()
}

/// Polylines drawn with stroke colour `hex` (plotters writes upper-case `#RRGGBB`).
fn polylines_with_stroke<'a>(svg: &'a str, hex: &str) -> Vec<&'a str> {
    svg.split('\n')
        .filter(|l| l.starts_with("<polyline") && l.contains(&format!("stroke=\"{hex}\"")))
        .collect()
}

/// The text content of every `<text>` element.
fn svg_texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter_map(|t| {
            let a = t.find('>')? + 1;
            let b = t.find("</text>")?;
            Some(t[a..b].trim().to_string())
        })
        .collect()
}

fn assert_is_svg(svg: &str) {
    assert!(svg.starts_with("<svg"), "{}", &svg[..svg.len().min(80)]);
    assert!(svg.trim_end().ends_with("</svg>"));
    assert!(svg.contains("xmlns=\"http://www.w3.org/2000/svg\""));
}

#[test]
fn hostile_strings_are_escaped_in_every_view() {
    let mut ts = trials();
    ts.push(hostile_trial());
    let sum = summary(HOSTILE_LAYER, HOSTILE_BLOCK);
    let result = SearchResult {
        trials: ts.clone(),
        best_trial: HOSTILE_ID.into(),
        final_fit: true,
        wall_seconds: 1.0,
        model_path: PathBuf::from("<script>alert('path')</script>"),
    };
    let views = [
        ("leaderboard", leaderboard_html(&ts)),
        ("trial", trial_html(ts.last().unwrap())),
        ("summary", summary_html(&sum)),
        ("search result", result.to_html()),
        ("report", report_html(HOSTILE_ID, &ts, Some(&sum)).unwrap()),
    ];
    for (what, html) in &views {
        assert_only_own_scripts(html);
        assert!(!html.contains("<img"), "{what}: raw <img");
        assert!(!html.contains("<b>opt"), "{what}: raw <b>");
        assert!(!html.contains("<i>"), "{what}: raw <i>");
        assert!(!html.contains("alert('"), "{what}: unescaped quote");
    }
    let [lb, tr, su, sr, rep] = views.map(|(_, h)| h);
    let id = escape(HOSTILE_ID);
    assert!(id.contains("&lt;script&gt;") && id.contains("&#39;"));
    assert!(lb.contains(&id) && tr.contains(&id) && sr.contains(&id) && rep.contains(&id));
    assert!(lb.contains(&escape(HOSTILE_REASON)));
    assert!(tr.contains(&escape(HOSTILE_REASON)));
    assert!(tr.contains(&escape(HOSTILE_HP)) && tr.contains(&escape(HOSTILE_VALUE)));
    assert!(su.contains(&escape(HOSTILE_LAYER)) && su.contains(&escape(HOSTILE_BLOCK)));
    assert!(rep.contains(&escape(HOSTILE_LAYER)));
    assert!(sr.contains(&escape("<script>alert('path')</script>")));
    // The plots carry trial ids and hyperparameter values as SVG text: escaped too.
    let plots = [
        objective_plot(&ts).unwrap(),
        learning_curves_plot(&ts).unwrap(),
        hyperparameter_plot(&ts, HOSTILE_HP).unwrap(),
        confusion_matrix_plot(
            &[HOSTILE_ID.to_string(), "b".to_string()],
            &[vec![1, 2], vec![3, 4]],
        )
        .unwrap(),
    ];
    for svg in &plots {
        assert_is_svg(svg.as_str());
        assert!(!svg.as_str().contains("<script"), "{svg}");
        assert!(svg.as_str().contains("&lt;script&gt;"), "{svg}");
    }
}

#[test]
fn leaderboard_marks_the_best_trial_and_ranks_it_first() {
    let ts = trials();
    let html = leaderboard_html(&ts);
    assert_eq!(count(&html, "class=\"ac-best\""), 1);
    let rows = body_rows(&html);
    assert_eq!(rows.len(), 4);
    let ids: Vec<String> = rows.iter().map(|r| row_id(r)).collect();
    assert_eq!(ids, ["01", "00", "02", "03"]);
    assert!(rows[0].contains("class=\"ac-best\"") && rows[0].contains("&#9733;"));
    assert!(rows[3].contains("class=\"ac-failed\"") && rows[3].contains("training diverged"));
    assert!(rows[0].contains(">0.2000<") && rows[0].contains(">0.9500<"));
    assert!(html.contains("Val accuracy") && !html.contains("Val MAE"));
    // The sort script is wired to this table's id.
    let table = &html[html.find("<table").unwrap()..];
    let id = table
        .split(" id=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    assert!(html.contains(&format!("document.getElementById('{id}')")));
    // Without a completed trial, nothing is marked.
    let failed: Vec<Trial> = ts.into_iter().filter(|t| t.score.is_none()).collect();
    assert_eq!(count(&leaderboard_html(&failed), "ac-best\""), 0);
}

#[test]
fn two_renderings_never_share_element_ids() {
    let ids = |html: &str| -> Vec<String> {
        html.split(" id=\"")
            .skip(1)
            .filter_map(|s| s.split('"').next().map(String::from))
            .collect()
    };
    let sum = summary("conv", "conv_block_1");
    let a = ids(&(leaderboard_html(&trials()) + &summary_html(&sum)));
    let b = ids(&(leaderboard_html(&trials()) + &summary_html(&sum)));
    assert!(a.len() >= 3, "{a:?}");
    assert!(a.iter().all(|x| !b.contains(x)), "{a:?} vs {b:?}");
}

#[test]
fn summary_html_lists_every_layer_block_and_the_totals() {
    let sum = summary("conv_1", "conv_block_1");
    assert!(sum.rows.iter().any(|r| r.depth > 0), "the fixture nests");
    let html = summary_html(&sum);
    for r in &sum.rows {
        assert!(
            html.contains(&format!(">{}</td>", escape(&r.name))),
            "{} missing",
            r.name
        );
        assert!(html.contains(&format!(
            "data-k=\"{}\"",
            escape(&format!("{} {}", r.name, r.layer_type).to_lowercase())
        )));
    }
    assert_eq!(count(&html, "<tr data-k="), sum.rows.len());
    assert_eq!(count(&html, "<details class=\"ac-block\""), 5);
    for block in [
        "input",
        "conv_block_1",
        "resnet_block_1",
        "spatial_reduction_1",
    ] {
        assert!(html.contains(&format!("data-block=\"{block}\"")), "{block}");
    }
    assert!(sum.total_params > 1000 && sum.non_trainable > 0);
    assert!(html.contains(&format!(
        "<dt>Trainable params</dt><dd>{}</dd>",
        thousands(sum.total_params)
    )));
    assert!(html.contains(&format!(
        "<dt>Non-trainable params</dt><dd>{}</dd>",
        thousands(sum.non_trainable)
    )));
    assert!(html.contains("<dt>Output shape</dt><dd>(10)</dd>"));
    assert!(html.contains("type=\"search\""));
    // The block subtotal of the residual block equals its layers' parameters.
    let res: usize = sum
        .rows
        .iter()
        .filter(|r| r.block == "resnet_block_1")
        .map(|r| r.params)
        .sum();
    assert!(html.contains(&format!("{} parameters", thousands(res))));
}

#[test]
fn objective_plot_has_a_point_per_scored_trial_and_a_best_so_far_line() {
    let ts = trials();
    let svg = objective_plot(&ts).unwrap();
    let s = svg.as_str();
    assert_is_svg(s);
    assert_eq!(count(s, "<circle"), 3, "one point per completed trial");
    let best = polylines_with_stroke(s, "#2CA02C");
    assert_eq!(best.len(), 1);
    // Start, a drop at each later trial, a tail to the last trial: 2 x 3 vertices.
    let points = best[0].split("points=\"").nth(1).unwrap();
    assert_eq!(points.split_whitespace().count() - 1, 6, "{points}");
    let texts = svg_texts(s);
    for label in ["Trial", "Validation loss", "00", "01", "02", "03", "failed"] {
        assert!(texts.iter().any(|t| t == label), "{label} not in {texts:?}");
    }
    // Nothing to draw: a message, still an SVG.
    let empty = objective_plot(&[]).unwrap();
    assert_is_svg(empty.as_str());
    assert_eq!(count(empty.as_str(), "<circle"), 0);
}

#[test]
fn learning_curves_draw_two_lines_per_trial_in_its_colour() {
    let ts = trials();
    let svg = learning_curves_plot(&ts).unwrap();
    let s = svg.as_str();
    assert_is_svg(s);
    // Trials 00, 01, 02 have history (blue, orange, green); 03 has none (red unused).
    for hex in ["#1F77B4", "#FF7F0E", "#2CA02C"] {
        assert_eq!(polylines_with_stroke(s, hex).len(), 2, "{hex}");
    }
    assert!(polylines_with_stroke(s, "#D62728").is_empty());
    assert_eq!(
        count(s, "<circle"),
        3 + 4 + 2,
        "one dot per validation epoch"
    );
    let texts = svg_texts(s);
    for label in ["Epoch", "Loss", "trial 00", "trial 01", "trial 02"] {
        assert!(texts.iter().any(|t| t == label), "{label} not in {texts:?}");
    }
    assert!(!texts.iter().any(|t| t == "trial 03"));
}

#[test]
fn hyperparameter_plot_handles_numbers_categories_and_unknown_names() {
    let ts = trials();
    let lr = hyperparameter_plot(&ts, "learning_rate").unwrap();
    assert_is_svg(lr.as_str());
    assert_eq!(count(lr.as_str(), "<circle"), 3);
    let texts = svg_texts(lr.as_str());
    assert!(
        texts.iter().any(|t| t == "learning_rate (log scale)"),
        "{texts:?}"
    );
    let opt = hyperparameter_plot(&ts, "optimizer").unwrap();
    assert_eq!(count(opt.as_str(), "<circle"), 3);
    let texts = svg_texts(opt.as_str());
    for c in ["adam", "sgd", "adamw", "optimizer"] {
        assert!(texts.iter().any(|t| t == c), "{c} not in {texts:?}");
    }
    // The best trial (01, sgd) is the one green point.
    let green = opt
        .as_str()
        .lines()
        .filter(|l| l.starts_with("<circle") && l.contains("fill=\"#2CA02C\""))
        .count();
    assert_eq!(green, 1);
    match hyperparameter_plot(&ts, "nope") {
        Err(Error::Config(m)) => assert!(m.contains("learning_rate") && m.contains("optimizer")),
        other => panic!("expected a Config error, got {other:?}"),
    }
    assert_eq!(
        plots::varied_hyperparameters(&ts),
        vec!["learning_rate".to_string(), "optimizer".to_string()]
    );
}

#[test]
fn confusion_matrix_plot_writes_each_count_in_its_cell() {
    let names: Vec<String> = ["cat", "dog", "a rather long class name here"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let counts = vec![vec![11, 12, 13], vec![21, 22, 23], vec![31, 32, 33]];
    let svg = confusion_matrix_plot(&names, &counts).unwrap();
    let s = svg.as_str();
    assert_is_svg(s);
    let texts = svg_texts(s);
    for row in &counts {
        for c in row {
            assert_eq!(
                texts.iter().filter(|t| **t == c.to_string()).count(),
                1,
                "{c} in {texts:?}"
            );
        }
    }
    for n in ["cat", "dog", "Predicted class", "True class"] {
        assert!(
            texts.iter().filter(|t| *t == n).count() >= 1,
            "{n} in {texts:?}"
        );
    }
    // Background plus one rectangle per cell.
    assert!(count(s, "<rect") > 9);
    assert!(matches!(
        confusion_matrix_plot(&names, &[vec![1, 2, 3]]),
        Err(Error::BadShape(_))
    ));
    let m = ConfusionMatrix::new(names, counts).unwrap();
    assert_eq!(m.plot(), svg);
}

#[test]
fn svg_and_report_files_are_written() {
    let dir = tempfile::tempdir().unwrap();
    let ts = trials();
    let result = SearchResult {
        trials: ts.clone(),
        best_trial: "01".into(),
        final_fit: false,
        wall_seconds: 2.0,
        model_path: PathBuf::from("m"),
    };
    let svg = result.plot_trials();
    let p = dir.path().join("trials.svg");
    svg.save(&p).unwrap();
    assert_eq!(std::fs::read_to_string(&p).unwrap(), svg.as_str());
    save_svg(
        dir.path().join("lc.svg"),
        result.plot_learning_curves().as_str(),
    )
    .unwrap();
    assert!(std::fs::read_to_string(dir.path().join("lc.svg"))
        .unwrap()
        .starts_with("<svg"));
    assert!(result.plot_hyperparameter("optimizer").is_ok());
    assert!(matches!(
        result.plot_hyperparameter("missing"),
        Err(Error::Config(_))
    ));
    // A folder that does not exist is an I/O error naming the path.
    let bad = dir.path().join("no/such/dir/x.svg");
    assert!(matches!(svg.save(&bad), Err(Error::Io { .. })));
    let html = report_html("title", &ts, None).unwrap();
    report::save_html(dir.path().join("r.html"), &html).unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.path().join("r.html")).unwrap(),
        html
    );
    // No leftover temp files.
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.contains(".tmp")), "{names:?}");
}

/// The report loads nothing from elsewhere.
fn assert_self_contained(html: &str) {
    for bad in [
        "src=\"http",
        "href=\"http",
        "<link",
        "@import",
        "url(",
        "src=\"//",
    ] {
        assert!(!html.contains(bad), "report references {bad}");
    }
    assert!(html.contains("Content-Security-Policy"));
    assert_only_own_scripts(html);
}

#[test]
fn report_page_has_every_section() {
    let ts = trials();
    let sum = summary("conv_1", "conv_block_1");
    let html = report_html("My search", &ts, Some(&sum)).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.trim_end().ends_with("</html>"));
    assert_self_contained(&html);
    for id in [
        "leaderboard",
        "objective",
        "learning-curves",
        "hyperparameters",
        "model",
        "trials",
    ] {
        assert!(html.contains(&format!("<h2 id=\"{id}\">")), "{id}");
    }
    // objective + learning curves + 2 varied hyperparameters + one curve per trial with history.
    assert_eq!(count(&html, "<svg"), 2 + 2 + 3);
    assert_eq!(count(&html, "<details class=\"ac-trial\""), 4);
    assert!(html.contains("best trial <b>01</b>"));
    let without = report_html("My search", &ts, None).unwrap();
    assert!(!without.contains("<h2 id=\"model\">"));
}

mod common;
use common::{quick_config, small_digits as digits};

#[test]
fn cli_report_html_on_a_real_search_and_its_confusion_matrix() {
    let data = digits(300);
    let dir = tempfile::tempdir().unwrap();
    let mut clf = ImageClassifier::new(quick_config(dir.path(), "proj"));
    clf.fit(&data, None).unwrap();
    let result = clf.result().unwrap().clone();
    let project = dir.path().join("proj");
    let out = dir.path().join("report.html");
    let run = Command::new(BIN)
        .arg("report")
        .arg(&project)
        .arg("--html")
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    // The text leaderboard is still printed.
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert_eq!(
        stdout.lines().filter(|l| l.contains("COMPLETED")).count(),
        result.trials.len(),
        "{stdout}"
    );
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert_self_contained(&html);
    let rows = body_rows(&html);
    assert_eq!(rows.len(), result.trials.len());
    let best_rows: Vec<&&str> = rows.iter().filter(|r| r.contains("ac-best")).collect();
    assert_eq!(best_rows.len(), 1);
    assert_eq!(row_id(best_rows[0]), result.best_trial);
    assert!(count(&html, "<svg") >= 2 + result.trials.len());
    // The best model's summary: every layer and the totals.
    let model = Model::load(project.join("best_model")).unwrap();
    let sum = model.summary().unwrap();
    for r in &sum.rows {
        assert!(
            html.contains(&format!(">{}</td>", escape(&r.name))),
            "{}",
            r.name
        );
    }
    assert!(html.contains(&format!(
        "<dt>Trainable params</dt><dd>{}</dd>",
        thousands(sum.total_params)
    )));
    assert!(model.summary_html().unwrap().contains("type=\"search\""));

    // The confusion matrix of the same model agrees with its accuracy.
    let cm = model.confusion_matrix(&data).unwrap();
    assert_eq!(
        cm.classes,
        (0..10).map(|i| i.to_string()).collect::<Vec<_>>()
    );
    assert_eq!(cm.counts.iter().flatten().sum::<usize>(), data.len());
    let acc = model.evaluate(&data).unwrap().accuracy.unwrap();
    assert!(
        (cm.accuracy() - acc).abs() < 1e-9,
        "{} vs {acc}",
        cm.accuracy()
    );
    let texts = svg_texts(cm.plot().as_str());
    for c in &cm.classes {
        assert!(texts.iter().any(|t| t == c), "{c}");
    }

    // A folder that is not a project: an error, and no file.
    let bad_out = dir.path().join("bad.html");
    let bad = Command::new(BIN)
        .arg("report")
        .arg(dir.path().join("nothing"))
        .arg("--html")
        .arg(&bad_out)
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("oracle.json"));
    assert!(!bad_out.exists());
}

#[test]
fn confusion_matrix_refuses_a_regression_model() {
    let d = digits(120);
    let y = match &d.y {
        Targets::Int(v) => Targets::Float {
            values: v.iter().map(|&i| i as f32).collect(),
            dim: 1,
        },
        _ => unreachable!(),
    };
    let data = ImageDataset::new(d.x.clone(), y).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = quick_config(dir.path(), "reg");
    cfg.max_trials = 1;
    cfg.epochs = 1;
    let mut reg = ImageRegressor::new(cfg);
    reg.fit(&data, None).unwrap();
    let model = reg.export_model().unwrap();
    assert!(matches!(
        model.confusion_matrix(&data),
        Err(Error::Config(_))
    ));
}
