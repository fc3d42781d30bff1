//! Wires the parts together: the store, the projections, the process manager (emails and
//! automatic closure) and the HTTP API; and the command line's work on staff accounts.

pub mod audit;
pub mod config;
pub mod generate;
pub mod projections_cli;
pub mod users;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use claimdesk_api::clock::{Clock, SystemClock};
use claimdesk_api::{AppState, Settings};
use claimdesk_projections::Projections;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::config::{ServeConfig, StorageConfig};

/// A running server.
pub struct Server {
    pub addr: SocketAddr,
    shutdown: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
    /// The email sender and the deadline timers.
    process: claimdesk_process::Workers,
}

impl Server {
    /// Stops accepting requests, lets the ones in flight finish, and stops the background work.
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.shutdown.send(());
        self.task.await.context("the server task failed")??;
        self.process.stop().await;
        Ok(())
    }

    /// Stops at once, as a killed process would: the listener, and the email being sent cut
    /// off mid-way (it stays leased until its lease runs out). Connections already open end
    /// on their own, and the projections with the last of them.
    pub fn abort(self) {
        self.process.abort();
        self.task.abort();
    }

    /// What this instance's email sender and timers did since it started.
    pub fn process_stats(&self) -> claimdesk_process::StatsSnapshot {
        self.process.stats()
    }
}

/// The process manager's settings from the server's configuration and the routing data.
pub fn process_settings(config: &ServeConfig) -> claimdesk_process::Settings {
    let mut settings = claimdesk_process::Settings::new(config.storage.data_dir.join("mail"));
    settings.mail_from = config.mail_from.clone();
    settings.smtp_url = config.smtp_url.clone().filter(|url| !url.trim().is_empty());
    settings.public_url = config.public_url.clone();
    settings.reminder_before = config.reminder_before;
    settings.poll_interval = config.process_poll;
    settings.entities = claimdesk_api::routing::Routing::load()
        .entities
        .iter()
        .map(|entity| claimdesk_process::Entity {
            code: entity.code.clone(),
            mailbox: entity.mailbox.clone(),
            label_fr: entity.labels.fr.clone(),
            label_ar: entity.labels.ar.clone(),
        })
        .collect();
    settings
}

/// Creates or updates the store's schema.
pub async fn migrate(storage: &StorageConfig) -> anyhow::Result<()> {
    prepare_data_dir(storage)?;
    claimdesk_store::open(&storage.store_url())
        .await
        .with_context(|| format!("cannot open the store {}", storage.store_url_for_logs()))?;
    Ok(())
}

fn prepare_data_dir(storage: &StorageConfig) -> anyhow::Result<()> {
    std::fs::create_dir_all(&storage.data_dir).with_context(|| {
        format!(
            "cannot create the data folder {}",
            storage.data_dir.display()
        )
    })
}

/// Starts the server on the system clock.
pub async fn start(config: ServeConfig) -> anyhow::Result<Server> {
    start_with_clock(config, Arc::new(SystemClock)).await
}

/// Starts the server with the given clock: opens the store, starts the projections, binds
/// the listener and serves until [`Server::stop`].
pub async fn start_with_clock(
    config: ServeConfig,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<Server> {
    tracing::info!(?config, "starting");
    if config.captcha_fixed_answer.is_some() {
        tracing::warn!(
            "CLAIMDESK_CAPTCHA_FIXED_ANSWER is set: every captcha has the same answer; \
             never use this outside automated tests"
        );
    }
    prepare_data_dir(&config.storage)?;
    let store = claimdesk_store::open(&config.storage.store_url())
        .await
        .with_context(|| {
            format!(
                "cannot open the store {}",
                config.storage.store_url_for_logs()
            )
        })?;

    let process = process_settings(&config);
    let mut read_side = claimdesk_projections::all();
    read_side.push(claimdesk_process::projection(&process)?);
    let options = claimdesk_projections::Options::default();
    let projections = Projections::open(store.clone(), read_side, options)
        .await
        .context("cannot start the projections")?;
    let projections = Arc::new(projections);
    let workers = claimdesk_process::Workers::start(store.clone(), clock.clone(), &process)?;
    let settings = Settings {
        data_dir: config.storage.data_dir.clone(),
        auto_close_after: config.auto_close_after,
        captcha_fixed_answer: config.captcha_fixed_answer.clone(),
        secure_cookies: config.public_url.starts_with("https:"),
    };
    let state = AppState::new(store, projections, clock, settings)?;
    let router = claimdesk_api::router(state);

    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let addr = listener.local_addr()?;
    let (shutdown, stopped) = oneshot::channel::<()>();
    let service = router.into_make_service_with_connect_info::<SocketAddr>();
    let task = tokio::spawn(async move {
        axum::serve(listener, service)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });
    Ok(Server {
        addr,
        shutdown,
        task,
        process: workers,
    })
}
