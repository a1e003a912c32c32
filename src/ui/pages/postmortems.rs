//! The postmortem of an incident: the form, the report and its print view.

pub mod editor;
pub mod postmortem_page;
pub mod report;
pub mod report_page;
