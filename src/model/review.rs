//! A finished drill run's review (a drill that is run but never reviewed teaches nothing): what
//! was found and what to change; action items created from it point at the run.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::AppError;
use super::error::Validator;

/// Longest findings or changes text.
pub const REVIEW_MAX: usize = 10_000;

/// A run's review as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct RunReview {
    /// What the drill showed.
    pub findings: String,
    /// What to change in the system, the plan or the runbook.
    pub changes: String,
    /// Who wrote it last.
    pub reviewed_by: String,
    /// When it was first written.
    pub reviewed_at: DateTime<Utc>,
    /// When it was last changed.
    pub updated_at: DateTime<Utc>,
}

/// The review's two texts, trimmed and checked: findings are required.
pub fn check_review(findings: &str, changes: &str) -> Result<(String, String), AppError> {
    let (findings, changes) = (findings.trim(), changes.trim());
    let mut v = Validator::default();
    let long = |text: &str| text.chars().count() > REVIEW_MAX;
    if findings.is_empty() {
        v.check::<()>(
            "findings",
            Err("Say what the drill showed, even if it went well.".into()),
        );
    } else if long(findings) {
        v.check::<()>("findings", Err(format!("At most {REVIEW_MAX} characters.")));
    }
    if long(changes) {
        v.check::<()>("changes", Err(format!("At most {REVIEW_MAX} characters.")));
    }
    v.finish()?;
    Ok((findings.to_owned(), changes.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn findings_are_required_and_texts_are_bounded() {
        assert_eq!(
            check_review("  failover took 3 min \n", " "),
            Ok(("failover took 3 min".into(), String::new()))
        );
        let Err(AppError::Validation(errors)) = check_review(" ", &"x".repeat(REVIEW_MAX + 1))
        else {
            panic!("expected validation errors");
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["findings", "changes"]);
    }
}
