//! The SQLite backend: the embedded default, everything in one local file.
//!
//! # Gap-free global order
//!
//! SQLite has one writer at a time. Every write here runs in a `BEGIN IMMEDIATE`
//! transaction, which takes the database's write lock before its first statement, so
//! appends run one after the other, each seeing all earlier commits. Within this process,
//! writes also go through a pool of exactly one connection, so appenders queue for that
//! connection instead of meeting `SQLITE_BUSY`; other processes on the same file wait on the
//! busy timeout. Positions come from the same one-row head counter as on PostgreSQL,
//! incremented inside the append's transaction: contiguous, given back on rollback, and
//! committed in order because commits are serialized. Readers use their own connections and
//! read WAL snapshots, which only ever show whole committed transactions.
//!
//! # Durability
//!
//! The file is in WAL mode with `synchronous = FULL`: a commit is on disk before an append
//! reports success. Foreign keys are enforced and tables are `STRICT`.
//!
//! `sqlite::memory:` gives a private in-memory database on a single connection, for tests:
//! it is gone when the store is dropped, and a caller-held write transaction blocks reads.

mod events;
mod process;
mod read_models;
mod services;

use std::fmt;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Sqlite, Transaction};
use tokio::sync::watch;
use tracing::info;

use crate::{AppendResult, ExpectedVersion, Metadata, NewEvent, Position, StoreError};

static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/sqlite");

/// How long a write waits for another process's write lock, and a task for the writer.
const WRITE_WAIT: Duration = Duration::from_secs(30);

/// Connections for reading, beside the single writer.
const READERS: u32 = 4;

/// The event store, read models and service records in one SQLite file.
///
/// Cheap to clone: clones share the pools and the [`crate::EventStore::appended`] channel.
#[derive(Clone)]
pub struct SqliteStore {
    /// Exactly one connection: every write, in `BEGIN IMMEDIATE` transactions.
    writer: SqlitePool,
    /// Reads; the writer itself for an in-memory database.
    reader: SqlitePool,
    appended: Arc<watch::Sender<Position>>,
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("readers", &self.reader.size())
            .finish()
    }
}

impl SqliteStore {
    /// Opens `sqlite://path/to/file.db` (or `sqlite:path`), creating the file and its folder
    /// if missing, or `sqlite::memory:`; brings the schema up to date.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let (database, query) = split_url(url)?;
        let in_memory = database == ":memory:" || query.contains("mode=memory");
        let options = SqliteConnectOptions::from_str(url)?
            .foreign_keys(true)
            .busy_timeout(WRITE_WAIT);

        let (writer, reader) = if in_memory {
            let pool = single_connection()
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_with(options.journal_mode(SqliteJournalMode::Memory))
                .await?;
            (pool.clone(), pool)
        } else {
            let options = options
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full);
            create_folder(options.get_filename())?;
            // The writer connects first: it creates the file and switches it to WAL.
            let writer = single_connection().connect_with(options.clone()).await?;
            let reader = SqlitePoolOptions::new()
                .max_connections(READERS)
                .connect_with(options)
                .await?;
            (writer, reader)
        };

        MIGRATOR.run(&writer).await?;
        let head = events::head(&reader).await?;
        info!(head, in_memory, "SQLite store ready");

        let (appended, _) = watch::channel(head);
        Ok(SqliteStore {
            writer,
            reader,
            appended: Arc::new(appended),
        })
    }

    /// The writing pool (one connection), for the service's other tables and for tests.
    pub fn pool(&self) -> &SqlitePool {
        &self.writer
    }

    /// Starts a `BEGIN IMMEDIATE` transaction to give to [`SqliteStore::append_in_tx`].
    ///
    /// It holds the only writing connection: every other write waits until it ends.
    pub async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>, StoreError> {
        Ok(self.writer.begin_with("BEGIN IMMEDIATE").await?)
    }

    /// Appends inside a transaction from [`SqliteStore::begin_write`], with the checks of
    /// [`crate::EventStore::append`].
    ///
    /// The result holds only once the caller commits `tx`. [`crate::EventStore::appended`]
    /// is not notified: this store cannot know when, or whether, the caller commits.
    pub async fn append_in_tx(
        &self,
        tx: &mut Transaction<'_, Sqlite>,
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

fn single_connection() -> SqlitePoolOptions {
    SqlitePoolOptions::new()
        .max_connections(1)
        .acquire_timeout(WRITE_WAIT)
}

/// The database part and the query of a `sqlite:` URL.
fn split_url(url: &str) -> Result<(&str, &str), StoreError> {
    let rest = url
        .strip_prefix("sqlite:")
        .ok_or_else(|| StoreError::Invalid("a SQLite URL starts with sqlite:".to_owned()))?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    Ok(rest.split_once('?').unwrap_or((rest, "")))
}

fn create_folder(file: &Path) -> Result<(), StoreError> {
    let Some(folder) = file.parent().filter(|p| !p.as_os_str().is_empty()) else {
        return Ok(());
    };
    std::fs::create_dir_all(folder).map_err(|e| {
        StoreError::Invalid(format!(
            "cannot create the folder {}: {e}",
            folder.display()
        ))
    })
}

/// Service records' times: microseconds since the Unix epoch, compared as numbers.
fn micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

fn from_micros(micros: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_micros(micros)
        .ok_or_else(|| StoreError::Corrupt(format!("time out of range: {micros} µs")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EventStore;

    #[tokio::test]
    async fn open_creates_the_file_and_its_folders() {
        let folder = tempfile::tempdir().unwrap();
        let file = folder.path().join("data/nested/claims.db");
        let url = format!("sqlite://{}", file.display());

        let store = crate::open(&url).await.unwrap();
        assert!(file.is_file());
        let md = crate::Metadata {
            actor: "system".to_owned(),
            correlation_id: uuid::Uuid::new_v4(),
            causation_id: None,
        };
        let event = crate::NewEvent {
            event_id: uuid::Uuid::new_v4(),
            event_type: "Noted".to_owned(),
            schema_version: 1,
            data: serde_json::json!({}),
        };
        store
            .append("s", crate::ExpectedVersion::NoStream, &md, vec![event])
            .await
            .unwrap();
        drop(store);

        let again = SqliteStore::connect(&url).await.unwrap();
        assert_eq!(again.head().await.unwrap(), 1);
        assert!(SqliteStore::connect("postgres://nowhere").await.is_err());
    }

    #[test]
    fn urls() {
        assert_eq!(split_url("sqlite://data/x.db").unwrap(), ("data/x.db", ""));
        assert_eq!(
            split_url("sqlite:///abs/x.db?mode=rwc").unwrap(),
            ("/abs/x.db", "mode=rwc")
        );
        assert_eq!(split_url("sqlite:x.db").unwrap(), ("x.db", ""));
        assert_eq!(split_url("sqlite::memory:").unwrap(), (":memory:", ""));
        assert!(split_url("postgres://x").is_err());
    }
}
