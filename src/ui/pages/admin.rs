//! Administration pages (admin role).

pub mod users_page;
