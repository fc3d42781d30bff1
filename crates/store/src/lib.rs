//! The claimdesk event store: one interface, two backends (SQLite, PostgreSQL).
//!
//! What every backend guarantees, and what the conformance suite in `tests/` checks:
//!
//! - **Atomic, checked appends.** [`EventStore::append`] stores all of its events or none,
//!   only if the stream is at the expected version, and reports success only once the
//!   transaction has committed. An event id is stored at most once
//!   ([`StoreError::DuplicateEvent`]), so a retried append cannot store an event twice.
//! - **Gap-free global order.** Positions are assigned in commit order: a reader that has
//!   seen position `P` never later meets a committed event below `P`.
//! - **A hash chain per stream.** Every event carries the hash of its stream's previous event
//!   and a hash over its own envelope and data, so any alteration of stored history is found
//!   by recomputing the chain ([`hash`]).
//! - **Read models beside the events.** A projection's documents and its checkpoint change in
//!   one transaction ([`ReadModelTx::commit`]), so a restart neither skips nor repeats.
//! - **An outbox and timers written with a checkpoint.** What the process manager queues and
//!   schedules while applying events commits with its checkpoint, once per delivery key
//!   ([`process`]).
//!
//! The store knows events, streams and documents; it knows nothing of claims.
//!
//! How each backend keeps these promises is told at the top of its module
//! (`src/sqlite/mod.rs`, `src/postgres/mod.rs`). With the `testing` feature,
//! `claimdesk_store::testing` gives fresh stores for tests, this crate's and other crates'.

pub mod event;
pub mod hash;
pub mod process;
pub mod read_model;
pub mod services;

#[cfg(feature = "testing")]
pub mod testing;

mod codec;
mod error;
mod postgres;
mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::watch;

pub use error::StoreError;
pub use event::{
    AppendResult, ExpectedVersion, Metadata, NewEvent, Position, RecordedEvent, Version,
};
pub use postgres::PostgresStore;
pub use process::{
    LeasedTimer, OutboxEntry, OutboxMessage, OutboxStatus, ProcessStore, Requeue, Timer,
};
pub use read_model::{Document, ProjectionId, ReadModelTx, ReadModels};
pub use services::Services;
pub use sqlite::SqliteStore;

/// The event log.
#[async_trait]
pub trait EventStore: Send + Sync {
    /// Appends `events` to `stream` if it is at `expected`, atomically.
    ///
    /// Fails with [`StoreError::WrongExpectedVersion`] when the stream moved; nothing is stored.
    async fn append(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        metadata: &Metadata,
        events: Vec<NewEvent>,
    ) -> Result<AppendResult, StoreError>;

    /// Every event of `stream`, oldest first; empty when the stream does not exist.
    async fn read_stream(&self, stream: &str) -> Result<Vec<RecordedEvent>, StoreError>;

    /// Up to `limit` events with a position strictly above `after`, in global order.
    async fn read_all(
        &self,
        after: Position,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError>;

    /// The position of the last committed event (`0` when the store is empty).
    async fn head(&self) -> Result<Position, StoreError>;

    /// Wakes when this process appends; other processes' appends are found by polling.
    fn appended(&self) -> watch::Receiver<Position>;
}

/// Everything the service keeps in its database, behind one handle.
pub trait Store: EventStore + ReadModels + Services + ProcessStore {}

impl<T: EventStore + ReadModels + Services + ProcessStore> Store for T {}

/// Opens the store named by `url`: `postgres://...` or `sqlite://path` (created if missing),
/// and brings its schema up to date.
pub async fn open(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PostgresStore::connect(url).await?))
    } else {
        Ok(Arc::new(SqliteStore::connect(url).await?))
    }
}
