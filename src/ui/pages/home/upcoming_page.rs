//! A section whose capability has not been built yet: says so plainly instead of faking it.

use leptos::prelude::*;
use leptos_meta::Title;

/// The honest empty state of a section still to come.
#[component]
pub fn UpcomingPage(
    /// The section's name.
    title: &'static str,
    /// The issue that builds it.
    issue: u32,
) -> impl IntoView {
    view! {
        <Title text=title />
        <div class="page-header">
            <h1>{title}</h1>
        </div>
        <div class="card empty-state">
            <p>
                {format!("{title} are not available in this version of Nightwatch yet. ")}
                {format!("They are planned in issue #{issue}.")}
            </p>
        </div>
    }
}
