//! Read-model documents and projection checkpoints on PostgreSQL.

use async_trait::async_trait;
use sqlx::postgres::{PgConnection, PgRow};
use sqlx::Row;
use tracing::{debug, instrument};

use super::PostgresStore;
use crate::codec::{from_sql, to_sql};
use crate::process::{Effects, OutboxMessage, Timer};
use crate::read_model::{check_move, Change, Pending};
use crate::{Document, Position, ProjectionId, ReadModelTx, ReadModels, StoreError};

const SELECT_DOCUMENTS: &str =
    "SELECT collection, doc_key, partition_key, sort_key, body FROM documents";

#[async_trait]
impl ReadModels for PostgresStore {
    async fn begin(
        &self,
        projection: &ProjectionId,
        from: Position,
    ) -> Result<Box<dyn ReadModelTx>, StoreError> {
        to_sql(from, "a checkpoint")?;
        Ok(Box::new(PostgresReadModelTx {
            store: self.clone(),
            projection: projection.clone(),
            from,
            pending: Pending::default(),
            effects: Effects::default(),
        }))
    }

    async fn checkpoint(&self, projection: &ProjectionId) -> Result<Position, StoreError> {
        let position: Option<i64> = sqlx::query_scalar(
            "SELECT position FROM checkpoints WHERE projection = $1 AND projection_version = $2",
        )
        .bind(&projection.name)
        .bind(i64::from(projection.version))
        .fetch_optional(&self.pool)
        .await?;
        position.map_or(Ok(0), |p| from_sql(p, "a checkpoint"))
    }

    async fn get(
        &self,
        projection: &ProjectionId,
        collection: &str,
        key: &str,
    ) -> Result<Option<Document>, StoreError> {
        let sql = format!(
            "{SELECT_DOCUMENTS} WHERE projection = $1 AND projection_version = $2 \
             AND collection = $3 AND doc_key = $4"
        );
        let row = sqlx::query(&sql)
            .bind(&projection.name)
            .bind(i64::from(projection.version))
            .bind(collection)
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(decode).transpose()
    }

    async fn list(
        &self,
        projection: &ProjectionId,
        collection: &str,
        partition: Option<&str>,
    ) -> Result<Vec<Document>, StoreError> {
        // One statement per case, so that a partition's listing is served by the
        // `documents_listing` index without a generic `IS NULL OR` filter. Absent sort keys
        // come last, as on SQLite.
        let filter = match partition {
            Some(_) => "AND partition_key = $4 ORDER BY sort_key ASC NULLS LAST, doc_key ASC",
            None => "ORDER BY sort_key ASC NULLS LAST, doc_key ASC",
        };
        let sql = format!(
            "{SELECT_DOCUMENTS} WHERE projection = $1 AND projection_version = $2 \
             AND collection = $3 {filter}"
        );
        let mut query = sqlx::query(&sql)
            .bind(&projection.name)
            .bind(i64::from(projection.version))
            .bind(collection);
        if let Some(partition) = partition {
            query = query.bind(partition);
        }
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter().map(decode).collect()
    }

    #[instrument(skip_all, fields(projection = %projection.name, version = projection.version))]
    async fn drop_projection(&self, projection: &ProjectionId) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        for table in ["documents", "checkpoints"] {
            let sql =
                format!("DELETE FROM {table} WHERE projection = $1 AND projection_version = $2");
            sqlx::query(&sql)
                .bind(&projection.name)
                .bind(i64::from(projection.version))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        debug!("projection dropped");
        Ok(())
    }
}

/// A unit of work on one projection; see [`crate::read_model`].
struct PostgresReadModelTx {
    store: PostgresStore,
    projection: ProjectionId,
    from: Position,
    pending: Pending,
    effects: Effects,
}

#[async_trait]
impl ReadModelTx for PostgresReadModelTx {
    async fn get(&mut self, collection: &str, key: &str) -> Result<Option<Document>, StoreError> {
        match self.pending.get(collection, key) {
            Some(changed) => Ok(changed),
            None => self.store.get(&self.projection, collection, key).await,
        }
    }

    async fn put(&mut self, document: Document) -> Result<(), StoreError> {
        self.pending.put(document);
        Ok(())
    }

    async fn delete(&mut self, collection: &str, key: &str) -> Result<(), StoreError> {
        self.pending.delete(collection, key);
        Ok(())
    }

    async fn enqueue(&mut self, message: OutboxMessage) -> Result<(), StoreError> {
        self.effects.enqueue(message)
    }

    async fn schedule(&mut self, timer: Timer) -> Result<(), StoreError> {
        self.effects.schedule(timer)
    }

    async fn cancel_timers(&mut self, stream_id: &str, before: Position) -> Result<(), StoreError> {
        self.effects.cancel(stream_id, before);
        Ok(())
    }

    async fn commit(self: Box<Self>, to: Position) -> Result<(), StoreError> {
        let PostgresReadModelTx {
            store,
            projection,
            from,
            pending,
            effects,
        } = *self;
        commit_unit(&store, &projection, from, to, pending, effects).await
    }
}

#[instrument(
    name = "commit",
    skip(store, projection, pending, effects),
    fields(projection = %projection.name, version = projection.version)
)]
async fn commit_unit(
    store: &PostgresStore,
    projection: &ProjectionId,
    from: Position,
    to: Position,
    pending: Pending,
    effects: Effects,
) -> Result<(), StoreError> {
    check_move(projection, from, to)?;

    // The checkpoint first: its row lock makes a second worker wait here, then find the
    // checkpoint moved. Dropping `tx` on any error stores nothing.
    let mut tx = store.pool.begin().await?;
    if !move_checkpoint(&mut tx, projection, from, to).await? {
        debug!("checkpoint moved by another worker");
        return Err(StoreError::CheckpointMoved {
            projection: projection.name.clone(),
        });
    }
    for change in pending.into_changes() {
        apply(&mut tx, projection, change).await?;
    }
    super::process::apply_effects(&mut tx, effects).await?;
    tx.commit().await?;
    Ok(())
}

/// Compare-and-set of the checkpoint from `from` to `to`; false when it was not at `from`.
async fn move_checkpoint(
    conn: &mut PgConnection,
    projection: &ProjectionId,
    from: Position,
    to: Position,
) -> Result<bool, StoreError> {
    let sql = if from == 0 {
        // No row means "never ran", the same as a row at 0.
        "INSERT INTO checkpoints (projection, projection_version, position) VALUES ($1, $2, $4) \
         ON CONFLICT (projection, projection_version) DO UPDATE \
         SET position = excluded.position, updated_at = now() WHERE checkpoints.position = $3"
    } else {
        "UPDATE checkpoints SET position = $4, updated_at = now() \
         WHERE projection = $1 AND projection_version = $2 AND position = $3"
    };
    let moved = sqlx::query(sql)
        .bind(&projection.name)
        .bind(i64::from(projection.version))
        .bind(to_sql(from, "a checkpoint")?)
        .bind(to_sql(to, "a checkpoint")?)
        .execute(&mut *conn)
        .await?;
    Ok(moved.rows_affected() == 1)
}

async fn apply(
    conn: &mut PgConnection,
    projection: &ProjectionId,
    change: Change,
) -> Result<(), StoreError> {
    match change {
        Change::Put(document) => {
            let body = serde_json::to_string(&document.body)
                .map_err(|e| StoreError::Invalid(format!("document body: {e}")))?;
            sqlx::query(
                "INSERT INTO documents (projection, projection_version, collection, doc_key, \
                 partition_key, sort_key, body) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (projection, projection_version, collection, doc_key) DO UPDATE \
                 SET partition_key = excluded.partition_key, sort_key = excluded.sort_key, \
                 body = excluded.body",
            )
            .bind(&projection.name)
            .bind(i64::from(projection.version))
            .bind(&document.collection)
            .bind(&document.key)
            .bind(&document.partition)
            .bind(&document.sort_key)
            .bind(body)
            .execute(&mut *conn)
            .await?;
        }
        Change::Delete { collection, key } => {
            sqlx::query(
                "DELETE FROM documents WHERE projection = $1 AND projection_version = $2 \
                 AND collection = $3 AND doc_key = $4",
            )
            .bind(&projection.name)
            .bind(i64::from(projection.version))
            .bind(collection)
            .bind(key)
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(())
}

fn decode(row: &PgRow) -> Result<Document, StoreError> {
    let body: String = row.try_get("body")?;
    let body = serde_json::from_str(&body)
        .map_err(|e| StoreError::Corrupt(format!("a document body is not JSON ({e})")))?;
    Ok(Document {
        collection: row.try_get("collection")?,
        key: row.try_get("doc_key")?,
        partition: row.try_get("partition_key")?,
        sort_key: row.try_get("sort_key")?,
        body,
    })
}
