//! Server start-up: parse the command line, set up logging, run the command.

/// mimalloc instead of glibc's malloc: a server-rendered page allocates and frees thousands of
/// small strings, and glibc's bookkeeping of them took about a quarter of the server's CPU under
/// load (`perf` on `scripts/load.sh`). Freed memory goes back to the system after a short delay.
#[cfg(feature = "ssr")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[cfg(feature = "ssr")]
fn main() -> std::process::ExitCode {
    release_large_allocations();
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(run()),
        Err(e) => {
            eprintln!("nightwatch: cannot start the async runtime: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Makes glibc hand allocations of 1 MiB and more straight back to the system when freed. Rust's
/// own allocations go to mimalloc (above), but SQLite's page caches still come from glibc, whose
/// default threshold rises with the largest block freed, after which such blocks stay in the
/// heap for good. (Password hashes, 19 MiB each and at most two at once, now stay in mimalloc's
/// cache once used: measured, the process stays under 110 MiB through bursts of sign-ins.)
/// Called before any thread starts.
#[cfg(feature = "ssr")]
fn release_large_allocations() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator settings; it is called before other threads exist.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

#[cfg(feature = "ssr")]
async fn run() -> std::process::ExitCode {
    use clap::Parser;
    use tracing_subscriber::EnvFilter;

    let cli = nightwatch::server::cli::Cli::parse();
    // Bulk demo inserts are slow statements by design; sqlx would log each one in full.
    let quiet_sqlx = matches!(
        cli.command,
        Some(nightwatch::server::cli::Command::DemoData { .. })
    );
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        // Demo data: only what goes wrong is logged, so the credentials printed at the end are
        // the last thing on the screen.
        EnvFilter::new(if quiet_sqlx {
            "warn,sqlx=error"
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
