//! Shared pieces of the HTML views: escaping, unique element ids, the style sheet and the
//! evcxr display envelope. Every view is self-contained: inline CSS and JavaScript, no network.

use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

/// Escapes `s` for HTML text and for quoted attribute values (`&`, `<`, `>`, `"` and `'`).
///
/// ```
/// use autocandle::display::html::escape;
/// assert_eq!(escape(r#"<a href="x">'&'</a>"#), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
/// ```
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A fresh element id, `<prefix>-<random>-<n>`, so that two renderings on one page (two notebook
/// cells, say) never share ids. The random part differs between processes and between the
/// copies of this crate that a notebook kernel may load, the counter within one of them.
pub fn unique_id(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(n);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    h.write_u32(nanos);
    format!("{prefix}-{:08x}-{n}", h.finish() & 0xffff_ffff)
}

/// The style sheet of every view; all its rules are scoped under the `.ac` class.
pub const CSS: &str = "\
.ac{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;font-size:13px;color:#222;}\
.ac h2{font-size:16px;margin:12px 0 6px;}\
.ac h3{font-size:14px;margin:10px 0 4px;}\
.ac table{border-collapse:collapse;margin:4px 0 10px;}\
.ac th,.ac td{border-bottom:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top;}\
.ac td.num,.ac th.num{text-align:right;font-variant-numeric:tabular-nums;}\
.ac th{background:#f3f3f3;}\
.ac table.ac-sortable th{cursor:pointer;user-select:none;}\
.ac table.ac-sortable th[data-dir=asc]::after{content:' \\25B2';}\
.ac table.ac-sortable th[data-dir=desc]::after{content:' \\25BC';}\
.ac tr.ac-best td{background:#e6f4ea;font-weight:600;}\
.ac tr.ac-failed td{color:#a33;}\
.ac .ac-muted{color:#777;}\
.ac details{margin:2px 0;}\
.ac summary{cursor:pointer;}\
.ac input[type=search]{padding:3px 6px;width:22em;margin:4px 0;}\
.ac svg{max-width:100%;height:auto;}\
.ac dl{display:grid;grid-template-columns:max-content auto;gap:2px 12px;margin:4px 0;}\
.ac dt{color:#555;}.ac dd{margin:0;}";

/// `<style>` with [`CSS`].
pub fn style_tag() -> String {
    format!("<style>{CSS}</style>")
}

/// Wraps a view's body in `<div class="ac">` with the style sheet, ready to drop into a
/// notebook cell or a page.
pub fn fragment(body: &str) -> String {
    format!("<div class=\"ac\">{}{body}</div>", style_tag())
}

/// A number with `digits` decimals, or `-` for a missing or non-finite one.
pub fn num(v: Option<f64>, digits: usize) -> String {
    match v {
        Some(x) if x.is_finite() => format!("{x:.digits$}"),
        Some(x) => x.to_string(),
        None => "-".into(),
    }
}

/// An integer with thousands separators: `1234567` → `1,234,567`.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The sort key of a number for the sortable tables: missing and NaN values sort last.
pub fn sort_key(v: Option<f64>) -> String {
    match v {
        Some(x) if !x.is_nan() => x.to_string(),
        _ => "Infinity".into(),
    }
}

/// The text evcxr reads as rich output: `content` between the begin and end markers.
pub fn evcxr_content(mime: &str, content: &str) -> String {
    format!("EVCXR_BEGIN_CONTENT {mime}\n{content}\nEVCXR_END_CONTENT\n")
}

/// Prints `content` as rich output of type `mime` for evcxr (the Rust Jupyter kernel).
pub fn evcxr_print(mime: &str, content: &str) {
    print!("{}", evcxr_content(mime, content));
}

/// A small script that makes the table with id `table_id` sortable by clicking its headers.
/// Cells carry their sort key in `data-v`; numbers compare as numbers, the rest as text.
pub fn sortable_script(table_id: &str) -> String {
    format!(
        "<script>(function(){{var t=document.getElementById('{table_id}');if(!t)return;\
var hs=t.tHead.rows[0].cells;Array.prototype.forEach.call(hs,function(h,i){{\
h.addEventListener('click',function(){{var b=t.tBodies[0],rows=Array.prototype.slice.call(b.rows),\
asc=h.getAttribute('data-dir')!=='asc';Array.prototype.forEach.call(hs,function(o){{o.removeAttribute('data-dir');}});\
h.setAttribute('data-dir',asc?'asc':'desc');rows.sort(function(a,c){{\
var x=a.cells[i].getAttribute('data-v'),y=c.cells[i].getAttribute('data-v'),nx=parseFloat(x),ny=parseFloat(y),r;\
if(!isNaN(nx)&&!isNaN(ny)){{r=nx<ny?-1:(nx>ny?1:0);}}else{{r=String(x).localeCompare(String(y));}}\
return asc?r:-r;}});rows.forEach(function(r){{b.appendChild(r);}});}});}});}})();</script>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_neutralises_markup_quotes_and_ampersands() {
        assert_eq!(
            escape("<script>alert(\"x\")</script>"),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"
        );
        assert_eq!(escape("a & b 'c'"), "a &amp; b &#39;c&#39;");
        assert_eq!(escape("&amp;"), "&amp;amp;");
        assert_eq!(escape("plain ünïcode"), "plain ünïcode");
    }

    #[test]
    fn unique_ids_differ() {
        let a = unique_id("x");
        let b = unique_id("x");
        assert_ne!(a, b);
        assert!(a.starts_with("x-"));
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    }

    #[test]
    fn evcxr_envelope_has_markers_and_mime() {
        assert_eq!(
            evcxr_content("text/html", "<b>x</b>"),
            "EVCXR_BEGIN_CONTENT text/html\n<b>x</b>\nEVCXR_END_CONTENT\n"
        );
    }

    #[test]
    fn numbers_and_sort_keys() {
        assert_eq!(num(Some(0.123456), 4), "0.1235");
        assert_eq!(num(None, 4), "-");
        assert_eq!(num(Some(f64::NAN), 2), "NaN");
        assert_eq!(sort_key(None), "Infinity");
        assert_eq!(sort_key(Some(f64::NAN)), "Infinity");
        assert_eq!(sort_key(Some(1.5)), "1.5");
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
    }
}
