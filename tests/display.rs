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

    // The prediction grid: one image per sample, each wrong prediction in red with its true
    // label, and a count that agrees with the model's own predictions.
    let grid = model.prediction_grid(&data, 40).unwrap();
    assert_eq!(count(&grid.html, "<img src=\"data:image/png;base64,"), 40);
    let Predictions::Labels(predicted) = model.predict(&data.take(40).x).unwrap() else {
        panic!("a classifier predicts labels")
    };
    let Targets::Int(truth) = &data.y else {
        panic!("digits have integer labels")
    };
    let wrong = predicted
        .iter()
        .zip(truth)
        .filter(|(p, t)| p.to_string() != t.to_string())
        .count();
    assert_eq!(count(&grid.html, "<figcaption class=\"ac-wrong\">"), wrong);
    // The caption of a wrong one names the true label.
    assert_eq!(count(&grid.html, ")</figcaption>"), wrong);
    assert_eq!(
        count(&grid.html, "(true "),
        3 * wrong,
        "alt, title and caption"
    );
    assert!(
        grid.text
            .starts_with(&format!("{} of 40 predictions right", 40 - wrong)),
        "{}",
        grid.text
    );

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
    assert!(matches!(
        model.prediction_grid(&data, 4),
        Err(Error::Config(_))
    ));
}

/// The string every user-facing HTML view must escape.
const XSS: &str = "<script>alert(1)</script>";
const XSS_ESCAPED: &str = "&lt;script&gt;alert(1)&lt;/script&gt;";

/// A tiny RGB image dataset whose first class is named [`XSS`].
fn hostile_images() -> ImageDataset {
    let x = ImageData::from_u8(
        (0..2 * 2 * 3 * 3).map(|v| v as u8 * 7).collect(),
        &[2, 2, 3, 3],
    )
    .unwrap();
    let mut d = ImageDataset::new(x, vec![0i64, 1]).unwrap();
    d.class_names = Some(vec![XSS.to_string(), "plain".into()]);
    d
}

#[test]
fn a_layer_name_a_class_label_and_a_column_name_are_escaped_in_every_view() {
    let mut ts = trials();
    let mut t = trial(XSS, Some(0.05), TrialStatus::Completed, 1e-3, "adam", 2);
    t.reason = Some(XSS.into());
    ts.push(t);
    let sum = summary(XSS, XSS);
    let series = TimeSeries::from_columns(
        vec![
            (XSS.to_string(), vec![1.0, 2.0, 3.0, 2.5]),
            ("other".to_string(), vec![0.0, 1.0, 0.0, 1.0]),
        ],
        &[XSS],
    )
    .unwrap();
    let df = polars::df!(XSS => [Some("a"), Some(XSS), None], "n" => [1.0, 2.0, 3.0]).unwrap();
    let texts = TextDataset::new(vec![XSS.into(), "fine".into()], vec![XSS, "ok"]).unwrap();
    let str_labels = ImageDataset::new(hostile_images().x, vec![XSS, "b"]).unwrap();
    let views = [
        ("leaderboard", leaderboard_html(&ts)),
        ("summary", summary_html(&sum)),
        ("report", report_html(XSS, &ts, Some(&sum)).unwrap()),
        (
            "image preview (class names)",
            hostile_images().preview(4).html,
        ),
        ("image preview (string labels)", str_labels.preview(4).html),
        ("text preview", texts.preview(4).html),
        ("data frame head", df.preview(5).html),
        ("series preview", series.preview().html),
    ];
    for (what, html) in &views {
        assert!(!html.contains(XSS), "{what}: raw {XSS}");
        assert!(
            html.contains(XSS_ESCAPED),
            "{what}: the escaped string is missing"
        );
        assert_only_own_scripts(html);
    }
    // The label sits in the caption and the alt text of its image; the column name in the
    // header and the legend of the plot.
    let grid = &views[3].1;
    assert!(grid.contains(&format!("<figcaption>{XSS_ESCAPED}</figcaption>")));
    assert!(grid.contains(&format!("alt=\"{XSS_ESCAPED}\"")));
    assert!(views[6].1.contains(&format!("<th>{XSS_ESCAPED}</th>")));
    assert!(svg_texts(&views[7].1).iter().any(|t| t == XSS_ESCAPED));
    // The forecast plot names its target too.
    let forecast = Forecast {
        steps: vec![1, 2],
        targets: vec![XSS.to_string()],
        values: vec![vec![3.0], vec![3.5]],
    };
    let svg = forecast.plot(&series, None);
    assert!(!svg.as_str().contains(XSS) && svg.as_str().contains(XSS_ESCAPED));
    // The text fallbacks carry the strings as they are (plain text is not markup).
    assert!(hostile_images().preview(4).text.contains(XSS));
    assert!(df.preview(5).text.contains("DataFrame: 3 rows"));
}

/// Decodes standard base64 (the test's own, to read back the inlined images).
fn unbase64(s: &str) -> Vec<u8> {
    let abc = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let vals: Vec<u32> = s
        .bytes()
        .filter(|&b| b != b'=')
        .map(|b| abc.iter().position(|&a| a == b).expect("a base64 digit") as u32)
        .collect();
    let mut out = Vec::new();
    for chunk in vals.chunks(4) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, v)| n | v << (18 - 6 * i));
        for k in 0..chunk.len().saturating_sub(1) {
            out.push((n >> (16 - 8 * k)) as u8);
        }
    }
    out
}

#[test]
fn image_preview_is_a_grid_of_the_first_images_with_their_labels() {
    let data = digits(40);
    let view = data.preview(12);
    let html = &view.html;
    assert_eq!(count(html, "<figure class=\"ac-sample\">"), 12);
    let labels = match &data.y {
        Targets::Int(v) => v.clone(),
        _ => unreachable!(),
    };
    let captions: Vec<&str> = html
        .split("<figcaption>")
        .skip(1)
        .map(|s| s.split('<').next().unwrap())
        .collect();
    let expected: Vec<String> = labels[..12].iter().map(|l| l.to_string()).collect();
    assert_eq!(captions, expected);
    assert!(html.contains("ImageDataset: 40 images of 8\u{d7}8\u{d7}1, 10 classes"));
    // Each image is a PNG of the sample's size whose pixels follow the sample's (stretched
    // from 0..=16 to 0..=255).
    let urls: Vec<&str> = html
        .split("src=\"data:image/png;base64,")
        .skip(1)
        .map(|s| s.split('"').next().unwrap())
        .collect();
    assert_eq!(urls.len(), 12);
    let img = image::load_from_memory(&unbase64(urls[0]))
        .unwrap()
        .to_luma8();
    assert_eq!(img.dimensions(), (8, 8));
    let pixels: Vec<f32> = (0..64).map(|i| data.x.pixels.get(i)).collect();
    let hi = (0..12 * 64)
        .map(|i| data.x.pixels.get(i))
        .fold(0f32, f32::max);
    for (k, p) in img.pixels().enumerate() {
        let want = (pixels[k] / hi * 255.0).round() as u8;
        assert_eq!(p.0[0], want, "pixel {k}");
    }
    // Scaled up for the eye: 8 px images drawn at 56 px.
    assert!(html.contains("width=\"56\" height=\"56\""));
    assert!(view.text.starts_with("ImageDataset: 40 images"));
    assert!(view
        .text
        .contains(&format!("First 12 labels: {}", expected.join(", "))));
    // Asking for more than there is shows them all.
    assert_eq!(count(&data.preview(100).html, "<figure"), 40);
}

#[test]
fn data_frame_series_and_text_previews_show_their_data() {
    let df = polars::df!(
        "name" => ["Ann", "Bob", "Cy"],
        "age" => [Some(22.0), None, Some(40.5)]
    )
    .unwrap();
    let v = df.preview(2);
    let rows = body_rows(&v.html);
    assert_eq!(rows.len(), 2);
    assert!(
        rows[0].contains("<td>Ann</td>") && rows[0].contains("<td>22.0</td>"),
        "{}",
        rows[0]
    );
    assert!(rows[1].contains("<td class=\"ac-null\">null</td>"));
    assert!(v
        .html
        .contains("<tr class=\"ac-dtype\"><td></td><td>str</td><td>f64</td></tr>"));
    assert!(v.html.contains("The first 2 of 3 rows."));
    assert!(v.text.contains("Ann") && !v.text.contains("Cy"));

    let months: Vec<String> = (0..24)
        .map(|i| format!("{}-{:02}", 1949 + i / 12, i % 12 + 1))
        .collect();
    let y: Vec<f64> = (0..24).map(|i| 100.0 + i as f64).collect();
    let sdf = polars::df!("Month" => months, "Passengers" => y).unwrap();
    let s = TimeSeries::from_dataframe(&sdf, &SeriesSpec::target("Passengers")).unwrap();
    let p = s.preview();
    assert!(p
        .html
        .contains("TimeSeries: 24 points, 1 column(s), monthly frequency"));
    assert!(p.html.contains("Month from 1949-01 to 1950-12"));
    assert!(p.html.contains("<td>Passengers</td><td>target</td><td class=\"num\">100.000</td><td class=\"num\">111.500</td><td class=\"num\">123.000</td>"));
    let svg = s.plot();
    assert_is_svg(svg.as_str());
    // One line through the 24 points, in the first palette colour.
    let lines = polylines_with_stroke(svg.as_str(), "#1F77B4");
    assert_eq!(lines.len(), 1, "{svg}");
    assert_eq!(count(lines[0], ","), 24);
    assert!(svg_texts(svg.as_str())
        .iter()
        .any(|t| t.starts_with("1949-")));

    // A forecast after the series with the actual continuation: history, actual and forecast.
    let (train, test) = s.split_last(6).unwrap();
    let f = Forecast {
        steps: (1..=6).collect(),
        targets: vec!["Passengers".into()],
        values: (0..6).map(|k| vec![118.0 + k as f64]).collect(),
    };
    let fsvg = f.plot(&train, Some(&test));
    let texts = svg_texts(fsvg.as_str());
    for name in [
        "Passengers (history)",
        "Passengers (actual)",
        "Passengers (forecast)",
    ] {
        assert!(texts.iter().any(|t| t == name), "{name}: {texts:?}");
    }

    let t = TextDataset::new(vec!["a".repeat(500), "short".into()], vec![1i64, 0]).unwrap();
    let tv = t.preview(5);
    assert_eq!(body_rows(&tv.html).len(), 2);
    assert!(tv.html.contains(&format!("{}\u{2026}", "a".repeat(240))));
    assert!(!tv.html.contains(&"a".repeat(241)));
    assert!(tv.text.contains("Per class: 0: 1, 1: 1"));
}

#[test]
fn text_fallbacks_say_what_the_html_shows() {
    let ts = trials();
    let result = SearchResult {
        trials: ts.clone(),
        best_trial: "01".into(),
        final_fit: true,
        wall_seconds: 12.0,
        model_path: PathBuf::from("proj/best_model"),
    };
    let text = result.to_text();
    assert!(text.starts_with("Search result: 4 trial(s), best trial 01; final fit: yes"));
    // The text leaderboard, best first.
    let ids: Vec<&str> = text
        .lines()
        .skip(2)
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(ids, ["01", "00", "02", "03"]);
    let t = ts[1].to_text();
    assert!(
        t.starts_with("Trial 01 (completed): validation loss 0.2000, 4 epoch(s)"),
        "{t}"
    );
    assert!(t.contains("\n  optimizer = sgd"));
    let cm =
        ConfusionMatrix::new(vec!["a".into(), "b".into()], vec![vec![3, 1], vec![0, 4]]).unwrap();
    assert_eq!(
        cm.to_text(),
        "true |    a    b  (columns: predicted)\n   a |    3    1\n   b |    0    4\naccuracy 0.8750"
    );
    let svg = Svg::message("x", (300, 100));
    assert_eq!(
        svg.to_text(),
        "[SVG plot, 300\u{d7}100; .save(\"plot.svg\") writes it to a file]"
    );
}

/// A search's events as a notebook shows them: trial n of N, the hyperparameters that
/// changed, each epoch's metrics, a heartbeat inside long epochs, and how the trial ended.
#[test]
fn notebook_progress_is_plain_readable_lines() {
    use autocandle::training::TrainEvent;
    let mut p = NotebookProgress::with_heartbeat(None);
    let mut lines = Vec::new();
    let mut feed = |p: &mut NotebookProgress, e: SearchEvent| lines.extend(p.lines(&e));
    feed(
        &mut p,
        SearchEvent::TrialStart {
            trial_id: "00".into(),
            index: 0,
            max_trials: 3,
            changed: vec![("optimizer".into(), "adam".into())],
            params: 12_345,
            parent: None,
            operation: None,
        },
    );
    let train = |event| SearchEvent::Train {
        trial_id: "00".into(),
        event,
    };
    feed(
        &mut p,
        train(TrainEvent::EpochStart {
            epoch: 1,
            epochs: 2,
            batches: 3,
        }),
    );
    for b in 1..=3 {
        feed(
            &mut p,
            train(TrainEvent::Batch {
                batch: b,
                batches: 3,
                loss: 0.5,
            }),
        );
    }
    let rec = epochs(1, 1e-3, 1.0).remove(0);
    feed(&mut p, train(TrainEvent::EpochEnd(rec)));
    let done = trial("00", Some(0.5), TrialStatus::Completed, 1e-3, "adam", 1);
    let better = trial("07", Some(0.2), TrialStatus::Completed, 1e-3, "adam", 1);
    feed(
        &mut p,
        SearchEvent::TrialEnd {
            trial: Box::new(done.clone()),
            leaderboard: vec![done.clone()],
        },
    );
    feed(
        &mut p,
        SearchEvent::TrialEnd {
            trial: Box::new(done.clone()),
            leaderboard: vec![better, done],
        },
    );
    let mut failed = trial("02", None, TrialStatus::Failed, 1e-3, "adam", 0);
    failed.reason = Some("out of memory".into());
    feed(
        &mut p,
        SearchEvent::TrialEnd {
            trial: Box::new(failed),
            leaderboard: vec![],
        },
    );
    feed(
        &mut p,
        SearchEvent::FinalFitStart {
            epochs: 2,
            samples: 300,
        },
    );
    assert_eq!(
        lines,
        [
            "Trial 1 of 3 (id 00): 12,345 parameters",
            "  optimizer = adam",
            "  [00] epoch 1/2: loss 2.0000 acc 0.5000 | val loss 2.2000 acc 0.4000 (1.0 s)",
            "Trial 00 done in 3.2 s: val loss 0.5000, val acc 0.8750; best so far.",
            "Trial 00 done in 3.2 s: val loss 0.5000, val acc 0.8750; best so far: trial 07 (val loss 0.2000, val acc 0.9500).",
            "Trial 02 failed: out of memory",
            "Final fit: the best configuration on all 300 training samples, 2 epoch(s).",
        ]
    );
    // With a heartbeat due at every batch, the batches before the last one get a line.
    let mut beat = NotebookProgress::with_heartbeat(Some(std::time::Duration::ZERO));
    let mut hb = Vec::new();
    for b in 1..=3 {
        hb.extend(beat.lines(&train(TrainEvent::Batch {
            batch: b,
            batches: 3,
            loss: 0.25,
        })));
    }
    assert_eq!(
        hb,
        [
            "  [00] batch 1/3, loss 0.2500",
            "  [00] batch 2/3, loss 0.2500"
        ]
    );
    for l in lines.iter().chain(&hb) {
        assert!(!l.contains('\u{1b}') && !l.contains('\r'), "{l:?}");
    }
}

#[test]
fn a_real_search_reports_every_trial_and_epoch_to_the_notebook_renderer() {
    use std::sync::{Arc, Mutex};
    let data = digits(200);
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = quick_config(dir.path(), "nb");
    cfg.epochs = 2;
    let mut clf = ImageClassifier::new(cfg);
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = Arc::clone(&lines);
    let mut p = NotebookProgress::with_heartbeat(None);
    clf.on_progress(Box::new(move |e| sink.lock().unwrap().extend(p.lines(e))));
    clf.fit(&data, None).unwrap();
    let lines = lines.lock().unwrap();
    let starts: Vec<&String> = lines
        .iter()
        .filter(|l| l.starts_with("Trial ") && l.contains(" of 2 "))
        .collect();
    assert_eq!(starts.len(), 2, "{lines:#?}");
    assert!(starts[0].starts_with("Trial 1 of 2") && starts[1].starts_with("Trial 2 of 2"));
    let epochs = lines.iter().filter(|l| l.contains("] epoch ")).count();
    let trained: usize = clf
        .result()
        .unwrap()
        .trials
        .iter()
        .map(|t| t.history.len())
        .sum();
    let final_epochs = lines
        .iter()
        .filter(|l| l.starts_with("  [final fit] epoch "))
        .count();
    assert!(final_epochs >= 1, "{lines:#?}");
    assert_eq!(epochs, trained + final_epochs);
    assert_eq!(lines.iter().filter(|l| l.contains(" done in ")).count(), 2);
    assert!(lines.iter().any(|l| l.starts_with("Final fit:")));
}

/// Run in a child process by [`progress_is_chosen_automatically`]: a one-trial search given no
/// progress callback.
#[test]
#[ignore = "a helper that progress_is_chosen_automatically runs in a child process"]
fn child_search_without_a_progress_callback() {
    let data = digits(120);
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = quick_config(dir.path(), "auto");
    cfg.max_trials = 1;
    cfg.epochs = 1;
    ImageClassifier::new(cfg).fit(&data, None).unwrap();
}

/// A search given no callback shows plain lines on standard output inside evcxr (which sets
/// `EVCXR_IS_RUNTIME` in the process that runs a notebook's code), on standard error when that
/// is not a terminal, and nothing with `AUTOCANDLE_PROGRESS=off`; never an escape code.
#[test]
fn progress_is_chosen_automatically() {
    let run = |evcxr: bool, setting: Option<&str>| {
        let mut cmd = Command::new(std::env::current_exe().unwrap());
        cmd.args([
            "--ignored",
            "--exact",
            "child_search_without_a_progress_callback",
            "--nocapture",
            "--test-threads",
            "1",
        ]);
        match evcxr {
            true => cmd.env("EVCXR_IS_RUNTIME", "1"),
            false => cmd.env_remove("EVCXR_IS_RUNTIME"),
        };
        match setting {
            Some(s) => cmd.env("AUTOCANDLE_PROGRESS", s),
            None => cmd.env_remove("AUTOCANDLE_PROGRESS"),
        };
        let out = cmd.output().unwrap();
        let (o, e) = (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        );
        assert!(out.status.success(), "{o}\n{e}");
        assert!(!o.contains('\u{1b}') && !e.contains('\u{1b}'), "{o}\n{e}");
        (o, e)
    };
    let shows_the_search = |s: &str| {
        s.contains("Trial 1 of 1 (id 00): ")
            && s.contains("  [00] epoch 1/1: loss ")
            && s.contains("Trial 00 done in ")
            && s.contains("Final fit: ")
    };
    let (out, err) = run(true, None);
    assert!(shows_the_search(&out), "in evcxr, on stdout: {out}");
    assert!(!err.contains("Trial 1 of 1"), "{err}");
    let (out, err) = run(false, None);
    assert!(
        shows_the_search(&err),
        "stderr is a pipe: plain lines there: {err}"
    );
    assert!(!out.contains("Trial 1 of 1"), "{out}");
    let (out, err) = run(true, Some("off"));
    assert!(
        !out.contains("Trial ") && !err.contains("Trial "),
        "{out}\n{err}"
    );
}
