//! The SQL session store on both databases.

use nightwatch::server::session_store::SqlSessionStore;
use time::{Duration, OffsetDateTime};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{ExpiredDeletion, SessionStore};

fn record(expires_in: Duration) -> Record {
    let mut data = std::collections::HashMap::new();
    data.insert(
        "user".to_owned(),
        serde_json::json!({"id": "x", "epoch": 0}),
    );
    Record {
        id: Id::default(),
        data,
        expiry_date: OffsetDateTime::now_utc() + expires_in,
    }
}

db_test! {
    async fn a_saved_session_loads_back_with_its_data(db) {
        let store = SqlSessionStore::new(db.pool.clone());
        let mut rec = record(Duration::hours(1));
        store.create(&mut rec).await.unwrap();
        let loaded = store.load(&rec.id).await.unwrap().expect("stored");
        assert_eq!(loaded.data, rec.data);
        assert_eq!(loaded.expiry_date.unix_timestamp(), rec.expiry_date.unix_timestamp());

        store.delete(&rec.id).await.unwrap();
        assert!(store.load(&rec.id).await.unwrap().is_none());
    }
}

db_test! {
    async fn an_expired_session_does_not_load_and_is_swept(db) {
        let store = SqlSessionStore::new(db.pool.clone());
        let mut old = record(Duration::seconds(-5));
        store.create(&mut old).await.unwrap();
        assert!(store.load(&old.id).await.unwrap().is_none());
        store.delete_expired().await.unwrap();
        let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions").fetch_one(&db.pool).await.unwrap();
        assert_eq!(left, 0);
    }
}

db_test! {
    async fn create_draws_a_new_id_when_the_id_is_taken(db) {
        let store = SqlSessionStore::new(db.pool.clone());
        let mut first = record(Duration::hours(1));
        store.create(&mut first).await.unwrap();
        let mut clash = record(Duration::hours(1));
        clash.id = first.id;
        store.create(&mut clash).await.unwrap();
        assert_ne!(clash.id, first.id);
        assert!(store.load(&first.id).await.unwrap().is_some());
        assert!(store.load(&clash.id).await.unwrap().is_some());
    }
}

db_test! {
    async fn a_session_finds_its_user_in_one_query_until_the_user_or_session_changes(db) {
        use nightwatch::model::Role;
        use nightwatch::server::repo::users;
        let store = SqlSessionStore::new(db.pool.clone());
        let user = users::insert(&db.pool, "ada", Role::Commander, "hash").await.unwrap();
        let signed_in = |epoch: i64, expires_in: Duration| {
            let mut rec = record(expires_in);
            rec.data.insert("user".to_owned(), serde_json::json!({"id": user.id, "epoch": epoch}));
            rec
        };
        let now = nightwatch::server::db::now_millis();
        let find = |id: Id| {
            let pool = db.pool.clone();
            async move { users::find_by_session(&pool, &id.to_string(), now).await.unwrap() }
        };

        // Signed in under the user's epoch: found, with no unseen reminders.
        let mut live = signed_in(0, Duration::hours(1));
        store.create(&mut live).await.unwrap();
        let (found, unseen) = find(live.id).await.expect("the session's user");
        assert_eq!((found.id, unseen), (user.id, 0));

        // Saved again (as a session is after a change) it still names its user.
        store.save(&live).await.unwrap();
        assert!(find(live.id).await.is_some());

        // An expired session, a session nobody signed in on, one saved before sessions kept
        // their user in columns: not found (the caller reads those the long way).
        let mut expired = signed_in(0, Duration::seconds(-5));
        store.create(&mut expired).await.unwrap();
        assert!(find(expired.id).await.is_none());
        let mut anonymous = record(Duration::hours(1));
        anonymous.data.clear();
        store.create(&mut anonymous).await.unwrap();
        assert!(find(anonymous.id).await.is_none());
        update_by_id(&db.pool, "UPDATE sessions SET user_id = NULL, user_epoch = NULL WHERE id = $1", live.id.to_string()).await;
        assert!(find(live.id).await.is_none());
        store.save(&live).await.unwrap();
        assert!(find(live.id).await.is_some(), "saving fills the columns again");

        // A password reset (a new epoch) and a disabled account end the session.
        update_by_id(&db.pool, "UPDATE users SET session_epoch = 1 WHERE id = $1", user.id.to_string()).await;
        assert!(find(live.id).await.is_none());
        let mut renewed = signed_in(1, Duration::hours(1));
        store.create(&mut renewed).await.unwrap();
        assert!(find(renewed.id).await.is_some());
        update_by_id(&db.pool, "UPDATE users SET disabled_at = 1 WHERE id = $1", user.id.to_string()).await;
        assert!(find(renewed.id).await.is_none());
    }
}

/// Runs one `UPDATE … WHERE id = $1` of the test's setup.
async fn update_by_id(pool: &sqlx::AnyPool, sql: &str, id: String) {
    sqlx::query(sql).bind(id).execute(pool).await.unwrap();
}
