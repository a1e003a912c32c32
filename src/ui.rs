//! The user interface: shared components, formatting, and one folder of pages per feature.

pub mod components;
pub mod format;
pub mod pages;
