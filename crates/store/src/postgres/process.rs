//! The outbox and the timers on PostgreSQL, shared by several service instances.
//!
//! A claim is one statement: it selects the due rows `FOR UPDATE SKIP LOCKED` and writes its
//! lease on them. A row another claimer is leasing at that very moment is skipped, not waited
//! for; once that claimer commits, the row's lease is in the future and every later claim
//! leaves it alone until the lease ends. So each due message (or timer) is held by one
//! instance at a time. Outcomes are written only by the lease holder.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::{PgConnection, PgRow};
use sqlx::Row;

use super::PostgresStore;
use crate::codec::{from_sql, to_sql, truncate_micros};
use crate::process::{
    self, Effect, Effects, LeasedTimer, OutboxEntry, OutboxMessage, OutboxStatus, ProcessStore,
    Requeue, Timer,
};
use crate::StoreError;

const OUTBOX_COLUMNS: &str = "id, event_id, template, recipient, stream_id, position, language, \
     message_id, subject, body_text, body_html, status, attempts, next_attempt_at, last_error, \
     created_at, sent_at, lease_until";

/// The outbox's columns, qualified for an `UPDATE ... FROM` whose other table shares names.
const OUTBOX_RETURNING: &str = "outbox.id, outbox.event_id, outbox.template, outbox.recipient, \
     outbox.stream_id, outbox.position, outbox.language, outbox.message_id, outbox.subject, \
     outbox.body_text, outbox.body_html, outbox.status, outbox.attempts, \
     outbox.next_attempt_at, outbox.last_error, outbox.created_at, outbox.sent_at, \
     outbox.lease_until";

const TIMER_RETURNING: &str = "timers.stream_id, timers.kind, timers.due_at, \
     timers.cause_event_id, timers.correlation_id, timers.position, timers.payload, \
     timers.attempts";

const TIMER_COLUMNS: &str =
    "stream_id, kind, due_at, cause_event_id, correlation_id, position, payload, attempts";

#[async_trait]
impl ProcessStore for PostgresStore {
    async fn outbox_claim(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        let sql = format!(
            "WITH due AS (\
                 SELECT seq FROM outbox WHERE status = 'pending' \
                 AND (next_attempt_at IS NULL OR next_attempt_at <= $3) \
                 AND (lease_until IS NULL OR lease_until <= $3) \
                 ORDER BY seq LIMIT $4 FOR UPDATE SKIP LOCKED) \
             UPDATE outbox SET lease_owner = $1, lease_until = $2 FROM due \
             WHERE outbox.seq = due.seq \
             RETURNING outbox.seq, {OUTBOX_RETURNING}"
        );
        let rows = sqlx::query(&sql)
            .bind(owner)
            .bind(lease_until)
            .bind(now)
            .bind(limit_sql(limit))
            .fetch_all(&self.pool)
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
        .bind(at)
        .execute(&self.pool)
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
        .bind(retry_at)
        .execute(&self.pool)
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
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn outbox_requeue(&self, id: &str) -> Result<Requeue, StoreError> {
        let requeued = sqlx::query(
            "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = NULL, \
             lease_owner = NULL, lease_until = NULL WHERE id = $1 AND status = 'parked'",
        )
        .bind(id)
        .execute(&self.pool)
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
            .fetch_optional(&self.pool)
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
                    .fetch_all(&self.pool)
                    .await?
            }
            None => {
                let sql = format!("SELECT {OUTBOX_COLUMNS} FROM outbox ORDER BY seq LIMIT $1");
                sqlx::query(&sql)
                    .bind(limit_sql(limit))
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        rows.iter().map(decode_entry).collect()
    }

    async fn outbox_counts(&self) -> Result<Vec<(OutboxStatus, u64)>, StoreError> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT status, COUNT(*) FROM outbox GROUP BY status")
                .fetch_all(&self.pool)
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
            "WITH due AS (\
                 SELECT stream_id, kind FROM timers WHERE due_at <= $3 \
                 AND (lease_until IS NULL OR lease_until <= $3) \
                 ORDER BY due_at, stream_id, kind LIMIT $4 FOR UPDATE SKIP LOCKED) \
             UPDATE timers SET lease_owner = $1, lease_until = $2 FROM due \
             WHERE timers.stream_id = due.stream_id AND timers.kind = due.kind \
             RETURNING {TIMER_RETURNING}"
        );
        let rows = sqlx::query(&sql)
            .bind(owner)
            .bind(lease_until)
            .bind(now)
            .bind(limit_sql(limit))
            .fetch_all(&self.pool)
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
        .bind(timer.cause_event_id)
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
        .bind(timer.cause_event_id)
        .bind(retry_at)
        .execute(&self.pool)
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
                    .fetch_all(&self.pool)
                    .await?
            }
            None => {
                let sql = format!("SELECT {TIMER_COLUMNS} FROM timers ORDER BY due_at, stream_id");
                sqlx::query(&sql).fetch_all(&self.pool).await?
            }
        };
        rows.iter()
            .map(|row| decode_leased_timer(row).map(|leased| leased.timer))
            .collect()
    }
}

/// Writes a unit of work's outbox and timer changes, in order, inside its transaction.
pub(super) async fn apply_effects(
    conn: &mut PgConnection,
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
    conn: &mut PgConnection,
    message: &OutboxMessage,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO outbox (id, event_id, template, recipient, stream_id, position, language, \
         message_id, subject, body_text, body_html) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING",
    )
    .bind(message.id())
    .bind(message.event_id)
    .bind(&message.template)
    .bind(&message.recipient)
    .bind(&message.stream_id)
    .bind(to_sql(message.position, "a position")?)
    .bind(&message.language)
    .bind(&message.message_id)
    .bind(&message.subject)
    .bind(&message.body_text)
    .bind(&message.body_html)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Sets the timer unless a later event set the stream's timer of that kind.
async fn upsert_timer(conn: &mut PgConnection, timer: &Timer) -> Result<(), StoreError> {
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
    .bind(timer.due_at)
    .bind(timer.cause_event_id)
    .bind(timer.correlation_id)
    .bind(to_sql(timer.position, "a position")?)
    .bind(process::payload_text(&timer.payload)?)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

fn limit_sql(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

fn time(row: &PgRow, column: &str) -> Result<DateTime<Utc>, StoreError> {
    Ok(truncate_micros(row.try_get(column)?))
}

fn optional_time(row: &PgRow, column: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
    let at: Option<DateTime<Utc>> = row.try_get(column)?;
    Ok(at.map(truncate_micros))
}

fn decode_entry(row: &PgRow) -> Result<OutboxEntry, StoreError> {
    let status: String = row.try_get("status")?;
    let attempts: i32 = row.try_get("attempts")?;
    Ok(OutboxEntry {
        id: row.try_get("id")?,
        message: OutboxMessage {
            event_id: row.try_get("event_id")?,
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
        attempts: process::attempts(i64::from(attempts))?,
        next_attempt_at: optional_time(row, "next_attempt_at")?,
        last_error: row.try_get("last_error")?,
        created_at: time(row, "created_at")?,
        sent_at: optional_time(row, "sent_at")?,
        lease_until: optional_time(row, "lease_until")?,
    })
}

fn decode_leased_timer(row: &PgRow) -> Result<LeasedTimer, StoreError> {
    let payload: String = row.try_get("payload")?;
    let attempts: i32 = row.try_get("attempts")?;
    Ok(LeasedTimer {
        timer: Timer {
            stream_id: row.try_get("stream_id")?,
            kind: row.try_get("kind")?,
            due_at: time(row, "due_at")?,
            cause_event_id: row.try_get("cause_event_id")?,
            correlation_id: row.try_get("correlation_id")?,
            position: from_sql(row.try_get("position")?, "a position")?,
            payload: process::parse_payload(&payload)?,
        },
        attempts: process::attempts(i64::from(attempts))?,
    })
}
