//! The landing page and the not-found page.

pub mod home_page;
pub mod not_found_page;
