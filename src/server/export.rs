//! A postmortem as a Markdown report: metadata, every section, the key moments of the timeline
//! and the action items, in the order a reader expects. Empty sections say so instead of vanishing.
//!
//! Markdown renderers pass raw HTML through, and the report is mostly text people typed. So no
//! tag, entity, link or image anyone typed reaches a reader's renderer as such: every `&`, `<`,
//! `[` and `]` of the report is escaped (the template itself writes none of them), and typed text
//! that stands in a single line (list entries, the 5 whys, table cells, timeline entries) has its
//! line breaks folded, so it cannot start a heading. The download is served with `nosniff`.

use std::fmt::Write;

use crate::model::action_item::ActionItemView;
use crate::model::incident_views::IncidentDetail;
use crate::model::postmortem::{ImpactDurations, Postmortem};
use crate::ui::format;

const NONE: &str = "_None recorded._";

/// Typed text that must stay on one line: its line breaks folded into spaces.
fn line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Text for a table cell: one line, pipes escaped.
fn cell(text: &str) -> String {
    line(text).replace('|', "\\|")
}

fn list(out: &mut String, entries: &[String]) {
    if entries.is_empty() {
        out.push_str(NONE);
        out.push('\n');
    }
    for entry in entries {
        let _ = writeln!(out, "- {}", line(entry));
    }
}

/// The finished report with every `&`, `<`, `[` and `]` escaped (see the module's comment),
/// and without control characters or direction overrides that text stored before they were
/// refused could still hold (a terminal showing the file would obey an escape sequence).
fn escape_markup(report: &str) -> String {
    let mut out = String::with_capacity(report.len());
    for c in report.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '[' => out.push_str("\\["),
            ']' => out.push_str("\\]"),
            '\n' | '\t' => out.push(c),
            c if c.is_control()
                || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}') => {}
            c => out.push(c),
        }
    }
    out
}

fn paragraph(out: &mut String, text: &str) {
    out.push_str(if text.trim().is_empty() { NONE } else { text });
    out.push('\n');
}

/// The whole report.
pub fn postmortem_markdown(
    incident: &IncidentDetail,
    postmortem: &Postmortem,
    durations: &ImpactDurations,
    actions: &[ActionItemView],
) -> String {
    let s = &incident.summary;
    let doc = &postmortem.doc;
    let mut out = String::new();
    let _ = writeln!(out, "# Postmortem: {} {}\n", s.number, s.title);
    let when = |at: Option<chrono::DateTime<chrono::Utc>>| at.map(format::instant);
    let rows = [
        ("Incident", Some(s.number.to_string())),
        ("Severity", Some(s.severity.label().to_owned())),
        ("Status", Some(s.status.to_string())),
        ("Services", Some(s.services.join(", "))),
        ("Tags", Some(s.tags.join(", "))),
        ("Commander", s.commander.clone()),
        ("Impact began", when(incident.timestamps.impact_started_at)),
        (
            "Detected",
            Some(format::instant(incident.timestamps.detected_at)),
        ),
        ("Acknowledged", when(incident.timestamps.acknowledged_at)),
        ("Mitigated", when(incident.timestamps.mitigated_at)),
        ("Recovered", when(incident.timestamps.resolved_at)),
        (
            "Postmortem",
            Some(format!(
                "{}, version {}",
                postmortem.state.label(),
                postmortem.version
            )),
        ),
    ];
    out.push_str("| | |\n|---|---|\n");
    for (name, value) in rows {
        let value = value
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| "—".into());
        let _ = writeln!(out, "| {name} | {} |", cell(&value));
    }

    out.push_str("\n## Summary\n\n");
    paragraph(&mut out, &doc.summary);

    out.push_str("\n## Impact\n\n");
    paragraph(&mut out, &doc.impact);
    let span = |d: Option<chrono::Duration>| d.map_or("not yet".to_owned(), format::duration);
    let began = incident.timestamps.impact_started_at;
    let _ = writeln!(
        out,
        "\n- Impact ({} → recovered): {}\n- Time to detect: {}\n- Detected → mitigated: {}\n- Detected → recovered: {}",
        if began.is_some() { "began" } else { "detected" },
        span(durations.impact),
        if began.is_some() {
            span(durations.to_detect)
        } else {
            "impact start not recorded".to_owned()
        },
        span(durations.to_mitigate),
        span(durations.to_recover)
    );

    let heading = if doc.key_moments.is_empty() {
        "Timeline"
    } else {
        "Key moments"
    };
    let _ = writeln!(out, "\n## {heading}\n");
    for event in doc.moments(&incident.timeline) {
        let by = event
            .author
            .as_deref()
            .map(|a| format!(" ({a})"))
            .unwrap_or_default();
        let _ = write!(
            out,
            "- {} — {}{by}",
            format::instant(event.occurred_at),
            event.data.headline()
        );
        if let Some(text) = event.data.text().filter(|t| !t.is_empty()) {
            let _ = write!(out, ": {}", line(text));
        }
        out.push('\n');
    }

    out.push_str("\n## Root causes\n\n");
    list(&mut out, &doc.root_causes);
    out.push_str("\n## Contributing factors\n\n");
    list(&mut out, &doc.contributing_factors);

    out.push_str("\n## 5 whys\n\n");
    let links: Vec<_> = doc
        .whys
        .links()
        .iter()
        .filter(|w| !w.why.trim().is_empty() || !w.because.trim().is_empty())
        .collect();
    if links.is_empty() {
        let _ = writeln!(out, "{NONE}");
    }
    // Each question with its answer nested under it: the labels of the form ("Why?",
    // "Because") are not repeated in front of text that usually says it already.
    for (i, link) in links.iter().enumerate() {
        let _ = writeln!(out, "{}. **{}**", i + 1, line(&link.why));
        if !link.because.trim().is_empty() {
            let _ = writeln!(out, "   - {}", line(&link.because));
        }
    }

    out.push_str("\n## Lessons\n\n### What went well\n\n");
    list(&mut out, &doc.went_well);
    out.push_str("\n### What went wrong\n\n");
    list(&mut out, &doc.went_wrong);
    out.push_str("\n### Where we got lucky\n\n");
    list(&mut out, &doc.got_lucky);

    out.push_str("\n## Corrective and preventive actions\n\n");
    if actions.is_empty() {
        let _ = writeln!(out, "{NONE}");
    } else {
        out.push_str(
            "| Action | Kind | Priority | Owner | Due | State |\n|---|---|---|---|---|---|\n",
        );
        for a in actions {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                cell(&a.title),
                a.kind.label(),
                a.priority.label(),
                cell(&a.owner),
                a.due_on,
                a.state.label()
            );
        }
    }
    escape_markup(&out)
}

/// The download's file name: `INC-12-postmortem.md`.
pub fn file_name(incident: &IncidentDetail) -> String {
    format!("{}-postmortem.md", incident.summary.number)
}
