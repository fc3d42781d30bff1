//! The sender: delivers the outbox over SMTP, or into `.eml` files when no SMTP server is
//! configured.
//!
//! What it promises:
//! - **Leased.** It claims a few due messages at a time with a lease
//!   ([`claimdesk_store::ProcessStore::outbox_claim`]); another sender (another instance)
//!   does not get them until the lease ends, so each message has one sender at a time.
//! - **At least once, and once in practice.** A message is marked sent only after the mail
//!   server accepted it. If the process dies after the server accepted it and before the
//!   mark, the lease runs out and the message is sent again, with the same `Message-ID`. No
//!   protocol can close that window; it is as short as one database write. A message the
//!   server had not yet accepted when the process died is simply sent later, once.
//! - **Retries.** A refusal (4xx or 5xx) or an unreachable server counts an attempt and
//!   retries after an exponential backoff measured on the injected clock; after
//!   `max_attempts` the message is parked, visible to administrators. A message that cannot
//!   be built (an invalid address) is parked at once. Nothing is lost: parked messages stay
//!   in the outbox and can be put back in the queue.
//! - **Files.** Without SMTP, each message is written as `<mail dir>/<outbox id>.eml`
//!   (written to a temporary name, then renamed): writing it twice gives one file.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use claimdesk_claims::clock::Clock;
use claimdesk_store::{OutboxEntry, Store};
use lettre::message::Mailbox;
use lettre::transport::smtp::AsyncSmtpTransport;
use lettre::{AsyncTransport, Message, Tokio1Executor};
use tokio::sync::watch;
use tracing::{debug, error, info, warn, Instrument};

use crate::message::{self, BuildError};
use crate::{wait, ProcessError, Settings, Stats};

/// The longest error text kept with a message.
const MAX_ERROR: usize = 500;

/// Where messages go.
pub(crate) enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Files(PathBuf),
}

#[derive(Debug, thiserror::Error)]
enum DeliveryError {
    #[error("SMTP: {0}")]
    Smtp(#[from] lettre::transport::smtp::Error),
    #[error("cannot write the email file: {0}")]
    File(#[from] std::io::Error),
}

impl Transport {
    pub(crate) fn new(settings: &Settings) -> Result<Transport, ProcessError> {
        match &settings.smtp_url {
            Some(url) => {
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| ProcessError::Config(format!("the SMTP URL is not usable: {e}")))?
                    .timeout(Some(settings.smtp_timeout))
                    .build();
                Ok(Transport::Smtp(transport))
            }
            None => Ok(Transport::Files(settings.mail_dir.clone())),
        }
    }

    async fn deliver(&self, id: &str, email: &Message) -> Result<(), DeliveryError> {
        match self {
            Transport::Smtp(smtp) => {
                smtp.send(email.clone()).await?;
            }
            Transport::Files(dir) => {
                tokio::fs::create_dir_all(dir).await?;
                let temporary = dir.join(format!("{id}.eml.part"));
                tokio::fs::write(&temporary, email.formatted()).await?;
                tokio::fs::rename(&temporary, dir.join(format!("{id}.eml"))).await?;
            }
        }
        Ok(())
    }
}

/// Delivers the outbox until told to stop.
pub(crate) struct Sender {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) transport: Transport,
    pub(crate) from: Mailbox,
    pub(crate) owner: String,
    pub(crate) settings: Settings,
    pub(crate) stats: Arc<Stats>,
}

impl Sender {
    pub(crate) async fn run(self, mut stop: watch::Receiver<bool>) {
        info!(owner = %self.owner, "email sender started");
        let mut failures = 0u32;
        while !*stop.borrow() {
            let now = self.clock.now();
            let lease_until = now + chrono_duration(self.settings.lease);
            let claimed = self
                .store
                .outbox_claim(&self.owner, now, lease_until, self.settings.batch)
                .await;
            let batch = match claimed {
                Ok(batch) => {
                    failures = 0;
                    batch
                }
                Err(error) => {
                    failures += 1;
                    warn!(error = %error, failures, "cannot read the outbox; retrying");
                    wait(&mut stop, self.settings.poll_interval * failures.min(10)).await;
                    continue;
                }
            };
            if batch.is_empty() {
                wait(&mut stop, self.settings.poll_interval).await;
                continue;
            }
            for entry in batch {
                if *stop.borrow() {
                    // The lease runs out and another pass (or instance) takes the rest.
                    break;
                }
                let span = tracing::info_span!("deliver", notification = %entry.id,
                    claim = %claim_of(&entry), event_position = entry.message.position,
                    template = %entry.message.template, attempt = entry.attempts + 1);
                self.deliver(entry).instrument(span).await;
            }
        }
        debug!("email sender stopped");
    }

    async fn deliver(&self, entry: OutboxEntry) {
        let email = match message::build(&entry, &self.from, self.clock.now()) {
            Ok(email) => email,
            Err(error) => return self.refuse(&entry, &error).await,
        };
        match self.transport.deliver(&entry.id, &email).await {
            Ok(()) => {
                let recorded = self
                    .store
                    .outbox_sent(&entry.id, &self.owner, self.clock.now())
                    .await;
                self.stats.emails_sent.fetch_add(1, Ordering::Relaxed);
                match recorded {
                    Ok(true) => info!("email sent"),
                    Ok(false) => warn!(
                        "email sent after its lease was taken over: it may be sent twice \
                         (same Message-ID); raise the lease"
                    ),
                    Err(error) => error!(error = %error,
                        "email sent but not recorded: it will be sent again (same Message-ID)"),
                }
            }
            Err(error) => self.failed(&entry, &error.to_string()).await,
        }
    }

    /// A message that cannot be built is parked at once: retrying cannot help.
    async fn refuse(&self, entry: &OutboxEntry, error: &BuildError) {
        let text = clip(&error.to_string());
        error!(error = %text, "email refused before sending; parked");
        self.stats.emails_parked.fetch_add(1, Ordering::Relaxed);
        if let Err(error) = self.store.outbox_park(&entry.id, &self.owner, &text).await {
            warn!(error = %error, "cannot park the email; it will be tried again");
        }
    }

    async fn failed(&self, entry: &OutboxEntry, error: &str) {
        let text = clip(error);
        let attempts = entry.attempts + 1;
        let recorded = if attempts >= self.settings.max_attempts {
            error!(error = %text, attempts, "email not delivered; parked for an administrator");
            self.stats.emails_parked.fetch_add(1, Ordering::Relaxed);
            self.store.outbox_park(&entry.id, &self.owner, &text).await
        } else {
            let delay = backoff(&self.settings, attempts);
            let retry_at = self.clock.now() + chrono_duration(delay);
            warn!(error = %text, attempts, retry_in = ?delay, "email not delivered; will retry");
            self.stats.emails_failed.fetch_add(1, Ordering::Relaxed);
            self.store
                .outbox_retry_later(&entry.id, &self.owner, &text, retry_at)
                .await
        };
        if let Err(error) = recorded {
            warn!(error = %error, "cannot record the failed attempt; the lease will run out");
        }
    }
}

/// The claim number of a message, for logs.
fn claim_of(entry: &OutboxEntry) -> &str {
    claimdesk_claims::number_of_stream(&entry.message.stream_id).unwrap_or(&entry.message.stream_id)
}

/// `retry_base × 2^(attempts − 1)`, at most `retry_max`.
pub(crate) fn backoff(settings: &Settings, attempts: u32) -> Duration {
    let factor = 1u32 << attempts.saturating_sub(1).min(20);
    settings
        .retry_base
        .saturating_mul(factor)
        .min(settings.retry_max)
}

pub(crate) fn chrono_duration(duration: Duration) -> chrono::Duration {
    chrono::Duration::from_std(duration).unwrap_or(chrono::Duration::MAX)
}

fn clip(text: &str) -> String {
    match text.char_indices().nth(MAX_ERROR) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_ceiling() {
        let mut settings = Settings::for_tests();
        settings.retry_base = Duration::from_secs(30);
        settings.retry_max = Duration::from_secs(600);
        let delays: Vec<u64> = (1..=7).map(|a| backoff(&settings, a).as_secs()).collect();
        assert_eq!(delays, [30, 60, 120, 240, 480, 600, 600]);
        assert_eq!(backoff(&settings, 1000).as_secs(), 600);
    }

    #[test]
    fn long_errors_are_clipped() {
        assert_eq!(clip("short"), "short");
        let long = "é".repeat(MAX_ERROR + 10);
        assert_eq!(clip(&long).chars().count(), MAX_ERROR + 1);
    }
}
