//! The PostgreSQL backend: production, several service instances on one database.
//!
//! # Gap-free global order
//!
//! A sequence cannot give positions that readers may trust: transactions take numbers in one
//! order and commit in another, so a reader could see position 8 committed, move its
//! checkpoint past 7, and never see 7 when that commits a moment later. Here every append
//! instead starts with
//!
//! ```sql
//! UPDATE event_head SET position = position + n WHERE id = 1 RETURNING position
//! ```
//!
//! on a table holding one row, inside the append's transaction (READ COMMITTED, the
//! default). That takes the row's lock, which PostgreSQL holds until the transaction ends;
//! the next appender's `UPDATE` waits for it and then works on the row as the first one left
//! it. Hence:
//!
//! - **Contiguous**: each appender starts where the last committed one stopped. A
//!   transaction that rolls back leaves the row as it was, so the next appender reuses its
//!   positions and no hole is left.
//! - **Committed in order**: PostgreSQL releases a transaction's locks only after its commit
//!   is visible to new snapshots (the commit record is written and the transaction is gone
//!   from the list of running ones before its locks are let go). So the appender of
//!   positions `P+1..` commits strictly after everything below `P+1` is visible, and a reader
//!   whose snapshot shows an event at `P+1` shows every event below it too.
//!
//! The stream's version check runs after the lock is taken, with a fresh READ COMMITTED
//! snapshot, so it sees every earlier append; a conflicting append waits, then fails with
//! [`StoreError::WrongExpectedVersion`] without writing anything.
//!
//! The price is that appends are serialized across the whole database, one commit at a
//! time. That is ample for a claims office; the lock is held only for the few statements of
//! an append.
//!
//! # Other guarantees
//!
//! An append reports success only after `COMMIT` returned. If the connection drops during
//! `COMMIT` the outcome is unknown and an error is returned: retrying with the same event ids
//! then fails with [`StoreError::DuplicateEvent`] if the first attempt had committed.
//! Migrations run at connect; concurrent instances serialize them on an advisory lock.

mod events;
mod process;
mod read_models;
mod services;

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Postgres, Transaction};
use tokio::sync::watch;
use tracing::info;

use crate::{AppendResult, ExpectedVersion, Metadata, NewEvent, Position, StoreError};

static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/postgres");

/// The event store, read models and service records in one PostgreSQL database.
///
/// Cheap to clone: clones share the connection pool and the [`crate::EventStore::appended`]
/// channel.
#[derive(Clone)]
pub struct PostgresStore {
    pool: PgPool,
    appended: Arc<watch::Sender<Position>>,
}

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The connect options hold the password: show the pool's size only.
        f.debug_struct("PostgresStore")
            .field("connections", &self.pool.size())
            .finish()
    }
}

impl PostgresStore {
    /// Connects to `url` (`postgres://user@host/db`) and brings the schema up to date.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url)?;
        Self::connect_with(options).await
    }

    /// Connects with explicit options and brings the schema up to date.
    pub async fn connect_with(options: PgConnectOptions) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(10)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await?;
        Self::from_pool(pool).await
    }

    /// Uses an existing pool and brings the schema up to date.
    pub async fn from_pool(pool: PgPool) -> Result<Self, StoreError> {
        MIGRATOR.run(&pool).await?;
        let head = events::head(&pool).await?;
        info!(head, "PostgreSQL store ready");

        let (appended, _) = watch::channel(head);
        Ok(PostgresStore {
            pool,
            appended: Arc::new(appended),
        })
    }

    /// The pool, for the service's other tables in the same database and for tests.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Starts a transaction to give to [`PostgresStore::append_in_tx`].
    pub async fn begin_write(&self) -> Result<Transaction<'static, Postgres>, StoreError> {
        Ok(self.pool.begin().await?)
    }

    /// Appends inside a transaction the caller holds, with the checks of
    /// [`crate::EventStore::append`].
    ///
    /// The result holds only once the caller commits `tx`; until then every other append
    /// waits (see the module docs), so hold it briefly. The transaction must be READ
    /// COMMITTED. [`crate::EventStore::appended`] is not notified: this store cannot know
    /// when, or whether, the caller commits.
    pub async fn append_in_tx(
        &self,
        tx: &mut Transaction<'_, Postgres>,
        stream: &str,
        expected: ExpectedVersion,
        metadata: &Metadata,
        events: Vec<NewEvent>,
    ) -> Result<AppendResult, StoreError> {
        events::append_in(tx, stream, expected, metadata, events).await
    }

    /// Tells local subscribers that the log reached `position`.
    fn notify(&self, position: Position) {
        // Appends may finish out of order: never move the head backwards.
        self.appended.send_if_modified(|head| {
            let moved = position > *head;
            if moved {
                *head = position;
            }
            moved
        });
    }
}
