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
.ac dt{color:#555;}.ac dd{margin:0;}\
.ac .ac-grid{display:flex;flex-wrap:wrap;gap:10px;margin:6px 0;}\
.ac figure.ac-sample{margin:0;text-align:center;}\
.ac figure.ac-sample img{image-rendering:pixelated;border:1px solid #ddd;display:block;}\
.ac figcaption{font-size:12px;margin-top:2px;max-width:96px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;}\
.ac figcaption.ac-wrong{color:#c62828;font-weight:600;}\
.ac td.ac-null{color:#999;font-style:italic;}\
.ac tr.ac-dtype td{color:#777;font-size:11px;background:#fafafa;}";

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

/// Standard base64 (RFC 4648, with padding), for images inlined as `data:` URLs.
///
/// ```
/// use autocandle::display::html::base64;
/// assert_eq!(base64(b"foobar"), "Zm9vYmFy");
/// assert_eq!(base64(b"fo"), "Zm8=");
/// ```
pub fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18u32, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ABC[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The text evcxr reads as rich output: `content` between the begin and end markers.
pub fn evcxr_content(mime: &str, content: &str) -> String {
    format!("EVCXR_BEGIN_CONTENT {mime}\n{content}\nEVCXR_END_CONTENT\n")
}

/// Prints `content` as rich output of type `mime` for evcxr (the Rust Jupyter kernel).
pub fn evcxr_print(mime: &str, content: &str) {
    print!("{}", evcxr_content(mime, content));
}

/// One output with several representations (a MIME bundle): evcxr collects every block a
/// display method prints into one map from MIME type to content, and the front end shows the
/// richest one it can (HTML in Jupyter, the `text/plain` one in a terminal REPL).
pub fn evcxr_bundle(parts: &[(&str, &str)]) -> String {
    parts.iter().map(|(m, c)| evcxr_content(m, c)).collect()
}

/// Prints an HTML view with its plain-text fallback as one evcxr output.
pub fn evcxr_print_html(html: &str, text: &str) {
    print!(
        "{}",
        evcxr_bundle(&[("text/html", html), ("text/plain", text)])
    );
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
    fn base64_matches_the_rfc_vectors() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, coded) in cases {
            assert_eq!(base64(plain.as_bytes()), coded, "{plain}");
        }
        assert_eq!(base64(&[0xff, 0xfe, 0xfd]), "//79");
    }

    #[test]
    fn a_bundle_holds_each_representation() {
        let b = evcxr_bundle(&[("text/html", "<b>x</b>"), ("text/plain", "x")]);
        assert_eq!(
            b,
            "EVCXR_BEGIN_CONTENT text/html\n<b>x</b>\nEVCXR_END_CONTENT\n\
EVCXR_BEGIN_CONTENT text/plain\nx\nEVCXR_END_CONTENT\n"
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
