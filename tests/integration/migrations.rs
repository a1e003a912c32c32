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
        let people: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE kind = 'person'")
            .fetch_one(&db.pool)
            .await
            .unwrap();
        assert_eq!(
            people, 0,
            "no person: the first admin is made by the operator"
        );
        let system: String = sqlx::query_scalar("SELECT username FROM users WHERE kind = 'system'")
            .fetch_one(&db.pool)
            .await
            .unwrap();
        assert_eq!(system, "system:alert-rules");
        for table in ["sessions", "incidents", "incident_events", "postmortems"] {
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

/// The board's migration computes `repeats` for the incidents that exist: the same flags as the
/// model's rule.
async fn the_board_migration_marks_existing_repeats(backend: Backend) {
    with_empty_db(backend, |db| async move {
        let before = sqlx::migrate::Migrator {
            migrations: std::borrow::Cow::Owned(
                db::MIGRATOR.iter().filter(|m| m.version < 20261124000010).cloned().collect(),
            ),
            ..sqlx::migrate::Migrator::DEFAULT
        };
        before.run(&db.pool).await.unwrap();
        let day = 86_400_000i64;
        // (detected day, services, tags) → repeats:
        let incidents = [
            (100, "db", "disk,latency"), // 0: nothing earlier
            (110, "db,api", "disk"),     // 1: 10 days after the first (db, disk)
            (151, "db", "latency"),      // 0: the first is 51 days before
            (115, "db", "deploy"),       // 0: a service but no tag in common
            (120, "cdn,db", "disk"),     // 1: 10 days after the second
            (120, "db", "disk"),         // 1: the same
            (150, "cdn", "disk"),        // 1: exactly 30 days after the fifth
            (300, "api", "x"),           // 0: the next one is detected at the same instant:
            (300, "api", "x"),           // 0: not earlier
        ];
        for (k, (d, services, tags)) in incidents.iter().enumerate() {
            let id = format!("00000000-0000-4000-8000-00000000000{k}");
            sqlx::query(
                "INSERT INTO incidents (id, number, title, description, severity, status, services, tags, \
                 detected_at, created_at, updated_at, version) \
                 VALUES ($1, $2, 'x', '', 'sev3', 'open', $3, $4, $5, $5, $5, 1)",
            )
            .bind(&id).bind(k as i64 + 1).bind(*services).bind(*tags).bind(d * day)
            .execute(&db.pool).await.unwrap();
            for service in services.split(',') {
                sqlx::query("INSERT INTO incident_services (incident_id, service, status, detected_at, number) VALUES ($1, $2, 'open', $3, $4)")
                    .bind(&id).bind(service).bind(d * day).bind(k as i64 + 1)
                    .execute(&db.pool).await.unwrap();
            }
            for tag in tags.split(',') {
                sqlx::query("INSERT INTO incident_tags (incident_id, tag) VALUES ($1, $2)")
                    .bind(&id).bind(tag).execute(&db.pool).await.unwrap();
            }
        }
        db::migrate(&db.pool).await.unwrap();
        let flags: Vec<i64> = sqlx::query_scalar("SELECT repeats FROM incidents ORDER BY number")
            .fetch_all(&db.pool).await.unwrap();
        assert_eq!(flags, [0, 1, 0, 0, 1, 1, 1, 0, 0]);
    })
    .await;
}

#[tokio::test]
async fn the_board_migration_marks_existing_repeats_on_sqlite() {
    the_board_migration_marks_existing_repeats(Backend::Sqlite).await;
}

#[tokio::test]
async fn the_board_migration_marks_existing_repeats_on_postgres() {
    the_board_migration_marks_existing_repeats(Backend::Postgres).await;
}

/// The inspections migration widens the plans' scene check (SQLite rebuilds the table): plans,
/// their versions and runs made before it stay, still linked, and only known scenes go in.
async fn the_inspections_migration_keeps_plans_and_their_runs(backend: Backend) {
    use nightwatch::model::Role;
    use nightwatch::model::catalog::{ActionCode, Scene};
    use nightwatch::model::plan::{ParamValue, PlanDraft, Step};
    use nightwatch::model::run::Trigger;
    use nightwatch::server::service::{plans, runs};

    let sqlite = matches!(backend, Backend::Sqlite);
    with_empty_db(backend, |db| async move {
        let before = sqlx::migrate::Migrator {
            migrations: std::borrow::Cow::Owned(
                db::migrator(sqlite)
                    .iter()
                    .filter(|m| m.version < 20261130000017)
                    .cloned()
                    .collect(),
            ),
            ..sqlx::migrate::Migrator::DEFAULT
        };
        before.run(&db.pool).await.unwrap();
        let rita =
            crate::support::user(&db.pool, "rita", Role::Commander, crate::support::PASSWORD).await;
        let mut wait = Step::new("w".into(), ActionCode::Wait, None);
        wait.params
            .insert("duration".into(), ParamValue::Set("1s".into()));
        let mut draft = PlanDraft {
            name: "Failover".into(),
            description: String::new(),
            scene: Scene::Emergency,
            service: "db".into(),
            scenario: String::new(),
            rto_secs: None,
            rpo_secs: None,
            enabled: true,
            steps: vec![wait],
            schedule: None,
        };
        let plan = plans::create(&db.pool, &rita, draft.clone()).await.unwrap();
        let run = runs::create(
            &db.pool,
            Some(&rita),
            plan,
            Trigger::Manual,
            &Default::default(),
            None,
        )
        .await
        .unwrap()
        .number;
        let inspecting = PlanDraft {
            scene: Scene::Inspection,
            ..draft.clone()
        };
        assert!(
            plans::create(&db.pool, &rita, inspecting.clone())
                .await
                .is_err(),
            "refused before"
        );

        db::migrate(&db.pool).await.unwrap();
        db::migrate(&db.pool)
            .await
            .expect("a second run is a no-op");
        assert_eq!(
            plans::view(&db.pool, plan, None).await.unwrap().plan.scene,
            Scene::Emergency
        );
        assert_eq!(
            runs::read(&db.pool, &rita, run)
                .await
                .unwrap()
                .summary
                .plan_number,
            plan
        );
        let joined: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM runs r JOIN plans p ON p.id = r.plan_id")
                .fetch_one(&db.pool)
                .await
                .unwrap();
        assert_eq!(joined, 1);
        if sqlite {
            let broken: Vec<(String,)> =
                sqlx::query_as("SELECT \"table\" FROM pragma_foreign_key_check")
                    .fetch_all(&db.pool)
                    .await
                    .unwrap();
            assert!(broken.is_empty(), "{broken:?}");
            let on: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
                .fetch_one(&db.pool)
                .await
                .unwrap();
            assert_eq!(on, 1, "foreign keys are back on");
        }
        let inspection = plans::create(&db.pool, &rita, inspecting).await.unwrap();
        assert_eq!(inspection, plan + 1);
        let bogus = sqlx::query("UPDATE plans SET scene = 'bogus' WHERE number = $1")
            .bind(plan)
            .execute(&db.pool)
            .await;
        assert!(bogus.is_err(), "the check still holds");
        draft.name = "After".into();
        plans::create(&db.pool, &rita, draft).await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn the_inspections_migration_keeps_plans_and_their_runs_on_sqlite() {
    the_inspections_migration_keeps_plans_and_their_runs(Backend::Sqlite).await;
}

#[tokio::test]
async fn the_inspections_migration_keeps_plans_and_their_runs_on_postgres() {
    the_inspections_migration_keeps_plans_and_their_runs(Backend::Postgres).await;
}
