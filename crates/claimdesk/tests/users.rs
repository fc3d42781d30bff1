//! `claimdesk users` as an operator runs it: the built binary, a temporary data folder, the
//! password piped on standard input.
//!
//! - `sqlite::…` on the embedded default, always;
//! - `postgres::…` on a fresh database on the server named by `DATABASE_URL`; without it the
//!   trial is reported as ignored, never as passed.

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;

use chrono::{Duration, Utc};
use claimdesk_api::accounts::{verify_password, ACCOUNT_TOKEN};
use claimdesk_store::services::Token;
use claimdesk_store::{testing, SqliteStore, Store};
use libtest_mimic::{Arguments, Failed, Trial};
use tempfile::TempDir;

fn main() {
    let args = Arguments::from_args();
    let postgres = std::env::var(testing::DATABASE_URL).is_ok();
    let trials = vec![
        Trial::test(
            "urls::with_database_names_the_test_database",
            with_database_names_the_test_database,
        ),
        Trial::test("sqlite::add_list_refuse_disable", || {
            run(Backend::Sqlite, add_list_refuse_disable)
        }),
        Trial::test("postgres::add_list_refuse_disable", || {
            run(Backend::Postgres, add_list_refuse_disable)
        })
        .with_ignored_flag(!postgres),
    ];
    libtest_mimic::run(&args, trials).exit();
}

#[derive(Clone, Copy)]
enum Backend {
    Sqlite,
    Postgres,
}

/// Where the commands keep their accounts, and a handle on the same store for checks.
struct Site {
    data_dir: TempDir,
    /// The `DATABASE_URL` the commands get; `None` for the embedded SQLite file.
    database_url: Option<String>,
    store: Arc<dyn Store>,
    _postgres: Option<testing::TestPostgres>,
}

impl Site {
    async fn new(backend: Backend) -> Result<Site, Failed> {
        let data_dir = tempfile::tempdir().map_err(|e| format!("a data folder: {e}"))?;
        match backend {
            Backend::Sqlite => {
                // The file `claimdesk` itself uses in its data folder, opened (and created)
                // here first: the commands then find it as any earlier run would leave it.
                let file = data_dir.path().join("claimdesk.db");
                let url = format!("sqlite://{}", file.display());
                let store = SqliteStore::connect(&url)
                    .await
                    .map_err(|e| format!("the store: {e}"))?;
                Ok(Site {
                    data_dir,
                    database_url: None,
                    store: Arc::new(store),
                    _postgres: None,
                })
            }
            Backend::Postgres => {
                let test = testing::postgres()
                    .await
                    .ok_or("DATABASE_URL is not set: the PostgreSQL trial cannot run")?;
                let server = std::env::var(testing::DATABASE_URL)?;
                let url = with_database(&server, test.database())?;
                Ok(Site {
                    data_dir,
                    database_url: Some(url),
                    store: test.shared(),
                    _postgres: Some(test),
                })
            }
        }
    }

    /// Runs `claimdesk users <args>` with `stdin` piped in.
    fn users(&self, args: &[&str], stdin: &str) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_claimdesk"));
        command
            .arg("users")
            .args(args)
            .arg("--data-dir")
            .arg(self.data_dir.path())
            .env_remove("DATABASE_URL")
            .env_remove("CLAIMDESK_DATA_DIR")
            .env_remove("CLAIMDESK_LOG")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(url) = &self.database_url {
            command.env("DATABASE_URL", url);
        }
        let mut child = command.spawn().expect("claimdesk starts");
        let mut input = child.stdin.take().expect("a pipe");
        // A command refused before it reads has closed its end: that is no failure here.
        let _ = input.write_all(stdin.as_bytes());
        drop(input);
        child.wait_with_output().expect("claimdesk ends")
    }
}

/// `server` (`postgres://user@host:port/db?options`) naming `database` instead.
fn with_database(server: &str, database: &str) -> Result<String, String> {
    let (base, query) = server.split_once('?').unwrap_or((server, ""));
    let after_scheme = base.find("://").ok_or("DATABASE_URL has no scheme")? + 3;
    let host_end = base[after_scheme..]
        .find('/')
        .map_or(base.len(), |i| after_scheme + i);
    let mut url = format!("{}/{database}", &base[..host_end]);
    if !query.is_empty() {
        url = format!("{url}?{query}");
    }
    Ok(url)
}

fn run<F, Fut>(backend: Backend, test: F) -> Result<(), Failed>
where
    F: FnOnce(Site) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("a runtime: {e}"))?;
    runtime.block_on(async {
        let site = Site::new(backend).await?;
        test(site).await;
        Ok(())
    })
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[track_caller]
fn assert_ok(output: &Output) {
    assert!(
        output.status.success(),
        "{:?}\nstdout: {}\nstderr: {}",
        output.status,
        stdout(output),
        stderr(output)
    );
}

#[track_caller]
fn assert_refused(output: &Output, because: &str) {
    assert!(!output.status.success(), "accepted: {}", stdout(output));
    assert!(
        stderr(output).contains(because),
        "expected {because:?} in: {}",
        stderr(output)
    );
}

/// The lines of `users list` after its header, as their cells.
fn listed(site: &Site) -> Vec<Vec<String>> {
    let output = site.users(&["list"], "");
    assert_ok(&output);
    let text = stdout(&output);
    let mut lines = text.lines();
    let header: Vec<&str> = lines
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    assert_eq!(header, ["LOGIN", "ROLE", "ENTITY", "DISABLED", "CREATED"]);
    lines
        .map(|line| line.split_whitespace().map(str::to_owned).collect())
        .collect()
}

async fn add_list_refuse_disable(site: Site) {
    let before = Utc::now() - Duration::seconds(1);

    // An agent, its password piped in.
    let added = site.users(
        &[
            "add", "--login", "nadia", "--role", "agent", "--entity", "finance",
        ],
        "a long password\n",
    );
    assert_ok(&added);
    assert_eq!(stdout(&added), "added nadia (agent of finance)\n");
    let nadia = site
        .store
        .account_get("nadia")
        .await
        .unwrap()
        .expect("stored");
    assert_eq!(
        (nadia.role.as_str(), nadia.entity.as_deref()),
        ("agent", Some("finance"))
    );
    assert!(!nadia.disabled);
    assert!(nadia.created_at >= before && nadia.created_at <= Utc::now());
    assert!(!nadia.password_hash.contains("a long password"));
    assert!(verify_password("a long password", &nadia.password_hash));

    // An auditor: a Windows line ending is not part of the password, and the rest of the
    // input is not read.
    let added = site.users(
        &["add", "--login", "omar", "--role", "auditor"],
        "another password\r\nignored\n",
    );
    assert_ok(&added);
    assert_eq!(stdout(&added), "added omar (auditor)\n");
    let omar = site
        .store
        .account_get("omar")
        .await
        .unwrap()
        .expect("stored");
    assert!(verify_password("another password", &omar.password_hash));

    let rows = listed(&site);
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0][..4], ["nadia", "agent", "finance", "no"]);
    assert_eq!(rows[1][..4], ["omar", "auditor", "-", "no"]);
    assert!(rows[0][4].starts_with(&Utc::now().format("%Y-").to_string()));

    // Refusals, none of which stores anything.
    let duplicate = site.users(
        &["add", "--login", "nadia", "--role", "admin"],
        "yet another password\n",
    );
    assert_refused(&duplicate, "already exists");
    let unknown_entity = site.users(
        &[
            "add", "--login", "karim", "--role", "agent", "--entity", "nowhere",
        ],
        "a long password\n",
    );
    assert_refused(&unknown_entity, "unknown entity `nowhere`");
    let no_entity = site.users(
        &["add", "--login", "karim", "--role", "agent"],
        "a long password\n",
    );
    assert_refused(&no_entity, "the entity is missing");
    let entity_on_analyst = site.users(
        &[
            "add", "--login", "karim", "--role", "analyst", "--entity", "finance",
        ],
        "a long password\n",
    );
    assert_refused(&entity_on_analyst, "only an agent has an entity");
    let short = site.users(
        &["add", "--login", "karim", "--role", "analyst"],
        "123456789\n",
    );
    assert_refused(&short, "at least 10 characters");
    let no_password = site.users(&["add", "--login", "karim", "--role", "analyst"], "");
    assert_refused(&no_password, "no password on standard input");
    let bad_login = site.users(
        &["add", "--login", "Karim", "--role", "analyst"],
        "a long password\n",
    );
    assert_refused(&bad_login, "a login has");
    let bad_role = site.users(
        &["add", "--login", "karim", "--role", "root"],
        "a long password\n",
    );
    assert_refused(&bad_role, "unknown role `root`");
    assert_eq!(listed(&site).len(), 2, "nothing was added");
    let still = site
        .store
        .account_get("nadia")
        .await
        .unwrap()
        .expect("stored");
    assert_eq!(still, nadia, "the duplicate changed nothing");

    // Disabling ends the account's sessions, and only its own.
    let in_an_hour = Utc::now() + Duration::hours(1);
    for (hash, subject) in [
        ("t-nadia-1", "nadia"),
        ("t-nadia-2", "nadia"),
        ("t-omar", "omar"),
    ] {
        let token = Token {
            token_hash: hash.to_owned(),
            kind: ACCOUNT_TOKEN.to_owned(),
            subject: subject.to_owned(),
            expires_at: in_an_hour,
        };
        site.store.token_insert(&token).await.unwrap();
    }
    let disabled = site.users(&["disable", "--login", "nadia"], "");
    assert_ok(&disabled);
    assert_eq!(stdout(&disabled), "disabled nadia; 2 sessions ended\n");
    let now = Utc::now();
    assert_eq!(site.store.token_get("t-nadia-1", now).await.unwrap(), None);
    assert_eq!(site.store.token_get("t-nadia-2", now).await.unwrap(), None);
    assert!(site.store.token_get("t-omar", now).await.unwrap().is_some());
    assert!(
        site.store
            .account_get("nadia")
            .await
            .unwrap()
            .expect("kept")
            .disabled
    );

    let rows = listed(&site);
    assert_eq!(rows[0][..4], ["nadia", "agent", "finance", "yes"]);
    assert_eq!(rows[1][..4], ["omar", "auditor", "-", "no"]);

    let again = site.users(&["disable", "--login", "nadia"], "");
    assert_ok(&again);
    assert_eq!(stdout(&again), "disabled nadia; 0 sessions ended\n");
    let unknown = site.users(&["disable", "--login", "nobody"], "");
    assert_refused(&unknown, "no such login");
}

fn with_database_names_the_test_database() -> Result<(), Failed> {
    let cases = [
        (
            "postgres://postgres@127.0.0.1:5432/postgres",
            "postgres://postgres@127.0.0.1:5432/t1",
        ),
        (
            "postgres://u:p@h/db?sslmode=disable",
            "postgres://u:p@h/t1?sslmode=disable",
        ),
        ("postgresql://h:5432", "postgresql://h:5432/t1"),
    ];
    for (server, expected) in cases {
        assert_eq!(with_database(server, "t1")?, expected);
    }
    Ok(())
}
