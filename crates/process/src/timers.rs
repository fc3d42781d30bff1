//! The timer loop: fires due deadlines and reminders, on the injected clock.
//!
//! What it promises:
//! - **Durable deadlines.** Timers live in the store, set and cancelled by the process
//!   manager from the events (see [`crate::manager`]); a restart finds them where they were,
//!   and replaying the events rebuilds them.
//! - **Compared as UTC instants**, with the time of the injected [`Clock`]: a timer is due
//!   when `now >= due_at`. Daylight saving and time zones play no part (field report F10).
//! - **One firing at a time.** A due timer is leased to one instance; an automatic closure
//!   goes through the command handler like every command (optimistic concurrency, actor
//!   `system`, causation the answer's event), so a client message stored at the same moment
//!   wins or loses cleanly: the domain refuses the closure of a claim that is no longer
//!   answered or not yet due, and the timer is then dropped (`not_answered`, `not_due`,
//!   `claim_closed`). A reminder queues its email in the transaction that removes the timer,
//!   only if the timer is still there and the claim still waits on the client until the
//!   deadline it announces: a reminder cancelled by the client's reaction sends nothing, and
//!   a reminder found after its deadline has passed is dropped.
//! - **Failures are retried** with backoff on the injected clock; the timer stays until done.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use claimdesk_claims::clock::Clock;
use claimdesk_claims::handler::{execute, load, CommandError};
use claimdesk_claims::number_of_stream;
use claimdesk_domain::{ClaimCommand, ClaimStatus, DomainError, Timestamp};
use claimdesk_store::{LeasedTimer, Metadata, Store};
use tokio::sync::watch;
use tracing::{debug, info, warn, Instrument};

use crate::delivery::{backoff, chrono_duration};
use crate::manager::{ReminderPayload, AUTO_CLOSE, REMINDER};
use crate::{wait, Settings, Stats};

/// Fires due timers until told to stop.
pub(crate) struct Timers {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) owner: String,
    pub(crate) settings: Settings,
    pub(crate) stats: Arc<Stats>,
}

/// What became of a fired timer.
enum Outcome {
    /// Done: remove it.
    Done,
    /// Not now: try again later.
    Retry(String),
}

impl Timers {
    pub(crate) async fn run(self, mut stop: watch::Receiver<bool>) {
        info!(owner = %self.owner, "deadline timers started");
        while !*stop.borrow() {
            let now = self.clock.now();
            let lease_until = now + chrono_duration(self.settings.lease);
            let due = self
                .store
                .timers_claim(&self.owner, now, lease_until, self.settings.batch)
                .await;
            let due = match due {
                Ok(due) if due.is_empty() => {
                    wait(&mut stop, self.settings.poll_interval).await;
                    continue;
                }
                Ok(due) => due,
                Err(error) => {
                    warn!(error = %error, "cannot read the timers; retrying");
                    wait(&mut stop, self.settings.poll_interval).await;
                    continue;
                }
            };
            for leased in due {
                let timer = &leased.timer;
                let claim = number_of_stream(&timer.stream_id).unwrap_or(&timer.stream_id);
                let span = tracing::info_span!("timer", claim = %claim, kind = %timer.kind,
                    event_position = timer.position, due_at = %timer.due_at);
                self.fire(&leased, now).instrument(span).await;
            }
        }
        debug!("deadline timers stopped");
    }

    async fn fire(&self, leased: &LeasedTimer, now: DateTime<Utc>) {
        let timer = &leased.timer;
        let outcome = match timer.kind.as_str() {
            AUTO_CLOSE => self.auto_close(leased, now).await,
            REMINDER => return self.remind(leased, now).await,
            other => Outcome::Retry(format!("unknown timer kind {other}")),
        };
        let recorded = match outcome {
            Outcome::Done => self.store.timer_done(timer, None).await,
            Outcome::Retry(why) => {
                let attempts = leased.attempts + 1;
                let delay = backoff(&self.settings, attempts);
                warn!(why = %why, attempts, retry_in = ?delay, "timer not fired; will retry");
                let retry_at = now + chrono_duration(delay);
                self.store.timer_retry_later(timer, retry_at).await
            }
        };
        if let Err(error) = recorded {
            warn!(error = %error, "cannot record the timer's outcome; its lease will run out");
        }
    }

    async fn auto_close(&self, leased: &LeasedTimer, now: DateTime<Utc>) -> Outcome {
        let timer = &leased.timer;
        let Some(number) = number_of_stream(&timer.stream_id) else {
            warn!("an automatic closure for a stream that is not a claim's; dropped");
            return Outcome::Done;
        };
        let metadata = Metadata {
            actor: "system".to_owned(),
            correlation_id: timer.correlation_id,
            causation_id: Some(timer.cause_event_id),
        };
        let at = Timestamp::from_micros(now.timestamp_micros());
        let closed = execute(&self.store, number, &metadata, |_| {
            ClaimCommand::AutoClose { at }
        })
        .await;
        match closed {
            Ok(done) => {
                self.stats.auto_closed.fetch_add(1, Ordering::Relaxed);
                info!(
                    position = done.append.position,
                    "claim closed automatically"
                );
                Outcome::Done
            }
            // The claim moved on: the client reacted, someone closed it, or a later answer
            // set a later deadline (whose own timer follows). Nothing to do.
            Err(CommandError::Refused(
                refusal @ (DomainError::NotAnswered
                | DomainError::NotDue { .. }
                | DomainError::ClaimClosed
                | DomainError::NotFiled),
            )) => {
                self.stats.timers_dropped.fetch_add(1, Ordering::Relaxed);
                info!(
                    refusal = refusal.code(),
                    "automatic closure no longer applies; dropped"
                );
                Outcome::Done
            }
            Err(CommandError::StatusChanged | CommandError::NotFound) => {
                self.stats.timers_dropped.fetch_add(1, Ordering::Relaxed);
                info!("the claim changed as it was closing automatically; dropped");
                Outcome::Done
            }
            Err(error) => Outcome::Retry(error.to_string()),
        }
    }

    /// Whether the claim of `stream_id` still waits on its client until `deadline`.
    async fn still_awaited(
        &self,
        stream_id: &str,
        deadline: Timestamp,
    ) -> Result<bool, CommandError> {
        let Some(number) = number_of_stream(stream_id) else {
            return Ok(false);
        };
        let (_, state) = load(self.store.as_ref(), number).await?;
        Ok(
            state.status() == Some(ClaimStatus::Answered)
                && state.auto_close_at() == Some(deadline),
        )
    }

    async fn remind(&self, leased: &LeasedTimer, now: DateTime<Utc>) {
        let timer = &leased.timer;
        let payload: ReminderPayload = match serde_json::from_value(timer.payload.clone()) {
            Ok(payload) => payload,
            Err(error) => {
                warn!(error = %error, "a reminder that cannot be read; dropped");
                if let Err(error) = self.store.timer_done(timer, None).await {
                    warn!(error = %error, "cannot drop the reminder");
                }
                return;
            }
        };
        // A reminder that comes after its deadline (the service was down) announces nothing,
        // nor one whose answer is no longer the one the claim waits on (a replay of old
        // events may set it again for a moment).
        let late = now.timestamp_micros() >= payload.deadline.as_micros();
        let current = match self.still_awaited(&timer.stream_id, payload.deadline).await {
            Ok(current) => current,
            Err(error) => {
                warn!(error = %error, "cannot read the claim; the reminder will be retried");
                let retry_at = now + chrono_duration(backoff(&self.settings, leased.attempts + 1));
                if let Err(error) = self.store.timer_retry_later(timer, retry_at).await {
                    warn!(error = %error, "cannot record the reminder's failure");
                }
                return;
            }
        };
        let late = late || !current;
        let message = (!late).then_some(&payload.message);
        match self.store.timer_done(timer, message).await {
            Ok(true) if late => {
                self.stats.timers_dropped.fetch_add(1, Ordering::Relaxed);
                info!(current, "reminder past its deadline or its answer; dropped");
            }
            Ok(true) => {
                self.stats.reminders.fetch_add(1, Ordering::Relaxed);
                info!(notification = %payload.message.id(), "reminder queued");
            }
            Ok(false) => debug!("reminder cancelled meanwhile"),
            Err(error) => warn!(error = %error, "cannot queue the reminder; will retry"),
        }
    }
}
