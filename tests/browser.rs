//! The HTML report of a real search in a real browser: headless Chromium loads the page that
//! `autocandle report <project> --html` writes, runs its scripts, and the test checks what a
//! person would see: typing into the model summary's search box filters the layer rows (and
//! deleting the text brings them back), a click on a block's heading folds it, clicking a
//! leaderboard header sorts the trials, no script error is logged, and a screenshot shows the
//! page with the best trial highlighted.
//!
//! How it drives the browser: `chromium --headless --dump-dom` and `--screenshot` on a copy of
//! the report with one extra script that reads instructions from the URL's fragment
//! (`#q=conv`: focus the search box and type `conv` one character at a time with
//! `document.execCommand('insertText')`, which fires the same `input` events as a keyboard;
//! `#sort=Val loss`: click that header). This needs nothing but the Chromium binary: no
//! DevTools connection, port or WebSocket client whose protocol changes with the browser's
//! version, no timing to wait on (the extra script runs when the page is parsed, after the
//! report's own scripts have attached their handlers, and before the DOM is dumped).
//!
//! Chromium is found through `AUTOCANDLE_CHROMIUM`, else `chromium`, `chromium-browser`,
//! `google-chrome`, `google-chrome-stable` or `headless_shell` on the `PATH`. When none is
//! there the test fails and says how to install one, unless `AUTOCANDLE_SKIP_BROWSER=1`.
//!
//! `cargo test --release --test browser -- --ignored docs_screenshots` remakes the
//! screenshots under docs/ from a search on the digits.

mod common;

use autocandle::prelude::*;
use common::{quick_config, small_digits};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_autocandle");

/// Longest a single browser run may take.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(120);

/// The script added to the report: it acts on the instructions in the URL's fragment.
/// `q`: type into the summary's search box (then `clear=N`: delete N characters); `sort`:
/// click the leaderboard header with that text (`clicks=2`: twice); `toggle=N`: click the
/// heading of the summary's N-th block (it folds); `only`: hide every section
/// of the page but the one whose heading has that id (for the screenshots in docs/).
const DRIVER: &str = r#"<script>(function(){
var p=new URLSearchParams(location.hash.slice(1));
function type(box,text){box.focus({preventScroll:true});for(var i=0;i<text.length;i++){var ch=text[i];
if(!document.execCommand('insertText',false,ch)){box.value+=ch;box.dispatchEvent(new Event('input',{bubbles:true}));}}}
var q=p.get('q');if(q!==null){var box=document.querySelector('.ac-summary input[type=search]');
if(!box){document.body.setAttribute('data-driver-error','no search box');return;}
type(box,q);var clear=parseInt(p.get('clear')||'0',10);
for(var k=0;k<clear;k++){if(!document.execCommand('delete',false)){box.value=box.value.slice(0,-1);box.dispatchEvent(new Event('input',{bubbles:true}));}}
document.body.setAttribute('data-typed',box.value);}
var s=p.get('sort');if(s!==null){var n=parseInt(p.get('clicks')||'1',10),hit=false;
Array.prototype.forEach.call(document.querySelectorAll('table.ac-leaderboard thead th'),function(th){
if(th.textContent.trim()===s){hit=true;for(var k=0;k<n;k++){th.click();}}});
document.body.setAttribute('data-sorted',hit?s:'');}
var tg=p.get('toggle');if(tg!==null){var ds=document.querySelectorAll('details.ac-block > summary');
if(ds[+tg]){ds[+tg].click();}}
var only=p.get('only');if(only!==null){var root=document.querySelector('body > .ac'),cur=null;
Array.prototype.forEach.call(root.children,function(el){if(el.tagName==='H2'){cur=el.id;}
if(el.tagName==='H1'||cur!==only){el.style.display='none';}});}
window.scrollTo(0,0);
})();</script>"#;

/// The Chromium binary, if one can be found.
fn find_chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("AUTOCANDLE_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let names = [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
        "headless_shell",
    ];
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

/// The browser, or `None` when the test is to be skipped; panics with the way out when there
/// is no browser and skipping was not asked for.
fn browser() -> Option<Browser> {
    match find_chromium() {
        Some(bin) => Some(Browser {
            bin,
            profile: tempfile::tempdir().unwrap(),
        }),
        None if std::env::var("AUTOCANDLE_SKIP_BROWSER").as_deref() == Ok("1") => {
            eprintln!("browser test skipped: no Chromium and AUTOCANDLE_SKIP_BROWSER=1");
            None
        }
        None => panic!(
            "the browser test needs headless Chromium, and none was found (looked for \
             AUTOCANDLE_CHROMIUM, then chromium, chromium-browser, google-chrome, \
             google-chrome-stable and headless_shell on the PATH). Install it \
             (Debian/Ubuntu: `apt-get install chromium`), point AUTOCANDLE_CHROMIUM at a \
             Chrome or Chromium binary, or set AUTOCANDLE_SKIP_BROWSER=1 to skip this test."
        ),
    }
}

/// A headless Chromium with its own throw-away profile.
struct Browser {
    bin: PathBuf,
    profile: tempfile::TempDir,
}

impl Browser {
    /// Runs the browser on `url` with `extra` flags; panics when it fails or hangs.
    fn run(&self, extra: &[String], url: &str) -> Output {
        let mut cmd = Command::new(&self.bin);
        cmd.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-extensions",
            "--no-first-run",
            "--no-default-browser-check",
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", self.profile.path().display()))
        .args(extra)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", self.bin.display()));
        // Read the pipes on threads so that a large DOM cannot block the browser.
        let mut out = child.stdout.take().unwrap();
        let mut err = child.stderr.take().unwrap();
        let t_out = std::thread::spawn(move || {
            let mut v = Vec::new();
            std::io::Read::read_to_end(&mut out, &mut v).map(|_| v)
        });
        let t_err = std::thread::spawn(move || {
            let mut v = Vec::new();
            std::io::Read::read_to_end(&mut err, &mut v).map(|_| v)
        });
        let start = Instant::now();
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            if start.elapsed() > BROWSER_TIMEOUT {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "{} did not finish within {BROWSER_TIMEOUT:?} on {url}",
                    self.bin.display()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let output = Output {
            status,
            stdout: t_out.join().unwrap().unwrap(),
            stderr: t_err.join().unwrap().unwrap(),
        };
        assert!(
            output.status.success(),
            "{} failed on {url}: {}",
            self.bin.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        let log = String::from_utf8_lossy(&output.stderr);
        let errors: Vec<&str> = log
            .lines()
            .filter(|l| l.contains(":CONSOLE") && (l.contains("Uncaught") || l.contains("Error")))
            .collect();
        assert!(errors.is_empty(), "script errors on {url}: {errors:#?}");
        output
    }

    /// The DOM after the page's scripts ran.
    fn dump_dom(&self, url: &str) -> String {
        let out = self.run(&["--dump-dom".into()], url);
        String::from_utf8(out.stdout).unwrap()
    }

    /// A `width × height` screenshot of the page at `url`, written to `png`.
    fn screenshot(&self, url: &str, png: &Path, (width, height): (u32, u32)) {
        self.run(
            &[
                format!("--screenshot={}", png.display()),
                format!("--window-size={width},{height}"),
            ],
            url,
        );
        assert!(png.is_file(), "no screenshot at {}", png.display());
    }
}

/// A search on a few digits and its report (written by the CLI), with the driver script
/// added; returns the report's `file://` URL, the project folder and the temp dir holding both.
fn report_of_a_search(
    data: &ImageDataset,
    config: SearchConfig,
) -> (String, PathBuf, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config;
    config.directory = dir.path().to_path_buf();
    let project = dir.path().join(&config.project_name);
    let mut clf = ImageClassifier::new(config);
    clf.on_progress(autocandle::display::progress::silent());
    clf.fit(data, None).unwrap();
    let report = dir.path().join("report.html");
    let run = Command::new(BIN)
        .arg("report")
        .arg(&project)
        .arg("--html")
        .arg(&report)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let html = std::fs::read_to_string(&report).unwrap();
    let at = html.rfind("</body>").expect("a closing body tag");
    let page = dir.path().join("page.html");
    std::fs::write(&page, format!("{}{DRIVER}{}", &html[..at], &html[at..])).unwrap();
    let url = format!("file://{}", page.display());
    (url, project, dir)
}

/// The summary's layer rows in a dumped DOM: their search key and whether they are shown.
fn summary_rows(dom: &str) -> Vec<(String, bool)> {
    dom.split("<tr data-k=\"")
        .skip(1)
        .map(|s| {
            let key = s.split('"').next().unwrap().to_string();
            let tag = &s[..s.find('>').unwrap()];
            (key, !tag.contains("display: none"))
        })
        .collect()
}

/// The number in the "N of M layers shown" counter.
fn shown_counter(dom: &str) -> usize {
    let at = dom.find("-n\">").expect("the counter") + 4;
    dom[at..].split('<').next().unwrap().trim().parse().unwrap()
}

/// `(hidden, total)` block groups of the summary.
fn hidden_blocks(dom: &str) -> (usize, usize) {
    let tags: Vec<&str> = dom
        .split("<details class=\"ac-block\"")
        .skip(1)
        .map(|s| &s[..s.find('>').unwrap()])
        .collect();
    (
        tags.iter().filter(|t| t.contains("display: none")).count(),
        tags.len(),
    )
}

/// The trial ids of the leaderboard's rows, in the order shown.
fn leaderboard_ids(dom: &str) -> Vec<String> {
    let table = &dom[dom.find("ac-leaderboard").expect("the leaderboard")..];
    let body = &table[table.find("<tbody>").unwrap()..table.find("</tbody>").unwrap()];
    body.split("<tr")
        .skip(1)
        .map(|r| {
            let a = r.find("data-v=\"").unwrap() + 8;
            r[a..a + r[a..].find('"').unwrap()].to_string()
        })
        .collect()
}

#[test]
fn the_report_works_in_a_real_browser() {
    let Some(browser) = browser() else { return };
    let data = small_digits(300);
    let mut cfg = quick_config(Path::new("."), "browser");
    cfg.max_trials = 3;
    let (url, project, dir) = report_of_a_search(&data, cfg);
    let model = Model::load(project.join("best_model")).unwrap();
    let layers = model.summary().unwrap().rows;

    // As loaded: every layer shown, and the counter says so.
    let dom = browser.dump_dom(&url);
    let rows = summary_rows(&dom);
    assert_eq!(rows.len(), layers.len(), "one row per layer");
    assert!(rows.iter().all(|r| r.1));
    assert_eq!(shown_counter(&dom), layers.len());

    // Typing a layer type (as written, capitals included) shows exactly the layers whose
    // name or type contains it, whatever the case.
    let matches = |q: &str| -> Vec<bool> {
        layers
            .iter()
            .map(|r| {
                format!("{} {}", r.name, r.layer_type)
                    .to_lowercase()
                    .contains(&q.to_lowercase())
            })
            .collect()
    };
    // The type that the most layers have, short of all of them.
    let query = layers
        .iter()
        .map(|r| r.layer_type.clone())
        .filter(|t| matches(t).iter().any(|&b| !b))
        .max_by_key(|t| matches(t).iter().filter(|&&b| b).count())
        .expect("layers of more than one type");
    let expected = matches(&query);
    let n_expected = expected.iter().filter(|&&b| b).count();
    let dom = browser.dump_dom(&format!("{url}#q={query}"));
    assert!(
        dom.contains(&format!("data-typed=\"{query}\"")),
        "the text was typed"
    );
    let shown: Vec<bool> = summary_rows(&dom).iter().map(|r| r.1).collect();
    assert_eq!(shown, expected, "rows shown after typing {query:?}");
    assert_eq!(shown_counter(&dom), n_expected);

    // Text that matches nothing hides every row and every block; deleting it shows them all.
    let dom = browser.dump_dom(&format!("{url}#q=zzz"));
    assert!(summary_rows(&dom).iter().all(|r| !r.1));
    let (hidden, total) = hidden_blocks(&dom);
    assert!(
        total > 0 && hidden == total,
        "{hidden} of {total} blocks hidden"
    );
    assert_eq!(shown_counter(&dom), 0);
    let dom = browser.dump_dom(&format!("{url}#q=zzz&clear=3"));
    assert!(dom.contains("data-typed=\"\""));
    assert!(summary_rows(&dom).iter().all(|r| r.1));
    assert_eq!(hidden_blocks(&dom).0, 0);

    // Each block of the summary folds and unfolds by a click on its heading.
    let dom = browser.dump_dom(&url);
    let open_flags = |dom: &str| -> Vec<bool> {
        dom.split("<details class=\"ac-block\"")
            .skip(1)
            .map(|s| s[..s.find('>').unwrap()].contains(" open"))
            .collect()
    };
    let before = open_flags(&dom);
    assert!(before.len() >= 2 && before.iter().all(|&o| o), "{before:?}");
    let after = open_flags(&browser.dump_dom(&format!("{url}#toggle=1")));
    let mut expected_open = before.clone();
    expected_open[1] = false;
    assert_eq!(after, expected_open);

    // The leaderboard: best first as loaded; clicking "Trial" sorts by id, twice reverses.
    let result_trials = {
        let mut ids: Vec<String> = std::fs::read_dir(&project)
            .unwrap()
            .filter_map(|e| {
                let name = e.unwrap().file_name().to_string_lossy().into_owned();
                name.strip_prefix("trial_").map(String::from)
            })
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(result_trials.len(), 3, "{result_trials:?}");
    let dom = browser.dump_dom(&url);
    let loaded = leaderboard_ids(&dom);
    assert_eq!(loaded.len(), 3);
    let dom = browser.dump_dom(&format!("{url}#sort=Trial"));
    assert!(dom.contains("data-sorted=\"Trial\""));
    assert_eq!(leaderboard_ids(&dom), result_trials);
    let dom = browser.dump_dom(&format!("{url}#sort=Trial&clicks=2"));
    let mut reversed = result_trials.clone();
    reversed.reverse();
    assert_eq!(leaderboard_ids(&dom), reversed);
    let dom = browser.dump_dom(&format!("{url}#sort=Val%20loss&clicks=2"));
    let by_loss_desc = leaderboard_ids(&dom);
    assert_eq!(
        by_loss_desc.last(),
        loaded.first(),
        "the best trial is last when sorted by descending loss"
    );

    // A screenshot with a filter typed in: a real picture, with the best trial's highlight.
    let png = dir.path().join("report.png");
    browser.screenshot(&format!("{url}#q={query}"), &png, (1200, 1400));
    let img = image::open(&png).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), (1200, 1400));
    let best_row = image::Rgb([0xe6, 0xf4, 0xea]);
    let highlighted = img.pixels().filter(|&&p| p == best_row).count();
    if let Ok(keep) = std::env::var("AUTOCANDLE_BROWSER_SCREENSHOT") {
        std::fs::copy(&png, keep).unwrap();
    }
    assert!(
        highlighted > 500,
        "{highlighted} pixels of the best row's colour"
    );
    let dark = img
        .pixels()
        .filter(|p| p.0.iter().all(|&c| c < 100))
        .count();
    assert!(dark > 2_000, "{dark} dark (text) pixels");
    if let Ok(keep) = std::env::var("AUTOCANDLE_BROWSER_SCREENSHOT") {
        std::fs::copy(&png, keep).unwrap();
    }
}

/// Crops `img` to its non-white content with a `margin` of white around it.
fn autocrop(img: &image::RgbImage, margin: u32) -> image::RgbImage {
    let (w, h) = img.dimensions();
    let (mut x0, mut y0, mut x1, mut y1) = (w, h, 0, 0);
    for (x, y, p) in img.enumerate_pixels() {
        if p.0.iter().any(|&c| c < 250) {
            x0 = x0.min(x);
            y0 = y0.min(y);
            x1 = x1.max(x);
            y1 = y1.max(y);
        }
    }
    if x1 < x0 {
        return img.clone();
    }
    let (x0, y0) = (x0.saturating_sub(margin), y0.saturating_sub(margin));
    let (x1, y1) = ((x1 + margin).min(w - 1), (y1 + margin).min(h - 1));
    image::imageops::crop_imm(img, x0, y0, x1 - x0 + 1, y1 - y0 + 1).to_image()
}

/// Remakes docs/leaderboard.png, docs/trial_plot.png and docs/summary_search.png from a search
/// on the digits (a few trials), through the same report and browser as the test above.
#[test]
#[ignore = "remakes the screenshots in docs/ (a search of about a minute)"]
fn docs_screenshots() {
    let Some(browser) = browser() else { return };
    let data = autocandle::datasets::digits().unwrap();
    let cfg = SearchConfig {
        max_trials: 5,
        epochs: 8,
        batch_size: 32,
        seed: 3,
        project_name: "digits".into(),
        overwrite: true,
        ..Default::default()
    };
    let (url, _project, dir) = report_of_a_search(&data, cfg);
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs");
    std::fs::create_dir_all(&docs).unwrap();
    for (name, fragment, size) in [
        (
            "leaderboard.png",
            "only=leaderboard&sort=Val%20loss",
            (1100, 600),
        ),
        ("trial_plot.png", "only=objective", (900, 700)),
        ("summary_search.png", "only=model&q=conv", (1100, 1400)),
    ] {
        let raw = dir.path().join(name);
        browser.screenshot(&format!("{url}#{fragment}"), &raw, size);
        let img = autocrop(&image::open(&raw).unwrap().to_rgb8(), 12);
        img.save(docs.join(name)).unwrap();
        eprintln!("wrote docs/{name} ({}x{})", img.width(), img.height());
    }
}
