//! Severity and status badges: the text always says it; colour only supports it.

use leptos::prelude::*;

use crate::model::incident::{IncidentStatus, Severity};

/// `SEV1` … `SEV4`.
#[component]
pub fn SeverityBadge(severity: Severity) -> impl IntoView {
    view! {
        <span class=format!("badge sev {}", severity.as_str()) title=severity.meaning()>
            {severity.label()}
        </span>
    }
}

/// `Open`, `Mitigating`, `Recovered`, `Reviewed`.
#[component]
pub fn StatusBadge(status: IncidentStatus) -> impl IntoView {
    view! { <span class=format!("badge status {}", status.as_str())>{status.label()}</span> }
}
