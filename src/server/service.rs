//! Workflows over the repositories: validation, transactions and the rules that span tables.

pub mod accounts;
pub mod action_items;
pub mod alert_rules;
pub mod alerts;
pub mod incidents;
pub mod inspections;
pub mod metrics;
pub mod notifications;
pub mod plans;
pub mod postmortems;
pub mod runs;
pub mod tokens;
