//! Parsing what people type about incidents: titles, services and tags, backdated instants, the
//! declaration form as a whole.

use chrono::{DateTime, Datelike, NaiveDateTime, Utc};

use super::error::{AppError, Validator};
use super::incident::Severity;

/// How far ahead of the server clock an instant may be (clock skew), in seconds.
const FUTURE_SLACK_SECS: i64 = 60;

/// A title: 3–200 characters after trimming, no control characters or direction overrides
/// (a title is shown in lists, notifications and exports, where they would disguise it).
pub fn parse_title(input: &str) -> Result<String, String> {
    let title = input.trim();
    if title.chars().any(is_disguising) {
        return Err(TextError::Control.to_string());
    }
    match title.chars().count() {
        0 => Err("Give the incident a title.".into()),
        1..=2 => Err("A title needs at least 3 characters.".into()),
        201.. => Err("A title has at most 200 characters.".into()),
        _ => Ok(title.to_owned()),
    }
}

/// Why free text was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    /// Blank where text is required.
    #[error("This cannot be empty.")]
    Empty,
    /// Longer than allowed.
    #[error("At most {max} characters.")]
    TooLong {
        /// The most characters allowed.
        max: usize,
    },
    /// Holds a control character (a terminal escape, a bell) or a right-to-left override, which
    /// would disguise the text where it is shown or exported.
    #[error(
        "Remove the invisible control characters (such as escapes or right-to-left overrides)."
    )]
    Control,
}

/// Whether `c` may not appear in free text: C0/C1 controls other than tab and line breaks, and
/// the bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069) that make text read
/// otherwise than it is stored.
pub fn is_disguising(c: char) -> bool {
    (c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Whether `c` shows nothing: whitespace and the zero-width characters.
fn is_invisible(c: char) -> bool {
    c.is_whitespace() || matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}')
}

/// Free text (title, description, note): at most `max` characters, no control characters or
/// direction overrides; `required` refuses text that shows nothing.
pub fn parse_text(input: &str, required: bool, max: usize) -> Result<String, TextError> {
    let text = input.trim();
    if required && text.chars().all(is_invisible) {
        return Err(TextError::Empty);
    }
    if text.chars().any(is_disguising) {
        return Err(TextError::Control);
    }
    if text.chars().count() > max {
        return Err(TextError::TooLong { max });
    }
    Ok(text.to_owned())
}

/// A service name or tag: lowercase letters, digits and `.-_/:`, 1–64 characters.
pub fn parse_label(input: &str) -> Result<String, String> {
    let label = input.trim().to_ascii_lowercase();
    if label.is_empty() || label.chars().count() > 64 {
        return Err(format!(
            "{} must have 1 to 64 characters.",
            super::error::quoted(input.trim())
        ));
    }
    if let Some(bad) = label
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/' | ':')))
    {
        return Err(format!(
            "{label:?} may hold the letters a to z, digits and . - _ / : only, not {bad:?}."
        ));
    }
    Ok(label)
}

/// A comma- or space-separated list of labels, de-duplicated in order, with at most `max`.
pub fn parse_labels(input: &str, required: bool, max: usize) -> Result<Vec<String>, String> {
    let mut labels: Vec<String> = Vec::new();
    for part in input
        .split([',', ' ', '\n', '\t'])
        .filter(|p| !p.trim().is_empty())
    {
        let label = parse_label(part)?;
        if !labels.contains(&label) {
            labels.push(label);
        }
    }
    if required && labels.is_empty() {
        return Err("Name at least one.".into());
    }
    if labels.len() > max {
        return Err(format!("At most {max}."));
    }
    Ok(labels)
}

/// The earliest instant anything may be dated: older dates are typing mistakes.
pub const EARLIEST_YEAR: i32 = 2000;

/// An instant typed as UTC (`2026-11-23T09:30`, with optional seconds, or RFC 3339). Blank means
/// `now`. The future is refused (nothing is detected before it happens), and so is anything
/// before [`EARLIEST_YEAR`].
pub fn parse_past_instant(input: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    let text = input.trim();
    if text.is_empty() {
        return Ok(now);
    }
    let at = DateTime::parse_from_rfc3339(text)
        .map(|d| d.with_timezone(&Utc))
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S").map(|n| n.and_utc()))
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M").map(|n| n.and_utc()))
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").map(|n| n.and_utc()))
        .map_err(|_| "Use a date and time like 2026-11-23T09:30 (UTC).".to_owned())?;
    if (at - now).num_seconds() > FUTURE_SLACK_SECS {
        return Err("This cannot be in the future.".into());
    }
    if at.year() < EARLIEST_YEAR {
        return Err(format!("Use a date from {EARLIEST_YEAR} on."));
    }
    Ok(at)
}

/// A parsed declaration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewIncident {
    /// Title.
    pub title: String,
    /// Description (may be empty).
    pub description: String,
    /// Severity.
    pub severity: Severity,
    /// Affected services (at least one).
    pub services: Vec<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// When it was detected.
    pub detected_at: DateTime<Utc>,
    /// When customer impact began, if known (at or before detection).
    pub impact_started_at: Option<DateTime<Utc>>,
}

/// When customer impact began, typed like [`parse_past_instant`]; blank means unknown. It cannot
/// be after `detected_at`: impact is what detection notices.
pub fn parse_impact_start(
    input: &str,
    detected_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, String> {
    if input.trim().is_empty() {
        return Ok(None);
    }
    let at = parse_past_instant(input, now)?;
    if at > detected_at {
        return Err("Impact starts at or before detection: check both times.".into());
    }
    Ok(Some(at))
}

impl NewIncident {
    /// Parses a declaration without an impact start (see [`NewIncident::parse_with_impact`]).
    pub fn parse(
        title: &str,
        description: &str,
        severity: &str,
        services: &str,
        tags: &str,
        detected_at: &str,
        now: DateTime<Utc>,
    ) -> Result<Self, AppError> {
        Self::parse_with_impact(
            title,
            description,
            severity,
            services,
            tags,
            detected_at,
            "",
            now,
        )
    }

    /// Parses the declaration form, reporting every bad field at once.
    #[expect(clippy::too_many_arguments, reason = "one argument per form field")]
    pub fn parse_with_impact(
        title: &str,
        description: &str,
        severity: &str,
        services: &str,
        tags: &str,
        detected_at: &str,
        impact_started_at: &str,
        now: DateTime<Utc>,
    ) -> Result<Self, AppError> {
        let mut v = Validator::default();
        let title = v.check("title", parse_title(title));
        let description = v.check(
            "description",
            parse_text(description, false, 20_000).map_err(|e| e.to_string()),
        );
        let severity = v.check("severity", severity.parse::<Severity>());
        let services = v.check("services", parse_labels(services, true, 10));
        let tags = v.check("tags", parse_labels(tags, false, 20));
        let detected_at = v.check("detected_at", parse_past_instant(detected_at, now));
        let impact_started_at = match detected_at {
            Some(detected) => v
                .check(
                    "impact_started_at",
                    parse_impact_start(impact_started_at, detected, now),
                )
                .flatten(),
            None => None,
        };
        v.finish()?;
        match (title, description, severity, services, tags, detected_at) {
            (
                Some(title),
                Some(description),
                Some(severity),
                Some(services),
                Some(tags),
                Some(detected_at),
            ) => Ok(Self {
                title,
                description,
                severity,
                services,
                tags,
                detected_at,
                impact_started_at,
            }),
            _ => Err(AppError::Internal),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_title_may_not_hide_what_it_says() {
        for title in [
            "rtl \u{202e} override",
            "bell\u{7} here",
            "esc\u{1b}[31m red",
        ] {
            assert!(
                parse_title(title)
                    .unwrap_err()
                    .contains("control characters"),
                "{title:?}"
            );
        }
        assert_eq!(parse_title("  Disk full  ").unwrap(), "Disk full");
    }

    #[test]
    fn text_that_shows_nothing_or_disguises_itself_is_refused() {
        assert_eq!(
            parse_text("\u{200B}\u{200B}", true, 100),
            Err(TextError::Empty)
        );
        assert_eq!(
            parse_text("fine\u{1b}[31m", true, 100),
            Err(TextError::Control)
        );
        assert_eq!(
            parse_text("invoice\u{202E}gnp.exe", true, 100),
            Err(TextError::Control)
        );
        assert_eq!(
            parse_text("two\nlines\twith a tab", true, 100).as_deref(),
            Ok("two\nlines\twith a tab")
        );
        assert_eq!(
            parse_text("中文 and emoji 🚒", true, 100).as_deref(),
            Ok("中文 and emoji 🚒")
        );
    }

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-23T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn impact_starts_at_or_before_detection_and_may_be_unknown() {
        let detected = now() - chrono::Duration::minutes(10);
        assert_eq!(parse_impact_start("", detected, now()), Ok(None));
        let before = parse_impact_start("2026-11-23T09:38", detected, now()).unwrap();
        assert_eq!(before, Some(detected - chrono::Duration::minutes(12)));
        assert!(parse_impact_start("2026-11-23T09:55", detected, now()).is_err());
    }

    #[test]
    fn instants_before_2000_are_refused() {
        assert!(parse_past_instant("2000-01-01T00:00", now()).is_ok());
        for absurd in [
            "0000-01-01T00:00",
            "1999-12-31T23:59",
            "-99999-01-01T00:00:00Z",
        ] {
            assert!(parse_past_instant(absurd, now()).is_err(), "{absurd}");
        }
    }

    #[test]
    fn a_full_declaration_parses() {
        let new = NewIncident::parse(
            "  Checkout errors ",
            "5xx on /pay",
            "sev2",
            "Payments, checkout,payments",
            "db timeout",
            "2026-11-23T09:30",
            now(),
        )
        .unwrap();
        assert_eq!(new.title, "Checkout errors");
        assert_eq!(new.severity, Severity::Sev2);
        assert_eq!(new.services, ["payments", "checkout"]);
        assert_eq!(new.tags, ["db", "timeout"]);
        assert_eq!(new.detected_at.to_rfc3339(), "2026-11-23T09:30:00+00:00");
    }

    #[test]
    fn every_bad_field_is_reported_at_once() {
        let err =
            NewIncident::parse("", "", "sev9", "", "bad tag!", "tomorrow", now()).unwrap_err();
        for field in ["title", "severity", "services", "tags", "detected_at"] {
            assert!(err.field_message(field).is_some(), "{field}: {err:?}");
        }
        assert!(err.field_message("description").is_none());
    }

    #[test]
    fn detected_at_defaults_to_now_and_refuses_the_future() {
        assert_eq!(parse_past_instant("", now()), Ok(now()));
        assert!(parse_past_instant("2026-11-23T10:05", now()).is_err());
        assert!(
            parse_past_instant("2026-11-23T10:00:30", now()).is_ok(),
            "clock skew is tolerated"
        );
        assert!(parse_past_instant("2026-11-23T09:00:00+08:00", now()).is_ok());
    }

    #[test]
    fn labels_are_lowercased_and_checked() {
        assert_eq!(parse_label(" API-Gateway "), Ok("api-gateway".into()));
        assert!(parse_label("a b").is_err());
        assert!(parse_labels("", true, 3).is_err());
        assert!(parse_labels("a,b,c,d", false, 3).is_err());
    }
}
