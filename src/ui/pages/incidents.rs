//! Incident pages: the list, the declaration form, and the page a commander runs an incident from.

pub mod declare_page;
pub mod incident_page;
pub mod incidents_page;
pub mod timeline;

use leptos::prelude::*;

/// What a page of an incident that does not exist shows: it says so, and the page answers 404.
#[component]
pub fn NoSuchIncident(number: String) -> impl IntoView {
    crate::ui::pages::not_found_status();
    view! { <div class="card empty-state"><p>{format!("There is no incident {number}.")}</p></div> }
}
