//! Accounts service on both databases: creation, sign-in, throttling, the initial admin, the
//! last-admin rule.

use nightwatch::model::{AppError, Password, Role};
use nightwatch::server::repo::users;
use nightwatch::server::service::accounts;
use nightwatch::server::throttle::LoginThrottle;

use crate::support::{PASSWORD, user};

db_test! {
    async fn a_new_user_is_stored_with_an_argon2id_hash_not_the_password(db) {
        let created = user(&db.pool, "Alice", Role::Responder, PASSWORD).await;
        let stored = users::find_by_username(&db.pool, "alice").await.unwrap().unwrap();
        assert_eq!(stored.id, created.id);
        assert_eq!(stored.role, Role::Responder);
        assert!(stored.password_hash.starts_with("$argon2id$"));
        assert!(!stored.password_hash.contains(PASSWORD));
    }
}

db_test! {
    async fn a_taken_username_is_a_field_error_whatever_its_case(db) {
        user(&db.pool, "alice", Role::Viewer, PASSWORD).await;
        let again = accounts::parse_new_user("ALICE", "viewer", PASSWORD).unwrap();
        let err = accounts::create_user(&db.pool, &again).await.unwrap_err();
        assert!(err.field_message("username").unwrap().contains("already taken"), "{err:?}");
        assert_eq!(users::count(&db.pool).await.unwrap(), 1);
    }
}

db_test! {
    async fn the_initial_admin_is_created_exactly_once(db) {
        let first = accounts::ensure_initial_admin(&db.pool).await.unwrap();
        let second = accounts::ensure_initial_admin(&db.pool).await.unwrap();
        let password = first.expect("a password the first time");
        assert_eq!(second, None);
        let admin = users::find_by_username(&db.pool, "admin").await.unwrap().unwrap();
        assert_eq!(admin.role, Role::Admin);
        let throttle = LoginThrottle::default();
        assert!(accounts::authenticate(&db.pool, &throttle, "admin", &password, None).await.is_ok());
    }
}

db_test! {
    async fn instances_starting_together_create_one_initial_admin(db) {
        let runs = (0..4).map(|_| {
            let pool = db.pool.clone();
            tokio::spawn(async move { accounts::ensure_initial_admin(&pool).await.unwrap() })
        });
        let passwords: Vec<_> = futures::future::join_all(runs)
            .await
            .into_iter()
            .filter_map(Result::unwrap)
            .collect();
        assert_eq!(passwords.len(), 1, "exactly one instance prints a password");
        assert_eq!(users::count(&db.pool).await.unwrap(), 1);
    }
}

db_test! {
    async fn sign_in_accepts_the_right_password_and_refuses_a_wrong_one(db) {
        user(&db.pool, "bob", Role::Viewer, PASSWORD).await;
        let throttle = LoginThrottle::default();
        let ok = accounts::authenticate(&db.pool, &throttle, " Bob ", PASSWORD, None).await.unwrap();
        assert_eq!(ok.username, "bob");
        let wrong = accounts::authenticate(&db.pool, &throttle, "bob", "not the password", None).await;
        assert_eq!(wrong.unwrap_err(), AppError::Unauthorized);
        let unknown = accounts::authenticate(&db.pool, &throttle, "nobody", PASSWORD, None).await;
        assert_eq!(unknown.unwrap_err(), AppError::Unauthorized);
    }
}

db_test! {
    async fn a_disabled_user_cannot_sign_in(db) {
        let carol = user(&db.pool, "carol", Role::Commander, PASSWORD).await;
        accounts::set_disabled(&db.pool, carol.id, true).await.unwrap();
        let throttle = LoginThrottle::default();
        let res = accounts::authenticate(&db.pool, &throttle, "carol", PASSWORD, None).await;
        assert_eq!(res.unwrap_err(), AppError::Unauthorized);
    }
}

db_test! {
    async fn repeated_failures_slow_down_even_the_right_password(db) {
        user(&db.pool, "dave", Role::Viewer, PASSWORD).await;
        let throttle = LoginThrottle::default();
        for _ in 0..6 {
            let _ = accounts::authenticate(&db.pool, &throttle, "dave", "guess guess guess", Some("10.1.1.1")).await;
        }
        let res = accounts::authenticate(&db.pool, &throttle, "dave", PASSWORD, Some("10.1.1.1")).await;
        assert!(matches!(res, Err(AppError::TooManyRequests { retry_after_secs }) if retry_after_secs >= 1), "{res:?}");
    }
}

db_test! {
    async fn the_last_enabled_admin_can_be_neither_demoted_nor_disabled(db) {
        let root = user(&db.pool, "root", Role::Admin, PASSWORD).await;
        let demote = accounts::change_role(&db.pool, root.id, Role::Viewer).await;
        assert!(matches!(demote, Err(AppError::Conflict(_))), "{demote:?}");
        let disable = accounts::set_disabled(&db.pool, root.id, true).await;
        assert!(matches!(disable, Err(AppError::Conflict(_))), "{disable:?}");

        let other = user(&db.pool, "second", Role::Admin, PASSWORD).await;
        accounts::change_role(&db.pool, root.id, Role::Viewer).await.unwrap();
        let stored = users::find_by_id(&db.pool, root.id).await.unwrap().unwrap();
        assert_eq!(stored.role, Role::Viewer);
        assert!(users::find_by_id(&db.pool, other.id).await.unwrap().unwrap().role == Role::Admin);
    }
}

db_test! {
    async fn changing_ones_own_password_checks_the_current_one(db) {
        let erin = crate::support::person(&db.pool, "erin", Role::Viewer, PASSWORD).await;
        let err = accounts::change_own_password(&db.pool, &erin, "wrong current", "short").await.unwrap_err();
        assert!(err.field_message("current_password").is_some());
        assert!(err.field_message("new_password").is_some());

        accounts::change_own_password(&db.pool, &erin, PASSWORD, "a brand new secret").await.unwrap();
        let throttle = LoginThrottle::default();
        assert!(accounts::authenticate(&db.pool, &throttle, "erin", "a brand new secret", None).await.is_ok());
        let stored = users::find_by_id(&db.pool, erin.id).await.unwrap().unwrap();
        assert_eq!(stored.session_epoch, erin.session_epoch + 1);
    }
}

db_test! {
    async fn an_admin_reset_replaces_the_password(db) {
        let frank = user(&db.pool, "frank", Role::Responder, PASSWORD).await;
        accounts::reset_password(&db.pool, frank.id, &Password::parse("reset by the admin").unwrap()).await.unwrap();
        let throttle = LoginThrottle::default();
        assert!(accounts::authenticate(&db.pool, &throttle, "frank", PASSWORD, None).await.is_err());
        assert!(accounts::authenticate(&db.pool, &throttle, "frank", "reset by the admin", None).await.is_ok());
    }
}
