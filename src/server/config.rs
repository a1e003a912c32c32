//! Run-time configuration, read from `NIGHTWATCH_*` environment variables (flags override some).

use std::time::Duration;

/// The default database: one embedded SQLite file, created on first start.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/nightwatch.db";

/// How the server is set up. Every field has an environment variable; see the README.
#[derive(Debug, Clone)]
pub struct Config {
    /// `NIGHTWATCH_DATABASE_URL`: `sqlite://path` or `postgres://…`.
    pub database_url: String,
    /// `NIGHTWATCH_DB_MAX_CONNECTIONS`: pool size (default 10).
    pub db_max_connections: u32,
    /// `NIGHTWATCH_SECURE_COOKIES`: set the `Secure` flag on the session cookie (behind HTTPS).
    pub secure_cookies: bool,
    /// `NIGHTWATCH_SESSION_HOURS`: a session ends after this long without a request (default 12).
    pub session_inactivity: Duration,
    /// `NIGHTWATCH_REMINDER_TIME`: when the daily action item reminders go out, `HH:MM` in UTC
    /// (default 09:00).
    pub reminder_time: chrono::NaiveTime,
    /// `NIGHTWATCH_RUN_WORKERS`: how many plan runs execute at once (default 4); more wait.
    pub run_workers: usize,
    /// `NIGHTWATCH_ALLOW_SELF_TARGET`: let plan steps call this Nightwatch server itself (default
    /// false: a plan that points at Nightwatch is refused at run time).
    pub allow_self_target: bool,
    /// `NIGHTWATCH_METRICS_TOKEN`: when set, `/metrics` answers only a scraper that sends it as
    /// `Authorization: Bearer …` (default: `/metrics` is public).
    pub metrics_token: Option<String>,
    /// `NIGHTWATCH_STEP_ALLOW` / `NIGHTWATCH_STEP_DENY`: the networks plan steps may reach.
    pub step_networks: crate::server::netpolicy::NetPolicy,
    /// Requests one API token may make per minute (per instance); more are answered 429.
    pub api_rate_per_minute: u32,
    /// `NIGHTWATCH_ALERT_RATE_PER_MINUTE`: alert deliveries (requests to `/api/v1/alerts…`) one
    /// token may make per minute, counted apart from its other requests: an Alertmanager in a
    /// storm must not lock its token out of the rest of the API, nor the API out of alerts.
    pub alert_rate_per_minute: u32,
    /// `NIGHTWATCH_ALERT_RETENTION_DAYS`: how long every received alert is kept (risk events
    /// themselves are kept).
    pub alert_retention_days: u32,
    /// `NIGHTWATCH_PUBLIC_URL`: the address people reach this Nightwatch at
    /// (`https://nightwatch.example.com`): notifications link back to pages under it (without
    /// it their links are paths only).
    pub public_url: Option<String>,
}

impl Config {
    /// Reads the configuration from the environment, refusing malformed values with a clear message.
    pub fn from_env() -> Result<Self, String> {
        Ok(Self {
            database_url: env_or("NIGHTWATCH_DATABASE_URL", DEFAULT_DATABASE_URL),
            db_max_connections: parse_env("NIGHTWATCH_DB_MAX_CONNECTIONS", 10)?,
            secure_cookies: parse_env("NIGHTWATCH_SECURE_COOKIES", false)?,
            session_inactivity: Duration::from_secs(
                parse_env::<u64>("NIGHTWATCH_SESSION_HOURS", 12)? * 3600,
            ),
            reminder_time: parse_time("NIGHTWATCH_REMINDER_TIME")?,
            run_workers: match parse_env("NIGHTWATCH_RUN_WORKERS", 4usize)? {
                0 => return Err("NIGHTWATCH_RUN_WORKERS must be at least 1".into()),
                n => n,
            },
            allow_self_target: parse_env("NIGHTWATCH_ALLOW_SELF_TARGET", false)?,
            metrics_token: std::env::var("NIGHTWATCH_METRICS_TOKEN")
                .ok()
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty()),
            step_networks: crate::server::netpolicy::NetPolicy::from_lists(
                &env_or("NIGHTWATCH_STEP_ALLOW", ""),
                &env_or(
                    "NIGHTWATCH_STEP_DENY",
                    crate::server::netpolicy::DEFAULT_DENY,
                ),
            )
            .map_err(|e| format!("NIGHTWATCH_STEP_ALLOW / NIGHTWATCH_STEP_DENY: {e}"))?,
            api_rate_per_minute: match parse_env("NIGHTWATCH_API_RATE_PER_MINUTE", 600u32)? {
                0 => return Err("NIGHTWATCH_API_RATE_PER_MINUTE must be at least 1".into()),
                n => n,
            },
            alert_rate_per_minute: match parse_env("NIGHTWATCH_ALERT_RATE_PER_MINUTE", 6000u32)? {
                0 => return Err("NIGHTWATCH_ALERT_RATE_PER_MINUTE must be at least 1".into()),
                n => n,
            },
            alert_retention_days: match parse_env("NIGHTWATCH_ALERT_RETENTION_DAYS", 30u32)? {
                0 => return Err("NIGHTWATCH_ALERT_RETENTION_DAYS must be at least 1".into()),
                n => n,
            },
            public_url: match std::env::var("NIGHTWATCH_PUBLIC_URL")
                .ok()
                .map(|u| u.trim().to_owned())
            {
                None => None,
                Some(u) if u.is_empty() => None,
                Some(u) => match url::Url::parse(&u) {
                    Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => Some(u),
                    _ => {
                        return Err(format!(
                            "NIGHTWATCH_PUBLIC_URL must be an http:// or https:// address, not {u:?}"
                        ));
                    }
                },
            },
        })
    }

    /// A configuration for tests and tools: the given database, defaults for the rest.
    pub fn for_database(database_url: impl Into<String>) -> Self {
        Self {
            database_url: database_url.into(),
            db_max_connections: 5,
            secure_cookies: false,
            session_inactivity: Duration::from_secs(12 * 3600),
            reminder_time: DEFAULT_REMINDER_TIME,
            run_workers: 4,
            allow_self_target: false,
            metrics_token: None,
            step_networks: crate::server::netpolicy::NetPolicy::default(),
            api_rate_per_minute: 600,
            alert_rate_per_minute: 6000,
            alert_retention_days: 30,
            public_url: None,
        }
    }
}

/// When reminders go out unless configured: 09:00 UTC.
pub const DEFAULT_REMINDER_TIME: chrono::NaiveTime = match chrono::NaiveTime::from_hms_opt(9, 0, 0)
{
    Some(t) => t,
    None => panic!("09:00 is a time"),
};

fn parse_time(name: &str) -> Result<chrono::NaiveTime, String> {
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => chrono::NaiveTime::parse_from_str(v.trim(), "%H:%M")
            .map_err(|_| format!("{name}={v:?} is not a time like 09:00 (UTC)")),
        _ => Ok(DEFAULT_REMINDER_TIME),
    }
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_owned())
}

fn parse_env<T: std::str::FromStr>(name: &str, default: T) -> Result<T, String> {
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => v
            .parse()
            .map_err(|_| format!("{name}={v:?} is not a valid value")),
        _ => Ok(default),
    }
}
