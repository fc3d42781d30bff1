//! What the process manager keeps beside the events: an outbox of emails and durable timers.
//!
//! What every backend guarantees, and what the conformance suite checks:
//!
//! - **Written with the checkpoint.** A projection's unit of work ([`crate::ReadModelTx`])
//!   queues emails ([`crate::ReadModelTx::enqueue`]), sets timers
//!   ([`crate::ReadModelTx::schedule`]) and cancels them
//!   ([`crate::ReadModelTx::cancel_timers`]). Nothing is written before `commit`, which
//!   writes them in the order they were made, in the same transaction as the documents and
//!   the checkpoint's compare-and-set: a unit of work that loses the race, fails or is
//!   dropped leaves none of them.
//! - **One email per delivery key.** A message's key is its event, template and recipient
//!   ([`outbox_id`]). A message whose key is already queued is ignored, whenever it comes (a
//!   replayed event, a rebuild, a second instance): an email is queued at most once per
//!   event, template and recipient. Rows are never deleted; a sent row is the lasting record
//!   that it was sent.
//! - **Leases.** A sender claims due messages until a lease expires
//!   ([`ProcessStore::outbox_claim`]); no other claimer gets them meanwhile, on PostgreSQL
//!   with several instances too (`FOR UPDATE SKIP LOCKED`). Only the lease holder records the
//!   outcome; a holder whose lease ran out and was taken is told so (`false`).
//! - **Timers.** At most one per stream and kind. A timer set by a later event (higher
//!   position) replaces an earlier one, never the reverse, and a cancellation removes only
//!   the timers set by events before it, so replaying events in order always ends with the
//!   same timers. Due timers are leased like messages. Completing a timer
//!   ([`ProcessStore::timer_done`]) removes it and, in the same transaction and only if it
//!   was still there, queues its message: a timer cancelled meanwhile sends nothing.
//! - **Times come from the caller.** Due dates, leases and delivery times are compared with
//!   the `now` given to each call (the service's injectable clock), never with the database's
//!   clock, so tests move time without waiting. Only `created_at` is the database's own time.

use std::fmt;
use std::str::FromStr;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::{Position, StoreError};

/// An email to deliver, as the process manager renders it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxMessage {
    /// The event the email tells of.
    pub event_id: Uuid,
    /// Which email it is (`filed`, `answered`, `reminder`...).
    pub template: String,
    /// The address it goes to.
    pub recipient: String,
    /// The stream of the event.
    pub stream_id: String,
    /// The event's global position (for tracing).
    pub position: Position,
    /// The language it is written in (`fr`, `ar`).
    pub language: String,
    /// The `Message-ID` header's value, derived from the delivery key.
    pub message_id: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
}

impl OutboxMessage {
    /// The message's id: see [`outbox_id`].
    pub fn id(&self) -> String {
        outbox_id(self.event_id, &self.template, &self.recipient)
    }
}

/// The id of the email about `event_id` with `template` to `recipient`: 32 hexadecimal
/// digits of a SHA-256 over the three, so the same delivery always has the same id.
pub fn outbox_id(event_id: Uuid, template: &str, recipient: &str) -> String {
    let mut hash = Sha256::new();
    hash.update(event_id.as_bytes());
    for part in [template, recipient] {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part.as_bytes());
    }
    hex::encode(&hash.finalize()[..16])
}

/// Where a queued email stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxStatus {
    /// Waiting for its (next) delivery attempt.
    Pending,
    /// Accepted by the mail server (or written to a file).
    Sent,
    /// Given up after too many failed attempts: waits for an administrator.
    Parked,
}

impl OutboxStatus {
    pub const ALL: [OutboxStatus; 3] = [
        OutboxStatus::Pending,
        OutboxStatus::Sent,
        OutboxStatus::Parked,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            OutboxStatus::Pending => "pending",
            OutboxStatus::Sent => "sent",
            OutboxStatus::Parked => "parked",
        }
    }
}

impl fmt::Display for OutboxStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OutboxStatus {
    type Err = StoreError;

    fn from_str(text: &str) -> Result<OutboxStatus, StoreError> {
        OutboxStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == text)
            .ok_or_else(|| StoreError::Invalid(format!("unknown outbox status {text:?}")))
    }
}

/// A queued email with its delivery state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEntry {
    pub id: String,
    pub message: OutboxMessage,
    pub status: OutboxStatus,
    /// Delivery attempts made so far.
    pub attempts: u32,
    /// When the next attempt is due; `None` when due at once (or no longer pending).
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When the database queued it.
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    /// Until when a sender holds it.
    pub lease_until: Option<DateTime<Utc>>,
}

/// What [`ProcessStore::outbox_requeue`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requeue {
    /// The parked message waits for delivery again, its attempts counted from zero.
    Requeued(OutboxEntry),
    /// The message is not parked; nothing changed.
    NotParked(OutboxEntry),
    NotFound,
}

/// Something to do for a stream when the time comes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timer {
    pub stream_id: String,
    /// What it does (`auto_close`, `reminder`); one timer per stream and kind.
    pub kind: String,
    /// When it falls due, in UTC.
    pub due_at: DateTime<Utc>,
    /// The event that set it.
    pub cause_event_id: Uuid,
    /// The correlation id of that event, for what the timer causes.
    pub correlation_id: Uuid,
    /// The global position of that event.
    pub position: Position,
    /// Whatever the one who fires it needs.
    pub payload: serde_json::Value,
}

/// A due timer held by the caller until its lease ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeasedTimer {
    pub timer: Timer,
    /// Earlier attempts that failed for a passing reason.
    pub attempts: u32,
}

/// Delivering the outbox and firing the timers. See the module's guarantees.
#[async_trait]
pub trait ProcessStore: Send + Sync {
    /// Leases up to `limit` pending messages due at `now` and not leased (or whose lease
    /// ended) to `owner` until `lease_until`, in queue order.
    async fn outbox_claim(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>, StoreError>;

    /// Records that the message was delivered at `at`. False (and nothing changes) unless
    /// `owner` holds it and it is pending.
    async fn outbox_sent(
        &self,
        id: &str,
        owner: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Records a failed attempt and frees the message until `retry_at`. False (and nothing
    /// changes) unless `owner` holds it and it is pending.
    async fn outbox_retry_later(
        &self,
        id: &str,
        owner: &str,
        error: &str,
        retry_at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Records a failed attempt and parks the message for an administrator. False (and
    /// nothing changes) unless `owner` holds it and it is pending.
    async fn outbox_park(&self, id: &str, owner: &str, error: &str) -> Result<bool, StoreError>;

    /// Puts a parked message back in the queue, due at once, its attempts counted from zero.
    async fn outbox_requeue(&self, id: &str) -> Result<Requeue, StoreError>;

    async fn outbox_get(&self, id: &str) -> Result<Option<OutboxEntry>, StoreError>;

    /// Up to `limit` messages, of `status` if given, in queue order.
    async fn outbox_list(
        &self,
        status: Option<OutboxStatus>,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>, StoreError>;

    /// How many messages there are of each status (every status, zero included).
    async fn outbox_counts(&self) -> Result<Vec<(OutboxStatus, u64)>, StoreError>;

    /// Leases up to `limit` timers due at `now` and not leased (or whose lease ended) to
    /// `owner` until `lease_until`, earliest first.
    async fn timers_claim(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<LeasedTimer>, StoreError>;

    /// Removes `timer` if it is still the one its event set and, in the same transaction,
    /// queues `then`. False (and nothing queued) when it was cancelled or replaced meanwhile.
    async fn timer_done(
        &self,
        timer: &Timer,
        then: Option<&OutboxMessage>,
    ) -> Result<bool, StoreError>;

    /// Counts a failed attempt at `timer` and frees it until `retry_at`. False when it was
    /// cancelled or replaced meanwhile.
    async fn timer_retry_later(
        &self,
        timer: &Timer,
        retry_at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// The timers of `stream_id`, or every timer, earliest first.
    async fn timers_list(&self, stream_id: Option<&str>) -> Result<Vec<Timer>, StoreError>;
}

/// A change a unit of work makes to the outbox or the timers, applied at commit.
#[derive(Debug, Clone)]
pub(crate) enum Effect {
    Enqueue(OutboxMessage),
    Schedule(Timer),
    Cancel { stream_id: String, before: Position },
}

/// A unit of work's outbox and timer changes, in the order they were made.
#[derive(Debug, Default)]
pub(crate) struct Effects(Vec<Effect>);

impl Effects {
    pub(crate) fn enqueue(&mut self, message: OutboxMessage) -> Result<(), StoreError> {
        if message.template.is_empty() || message.recipient.is_empty() {
            return Err(StoreError::Invalid(
                "an outbox message needs a template and a recipient".to_owned(),
            ));
        }
        self.0.push(Effect::Enqueue(message));
        Ok(())
    }

    pub(crate) fn schedule(&mut self, timer: Timer) -> Result<(), StoreError> {
        if timer.stream_id.is_empty() || timer.kind.is_empty() {
            return Err(StoreError::Invalid(
                "a timer needs a stream and a kind".to_owned(),
            ));
        }
        self.0.push(Effect::Schedule(timer));
        Ok(())
    }

    pub(crate) fn cancel(&mut self, stream_id: &str, before: Position) {
        self.0.push(Effect::Cancel {
            stream_id: stream_id.to_owned(),
            before,
        });
    }

    pub(crate) fn into_effects(self) -> impl Iterator<Item = Effect> {
        self.0.into_iter()
    }
}

/// Every status with its count, from `(status, count)` rows; missing statuses count zero.
pub(crate) fn status_counts(
    rows: Vec<(String, i64)>,
) -> Result<Vec<(OutboxStatus, u64)>, StoreError> {
    let mut counts: Vec<(OutboxStatus, u64)> = OutboxStatus::ALL.map(|s| (s, 0)).to_vec();
    for (status, count) in rows {
        let status: OutboxStatus = status
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("outbox status {status:?}")))?;
        let count = crate::codec::from_sql(count, "a count")?;
        if let Some(slot) = counts.iter_mut().find(|(s, _)| *s == status) {
            slot.1 = count;
        }
    }
    Ok(counts)
}

/// A timer's payload as stored.
pub(crate) fn payload_text(payload: &serde_json::Value) -> Result<String, StoreError> {
    serde_json::to_string(payload).map_err(|e| StoreError::Invalid(format!("timer payload: {e}")))
}

pub(crate) fn parse_payload(text: &str) -> Result<serde_json::Value, StoreError> {
    serde_json::from_str(text)
        .map_err(|e| StoreError::Corrupt(format!("a timer payload is not JSON ({e})")))
}

/// A stored attempt count.
pub(crate) fn attempts(value: i64) -> Result<u32, StoreError> {
    u32::try_from(value).map_err(|_| StoreError::Corrupt(format!("attempt count {value}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_depend_on_every_part_of_the_key() {
        let event = Uuid::from_u128(7);
        let id = outbox_id(event, "filed", "a@example.ma");
        assert_eq!(id.len(), 32);
        assert_eq!(id, outbox_id(event, "filed", "a@example.ma"));
        assert_ne!(id, outbox_id(Uuid::from_u128(8), "filed", "a@example.ma"));
        assert_ne!(id, outbox_id(event, "answered", "a@example.ma"));
        assert_ne!(id, outbox_id(event, "filed", "b@example.ma"));
        // Lengths are hashed too: moving a character from one part to the next changes it.
        assert_ne!(outbox_id(event, "ab", "c"), outbox_id(event, "a", "bc"));
    }

    #[test]
    fn statuses_parse_from_their_names() {
        for status in OutboxStatus::ALL {
            assert_eq!(status.as_str().parse::<OutboxStatus>().unwrap(), status);
        }
        assert!("Parked".parse::<OutboxStatus>().is_err());
    }
}
