//! The user interface: shared components and one folder of pages per feature.

pub mod components;
pub mod pages;
