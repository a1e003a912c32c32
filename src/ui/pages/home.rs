//! The landing page, the not-found page and the placeholder for capabilities still to come.

pub mod home_page;
pub mod not_found_page;
pub mod upcoming_page;
