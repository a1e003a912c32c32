//! Background jobs that run inside the server process.

pub mod executor;
pub mod reminders;
pub mod scheduler;
pub mod steps;
