//! The `nightwatch` command line: `serve` (the default), `migrate`, `demo-data`, `remind`,
//! `user create`, `token create|list|revoke`.

use std::io::Read;
use std::net::SocketAddr;

use clap::{Parser, Subcommand};
use leptos::config::get_configuration;
use sqlx::AnyPool;

use crate::model::Role;
use crate::server::auth::generate_password;
use crate::server::config::Config;
use crate::server::router::build_router;
use crate::server::service::accounts;
use crate::server::{AppState, db};

/// Nightwatch: incident response, postmortems and drills in one web app.
#[derive(Debug, Parser)]
#[command(name = "nightwatch", version, about)]
pub struct Cli {
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Migrate the database and serve the web app.
    Serve {
        /// Listen address [default: LEPTOS_SITE_ADDR, then 127.0.0.1:3000].
        #[arg(long, env = "NIGHTWATCH_ADDR")]
        addr: Option<SocketAddr>,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Fill an empty database with realistic demo incidents (and demo users).
    DemoData {
        /// How many incidents.
        #[arg(long, default_value_t = 40)]
        incidents: usize,
        /// Random seed: the same seed gives the same data.
        #[arg(long, default_value_t = 7)]
        seed: u64,
    },
    /// Send today's action item reminders now (the server sends them daily by itself; an item
    /// is reminded at most once a day, so running this again changes nothing).
    Remind,
    /// Manage API tokens for machines (monitoring, chat bots, CI).
    Token {
        /// The token action.
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Manage accounts.
    User {
        /// The account action.
        #[command(subcommand)]
        command: UserCommand,
    },
}

/// `nightwatch token …`.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token; the token is printed alone on the last line (only its hash is kept).
    Create {
        /// What it is for (letters, digits, '-', '_', '.'), like grafana-prod.
        #[arg(long)]
        name: String,
        /// viewer, responder, commander or admin.
        #[arg(long)]
        role: String,
        /// full (everything the role allows) or alerts:write (send alerts only).
        #[arg(long, default_value = "full")]
        scope: String,
        /// Days until it stops working (1–3650); without it, it never expires.
        #[arg(long)]
        expires_days: Option<String>,
    },
    /// List the tokens (never their secrets).
    List,
    /// Revoke the live token with this name: its next request is refused.
    Revoke {
        /// The token's name.
        name: String,
    },
}

/// `nightwatch user …`.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account. Without --password-stdin a password is generated and printed.
    Create {
        /// Login name (3–32 characters: letters, digits, '.', '_', '-').
        #[arg(long)]
        username: String,
        /// viewer, responder, commander or admin.
        #[arg(long)]
        role: Role,
        /// Read the password from standard input (one line).
        #[arg(long)]
        password_stdin: bool,
    },
}

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> Result<(), String> {
    let config = Config::from_env()?;
    match cli.command.unwrap_or(Command::Serve { addr: None }) {
        Command::Serve { addr } => serve(config, addr).await,
        Command::Migrate => {
            let pool = open(&config).await?;
            pool.close().await;
            println!("migrations applied");
            Ok(())
        }
        Command::DemoData { incidents, seed } => {
            let pool = open(&config).await?;
            // Demo users would otherwise stop `serve` from creating the first admin.
            let admin = accounts::ensure_initial_admin(&pool)
                .await
                .map_err(|e| e.summary())?;
            let summary = crate::server::demo::fill(&pool, incidents, seed)
                .await
                .map_err(|e| e.summary())?;
            pool.close().await;
            // The credentials last, as one block: they are what the reader needs next.
            let rule = "─".repeat(64);
            println!("{rule}");
            println!(
                "  Demo data: {} incidents, their timelines, postmortems and action items.",
                summary.incidents
            );
            if admin.is_some() || summary.password.is_some() {
                println!("  Sign in with:");
            }
            if let Some(password) = admin {
                println!("    admin (admin)                                  password: {password}");
            }
            if let Some(password) = summary.password {
                println!("    alice, carol (commanders), bob, dave (responders), erin (viewer)");
                println!("                                                   password: {password}");
            } else {
                println!("  The demo users existed already: their password is unchanged.");
            }
            println!("{rule}");
            Ok(())
        }
        Command::Remind => {
            use crate::server::jobs::reminders::{self, send_day};
            let pool = open(&config).await?;
            let senders = reminders::senders(&pool);
            let today = chrono::Utc::now().date_naive();
            let sent = send_day(&pool, &senders, today)
                .await
                .map_err(|e| e.summary())?;
            pool.close().await;
            println!(
                "reminded {} owner(s) of overdue or soon-due action items",
                sent.owners
            );
            if sent.failed > 0 {
                return Err(format!("{} reminder(s) could not be sent", sent.failed));
            }
            Ok(())
        }
        Command::Token { command } => {
            let pool = open(&config).await?;
            let outcome = token_command(&pool, command).await;
            pool.close().await;
            outcome
        }
        Command::User {
            command:
                UserCommand::Create {
                    username,
                    role,
                    password_stdin,
                },
        } => {
            let pool = open(&config).await?;
            let (password, generated) = if password_stdin {
                let mut line = String::new();
                std::io::stdin()
                    .read_to_string(&mut line)
                    .map_err(|e| format!("cannot read the password from stdin: {e}"))?;
                (line.trim_end_matches(['\r', '\n']).to_owned(), false)
            } else {
                (generate_password(), true)
            };
            let new = accounts::parse_new_user(&username, role.as_str(), &password)
                .map_err(|e| e.summary())?;
            let user = accounts::create_user(&pool, &new)
                .await
                .map_err(|e| e.summary())?;
            pool.close().await;
            println!("created user {} ({})", user.username, user.role);
            if generated {
                println!("password: {password}");
            }
            Ok(())
        }
    }
}

/// `nightwatch token …` on an open database.
async fn token_command(pool: &AnyPool, command: TokenCommand) -> Result<(), String> {
    use crate::model::api_token::NewToken;
    use crate::server::service::tokens;
    match command {
        TokenCommand::Create {
            name,
            role,
            scope,
            expires_days,
        } => {
            let new = NewToken::parse(&name, &role, &scope, expires_days.as_deref().unwrap_or(""))
                .map_err(|e| e.summary())?;
            let created = tokens::create(pool, None, &new)
                .await
                .map_err(|e| e.summary())?;
            let expiry = created
                .view
                .expires_at
                .map_or("never expires".to_owned(), |at| {
                    format!("expires {}", at.format("%Y-%m-%d %H:%M UTC"))
                });
            println!(
                "created token {} ({}, {}, {expiry}); it is shown only now:",
                created.view.name,
                created.view.role,
                created.view.scope.as_str()
            );
            println!("{}", created.token);
            Ok(())
        }
        TokenCommand::List => {
            let list = tokens::list(pool).await.map_err(|e| e.summary())?;
            if list.is_empty() {
                println!("no API tokens");
                return Ok(());
            }
            let now = chrono::Utc::now();
            let when = |at: Option<chrono::DateTime<chrono::Utc>>| {
                at.map_or("-".to_owned(), |at| at.format("%Y-%m-%d %H:%M").to_string())
            };
            println!(
                "{:<24} {:<10} {:<10} {:<13} {:<16} {:<16} {:<16} state",
                "name", "prefix", "role", "scope", "created", "last used", "expires"
            );
            for t in list {
                let state = if t.revoked_at.is_some() {
                    "revoked"
                } else if t.is_live(now) {
                    "live"
                } else {
                    "expired"
                };
                println!(
                    "{:<24} {:<10} {:<10} {:<13} {:<16} {:<16} {:<16} {state}",
                    t.name,
                    t.prefix,
                    t.role.as_str(),
                    t.scope.as_str(),
                    when(Some(t.created_at)),
                    when(t.last_used_at),
                    when(t.expires_at),
                );
            }
            Ok(())
        }
        TokenCommand::Revoke { name } => {
            tokens::revoke(pool, None, &name, None)
                .await
                .map_err(|e| match e {
                    crate::model::AppError::NotFound => format!("no live token is named {name:?}"),
                    other => other.summary(),
                })?;
            println!("revoked token {}", name.trim().to_ascii_lowercase());
            Ok(())
        }
    }
}

/// Connects and migrates.
async fn open(config: &Config) -> Result<AnyPool, String> {
    let pool = db::connect(&config.database_url, config.db_max_connections)
        .await
        .map_err(|e| {
            format!(
                "cannot open the database {}: {e}",
                redact(&config.database_url)
            )
        })?;
    db::migrate(&pool)
        .await
        .map_err(|e| format!("migrations failed: {e}"))?;
    db::optimize(&pool)
        .await
        .map_err(|e| format!("cannot refresh the database's statistics: {e}"))?;
    Ok(pool)
}

/// A database URL with any password hidden, for messages.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

async fn serve(config: Config, addr: Option<SocketAddr>) -> Result<(), String> {
    let pool = open(&config).await?;
    if let Some(password) = accounts::ensure_initial_admin(&pool)
        .await
        .map_err(|e| e.summary())?
    {
        println!("initial admin password: {password}");
    }
    let mut options = get_configuration(None)
        .map_err(|e| format!("Leptos configuration: {e}"))?
        .leptos_options;
    if options.output_name.is_empty() {
        options.output_name = "nightwatch".into();
    }
    crate::server::assets::use_hashed_names(&mut options);
    let addr = addr.unwrap_or(options.site_addr);

    crate::server::repo::catalog::sync(&pool, crate::server::db::to_millis(chrono::Utc::now()))
        .await
        .map_err(|e| e.summary())?;

    let state = AppState::new(pool.clone(), options, config);
    let executor = state.executor.clone();
    let app = build_router(state.clone());
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let addr = listener.local_addr().unwrap_or(addr);
    executor.set_own_addrs(vec![addr]);
    crate::server::jobs::spawn_all(&state);
    // Listen for SIGTERM before announcing the address: a stop sent right after start-up must
    // still be a graceful one, not the default kill.
    #[cfg(unix)]
    let terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    #[cfg(not(unix))]
    let terminate = ();
    println!("Nightwatch is listening on http://{addr}");
    tracing::info!(%addr, "listening");
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal(terminate))
    .await
    .map_err(|e| format!("server error: {e}"))?;
    match executor.interrupt_active().await {
        Ok(0) => {}
        Ok(n) => tracing::warn!(
            runs = n,
            "runs still executing at shutdown are marked interrupted"
        ),
        Err(e) => tracing::warn!(error = %e, "could not mark the runs executing at shutdown"),
    }
    pool.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM; in-flight requests then finish before the server stops.
#[cfg(unix)]
async fn shutdown_signal(terminate: Option<tokio::signal::unix::Signal>) {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match terminate {
            Some(mut s) => {
                s.recv().await;
            }
            None => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}

/// Resolves on Ctrl-C; in-flight requests then finish before the server stops.
#[cfg(not(unix))]
async fn shutdown_signal(_terminate: ()) {
    let _ = tokio::signal::ctrl_c().await;
    tracing::info!("shutting down: finishing in-flight requests");
}
