//! Severity and status badges: the text always says it; colour only supports it.

use leptos::prelude::*;

use crate::model::incident::{IncidentStatus, Severity};

/// `SEV1` … `SEV4`.
#[component]
pub fn SeverityBadge(severity: Severity) -> impl IntoView {
    view! { <span class=severity_class(severity) title=severity.meaning()>{severity.label()}</span> }
}

/// Whole class names, not formatted: lists draw a badge per row.
fn severity_class(severity: Severity) -> &'static str {
    match severity {
        Severity::Sev1 => "badge sev sev1",
        Severity::Sev2 => "badge sev sev2",
        Severity::Sev3 => "badge sev sev3",
        Severity::Sev4 => "badge sev sev4",
    }
}

/// `Open`, `Mitigating`, `Recovered`, `Reviewed`.
#[component]
pub fn StatusBadge(status: IncidentStatus) -> impl IntoView {
    view! { <span class=status_class(status)>{status.label()}</span> }
}

fn status_class(status: IncidentStatus) -> &'static str {
    match status {
        IncidentStatus::Open => "badge status open",
        IncidentStatus::Mitigating => "badge status mitigating",
        IncidentStatus::Recovered => "badge status recovered",
        IncidentStatus::Reviewed => "badge status reviewed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_badge_class_ends_with_its_value() {
        for s in Severity::ALL {
            assert_eq!(severity_class(s), format!("badge sev {}", s.as_str()));
        }
        for s in IncidentStatus::ALL {
            assert_eq!(status_class(s), format!("badge status {}", s.as_str()));
        }
    }
}
