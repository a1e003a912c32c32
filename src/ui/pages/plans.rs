//! Plans: the list, and one plan with its steps.

pub mod plan_page;
pub mod plans_page;
pub mod preview;
