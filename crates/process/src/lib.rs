//! The process manager: it follows the store's global order, as the projections do, and acts
//! on the world. It emails the client (and the handling entity's mailbox) at each step of a
//! claim, and closes the claims that wait too long on their client.
//!
//! Three parts:
//!
//! - [`ProcessManager`], a projection run by `claimdesk_projections`' runtime, turns each
//!   event into emails queued in the outbox and timers set or cancelled, all committed with
//!   its checkpoint ([`manager`]).
//! - The sender delivers the outbox over SMTP (or into `.eml` files) with retries and leases
//!   ([`Workers`], `delivery.rs`).
//! - The timer loop fires due deadlines and reminders on the injected clock (`timers.rs`).
//!
//! What the whole promises:
//!
//! - **Exactly once queued.** Each event gives each of its emails once (one per event,
//!   template and recipient), whatever restarts, replays or instances: the outbox is written
//!   in the transaction of the checkpoint and its delivery key is unique.
//! - **At least once delivered, and once unless the process dies at the worst moment.** A
//!   message is leased to one sender at a time and marked sent once the server accepted it;
//!   only a crash between the server's acceptance and that mark sends it again, with the same
//!   `Message-ID` (see `delivery.rs`). Nothing is lost while the mail server is away:
//!   messages wait and are retried, then parked where administrators see them.
//! - **Durable deadlines, fired once.** Timers survive restarts (they are rows, and replaying
//!   the events rebuilds them), are compared as UTC instants on the injected clock, are
//!   leased to one instance, and close a claim only through the command handler, so the
//!   domain decides: a claim closes by itself at most once, and never after the client
//!   reacted.
//! - **Nothing reads the system clock.** Deadlines, leases and retries use the [`Clock`]
//!   given at start, so tests move time instead of sleeping.

pub mod manager;
pub mod message;
pub mod templates;

mod delivery;
mod timers;

use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use claimdesk_claims::clock::Clock;
use claimdesk_store::Store;
use lettre::message::Mailbox;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::Instrument;

pub use manager::{Entity, ManagerSettings, ProcessManager};

/// Why the process manager cannot start.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// A setting is unusable (the sender address, the SMTP URL); says which and why.
    #[error("{0}")]
    Config(String),
}

/// Everything the process manager is told by the server's configuration.
#[derive(Clone)]
pub struct Settings {
    /// The `From` address, optionally with a name: `Réclamations <reclamations@site.ma>`.
    pub mail_from: String,
    /// `smtp://host:port` (no TLS, for a relay on the machine or the network's own),
    /// `smtps://host` or `smtp://host?tls=required`; `None` writes `.eml` files instead.
    pub smtp_url: Option<String>,
    /// Where `.eml` files go without SMTP.
    pub mail_dir: PathBuf,
    /// The public site, for the links in emails.
    pub public_url: String,
    /// How long before an automatic closure the client is reminded.
    pub reminder_before: Duration,
    /// How often the sender and the timers look for due work.
    pub poll_interval: Duration,
    /// How long a sender or timer holds what it claimed before another may take it.
    pub lease: Duration,
    /// Delivery attempts before a message is parked.
    pub max_attempts: u32,
    /// The first retry's delay; each next one doubles, up to `retry_max`.
    pub retry_base: Duration,
    pub retry_max: Duration,
    /// How many messages or timers are claimed at once. `batch × smtp_timeout` must stay
    /// well below `lease`, or a slow batch's last messages could be taken over and sent twice.
    pub batch: usize,
    /// How long one SMTP exchange may take.
    pub smtp_timeout: Duration,
    /// The handling entities, with their mailboxes and names.
    pub entities: Vec<Entity>,
}

impl Settings {
    /// The defaults, writing `.eml` files into `mail_dir`.
    pub fn new(mail_dir: PathBuf) -> Settings {
        Settings {
            mail_from: "reclamations@claimdesk.localhost".to_owned(),
            smtp_url: None,
            mail_dir,
            public_url: "http://127.0.0.1:8080".to_owned(),
            reminder_before: Duration::from_secs(2 * 86_400),
            poll_interval: Duration::from_secs(1),
            lease: Duration::from_secs(10 * 60),
            max_attempts: 8,
            retry_base: Duration::from_secs(30),
            retry_max: Duration::from_secs(30 * 60),
            // Ten messages of at most 30 s each fit well within the lease.
            batch: 10,
            smtp_timeout: Duration::from_secs(30),
            entities: Vec::new(),
        }
    }

    #[cfg(test)]
    pub(crate) fn for_tests() -> Settings {
        Settings::new(PathBuf::from("mail"))
    }

    /// The sender's mailbox.
    pub fn from_mailbox(&self) -> Result<Mailbox, ProcessError> {
        self.mail_from.parse().map_err(|e| {
            ProcessError::Config(format!(
                "the sender address {:?} is not usable: {e}",
                self.mail_from
            ))
        })
    }

    /// What the projection needs.
    pub fn manager(&self) -> Result<ManagerSettings, ProcessError> {
        let from = self.from_mailbox()?;
        Ok(ManagerSettings {
            public_url: self.public_url.clone(),
            reminder_before: self.reminder_before,
            message_id_domain: from.email.domain().to_ascii_lowercase(),
            entities: self.entities.clone(),
        })
    }
}

/// `Debug` without the SMTP URL's password.
impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("mail_from", &self.mail_from)
            .field("smtp_url", &self.smtp_url.as_deref().map(mask_password))
            .field("mail_dir", &self.mail_dir)
            .field("public_url", &self.public_url)
            .field("reminder_before", &self.reminder_before)
            .field("poll_interval", &self.poll_interval)
            .field("lease", &self.lease)
            .field("max_attempts", &self.max_attempts)
            .finish_non_exhaustive()
    }
}

/// `scheme://user:secret@host` → `scheme://user:***@host`.
fn mask_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((credentials, host)) => match credentials.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

/// The projection to run with the read models.
pub fn projection(settings: &Settings) -> Result<Arc<ProcessManager>, ProcessError> {
    Ok(Arc::new(ProcessManager::new(settings.manager()?)))
}

/// What this instance's workers did since they started.
#[derive(Debug, Default)]
pub struct Stats {
    emails_sent: AtomicU64,
    emails_failed: AtomicU64,
    emails_parked: AtomicU64,
    auto_closed: AtomicU64,
    reminders: AtomicU64,
    timers_dropped: AtomicU64,
}

/// A copy of [`Stats`] at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatsSnapshot {
    /// Emails accepted by the mail server (or written to files).
    pub emails_sent: u64,
    /// Delivery attempts that failed and will be retried.
    pub emails_failed: u64,
    pub emails_parked: u64,
    /// Automatic closures this instance stored.
    pub auto_closed: u64,
    /// Reminders this instance queued.
    pub reminders: u64,
    /// Timers dropped because the claim had moved on.
    pub timers_dropped: u64,
}

impl Stats {
    pub fn snapshot(&self) -> StatsSnapshot {
        let get = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        StatsSnapshot {
            emails_sent: get(&self.emails_sent),
            emails_failed: get(&self.emails_failed),
            emails_parked: get(&self.emails_parked),
            auto_closed: get(&self.auto_closed),
            reminders: get(&self.reminders),
            timers_dropped: get(&self.timers_dropped),
        }
    }
}

/// The sender and the timer loop of this instance.
pub struct Workers {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    stats: Arc<Stats>,
}

impl Workers {
    /// Starts delivering the outbox and firing timers, with `clock` for every time.
    pub fn start(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        settings: &Settings,
    ) -> Result<Workers, ProcessError> {
        let from = settings.from_mailbox()?;
        let transport = delivery::Transport::new(settings)?;
        let owner = format!("claimdesk-{}", uuid::Uuid::new_v4().simple());
        let stats = Arc::new(Stats::default());
        let (stop, stopped) = watch::channel(false);

        let sender = delivery::Sender {
            store: store.clone(),
            clock: clock.clone(),
            transport,
            from,
            owner: owner.clone(),
            settings: settings.clone(),
            stats: stats.clone(),
        };
        let timers = timers::Timers {
            store,
            clock,
            owner: owner.clone(),
            settings: settings.clone(),
            stats: stats.clone(),
        };
        let span = tracing::info_span!("process", owner = %owner);
        let tasks = vec![
            tokio::spawn(sender.run(stopped.clone()).instrument(span.clone())),
            tokio::spawn(timers.run(stopped).instrument(span)),
        ];
        Ok(Workers { stop, tasks, stats })
    }

    pub fn stats(&self) -> StatsSnapshot {
        self.stats.snapshot()
    }

    /// Lets the email being sent and the timer being fired finish, then stops.
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        for task in self.tasks.drain(..) {
            let _ = task.await;
        }
    }

    /// Stops at once, wherever the work stands, as a killed process would: an email being
    /// sent is cut off mid-way and stays leased until its lease runs out.
    pub fn abort(&self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        self.abort();
    }
}

/// Waits `duration`, or less if told to stop.
async fn wait(stop: &mut watch::Receiver<bool>, duration: Duration) {
    let _ = tokio::time::timeout(duration, stop.wait_for(|stopped| *stopped)).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_masked() {
        let mut settings = Settings::for_tests();
        settings.smtp_url = Some("smtp://user:secret@127.0.0.1:2525".to_owned());
        let shown = format!("{settings:?}");
        assert!(!shown.contains("secret"), "{shown}");
        assert!(shown.contains("smtp://user:***@127.0.0.1:2525"), "{shown}");
    }

    #[test]
    fn message_ids_use_the_sender_domain() {
        let mut settings = Settings::for_tests();
        settings.mail_from = "Réclamations <Reclamations@Office.MA>".to_owned();
        assert_eq!(settings.manager().unwrap().message_id_domain, "office.ma");
        settings.mail_from = "not an address".to_owned();
        assert!(matches!(settings.manager(), Err(ProcessError::Config(_))));
    }
}
