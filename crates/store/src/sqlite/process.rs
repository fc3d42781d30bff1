//! The outbox and the timers on SQLite.
//!
//! Every write goes through the single writing connection and is one statement or one
//! `BEGIN IMMEDIATE` transaction, so claims are serialized: of two claimers (two tasks, or two
//! processes on one file), the second sees the first one's lease. Times are microseconds
//! since the Unix epoch, given by the caller.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::sqlite::{SqliteConnection, SqliteRow};
use sqlx::Row;
use uuid::Uuid;

use super::{from_micros, micros, SqliteStore};
use crate::codec::{self, from_sql, to_sql};
use crate::process::{
    self, Effect, Effects, LeasedTimer, OutboxEntry, OutboxMessage, OutboxStatus, ProcessStore,
    Requeue, Timer,
};
use crate::StoreError;

const OUTBOX_COLUMNS: &str = "id, event_id, template, recipient, stream_id, position, language, \
     message_id, subject, body_text, body_html, status, attempts, next_attempt_at, last_error, \
     created_at, sent_at, lease_until";

const TIMER_COLUMNS: &str =
    "stream_id, kind, due_at, cause_event_id, correlation_id, position, payload, attempts";

#[async_trait]
impl ProcessStore for SqliteStore {
    async fn outbox_claim(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        let sql = format!(
            "UPDATE outbox SET lease_owner = $1, lease_until = $2 WHERE seq IN (\
                 SELECT seq FROM outbox WHERE status = 'pending' \
                 AND (next_attempt_at IS NULL OR next_attempt_at <= $3) \
                 AND (lease_until IS NULL OR lease_until <= $3) \
                 ORDER BY seq LIMIT $4) \
             RETURNING seq, {OUTBOX_COLUMNS}"
        );
        let rows = sqlx::query(&sql)
            .bind(owner)
            .bind(micros(lease_until))
            .bind(micros(now))
            .bind(limit_sql(limit))
            .fetch_all(&self.writer)
            .await?;
        let mut claimed = rows
            .iter()
            .map(|row| Ok((row.try_get::<i64, _>("seq")?, decode_entry(row)?)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        // RETURNING gives no order: restore the queue's.
        claimed.sort_by_key(|(seq, _)| *seq);
        Ok(claimed.into_iter().map(|(_, entry)| entry).collect())
    }

    async fn outbox_sent(
        &self,
        id: &str,
        owner: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE outbox SET status = 'sent', attempts = attempts + 1, sent_at = $3, \
             next_attempt_at = NULL, lease_owner = NULL, lease_until = NULL, last_error = NULL \
             WHERE id = $1 AND lease_owner = $2 AND status = 'pending'",
        )
        .bind(id)
        .bind(owner)
        .bind(micros(at))
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn outbox_retry_later(
        &self,
        id: &str,
        owner: &str,
        error: &str,
        retry_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $4, last_error = $3, \
             lease_owner = NULL, lease_until = NULL \
             WHERE id = $1 AND lease_owner = $2 AND status = 'pending'",
        )
        .bind(id)
        .bind(owner)
        .bind(error)
        .bind(micros(retry_at))
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn outbox_park(&self, id: &str, owner: &str, error: &str) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE outbox SET status = 'parked', attempts = attempts + 1, last_error = $3, \
             next_attempt_at = NULL, lease_owner = NULL, lease_until = NULL \
             WHERE id = $1 AND lease_owner = $2 AND status = 'pending'",
        )
        .bind(id)
        .bind(owner)
        .bind(error)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn outbox_requeue(&self, id: &str) -> Result<Requeue, StoreError> {
        let requeued = sqlx::query(
            "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = NULL, \
             lease_owner = NULL, lease_until = NULL WHERE id = $1 AND status = 'parked'",
        )
        .bind(id)
        .execute(&self.writer)
        .await?;
        let Some(entry) = self.outbox_get(id).await? else {
            return Ok(Requeue::NotFound);
        };
        if requeued.rows_affected() == 1 {
            Ok(Requeue::Requeued(entry))
        } else {
            Ok(Requeue::NotParked(entry))
        }
    }

    async fn outbox_get(&self, id: &str) -> Result<Option<OutboxEntry>, StoreError> {
        let sql = format!("SELECT {OUTBOX_COLUMNS} FROM outbox WHERE id = $1");
        // The writer: a requeue or a delivery just made is seen at once.
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.writer)
            .await?;
        row.as_ref().map(decode_entry).transpose()
    }

    async fn outbox_list(
        &self,
        status: Option<OutboxStatus>,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        let rows = match status {
            Some(status) => {
                let sql = format!(
                    "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE status = $1 ORDER BY seq LIMIT $2"
                );
                sqlx::query(&sql)
                    .bind(status.as_str())
                    .bind(limit_sql(limit))
                    .fetch_all(&self.reader)
                    .await?
            }
            None => {
                let sql = format!("SELECT {OUTBOX_COLUMNS} FROM outbox ORDER BY seq LIMIT $1");
                sqlx::query(&sql)
                    .bind(limit_sql(limit))
                    .fetch_all(&self.reader)
                    .await?
            }
        };
        rows.iter().map(decode_entry).collect()
    }

    async fn outbox_counts(&self) -> Result<Vec<(OutboxStatus, u64)>, StoreError> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT status, COUNT(*) FROM outbox GROUP BY status")
                .fetch_all(&self.reader)
                .await?;
        process::status_counts(rows)
    }

    async fn timers_claim(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<LeasedTimer>, StoreError> {
        let sql = format!(
            "UPDATE timers SET lease_owner = $1, lease_until = $2 \
             WHERE (stream_id, kind) IN (\
                 SELECT stream_id, kind FROM timers WHERE due_at <= $3 \
                 AND (lease_until IS NULL OR lease_until <= $3) \
                 ORDER BY due_at, stream_id, kind LIMIT $4) \
             RETURNING {TIMER_COLUMNS}"
        );
        let rows = sqlx::query(&sql)
            .bind(owner)
            .bind(micros(lease_until))
            .bind(micros(now))
            .bind(limit_sql(limit))
            .fetch_all(&self.writer)
            .await?;
        let mut timers = rows
            .iter()
            .map(decode_leased_timer)
            .collect::<Result<Vec<_>, _>>()?;
        timers.sort_by(|a, b| {
            let key = |t: &LeasedTimer| (t.timer.due_at, t.timer.stream_id.clone());
            key(a).cmp(&key(b))
        });
        Ok(timers)
    }

    async fn timer_done(
        &self,
        timer: &Timer,
        then: Option<&OutboxMessage>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let removed = sqlx::query(
            "DELETE FROM timers WHERE stream_id = $1 AND kind = $2 AND cause_event_id = $3",
        )
        .bind(&timer.stream_id)
        .bind(&timer.kind)
        .bind(uuid_text(timer.cause_event_id))
        .execute(&mut *tx)
        .await?;
        let removed = removed.rows_affected() == 1;
        if let (true, Some(message)) = (removed, then) {
            insert_message(&mut tx, message).await?;
        }
        tx.commit().await?;
        Ok(removed)
    }

    async fn timer_retry_later(
        &self,
        timer: &Timer,
        retry_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE timers SET attempts = attempts + 1, lease_owner = NULL, lease_until = $4 \
             WHERE stream_id = $1 AND kind = $2 AND cause_event_id = $3",
        )
        .bind(&timer.stream_id)
        .bind(&timer.kind)
        .bind(uuid_text(timer.cause_event_id))
        .bind(micros(retry_at))
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn timers_list(&self, stream_id: Option<&str>) -> Result<Vec<Timer>, StoreError> {
        let rows = match stream_id {
            Some(stream_id) => {
                let sql = format!(
                    "SELECT {TIMER_COLUMNS} FROM timers WHERE stream_id = $1 \
                     ORDER BY due_at, kind"
                );
                sqlx::query(&sql)
                    .bind(stream_id)
                    .fetch_all(&self.reader)
                    .await?
            }
            None => {
                let sql = format!("SELECT {TIMER_COLUMNS} FROM timers ORDER BY due_at, stream_id");
                sqlx::query(&sql).fetch_all(&self.reader).await?
            }
        };
        rows.iter()
            .map(|row| decode_leased_timer(row).map(|leased| leased.timer))
            .collect()
    }
}

/// Writes a unit of work's outbox and timer changes, in order, inside its transaction.
pub(super) async fn apply_effects(
    conn: &mut SqliteConnection,
    effects: Effects,
) -> Result<(), StoreError> {
    for effect in effects.into_effects() {
        match effect {
            Effect::Enqueue(message) => insert_message(conn, &message).await?,
            Effect::Schedule(timer) => upsert_timer(conn, &timer).await?,
            Effect::Cancel { stream_id, before } => {
                sqlx::query("DELETE FROM timers WHERE stream_id = $1 AND position < $2")
                    .bind(stream_id)
                    .bind(to_sql(before, "a position")?)
                    .execute(&mut *conn)
                    .await?;
            }
        }
    }
    Ok(())
}

/// Queues `message` unless its delivery key is already queued.
async fn insert_message(
    conn: &mut SqliteConnection,
    message: &OutboxMessage,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO outbox (id, event_id, template, recipient, stream_id, position, language, \
         message_id, subject, body_text, body_html, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT DO NOTHING",
    )
    .bind(message.id())
    .bind(uuid_text(message.event_id))
    .bind(&message.template)
    .bind(&message.recipient)
    .bind(&message.stream_id)
    .bind(to_sql(message.position, "a position")?)
    .bind(&message.language)
    .bind(&message.message_id)
    .bind(&message.subject)
    .bind(&message.body_text)
    .bind(&message.body_html)
    .bind(micros(codec::now()))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Sets the timer unless a later event set the stream's timer of that kind.
async fn upsert_timer(conn: &mut SqliteConnection, timer: &Timer) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO timers (stream_id, kind, due_at, cause_event_id, correlation_id, position, \
         payload) VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (stream_id, kind) DO UPDATE SET due_at = excluded.due_at, \
         cause_event_id = excluded.cause_event_id, correlation_id = excluded.correlation_id, \
         position = excluded.position, payload = excluded.payload, attempts = 0, \
         lease_owner = NULL, lease_until = NULL \
         WHERE timers.position < excluded.position",
    )
    .bind(&timer.stream_id)
    .bind(&timer.kind)
    .bind(micros(timer.due_at))
    .bind(uuid_text(timer.cause_event_id))
    .bind(uuid_text(timer.correlation_id))
    .bind(to_sql(timer.position, "a position")?)
    .bind(process::payload_text(&timer.payload)?)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

fn uuid_text(id: Uuid) -> String {
    id.hyphenated().to_string()
}

fn limit_sql(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

fn parse_uuid(text: &str, what: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(text).map_err(|e| StoreError::Corrupt(format!("{what} {text:?} ({e})")))
}

fn optional_time(micros: Option<i64>) -> Result<Option<DateTime<Utc>>, StoreError> {
    micros.map(from_micros).transpose()
}

fn decode_entry(row: &SqliteRow) -> Result<OutboxEntry, StoreError> {
    let status: String = row.try_get("status")?;
    let attempts: i64 = row.try_get("attempts")?;
    Ok(OutboxEntry {
        id: row.try_get("id")?,
        message: OutboxMessage {
            event_id: parse_uuid(&row.try_get::<String, _>("event_id")?, "event id")?,
            template: row.try_get("template")?,
            recipient: row.try_get("recipient")?,
            stream_id: row.try_get("stream_id")?,
            position: from_sql(row.try_get("position")?, "a position")?,
            language: row.try_get("language")?,
            message_id: row.try_get("message_id")?,
            subject: row.try_get("subject")?,
            body_text: row.try_get("body_text")?,
            body_html: row.try_get("body_html")?,
        },
        status: status
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("outbox status {status:?}")))?,
        attempts: process::attempts(attempts)?,
        next_attempt_at: optional_time(row.try_get("next_attempt_at")?)?,
        last_error: row.try_get("last_error")?,
        created_at: from_micros(row.try_get("created_at")?)?,
        sent_at: optional_time(row.try_get("sent_at")?)?,
        lease_until: optional_time(row.try_get("lease_until")?)?,
    })
}

fn decode_leased_timer(row: &SqliteRow) -> Result<LeasedTimer, StoreError> {
    let payload: String = row.try_get("payload")?;
    Ok(LeasedTimer {
        timer: Timer {
            stream_id: row.try_get("stream_id")?,
            kind: row.try_get("kind")?,
            due_at: from_micros(row.try_get("due_at")?)?,
            cause_event_id: parse_uuid(&row.try_get::<String, _>("cause_event_id")?, "cause")?,
            correlation_id: parse_uuid(
                &row.try_get::<String, _>("correlation_id")?,
                "correlation id",
            )?,
            position: from_sql(row.try_get("position")?, "a position")?,
            payload: process::parse_payload(&payload)?,
        },
        attempts: process::attempts(row.try_get("attempts")?)?,
    })
}
