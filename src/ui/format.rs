//! Formatting instants and durations for people under stress: short, unambiguous, UTC.

use chrono::{DateTime, Duration, Utc};

/// An instant as `2026-11-23 09:30 UTC`.
pub fn instant(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// An instant as `09:30:15` (for timeline rows; the date is in the header).
pub fn clock(at: DateTime<Utc>) -> String {
    at.format("%H:%M:%S").to_string()
}

/// A duration as `45 s`, `12 min`, `2 h 05 min` or `3 d 4 h`.
pub fn duration(d: Duration) -> String {
    let secs = d.num_seconds().max(0);
    match secs {
        0..=59 => format!("{secs} s"),
        60..=3599 => format!("{} min", secs / 60),
        3600..=86_399 => format!("{} h {:02} min", secs / 3600, (secs % 3600) / 60),
        _ => format!("{} d {} h", secs / 86_400, (secs % 86_400) / 3600),
    }
}

/// `value` percent-encoded for a URL query (unreserved characters kept).
pub fn url_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_at_a_glance() {
        assert_eq!(duration(Duration::seconds(-5)), "0 s");
        assert_eq!(duration(Duration::seconds(45)), "45 s");
        assert_eq!(duration(Duration::seconds(60 * 12 + 30)), "12 min");
        assert_eq!(duration(Duration::seconds(2 * 3600 + 5 * 60)), "2 h 05 min");
        assert_eq!(
            duration(Duration::seconds(3 * 86_400 + 4 * 3600 + 59)),
            "3 d 4 h"
        );
    }

    #[test]
    fn instants_are_utc() {
        let at = DateTime::parse_from_rfc3339("2026-11-23T09:30:15Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(instant(at), "2026-11-23 09:30 UTC");
        assert_eq!(clock(at), "09:30:15");
    }
}
