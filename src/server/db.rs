//! The connection pool: one `AnyPool` for SQLite and PostgreSQL, and the embedded migrations.
//!
//! Ids are stored as TEXT and instants as BIGINT Unix milliseconds, because `Any` binds neither
//! `Uuid` nor `DateTime`; the conversions live here so repositories stay one code path.

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::any::AnyPoolOptions;
use sqlx::migrate::MigrateDatabase;
use sqlx::{AnyPool, Executor};

/// The migrations under `migrations/`, embedded at compile time: the text PostgreSQL runs, and
/// SQLite's too except for the versions in [`SQLITE_TEXTS`].
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!();

/// Migrations SQLite runs in a text of its own (under `migrations_sqlite/`, same version and
/// name): SQLite cannot alter a constraint and writes triggers its own way. A database only ever
/// sees one of the two texts, so the checksums sqlx keeps stay consistent.
const SQLITE_TEXTS: &[(i64, &str)] = &[
    (
        20261130000017,
        include_str!("../../migrations_sqlite/20261130000017_inspections.sql"),
    ),
    (
        20261203000021,
        include_str!("../../migrations_sqlite/20261203000021_incident_counts.sql"),
    ),
    (
        20261204000022,
        include_str!("../../migrations_sqlite/20261204000022_board_rollups.sql"),
    ),
];

/// The migrations for a backend: [`MIGRATOR`]'s, with SQLite's own texts swapped in.
pub fn migrator(sqlite: bool) -> sqlx::migrate::Migrator {
    let migrations = MIGRATOR
        .iter()
        .map(|m| {
            match SQLITE_TEXTS
                .iter()
                .find(|(version, _)| sqlite && *version == m.version)
            {
                Some((_, sql)) => sqlx::migrate::Migration::new(
                    m.version,
                    m.description.clone(),
                    m.migration_type,
                    std::borrow::Cow::Borrowed(*sql),
                    m.no_tx,
                ),
                None => m.clone(),
            }
        })
        .collect();
    sqlx::migrate::Migrator {
        migrations: std::borrow::Cow::Owned(migrations),
        ..sqlx::migrate::Migrator::DEFAULT
    }
}

/// Opens a pool on `url`. For SQLite the file (and its folder) is created if missing, and every
/// connection runs in WAL mode with foreign keys on, a busy timeout and an 8 MiB page cache.
pub async fn connect(url: &str, max_connections: u32) -> Result<AnyPool, sqlx::Error> {
    sqlx::any::install_default_drivers();
    let url = prepare_sqlite_url(url)?;
    if !is_sqlite(&url) && !sqlx::Any::database_exists(&url).await? {
        // A named PostgreSQL database that does not exist yet is created (needs CREATEDB).
        sqlx::Any::create_database(&url).await?;
    }
    AnyPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(10))
        // A request that waits longer than this for a connection is logged (a warning from
        // `sqlx::pool::acquire`): the pool is too small for the load, or something holds it.
        .acquire_slow_threshold(Duration::from_millis(100))
        // sqlx pings a connection before lending it (and again when it comes back): a round
        // trip to the connection's worker thread, two task switches. A SQLite connection is a
        // file in this process and cannot have gone away while idle, so it is lent without.
        // A PostgreSQL one can (a restarted server, a dropped VPN), so it keeps the check.
        .test_before_acquire(!is_sqlite(&url))
        .after_connect(|conn, _meta| {
            Box::pin(async move {
                if is_sqlite_conn(conn) {
                    conn.execute("PRAGMA journal_mode = WAL").await?;
                    conn.execute("PRAGMA foreign_keys = ON").await?;
                    conn.execute("PRAGMA busy_timeout = 5000").await?;
                    conn.execute("PRAGMA synchronous = NORMAL").await?;
                    // 8 MiB of page cache per connection (SQLite's default is 2 MiB): the pages
                    // the metrics board reads for a few months of incidents stay in it between
                    // requests instead of being read from the file each time.
                    conn.execute("PRAGMA cache_size = -8192").await?;
                }
                Ok(())
            })
        })
        .connect(&url)
        .await
}

/// Applies every pending migration. Safe to run from several instances at once.
pub async fn migrate(pool: &AnyPool) -> Result<(), sqlx::migrate::MigrateError> {
    let sqlite = is_sqlite_conn(&*pool.acquire().await?);
    migrator(sqlite).run(pool).await
}

/// Lets SQLite refresh its table statistics where they are missing or out of date (its query
/// planner picks indexes by them; PostgreSQL's autovacuum does this by itself). Run at start-up:
/// after a bulk load, a large import or months of growth, the next start brings them up to date.
pub async fn optimize(pool: &AnyPool) -> Result<(), sqlx::Error> {
    let mut conn = pool.acquire().await?;
    if is_sqlite_conn(&conn) {
        // Sample at most this many rows per index: seconds, not minutes, on a large file.
        conn.execute("PRAGMA analysis_limit = 2000").await?;
        conn.execute("PRAGMA optimize = 0x10002").await?;
    }
    Ok(())
}

/// Whether `conn` is a SQLite connection.
pub fn is_sqlite_conn(conn: &sqlx::AnyConnection) -> bool {
    conn.backend_name().eq_ignore_ascii_case("sqlite")
}

/// Whether `url` names a SQLite database.
pub fn is_sqlite(url: &str) -> bool {
    url.starts_with("sqlite:")
}

/// Adds `mode=rwc` to a SQLite URL (so the file is created) and creates the file's folder.
fn prepare_sqlite_url(url: &str) -> Result<String, sqlx::Error> {
    if !is_sqlite(url) {
        return Ok(url.to_owned());
    }
    let rest = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let folder = Path::new(path)
        .parent()
        .filter(|d| !d.as_os_str().is_empty() && path != ":memory:");
    if let Some(dir) = folder {
        std::fs::create_dir_all(dir).map_err(|e| {
            sqlx::Error::Configuration(format!("cannot create {}: {e}", dir.display()).into())
        })?;
    }
    if query.split('&').any(|p| p.starts_with("mode=")) {
        Ok(url.to_owned())
    } else if query.is_empty() {
        Ok(format!("{url}?mode=rwc"))
    } else {
        Ok(format!("{url}&mode=rwc"))
    }
}

/// An instant as stored: Unix milliseconds.
pub fn to_millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

/// A stored instant back as a `DateTime`; out-of-range values clamp to the epoch.
pub fn from_millis(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// The current instant as stored.
pub fn now_millis() -> i64 {
    to_millis(Utc::now())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_get_create_mode_once() {
        let dir = std::env::temp_dir().join(format!("nw-db-url-{}", uuid::Uuid::new_v4()));
        let url = format!("sqlite://{}/x.db", dir.display());
        assert_eq!(prepare_sqlite_url(&url).unwrap(), format!("{url}?mode=rwc"));
        assert!(dir.is_dir());
        let with_mode = format!("{url}?mode=ro");
        assert_eq!(prepare_sqlite_url(&with_mode).unwrap(), with_mode);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn postgres_urls_are_left_alone() {
        let url = "postgres://postgres@127.0.0.1:5432/nightwatch";
        assert_eq!(prepare_sqlite_url(url).unwrap(), url);
    }

    #[test]
    fn millis_round_trip() {
        let at = DateTime::from_timestamp_millis(1_700_000_000_123).unwrap();
        assert_eq!(from_millis(to_millis(at)), at);
    }
}
