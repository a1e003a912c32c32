//! Server start-up: parse the command line, set up logging, run the command.

#[cfg(feature = "ssr")]
#[tokio::main]
async fn main() -> std::process::ExitCode {
    use clap::Parser;
    use tracing_subscriber::EnvFilter;

    let cli = nightwatch::server::cli::Cli::parse();
    // Bulk demo inserts are slow statements by design; sqlx would log each one in full.
    let quiet_sqlx = matches!(
        cli.command,
        Some(nightwatch::server::cli::Command::DemoData { .. })
    );
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new(if quiet_sqlx {
            "info,sqlx=error,tower_sessions=warn"
        } else {
            "info,sqlx=warn,tower_sessions=warn"
        })
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if std::env::var("NIGHTWATCH_LOG_FORMAT").as_deref() == Ok("json") {
        builder.json().init();
    } else {
        builder.init();
    }

    match nightwatch::server::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("nightwatch: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(not(feature = "ssr"))]
fn main() {
    // The client is the WASM library (`hydrate`); this binary only exists with `ssr`.
}
