//! Action item server functions through the router.

use axum::http::StatusCode;
use nightwatch::model::Role;
use nightwatch::model::action_item::{ActionItemList, ActionState};

use crate::support::{PASSWORD, TestApp, text, user};

db_test! {
    async fn responders_create_and_finish_items_and_viewers_only_read(db) {
        user(&db.pool, "rita", Role::Responder, PASSWORD).await;
        user(&db.pool, "vera", Role::Viewer, PASSWORD).await;
        let app = TestApp::new(&db);
        let rita = app.sign_in("rita", PASSWORD).await;
        let res = app
            .call("declare_incident", &[("title", "Queue stuck"), ("description", ""), ("severity", "sev3"), ("services", "jobs"), ("tags", ""), ("detected_at", "")], Some(&rita))
            .await;
        assert_eq!(res.status(), StatusCode::OK);

        let form = [("number", "INC-1"), ("title", "Alert on queue age"), ("owner", "rita"), ("due_on", "2030-01-15"), ("priority", "p1"), ("kind", "preventive")];
        let vera = app.sign_in("vera", PASSWORD).await;
        assert_eq!(app.call("create_action_item", &form, Some(&vera)).await.status(), StatusCode::FORBIDDEN);
        let bad = [("number", "INC-1"), ("title", ""), ("owner", "rita"), ("due_on", "soon"), ("priority", "p1"), ("kind", "preventive")];
        assert_eq!(app.call("create_action_item", &bad, Some(&rita)).await.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let res = app.call("create_action_item", &form, Some(&rita)).await;
        assert_eq!(res.status(), StatusCode::OK);
        let id: String = serde_json::from_str(&text(res).await).unwrap();

        let res = app.call("set_action_item_state", &[("id", &id), ("state", "done")], Some(&rita)).await;
        assert_eq!(res.status(), StatusCode::OK);
        let query = [("owner", ""), ("state", ""), ("priority", ""), ("overdue", "false"), ("mine", "true")];
        let res = app.call("list_action_items", &query, Some(&rita)).await;
        let mine = serde_json::from_str::<ActionItemList>(&text(res).await).unwrap().items;
        assert_eq!(mine.len(), 1);
        assert_eq!(mine[0].state, ActionState::Done);
        let res = app.call("list_action_items", &query, Some(&vera)).await;
        let theirs = serde_json::from_str::<ActionItemList>(&text(res).await).unwrap().items;
        assert!(theirs.is_empty(), "a viewer's own list is empty");
    }
}

db_test! {
    async fn a_viewer_or_a_disabled_user_cannot_own_an_action_item(db) {
        user(&db.pool, "rita", Role::Responder, PASSWORD).await;
        user(&db.pool, "vera", Role::Viewer, PASSWORD).await;
        let gone = user(&db.pool, "gus", Role::Responder, PASSWORD).await;
        nightwatch::server::service::accounts::set_disabled(&db.pool, gone.id, true).await.unwrap();
        let app = TestApp::new(&db);
        let rita = app.sign_in("rita", PASSWORD).await;
        app.call("declare_incident", &[("title", "Queue stuck"), ("description", ""), ("severity", "sev3"), ("services", "jobs"), ("tags", ""), ("detected_at", "")], Some(&rita)).await;
        for owner in ["vera", "gus", "nobody"] {
            let form = [("number", "INC-1"), ("title", "Alert on queue age"), ("owner", owner), ("due_on", "2030-01-15"), ("priority", "p2"), ("kind", "preventive")];
            let res = app.call("create_action_item", &form, Some(&rita)).await;
            assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{owner}");
            let err: nightwatch::model::AppError = serde_json::from_str(&text(res).await).unwrap();
            assert!(err.field_message("owner").is_some(), "{owner}: {err:?}");
        }
    }
}
