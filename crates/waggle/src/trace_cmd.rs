//! `waggle trace <id>`: fetch a trace from a running waggle and draw its waterfall.

use std::collections::{HashMap, HashSet};
use std::io::IsTerminal;

use anyhow::{Context, Result, bail};
use waggle_query::{SpanView, TraceView};

const BAR_WIDTH: usize = 40;

pub fn run(trace_id: &str, url: &str) -> Result<()> {
    let endpoint = format!("{}/api/traces/{}", url.trim_end_matches('/'), trace_id.trim());
    let trace: TraceView = match ureq::get(&endpoint).call() {
        Ok(mut response) => {
            response.body_mut().read_json().context("waggle answered with something that is not a trace")?
        }
        Err(ureq::Error::StatusCode(404)) => bail!("no span or log has trace id {trace_id} in the waggle at {url}"),
        Err(ureq::Error::StatusCode(400)) => bail!("{trace_id:?} is not a trace id: use the 32 hex characters"),
        Err(err) => bail!("cannot reach waggle at {url} ({err}); is it running? start it with `waggle up`"),
    };
    let color = std::io::stdout().is_terminal();
    print!("{}", render(&trace, color));
    Ok(())
}

/// Draws the waterfall: one line per span, children under parents, a bar on a shared time axis.
pub fn render(trace: &TraceView, color: bool) -> String {
    let mut out = String::new();
    let Some(start) = trace.spans.iter().map(|span| span.start_time_unix_nano).min() else {
        out.push_str(&format!("trace {} has no spans ({} log records)\n", trace.trace_id, trace.logs.len()));
        return out;
    };
    let end = trace.spans.iter().map(|span| span.end_time_unix_nano).max().unwrap_or(start);
    let total = (end - start).max(1);
    let services: HashSet<&str> = trace.spans.iter().map(|span| span.service_name.as_str()).collect();
    out.push_str(&format!(
        "trace {}  {} spans  {:.1} ms  {} service{}  {} log record{}\n",
        trace.trace_id,
        trace.spans.len(),
        total as f64 / 1e6,
        services.len(),
        if services.len() == 1 { "" } else { "s" },
        trace.logs.len(),
        if trace.logs.len() == 1 { "" } else { "s" },
    ));
    let ids: HashSet<&str> = trace.spans.iter().map(|span| span.span_id.as_str()).collect();
    let mut children: HashMap<Option<&str>, Vec<&SpanView>> = HashMap::new();
    for span in &trace.spans {
        // A span whose parent never arrived is drawn as a root, marked.
        let parent = span.parent_span_id.as_deref().filter(|parent| ids.contains(parent));
        children.entry(parent).or_default().push(span);
    }
    let mut stack: Vec<(&SpanView, usize)> =
        children.get(&None).into_iter().flatten().rev().map(|span| (*span, 0)).collect();
    let name_width = 48;
    while let Some((span, depth)) = stack.pop() {
        let offset = ((span.start_time_unix_nano - start) as f64 / total as f64 * BAR_WIDTH as f64) as usize;
        let width = (((span.end_time_unix_nano - span.start_time_unix_nano) as f64 / total as f64 * BAR_WIDTH as f64)
            .ceil() as usize)
            .clamp(1, BAR_WIDTH - offset.min(BAR_WIDTH - 1));
        let bar = format!(
            "{}{}{}",
            " ".repeat(offset.min(BAR_WIDTH - 1)),
            "█".repeat(width),
            " ".repeat(BAR_WIDTH.saturating_sub(offset + width))
        );
        let orphan = span.parent_span_id.is_some() && depth == 0;
        let mut label = format!("{}{}{}", "  ".repeat(depth), if orphan { "⚠ " } else { "" }, span.name);
        if label.chars().count() > name_width {
            label = label.chars().take(name_width - 1).collect::<String>() + "…";
        }
        let error = span.status_code == 2;
        let line = format!(
            "{label:<name_width$} {:<18} {:>9.1} ms |{bar}|{}\n",
            truncate(&span.service_name, 18),
            span.duration_ms,
            if error { " ERROR" } else { "" }
        );
        if color && error {
            out.push_str(&format!("\x1b[31m{line}\x1b[0m"));
        } else {
            out.push_str(&line);
        }
        if let Some(kids) = children.get(&Some(span.span_id.as_str())) {
            let mut kids = kids.clone();
            kids.sort_by_key(|kid| std::cmp::Reverse(kid.start_time_unix_nano));
            stack.extend(kids.into_iter().map(|kid| (kid, depth + 1)));
        }
    }
    if trace.spans.iter().any(|span| span.parent_span_id.as_deref().is_some_and(|parent| !ids.contains(parent))) {
        out.push_str("⚠ marks spans whose parent has not arrived\n");
    }
    out
}

fn truncate(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_owned()
    } else {
        text.chars().take(width - 1).collect::<String>() + "…"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(id: &str, parent: Option<&str>, start: i64, end: i64, status_code: i64) -> SpanView {
        SpanView {
            trace_id: "t".into(),
            span_id: id.into(),
            parent_span_id: parent.map(str::to_owned),
            name: format!("op-{id}"),
            kind: "server".into(),
            start_time_unix_nano: start,
            end_time_unix_nano: end,
            duration_ms: (end - start) as f64 / 1e6,
            status_code,
            status_message: String::new(),
            trace_state: String::new(),
            flags: 0,
            dataset: "svc".into(),
            service_name: "svc".into(),
            attributes: Default::default(),
            resource: Default::default(),
            scope: Default::default(),
            events: vec![],
            links: vec![],
        }
    }

    #[test]
    fn test_render_nests_children_and_marks_errors_and_orphans() {
        let trace = TraceView {
            trace_id: "abc".into(),
            spans: vec![
                span("a", None, 0, 100_000_000, 0),
                span("b", Some("a"), 10_000_000, 60_000_000, 2),
                span("c", Some("zz"), 50_000_000, 90_000_000, 0),
            ],
            logs: vec![],
        };
        let text = render(&trace, false);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("trace abc  3 spans  100.0 ms"));
        assert!(lines[1].starts_with("op-a"));
        assert!(lines[2].starts_with("  op-b") && lines[2].ends_with("ERROR"));
        assert!(lines[3].starts_with("⚠ op-c"));
        assert!(text.contains("parent has not arrived"));
    }
}
