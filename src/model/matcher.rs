//! Label matchers with Alertmanager's semantics, and the silences and inhibition rules built from
//! them. `=` and `!=` compare the whole value; `=~` and `!~` take a regular expression that must
//! match the whole value (it is anchored at both ends); a label an alert does not have matches as
//! the empty string. Matching itself needs the regex engine and so runs on the server only.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::error::AppError;

/// An alert's labels (or annotations), by name, in name order.
pub type Labels = BTreeMap<String, String>;

/// Most matchers in one silence or rule.
pub const MATCHERS_MAX: usize = 32;
/// Longest matcher value or regular expression, in characters.
pub const VALUE_MAX: usize = 1024;

/// One label matcher, shaped as Alertmanager's API shapes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Matcher {
    /// The label's name.
    pub name: String,
    /// The value, or the regular expression with `is_regex`.
    pub value: String,
    /// Whether `value` is a regular expression (matched against the whole label value).
    #[serde(default)]
    pub is_regex: bool,
    /// Whether the label must match (`=`, `=~`) or must not (`!=`, `!~`).
    #[serde(default = "yes")]
    pub is_equal: bool,
}

fn yes() -> bool {
    true
}

impl Matcher {
    /// An equality matcher (`name="value"`).
    pub fn equal(name: &str, value: &str) -> Self {
        Self {
            name: name.to_owned(),
            value: value.to_owned(),
            is_regex: false,
            is_equal: true,
        }
    }

    /// The operator as written: `=`, `!=`, `=~` or `!~`.
    pub fn operator(&self) -> &'static str {
        match (self.is_equal, self.is_regex) {
            (true, false) => "=",
            (false, false) => "!=",
            (true, true) => "=~",
            (false, true) => "!~",
        }
    }

    /// Checks the name and the value's length (a regular expression's syntax is checked where
    /// it is compiled, on the server).
    pub fn check(&self) -> Result<(), String> {
        check_label_name(&self.name)?;
        if self.value.chars().count() > VALUE_MAX {
            return Err(format!(
                "The value of {} is longer than {VALUE_MAX} characters.",
                self.name
            ));
        }
        // A new line is allowed: a label value may hold one (written `\n` between quotes).
        if self.value.chars().any(|c| c.is_control() && c != '\n') {
            return Err(format!(
                "The value of {} holds a control character.",
                self.name
            ));
        }
        Ok(())
    }
}

impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}{}\"{}\"",
            self.name,
            self.operator(),
            self.value
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n")
        )
    }
}

/// Whether `c` may be part of a label name: Prometheus's letters, digits and `_`, and the `.`,
/// `-` and `/` of OpenTelemetry and Kubernetes names (`service.name`, `app.kubernetes.io/name`),
/// which Prometheus 3 and Alertmanager 0.28 pass on.
fn label_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '/')
}

/// A label name: a letter or `_`, then letters, digits and `_ . - /`, at most 128 characters.
pub fn check_label_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if !first_ok || !chars.all(label_char) || name.len() > 128 {
        return Err(format!(
            "{name:?} is not a label name: use letters, digits and _ . - / (first a letter or _)."
        ));
    }
    Ok(())
}

/// Reads matchers written one per line or separated by commas, as Alertmanager and amtool
/// write them: `alertname="HighLatency"`, `instance=~"web-.*"`, `env!=staging` (quotes optional
/// for values without commas). Braces around the whole list are allowed.
pub fn parse_matchers(text: &str) -> Result<Vec<Matcher>, String> {
    let text = text.trim();
    let text = text
        .strip_prefix('{')
        .and_then(|t| t.strip_suffix('}'))
        .unwrap_or(text);
    let mut matchers = Vec::new();
    let mut rest = text;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == ',');
        if rest.is_empty() {
            break;
        }
        let (matcher, after) = parse_one(rest)?;
        matchers.push(matcher);
        rest = after;
    }
    if matchers.len() > MATCHERS_MAX {
        return Err(format!("Use at most {MATCHERS_MAX} matchers."));
    }
    Ok(matchers)
}

/// One matcher at the start of `text`, and what follows it.
fn parse_one(text: &str) -> Result<(Matcher, &str), String> {
    let name_end = text.find(|c: char| !label_char(c)).unwrap_or(text.len());
    let name = &text[..name_end];
    let after_name = text[name_end..].trim_start();
    let (is_equal, is_regex, after_op) = if let Some(r) = after_name.strip_prefix("=~") {
        (true, true, r)
    } else if let Some(r) = after_name.strip_prefix("!~") {
        (false, true, r)
    } else if let Some(r) = after_name.strip_prefix("!=") {
        (false, false, r)
    } else if let Some(r) = after_name.strip_prefix('=') {
        (true, false, r)
    } else {
        return Err(format!(
            "{} is not a matcher: write name=\"value\" (or !=, =~, !~).",
            super::error::quoted(text)
        ));
    };
    let after_op = after_op.trim_start();
    let (value, rest) = if let Some(quoted) = after_op.strip_prefix('"') {
        let mut value = String::new();
        let mut chars = quoted.char_indices();
        let mut end = None;
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, escaped)) => value.push(escaped),
                    None => break,
                },
                '"' => {
                    end = Some(i + 1);
                    break;
                }
                other => value.push(other),
            }
        }
        let end = end.ok_or_else(|| format!("The value of {name} has no closing quote."))?;
        (value, &quoted[end..])
    } else {
        let end = after_op.find([',', '\n', '}']).unwrap_or(after_op.len());
        (after_op[..end].trim().to_owned(), &after_op[end..])
    };
    let matcher = Matcher {
        name: name.to_owned(),
        value,
        is_regex,
        is_equal,
    };
    matcher.check()?;
    let rest = rest.trim_start_matches([' ', '\t', '\r']);
    if !(rest.is_empty() || rest.starts_with([',', '\n'])) {
        let shown: String = rest.chars().take(40).collect();
        return Err(format!(
            "Separate matchers with commas or new lines (at {shown:?})."
        ));
    }
    Ok((matcher, rest))
}

/// Matchers written back one per line, as [`parse_matchers`] reads them.
pub fn format_matchers(matchers: &[Matcher]) -> String {
    matchers
        .iter()
        .map(Matcher::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Matchers that pick out an alert with these labels (for a silence prefilled from an event):
/// every label but the ones that change with each firing.
pub fn matchers_for(labels: &Labels) -> Vec<Matcher> {
    labels
        .iter()
        .filter(|(name, _)| check_label_name(name).is_ok())
        .take(MATCHERS_MAX)
        .map(|(name, value)| Matcher::equal(name, value))
        .collect()
}

/// A silence: while active, alerts its matchers all match are stored and shown as silenced and
/// trigger no rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Silence {
    /// Its id.
    pub id: String,
    /// Every one of these must match.
    pub matchers: Vec<Matcher>,
    /// When it starts muting.
    pub starts_at: DateTime<Utc>,
    /// When it stops by itself.
    pub ends_at: DateTime<Utc>,
    /// When someone ended it early, if anyone did.
    pub ended_at: Option<DateTime<Utc>>,
    /// Who made it (username).
    pub created_by: String,
    /// Why.
    pub comment: String,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// `pending`, `active` or `expired` at the time it was read.
    pub state: SilenceState,
}

code_enum!(
    /// Where a silence is in its life.
    SilenceState {
        /// Starts later.
        Pending => "pending", "Pending",
        /// Muting now.
        Active => "active", "Active",
        /// Over, by its end or ended early.
        Expired => "expired", "Expired",
    }
);

/// The state at `now` of a silence from `starts_at` to `ends_at`, ended early at `ended_at`.
pub fn silence_state(
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    ended_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> SilenceState {
    let end = ended_at.map_or(ends_at, |e| e.min(ends_at));
    if now >= end {
        SilenceState::Expired
    } else if now < starts_at {
        SilenceState::Pending
    } else {
        SilenceState::Active
    }
}

/// Longest silence comment.
pub const COMMENT_MAX: usize = 1000;
/// Longest a silence may last, in days.
pub const SILENCE_DAYS_MAX: i64 = 366;

/// A new silence as asked for, checked: at least one matcher, and at least one that does not
/// match the empty string (else it would silence every alert), an end after its start and after
/// now, a comment saying why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct NewSilence {
    /// Every one of these must match.
    pub matchers: Vec<Matcher>,
    /// When it starts muting (default: now).
    #[serde(default)]
    pub starts_at: Option<DateTime<Utc>>,
    /// When it stops by itself.
    pub ends_at: DateTime<Utc>,
    /// Why (shown beside every alert it mutes).
    pub comment: String,
}

impl NewSilence {
    /// Checks everything but the regular expressions' syntax; returns the start to use.
    pub fn check(&self, now: DateTime<Utc>) -> Result<DateTime<Utc>, AppError> {
        let mut errors = Vec::new();
        let mut push = |field: &str, message: String| {
            errors.push(crate::model::FieldError {
                field: field.to_owned(),
                message,
            })
        };
        if self.matchers.is_empty() {
            push("matchers", "Give at least one matcher.".to_owned());
        } else if self.matchers.len() > MATCHERS_MAX {
            push("matchers", format!("Use at most {MATCHERS_MAX} matchers."));
        }
        for (i, m) in self.matchers.iter().enumerate() {
            if let Err(message) = m.check() {
                push(&format!("matchers[{i}]"), message);
            }
        }
        let starts_at = self.starts_at.unwrap_or(now).max(now);
        if self.ends_at <= starts_at {
            push(
                "ends_at",
                "End it after it starts, in the future.".to_owned(),
            );
        } else if self.ends_at - starts_at > chrono::Duration::days(SILENCE_DAYS_MAX) {
            push(
                "ends_at",
                format!("A silence lasts at most {SILENCE_DAYS_MAX} days."),
            );
        }
        match crate::model::incident_input::parse_text(&self.comment, true, COMMENT_MAX) {
            Ok(_) => {}
            Err(crate::model::incident_input::TextError::Empty) => push(
                "comment",
                "Say why: it is shown beside every alert it mutes.".to_owned(),
            ),
            Err(other) => push("comment", other.to_string()),
        }
        if errors.is_empty() {
            Ok(starts_at)
        } else {
            Err(AppError::Validation(errors))
        }
    }
}

/// An inhibition rule: while an alert matching `source` fires, alerts matching `target` that
/// agree with it on every `equal` label are muted (`NodeDown` mutes `HighLatency` on the same
/// `instance`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct InhibitRule {
    /// Its id.
    pub id: String,
    /// A name to recognise it by.
    pub name: String,
    /// What the muting alert matches.
    pub source_matchers: Vec<Matcher>,
    /// What the muted alerts match.
    pub target_matchers: Vec<Matcher>,
    /// Labels source and target must agree on (both missing counts as agreeing).
    pub equal: Vec<String>,
}

/// Whether `source`'s labels and `target`'s agree on every label in `equal` (a label missing
/// from both agrees, as in Alertmanager).
pub fn agree_on(equal: &[String], source: &Labels, target: &Labels) -> bool {
    equal.iter().all(|name| {
        source.get(name).map_or("", String::as_str) == target.get(name).map_or("", String::as_str)
    })
}

/// Matchers compiled for matching (regular expressions anchored at both ends).
#[cfg(feature = "ssr")]
#[derive(Debug, Clone)]
pub struct MatcherSet {
    compiled: Vec<(Matcher, Option<regex::Regex>)>,
}

#[cfg(feature = "ssr")]
impl MatcherSet {
    /// Compiles `matchers`; a bad regular expression is a `Validation` error on
    /// `{field}[i]`.
    pub fn compile(matchers: &[Matcher], field: &str) -> Result<Self, AppError> {
        let mut compiled = Vec::with_capacity(matchers.len());
        let mut errors = Vec::new();
        for (i, m) in matchers.iter().enumerate() {
            let regex = if m.is_regex {
                match regex::RegexBuilder::new(&format!("^(?:{})$", m.value))
                    .size_limit(1 << 20)
                    .build()
                {
                    Ok(r) => Some(r),
                    Err(e) => {
                        let reason = e.to_string();
                        let reason = reason.lines().last().unwrap_or("").trim().to_owned();
                        errors.push(crate::model::FieldError {
                            field: format!("{field}[{i}]"),
                            message: format!("{} is not a regular expression: {reason}", m.value),
                        });
                        None
                    }
                }
            } else {
                None
            };
            compiled.push((m.clone(), regex));
        }
        if errors.is_empty() {
            Ok(Self { compiled })
        } else {
            Err(AppError::Validation(errors))
        }
    }

    /// Refuses a silence's matchers when every one of them matches the empty string: they
    /// would mute every alert that lacks those labels, which is nearly every alert.
    pub fn check_selective(&self, field: &str) -> Result<(), AppError> {
        if self.matches(&Labels::new()) {
            return Err(AppError::field(
                field,
                "At least one matcher must require a value (these would match every alert).",
            ));
        }
        Ok(())
    }

    /// Whether every matcher matches `labels` (an empty set matches everything).
    pub fn matches(&self, labels: &Labels) -> bool {
        self.compiled.iter().all(|(m, regex)| {
            let value = labels.get(&m.name).map_or("", String::as_str);
            let hit = match regex {
                Some(r) => r.is_match(value),
                None => value == m.value,
            };
            hit == m.is_equal
        })
    }
}

/// Labels from pairs (tests).
#[cfg(test)]
pub(crate) fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(text: &str) -> MatcherSet {
        MatcherSet::compile(&parse_matchers(text).unwrap(), "matchers").unwrap()
    }

    #[test]
    fn matchers_prefilled_from_labels_read_back_and_match_them_whatever_they_hold() {
        let event = labels(&[
            ("alertname", "Disk \"full\""),
            ("service.name", "checkout"),
            ("app.kubernetes.io/name", "web"),
            ("note", "line one\nline two"),
            ("path", "C:\\new"),
        ]);
        let text = format_matchers(&matchers_for(&event));
        let read = parse_matchers(&text).unwrap();
        assert_eq!(read.len(), 5, "{text}");
        assert!(set(&text).matches(&event), "{text}");
        assert!(check_label_name("9lives").is_err() && check_label_name("a b").is_err());
    }

    #[test]
    fn equality_matches_the_whole_value() {
        let m = set(r#"alertname="HighLatency""#);
        assert!(m.matches(&labels(&[("alertname", "HighLatency")])));
        assert!(!m.matches(&labels(&[("alertname", "HighLatency2")])));
        assert!(!m.matches(&labels(&[])));
    }

    #[test]
    fn inequality_matches_other_values_and_missing_labels() {
        let m = set(r#"env!="prod""#);
        assert!(m.matches(&labels(&[("env", "staging")])));
        assert!(m.matches(&labels(&[])));
        assert!(!m.matches(&labels(&[("env", "prod")])));
    }

    #[test]
    fn regular_expressions_are_anchored_at_both_ends() {
        let m = set(r#"instance=~"web-[0-9]+""#);
        assert!(m.matches(&labels(&[("instance", "web-12")])));
        assert!(!m.matches(&labels(&[("instance", "old-web-12")])));
        assert!(!m.matches(&labels(&[("instance", "web-12:9100")])));
    }

    #[test]
    fn an_alternation_is_anchored_as_a_whole() {
        let m = set(r#"job=~"api|web""#);
        assert!(m.matches(&labels(&[("job", "web")])));
        assert!(!m.matches(&labels(&[("job", "webapp")])));
        assert!(!m.matches(&labels(&[("job", "xapi")])));
    }

    #[test]
    fn a_negative_regular_expression_matches_what_it_does_not_match() {
        let m = set(r#"severity!~"info|debug""#);
        assert!(m.matches(&labels(&[("severity", "critical")])));
        assert!(!m.matches(&labels(&[("severity", "info")])));
        assert!(m.matches(&labels(&[])));
    }

    #[test]
    fn a_missing_label_matches_as_the_empty_string() {
        assert!(set(r#"team="""#).matches(&labels(&[])));
        assert!(set(r#"team=~".*""#).matches(&labels(&[])));
        assert!(!set(r#"team=~".+""#).matches(&labels(&[])));
        assert!(!set(r#"team!="""#).matches(&labels(&[])));
    }

    #[test]
    fn every_matcher_of_a_set_must_match() {
        let m = set("alertname=NodeDown, instance=~\"db-.*\"");
        assert!(m.matches(&labels(&[("alertname", "NodeDown"), ("instance", "db-1")])));
        assert!(!m.matches(&labels(&[("alertname", "NodeDown"), ("instance", "web-1")])));
    }

    #[test]
    fn matchers_read_quoted_unquoted_braced_and_one_per_line() {
        let parsed =
            parse_matchers("{alertname=\"A, B\", env != prod\ninstance=~\"x\\\"y\"}").unwrap();
        assert_eq!(parsed.len(), 3);
        assert_eq!(parsed[0], Matcher::equal("alertname", "A, B"));
        assert_eq!(parsed[1].operator(), "!=");
        assert_eq!(parsed[1].value, "prod");
        assert_eq!(parsed[2].value, "x\"y");
        assert_eq!(parse_matchers(&format_matchers(&parsed)).unwrap(), parsed);
    }

    #[test]
    fn a_matcher_without_an_operator_or_a_closing_quote_is_refused() {
        assert!(parse_matchers("alertname").is_err());
        assert!(parse_matchers("alertname=\"open").is_err());
        assert!(parse_matchers("1bad=x").is_err());
        assert!(parse_matchers("a=\"x\" b=\"y\"").is_err());
    }

    #[test]
    fn a_bad_regular_expression_is_refused_naming_the_matcher() {
        let err =
            MatcherSet::compile(&parse_matchers("a=~\"(\"").unwrap(), "matchers").unwrap_err();
        assert!(err.field_message("matchers[0]").is_some());
    }

    #[test]
    fn labels_agree_on_equal_names_and_on_names_missing_from_both() {
        let a = labels(&[("instance", "n1"), ("alertname", "NodeDown")]);
        let b = labels(&[("instance", "n1"), ("alertname", "HighLatency")]);
        let c = labels(&[("instance", "n2")]);
        assert!(agree_on(&["instance".into()], &a, &b));
        assert!(!agree_on(&["instance".into()], &a, &c));
        assert!(agree_on(&["cluster".into()], &a, &b));
        assert!(!agree_on(&["alertname".into()], &a, &b));
    }

    fn new_silence(matchers: &str, hours: i64) -> NewSilence {
        NewSilence {
            matchers: parse_matchers(matchers).unwrap(),
            starts_at: None,
            ends_at: Utc::now() + chrono::Duration::hours(hours),
            comment: "maintenance".into(),
        }
    }

    #[test]
    fn a_silence_that_would_match_everything_is_refused() {
        let now = Utc::now();
        assert!(new_silence("", 1).check(now).is_err());
        let selective = |text: &str| set(text).check_selective("matchers").is_ok();
        assert!(selective("env!=\"\""));
        assert!(selective("a=~\".+\", env!=\"x\""));
        assert!(!selective("team=\"\""));
        assert!(!selective("env!=\"x\""));
        assert!(!selective("a=~\".*\""));
    }

    #[test]
    fn a_silence_must_end_after_now_and_say_why() {
        let now = Utc::now();
        let err = new_silence("a=b", -1).check(now).unwrap_err();
        assert!(err.field_message("ends_at").is_some());
        let mut s = new_silence("a=b", 1);
        s.comment = " ".into();
        assert!(s.check(now).unwrap_err().field_message("comment").is_some());
    }

    #[test]
    fn a_silence_is_pending_active_then_expired() {
        let t = Utc::now();
        let h = chrono::Duration::hours(1);
        assert_eq!(
            silence_state(t + h, t + h * 2, None, t),
            SilenceState::Pending
        );
        assert_eq!(silence_state(t - h, t + h, None, t), SilenceState::Active);
        assert_eq!(
            silence_state(t - h, t + h, Some(t), t),
            SilenceState::Expired
        );
        assert_eq!(
            silence_state(t - h * 2, t - h, None, t),
            SilenceState::Expired
        );
    }
}
