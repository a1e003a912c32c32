//! Pages, one folder per feature; each page is a component ending in `Page`.

pub mod account;
pub mod actions;
pub mod admin;
pub mod auth;
pub mod home;
pub mod incidents;
pub mod plans;
pub mod postmortems;
