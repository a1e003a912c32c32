//! Components reused across pages: the app shell, form fields and messages.

pub mod form;
pub mod shell;
