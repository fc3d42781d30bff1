//! The event log on PostgreSQL.

use async_trait::async_trait;
use sqlx::postgres::{PgConnection, PgRow};
use sqlx::{PgPool, Row};
use tokio::sync::watch;
use tracing::{debug, instrument};
use uuid::Uuid;

use super::PostgresStore;
use crate::codec::{self, from_sql, to_sql, StoredRow, StreamTip};
use crate::{
    AppendResult, EventStore, ExpectedVersion, Metadata, NewEvent, Position, RecordedEvent,
    StoreError,
};

const SELECT_EVENTS: &str = "SELECT position, event_id, stream_id, version, event_type, \
     schema_version, recorded_at, actor, correlation_id, causation_id, data, prev_hash, hash \
     FROM events";

#[async_trait]
impl EventStore for PostgresStore {
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
        let mut tx = self.pool.begin().await?;
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
        let sql = format!("{SELECT_EVENTS} WHERE stream_id = $1 ORDER BY version");
        let rows = sqlx::query(&sql).bind(stream).fetch_all(&self.pool).await?;
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
        let sql = format!("{SELECT_EVENTS} WHERE position > $1 ORDER BY position LIMIT $2");
        let rows = sqlx::query(&sql)
            .bind(to_sql(after, "a position")?)
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(decode).collect()
    }

    async fn head(&self) -> Result<Position, StoreError> {
        head(&self.pool).await
    }

    fn appended(&self) -> watch::Receiver<Position> {
        self.appended.subscribe()
    }
}

pub(super) async fn head(pool: &PgPool) -> Result<Position, StoreError> {
    let head: i64 = sqlx::query_scalar("SELECT position FROM event_head WHERE id = 1")
        .fetch_one(pool)
        .await?;
    from_sql(head, "the head position")
}

/// The append itself, on a connection inside a transaction that the caller commits.
pub(super) async fn append_in(
    conn: &mut PgConnection,
    stream: &str,
    expected: ExpectedVersion,
    metadata: &Metadata,
    events: Vec<NewEvent>,
) -> Result<AppendResult, StoreError> {
    codec::validate_append(stream, &events)?;
    let count = events.len() as u64;

    // First, the head's row lock: from here on no other append runs until this transaction
    // ends, and every earlier one is visible (see the module docs).
    let last: i64 = sqlx::query_scalar(
        "UPDATE event_head SET position = position + $1 WHERE id = 1 RETURNING position",
    )
    .bind(to_sql(count, "an event count")?)
    .fetch_one(&mut *conn)
    .await?;
    let last_position = from_sql(last, "the head position")?;

    // A retried append whose first attempt committed is told so, before any version check.
    let ids: Vec<Uuid> = events.iter().map(|e| e.event_id).collect();
    let duplicate: Option<Uuid> =
        sqlx::query_scalar("SELECT event_id FROM events WHERE event_id = ANY($1) LIMIT 1")
            .bind(&ids)
            .fetch_optional(&mut *conn)
            .await?;
    if let Some(event_id) = duplicate {
        return Err(StoreError::DuplicateEvent { event_id });
    }

    let tip: Option<(i64, String)> = sqlx::query_as(
        "SELECT version, hash FROM events WHERE stream_id = $1 ORDER BY version DESC LIMIT 1",
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

async fn insert(conn: &mut PgConnection, row: &codec::Prepared) -> Result<(), StoreError> {
    let event = &row.event;
    sqlx::query(
        "INSERT INTO events (position, event_id, stream_id, version, event_type, schema_version, \
         recorded_at, actor, correlation_id, causation_id, data, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(to_sql(event.position, "a position")?)
    .bind(event.event_id)
    .bind(&event.stream_id)
    .bind(to_sql(event.version, "a version")?)
    .bind(&event.event_type)
    .bind(i64::from(event.schema_version))
    .bind(event.recorded_at)
    .bind(&event.actor)
    .bind(event.correlation_id)
    .bind(event.causation_id)
    .bind(&row.data)
    .bind(&event.prev_hash)
    .bind(&event.hash)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

fn decode(row: &PgRow) -> Result<RecordedEvent, StoreError> {
    StoredRow {
        position: row.try_get("position")?,
        event_id: row.try_get("event_id")?,
        stream_id: row.try_get("stream_id")?,
        version: row.try_get("version")?,
        event_type: row.try_get("event_type")?,
        schema_version: row.try_get("schema_version")?,
        recorded_at: row.try_get("recorded_at")?,
        actor: row.try_get("actor")?,
        correlation_id: row.try_get("correlation_id")?,
        causation_id: row.try_get("causation_id")?,
        data: row.try_get("data")?,
        prev_hash: row.try_get("prev_hash")?,
        hash: row.try_get("hash")?,
    }
    .into_event()
}
