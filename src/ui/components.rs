//! Components reused across pages: the app shell, form fields and messages.

pub mod action_items;
pub mod badges;
pub mod chart;
pub mod feedback;
pub mod form;
pub mod schedule;
pub mod shell;
