//! The event log on SQLite.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::sqlite::{SqliteConnection, SqliteRow};
use sqlx::{Row, SqlitePool};
use tokio::sync::watch;
use tracing::{debug, instrument};
use uuid::Uuid;

use super::SqliteStore;
use crate::codec::{self, from_sql, to_sql, StoredRow, StreamTip};
use crate::hash::format_recorded_at;
use crate::{
    AppendResult, EventStore, ExpectedVersion, Metadata, NewEvent, Position, RecordedEvent,
    StoreError,
};

const SELECT_EVENTS: &str = "SELECT position, event_id, stream_id, version, event_type, \
     schema_version, recorded_at, actor, correlation_id, causation_id, data, prev_hash, hash \
     FROM events";

#[async_trait]
impl EventStore for SqliteStore {
    #[instrument(name = "append", skip_all, fields(stream = %stream, events = events.len()))]
    async fn append(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        metadata: &Metadata,
        events: Vec<NewEvent>,
    ) -> Result<AppendResult, StoreError> {
        codec::validate_append(stream, &events)?;

        // Dropping `tx` on any error rolls it back, and with it the head's increment.
        let mut tx = self.begin_write().await?;
        let appended = append_in(&mut tx, stream, expected, metadata, events).await?;
        tx.commit().await?;

        self.notify(appended.position);
        debug!(
            version = appended.version,
            position = appended.position,
            "appended"
        );
        Ok(appended)
    }

    async fn read_stream(&self, stream: &str) -> Result<Vec<RecordedEvent>, StoreError> {
        let sql = format!("{SELECT_EVENTS} WHERE stream_id = ? ORDER BY version");
        let rows = sqlx::query(&sql)
            .bind(stream)
            .fetch_all(&self.reader)
            .await?;
        rows.iter().map(decode).collect()
    }

    async fn read_all(
        &self,
        after: Position,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let sql = format!("{SELECT_EVENTS} WHERE position > ? ORDER BY position LIMIT ?");
        let rows = sqlx::query(&sql)
            .bind(to_sql(after, "a position")?)
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(&self.reader)
            .await?;
        rows.iter().map(decode).collect()
    }

    async fn head(&self) -> Result<Position, StoreError> {
        head(&self.reader).await
    }

    fn appended(&self) -> watch::Receiver<Position> {
        self.appended.subscribe()
    }
}

pub(super) async fn head(pool: &SqlitePool) -> Result<Position, StoreError> {
    let head: i64 = sqlx::query_scalar("SELECT position FROM event_head WHERE id = 1")
        .fetch_one(pool)
        .await?;
    from_sql(head, "the head position")
}

/// The append itself, on a connection inside a `BEGIN IMMEDIATE` transaction that the
/// caller commits.
pub(super) async fn append_in(
    conn: &mut SqliteConnection,
    stream: &str,
    expected: ExpectedVersion,
    metadata: &Metadata,
    events: Vec<NewEvent>,
) -> Result<AppendResult, StoreError> {
    codec::validate_append(stream, &events)?;
    let count = events.len() as u64;

    let last: i64 = sqlx::query_scalar(
        "UPDATE event_head SET position = position + ? WHERE id = 1 RETURNING position",
    )
    .bind(to_sql(count, "an event count")?)
    .fetch_one(&mut *conn)
    .await?;
    let last_position = from_sql(last, "the head position")?;

    // A retried append whose first attempt committed is told so, before any version check.
    for event in &events {
        let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM events WHERE event_id = ?")
            .bind(event.event_id.hyphenated().to_string())
            .fetch_optional(&mut *conn)
            .await?;
        if found.is_some() {
            return Err(StoreError::DuplicateEvent {
                event_id: event.event_id,
            });
        }
    }

    let tip: Option<(i64, String)> = sqlx::query_as(
        "SELECT version, hash FROM events WHERE stream_id = ? ORDER BY version DESC LIMIT 1",
    )
    .bind(stream)
    .fetch_optional(&mut *conn)
    .await?;
    let tip = match tip {
        Some((version, hash)) => StreamTip {
            version: from_sql(version, "a stream version")?,
            hash: Some(hash),
        },
        None => StreamTip {
            version: 0,
            hash: None,
        },
    };
    codec::check_expected(stream, expected, tip.version)?;

    let version = tip.version + count;
    let first_position = last_position + 1 - count;
    let prepared = codec::prepare(stream, tip, first_position, metadata, codec::now(), events);
    for row in &prepared {
        insert(conn, row).await?;
    }

    Ok(AppendResult {
        version,
        position: last_position,
    })
}

async fn insert(conn: &mut SqliteConnection, row: &codec::Prepared) -> Result<(), StoreError> {
    let event = &row.event;
    sqlx::query(
        "INSERT INTO events (position, event_id, stream_id, version, event_type, schema_version, \
         recorded_at, actor, correlation_id, causation_id, data, prev_hash, hash) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(to_sql(event.position, "a position")?)
    .bind(event.event_id.hyphenated().to_string())
    .bind(&event.stream_id)
    .bind(to_sql(event.version, "a version")?)
    .bind(&event.event_type)
    .bind(i64::from(event.schema_version))
    .bind(format_recorded_at(event.recorded_at))
    .bind(&event.actor)
    .bind(event.correlation_id.hyphenated().to_string())
    .bind(event.causation_id.map(|id| id.hyphenated().to_string()))
    .bind(&row.data)
    .bind(&event.prev_hash)
    .bind(&event.hash)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

fn decode(row: &SqliteRow) -> Result<RecordedEvent, StoreError> {
    let position: i64 = row.try_get("position")?;
    let corrupt =
        |what: String| StoreError::Corrupt(format!("event at position {position}: {what}"));
    let uuid = |column: &str, text: String| {
        Uuid::parse_str(&text).map_err(|e| corrupt(format!("{column} {text:?} ({e})")))
    };

    let recorded_at: String = row.try_get("recorded_at")?;
    let recorded_at = DateTime::parse_from_rfc3339(&recorded_at)
        .map_err(|e| corrupt(format!("recorded_at {recorded_at:?} ({e})")))?
        .with_timezone(&Utc);
    let causation_id: Option<String> = row.try_get("causation_id")?;

    StoredRow {
        position,
        event_id: uuid("event_id", row.try_get("event_id")?)?,
        stream_id: row.try_get("stream_id")?,
        version: row.try_get("version")?,
        event_type: row.try_get("event_type")?,
        schema_version: row.try_get("schema_version")?,
        recorded_at,
        actor: row.try_get("actor")?,
        correlation_id: uuid("correlation_id", row.try_get("correlation_id")?)?,
        causation_id: causation_id
            .map(|id| uuid("causation_id", id))
            .transpose()?,
        data: row.try_get("data")?,
        prev_hash: row.try_get("prev_hash")?,
        hash: row.try_get("hash")?,
    }
    .into_event()
}
