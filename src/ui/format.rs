//! Formatting instants and durations for people under stress: short, unambiguous, UTC; and
//! text made safe for markup that Leptos does not write itself.

use chrono::{DateTime, Duration, Utc};

/// `text` with the characters that mean something in HTML written as entities. Leptos escapes
/// everything it renders itself, but leptos_meta writes the `<title>` raw on the server (the
/// Markdown export has its own escaping, `export::escape_markup`, for Markdown's characters).
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
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

/// Text for an element whose content the server writes without escaping it: the `<title>`
/// (leptos_meta) and every `<textarea>` (tachys treats its children as raw text). Escaped on the
/// server, where it becomes markup (the browser decodes the entities back to the text); left as
/// it is in the browser, where it becomes a text node. Every `<textarea>` child goes through here.
pub fn raw_text(text: &str) -> String {
    if cfg!(feature = "ssr") {
        escape_html(text)
    } else {
        text.to_owned()
    }
}

/// The document title of a page: `{page} · Nightwatch`.
pub fn document_title(page: &str) -> String {
    raw_text(&format!("{page} · Nightwatch"))
}

/// `people` with `me` moved to the front (when they are among them): pickers offer the person
/// choosing first.
pub fn me_first(mut people: Vec<String>, me: Option<&str>) -> Vec<String> {
    if let Some(at) = me.and_then(|me| people.iter().position(|p| p == me)) {
        let mine = people.remove(at);
        people.insert(0, mine);
    }
    people
}

/// A count with its noun: `1 incident`, `3 incidents`.
pub fn count(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// An instant as `2026-11-23 09:30 UTC` (written out field by field: lists print one per row,
/// and chrono's `format` reads its pattern again on every call).
pub fn instant(at: DateTime<Utc>) -> String {
    use chrono::{Datelike, Timelike};
    if !(0..=9999).contains(&at.year()) {
        return at.format("%Y-%m-%d %H:%M UTC").to_string();
    }
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        at.year(),
        at.month(),
        at.day(),
        at.hour(),
        at.minute()
    )
}

/// An instant as `09:30:15` (for timeline rows; the date is in the header).
pub fn clock(at: DateTime<Utc>) -> String {
    use chrono::Timelike;
    format!("{:02}:{:02}:{:02}", at.hour(), at.minute(), at.second())
}

/// The day of `at` as `Nov 23`, with the year when it is not `now`'s (`Jan 01 2001`).
pub fn day(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    use chrono::Datelike;
    if at.year() == now.year() {
        at.format("%b %d").to_string()
    } else {
        at.format("%b %d %Y").to_string()
    }
}

/// `at` as a clock time when it falls on `since`'s day, else with its date too.
pub fn clock_after(at: DateTime<Utc>, since: DateTime<Utc>) -> String {
    if at.date_naive() == since.date_naive() {
        clock(at)
    } else {
        instant(at)
    }
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
    fn instants_and_clocks_are_written_as_chrono_writes_them() {
        for at in [
            "2026-11-23T09:30:15Z",
            "2001-01-01T00:00:00Z",
            "0099-12-31T23:59:59.999Z",
            "+12026-05-06T07:08:09Z",
        ] {
            let at: DateTime<Utc> = at.parse().unwrap();
            assert_eq!(instant(at), at.format("%Y-%m-%d %H:%M UTC").to_string());
            assert_eq!(clock(at), at.format("%H:%M:%S").to_string());
        }
    }

    #[test]
    fn a_day_names_its_year_only_when_it_is_not_this_one() {
        let now = "2026-11-28T10:00:00Z".parse().unwrap();
        assert_eq!(day("2026-01-01T00:00:00Z".parse().unwrap(), now), "Jan 01");
        assert_eq!(
            day("2001-01-01T00:00:00Z".parse().unwrap(), now),
            "Jan 01 2001"
        );
        let detected = "2026-10-01T23:12:00Z".parse().unwrap();
        assert_eq!(
            clock_after("2026-10-02T01:28:25Z".parse().unwrap(), detected),
            "2026-10-02 01:28 UTC"
        );
        assert_eq!(
            clock_after("2026-10-01T23:58:00Z".parse().unwrap(), detected),
            "23:58:00"
        );
    }

    #[test]
    fn the_person_choosing_comes_first() {
        let people = vec!["ann".to_owned(), "bob".to_owned(), "cy".to_owned()];
        assert_eq!(me_first(people.clone(), Some("bob")), ["bob", "ann", "cy"]);
        assert_eq!(me_first(people.clone(), Some("zed")), people);
        assert_eq!(me_first(people.clone(), None), people);
    }

    #[test]
    fn markup_in_text_is_written_as_entities() {
        assert_eq!(
            escape_html(r#"E</title><script>x('a')</script> & "b""#),
            "E&lt;/title&gt;&lt;script&gt;x(&#39;a&#39;)&lt;/script&gt; &amp; &quot;b&quot;"
        );
        assert_eq!(escape_html("plain"), "plain");
    }

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
