//! Previews of data for notebooks: a grid of sample images with their labels
//! ([`ImageDataset`]), the first texts with their labels ([`TextDataset`]), the head of a
//! polars `DataFrame`, and a series with its plot ([`TimeSeries`]). Each is an [`HtmlView`]:
//! self-contained HTML (images inlined as PNG `data:` URLs) with a plain-text fallback, shown
//! by evcxr as one output. Every string that comes from the data is escaped.

use super::html::{base64, escape, evcxr_print_html, fragment, num, thousands};
use super::series_plot::series_plot;
use super::svg::Svg;
use crate::data::{ImageData, ImageDataset, Pixels, Targets, TextDataset, TimeSeries};
#[cfg(feature = "tables")]
use polars::prelude::{AnyValue, DataFrame};

/// How many samples a preview shows by default.
pub const PREVIEW_SAMPLES: usize = 16;

/// Most characters of a text shown in a preview.
const MAX_TEXT_CHARS: usize = 240;

/// Most classes whose counts a preview lists.
const MAX_LISTED_CLASSES: usize = 20;

/// Smallest edge, in CSS pixels, a previewed image is scaled up to (by whole factors).
const MIN_IMAGE_EDGE: usize = 56;

/// An HTML view with its plain-text fallback: what a notebook shows for a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HtmlView {
    /// Self-contained HTML fragment (style sheet included).
    pub html: String,
    /// The same facts as plain text.
    pub text: String,
}

impl HtmlView {
    /// The HTML fragment.
    pub fn to_html(&self) -> String {
        self.html.clone()
    }

    /// Shows the view in evcxr: the HTML, with the text as the `text/plain` fallback.
    pub fn evcxr_display(&self) {
        evcxr_print_html(&self.html, &self.text);
    }
}

impl std::fmt::Display for HtmlView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// The label of sample `i` as people read it: the class name when the dataset has names for
/// integer labels, the string label, or the real target(s); `?` past the end of the targets.
pub fn label_text(y: &Targets, class_names: Option<&[String]>, i: usize) -> String {
    let missing = || "?".to_string();
    match y {
        Targets::Int(v) => match v.get(i) {
            Some(&l) => {
                match class_names.and_then(|n| usize::try_from(l).ok().and_then(|j| n.get(j))) {
                    Some(name) => name.clone(),
                    None => l.to_string(),
                }
            }
            None => missing(),
        },
        Targets::Str(v) => v.get(i).cloned().unwrap_or_else(missing),
        Targets::Float { values, dim } => {
            let d = (*dim).max(1);
            match values.get(i * d..(i + 1) * d) {
                Some(row) => {
                    let parts: Vec<String> = row.iter().map(|x| format!("{x:.4}")).collect();
                    parts.join(", ")
                }
                None => missing(),
            }
        }
    }
}

/// Counts per class, in the order of first appearance (`None` for real-valued targets).
pub fn class_counts(y: &Targets, class_names: Option<&[String]>) -> Option<Vec<(String, usize)>> {
    let mut counts: Vec<(String, usize)> = Vec::new();
    let n = match y {
        Targets::Float { .. } => return None,
        _ => y.len(),
    };
    for i in 0..n {
        let l = label_text(y, class_names, i);
        match counts.iter_mut().find(|(k, _)| *k == l) {
            Some((_, c)) => *c += 1,
            None => counts.push((l, 1)),
        }
    }
    counts.sort_by_key(|a| natural_key(&a.0));
    Some(counts)
}

/// Numbers sort as numbers, the rest as text after them.
fn natural_key(s: &str) -> (u8, i64, String) {
    match s.parse::<i64>() {
        Ok(v) => (0, v, String::new()),
        Err(_) => (1, 0, s.to_string()),
    }
}

/// `0: 178, 1: 182, ...` (at most [`MAX_LISTED_CLASSES`], then a count of the rest).
fn counts_text(counts: &[(String, usize)]) -> String {
    let mut parts: Vec<String> = counts
        .iter()
        .take(MAX_LISTED_CLASSES)
        .map(|(k, c)| format!("{k}: {c}"))
        .collect();
    if counts.len() > MAX_LISTED_CLASSES {
        parts.push(format!("and {} more", counts.len() - MAX_LISTED_CLASSES));
    }
    parts.join(", ")
}

/// Image `i` of `x` as 8-bit grey or RGB pixels, values mapped from `[lo, hi]` to `[0, 255]`.
fn image_bytes(x: &ImageData, i: usize, lo: f32, hi: f32) -> (Vec<u8>, bool) {
    let [_, h, w, c] = x.shape;
    let rgb = c >= 3;
    let span = if hi > lo { hi - lo } else { 1.0 };
    let base = i * h * w * c;
    let mut out = Vec::with_capacity(h * w * if rgb { 3 } else { 1 });
    for p in 0..h * w {
        let chans = if rgb { 3 } else { 1 };
        for ch in 0..chans {
            let v = x.pixels.get(base + p * c + ch);
            let t = if v.is_finite() { (v - lo) / span } else { 0.0 };
            out.push((t.clamp(0.0, 1.0) * 255.0).round() as u8);
        }
    }
    (out, rgb)
}

/// The smallest and largest finite pixel values of the first `n` images.
fn pixel_range(x: &ImageData, n: usize) -> (f32, f32) {
    let size = x.sample_size();
    let (mut lo, mut hi) = (f32::INFINITY, f32::NEG_INFINITY);
    for k in 0..n * size {
        let v = match &x.pixels {
            Pixels::U8(p) => f32::from(p[k]),
            Pixels::F32(p) => p[k],
        };
        if v.is_finite() {
            lo = lo.min(v);
            hi = hi.max(v);
        }
    }
    if lo.is_finite() {
        (lo, hi)
    } else {
        (0.0, 1.0)
    }
}

/// Image `i` as a PNG `data:` URL, or `None` when it cannot be encoded.
fn png_data_url(x: &ImageData, i: usize, lo: f32, hi: f32) -> Option<String> {
    use image::ImageEncoder;
    let [_, h, w, _] = x.shape;
    let (bytes, rgb) = image_bytes(x, i, lo, hi);
    let color = if rgb {
        image::ExtendedColorType::Rgb8
    } else {
        image::ExtendedColorType::L8
    };
    let mut png = Vec::new();
    image::codecs::png::PngEncoder::new(&mut png)
        .write_image(
            &bytes,
            u32::try_from(w).ok()?,
            u32::try_from(h).ok()?,
            color,
        )
        .ok()?;
    Some(format!("data:image/png;base64,{}", base64(&png)))
}

/// The first `captions.len()` images of `x` side by side, each over its caption (in red, class
/// `ac-wrong`, when its flag is set), pixel values stretched over the range of the images shown.
pub(crate) fn sample_grid(x: &ImageData, captions: &[(String, bool)]) -> String {
    let [_, h, w, _] = x.shape;
    let shown = captions.len().min(x.len());
    let (lo, hi) = pixel_range(x, shown);
    let scale = MIN_IMAGE_EDGE.div_ceil(h.max(w).max(1)).max(1);
    let mut html = String::from("<div class=\"ac-grid\">");
    for (i, (caption, wrong)) in captions.iter().take(shown).enumerate() {
        let l = escape(caption);
        let class = if *wrong { " class=\"ac-wrong\"" } else { "" };
        match png_data_url(x, i, lo, hi) {
            Some(url) => {
                html += &format!(
                    "<figure class=\"ac-sample\"><img src=\"{url}\" width=\"{}\" height=\"{}\" alt=\"{l}\" title=\"#{i}: {l}\"><figcaption{class}>{l}</figcaption></figure>",
                    w * scale,
                    h * scale
                )
            }
            None => html += &format!("<figure class=\"ac-sample\"><figcaption{class}>{l}</figcaption></figure>"),
        }
    }
    html + "</div>"
}

/// A grid of the first `n` images of `data` with their labels (pixel values stretched over
/// the range of the images shown), the dataset's size, image shape and class counts.
pub fn image_grid(data: &ImageDataset, n: usize) -> HtmlView {
    let names = data.class_names.as_deref();
    let shown = n.min(data.len());
    let [count, h, w, c] = data.x.shape;
    let counts = class_counts(&data.y, names);
    let mut facts = format!(
        "ImageDataset: {} images of {h}\u{d7}{w}\u{d7}{c}",
        thousands(count)
    );
    if let Some(cs) = &counts {
        facts += &format!(", {} classes", cs.len());
    }
    let mut html = format!("<h3>{}</h3>", escape(&facts));
    let mut text = facts.clone() + "\n";
    if let Some(cs) = &counts {
        html += &format!(
            "<p class=\"ac-muted\">Per class: {}</p>",
            escape(&counts_text(cs))
        );
        text += &format!("Per class: {}\n", counts_text(cs));
    }
    let labels: Vec<String> = (0..shown).map(|i| label_text(&data.y, names, i)).collect();
    let captions: Vec<(String, bool)> = labels.iter().map(|l| (l.clone(), false)).collect();
    html += &sample_grid(&data.x, &captions);
    text += &format!("First {shown} labels: {}", labels.join(", "));
    HtmlView {
        html: fragment(&html),
        text,
    }
}

/// `s` cut to `max` characters, with an ellipsis when cut.
fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((at, _)) => format!("{}\u{2026}", &s[..at]),
        None => s.to_string(),
    }
}

/// A table of the first `n` texts of `data` with their labels (long texts cut), the size of
/// the dataset and its class counts.
pub fn text_table(data: &TextDataset, n: usize) -> HtmlView {
    let names = data.class_names.as_deref();
    let shown = n.min(data.len());
    let counts = class_counts(&data.y, names);
    let mut facts = format!("TextDataset: {} texts", thousands(data.len()));
    if let Some(cs) = &counts {
        facts += &format!(", {} classes", cs.len());
    }
    let mut html = format!("<h3>{}</h3>", escape(&facts));
    let mut text = facts + "\n";
    if let Some(cs) = &counts {
        html += &format!(
            "<p class=\"ac-muted\">Per class: {}</p>",
            escape(&counts_text(cs))
        );
        text += &format!("Per class: {}\n", counts_text(cs));
    }
    html += "<table class=\"ac-texts\"><thead><tr><th class=\"num\">#</th><th>Label</th><th>Text</th></tr></thead><tbody>";
    for i in 0..shown {
        let label = label_text(&data.y, names, i);
        let t = truncate(&data.texts[i], MAX_TEXT_CHARS);
        html += &format!(
            "<tr><td class=\"num\">{i}</td><td>{}</td><td>{}</td></tr>",
            escape(&label),
            escape(&t)
        );
        text += &format!(
            "{i:>4}  {label:<12}  {}\n",
            truncate(&t, 100).replace('\n', " ")
        );
    }
    html += "</tbody></table>";
    HtmlView {
        html: fragment(&html),
        text,
    }
}

#[cfg(feature = "tables")]
/// A cell's text: strings without polars' quotes, `None` for a missing value.
fn cell_text(v: &AnyValue<'_>) -> Option<String> {
    match v {
        AnyValue::Null => None,
        AnyValue::String(s) => Some((*s).to_string()),
        AnyValue::StringOwned(s) => Some(s.to_string()),
        other => Some(other.to_string()),
    }
}

#[cfg(feature = "tables")]
/// The first `n` rows of a table with its column names and types, and its shape; missing
/// values read `null`.
pub fn dataframe_head(df: &DataFrame, n: usize) -> HtmlView {
    let (rows, cols) = df.shape();
    let shown = n.min(rows);
    let facts = format!(
        "DataFrame: {} rows \u{d7} {} columns",
        thousands(rows),
        thousands(cols)
    );
    let mut html = format!(
        "<h3>{}</h3><table class=\"ac-frame\"><thead><tr><th class=\"num\">#</th>",
        escape(&facts)
    );
    for c in df.columns() {
        html += &format!("<th>{}</th>", escape(c.name().as_str()));
    }
    html += "</tr><tr class=\"ac-dtype\"><td></td>";
    for c in df.columns() {
        html += &format!("<td>{}</td>", escape(&c.dtype().to_string()));
    }
    html += "</tr></thead><tbody>";
    for i in 0..shown {
        html += &format!("<tr><td class=\"num\">{i}</td>");
        for c in df.columns() {
            match c.get(i).ok().as_ref().and_then(cell_text) {
                Some(t) => html += &format!("<td>{}</td>", escape(&t)),
                None => html += "<td class=\"ac-null\">null</td>",
            }
        }
        html += "</tr>";
    }
    html += "</tbody></table>";
    if shown < rows {
        html += &format!(
            "<p class=\"ac-muted\">The first {shown} of {} rows.</p>",
            thousands(rows)
        );
    }
    let text = format!("{facts}\n{}", df.head(Some(shown)));
    HtmlView {
        html: fragment(&html),
        text,
    }
}

#[cfg(feature = "tables")]
/// `df.preview(5)` in a notebook: the head of a polars `DataFrame` as an [`HtmlView`] (see
/// [`dataframe_head`]). In the prelude.
pub trait DataFramePreview {
    /// The first `n` rows with the column names and types.
    fn preview(&self, n: usize) -> HtmlView;
}

#[cfg(feature = "tables")]
impl DataFramePreview for DataFrame {
    fn preview(&self, n: usize) -> HtmlView {
        dataframe_head(self, n)
    }
}

/// Smallest, mean and largest finite value of `v`.
fn stats(v: &[f64]) -> (Option<f64>, Option<f64>, Option<f64>) {
    let finite: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    if finite.is_empty() {
        return (None, None, None);
    }
    let lo = finite.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mean = finite.iter().sum::<f64>() / finite.len() as f64;
    (Some(lo), Some(mean), Some(hi))
}

/// A series: its length, time span and frequency, per-column statistics (targets marked) and
/// the plot of its targets.
pub fn series_view(series: &TimeSeries) -> HtmlView {
    let mut facts = format!(
        "TimeSeries: {} points, {} column(s)",
        thousands(series.len()),
        series.columns.len()
    );
    if let Some(f) = series.frequency() {
        facts += &format!(", {f:?} frequency").to_lowercase();
    }
    let span = series.time.as_ref().and_then(|t| {
        Some(format!(
            "{} from {} to {}",
            t.name,
            t.labels.first()?,
            t.labels.last()?
        ))
    });
    let mut html = format!("<h3>{}</h3>", escape(&facts));
    let mut text = facts + "\n";
    if let Some(s) = &span {
        html += &format!("<p>{}</p>", escape(s));
        text += &format!("{s}\n");
    }
    if series.filled > 0 {
        let s = format!(
            "{} missing value(s) filled by interpolation.",
            series.filled
        );
        html += &format!("<p class=\"ac-muted\">{s}</p>");
        text += &format!("{s}\n");
    }
    html += "<table class=\"ac-series\"><thead><tr><th>Column</th><th>Role</th>\
<th class=\"num\">Min</th><th class=\"num\">Mean</th><th class=\"num\">Max</th></tr></thead><tbody>";
    for (name, values) in series.columns.iter().zip(&series.values) {
        let role = if series.targets.contains(name) {
            "target"
        } else {
            "feature"
        };
        let (lo, mean, hi) = stats(values);
        html += &format!(
            "<tr><td>{}</td><td>{role}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            escape(name),
            num(lo, 3),
            num(mean, 3),
            num(hi, 3)
        );
        text += &format!(
            "  {name:<24} {role:<8} min {} mean {} max {}\n",
            num(lo, 3),
            num(mean, 3),
            num(hi, 3)
        );
    }
    html += "</tbody></table>";
    match series_plot(series, &series.targets) {
        Ok(svg) => html += svg.as_str(),
        Err(e) => html += &format!("<p class=\"ac-muted\">{}</p>", escape(&e.to_string())),
    }
    HtmlView {
        html: fragment(&html),
        text,
    }
}

impl ImageDataset {
    /// The first `n` images with their labels, as a grid (see [`image_grid`]).
    pub fn preview(&self, n: usize) -> HtmlView {
        image_grid(self, n)
    }

    /// Shows the first [`PREVIEW_SAMPLES`] images with their labels in evcxr.
    pub fn evcxr_display(&self) {
        self.preview(PREVIEW_SAMPLES).evcxr_display();
    }
}

impl TextDataset {
    /// The first `n` texts with their labels (see [`text_table`]).
    pub fn preview(&self, n: usize) -> HtmlView {
        text_table(self, n)
    }

    /// Shows the first [`PREVIEW_SAMPLES`] texts with their labels in evcxr.
    pub fn evcxr_display(&self) {
        self.preview(PREVIEW_SAMPLES).evcxr_display();
    }
}

impl TimeSeries {
    /// The series' facts, column statistics and plot (see [`series_view`]).
    pub fn preview(&self) -> HtmlView {
        series_view(self)
    }

    /// The target columns against time (see [`series_plot`]); a drawing failure is shown in
    /// the image.
    pub fn plot(&self) -> Svg {
        series_plot(self, &self.targets)
            .unwrap_or_else(|e| Svg::message(&e.to_string(), super::plots::PLOT_SIZE))
    }

    /// Shows [`TimeSeries::preview`] in evcxr.
    pub fn evcxr_display(&self) {
        self.preview().evcxr_display();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_use_class_names_strings_or_values() {
        let names = vec!["cat".to_string(), "dog".to_string()];
        let y = Targets::Int(vec![1, 0, 7]);
        assert_eq!(label_text(&y, Some(&names), 0), "dog");
        assert_eq!(label_text(&y, Some(&names), 2), "7");
        assert_eq!(label_text(&y, None, 0), "1");
        let f = Targets::Float {
            values: vec![1.0, 2.5, 3.0, 4.0],
            dim: 2,
        };
        assert_eq!(label_text(&f, None, 1), "3.0000, 4.0000");
        assert_eq!(label_text(&f, None, 2), "?");
        assert_eq!(label_text(&y, None, 3), "?");
        assert!(class_counts(&f, None).is_none());
        let c = class_counts(&Targets::Int(vec![10, 2, 2, 1]), None).unwrap();
        assert_eq!(c, vec![("1".into(), 1), ("2".into(), 2), ("10".into(), 1)]);
    }

    #[test]
    fn pixels_are_stretched_over_the_range_shown() {
        let x = ImageData::from_u8(vec![0, 8, 16, 4], &[1, 2, 2, 1]).unwrap();
        let (lo, hi) = pixel_range(&x, 1);
        assert_eq!((lo, hi), (0.0, 16.0));
        let (bytes, rgb) = image_bytes(&x, 0, lo, hi);
        assert!(!rgb);
        assert_eq!(bytes, vec![0, 128, 255, 64]);
        let url = png_data_url(&x, 0, lo, hi).unwrap();
        assert!(
            url.starts_with("data:image/png;base64,iVBORw0KGgo"),
            "{url}"
        );
    }

    #[test]
    fn long_texts_are_cut() {
        assert_eq!(truncate("abcdef", 3), "abc\u{2026}");
        assert_eq!(truncate("abc", 3), "abc");
        assert_eq!(truncate("ééé", 2), "éé\u{2026}");
    }
}
