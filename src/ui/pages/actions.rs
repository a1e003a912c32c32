//! The action items page.

pub mod actions_page;
