//! [`Svg`]: an SVG document as a string, shown by evcxr as an image and saved atomically.

use super::html::{escape, evcxr_bundle};
use crate::error::Result;
use crate::project::write_atomic;
use std::path::Path;

/// An SVG document (`<svg ...>...</svg>`), as drawn by the plots of [`crate::display::plots`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Svg(String);

impl Svg {
    /// Wraps SVG text.
    pub fn new(svg: impl Into<String>) -> Self {
        Svg(svg.into())
    }

    /// A plot-sized SVG that shows `message` instead of a chart (no data to draw, say).
    pub fn message(message: &str, size: (u32, u32)) -> Self {
        let (w, h) = size;
        Svg(format!(
            "<svg width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" xmlns=\"http://www.w3.org/2000/svg\">\n\
<rect x=\"0\" y=\"0\" width=\"{w}\" height=\"{h}\" fill=\"#FFFFFF\" stroke=\"#DDDDDD\"/>\n\
<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-family=\"sans-serif\" font-size=\"14\" fill=\"#555555\">{}</text>\n</svg>\n",
            w / 2,
            h / 2,
            escape(message)
        ))
    }

    /// The SVG text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The SVG text, by value.
    pub fn into_string(self) -> String {
        self.0
    }

    /// Writes the SVG to `path` (atomically: a temp file, then a rename).
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        save_svg(path, &self.0)
    }

    /// A line of text that stands for the image where it cannot be drawn.
    pub fn to_text(&self) -> String {
        let attr = |name: &str| {
            let key = format!(" {name}=\"");
            let at = self.0.find(&key)? + key.len();
            let len = self.0[at..].find('"')?;
            Some(self.0[at..at + len].to_string())
        };
        match (attr("width"), attr("height")) {
            (Some(w), Some(h)) => {
                format!("[SVG plot, {w}\u{d7}{h}; .save(\"plot.svg\") writes it to a file]")
            }
            _ => "[SVG plot; .save(\"plot.svg\") writes it to a file]".into(),
        }
    }

    /// Shows the plot in evcxr (the Rust Jupyter kernel) as an `image/svg+xml` output, with
    /// [`Svg::to_text`] as the `text/plain` fallback.
    pub fn evcxr_display(&self) {
        print!(
            "{}",
            evcxr_bundle(&[("image/svg+xml", &self.0), ("text/plain", &self.to_text())])
        );
    }
}

impl std::fmt::Display for Svg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Svg {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl From<Svg> for String {
    fn from(s: Svg) -> String {
        s.0
    }
}

/// Writes SVG text to `path` atomically (a temp file in the same folder, then a rename).
pub fn save_svg(path: impl AsRef<Path>, svg: &str) -> Result<()> {
    let path = path.as_ref();
    write_atomic(path, svg.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_svg_escapes_its_text() {
        let s = Svg::message("<script>alert('x')</script> & co", (300, 100));
        assert!(s.as_str().starts_with("<svg"));
        assert!(!s.as_str().contains("<script>"));
        assert!(s
            .as_str()
            .contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; co"));
    }

    #[test]
    fn save_writes_the_file_without_temp_leftovers() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let p = dir.join("plot.svg");
        let s = Svg::message("hello", (100, 50));
        s.save(&p).unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), s.as_str());
        let entries: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(entries, ["plot.svg"]);
    }
}
