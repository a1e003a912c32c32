//! Everything that only runs on the server: configuration, storage, sessions, routing, jobs.

pub mod actor;
pub mod assets;
pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod demo;
pub mod error;
pub mod export;
pub mod forms;
pub mod input_guard;
pub mod jobs;
pub mod metrics;
pub mod netpolicy;
pub mod plain_forms;
pub mod repo;
pub mod rest;
pub mod router;
pub mod security;
pub mod service;
pub mod session_store;
pub mod signing;
pub mod state;
pub mod throttle;

pub use state::AppState;
