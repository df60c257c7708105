//! How a table is encoded, for notebooks: one row per feature column of a [`TableEncoder`]
//! with its type, what it held, how it is encoded and how many features it makes.

use super::html::{escape, evcxr_print_html, fragment, num};
use super::preview::HtmlView;
use crate::preprocessing::{ColumnEncoder, Encoding, TableEncoder};

/// Most vocabulary values listed for a categorical column.
const LISTED_VALUES: usize = 6;

/// How column `c` is encoded, in words.
fn encoding_text(c: &ColumnEncoder) -> String {
    match &c.encoding {
        Encoding::Numerical(s) => {
            let mut t = String::from(if s.log {
                "log, standardised"
            } else {
                "standardised"
            });
            if !s.bins.is_empty() {
                t += &format!(", {} quantile bins", s.bins.len().saturating_sub(1));
            }
            t + &format!(" (missing \u{2192} {})", num(Some(s.fill), 3))
        }
        Encoding::Categorical {
            vocabulary,
            numeric,
        } => {
            let mut shown: Vec<&str> = vocabulary
                .iter()
                .take(LISTED_VALUES)
                .map(String::as_str)
                .collect();
            if vocabulary.len() > LISTED_VALUES {
                shown.push("\u{2026}");
            }
            let mut t = format!(
                "one-hot of {} values: {}",
                vocabulary.len(),
                shown.join(", ")
            );
            if numeric.is_some() {
                t += "; and the standardised number";
            }
            t
        }
    }
}

/// The table of `encoder`'s columns (every name and value escaped), with the feature total.
pub fn columns_view(encoder: &TableEncoder) -> HtmlView {
    let mut rows = String::new();
    let mut text = format!(
        "{} columns \u{2192} {} features (target: {})\n",
        encoder.columns.len(),
        encoder.width(),
        encoder.target
    );
    for c in &encoder.columns {
        let encoding = encoding_text(c);
        let indicator = if c.indicator { "yes" } else { "no" };
        rows += &format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{indicator}</td></tr>",
            escape(&c.name),
            c.column_type(),
            c.kind,
            escape(&encoding),
            c.width()
        );
        text += &format!(
            "{}: {} ({}), {encoding}, {} features, missing indicator {indicator}\n",
            c.name,
            c.column_type(),
            c.kind,
            c.width()
        );
    }
    let html = format!(
        "<table><thead><tr><th>column</th><th>type</th><th>held</th><th>encoding</th><th>features</th><th>missing-value indicator</th></tr></thead><tbody>{rows}</tbody></table><p class=\"ac-muted\">{} features in all; target: {}.</p>",
        encoder.width(),
        escape(&encoder.target)
    );
    HtmlView {
        html: fragment(&html),
        text,
    }
}

impl TableEncoder {
    /// The encoder's columns as a table (see [`columns_view`]).
    pub fn preview(&self) -> HtmlView {
        columns_view(self)
    }

    /// Shows [`TableEncoder::preview`] in evcxr.
    pub fn evcxr_display(&self) {
        let view = self.preview();
        evcxr_print_html(&view.html, &view.text);
    }
}

#[cfg(all(test, feature = "tables"))]
mod tests {
    use super::*;
    use crate::preprocessing::TableSpec;
    use polars::prelude::*;

    #[test]
    fn lists_every_column_escaped_with_its_features() {
        let df = df!(
            "<script>alert(1)</script>" => ["a", "b", "a", "c"],
            "age" => [Some(3.0), None, Some(5.0), Some(8.0)],
            "y" => [0i64, 1, 0, 1],
        )
        .unwrap();
        let enc = TableEncoder::fit(&df, "y", &TableSpec::default()).unwrap();
        let view = enc.preview();
        assert!(!view.html.contains("<script>alert"));
        assert!(view.html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert_eq!(view.html.matches("<tr><td>").count(), enc.columns.len());
        assert!(view
            .html
            .contains(&format!("{} features in all", enc.width())));
        // The column with a missing value has its indicator.
        let age = enc.columns.iter().find(|c| c.name == "age").unwrap();
        assert!(age.indicator);
        assert!(
            view.text.contains("age: numerical (numeric)"),
            "{}",
            view.text
        );
        assert!(view.text.contains("missing indicator yes"), "{}", view.text);
    }
}
