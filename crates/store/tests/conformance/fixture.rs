//! One test's store, whatever the backend, and the few things a test needs beyond the
//! interface: raw SQL to tamper with history, and appends in a transaction it holds.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use claimdesk_store::testing::{self, TestPostgres, TestSqlite};
use claimdesk_store::{
    AppendResult, Document, ExpectedVersion, Metadata, NewEvent, ProjectionId, SqliteStore, Store,
    StoreError,
};
use serde_json::Value;
use uuid::Uuid;

/// The backends the suite runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A file in a temporary folder: the embedded default.
    Sqlite,
    /// `sqlite::memory:`, for other crates' quick tests.
    SqliteMemory,
    /// A fresh database on the server named by `DATABASE_URL`.
    Postgres,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Sqlite => "sqlite",
            Kind::SqliteMemory => "sqlite-memory",
            Kind::Postgres => "postgres",
        }
    }
}

enum Backend {
    Sqlite(TestSqlite),
    SqliteMemory(SqliteStore),
    Postgres(Box<TestPostgres>),
}

pub struct Fixture {
    pub store: Arc<dyn Store>,
    backend: Backend,
}

/// How an [`Fixture::append_held`] transaction ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Commit,
    Rollback,
}

impl Fixture {
    /// A fresh store of `kind`; `None` for PostgreSQL when `DATABASE_URL` is unset.
    pub async fn new(kind: Kind) -> Option<Fixture> {
        let backend = match kind {
            Kind::Sqlite => Backend::Sqlite(testing::sqlite().await),
            Kind::SqliteMemory => Backend::SqliteMemory(
                SqliteStore::connect("sqlite::memory:")
                    .await
                    .expect("an in-memory store"),
            ),
            Kind::Postgres => Backend::Postgres(Box::new(testing::postgres().await?)),
        };
        let store: Arc<dyn Store> = match &backend {
            Backend::Sqlite(test) => test.shared(),
            Backend::SqliteMemory(store) => Arc::new(store.clone()),
            Backend::Postgres(test) => test.shared(),
        };
        Some(Fixture { store, backend })
    }

    pub fn kind(&self) -> Kind {
        match self.backend {
            Backend::Sqlite(_) => Kind::Sqlite,
            Backend::SqliteMemory(_) => Kind::SqliteMemory,
            Backend::Postgres(_) => Kind::Postgres,
        }
    }

    /// Runs one SQL statement outside the store, as someone with database access would.
    pub async fn sql(&self, sql: &str) -> Result<u64, sqlx::Error> {
        let done = match &self.backend {
            Backend::Sqlite(test) => sqlx::query(sql).execute(test.pool()).await?.rows_affected(),
            Backend::SqliteMemory(store) => sqlx::query(sql)
                .execute(store.pool())
                .await?
                .rows_affected(),
            Backend::Postgres(test) => sqlx::query(sql).execute(test.pool()).await?.rows_affected(),
        };
        Ok(done)
    }

    /// Removes the database's refusal to change events, as a determined intruder would.
    pub async fn allow_tampering(&self) {
        let statements: &[&str] = match self.kind() {
            Kind::Postgres => &["ALTER TABLE events DISABLE TRIGGER USER"],
            Kind::Sqlite | Kind::SqliteMemory => &[
                "DROP TRIGGER events_no_update",
                "DROP TRIGGER events_no_delete",
            ],
        };
        for sql in statements {
            self.sql(sql).await.expect(sql);
        }
    }

    /// The same store opened again through a new connection, as after a restart; `None`
    /// for an in-memory database, which does not outlive its connection.
    pub async fn reopen(&self) -> Option<Arc<dyn Store>> {
        match &self.backend {
            Backend::Sqlite(test) => Some(Arc::new(
                SqliteStore::connect(&test.url()).await.expect("reopened"),
            )),
            Backend::SqliteMemory(_) => None,
            Backend::Postgres(test) => Some(Arc::new(
                claimdesk_store::PostgresStore::connect_with(test.options())
                    .await
                    .expect("reopened"),
            )),
        }
    }

    /// Appends in a transaction held open for `hold` after the append, then ended as
    /// `outcome` says. The append's own error, if any, is returned after a rollback.
    pub async fn append_held(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        metadata: &Metadata,
        events: Vec<NewEvent>,
        hold: Duration,
        outcome: Outcome,
    ) -> Result<AppendResult, StoreError> {
        macro_rules! held {
            ($store:expr) => {{
                let store = $store;
                let mut tx = store.begin_write().await?;
                let appended = store
                    .append_in_tx(&mut tx, stream, expected, metadata, events)
                    .await;
                tokio::time::sleep(hold).await;
                match (&appended, outcome) {
                    (Ok(_), Outcome::Commit) => tx.commit().await?,
                    _ => tx.rollback().await?,
                }
                appended
            }};
        }
        match &self.backend {
            Backend::Sqlite(test) => held!(test.store()),
            Backend::SqliteMemory(store) => held!(store),
            Backend::Postgres(test) => held!(test.store()),
        }
    }
}

pub fn metadata(actor: &str) -> Metadata {
    Metadata {
        actor: actor.to_owned(),
        correlation_id: Uuid::new_v4(),
        causation_id: None,
    }
}

pub fn event(event_type: &str, data: Value) -> NewEvent {
    NewEvent {
        event_id: Uuid::new_v4(),
        event_type: event_type.to_owned(),
        schema_version: 1,
        data,
    }
}

/// `n` events of type `Noted`, numbered in their data.
pub fn events(n: usize) -> Vec<NewEvent> {
    (0..n)
        .map(|i| event("Noted", serde_json::json!({ "n": i })))
        .collect()
}

/// The current time at the precision the store keeps.
pub fn now() -> DateTime<Utc> {
    let now = Utc::now();
    DateTime::from_timestamp_micros(now.timestamp_micros()).expect("a representable time")
}

pub fn projection(name: &str, version: u32) -> ProjectionId {
    ProjectionId {
        name: name.to_owned(),
        version,
    }
}

pub fn doc(
    collection: &str,
    key: &str,
    partition: Option<&str>,
    sort_key: Option<&str>,
) -> Document {
    Document {
        collection: collection.to_owned(),
        key: key.to_owned(),
        partition: partition.map(str::to_owned),
        sort_key: sort_key.map(str::to_owned),
        body: serde_json::json!({ "key": key, "sort": sort_key }),
    }
}

/// Panics unless `result` is a version conflict reporting `actual`.
pub fn assert_conflict<T: std::fmt::Debug>(result: Result<T, StoreError>, actual: u64) {
    match result {
        Err(StoreError::WrongExpectedVersion { actual: found, .. }) => {
            assert_eq!(found, actual, "the conflict reports the stream's version")
        }
        other => panic!("expected WrongExpectedVersion at {actual}, got {other:?}"),
    }
}
