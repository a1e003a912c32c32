//! `AppState`: what every handler and server function shares.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use sqlx::AnyPool;

use crate::model::AppError;
use crate::server::config::Config;
use crate::server::jobs::executor::{Executor, ExecutorSettings};
use crate::server::jobs::outbox::Outbox;
use crate::server::netpolicy::Reach;
use crate::server::throttle::{ApiRateLimiter, LoginThrottle};

/// Shared by the router, the pages and the server functions (through the Leptos context).
///
/// One reference-counted pointer: a page's request clones it a few dozen times (each layer,
/// each context read), and one atomic count costs less than one per field.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What [`AppState`] points to.
pub struct Shared {
    /// The database (SQLite or PostgreSQL).
    pub pool: AnyPool,
    /// Where the site's assets are and how the app is named.
    pub leptos_options: LeptosOptions,
    /// Failed sign-in bookkeeping.
    pub throttle: Arc<LoginThrottle>,
    /// Requests per API token.
    pub api_limiter: Arc<ApiRateLimiter>,
    /// Alert deliveries per API token (a budget of their own).
    pub alert_limiter: Arc<ApiRateLimiter>,
    /// On SQLite, alert deliveries take turns here before their transaction: SQLite has one
    /// writer, and a writer waiting in memory is woken the moment the lock is free, where one
    /// waiting in SQLite's busy handler polls with growing sleeps (seconds of tail latency
    /// under a storm). PostgreSQL needs no turns (`None`).
    pub intake_turns: Option<Arc<tokio::sync::Mutex<()>>>,
    /// Run-time configuration.
    pub config: Arc<Config>,
    /// Executes plan runs in the background.
    pub executor: Executor,
    /// Sends notifications (the outbox worker; an admin's test message goes through it too).
    pub outbox: Outbox,
    /// The metrics board's share of the pool and the views being computed.
    pub boards: Arc<crate::server::service::metrics::Boards>,
    /// `/healthz`'s last database check.
    pub health: Arc<crate::server::router::Health>,
    /// Signs what plain form posts carry back in a page's URL (read once from the database).
    feedback_key: tokio::sync::OnceCell<Vec<u8>>,
}

impl AppState {
    /// State over an open pool.
    pub fn new(pool: AnyPool, leptos_options: LeptosOptions, config: Config) -> Self {
        let executor = Executor::new(pool.clone(), ExecutorSettings::from_config(&config));
        Self(Arc::new(Shared {
            pool: pool.clone(),
            leptos_options,
            throttle: Arc::new(LoginThrottle::default()),
            api_limiter: Arc::new(ApiRateLimiter::new(config.api_rate_per_minute)),
            alert_limiter: Arc::new(ApiRateLimiter::new(config.alert_rate_per_minute)),
            intake_turns: crate::server::db::is_sqlite(&config.database_url)
                .then(|| Arc::new(tokio::sync::Mutex::new(()))),
            outbox: Outbox::new(
                pool.clone(),
                Reach {
                    policy: config.step_networks.clone(),
                    own: Vec::new(),
                    allow_self: config.allow_self_target,
                },
                config.public_url.clone(),
            )
            .knowing_self(executor.clone()),
            executor,
            boards: Arc::new(crate::server::service::metrics::Boards::for_pool(
                config.db_max_connections,
            )),
            health: Arc::default(),
            config: Arc::new(config),
            feedback_key: tokio::sync::OnceCell::new(),
        }))
    }

    /// The key that signs plain-form feedback: drawn by the first instance that needs it and
    /// shared by all through the database.
    pub async fn feedback_key(&self) -> Result<Vec<u8>, AppError> {
        self.feedback_key
            .get_or_try_init(|| async {
                let hex =
                    crate::server::repo::secrets::get_or_create(&self.pool, "feedback", || {
                        use rand::RngCore;
                        let mut key = [0u8; 32];
                        rand::rngs::OsRng.fill_bytes(&mut key);
                        hex::encode(key)
                    })
                    .await?;
                hex::decode(hex).map_err(|_| AppError::Internal)
            })
            .await
            .cloned()
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
