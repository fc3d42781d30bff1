//! Fresh stores for tests, this crate's and other crates' (feature `testing`).
//!
//! - [`sqlite`] gives a store in a file of its own temporary folder, removed on drop.
//! - [`postgres`] creates a database `claimdesk_test_<random>` on the server named by
//!   `DATABASE_URL` and drops it (best effort) when the handle is dropped; it gives `None`
//!   when `DATABASE_URL` is unset, and the caller reports its test as ignored, never passed.
//!
//! Both helpers panic when the store cannot be set up: a test cannot go on without it.

use std::ops::Deref;
use std::str::FromStr;
use std::sync::Arc;

use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection};
use tempfile::TempDir;

use crate::{PostgresStore, SqliteStore, Store};

/// The variable naming the PostgreSQL server that tests create their databases on.
pub const DATABASE_URL: &str = "DATABASE_URL";

/// A fresh SQLite store in a temporary folder.
pub struct TestSqlite {
    store: SqliteStore,
    folder: TempDir,
}

impl TestSqlite {
    pub fn store(&self) -> &SqliteStore {
        &self.store
    }

    /// The store behind the interface the service uses.
    pub fn shared(&self) -> Arc<dyn Store> {
        Arc::new(self.store.clone())
    }

    /// The URL of the database file, to open it again (as a restarted service would).
    pub fn url(&self) -> String {
        format!("sqlite://{}", self.folder.path().join("store.db").display())
    }
}

impl Deref for TestSqlite {
    type Target = SqliteStore;

    fn deref(&self) -> &SqliteStore {
        &self.store
    }
}

/// A fresh SQLite store, its file in a new temporary folder.
pub async fn sqlite() -> TestSqlite {
    let folder = tempfile::tempdir().expect("a temporary folder for the test store");
    let url = format!("sqlite://{}", folder.path().join("store.db").display());
    let store = SqliteStore::connect(&url)
        .await
        .expect("a fresh SQLite store");
    TestSqlite { store, folder }
}

/// A fresh PostgreSQL store in a database of its own, dropped with this handle.
pub struct TestPostgres {
    store: PostgresStore,
    server: PgConnectOptions,
    database: String,
}

impl TestPostgres {
    pub fn store(&self) -> &PostgresStore {
        &self.store
    }

    /// The store behind the interface the service uses.
    pub fn shared(&self) -> Arc<dyn Store> {
        Arc::new(self.store.clone())
    }

    /// The connect options of the test's database, to open it again.
    pub fn options(&self) -> PgConnectOptions {
        self.server.clone().database(&self.database)
    }

    /// The name of the test's database.
    pub fn database(&self) -> &str {
        &self.database
    }
}

impl Deref for TestPostgres {
    type Target = PostgresStore;

    fn deref(&self) -> &PostgresStore {
        &self.store
    }
}

impl Drop for TestPostgres {
    fn drop(&mut self) {
        if drop_database(&self.server, &self.database).is_none() {
            tracing::warn!(database = %self.database, "could not drop the test database");
        }
    }
}

/// A fresh PostgreSQL store, or `None` when `DATABASE_URL` is unset.
pub async fn postgres() -> Option<TestPostgres> {
    let url = std::env::var(DATABASE_URL).ok()?;
    let server = PgConnectOptions::from_str(&url).expect("DATABASE_URL is a PostgreSQL URL");
    let database = format!("claimdesk_test_{}", uuid::Uuid::new_v4().simple());

    let mut conn = server
        .connect()
        .await
        .expect("a connection to DATABASE_URL");
    sqlx::query(&format!("CREATE DATABASE \"{database}\""))
        .execute(&mut conn)
        .await
        .expect("a fresh test database");
    conn.close().await.ok();

    match PostgresStore::connect_with(server.clone().database(&database)).await {
        Ok(store) => Some(TestPostgres {
            store,
            server,
            database,
        }),
        Err(e) => {
            drop_database(&server, &database);
            panic!("connecting to the test database {database}: {e}");
        }
    }
}

/// Drops `database`, ending its connections, from a thread with a runtime of its own: the
/// caller may be a `Drop` running on the test's runtime, where nothing can be awaited.
fn drop_database(server: &PgConnectOptions, database: &str) -> Option<()> {
    let server = server.clone();
    let sql = format!("DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)");
    let dropping = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .ok()?;
        runtime.block_on(async {
            let mut conn = server.connect().await.ok()?;
            sqlx::query(&sql).execute(&mut conn).await.ok()?;
            conn.close().await.ok()
        })
    });
    dropping.join().ok().flatten()
}
