//! Migrations apply on an empty database of either kind, and re-running them is a no-op.

use nightwatch::server::db;

use crate::support::{Backend, with_empty_db};

async fn migrations_apply_on_an_empty_database(backend: Backend) {
    with_empty_db(backend, |db| async move {
        db::migrate(&db.pool).await.expect("first run");
        db::migrate(&db.pool).await.expect("second run is a no-op");
        let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations")
            .fetch_one(&db.pool)
            .await
            .unwrap();
        assert_eq!(applied as usize, db::MIGRATOR.iter().count());
        for table in [
            "users",
            "sessions",
            "incidents",
            "incident_events",
            "postmortems",
        ] {
            let rows: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
                .fetch_one(&db.pool)
                .await
                .unwrap_or_else(|e| panic!("table {table} missing: {e}"));
            assert_eq!(rows, 0);
        }
    })
    .await;
}

#[tokio::test]
async fn migrations_apply_on_an_empty_sqlite_database() {
    migrations_apply_on_an_empty_database(Backend::Sqlite).await;
}

#[tokio::test]
async fn migrations_apply_on_an_empty_postgres_database() {
    migrations_apply_on_an_empty_database(Backend::Postgres).await;
}

#[tokio::test]
async fn a_missing_sqlite_file_and_folder_are_created() {
    let dir = std::env::temp_dir().join(format!("nightwatch-fresh-{}", uuid::Uuid::new_v4()));
    let url = format!("sqlite://{}/data/nightwatch.db", dir.display());
    let pool = db::connect(&url, 1)
        .await
        .expect("connect creates the file");
    db::migrate(&pool).await.unwrap();
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&pool)
        .await
        .unwrap();
    let fks: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    assert!(dir.join("data/nightwatch.db").is_file());
    assert_eq!(mode.to_lowercase(), "wal");
    assert_eq!(fks, 1);
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn a_missing_postgres_database_is_created_on_connect() {
    let Ok(admin_url) = std::env::var("NIGHTWATCH_TEST_POSTGRES_URL") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "NIGHTWATCH_TEST_POSTGRES_URL must be set under CI"
        );
        return;
    };
    let name = format!("nightwatch_test_{}", uuid::Uuid::new_v4().simple());
    let mut url = url::Url::parse(&admin_url).unwrap();
    url.set_path(&name);
    let pool = db::connect(url.as_str(), 1)
        .await
        .expect("connect creates the database");
    db::migrate(&pool).await.unwrap();
    pool.close().await;
    let mut admin = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin_url)
        .await
        .unwrap();
    sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .execute(&mut admin)
        .await
        .unwrap();
}
