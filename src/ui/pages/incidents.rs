//! Incident pages: the list, the declaration form, and the page a commander runs an incident from.

pub mod declare_page;
pub mod incident_page;
pub mod incidents_page;
pub mod timeline;
