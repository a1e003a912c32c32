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
