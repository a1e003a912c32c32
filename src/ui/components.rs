//! Components reused across pages: the app shell, form fields and messages.

pub mod action_items;
pub mod badges;
pub mod form;
pub mod shell;
