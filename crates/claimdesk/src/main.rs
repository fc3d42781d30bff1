//! The `claimdesk` command: `serve` runs the service, `migrate` brings the database's schema
//! up to date, `users` manages staff accounts, `audit` replays and verifies the stored
//! history, `projections` lists and rebuilds the read models, `dev generate` writes made-up
//! claims for trials and benchmarks.

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use claimdesk::audit::AuditCommand;
use claimdesk::config::{ServeConfig, StorageConfig};
use claimdesk::generate::DevCommand;
use claimdesk::projections_cli::ProjectionsCommand;
use claimdesk::users::UsersCommand;

#[derive(Parser)]
#[command(name = "claimdesk", version, about = "Online claims, event-sourced")]
struct Cli {
    /// Log as JSON lines instead of human-readable text.
    #[arg(long, env = "CLAIMDESK_LOG_JSON", global = true)]
    log_json: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs the HTTP server, the projections and the background work.
    Serve(ServeConfig),
    /// Creates or updates the database's schema, then exits.
    Migrate(StorageConfig),
    /// Manages staff accounts: agents, auditors, analysts and administrators.
    #[command(subcommand)]
    Users(UsersCommand),
    /// Replays a claim's events and checks that the stored history is intact.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Lists and rebuilds the read models.
    #[command(subcommand)]
    Projections(ProjectionsCommand),
    /// Tools for trials and benchmarks, never for a site's real data.
    #[command(subcommand)]
    Dev(DevCommand),
}

/// Starts logging. A command whose standard output is its result (`users`) logs to standard
/// error, and only warnings unless `CLAIMDESK_LOG` says otherwise.
fn init_logs(json: bool, output_is_result: bool) {
    let default = if output_is_result {
        "warn"
    } else {
        "info,sqlx=warn,tower_http=info"
    };
    let filter =
        EnvFilter::try_from_env("CLAIMDESK_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(true);
    match (json, output_is_result) {
        (true, true) => logs.json().with_writer(std::io::stderr).init(),
        (true, false) => logs.json().init(),
        (false, true) => logs.with_writer(std::io::stderr).init(),
        (false, false) => logs.init(),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let output_is_result = !matches!(cli.command, Command::Serve(_) | Command::Migrate(_));
    init_logs(cli.log_json, output_is_result);

    match cli.command {
        Command::Serve(config) => {
            let server = claimdesk::start(config).await?;
            tracing::info!(address = %server.addr, "claimdesk is serving");
            shutdown_signal().await;
            tracing::info!("shutting down");
            server.stop().await
        }
        Command::Migrate(storage) => {
            claimdesk::migrate(&storage).await?;
            tracing::info!(store = %storage.store_url_for_logs(), "schema is up to date");
            Ok(())
        }
        Command::Users(command) => claimdesk::users::run(command, &mut std::io::stdout()).await,
        Command::Audit(command) => claimdesk::audit::run(command, &mut std::io::stdout()).await,
        Command::Projections(command) => {
            claimdesk::projections_cli::run(command, &mut std::io::stdout()).await
        }
        Command::Dev(command) => claimdesk::generate::run(command, &mut std::io::stdout()).await,
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
