//! Signing in.

pub mod login_page;
