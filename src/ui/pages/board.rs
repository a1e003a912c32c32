//! The metrics board.

pub mod board_page;
