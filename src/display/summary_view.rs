//! A model summary as searchable HTML: one collapsible group per block, a filter box over
//! layer names and types, and the totals.

use super::html::{escape, fragment, thousands, unique_id};
use crate::graph::{Summary, SummaryRow};

/// `(8, 8, 16)`.
fn shape_text(shape: &[usize]) -> String {
    let parts: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    format!("({})", parts.join(", "))
}

/// Consecutive rows of the same block.
fn groups(rows: &[SummaryRow]) -> Vec<(&str, &[SummaryRow])> {
    let mut out: Vec<(&str, &[SummaryRow])> = Vec::new();
    let mut start = 0;
    for i in 1..=rows.len() {
        if i == rows.len() || rows[i].block != rows[start].block {
            out.push((rows[start].block.as_str(), &rows[start..i]));
            start = i;
        }
    }
    out
}

fn filter_script(id: &str) -> String {
    format!(
        "<script>(function(){{var root=document.getElementById('{id}'),q=document.getElementById('{id}-q'),\
n=document.getElementById('{id}-n');if(!root||!q)return;q.addEventListener('input',function(){{\
var s=q.value.toLowerCase().trim(),shown=0;Array.prototype.forEach.call(root.querySelectorAll('details.ac-block'),function(d){{\
var any=false;Array.prototype.forEach.call(d.querySelectorAll('tbody tr'),function(r){{\
var ok=!s||(r.getAttribute('data-k')||'').indexOf(s)>=0;r.style.display=ok?'':'none';if(ok){{any=true;shown++;}}}});\
d.style.display=any?'':'none';if(s&&any){{d.open=true;}}}});if(n){{n.textContent=shown;}}}});}})();</script>"
    )
}

/// The body of the summary view (no style sheet): a search box that filters layers by name
/// or type, a `<details>` group per block with its layers (name, type, output shape,
/// parameters; nested layers indented), and the totals.
pub fn summary_body(summary: &Summary) -> String {
    let id = unique_id("ac-sum");
    let mut s = format!(
        "<div class=\"ac-summary\" id=\"{id}\"><input type=\"search\" id=\"{id}-q\" \
placeholder=\"Filter layers by name or type\" aria-label=\"Filter layers\"> \
<span class=\"ac-muted\"><span id=\"{id}-n\">{}</span> of {} layers shown</span>",
        summary.rows.len(),
        summary.rows.len()
    );
    for (block, rows) in groups(&summary.rows) {
        let params: usize = rows.iter().map(|r| r.params).sum();
        let b = escape(block);
        s += &format!(
            "<details class=\"ac-block\" open data-block=\"{b}\"><summary><b>{b}</b> \
<span class=\"ac-muted\">{} layer(s), {} parameters</span></summary>\
<table><thead><tr><th>Layer</th><th>Type</th><th>Output shape</th><th class=\"num\">Param #</th></tr></thead><tbody>",
            rows.len(),
            thousands(params)
        );
        for r in rows {
            let key = format!("{} {}", r.name, r.layer_type).to_lowercase();
            s += &format!(
                "<tr data-k=\"{}\"><td style=\"padding-left:{:.1}em\">{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td></tr>",
                escape(&key),
                0.6 + 1.2 * r.depth as f64,
                escape(&r.name),
                escape(&r.layer_type),
                shape_text(&r.output_shape),
                thousands(r.params)
            );
        }
        s += "</tbody></table></details>";
    }
    s += &format!(
        "<dl class=\"ac-totals\"><dt>Layers</dt><dd>{}</dd><dt>Trainable params</dt><dd>{}</dd>\
<dt>Non-trainable params</dt><dd>{}</dd><dt>Output shape</dt><dd>{}</dd></dl></div>",
        summary.rows.len(),
        thousands(summary.total_params),
        thousands(summary.non_trainable),
        shape_text(&summary.output_shape)
    );
    s + &filter_script(&id)
}

/// The summary as a self-contained HTML fragment (style sheet included).
pub fn summary_html(summary: &Summary) -> String {
    fragment(&summary_body(summary))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, block: &str) -> SummaryRow {
        SummaryRow {
            name: name.into(),
            layer_type: "Dense".into(),
            block: block.into(),
            output_shape: vec![4],
            params: 1,
            depth: 0,
        }
    }

    #[test]
    fn consecutive_rows_of_a_block_form_one_group() {
        let rows = vec![row("a", "x"), row("b", "x"), row("c", "y"), row("d", "x")];
        let g = groups(&rows);
        let shape: Vec<(&str, usize)> = g.iter().map(|(b, r)| (*b, r.len())).collect();
        assert_eq!(shape, vec![("x", 2), ("y", 1), ("x", 1)]);
        assert!(groups(&[]).is_empty());
    }

    #[test]
    fn shapes_read_like_tuples() {
        assert_eq!(shape_text(&[8, 8, 16]), "(8, 8, 16)");
        assert_eq!(shape_text(&[10]), "(10)");
    }
}
