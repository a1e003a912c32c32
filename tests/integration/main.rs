//! Integration tests, built as one binary: repositories and services on SQLite and PostgreSQL,
//! and HTTP requests through the real router.
//!
//! `db_test!` turns one async test body into two tests, `…::sqlite` and `…::postgres`, each on a
//! fresh migrated database. PostgreSQL runs when `NIGHTWATCH_TEST_POSTGRES_URL` is set (and must
//! be set under CI, so that suite is never skipped silently there).

/// One test body, run once on SQLite and once on PostgreSQL.
macro_rules! db_test {
    ($(#[$meta:meta])* async fn $name:ident($db:ident) $body:block) => {
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                crate::support::with_db(crate::support::Backend::Sqlite, |$db| async move $body).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                crate::support::with_db(crate::support::Backend::Postgres, |$db| async move $body).await;
            }
        }
    };
}

mod accounts;
mod action_items;
mod alert_rules;
mod alertmanager;
mod alerts;
mod cli;
mod concurrency;
mod http;
mod http_action_items;
mod http_board;
mod http_incidents;
mod http_plans;
mod http_postmortems;
mod incidents;
mod inspections;
mod metrics;
mod migrations;
mod notifications;
mod plans;
mod postmortems;
mod reminders;
mod rest_incidents;
mod rest_notifications;
mod rest_openapi;
mod rest_resources;
mod rest_tokens;
mod runs;
mod schedules;
mod security;
mod sessions;
mod steps;
mod support;
