//! Plans: the list, one plan with its steps and runs, and the step composer.

pub mod composer;
pub mod editor_page;
pub mod palette;
pub mod plan_page;
pub mod plans_page;
pub mod preview;
pub mod run_form;
pub mod schedule_fields;
pub mod schedule_panel;
pub mod step_list;
pub mod step_panel;
