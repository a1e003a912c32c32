//! Background jobs that run inside the server process.

pub mod reminders;
pub mod steps;
