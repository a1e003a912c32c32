//! Runs: the list, one run's live progress, and the table of runs a plan page shows.

pub mod review;
pub mod run_page;
pub mod runs_page;
pub mod runs_table;
pub mod score_panel;
