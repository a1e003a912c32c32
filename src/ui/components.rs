//! Components reused across pages: the app shell, form fields and messages.

pub mod badges;
pub mod form;
pub mod shell;
